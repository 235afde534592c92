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
            "model inputs excluded; the inference peak is the most bytes alive at once, the inputs included, each "
            "tensor freed after its last reader, views and in-place layers allocating nothing.")


def conventions(plan: Plan) -> list[str]:
    """The counting conventions of a plan, one statement per line."""
    return [MACS, PARAM_CONVENTION[plan.framework] + ".", activations(plan.dtype_bytes, plan.dtype)]


CONSTRAINT_TITLES = {"valid": "valid when", "merge": "merges need", "exact": "every input row is read when",
                     "invertible": "a transposed convolution with the same arguments gives back the size when"}


def constraint_lines(plan: Plan) -> list[str]:
    """One line per kind of constraint on the symbols, and the concrete remainders dropped."""
    lines = [f"{CONSTRAINT_TITLES[k]}: " + ", ".join(texts) for k, texts in plan.constraint_summary.items() if texts]
    if plan.notes:
        lines.append(f"not every input row is read (rows no window reads): {_listed(plan.notes)}")
    lines += [f"hint: {h}" for h in plan.hints]
    if plan.inversion_notes:
        lines.append("a transposed convolution with the same arguments would not give back the size: "
                     + _listed(plan.inversion_notes))
    return lines


def _listed(notes: tuple[str, ...], most: int = 4) -> str:
    return "; ".join(notes[:most]) + (f"; and {len(notes) - most} more layers" if len(notes) > most else "")
