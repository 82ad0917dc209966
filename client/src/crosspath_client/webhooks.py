"""Checking that a webhook delivery comes from CrossPath (Standard Webhooks signatures)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from crosspath_client.errors import InvalidSignature
from crosspath_client.records import Event


def verify_webhook(payload: bytes | str, headers: Mapping[str, str], secret: str) -> Event:
    """The event of a delivery, once its signature, id and timestamp are checked against the
    endpoint's `secret` (`whsec_...`); `InvalidSignature` otherwise. Pass the body exactly as
    received, before any JSON parsing."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        Webhook(secret).verify(payload, lowered, json_parse=False)
    except WebhookVerificationError as exc:
        raise InvalidSignature(str(exc)) from None
    return msgspec.json.decode(payload, type=Event)
