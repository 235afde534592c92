"""Bad models get one clear error: file:line, the layer, the numbers (with the formula where one
applies) and a fix — exit code 1, never a traceback. The texts are part of the interface
(design.md §5), so they are pinned here whole.

The numbers in the expected texts were worked out by hand from the framework rules, e.g. a
5-wide kernel on a 4-wide input: floor((4 + 0 + 0 - 1*(5-1) - 1) / 1) + 1 = 0.
"""

from __future__ import annotations

import pytest

from convcalc.cli import cli

CASES = {
    "empty-output": (
        """\
name: tiny
framework: keras
input: [1, 8, 8, 64]
layers:
  - {op: MaxPooling2D, name: pool3, pool_size: 2}
  - op: Conv2D
    name: enc4b
    filters: 64
    kernel_size: 5
""",
        """\
error: {path}:6: layer 'enc4b' (Conv2D): output would be empty (H = 0): the kernel spans 5 but the padded input is 4
  H_out = floor((L_in + pad_begin + pad_end - dilation*(kernel-1) - 1) / stride) + 1
        = floor((4 + 0 + 0 - 1*(5-1) - 1) / 1) + 1 = 0
  input (1, 4, 4, 64) comes from 'pool3' ({path}:5)
  fix: padding: same, or kernel_size <= 4 along H
""",
    ),
    # The fix accounts for the dilation: k_eff = 2*(3-1) + 1 = 5 needs 2 + 2p >= 5, p >= 2 (padding 1
    # still leaves floor((2 + 2 - 5)/1) + 1 = 0).
    "dilated-empty-output": (
        """\
framework: pytorch
input: [1, 1, 2, 2]
layers:
  - {op: Conv2d, name: c, out_channels: 1, kernel_size: 3, dilation: 2}
""",
        """\
error: {path}:4: layer 'c' (Conv2d): output would be empty (H = -2): the kernel spans 5 but the padded input is 2
  H_out = floor((L_in + pad_begin + pad_end - dilation*(kernel-1) - 1) / stride) + 1
        = floor((2 + 0 + 0 - 2*(3-1) - 1) / 1) + 1 = -2
  input (1, 1, 2, 2) comes from the model input
  fix: padding=2 or more along H, a kernel_size of at most 1 along H, or a larger input
""",
    ),
    "argument-typo": (
        """\
framework: pytorch
input: [1, 3, 32, 32]
layers:
  - op: Conv2d
    out_channels: 8
    kernal_size: 3
""",
        """\
error: {path}:6: layer 'conv2d_1' (Conv2d): Conv2d has no argument 'kernal_size'. Did you mean 'kernel_size'?
  input (1, 3, 32, 32) comes from the model input
  fix: Conv2d takes: in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode
""",
    ),
    "op-of-another-framework": (
        """\
framework: pytorch
input: [1, 3, 32, 32]
layers:
  - {op: Conv2D, filters: 8, kernel_size: 3}
""",
        """\
error: {path}:4: layer 'conv2d_1' (Conv2D): 'Conv2D' is not a PyTorch op; it belongs to Keras 3 (framework: keras) and tf.keras (framework: tf.keras). Did you mean 'Conv2d', 'nn.Conv2d' or 'Conv3d'?
  input (1, 3, 32, 32) comes from the model input
  fix: use the PyTorch name, or set framework: keras
""",
    ),
    "concatenate-mismatch": (
        """\
framework: keras
input: [1, 100, 3]
layers:
  - {op: Conv1D, name: k2, filters: 8, kernel_size: 2}
  - {op: Conv1D, name: k3, inputs: input, filters: 8, kernel_size: 3}
  - {op: Concatenate, name: cat, inputs: [k2, k3]}
""",
        """\
error: {path}:6: layer 'cat' (Concatenate): cannot concatenate (1, 99, 8) and (1, 98, 8) on axis -1: axis 1 differs (99 vs 98)
  input (1, 99, 8) comes from 'k2' ({path}:4)
  input (1, 98, 8) comes from 'k3' ({path}:5)
  fix: make axis 1 equal before concatenating: crop or pad one input (a difference of 1), or use 'same' padding in the layers that feed it
""",
    ),
    "torch-same-with-stride": (
        """\
framework: pytorch
input: [1, 3, 10, 10]
layers:
  - {op: Conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: same}
""",
        """\
error: {path}:4: layer 'conv2d_1' (Conv2d): padding='same' is not supported for strided convolutions (stride=(2, 2))
  input (1, 3, 10, 10) comes from the model input
  fix: use stride 1 with padding='same', or explicit padding (TF-style 'same' with stride 2 needs F.pad(x, (0, 1, 0, 1)) then padding 0 on even sizes)
""",
    ),
    "groups-do-not-divide": (
        """\
framework: pytorch
input: [1, 6, 10, 10]
layers:
  - {op: Conv2d, out_channels: 8, kernel_size: 3, groups: 4}
""",
        """\
error: {path}:4: layer 'conv2d_1' (Conv2d): the input has 6 channels, which groups=4 does not divide
  input (1, 6, 10, 10) comes from the model input
  fix: groups must divide 6
""",
    ),
    "keras-output-padding": (
        """\
framework: keras
input: [1, 5, 5, 3]
layers:
  - {op: Conv2DTranspose, filters: 4, kernel_size: 3, strides: 2, output_padding: 2}
""",
        """\
error: {path}:4: layer 'conv2d_transpose_1' (Conv2DTranspose): Strides must be greater than output padding. Received strides=(2, 2), output_padding=(2, 2)
  input (1, 5, 5, 3) comes from the model input
  fix: output_padding < 2 along H, or output_padding: null
""",
    ),
    "keras3-conv1d-on-images": (
        """\
framework: keras
input: [20, 100, 100, 3]
layers:
  - {op: Conv1D, filters: 32, kernel_size: 3}
""",
        """\
error: {path}:4: layer 'conv1d_1' (Conv1D): Keras 3 Conv1D needs a 3-D input (batch, steps, channels), got 4-D (20, 100, 100, 3); Keras 3 rejects extra leading batch axes ('Kernel shape must have the same length as input'), which tf.keras accepts
  input (20, 100, 100, 3) comes from the model input
  fix: use framework: tf.keras, wrap the layer in TimeDistributed, or Reshape to merge the leading axes
""",
    ),
    "reflect-padding-too-large": (
        """\
framework: pytorch
input: [1, 3, 3, 3]
layers:
  - {op: Conv2d, out_channels: 2, kernel_size: 3, padding: 3, padding_mode: reflect}
""",
        """\
error: {path}:4: layer 'conv2d_1' (Conv2d): reflect padding 3 must be smaller than the input size H = 3
  input (1, 3, 3, 3) comes from the model input
  fix: use padding_mode='replicate' or 'zeros', or a smaller padding
""",
    ),
    "pool-padding-over-half-kernel": (
        """\
framework: pytorch
input: [1, 3, 9, 9]
layers:
  - {op: MaxPool2d, kernel_size: 3, padding: 2}
""",
        """\
error: {path}:4: layer 'max_pool2d_1' (MaxPool2d): pad should be at most half of kernel size, but got padding=(2, 2) and kernel_size=(3, 3)
  input (1, 3, 9, 9) comes from the model input
  fix: padding <= 1 along H (PyTorch pads at most kernel_size // 2)
""",
    ),
    "onnx-pads-and-auto-pad": (
        """\
framework: onnx
input: [1, 3, 10, 11]
layers:
  - {op: ConvTranspose, out_channels: 4, kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], auto_pad: SAME_UPPER}
""",
        """\
error: {path}:4: layer 'conv_transpose_1' (ConvTranspose): The pads attribute cannot be used simultaneously with auto_pad attribute
  input (1, 3, 10, 11) comes from the model input
  fix: remove pads, or set auto_pad: NOTSET
""",
    ),
    "cycle": (
        """\
framework: pytorch
input: [1, 4]
layers:
  - {op: Linear, name: a, inputs: b, out_features: 4}
  - {op: Linear, name: b, inputs: a, out_features: 4}
""",
        """\
error: {path}:5: layer 'b' (Linear): the layers form a cycle: b -> a -> b
  fix: a layer can only read model inputs and layers that do not depend on it
""",
    ),
    "duplicate-name": (
        """\
framework: pytorch
input: [1, 4]
layers:
  - {op: Linear, name: a, out_features: 4}
  - {op: Linear, name: a, out_features: 4}
""",
        """\
error: {path}:5: the name 'a' is used twice (first at line 4)
  fix: give every layer a unique name
""",
    ),
    "unknown-top-level-key": (
        """\
framwork: keras
input: [1, 4]
layers:
  - {op: Dense, units: 3}
""",
        """\
error: {path}:1: unknown key 'framwork' in the model. Did you mean 'framework'?
  fix: the model keys are: name, description, framework, dtype, input, inputs, symbols, layers, variants
""",
    ),
    "yaml-syntax": (
        """\
framework: pytorch
input: [1, 4
layers:
  - {op: Linear, out_features: 4}
""",
        """\
error: {path}:3: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence)
  fix: check the indentation and the quoting near that line
""",
    ),
    "non-positive-size": (
        """\
framework: pytorch
input: [1, 0, 4]
layers:
  - {op: Linear, out_features: 4}
""",
        """\
error: {path}:2: input 'input': sizes must be at least 1, got 0 in [1, 0, 4]
  fix: every size is a positive integer (or a symbol such as H)
""",
    ),
    "torch-conv-transpose-output-size": (
        """\
framework: pytorch
input: [1, 8, 7, 7]
layers:
  - {op: ConvTranspose2d, out_channels: 4, kernel_size: 3, stride: 2, padding: 1, output_size: [15, 15]}
""",
        """\
error: {path}:4: layer 'conv_transpose2d_1' (ConvTranspose2d): requested an output size of [15, 15], but valid sizes range from [13, 13] to [14, 14] (for an input of (7, 7))
  input (1, 8, 7, 7) comes from the model input
  fix: an output_size in that range (it sets output_padding = output_size - minimum), or change stride/padding
""",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_error_text(name, runner, write_model):
    text, expected = CASES[name]
    path = write_model(text)
    result = runner.invoke(cli, ["plan", path])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr == expected.format(path=path)
    assert "Traceback" not in result.output


def test_every_error_names_place_layer_and_fix(runner, write_model):
    """The layer errors all carry file:line, the layer and a fix."""
    for name, (text, _) in CASES.items():
        if name in ("yaml-syntax", "unknown-top-level-key", "duplicate-name", "non-positive-size", "cycle"):
            continue
        path = write_model(text)
        err = runner.invoke(cli, ["plan", path]).stderr
        first = err.splitlines()[0]
        assert first.startswith(f"error: {path}:"), name
        assert "layer '" in first, name
        assert "\n  fix: " in err, name


def test_every_shape_error_names_its_reason():
    """A ShapeError without a Reason could not be worded by a frontend's fix (errors.Reason): scan
    the sources for ShapeError(...) and call.fail(..., cls=ShapeError) without reason=."""
    import ast
    from pathlib import Path

    missing = []
    for path in sorted((Path(__file__).parent.parent / "convcalc").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            keywords = {k.arg for k in node.keywords}
            shape_fail = name == "fail" and any(k.arg == "cls" and getattr(k.value, "id", "") == "ShapeError"
                                                for k in node.keywords)
            if (name == "ShapeError" or shape_fail) and "reason" not in keywords:
                missing.append(f"{path.name}:{node.lineno}")
    assert not missing, "ShapeError without a reason at " + ", ".join(missing)
