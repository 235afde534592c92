"""``convcalc check``: the plan and the reference executor agree, and disagreements are caught."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import convcalc
from convcalc.check import check_plan
from convcalc.cli import cli

from .conftest import EXAMPLES, ROOT

REFERENCE = ROOT / "convcalc" / "reference"
GOLDEN = Path(__file__).parent / "golden"

REDUCED = {"resnet50": ["H=64", "W=64"], "vgg16": ["H=32", "W=48"], "mobilenet_v2": ["H=64", "W=64"],
           "unet_original": ["H=188", "W=204"]}


@pytest.mark.parametrize("name", list(REDUCED))
def test_examples_agree_layer_by_layer(name, runner):
    args = ["check", str(EXAMPLES / f"{name}.yaml"), "--format", "json"]
    for s in REDUCED[name]:
        args += ["--set", s]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and all(ly["ok"] for ly in report["layers"])
    assert len(report["layers"]) == len(convcalc.load(str(EXAMPLES / f"{name}.yaml")).layers)
    first = report["layers"][0]
    assert set(first) == {"name", "op", "ok", "predicted", "executed"}
    assert first["predicted"] == first["executed"]
    assert set(first["predicted"]) == {"output_shape", "params", "macs"}


def _golden_models():
    for path in sorted(GOLDEN.glob("*.json")):
        for case in json.loads(path.read_text())["cases"]:
            if "error" not in case["expected"] and not any(d <= 0 for ly in case["expected"]["layers"]
                                                           for d in ly["output_shape"]):
                yield path.stem, case


def test_every_accepted_golden_case_runs_and_agrees():
    """The whole catalogue, every framework: 1,600-odd models executed by the reference."""
    failures = []
    count = 0
    for stem, case in _golden_models():
        try:
            plan = convcalc.Model.from_dict(case["model"]).plan()
        except convcalc.ModelError:
            continue  # refused on purpose (see test_golden.py); nothing to execute
        report = check_plan(plan, seed=1)
        count += 1
        if not report.ok:
            layer = report.first_difference
            failures.append(f"{stem}:{case['id']} {layer.name} ({layer.op}): {layer.differences()}")
    assert count > 1200
    assert not failures, "\n".join(failures[:20])


def test_a_wrong_prediction_is_reported_with_exit_3(runner, monkeypatch, write_model):
    """Break the engine's MAC count for convolutions: check must catch it and name the layer."""
    from convcalc import ir

    original = ir.Conv.macs
    monkeypatch.setattr(ir.Conv, "macs", lambda self, i, o: original(self, i, o) + 1)
    path = write_model("framework: pytorch\ninput: [1, 3, 8, 8]\nlayers:\n"
                       "  - {op: ReLU, name: r}\n  - {op: Conv2d, name: c, out_channels: 4, kernel_size: 3}\n")
    result = runner.invoke(cli, ["check", path])
    assert result.exit_code == 3, result.output
    assert result.stderr == (
        "error: layer 'c' (Conv2d) differs from the reference executor: MACs: predicted 3,889, executed 3,888\n"
    )  # 6*6 positions * 4 out * 3 in * 9 = 3,888 multiply-adds performed
    assert "DIFFERS" in result.stdout
    report = json.loads(runner.invoke(cli, ["check", path, "--format", "json"]).stdout)
    assert report["ok"] is False
    assert [ly["ok"] for ly in report["layers"]] == [True, False]
    assert report["layers"][1]["executed"]["macs"] == 3888


def test_a_wrong_shape_is_reported(monkeypatch):
    from convcalc import formulas

    real = formulas.same_out
    monkeypatch.setattr(formulas, "same_out", lambda L, s: real(L, s) + 1)
    plan = convcalc.Model(framework="keras", input=[1, 10, 3]).add("Conv1D", filters=2, kernel_size=3,
                                                                   padding="same").plan()
    report = check_plan(plan)
    assert not report.ok
    assert report.first_difference.differences()[0] == "output shape: predicted (1, 11, 2), executed (1, 10, 2)"


def test_symbolic_models_need_set(runner, write_model):
    path = write_model("framework: keras\ninput: [1, H, W, 3]\nlayers:\n  - {op: Conv2D, filters: 2, kernel_size: 3}\n")
    result = runner.invoke(cli, ["check", path])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the model is symbolic in H, W; the executor needs numbers")
    assert "--set H=... --set W=..." in result.stderr
    assert runner.invoke(cli, ["check", path, "--set", "H=9", "--set", "W=7"]).exit_code == 0


def test_budget_refuses_big_runs(runner):
    result = runner.invoke(cli, ["check", str(EXAMPLES / "unet_original.yaml")])
    assert result.exit_code == 2
    assert "150,428,424,448 multiply-accumulates (150.4 G), over the budget of 20,000,000,000" in result.stderr
    assert "--set" in result.stderr
    small = runner.invoke(cli, ["check", str(EXAMPLES / "resnet50.yaml"), "--set", "H=32", "--set", "W=32",
                                "--max-macs", "1000"])
    assert small.exit_code == 2


def test_variants_are_checked_each(runner, write_model):
    path = write_model("""\
framework: keras
input: [1, 8, 8, 3]
layers: [{op: Conv2D, filters: 2, kernel_size: 3}]
variants:
  valid: {}
  same: {layers: [{op: Conv2D, filters: 2, kernel_size: 3, padding: same}]}
""")
    result = runner.invoke(cli, ["check", path, "--format", "json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert list(report["variants"]) == ["valid", "same"]
    assert report["variants"]["same"]["layers"][0]["executed"]["output_shape"] == [1, 8, 8, 2]


def test_seed_changes_values_not_verdicts(runner):
    for seed in ("0", "7"):
        args = ["check", str(EXAMPLES / "mobilenet_v2.yaml"), "--set", "H=32", "--set", "W=32", "--seed", seed]
        assert runner.invoke(cli, args).exit_code == 0


def test_reference_imports_numpy_and_stdlib_only():
    """Scan every module of convcalc/reference: no sympy, nothing else of convcalc."""
    stdlib = set(sys.stdlib_module_names)
    for path in sorted(REFERENCE.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: must stay inside the package
                    assert node.level == 1, f"{path.name} reaches outside convcalc.reference"
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top == "numpy" or top in stdlib, f"{path.name} imports {name}"


def test_importing_the_reference_loads_no_planner():
    code = ("import sys, convcalc.reference\n"
            "bad = [m for m in sys.modules if m == 'sympy' or (m.startswith('convcalc.') and not "
            "m.startswith('convcalc.reference') and m != 'convcalc.errors')]\n"
            "assert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
