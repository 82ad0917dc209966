"""`crosspath-sync` as a partner runs it: a subprocess against the real server, its writes
counted in the server's access log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from crosspath_client import Client

from tests.conftest import Partner, set_status
from tests.served import SYNC, Served, served_fixture  # noqa: F401


@pytest.fixture
def partner(served: Served) -> Partner:
    return served.partner()


def company(i: int, **fields: Any) -> dict[str, Any]:
    return {"external_id": f"c-{i}", "name": f" Company {i} ", "sector": "healthcare"} | fields


def mission(i: int, company: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": f"jd-{i}",
        "company_external_id": f"c-{company}",
        "title": f"Engineer {i}",
        # Normalised by the server: the script goes, and the ampersand is escaped.
        "description": f"<p>Build <script>alert(1)</script>things & more, {i}.</p>",
        "position": "software_engineering",
        "location": "fr-paris",
        "salary": {"min": 50000, "max": 60000, "currency": "eur", "period": "year"},
    } | fields


class Feed:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.companies = folder / "companies.jsonl"
        self.missions = folder / "missions.jsonl"
        self.state = folder / "state.json"

    def write(self, companies: list[dict[str, Any]], missions: list[dict[str, Any]]) -> None:
        self.companies.write_text("".join(json.dumps(c) + "\n" for c in companies))
        self.missions.write_text("".join(json.dumps(m) + "\n" for m in missions))

    def args(self, *extra: str) -> list[str]:
        return ["--companies", str(self.companies), "--missions", str(self.missions),
                "--state", str(self.state), *extra]  # fmt: skip


@pytest.fixture
def feed(tmp_path: Path) -> Feed:
    return Feed(tmp_path)


def sync(served: Served, partner: Partner, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"CROSSPATH_API_KEY": partner.key}
    command = [SYNC, "--url", served.url, *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def sync_json(served: Served, partner: Partner, *args: str) -> dict[str, Any]:
    result = sync(served, partner, *args, "--json")
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def counts(**values: int) -> dict[str, int]:
    keys = ("created", "updated", "unchanged", "deleted", "closed", "failed")
    return {key: values.get(key, 0) for key in keys}


def missions_of(served: Served, partner: Partner) -> dict[str, dict[str, Any]]:
    with Client(served.url, partner.key) as client:
        return {
            m.external_id or "": m.__struct_config__ and _dict(m) for m in client.missions.list()
        }


def _dict(record: Any) -> dict[str, Any]:

    value: dict[str, Any] = msgspec.to_builtins(record)
    return value


def test_a_first_run_creates_everything_in_batches_and_a_second_writes_nothing(
    served: Served, partner: Partner, feed: Feed
) -> None:
    feed.write([company(i) for i in range(3)], [mission(i, i % 3) for i in range(250)])
    first = sync_json(served, partner, *feed.args())
    assert first == {"companies": counts(created=3), "missions": counts(created=250),
                     "failures": []}  # fmt: skip
    writes = served.writes(partner)
    assert [w["path"] for w in writes] == ["/partners/v1/companies/batch"] + [
        "/partners/v1/missions/batch"
    ] * 3
    assert len(served.calls(partner)) <= len(writes) + 4  # a list page per kind, the feed
    second = sync_json(served, partner, *feed.args())
    assert second == {"companies": counts(unchanged=3), "missions": counts(unchanged=250),
                      "failures": []}  # fmt: skip
    assert served.writes(partner) == writes
    stored = missions_of(served, partner)
    assert stored["jd-7"]["description"] == "<p>Build things &amp; more, 7.</p>"
    assert len(stored) == 250


def test_edits_are_updated_and_missions_gone_from_the_file_are_deleted_or_closed(
    served: Served, partner: Partner, feed: Feed
) -> None:
    feed.write([company(0), company(1)], [mission(i) for i in range(5)])
    sync_json(served, partner, *feed.args())
    stored = missions_of(served, partner)
    set_status(served.engine, stored["jd-3"]["id"], "live")
    set_status(served.engine, stored["jd-4"]["id"], "closed")
    edited = [mission(0, title="Staff Engineer"), mission(1, company=1), mission(2), mission(9)]
    feed.write([company(0, name="Renamed")], edited)
    result = sync_json(served, partner, *feed.args())
    assert result["companies"] == counts(updated=1)  # c-1 left out of the file: kept
    assert result["missions"] == counts(created=1, updated=2, unchanged=1, closed=1)
    stored = missions_of(served, partner)
    assert sorted(stored) == ["jd-0", "jd-1", "jd-2", "jd-3", "jd-4", "jd-9"]  # jd-3 closed
    assert (stored["jd-3"]["status"], stored["jd-4"]["status"]) == ("closed", "closed")
    assert stored["jd-0"]["title"] == "Staff Engineer"
    with Client(served.url, partner.key) as client:
        companies = {c.external_id: c for c in client.companies.list()}
    assert stored["jd-1"]["company_id"] == companies["c-1"].id
    assert companies["c-0"].name == "Renamed"


def test_without_a_state_file_equal_records_are_still_recognised(
    served: Served, partner: Partner, feed: Feed
) -> None:
    plain = [mission(i, description=f"<p>Plain {i}</p>") for i in range(3)]
    feed.write([company(0)], plain)
    args = ["--companies", str(feed.companies), "--missions", str(feed.missions)]
    assert sync_json(served, partner, *args)["missions"] == counts(created=3)
    writes = len(served.writes(partner))
    assert sync_json(served, partner, *args)["missions"] == counts(unchanged=3)
    assert len(served.writes(partner)) == writes


def test_a_line_that_is_not_a_record_is_reported_with_its_number(
    served: Served, partner: Partner, feed: Feed
) -> None:
    feed.write([company(0)], [mission(0)])
    with feed.missions.open("a") as file:
        file.write("{not json\n")
        file.write(json.dumps({"external_id": "jd-5", "title": "No company"}) + "\n")
        file.write(json.dumps(mission(6) | {"external_id": "x" * 101}) + "\n")
    result = sync(served, partner, *feed.args(), "--json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    errors = [failure["error"] for failure in document["failures"]]
    assert errors[0].startswith("missions file line 2: not valid JSON")
    assert errors[1] == (
        "missions file line 3: description is required; position is required; "
        "location is required; company_external_id is required"
    )
    assert document["failures"][1]["external_id"] == "jd-5"
    assert errors[2] == (
        "missions file line 4: external_id must be at most 100 characters, without control "
        "characters"
    )
    assert document["missions"] == counts(created=1, failed=3)


def test_a_dry_run_writes_nothing_and_prints_the_plan(
    served: Served, partner: Partner, feed: Feed
) -> None:
    feed.write([company(0)], [mission(i) for i in range(8)])
    result = sync(served, partner, *feed.args(), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "missions: create 8: jd-0, jd-1, jd-2, jd-3, jd-4, ..." in result.stdout
    assert "missions: 8 to create, 0 to update, 0 unchanged, 0 to delete, 0 to close" in (
        result.stdout
    )
    assert served.writes(partner) == []
    assert not feed.state.exists()
    planned = sync_json(served, partner, *feed.args(), "--dry-run")
    assert planned["missions"] == counts(created=8)
    assert served.writes(partner) == []


def test_refused_items_are_listed_with_their_message_and_the_exit_status_is_1(
    served: Served, partner: Partner, feed: Feed
) -> None:
    feed.write([company(0)], [mission(0), mission(1, position="astronaut"), mission(2, company=7)])
    result = sync(served, partner, *feed.args())
    assert result.returncode == 1
    assert "missions: 1 created, 0 updated, 0 unchanged, 0 deleted, 0 closed, 2 failed" in (
        result.stdout
    )
    assert '  jd-1: position "astronaut" is not an accepted value' in result.stdout
    assert (
        "  jd-2: This company does not exist or you don't have the permission to use it."
        in result.stdout
    )
    fixed = sync_json(served, partner, *feed.args())  # refused lines are tried again
    assert fixed["missions"]["failed"] == 2
    assert fixed["missions"]["unchanged"] == 1


def test_a_run_killed_mid_way_is_finished_by_the_next_without_a_duplicate(
    served: Served, partner: Partner, feed: Feed
) -> None:
    lines = [mission(i, i % 4) for i in range(700)]
    feed.write([company(i) for i in range(4)], lines)
    env = os.environ | {"CROSSPATH_API_KEY": partner.key}
    process = subprocess.Popen([SYNC, "--url", served.url, *feed.args()], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        batches = [w for w in served.writes(partner) if w["path"].endswith("/missions/batch")]
        if len(batches) >= 2:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "killed before it could finish"
    stored = missions_of(served, partner)
    assert 0 < len(stored) < 700
    resumed = sync_json(served, partner, *feed.args())
    assert resumed["failures"] == []
    assert resumed["missions"]["created"] + resumed["missions"]["unchanged"] == 700
    assert resumed["missions"]["created"] <= 700 - len(stored)
    stored = missions_of(served, partner)
    assert sorted(stored) == sorted(line["external_id"] for line in lines)
    assert all(stored[f"jd-{i}"]["title"] == f"Engineer {i}" for i in range(700))
    writes = len(served.writes(partner))
    again = sync_json(served, partner, *feed.args())
    assert again["missions"] == counts(unchanged=700)
    assert len(served.writes(partner)) == writes


def test_the_url_may_name_the_base_path_and_the_key_is_required(
    served: Served, partner: Partner, feed: Feed
) -> None:
    feed.write([company(0)], [])
    env = {k: v for k, v in os.environ.items() if k != "CROSSPATH_API_KEY"}
    missing = subprocess.run([SYNC, "--url", served.url, *feed.args()], env=env,
                             capture_output=True, text=True)  # fmt: skip
    assert missing.returncode == 2
    assert "CROSSPATH_API_KEY" in missing.stderr
    no_scheme = sync(served, partner, *feed.args()[:2], "--url", served.url.removeprefix("http://"))
    assert no_scheme.returncode == 2
    assert "must start with http:// or https://" in no_scheme.stderr
    result = sync_json(served, partner, "--url", f"{served.url}/partners/v1", *feed.args()[:2])
    assert result["companies"] == counts(created=1)


def test_with_a_state_file_a_later_run_reads_only_the_change_feed(
    served: Served, partner: Partner, feed: Feed
) -> None:
    feed.write([company(0)], [mission(i) for i in range(150)])
    sync_json(served, partner, *feed.args())
    stored = missions_of(served, partner)
    before = len(served.calls(partner))
    set_status(served.engine, stored["jd-5"]["id"], "live")  # seen through the feed
    feed.write([company(0)], [mission(i) for i in range(150) if i != 5])
    result = sync_json(served, partner, *feed.args())
    assert result["missions"] == counts(unchanged=149, closed=1)
    later = served.calls(partner)[before:]
    assert [(c["method"], c["path"]) for c in later] == [
        ("GET", "/partners/v1/events"),
        ("GET", "/partners/v1/events"),  # 152 events: two pages
        ("PATCH", f"/partners/v1/missions/{stored['jd-5']['id']}"),
    ]


def test_progress_is_shown_on_a_terminal_only(served: Served, partner: Partner, feed: Feed) -> None:
    import pty

    feed.write([company(0)], [mission(i) for i in range(3)])
    leader, follower = pty.openpty()
    env = os.environ | {"CROSSPATH_API_KEY": partner.key}
    with subprocess.Popen([SYNC, "--url", served.url, *feed.args()], env=env,
                          stdout=subprocess.PIPE, stderr=follower) as process:  # fmt: skip
        os.close(follower)
        out, _ = process.communicate(timeout=120)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    os.close(leader)
    assert b"\rmissions: 3/3 written" in shown
    assert b"written" not in out  # stdout is a pipe: the summary only
    assert b"missions: 3 created" in out


def test_a_state_file_whose_cursor_the_service_does_not_know_falls_back_to_listing(
    served: Served, partner: Partner, feed: Feed
) -> None:
    feed.write([company(0)], [mission(i) for i in range(3)])
    sync_json(served, partner, *feed.args())
    state = json.loads(feed.state.read_text())
    state["cursor"] = "bm90IGEgY3Vyc29y"
    feed.state.write_text(json.dumps(state))
    before = len(served.calls(partner))
    assert sync_json(served, partner, *feed.args())["missions"] == counts(unchanged=3)
    paths = {call["path"] for call in served.calls(partner)[before:]}
    assert {"/partners/v1/companies", "/partners/v1/missions"} <= paths
    assert "cursor" in json.loads(feed.state.read_text())
    assert json.loads(feed.state.read_text())["cursor"] != "bm90IGEgY3Vyc29y"
