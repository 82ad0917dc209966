"""GET /companies and GET /missions: pages, cursors, filters and strict query strings."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from tests.conftest import Partner, create_company, create_mission, error_of, set_status

KINDS = ["companies", "missions"]
PLUS_TWO = timezone(timedelta(hours=2))


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Lists:
    """Creates and lists records of one kind under one base path."""

    client: TestClient[Any]
    base: str
    kind: str
    companies: dict[str, str] = field(default_factory=dict)

    def make(self, partner: Partner, **fields: Any) -> Any:
        if self.kind == "companies":
            return create_company(self.client, self.base, partner, **fields)
        # Missions of one partner share a company, so the companies list stays out of the way.
        if partner.id not in self.companies:
            self.companies[partner.id] = create_company(self.client, self.base, partner)["id"]
        company_id = self.companies[partner.id]
        return create_mission(self.client, self.base, partner, company_id=company_id, **fields)

    def make_many(self, partner: Partner, count: int) -> list[str]:
        return [self.make(partner)["id"] for _ in range(count)]

    def get(self, partner: Partner, **params: Any) -> Any:
        response = self.client.get(
            f"{self.base}/{self.kind}", params=params, headers=partner.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert list(body) == ["data", "next_cursor"]
        return body

    def ids(self, partner: Partner, **params: Any) -> list[str]:
        return [record["id"] for record in self.get(partner, **params)["data"]]

    def walk(self, partner: Partner, **params: Any) -> list[str]:
        """Every id, following next_cursor until it is null."""
        ids, cursor = [], None
        while True:
            body = self.get(partner, **params, **({"cursor": cursor} if cursor else {}))
            ids += [record["id"] for record in body["data"]]
            cursor = body["next_cursor"]
            if cursor is None:
                return ids

    def error(self, partner: Partner, query: str | dict[str, str]) -> str:
        """The message of a 400 for this query string (raw) or these parameters (encoded)."""
        if isinstance(query, str):
            response = self.client.get(f"{self.base}/{self.kind}?{query}", headers=partner.headers)
        else:
            response = self.client.get(
                f"{self.base}/{self.kind}", params=query, headers=partner.headers
            )
        assert response.status_code == 400, response.text
        return error_of(response)

    def touch(self, partner: Partner, record_id: str) -> Any:
        name = "name" if self.kind == "companies" else "title"
        response = self.client.patch(
            f"{self.base}/{self.kind}/{record_id}",
            json={name: "Renamed"},
            headers=partner.headers,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def lists(client: TestClient[Any], base: str, kind: str) -> Lists:
    return Lists(client, base, kind)


@pytest.fixture
def missions(client: TestClient[Any], base: str) -> Lists:
    return Lists(client, base, "missions")


@pytest.fixture
def companies(client: TestClient[Any], base: str) -> Lists:
    return Lists(client, base, "companies")


# Pages


def test_an_empty_list_is_one_page_without_a_cursor(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    lists.make(bob)
    assert lists.get(alice) == {"data": [], "next_cursor": None}


def test_it_returns_twenty_records_per_page_by_default(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    ids = lists.make_many(alice, 21)
    lists.make(bob)
    first = lists.get(alice)
    assert [record["id"] for record in first["data"]] == ids[:20]
    assert isinstance(first["next_cursor"], str)
    second = lists.get(alice, cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    assert [record["id"] for record in second["data"]] == ids[20:]


def test_a_page_holds_the_full_records(lists: Lists, alice: Partner, bob: Partner) -> None:
    record = lists.make(alice, external_id="crm-1")
    lists.make(bob)
    assert lists.get(alice)["data"] == [record]


def test_a_page_that_holds_the_last_record_has_no_cursor(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    ids = lists.make_many(alice, 3)
    lists.make(bob)
    body = lists.get(alice, limit=3)
    assert [record["id"] for record in body["data"]] == ids
    assert body["next_cursor"] is None


def test_walking_the_pages_returns_every_record_once_oldest_first(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    ids = []
    for _ in range(5):
        ids.append(lists.make(alice)["id"])
        lists.make(bob)
    for limit in (1, 2, 4, 5, 100):
        assert lists.walk(alice, limit=limit) == ids, limit


def test_records_created_while_walking_appear_once_at_the_end(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    ids = lists.make_many(alice, 4)
    seen, cursor = [], None
    while True:
        body = lists.get(alice, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [record["id"] for record in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        # The partner keeps pushing while its sync job reads: one new record per page read.
        ids.append(lists.make(alice)["id"])
        lists.make(bob)
    assert len(ids) == 6  # pages of two: 4 records, then 2 more found on the way
    assert seen == ids


def test_updating_a_record_does_not_move_it_in_the_list(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    ids = lists.make_many(alice, 3)
    lists.make(bob)
    lists.touch(alice, ids[0])
    assert lists.walk(alice, limit=2) == ids


def test_both_base_paths_list_the_same_records(
    client: TestClient[Any], kind: str, alice: Partner, bob: Partner
) -> None:
    current, legacy = (
        Lists(client, "/partners/v1", kind),
        Lists(client, "/partners/hunteron/v1", kind),
    )
    ids = [current.make(alice)["id"], legacy.make(alice)["id"]]
    current.make(bob)
    assert current.walk(alice, limit=1) == ids
    assert legacy.walk(alice, limit=1) == ids


# limit


def test_it_accepts_a_limit_from_1_to_100(lists: Lists, alice: Partner, bob: Partner) -> None:
    ids = lists.make_many(alice, 3)
    lists.make(bob)
    for limit in ("1", "2", "100", "07"):
        assert lists.ids(alice, limit=limit) == ids[: int(limit)], limit


def test_it_rejects_a_bad_limit(lists: Lists, alice: Partner, bob: Partner) -> None:
    lists.make(alice)
    lists.make(bob)
    bad = ("0", "101", "abc", "", "-1", "+5", "1.5", "1e2", "20x", "true", "9" * 30, "²", "５")
    for limit in bad:
        assert "limit" in lists.error(alice, {"limit": limit}), limit


# cursor


def _retag(cursor: str) -> str:
    """The cursor re-encoded around a different id prefix: well-formed base64, forged content."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    return base64.urlsafe_b64encode(f"ptn{raw[3:]}".encode()).decode().rstrip("=")


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


TAMPERED_CURSORS = {
    "word": lambda cursor: "garbage",
    "not-base64": lambda cursor: "!!!not-base64!!!",
    "empty": lambda cursor: "",
    "one-char": lambda cursor: "0",
    "extended": lambda cursor: cursor + "AAAA",
    "truncated": lambda cursor: cursor[:-5],
    "reversed": lambda cursor: cursor[::-1],
    "other-prefix": _retag,
    "sql": lambda cursor: _encode(b"' OR 1=1 --"),
    "binary": lambda cursor: _encode(b"\xff\xfe\x00"),
}


def test_it_rejects_a_garbage_or_tampered_cursor(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    lists.make_many(alice, 2)
    lists.make(bob)
    cursor = lists.get(alice, limit=1)["next_cursor"]
    for name, tamper in TAMPERED_CURSORS.items():
        assert "cursor" in lists.error(alice, {"cursor": tamper(cursor)}), name


def test_it_rejects_a_cursor_from_the_other_list(
    companies: Lists, missions: Lists, alice: Partner, bob: Partner
) -> None:
    missions.make_many(alice, 2)  # two missions and one company
    companies.make(alice)
    missions.make(bob)
    company_cursor = companies.get(alice, limit=1)["next_cursor"]
    mission_cursor = missions.get(alice, limit=1)["next_cursor"]
    assert "cursor" in missions.error(alice, {"cursor": company_cursor})
    assert "cursor" in companies.error(alice, {"cursor": mission_cursor})


def test_another_partners_cursor_reveals_none_of_its_records(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    lists.make_many(alice, 3)
    cursor = lists.get(alice, limit=1)["next_cursor"]
    mine = lists.make(bob)["id"]
    assert lists.walk(bob, cursor=cursor) == [mine]


# Query strings


def test_it_rejects_an_unknown_query_parameter(lists: Lists, alice: Partner, bob: Partner) -> None:
    lists.make(bob)
    for name in ("page", "offset", "sort", "LIMIT", "foo", "starting_after", "limit[]"):
        assert name in lists.error(alice, {name: "1"}), name


def test_companies_reject_the_mission_filters(
    companies: Lists, alice: Partner, bob: Partner
) -> None:
    companies.make(bob)
    assert "status" in companies.error(alice, "status=private")
    assert "company_id" in companies.error(alice, "company_id=cmp_01JZZZZZZZZZZZZZZZZZZZZZZZ")


def test_it_rejects_a_repeated_query_parameter(lists: Lists, alice: Partner, bob: Partner) -> None:
    lists.make(bob)
    since = "updated_since=2020-01-01T00:00:00Z"
    for query, name in (
        ("limit=1&limit=2", "limit"),
        ("limit=5&limit=5", "limit"),
        ("external_id=a&external_id=b", "external_id"),
        (f"{since}&{since}", "updated_since"),
    ):
        assert name in lists.error(alice, query), query


def test_it_rejects_a_repeated_cursor(lists: Lists, alice: Partner, bob: Partner) -> None:
    lists.make_many(alice, 3)
    lists.make(bob)
    cursor = lists.get(alice, limit=1)["next_cursor"]
    assert "cursor" in lists.error(alice, f"cursor={cursor}&cursor={cursor}")


def test_it_names_every_bad_parameter_in_one_message(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    lists.make(bob)
    message = lists.error(alice, "limit=0&cursor=nope&bogus=1")
    assert "limit" in message
    assert "cursor" in message
    assert "bogus" in message


# external_id


def test_it_filters_by_exact_external_id(lists: Lists, alice: Partner, bob: Partner) -> None:
    wanted = lists.make(alice, external_id="ext-1")
    for other in ("ext-10", "EXT-1", "ext-", "xext-1"):
        lists.make(alice, external_id=other)
    lists.make(alice)
    lists.make(bob, external_id="ext-1")
    assert lists.get(alice, external_id="ext-1") == {"data": [wanted], "next_cursor": None}
    assert lists.ids(alice, external_id="ext") == []


def test_the_external_id_filter_only_sees_the_callers_records(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    theirs = lists.make(bob, external_id="shared-42")["id"]
    assert lists.ids(alice, external_id="shared-42") == []
    assert lists.ids(bob, external_id="shared-42") == [theirs]


def test_it_rejects_a_bad_external_id_filter(lists: Lists, alice: Partner, bob: Partner) -> None:
    lists.make(bob)
    for value in ("", "   ", "x" * 101):
        assert "external_id" in lists.error(alice, {"external_id": value}), value


# updated_since


def test_updated_since_keeps_the_records_updated_at_or_after_it(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    ids = lists.make_many(alice, 3)
    lists.make(bob)
    changed = lists.touch(alice, ids[0])
    lists.touch(bob, lists.make(bob)["id"])
    assert changed["updated_at"].endswith("Z")
    body = lists.get(alice, updated_since=changed["updated_at"])
    assert body == {"data": [changed], "next_cursor": None}


def test_a_returned_updated_at_fed_back_includes_that_record(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    records = [lists.make(alice) for _ in range(3)]
    lists.make(bob)
    for index, record in enumerate(records):
        since = record["updated_at"]
        assert lists.walk(alice, updated_since=since, limit=1) == [
            later["id"] for later in records[index:]
        ]


def test_updated_since_takes_an_offset_other_than_z(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    records = [lists.make(alice) for _ in range(3)]
    lists.make(bob)
    utc = datetime.fromisoformat(records[1]["updated_at"].replace("Z", "+00:00"))
    local = utc.astimezone(PLUS_TWO).isoformat()
    assert local.endswith("+02:00")
    expected = [record["id"] for record in records[1:]]
    assert lists.ids(alice, updated_since=local) == expected
    # A client that forgets to percent-encode the offset's '+' sends a space instead.
    response = lists.client.get(
        f"{lists.base}/{lists.kind}?updated_since={local}", headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert [record["id"] for record in response.json()["data"]] == expected


def test_updated_since_far_in_the_past_or_future(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    lists.make_many(alice, 2)
    lists.make(bob)
    for since, count in (
        ("2000-01-01T00:00:00Z", 2),
        ("2000-01-01T00:00:00.000000+14:00", 2),
        ("2000-01-01t00:00:00z", 2),  # RFC 3339 allows lower case
        ("2999-01-01T00:00:00Z", 0),
        ("2999-01-01T00:00:00-12:00", 0),
    ):
        assert len(lists.ids(alice, updated_since=since)) == count, since


def test_updated_since_pages_stay_in_creation_order(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    ids = lists.make_many(alice, 4)
    lists.make(bob)
    since = lists.touch(alice, ids[2])["updated_at"]
    lists.touch(alice, ids[0])
    lists.touch(bob, lists.make(bob)["id"])
    assert lists.walk(alice, updated_since=since, limit=1) == [ids[0], ids[2]]


def test_it_rejects_an_updated_since_without_an_offset_or_garbage(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    lists.make(bob)
    for since in (
        "2026-11-28T12:30:00",
        "2026-11-28T12:30:00.123456",
        "2026-11-28",
        "garbage",
        "",
        "1764333000",
        "2026-13-01T00:00:00Z",
        "2026-11-28T25:00:00Z",
    ):
        assert "updated_since" in lists.error(alice, {"updated_since": since}), since


# Mission filters


def test_missions_filter_by_status(
    missions: Lists, engine: Engine, alice: Partner, bob: Partner
) -> None:
    ids = missions.make_many(alice, 4)
    set_status(engine, ids[1], "live")
    set_status(engine, ids[3], "live")
    set_status(engine, ids[2], "closed")
    set_status(engine, missions.make(bob)["id"], "live")
    missions.make(bob)
    assert missions.walk(alice, status="live", limit=1) == [ids[1], ids[3]]
    assert missions.walk(alice, status="private") == [ids[0]]
    assert missions.walk(alice, status="closed") == [ids[2]]
    assert {record["status"] for record in missions.get(alice, status="live")["data"]} == {"live"}


def test_it_rejects_a_bad_status_filter(missions: Lists, alice: Partner, bob: Partner) -> None:
    missions.make(bob)
    for status in ("open", "LIVE", "", "draft", "all"):
        assert "status" in missions.error(alice, {"status": status}), status


def test_missions_filter_by_company(
    missions: Lists, companies: Lists, alice: Partner, bob: Partner
) -> None:
    first, second = companies.make(alice)["id"], companies.make(alice)["id"]
    ids = [
        create_mission(missions.client, missions.base, alice, company_id=company)["id"]
        for company in (first, second, first, second, first)
    ]
    missions.make(bob)
    assert missions.walk(alice, company_id=first, limit=2) == ids[::2]
    assert missions.walk(alice, company_id=second) == ids[1::2]


def test_a_company_filter_naming_another_partners_company_gives_an_empty_page(
    missions: Lists, alice: Partner, bob: Partner
) -> None:
    missions.make(alice)
    theirs = missions.make(bob)["company_id"]
    assert missions.get(alice, company_id=theirs) == {"data": [], "next_cursor": None}
    unknown = "cmp_01JZZZZZZZZZZZZZZZZZZZZZZZ"
    assert missions.get(alice, company_id=unknown) == {"data": [], "next_cursor": None}


def test_mission_filters_combine(
    missions: Lists, companies: Lists, engine: Engine, alice: Partner, bob: Partner
) -> None:
    client, base = missions.client, missions.base
    company, other = companies.make(alice)["id"], companies.make(alice)["id"]
    live = create_mission(client, base, alice, company_id=company, external_id="job-1")["id"]
    set_status(engine, live, "live")
    create_mission(client, base, alice, company_id=company, external_id="job-2")
    set_status(engine, create_mission(client, base, alice, company_id=other)["id"], "live")
    set_status(engine, missions.make(bob, external_id="job-1")["id"], "live")
    found = missions.ids(alice, company_id=company, status="live", external_id="job-1")
    assert found == [live]
    assert missions.ids(alice, company_id=company, status="closed") == []


# Tenancy


def test_lists_never_contain_another_partners_records(
    lists: Lists, alice: Partner, bob: Partner
) -> None:
    mine, theirs = [], []
    for _ in range(3):
        mine.append(lists.make(alice)["id"])
        theirs.append(lists.make(bob)["id"])
    since = "2000-01-01T00:00:00Z"
    for partner, ids in ((alice, mine), (bob, theirs)):
        assert lists.walk(partner) == ids
        assert lists.walk(partner, limit=2) == ids
        assert lists.walk(partner, updated_since=since, limit=1) == ids
