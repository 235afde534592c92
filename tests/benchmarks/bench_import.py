"""Benchmark: importing and planning ResNet-50 from each source, wall time with interpreter start.

    python tests/benchmarks/bench_import.py [--runs 5]

Target (issue 9): `convcalc plan` of ResNet-50 from an .onnx file, from Keras JSON and from a
torch module each under 1 s wall including interpreter start and the import; torch's own import
time is reported apart (it is the user's, not convcalc's), and torchinfo's `summary` on the same
module beside it when torchinfo is installed. Prints the figures and ratios; exits 1 if a target
is missed.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _wall import ROOT, report_wall, wall  # beside this script (it runs as one)

FIXTURES = ROOT / "tests" / "importers" / "fixtures"
TARGET_S = 1.0

# The torch side runs in one child process that reports its own clock readings: torch's import,
# convcalc's import + trace + plan, and torchinfo's summary of the same module.
TORCH_CHILD = r"""
import sys, time, types
t0 = time.perf_counter()
import torch
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
import torchvision
t1 = time.perf_counter()
module = torchvision.models.resnet50().eval()
t2 = time.perf_counter()
import convcalc
plan = convcalc.from_torch(module, (1, 3, 224, 224)).plan()
t3 = time.perf_counter()
assert plan.totals.macs == 4089184256, plan.totals.macs
print(t1 - t0, t2 - t1, t3 - t2)
"""
BASE_CHILD = r"""
import sys, types
import torch
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
import torchvision
module = torchvision.models.resnet50().eval()
"""
TORCHINFO_CHILD = r"""
import sys, time, types
import torch
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
import torchvision
module = torchvision.models.resnet50().eval()
t0 = time.perf_counter()
import torchinfo
t1 = time.perf_counter()
torchinfo.summary(module, input_size=(1, 3, 224, 224), verbose=0)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        keras_json = Path(tmp) / "ResNet50.json"
        keras_json.write_bytes(gzip.open(FIXTURES / "keras" / "ResNet50.json.gz").read())
        sources = {"ONNX (TorchScript export)": FIXTURES / "onnx" / "resnet50.ts.onnx",
                   "ONNX (dynamo export)": FIXTURES / "onnx" / "resnet50.dynamo.onnx",
                   "Keras 3 to_json()": keras_json}
        for label, path in sources.items():
            cmd = [sys.executable, "-m", "convcalc", "plan", str(path)]
            ok &= report_wall(f"convcalc plan ResNet-50 from {label}", cmd, runs, TARGET_S)
    try:
        readings = []
        for _ in range(max(1, runs // 2)):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", TORCH_CHILD], cwd=ROOT, check=True, capture_output=True,
                                 text=True).stdout
            total = time.perf_counter() - t0
            readings.append((total, *map(float, out.split())))
        total, torch_import, build, convcalc_s = (statistics.median(r[i] for r in readings) for i in range(4))
        base = statistics.median(wall([sys.executable, "-c", BASE_CHILD]) for _ in range(max(1, runs // 2)))
        own = total - base + 0.0  # the same process without convcalc: start, torch, the module, exit
        ok &= own < TARGET_S
        print(f"convcalc.from_torch(torchvision resnet50).plan(): {convcalc_s * 1000:.0f} ms in-process (import of "
              f"convcalc, fx trace, meta-device shapes, plan); {own * 1000:.0f} ms of wall time over the same process "
              f"without convcalc ({base * 1000:.0f} ms: interpreter start, torch's import {torch_import * 1000:.0f} ms, "
              f"building the module {build * 1000:.0f} ms, exit) (target {TARGET_S * 1000:.0f} ms, ratio "
              f"{own / TARGET_S:.2f})")
        info = subprocess.run([sys.executable, "-c", TORCHINFO_CHILD], cwd=ROOT, capture_output=True, text=True)
        if info.returncode == 0:
            info_import, info_run = map(float, info.stdout.split())
            print(f"torchinfo.summary on the same module: {info_run * 1000:.0f} ms in-process (a real forward pass "
                  f"on the CPU), {info_import * 1000:.0f} ms to import torchinfo; ratio to convcalc's in-process time "
                  f"{info_run / convcalc_s:.2f} (torchinfo / convcalc)")
        else:
            print("torchinfo is not installed: pip install torchinfo to print its time beside convcalc's")
    except subprocess.CalledProcessError as e:
        print(f"from_torch benchmark not run (torch/torchvision missing?): {e.stderr.strip().splitlines()[-1]}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
