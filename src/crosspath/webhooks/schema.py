"""A webhook endpoint and a delivery to it, declared once: what the API answers and takes."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from crosspath.fields import Choices, Flag, Line, Spec, Url
from crosspath.records import Id, Timestamp, declared
from crosspath.store.feed import EVENT_TYPES

MAX_ENDPOINTS = 10
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class WebhookEndpoint(msgspec.Struct):
    id: Id
    url: Annotated[
        str,
        Spec(
            Url(2048),
            required=True,
            description="Where CrossPath POSTs your events: an https URL on the public internet.",
            example="https://ats.example/crosspath/webhooks",
        ),
    ]
    event_types: Annotated[
        list[str] | None,
        Spec(
            Choices(EVENT_TYPES),
            description="The event types sent here; null (the default) sends every type, "
            "including any added later.",
            example=["mission.updated", "mission.deleted"],
        ),
    ]
    description: Annotated[str | None, Spec(Line(500), example="Production ATS")]
    enabled: Annotated[
        bool,
        Spec(
            Flag(),
            description="A disabled endpoint is sent nothing: new events are not queued for it "
            "and its pending deliveries wait until it is enabled again.",
            default=True,
        ),
    ]
    created_at: Timestamp
    updated_at: Timestamp


class CreatedWebhookEndpoint(WebhookEndpoint):
    secret: Annotated[
        str,
        msgspec.Meta(
            description="The signing secret (`whsec_...`): shown in this answer only. Keep it "
            "to verify the `webhook-signature` of every delivery."
        ),
    ]


class WebhookEndpointList(msgspec.Struct):
    data: list[WebhookEndpoint]


class Delivery(msgspec.Struct):
    event_id: Annotated[str, msgspec.Meta(description="The event sent; it names the delivery.")]
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    last_attempt_at: str | None
    last_status: Annotated[
        int | None, msgspec.Meta(description="The HTTP status your endpoint last answered.")
    ]
    last_error: Annotated[
        str | None, msgspec.Meta(description="Why the last try failed, when it did.")
    ]
    next_attempt_at: Annotated[
        str | None, msgspec.Meta(description="When it is tried next, while pending.")
    ]
    created_at: str


class DeliveryPage(msgspec.Struct):
    data: list[Delivery]
    next_cursor: str | None


SPECS, READ_ONLY = declared(WebhookEndpoint)
DEFAULTS = {name: spec.default for name, spec in SPECS.items()}
