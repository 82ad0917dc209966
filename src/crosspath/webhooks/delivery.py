"""One try of one delivery: the signed POST, and what its answer does to the delivery.

A 2xx within the timeout is success. Anything else (another status, a redirect, a timeout, a
connection error, a refused address) counts one more attempt; the next try comes after the
schedule's next wait, and once the schedule is spent the delivery is failed. A failed delivery
that is tried again by hand therefore gets exactly one more try.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from crosspath.webhooks import signing
from crosspath.webhooks.outbound import MAX_BODY, Answer, Sender
from crosspath.webhooks.queue import FAILED, PENDING, SUCCEEDED, Delivery, Lease, Outcome

PURGED = "the event is no longer kept (purged) and cannot be delivered"
EXCERPT = 200  # characters of a refused answer's body kept in the log


def send(sender: Sender, lease: Lease, delivery: Delivery) -> Answer:
    """POST the event, exactly as stored, signed with the endpoint's secret."""
    assert delivery.body is not None
    headers = signing.headers(lease.secret, delivery.event_id, int(time.time()), delivery.body)
    return sender.post(lease.url, delivery.body.encode(), headers)


def outcome(
    answer: Answer, attempts_before: int, schedule: Sequence[int], now: datetime
) -> Outcome:
    if answer.ok:
        return Outcome(SUCCEEDED, None, answer.status, None)
    attempts = attempts_before + 1
    error = describe(answer)
    if attempts <= len(schedule):
        retry_at = now + timedelta(seconds=schedule[attempts - 1])
        return Outcome(PENDING, retry_at, answer.status, error)
    return Outcome(FAILED, None, answer.status, error)


def purged() -> Outcome:
    return Outcome(FAILED, None, None, PURGED)


def describe(answer: Answer) -> str:
    """What went wrong, for the deliveries log: the error, and the start of the answer's body."""
    said = answer.error or f"answered {answer.status}"
    excerpt = answer.body[:EXCERPT].decode(errors="replace").strip()
    if excerpt:
        said += f": {excerpt}"
    if answer.truncated and len(answer.body) >= MAX_BODY:
        said += f" (the body was cut at {MAX_BODY // 1024} KiB)"
    return said
