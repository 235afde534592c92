"""Benchmark: `convcalc memory`, and its figures beside torch's and torchinfo's.

    python tests/benchmarks/bench_memory.py [--runs 7]

Targets (issue 12): `convcalc memory examples/resnet50.yaml --train` under 0.5 s wall with
interpreter start; the symbolic largest-batch solve under 1 s. Then, when torch and torchvision
are installed, ResNet-50 at batch 1 and 8: convcalc's inference peak and saved activations
beside torch's own (the oracles of tests/test_memory.py) and torchinfo's "Estimated Total Size"
(when torchinfo is installed), the peer figure users quote. Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time

from _wall import ROOT, report_wall, wall  # beside this script (it runs as one)

sys.path.insert(0, str(ROOT))
TARGET_MEMORY_S = 0.5
TARGET_SOLVE_S = 1.0


def side_by_side() -> None:
    """ResNet-50: convcalc vs torch (measured) vs torchinfo (estimated), batch 1 and 8."""
    try:
        import torch

        from tests.conftest import torchvision_or_skip
        from tests.test_memory import live_peak, saved_bytes

        torchvision = torchvision_or_skip()
    except Exception as e:  # noqa: BLE001 - a benchmark prints what it can
        print(f"torch or torchvision unavailable ({type(e).__name__}): no side-by-side figures")
        return
    import convcalc
    from convcalc.memory import inference_peak, saved_activations, with_batch

    try:
        import torchinfo
    except ImportError:
        torchinfo = None
    module = torchvision.models.resnet50()
    print("ResNet-50, float32    convcalc peak   torch peak   convcalc saved   torch saved   torchinfo total size")
    for batch in (1, 8):
        shape = (batch, 3, 224, 224)
        plan = with_batch(convcalc.load(str(ROOT / "examples/resnet50.yaml")), batch).plan()
        peak, saved = inference_peak(plan).bytes, saved_activations(plan).bytes
        torch_peak = live_peak(torch.fx.symbolic_trace(module), shape)
        torch_saved = saved_bytes(module, shape)
        info = "not installed"
        if torchinfo is not None:
            stats = torchinfo.summary(module, input_size=shape, verbose=0)
            total = stats.total_input + stats.total_output_bytes + stats.total_param_bytes
            info = f"{total / 1e6:,.2f} MB ({total:,} B)"
        print(f"batch {batch}:             {peak:>13,}  {torch_peak:>11,}  {saved:>15,}  {torch_saved:>12,}   {info}")
        assert (peak, saved) == (torch_peak, torch_saved), "convcalc and torch disagree"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    ok = True
    cmd = [sys.executable, "-m", "convcalc", "memory", "examples/resnet50.yaml", "--train"]
    ok &= report_wall("convcalc memory examples/resnet50.yaml --train", cmd, runs, TARGET_MEMORY_S)

    import convcalc
    from convcalc.memory import largest_batch

    for path, variant in (("examples/resnet50.yaml", None), ("examples/unet_2048.yaml", "same_padding")):
        loaded = convcalc.load(str(ROOT / path))
        model = loaded[variant] if variant else loaded
        largest_batch(model, 80 * 2**30)  # the first call pays for sympy's import (timed separately below)
        t0 = time.perf_counter()
        found = largest_batch(model, 80 * 2**30, "adam")
        solve = time.perf_counter() - t0
        print(f"largest batch on 80 GiB, {path}{' ' + variant if variant else ''}: {found} in {solve * 1000:.0f} ms "
              f"(target {TARGET_SOLVE_S * 1000:.0f} ms, ratio {solve / TARGET_SOLVE_S:.2f})")
        ok &= solve < TARGET_SOLVE_S
    cold = [sys.executable, "-m", "convcalc", "memory", "examples/resnet50.yaml", "--device-memory", "80GiB"]
    cold_s = min(wall(cold) for _ in range(3))
    print(f"convcalc memory examples/resnet50.yaml --device-memory 80GiB (with sympy's import): {cold_s * 1000:.0f} ms")
    side_by_side()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
