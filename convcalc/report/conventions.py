"""The counting conventions, stated once; every rendering prints them (design.md §4).

They are the most asked question in this field — whose MACs, whose parameters, what "memory"
means — so the plan, the comparison, the check, the sweep and the plot all say them in the same
words, from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..plan import Plan

MACS = (
    "MACs = multiply-accumulates of convolutions and dense layers (transposed convolutions counted by input "
    "positions); bias adds, normalisation, activations, pooling and resizing are excluded. FLOPs = 2 x MACs."
)

PARAM_CONVENTION = {
    "pytorch": "params follow PyTorch: parameters only, buffers (BatchNorm running mean/var) excluded",
    "keras": "params follow Keras count_params(): BatchNorm moving mean/variance included, as non-trainable",
    "tf.keras": "params follow tf.keras count_params(): BatchNorm moving mean/variance included, as non-trainable",
    "onnx": "params are ONNX initializer elements (weights, biases; BatchNormalization mean/var as non-trainable)",
}


def activations(dtype_bytes: int, dtype: str) -> str:
    """What the activation memory figure counts."""
    return (f"activations = output elements x {dtype_bytes} bytes ({dtype}) per layer, batch included, "
            "model inputs excluded.")


def conventions(plan: Plan) -> list[str]:
    """The counting conventions of a plan, one statement per line."""
    return [MACS, PARAM_CONVENTION[plan.framework] + ".", activations(plan.dtype_bytes, plan.dtype)]


CONSTRAINT_TITLES = {"valid": "valid when", "merge": "merges need", "exact": "exact (nothing dropped) when"}


def constraint_lines(plan: Plan) -> list[str]:
    """One line per kind of constraint on the symbols, and the concrete remainders dropped."""
    lines = [f"{CONSTRAINT_TITLES[k]}: " + ", ".join(texts) for k, texts in plan.constraint_summary.items() if texts]
    if plan.notes:
        shown = "; ".join(plan.notes[:4]) + (f"; and {len(plan.notes) - 4} more layers" if len(plan.notes) > 4 else "")
        lines.append(f"not exact (a stride skips the last rows of its padded input): {shown}")
    return lines
