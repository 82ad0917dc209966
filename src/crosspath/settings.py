"""One typed settings object, read from CROSSPATH_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# Seconds between a delivery's tries: eight tries over about 22 hours.
DEFAULT_RETRY_SCHEDULE = (10, 60, 600, 3600, 10800, 21600, 43200)
PLACEHOLDER_SECRET = "change-me-local-development-only"  # noqa: S105 - a documented placeholder


class SettingsError(ValueError):
    """A setting has a value the service cannot run with."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///crosspath.db"
    secret_key: str = PLACEHOLDER_SECRET
    environment: str = "development"
    rate_limit: int = 200
    rate_limit_window: int = 10
    redis_url: str | None = None
    db_pool_size: int = 20
    log_level: str = "INFO"
    access_request_limit: int = 10
    access_request_window: int = 3600
    access_form_min_seconds: int = 3
    event_retention_days: int = 30
    webhook_timeout: int = 10
    webhook_retry_schedule: tuple[int, ...] = DEFAULT_RETRY_SCHEDULE
    webhook_allow_private_urls: bool = False
    console_idle_minutes: int = 30

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        settings = cls(
            database_url=env.get("CROSSPATH_DATABASE_URL") or defaults.database_url,
            secret_key=env.get("CROSSPATH_SECRET_KEY") or defaults.secret_key,
            environment=env.get("CROSSPATH_ENV") or defaults.environment,
            rate_limit=_positive_int(env, "CROSSPATH_RATE_LIMIT", defaults.rate_limit),
            rate_limit_window=_positive_int(
                env, "CROSSPATH_RATE_LIMIT_WINDOW", defaults.rate_limit_window
            ),
            redis_url=env.get("CROSSPATH_REDIS_URL") or None,
            db_pool_size=_positive_int(env, "CROSSPATH_DB_POOL_SIZE", defaults.db_pool_size),
            log_level=(env.get("CROSSPATH_LOG_LEVEL") or defaults.log_level).upper(),
            access_request_limit=_positive_int(
                env, "CROSSPATH_ACCESS_REQUEST_LIMIT", defaults.access_request_limit
            ),
            access_request_window=_positive_int(
                env, "CROSSPATH_ACCESS_REQUEST_WINDOW", defaults.access_request_window
            ),
            access_form_min_seconds=_positive_int(
                env, "CROSSPATH_ACCESS_FORM_MIN_SECONDS", defaults.access_form_min_seconds, 0
            ),
            event_retention_days=_positive_int(
                env, "CROSSPATH_EVENT_RETENTION_DAYS", defaults.event_retention_days
            ),
            webhook_timeout=_positive_int(
                env, "CROSSPATH_WEBHOOK_TIMEOUT", defaults.webhook_timeout
            ),
            webhook_retry_schedule=_schedule(
                env, "CROSSPATH_WEBHOOK_RETRY_SCHEDULE", defaults.webhook_retry_schedule
            ),
            webhook_allow_private_urls=_flag(env, "CROSSPATH_WEBHOOK_ALLOW_PRIVATE_URLS"),
            console_idle_minutes=_positive_int(
                env, "CROSSPATH_CONSOLE_IDLE_MINUTES", defaults.console_idle_minutes
            ),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.environment not in ("development", "production"):
            raise SettingsError("CROSSPATH_ENV must be 'development' or 'production'.")
        if self.is_production and (
            self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32
        ):
            raise SettingsError(
                "CROSSPATH_SECRET_KEY must be set to a random value of at least 32 characters "
                "when CROSSPATH_ENV=production."
            )
        if self.is_production and self.webhook_allow_private_urls:
            raise SettingsError(
                "CROSSPATH_WEBHOOK_ALLOW_PRIVATE_URLS=true is for development and tests only: "
                "it is refused when CROSSPATH_ENV=production."
            )


def _positive_int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}.")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise SettingsError(f"{name} must be true or false, not {raw!r}.")
    return raw in ("true", "1")


def _schedule(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(name)
    if not raw:
        return default
    try:
        schedule = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise SettingsError(
            f"{name} must be seconds between tries, comma-separated (e.g. 10,60,600), not {raw!r}."
        ) from None
    if any(seconds < 0 for seconds in schedule):
        raise SettingsError(f"{name} must not hold a negative number of seconds.")
    return schedule
