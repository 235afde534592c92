"""Benchmark: a million-point sweep, written as CSV, text, markdown and JSON.

    python tests/benchmarks/bench_sweep.py [--points 1000000]

`convcalc plan examples/resnet50.yaml --sweep H,W=32:1000032 --format F -o FILE`, end to end with
interpreter start, one run per format: wall seconds and the process's peak resident memory. The
sweep is computed once from the closed forms (int64 numpy); the writers then draw every row with
one `str.format` per row and stream it to the file in chunks.

Targets (issue 14): every format under 5 s, peak under 400 MiB (before: CSV 7.9 s, text 13.8 s,
both 1.1 GiB; JSON 2.7 s, 480 MiB; tabulate's text, two sessions earlier, 39 s). Exits 1 if a
target is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from _wall import ROOT  # beside this script (it runs as one)

TARGET_S = 5.0
TARGET_PEAK_MIB = 400


def run(fmt: str, points: int, folder: str) -> tuple[float, float, int]:
    """(seconds, peak MiB, bytes written) of one sweep written as ``fmt``."""
    out = os.path.join(folder, f"sweep.{fmt}")
    # a small wrapper runs convcalc and prints its children's peak resident memory (KiB on Linux)
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    cmd = [sys.executable, "-c", code, sys.executable, "-m", "convcalc", "plan", "examples/resnet50.yaml",
           "--sweep", f"H,W=32:{32 + points}", "--format", fmt, "-o", out]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    return seconds, int(done.stdout.split()[-1]) / 1024, os.path.getsize(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    missed = False
    print(f"ResNet-50, --sweep H,W over {args.points:,} sizes (end to end, interpreter start included)")
    print(f"{'format':<10}{'seconds':>9}{'peak MiB':>10}{'written MB':>12}")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("csv", "text", "markdown", "json"):
            seconds, peak, size = run(fmt, args.points, folder)
            print(f"{fmt:<10}{seconds:>9.2f}{peak:>10.0f}{size / 1e6:>12.1f}")
            if seconds > TARGET_S or peak > TARGET_PEAK_MIB:
                missed = True
    print(f"target: every format under {TARGET_S:.0f} s and {TARGET_PEAK_MIB} MiB: {'missed' if missed else 'met'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
