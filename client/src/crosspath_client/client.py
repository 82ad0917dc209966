"""The client: one object per API account, with a collection object per kind of record."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from crosspath_client.records import (
    BatchResult,
    Company,
    Delivery,
    Event,
    Mission,
    ReferenceValue,
    WebhookEndpoint,
)
from crosspath_client.transport import Retry, Sleep, Transport

R = TypeVar("R", Company, Mission)
T = TypeVar("T")
BATCH_SIZE = 100  # the most items one batch call takes
PAGE_SIZE = 100  # the most records one list page holds
PATH = "/webhook-endpoints"


class Page(msgspec.Struct, Generic[T]):
    data: list[T]
    next_cursor: str | None = None


class EventPage(msgspec.Struct):
    data: list[Event]
    next_cursor: str
    has_more: bool = False


BATCH_BYTES = 1_000_000  # under the 1 MiB a body may hold, with room for `{"items": []}`


def chunks(
    items: Iterable[T], size: int = BATCH_SIZE, body: Callable[[T], Any] = lambda item: item
) -> Iterator[list[T]]:
    """Any sequence of items in lists of at most `size` whose bodies (`body(item)`) encode to
    a request the API takes (1 MiB); an item too large alone comes alone, for the API to
    refuse."""
    chunk: list[T] = []
    length = 0
    for item in items:
        item_length = len(msgspec.json.encode(body(item))) + 1
        if chunk and (len(chunk) == size or length + item_length > BATCH_BYTES):
            yield chunk
            chunk, length = [], 0
        chunk.append(item)
        length += item_length
    if chunk:
        yield chunk


class Records(Generic[R]):
    """Companies or missions: list, get, create, update, put by external id, batches."""

    def __init__(self, transport: Transport, path: str, record: type[R]) -> None:
        self._transport = transport
        self._path = path
        self._record: type[R] = record
        self._page = Page[record]  # type: ignore[valid-type]

    def pages(self, **filters: Any) -> Iterator[Page[R]]:
        """Every page of the list, following `next_cursor` (filters: `external_id`,
        `updated_since`, and for missions `company_id` and `status`)."""
        cursor: str | None = None
        while True:
            params = {"limit": PAGE_SIZE, **filters, "cursor": cursor}
            response = self._transport.request("GET", self._path, params=params)
            page: Page[R] = msgspec.json.decode(response.content, type=self._page)
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def list(self, **filters: Any) -> Iterator[R]:
        """Every record of the list, oldest first, fetched a page of 100 at a time."""
        for page in self.pages(**filters):
            yield from page.data

    def get(self, record_id: str) -> R:
        return self._decode(self._transport.request("GET", f"{self._path}/{quote(record_id)}"))

    def create(self, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> R:
        response = self._transport.request(
            "POST", self._path, json=dict(body), idempotency_key=idempotency_key
        )
        return self._decode(response)

    def update(
        self, record_id: str, changes: Mapping[str, Any], *, if_match: str | None = None
    ) -> R:
        """A merge patch: fields present are set, `None` clears, fields absent are kept."""
        response = self._transport.request(
            "PATCH",
            f"{self._path}/{quote(record_id)}",
            json=dict(changes),
            headers=_if_match(if_match),
        )
        return self._decode(response)

    def put(self, external_id: str, body: Mapping[str, Any], *, if_match: str | None = None) -> R:
        """Make your record with this external id look like `body` (created when absent)."""
        response = self._transport.request(
            "PUT",
            f"{self._path}/by-external-id/{quote(external_id, safe='')}",
            json=dict(body),
            headers=_if_match(if_match),
        )
        return self._decode(response)

    def batch(
        self, items: Iterable[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> BatchResult:
        """One batch call (1 to 100 items, each with its `external_id`)."""
        body = {"items": [dict(item) for item in items]}
        response = self._transport.request(
            "POST", f"{self._path}/batch", json=body, idempotency_key=idempotency_key
        )
        return msgspec.json.decode(response.content, type=BatchResult)

    def put_many(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        idempotency_key: Callable[[Sequence[Mapping[str, Any]]], str] | None = None,
    ) -> Iterator[BatchResult]:
        """Any number of items, in batches of 100; one result per batch, as each is applied.
        `idempotency_key(batch)` names each batch's key (a fresh one each by default)."""
        for chunk in chunks(items):
            key = idempotency_key(chunk) if idempotency_key else None
            yield self.batch(chunk, idempotency_key=key)

    def _decode(self, response: httpx.Response) -> R:
        record: R = msgspec.json.decode(response.content, type=self._record)
        return record


class Missions(Records[Mission]):
    def delete(self, mission_id: str, *, if_match: str | None = None) -> None:
        """Delete a private mission; a live one is closed instead (`close`)."""
        path = f"{self._path}/{quote(mission_id)}"
        self._transport.request("DELETE", path, headers=_if_match(if_match))

    def close(self, mission_id: str) -> Mission:
        return self.update(mission_id, {"status": "closed"})


class WebhookEndpoints:
    """Where CrossPath POSTs your events, signed (check them with `verify_webhook`)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(
        self,
        url: str,
        *,
        event_types: Sequence[str] | None = None,
        description: str | None = None,
    ) -> WebhookEndpoint:
        """A new endpoint; keep its `secret` (shown only here) to verify deliveries."""
        body: dict[str, Any] = {"url": url, "event_types": event_types, "description": description}
        response = self._transport.request("POST", PATH, json=body)
        return msgspec.json.decode(response.content, type=WebhookEndpoint)

    def list(self) -> Iterator[WebhookEndpoint]:
        response = self._transport.request("GET", PATH)
        yield from msgspec.json.decode(response.content, type=Page[WebhookEndpoint]).data

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        response = self._transport.request("GET", f"{PATH}/{quote(endpoint_id)}")
        return msgspec.json.decode(response.content, type=WebhookEndpoint)

    def update(self, endpoint_id: str, changes: Mapping[str, Any]) -> WebhookEndpoint:
        """A merge patch of `url`, `event_types`, `description` or `enabled`."""
        path = f"{PATH}/{quote(endpoint_id)}"
        response = self._transport.request("PATCH", path, json=dict(changes))
        return msgspec.json.decode(response.content, type=WebhookEndpoint)

    def delete(self, endpoint_id: str) -> None:
        self._transport.request("DELETE", f"{PATH}/{quote(endpoint_id)}")

    def deliveries(self, endpoint_id: str) -> Iterator[Delivery]:
        """The endpoint's deliveries, newest first, every page."""
        path = f"{PATH}/{quote(endpoint_id)}/deliveries"
        cursor: str | None = None
        while True:
            params = {"limit": PAGE_SIZE, "cursor": cursor}
            response = self._transport.request("GET", path, params=params)
            page = msgspec.json.decode(response.content, type=Page[Delivery])
            yield from page.data
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def retry(self, endpoint_id: str, event_id: str) -> Delivery:
        """Send this event to this endpoint again, now."""
        path = f"{PATH}/{quote(endpoint_id)}/deliveries/{quote(event_id)}/retry"
        response = self._transport.request("POST", path)
        return msgspec.json.decode(response.content, type=Delivery)


class Client:
    """The CrossPath Recruitment API for one partner account.

    `url` is the service's address, with or without `/partners/v1`; the key is `api_key` or
    the environment's `CROSSPATH_API_KEY`. `on_response` sees every answer (e.g. to count
    calls); `sleep` is how the client waits between retries.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retry: Retry | None = None,
        sleep: Sleep | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        self.transport = Transport(url, api_key, timeout, retry or Retry(), on_response=on_response)
        if sleep is not None:
            self.transport.sleep = sleep
        self.companies = Records(self.transport, "/companies", Company)
        self.missions = Missions(self.transport, "/missions", Mission)
        self.webhook_endpoints = WebhookEndpoints(self.transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def references(self, kind: str) -> list[ReferenceValue]:
        """The accepted values of one kind: `sectors`, `locations`, `languages`, `positions`,
        `company_sizes`."""
        response = self.transport.request("GET", f"/references/{quote(kind)}")
        return msgspec.json.decode(response.content, type=dict[str, list[ReferenceValue]])["data"]

    def event_pages(self, after: str | None = None, limit: int = 100) -> Iterator[EventPage]:
        """The change feed from `after` (from its oldest event without it) to its current end."""
        while True:
            params = {"after": after, "limit": limit}
            response = self.transport.request("GET", "/events", params=params)
            page = msgspec.json.decode(response.content, type=EventPage)
            yield page
            after = page.next_cursor
            if not page.has_more:
                return


def _if_match(etag: str | None) -> dict[str, str]:
    return {"If-Match": etag} if etag else {}
