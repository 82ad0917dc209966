"""The webhook endpoints' routes: register, read, change, remove; the deliveries log, a retry."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.params import FromPath, RawBody

from crosspath.api import answers, idempotency
from crosspath.api.deps import CallerDep, EngineDep, SettingsDep, json_object, list_query, no_query
from crosspath.api.openapi import LIST_QUERY, Section
from crosspath.api.schemas import page_schema, ref
from crosspath.errors import FieldErrors
from crosspath.fields import Choice, Problems
from crosspath.paging import parse_choice
from crosspath.records import spec_schema, struct_schema
from crosspath.settings import Settings
from crosspath.store.idempotency import Outcome
from crosspath.store.transaction import read, write
from crosspath.webhooks import endpoints as service
from crosspath.webhooks import outbound, signing
from crosspath.webhooks.schema import (
    DELIVERY_STATUSES,
    MAX_ENDPOINTS,
    SPECS,
    CreatedWebhookEndpoint,
    Delivery,
    DeliveryPage,
    WebhookEndpoint,
    WebhookEndpointList,
)

COLLECTION = "/webhook-endpoints"
TAGS = ["Webhooks"]
DELIVERY_FILTERS = {"status": parse_choice(*DELIVERY_STATUSES)}
URL_CHECK_SECONDS = 5.0


async def _checked(data: dict[str, Any], settings: Settings, *, creating: bool) -> dict[str, Any]:
    """The body's fields, the URL checked as deliveries will check it (its host resolved, off
    the event loop), before any transaction opens."""
    values, problems = service.parse(data, creating=creating)
    if "url" in values:
        allow = settings.webhook_allow_private_urls
        check = asyncio.to_thread(outbound.check_url, values["url"], allow_private=allow)
        try:
            problem = await asyncio.wait_for(check, URL_CHECK_SECONDS)
        except TimeoutError:
            problem = "url names a host that could not be resolved in time"
        if problem is not None:
            problems.add(problem)
    _raise(problems)
    return values


def _raise(problems: Problems) -> None:
    if problems.messages:
        raise FieldErrors(problems.messages)


@post(COLLECTION, status_code=201, tags=TAGS, summary="Register a webhook endpoint")
async def post_endpoint(
    request: Request[Any, Any, Any],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response[CreatedWebhookEndpoint]:
    """Have your events POSTed to a URL of yours, signed. The answer holds the endpoint's
    signing `secret`, shown this once. At most 10 endpoints per account."""
    data = json_object(request, body)
    values = await _checked(data, settings, creating=True)
    secret = signing.new_secret()

    def create(conn: Any) -> Outcome:
        created = service.create_endpoint(conn, caller.partner_id, values, secret)
        location = answers.location_of(request, COLLECTION, created.id)
        return Outcome(201, msgspec.json.encode(created), location)

    return await idempotency.run(request, engine, caller, data, create)


@get(COLLECTION, tags=TAGS, summary="List your webhook endpoints")
async def get_endpoints(
    request: Request[Any, Any, Any], caller: CallerDep, engine: EngineDep
) -> WebhookEndpointList:
    """Every endpoint you registered (at most 10), oldest first; their secrets are not shown."""
    no_query(request)
    found = await read(engine, service.list_endpoints, caller.partner_id)
    return WebhookEndpointList(data=found)


@get(f"{COLLECTION}/{{endpoint_id:str}}", tags=TAGS, summary="Get a webhook endpoint")
async def get_one_endpoint(
    request: Request[Any, Any, Any],
    endpoint_id: FromPath[str],
    caller: CallerDep,
    engine: EngineDep,
) -> Response[WebhookEndpoint]:
    """One of your endpoints, with its `ETag`."""
    no_query(request)
    found = await read(engine, service.get_endpoint, caller.partner_id, endpoint_id)
    return answers.record(request, found)


@patch(f"{COLLECTION}/{{endpoint_id:str}}", tags=TAGS, summary="Change a webhook endpoint")
async def patch_endpoint(
    request: Request[Any, Any, Any],
    endpoint_id: FromPath[str],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response[WebhookEndpoint]:
    """Change the URL, the event types, the description, or enable and disable it (JSON merge
    patch). The secret stays the same."""
    values = await _checked(json_object(request, body, patch=True), settings, creating=False)
    if_match = request.headers.get("if-match")
    updated = await write(
        engine, service.update_endpoint, caller.partner_id, endpoint_id, values, if_match
    )
    return answers.record(request, updated)


@delete(
    f"{COLLECTION}/{{endpoint_id:str}}", status_code=204, tags=TAGS, summary="Remove an endpoint"
)
async def delete_endpoint(
    request: Request[Any, Any, Any],
    endpoint_id: FromPath[str],
    caller: CallerDep,
    engine: EngineDep,
) -> None:
    """Nothing more is sent to it; the log of its deliveries goes with it."""
    if_match = request.headers.get("if-match")
    await write(engine, service.delete_endpoint, caller.partner_id, endpoint_id, if_match)


@get(
    f"{COLLECTION}/{{endpoint_id:str}}/deliveries",
    tags=TAGS,
    summary="What was sent to an endpoint",
)
async def get_deliveries(
    request: Request[Any, Any, Any],
    endpoint_id: FromPath[str],
    caller: CallerDep,
    engine: EngineDep,
) -> DeliveryPage:
    """The deliveries to this endpoint, newest first: each event's status (`pending`,
    `succeeded`, `failed`), tries, your endpoint's last answer and the next try."""
    query = list_query(request, "evt", DELIVERY_FILTERS)
    return await read(engine, service.list_deliveries, caller.partner_id, endpoint_id, query)


@post(
    f"{COLLECTION}/{{endpoint_id:str}}/deliveries/{{event_id:str}}/retry",
    status_code=202,
    tags=TAGS,
    summary="Try a delivery again now",
)
async def post_retry(
    request: Request[Any, Any, Any],
    endpoint_id: FromPath[str],
    event_id: FromPath[str],
    caller: CallerDep,
    engine: EngineDep,
) -> Response[Delivery]:
    """Queue this event for this endpoint again, to be sent within seconds: a failed delivery
    gets one more try, a pending one is tried now. A delivery is named by its event's id."""
    no_query(request)

    def retry(conn: Any) -> Outcome:
        delivery = service.retry_delivery(conn, caller.partner_id, endpoint_id, event_id)
        return Outcome(202, msgspec.json.encode(delivery))

    return await idempotency.run(request, engine, caller, {}, retry)


ROUTES = [
    post_endpoint,
    get_endpoints,
    get_one_endpoint,
    patch_endpoint,
    delete_endpoint,
    get_deliveries,
    post_retry,
]

ONE = f"{COLLECTION}/{{endpoint_id}}"
DELIVERY_STATUS = Choice(DELIVERY_STATUSES)


def _schemas(names: Mapping[Any, str]) -> dict[str, Any]:
    create = spec_schema(SPECS, required=True, names=names)
    create["description"] = f"At most {MAX_ENDPOINTS} endpoints per account."
    delivery = struct_schema(Delivery, names)
    delivery["properties"]["status"] = ref("DeliveryStatus")
    delivery["properties"]["event_type"] = ref("EventType")
    return {
        "WebhookEndpoint": _typed(struct_schema(WebhookEndpoint, names)),
        "CreatedWebhookEndpoint": _typed(struct_schema(CreatedWebhookEndpoint, names)),
        "WebhookEndpointCreate": _typed(create),
        "WebhookEndpointPatch": _typed(spec_schema(SPECS, required=False, names=names)),
        "WebhookEndpointList": {
            "type": "object",
            "properties": {"data": {"type": "array", "items": ref("WebhookEndpoint")}},
            "required": ["data"],
            "additionalProperties": False,
        },
        "Delivery": delivery,
        "DeliveryPage": page_schema(DeliveryPage, "Delivery"),
        "DeliveryStatus": DELIVERY_STATUS.schema() | {"title": "DeliveryStatus"},
    }


def _typed(schema: dict[str, Any]) -> dict[str, Any]:
    """The event types of an endpoint's schema named by reference, as the feed's are."""
    field = schema["properties"]["event_types"]
    field["items"] = ref("EventType")
    return schema


DOCUMENT = Section(
    schemas=_schemas,
    bodies={("post", COLLECTION): "WebhookEndpointCreate", ("patch", ONE): "WebhookEndpointPatch"},
    responses={
        ("get", COLLECTION): "WebhookEndpointList",
        ("get", f"{ONE}/deliveries"): "DeliveryPage",
    },
    queries={
        COLLECTION: {},
        f"{ONE}/deliveries": {
            "limit": LIST_QUERY["limit"],
            "cursor": LIST_QUERY["cursor"],
            "status": (ref("DeliveryStatus"), "Only the deliveries in this status."),
        },
    },
    untagged=[("post", COLLECTION), ("post", f"{ONE}/deliveries/{{event_id}}/retry")],
    conflicts={
        ("post", COLLECTION): service.TOO_MANY,
        ("post", f"{ONE}/deliveries/{{event_id}}/retry"): service.DISABLED,
    },
)
