"""Benchmark symbolic planning (issue 4).

    python tests/benchmarks/bench_symbolic.py

1. `convcalc plan examples/resnet50.yaml --symbolic` (H and W symbolic): wall time with
   interpreter start and the sympy import (target < 1 s), and the in-process planning time.
2. A 100,000-point sweep of ResNet-50's totals over H = W (target < 1 s).
3. Expression size over depth: a 100-layer chain of strided and stride-1 convolutions and pools;
   its last size stays one rounding (bound: sympy.count_ops <= 4), and the MAC total grows only
   by one term per layer (bound: count_ops <= 8 per layer).
4. Every torchvision CNN imported with symbolic H, W (when torch and torchvision are installed):
   import + plan under 2 s, no shape over 200 characters; the slowest five phase by phase.
Exits 1 if a target is missed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import sympy  # noqa: E402

import convcalc  # noqa: E402
from convcalc.sweep import sweep  # noqa: E402
from tests.test_symbolic import deep_chain  # noqa: E402  (the same chain the unit test bounds)


def main() -> int:
    ok = True
    cmd = [sys.executable, "-m", "convcalc", "plan", "examples/resnet50.yaml", "--symbolic"]
    walls = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
    med = statistics.median(walls)
    print(f"convcalc plan examples/resnet50.yaml --symbolic: median {med:.2f} s wall over 5 runs "
          f"(target < 1 s, ratio {med:.2f})")
    ok &= med < 1.0
    model = convcalc.load(str(ROOT / "examples" / "resnet50.yaml"))
    model.plan_symbolic()  # warm sympy's caches as a long-lived process would
    t0 = time.perf_counter()
    plan = model.plan_symbolic()
    print(f"  in-process symbolic plan (sympy loaded): {time.perf_counter() - t0:.2f} s; "
          f"last map {plan.layer('layer4.2.relu3').output_shape[2:]}")
    t0 = time.perf_counter()
    result = sweep(model, ["H", "W"], range(1, 100_001))
    took = time.perf_counter() - t0
    print(f"100,000-point sweep of ResNet-50 over H = W: {took:.2f} s including the symbolic plan "
          f"(target < 1 s); MACs at 224: {int(result.totals['macs'][223]):,}")
    ok &= took < 1.0
    chain = deep_chain(100)
    t0 = time.perf_counter()
    cp = chain.plan()
    last, macs = cp.layers[-1].output_shape[-1], cp.totals.macs
    print(f"100-layer chain: planned in {time.perf_counter() - t0:.2f} s; last size {last} "
          f"(count_ops {sympy.count_ops(last)}, bound 4); MAC total count_ops {sympy.count_ops(macs)} "
          f"(bound {8 * 100})")
    ok &= sympy.count_ops(last) <= 4 and sympy.count_ops(macs) <= 800
    ok &= torchvision_symbolic()
    return 0 if ok else 1


def torchvision_symbolic() -> bool:
    """Issue 14: every torchvision CNN the importer reads (the builders tests/test_import_torch.py
    checks against torch), imported with symbolic H, W and planned: seconds in-process, split
    into torch.fx's trace, ShapeProp (on the meta device), convcalc's translation, the symbolic plan
    and the text table; the longest shape and the MACs formula's length. Targets: import + plan
    under 2 s, no shape over 200 characters. Then the slowest five, phase by phase. Skipped
    without torchvision."""
    try:
        sys.path.insert(0, str(ROOT))
        from tests.conftest import torchvision_or_skip
        from tests.test_import_torch import _all_cnn_builders, build

        torchvision_or_skip()
        import torch
    except BaseException as e:  # noqa: BLE001 - pytest's Skipped is a BaseException
        print(f"torchvision unavailable ({type(e).__name__}): no symbolic import figures")
        return True
    from convcalc.dims import fmt_dim
    from convcalc.importers import torch_module

    spent: dict[str, float] = {}

    def timed(phase: str, fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[phase] = spent.get(phase, 0.0) + time.perf_counter() - t0
        return run

    torch.fx.Tracer.trace = timed("fx trace", torch.fx.Tracer.trace)
    torch_module._Importer._propagate = timed("ShapeProp", torch_module._Importer._propagate)
    ok, rows = True, []
    print(f"{'model':<24}{'import+plan s':>14}{'longest shape':>15}{'MACs chars':>12}")
    for name in _all_cnn_builders():
        module = build(name)
        spent.clear()
        t0 = time.perf_counter()
        model = convcalc.from_torch(module, (1, 3, "H", "W"))
        t1 = time.perf_counter()
        plan = model.plan_symbolic()
        t2 = time.perf_counter()
        plan.table()
        t3 = time.perf_counter()
        longest = max(len(fmt_dim(d)) for ly in plan.layers for d in ly.output_shape)
        took = t2 - t0
        phases = {"fx trace": spent.get("fx trace", 0.0), "ShapeProp": spent.get("ShapeProp", 0.0)}
        phases["translate"] = (t1 - t0) - sum(phases.values())
        phases.update({"plan": t2 - t1, "table": t3 - t2})
        rows.append((took, name, phases))
        print(f"{name:<24}{took:>14.2f}{longest:>15}{len(fmt_dim(plan.totals.macs)):>12}")
        ok &= took < 2 and longest <= 200
        del module, model, plan
    print(f"{len(rows)} models; target: import + plan under 2 s, shapes <= 200 characters: {'met' if ok else 'missed'}")
    print("slowest five, seconds per phase (fx trace and ShapeProp are torch's; translate, plan and table convcalc's):")
    names = list(rows[0][2])
    print(f"  {'model':<22}{'import+plan':>12}" + "".join(f"{p:>11}" for p in names))
    for took, name, phases in sorted(rows, key=lambda r: r[0], reverse=True)[:5]:
        print(f"  {name:<22}{took:>12.2f}" + "".join(f"{phases[p]:>11.2f}" for p in names))
    return ok


if __name__ == "__main__":
    sys.exit(main())
