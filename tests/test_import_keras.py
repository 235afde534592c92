"""The Keras importer on the Keras applications, as Keras 3 (``to_json()`` of keras 3.15.1) and
tf.keras 2 (tf_keras 2.21) wrote them (tests/importers/generators/gen_keras_apps.py, built with
``weights=None``): every layer's output shape and parameter counts against Keras' own
(``layer.output.shape``, ``count_params()``), the totals split as Keras splits them, and the
MACs against torch's FlopCounterMode where torchvision has the same architecture.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

import convcalc
from convcalc.errors import ModelError

FIXTURES = Path(__file__).parent / "importers" / "fixtures"
CASES = [(flavor, p.name[: -len(".json.gz")]) for flavor in ("keras", "tf_keras")
         for p in sorted((FIXTURES / flavor).glob("*.json.gz"))]
# Keras applications whose architecture is torchvision's, at the same input size: the MACs of
# the one equal the FlopCounterMode count of the other.
SAME_AS_TORCHVISION = {"VGG16": "vgg16", "MobileNetV2": "mobilenet_v2", "DenseNet121": "densenet121",
                       "EfficientNetB0": "efficientnet_b0", "InceptionV3": "inception_v3",
                       "ConvNeXtTiny": "convnext_tiny", "MobileNetV3Large_224": "mobilenet_v3_large",
                       "MobileNetV3Small_224": "mobilenet_v3_small"}


def _config(flavor: str, name: str) -> dict:
    return json.loads(gzip.open(FIXTURES / flavor / f"{name}.json.gz").read())


def _concrete(shape):
    return None if shape is None or (shape and isinstance(shape[0], list)) else [
        1 if (d is None and i == 0) else d for i, d in enumerate(shape)]


@pytest.mark.parametrize("flavor,name", CASES, ids=[f"{f}-{n}" for f, n in CASES])
def test_every_layer_matches_keras(flavor, name):
    expected = json.loads((FIXTURES / flavor / f"{name}.expected.json").read_text())
    model = convcalc.from_keras(_config(flavor, name))
    assert model.framework == ("tf.keras" if flavor == "tf_keras" else "keras")
    plan = model.plan()
    layers = {ly.name: ly for ly in plan.layers}
    compared = 0
    for want in expected["layers"]:
        got = layers.get(want["name"])
        if got is None:
            assert want["class_name"] in ("InputLayer", "Sequential", "Functional"), want["name"]
            continue
        shape = _concrete(want["output_shape"])
        if shape is not None:
            assert [d if isinstance(d, int) else None for d in got.output_shape] == shape, want["name"]
        assert (got.trainable_params, got.non_trainable_params) == (want["trainable_params"],
                                                                    want["non_trainable_params"]), want["name"]
        compared += 1
    assert compared == len(plan.layers)
    assert (plan.totals.params, plan.totals.trainable_params, plan.totals.non_trainable_params) == (
        expected["total_params"], expected["trainable_params"], expected["non_trainable_params"])


@pytest.mark.parametrize("flavor", ["keras", "tf_keras"])
@pytest.mark.parametrize("name", sorted(SAME_AS_TORCHVISION))
def test_macs_equal_torchs_count_of_the_same_architecture(flavor, name):
    torch_fixture = json.loads((FIXTURES / "torchvision" / f"{SAME_AS_TORCHVISION[name]}.json").read_text())
    assert convcalc.from_keras(_config(flavor, name)).plan().totals.macs == torch_fixture["total_macs"]


def test_none_sizes_become_symbols():
    model = convcalc.from_keras(_config("keras", "ResNet50_symbolic"))
    assert model.inputs["input"] == ("N", "H", "W", 3) and model.symbols == {"N": 1}
    plan = model.plan()
    last = plan.layer("conv5_block3_out")
    assert convcalc.dims.fmt_shape(last.output_shape) == "(1, ceil(H/32), ceil(W/32), 2048)"


def test_a_keras_zip_and_to_json_text_and_h5(tmp_path, runner):
    from convcalc.cli import cli

    keras_file = FIXTURES / "keras" / "MobileNetV2.keras"
    with zipfile.ZipFile(keras_file) as z:
        assert "model.weights.h5" not in z.namelist()  # the fixture keeps the config only
    plan = convcalc.load(str(keras_file)).plan()
    assert plan.totals.params == 3538984
    text = gzip.open(FIXTURES / "tf_keras" / "VGG16.json.gz").read().decode()
    json_path = tmp_path / "vgg16.json"
    json_path.write_text(text)
    result = runner.invoke(cli, ["plan", str(json_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["params"] == 138357544
    import h5py

    h5_path = tmp_path / "vgg16.h5"
    with h5py.File(h5_path, "w") as f:
        f.attrs["model_config"] = text
    assert convcalc.load(str(h5_path)).framework == "tf.keras"


def test_bad_keras_files(tmp_path, runner):
    from convcalc.cli import cli

    good = gzip.open(FIXTURES / "keras" / "VGG16.json.gz").read()
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(good[: len(good) // 2])
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", b" " * (80 * 1024 * 1024))  # 80 MiB of spaces, ~80 KiB zipped
    unknown = json.loads(good)
    unknown["config"]["layers"][3]["class_name"] = "FancyConv2D"
    unknown_path = tmp_path / "unknown.json"
    unknown_path.write_text(json.dumps(unknown))
    lam = json.loads(good)
    lam["config"]["layers"][3]["class_name"] = "Lambda"
    lam["config"]["layers"][3]["config"] = {"name": lam["config"]["layers"][3]["name"], "function": "gASV..."}
    lam_path = tmp_path / "lambda.json"
    lam_path.write_text(json.dumps(lam))
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    cases = {truncated: "not valid JSON", bomb: "zip bomb", unknown_path: "FancyConv2D x1 (first: layer 'block1_pool')",
             lam_path: "Lambda x1", corrupt: "not a readable .keras file"}
    for path, text in cases.items():
        result = runner.invoke(cli, ["plan", str(path)])
        assert result.exit_code == 1, (path, result.output)
        assert result.stderr.startswith(f"error: {path}") and text in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_unsupported_layers_are_listed_once_each_with_counts():
    config = _config("keras", "ResNet50")
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Add":
            layer["class_name"] = "MysteryAdd"
    with pytest.raises(ModelError, match=r"16 layer\(s\) convcalc cannot model: MysteryAdd x16 \(first: layer "
                                         r"'conv2_block1_add'\)"):
        convcalc.from_keras(config)


def test_a_live_model_is_read_through_to_json_only():
    class FakeKerasModel:  # what from_keras touches of a Keras model: to_json(), nothing else
        def to_json(self):
            return gzip.open(FIXTURES / "keras" / "VGG16.json.gz").read().decode()

        def __getattr__(self, name):
            raise AssertionError(f"from_keras read model.{name}")

    assert convcalc.from_keras(FakeKerasModel()).plan().totals.macs == 15470264320


@pytest.mark.parametrize("flavor", ["keras", "tf_keras"])
def test_a_lambda_with_partial_is_an_opaque_row_with_the_recorded_shape(flavor, runner, tmp_path):
    """Keras 3 records each input tensor's shape in its consumers' calls, tf.keras the
    consumers' build_config: the Lambda's output shape is the file's own; its parameters and
    MACs are unknown (no weights are read), so the totals are lower bounds."""
    from convcalc.cli import cli

    config = _config(flavor, "VGG16")
    pool = config["config"]["layers"][3]
    pool["class_name"], pool["config"] = "Lambda", {"name": pool["name"], "function": "gASVlAAAAAAAAACMCGJ1aWx0aW5zlA=="}
    plan = convcalc.from_keras(config, partial=True).plan()
    opaque = plan.layer("block1_pool")
    assert (opaque.op, opaque.output_shape) == ("Opaque", (1, 112, 112, 64))
    assert {"macs", "params"} <= plan.unknown
    assert plan.to_dict()["params_complete"] is False and opaque.to_dict()["params"] is None
    path = tmp_path / "vgg16_lambda.json"
    path.write_text(json.dumps(config))
    result = runner.invoke(cli, ["plan", str(path), "--partial"])
    assert result.exit_code == 0 and "≥ 15,470,264,320 MACs" in result.stdout, result.output
