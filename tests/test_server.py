"""The real server: `crosspath serve` as operators start it, several workers, real HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

CROSSPATH = str(Path(sys.executable).with_name("crosspath"))


@dataclass
class Server:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(database_url: str, *args: str, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    environment = (
        os.environ
        | {
            "CROSSPATH_RATE_LIMIT": "100000",
            "CROSSPATH_DATABASE_URL": database_url,
            "CROSSPATH_SECRET_KEY": "server-test-secret-" + "y" * 32,
        }
        | (env or {})
    )
    process = subprocess.Popen(
        [CROSSPATH, "serve", "--port", str(port), *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group, so a test can kill every worker
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)  # asked often: a start is a second or two, waited for by many tests
    else:
        process.kill()
        raise AssertionError("the server did not start")
    return Server(url, environment, process)


def stop(server: Server) -> str:
    server.process.terminate()
    try:
        out, _ = server.process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        out, _ = server.process.communicate()
    return out


def test_serve_demo_prints_a_key_and_a_curl_line_that_works(empty_database_url: str) -> None:
    server = start(empty_database_url, "--demo")
    banner = stop(server)
    key = re.search(r"Recruitment-[A-Za-z0-9]{32}", banner)
    assert key is not None, banner
    assert re.search(
        r"curl -H 'Authorization: Apikey Recruitment-\w{32}' http://\S+/partners/v1/", banner
    )
    server = start(empty_database_url)  # the same database, served again: the key is still valid
    try:
        headers = {"Authorization": f"Apikey {key.group()}"}
        missions = httpx.get(f"{server.url}/partners/v1/missions", headers=headers).json()
        companies = httpx.get(f"{server.url}/partners/v1/companies", headers=headers).json()
        assert len(missions["data"]) == 2
        assert len(companies["data"]) == 2
        assert {m["status"] for m in missions["data"]} == {"private"}
    finally:
        stop(server)


def issue_key(server: Server, name: str) -> dict[str, str]:
    def run(*args: str) -> str:
        return subprocess.run(
            [CROSSPATH, *args, "--json"], env=server.env, capture_output=True, text=True, check=True
        ).stdout

    import json

    partner = json.loads(run("partners", "create", name))
    key = json.loads(run("keys", "issue", partner["id"]))
    return {"Authorization": f"Apikey {key['key']}"}


def mission(company_id: str, external_id: str) -> dict[str, object]:
    return {
        "company_id": company_id,
        "external_id": external_id,
        "title": "Backend Engineer",
        "description": "<p>Build things.</p>",
        "position": "software_engineering",
        "location": "FR",
    }


def test_several_workers_writing_at_once_never_fail_or_lose_a_write(
    empty_database_url: str,
) -> None:
    server = start(empty_database_url, "--workers", "3")
    try:
        partners = [issue_key(server, "Alice"), issue_key(server, "Bob")]

        def sync_one_company(i: int) -> list[int]:
            headers = partners[i % 2]
            with httpx.Client(
                base_url=f"{server.url}/partners/v1", headers=headers, timeout=60
            ) as http:
                company = http.post(
                    "/companies", json={"name": f"Company {i}", "external_id": f"c-{i}"}
                )
                statuses = [company.status_code]
                for j in range(4):
                    created = http.post(
                        "/missions", json=mission(company.json()["id"], f"m-{i}-{j}")
                    )
                    patched = http.patch(
                        f"/missions/{created.json()['id']}", json={"openings": j + 2}
                    )
                    statuses += [created.status_code, patched.status_code]
                return statuses

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = [code for codes in pool.map(sync_one_company, range(24)) for code in codes]
        assert len(statuses) == 24 * 9
        assert all(code in (200, 201) for code in statuses), sorted(set(statuses))

        with httpx.Client(base_url=f"{server.url}/partners/v1", timeout=60) as http:
            for headers, parity in zip(partners, (0, 1), strict=True):
                missions = http.get("/missions", params={"limit": 100}, headers=headers).json()[
                    "data"
                ]
                expected = {f"m-{i}-{j}" for i in range(parity, 24, 2) for j in range(4)}
                assert {m["external_id"] for m in missions} == expected
                assert all(m["openings"] == int(m["external_id"][-1]) + 2 for m in missions)
    finally:
        stop(server)


def test_racing_creates_with_one_external_id_make_exactly_one_record(
    empty_database_url: str,
) -> None:
    server = start(empty_database_url, "--workers", "3")
    try:
        headers = issue_key(server, "Alice")

        def create(_: int) -> int:
            body = {"name": "Same company", "external_id": "race"}
            url = f"{server.url}/partners/v1/companies"
            return httpx.post(url, json=body, headers=headers, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = sorted(pool.map(create, range(8)))
        assert codes == [201] + [409] * 7
    finally:
        stop(server)


def test_concurrent_patches_of_the_same_missions_lose_no_update(empty_database_url: str) -> None:
    server = start(empty_database_url, "--workers", "3")
    try:
        headers = issue_key(server, "Alice")
        with httpx.Client(
            base_url=f"{server.url}/partners/v1", headers=headers, timeout=60
        ) as http:
            company = http.post("/companies", json={"name": "Clinica"}).json()["id"]
            ids = [
                http.post("/missions", json=mission(company, f"m-{i}")).json()["id"]
                for i in range(6)
            ]
        # Each client sets a different field of every mission, all at the same time.
        edits = {
            "title": "Staff Engineer",
            "openings": 7,
            "experience_years_min": 4,
            "remote_policy": "remote",
            "contract_type": "freelance",
            "languages": ["de", "en"],
            "salary": {"min": 1, "max": 2, "currency": "EUR", "period": "day"},
            "description": "<p>Updated JD.</p>",
        }

        def patch(field: str) -> list[int]:
            with httpx.Client(
                base_url=f"{server.url}/partners/v1", headers=headers, timeout=60
            ) as http:
                return [
                    http.patch(f"/missions/{i}", json={field: edits[field]}).status_code
                    for i in ids
                ]

        with ThreadPoolExecutor(max_workers=len(edits)) as pool:
            statuses = [code for codes in pool.map(patch, edits) for code in codes]
        assert statuses == [200] * len(edits) * len(ids)
        with httpx.Client(
            base_url=f"{server.url}/partners/v1", headers=headers, timeout=60
        ) as http:
            for mission_id in ids:
                stored = http.get(f"/missions/{mission_id}").json()
                assert {field: stored[field] for field in edits} == edits
    finally:
        stop(server)
