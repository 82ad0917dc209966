"""Webhooks: the endpoints partners register, and the delivery of their events to them."""
