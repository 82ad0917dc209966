"""Per-key rate limiting: at most `limit` requests in any `window` seconds.

A sliding log of request times per key: exact, and small (at most `limit` entries a key).
In memory it counts for one process; with CROSSPATH_REDIS_URL every worker and instance of the
deployment counts in one Redis.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("crosspath.ratelimit")


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until a slot frees up (or the window is empty)

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


class RateLimiter:
    """Counts in this process. Keys are kept least recently used first, so the ones whose
    window has passed are forgotten from the front; past `max_keys` (a flood of addresses)
    the least recently used go first."""

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hits)

    def hit(self, key: str) -> Decision:
        now = self._clock()
        self._forget(now)
        hits = self._hits.setdefault(key, deque())
        self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        allowed = len(hits) < self.limit
        if allowed:
            hits.append(now)
        reset = math.ceil(hits[0] + self.window - now) if hits else math.ceil(self.window)
        return Decision(allowed, self.limit, self.limit - len(hits), max(reset, 1))

    def _forget(self, now: float) -> None:
        while self._hits:
            oldest_key, oldest = next(iter(self._hits.items()))
            if len(self._hits) < self.max_keys and oldest and oldest[-1] > now - self.window:
                return
            del self._hits[oldest_key]

    async def check(self, key: str) -> Decision:
        return self.hit(key)

    async def close(self) -> None:
        """Nothing to release."""


# The same sliding log in a Redis sorted set, so every worker and instance counts together.
# Redis' own clock is the only clock, so app servers' clocks may disagree.
_SLIDING_LOG = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local window_us = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_us - window_us)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now_us, now_us .. '-' .. ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], math.ceil(window_us / 1000))
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset_us = window_us
if oldest[2] then reset_us = tonumber(oldest[2]) + window_us - now_us end
return {allowed, count, reset_us}
"""


class RedisRateLimiter:
    """Counts in Redis; if Redis cannot be reached, requests are let through (and logged):
    an outage of the limiter must not become an outage of the API."""

    def __init__(self, url: str, limit: int, window: float) -> None:
        import redis.asyncio

        self.limit = limit
        self.window = window
        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._redis.register_script(_SLIDING_LOG)

    async def check(self, key: str) -> Decision:
        import redis

        try:
            allowed, count, reset_us = await self._script(
                keys=[f"crosspath:ratelimit:{key}"],
                args=[int(self.window * 1_000_000), self.limit, secrets.token_hex(8)],
            )
        except redis.RedisError as exc:
            log.error("rate limiter unavailable, request let through: %s", exc)
            return Decision(True, self.limit, self.limit, math.ceil(self.window))
        reset = max(math.ceil(int(reset_us) / 1_000_000), 1)
        return Decision(bool(allowed), self.limit, self.limit - int(count), reset)

    async def close(self) -> None:
        await self._redis.aclose()


Limiter = RateLimiter | RedisRateLimiter


def make_limiter(redis_url: str | None, limit: int, window: float) -> Limiter:
    if redis_url:
        return RedisRateLimiter(redis_url, limit, window)
    return RateLimiter(limit, window)
