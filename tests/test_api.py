"""The Python planning API mirrors the model file."""

from __future__ import annotations

import json

import pytest

import convcalc
from convcalc.errors import ArgumentError, ShapeError, UsageError

from .conftest import EXAMPLES


def test_layer_by_layer_equals_from_dict_equals_file(tmp_path):
    spec = {
        "framework": "pytorch",
        "input": [1, 3, 32, 32],
        "layers": [
            {"op": "Conv2d", "name": "c", "out_channels": 16, "kernel_size": 3, "padding": 1},
            {"op": "ReLU", "name": "r"},
            {"op": "Conv2d", "name": "d", "out_channels": 16, "kernel_size": 3, "groups": 16, "padding": 1},
            {"op": "add", "name": "a", "inputs": ["r", "d"]},
        ],
    }
    built = convcalc.Model(framework="pytorch", input=[1, 3, 32, 32])
    built.add("Conv2d", name="c", out_channels=16, kernel_size=3, padding=1).add("ReLU", name="r")
    built.add("Conv2d", name="d", out_channels=16, kernel_size=3, groups=16, padding=1)
    built.add("add", name="a", inputs=["r", "d"])
    path = tmp_path / "m.yaml"
    import yaml

    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    plans = [built.plan(), convcalc.Model.from_dict(spec).plan(), convcalc.load(str(path)).plan()]
    dicts = [p.to_dict() for p in plans]
    for d in dicts:
        for ly in d["layers"]:
            ly.pop("line")
    assert dicts[0] == dicts[1] == dicts[2]
    p = plans[0]
    assert p.layer("d").params == 16 * 9 + 16  # depthwise: one 3x3 filter per channel, plus bias
    assert p.layer("a").output_shape == (1, 16, 32, 32)
    assert json.loads(p.to_json())["totals"]["params"] == p.totals.params


def test_symbols_as_keyword_arguments():
    model = convcalc.Model(framework="keras", input=["N", "H", "H", 3])
    model.add("Conv2D", filters=4, kernel_size=3, strides=2, padding="same")
    assert model.plan(N=2, H=9).layers[0].output_shape == (2, 5, 5, 4)
    symbolic = model.plan()
    assert symbolic.is_symbolic
    assert [str(d) for d in symbolic.layers[0].output_shape] == ["N", "ceiling(H/2)", "ceiling(H/2)", "4"]
    with pytest.raises(UsageError, match="no symbol 'Q'"):
        model.plan(Q=3)


def test_errors_are_exceptions_with_fields():
    model = convcalc.Model(framework="pytorch", input=[1, 3, 4, 4]).add("Conv2d", name="c", out_channels=2, kernel_size=5)
    with pytest.raises(ShapeError) as info:
        model.plan()
    e = info.value
    assert (e.layer, e.op, e.reason, e.exit_code) == ("c", "Conv2d", "empty_output", 1)
    assert e.data["max_kernel"] == 4
    with pytest.raises(ArgumentError) as info:
        convcalc.Model(framework="caffe", input=[1])
    assert "Did you mean" not in info.value.message or "framework" in info.value.fix


def test_load_returns_variants_for_variant_files(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("framework: keras\ninput: [1, 8]\nlayers: [{op: Dense, units: 2}]\n"
                    "variants:\n  small: {}\n  big: {layers: [{op: Dense, units: 64}]}\n")
    variants = convcalc.load(str(path))
    assert isinstance(variants, convcalc.Variants) and list(variants) == ["small", "big"]
    plans = variants.plan()
    assert plans["small"].totals.params == 18 and plans["big"].totals.params == 8 * 64 + 64
    with pytest.raises(UsageError):
        variants["medium"]


def test_plan_exposes_lowered_steps():
    plan = convcalc.load(str(EXAMPLES / "unet_original.yaml")).plan()
    enc = plan.layer("enc1a")
    assert [type(s).__name__ for s in enc.steps] == ["Conv", "Activation"]
    assert enc.step_shapes[-1] == enc.output_shape


# --------------------------------------------------------------------------- at a prompt (issue 11)


def test_dir_shows_the_public_names_only():
    import convcalc

    names = dir(convcalc)
    assert {"load", "Model", "Plan", "compare", "solve", "check", "from_onnx", "from_keras", "from_torch"} <= set(names)
    assert not {"Any", "importlib", "TYPE_CHECKING", "annotations"} & set(names)


def test_repr_is_a_short_summary_and_jupyter_gets_the_table():
    import convcalc

    plan = convcalc.load(str(EXAMPLES / "resnet50.yaml")).plan()
    assert repr(plan) == ("<Plan 'resnet50' (pytorch, float32): 175 layers, 25,557,032 params, 4,089,184,256 MACs, "
                          "output (1, 1000)>")
    html = plan._repr_html_()
    assert html.startswith("<h3>resnet50") and "<table>" in html


def test_add_checks_the_op_and_its_arguments_at_once():
    import convcalc
    from convcalc.errors import ArgumentError

    model = convcalc.Model(framework="pytorch", input=[1, 3, 8, 8]).add("ReLU")
    with pytest.raises(ArgumentError, match=r"unknown PyTorch op 'Conv2dd'.*Did you mean 'Conv2d'"):
        model.add("Conv2dd", out_channels=4)
    with pytest.raises(ArgumentError, match=r"'filters' \(PyTorch spells it 'out_channels'\)"):
        model.add("Conv2d", filters=4, kernel_size=3)
    assert [ly.op for ly in model.layers] == ["ReLU"]  # the bad layers were not kept
    with pytest.raises(KeyError, match="Did you mean 'relu"):
        model.plan().layer("relu")


def test_compare_solve_and_check_from_python_match_the_cli(runner):
    import json

    import convcalc
    from convcalc.cli import cli

    comparison = convcalc.compare(str(EXAMPLES / "conv1d_on_images.yaml"))
    cli_json = json.loads(runner.invoke(cli, ["compare", str(EXAMPLES / "conv1d_on_images.yaml"), "--format",
                                              "json"]).stdout)
    assert comparison.to_dict() == cli_json
    sizes = convcalc.solve(str(EXAMPLES / "unet_symbolic.yaml"))
    assert (sizes.symbols["H"].first, sizes.symbols["H"].modulus) == (188, 16)
    report = convcalc.check(str(EXAMPLES / "resnet50.yaml"), H=32, W=32)
    assert report.ok and [ly.name for ly in report.layers] == [
        ly.name for ly in convcalc.load(str(EXAMPLES / "resnet50.yaml")).plan(H=32, W=32).layers]
