"""The operators' console: CrossPath's own web pages for reviewing JDs and running accounts."""
