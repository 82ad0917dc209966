"""The change feed's route: a partner's events after a cursor, oldest first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import MediaType, Request, Response, get

from crosspath.api.deps import CallerDep, EngineDep, SettingsDep
from crosspath.api.openapi import Section
from crosspath.events import service
from crosspath.events.schema import EVENT_QUERY, event_schemas
from crosspath.store.transaction import read


@get("/events", tags=["Change feed"], summary="Follow the changes to your records")
async def get_events(
    request: Request[Any, Any, Any], caller: CallerDep, engine: EngineDep, settings: SettingsDep
) -> Response[Any]:
    """Every change to your companies and missions, yours and CrossPath's, oldest first. Store
    `next_cursor` and ask again with `after` set to it: you never miss an event nor see one
    twice. Without `after`, the feed starts at the oldest event kept."""
    query = service.parse_query(list(request.query_params.multi_items()))
    days = settings.event_retention_days
    # Two statements without a transaction around them: `page` reads them in the order that
    # keeps the answer right (see there), and one snapshot would add two round trips.
    body = await read(engine, service.page, caller.partner_id, query, days)
    return Response(body, media_type=MediaType.JSON)


ROUTES = [get_events]


def _schemas(_names: Mapping[Any, str]) -> dict[str, Any]:
    return event_schemas()


DOCUMENT = Section(
    schemas=_schemas,
    responses={("get", "/events"): "EventPage"},
    queries={"/events": EVENT_QUERY},
    gone=[("get", "/events")],
)
