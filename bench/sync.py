"""The sync fidelity benchmark: `crosspath-sync` keeping 10,000 JDs in sync, on each engine.

    scripts/bench --sync                          # SQLite and PostgreSQL
    .venv/bin/python bench/sync.py --engines sqlite --jds 2000 --companies 40

For each engine, against `crosspath serve` with the default rate limit (200 requests in 10 s):

1. initial: a feed of N JDs over C companies pushed to an empty account;
2. churn: CrossPath publishes 5% of the JDs (the review service), then 10% of the feed
   changes (edits, removals of private and of published JDs, new JDs), synced;
3. re-run: the unchanged feed again, which must write nothing;
4. killed: another 10% churn, the sync SIGKILLed at a random moment, then run again;
5. comparison: every record on CrossPath against the feed.

Calls are counted from the server's access log. Results go to bench/results/<date>-sync.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fidelity
import run
import seed

from crosspath.missions.review import set_status
from crosspath.store.engine import make_engine
from crosspath.store.transaction import transaction

SYNC = str(run.VENV_BIN / "crosspath-sync")
CROSSPATH = str(run.VENV_BIN / "crosspath")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
COUNTS = ("created", "updated", "unchanged", "deleted", "closed", "failed")


@dataclass
class Phase:
    name: str
    seconds: float
    calls: dict[str, int]
    result: dict[str, Any]
    note: str = ""


@dataclass
class Account:
    url: str
    key: str
    partner_id: str
    log: Path
    database_url: str
    phases: list[Phase] = field(default_factory=list)

    def calls(self) -> list[dict[str, Any]]:
        entries = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("partner_id") == self.partner_id and "method" in entry:
                    entries.append(entry)
        return entries


# The feed


class Feed:
    def __init__(self, folder: Path, jds: int, companies: int, rng: random.Random) -> None:
        self.folder, self.rng, self.next = folder, rng, jds
        self.companies = {f"c-{i}": _company(i, rng) for i in range(companies)}
        self.missions = {f"jd-{i}": self.mission(i) for i in range(jds)}

    def mission(self, i: int) -> dict[str, Any]:
        rng = self.rng
        description = seed.jd(rng)
        if i % 3 == 0:  # markup the service rewrites: a script, a handler, a link without rel
            description += '<p onclick="x()">Apply <a href="https://jobs.example">here</a></p>'
            description += "<script>track()</script>"
        low = rng.randrange(30_000, 80_000, 1_000)
        return {
            "external_id": f"jd-{i}",
            "company_external_id": f"c-{rng.randrange(len(self.companies))}",
            "title": f" {rng.choice(seed.TITLES)} ",
            "description": description,
            "position": rng.choice(seed.POSITIONS),
            "location": rng.choice(seed.LOCATIONS),
            "languages": rng.sample(["fr", "en", "de", "es"], rng.randint(0, 2)),
            "salary": {"min": low, "max": low + 10_000, "currency": "eur", "period": "year"},
            "remote_policy": rng.choice([None, "hybrid", "remote"]),
        }

    def churn(self, share: float, published: set[str]) -> dict[str, int]:
        """Edits, removals (private and published) and new JDs: `share` of the feed in all."""
        n = int(len(self.missions) * share)
        keys = list(self.missions)
        self.rng.shuffle(keys)
        live = [k for k in keys if k in published][: n // 5]
        private = [k for k in keys if k not in published and k not in live][: n // 5]
        edits = [k for k in keys if k not in live and k not in private][: n - 3 * (n // 5)]
        for key in edits:
            line = self.missions[key]
            line["title"] = f"{line['title'].strip()} (updated {self.rng.randint(1, 10**6)})"
            line["salary"] = line["salary"] | {"max": line["salary"]["max"] + 1_000}
        for key in live + private:
            del self.missions[key]
        for _ in range(n // 5):
            self.missions[f"jd-{self.next}"] = self.mission(self.next)
            self.next += 1
        return {
            "edited": len(edits),
            "removed live": len(live),
            "removed private": len(private),
            "new": n // 5,
        }

    def write(self) -> list[str]:
        paths = []
        for name, records in (("companies", self.companies), ("missions", self.missions)):
            path = self.folder / f"{name}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in records.values()))
            paths += [f"--{name}", str(path)]
        return [*paths, "--state", str(self.folder / "state.json")]


def _company(i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "external_id": f"c-{i}",
        "name": f"Company {i}",
        "location": rng.choice(seed.LOCATIONS),
        "description": f"<p>Company {i} & partners</p>",
        "website": None,
    }


# Running the command


def sync(account: Account, feed: Feed, name: str, kill_at: int | None = None) -> Phase:
    """One run of the command; with `kill_at`, SIGKILLed once it has made that many writes."""
    args = [SYNC, "--url", account.url, *feed.write(), "--json"]
    env = os.environ | {"CROSSPATH_API_KEY": account.key}
    before = len(account.calls())
    started = time.monotonic()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while kill_at is not None and process.poll() is None:
        if sum(c["method"] in WRITES for c in account.calls()[before:]) >= kill_at:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    out, err = process.communicate()
    seconds = time.monotonic() - started
    if process.returncode not in (0, -signal.SIGKILL):
        raise SystemExit(f"crosspath-sync failed ({process.returncode}): {err.decode()}")
    time.sleep(0.5)  # the server logs a request as its answer goes out: let the last land
    calls = account.calls()[before:]
    result = json.loads(out) if process.returncode == 0 else {}
    phase = Phase(name, seconds, _count(calls), result)
    if kill_at is not None:
        finished = "it finished first" if process.returncode == 0 else "SIGKILL"
        phase.note = f"{finished} after write {kill_at} ({seconds:.1f} s)"
    account.phases.append(phase)
    print(f"  {name}: {seconds:.1f} s, {phase.calls} {phase.note}", file=sys.stderr)
    return phase


def _count(calls: list[dict[str, Any]]) -> dict[str, int]:
    def area(path: str) -> str:
        return path.removeprefix("/partners/v1/").split("/")[0]

    return {
        "calls": len(calls),
        "writes": sum(c["method"] in WRITES for c in calls),
        "missions": sum(area(c["path"]) == "missions" for c in calls),
        "companies": sum(area(c["path"]) == "companies" for c in calls),
        "events": sum(area(c["path"]) == "events" for c in calls),
        "429": sum(c["status"] == 429 for c in calls),
    }


# The scenario


def scenario(
    account: Account, folder: Path, jds: int, companies: int, rng: random.Random
) -> dict[str, Any]:
    feed = Feed(folder, jds, companies, rng)
    sync(account, feed, "initial push")
    published = publish(account, rng, share=0.05)
    churned = feed.churn(0.10, published)
    sync(account, feed, "10% churn")
    sync(account, feed, "re-run, unchanged")
    feed.churn(0.10, published)
    sync(account, feed, "killed", kill_at=rng.randint(1, account.phases[1].calls["writes"] - 1))
    sync(account, feed, "resumed")
    sync(account, feed, "re-run after resume")
    return {"churn": churned, "published": len(published)} | fidelity.compare(
        account.url, account.key, feed.companies, feed.missions, published
    )


def publish(account: Account, rng: random.Random, share: float) -> set[str]:
    """CrossPath's review: some of the partner's missions made live, as operators do."""
    engine = make_engine(account.database_url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, external_id FROM missions WHERE partner_id = ?"
            if engine.dialect.name == "sqlite"
            else "SELECT id, external_id FROM missions WHERE partner_id = %s",
            (account.partner_id,),
        ).all()
    chosen = rng.sample(rows, int(len(rows) * share))
    for mission_id, _ in chosen:
        with transaction(engine, write=True) as conn:
            set_status(conn, mission_id, "live", reason="Reviewed by CrossPath")
    engine.dispose()
    return {external_id for _, external_id in chosen}


# The service


def serve(
    engine: str, databases: run.Databases, folder: Path
) -> tuple[Account, subprocess.Popen[bytes]]:
    """`crosspath serve` on an empty database, default rate limit, and one partner's key."""
    env = os.environ | {
        "CROSSPATH_DATABASE_URL": databases.create(),
        "CROSSPATH_SECRET_KEY": seed.SECRET,
        "CROSSPATH_REDIS_URL": "",
        "CROSSPATH_LOG_LEVEL": "INFO",
    }
    for name in ("CROSSPATH_RATE_LIMIT", "CROSSPATH_RATE_LIMIT_WINDOW"):
        env.pop(name, None)  # the defaults: 200 requests in 10 seconds
    port = run.free_port()
    log = folder / f"{engine}-server.log"
    process = subprocess.Popen(
        [CROSSPATH, "serve", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = run.Server(engine, f"http://127.0.0.1:{port}", process, log)
    run.wait_ready(server)

    def crosspath(*args: str) -> Any:
        done = subprocess.run(
            [CROSSPATH, *args, "--json"], env=env, check=True, capture_output=True, text=True
        )
        return json.loads(done.stdout)

    partner = crosspath("partners", "create", "Sync Benchmark")
    key = crosspath("keys", "issue", partner["id"])["key"]
    url = env["CROSSPATH_DATABASE_URL"]
    return Account(server.url, key, partner["id"], log, url), process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--jds", type=int, default=10_000)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--seed", type=int, default=random.randrange(10**6))
    parser.add_argument("--out", type=Path, default=run.BENCH / "results")
    args = parser.parse_args()
    postgres_url = os.environ.get("CROSSPATH_BENCH_DATABASE_URL") or os.environ.get(
        "CROSSPATH_TEST_DATABASE_URL"
    )
    results: dict[str, tuple[Account, dict[str, Any]]] = {}
    for engine in args.engines.split(","):
        print(f"== {engine}: {args.jds} JDs over {args.companies} companies ==", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="crosspath-sync-bench-") as tmp:
            folder = Path(tmp)
            databases = run.Databases(engine, folder, postgres_url)
            account, process = serve(engine, databases, folder)
            try:
                rng = random.Random(args.seed)
                results[engine] = (
                    account,
                    scenario(account, folder, args.jds, args.companies, rng),
                )
            finally:
                process.terminate()
                process.wait(timeout=30)
                databases.drop_all()
    path = write(results, args)
    print(path.read_text())


def write(results: dict[str, tuple[Account, dict[str, Any]]], args: argparse.Namespace) -> Path:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        f"# crosspath-sync fidelity, {day}",
        "",
        f"{args.jds} JDs over {args.companies} companies, seed {args.seed}, "
        f"`crosspath serve` with the default rate limit (200 requests in 10 s), "
        f"{os.cpu_count()} cores. Calls counted from the server's access log.",
        "",
    ]
    for engine, (account, outcome) in results.items():
        lines += [
            f"## {engine}",
            "",
            "| run | wall time | calls | writes | missions calls | companies calls "
            "| feed calls | 429s | missions created / updated / unchanged / deleted / "
            "closed / failed | note |",
            "|" + " --- |" * 10,
        ]
        for phase in account.phases:
            m = phase.result.get("missions", {})
            counts = " / ".join(str(m.get(k, "-")) for k in COUNTS)
            c = phase.calls
            lines.append(
                f"| {phase.name} | {phase.seconds:.1f} s | {c['calls']} | {c['writes']} "
                f"| {c['missions']} | {c['companies']} | {c['events']} | {c['429']} "
                f"| {counts} | {phase.note} |"
            )
        lines += [
            "",
            "Churn: "
            + ", ".join(f"{v} {k}" for k, v in outcome["churn"].items())
            + f" (after CrossPath published {outcome['published']} JDs).",
            "",
            "Comparison of every record on CrossPath with the feed: "
            + ", ".join(f"{k}: {v}" for k, v in outcome.items() if k not in ("churn", "published"))
            + ".",
            "",
        ]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{day}-sync.md"
    path.write_text("\n".join(lines))
    return path


if __name__ == "__main__":
    main()
