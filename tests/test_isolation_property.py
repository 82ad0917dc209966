"""Tenant isolation as a property.

Two partners interleave random creates, reads, lists, patches, status changes, PUTs by
external id, batches and deletes, on both base paths, some POSTs sent with an `Idempotency-Key`
(the same few key values for both partners) and retried, while an operator publishes, closes
and reopens missions. After every step each partner's full lists equal a plain in-memory model,
and none of the other partner's ids show.

The run is at least 2,000 steps (rule executions over all examples) per engine;
CROSSPATH_STATEFUL_STEPS=10000 asks for more.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.missions.review import set_status
from crosspath.store.transaction import transaction
from tests.conftest import BASE_PATHS, Partner, error_of, make_partner
from tests.contract import (
    COMPANY_NOT_FOUND,
    COMPANY_NOT_USABLE,
    MISSION_NOT_FOUND,
    MISSION_NOT_UPDATABLE,
    ONLY_PRIVATE_DELETED,
    STATUS_NOT_LIVE,
)

STEPS = int(os.environ.get("CROSSPATH_STATEFUL_STEPS", "2000"))
STEPS_PER_EXAMPLE = 50
MAX_RECORDS = 60  # per partner and kind, so that a whole list fits one page of 100


# Single-line fields are stored trimmed; a blank optional text means null.
LINES = {"external_id", "name", "title", "website", "sector", "size", "location", "position"}
STATUSES = ["private", "live", "closed"]
EXTERNAL_IDS = [None, "", "ext-1", "ext-2", " ext-3 "]
EXTERNAL_ID_FILTERS = ["ext-1", "ext-2", "ext-3", "ext-9"]
PUT_EXTERNAL_IDS = st.sampled_from(["ext-1", "ext-2", "ext-3", "ext/4 ?&%"])
# The same few values for both partners: a key is the partner's, never the other one's.
IDEMPOTENCY_KEYS = st.none() | st.sampled_from(["key-1", "key-2", "key-3"])

COMPANY_NAMES = st.sampled_from(["Clinica Health", "  Acme Robotics  ", "Café Müller", "B"])
COMPANY_OPTIONAL = {
    "external_id": st.sampled_from(EXTERNAL_IDS),
    "website": st.sampled_from([None, "", "https://clinica.example/jobs", "http://acme.example"]),
    "description": st.sampled_from([None, "", "Hospitals in three cities.", "One\nTwo\tthree"]),
    "sector": st.sampled_from([None, "", "healthcare", "software"]),
    "size": st.sampled_from([None, "1-10", "51-200", "10001+"]),
    "location": st.sampled_from([None, "fr-paris", "FR", "de-berlin"]),
}
COMPANY_FIELDS = ["external_id", "name", *list(COMPANY_OPTIONAL)[1:]]

MISSION_REQUIRED = {
    "title": st.sampled_from(["Senior Backend Engineer", "  Nurse  ", "Data Lead"]),
    "description": st.sampled_from(
        [
            "<p>Build the booking platform.</p>",
            "<h2>Role</h2><ul><li>Python</li><li>SQL</li></ul>",
            "Plain text JD\nsecond line",
        ]
    ),
    "position": st.sampled_from(["software_engineering", "data", "design"]),
    "location": st.sampled_from(["fr-paris", "de-berlin", "us-new-york-city", "GB"]),
}
SALARIES = st.builds(
    lambda a, b, currency, period: {
        "min": min(a, b),
        "max": max(a, b),
        "currency": currency,
        "period": period,
    },
    st.integers(0, 200_000),
    st.integers(0, 200_000),
    st.sampled_from(["EUR", "usd", "GBP"]),
    st.sampled_from(["year", "month", "day", "hour"]),
)
MISSION_OPTIONAL = {
    "external_id": st.sampled_from(EXTERNAL_IDS),
    "languages": st.lists(st.sampled_from(["fr", "en", "de", "es"]), unique=True, max_size=4),
    "contract_type": st.sampled_from(
        [None, "permanent", "fixed_term", "freelance", "internship", "apprenticeship"]
    ),
    "remote_policy": st.sampled_from([None, "on_site", "hybrid", "remote"]),
    "experience_years_min": st.none() | st.integers(0, 50),
    "salary": st.none() | SALARIES,
    "openings": st.integers(1, 1000),
}
MISSION_DEFAULTS: dict[str, Any] = {
    "external_id": None,
    "languages": [],
    "contract_type": None,
    "remote_policy": None,
    "experience_years_min": None,
    "salary": None,
    "openings": 1,
    "status": "private",
}
PUT_DEFAULTS = {name: value for name, value in MISSION_DEFAULTS.items() if name != "status"}

company_bodies = st.fixed_dictionaries({"name": COMPANY_NAMES}, optional=COMPANY_OPTIONAL)
company_patches = st.fixed_dictionaries({}, optional={"name": COMPANY_NAMES, **COMPANY_OPTIONAL})
mission_bodies = st.fixed_dictionaries(MISSION_REQUIRED, optional=MISSION_OPTIONAL)
mission_patches = st.fixed_dictionaries({}, optional=MISSION_REQUIRED | MISSION_OPTIONAL)
bases = st.sampled_from(BASE_PATHS)
partners = st.sampled_from([0, 1])
# Acting as the record's owner three times in four; shrinks towards the other partner.
as_owners = st.integers(0, 3).map(bool)
once_in_four = st.integers(0, 3).map(lambda n: n == 3)
limits = st.sampled_from([1, 2, 3, 7, 100])


def stored(name: str, value: Any) -> Any:
    """The value the API keeps for a field sent as `value`."""
    if isinstance(value, str):
        value = value.strip() if name in LINES else value
        return value if value.strip() else None
    if name == "salary" and value is not None:
        return value | {"currency": value["currency"].upper()}
    return value


def stored_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {name: stored(name, value) for name, value in body.items()}


def expect_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert error_of(response) == message


def holder_of(records: dict[str, dict[str, Any]], external_id: Any, me: str = "") -> str | None:
    """Which of a partner's records, other than `me`, already holds this external_id."""
    if external_id is None:
        return None
    holders = (key for key, record in records.items() if record["external_id"] == external_id)
    return next((key for key in holders if key != me), None)


@dataclass(frozen=True)
class Ref:
    """A record created in the run, and which of the two partners owns it."""

    owner: int
    id: str


@dataclass
class StepCount:
    steps: int = 0


class TwoPartners(RuleBasedStateMachine):
    company_refs = Bundle("companies")
    mission_refs = Bundle("missions")

    def __init__(self, client: TestClient[Any], engine: Engine, count: StepCount) -> None:
        super().__init__()
        self.client, self.engine, self.count = client, engine, count
        # Two fresh partners per example: the partners of earlier examples stay behind in the
        # database as further tenants whose records must never show up either.
        self.partners: list[Partner] = [make_partner(engine, "Alice"), make_partner(engine, "Bob")]
        # Per partner: id -> the record as the API must return it, in creation order.
        self.companies: list[dict[str, dict[str, Any]]] = [{}, {}]
        self.missions: list[dict[str, dict[str, Any]]] = [{}, {}]
        # Per partner: Idempotency-Key -> ((path, body), first answer) of each 2xx POST with one.
        self.keys: list[dict[str, tuple[tuple[str, Any], httpx.Response]]] = [{}, {}]

    def call(self, method: str, base: str, who: int, path: str, **kwargs: Any) -> httpx.Response:
        headers = self.partners[who].headers | kwargs.pop("headers", {})
        return self.client.request(method, f"{base}{path}", headers=headers, **kwargs)

    def walk(self, who: int, base: str, kind: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every record of a list, following the cursors."""
        records: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = params | ({"cursor": cursor} if cursor else {})
            response = self.call("GET", base, who, f"/{kind}", params=query)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["data"]) <= int(params["limit"])
            records += page["data"]
            cursor = page["next_cursor"]
            if cursor is None:
                return records
            assert len(records) <= 2 * MAX_RECORDS, "more records than the partner has"

    def check_written(
        self, response: httpx.Response, before: dict[str, Any], changes: dict[str, Any]
    ) -> dict[str, Any]:
        """A 200 from a PATCH: every change applied, `updated_at` moved only if a value did."""
        assert response.status_code == 200, response.text
        record: dict[str, Any] = response.json()
        assert record == before | changes | {"updated_at": record["updated_at"]}
        if any(before[name] != value for name, value in changes.items()):
            assert record["updated_at"] > before["updated_at"]
        else:
            assert record["updated_at"] == before["updated_at"]
        return record

    def post(
        self, who: int, base: str, path: str, body: Any, key: str | None
    ) -> tuple[httpx.Response, bool]:
        """A POST, with an Idempotency-Key when `key` is set; True when the key answered it (a
        replay, checked here against the first answer, or the 422 of a key used for another
        request), False when it ran and the caller checks it as a new request."""
        headers = {} if key is None else {"Idempotency-Key": key}
        response = self.call("POST", base, who, path, json=body, headers=headers)
        if key is None:
            return response, False
        known = self.keys[who].get(key)
        if known is None:
            assert "idempotent-replayed" not in response.headers
            if response.is_success:
                self.keys[who][key] = ((path, body), response)
            return response, False
        request, first = known
        if request != (path, body):
            assert response.status_code == 422, response.text
            assert "Idempotency-Key" in error_of(response)
            return response, True
        assert response.status_code == first.status_code, response.text
        assert response.content == first.content
        assert response.headers.get("location") == first.headers.get("location")
        assert response.headers["idempotent-replayed"] == "true"
        return response, True

    # Companies

    @initialize(target=company_refs, bodies=st.tuples(company_bodies, company_bodies), base=bases)
    def each_partner_creates_a_company(self, bodies: tuple[dict[str, Any], ...], base: str) -> Any:
        self.count.steps += 1
        refs = [self.post_company(who, body, base) for who, body in enumerate(bodies)]
        return multiple(*(ref for ref in refs if ref is not None))

    @rule(target=company_refs, who=partners, body=company_bodies, base=bases, key=IDEMPOTENCY_KEYS)
    def create_company(self, who: int, body: dict[str, Any], base: str, key: str | None) -> Any:
        self.count.steps += 1
        if len(self.companies[who]) >= MAX_RECORDS:
            return multiple()
        ref = self.post_company(who, body, base, key)
        return multiple() if ref is None else ref

    def post_company(
        self, who: int, body: dict[str, Any], base: str, key: str | None = None
    ) -> Ref | None:
        expected = dict.fromkeys(COMPANY_FIELDS) | stored_fields(body)
        response, answered = self.post(who, base, "/companies", body, key)
        if answered:
            return None
        holder = holder_of(self.companies[who], expected["external_id"])
        if holder is not None:
            message = (
                f'external_id "{expected["external_id"]}" is already used by company {holder}.'
            )
            expect_error(response, 409, message)
            return None
        assert response.status_code == 201, response.text
        record = response.json()
        assert record["id"].startswith("cmp_")
        assert record["created_at"] == record["updated_at"]
        assert record == expected | {key: record[key] for key in ("id", "created_at", "updated_at")}
        assert response.headers["location"] == f"{base}/companies/{record['id']}"
        self.companies[who][record["id"]] = record
        return Ref(who, record["id"])

    @rule(company=company_refs, as_owner=as_owners, base=bases)
    def get_company(self, company: Ref, as_owner: bool, base: str) -> None:
        self.count.steps += 1
        who = company.owner if as_owner else 1 - company.owner
        response = self.call("GET", base, who, f"/companies/{company.id}")
        if who != company.owner:
            expect_error(response, 404, COMPANY_NOT_FOUND)
            return
        assert response.status_code == 200, response.text
        assert response.json() == self.companies[who][company.id]

    @rule(
        company=company_refs,
        as_owner=as_owners,
        patch=company_patches,
        unknown_field=once_in_four,
        base=bases,
    )
    def patch_company(
        self, company: Ref, as_owner: bool, patch: dict[str, Any], unknown_field: bool, base: str
    ) -> None:
        self.count.steps += 1
        who = company.owner if as_owner else 1 - company.owner
        body = patch | ({"nickname": "x"} if unknown_field else {})
        response = self.call("PATCH", base, who, f"/companies/{company.id}", json=body)
        if who != company.owner:  # the owner's record stays as it was: see the invariant
            expect_error(response, 404, COMPANY_NOT_FOUND)
            return
        if unknown_field:
            assert response.status_code == 400, response.text
            assert "nickname is not a known field" in error_of(response)
            return
        records = self.companies[who]
        changes = stored_fields(patch)
        holder = holder_of(records, changes.get("external_id"), me=company.id)
        if holder is not None:
            message = f'external_id "{changes["external_id"]}" is already used by company {holder}.'
            expect_error(response, 409, message)
            return
        records[company.id] = self.check_written(response, records[company.id], changes)

    # Missions

    @rule(
        target=mission_refs,
        company=company_refs,
        as_owner=as_owners,
        body=mission_bodies,
        base=bases,
        key=IDEMPOTENCY_KEYS,
    )
    def create_mission(
        self, company: Ref, as_owner: bool, body: dict[str, Any], base: str, key: str | None
    ) -> Any:
        self.count.steps += 1
        who = company.owner if as_owner else 1 - company.owner
        if len(self.missions[who]) >= MAX_RECORDS:
            return multiple()
        body = body | {"company_id": company.id}
        expected = MISSION_DEFAULTS | stored_fields(body)
        response, answered = self.post(who, base, "/missions", body, key)
        if answered:
            return multiple()
        if company.owner != who:
            expect_error(response, 400, COMPANY_NOT_USABLE)
            return multiple()
        holder = holder_of(self.missions[who], expected["external_id"])
        if holder is not None:
            message = (
                f'external_id "{expected["external_id"]}" is already used by mission {holder}.'
            )
            expect_error(response, 409, message)
            return multiple()
        assert response.status_code == 201, response.text
        record = response.json()
        assert record["id"].startswith("msn_")
        assert record["created_at"] == record["updated_at"]
        assert record == expected | {key: record[key] for key in ("id", "created_at", "updated_at")}
        assert response.headers["location"] == f"{base}/missions/{record['id']}"
        self.missions[who][record["id"]] = record
        return Ref(who, record["id"])

    @rule(mission=mission_refs, as_owner=as_owners, base=bases)
    def get_mission(self, mission: Ref, as_owner: bool, base: str) -> None:
        self.count.steps += 1
        who = mission.owner if as_owner else 1 - mission.owner
        response = self.call("GET", base, who, f"/missions/{mission.id}")
        if who != mission.owner or mission.id not in self.missions[who]:
            expect_error(response, 404, MISSION_NOT_FOUND)
            return
        assert response.status_code == 200, response.text
        assert response.json() == self.missions[who][mission.id]

    @rule(
        mission=mission_refs,
        as_owner=as_owners,
        patch=mission_patches,
        move_to=st.none() | company_refs,
        status=st.none() | st.sampled_from(STATUSES),
        base=bases,
    )
    def patch_mission(
        self,
        mission: Ref,
        as_owner: bool,
        patch: dict[str, Any],
        move_to: Ref | None,
        status: str | None,
        base: str,
    ) -> None:
        self.count.steps += 1
        if move_to is not None:
            patch = patch | {"company_id": move_to.id}
        if status is not None:
            patch = patch | {"status": status}
        who = mission.owner if as_owner else 1 - mission.owner
        self.send_mission_patch(who, mission, patch, move_to, base)

    @rule(mission=mission_refs, as_owner=as_owners, status=st.sampled_from(STATUSES), base=bases)
    def change_status(self, mission: Ref, as_owner: bool, status: str, base: str) -> None:
        self.count.steps += 1
        who = mission.owner if as_owner else 1 - mission.owner
        self.send_mission_patch(who, mission, {"status": status}, None, base)

    def send_mission_patch(
        self, who: int, mission: Ref, patch: dict[str, Any], move_to: Ref | None, base: str
    ) -> None:
        response = self.call("PATCH", base, who, f"/missions/{mission.id}", json=patch)
        records = self.missions[mission.owner]
        if who != mission.owner or mission.id not in records:  # deleted, or not the caller's
            expect_error(response, 404, MISSION_NOT_UPDATABLE)
            return
        before = records[mission.id]
        changes = stored_fields(patch)
        if move_to is not None and move_to.id != before["company_id"] and move_to.owner != who:
            expect_error(response, 400, COMPANY_NOT_USABLE)
            return
        status = changes.get("status", before["status"])
        if status != before["status"] and (before["status"], status) != ("live", "closed"):
            expect_error(response, 403, STATUS_NOT_LIVE)
            return
        holder = holder_of(records, changes.get("external_id"), me=mission.id)
        if holder is not None:
            message = f'external_id "{changes["external_id"]}" is already used by mission {holder}.'
            expect_error(response, 409, message)
            return
        records[mission.id] = self.check_written(response, before, changes)

    @rule(mission=mission_refs, status=st.sampled_from(STATUSES))
    def operator_sets_status(self, mission: Ref, status: str) -> None:
        """What `crosspath missions set-status` does: publish, close or reopen."""
        self.count.steps += 1
        records = self.missions[mission.owner]
        if mission.id not in records:  # deleted
            return
        with transaction(self.engine, write=True) as conn:
            result = msgspec.to_builtins(set_status(conn, mission.id, status))
        before = records[mission.id]
        assert result == before | {"status": status, "updated_at": result["updated_at"]}
        if status == before["status"]:
            assert result["updated_at"] == before["updated_at"]
        else:
            assert result["updated_at"] > before["updated_at"]
        records[mission.id] = result

    # PUT by external id, batches, DELETE

    @rule(
        target=mission_refs,
        company=company_refs,
        as_owner=as_owners,
        external_id=PUT_EXTERNAL_IDS,
        body=mission_bodies,
        base=bases,
    )
    def put_mission(
        self, company: Ref, as_owner: bool, external_id: str, body: dict[str, Any], base: str
    ) -> Any:
        self.count.steps += 1
        who = company.owner if as_owner else 1 - company.owner
        if len(self.missions[who]) >= MAX_RECORDS:
            return multiple()
        body = body | {"company_id": company.id, "external_id": external_id}
        path = f"/missions/by-external-id/{quote(external_id, safe='')}"
        response = self.call("PUT", base, who, path, json=body)
        answer = response.json()
        payload = error_of(response) if response.is_error else answer
        ref = self.apply_put(who, company, body, response.status_code, payload)
        if response.status_code == 201:
            assert response.headers["location"] == f"{base}/missions/{answer['id']}"
        else:
            assert "location" not in response.headers
        return multiple() if ref is None else ref

    @rule(
        target=mission_refs,
        who=partners,
        items=st.lists(
            st.tuples(PUT_EXTERNAL_IDS, mission_bodies, company_refs),
            min_size=1,
            max_size=3,
            unique_by=lambda item: item[0],
        ),
        base=bases,
        key=IDEMPOTENCY_KEYS,
    )
    def batch_missions(
        self, who: int, items: list[tuple[str, dict[str, Any], Ref]], base: str, key: str | None
    ) -> Any:
        self.count.steps += 1
        if len(self.missions[who]) + len(items) > MAX_RECORDS:
            return multiple()
        bodies = [
            body | {"company_id": company.id, "external_id": external_id}
            for external_id, body, company in items
        ]
        response, answered = self.post(who, base, "/missions/batch", {"items": bodies}, key)
        if answered:
            return multiple()
        assert response.status_code == 200, response.text
        answer = response.json()
        assert [result["external_id"] for result in answer["results"]] == [i[0] for i in items]
        refs = []
        summary = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        for (_, _, company), body, result in zip(items, bodies, answer["results"], strict=True):
            status = result["status"]
            payload = result.get("error", result.get("mission"))
            before = dict(self.missions[who])
            ref = self.apply_put(who, company, body, status, payload)
            if status >= 400:
                assert set(result) == {"external_id", "status", "error"}
                summary["failed"] += 1
            elif status == 201:
                summary["created"] += 1
            else:
                changed = before != self.missions[who]
                summary["updated" if changed else "unchanged"] += 1
            if ref is not None:
                refs.append(ref)
        assert answer["summary"] == summary
        return multiple(*refs)

    def apply_put(
        self, who: int, company: Ref, body: dict[str, Any], status: int, payload: Any
    ) -> Ref | None:
        """One PUT's answer (or a batch item's) checked against the model, and applied to it."""
        if company.owner != who:
            assert (status, payload) == (400, COMPANY_NOT_USABLE)
            return None
        records = self.missions[who]
        values = PUT_DEFAULTS | stored_fields(body)
        holder = holder_of(records, values["external_id"])
        if holder is None:
            assert status == 201, payload
            record: dict[str, Any] = payload
            fresh = {key: record[key] for key in ("id", "created_at", "updated_at")}
            assert record == MISSION_DEFAULTS | values | fresh
            assert record["created_at"] == record["updated_at"]
            records[record["id"]] = record
            return Ref(who, record["id"])
        assert status == 200, payload
        before = records[holder]
        record = payload
        assert record == before | values | {"updated_at": record["updated_at"]}
        if any(before[name] != value for name, value in values.items()):
            assert record["updated_at"] > before["updated_at"]
        else:
            assert record["updated_at"] == before["updated_at"]
        records[holder] = record
        return None

    @rule(mission=mission_refs, as_owner=as_owners, base=bases)
    def delete_mission(self, mission: Ref, as_owner: bool, base: str) -> None:
        self.count.steps += 1
        who = mission.owner if as_owner else 1 - mission.owner
        response = self.call("DELETE", base, who, f"/missions/{mission.id}")
        records = self.missions[mission.owner]
        if who != mission.owner or mission.id not in records:  # the owner's record stays
            expect_error(response, 404, MISSION_NOT_UPDATABLE)
            return
        if records[mission.id]["status"] != "private":
            expect_error(response, 409, ONLY_PRIVATE_DELETED)
            return
        assert response.status_code == 204, response.text
        del records[mission.id]

    # Lists

    @rule(who=partners, kind=st.sampled_from(["companies", "missions"]), limit=limits, base=bases)
    def list_all(self, who: int, kind: str, limit: int, base: str) -> None:
        self.count.steps += 1
        model = self.companies if kind == "companies" else self.missions
        listed = self.walk(who, base, kind, {"limit": str(limit)})
        assert listed == list(model[who].values())

    @rule(
        who=partners,
        external_id=st.none() | st.sampled_from(EXTERNAL_ID_FILTERS),
        since=st.none() | company_refs,
        limit=limits,
        base=bases,
    )
    def list_companies_filtered(
        self, who: int, external_id: str | None, since: Ref | None, limit: int, base: str
    ) -> None:
        self.count.steps += 1
        self.check_filtered(who, "companies", {"external_id": external_id}, since, limit, base)

    @rule(
        who=partners,
        status=st.none() | st.sampled_from(STATUSES),
        company=st.none() | company_refs,
        external_id=st.none() | st.sampled_from(EXTERNAL_ID_FILTERS),
        since=st.none() | mission_refs,
        limit=limits,
        base=bases,
    )
    def list_missions_filtered(
        self,
        who: int,
        status: str | None,
        company: Ref | None,
        external_id: str | None,
        since: Ref | None,
        limit: int,
        base: str,
    ) -> None:
        self.count.steps += 1
        company_id = None if company is None else company.id
        filters = {"status": status, "company_id": company_id, "external_id": external_id}
        self.check_filtered(who, "missions", filters, since, limit, base)

    def check_filtered(
        self,
        who: int,
        kind: str,
        filters: dict[str, str | None],
        since: Ref | None,
        limit: int,
        base: str,
    ) -> None:
        """A filtered list holds the model's matching records; another partner's company_id, or
        a timestamp taken from another partner's record, only ever narrows the caller's own."""
        model = self.companies if kind == "companies" else self.missions
        params = {name: value for name, value in filters.items() if value is not None}
        expected = [
            record
            for record in model[who].values()
            if all(record[name] == value for name, value in params.items())
        ]
        if since is not None and since.id in model[since.owner]:
            params["updated_since"] = model[since.owner][since.id]["updated_at"]
            expected = [r for r in expected if r["updated_at"] >= params["updated_since"]]
        params["limit"] = str(limit)
        assert self.walk(who, base, kind, params) == expected

    # After every step

    @invariant()
    def each_partner_lists_exactly_its_own_records(self) -> None:
        for who in (0, 1):
            base = BASE_PATHS[(self.count.steps + who) % 2]
            for kind, model in (("companies", self.companies), ("missions", self.missions)):
                listed = self.walk(who, base, kind, {"limit": "100"})
                assert not {record["id"] for record in listed} & set(model[1 - who])
                assert listed == list(model[who].values())


def test_partners_never_see_list_or_change_each_others_records(
    client: TestClient[Any], engine: Engine
) -> None:
    count = StepCount()
    # Hypothesis ends some examples after a few steps (stopping early is a choice it explores
    # too), so one run of N examples may fall short of N * STEPS_PER_EXAMPLE: top up.
    while count.steps < STEPS:
        before = count.steps
        missing = STEPS - count.steps
        run_state_machine_as_test(
            lambda: TwoPartners(client, engine, count),
            settings=settings(
                max_examples=math.ceil(missing / STEPS_PER_EXAMPLE),
                stateful_step_count=STEPS_PER_EXAMPLE,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
        assert count.steps > before, "the state machine ran no step at all"
    assert count.steps >= STEPS
