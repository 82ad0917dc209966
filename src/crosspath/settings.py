"""One typed settings object, read from CROSSPATH_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

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
    db_pool_size: int = 10
    log_level: str = "INFO"
    access_request_limit: int = 10
    access_request_window: int = 3600
    access_form_min_seconds: int = 3

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
