"""Reference values: the accepted codes, their defaults, and operators' files."""
