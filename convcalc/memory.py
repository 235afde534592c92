"""Memory: the inference peak — the most bytes of activations alive at once (issue 12, part 1).

The plan is walked in its order (the file's order: the framework's execution order). Every
tensor lives from the layer that makes it until its last reader has run; the model inputs are
held by the caller from the start, and the model's outputs to the end. A layer allocates its
outputs, except where it makes none, by the rules below (PyTorch's, which the torch oracle in
``tests/test_memory.py`` measures allocation by allocation):

* **views** share their input's storage: ``flatten`` and ``reshape`` (of a contiguous tensor),
  ``permute``, ``identity`` (dropout at inference), ``split``/``chunk`` and ``slice``;
  a ``flatten``/``reshape`` of a non-contiguous view (after a ``permute``, or a slice of a
  non-leading axis) copies, as ``Tensor.reshape`` does;
* **in-place** layers (``inplace: true`` on PyTorch activations, ``add_``) write into their
  first input: they allocate nothing, and that storage lives on as their output;
* everything else allocates a new tensor of its output's size; the steps of a layer lowered to
  several primitives (a Keras ``Conv2D(activation=...)``) hold their intermediate until the
  next step has made its output;
* PyTorch's max pooling (1-D, 2-D, 3-D and adaptive) computes int64 indices of its output's
  shape even under ``no_grad`` (``aten.max_pool2d_with_indices``; 1-D pools go through it
  too): they live while the layer runs, 8 bytes per output element, and are freed at once.

Keras never works in place. What no plan can know (a kernel's workspace, the allocator's
rounding on a GPU) is left out and said so.

    >>> import convcalc
    >>> plan = convcalc.load("examples/resnet50.yaml").plan()
    >>> peak = inference_peak(plan)
    >>> peak.bytes, peak.layer  # torch measures the same for torchvision's resnet50 (tests/test_memory.py)
    (10235904, 'layer1.0.downsample.1')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .dims import Dim, dsum, is_concrete, prod
from .plan import LayerPlan, Plan

VIEW_KINDS = frozenset({"flatten", "reshape", "permute", "identity", "split", "slice"})
# A reshape of these is a copy unless the view is contiguous (Tensor.reshape = view or copy).
RESHAPE_KINDS = frozenset({"flatten", "reshape"})


@dataclass(frozen=True)
class Peak:
    """The inference peak: its bytes, the layer running when it is reached (``None``: the
    inputs alone), and the tensors alive then, by the layer that made each (bytes)."""

    bytes: Dim
    layer: str | None
    live: tuple[tuple[str, Dim], ...]

    def to_dict(self) -> dict[str, Any]:
        def j(v: Any) -> Any:
            return v if isinstance(v, int) else str(v)

        return {"peak_bytes": j(self.bytes), "peak_layer": self.layer,
                "live": [{"tensor": name, "bytes": j(b)} for name, b in self.live]}


def in_place(layer: LayerPlan) -> bool:
    """Whether the layer writes into its first input (``inplace: true``, ``add_``)."""
    return bool(layer.args.get("inplace")) or layer.op.endswith("_")


def _contiguous_after(kind: str, step: Any, shape: tuple, contiguous: bool) -> bool:
    """Whether a view made by ``step`` of a tensor of ``shape`` is still laid out contiguously."""
    if kind == "permute":
        perm = tuple(p % len(shape) for p in step.perm)
        moved = [i for i, p in enumerate(perm) if p != i]
        return contiguous and all(shape[perm[i]] == 1 for i in moved)  # moving size-1 axes is free
    if kind in ("split", "slice"):
        axes = [step.axis] if kind == "split" else list(step.axes)
        return contiguous and all(all(shape[a] == 1 for a in range(a % len(shape))) for a in axes)
    return contiguous


def inference_peak(plan: Plan) -> Peak:
    """The most activation bytes alive at once running ``plan`` forward (see the module).

    Linear in the layers: a running total is kept, and for a symbolic plan the candidates are
    compared by their value at :data:`PROBE` per symbol (the symbolic bytes are built once, for
    the winner)."""
    probe = _prober(plan)
    last_read: dict[str, int] = {}
    for i, ly in enumerate(plan.layers):
        for s in ly.sources:
            last_read[s.producer] = i
    final = {ly.name for ly in plan.outputs()} if plan.layers else set()
    storage_of: dict[str, int] = {}
    sizes: list[Dim] = []  # per storage: its bytes, its value at the probe, who made it, who holds it
    values: list[int] = []
    made_by: list[str] = []
    holders: list[set[str]] = []
    contiguous: dict[str, bool] = {}

    def allocate(name: str, size: Dim) -> int:
        sizes.append(size)
        values.append(probe(size))
        made_by.append(name)
        holders.append({name})
        return len(sizes) - 1

    live = 0
    for n, s in plan.inputs.items():
        storage_of[n], contiguous[n] = allocate(n, _bytes(s, plan)), True
        live += values[-1]
    pinned = set(plan.inputs) | final  # the caller holds the inputs; the outputs are returned
    best, best_layer, best_transient = live, None, 0
    best_alive = [sid for sid, who in enumerate(holders) if who]
    for i, ly in enumerate(plan.layers):
        src = ly.sources[0].producer if ly.sources else None
        kinds = [step.kind for step in ly.steps]
        transient: Dim = 0
        if src is not None and src in storage_of and (in_place(ly) or _is_view(ly, kinds, contiguous.get(src, True))):
            sid = storage_of[src]
            holders[sid].add(ly.name)
            contiguous[ly.name] = _view_contiguity(ly, contiguous.get(src, True))
        else:
            sid = allocate(ly.name, dsum(_bytes(o, plan) for o in ly.outputs))
            live += values[sid]
            contiguous[ly.name] = True
            transient = _intermediates(ly, plan)
        storage_of[ly.name] = sid
        now = live + probe(transient)
        if now > best:
            best, best_layer, best_transient = now, ly.name, transient
            best_alive = [s for s, who in enumerate(holders) if who]
        # free what this layer was the last to read (and its own output if nobody reads it)
        done = [n for n in (s.producer for s in ly.sources) if last_read.get(n) == i] + (
            [ly.name] if ly.name not in last_read else [])
        for n in done:
            if n in pinned:
                continue
            who = holders[storage_of[n]]
            if n in who:
                who.discard(n)
                if not who:
                    live -= values[storage_of[n]]
    total = dsum([*(sizes[s] for s in best_alive), best_transient])
    return Peak(total, best_layer, tuple((made_by[s], sizes[s]) for s in best_alive))


PROBE = 1024  # the size at which symbolic candidates for the peak are compared


def _prober(plan: Plan) -> Any:
    """A function giving a size's value: itself when concrete, its value at :data:`PROBE` per
    symbol otherwise (a symbolic plan's peak layer is the one that peaks there)."""
    def value(d: Dim) -> int:
        if is_concrete(d):
            return int(d)
        from .dims import free_symbols, subs

        return int(subs(d, {n: PROBE for n in free_symbols(d)}))

    return value


def _is_view(ly: LayerPlan, kinds: list[str], contiguous: bool) -> bool:
    if not kinds or any(k not in VIEW_KINDS for k in kinds):
        return False
    return contiguous or not any(k in RESHAPE_KINDS for k in kinds)


def _view_contiguity(ly: LayerPlan, contiguous: bool) -> bool:
    shape = ly.input_shapes[0] if ly.input_shapes else ()
    for step, out in zip(ly.steps, ly.step_shapes):
        contiguous = _contiguous_after(step.kind, step, shape, contiguous)
        shape = out
    return contiguous


INDEX_BYTES = 8  # int64


def _intermediates(ly: LayerPlan, plan: Plan) -> Dim:
    """What a layer holds only while it runs: the largest intermediate of a multi-step layer
    (while its next step makes its output), and PyTorch's max-pool indices."""
    held: Dim = 0
    if len(ly.steps) > 1:
        held = max((_bytes(s, plan) for s in ly.step_shapes[:-1]), key=lambda b: b if is_concrete(b) else 0, default=0)
    if plan.framework == "pytorch":
        for step, out in zip(ly.steps, ly.step_shapes):
            if step.kind in ("pool", "adaptive_pool") and getattr(step, "mode", None) == "max":
                held = dsum([held, prod(out) * INDEX_BYTES])
    return held


def _bytes(shape: tuple, plan: Plan) -> Dim:
    return prod(shape) * plan.dtype_bytes


__all__ = ["Peak", "inference_peak", "in_place"]
