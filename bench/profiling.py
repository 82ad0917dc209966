"""Profiles of a running server: py-spy samples its worker, this module summarises them.

    .venv/bin/python bench/profiling.py PID SECONDS > profile.txt   # while a load runs

Only samples of the thread holding the GIL are kept (`py-spy --gil`): with one worker on one
core that is where the CPU time goes; waiting threads are left out.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

PY_SPY = str(Path(sys.executable).with_name("py-spy"))
# Frames that only say "the server is running": every sample has them.
NOISE = ("granian/", "click/", "multiprocessing/", "threading.py", "concurrent/futures/thread",
         "asyncio/base_events.py", "asyncio/events.py", "<module>")  # fmt: skip


def record(pid: int, seconds: int, rate: int = 250) -> str:
    """py-spy's collapsed stacks of `pid` over `seconds`."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "stacks.txt"
        subprocess.run(
            [PY_SPY, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate),
             "--gil", "--format", "raw", "--output", str(out), "--nonblocking"],
            check=True, capture_output=True,
        )  # fmt: skip
        return out.read_text()


def summarize(stacks: str, top: int = 25) -> str:
    """The functions with the most samples: on top of the stack (self) and anywhere (total)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in stacks.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [frame for frame in stack.split(";") if not frame.startswith("thread (")]
        samples += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            if not any(noise in frame for noise in NOISE):
                total[frame] += int(count)
    lines = [f"{samples} samples of the thread holding the GIL", "", "self:"]
    lines += [f"  {100 * n / samples:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "total (the function and what it calls):"]
    lines += [f"  {100 * n / samples:5.1f}%  {frame}" for frame, n in total.most_common(top * 2)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(summarize(record(int(sys.argv[1]), int(sys.argv[2]))))
