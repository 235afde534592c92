"""The model file's ``repeat`` form: a block of layers written once and repeated with its index.

.. code-block:: yaml

    - repeat: 3                   # how many times: 3, "{expr}", or {each: [3, 4, 6, 3]}
      name: layer1                # the block: its layers are layer1.0.conv1, layer1.1.conv1, ...
                                  # (a name with {...} places the index itself: "stage{i+1}")
      index: i                    # the index's name in "{...}" (default i; it counts from 0)
      layers:
        - {op: Conv2d, name: conv1, out_channels: 64, kernel_size: 1}
        - {op: Conv2d, name: conv2, out_channels: 64, kernel_size: 3, padding: 1,
           stride: {first: 2, rest: 1}}           # a value per repeat: first / rest ...
        - {op: Conv2d, name: down, out_channels: 64, kernel_size: 1, inputs: $input,
           when: first}                           # ... or a layer in some repeats only
        - {op: add, name: add, inputs: [conv2, down], when: first}
        - {op: add, name: add, inputs: [conv2, $input], when: rest}

Inside a block:

* ``"{expr}"`` is an integer expression of the indexes in scope (``"{i+1}"``, ``"{64*2**s}"``,
  ``"{min(s, 1) + 1}"``; the dimension parser's grammar, never ``eval``); a string that is one
  ``{...}`` becomes the integer, and ``{...}`` inside a longer string (a name) is replaced by it.
* ``{first: a, rest: b}`` takes ``a`` in repeat 0 and ``b`` after; ``{each: [a, b, ...]}`` takes
  the entry of the repeat's index (of the innermost repeat being expanded).
* ``when: first | rest | last | [0, 2]`` keeps a layer in those repeats only.
* ``inputs`` name layers of the same repeat by their names in the block; ``$input`` is the
  tensor the repeat reads (the previous repeat's last layer, and for repeat 0 the repeat's own
  ``inputs`` or the layer before the block); other names are layers outside, as written.
* Blocks nest: a ``repeat`` inside ``layers`` has the outer indexes in scope, and its layers are
  named ``outer.0.inner.1.conv`` (or, with names that place the indexes, ``layer1.0.conv1`` from
  ``name: "layer{s+1}"`` around ``name: "{i}"``: ``examples/resnet50_repeat.yaml``).

The expansion is a pure rewriting into plain layer specs: the plan of a repeated block is the
plan of the layers written out (``tests/test_blocks.py`` plans ResNet-50 both ways). Generated
layers keep the lines of the layers they come from, so errors point into the block.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .dims import parse_dim
from .errors import ArgumentError

REPEAT_KEYS = ("repeat", "name", "index", "layers", "inputs")
WHEN = ("first", "rest", "last")
BLOCK_INPUT = "$input"
_EXPR = re.compile(r"\{([^{}]*)\}")
_INDEX_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Lined(dict):
    """A generated layer spec that keeps the line (and key lines) of the spec it comes from."""

    line: int | None = None
    key_lines: dict[str, int]

    def __init__(self, *args: Any, line: int | None = None, key_lines: Mapping[str, int] | None = None) -> None:
        super().__init__(*args)
        self.line = line
        self.key_lines = dict(key_lines or {})


def is_repeat(spec: Any) -> bool:
    return isinstance(spec, Mapping) and "repeat" in spec


def _fail(message: str, spec: Any, key: str | None = None, fix: str | None = None) -> ArgumentError:
    lines = getattr(spec, "key_lines", {}) or {}
    line = lines.get(key) if key else None
    return ArgumentError(message, fix=fix, key=key, line=line or getattr(spec, "line", None))


def _value(value: Any, env: Mapping[str, int], index: int, count: int, spec: Any, key: str) -> Any:
    """A value of a block layer in one repeat: ``{...}`` evaluated, first/rest/each chosen."""
    if isinstance(value, str):
        whole = _EXPR.fullmatch(value.strip())
        if whole:
            return _expr(whole.group(1), env, spec, key)
        if "{" in value:
            return _EXPR.sub(lambda m: str(_expr(m.group(1), env, spec, key)), value)
        return value
    if isinstance(value, Mapping) and set(value) == {"first", "rest"}:
        return _value(value["first"] if index == 0 else value["rest"], env, index, count, spec, key)
    if isinstance(value, Mapping) and set(value) == {"each"}:
        each = value["each"]
        if not isinstance(each, list) or len(each) != count:
            raise _fail(f"{key}: each must list one value per repeat ({count}), got {each!r}", spec, key)
        return _value(each[index], env, index, count, spec, key)
    if isinstance(value, list):
        return [_value(v, env, index, count, spec, key) for v in value]
    return value


def _expr(text: str, env: Mapping[str, int], spec: Any, key: str) -> int:
    try:
        result = parse_dim(text.strip(), dict(env))
    except ArgumentError as e:
        raise _fail(f"{key}: '{{{text}}}': {e.message}", spec, key) from None
    if not isinstance(result, int):
        raise _fail(f"{key}: '{{{text}}}' names something other than the indexes {sorted(env)}", spec, key,
                    fix="inside a repeat, {...} is an integer expression of the repeat indexes, e.g. {i+1}")
    return result


def _kept(when: Any, index: int, count: int, spec: Any) -> bool:
    if when is None:
        return True
    if when in WHEN:
        return {"first": index == 0, "rest": index > 0, "last": index == count - 1}[when]
    if isinstance(when, list) and all(type(w) is int for w in when):
        return index in when
    raise _fail(f"when must be one of {', '.join(WHEN)} or a list of repeat indexes, got {when!r}", spec, "when")


def expanded_size(spec: Any, env: Mapping[str, int], most: int, outer: tuple[int, int] = (0, 1)) -> int:
    """How many layers ``spec`` expands to (1 for a plain layer, ``when`` not counted out: a
    bound); raises as soon as the count passes ``most``, before anything is built."""
    if not is_repeat(spec):
        return 1
    count = _count(spec, env, *outer)
    inner = spec.get("layers")
    if not isinstance(inner, list) or not inner:
        raise _fail("a repeat needs layers: [...] (the block, written once)", spec, "layers")
    index_name = _index_name(spec)
    total = 0
    for index in range(count):
        for s in inner:
            total += expanded_size(s, {**env, index_name: index}, most - total, (index, count))
            if total > most:
                raise _fail(f"this repeat expands to more than {most:,} layers, the most a model may have", spec,
                            "repeat")
    return total


def _index_name(spec: Any) -> str:
    name = spec.get("index", "i")
    if not isinstance(name, str) or not _INDEX_RE.match(name):
        raise _fail(f"index must be a name such as i, got {name!r}", spec, "index")
    return name


def _count(spec: Any, env: Mapping[str, int], outer_index: int, outer_count: int) -> int:
    raw = _value(spec["repeat"], env, outer_index, outer_count, spec, "repeat")
    if type(raw) is not int or not 1 <= raw <= 1_000_000:
        raise _fail(f"repeat must be a count from 1 to 1,000,000, got {raw!r}", spec, "repeat",
                    fix="repeat: 3, or repeat: {each: [3, 4, 6, 3]} inside an outer repeat")
    return raw


def expand(spec: Any, last_name: Callable[[], str | None], env: Mapping[str, int] | None = None,
           prefix: str = "", outer: tuple[int, int] = (0, 1)) -> Iterator[Any]:
    """The plain layer specs of ``spec`` (itself when it is not a ``repeat``), in order.

    ``last_name()`` is the name of the layer appended last (or the model input), read as the
    specs are consumed: it is what ``$input`` means for repeat 0 and after each repeat.
    """
    env = dict(env or {})
    if not is_repeat(spec):
        yield spec
        return
    for key in spec:
        if key not in REPEAT_KEYS:
            raise _fail(f"a repeat has no key {key!r}", spec, str(key), fix="a repeat takes: " + ", ".join(REPEAT_KEYS))
    index_name = _index_name(spec)
    if index_name in env:
        raise _fail(f"the index {index_name!r} is already the index of an outer repeat", spec, "index",
                    fix="index: j")
    count = _count(spec, env, *outer)
    block = spec.get("name")
    if not isinstance(block, str) or not block:
        raise _fail("a repeat needs a name (its layers are named <name>.<index>.<layer>)", spec, "name",
                    fix="name: layer1")
    placed = "{" in block  # the name places the index itself ("layer{s+1}", "{i}"); else name.index
    inner = spec.get("layers")
    if not isinstance(inner, list) or not inner:
        raise _fail("a repeat needs layers: [...] (the block, written once)", spec, "layers")
    fed = spec.get("inputs")
    for index in range(count):
        scope = {**env, index_name: index}
        here = f"{prefix}{_value(block, scope, index, count, spec, 'name')}." if placed else f"{prefix}{block}.{index}."
        block_input = fed if index == 0 and isinstance(fed, str) else last_name()
        local = _local_names(inner, scope, index, count)
        first_layer = True
        for layer in inner:
            if is_repeat(layer):
                yield from expand(layer, last_name, scope, here, (index, count))
                first_layer = False
                continue
            if not isinstance(layer, Mapping):
                yield layer  # the model says what is wrong with it
                continue
            if not _kept(layer.get("when"), index, count, layer):
                continue
            out = Lined(line=getattr(layer, "line", None), key_lines=getattr(layer, "key_lines", None))
            for key, value in layer.items():
                if key == "when":
                    continue
                if key == "name":
                    out["name"] = here + str(_value(value, scope, index, count, layer, key))
                elif key == "inputs":
                    out["inputs"] = _inputs(value, scope, index, count, layer, here, local, block_input)
                else:
                    out[key] = _value(value, scope, index, count, layer, key)
            if first_layer and "inputs" not in out and index == 0 and isinstance(fed, str):
                out["inputs"] = fed
            first_layer = False
            yield out


def _local_names(inner: list, scope: Mapping[str, int], index: int, count: int) -> set[str]:
    names = set()
    for layer in inner:
        if isinstance(layer, Mapping) and not is_repeat(layer) and isinstance(layer.get("name"), str):
            names.add(str(_value(layer["name"], scope, index, count, layer, "name")))
        elif is_repeat(layer) and isinstance(layer.get("name"), str) and "{" not in layer["name"]:
            names.add(layer["name"])  # an inner block's layers are named under it (a placed name: not known here)
    return names


def _inputs(value: Any, scope: Mapping[str, int], index: int, count: int, layer: Any, here: str, local: set[str],
            block_input: str | None) -> Any:
    def one(ref: Any) -> Any:
        if not isinstance(ref, str):
            return ref
        ref = str(_value(ref, scope, index, count, layer, "inputs"))
        if ref == BLOCK_INPUT:
            if block_input is None:
                raise _fail("$input: the block has no input before it (give the repeat inputs: NAME)", layer,
                            "inputs")
            return block_input
        base = ref.split(":", 1)[0]
        top = base.split(".", 1)[0]
        return here + ref if base in local or top in local else ref

    value = _value(value, scope, index, count, layer, "inputs") if not isinstance(value, (str, list)) else value
    return [one(v) for v in value] if isinstance(value, list) else one(value)


__all__ = ["BLOCK_INPUT", "Lined", "expand", "expanded_size", "is_repeat"]
