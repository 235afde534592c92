"""Benchmark: `convcalc plan examples/resnet50.yaml`, wall time with interpreter start.

    python tests/benchmarks/bench_plan.py [--runs 15]

Target (issue 2): under 0.5 s on the 2-core CI machine, and no `import sympy` for a concrete
plan (checked with `python -X importtime`). Prints the figures and the ratio to the target;
exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

from _wall import ROOT, report_wall, wall  # beside this script (it runs as one)

TARGET_S = 0.5


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    ok = True
    for model in ("resnet50", "vgg16", "mobilenet_v2", "unet_original"):
        cmd = [sys.executable, "-m", "convcalc", "plan", f"examples/{model}.yaml"]
        ok &= report_wall(f"convcalc plan examples/{model}.yaml", cmd, runs, TARGET_S)
    baseline = sorted(wall([sys.executable, "-c", "pass"]) for _ in range(runs))
    print(f"bare interpreter start: median {statistics.median(baseline) * 1000:.0f} ms")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "convcalc", "plan", "examples/resnet50.yaml"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    sympy = [ln for ln in proc.stderr.splitlines() if "sympy" in ln]
    cumulative = {ln.split("|")[2].strip(): int(ln.split("|")[1]) for ln in proc.stderr.splitlines()
                  if ln.startswith("import time:") and ln.split("|")[1].strip().isdigit()}
    print(f"imports on a concrete plan: sympy modules imported = {len(sympy)} (target 0); convcalc package "
          f"{cumulative.get('convcalc', 0) / 1000:.0f} ms, CLI {cumulative.get('convcalc.cli', 0) / 1000:.0f} ms "
          "cumulative")
    ok &= not sympy
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
