"""The schema, in SQLAlchemy Core: every table the service keeps.

Every partner-owned table leads with `partner_id`, in its primary key and in every index, so a
partner's rows sit together and the schema is ready for a sharded PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import GenericFunction

from crosspath.timestamps import rfc3339

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UTCDateTime(TypeDecorator[Any]):
    """A UTC timestamp with microseconds: written as an aware datetime, read as RFC 3339 text.

    Reading it as text skips the driver value -> datetime -> text round trip that every
    response would otherwise pay for each timestamp (bench/ measured it as the largest cost
    of a list page on SQLite). PostgreSQL writes the text itself (`column_expression`), so
    neither the driver nor Python parses or formats a datetime.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[Any] | None:
        return _AsText(column, type_=self)  # only where it is read: comparisons keep the column

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name == "sqlite":

            def from_text(value: str | None) -> str | None:
                # SQLite's `2026-11-28 12:30:00.123456`, rewritten here without a call
                if value is None:
                    return None
                if len(value) == 26:
                    return f"{value[:10]}T{value[11:]}Z"
                return rfc3339(value)

            return from_text

        def process(value: datetime | str | None) -> str | None:
            # Text when PostgreSQL wrote it (`_AsText`); a datetime from a statement that
            # gave its own columns.
            return value if value is None or isinstance(value, str) else rfc3339(value)

        return process


class _AsText(GenericFunction[Any]):
    """A timestamp column as it is read: the column itself on SQLite (which keeps text), RFC
    3339 text written by the server on PostgreSQL."""

    name = "crosspath_timestamp_text"
    inherit_cache = True


@compiles(_AsText)
def _column_itself(element: _AsText, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_AsText, "postgresql")
def _rfc3339_on_postgresql(element: _AsText, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


partners = Table(
    "partners",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime()),
    # The partner's change feed: the last event number given, and the last one purged.
    Column("event_seq", BigInteger, nullable=False, server_default="0"),
    Column("events_purged_through", BigInteger, nullable=False, server_default="0"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("id", String(40), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("prefix", String(40), nullable=False),
    Column("label", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    PrimaryKeyConstraint("partner_id", "id"),
    ForeignKeyConstraint(["partner_id"], ["partners.id"]),
    Index(None, "key_hash", unique=True),
    Index(None, "id", unique=True),
)

companies = Table(
    "companies",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("id", String(40), nullable=False),
    Column("external_id", String(100)),
    Column("name", String(200), nullable=False),
    Column("website", Text),
    Column("description", Text),
    Column("sector", String(100)),
    Column("size", String(100)),
    Column("location", String(100)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("partner_id", "id"),
    ForeignKeyConstraint(["partner_id"], ["partners.id"]),
    Index(None, "partner_id", "external_id", unique=True),
    Index(None, "partner_id", "updated_at"),
)

missions = Table(
    "missions",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("id", String(40), nullable=False),
    Column("company_id", String(40), nullable=False),
    Column("external_id", String(100)),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("position", String(100), nullable=False),
    Column("location", String(100), nullable=False),
    Column("languages", JSON, nullable=False),
    Column("contract_type", String(20)),
    Column("remote_policy", String(20)),
    Column("experience_years_min", Integer),
    Column("salary_min", BigInteger),
    Column("salary_max", BigInteger),
    Column("salary_currency", String(3)),
    Column("salary_period", String(10)),
    Column("openings", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("partner_id", "id"),
    ForeignKeyConstraint(["partner_id", "company_id"], ["companies.partner_id", "companies.id"]),
    Index(None, "partner_id", "external_id", unique=True),
    Index(None, "partner_id", "company_id", "id"),
    Index(None, "partner_id", "status", "id"),
    Index(None, "partner_id", "updated_at"),
)

reference_values = Table(
    "reference_values",
    metadata,
    Column("kind", String(40), nullable=False),
    Column("code", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("country", String(2)),
    Column("position", Integer, nullable=False),
    Column("retired_at", UTCDateTime()),
    PrimaryKeyConstraint("kind", "code"),
)

# Requests for API access sent from the portal; operators decide each one once, and the
# decided ones keep their record (status, decided_at, reason, the partner created).
access_requests = Table(
    "access_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("company", String(200), nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("platform", String(300), nullable=False),
    Column("monthly_jds", Integer, nullable=False),
    Column("message", Text),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_at", UTCDateTime()),
    Column("reason", Text),
    Column("partner_id", String(40)),
    ForeignKeyConstraint(["partner_id"], ["partners.id"]),
    Index(None, "status", "id"),
)

# The outcome of a POST sent with an Idempotency-Key, stored in the transaction of the write it
# describes, so that a retry gets the same answer and writes nothing.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("location", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("partner_id", "key"),
    ForeignKeyConstraint(["partner_id"], ["partners.id"]),
    Index(None, "created_at"),
)

# The change feed: one event per committed change of a partner's company or mission, written in
# the transaction of the change. `seq` counts each partner's events from 1: it is taken from
# `partners.event_seq` under that row's lock, so a partner's events commit in `seq` order and a
# reader that follows `seq` never skips one (see store/feed.py). `body` is the event as the
# feed and the webhooks send it, encoded once.
events = Table(
    "events",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("id", String(40), nullable=False),
    Column("type", String(40), nullable=False),
    Column("record_id", String(40), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("body", Text, nullable=False),
    PrimaryKeyConstraint("partner_id", "seq"),
    ForeignKeyConstraint(["partner_id"], ["partners.id"]),
    Index(None, "partner_id", "record_id", "seq"),
    Index(None, "created_at"),
)

# Where a partner wants its events sent. `type_filter` is the wanted event types as
# ",a,b," (empty: every type), so that queueing a delivery is one INSERT ... SELECT.
# `lease_until` is set while a delivery worker has the endpoint's queue in hand.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("id", String(40), nullable=False),
    Column("url", Text, nullable=False),
    Column("description", Text),
    Column("event_types", JSON),
    Column("type_filter", Text, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime()),
    PrimaryKeyConstraint("partner_id", "id"),
    ForeignKeyConstraint(["partner_id"], ["partners.id"]),
    Index(None, "id", unique=True),
)

# One event to send to one endpoint, queued in the transaction of the event. An endpoint gets
# each event once, so a delivery is named by its endpoint and its event.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime()),
    Column("last_attempt_at", UTCDateTime()),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("partner_id", "endpoint_id", "event_seq"),
    ForeignKeyConstraint(
        ["partner_id", "endpoint_id"],
        ["webhook_endpoints.partner_id", "webhook_endpoints.id"],
        ondelete="CASCADE",
    ),
    Index(None, "partner_id", "endpoint_id", "event_id", unique=True),
    Index(None, "status", "next_attempt_at"),
)

# CrossPath operators, who sign in to the console. The password is kept only as an argon2id
# hash; a disabled operator can no longer sign in and every session of theirs ends.
operators = Table(
    "operators",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("password_changed_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime()),
    Index(None, "email", unique=True),
)

# A signed-in console session. Only a hash of the cookie's token is kept, so a copy of the
# table opens no session; `last_seen_at` drives the idle timeout.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("operator_id", String(40), nullable=False),
    Column("client", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    ForeignKeyConstraint(["operator_id"], ["operators.id"]),
    Index(None, "operator_id"),
)

# Failed console sign-ins, counted per e-mail address and per client address to slow down
# password guessing across every worker and instance.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("client", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "email", "created_at"),
    Index(None, "client", "created_at"),
    Index(None, "created_at"),
)

# Every change an operator makes, from the console or the command line: who, what, on which
# record, when, and from where. Never updated or deleted by the service.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("actor", String(300), nullable=False),
    Column("action", String(60), nullable=False),
    Column("record_id", String(100)),
    Column("address", String(300), nullable=False),
    Column("detail", Text),
    Index(None, "record_id", "id"),
)
