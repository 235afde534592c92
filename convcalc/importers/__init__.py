"""Models people already have: ONNX files, Keras files and PyTorch modules, as convcalc models.

Each importer translates a source into a :class:`~convcalc.Model` in the source framework's
own vocabulary (the same ops and arguments a model file would use), with the source's own
layer names and a :class:`~convcalc.errors.Where` (file and node) per layer, so everything
downstream — plans, compare, check, solve, convert — works on it unchanged.

:func:`load_any` picks the reader from the file's suffix and content.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import UsageError

ONNX_SUFFIXES = (".onnx",)
KERAS_SUFFIXES = (".keras", ".h5")
YAML_SUFFIXES = (".yaml", ".yml")


def load_any(path: str, *, partial: bool = False) -> Any:
    """A model file of any kind convcalc reads: YAML model files (docs/model-file.md), ``.onnx``, and
    Keras files (``.keras``, ``model.to_json()`` text, ``.h5``), told apart by suffix and content.
    ``partial`` keeps an imported node convcalc cannot model as an opaque layer."""
    from ..loader import regular_file_size

    regular_file_size(path)  # a FIFO or a device is refused before anything opens it (no hang, no endless read)
    suffix = os.path.splitext(path)[1].lower()
    if suffix in ONNX_SUFFIXES or (suffix not in YAML_SUFFIXES and _looks_like_onnx(path)):
        from .onnx_file import from_onnx

        return from_onnx(path, partial=partial)
    if suffix in KERAS_SUFFIXES or (suffix == ".json" and _looks_like_keras_json(path)):
        from .keras_file import from_keras

        return from_keras(path, partial=partial)
    from ..loader import load

    return load(path)


def _looks_like_keras_json(path: str) -> bool:
    """Keras' to_json() starts with the model's class: {"module": ..., "class_name": ...} or
    {"class_name": "Functional", ...}; convcalc's own model files (YAML, or JSON) do not."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b'"class_name"' in head and b'"config"' in head


def _looks_like_onnx(path: str) -> bool:
    """An ONNX file is a protobuf ModelProto: it starts with field 1 (ir_version, varint: 0x08)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
    except OSError:
        return False
    return head[:1] == b"\x08"


__all__ = ["UsageError", "load_any"]
