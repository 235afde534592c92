"""The one error family of convcalc, with structured fields.

Deep code raises a short, specific fact (what happened, with numbers, and the formula that gave
it). Each layer of code that knows more adds it exactly once, with :meth:`ConvcalcError.add_context`:
the plan adds the layer name, op and input shapes; the loader adds the file and line. The CLI
renders the result and exits with :attr:`ConvcalcError.exit_code` — never a traceback.

Rendered form (design.md §5)::

    error: model.yaml:14: layer 'enc4b' (Conv2D): output would be empty (H = 0)
      H_out = floor((H_in + pad_begin + pad_end - dilation*(kernel-1) - 1) / stride) + 1
            = floor((4 + 0 + 0 - 1*(5-1) - 1) / 1) + 1 = 0
      input (1, 4, 4, 64) comes from 'pool3' (model.yaml:11)
      fix: padding: same, or kernel_size <= 4
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Reason(str, Enum):
    """Why a shape does not work: the machine-readable code of a :class:`ShapeError`.

    A frontend words its fix from the reason and the error's ``data`` (in its own vocabulary:
    ``padding: same`` for Keras, ``padding=2`` for PyTorch). A reason compares equal to its
    value (``Reason.EMPTY_OUTPUT == "empty_output"``). The ``data`` each reason carries (keys
    that may be absent when unknown):

    - ``EMPTY_OUTPUT``: an output size would be < 1. Convolutions and pooling: ``axis`` (name),
      ``axis_index``, ``input`` (the unpadded size), ``max_kernel`` (the largest kernel that
      fits), ``kernel`` and ``dilation`` (convolutions).
    - ``CHANNELS``: ``expected``, ``got`` — a channel count that does not match.
    - ``REFLECT_PAD``: ``axis``, ``pad``, ``input`` — reflect padding must be smaller than the input.
    - ``CONCAT``: ``axis``, ``sizes`` (the two sizes that differ).
    - ``MERGE``: ``axis`` (``None`` when the numbers of axes differ).
    - every other reason carries no data: ``RANK`` (number of axes), ``AXIS`` (an axis out of
      range), ``GROUPS``, ``CIRCULAR_PAD``, ``CROP_TO``, ``FEATURES``, ``INSTANCE_NORM``,
      ``KERNEL_TOO_LARGE``, ``LAYOUT`` (a layout the framework cannot run), ``NORMALIZED_SHAPE``,
      ``OUTPUT_SIZE`` (a requested output size out of reach), ``PADDING`` (a padding spec of the
      wrong length), ``PERMUTE``, ``PIXEL_SHUFFLE``, ``RESHAPE``, ``SPLIT``.
    """

    AXIS = "axis"
    CHANNELS = "channels"
    CIRCULAR_PAD = "circular_pad"
    CONCAT = "concat"
    CROP_TO = "crop_to"
    EMPTY_OUTPUT = "empty_output"
    FEATURES = "features"
    GROUPS = "groups"
    INSTANCE_NORM = "instance_norm"
    KERNEL_TOO_LARGE = "kernel_too_large"
    LAYOUT = "layout"
    MERGE = "merge"
    NORMALIZED_SHAPE = "normalized_shape"
    OUTPUT_SIZE = "output_size"
    PADDING = "padding"
    PERMUTE = "permute"
    PIXEL_SHUFFLE = "pixel_shuffle"
    RANK = "rank"
    REFLECT_PAD = "reflect_pad"
    RESHAPE = "reshape"
    SPLIT = "split"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Where:
    """Where something is in the user's model: a file and line for a model file, a file and a
    node path for an imported model (an ONNX node name, a Keras layer path, a torch module path).

    >>> str(Where("model.yaml", 14)), str(Where("resnet50.onnx", node="/layer1/layer1.0/conv1/Conv"))
    ('model.yaml:14', "resnet50.onnx: node '/layer1/layer1.0/conv1/Conv'")
    """

    file: str | None = None
    line: int | None = None
    node: str | None = None

    def __str__(self) -> str:
        if self.file and self.line:
            place = f"{self.file}:{self.line}"
        else:
            place = self.file or (f"line {self.line}" if self.line else "")
        if self.node:
            return f"{place}: node '{self.node}'" if place else f"node '{self.node}'"
        return place


class ConvcalcError(Exception):
    """Base class. Fields are public so tests and callers can assert on them.

    Attributes:
        message: the fact, one line, with numbers ("output would be empty (H = 0)").
        details: further lines: the formula, the formula with numbers, where the input came from.
        fix: how to fix it, in the user's own vocabulary ("padding: same, or kernel_size <= 4").
        file, line: where in the model file (filled in by the loader); node: the node of an
            imported model (see :class:`Where`).
        layer, op: which layer (filled in by the plan); variant: which variant of a file with
            several (filled in by the loader and by :meth:`convcalc.Variants.plan`).
        key: the argument at fault, when there is one (e.g. ``"kernel_size"``).
        reason, data: a short machine-readable code and its numbers (``"empty_output"``,
            ``{"axis": "H", "max_kernel": 4}``), so a frontend can word the fix in its own vocabulary.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        details: Iterable[str] = (),
        fix: str | None = None,
        file: str | None = None,
        line: int | None = None,
        node: str | None = None,
        variant: str | None = None,
        layer: str | None = None,
        op: str | None = None,
        key: str | None = None,
        reason: Reason | str | None = None,
        data: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)
        self.fix = fix
        self.file = file
        self.line = line
        self.node = node
        self.variant = variant
        self.layer = layer
        self.op = op
        self.key = key
        self.reason = reason
        self.data = data or {}

    def add_context(self, **fields: object) -> ConvcalcError:
        """Fill in the fields that are still empty (inner context wins) and return ``self``.

        ``details`` given here are appended after the existing ones; ``where`` (a :class:`Where`)
        stands for its file, line and node.
        """
        extra = fields.pop("details", ())
        where = fields.pop("where", None)
        if where is not None:
            fields = {"file": where.file, "line": where.line, "node": where.node, **{k: v for k, v in fields.items() if v is not None}}
        for name, value in fields.items():
            if getattr(self, name) is None and value is not None:
                setattr(self, name, value)
        self.details.extend(extra)  # type: ignore[arg-type]
        return self

    @property
    def where(self) -> str:
        """``file:line`` (or the part of it that is known; ``file: node 'x'`` for an imported model)."""
        return str(Where(self.file, self.line, self.node))

    def headline(self) -> str:
        """The first line, without the ``error:`` prefix."""
        parts = []
        if self.where:
            parts.append(self.where)
        if self.variant is not None:
            parts.append(f"variant '{self.variant}'")
        if self.layer is not None:
            parts.append(f"layer '{self.layer}' ({self.op})" if self.op else f"layer '{self.layer}'")
        parts.append(self.message)
        return ": ".join(parts)

    def render(self) -> str:
        """The full text the CLI prints on stderr."""
        lines = [f"error: {self.headline()}"]
        lines += [f"  {d}" for d in self.details]
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class ModelError(ConvcalcError):
    """The model is wrong: a bad argument, an impossible shape, an unknown op. Exit code 1."""

    exit_code = 1


class ArgumentError(ModelError):
    """A layer argument or a model-file key has a wrong type or value."""


class ShapeError(ModelError):
    """Shapes do not work out: an empty output, a kernel larger than its input, a mismatch.

    Every shape error says why with a :class:`Reason` (a test scans the sources for one).
    """

    def __init__(self, message: str, *, reason: Reason, **fields: object) -> None:
        super().__init__(message, reason=reason, **fields)  # type: ignore[arg-type]


class UsageError(ConvcalcError):
    """The command was used wrongly: a bad flag, a missing file, an unknown symbol. Exit code 2."""

    exit_code = 2


def quoted(text: str, limit: int = 60) -> str:
    """A user's text quoted for a message, cut short (a 4,000-character argument stays readable).

    >>> quoted("H=224"), quoted("x" * 70)[-6:]
    ("'H=224'", "xx...'")
    """
    return repr(text if len(text) <= limit else text[:limit] + "...")


def did_you_mean(word: str, candidates: Iterable[str], n: int = 3) -> str:
    """A "Did you mean ...?" suffix, or ``""`` when nothing is close.

    >>> did_you_mean("kernal_size", ["kernel_size", "stride", "padding"])
    " Did you mean 'kernel_size'?"
    """
    pool = list(candidates)
    import difflib  # only for a misspelt name

    matches = difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            matches = [lowered[word.lower()]]
    if not matches:
        return ""
    if len(matches) == 1:
        return f" Did you mean '{matches[0]}'?"
    return " Did you mean " + ", ".join(f"'{m}'" for m in matches[:-1]) + f" or '{matches[-1]}'?"


def unknown_symbol_error(name: str, known: set[str]) -> UsageError:
    listed = ", ".join(sorted(known)) if known else "none: every size is a number"
    return UsageError(
        f"the model has no symbol {name!r}.{did_you_mean(name, known)} (its symbols: {listed})".replace("..", "."),
        key=name,
    )
