"""The benchmark still works: its smoke run measures every scenario, times nothing.

`scripts/bench --smoke` seeds a small database, starts the app and the bare reference under the
real server, checks that both answer the same, loads every scenario for a second with wrk and
writes the results table. On the PostgreSQL pass it runs on the test cluster.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = (
    "list",
    "get",
    "create",
    "patch",
    "mixed",
    "batch",
    "batch, single creates",
    "list, bare",
    "create, bare",
)


def smoke_run(out: Path) -> subprocess.CompletedProcess[str]:
    engine = "postgresql" if POSTGRES_URL else "sqlite"
    return subprocess.run(
        [str(ROOT / "scripts" / "bench"), "--smoke", "--engines", engine, "--out", str(out)],
        cwd=ROOT,
        env=os.environ | {"CROSSPATH_REDIS_URL": ""},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def table_rows(text: str) -> dict[str, list[str]]:
    """The rows of the Markdown tables, by their first cell."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_the_smoke_run_loads_every_scenario_on_the_app_and_the_bare_reference(
    tmp_path: Path,
) -> None:
    out = tmp_path / "results.md"
    result = smoke_run(out)
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    rows = table_rows(text)
    header = rows["scenario"]
    for scenario in SCENARIOS:
        cells = dict(zip(header, rows[scenario], strict=True))
        assert int(cells["errors"]) == 0, (scenario, cells)
        assert float(cells["req/s"].replace(",", "")) > 0, (scenario, cells)
        assert float(cells["RSS MB"]) > 0, (scenario, cells)
    assert rows["list"][header.index("× bare")] != "—"
    assert rows["create"][header.index("× bare")] != "—"
    assert "Growth: list page p50" in text
    assert rows["errors"] == ["0"]
    for target in ("list ≥ 0.8× bare", "create ≥ 0.7× bare", "RSS ≤ 100 MB per worker (largest)"):
        assert target in rows
