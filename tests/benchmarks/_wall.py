"""What every benchmark times a command with: wall time from the repository root, output
discarded. The benchmarks run as scripts (``python tests/benchmarks/bench_plan.py``), so this
sits beside them and they import it by name."""

from __future__ import annotations

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
