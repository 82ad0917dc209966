"""Webhooks: the delivery of each partner's events to the endpoints it registered."""
