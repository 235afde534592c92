"""Golden fixtures from PyTorch: run each case through real ``torch.nn`` modules / functions.

    pip install torch==2.13.0
    python tests/golden/generators/gen_pytorch.py        # writes tests/golden/pytorch.json

A case is a model file (framework: pytorch). Each layer is built from its own op name and
arguments (``in_channels``-style arguments filled from the input when the case leaves them out,
as convcalc infers them), run on zeros, and the observed output shape and
``sum(p.numel() for p in module.parameters())`` are stored per layer; an exception is stored as
the error text.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from common import first_line, run_cases, write_fixture

SEED = 20261126
warnings.filterwarnings("ignore")

FUNCTIONAL = {
    "cat": lambda xs, a: torch.cat(xs, **a),
    "add": lambda xs, a: torch.add(xs[0], xs[1], **a),
    "sub": lambda xs, a: torch.sub(xs[0], xs[1], **a),
    "mul": lambda xs, a: torch.mul(xs[0], xs[1], **a),
    "flatten": lambda xs, a: torch.flatten(xs[0], **a),
    "reshape": lambda xs, a: torch.reshape(xs[0], a["shape"]),
    "permute": lambda xs, a: xs[0].permute(*a["dims"]),
    "pad": lambda xs, a: F.pad(xs[0], **a),
    "interpolate": lambda xs, a: F.interpolate(xs[0], **a),
}
INFER = {"in_channels": -3, "in_features": -1, "num_features": -2, "num_channels": -2}


def _tuples(a: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) and k not in ("pad", "shape", "dims") else v for k, v in a.items()}


def build_module(op: str, args: dict[str, Any], x: torch.Tensor) -> nn.Module:
    cls = getattr(nn, op)
    a = _tuples({k: v for k, v in args.items() if k != "output_size" or not op.startswith("ConvTranspose")})
    if op.startswith(("Conv", "ConvTranspose")) and "in_channels" not in a:
        r = int(op[-2])
        a["in_channels"] = x.shape[-r - 1]
    if op == "Linear" and "in_features" not in a:
        a["in_features"] = x.shape[-1]
    if op.startswith(("BatchNorm", "InstanceNorm")) and "num_features" not in a:
        r = int(op[-2])
        a["num_features"] = x.shape[1] if op.startswith("BatchNorm") else x.shape[-r - 1]
    if op == "GroupNorm" and "num_channels" not in a:
        a["num_channels"] = x.shape[1]
    return cls(**a)


def execute(model: dict[str, Any]) -> dict[str, Any]:
    shapes = model["inputs"] if "inputs" in model else {"input": model["input"]}
    values: dict[str, torch.Tensor] = {k: torch.zeros(v) for k, v in shapes.items()}
    prev = next(iter(shapes))
    layers = []
    try:
        for i, layer in enumerate(model["layers"]):
            args = {k: v for k, v in layer.items() if k not in ("op", "name", "inputs")}
            srcs = layer.get("inputs", prev)
            srcs = [srcs] if isinstance(srcs, str) else srcs
            xs = [values[s] for s in srcs]
            op = layer["op"]
            if op in FUNCTIONAL:
                y = FUNCTIONAL[op](xs, args)
                params = 0
            else:
                m = build_module(op, args, xs[0]).eval()
                with torch.no_grad():
                    if op.startswith("ConvTranspose") and "output_size" in args:
                        y = m(xs[0], output_size=list(args["output_size"]))
                    else:
                        y = m(*xs)
                params = sum(p.numel() for p in m.parameters())
            name = layer.get("name", f"l{i}")
            values[name] = y
            prev = name
            layers.append({"output_shape": list(y.shape), "params": params})
    except Exception as e:  # noqa: BLE001 - the error text is the fixture
        return {"error": first_line(e), "layers_before_error": len(layers)}
    return {"layers": layers}


def one(op: str, in_shape: list[int], **args: Any) -> dict[str, Any]:
    return {"framework": "pytorch", "input": in_shape, "layers": [{"op": op, **args}]}


# --------------------------------------------------------------------------- random builders


def size(rng: random.Random, r: int) -> list[int]:
    hi = {1: 24, 2: 16, 3: 9}[r]
    return [rng.randint(1, hi) for _ in range(r)]


def tup(rng: random.Random, r: int, lo: int, hi: int) -> Any:
    return rng.randint(lo, hi) if rng.random() < 0.5 else [rng.randint(lo, hi) for _ in range(r)]


def conv(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 2, 3])
    g = rng.choice([1, 1, 1, 2, 3])
    cin = g * rng.randint(1, 3)
    cout = g * rng.randint(1, 3)
    if rng.random() < 0.05:
        cout += 1  # out_channels not divisible by groups
    args: dict[str, Any] = {"out_channels": cout, "kernel_size": tup(rng, r, 1, 5), "stride": tup(rng, r, 1, 3),
                            "dilation": tup(rng, r, 1, 3), "groups": g, "bias": rng.random() < 0.7}
    pmode = rng.random()
    if pmode < 0.15:
        args["padding"] = "same"
        if rng.random() < 0.7:
            args["stride"] = 1
    elif pmode < 0.25:
        args["padding"] = "valid"
    else:
        args["padding"] = tup(rng, r, 0, 3)
    if rng.random() < 0.3:
        args["padding_mode"] = rng.choice(["reflect", "replicate", "circular"])
    if rng.random() < 0.3:
        args["in_channels"] = cin if rng.random() < 0.9 else cin + 1
    batch = [rng.randint(1, 2)] if rng.random() < 0.85 else []
    return one(f"Conv{r}d", batch + [cin] + size(rng, r), **args)


def conv_transpose(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 2, 3])
    g = rng.choice([1, 1, 2])
    cin, cout = g * rng.randint(1, 3), g * rng.randint(1, 3)
    s = tup(rng, r, 1, 3)
    args: dict[str, Any] = {"out_channels": cout, "kernel_size": tup(rng, r, 1, 5), "stride": s,
                            "padding": tup(rng, r, 0, 2), "dilation": tup(rng, r, 1, 2), "groups": g,
                            "bias": rng.random() < 0.7}
    shape = [rng.randint(1, 2), cin] + size(rng, r)
    if rng.random() < 0.2:
        # output_size as forward(x, output_size): pick from the legal window, sometimes just outside.
        k = args["kernel_size"] if isinstance(args["kernel_size"], list) else [args["kernel_size"]] * r
        ss = s if isinstance(s, list) else [s] * r
        p = args["padding"] if isinstance(args["padding"], list) else [args["padding"]] * r
        d = args["dilation"] if isinstance(args["dilation"], list) else [args["dilation"]] * r
        mins = [(shape[2 + i] - 1) * ss[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1 for i in range(r)]
        args["output_size"] = [m + rng.randint(0, ss[i]) for i, m in enumerate(mins)]
    else:
        args["output_padding"] = tup(rng, r, 0, 2)
    return one(f"ConvTranspose{r}d", shape, **args)


def pool(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 3])
    mode = rng.choice(["Max", "Avg"])
    k = tup(rng, r, 1, 4)
    args: dict[str, Any] = {"kernel_size": k, "ceil_mode": rng.random() < 0.5}
    if rng.random() < 0.7:
        args["stride"] = tup(rng, r, 1, 3)
    kmin = k if isinstance(k, int) else min(k)
    args["padding"] = rng.randint(0, kmin // 2 + (1 if rng.random() < 0.15 else 0))
    if mode == "Max" and rng.random() < 0.4:
        args["dilation"] = tup(rng, r, 1, 2)
    if mode == "Avg":
        args["count_include_pad"] = rng.random() < 0.5
    return one(f"{mode}Pool{r}d", [rng.randint(1, 2), rng.randint(1, 3)] + size(rng, r), **args)


def adaptive(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 3])
    mode = rng.choice(["Avg", "Max"])
    out: Any = [rng.choice([None, rng.randint(1, 6)]) for _ in range(r)] if rng.random() < 0.6 else rng.randint(1, 6)
    return one(f"Adaptive{mode}Pool{r}d", [1, 2] + size(rng, r), output_size=out)


def upsample(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 3])
    mode = rng.choice(["nearest", "nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[r], "area", "bicubic"])
    args: dict[str, Any] = {"mode": mode}
    if rng.random() < 0.5:
        args["scale_factor"] = rng.choice([0.5, 1.5, 2, 2.5, 3, 0.75, 1.1])
    else:
        args["size"] = rng.randint(1, 20) if rng.random() < 0.5 else [rng.randint(1, 20) for _ in range(r)]
    op = rng.choice(["Upsample", "interpolate"])
    return one(op, [1, 2] + size(rng, r), **args)


def padding(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 3])
    kind = rng.choice(["ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"])
    shape = [1, 2] + [rng.randint(2, 8) for _ in range(r)]
    lo = -1 if kind in ("ZeroPad", "ConstantPad") else 0
    pad: Any = rng.randint(0, 3) if rng.random() < 0.3 else [rng.randint(lo, 4) for _ in range(2 * r)]
    args: dict[str, Any] = {"padding": pad}
    if kind == "ConstantPad":
        args["value"] = 0.5
    if kind == "CircularPad" and r > 1 and rng.random() < 0.5:
        shape = shape[1:]
    return one(f"{kind}{r}d", shape, **args)


def f_pad(rng: random.Random) -> dict[str, Any]:
    n = rng.randint(2, 5)
    shape = [rng.randint(2, 6) for _ in range(n)]
    mode = rng.choice(["constant", "reflect", "replicate", "circular"])
    m = rng.randint(1, min(3, n))
    pad = [rng.randint(0, 3) for _ in range(2 * m)]
    return one("pad", shape, pad=pad, mode=mode)


def norm(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["BatchNorm", "InstanceNorm", "GroupNorm", "LayerNorm"])
    if kind == "GroupNorm":
        g = rng.choice([1, 2, 4])
        c = g * rng.randint(1, 3) + (1 if rng.random() < 0.1 else 0)
        return one("GroupNorm", [2, c, 5, 4], num_groups=g, affine=rng.random() < 0.8)
    if kind == "LayerNorm":
        shape = [2, 3, 4, 5]
        k = rng.randint(1, 3)
        ns = shape[-k:] if rng.random() < 0.9 else [7]
        return one("LayerNorm", shape, normalized_shape=ns, elementwise_affine=rng.random() < 0.8,
                   bias=rng.random() < 0.8)
    r = rng.choice([1, 2, 3])
    c = rng.randint(1, 5)
    n_dims = r + 2 if rng.random() < 0.9 else r + 1
    shape = [2, c] + [3] * (n_dims - 2)
    args: dict[str, Any] = {"affine": rng.random() < 0.5}
    if rng.random() < 0.3:
        args["num_features"] = c if rng.random() < 0.8 else c + 1
    return one(f"{kind}{r}d", shape, **args)


def misc(rng: random.Random) -> dict[str, Any]:
    choice = rng.randint(0, 9)
    shape = [2, 4, 6, 6]
    if choice == 0:
        return one("Linear", [2, rng.randint(1, 5), 7], out_features=rng.randint(1, 9), bias=rng.random() < 0.5)
    if choice == 1:
        return one("Flatten", shape, start_dim=rng.randint(-4, 3), end_dim=rng.randint(-4, 3))
    if choice == 2:
        return one("flatten", shape, start_dim=rng.randint(0, 2))
    if choice == 3:
        return one("PixelShuffle", [1, rng.choice([4, 8, 9, 12]), 3, 5], upscale_factor=rng.choice([2, 3]))
    if choice == 4:
        return one("PixelUnshuffle", [1, 2, rng.choice([4, 6, 5]), 6], downscale_factor=rng.choice([2, 3]))
    if choice == 5:
        return one("Unflatten", [2, 24, 5], dim=1, unflattened_size=rng.choice([[4, 6], [2, -1], [5, 5], [2, 3, 4]]))
    if choice == 6:
        return one("reshape", shape, shape=rng.choice([[2, -1], [-1, 12, 6], [4, 4, 18], [3, -1]]))
    if choice == 7:
        perm = list(range(4))
        rng.shuffle(perm)
        return one("permute", shape, dims=perm)
    if choice == 8:
        a = [2, rng.randint(1, 3), 4]
        b = [2, rng.randint(1, 3), rng.choice([4, 4, 5])]
        return {"framework": "pytorch", "inputs": {"a": a, "b": b},
                "layers": [{"op": "cat", "inputs": ["a", "b"], "dim": rng.choice([1, -2, 0])}]}
    a = [2, 3, 1]
    b = rng.choice([[2, 3, 4], [3, 4], [1, 4], [2, 2, 4]])
    return {"framework": "pytorch", "inputs": {"a": a, "b": b},
            "layers": [{"op": rng.choice(["add", "mul", "sub"]), "inputs": ["a", "b"]}]}


CATALOGUE = [
    one("Conv2d", [1, 3, 224, 224], out_channels=64, kernel_size=7, stride=2, padding=3, bias=False),
    one("Conv2d", [1, 8, 10, 11], out_channels=8, kernel_size=4, padding="same"),
    one("Conv2d", [1, 4, 15, 12], out_channels=6, kernel_size=[3, 2], stride=[2, 1], padding=[1, 0], dilation=[2, 3], groups=2),
    one("Conv1d", [1, 16, 50], out_channels=32, kernel_size=5, stride=3, padding=2, groups=16),
    one("Conv2d", [1, 3, 3, 3], out_channels=2, kernel_size=3, padding=3, padding_mode="reflect"),
    one("Conv2d", [1, 3, 10, 10], out_channels=2, kernel_size=3, stride=2, padding="same"),
    one("Conv2d", [1, 64, 4, 4], out_channels=64, kernel_size=5),
    one("Conv3d", [1, 2, 4, 6, 6], out_channels=4, kernel_size=3, padding=1),
    one("ConvTranspose2d", [1, 16, 8, 8], out_channels=8, kernel_size=4, stride=2, padding=1),
    one("ConvTranspose2d", [1, 8, 7, 7], out_channels=4, kernel_size=3, stride=2, padding=1, output_size=[15, 15]),
    one("ConvTranspose2d", [1, 8, 7, 7], out_channels=4, kernel_size=3, stride=2, padding=1, output_size=[14, 13]),
    one("ConvTranspose1d", [1, 2, 5], out_channels=2, kernel_size=3, stride=1, dilation=2, output_padding=1),
    one("ConvTranspose2d", [1, 2, 5, 5], out_channels=2, kernel_size=3, stride=2, output_padding=2),
    one("ConvTranspose3d", [1, 2, 3, 4, 5], out_channels=3, kernel_size=2, stride=2),
    one("MaxPool2d", [1, 1, 112, 112], kernel_size=3, stride=2, ceil_mode=True),
    one("MaxPool1d", [1, 1, 5], kernel_size=2, stride=2, padding=1, ceil_mode=True),
    one("MaxPool2d", [1, 1, 10, 11], kernel_size=[3, 2], stride=[2, 3], padding=[1, 1], dilation=[2, 1], ceil_mode=True),
    one("AvgPool2d", [1, 1, 10, 10], kernel_size=3, stride=3, padding=1, ceil_mode=True),
    one("AvgPool3d", [1, 1, 5, 7, 9], kernel_size=2, ceil_mode=True),
    one("MaxPool2d", [1, 1, 9, 9], kernel_size=3, padding=2),
    one("AvgPool1d", [1, 1, 9], kernel_size=3, padding=2),
    one("AdaptiveAvgPool2d", [1, 1, 5, 5], output_size=[6, 6]),
    one("AdaptiveMaxPool1d", [1, 3, 10], output_size=3),
    one("AdaptiveAvgPool3d", [1, 1, 4, 5, 6], output_size=[None, 2, None]),
    one("Upsample", [1, 1, 5, 7], scale_factor=1.5),
    one("Upsample", [1, 1, 3, 4, 5], scale_factor=[1, 2, 3]),
    one("Upsample", [1, 1, 5, 7], size=[9, 4], mode="bilinear", align_corners=True),
    one("Upsample", [1, 1, 5, 7], scale_factor=2, mode="linear"),
    one("ZeroPad2d", [1, 1, 5, 7], padding=[1, 2, 3, 4]),
    one("ConstantPad1d", [1, 2, 5], padding=[2, -1], value=1.0),
    one("ReflectionPad2d", [1, 1, 3, 3], padding=3),
    one("ReplicationPad3d", [1, 1, 2, 2, 2], padding=[1, 0, 2, 0, 0, 3]),
    one("CircularPad1d", [1, 1, 3], padding=4),
    one("Flatten", [2, 3, 4, 5]),
    one("Unflatten", [2, 12], dim=1, unflattened_size=[3, 4]),
    one("PixelShuffle", [1, 12, 5, 6], upscale_factor=2),
    one("PixelUnshuffle", [1, 3, 10, 12], downscale_factor=2),
    one("Linear", [2, 60], out_features=10),
    one("Linear", [7], out_features=3),
    one("BatchNorm2d", [2, 64, 4, 4]),
    one("BatchNorm2d", [2, 64, 4, 4], affine=False),
    one("BatchNorm1d", [4, 3]),
    one("BatchNorm2d", [2, 3, 4]),
    one("GroupNorm", [2, 32, 5], num_groups=4),
    one("LayerNorm", [2, 32, 5, 5], normalized_shape=[32, 5, 5]),
    one("InstanceNorm2d", [2, 3, 5, 5], affine=True),
    one("InstanceNorm1d", [3, 6], num_features=3),
    one("ReLU", [2, 3]), one("ReLU6", [2, 3]), one("LeakyReLU", [2, 3], negative_slope=0.2), one("GELU", [2, 3]),
    one("SiLU", [2, 3]), one("Sigmoid", [2, 3]), one("Tanh", [2, 3]), one("Softmax", [2, 3], dim=1),
    one("Dropout", [2, 3], p=0.1), one("Dropout1d", [2, 3, 4]), one("Dropout2d", [2, 3, 4, 4]),
    one("Dropout3d", [2, 3, 2, 2, 2]), one("Identity", [2, 3]), one("PReLU", [2, 3, 4], num_parameters=3),
    one("AlphaDropout", [2, 3]), one("ELU", [2, 3], alpha=0.5), one("Hardsigmoid", [2, 3]), one("Hardswish", [2, 3]),
    one("Mish", [2, 3]), one("InstanceNorm3d", [1, 2, 3, 3, 3], affine=True), one("ReplicationPad1d", [1, 2, 5], padding=[2, 1]),
    one("ReplicationPad2d", [1, 2, 5, 5], padding=2), one("UpsamplingNearest2d", [1, 2, 3, 4], scale_factor=2),
    one("UpsamplingNearest2d", [1, 2, 3, 4], size=[5, 7]), one("PReLU", [2, 3, 4]),
    one("flatten", [2, 3, 4]), one("reshape", [2, 3, 4], shape=[6, -1]), one("permute", [2, 3, 4], dims=[2, 0, 1]),
    one("pad", [1, 2, 3, 4], pad=[1, 1, 2, 0], mode="reflect"),
    one("interpolate", [1, 2, 5, 5], scale_factor=0.5, mode="nearest"),
    {"framework": "pytorch", "inputs": {"a": [2, 3, 4], "b": [2, 5, 4]},
     "layers": [{"op": "cat", "inputs": ["a", "b"], "dim": 1}]},
    {"framework": "pytorch", "inputs": {"a": [2, 3, 4], "b": [2, 3, 4]},
     "layers": [{"op": "cat", "inputs": ["a", "b"]}]},
    {"framework": "pytorch", "inputs": {"a": [2, 3, 4], "b": [3, 1]},
     "layers": [{"op": "add", "name": "s", "inputs": ["a", "b"]}, {"op": "mul", "inputs": ["s", "a"], "name": "m"}]},
    {"framework": "pytorch", "input": [1, 3, 32, 32], "layers": [
        {"op": "Conv2d", "name": "c1", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"op": "BatchNorm2d", "name": "bn"}, {"op": "ReLU", "name": "r"},
        {"op": "MaxPool2d", "name": "p", "kernel_size": 2},
        {"op": "Conv2d", "name": "c2", "out_channels": 16, "kernel_size": 3, "stride": 2},
        {"op": "AdaptiveAvgPool2d", "name": "gap", "output_size": 1}, {"op": "Flatten", "name": "f"},
        {"op": "Linear", "name": "fc", "out_features": 10}]},
]


def main() -> None:
    builders = [conv, conv, conv, conv_transpose, conv_transpose, pool, pool, adaptive, upsample, padding, f_pad,
                norm, misc, misc]
    # Name the layers of random cases the way convcalc does by default only where cases refer to them.
    cases = run_cases(builders, 420, SEED, execute, CATALOGUE)
    write_fixture("pytorch", {"torch": torch.__version__}, SEED, cases, "gen_pytorch.py")


if __name__ == "__main__":
    main()
