"""The sync benchmark still works: `scripts/bench --sync` on a small feed runs every step and
finds no difference (its figures are the benchmark's business, not the test's). On the
PostgreSQL pass it runs on the test cluster."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[1]
RUNS = ("initial push", "10% churn", "re-run, unchanged", "killed", "resumed",
        "re-run after resume")  # fmt: skip


def test_the_sync_benchmark_runs_every_step_and_finds_no_drift(tmp_path: Path) -> None:
    engine = "postgresql" if POSTGRES_URL else "sqlite"
    command = [str(ROOT / "scripts" / "bench"), "--sync", "--engines", engine, "--jds", "60",
               "--companies", "3", "--seed", "7", "--out", str(tmp_path)]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=os.environ | {"CROSSPATH_REDIS_URL": ""},
                            capture_output=True, text=True, timeout=240, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (report,) = tmp_path.glob("*-sync.md")
    text = report.read_text()
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")}
    assert set(RUNS) <= rows
    assert "duplicates: 0, differences: 0" in text
    assert "| re-run, unchanged |" in text
    rerun = next(line for line in text.splitlines() if line.startswith("| re-run, unchanged |"))
    assert rerun.split("|")[4].strip() == "0"  # writes
