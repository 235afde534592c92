"""What every benchmark times a command with: wall time from the repository root, output
discarded. The benchmarks run as scripts (``python tests/benchmarks/bench_plan.py``), so this
sits beside them and they import it by name."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wall(cmd: list[str], env: Mapping[str, str] | None = None) -> float:
    """Seconds ``cmd`` takes, run from the repository root (``env``: its environment)."""
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def report_wall(label: str, cmd: list[str], runs: int, target_s: float) -> bool:
    """Time ``cmd`` ``runs`` times after one run that warms the file cache; print the median and
    the best against ``target_s``; whether the median meets it."""
    wall(cmd)
    times = sorted(wall(cmd) for _ in range(runs))
    med = statistics.median(times)
    print(f"{label}: median {med * 1000:.0f} ms, best {times[0] * 1000:.0f} ms over {runs} runs "
          f"(target {target_s * 1000:.0f} ms, ratio {med / target_s:.2f})")
    return med < target_s
