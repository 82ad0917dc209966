"""Endpoints written straight into the database, a delivery worker run in a thread, and what the
queue holds: what the webhook tests share."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from crosspath.ids import new_id
from crosspath.settings import Settings
from crosspath.store.tables import webhook_deliveries, webhook_endpoints
from crosspath.store.transaction import transaction
from crosspath.timestamps import utcnow
from crosspath.webhooks.signing import new_secret
from crosspath.webhooks.worker import Worker


def allowing_private_urls(database_url: str) -> Settings:
    """The app under test lets partners register the tests' receivers on 127.0.0.1."""
    from tests.conftest import SECRET

    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        rate_limit=100_000,
        webhook_allow_private_urls=True,
    )


@dataclass
class Endpoint:
    partner_id: str
    id: str
    secret: str


def add_endpoint(
    engine: Engine,
    partner_id: str,
    url: str,
    *,
    event_types: list[str] | None = None,
    enabled: bool = True,
) -> Endpoint:
    endpoint = Endpoint(partner_id, new_id("whe"), new_secret())
    now = utcnow()
    with transaction(engine, write=True) as conn:
        conn.execute(
            insert(webhook_endpoints).values(
                partner_id=partner_id,
                id=endpoint.id,
                url=url,
                event_types=event_types,
                type_filter="," + ",".join(event_types) + "," if event_types else "",
                secret=endpoint.secret,
                enabled=enabled,
                created_at=now,
                updated_at=now,
            )
        )
    return endpoint


def set_enabled(engine: Engine, endpoint: Endpoint, enabled: bool) -> None:
    with transaction(engine, write=True) as conn:
        conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint.id)
            .values(enabled=enabled)
        )


def deliveries(engine: Engine, endpoint: Endpoint) -> list[Any]:
    with transaction(engine) as conn:
        return list(
            conn.execute(
                select(webhook_deliveries)
                .where(webhook_deliveries.c.endpoint_id == endpoint.id)
                .order_by(webhook_deliveries.c.event_seq)
            )
        )


def for_tests(settings: Settings, **changes: Any) -> Settings:
    """Settings for delivering to the tests' receivers on 127.0.0.1, quickly."""
    defaults: dict[str, Any] = {
        "webhook_allow_private_urls": True,
        "webhook_timeout": 2,
        "webhook_retry_schedule": (0, 1),
    }
    return dataclasses.replace(settings, **(defaults | changes))


@contextmanager
def running(engine: Engine, settings: Settings, **options: Any) -> Iterator[Worker]:
    worker = Worker(engine, settings, **({"poll_interval": 0.05} | options))
    thread = threading.Thread(target=worker.run, name="test-worker")
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(30)
        assert not thread.is_alive(), "the worker did not stop"
