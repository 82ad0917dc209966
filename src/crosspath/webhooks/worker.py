"""The delivery worker: polls the queue, and sends each endpoint's due events in order.

One loop looks for endpoints with deliveries due every `poll_interval` seconds (a read on the
index of pending deliveries by due time; the write lock is taken only when there is work) and
leases as many as it has free threads (see queue.py for the lease). Each leased endpoint gets a
round in a thread of its own: its due deliveries oldest first, one at a time, the round ending
at the first failure (the rest of that endpoint waits for the next round) or after ROUND_SIZE.
Endpoints are sent to concurrently, so a slow or dead one holds only its own thread, for at
most the timeout per try, and never the other partners' deliveries.

Once an hour the loop also forgets events past their retention (`events.service.purge`), so
that a service run by `crosspath serve` keeps its feed to the configured days on its own.

A stop (SIGTERM, SIGINT) lets each round finish the try it is on, records it and gives the
lease back; nothing more is sent.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine

from crosspath.events import service as events
from crosspath.settings import Settings
from crosspath.store.engine import is_outage
from crosspath.store.transaction import one_statement, transaction
from crosspath.timestamps import utcnow
from crosspath.webhooks import delivery, queue
from crosspath.webhooks.outbound import Sender
from crosspath.webhooks.queue import Lease

log = logging.getLogger("crosspath.webhooks")
POLL_INTERVAL = 0.25  # seconds between looks at the queue: well inside the 5 s promise
CONCURRENCY = 8  # endpoints sent to at once by one worker
LEASE_MARGIN = 10.0  # seconds a lease outlives the timeout, for recording the try
PURGE_EVERY = 3600.0  # seconds between two purges of old events


class Worker:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        concurrency: int = CONCURRENCY,
        poll_interval: float = POLL_INTERVAL,
        lease_margin: float = LEASE_MARGIN,
    ) -> None:
        self.engine = engine
        self.schedule = settings.webhook_retry_schedule
        self.retention_days = settings.event_retention_days
        self._next_purge = time.monotonic()
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease_seconds = settings.webhook_timeout + lease_margin
        self.sender = Sender(
            timeout=settings.webhook_timeout,
            allow_private=settings.webhook_allow_private_urls,
            connections=concurrency,
        )
        self.stopping = threading.Event()
        self._rounds: dict[tuple[str, str], Future[None]] = {}

    def run(self) -> None:
        """Deliver until `stop()`; then wait for the rounds under way to end."""
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="crosspath-webhook") as pool:
            while not self.stopping.is_set():
                self._purge_when_due()
                self._rounds = {k: f for k, f in self._rounds.items() if not f.done()}
                free = self.concurrency - len(self._rounds)
                for lease in self._claim(free) if free > 0 else []:
                    self._rounds[lease.key] = pool.submit(self._round, lease)
                self.stopping.wait(self.poll_interval)
        self.sender.close()

    def stop(self) -> None:
        self.stopping.set()

    def _purge_when_due(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_EVERY
        try:
            with transaction(self.engine, write=True) as conn:
                removed = events.purge(conn, self.retention_days)
            if removed:
                log.info("purged %d events older than %d days", removed, self.retention_days)
        except Exception as exc:
            self._log_failure("could not purge old events", exc)

    def _claim(self, limit: int) -> list[Lease]:
        busy = list(self._rounds)
        try:
            now = utcnow()
            with one_statement(self.engine) as conn:
                if not queue.anything_due(conn, now, busy):
                    return []
            with transaction(self.engine, write=True) as conn:
                return queue.claim(conn, utcnow(), self.lease_seconds, busy, limit)
        except Exception as exc:
            self._log_failure("could not claim endpoints", exc)
            self.stopping.wait(1.0)  # the database is down: no need to ask four times a second
            return []

    def _round(self, lease: Lease) -> None:
        held: Lease | None = lease
        try:
            with one_statement(self.engine) as conn:
                due = queue.due(conn, lease, utcnow())
            for item in due:
                if self.stopping.is_set():
                    break
                held, sent = self._try(lease, item)
                if held is None or not sent:
                    break
                lease = held
        except Exception as exc:
            self._log_failure(f"delivery round of {lease.endpoint_id} failed", exc)
        finally:
            if held is not None:
                self._release(held)

    def _try(self, lease: Lease, item: queue.Delivery) -> tuple[Lease | None, bool]:
        """Send one delivery and record it: the lease renewed for the next (None once it is no
        longer this worker's, or the endpoint was disabled or deleted), and whether it went."""
        if item.body is None:
            answer, outcome = None, delivery.purged()
        else:
            answer = delivery.send(self.sender, lease, item)
            outcome = delivery.outcome(answer, item.attempts, self.schedule, utcnow())
        now = utcnow()
        with transaction(self.engine, write=True) as conn:
            queue.record(conn, lease, item, outcome, now)
            renewed = queue.renew(conn, lease, now + timedelta(seconds=self.lease_seconds))
        log.info(
            "webhook %s of %s to %s: %s",
            item.event_id,
            item.event_type,
            lease.endpoint_id,
            outcome.last_error or f"delivered ({outcome.last_status})",
            extra={"partner_id": lease.partner_id},
        )
        return renewed, answer is None or answer.ok

    def _release(self, lease: Lease) -> None:
        try:
            with transaction(self.engine, write=True) as conn:
                queue.release(conn, lease, utcnow())
        except Exception as exc:  # the lease runs out on its own
            self._log_failure(f"could not release {lease.endpoint_id}", exc)

    def _log_failure(self, what: str, exc: Exception) -> None:
        if is_outage(exc):
            log.warning("%s: the database is unreachable (%s)", what, type(exc).__name__)
        else:
            log.exception(what)
