"""The benchmark: the app against the bare reference, in one run, on the same machine.

    scripts/bench                        # full run: SQLite, and PostgreSQL (a throwaway cluster)
    scripts/bench --smoke                # a few seconds: proves the benchmark still works
    .venv/bin/python bench/run.py --help

For each engine it seeds a database (bench/seed.py), starts the app and the bare reference
(bench/bare.py) under the same server, one worker each, pinned to core 0 (with scripts/bench's
throwaway PostgreSQL), checks that they do the same work, and loads them with `wrk -t1 -c64`
pinned to core 1 (bench/load.lua), each scenario after a warm-up, every wrk invocation with
its own seed (`--seed` repeats a run's request sequences). Every figure
that depends on the machine is printed next to a ratio measured in the same run, since the
absolute numbers move with whatever else the machine is doing. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import seed

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = Path(sys.executable).parent
LOAD = BENCH / "load.lua"
ENGINES = ("sqlite", "postgresql")
SCENARIOS = ("list", "get", "create", "patch", "mixed", "batch")
BATCH_SIZE = 100  # missions in each request of the batch scenario (bench/load.lua's BATCH)
# A batch of 100 new missions takes the one worker a few hundred milliseconds: two connections
# keep it busy (one batch waits while the other is answered) without a queue longer than wrk's
# timeout. Its single creates get the create scenario's connections.
BATCH_CONNECTIONS = 2
BATCH_MIN_SECONDS = 3  # measured: a few answers even in a smoke run's one second
TARGETS = {"list": 0.8, "create": 0.7}
GROWTH_TARGET = 1.2
TAIL_TARGET = 4.0
RSS_TARGET_MB = 100


# The machine


def cores() -> tuple[list[str], list[str]]:
    """taskset prefixes for the servers and for the load generator (none on one core)."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return [], []
    return ["taskset", "-c", "0"], ["taskset", "-c", "1"]


def postgres_cores(postgres_url: str) -> set[int] | None:
    """The cores the PostgreSQL server's processes may run on (a backend's affinity, which it
    inherits from the server), or None when that server is not a process of this machine."""
    import psycopg

    with psycopg.connect(seed.postgres_conninfo(postgres_url), autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        pid = int(row[0]) if row else 0
        if _read(f"/proc/{pid}/comm").strip() != "postgres":
            return None  # another machine's (or another container's) process
        try:
            return os.sched_getaffinity(pid)
        except OSError:
            return None


def describe_postgres_cores(cpus: set[int] | None) -> str:
    if cpus is None:
        return "PostgreSQL server not on this machine: not pinned by the benchmark"
    where = f"core{'s' if len(cpus) > 1 else ''} {','.join(str(cpu) for cpu in sorted(cpus))}"
    servers, generator = cores()
    if not servers:
        return f"PostgreSQL server on {where} (no pinning)"
    if cpus == {int(servers[-1])}:
        return f"PostgreSQL server on {where}, with the servers under test"
    if int(generator[-1]) in cpus:
        return f"PostgreSQL server on {where}: it takes from the load generator's core"
    return f"PostgreSQL server on {where}"


def machine() -> dict[str, str]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )  # fmt: skip
    memory = next(
        (int(line.split()[1]) // 1024 // 1024 for line in _read("/proc/meminfo").splitlines()
         if line.startswith("MemTotal")),
        0,
    )  # fmt: skip
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{memory} GiB",
        "load average at start": " ".join(_read("/proc/loadavg").split()[:3]),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "wrk": _wrk_version(),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _wrk_version() -> str:
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (result.stdout + result.stderr).split("\n", 1)[0].strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Databases


class Databases:
    """Empty databases and copies of seeded ones: SQLite files, or PostgreSQL databases."""

    def __init__(self, engine: str, folder: Path, postgres_url: str | None) -> None:
        self.engine = engine
        self.folder = folder
        self.postgres_url = postgres_url
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"bench_{len(self.created)}_{os.getpid()}"
        if self.engine == "sqlite":
            path = self.folder / f"{name}.db"
            if template is not None:
                shutil.copy(template.removeprefix("sqlite:///"), path)
            url = f"sqlite:///{path}"
        else:
            from sqlalchemy import make_url

            copy = f" TEMPLATE {make_url(template).database}" if template else ""
            self._admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}{copy}")
            url = make_url(self.postgres_url).set(database=name).render_as_string(False)
        self.created.append(url)
        return url

    def drop_all(self) -> None:
        if self.engine == "postgresql":
            from sqlalchemy import make_url

            names = [make_url(url).database for url in self.created]
            self._admin(*(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in names))

    def _admin(self, *statements: str) -> None:
        import psycopg

        conninfo = seed.postgres_conninfo(self.postgres_url or "")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[call-overload]


# Servers


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    data: Path = Path()
    database_url: str = ""

    def worker_pid(self) -> int:
        """The process running the app: granian's worker child, or uvicorn itself."""
        children = _children(self.process.pid)
        return children[0] if children else self.process.pid

    def cpu_seconds(self) -> float:
        """CPU time of the worker so far, user and system."""
        return _cpu_seconds(self.worker_pid())

    def rss_mb(self) -> float:
        status = _read(f"/proc/{self.worker_pid()}/status")
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")


def _cpu_seconds(pid: int | str) -> float:
    fields = _read(f"/proc/{pid}/stat").rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def postgres_cpu_seconds() -> float | None:
    """CPU time so far of this machine's PostgreSQL processes, or None when none runs here."""
    pids = [p.name for p in Path("/proc").iterdir() if p.name.isdigit()]
    found = [pid for pid in pids if _read(f"/proc/{pid}/comm").strip() == "postgres"]
    return sum(_cpu_seconds(pid) for pid in found) if found else None


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in _read(str(task)).split()]
    return found


def server_command(server: str, target: str, port: int) -> list[str]:
    """The same server and options for the app and the bare reference."""
    factory = target.endswith("create_app")
    if server == "granian":
        # What `crosspath serve` runs: ASGI, one worker, granian's own logs off.
        return [str(VENV_BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", "1", "--no-log",
                *(["--factory"] if factory else []), target]  # fmt: skip
    return [str(VENV_BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--http", "httptools", "--no-access-log", "--log-level", "warning",
            *(["--factory"] if factory else []), target]  # fmt: skip


def start(name: str, server: str, target: str, env: dict[str, str], folder: Path) -> Server:
    port = free_port()
    log = folder / f"{name}.log"
    process = subprocess.Popen(
        [*cores()[0], *server_command(server, target, port)],
        env=os.environ | {"PYTHONPATH": str(BENCH)} | env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    server.database_url = env.get("CROSSPATH_DATABASE_URL", "")
    return server


def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not start; see {server.log}:\n{_tail(server.log)}")


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def _tail(path: Path) -> str:
    return "\n".join(_read(str(path)).splitlines()[-20:])


# Load


@dataclass
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    rss_mb: float = float("nan")
    cpu_us: float = float("nan")  # the server worker's CPU time per request
    database_cpu_us: float = float("nan")  # PostgreSQL's, when it runs on this machine
    all_created: int = 0  # batch answers whose summary says all their missions were created


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> Load:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    batches = re.search(r"^Batches: (\d+) all created, (\d+) not$", output, re.MULTILINE)
    if rate is None or total is None:
        raise RuntimeError(f"wrk gave no result:\n{output}")
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    result = Load(float(rate.group(1)), latency("50"), latency("99"), errors, int(total.group(1)))
    if batches:
        # A 200 whose summary is not all created is an error too (non_2xx counted the others).
        result.all_created = int(batches.group(1))
        result.errors += (
            result.requests - result.all_created - (int(non_2xx.group(1)) if non_2xx else 0)
        )
    return result


@dataclass
class Settings:
    duration: int
    warmup: int
    connections: int
    profile_folder: Path | None = None
    profile_prefix: str = ""
    seed: int = 0
    runs: int = 0


def invocation_seed(seed_value: int, run: int, phase: str) -> int:
    """The seed of one wrk invocation: a function of the run's seed, the run's number and the
    phase (warm-up or measured), so that no two invocations send the same request sequence and
    the same `--seed` sends the same sequences again."""
    return random.Random(f"{seed_value}/{run}/{phase}").randrange(2**32)


def load(settings: Settings, server: Server, scenario: str, profile: str | None = None) -> Load:
    settings.runs += 1

    def wrk(seconds: int, phase: str) -> list[str]:
        # The tag keeps created external ids apart (one database serves several invocations);
        # the seed makes this invocation's request sequence its own.
        tag = f"r{settings.runs}{phase}"
        seed_value = invocation_seed(settings.seed, settings.runs, phase)
        connections = BATCH_CONNECTIONS if scenario == "batch" else settings.connections
        return [*cores()[1], "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
                "--timeout", "10s", "--latency", "-s", str(LOAD), server.url, "--",
                scenario, str(server.data), tag, str(seed_value)]  # fmt: skip

    if settings.warmup:
        subprocess.run(wrk(settings.warmup, "w"), check=True, capture_output=True)
    sampler = None
    if profile and settings.profile_folder is not None:
        sampler = subprocess.Popen(
            [sys.executable, str(BENCH / "profiling.py"), str(server.worker_pid()),
             str(max(settings.duration - 1, 1))],
            stdout=(settings.profile_folder / f"{settings.profile_prefix}{profile}.txt").open("w"),
        )  # fmt: skip
    seconds = (
        max(settings.duration, BATCH_MIN_SECONDS) if scenario == "batch" else settings.duration
    )
    database = postgres_cpu_seconds if server.database_url.startswith("postgresql") else None
    cpu, database_cpu = server.cpu_seconds(), database() if database else None
    output = subprocess.run(wrk(seconds, "m"), check=True, capture_output=True, text=True)
    cpu = server.cpu_seconds() - cpu
    database_cpu = _minus(database() if database else None, database_cpu)
    if sampler is not None:
        sampler.wait()
    result = parse_wrk(output.stdout)
    if result.requests:
        result.cpu_us = cpu / result.requests * 1e6
        if database_cpu is not None:
            result.database_cpu_us = database_cpu / result.requests * 1e6
    result.rss_mb = server.rss_mb()
    if scenario == "batch":
        check_batches_stored(server, f"r{settings.runs}m", result)
    return result


def check_batches_stored(server: Server, tag: str, result: Load) -> None:
    """The missions of the measured run's batches are in the app's database: at least 100 for
    every answer that said so (more when wrk stopped before reading the last answers)."""
    stored = missions_tagged(server.database_url, tag)
    if stored < BATCH_SIZE * result.all_created or (result.requests and not stored):
        raise RuntimeError(
            f"{server.name}: {result.all_created} batches answered all created, but only "
            f"{stored} of their missions are in the database"
        )
    log(f"  batches: {result.all_created} answers all created, {stored:,} missions stored")


def missions_tagged(database_url: str, tag: str) -> int:
    """How many missions carry an external id of this wrk invocation (bench/load.lua's
    `TAG-THREAD-N`)."""
    query = "SELECT count(*) FROM missions WHERE external_id LIKE ?"
    pattern = f"{tag}-%"
    if database_url.startswith("sqlite"):
        import sqlite3

        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path, timeout=30) as conn:
            row = conn.execute(query, (pattern,)).fetchone()
    else:
        import psycopg

        with psycopg.connect(seed.postgres_conninfo(database_url), autocommit=True) as conn:
            row = conn.execute(query.replace("?", "%s"), (pattern,)).fetchone()  # type: ignore[call-overload]
    return int(row[0]) if row else 0


def _minus(after: float | None, before: float | None) -> float | None:
    return after - before if after is not None and before is not None else None


def median(results: list[Load]) -> Load:
    return Load(
        statistics.median(r.requests_per_s for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.errors for r in results),
        sum(r.requests for r in results),
        max(r.rss_mb for r in results),
        cpu_us=statistics.median(r.cpu_us for r in results),
        database_cpu_us=statistics.median(r.database_cpu_us for r in results),
    )


# One engine


@dataclass
class EngineResult:
    engine: str
    rows: int
    growth_rows: int
    seed_seconds: dict[int, float]
    app: dict[str, Load] = field(default_factory=dict)
    bare: dict[str, Load] = field(default_factory=dict)
    extra: dict[str, Load] = field(default_factory=dict)
    growth: dict[int, Load] = field(default_factory=dict)
    datapath: list[tuple[str, float, float]] = field(default_factory=list)
    single_creates: Load | None = None  # the batch scenario's single creates, beside its batches
    database_cores: str = ""  # where PostgreSQL ran, as the report says it


def write_data(seeded: seed.Seeded, path: Path) -> None:
    """The Lua data file of bench/load.lua: key, ids, and JDs for the bodies of new missions."""
    rng = random.Random(7)

    def strings(items: list[str]) -> str:
        return "{" + ", ".join(json.dumps(item) for item in items) + "}"

    descriptions = "{" + ", ".join(f"[==[{seed.jd(rng)}]==]" for _ in range(32)) + "}"
    missions = load_mission_ids(seeded)
    path.write_text(
        f"return {{key={json.dumps(seeded.key)}, companies={strings(seeded.company_ids)}, "
        f"missions={strings(missions)}, descriptions={descriptions}}}\n"
    )


# The same-work check

BARE_SCENARIOS = ("list", "create")  # the scenarios also loaded on the bare contenders
PATH = "/partners/v1/missions"
VOLATILE = ("id", "created_at", "updated_at")  # a new mission's differ from server to server
MISSION_ID = re.compile(r"msn_[0-9A-HJKMNP-TV-Z]{26}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
UNSAFE = (
    '<p onclick="steal()">Apply <a href="javascript:steal()">here</a> or '
    '<a href="https://example.com/jobs" target="_blank">there</a>.</p>'
    "<script>steal()</script><img src=x onerror=steal()><style>p{}</style>"
)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    location: str | None = None


@dataclass(frozen=True)
class Probe:
    """One request of the check, sent alike to the app and to each bare contender.

    `compare`: "same" (status and body equal), "created" (a new mission: equal but for its id
    and timestamps, which must still have the app's shape), "new" (a page of new missions,
    compared the same way) or "refused" (the same error status, an `{"error": ...}` body).
    """

    scenario: str
    what: str
    method: str
    path: str
    status: int  # what the app must answer, so that two equal failures do not pass
    compare: str = "same"
    body: dict[str, Any] | None = None
    key: str | None = ""  # "": the seeded partner's key; None: no Authorization header


def cursor_of(mission_id: str) -> str:
    """A list cursor, encoded as the app (and bench/load.lua) encode it."""
    return base64.urlsafe_b64encode(mission_id.encode()).decode().rstrip("=")


def load_mission_ids(seeded: seed.Seeded) -> list[str]:
    """The mission ids handed to bench/load.lua (its get and patch ids, its list cursors)."""
    # Pages after the last 20 missions would be short: leave those out of the cursors.
    return seeded.mission_ids[:-2] or seeded.mission_ids


def load_body(seeded: seed.Seeded, external_id: str) -> dict[str, Any]:
    """A new mission shaped like bench/load.lua's, its JD with markup the sanitiser removes."""
    return {
        "external_id": external_id, "company_id": seeded.company_ids[0],
        "title": "  Senior Backend Engineer 1  ",
        "description": UNSAFE + seed.jd(random.Random(11)),
        "position": "software_engineering", "location": "fr-paris", "languages": ["fr", "en"],
        "contract_type": "permanent", "remote_policy": "hybrid", "experience_years_min": 3,
        "salary": {"min": 55000, "max": 70000, "currency": "EUR", "period": "year"},
        "openings": 1,
    }  # fmt: skip


def same_work_probes(seeded: seed.Seeded, next_cursor: str) -> list[Probe]:
    """The requests of every scenario loaded on the bare reference, and its refusals."""
    ids = load_mission_ids(seeded)
    body = load_body(seeded, "check-load")
    salary = body["salary"]
    required = {name: body[name] for name in ("company_id", "title", "position", "location")}
    required["description"] = "<p>Checks <b>things</b>.</p>"

    def changed(**fields: Any) -> dict[str, Any]:
        return body | {"external_id": "check-refused"} | fields

    after_newest = f"{PATH}?cursor={cursor_of(seeded.last_mission_id)}"
    return [
        Probe("list", "the first page", "GET", PATH, 200),
        *(Probe("list", f"the page after load cursor {n}", "GET",
                f"{PATH}?cursor={cursor_of(ids[n])}", 200)
          for n in sorted({len(ids) // 3, 2 * len(ids) // 3})),
        Probe("list", "the page the first page's next_cursor names", "GET",
              f"{PATH}?cursor={next_cursor}", 200),
        Probe("list", "a cursor naming no mission", "GET",
              f"{PATH}?cursor={cursor_of('msn_not-an-id')}", 400, "refused"),
        Probe("list", "no API key", "GET", PATH, 401, "refused", key=None),
        Probe("list", "an unknown API key", "GET", PATH, 401, "refused",
              key="Recruitment-" + "0" * 32),
        Probe("create", "a mission as the load sends it", "POST", PATH, 201, "created", body),
        Probe("create", "only the required fields", "POST", PATH, 201, "created", required),
        Probe("create", "a taken external_id", "POST", PATH, 409, "refused", body),
        Probe("create", "an unknown field", "POST", PATH, 400, "refused", changed(colour="blue")),
        Probe("create", "a value outside an enum", "POST", PATH, 400, "refused",
              changed(remote_policy="sometimes")),
        Probe("create", "salary.min above salary.max", "POST", PATH, 400, "refused",
              changed(salary=salary | {"min": 80000})),
        Probe("create", "a currency that is not ISO 4217", "POST", PATH, 400, "refused",
              changed(salary=salary | {"currency": "ZZZ"})),
        Probe("create", "a reference code not accepted", "POST", PATH, 400, "refused",
              changed(location="xx-nowhere")),
        Probe("create", "a company that is not the partner's", "POST", PATH, 400, "refused",
              changed(company_id="cmp_" + "0" * 26)),
        Probe("create", "the new missions read back (the page after the newest seeded one)",
              "GET", after_newest if seeded.last_mission_id else PATH, 200, "new"),
        Probe("create", "no API key", "POST", PATH, 401, "refused", body, key=None),
    ]  # fmt: skip


def ask(server: Server, probe: Probe, key: str) -> Answer:
    headers = {"Content-Type": "application/json"}
    if probe.key is not None:
        headers["Authorization"] = f"Apikey {probe.key or key}"
    data = None if probe.body is None else json.dumps(probe.body).encode()
    request = urllib.request.Request(
        f"{server.url}{probe.path}", data=data, headers=headers, method=probe.method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text, status, location = response.read(), response.status, response.headers["Location"]
    except urllib.error.HTTPError as error:
        with error:
            text, status, location = error.read(), error.code, None
    try:
        return Answer(status, json.loads(text), location)
    except ValueError:
        return Answer(status, text.decode(errors="replace"), location)


def differences(path: str, app: Any, bare: Any) -> list[str]:
    """Where two JSON values differ, field by field."""
    if isinstance(app, dict) and isinstance(bare, dict):
        found = []
        for name in [*app, *(name for name in bare if name not in app)]:
            if name not in bare or name not in app:
                found.append(f"{path}.{name}: only in the {'app' if name in app else 'bare'}")
            else:
                found += differences(f"{path}.{name}", app[name], bare[name])
        return found
    if isinstance(app, list) and isinstance(bare, list) and len(app) == len(bare):
        pairs = enumerate(zip(app, bare, strict=True))
        return [d for n, (a, b) in pairs for d in differences(f"{path}[{n}]", a, b)]
    if app == bare and type(app) is type(bare):
        return []
    return [f"{path or 'body'}: app {_short(app)}, bare {_short(bare)}"]


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else f"{text[:60]}… ({len(text)} characters)"


def _new_mission(answer_body: Any, location: str | None, check_location: bool) -> Any:
    """A new mission without the fields that differ from server to server, once their shape
    is checked: an error string in their place when it is wrong."""
    if not isinstance(answer_body, dict):
        return answer_body
    kept = {name: value for name, value in answer_body.items() if name not in VOLATILE}
    mission_id = answer_body.get("id")
    if not isinstance(mission_id, str) or not MISSION_ID.fullmatch(mission_id):
        kept["id"] = f"not a mission id: {mission_id!r}"
    for name in ("created_at", "updated_at"):
        value = answer_body.get(name)
        if not isinstance(value, str) or not TIMESTAMP.fullmatch(value):
            kept[name] = f"not an RFC 3339 UTC timestamp: {value!r}"
    if answer_body.get("created_at") != answer_body.get("updated_at"):
        kept["updated_at"] = "not created_at"
    if check_location and location != f"{PATH}/{mission_id}":
        kept["Location"] = f"not {PATH}/{{id}}: {location!r}"
    return kept


def _comparable(probe: Probe, answer: Answer) -> Any:
    if probe.compare == "created":
        return _new_mission(answer.body, answer.location, check_location=True)
    if probe.compare == "new" and isinstance(answer.body, dict):
        data = answer.body.get("data")
        if isinstance(data, list):
            missions = [_new_mission(m, None, check_location=False) for m in data]
            missions.sort(key=lambda m: json.dumps(m, sort_keys=True))
            return answer.body | {"data": missions}
    if probe.compare == "refused":
        body = answer.body
        good = isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], str)
        return 'an {"error": ...} body' if good else body
    return answer.body


def check_same_work(app: Server, bares: list[Server], seeded: seed.Seeded) -> None:
    """Before measuring: each bare contender answers the requests of every scenario it is loaded
    with (BARE_SCENARIOS) as the app does, field by field, so that a bare reference doing less
    work than the app (fewer fields, no sanitising, no check, nothing stored) fails the run.
    Every server gets the same requests in the same order, on its own copy of the database."""
    first = ask(app, Probe("list", "the first page", "GET", PATH, 200), seeded.key)
    next_cursor = first.body.get("next_cursor") if isinstance(first.body, dict) else None
    probes = same_work_probes(seeded, next_cursor or "")
    if unprobed := set(BARE_SCENARIOS) - {probe.scenario for probe in probes}:
        raise RuntimeError(f"no same-work probe for {', '.join(sorted(unprobed))}")
    answers = {
        server.name: [ask(server, p, seeded.key) for p in probes] for server in [app, *bares]
    }
    problems = []
    for n, probe in enumerate(probes):
        expected = answers[app.name][n]
        if expected.status != probe.status:
            problems.append(
                f"{probe.scenario}, {probe.what}: the app answers {expected.status}, "
                f"not {probe.status}: {_short(expected.body)}"
            )
            continue
        for bare in bares:
            answer = answers[bare.name][n]
            found = []
            if answer.status != expected.status:
                found.append(f"status: app {expected.status}, bare {answer.status}")
            found += differences("", _comparable(probe, expected), _comparable(probe, answer))
            problems += [f"{probe.scenario}, {probe.what}, {bare.name}: {d}" for d in found]
    if problems:
        shown = problems[:30] + ([f"… and {len(problems) - 30} more"] if len(problems) > 30 else [])
        raise RuntimeError(
            "the bare reference does not do the app's work:\n  " + "\n  ".join(shown)
        )
    names = ", ".join(bare.name for bare in bares)
    log(f"same work: the app and {names} answer {len(probes)} requests alike")


def run_engine(engine: str, args: argparse.Namespace, folder: Path) -> EngineResult:
    postgres_url = os.environ.get("CROSSPATH_BENCH_DATABASE_URL") or os.environ.get(
        "CROSSPATH_TEST_DATABASE_URL"
    )
    databases = Databases(engine, folder, postgres_url)
    try:
        return _run_engine(engine, args, folder, databases)
    finally:
        databases.drop_all()


def _seed(databases: Databases, rows: int) -> tuple[seed.Seeded, float]:
    started = time.perf_counter()
    seeded = seed.seed(databases.create(), rows)
    return seeded, time.perf_counter() - started


def _run_engine(
    engine: str, args: argparse.Namespace, folder: Path, databases: Databases
) -> EngineResult:
    log(f"{engine}: seeding {args.rows:,} missions")
    base, base_seconds = _seed(databases, args.rows)
    result = EngineResult(engine, args.rows, args.growth, {args.rows: base_seconds})
    if engine == "postgresql":
        result.database_cores = describe_postgres_cores(postgres_cores(base.database_url))
        log(f"{engine}: {result.database_cores}")
    big = None
    if args.growth and "list" in args.scenarios:  # the growth database serves list only
        log(f"{engine}: seeding {args.growth:,} missions")
        big, result.seed_seconds[args.growth] = _seed(databases, args.growth)
    settings = Settings(args.duration, args.warmup, args.connections, seed=args.seed)
    if args.profile:
        settings.profile_folder = args.out.parent
        settings.profile_prefix = f"{args.out.stem}-profile-"

    env = {"CROSSPATH_SECRET_KEY": base.secret, "CROSSPATH_RATE_LIMIT": "1000000000",
           "CROSSPATH_RATE_LIMIT_WINDOW": "1", "CROSSPATH_LOG_LEVEL": "INFO",
           "CROSSPATH_REDIS_URL": ""}  # fmt: skip
    app_target, bare_target = "crosspath.api.app:create_app", "bare:app"

    def url(template: str) -> dict[str, str]:
        return env | {"CROSSPATH_DATABASE_URL": databases.create(template)}

    servers = {
        "app": start(f"{engine}-app", "granian", app_target, url(base.database_url), folder),
        "bare": start(f"{engine}-bare", "granian", bare_target, url(base.database_url), folder),
    }
    if big:
        servers["big"] = start(
            f"{engine}-app-big", "granian", app_target, url(big.database_url), folder
        )
    if engine == "postgresql" and not args.smoke:
        bare_env = url(base.database_url) | {"BARE_DRIVER": "asyncpg"}
        servers["asyncpg"] = start(
            f"{engine}-bare-asyncpg", "granian", bare_target, bare_env, folder
        )
    for other in args.servers[1:]:
        servers[other] = start(
            f"{engine}-app-{other}", other, app_target, url(base.database_url), folder
        )
    for name, server in servers.items():
        server.data = folder / f"data-{engine}-{'big' if name == 'big' else 'base'}.lua"
    write_data(base, folder / f"data-{engine}-base.lua")
    if big:
        write_data(big, folder / f"data-{engine}-big.lua")
    try:
        for server in servers.values():
            wait_ready(server)
        bares = [server for name, server in servers.items() if name in ("bare", "asyncpg")]
        check_same_work(servers["app"], bares, base)
        measure(engine, args, settings, servers, result)
    finally:
        for server in servers.values():
            stop(server)
    if not args.smoke:
        from datapath import compare

        result.datapath = compare(base)
    return result


def measure(
    engine: str,
    args: argparse.Namespace,
    settings: Settings,
    servers: dict[str, Server],
    result: EngineResult,
) -> None:
    def rounds(
        scenario: str, contenders: dict[str, Server], loads: dict[str, str] | None = None
    ) -> dict[str, Load]:
        """`args.repeat` rounds of one run per contender, in turn, so that whatever else the
        machine does weighs on all of them alike; the medians of each. `loads` names the
        load.lua scenario of a contender that does not load `scenario` itself."""
        runs: dict[str, list[Load]] = {name: [] for name in contenders}
        for n in range(args.repeat):
            for name, server in contenders.items():
                log(f"{engine}: {scenario}, {name} ({n + 1}/{args.repeat})")
                profile = f"{engine}-{scenario}" if n == 0 and name == "app" else None
                sent = (loads or {}).get(name, scenario)
                last = load(settings, server, sent, profile)
                runs[name].append(last)
                log(f"  {last.requests_per_s:,.0f} req/s, p50 {last.p50_ms:.1f} ms, "
                    f"p99 {last.p99_ms:.1f} ms, {last.errors} errors")  # fmt: skip
        return {name: median(loads) for name, loads in runs.items()}

    app = {"app": servers["app"]}
    others = {f"app on {name}": servers[name] for name in args.servers[1:]}
    asyncpg = {"bare on asyncpg": servers["asyncpg"]} if "asyncpg" in servers else {}
    big = {"app, growth database": servers["big"]} if "big" in servers else {}
    chosen = args.scenarios
    # Reads before writes, every contender in turn, so all see the same database sizes; the
    # batches last, as they add the most missions.
    compared = []
    if "list" in chosen:
        contenders = app | {"bare": servers["bare"]} | asyncpg | big | others
        compared.append(("list", rounds("list", contenders)))
    if "create" in chosen:
        compared.append(
            ("create", rounds("create", app | {"bare": servers["bare"]} | asyncpg | others))
        )
    for scenario, loads in compared:
        result.app[scenario] = loads.pop("app")
        result.bare[scenario] = loads.pop("bare")
        if "app, growth database" in loads:
            result.growth[result.rows] = result.app[scenario]
            result.growth[result.growth_rows] = loads.pop("app, growth database")
        result.extra |= {f"{scenario}, {name}": load for name, load in loads.items()}
    for scenario in ("get", "patch", "mixed"):
        if scenario in chosen:
            result.app[scenario] = rounds(scenario, app)["app"]
    if "batch" in chosen:
        # Batches of 100 new missions and single creates on the same app, in turn.
        single = "single creates"
        loads = rounds("batch", app | {single: servers["app"]}, {single: "create"})
        result.app["batch"] = loads["app"]
        result.single_creates = loads[single]
        result.extra["batch, single creates"] = loads[single]
    result.app = {name: result.app[name] for name in SCENARIOS if name in result.app}


# The report


def report(results: list[EngineResult], args: argparse.Namespace, facts: dict[str, str]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Benchmark results, {when}", ""]
    lines += [f"Command: `{args.command}`", ""]
    lines += ["| machine | |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in facts.items()]
    pinning = "server on core 0, wrk on core 1" if cores()[0] else "no pinning (one core)"
    lines += [
        f"| set-up | one server worker (granian, ASGI); {pinning}; `wrk -t1 -c{args.connections}`, "
        f"{args.warmup} s warm-up, {args.duration} s measured, median of {args.repeat}; "
        f"load seed {args.seed} (`--seed {args.seed}` sends the same requests again) |",
        "",
    ]
    for result in results:
        lines += engine_section(result)
    lines += targets_section(results)
    return "\n".join(lines) + "\n"


def _rate(value: float) -> str:
    """Requests per second: a decimal for the slow ones (a batch of 100 is a few a second)."""
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _cells(load: Load) -> str:
    """A results row's cells after the rates."""

    def us(value: float) -> str:
        return "—" if math.isnan(value) else f"{value:,.0f}"

    spread = f"{load.p99_ms / load.p50_ms:.1f}" if load.p50_ms else "—"
    return (
        f"{_ms(load.p50_ms)} | {_ms(load.p99_ms)} | {spread} | "
        f"{load.errors} | {load.rss_mb:.0f} | {us(load.cpu_us)} | {us(load.database_cpu_us)} |"
    )


def engine_section(result: EngineResult) -> list[str]:
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[result.engine]
    seeded = ", ".join(
        f"{rows:,} missions in {secs:.0f} s" for rows, secs in result.seed_seconds.items()
    )
    lines = [f"## {title}", "", f"Seeded: {seeded}.", ""]
    if result.database_cores:
        lines += [f"{result.database_cores}.", ""]
    lines += [
        "| scenario | req/s | bare req/s | × bare | p50 ms | p99 ms | p99/p50 | errors | RSS MB "
        "| server CPU µs/req | PostgreSQL CPU µs/req |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario, app in result.app.items():
        bare = result.bare.get(scenario)
        versus = f"{bare.requests_per_s:,.0f}" if bare else "—"
        ratio = f"{app.requests_per_s / bare.requests_per_s:.2f}" if bare else "—"
        rate = _rate(app.requests_per_s)
        lines.append(f"| {scenario} | {rate} | {versus} | {ratio} | {_cells(app)}")
    rows = {f"{scenario}, bare": bare for scenario, bare in result.bare.items()} | result.extra
    for name, load in rows.items():
        lines.append(f"| {name} | {load.requests_per_s:,.0f} | | | {_cells(load)}")
    lines.append("")
    lines += batches_section(result)
    if result.growth:
        (small, at_small), (large, at_large) = sorted(result.growth.items())
        lines += [
            f"Growth: list page p50 {_ms(at_small.p50_ms)} ms with {small:,} missions, "
            f"{_ms(at_large.p50_ms)} ms with {large:,}: "
            f"**{at_large.p50_ms / at_small.p50_ms:.2f}×** (errors {at_large.errors}).",
            "",
        ]
    if result.datapath:
        lines += [
            "Data access in one thread, no HTTP (bench/datapath.py): the same query through the "
            "app's code (SQLAlchemy Core statements built once, inside `one_statement`) and on a "
            "plain driver connection, equal bytes checked; app / driver is Core's overhead.",
            "",
            "| path | app µs | driver µs | app / driver |",
            "| --- | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {name} | {app:.0f} | {raw:.0f} | {app / raw:.2f}× |"
            for name, app, raw in result.datapath
        ]
        lines.append("")
    return lines


def batches_section(result: EngineResult) -> list[str]:
    """The batch scenario in JDs created per second: batches of 100, single creates, and the
    ratio of the two (the bare reference has no batch route: no bare ratio here)."""
    batch, single = result.app.get("batch"), result.single_creates
    if batch is None or single is None:
        return []
    per_batch, per_single = batch.requests_per_s * BATCH_SIZE, single.requests_per_s
    ratio = f"**{per_batch / per_single:.2f}×**" if per_single else "—"
    return [
        f"Batches: new JDs created per second, in `POST {PATH}/batch` requests of "
        f"{BATCH_SIZE} (`wrk -c{BATCH_CONNECTIONS}`) and in single `POST {PATH}` creates, on "
        "the same app in turn; every batch answer checked (200, summary all created) and its "
        "missions counted in the database.",
        "",
        "| JDs created through | JDs/s | req/s | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| batches of {BATCH_SIZE} | {per_batch:,.0f} | {batch.requests_per_s:,.1f} | "
        f"{_ms(batch.p50_ms)} | {_ms(batch.p99_ms)} | {batch.errors} |",
        f"| single creates | {per_single:,.0f} | {single.requests_per_s:,.0f} | "
        f"{_ms(single.p50_ms)} | {_ms(single.p99_ms)} | {single.errors} |",
        f"| batch ÷ single | {ratio} | | | | |",
        "",
    ]


def targets_section(results: list[EngineResult]) -> list[str]:
    lines = ["## Targets", "", "| target | " + " | ".join(r.engine for r in results) + " |"]
    lines.append("| --- |" + " --- |" * len(results))

    def row(name: str, values: list[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(values) + " |")

    def mark(value: float, ok: bool) -> str:
        return f"{value:.2f} {'✅' if ok else '❌'}"

    for scenario, target in TARGETS.items():
        values = []
        for r in results:
            if scenario not in r.app:
                values.append("—")
                continue
            ratio = r.app[scenario].requests_per_s / r.bare[scenario].requests_per_s
            values.append(mark(ratio, ratio >= target))
        row(f"{scenario} ≥ {target}× bare", values)
    growth = []
    for r in results:
        if r.growth:
            (_, small), (_, large) = sorted(r.growth.items())
            ratio = large.p50_ms / small.p50_ms
            growth.append(mark(ratio, ratio <= GROWTH_TARGET))
        else:
            growth.append("—")
    row(f"list p50 at {results[0].growth_rows:,} ≤ {GROWTH_TARGET}× at {results[0].rows:,}", growth)
    worst_tail = [max(r.app.values(), key=lambda x: x.p99_ms / x.p50_ms) for r in results]
    row(
        f"p99 ≤ {TAIL_TARGET}× p50 (worst scenario)",
        [mark(x.p99_ms / x.p50_ms, x.p99_ms / x.p50_ms <= TAIL_TARGET) for x in worst_tail],
    )
    rss = [max(x.rss_mb for x in r.app.values()) for r in results]
    row(
        f"RSS ≤ {RSS_TARGET_MB} MB per worker (largest)",
        [f"{value:.0f} MB {'✅' if value <= RSS_TARGET_MB else '❌'}" for value in rss],
    )
    errors = [
        sum(
            x.errors
            for x in [*r.app.values(), *r.bare.values(), *r.extra.values(), *r.growth.values()]
        )
        for r in results
    ]
    row("errors", [str(n) for n in errors])
    return [*lines, ""]


def log(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def workspace(keep: bool) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="crosspath-bench-"))
    try:
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The app against the bare reference.")
    parser.add_argument(
        "--engines",
        default=None,
        help="comma-separated: sqlite,postgresql (default: sqlite, plus postgresql "
        "when CROSSPATH_BENCH_DATABASE_URL or CROSSPATH_TEST_DATABASE_URL is set)",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, from {','.join(SCENARIOS)} (default: all); the growth "
        "database is loaded with list only",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the load's random picks (default: a new one, printed in the results); "
        "the same seed sends the same request sequences again",
    )
    parser.add_argument("--rows", type=int, default=10_000, help="missions in the database")
    parser.add_argument(
        "--growth",
        type=int,
        default=1_000_000,
        help="missions in the growth database (0: no growth run)",
    )
    parser.add_argument(
        "--servers",
        default="granian",
        help="comma-separated; the first serves every scenario, the others "
        "(uvicorn) only the app's list and create, for comparison",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record py-spy profiles of the app's list and create next to the results",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few seconds in all: proves the benchmark works, measures nothing",
    )
    parser.add_argument("--out", type=Path, default=None, help="the Markdown results file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (databases, logs)"
    )
    args = parser.parse_args(argv)
    args.command = "scripts/bench " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.seed is None:
        args.seed = secrets.randbelow(2**31)
    if args.smoke:
        args.duration, args.warmup, args.repeat = 1, 0, 1
        args.rows, args.growth = 400, 2_000 if args.growth else 0
    has_postgres = bool(
        os.environ.get("CROSSPATH_BENCH_DATABASE_URL")
        or os.environ.get("CROSSPATH_TEST_DATABASE_URL")
    )
    engines = args.engines or ("sqlite,postgresql" if has_postgres else "sqlite")
    args.engines = [engine.strip() for engine in engines.split(",") if engine.strip()]
    if unknown := set(args.engines) - set(ENGINES):
        parser.error(f"unknown engine: {', '.join(sorted(unknown))}")
    if "postgresql" in args.engines and not has_postgres:
        parser.error(
            "postgresql needs CROSSPATH_BENCH_DATABASE_URL (scripts/bench starts a cluster)"
        )
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    if unknown := set(args.scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenario: {', '.join(sorted(unknown))}")
    if not args.scenarios:
        parser.error("--scenarios names no scenario")
    args.servers = [server.strip() for server in args.servers.split(",")]
    if args.out is None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M")
        args.out = BENCH / "results" / f"{stamp}.md"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: run scripts/bench, or apt-get install wrk")
    facts = machine()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = []
    with workspace(args.keep) as folder:
        for engine in args.engines:
            results.append(run_engine(engine, args, folder))
    text = report(results, args, facts)
    args.out.write_text(text)
    print(text)
    log(f"results written to {args.out}")


if __name__ == "__main__":
    main()
