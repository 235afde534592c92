"""The layer graph as written: layers, the tensors they read, and the order to plan them in.

A model is a list of :class:`Layer` values — an op name in the framework's vocabulary, its
arguments, and the tensors it reads — wherever it came from: a model file (each layer knows its
file and line), the Python API, or an importer (each layer knows its node). Nothing here knows
YAML or a framework.

**Tensor-level edges.** A layer may produce several tensors (a ``chunk``/``split``, ONNX
``Split``). A layer reads ``name`` (the first output of layer ``name``, or a model input) or
``name:i`` (output ``i``, counted from 0)::

    - {op: chunk, name: halves, chunks: 2, dim: 1}
    - {op: add, inputs: ["halves:0", "halves:1"]}

A name that is itself a layer or input name always means that layer (names may contain ``:``),
so ``name:i`` is only read as an output index when no layer is called ``name:i``.

    >>> resolve_source("halves:1", {"halves", "x"})
    Source(producer='halves', index=1)
    >>> resolve_source("x", {"halves", "x"})
    Source(producer='x', index=0)
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .errors import ArgumentError, Where, did_you_mean


@dataclass(frozen=True)
class Layer:
    """One layer as written: the framework op, its name, the tensors it reads and its arguments.

    ``inputs`` are tensor references (``"conv1"``, ``"split:1"``); ``None`` means the previous
    layer's first output (the model input for the first layer). ``where`` locates the layer in
    the user's model; ``key_lines`` the line of each argument, when a model file gave them.
    """

    op: str
    name: str
    args: Mapping[str, Any]
    inputs: tuple[str, ...] | None = None
    where: Where = Where()
    key_lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def line(self) -> int | None:
        """The model-file line of the layer (``None`` for layers built in Python or imported)."""
        return self.where.line


class Source(NamedTuple):
    """One tensor a layer reads: output ``index`` of ``producer`` (a layer or a model input)."""

    producer: str
    index: int = 0

    def __str__(self) -> str:
        return self.producer if self.index == 0 else f"{self.producer}:{self.index}"


def resolve_source(ref: str, names: Collection[str]) -> Source | None:
    """The tensor ``ref`` names among the producers ``names``; ``None`` when it names none."""
    if ref in names:
        return Source(ref, 0)
    base, sep, index = ref.rpartition(":")
    if sep and base in names and index.isascii() and index.isdigit() and len(index) <= 6:
        return Source(base, int(index))
    return None


def sources_of(layers: Sequence[Layer], input_names: Sequence[str], file: str | None = None) -> dict[str, tuple[Source, ...]]:
    """Every layer's sources, with the implicit "previous layer" made explicit."""
    producers = {ly.name for ly in layers} | set(input_names)
    out: dict[str, tuple[Source, ...]] = {}
    for i, ly in enumerate(layers):
        if ly.inputs is None:
            if i > 0:
                out[ly.name] = (Source(layers[i - 1].name),)
            elif len(input_names) == 1:
                out[ly.name] = (Source(input_names[0]),)
            else:
                raise ArgumentError(
                    f"the first layer does not say which of the inputs {list(input_names)} it reads",
                    fix=f"add inputs: {input_names[0]} to layer '{ly.name}'",
                    layer=ly.name,
                    op=ly.op,
                    line=ly.line,
                    node=ly.where.node,
                    file=file,
                )
            continue
        found = []
        for ref in ly.inputs:
            src = resolve_source(ref, producers)
            if src is None:
                names = [ly2.name for ly2 in layers]
                raise ArgumentError(
                    f"unknown input '{ref}'.{did_you_mean(ref, names + list(input_names))}".replace("..", "."),
                    fix="name a model input or a layer: "
                    + ", ".join(list(input_names) + [n for n in names if n != ly.name][:8])
                    + (", ..." if len(names) > 9 else ""),
                    layer=ly.name,
                    op=ly.op,
                    line=ly.key_lines.get("inputs", ly.line),
                    node=ly.where.node,
                    file=file,
                    key="inputs",
                )
            found.append(src)
        out[ly.name] = tuple(found)
    return out


def topological_order(layers: Sequence[Layer], sources: Mapping[str, tuple[Source, ...]],
                      file: str | None = None) -> list[Layer]:
    """The layers in an order where every layer comes after what it reads, keeping the file's
    order wherever it can (Kahn's algorithm, smallest file index first); a cycle is an error."""
    names = {ly.name: i for i, ly in enumerate(layers)}
    pending = {ly.name: sum(1 for s in sources[ly.name] if s.producer in names) for ly in layers}
    users: dict[str, list[int]] = {}
    for i, ly in enumerate(layers):
        for s in sources[ly.name]:
            if s.producer in names:
                users.setdefault(s.producer, []).append(i)
    ready = [i for i, ly in enumerate(layers) if pending[ly.name] == 0]
    heapq.heapify(ready)
    order: list[Layer] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(layers[i])
        for j in users.get(layers[i].name, []):
            pending[layers[j].name] -= 1
            if pending[layers[j].name] == 0:
                heapq.heappush(ready, j)
    if len(order) < len(layers):
        stuck = [ly for ly in layers if pending[ly.name] > 0]
        cycle = _find_cycle(stuck, sources)
        first = layers[names[cycle[0]]]
        raise ArgumentError(
            "the layers form a cycle: " + " -> ".join(cycle + [cycle[0]]),
            fix="a layer can only read model inputs and layers that do not depend on it",
            layer=first.name,
            op=first.op,
            line=first.key_lines.get("inputs", first.line),
            node=first.where.node,
            file=file,
        )
    return order


def _find_cycle(stuck: list[Layer], sources: Mapping[str, tuple[Source, ...]]) -> list[str]:
    stuck_names = {ly.name for ly in stuck}
    node = stuck[0].name
    seen: list[str] = []
    while node not in seen:
        seen.append(node)
        node = next(s.producer for s in sources[node] if s.producer in stuck_names)
    cycle = seen[seen.index(node):]
    return list(reversed(cycle))
