"""Shared by the golden-fixture generators (not imported by the test suite).

Every generator builds cases in convcalc's own model-file vocabulary (which is each framework's
own), runs them through the real framework, and stores what the framework did: the output shape
and parameter counts of every layer, or the error it raised. The fixture file names the versions
that produced it. The suite (``tests/test_golden.py``) replays the cases through convcalc without
needing the frameworks.
"""

from __future__ import annotations

import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any, Callable

GOLDEN = Path(__file__).resolve().parent.parent


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:400]


def write_fixture(framework: str, versions: dict[str, str], seed: int, cases: list[dict[str, Any]], script: str) -> Path:
    path = GOLDEN / f"{framework.replace('.', '_')}.json"
    payload = {
        "framework": framework,
        "generated_by": f"tests/golden/generators/{script}",
        "versions": {"python": platform.python_version(), **versions},
        "seed": seed,
        "generated": time.strftime("%Y-%m-%d"),
        "counts": {
            "cases": len(cases),
            "accepted": sum(1 for c in cases if "error" not in c["expected"]),
            "rejected": sum(1 for c in cases if "error" in c["expected"]),
        },
        "cases": cases,
    }
    path.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")
    print(f"wrote {path} with {len(cases)} cases", file=sys.stderr)
    return path


def run_cases(builders: list[Callable[[random.Random], dict[str, Any]]], n: int, seed: int,
              execute: Callable[[dict[str, Any]], dict[str, Any]], fixed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Execute the fixed catalogue cases, then ``n`` random ones (builders picked round-robin)."""
    rng = random.Random(seed)
    cases = []
    for i, model in enumerate(fixed):
        cases.append({"id": f"catalogue-{i:03d}", "model": model, "expected": execute(model)})
    for i in range(n):
        model = builders[i % len(builders)](rng)
        cases.append({"id": f"random-{i:04d}", "model": model, "expected": execute(model)})
    return cases
