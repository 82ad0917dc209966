"""The bare reference: the smallest correct code doing the list and create scenarios' work.

Raw ASGI, the database driver called directly, no framework, no SQLAlchemy; served by the same
server as the app. What it does is what any implementation must do:

- both: read the `Authorization` header, hash the key (HMAC-SHA256, as the app stores it) and
  find an active key of an enabled partner; 401 otherwise;
- `GET /partners/v1/missions[?cursor=...]`: check that the cursor holds a mission id, one
  keyset page of 20 of the partner's missions as the app's JSON (`{"data": [...],
  "next_cursor": ...}`);
- `POST /partners/v1/missions`: decode and validate the body (types, lengths, enums, ranges,
  ISO 4217 currencies, no unknown fields), sanitise the HTML description with nh3 as the app
  does, check the reference codes and the company's owner in the database, give it a ULID,
  insert it in one write transaction (a duplicate external_id is a 409), answer 201 with the
  mission.

bench/run.py checks all of this against the app before it measures (`check_same_work`).

What it leaves out is what the app adds on top: error messages naming every problem, request
ids, rate limiting, access logs, OpenAPI, the alias base path, PATCH and the other routes.

Drivers (BARE_DRIVER): `sqlite` (stdlib sqlite3, inline on the event loop: a local file read
is faster than any thread hop), `psycopg` (psycopg 3 async) and `asyncpg`, each with a small
pool of connections. Settings come from the app's own variables (CROSSPATH_DATABASE_URL,
CROSSPATH_SECRET_KEY).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

import msgspec
import nh3
import pycountry

from crosspath.fields import HTML_TAGS
from crosspath.ids import new_id  # the same ULIDs as the app: part of the work, not framework

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

PATH = "/partners/v1/missions"
COLUMNS = (
    "id, external_id, company_id, title, description, position, location, languages, "
    "contract_type, remote_policy, experience_years_min, salary_min, salary_max, "
    "salary_currency, salary_period, openings, status, created_at, updated_at"
)
FIND_KEY = (
    "SELECT k.partner_id FROM api_keys k JOIN partners p ON p.id = k.partner_id "
    "WHERE k.key_hash = ? AND k.revoked_at IS NULL AND p.disabled_at IS NULL"
)
PAGE = f"SELECT {COLUMNS} FROM missions WHERE partner_id = ? AND id > ? ORDER BY id LIMIT 21"
CODES = (
    "SELECT count(*) FROM reference_values WHERE retired_at IS NULL AND ("
    "(kind = 'positions' AND code = ?) OR (kind = 'locations' AND code = ?) OR "
    "(kind = 'languages' AND code IN (SELECT value FROM {languages})))"
)
OWNS = "SELECT 1 FROM companies WHERE partner_id = ? AND id = ?"
INSERT = (
    f"INSERT INTO missions (partner_id, {COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
KEY = re.compile(r"(?i:apikey|bearer) +(Recruitment-[A-Za-z0-9]{32})")
LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MISSION_ID = re.compile(r"msn_[0-9A-HJKMNP-TV-Z]{26}")  # the app's ids: a prefix and a ULID
CURRENCIES = frozenset(currency.alpha_3 for currency in pycountry.currencies)  # the app's list

Line = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class Salary(msgspec.Struct, forbid_unknown_fields=True):
    min: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
    max: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
    currency: str  # an ISO 4217 code, checked (and upper-cased) by clean()
    period: Literal["year", "month", "day", "hour"]


class NewMission(msgspec.Struct, forbid_unknown_fields=True):
    company_id: Annotated[str, msgspec.Meta(max_length=40)]
    title: Line
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=50_000)]
    position: Code
    location: Code
    external_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    languages: Annotated[list[Code], msgspec.Meta(max_length=10)] = []
    contract_type: (
        Literal["permanent", "fixed_term", "freelance", "internship", "apprenticeship"] | None
    ) = None
    remote_policy: Literal["on_site", "hybrid", "remote"] | None = None
    experience_years_min: Annotated[int, msgspec.Meta(ge=0, le=50)] | None = None
    salary: Salary | None = None
    openings: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1


class Mission(msgspec.Struct):
    id: str
    external_id: str | None
    company_id: str
    title: str
    description: str
    position: str
    location: str
    languages: msgspec.Raw | list[str]
    contract_type: str | None
    remote_policy: str | None
    experience_years_min: int | None
    salary: Salary | None
    openings: int
    status: str
    created_at: str
    updated_at: str


class Page(msgspec.Struct):
    data: list[Mission]
    next_cursor: str | None


decode_mission = msgspec.json.Decoder(NewMission).decode
encode = msgspec.json.Encoder().encode


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


def timestamp(value: datetime | str) -> str:
    if isinstance(value, str):  # SQLite: "2026-11-28 12:30:00.123456", UTC
        return value.replace(" ", "T") + "Z"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def mission(row: Any) -> Mission:
    languages = row[7]
    salary = Salary(row[11], row[12], row[13], row[14]) if row[11] is not None else None
    return Mission(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6],
        msgspec.Raw(languages) if isinstance(languages, str) else languages,
        row[8], row[9], row[10], salary, row[15], row[16], timestamp(row[17]), timestamp(row[18]),
    )  # fmt: skip


def clean(body: bytes) -> NewMission:
    try:
        new = decode_mission(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise Refused(400, str(exc)) from None
    lines = (new.title, new.position, new.location, new.external_id or "", *new.languages)
    if any(LINE.search(text) for text in lines) or TEXT.search(new.description):
        raise Refused(400, "control characters are not allowed")
    if new.salary is not None:
        if new.salary.min > new.salary.max:
            raise Refused(400, "salary.min must not be greater than salary.max")
        new.salary.currency = new.salary.currency.strip().upper()
        if new.salary.currency not in CURRENCIES:
            raise Refused(400, "salary.currency must be an ISO 4217 currency code")
    if len(set(new.languages)) != len(new.languages):
        raise Refused(400, "languages must not contain duplicates")
    new.title = new.title.strip()
    new.description = nh3.clean(
        new.description,
        tags=HTML_TAGS,
        attributes={"a": {"href", "title"}, "th": {"colspan", "rowspan"},
                    "td": {"colspan", "rowspan"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )  # fmt: skip
    if not new.description.strip():
        raise Refused(400, "description is empty")
    return new


def key_hash(secret: bytes, authorization: bytes) -> str | None:
    match = KEY.fullmatch(authorization.decode("latin-1").strip())
    if match is None:
        return None
    return hmac.new(secret, match.group(1).encode(), hashlib.sha256).hexdigest()


def cursor_id(query: bytes) -> str:
    """The id after which the page starts ("" for the first page)."""
    params = dict(parse_qsl(query.decode("latin-1")))
    if set(params) - {"cursor"}:
        raise Refused(400, "unknown query parameter")
    if "cursor" not in params:
        return ""
    cursor = params["cursor"]
    try:
        after = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Refused(400, "cursor is not valid") from None
    if not MISSION_ID.fullmatch(after):
        raise Refused(400, "cursor is not valid")
    return after


# The database, behind one small interface: fetch rows, and a write transaction.

Fetch = Callable[[str, tuple[Any, ...]], Awaitable[list[Any]]]


class SQLite:
    placeholder = "?"

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # The app's settings: WAL, and every commit durable (synchronous=FULL).
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON",
                       "synchronous=FULL"):  # fmt: skip
            self.conn.execute(f"PRAGMA {pragma}")

    @asynccontextmanager
    async def connection(self, *, write: bool = False) -> AsyncIterator[Fetch]:
        async def fetch(sql: str, args: tuple[Any, ...]) -> list[Any]:
            return self.conn.execute(sql, args).fetchall()

        if not write:
            yield fetch
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield fetch
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


class Pool:
    """A fixed set of async connections handed out one request at a time."""

    size = 10

    def __init__(self) -> None:
        self.idle: asyncio.Queue[Any] = asyncio.Queue()

    @asynccontextmanager
    async def connection(self, *, write: bool = False) -> AsyncIterator[Fetch]:
        conn = await self.idle.get()
        try:
            async with self.transaction(conn, write):
                yield lambda sql, args: self.fetch(conn, sql, args)
        finally:
            self.idle.put_nowait(conn)

    def transaction(self, conn: Any, write: bool) -> Any:
        raise NotImplementedError

    async def fetch(self, conn: Any, sql: str, args: tuple[Any, ...]) -> list[Any]:
        raise NotImplementedError


class Psycopg(Pool):
    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self.conninfo = conninfo

    async def open(self) -> None:
        import psycopg

        for _ in range(self.size):
            conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
            self.idle.put_nowait(conn)

    def transaction(self, conn: Any, write: bool) -> Any:
        return conn.transaction() if write else _nothing()

    async def fetch(self, conn: Any, sql: str, args: tuple[Any, ...]) -> list[Any]:
        cursor = await conn.execute(sql.replace("?", "%s"), args)
        return await cursor.fetchall() if cursor.description else []


class Asyncpg(Pool):
    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self.conninfo = conninfo
        self.statements: dict[str, str] = {}

    async def open(self) -> None:
        import asyncpg

        for _ in range(self.size):
            self.idle.put_nowait(await asyncpg.connect(self.conninfo))

    def transaction(self, conn: Any, write: bool) -> Any:
        return conn.transaction() if write else _nothing()

    async def fetch(self, conn: Any, sql: str, args: tuple[Any, ...]) -> list[Any]:
        if sql not in self.statements:
            parts = sql.split("?")
            numbered = "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1))
            self.statements[sql] = numbered + parts[-1]
        return list(await conn.fetch(self.statements[sql], *args))


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


# The two requests.


async def partner_of(fetch: Fetch, secret: bytes, scope: Scope) -> str:
    authorization = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
    digest = key_hash(secret, authorization)
    rows = await fetch(FIND_KEY, (digest,)) if digest else []
    if not rows:
        raise Refused(401, "Please provide your API key.")
    return str(rows[0][0])


async def list_page(database: Any, secret: bytes, scope: Scope) -> tuple[int, bytes, str]:
    after = cursor_id(scope["query_string"])
    async with database.connection() as fetch:
        partner_id = await partner_of(fetch, secret, scope)
        rows = await fetch(PAGE, (partner_id, after))
    cursor = None
    if len(rows) > 20:
        rows = rows[:20]
        cursor = base64.urlsafe_b64encode(rows[-1][0].encode()).decode().rstrip("=")
    return 200, encode(Page([mission(row) for row in rows], cursor)), ""


async def create(database: Any, secret: bytes, scope: Scope, body: bytes) -> tuple[int, bytes, str]:
    new = clean(body)
    now = datetime.now(UTC)
    stamp: Any = now.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(database, SQLite) else now
    salary = new.salary or Salary(None, None, None, None)  # type: ignore[arg-type]
    languages = encode(new.languages).decode()
    row = (
        new_id("msn"), new.external_id, new.company_id, new.title, new.description, new.position,
        new.location, languages, new.contract_type, new.remote_policy, new.experience_years_min,
        salary.min, salary.max, salary.currency, salary.period, new.openings, "private", stamp,
        stamp,
    )  # fmt: skip
    codes = CODES.format(
        languages="json_each(?)"
        if isinstance(database, SQLite)
        else "json_array_elements_text(?::json)"
    )
    async with database.connection(write=True) as fetch:
        partner_id = await partner_of(fetch, secret, scope)
        found = await fetch(codes, (new.position, new.location, languages))
        if found[0][0] != 2 + len(new.languages):
            raise Refused(400, "a reference code is not an accepted value")
        if not await fetch(OWNS, (partner_id, new.company_id)):
            raise Refused(400, COMPANY_NOT_USABLE)
        try:
            await fetch(INSERT, (partner_id, *row))
        except Exception as exc:
            if "unique" in str(exc).lower():
                raise Refused(409, "external_id is already used") from None
            raise
    return 201, encode(mission((*row[:17], now, now))), f"{PATH}/{row[0]}"


COMPANY_NOT_USABLE = "This company does not exist or you don't have the permission to use it."


class App:
    def __init__(self) -> None:
        self.secret = b""
        self.database: Any = None

    async def open(self) -> None:
        self.secret = os.environ["CROSSPATH_SECRET_KEY"].encode()
        url = os.environ["CROSSPATH_DATABASE_URL"]
        if url.startswith("sqlite"):
            self.database = SQLite(url.removeprefix("sqlite:///"))
            return
        from seed import postgres_conninfo

        driver = os.environ.get("BARE_DRIVER", "psycopg")
        pool = Psycopg if driver == "psycopg" else Asyncpg
        self.database = pool(postgres_conninfo(url))
        await self.database.open()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if self.database is None:  # servers that skip the lifespan protocol
            await self.open()
        status, headers, payload = await self.handle(scope, receive)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def handle(self, scope: Scope, receive: Receive) -> tuple[int, list[Any], bytes]:
        method, path = scope["method"], scope["path"]
        location = ""
        try:
            if path == "/healthz":
                status, payload = 200, b'{"status":"ok"}'
            elif path != PATH:
                raise Refused(404, f"There is no endpoint at {path}.")
            elif method == "GET":
                status, payload, location = await list_page(self.database, self.secret, scope)
            elif method == "POST":
                status, payload, location = await create(
                    self.database, self.secret, scope, await read_body(receive)
                )
            else:
                raise Refused(405, f"{method} is not allowed on {path}.")
        except Refused as refused:
            status, payload = refused.status, encode({"error": refused.message})
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(payload)).encode())]  # fmt: skip
        if location:
            headers.append((b"location", location.encode()))
        return status, headers, payload

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


app = App()
