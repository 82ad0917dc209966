"""Signatures by the Standard Webhooks scheme, checked by its reference library."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from crosspath.webhooks.signing import headers, new_secret

BODY = '{"id":"evt_01","type":"company.created","data":{"object":{"name":"Clinica é"}}}'


def test_a_new_secret_is_whsec_and_24_random_bytes_in_base64() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    assert new_secret() != secret


def test_the_reference_library_verifies_what_is_signed() -> None:
    secret = new_secret()
    signed = headers(secret, "evt_01", int(time.time()), BODY)
    assert Webhook(secret).verify(BODY, signed)["type"] == "company.created"
    assert signed["webhook-signature"].startswith("v1,")
    assert signed["webhook-id"] == "evt_01"


def test_the_signature_is_the_one_the_reference_library_computes() -> None:
    secret, now = new_secret(), int(time.time())
    expected = Webhook(secret).sign("evt_01", datetime.fromtimestamp(now), BODY)
    assert headers(secret, "evt_01", now, BODY)["webhook-signature"] == expected


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h | {"webhook-id": "evt_02"}, b),
        lambda h, b: (h, b.replace("Clinica", "Klinika")),
        lambda h, b: (h | {"webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
    ],
    ids=["another id", "another body", "another timestamp"],
)
def test_a_changed_id_body_or_timestamp_fails_verification(
    tamper: Callable[[dict[str, str], str], tuple[dict[str, str], str]],
) -> None:
    secret = new_secret()
    signed, body = tamper(headers(secret, "evt_01", int(time.time()), BODY), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, signed)


def test_another_secret_fails_verification() -> None:
    signed = headers(new_secret(), "evt_01", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, signed)
