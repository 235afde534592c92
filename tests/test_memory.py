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


def live_peak(module, shape) -> int:
    """The most activation bytes torch holds at once running ``module`` under ``no_grad``."""
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
    with torch.no_grad(), mode:
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

def saved_bytes(module, shape) -> int:
    """The activation bytes autograd keeps in a train-mode forward: the unique storages that
    ``saved_tensors_hooks`` sees, parameters and buffers excluded (a view keeps its whole storage)."""
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
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
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
