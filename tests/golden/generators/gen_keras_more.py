"""Golden cases for Keras layers that wrap a layer (``TimeDistributed``), from Keras 3 itself.

    pip install torch==2.13.0 keras==3.15.1
    KERAS_BACKEND=torch python tests/golden/generators/gen_keras_more.py   # -> tests/golden/multi_output/keras_more.json
    pip install tensorflow-cpu tf_keras                                     # tf.keras 2.21 here
    python tests/golden/generators/gen_keras_more.py --flavor tf.keras     # -> .../tf_keras_more.json

Each case is a one-layer model in convcalc's vocabulary (the wrapped layer written as a layer of
the model file); Keras builds ``TimeDistributed(getattr(keras.layers, op)(**args))``, calls it
on zeros, and the output shape and ``count_params()`` are stored, or Keras' error.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

FLAVOR = "tf.keras" if "--flavor" in sys.argv and sys.argv[sys.argv.index("--flavor") + 1] == "tf.keras" else "keras"
if FLAVOR == "tf.keras":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tf_keras as keras  # noqa: E402
else:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "multi_output" / f"{FLAVOR.replace('.', '_')}_more.json"
CASES = [
    ([2, 5, 8, 8, 3], {"op": "Conv2D", "filters": 4, "kernel_size": 3}),
    ([1, 3, 16, 16, 2], {"op": "Conv2D", "filters": 6, "kernel_size": 5, "strides": 2, "padding": "same"}),
    ([2, 7, 10], {"op": "Dense", "units": 4}),
    ([1, 4, 12, 12, 3], {"op": "MaxPooling2D", "pool_size": 2}),
    ([1, 4, 20, 3], {"op": "Conv1D", "filters": 8, "kernel_size": 3, "dilation_rate": 2}),
    ([2, 3, 6, 6, 4], {"op": "BatchNormalization"}),
    ([2, 3, 6, 6, 4], {"op": "Flatten"}),
    ([1, 4, 2, 2, 3], {"op": "Conv2D", "filters": 2, "kernel_size": 3}),  # empty output: rejected
]


def run(shape: list[int], inner: dict) -> dict:
    args = {k: v for k, v in inner.items() if k != "op"}
    model = {"framework": FLAVOR, "input": shape, "layers": [{"op": "TimeDistributed", "name": "td", "layer": inner}]}
    try:
        layer = keras.layers.TimeDistributed(getattr(keras.layers, inner["op"])(**args))
        y = layer(np.zeros(shape, np.float32))
        expected = {"layers": [{"output_shape": list(y.shape), "params": int(layer.count_params()),
                                "trainable_params": sum(int(np.prod(w.shape)) for w in layer.trainable_weights),
                                "non_trainable_params": sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights)}]}
    except Exception as e:  # noqa: BLE001 - Keras' refusal is the expected answer
        expected = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"}
    return {"model": model, "expected": expected}


def main() -> None:
    payload = {"framework": FLAVOR, "generated_by": "tests/golden/generators/gen_keras_more.py",
               "versions": {"python": platform.python_version(), "keras": keras.__version__,
                            "backend": keras.backend.backend()},
               "generated": time.strftime("%Y-%m-%d"), "cases": [run(s, a) for s, a in CASES]}
    OUT.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {OUT} ({len(payload['cases'])} cases)")


if __name__ == "__main__":
    main()
