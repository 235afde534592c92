"""Receptive fields (convcalc/receptive.py) against torch's gradient support, the executor's
window walks (convcalc check --rf) and the textbook figures.

The torch oracle: every weight made positive, biases zero, max pooling replaced by average
pooling over the same windows, a positive input; the pixels whose gradient is non-zero for one
output element are exactly the ones it depends on (no sum can cancel), so their bounding box is
the element's field inside the input.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.check import check_fields
from convcalc.receptive import ElementBoxes, receptive_fields

from .conftest import EXAMPLES, torch_or_skip, torchvision_or_skip


def positive(torch, module):
    """The measurement's module: positive weights, no biases, average instead of max pooling."""
    nn = torch.nn
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.MaxPool1d, nn.MaxPool2d)):
            pool = nn.AvgPool1d if isinstance(child, nn.MaxPool1d) else nn.AvgPool2d
            setattr(module, name, pool(child.kernel_size, child.stride, child.padding, ceil_mode=child.ceil_mode))
        elif isinstance(child, (nn.MaxPool3d, nn.AdaptiveMaxPool2d)):
            raise AssertionError("not used here")
        else:
            positive(torch, child)
    with torch.no_grad():
        for p_name, p in module.named_parameters(recurse=False):
            p.copy_(p.abs() + 0.01 if "weight" in p_name else torch.zeros_like(p))
    return module


def torch_box(torch, module, shape, index):
    """Per spatial axis (2, 3, ...) the (first, last) input pixel output ``index`` depends on."""
    x = (torch.rand(*shape) + 0.5).requires_grad_()
    y = module(x)
    y[index].backward()
    support = x.grad[0].abs().sum(0) > 0  # over the channels
    boxes = []
    for ax in range(support.dim()):
        other = tuple(a for a in range(support.dim()) if a != ax)
        hit = support.any(dim=other[0]) if len(other) == 1 else support.flatten(0) if not other else support
        if len(other) > 1:
            hit = support.permute(ax, *other).flatten(1).any(1)
        rows = torch.nonzero(hit).flatten()
        boxes.append((int(rows[0]), int(rows[-1])) if len(rows) else None)
    return boxes


def predicted_box(plan, layer, index):
    boxes = ElementBoxes(plan, real=True)
    return [boxes.box(layer, ax, i) for ax, i in zip(boxes.axes(layer), index)]


# --------------------------------------------------------------------------- the textbook figures


@pytest.mark.parametrize("name,size,layer,field,jump", [
    ("resnet50", 512, "layer4.", 427, 32),
    ("vgg16", 256, "features.", 212, 32),
    ("alexnet", 320, "features.", 195, 32),
    ("shufflenet_v2_x0_5", 576, "conv5.", 527, 32),  # channel shuffles: views that keep H and W
])
def test_the_textbook_fields_are_torchs_gradient_support(name, size, layer, field, jump):
    """ResNet-50's last feature map sees 427 pixels, VGG-16's features 212, AlexNet's 195 (and
    ShuffleNetV2's 527) — the figures of `convcalc rf` on the imported torchvision modules, and
    the boxes of their centre and first element measured on torch's own gradient."""
    torch = torch_or_skip()
    torchvision = torchvision_or_skip()
    module = getattr(torchvision.models, name)().eval()
    shape = (1, 3, size, size)
    plan = convcalc.from_torch(module, shape).plan()
    fields = receptive_fields(plan)
    last = fields[[ly.name for ly in plan.layers if ly.name.startswith(layer)][-1]]  # the last feature map
    assert [a.size for a in last.axes] == [field, field] and [a.stride for a in last.axes] == [jump, jump]
    trunk = {"resnet50": lambda m: torch.nn.Sequential(*list(m.children())[:-2]),
             "vgg16": lambda m: m.features, "alexnet": lambda m: m.features,
             "shufflenet_v2_x0_5": lambda m: torch.nn.Sequential(m.conv1, m.maxpool, m.stage2, m.stage3, m.stage4,
                                                                 m.conv5)}[name](positive(torch, module))
    out = plan.layer(last.layer).output_shape
    for i in (out[2] // 2, 0):
        got = torch_box(torch, trunk, shape, (0, 0, i, i))
        assert got == predicted_box(plan, last.layer, (i, i)), (name, i)
    centre = out[2] // 2
    lo, hi = predicted_box(plan, last.layer, (centre, centre))[0]
    assert hi - lo + 1 == field  # the centre's field lies inside the input: all of it is measured


def test_the_examples_give_the_textbook_fields(runner):
    from convcalc.cli import cli

    for model, layer, field in [("resnet50", "layer4.2.relu3", 427), ("resnet50_repeat", "layer4.2.relu3", 427),
                                ("vgg16", "features.30", 212)]:
        result = runner.invoke(cli, ["rf", str(EXAMPLES / f"{model}.yaml"), "--layer", layer, "--format", "json"])
        assert result.exit_code == 0, result.output
        (row,) = json.loads(result.stdout)["layers"]
        assert row["receptive_field"]["size"] == [field, field], model


# --------------------------------------------------------------------------- random chains against torch

CHAIN = st.lists(st.tuples(st.sampled_from(["conv", "pool", "ceil_pool", "transposed", "upsample", "bilinear", "pad"]),
                           st.integers(1, 4), st.integers(1, 3), st.integers(1, 2), st.integers(0, 2)),
                 min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CHAIN, st.integers(12, 40))
# CI found it: a dilated window next to the border whose real taps skip the pixel its neighbour sees
@example([("conv", 2, 1, 2, 1), ("conv", 3, 1, 1, 0)], 12)
def test_random_chains_see_what_torch_says(chain, length):
    """1-D chains of convolutions (stride, dilation, padding), average pools (ceil mode),
    transposed convolutions, nearest and linear upsampling and padding: every output element's
    box against torch's gradient support (the full Jacobian)."""
    torch = torch_or_skip()
    nn = torch.nn
    layers, yaml_layers, n = [], [], length
    for kind, k, s, d, p in chain:
        if kind == "conv":
            p = min(p, (d * (k - 1)) // 2 + 1)
            if n + 2 * p < d * (k - 1) + 1:
                continue
            layers.append(nn.Conv1d(2, 2, k, stride=s, dilation=d, padding=p))
            yaml_layers.append({"op": "Conv1d", "out_channels": 2, "kernel_size": k, "stride": s, "dilation": d,
                                "padding": p})
            n = (n + 2 * p - d * (k - 1) - 1) // s + 1
        elif kind in ("pool", "ceil_pool"):
            k, p = max(k, 2), min(p, max(k, 2) // 2)
            if n + 2 * p < k:
                continue
            ceil = kind == "ceil_pool"
            layers.append(nn.AvgPool1d(k, stride=s, padding=p, ceil_mode=ceil))
            yaml_layers.append({"op": "MaxPool1d", "kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil})
            n = nn.AvgPool1d(k, stride=s, padding=p, ceil_mode=ceil)(torch.zeros(1, 1, n)).shape[-1]
        elif kind == "transposed":
            p = min(p, (d * (k - 1)) // 2)
            out_pad = 1 if s > 1 and d == 1 else 0
            layer = nn.ConvTranspose1d(2, 2, k, stride=s, dilation=d, padding=p, output_padding=out_pad)
            m = layer(torch.zeros(1, 2, n)).shape[-1]
            if m < 1:
                continue
            layers.append(layer)
            yaml_layers.append({"op": "ConvTranspose1d", "out_channels": 2, "kernel_size": k, "stride": s,
                                "dilation": d, "padding": p, "output_padding": out_pad})
            n = m
        elif kind in ("upsample", "bilinear"):
            mode = "nearest" if kind == "upsample" else "linear"
            # linear at scale 2 or 4 only: at 3 torch's float32 source index puts a weight of 1e-8
            # where the formula's is exactly 0 (convcalc follows the formula, in fractions)
            scale = s + 1 if mode == "nearest" else 2 * s
            layers.append(nn.Upsample(scale_factor=scale, mode=mode))
            yaml_layers.append({"op": "Upsample", "scale_factor": scale, "mode": mode})
            n *= scale
        else:
            layers.append(nn.ConstantPad1d((p, k - 1), 0.0))
            yaml_layers.append({"op": "ConstantPad1d", "padding": [p, k - 1], "value": 0.0})
            n += p + k - 1
        if n > 400:
            break
    if not layers:
        return
    module = positive(torch, nn.Sequential(*layers))
    model = {"framework": "pytorch", "input": [1, 2, length],
             "layers": [{**ly, "name": f"l{i}"} for i, ly in enumerate(yaml_layers)]}
    plan = convcalc.Model.from_dict(model).plan()
    x = torch.rand(1, 2, length) + 0.5
    jac = torch.autograd.functional.jacobian(lambda t: module(t), x)  # (1, 2, n, 1, 2, L)
    support = jac.abs().sum((0, 1, 3, 4)) > 0  # (n, L)
    last = plan.layers[-1].name
    assert plan.layers[-1].output_shape[-1] == support.shape[0]
    for o in range(support.shape[0]):
        rows = torch.nonzero(support[o]).flatten()
        want = (int(rows[0]), int(rows[-1])) if len(rows) else None
        assert predicted_box(plan, last, (o,)) == [want], (yaml_layers, o)


@pytest.mark.parametrize("pool", ["adaptive", "global"])
def test_real_boxes_are_not_bounded_by_the_outer_taps(pool):
    """Next to the border a dilated convolution's element 0 sees pixel 1 alone and element 1
    sees 0..2: a window, an adaptive bin or a global pool over such elements spans every tap's
    box, not its first and last one's — against torch's gradient support."""
    torch = torch_or_skip()
    nn = torch.nn
    tail = nn.AdaptiveAvgPool1d(3) if pool == "adaptive" else nn.AdaptiveAvgPool1d(1)
    module = positive(torch, nn.Sequential(nn.Conv1d(2, 2, 2, dilation=2, padding=1), tail))
    plan = convcalc.Model.from_dict({"framework": "pytorch", "input": [1, 2, 13], "layers": [
        {"op": "Conv1d", "out_channels": 2, "kernel_size": 2, "dilation": 2, "padding": 1, "name": "a"},
        {"op": "AdaptiveAvgPool1d", "output_size": 3 if pool == "adaptive" else 1, "name": "p"}]}).plan()
    assert predicted_box(plan, "a", (0,)) == [(1, 1)] and predicted_box(plan, "a", (1,)) == [(0, 2)]
    for name, upto in [("a", 1), ("p", 2)]:
        part = module[:upto]
        for o in range(plan.layer(name).output_shape[-1]):
            assert predicted_box(plan, name, (o,)) == torch_box(torch, part, (1, 2, 13), (0, 0, o)), (name, o)
    assert all(r.ok for r in check_fields(plan))


# --------------------------------------------------------------------------- the executor's walks


def _every_example_variant():
    for path in sorted(EXAMPLES.glob("*.yaml")):
        loaded = convcalc.load(str(path))
        items = loaded.items() if isinstance(loaded, convcalc.Variants) else [(None, loaded)]
        for key, model in items:
            yield path.name, key, model


def test_check_rf_agrees_on_every_example():
    """Every example model and variant that plans, at sizes where a valid-padding U-Net fits."""
    checked = 0
    for name, key, model in _every_example_variant():
        sets = {s: (572 if "unet" in name and "valid" in str(key) or name == "unet_original.yaml" else 256)
                for s in model.symbol_names() if s in ("H", "W")}
        try:
            plan = model.plan(**sets)
        except convcalc.ModelError:
            continue  # variants that show an error on purpose
        rows = check_fields(plan)
        assert all(r.ok for r in rows), (name, key, [r for r in rows if not r.ok][:3])
        checked += len(rows)
    assert checked > 1500


def test_check_rf_agrees_on_the_golden_cases():
    """Every case of the framework fixtures that plans (tests/golden/*.json)."""
    from pathlib import Path

    probes = 0
    for path in sorted((Path(__file__).parent / "golden").glob("*.json")):
        for case in json.loads(path.read_text())["cases"]:
            if "error" in case["expected"]:
                continue
            try:
                plan = convcalc.Model.from_dict(case["model"]).plan()
            except convcalc.ModelError:
                continue
            rows = check_fields(plan)
            assert all(r.ok for r in rows), (path.name, case.get("id"), [r for r in rows if not r.ok][:2])
            probes += len(rows)
    assert probes > 3000


def test_the_check_command(runner):
    from convcalc.cli import cli

    result = runner.invoke(cli, ["check", str(EXAMPLES / "unet_2048.yaml"), "--variant", "same_padding", "--set",
                                 "H=128", "--set", "W=128", "--rf"])
    assert result.exit_code == 0, result.output
    assert "93 of 93 probed elements (31 layers) see the input box the closed forms predict" in \
        " ".join(result.stdout.split())
    data = json.loads(runner.invoke(cli, ["check", str(EXAMPLES / "resnet50.yaml"), "--rf", "--format",
                                          "json"]).stdout)
    assert data and all(row["ok"] for row in data)
    assert runner.invoke(cli, ["check", str(EXAMPLES / "resnet50.yaml"), "--rf", "--set", "H=H"]).exit_code == 2


# --------------------------------------------------------------------------- closed forms and the rest


def test_the_closed_form_is_the_walk_for_direct_layers():
    """Without fractional strides the closed form's start and size are element 0's walked box
    and every element's size (the walk reads padding as the layer below continued)."""
    plan = convcalc.load(str(EXAMPLES / "resnet50.yaml")).plan()
    boxes = ElementBoxes(plan)
    fields = receptive_fields(plan)
    for ly in plan.layers:
        for ax, f in zip(boxes.axes(ly.name), fields[ly.name].axes):
            lo, hi = boxes.box(ly.name, ax, 0)
            assert (f.start, f.size) == (lo, hi - lo + 1), ly.name
            lo3, hi3 = boxes.box(ly.name, ax, 3)
            assert lo3 == lo + 3 * f.stride and hi3 - lo3 == hi - lo


def test_keras_same_padding_starts_where_tensorflow_pads():
    """'same' at stride 2 on an even size: TensorFlow pads the odd pixel at the end (start 0),
    PyTorch's padding=1 at both ends (start -1); symbolic sizes keep the start symbolic."""
    keras = convcalc.Model(framework="keras", input=[1, "H", "W", 3]).add(
        "Conv2D", name="c", filters=4, kernel_size=3, strides=2, padding="same")
    torch_like = convcalc.Model(framework="pytorch", input=[1, 3, 224, 224]).add(
        "Conv2d", name="c", out_channels=4, kernel_size=3, stride=2, padding=1)
    assert [a.start for a in receptive_fields(keras.plan(H=224, W=224))["c"].axes] == [0, 0]
    assert [a.start for a in receptive_fields(keras.plan(H=225, W=225))["c"].axes] == [-1, -1]
    assert [a.start for a in receptive_fields(torch_like.plan())["c"].axes] == [-1, -1]
    symbolic = receptive_fields(keras.plan_symbolic())["c"].axes[0]
    assert symbolic.size == 3 and symbolic.stride == 2 and not isinstance(symbolic.start, int)


def test_a_skip_off_by_half_a_pixel_is_noted():
    """Two paths merged by an add: a 2x2 and a 3x3 'same' convolution are centred half a pixel
    apart; a stride-2 skip against a stride-1 path disagrees on the stride."""
    m = convcalc.Model(framework="keras", input=[1, 16, 16, 4])
    m.add("Conv2D", name="a", filters=4, kernel_size=2, padding="same", inputs=["input"])
    m.add("Conv2D", name="b", filters=4, kernel_size=3, padding="same", inputs=["input"])
    m.add("Add", name="sum", inputs=["a", "b"])
    field = receptive_fields(m.plan())["sum"]
    assert [a.size for a in field.axes] == [3, 3]
    assert any("centred 1/2 pixels apart" in n for n in field.notes)
    m.add("Conv2D", name="down", filters=4, kernel_size=1, strides=2, inputs=["input"])
    m.add("MaxPooling2D", name="pooled", pool_size=2, inputs=["sum"])
    m.add("Add", name="both", inputs=["down", "pooled"])
    assert not any("stride" in n for n in receptive_fields(m.plan())["both"].notes)  # both at jump 2


def test_plan_rf_columns_and_json(runner):
    from convcalc.cli import cli

    path = str(EXAMPLES / "resnet50.yaml")
    text = runner.invoke(cli, ["plan", path, "--rf", "--wide"]).stdout
    header = next(line for line in text.splitlines() if line.startswith("layer")).split()
    assert header[-3:] == ["field", "jump", "start"]
    data = json.loads(runner.invoke(cli, ["plan", path, "--rf", "--format", "json"]).stdout)
    rows = {ly["name"]: ly for ly in data["layers"]}
    assert rows["conv1"]["receptive_field"] == {"size": [7, 7], "stride": [2, 2], "start": [-3, -3]}
    assert rows["layer4.2.relu3"]["receptive_field"]["size"] == [427, 427]
    assert rows["fc"]["receptive_field"] is None
    plain = json.loads(runner.invoke(cli, ["plan", path, "--format", "json"]).stdout)
    assert "receptive_field" not in plain["layers"][0]  # only with --rf
    decoder = json.loads(runner.invoke(cli, ["plan", str(EXAMPLES / "decoder.yaml"), "--rf", "--format",
                                             "json"]).stdout)
    assert decoder["layers"][0]["receptive_field"] == {"size": [2], "stride": ["1/2"], "start": [-1]}


def test_rf_at_one_cell(runner):
    from convcalc.cli import cli

    path = str(EXAMPLES / "resnet50.yaml")
    result = runner.invoke(cli, ["rf", path, "--layer", "layer4.2.relu3", "--at", "H=3,W=3"])
    assert result.exit_code == 0, result.output
    assert "pixels -117..309 (427); inside the input: 0..223" in result.stdout  # -213 + 3*32
    data = json.loads(runner.invoke(cli, ["rf", path, "--layer", "conv1", "--at", "2=0,3=111", "--format",
                                          "json"]).stdout)
    assert data["box"] == {"2": [-3, 3], "3": [219, 225]}
    for bad in (["--at", "H=3"], ["--layer", "conv1", "--at", "H=999"], ["--layer", "conv1", "--at", "C=1"],
                ["--layer", "nope"]):
        assert runner.invoke(cli, ["rf", path, *bad]).exit_code == 2, bad


def test_the_valid_unet_fields_are_torchs():
    """examples/unet_original.yaml at 572: cropped skips, 2x2 up-convolutions (each output sees
    one input element: the field depends on the phase). torch's gradient support of a thin twin
    (2 channels everywhere: a field does not depend on the channels) for several output cells,
    and the notes on the skips, whose fields of element 0 are not centred alike."""
    torch = torch_or_skip()
    nn = torch.nn

    class Thin(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.ModuleList(nn.Sequential(nn.Conv2d(c, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3), nn.ReLU())
                                     for c in (1, 2, 2, 2, 2))
            self.up = nn.ModuleList(nn.ConvTranspose2d(2, 2, 2, stride=2) for _ in range(4))
            self.dec = nn.ModuleList(nn.Sequential(nn.Conv2d(4, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3), nn.ReLU())
                                     for _ in range(4))
            self.head = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            skips = []
            for i, enc in enumerate(self.enc):
                x = enc(x)
                if i < 4:
                    skips.append(x)
                    x = nn.functional.avg_pool2d(x, 2)  # max pooling measured as average
            for up, dec, skip, c in zip(self.up, self.dec, reversed(skips), (4, 16, 40, 88)):
                x = dec(torch.cat([skip[:, :, c:-c, c:-c], up(x)], 1))
            return self.head(x)

    module = positive(torch, Thin())
    plan = convcalc.load(str(EXAMPLES / "unet_original.yaml")).plan()
    for i in (0, 1, 2, 3, 17, 193, 387):
        assert torch_box(torch, module, (1, 1, 572, 572), (0, 0, i, 387 - i)) == \
            predicted_box(plan, "head", (i, 387 - i)), i
    field = receptive_fields(plan)["head"].axes[0]
    assert (field.size, field.stride, field.start) == (204, 1, 0)
    assert "axis 1: the merged fields of element 0 are centred 15/2 pixels apart" in receptive_fields(plan)["cat4"].notes


def test_global_context_sees_the_whole_input():
    """A squeeze-excitation (average pooling to one cell, multiplied back into the features):
    from there on every output depends on every input pixel — torch's gradient says so — and
    the field is 'all', not the span of the pooled window."""
    torch = torch_or_skip()
    nn = torch.nn

    class SE(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.pool, self.fc, self.after = (nn.Conv2d(2, 2, 3, padding=1), nn.AdaptiveAvgPool2d(1),
                                                         nn.Conv2d(2, 2, 1), nn.Conv2d(2, 2, 1))

        def forward(self, x):
            y = self.conv(x)
            return self.after(y * torch.sigmoid(self.fc(self.pool(y))))

    module = positive(torch, SE())
    assert torch_box(torch, module, (1, 2, 20, 20), (0, 0, 0, 0)) == [(0, 19), (0, 19)]
    plan = convcalc.from_torch(module, (1, 2, 20, 20)).plan()
    fields = receptive_fields(plan)
    assert fields[plan.layers[0].name].axes[0].size == 3
    assert fields[plan.layers[-1].name].whole and fields[plan.layers[-1].name].to_dict() is None
    assert all(r.ok for r in check_fields(plan))
