"""from_torch on live PyTorch modules: torchvision's models, traced with torch.fx and planned,
against what torch itself reports for the same models (tests/importers/fixtures/torchvision:
torch.fx ShapeProp shapes per module call, ``numel`` of each module's parameters and
FlopCounterMode's MACs per module, written by tests/importers/generators/gen_torchvision.py with
torch 2.13.0 and torchvision 0.28.0), and small modules checked against torch right here.

Runs in CI (CONVCALC_REQUIRE_TORCH=1: a missing torch or torchvision fails these tests).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import convcalc
from convcalc.errors import ModelError

from .conftest import torch_or_skip, torchvision_or_skip

pytestmark = pytest.mark.torch

FIXTURES = Path(__file__).parent / "importers" / "fixtures" / "torchvision"
ATTENTION = ("vit_b_16", "swin_t")
MODELS = sorted(p.stem for p in FIXTURES.glob("*.json") if not p.stem.startswith("_") and p.stem not in ATTENTION)
BUILD = {"googlenet": {"aux_logits": False, "init_weights": False},
         "inception_v3": {"aux_logits": False, "init_weights": False}}
SEGMENTATION = {"weights_backbone": None, "aux_loss": False}


def build(name: str):
    tv = torchvision_or_skip()
    kwargs = BUILD.get(name, SEGMENTATION if name.startswith(("fcn", "deeplab", "lraspp")) else {})
    return tv.models.get_model(name, weights=None, **kwargs).eval()


@pytest.mark.parametrize("name", MODELS)
def test_torchvision_model_matches_torch_layer_by_layer(name):
    expected = json.loads((FIXTURES / f"{name}.json").read_text())
    module = build(name)
    assert sum(p.numel() for p in module.parameters()) == expected["total_params"]  # the same model as the fixture
    plan = convcalc.from_torch(module, expected["input_shape"]).plan()
    layers = {ly.name: ly for ly in plan.layers}
    calls: Counter[str] = Counter()
    compared = 0
    for node in expected["nodes"]:
        if node["op"] != "call_module":
            continue
        target = node["target"]
        calls[target] += 1  # a module called again (resnet's relu) is the layer target_1, target_2, ...
        layer = layers.get(target if calls[target] == 1 else f"{target}_{calls[target] - 1}")
        if layer is None:
            continue  # a module torch.fx kept whole that convcalc traces through (LayerNorm2d)
        assert list(layer.output_shape) == node["output_shape"], target
        if calls[target] == 1:
            assert layer.params == node["params"], target
        compared += 1
    assert compared >= 0.5 * sum(1 for n in expected["nodes"] if n["op"] == "call_module")
    for path, figures in expected["macs_by_module"].items():
        if path in layers:
            assert layers[path].macs == figures["macs"], path
    assert (plan.totals.params, plan.totals.macs) == (expected["total_params"], expected["total_macs"])
    assert plan.layers[0].where.node and plan.layers[0].where.file == f"<{type(module).__name__}>"


def test_a_symbolic_input_keeps_the_symbols():
    module = build("resnet50")
    symbolic = convcalc.from_torch(module, (1, 3, "H", "W")).plan()
    assert convcalc.dims.fmt_shape(symbolic.layer("layer4.2.relu_2").output_shape) == "(1, 2048, ceil(H/32), ceil(W/32))"
    at_224 = convcalc.from_torch(module, (1, 3, "H", "W")).plan(H=224, W=224)
    assert at_224.totals.macs == 4089184256


def _torch_numbers(module, shape):
    torch = torch_or_skip()
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = module.eval()(torch.zeros(shape))
    return tuple(out.shape), sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2


def test_functional_forms_match_torch():
    torch = torch_or_skip()
    import torch.nn.functional as F

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.gamma = torch.nn.Parameter(torch.ones(8, 1, 1))
            self.fc = torch.nn.Linear(8, 5)

        def forward(self, x):
            y = F.relu(self.conv(x))
            y = y * self.gamma + y / 2.0 - 1
            y = F.max_pool2d(y, 2, 2)
            z = F.avg_pool2d(y, kernel_size=3, stride=1, padding=1)
            y = torch.cat([y, z], dim=1)
            a, b = y.chunk(2, dim=1)
            y = (a + b).transpose(2, 3)
            y = F.interpolate(y, scale_factor=2, mode="nearest")
            y = y.mean((2, 3))
            return self.fc(y)

    module = Net()
    shape, params, macs = _torch_numbers(module, (2, 3, 12, 10))
    plan = convcalc.from_torch(module, (2, 3, 12, 10)).plan()
    assert (plan.outputs()[0].output_shape, plan.totals.params, plan.totals.macs) == (shape, params, macs)
    assert plan.layer("mul").params == 8  # the learned layer scale counts


def test_interpolate_to_another_tensors_size_stays_symbolic():
    torch = torch_or_skip()
    import torch.nn.functional as F

    class Up(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.down = torch.nn.Conv2d(3, 3, 3, stride=4, padding=1)

        def forward(self, x):
            return F.interpolate(self.down(x), size=x.shape[-2:], mode="bilinear", align_corners=False) + x

    model = convcalc.from_torch(Up(), (1, 3, "H", "W"))
    plan = model.plan()
    assert convcalc.dims.fmt_shape(plan.layers[-1].output_shape) == "(1, 3, H, W)"
    assert model.plan(H=37, W=50).layers[-1].output_shape == _torch_numbers(Up(), (1, 3, 37, 50))[0]


def test_an_unsupported_module_is_named():
    torch = torch_or_skip()

    class Attn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x)[0]

    with pytest.raises(ModelError, match=r"cannot model: MultiheadAttention x1 \(first: attn\)"):
        convcalc.from_torch(Attn(), (1, 4, 8))


@pytest.mark.parametrize("name,opaque", [("vit_b_16", {"MultiheadAttention"}),
                                         ("swin_t", {"torchvision.models.swin_transformer.shifted_window_attention",
                                                     "torchvision.models.swin_transformer._get_relative_position_bias",
                                                     "torchvision.models.swin_transformer._patch_merging_pad"})])
def test_attention_models_plan_with_partial(name, opaque):
    expected = json.loads((FIXTURES / f"{name}.json").read_text())
    module = build(name)
    with pytest.raises(ModelError, match="call\\(s\\) convcalc cannot model: "):
        convcalc.from_torch(module, expected["input_shape"])
    plan = convcalc.from_torch(module, expected["input_shape"], partial=True).plan()
    assert {ly.steps[0].source_op for ly in plan.layers if ly.op == "Opaque"} == opaque
    assert plan.totals.params == expected["total_params"]  # the opaque calls' weights are counted, once
    assert plan.totals.macs < expected["total_macs"] and "macs" in plan.unknown  # a lower bound, and said so
    assert [list(ly.output_shape) for ly in plan.outputs()] == [expected["output_shape"]]
    assert "≥ " in plan.table().split("totals:")[1].splitlines()[0]


def _all_cnn_builders() -> list[str]:
    """Every torchvision classification builder but the attention models (they plan with
    partial=True, tested above) and regnet_y_128gf (644 M parameters: too big to build here)."""
    import os
    import sys
    import types

    try:
        sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
        import torchvision
    except ImportError:
        return ["resnet18"] if os.environ.get("CONVCALC_REQUIRE_TORCH") == "1" else []  # fails in build() then
    return [n for n in torchvision.models.list_models(module=torchvision.models)
            if not n.startswith(("maxvit", "swin", "vit_", "regnet_y_128gf"))]


@pytest.mark.parametrize("name", _all_cnn_builders())
def test_every_torchvision_cnn_matches_torch_live(name):
    """torch's own figures, computed here on fake tensors (no memory, no time):
    FlopCounterMode's MACs, the parameters' numel, the output shape."""
    torch = torch_or_skip()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    module = build(name)
    size = 299 if name == "inception_v3" else 224
    with torch.no_grad(), FakeTensorMode(allow_non_fake_inputs=True):
        with FlopCounterMode(display=False) as counter:
            out = module(torch.empty(1, 3, size, size))
    plan = convcalc.from_torch(module, (1, 3, size, size)).plan()
    assert plan.totals.params == sum(p.numel() for p in module.parameters())
    assert plan.totals.macs == counter.get_total_flops() // 2
    assert tuple(plan.outputs()[0].output_shape) == tuple(out.shape)


def test_a_symbolic_view_follows_the_input_size():
    """shufflenet's channel shuffle views with x.size(): with symbolic H, W the view's target
    is a closed form, right at every size (here 160 x 192, against torch)."""
    torch = torch_or_skip()
    from torch.utils.flop_counter import FlopCounterMode

    module = build("shufflenet_v2_x1_0")
    model = convcalc.from_torch(module, (1, 3, "H", "W"))
    assert "ceil(H/8)" in str(model.layers[[ly.op for ly in model.layers].index("reshape")].args["shape"])
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 160, 192))
    assert model.plan(H=160, W=192).totals.macs == counter.get_total_flops() // 2


@pytest.mark.parametrize("name", ["googlenet", "squeezenet1_0", "squeezenet1_1"])
def test_ceil_mode_models_plan_compactly_with_symbolic_sizes(name):
    """GoogLeNet and SqueezeNet pool with MaxPool2d(3, 2, ceil_mode=True): imported with symbolic
    H and W, every size is one short rounding (torch's floor(H/2)...), and the MACs formula at
    224 is torch's FLOP count / 2."""
    from convcalc.dims import fmt_dim, subs

    torchvision = torchvision_or_skip()
    module = getattr(torchvision.models, name)(**({"aux_logits": False, "init_weights": False}
                                                   if name == "googlenet" else {}))
    plan = convcalc.from_torch(module, (1, 3, "H", "W")).plan_symbolic()  # seconds: bench_symbolic.py
    longest = max(len(fmt_dim(d)) for ly in plan.layers for d in ly.output_shape)
    assert longest <= 30, longest
    assert len(fmt_dim(plan.totals.macs)) < 400
    assert subs(plan.totals.macs, {"H": 224, "W": 224}) == _torch_numbers(module, (1, 3, 224, 224))[2]


def test_shapes_come_from_the_meta_device_and_the_weights_stay(monkeypatch):
    """ResNet-18 propagates on the meta device (fake tensors are never made: the test makes them
    fail), and its parameters are the same CPU tensors, with the same values, afterwards."""
    torch = torch_or_skip()
    import torch._subclasses.fake_tensor as fake

    module = build("resnet18")
    before = {name: (p, p.detach().clone()) for name, p in module.named_parameters()}

    def no_fakes(*args, **kwargs):
        raise AssertionError("fake tensors were made")

    monkeypatch.setattr(fake, "FakeTensorMode", no_fakes)
    plan = convcalc.from_torch(module, (1, 3, 224, 224)).plan()
    assert plan.totals.macs == 1_814_073_344  # torchvision's resnet18: 1.81 GMACs (FlopCounterMode / 2)
    for name, p in module.named_parameters():
        same, values = before[name]
        assert p is same and p.device.type == "cpu" and torch.equal(p, values), name


def test_a_module_that_makes_cpu_tensors_runs_on_fake_tensors(capsys):
    """A forward that makes a tensor on the CPU (torch.arange without a device) cannot run on
    the meta device; the shapes then come from fake tensors, and agree with torch's own run."""
    torch = torch_or_skip()
    nn = torch.nn

    class Positional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(4, 6, 3, padding=1)

        def forward(self, x):
            return self.conv(x) + torch.arange(x.shape[-1]).float()

    module = Positional().eval()
    plan = convcalc.from_torch(module, (2, 4, 10), partial=True).plan()  # arange: an opaque row
    assert tuple(plan.outputs()[0].output_shape) == tuple(module(torch.zeros(2, 4, 10)).shape) == (2, 6, 10)
    assert [ly.output_shape for ly in plan.layers if ly.op == "Opaque"] == [(10,)]  # arange's, from fake tensors
    assert plan.totals.params == sum(p.numel() for p in module.parameters())
    assert capsys.readouterr().err == ""  # the failed attempt on the meta device prints nothing
