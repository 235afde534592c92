"""Broken model files never produce a traceback: exit 1 (model) or 2 (usage) with a message.

Hypothesis mutates valid models of every framework (wrong types, junk values, unknown ops,
missing or circular inputs, duplicate names, non-positive and huge sizes), corrupts the YAML
text itself, and builds alias bombs. Whatever comes out, convcalc either plans it (exit 0) or
says ``error: ...`` — an internal error (exit 4) fails the test.
"""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.cli import cli

BASES = [
    {"framework": "keras", "input": [1, 16, 16, 3], "layers": [
        {"op": "Conv2D", "name": "c1", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"op": "MaxPooling2D", "name": "p1"},
        {"op": "Conv2DTranspose", "name": "u1", "filters": 2, "kernel_size": 2, "strides": 2},
        {"op": "Concatenate", "name": "cat", "inputs": ["u1", "c1"]},
        {"op": "Dense", "name": "d", "units": 3}]},
    {"framework": "pytorch", "input": [1, 3, 12, 12], "layers": [
        {"op": "Conv2d", "name": "c", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"op": "BatchNorm2d", "name": "bn"},
        {"op": "MaxPool2d", "name": "p", "kernel_size": 2, "ceil_mode": True},
        {"op": "add", "name": "a", "inputs": ["p", "p"]},
        {"op": "flatten", "name": "f", "start_dim": 1},
        {"op": "Linear", "name": "fc", "out_features": 5}]},
    {"framework": "onnx", "inputs": {"x": [1, 2, 9, 9]}, "layers": [
        {"op": "Conv", "name": "c", "inputs": "x", "out_channels": 4, "kernel_shape": [3, 3], "auto_pad": "SAME_UPPER"},
        {"op": "AveragePool", "name": "p", "kernel_shape": [2, 2], "strides": [2, 2]},
        {"op": "Reshape", "name": "r", "shape": [0, -1]},
        {"op": "Gemm", "name": "g", "out_features": 3}]},
    {"framework": "tf.keras", "input": ["N", "H", "W", 3], "symbols": {"N": 2, "H": 10, "W": 10}, "layers": [
        {"op": "Conv1D", "name": "c", "filters": 2, "kernel_size": 3, "padding": "causal"},
        {"op": "Cropping2D", "name": "cr", "cropping": [[1, 1], [0, 0]]},
        {"op": "Reshape", "name": "r", "target_shape": [-1, 2]}]},
]

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["same", "valid", "causal", "H", "2*H", "H/0", "ceil(", "floor(H)", "x" * 300, "Conv2d", "Dense",
                     "SAME_LOWER", "reflect", "-1", "1e-3", "H**99", "((((((((((1))))))))))"]),
    st.lists(st.integers(-3, 9), max_size=7),
    st.lists(st.lists(st.integers(-2, 4), max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
KEYS = st.sampled_from(["op", "name", "inputs", "filters", "kernel_size", "strides", "padding", "units",
                        "out_channels", "stride", "groups", "axis", "dims", "shape", "target_shape", "cropping",
                        "kernel_shape", "pads", "auto_pad", "output_padding", "data_format", "bogus_key",
                        "use_bias", "dilation_rate", "output_size", "scale_factor", "size"])
TOP = st.sampled_from(["framework", "input", "inputs", "layers", "symbols", "dtype", "name", "variants", "junk"])


@st.composite
def mutated_models(draw):
    model = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 7))
        layers = model.get("layers")
        if kind <= 3 and isinstance(layers, list) and layers:
            layer = layers[draw(st.integers(0, len(layers) - 1))]
            if isinstance(layer, dict):
                layer[draw(KEYS)] = draw(JUNK)
        elif kind == 4:
            model[draw(TOP)] = draw(JUNK)
        elif kind == 5 and isinstance(layers, list) and len(layers) > 1:
            i, j = draw(st.integers(0, len(layers) - 1)), draw(st.integers(0, len(layers) - 1))
            if isinstance(layers[i], dict) and isinstance(layers[j], dict):
                layers[i]["inputs"] = layers[j].get("name", "nowhere")  # cycles, self-loops, forward references
        elif kind == 6 and isinstance(layers, list) and layers:
            layers.insert(draw(st.integers(0, len(layers))), copy.deepcopy(layers[0]))  # duplicate names
        elif kind == 7 and isinstance(layers, list) and layers:
            del layers[draw(st.integers(0, len(layers) - 1))]
    return model


SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])


def _check(runner, path, args=()):
    result = runner.invoke(cli, ["plan", path, *args])
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 1 or (result.exit_code == 2 and "Usage:" not in result.stderr):
        assert result.stderr.startswith("error: "), result.stderr
    if result.exit_code == 2 and "Usage:" in result.stderr:  # click's own flag errors
        assert "Error: " in result.stderr
    if result.exit_code:
        assert result.stdout == ""
    return result


@SETTINGS
@given(mutated_models())
def test_mutated_models_fail_cleanly(runner, write_model, model):
    path = write_model(yaml.safe_dump(model, sort_keys=False))
    _check(runner, path)


@SETTINGS
@given(st.sampled_from(BASES), st.data())
def test_corrupted_yaml_fails_cleanly(runner, write_model, model, data):
    text = yaml.safe_dump(model, sort_keys=False)
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.sampled_from(["", "[", "]", "{", ":", "- ", "\t", "&a", "*a", "!!python/object:os.system", "'",
                                      '"', "\n  - {op: ", "%YAML 9.9\n", "---\n---\n", "\x00"]))
    path = write_model(text[:cut] + junk + text[cut + data.draw(st.integers(0, 5)):])
    _check(runner, path)


def test_alias_bomb_is_refused(runner, write_model):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    text = "\n".join(levels) + "\nframework: keras\ninput: [1, 4]\nlayers:\n  - {op: Dense, units: *a8}\n"
    result = _check(runner, write_model(text))
    assert result.exit_code == 1
    assert "alias" in result.stderr


def test_python_tags_are_not_executed(runner, write_model, tmp_path):
    marker = tmp_path / "pwned"
    text = f"framework: keras\ninput: [1, 4]\nlayers:\n  - !!python/object/apply:os.system ['touch {marker}']\n"
    result = _check(runner, write_model(text))
    assert result.exit_code == 1
    assert not marker.exists()


def test_targeted_breakages_exit_1(runner, write_model):
    broken = {
        "unknown op": "framework: keras\ninput: [1, 4]\nlayers:\n  - {op: Dence, units: 3}\n",
        "missing input": "framework: keras\ninput: [1, 4]\nlayers:\n  - {op: Dense, units: 3, inputs: nope}\n",
        "self loop": "framework: keras\ninput: [1, 4]\nlayers:\n  - {op: Dense, name: d, units: 3, inputs: d}\n",
        "no layers": "framework: keras\ninput: [1, 4]\n",
        "empty file": "",
        "list document": "- 1\n- 2\n",
        "no op": "framework: keras\ninput: [1, 4]\nlayers:\n  - {units: 3}\n",
        "negative size": "framework: keras\ninput: [1, -4]\nlayers:\n  - {op: Dense, units: 3}\n",
        "huge size": "framework: keras\ninput: [1, 100000000000000000000]\nlayers:\n  - {op: Dense, units: 3}\n",
        "float size": "framework: keras\ninput: [1, 4.5]\nlayers:\n  - {op: Dense, units: 3}\n",
        "bad expression": "framework: keras\ninput: [1, 'H +* 2']\nlayers:\n  - {op: Dense, units: 3}\n",
        "eval attempt": "framework: keras\ninput: [1, '__import__(\"os\")']\nlayers:\n  - {op: Dense, units: 3}\n",
        "string units": "framework: keras\ninput: [1, 4]\nlayers:\n  - {op: Dense, units: three}\n",
        "duplicate key": "framework: keras\ninput: [1, 4]\nlayers:\n  - {op: Dense, units: 3, units: 4}\n",
        "variants not a map": "framework: keras\ninput: [1, 4]\nlayers: [{op: Dense, units: 3}]\nvariants: [1]\n",
    }
    for name, text in broken.items():
        result = _check(runner, write_model(text))
        assert result.exit_code == 1, (name, result.output)


def test_usage_errors_exit_2(runner, write_model, tmp_path):
    good = write_model("framework: keras\ninput: [1, H]\nlayers:\n  - {op: Dense, units: 3}\n")
    assert _check(runner, str(tmp_path / "missing.yaml")).exit_code == 2
    assert _check(runner, str(tmp_path)).exit_code == 2
    assert _check(runner, good, ["--set", "H"]).exit_code == 2
    assert _check(runner, good, ["--set", "H=-3"]).exit_code == 2
    assert _check(runner, good, ["--set", "Q=3"]).exit_code == 2
    assert _check(runner, good, ["--format", "pdf"]).exit_code == 2
    assert _check(runner, good, ["-o", str(tmp_path / "no" / "such" / "dir.txt")]).exit_code == 2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(mutated_models())
def test_every_command_fails_cleanly(runner, write_model, model):
    """check, solve, compare, --symbolic and --sweep on the same broken files: 0-3, never 4."""
    path = write_model(yaml.safe_dump(model, sort_keys=False))
    for args in (["check", path, "--max-macs", "1e7", "--set", "H=9", "--set", "W=9", "--set", "N=1"],
                 ["solve", path], ["compare", path], ["plan", path, "--symbolic"], ["plan", path, "--sweep", "H=1:50"]):
        result = runner.invoke(cli, args)
        assert result.exit_code in (0, 1, 2, 3), (args, result.exit_code, result.output)
        assert "Traceback" not in result.output
