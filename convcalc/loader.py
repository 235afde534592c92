"""Read model files: YAML through a safe loader that remembers line numbers (docs/model-file.md).

- Only YAML's safe types are built (``yaml.SafeLoader`` constructors; no Python objects).
- Every mapping becomes a :class:`~convcalc.model.LineDict` that knows its line and the line of
  each key, so errors point at ``model.yaml:14``.
- Anchors and aliases are allowed (shared defaults with ``<<: *conv``), but the document expanded
  through its aliases may hold at most :data:`MAX_NODES` nodes: an "alias bomb" is refused before
  anything walks it. Files are limited to :data:`MAX_BYTES`.
- A key given twice in one mapping is an error (PyYAML would silently keep the last).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

import yaml

from .errors import ArgumentError, ModelError, UsageError
from .frontends import is_hidden
from .model import Model, Variants, _line


class LineDict(dict):
    """A mapping from a model file that remembers its line and the line of each key."""

    line: int | None = None
    key_lines: dict[str, int]

    def __init__(self, *args: Any, line: int | None = None, key_lines: dict | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.line = line
        self.key_lines = dict(key_lines or {})


class LineList(list):
    """A list from a model file that remembers its line."""

    line: int | None = None


MAX_BYTES = 10 * 1024 * 1024
MAX_NODES = 2_000_000  # a 100,000-layer model file has about 500,000
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader (C-accelerated when available) building LineDict / LineList."""


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    merged_count = 0
    if any(k.tag == _MERGE_TAG for k, _ in node.value):  # << merge keys: the merged ones come first
        own = sum(1 for k, _ in node.value if k.tag != _MERGE_TAG)
        loader.flatten_mapping(node)
        merged_count = len(node.value) - own
    out = LineDict(line=node.start_mark.line + 1)
    own_keys: set[Any] = set()
    for i, (key_node, value_node) in enumerate(node.value):
        key = _construct(loader, key_node)
        try:
            hash(key)
        except TypeError:
            raise ArgumentError(
                "a mapping key must be a plain value, not a list or a mapping", line=key_node.start_mark.line + 1
            ) from None
        if i >= merged_count:
            if key in own_keys:
                raise ArgumentError(
                    f"the key {key!r} appears twice in the same mapping",
                    fix="keep one of them",
                    line=key_node.start_mark.line + 1,
                    key=str(key),
                )
            own_keys.add(key)
        out[key] = _construct(loader, value_node)
        if isinstance(key, str):
            out.key_lines[key] = key_node.start_mark.line + 1
    return out


_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"


def _construct(loader: Any, node: yaml.Node) -> Any:
    """One node's value. Strings and integers (most of a model file) directly — what their
    constructors return, without ``construct_object``'s bookkeeping, which keeps an alias's
    object identical and has nothing to do for a scalar (a 100,000-layer file: 0.5 s)."""
    if type(node) is yaml.ScalarNode:
        if node.tag == _STR_TAG:
            return node.value
        if node.tag == _INT_TAG:
            return _construct_int(loader, node)
    return loader.construct_object(node, deep=True)


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    out = LineList(_construct(loader, child) for child in node.value)
    out.line = node.start_mark.line + 1
    return out


MAX_INT_DIGITS = 20  # a size is at most 2**48; an integer of 4,300 digits would not even convert
MAX_INT_CHARS = 64  # in any base YAML reads (0x..., 0o..., 0b..., with _): 2**48 is 51 binary digits


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    """YAML integers, refused beyond 20 decimal digits or 64 characters in any base (before
    Python converts them), with their line."""
    text = str(node.value)
    digits = sum(c.isdigit() for c in text)
    if digits > MAX_INT_DIGITS or len(text) > MAX_INT_CHARS:
        size = f"{digits:,} digits" if digits > MAX_INT_DIGITS else f"{len(text):,} characters"
        raise ArgumentError(f"an integer of {size} (sizes are at most 2**48)", line=node.start_mark.line + 1,
                            fix="write the size as a number of at most 15 digits")
    return loader.construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes in the document with every alias expanded (memoised: linear in the node graph)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = MAX_NODES + 1  # a node reaching itself (recursive alias) counts as too big
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(v, memo) for v in node.value)
    else:
        size = 1
    memo[key] = min(size, MAX_NODES + 1)
    return memo[key]


MAX_NESTING = 1_000  # model files nest a few levels; libyaml's C composer recurses without a bound


def nesting_bound(text: str) -> int:
    r"""An upper bound of how deeply ``text`` nests, read before parsing: the deepest run of open
    ``[``/``{`` (brackets inside quoted strings counted too: a bound, not the depth) plus the
    longest block prefix (indentation and ``- `` markers) of a line.

    >>> nesting_bound("layers:\n  - {op: ReLU, size: [1, 2]}\n"), nesting_bound("[" * 50 + "]" * 50)
    (6, 50)
    """
    flow = re.sub(r"[^\[\]{}]", "", text)
    deepest = max(accumulate(1 if c in "[{" else -1 for c in flow), default=0) if flow else 0
    prefix = max((len(m.group()) for m in _BLOCK_PREFIX.finditer(text)), default=0)
    return max(deepest, 0) + prefix


_BLOCK_PREFIX = re.compile(r"^[ \t]*(?:-[ \t]+)*", re.M)


_ANCHOR = re.compile(r"(?:^|[\s\[\]{},:-])[&*][^\s\[\]{},]")  # an anchor &a or an alias *a, not 2*T


def _node_count(root: yaml.Node, limit: int) -> int:
    """The nodes under ``root``, counted up to ``limit + 1`` — for a text without anchors, whose
    nodes form a tree (no memo needed; an alias the pattern missed only makes the count larger,
    and the count stops past ``limit`` all the same)."""
    count, stack = 0, [root]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        if type(node) is yaml.MappingNode:
            for pair in node.value:
                stack.extend(pair)
        elif type(node) is yaml.SequenceNode:
            stack.extend(node.value)
    return count


def parse_yaml(text: str, file: str | None = None) -> Any:
    """Parse YAML text into LineDict/LineList/scalars, with the safety bounds above."""
    if len(text) > MAX_BYTES:
        raise ModelError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB", file=file)
    depth = nesting_bound(text)
    if depth > MAX_NESTING:
        raise ModelError(f"the document nests up to {depth:,} levels deep, more than the {MAX_NESTING:,} a model file "
                         "may", fix="write nested lists and mappings out flat; a model needs only a few levels",
                         file=file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ModelError("the file is empty", fix="a model needs input: and layers:", file=file)
        # Counted only when the document could exceed MAX_NODES: when it has anchors or aliases
        # (which multiply nodes), or is long enough to spell that many (two characters each).
        if _ANCHOR.search(text) is not None:
            memo: dict[int, int] = {}
            too_many = _expanded_size(node, memo) > MAX_NODES
            if too_many and len(memo) < MAX_NODES:  # the distinct nodes are few: the aliases multiply them
                raise ModelError(
                    f"the document expands to more than {MAX_NODES:,} nodes through its aliases (an 'alias bomb'?)",
                    fix="write the layers out, or use fewer nested aliases",
                    file=file,
                )
        else:
            too_many = len(text) >= 2 * MAX_NODES and _node_count(node, MAX_NODES) > MAX_NODES
        if too_many:
            raise ModelError(f"the document has more than {MAX_NODES:,} YAML nodes", file=file,
                             fix=f"a model file holds at most {MAX_NODES:,} nodes (about 400,000 layers)")
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        context = getattr(e, "context", None)
        message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
        raise ModelError(
            message,
            line=mark.line + 1 if mark else None,
            file=file,
            fix="check the indentation and the quoting near that line",
        ) from None
    except RecursionError:
        raise ModelError("the YAML document is nested too deeply", file=file) from None
    except ArgumentError as e:
        raise e.add_context(file=file) from None
    finally:
        loader.dispose()


def regular_file_size(path: str) -> int:
    """The size of the regular file ``path``; a missing file, a folder or a special file (a FIFO,
    a device) is a usage error (exit 2) — checked with ``stat`` before anything opens it."""
    import stat

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path} is a directory, not a model file")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path} is not a regular file (a device, a FIFO or a socket)", fix="save the model to a file")
    return info.st_size


def read_text(path: str) -> str:
    """A model file's text; a missing or unreadable file, a folder or a special file (a FIFO, a
    device: checked with ``stat`` before anything opens it, so nothing blocks or reads forever)
    is a usage error (exit 2). At most :data:`MAX_BYTES` are read."""
    size = regular_file_size(path)
    if size > MAX_BYTES:
        raise UsageError(f"{path}: the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UsageError(f"{path}: the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        return data.decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a model file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None


def load(path: str) -> Model | Variants:
    """Load a model file: a :class:`Model`, or :class:`Variants` for a file with ``variants``."""
    return loads(read_text(path), file=path)


def loads(text: str, file: str | None = None) -> Model | Variants:
    """Load a model from YAML text (``file`` is used in error messages)."""
    data = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise ArgumentError(
            "a model file must be a mapping with input: and layers:", fix="see examples/ for the format", file=file, line=1
        )
    if "variants" not in data:
        return Model.from_dict(data, file=file)
    variants = data["variants"]
    if not isinstance(variants, dict) or not variants:
        raise ArgumentError(
            "'variants' must map variant names to models", key="variants", line=_line(data, "variants"), file=file
        )
    models = {}
    spellings: dict[str, Any] = {}
    for key in variants:
        name = str(key)
        if name in spellings:  # 1 and '1', null and 'None': one name for two variants
            raise ArgumentError(f"the variants {spellings[name]!r} and {key!r} have the same name {name!r}",
                                fix="give every variant a distinct name (quote keys to keep them strings)",
                                line=_line(variants, key), file=file, key="variants")
        spellings[name] = key
    for key, spec in variants.items():
        if not isinstance(spec, dict):
            raise ArgumentError(
                f"variant {key!r} must be a mapping of model keys", line=_line(variants, key), file=file, key="variants"
            )
        merged = merge_variant(data, spec)
        if "name" not in spec:
            merged["name"] = str(key)
        if "variants" in spec:
            raise ArgumentError("variants cannot be nested", line=_line(spec, "variants"), file=file)
        try:
            models[str(key)] = Model.from_dict(merged, file=file)
        except ModelError as e:
            raise e.add_context(variant=str(key)) from None
    return Variants(models, file=file, name=data.get("name") if isinstance(data.get("name"), str) else None)


def merge_variant(shared: Mapping[str, Any], variant: Mapping[str, Any]) -> dict[str, Any]:
    """A variant's model: the shared top-level keys, overridden by the variant's (symbols merged)."""
    out = LineDict(line=_line(variant), key_lines=dict(getattr(shared, "key_lines", {})))
    out.update((k, v) for k, v in shared.items() if k != "variants")
    out.key_lines.update(getattr(variant, "key_lines", {}))
    for k, v in variant.items():
        if k == "symbols" and isinstance(v, Mapping) and isinstance(out.get("symbols"), Mapping):
            old = out["symbols"]
            merged = LineDict(old, line=_line(v), key_lines={**getattr(old, "key_lines", {}), **getattr(v, "key_lines", {})})
            merged.update(v)
            out[k] = merged
        elif k in ("input", "inputs"):
            out.pop("input", None)
            out.pop("inputs", None)
            out[k] = v
        else:
            out[k] = v
    return out


def _yaml_value(value: Any) -> Any:
    """Plain YAML types (list and tuple subclasses, such as torch.fx's, become lists)."""
    if isinstance(value, dict):
        return {k: _yaml_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_yaml_value(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _bookkeeping(key: str, value: Any) -> bool:
    """Arguments a written model file can leave out: bookkeeping ones at no effect (initializers,
    regularizers, ``trainable: true``) — planning reads none of them."""
    return is_hidden(key) and (value is None or isinstance(value, dict) or (key == "trainable" and value is True))


def dump_model(model: Model) -> str:
    """A model as a model file (docs/model-file.md): the framework, the input shapes and symbols, and
    every layer with its op, name, sources (left out where it reads the layer before) and
    arguments, in the model's own vocabulary. Loading the text gives the same plan.

    >>> m = Model(framework="pytorch", input=[1, 3, "H", "W"]).add("Conv2d", name="c", out_channels=8, kernel_size=3)
    >>> print(dump_model(m), end="")
    framework: pytorch
    input: [1, 3, H, W]
    layers:
    - {op: Conv2d, name: c, out_channels: 8, kernel_size: 3}
    """
    head: dict[str, Any] = {}
    if model.name:
        head["name"] = model.name
    head["framework"] = model.framework
    if model.dtype != "float32":
        head["dtype"] = model.dtype
    if list(model.inputs) == ["input"]:
        head["input"] = list(model.inputs["input"])
    else:
        head["inputs"] = {k: list(v) for k, v in model.inputs.items()}
    if model.symbols:
        head["symbols"] = dict(model.symbols)
    lines = [yaml.safe_dump({k: v}, default_flow_style=None if isinstance(v, (list, dict)) else False, sort_keys=False,
                            width=100000).rstrip() for k, v in head.items()]
    lines.append("layers:")
    previous: str | None = next(iter(model.inputs)) if len(model.inputs) == 1 else None
    for layer in model.layers:
        entry: dict[str, Any] = {"op": layer.op, "name": layer.name}
        if layer.inputs is not None and list(layer.inputs) != ([previous] if previous else None):
            entry["inputs"] = layer.inputs[0] if len(layer.inputs) == 1 else list(layer.inputs)
        entry.update({k: _yaml_value(v) for k, v in layer.args.items() if not _bookkeeping(k, v)})
        text = yaml.safe_dump([entry], default_flow_style=True, sort_keys=False, width=100000).rstrip()
        text = "- " + text[1:-1] if text.startswith("[") else text
        lines.append(text)
        previous = layer.name
    return "\n".join(lines) + "\n"
