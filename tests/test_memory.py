"""The inference peak (convcalc/memory.py) against PyTorch, allocation by allocation.

The oracle is a ``TorchDispatchMode`` that sees every aten op's outputs and tracks the bytes of
the storages alive (a storage lives while any tensor on it does: weakref finalizers), parameters
and buffers excluded, the input counted from the start; its peak is the most bytes alive after
any op. The modules run as torch.fx GraphModules, whose generated code frees each value after
its last use — the rule convcalc plans by (a hand-written ``forward`` keeps its arguments, e.g. a
ResNet block's ``x``, until it returns; that is Python's scoping, not the model's need).
"""

from __future__ import annotations

import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.memory import inference_peak

from .conftest import EXAMPLES, torch_or_skip, torchvision_or_skip


def live_peak(module, shape, amp: bool = False) -> int:
    """The most activation bytes torch holds at once running ``module`` under ``no_grad`` (with
    ``amp``: inside ``torch.autocast("cpu", float16)``, whose casts the mode sees as ``_to_copy``)."""
    torch = torch_or_skip()
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class LiveBytes(TorchDispatchMode):
        def __init__(self, exclude):
            super().__init__()
            self.exclude, self.storages, self.live, self.peak = exclude, {}, 0, 0

        def track(self, t):
            storage = t.untyped_storage()
            ptr, n = storage.data_ptr(), storage.nbytes()
            if ptr in self.exclude or n == 0:
                return
            if ptr not in self.storages:
                self.storages[ptr] = [n, 0]
                self.live += n
            self.storages[ptr][1] += 1
            weakref.finalize(t, self.release, ptr)

        def release(self, ptr):
            record = self.storages[ptr]
            record[1] -= 1
            if record[1] == 0:
                self.live -= record[0]
                del self.storages[ptr]

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor):
                    self.track(t)
            self.peak = max(self.peak, self.live)
            return out

    module.eval()
    exclude = {p.untyped_storage().data_ptr() for p in [*module.parameters(), *module.buffers()]}
    x = torch.randn(*shape)
    mode = LiveBytes(exclude)
    mode.track(x)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.float16, enabled=amp), mode:
        module(x)
    return mode.peak


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "shufflenet_v2_x1_0", "densenet121"])
@pytest.mark.parametrize("batch", [1, 8])
def test_the_inference_peak_of_torchvision_models_is_torchs_to_the_byte(name, batch):
    """In-place ReLUs, ``out += identity``, concatenations (DenseNet), channel shuffles (views)."""
    torch = torch_or_skip()
    torchvision = torchvision_or_skip()
    module = getattr(torchvision.models, name)()
    shape = (batch, 3, 224, 224)
    want = live_peak(torch.fx.symbolic_trace(module), shape)
    got = inference_peak(convcalc.from_torch(module, shape).plan())
    assert got.bytes == want


@pytest.mark.parametrize("name", ["googlenet", "inception_v3", "efficientnet_b0", "mobilenet_v3_small", "regnet_x_400mf",
                                  "convnext_tiny", "squeezenet1_0", "alexnet", "resnext50_32x4d", "mnasnet1_0"])
def test_the_inference_peak_of_more_torchvision_models_is_torchs(name):
    """F.relu(inplace=True) (GoogLeNet, Inception), squeeze-excitation multiplies, layer scale,
    stochastic depth (the identity at inference), grouped convolutions, batch 2."""
    torch = torch_or_skip()
    torchvision = torchvision_or_skip()
    module = getattr(torchvision.models, name)(**({"aux_logits": False, "init_weights": False}
                                                   if name in ("googlenet", "inception_v3") else {}))
    size = 299 if name == "inception_v3" else 224
    shape = (2, 3, size, size)
    want = live_peak(torch.fx.symbolic_trace(module), shape)
    assert inference_peak(convcalc.from_torch(module, shape).plan()).bytes == want


LAYERS = st.sampled_from(["conv", "conv_stride", "relu", "relu_inplace", "bn", "maxpool", "avgpool", "maxpool1x1"])


@settings(max_examples=25, deadline=None)
@given(st.lists(LAYERS, min_size=1, max_size=6), st.sampled_from([1, 3]))
def test_random_chains_peak_as_torch_does(kinds, batch):
    torch = torch_or_skip()
    nn = torch.nn
    layers, c, size = [], 4, 16
    for k in kinds:
        if k.startswith("conv"):
            layers.append(nn.Conv2d(c, 6, 3, stride=2 if k == "conv_stride" else 1, padding=1))
            c, size = 6, (size + 1) // 2 if k == "conv_stride" else size
        elif k.startswith("relu"):
            layers.append(nn.ReLU(inplace=k == "relu_inplace"))
        elif k == "bn":
            layers.append(nn.BatchNorm2d(c))
        elif size < 2:
            continue  # no window fits any more: the chain goes on without the pool
        elif k == "maxpool":
            layers.append(nn.MaxPool2d(2))
            size //= 2
        elif k == "maxpool1x1":
            layers.append(nn.AdaptiveMaxPool2d(1))
            size = 1
        else:
            layers.append(nn.AvgPool2d(2, ceil_mode=True))
            size = (size + 1) // 2
    layers += [nn.Flatten(), nn.Linear(c * size * size, 5)]
    module = nn.Sequential(*layers)
    shape = (batch, 4, 16, 16)
    want = live_peak(module, shape)  # nn.Sequential frees each output once the next layer has run
    got = inference_peak(convcalc.from_torch(module, shape).plan())
    assert got.bytes == want, kinds


def test_views_allocate_nothing_and_the_peak_names_its_tensors():
    model = convcalc.Model(framework="pytorch", input=[1, 8, 16, 16]).add("Conv2d", name="c", out_channels=8,
                                                                         kernel_size=1)
    model.add("flatten", name="f", start_dim=1).add("ReLU", name="r", inplace=True)
    peak = inference_peak(model.plan())
    elements = 8 * 16 * 16
    assert peak.bytes == 2 * elements * 4 and peak.layer == "c"  # the input and the conv's output
    assert [name for name, _ in peak.live] == ["input", "c"]


def test_the_plan_reports_the_peak(runner):
    import json

    from convcalc.cli import cli

    data = json.loads(runner.invoke(cli, ["plan", str(EXAMPLES / "resnet50.yaml"), "--format", "json"]).stdout)
    assert data["inference_peak"]["peak_bytes"] == 10_235_904  # torch measures this for torchvision's resnet50 (above)
    assert data["inference_peak"]["peak_layer"] == "layer1.0.downsample.1"
    assert data["totals"]["activation_bytes"] == 150_247_328  # the sum of layer outputs stays (the contract)
    text = " ".join(runner.invoke(cli, ["plan", str(EXAMPLES / "resnet50.yaml")]).stdout.split())
    assert "inference peak 9.76 MiB (at layer1.0.downsample.1)" in text


# --------------------------------------------------------------------------- saved for backward

def saved_bytes(module, shape, amp: bool = False) -> int:
    """The activation bytes autograd keeps in a train-mode forward: the unique storages that
    ``saved_tensors_hooks`` sees, parameters and buffers excluded (a view keeps its whole storage);
    with ``amp``, inside ``torch.autocast("cpu", float16)``."""
    torch = torch_or_skip()
    module.train()
    params = {p.untyped_storage().data_ptr() for p in [*module.parameters(), *module.buffers()]}
    seen: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params and storage.nbytes():
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    x = torch.randn(*shape)
    with torch.autocast("cpu", dtype=torch.float16, enabled=amp), \
            torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x)
    return sum(seen.values())


@pytest.mark.parametrize("name,batch", [("resnet50", 1), ("resnet50", 8), ("mobilenet_v2", 1), ("mobilenet_v2", 8),
                                        ("shufflenet_v2_x1_0", 2), ("densenet121", 2), ("vgg16", 2),
                                        ("efficientnet_b0", 2), ("googlenet", 2), ("mobilenet_v3_small", 2),
                                        ("convnext_tiny", 2)])
def test_saved_activations_are_torchs_to_the_byte(name, batch):
    """In-place ReLU (its result) and ReLU6/Hardswish (a clone of the input autograd makes), ConvNeXt's
    layer scale (x * gamma keeps x),
    BatchNorm statistics, max-pool indices, dropout masks and the tensors after them, views
    that keep their whole storage (ShuffleNet's chunks), StochasticDepth noise (EfficientNet)."""
    from convcalc.memory import saved_activations

    torchvision = torchvision_or_skip()
    module = getattr(torchvision.models, name)(**({"aux_logits": False, "init_weights": False}
                                                   if name == "googlenet" else {}))
    shape = (batch, 3, 224, 224)
    want = saved_bytes(module, shape)
    got = saved_activations(convcalc.from_torch(module, shape).plan())
    assert got.bytes == want
    assert sum(b for _, b in got.per_layer) == got.bytes


@pytest.mark.parametrize("example,batch", [(e, b) for e in ("resnet50", "resnet50_repeat", "mobilenet_v2", "vgg16",
                                                                 "decoder") for b in (1, 8)])
def test_the_pytorch_examples_peak_and_save_as_torch_does(example, batch):
    """Every PyTorch example model against the torch module it writes down (torchvision's, or
    the decoder's two layers): the inference peak and the saved activations, to the byte."""
    from convcalc.memory import saved_activations, with_batch

    torch = torch_or_skip()
    if example == "decoder":
        module, shape = torch.nn.Sequential(torch.nn.ConvTranspose1d(8, 4, 4, 2, 1), torch.nn.ReLU()), (batch, 8, 50)
    else:
        torchvision = torchvision_or_skip()
        module, shape = getattr(torchvision.models, example.replace("_repeat", ""))(), (batch, 3, 224, 224)
    plan = with_batch(convcalc.load(str(EXAMPLES / f"{example}.yaml")), batch).plan()
    assert inference_peak(plan).bytes == live_peak(torch.fx.symbolic_trace(module), shape)
    assert saved_activations(plan).bytes == saved_bytes(module, shape)


# --------------------------------------------------------------------------- mixed precision

AUTOCAST_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "vgg16", "densenet121", "efficientnet_b0", "convnext_tiny",
                   "googlenet", "shufflenet_v2_x1_0", "mobilenet_v3_small"]


@pytest.mark.parametrize("name", AUTOCAST_MODELS)
def test_saved_activations_under_autocast_are_torchs(name):
    """torch.autocast("cpu", float16), train mode: every storage saved for the backward pass
    that is not a parameter — the half activations, the casts of float32 inputs, float32
    batch-norm statistics, int64 indices and autocast's half copies of the weights (not of the
    biases: no backward needs them) — equals convcalc's saved activations plus weight copies."""
    from convcalc.memory import saved_activations, training_memory

    torchvision = torchvision_or_skip()
    module = getattr(torchvision.models, name)(**({"aux_logits": False, "init_weights": False}
                                                   if name == "googlenet" else {}))
    shape = (2, 3, 224, 224)
    want = saved_bytes(module, shape, amp=True)
    plan = convcalc.from_torch(module, shape).plan()
    training = training_memory(plan, "adam", amp="cpu")
    assert training.saved_activation_bytes == saved_activations(plan, "cpu").bytes
    assert training.saved_activation_bytes + training.weight_copy_bytes == want
    assert training.saved_activation_bytes < saved_bytes(module, shape)  # the activations shrink (not by 2x:
    # float32 statistics, int64 indices and the input's cast stay)


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "shufflenet_v2_x1_0", "densenet121"])
@pytest.mark.parametrize("batch", [1, 8])
def test_the_inference_peak_under_autocast_is_torchs(name, batch):
    """Under no_grad and autocast: half outputs, the input's cast alive while the stem runs, and
    the cached half copies of weights and biases alive until the forward pass ends."""
    torch = torch_or_skip()
    torchvision = torchvision_or_skip()
    module = getattr(torchvision.models, name)()
    shape = (batch, 3, 224, 224)
    want = live_peak(torch.fx.symbolic_trace(module), shape, amp=True)
    assert inference_peak(convcalc.from_torch(module, shape).plan(), "cpu").bytes == want


def test_float32_ops_under_autocast_cast_back_as_torch_does():
    """CPU autocast runs 3-D pooling in float32: a half input is cast up (a new tensor, saved by
    an average pool), the pool's output is float32, and the next convolution casts it down."""
    from convcalc.memory import precision, saved_activations, training_memory

    torch = torch_or_skip()
    nn = torch.nn
    module = nn.Sequential(nn.Conv3d(2, 4, 3, padding=1), nn.AvgPool3d(2), nn.Conv3d(4, 4, 1), nn.ReLU(),
                           nn.MaxPool3d(2), nn.Flatten(), nn.Linear(4 * 2 * 2 * 2, 3))
    shape = (2, 2, 8, 8, 8)
    plan = convcalc.from_torch(module, shape).plan()
    prec = precision(plan, "cpu")
    assert [prec.of(ly.name) for ly in plan.layers] == [2, 4, 2, 2, 4, 4, 2]
    training = training_memory(plan, "sgd", amp="cpu")
    assert saved_activations(plan, "cpu").bytes + training.weight_copy_bytes == saved_bytes(module, shape, amp=True)
    assert inference_peak(plan, "cpu").bytes == live_peak(module, shape, amp=True)


def test_the_cuda_autocast_lists_are_torchs():
    """The CUDA policy (which no CPU run can observe) against the op lists torch ships in
    ATen/autocast_mode.h: every op convcalc casts down or up is in the list it claims."""
    import pathlib
    import re

    from convcalc.memory import AMP_POLICIES

    torch = torch_or_skip()
    header = (pathlib.Path(torch.__file__).parent / "include" / "ATen" / "autocast_mode.h").read_text()

    def listed(macro: str) -> set[str]:
        body = header.split(f"#define {macro}(_)", 1)[1].split("\n\n", 1)[0]
        return set(re.findall(r"_\((\w+)", body))

    lower, fp32 = listed("AT_FORALL_LOWER_PRECISION_FP"), listed("AT_FORALL_FP32") | listed("AT_FORALL_FP32_SET_OPT_DTYPE")
    aten = {"conv": {"conv1d", "conv2d", "conv3d"}, "conv_transpose": {"conv_transpose1d", "conv_transpose2d"},
            "dense": {"linear", "addmm"}, "matmul": {"matmul"}, "activation:prelu": {"prelu"},
            "norm:layer": {"layer_norm"}, "norm:group": {"group_norm"},
            "resize": {"upsample_nearest2d", "upsample_bilinear2d", "upsample_bicubic2d"},
            "resize_to": {"upsample_nearest2d", "upsample_bilinear2d"}, "activation:softmax": {"softmax"},
            "activation:log_softmax": {"log_softmax"}, "activation:softplus": {"softplus"}}
    cuda = AMP_POLICIES["cuda"]
    assert all(aten[key] <= lower for key in cuda["lower"])
    assert all(aten[key] <= fp32 for key in cuda["fp32"])
    assert not {"batch_norm", "max_pool2d", "avg_pool2d", "relu", "add"} & (lower | fp32)  # these run as they come


# --------------------------------------------------------------------------- a training step


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad"])
def test_weights_gradients_and_optimizer_state_are_torchs(optimizer):
    """After one real step of torch.optim on resnet18: parameter bytes, gradient bytes, and the
    optimizer's state tensors (its per-tensor 'step' counters aside, as documented)."""
    from convcalc.memory import training_memory

    torch = torch_or_skip()
    torchvision = torchvision_or_skip()
    module = torchvision.models.resnet18()
    shape = (2, 3, 64, 64)
    make = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1), "momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
            "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop,
            "adagrad": torch.optim.Adagrad}[optimizer]
    opt = make(module.parameters())
    module(torch.randn(*shape)).sum().backward()
    opt.step()
    params = list(module.parameters())
    weights = sum(p.numel() * p.element_size() for p in params)
    grads = sum(p.grad.numel() * p.grad.element_size() for p in params)
    state = sum(t.numel() * t.element_size() for s in opt.state.values() for k, t in s.items()
                if torch.is_tensor(t) and k != "step")
    got = training_memory(convcalc.from_torch(module, shape).plan(), optimizer)
    assert (got.weights_bytes, got.gradient_bytes, got.optimizer_bytes) == (weights, grads, state)


def test_the_memory_command(runner):
    import json

    from convcalc.cli import cli

    path = str(EXAMPLES / "resnet50.yaml")
    result = runner.invoke(cli, ["memory", path, "--train"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert "inference peak: 9.76 MiB (10,235,904 bytes) at layer1.0.downsample.1" in flat
    assert "training step (adam): weights 97.5 MiB" in flat and "left out: buffers" in flat
    data = json.loads(runner.invoke(cli, ["memory", path, "--batch", "8", "--train", "--format", "json"]).stdout)
    assert data["batch"] == 8 and data["inference"]["peak_bytes"] == 81_887_232  # torch: the fx-run resnet50 at 8
    assert set(data["training"]) >= {"weights_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes",
                                     "total_bytes"}
    assert data["training"]["saved_activation_bytes"] == sum(row["saved_bytes"] for row in data["layers"])
    assert data["training"]["total_bytes"] == sum(data["training"][k] for k in (
        "weights_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes"))
    variants = runner.invoke(cli, ["memory", str(EXAMPLES / "conv3d_vs_conv2d.yaml")])
    assert variants.exit_code == 2 and "memory works on one model" in variants.stderr


@pytest.mark.parametrize("budget", [2**30, 16 * 2**30, 80 * 2**30])
def test_the_largest_batch_is_exact(budget):
    """Solved from the closed form in N; checked by planning the batch found and the next one."""
    from convcalc.memory import largest_batch, training_memory, with_batch

    model = convcalc.load(str(EXAMPLES / "resnet50.yaml"))
    found = largest_batch(model, budget, "adam")

    def need(kind: str, batch: int) -> int:
        plan = with_batch(model, batch).plan()
        if kind == "inference":
            return inference_peak(plan).bytes + plan.totals.params * 4
        return training_memory(plan, "adam").total_bytes

    for kind in ("inference", "training"):
        n = found[kind]
        assert need(kind, n) <= budget < need(kind, n + 1), (kind, n)


def test_device_memory_reads_the_units_people_write(runner):
    import json

    from convcalc.cli import cli

    path = str(EXAMPLES / "resnet50.yaml")
    by_unit = {size: json.loads(runner.invoke(cli, ["memory", path, "--device-memory", size, "--format",
                                                    "json"]).stdout)["max_batch"] for size in ("16GiB", "17179869184")}
    assert by_unit["16GiB"] == by_unit["17179869184"]
    assert runner.invoke(cli, ["memory", path, "--device-memory", "lots"]).exit_code == 2


def test_symbolic_memory_in_json_prints_as_convcalc_writes_it(runner):
    import json

    from convcalc.cli import cli

    data = json.loads(runner.invoke(cli, ["plan", str(EXAMPLES / "resnet50.yaml"), "--symbolic", "--format",
                                          "json"]).stdout)
    peak = data["inference_peak"]["peak_bytes"]
    assert "ceil(H/4)" in peak and "ceiling" not in peak  # the same printer as every other JSON expression


def test_memory_with_a_symbolic_batch_is_the_formula_torch_agrees_with(runner):
    """``--batch N``: every figure a formula in N; at N = 1 and N = 8 the peak is what torch
    measures for torchvision's resnet50 (the test above: 10,235,904 and 81,887,232 bytes)."""
    import json

    import sympy

    from convcalc.cli import cli

    path = str(EXAMPLES / "resnet50.yaml")
    result = runner.invoke(cli, ["memory", path, "--batch", "N", "--train", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    n = sympy.Symbol("N")
    peak = sympy.sympify(data["inference"]["peak_bytes"], locals={"N": n})  # test code reads our own JSON
    assert data["batch"] == "N" and [peak.subs(n, b) for b in (1, 8)] == [10_235_904, 81_887_232]
    concrete = json.loads(runner.invoke(cli, ["memory", path, "--batch", "8", "--train", "--format", "json"]).stdout)
    total = sympy.sympify(data["training"]["total_bytes"], locals={"N": n})
    assert total.subs(n, 8) == concrete["training"]["total_bytes"]
    text = " ".join(runner.invoke(cli, ["memory", path, "--batch", "N", "--train"]).stdout.split())
    assert "inference peak: 9996 KiB·N at layer1.0.downsample.1" in text
    assert "= 85909504*N + 409124992 B (81.9 MiB·N + 390 MiB)" in text
    for bad in ("0", "x y", "1e3"):
        assert runner.invoke(cli, ["memory", path, "--batch", bad]).exit_code == 2


def test_memory_under_amp_and_another_dtype(runner):
    """--amp: the CUDA autocast policy (on this CNN the same ops as the CPU policy torch ran
    above); --dtype float16: every tensor and weight in 2 bytes."""
    import json

    from convcalc.cli import cli
    from convcalc.memory import inference_peak, training_memory

    path = str(EXAMPLES / "resnet50.yaml")
    amp = json.loads(runner.invoke(cli, ["memory", path, "--amp", "--train", "--format", "json"]).stdout)
    plan = convcalc.load(path).plan()
    assert amp["inference"]["peak_bytes"] == inference_peak(plan, "cpu").bytes  # torch: 51,616,032 (above)
    assert amp["inference"]["peak_bytes"] == 51_616_032
    training = training_memory(plan, "adam", "cpu")
    assert amp["training"]["weight_copy_bytes"] == training.weight_copy_bytes > 0
    assert amp["training"]["weights_bytes"] == 102_228_128  # float32 master weights: 25,557,032 x 4
    half = json.loads(runner.invoke(cli, ["memory", path, "--dtype", "float16", "--train", "--format", "json"]).stdout)
    assert half["inference"]["peak_bytes"] == 10_235_904 // 2 and half["training"]["weights_bytes"] == 51_114_064
    text = runner.invoke(cli, ["memory", path, "--amp"]).stdout
    assert "torch.autocast to float16" in text
    assert runner.invoke(cli, ["memory", path, "--amp", "--dtype", "float16"]).exit_code == 2


def _torch_unet(torch):
    """The 'same' U-Net of examples/unet_2048.yaml written in torch (NCHW). A Keras ``Conv2D``
    with an activation is one layer call: a convolution, then the activation (not in place),
    with the layer's input held by the caller until both have run — a module that torch.fx keeps
    as a leaf (see :func:`_trace_keras_layers`)."""
    nn = torch.nn

    class KerasConv2D(nn.Module):
        def __init__(self, c_in, c_out, k, act):
            super().__init__()
            self.conv, self.act = nn.Conv2d(c_in, c_out, k, padding=k // 2), act

        def forward(self, x):
            return self.act(self.conv(x))

    def block(c_in, c_out):
        return [KerasConv2D(c_in, c_out, 3, nn.ReLU()), KerasConv2D(c_out, c_out, 3, nn.ReLU())]

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [64, 128, 256, 512]
            self.down = nn.ModuleList(nn.Sequential(*block(c_in, c)) for c_in, c in zip([1, *widths[:-1]], widths))
            self.pool = nn.MaxPool2d(2)
            self.bottom = nn.Sequential(*block(512, 1024))
            self.up = nn.ModuleList(nn.ConvTranspose2d(2 * c, c, 2, stride=2) for c in reversed(widths))
            self.dec = nn.ModuleList(nn.Sequential(*block(2 * c, c)) for c in reversed(widths))
            self.mask = KerasConv2D(64, 1, 1, nn.Sigmoid())

        def forward(self, x):
            skips = []
            for down in self.down:
                x = down(x)
                skips.append(x)
                x = self.pool(x)
            x = self.bottom(x)
            for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
                x = dec(torch.cat([skip, up(x)], 1))
            return self.mask(x)

    return UNet()


def _trace_keras_layers(torch, module):
    """torch.fx with every Keras-layer module a leaf: the graph frees a layer's input after the
    layer call, not between its convolution and its activation."""
    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m, name):
            return type(m).__name__ == "KerasConv2D" or super().is_leaf_module(m, name)

    return torch.fx.GraphModule(module, Tracer().trace(module))


def test_the_unet_gallery_figures_are_torchs():
    """examples/unet_2048.md's memory table comes from this plan: at 64 x 64 (the figures are
    exact polynomials in N, H and W) the torch twin measures the same peak and saved bytes, in
    float32 and under autocast (the U-Net has no op whose autocast lists differ by device)."""
    from convcalc.memory import saved_activations, training_memory, with_batch

    torch = torch_or_skip()
    module = _torch_unet(torch)
    model = with_batch(convcalc.load(str(EXAMPLES / "unet_2048.yaml"))["same_padding"], 2)
    plan = model.plan(H=64, W=64)
    shape = (2, 1, 64, 64)
    assert plan.totals.params == sum(p.numel() for p in module.parameters())
    traced = _trace_keras_layers(torch, module)
    assert inference_peak(plan).bytes == live_peak(traced, shape)
    assert inference_peak(plan, "cuda").bytes == live_peak(traced, shape, amp=True)
    assert saved_activations(plan).bytes == saved_bytes(module, shape)
    training = training_memory(plan, "adam", "cuda")
    assert training.saved_activation_bytes + training.weight_copy_bytes == saved_bytes(module, shape, amp=True)


def test_in_place_tensor_methods_allocate_nothing_as_in_torch():
    """``y.add_(x)``, ``z += y`` (fx keeps neither in place: ``+`` on a proxy), ``mul_`` and
    ``torch.relu_`` / ``F.relu(inplace=True)``, run by torch.fx, against the plan."""
    torch = torch_or_skip()
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.bn, self.c2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Conv2d(8, 8, 1)

        def forward(self, x):
            y = self.bn(self.c1(x))
            y.add_(x)
            z = self.c2(y)
            z.mul_(2.0)
            return F.relu(torch.relu_(z) + y, inplace=True)

    module = Block().eval()
    traced = torch.fx.symbolic_trace(module)
    plan = convcalc.from_torch(module, (2, 8, 16, 16)).plan()
    assert [ly.op for ly in plan.layers] == ["Conv2d", "BatchNorm2d", "add_", "Conv2d", "mul_", "ReLU", "add", "ReLU"]
    assert [bool(ly.args.get("inplace")) for ly in plan.layers if ly.op == "ReLU"] == [True, True]
    assert inference_peak(plan).bytes == live_peak(traced, (2, 8, 16, 16))


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
@pytest.mark.parametrize("a,b", [((1, 4), (3, 4)), ((3, 4), (1, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)),
                                 ((2, 3, 4), (2, 3, 4)), ((4,), (2, 4))])
def test_in_place_ops_accept_and_refuse_as_torch_does(op, a, b):
    """Tensor.add_ and kin against torch: the result is the first operand's shape, and an
    operand that would make it grow by broadcasting is refused ("output with shape [...] doesn't
    match the broadcast shape"), with a fix."""
    torch = torch_or_skip()
    model = {"framework": "pytorch", "inputs": {"a": list(a), "b": list(b)},
             "layers": [{"op": op, "name": "s", "inputs": ["a", "b"]}]}
    try:
        want = tuple(getattr(torch.ones(*a), op)(torch.ones(*b)).shape)
    except RuntimeError as e:
        assert "doesn't match the broadcast shape" in str(e)
        with pytest.raises(convcalc.ModelError, match=r"an in-place \w+ writes into its first input"):
            convcalc.Model.from_dict(model).plan()
        return
    assert convcalc.Model.from_dict(model).plan().layers[0].output_shape == want == a
