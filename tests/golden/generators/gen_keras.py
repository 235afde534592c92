"""Golden fixtures from Keras 3 (torch backend) and from tf.keras (Keras 2, on TensorFlow).

    # Keras 3:  pip install torch==2.13.0 keras==3.15.1
    KERAS_BACKEND=torch python tests/golden/generators/gen_keras.py            # -> tests/golden/keras.json
    # tf.keras: pip install tensorflow-cpu tf_keras   (TF 2.21 / tf_keras 2.21 here)
    python tests/golden/generators/gen_keras.py --flavor tf.keras               # -> tests/golden/tf_keras.json

Each case is a model file in Keras vocabulary. Every layer is constructed with exactly the case's
arguments (``getattr(keras.layers, op)(**args)``) and called eagerly on zeros; the output shape
and ``count_params()`` / trainable / non-trainable weight counts are stored per layer, or the
exception text. TensorFlow's CPU kernels do not run some channels_first convolutions; for those
the shape comes from the symbolic call (``keras.Input``), which is what a tf.keras user sees.
"""

from __future__ import annotations

import argparse
import os
import random
import warnings
from typing import Any

import numpy as np
from common import first_line, run_cases, write_fixture

SEED = 20261127
# TensorFlow CPU kernels that do not run some channels_first / extra-batch-axis layouts; the
# layer itself is valid (it runs on GPU), so the symbolic shape is the answer.
TF_CPU_LIMITS = ("NHWC", "only supports", "does not yet support strides in the batch and depth dimensions")
warnings.filterwarnings("ignore")


def load_keras(flavor: str) -> Any:
    if flavor == "tf.keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tf_keras as keras  # noqa: PLC0415
    else:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras  # noqa: PLC0415
    return keras


def _size(w: Any) -> int:
    return int(np.prod(w.shape)) if len(w.shape) else 1


def execute_with(keras: Any, flavor: str, model: dict[str, Any]) -> dict[str, Any]:
    shapes = model["inputs"] if "inputs" in model else {"input": model["input"]}
    eager = {k: np.zeros(v, dtype="float32") for k, v in shapes.items()}
    symbolic = {k: keras.Input(batch_shape=tuple(v)) for k, v in shapes.items()}
    prev = next(iter(shapes))
    layers = []
    try:
        for i, spec in enumerate(model["layers"]):
            args = {k: v for k, v in spec.items() if k not in ("op", "inputs")}
            srcs = spec.get("inputs", prev)
            many = isinstance(srcs, list)
            srcs_l = srcs if many else [srcs]
            layer = getattr(keras.layers, spec["op"])(**args)
            name = spec.get("name", f"l{i}")
            x_sym = [symbolic[s] for s in srcs_l]
            y_sym = layer(x_sym if many else x_sym[0])
            symbolic[name] = y_sym
            out_shape = list(y_sym.shape)
            x_eager = [eager[s] for s in srcs_l]
            if all(v is not None for v in x_eager):
                try:
                    y = layer(x_eager if many else x_eager[0])
                    y = np.asarray(y.detach().cpu() if hasattr(y, "detach") else y)
                    eager[name] = y
                    out_shape = list(y.shape)
                except Exception as e:  # noqa: BLE001
                    if flavor == "tf.keras" and any(m in str(e) for m in TF_CPU_LIMITS):
                        eager[name] = None  # TF CPU kernel limitation: keep the symbolic shape
                    else:
                        raise
            else:
                eager[name] = None
            prev = name
            layers.append({
                "output_shape": out_shape,
                "params": int(layer.count_params()),
                "trainable_params": sum(_size(w) for w in layer.trainable_weights),
                "non_trainable_params": sum(_size(w) for w in layer.non_trainable_weights),
            })
    except Exception as e:  # noqa: BLE001 - the error text is the fixture
        return {"error": first_line(e), "layers_before_error": len(layers)}
    return {"layers": layers}


# --------------------------------------------------------------------------- cases

FW = "keras"


def one(op: str, in_shape: list[int], **args: Any) -> dict[str, Any]:
    return {"framework": FW, "input": in_shape, "layers": [{"op": op, **args}]}


def size(rng: random.Random, r: int) -> list[int]:
    hi = {1: 24, 2: 14, 3: 8}[r]
    return [rng.randint(1, hi) for _ in range(r)]


def tup(rng: random.Random, r: int, lo: int, hi: int) -> Any:
    return rng.randint(lo, hi) if rng.random() < 0.5 else [rng.randint(lo, hi) for _ in range(r)]


def _shape(rng: random.Random, r: int, c: int, first: bool) -> list[int]:
    sp = size(rng, r)
    return [rng.randint(1, 2)] + ([c] + sp if first else sp + [c])


def conv(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 2, 3])
    g = rng.choice([1, 1, 1, 2])
    c = g * rng.randint(1, 3)
    filters = g * rng.randint(1, 3) + (1 if rng.random() < 0.04 else 0)
    first = rng.random() < 0.2
    args: dict[str, Any] = {"filters": filters, "kernel_size": tup(rng, r, 1, 5), "groups": g,
                            "use_bias": rng.random() < 0.7,
                            "padding": rng.choice(["valid", "same", "same", "causal" if r == 1 else "valid"])}
    if rng.random() < 0.5:
        args["strides"] = tup(rng, r, 1, 3)
    else:
        args["dilation_rate"] = tup(rng, r, 1, 3)
    if rng.random() < 0.05:
        args["strides"], args["dilation_rate"] = 2, 2
    if first:
        args["data_format"] = "channels_first"
    if rng.random() < 0.2:
        args["activation"] = rng.choice(["relu", "sigmoid", "linear"])
    shape = _shape(rng, r, c, first)
    if rng.random() < 0.06:
        shape = [2] + shape  # an extra leading batch axis (tf.keras accepts, Keras 3 rejects)
    return one(f"Conv{r}D", shape, **args)


def conv_transpose(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 2, 3])
    c = rng.randint(1, 3)
    first = rng.random() < 0.15
    s = tup(rng, r, 1, 3)
    args: dict[str, Any] = {"filters": rng.randint(1, 4), "kernel_size": tup(rng, r, 1, 5), "strides": s,
                            "padding": rng.choice(["valid", "same"]), "use_bias": rng.random() < 0.7}
    if rng.random() < 0.5:
        smax = s if isinstance(s, int) else min(s)
        args["output_padding"] = rng.randint(0, smax - 1 + (1 if rng.random() < 0.1 else 0))
    if rng.random() < 0.2:
        args["strides"] = 1
        args.pop("output_padding", None)
        args["dilation_rate"] = tup(rng, r, 1, 3)
    if first:
        args["data_format"] = "channels_first"
    return one(f"Conv{r}DTranspose", _shape(rng, r, c, first), **args)


def depthwise_separable(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2])
    c = rng.randint(1, 4)
    kind = rng.choice(["DepthwiseConv", "SeparableConv"])
    args: dict[str, Any] = {"kernel_size": tup(rng, r, 1, 4), "depth_multiplier": rng.randint(1, 3),
                            "padding": rng.choice(["valid", "same"]), "use_bias": rng.random() < 0.7}
    if kind == "SeparableConv":
        args["filters"] = rng.randint(1, 5)
    if rng.random() < 0.5:
        args["strides"] = tup(rng, r, 1, 2)
    elif rng.random() < 0.5:
        args["dilation_rate"] = tup(rng, r, 1, 2)
    if r == 1 and rng.random() < 0.15:
        args["padding"] = "causal"
    return one(f"{kind}{r}D", _shape(rng, r, c, False), **args)


def pool(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 3])
    kind = rng.choice(["MaxPooling", "AveragePooling"])
    first = rng.random() < 0.2
    args: dict[str, Any] = {"pool_size": tup(rng, r, 1, 4), "padding": rng.choice(["valid", "same"])}
    if rng.random() < 0.6:
        args["strides"] = tup(rng, r, 1, 3)
    if first:
        args["data_format"] = "channels_first"
    return one(f"{kind}{r}D", _shape(rng, r, rng.randint(1, 3), first), **args)


def global_adaptive(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 3])
    first = rng.random() < 0.3
    shape = _shape(rng, r, 3, first)
    fmt = {"data_format": "channels_first"} if first else {}
    if FW == "keras" and rng.random() < 0.4:
        kind = rng.choice(["AdaptiveAveragePooling", "AdaptiveMaxPooling"])
        return one(f"{kind}{r}D", shape, output_size=tup(rng, r, 1, 5), **fmt)
    kind = rng.choice(["GlobalAveragePooling", "GlobalMaxPooling"])
    return one(f"{kind}{r}D", shape, keepdims=rng.random() < 0.5, **fmt)


def resample(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 3])
    kind = rng.choice(["UpSampling", "ZeroPadding", "Cropping"])
    shape = _shape(rng, r, 2, False)
    if kind == "UpSampling":
        return one(f"UpSampling{r}D", shape, size=tup(rng, r, 1, 3))
    if kind == "ZeroPadding":
        pad: Any = rng.randint(0, 3)
        if r > 1 and rng.random() < 0.6:
            pad = [[rng.randint(0, 3), rng.randint(0, 3)] for _ in range(r)]
        elif r == 1 and rng.random() < 0.6:
            pad = [rng.randint(0, 3), rng.randint(0, 3)]
        return one(f"ZeroPadding{r}D", shape, padding=pad)
    shape = [1] + [rng.randint(2, 10) for _ in range(r)] + [2]
    crop: Any = rng.randint(0, 3)
    if r > 1 and rng.random() < 0.6:
        crop = [[rng.randint(0, 4), rng.randint(0, 4)] for _ in range(r)]
    elif r == 1:
        crop = [rng.randint(0, 4), rng.randint(0, 4)]
    return one(f"Cropping{r}D", shape, cropping=crop)


def reshape_like(rng: random.Random) -> dict[str, Any]:
    choice = rng.randint(0, 4)
    shape = [2, 4, 6, 3]
    if choice == 0:
        return one("Flatten", rng.choice([[2, 5, 6, 3], [2, 7], [2, 3, 4, 5, 2]]),
                   **({"data_format": "channels_first"} if rng.random() < 0.3 else {}))
    if choice == 1:
        return one("Reshape", shape, target_shape=rng.choice([[-1, 6], [72], [8, 9], [7, -1], [3, 4, -1], [5, 5]]))
    if choice == 2:
        perm = [1, 2, 3]
        rng.shuffle(perm)
        return one("Permute", shape, dims=perm)
    if choice == 3:
        a, b = [2, 4, 5, rng.randint(1, 3)], [2, 4, rng.choice([5, 5, 6]), rng.randint(1, 3)]
        return {"framework": FW, "inputs": {"a": a, "b": b},
                "layers": [{"op": "Concatenate", "inputs": ["a", "b"], "axis": rng.choice([-1, 3, 1])}]}
    op = rng.choice(["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"])
    a = [2, 4, 3]
    b = rng.choice([[2, 4, 3], [2, 1, 3], [2, 4, 1], [2, 5, 3], [3, 4, 3]])
    return {"framework": FW, "inputs": {"a": a, "b": b}, "layers": [{"op": op, "inputs": ["a", "b"]}]}


def dense_norm(rng: random.Random) -> dict[str, Any]:
    choice = rng.randint(0, 4)
    if choice == 0:
        return one("Dense", [2] + [rng.randint(1, 4) for _ in range(rng.randint(0, 2))] + [rng.randint(1, 6)],
                   units=rng.randint(1, 7), use_bias=rng.random() < 0.7)
    if choice == 1:
        return one("BatchNormalization", [2, 3, 4, 5], axis=rng.choice([-1, 1, 2]), center=rng.random() < 0.7,
                   scale=rng.random() < 0.7)
    if choice == 2:
        return one("LayerNormalization", [2, 3, 4, 5], axis=rng.choice([-1, 1, [1, 2], [2, 3]]),
                   center=rng.random() < 0.7, scale=rng.random() < 0.7)
    if choice == 3:
        c = rng.choice([4, 6, 8, 5])
        return one("GroupNormalization", [2, 3, 3, c], groups=rng.choice([1, 2, 4, 8, -1]))
    return one(rng.choice(["Activation", "ReLU", "Dropout", "SpatialDropout2D"]), [2, 4, 4, 3],
               **rng.choice([{"activation": "relu"}, {}, {"rate": 0.3}, {"rate": 0.1}]))


def catalogue() -> list[dict[str, Any]]:
    cases = [
        one("Conv2D", [2, 10, 11, 3], filters=8, kernel_size=3, strides=2, padding="same"),
        one("Conv2D", [2, 224, 225, 3], filters=8, kernel_size=7, strides=2, padding="same"),
        one("Conv2D", [2, 13, 9, 2], filters=4, kernel_size=[4, 2], strides=[3, 2], padding="same"),
        one("Conv2D", [2, 12, 14, 4], filters=6, kernel_size=3, dilation_rate=[2, 3]),
        one("Conv2D", [2, 12, 13, 4], filters=6, kernel_size=3, strides=2, groups=2),
        one("Conv3D", [1, 7, 8, 9, 2], filters=3, kernel_size=3, strides=2, padding="same"),
        one("Conv2D", [2, 3, 11, 10], filters=8, kernel_size=3, strides=2, padding="same", data_format="channels_first"),
        one("Conv1D", [2, 20, 3], filters=5, kernel_size=3, padding="causal", dilation_rate=4),
        one("Conv1D", [2, 21, 3], filters=5, kernel_size=3, padding="causal", strides=2),
        one("Conv1D", [2, 10, 3], filters=5, kernel_size=2, padding="causal", strides=3),
        one("Conv2D", [2, 10, 10, 3], filters=4, kernel_size=3, padding="causal"),
        one("Conv1D", [20, 100, 100, 3], filters=32, kernel_size=3, activation="relu"),
        one("Conv2D", [2, 5, 10, 3, 4], filters=4, kernel_size=3),
        one("Conv2D", [2, 4, 4, 3], filters=4, kernel_size=5),
        one("Conv2D", [2, 9, 9, 3], filters=4, kernel_size=3, strides=2, dilation_rate=2),
        one("Conv2DTranspose", [2, 5, 6, 3], filters=4, kernel_size=3, strides=2, padding="same"),
        one("Conv2DTranspose", [2, 5, 6, 3], filters=4, kernel_size=3, strides=2, padding="same", output_padding=0),
        one("Conv2DTranspose", [2, 5, 6, 3], filters=4, kernel_size=3, strides=2, padding="same", output_padding=1),
        one("Conv2DTranspose", [2, 5, 6, 3], filters=4, kernel_size=4, strides=2, padding="same"),
        one("Conv2DTranspose", [2, 5, 6, 3], filters=4, kernel_size=4, strides=2, padding="same", output_padding=1),
        one("Conv2DTranspose", [2, 5, 6, 3], filters=4, kernel_size=2, strides=3, padding="valid"),
        one("Conv2DTranspose", [2, 5, 6, 3], filters=4, kernel_size=3, strides=2, padding="valid"),
        one("Conv2DTranspose", [2, 5, 6, 3], filters=4, kernel_size=4, strides=3, padding="valid", output_padding=2),
        one("Conv1DTranspose", [2, 7, 3], filters=2, kernel_size=5, dilation_rate=2),
        one("Conv3DTranspose", [1, 3, 4, 5, 2], filters=2, kernel_size=3, strides=[1, 2, 2], padding="same"),
        one("Conv2DTranspose", [2, 5, 6, 3], filters=4, kernel_size=3, strides=2, output_padding=2),
        one("Conv1DTranspose", [2, 5, 3], filters=2, kernel_size=3, strides=1, dilation_rate=2, output_padding=1),
        one("DepthwiseConv2D", [2, 6, 6, 8], kernel_size=3, depth_multiplier=2),
        one("DepthwiseConv1D", [2, 9, 5], kernel_size=4, depth_multiplier=3),
        one("SeparableConv2D", [2, 6, 6, 16], filters=32, kernel_size=3),
        one("SeparableConv2D", [2, 6, 6, 16], filters=32, kernel_size=3, depth_multiplier=2),
        one("SeparableConv1D", [2, 10, 4], filters=3, kernel_size=3, padding="causal"),
        one("MaxPooling2D", [1, 7, 7, 1], pool_size=2),
        one("MaxPooling2D", [1, 7, 7, 1], pool_size=2, padding="same"),
        one("MaxPooling2D", [1, 112, 112, 1], pool_size=3, strides=2),
        one("MaxPooling2D", [1, 112, 111, 1], pool_size=3, strides=2, padding="same"),
        one("AveragePooling2D", [1, 10, 11, 1], pool_size=[3, 2], strides=[2, 3], padding="same"),
        one("MaxPooling1D", [1, 1, 3], pool_size=2),
        one("MaxPooling3D", [1, 4, 5, 6, 2], pool_size=2),
        one("AveragePooling3D", [1, 4, 5, 6, 2], pool_size=[1, 2, 3], padding="same"),
        one("AveragePooling1D", [1, 9, 2], pool_size=3, strides=2),
        one("GlobalAveragePooling2D", [2, 5, 6, 3]),
        one("GlobalAveragePooling2D", [2, 5, 6, 3], keepdims=True),
        one("GlobalMaxPooling1D", [2, 32, 9], data_format="channels_first"),
        one("GlobalMaxPooling3D", [2, 3, 4, 5, 6]),
        one("GlobalAveragePooling1D", [2, 7, 3]),
        one("GlobalMaxPooling2D", [2, 5, 6, 3], keepdims=True),
        one("GlobalAveragePooling3D", [2, 3, 4, 5, 6], keepdims=True),
        one("UpSampling2D", [1, 5, 6, 2], size=[2, 3]),
        one("UpSampling1D", [1, 5, 2], size=3),
        one("UpSampling3D", [1, 2, 3, 4, 2], size=2),
        one("UpSampling2D", [1, 5, 6, 2], size=2, interpolation="bilinear"),
        one("ZeroPadding2D", [1, 5, 6, 2], padding=[[1, 2], [3, 4]]),
        one("ZeroPadding1D", [1, 5, 2], padding=[1, 3]),
        one("ZeroPadding3D", [1, 2, 3, 4, 2], padding=1),
        one("Cropping2D", [1, 10, 9, 2], cropping=[[1, 2], [0, 3]]),
        one("Cropping1D", [1, 10, 2], cropping=[1, 3]),
        one("Cropping3D", [1, 4, 5, 6, 2], cropping=1),
        one("Cropping2D", [1, 4, 9, 2], cropping=[[2, 2], [0, 0]]),
        one("Flatten", [2, 5, 6, 3]),
        one("Reshape", [2, 5, 6, 3], target_shape=[-1, 6]),
        one("Reshape", [2, 5, 6, 3], target_shape=[7, -1]),
        one("Permute", [2, 5, 6, 3], dims=[3, 1, 2]),
        {"framework": FW, "inputs": {"a": [2, 4, 5, 3], "b": [2, 4, 5, 2]},
         "layers": [{"op": "Concatenate", "inputs": ["a", "b"]}]},
        {"framework": FW, "inputs": {"a": [2, 4, 5, 3], "b": [2, 4, 6, 2]},
         "layers": [{"op": "Concatenate", "inputs": ["a", "b"]}]},
        {"framework": FW, "inputs": {"a": [2, 4, 3], "b": [2, 4, 3]},
         "layers": [{"op": "Add", "inputs": ["a", "b"]}, {"op": "Subtract", "name": "s", "inputs": ["a", "b"]},
                    {"op": "Multiply", "inputs": ["a", "b"]}, {"op": "Average", "inputs": ["a", "b"]}]},
        one("Dense", [2, 60], units=10),
        one("Dense", [2, 5, 6], units=4),
        one("BatchNormalization", [2, 4, 4, 64]),
        one("BatchNormalization", [2, 4, 4, 64], center=False, scale=False),
        one("BatchNormalization", [2, 4, 4, 8], trainable=False),
        one("LayerNormalization", [2, 5, 6]),
        one("GroupNormalization", [2, 3, 3, 8], groups=4),
        one("GroupNormalization", [2, 3, 3, 8], groups=16),
        one("Activation", [2, 3], activation="relu"),
        one("ReLU", [2, 3]),
        one("Dropout", [2, 3], rate=0.5),
        one("SpatialDropout1D", [2, 5, 3], rate=0.5),
        one("SpatialDropout2D", [2, 5, 5, 3], rate=0.5),
        one("SpatialDropout3D", [2, 3, 5, 5, 3], rate=0.5),
        one("Conv2D", [1, 8, 8, 3], filters=4, kernel_size=3, trainable=False),
        one("Conv2D", [1, 8, 8, 3], filters=4, kernel_size=3, kernal_size=2),
    ]
    cases += [
        one("ELU", [2, 3], alpha=0.5),
        one("Identity", [2, 3]),
        one("Softmax", [2, 3, 4], axis=1),
        one("PReLU", [2, 3, 4, 5]),
        one("PReLU", [2, 3, 4, 5], shared_axes=[1, 2]),
        one("LeakyReLU", [2, 3], **({"alpha": 0.2} if FW == "tf.keras" else {"negative_slope": 0.2})),
        {"framework": FW, "inputs": {"a": [2, 4, 3], "b": [2, 4, 3]},
         "layers": [{"op": "Maximum", "inputs": ["a", "b"]}, {"op": "Minimum", "inputs": ["a", "b"]}]},
    ]
    if FW == "keras":
        cases += [
            one("AdaptiveAveragePooling2D", [2, 10, 11, 4], output_size=3),
            one("AdaptiveMaxPooling1D", [2, 10, 4], output_size=4),
            one("AdaptiveAveragePooling3D", [2, 4, 5, 6, 4], output_size=[2, 2, 3]),
            one("AdaptiveMaxPooling2D", [2, 4, 10, 11], output_size=[3, 5], data_format="channels_first"),
        ]
    return cases


# --------------------------------------------------------------------------- values

def value_cases() -> list[dict[str, Any]]:
    """Small layers whose VALUES pin Keras semantics the executor must reproduce: where the
    'same' padding goes (TF split), causal padding, averages that exclude the padding, where a
    transposed convolution's crop and output_padding fall, nearest/bilinear upsampling."""
    cases = [
        one("Conv1D", [1, 10, 2], filters=2, kernel_size=3, strides=2, padding="same"),
        one("Conv1D", [1, 11, 2], filters=2, kernel_size=3, strides=2, padding="same"),
        one("Conv1D", [1, 10, 2], filters=2, kernel_size=4, strides=2, padding="same"),
        one("Conv1D", [1, 7, 1], filters=1, kernel_size=4, padding="same"),
        one("Conv2D", [1, 10, 11, 2], filters=3, kernel_size=3, strides=2, padding="same"),
        one("Conv2D", [1, 13, 9, 2], filters=2, kernel_size=[4, 2], strides=[3, 2], padding="same"),
        one("Conv2D", [1, 8, 8, 4], filters=4, kernel_size=3, strides=2, padding="same", groups=2),
        one("Conv2D", [1, 3, 9, 8], filters=2, kernel_size=3, strides=2, padding="same", data_format="channels_first"),
        one("Conv1D", [1, 12, 2], filters=2, kernel_size=3, padding="causal", dilation_rate=2),
        one("Conv1D", [1, 11, 2], filters=2, kernel_size=3, padding="causal", strides=2),
        one("DepthwiseConv2D", [1, 9, 8, 3], kernel_size=3, strides=2, padding="same", depth_multiplier=2),
        one("SeparableConv2D", [1, 8, 9, 3], filters=4, kernel_size=3, padding="same", depth_multiplier=2),
        one("MaxPooling2D", [1, 7, 7, 2], pool_size=2, padding="same"),
        one("AveragePooling2D", [1, 10, 11, 2], pool_size=[3, 2], strides=[2, 3], padding="same"),
        one("AveragePooling1D", [1, 9, 2], pool_size=3, strides=2, padding="same"),
        one("AveragePooling2D", [1, 7, 7, 1], pool_size=3, strides=1, padding="same"),
        one("Conv2DTranspose", [1, 5, 6, 2], filters=2, kernel_size=3, strides=2, padding="same"),
        one("Conv2DTranspose", [1, 5, 6, 2], filters=2, kernel_size=3, strides=2, padding="same", output_padding=1),
        one("Conv2DTranspose", [1, 5, 6, 2], filters=2, kernel_size=4, strides=2, padding="same"),
        one("Conv2DTranspose", [1, 5, 6, 2], filters=2, kernel_size=4, strides=2, padding="same", output_padding=1),
        one("Conv2DTranspose", [1, 5, 6, 2], filters=2, kernel_size=2, strides=3, padding="valid"),
        one("Conv2DTranspose", [1, 5, 6, 2], filters=2, kernel_size=3, strides=2, padding="valid", output_padding=1),
        one("Conv1DTranspose", [1, 7, 2], filters=2, kernel_size=5, dilation_rate=2),
        one("Conv1DTranspose", [1, 6, 2], filters=2, kernel_size=3, strides=2, padding="same"),
        one("UpSampling2D", [1, 3, 4, 2], size=[2, 3]),
        one("UpSampling2D", [1, 3, 4, 2], size=2, interpolation="bilinear"),
        one("ZeroPadding2D", [1, 3, 4, 2], padding=[[1, 2], [0, 1]]),
        one("Cropping2D", [1, 6, 5, 2], cropping=[[1, 2], [0, 1]]),
        one("GlobalAveragePooling2D", [2, 3, 4, 5]),
        one("BatchNormalization", [2, 3, 4], epsilon=0.001),
        one("Dense", [2, 3, 4], units=5),
    ]
    if FW == "keras":
        cases.append(one("AdaptiveAveragePooling2D", [1, 10, 11, 2], output_size=3))
    return cases


def execute_values(keras: Any, model: dict[str, Any], seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    spec = model["layers"][0]
    args = {k: v for k, v in spec.items() if k != "op"}
    layer = getattr(keras.layers, spec["op"])(**args)
    x = rng.standard_normal(model["input"]).astype("float32")
    layer.build(tuple(model["input"]))
    w = [rng.standard_normal(v.shape).astype("float32") for v in layer.get_weights()]
    if spec["op"] == "BatchNormalization":
        w[-1] = np.abs(w[-1]) + 0.5  # moving variance
    layer.set_weights(w)
    y = layer(x)
    y = np.asarray(y.detach().cpu() if hasattr(y, "detach") else y)
    return {"input": x.tolist(), "weights": [a.tolist() for a in w], "output": y.tolist()}


def main() -> None:
    global FW
    parser = argparse.ArgumentParser()
    parser.add_argument("--flavor", choices=["keras", "tf.keras"], default="keras")
    parser.add_argument("-n", type=int, default=320)
    parser.add_argument("--values", action="store_true", help="write <flavor>_values.json instead")
    opts = parser.parse_args()
    flavor, n = opts.flavor, opts.n
    FW = flavor
    keras = load_keras(flavor)
    if opts.values:
        cases = [{"id": f"values-{i:03d}", "model": m, "expected": execute_values(keras, m, SEED + i)}
                 for i, m in enumerate(value_cases())]
        versions = {"keras": keras.__version__}
        write_fixture(f"values/{flavor}", versions, SEED, cases, "gen_keras.py --values")
        return
    builders = [conv, conv, conv, conv_transpose, conv_transpose, depthwise_separable, pool, pool,
                global_adaptive, resample, reshape_like, dense_norm]
    cases = run_cases(builders, n, SEED, lambda m: execute_with(keras, flavor, m), catalogue())
    versions = {"keras": keras.__version__}
    if flavor == "tf.keras":
        import tensorflow as tf  # noqa: PLC0415

        versions["tensorflow"] = tf.__version__
        versions["tf_keras"] = keras.__version__
    else:
        import torch  # noqa: PLC0415

        versions["backend"] = f"torch {torch.__version__}"
    write_fixture(flavor, versions, SEED, cases, "gen_keras.py")


if __name__ == "__main__":
    main()
