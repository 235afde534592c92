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
rounding on a GPU) is left out and said so. For Keras models (TensorFlow, JAX or torch backend)
the PyTorch rules are used: the byte counts of the tensors are the same, but TensorFlow's
allocator and XLA's fusion free and reuse buffers by their own schedule, which no plan sees.

Mixed precision (``amp="cuda"``, ``convcalc memory --amp``) follows ``torch.autocast``: see
:data:`AMP_POLICIES` and :func:`precision`.

    >>> import convcalc
    >>> plan = convcalc.load("examples/resnet50.yaml").plan()
    >>> peak = inference_peak(plan)
    >>> peak.bytes, peak.layer  # torch measures the same for torchvision's resnet50 (tests/test_memory.py)
    (10235904, 'layer1.0.downsample.1')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .dims import Dim, dsum, is_concrete, json_dim, prod
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
    after: tuple[tuple[str, Dim], ...] = ()  # per layer: the bytes alive once it has run

    def to_dict(self) -> dict[str, Any]:
        return {"peak_bytes": json_dim(self.bytes), "peak_layer": self.layer,
                "live": [{"tensor": name, "bytes": json_dim(b)} for name, b in self.live]}


# --------------------------------------------------------------------------- precision

HALF = 2  # float16 / bfloat16: bytes per element
FLOAT = 4

# torch.autocast's op lists (ATen's autocast_mode.h, torch 2.13: AT_FORALL_LOWER_PRECISION_FP,
# AT_FORALL_FP32, AT_FORALL_FP32_SET_OPT_DTYPE; the CPU lists in autocast_mode.cpp), in the
# keys of :func:`_autocast_keys`: "lower" ops cast their floating inputs and weights to half
# (weights through autocast's cache: one half copy of each trainable parameter, kept until the
# autocast region ends), "fp32" ops cast their inputs to float32; every other op runs in its
# inputs' dtype (several inputs: the widest, by type promotion, with no copy), so batch norm
# takes half and keeps float32 statistics. Measured on CPU against torch in tests/test_memory.py.
AMP_POLICIES: dict[str, dict[str, frozenset[str]]] = {
    "cuda": {"lower": frozenset({"conv", "conv_transpose", "dense", "matmul", "activation:prelu"}),
             "fp32": frozenset({"norm:layer", "norm:group", "resize", "resize_to", "activation:softmax",
                                "activation:log_softmax", "activation:softplus"})},
    "cpu": {"lower": frozenset({"conv", "conv_transpose", "dense", "matmul", "activation:prelu"}),
            "fp32": frozenset({"pool:3d", "adaptive_pool:3d"})},
}


def _autocast_keys(step: Any, x: tuple) -> set[str]:
    keys = {step.kind}
    for attr in ("fn", "norm_kind"):
        if hasattr(step, attr):
            keys.add(f"{step.kind}:{getattr(step, attr)}")
    if step.kind in ("pool", "adaptive_pool"):
        keys.add(f"{step.kind}:{len(x) - 2}d")
    return keys


@dataclass(frozen=True)
class Precision:
    """Bytes per element of every tensor of a plan: the plan's dtype, or under ``torch.autocast``
    each op's choice, with the copies autocast makes: per layer the bytes of the cast of its
    input per step (``casts``, by (layer, step)) and of the half copies of its weights
    (``weight_copies``, by layer; the backward pass keeps them) and biases (``bias_copies``:
    autocast's cache holds them to the end of the forward pass, but no backward needs them)."""

    default: int
    widths: dict[str, int]
    step_widths: dict[tuple[str, int], int]
    casts: dict[tuple[str, int], Dim]
    weight_copies: dict[str, Dim]
    bias_copies: dict[str, Dim]

    def of(self, name: str) -> int:
        return self.widths.get(name, self.default)

    def step(self, layer: str, k: int) -> int:
        return self.step_widths.get((layer, k), self.default)

    def output_bytes(self, ly: LayerPlan) -> Dim:
        """The bytes of ``ly``'s outputs in their width."""
        return dsum(prod(o) for o in ly.outputs) * self.of(ly.name)


def precision(plan: Plan, amp: str | None = None) -> Precision:
    """The width of every tensor: ``plan.dtype_bytes``, or with ``amp`` (``"cuda"``, ``"cpu"``)
    torch.autocast's to float16/bfloat16 on a float32 model (:data:`AMP_POLICIES`).

        >>> import convcalc
        >>> m = convcalc.Model(framework="pytorch", input=[2, 3, 8, 8])
        >>> m = m.add("Conv2d", name="conv", out_channels=8, kernel_size=3).add("BatchNorm2d", name="bn")
        >>> p = precision(m.plan(), "cuda")
        >>> p.of("conv"), p.of("bn"), p.casts, p.weight_copies, p.bias_copies  # the input, 216 weights, 8 biases
        (2, 2, {('conv', 0): 768}, {'conv': 432}, {'conv': 16})
    """
    if amp is None:
        return Precision(plan.dtype_bytes, {}, {}, {}, {}, {})
    if amp not in AMP_POLICIES:
        raise ValueError(f"unknown autocast device {amp!r}; choose from {', '.join(AMP_POLICIES)}")
    if plan.dtype != "float32":
        raise ValueError(f"mixed precision starts from a float32 model; this one is {plan.dtype}")
    policy = AMP_POLICIES[amp]
    widths: dict[str, int] = dict.fromkeys(plan.inputs, FLOAT)
    step_widths: dict[tuple[str, int], int] = {}
    casts: dict[tuple[str, int], Dim] = {}
    copies: dict[str, Dim] = {}
    biases: dict[str, Dim] = {}
    for ly in plan.layers:
        w = max((widths.get(s.producer, FLOAT) for s in ly.sources), default=FLOAT)
        shapes = (ly.input_shapes[0] if ly.input_shapes else (),) + tuple(ly.step_shapes)
        for k, step in enumerate(ly.steps):
            keys = _autocast_keys(step, shapes[k])
            target = HALF if keys & policy["lower"] else FLOAT if keys & policy["fp32"] else None
            if target is not None and w != target:
                casts[(ly.name, k)] = prod(shapes[k]) * target
            if target == HALF and step.params()[0] != 0:
                bias = _bias_elements(step)
                copies[ly.name] = dsum([copies.get(ly.name, 0), (step.params()[0] - bias) * HALF])
                if bias != 0:
                    biases[ly.name] = dsum([biases.get(ly.name, 0), bias * HALF])
            if target is not None:
                w = target
            elif step.kind == "constant_operand" and step.learned:  # x * gamma (float32): promoted
                w = max(w, FLOAT)
            step_widths[(ly.name, k)] = w
        widths[ly.name] = w
    return Precision(FLOAT, widths, step_widths, casts, copies, biases)


def _bias_elements(step: Any) -> Dim:
    if not getattr(step, "bias", False):
        return 0
    return step.out_features if step.kind == "dense" else step.out_channels


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


def inference_peak(plan: Plan, amp: str | None = None) -> Peak:
    """The most activation bytes alive at once running ``plan`` forward (see the module); with
    ``amp`` under ``torch.autocast`` (:func:`precision`), whose input casts live while their layer
    runs and whose half copies of the weights live until the forward pass ends.

    Linear in the layers: a running total is kept, and for a symbolic plan the candidates are
    compared by their value at :data:`PROBE` per symbol (the symbolic bytes are built once, for
    the winner)."""
    prec = precision(plan, amp)
    probe = _prober(plan)
    storage, full = _storage_ids(plan, prec)  # which layers write into their input's storage
    last_read: dict[str, int] = {}
    for i, ly in enumerate(plan.layers):
        for s in ly.sources:
            last_read[s.producer] = i
    final = {ly.name for ly in plan.outputs()} if plan.layers else set()
    index_of: dict[Any, int] = {}  # storage key -> its index below
    storage_of: dict[str, int] = {}  # tensor -> the index of its storage
    sizes: list[Dim] = []  # per storage: its bytes, its value at the probe, who made it, who holds it
    values: list[int] = []
    made_by: list[str] = []
    holders: list[set[str]] = []
    alive: set[int] = set()

    def allocate(name: str) -> int:
        sizes.append(full[storage[name]])
        values.append(probe(sizes[-1]))
        made_by.append(name)
        holders.append({name})
        alive.add(len(sizes) - 1)
        index_of[storage[name]] = len(sizes) - 1
        return len(sizes) - 1

    live = 0
    for n in plan.inputs:
        storage_of[n] = allocate(n)
        live += values[-1]
    pinned = set(plan.inputs) | final  # the caller holds the inputs; the outputs are returned
    copies: Dim = 0  # autocast's half copies of the weights so far: kept to the end of the pass
    best, best_layer, best_extra, best_alive = live, None, (0, 0), sorted(alive)
    concrete = all(is_concrete(d) for d in full.values())
    after: list[tuple[str, Dim]] = []
    for i, ly in enumerate(plan.layers):
        transient: Dim = 0
        if storage[ly.name] in index_of:  # a view, or an in-place write: its input's storage
            sid = index_of[storage[ly.name]]
            holders[sid].add(ly.name)
        else:
            sid = allocate(ly.name)
            live += values[sid]
            transient = dsum([_intermediates(ly, plan, prec),
                              *(prec.casts.get((ly.name, k), 0) for k in range(len(ly.steps)))])
        storage_of[ly.name] = sid
        for made in (prec.weight_copies.get(ly.name, 0), prec.bias_copies.get(ly.name, 0)):
            if made != 0:
                copies = dsum([copies, made])
                live += probe(made)
        now = live + probe(transient)
        if now > best:
            best, best_layer, best_extra, best_alive = now, ly.name, (transient, copies), sorted(alive)
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
                    alive.discard(storage_of[n])
        after.append((ly.name, live if concrete else dsum([*(sizes[s] for s in sorted(alive)), copies])))
    transient, copies = best_extra
    total = dsum([*(sizes[s] for s in best_alive), transient, copies])
    held = tuple((made_by[s], sizes[s]) for s in best_alive) + ((("half weight copies", copies),) if copies else ())
    return Peak(total, best_layer, held, tuple(after))


PROBE = 1024  # the size at which symbolic candidates for the peak are compared


def _prober(plan: Plan) -> Any:
    """A function giving a size's value: itself when concrete, its value at :data:`PROBE` per
    symbol otherwise (a symbolic plan's peak layer is the one that peaks there)."""
    def value(d: Dim) -> int:
        if is_concrete(d):
            return int(d)
        # xreplace, not subs: a plain substitution of integers, which floor/ceil evaluate on the
        # way (a quarter of a symbolic ResNet-50 report went to subs)
        return int(d.xreplace({s: PROBE for s in d.free_symbols}))

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


def _intermediates(ly: LayerPlan, plan: Plan, prec: Precision) -> Dim:
    """What a layer holds only while it runs: the largest intermediate of a multi-step layer
    (while its next step makes its output), and PyTorch's max-pool indices."""
    held: Dim = 0
    if len(ly.steps) > 1:
        held = max((prod(s) * prec.step(ly.name, k) for k, s in enumerate(ly.step_shapes[:-1])),
                   key=lambda b: b if is_concrete(b) else 0, default=0)
    if plan.framework == "pytorch":
        for step, out in zip(ly.steps, ly.step_shapes):
            if step.kind in ("pool", "adaptive_pool") and getattr(step, "mode", None) == "max":
                held = dsum([held, prod(out) * INDEX_BYTES])
    return held


# --------------------------------------------------------------------------- saved for backward

# What PyTorch's autograd keeps for the backward pass, per IR kind: the tensors each op's
# derivative formula names (tools/autograd/derivatives.yaml), observed with
# torch.autograd.graph.saved_tensors_hooks on a train-mode forward (tests/test_memory.py).
# Parameters are not activations and are never counted; a storage saved by two ops counts once.
#   conv, conv_transpose  convolution: self (the input; for the weight's gradient)
#   dense                 addmm / mm: self (mat1, the input)
#   norm (batch)          native_batch_norm: input, save_mean, save_invstd (C floats each)
#   norm (layer)          native_layer_norm: input, mean, rstd (one float per normalised row)
#   activation            relu, sigmoid, tanh, softmax: result; gelu, silu, leaky_relu, elu,
#                         hardswish, relu6 (hardtanh), prelu: self (the input) — in place
#                         (hardtanh_, ...), a clone of the input that autograd makes first
#   pool max              max_pool{1,2,3}d_with_indices: self and indices (int64, output-shaped)
#   pool avg              avg_pool2d: self
#   adaptive_pool avg     to 1 x 1: a mean (nothing saved); else _adaptive_avg_pool2d: self
#   adaptive_pool max     adaptive_max_pool2d: self and indices
#   global_pool avg       mean: nothing
#   elementwise add/sub   nothing; mul, div: both operands; x * a learned scale (ConvNeXt's
#                         layer scale): x
#   identity (Dropout p > 0 in training)  the mask: input-shaped, in the input's dtype on the
#                         CPU (CUDA's fused kernel keeps a bool mask: 1 byte per element); and
#                         in training its output is a new tensor, not a view (what reads it saves it);
#                         torchvision's StochasticDepth keeps its (N, 1, 1, 1) noise (mode "row")
#   views, concat, pad, resize (nearest)  nothing (their backward needs only sizes)
SAVES_OUTPUT = frozenset({"relu", "sigmoid", "tanh", "softmax", "log_softmax"})


@dataclass(frozen=True)
class Saved:
    """The activation bytes autograd keeps for the backward pass, and per layer the bytes it
    newly saves (a tensor another layer saved already is not counted again)."""

    bytes: Dim
    per_layer: tuple[tuple[str, Dim], ...]


def saved_activations(plan: Plan, amp: str | None = None) -> Saved:
    """The activations a train-mode forward keeps for the backward pass, by PyTorch's rules
    (the table above), each storage once; with ``amp``, in autocast's widths (a layer that casts
    its input saves the cast; autocast's half weight copies are :func:`precision`'s, not here).

        >>> import convcalc
        >>> m = convcalc.Model(framework="pytorch", input=[2, 3, 8, 8]).add("Conv2d", out_channels=8, kernel_size=3)
        >>> saved_activations(m.add("ReLU").plan()).bytes  # the conv's input and the ReLU's output
        3840
    """
    prec = precision(plan, amp)
    storage, full = _storage_ids(plan, prec, training=True)
    kept: dict[Any, Dim] = {}
    per_layer = []
    for ly in plan.layers:
        added: list[Dim] = []
        ins = [storage.get(src.producer, ("tensor", src.producer)) for src in ly.sources]
        in_widths = [prec.of(src.producer) for src in ly.sources]
        shapes = (ly.input_shapes[0] if ly.input_shapes else (),) + tuple(ly.step_shapes)
        for k, step in enumerate(ly.steps):
            x, out = shapes[k], shapes[k + 1]
            x_key = (ins[0] if ins else ("none", ly.name)) if k == 0 else ("step", ly.name, k - 1)
            x_width = (in_widths[0] if in_widths else prec.default) if k == 0 else prec.step(ly.name, k - 1)
            if (ly.name, k) in prec.casts:  # autocast's copy of the input is what the op sees
                x_key, x_width = ("cast", ly.name, k), prec.step(ly.name, k)
            out_key = storage[ly.name] if k == len(ly.steps) - 1 else ("step", ly.name, k)
            widths = (x_width, prec.step(ly.name, k), in_widths)
            for key, size in _saved_by(step, ly, x, out, x_key, out_key, ins, widths):
                if key not in kept:  # a storage another layer saved already counts once, all of it
                    kept[key] = full.get(key, size)  # (a view saved keeps its whole storage alive)
                    added.append(kept[key])
        per_layer.append((ly.name, dsum(added)))
    return Saved(dsum(kept.values()), tuple(per_layer))


def _saved_by(step: Any, ly: LayerPlan, x: tuple, out: tuple, x_key: Any, out_key: Any, ins: list,
              widths: tuple[int, int, list[int]]) -> list[tuple[Any, Dim]]:
    kind, (b, b_out, in_widths) = step.kind, widths
    stat = FLOAT  # PyTorch keeps batch-norm statistics in float32 (under autocast too)
    if kind in ("conv", "conv_transpose", "dense"):
        return [(x_key, prod(x) * b)]
    if kind == "norm":
        if step.norm_kind == "batch":
            channels = x[-1] if getattr(step, "channels_last", False) else x[1]
            return [(x_key, prod(x) * b), (("mean", ly.name), channels * stat), (("invstd", ly.name), channels * stat)]
        rows = prod(d for i, d in enumerate(x) if i not in {a % len(x) for a in step.axes})
        return [(x_key, prod(x) * b), (("mean", ly.name), rows * stat), (("rstd", ly.name), rows * stat)]
    if kind == "activation":
        if step.fn in SAVES_OUTPUT:
            return [(out_key, prod(out) * b_out)]
        # An in-place op whose derivative needs its input: autograd clones the input first
        # (aten.clone before aten.hardtanh_, seen in the oracle) and keeps the clone.
        return [(("clone", ly.name) if in_place(ly) else x_key, prod(x) * b)]
    if kind == "pool" and step.mode == "max" or kind == "adaptive_pool" and step.mode == "max":
        return [(x_key, prod(x) * b), (("indices", ly.name), prod(out) * INDEX_BYTES)]
    if kind == "pool":
        return [(x_key, prod(x) * b)]
    if kind == "adaptive_pool":
        spatial = getattr(step, "output_size", None)
        return [] if spatial is not None and all(d == 1 for d in spatial) else [(x_key, prod(x) * b)]
    if kind == "elementwise":
        if step.op in ("mul", "multiply", "div", "divide", "truediv"):
            return [(key, prod(shape) * w) for key, shape, w in zip(ins, ly.input_shapes, in_widths)]
        return []
    if kind == "constant_operand":  # x * gamma: gamma's gradient needs x when gamma is learned
        return [(x_key, prod(x) * b)] if step.learned and step.op in ("mul", "multiply") else []
    if kind == "identity" and _is_dropout(ly):
        if ly.op == "StochasticDepth":  # one draw per sample ("row") or per batch: a (N, 1, 1, ...) noise
            return [(("mask", ly.name), (out[0] if ly.args.get("mode", "row") == "row" else 1) * b)]
        return [(("mask", ly.name), prod(out) * b)]
    return []


def _storage_ids(plan: Plan, prec: Precision, training: bool = False) -> tuple[dict[str, Any], dict[Any, Dim]]:
    """Each tensor's storage (a view or an in-place layer shares its input's: the peak and the
    saved activations both walk these), and each storage's full bytes. In training, dropout is
    not a view: it makes a new tensor."""
    storage: dict[str, Any] = {n: ("tensor", n) for n in plan.inputs}
    full: dict[Any, Dim] = {("tensor", n): prod(s) * prec.of(n) for n, s in plan.inputs.items()}
    full.update({("cast", *where): size for where, size in prec.casts.items()})
    contiguous: dict[str, bool] = {n: True for n in plan.inputs}
    for ly in plan.layers:
        src = ly.sources[0].producer if ly.sources else None
        kinds = [step.kind for step in ly.steps]
        dropout = training and _is_dropout(ly)
        if src in storage and not dropout and (in_place(ly) or _is_view(ly, kinds, contiguous.get(src, True))):
            storage[ly.name] = storage[src]
            contiguous[ly.name] = _view_contiguity(ly, contiguous.get(src, True))
        else:
            storage[ly.name] = ("tensor", ly.name)
            full[storage[ly.name]] = prec.output_bytes(ly)
            contiguous[ly.name] = True
    return storage, full


def _is_dropout(ly: LayerPlan) -> bool:
    """Dropout or torchvision's StochasticDepth, active in training (p > 0)."""
    return (ly.op.lower().startswith("dropout") or ly.op == "StochasticDepth") and float(ly.args.get("p", 0.5)) > 0


# --------------------------------------------------------------------------- a training step

# Optimizer state tensors kept per parameter (PyTorch's torch.optim): momentum_buffer (SGD with
# momentum), exp_avg and exp_avg_sq (Adam, AdamW), square_avg (RMSprop), sum (Adagrad). Their
# per-tensor "step" counters (a 4-byte scalar per parameter tensor) are left out.
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2, "rmsprop": 1, "adagrad": 1}


@dataclass(frozen=True)
class Training:
    """What one training step holds: the weights, their gradients, the optimizer's state, the
    activations saved for the backward pass and, under autocast, the half copies of the weights
    it keeps for the backward pass too (the peak of the backward pass itself, where activation
    gradients come and go, is not modelled yet)."""

    weights_bytes: Dim
    gradient_bytes: Dim
    optimizer_bytes: Dim
    saved_activation_bytes: Dim
    total_bytes: Dim
    weight_copy_bytes: Dim = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: json_dim(v) for k, v in self.__dict__.items()}


def training_memory(plan: Plan, optimizer: str = "adam", amp: str | None = None) -> Training:
    """Weights (the framework's parameter count: PyTorch buffers such as BatchNorm's running
    statistics are not parameters and are left out), gradients of the trainable ones, the
    optimizer's state (:data:`OPTIMIZER_STATES` tensors per trainable parameter) and the saved
    activations, in the plan's dtype. With ``amp`` (``torch.autocast`` + ``GradScaler``) the
    weights, gradients and optimizer state stay float32 — the weights are the fp32 master copy
    — and autocast's half copies of the weights of convolutions and dense layers are kept for
    the backward pass (``weight_copy_bytes``); the activations are in autocast's widths.

        >>> import convcalc
        >>> m = convcalc.Model(framework="pytorch", input=[2, 3, 8, 8]).add("Conv2d", out_channels=8, kernel_size=3)
        >>> t = training_memory(m.plan(), "adam")  # 224 parameters x 4 bytes, x1 gradients, x2 Adam
        >>> t.weights_bytes, t.gradient_bytes, t.optimizer_bytes, t.saved_activation_bytes
        (896, 896, 1792, 1536)
    """
    if optimizer not in OPTIMIZER_STATES:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZER_STATES)}")
    prec = precision(plan, amp)
    b = plan.dtype_bytes
    weights = plan.totals.params * b
    gradients = plan.totals.trainable_params * b
    state = gradients * OPTIMIZER_STATES[optimizer]
    saved = saved_activations(plan, amp).bytes
    copies = dsum(prec.weight_copies.values())
    return Training(weights, gradients, state, saved, dsum([weights, gradients, state, saved, copies]), copies)


# --------------------------------------------------------------------------- the largest batch


def with_batch(model: Any, batch: Any) -> Any:
    """A copy of ``model`` whose inputs have ``batch`` (a size or a symbol name) as their leading
    dimension."""
    import copy

    out = copy.copy(model)
    out.inputs = {k: (batch, *shape[1:]) for k, shape in model.inputs.items()}
    return out


def with_dtype(model: Any, dtype: str) -> Any:
    """A copy of ``model`` whose tensors are ``dtype`` (``float16``: 2 bytes per element)."""
    import copy

    from .dims import DTYPE_BYTES

    if dtype not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; choose from {', '.join(DTYPE_BYTES)}")
    out = copy.copy(model)
    out.dtype = dtype
    return out


def largest_batch(model: Any, budget: int, optimizer: str = "adam", symbols: dict | None = None,
                  amp: str | None = None) -> dict[str, int | None]:
    """The largest batch whose inference (the peak plus the weights) and whose training step
    (:func:`training_memory`) fit in ``budget`` bytes: solved from the closed forms in a batch
    symbol ``N`` (each is ``a*N + c`` for these networks: solved exactly), ``None`` when not even
    a batch of 1 fits.

        >>> import convcalc
        >>> largest_batch(convcalc.load("examples/resnet50.yaml"), 2**30)  # 1 GiB, Adam
        {'inference': 94, 'training': 7}
    """
    import sympy

    name = "N"
    while name in model.symbol_names():
        name += "_"
    plan = with_batch(model, name).plan_symbolic(name, **dict(symbols or {}))
    n = sympy.Symbol(name, positive=True, integer=True)
    needs = {"inference": dsum([inference_peak(plan, amp).bytes, plan.totals.params * plan.dtype_bytes]),
             "training": training_memory(plan, optimizer, amp).total_bytes}
    out: dict[str, int | None] = {}
    for key, expr in needs.items():
        poly = sympy.Poly(sympy.expand(sympy.Integer(expr) if isinstance(expr, int) else expr), n)
        if poly.degree() > 1:
            raise ValueError(f"the {key} memory is not linear in the batch: {expr}")
        a, c = (int(x) for x in (poly.all_coeffs() if poly.degree() == 1 else (0, poly.all_coeffs()[-1])))
        if a == 0:
            out[key] = None if c > budget else 2**31
            continue
        best = (budget - c) // a
        out[key] = best if best >= 1 else None
    return out


__all__ = ["AMP_POLICIES", "OPTIMIZER_STATES", "Peak", "Precision", "Saved", "Training", "inference_peak", "in_place",
           "largest_batch", "precision", "saved_activations", "training_memory", "with_batch", "with_dtype"]
