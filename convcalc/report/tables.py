"""Table values: what each report shows, as plain data (no formatting library, no format).

A :class:`Document` is a title, one or more :class:`Table` values and the notes under them;
:mod:`convcalc.report.render` turns it into text, markdown, LaTeX, HTML or CSV. Every builder
here reads the figures from :data:`convcalc.figures.FIGURES`, so a new figure appears in every
table by being declared there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..dims import dsum, fmt_dim, fmt_shape, is_concrete
from ..figures import FIGURE, FIGURES, Figure
from ..memory import inference_peak
from .conventions import CONSTRAINT_TITLES, MACS, PARAM_CONVENTION, constraint_lines, conventions
from .units import count, exact, human_bytes, human_count, ratio_text

if TYPE_CHECKING:  # pragma: no cover
    from ..compare import Comparison
    from ..plan import Plan


@dataclass(frozen=True)
class Table:
    """Rows of cells (strings) under a header, with each column's alignment."""

    header: list[str]
    rows: list[list[str]]
    align: list[str]


@dataclass(frozen=True)
class Document:
    """A title (``None``: none), tables, and the notes printed under the first table.

    ``csv_notes`` replaces ``notes`` in CSV, where they become ``#`` comment lines.
    """

    title: str | None
    tables: list[Table]
    notes: list[str]
    csv_notes: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class View:
    """How a report is laid out for its reader.

    Attributes:
        width: the text table's budget in columns (the terminal's width, or 100); ``None`` lays
            it out as wide as it takes (``--wide``).
        exact: exact integers (with separators) instead of human units (``--exact``).
        columns: optional columns of the plan table, by name (:data:`OPTIONAL_COLUMNS`).
        depth: collapse the layers of blocks below this depth into one row per block
            (``--depth``; ``layer1.0.conv1`` is at depth 2 under ``layer1`` and ``layer1.0``).
    """

    width: int | None = 100
    exact: bool = False
    columns: tuple[str, ...] = ()
    depth: int | None = None


# The plan table's optional columns (--columns), in the order they are shown.
OPTIONAL_COLUMNS = {
    "input": "the input shape(s)",
    "flops": "FLOPs (= 2 x MACs, stated in the conventions)",
    "percent": "the layer's share of the total MACs",
    "kernel": "kernel size", "stride": "stride", "padding": "explicit padding, (begin, end) per axis",
    "groups": "convolution groups",
    "rf": "receptive field: size, effective stride (jump) and start per spatial axis (also --rf)",
}
RF_COLUMNS = ("field", "jump", "start")


def cell(figure: Figure, value: Any, exact_numbers: bool, unknown: bool = False, bound: bool = False,
         style: str = "mixed") -> str:
    """One figure's cell; ``?`` when unknown, ``≥`` before a total that is a lower bound.

    ``exact_numbers`` (CSV): exact integers without separators. Otherwise by ``style``:
    ``"human"`` — human units (``4.09 G``, ``98.0 MiB``); ``"exact"`` — exact integers with
    separators, bytes too (``--exact``); ``"mixed"`` — exact counts, bytes in binary units.
    An expression is printed whole (bytes with their unit).
    """
    if unknown:
        return "?"
    if bound:
        return ">=" + exact(value) if exact_numbers else "≥ " + cell(figure, value, False, style=style)
    if exact_numbers:
        return exact(value)
    if not is_concrete(value):
        return human_bytes(value) if figure.unit == "bytes" and style != "exact" else _text(value)
    if style == "exact":
        return count(value)
    if figure.unit == "bytes":
        return human_bytes(value)
    return human_count(value) if style == "human" else count(value)


def _has_frozen(plans: list[Plan]) -> bool:
    return any(not (is_concrete(ly.non_trainable_params) and ly.non_trainable_params == 0)
               for p in plans for ly in p.layers)


def title(plan: Plan) -> str:
    sym = ", ".join(f"{k}={v}" for k, v in plan.symbols.items())  # the file's order
    return (f"{plan.name or plan.file or 'model'} ({plan.framework}, {plan.dtype}"
            + (f"; {sym}" if sym else "") + ")")


class Legend:
    """Names for expressions too long for their cells: ``e1``, ``e2``, ... in order of first use,
    one name per distinct expression, written out once under the table."""

    def __init__(self, limit: int | None, taken: set[str]) -> None:
        self.limit = limit
        self.prefix = next(p for p in ("e", "x", "expr") if not any(t.startswith(p) for t in taken))
        self.names: dict[str, str] = {}

    def __call__(self, text: str, concrete: bool, limit: int | None = None) -> str:
        """``text``, or its name when it is an expression longer than ``limit`` (default: the
        legend's own limit for figures)."""
        limit = self.limit if limit is None else limit
        if concrete or self.limit is None or len(text) <= limit:
            return text
        if text not in self.names:
            self.names[text] = f"{self.prefix}{len(self.names) + 1}"
        return self.names[text]

    def lines(self) -> list[str]:
        return [f"{name} = {text}" for text, name in self.names.items()]


_TEXTS: dict[Any, str] = {}


def _text(d: Any) -> str:
    """``fmt_dim``, remembered for expressions: the table is laid out several times while it is
    fitted to the width, and printing an expression is the slow part."""
    if type(d) is int:
        return str(d)
    if d not in _TEXTS:
        if len(_TEXTS) > 100_000:
            _TEXTS.clear()
        _TEXTS[d] = fmt_dim(d)
    return _TEXTS[d]


@dataclass(frozen=True)
class Row:
    """One row of the plan table: a layer, or a block of layers collapsed by ``--depth``."""

    name: str
    op: str
    layers: tuple[Any, ...]  # the LayerPlans it stands for

    @property
    def first(self) -> Any:
        return self.layers[0]

    @property
    def last(self) -> Any:
        return self.layers[-1]

    def figure(self, key: str) -> Any:
        if len(self.layers) == 1:
            return getattr(self.first, key)
        return dsum(getattr(ly, key) for ly in self.layers)

    def unknown(self, key: str) -> bool:
        return any(key in ly.unknown for ly in self.layers)


def block_of(name: str, depth: int) -> str | None:
    """The block that layer ``name`` collapses into at ``depth`` (None: it stays a row).

    >>> block_of("layer1.0.conv1", 1), block_of("layer1.0.conv1", 2), block_of("conv1", 1), block_of("layer1.0", 2)
    ('layer1', 'layer1.0', None, None)
    """
    parts = name.split(".")
    return ".".join(parts[:depth]) if len(parts) > depth else None


def plan_rows(plan: Plan, depth: int | None) -> list[Row]:
    """The layers as table rows; with ``depth``, each run of consecutive layers in one block at
    that depth becomes one row (torchinfo's ``depth=``), its figures the sums of its layers."""
    runs: list[tuple[str, bool, list[Any]]] = []  # (name, is a block, layers): lists, so runs grow in O(1)
    for ly in plan.layers:
        block = block_of(ly.name, depth) if depth is not None else None
        if block is not None and runs and runs[-1][0] == block and runs[-1][1]:
            runs[-1][2].append(ly)
        elif block is not None:
            runs.append((block, True, [ly]))
        else:
            runs.append((ly.name, False, [ly]))
    return [Row(name, f"block ({len(lys)} layer{'s' if len(lys) != 1 else ''})" if is_block else lys[0].op, tuple(lys))
            for name, is_block, lys in runs]


def _step_argument(ly: Any, key: str) -> str:
    """A convolution's or pool's kernel, stride, padding or groups, from its first such step."""
    for step in ly.steps:
        if not hasattr(step, "kernel") or (key == "groups" and not hasattr(step, "in_channels")):
            continue
        if key == "padding" and hasattr(step, "explicit_padding"):
            pads = step.explicit_padding(ly.input_shapes[0])
            return " ".join(f"({fmt_dim(b)}, {fmt_dim(e)})" for b, e in pads)
        if key == "padding" and hasattr(step, "crops"):
            return " ".join(f"(-{fmt_dim(b)}, -{fmt_dim(e)})" for b, e in step.crops)
        if key != "padding" and hasattr(step, key):
            value = getattr(step, key)
            return "x".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
    return ""


def rf_cell(f: Any, which: int) -> str:
    """One receptive-field cell: size (0), jump (1) or start (2), one value when every spatial
    axis agrees, else per axis joined by x; ``all`` where no spatial axis is left.

    >>> from convcalc.receptive import AxisField, Field
    >>> f = Field("c", (AxisField(7, 2, -3, "x", 2), AxisField(7, 2, -3, "x", 3)))
    >>> rf_cell(f, 0), rf_cell(f, 2), rf_cell(Field("fc", (), whole=True), 0)
    ('7', '-3', 'all')
    """
    if f.whole and not f.axes:
        return "all" if which == 0 else ""
    if not f.axes:
        return ""
    values = ["?" if a is None else _rf_text((a.size, a.stride, a.start)[which]) + ("" if a.exact else "~")
              for a in f.axes]
    return values[0] if len(set(values)) == 1 else "x".join(values)


def _rf_text(v: Any) -> str:
    from fractions import Fraction

    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    return "?" if v is None else fmt_dim(v)


def shorten(text: str, most: int | None) -> str:
    """``text`` cut in the middle to ``most`` characters (``layer4.2…sample.0``).

    >>> shorten("layer4.2.downsample.0", 14), shorten("conv1", 14)
    ('layer4.…mple.0', 'conv1')
    """
    if most is None or len(text) <= most:
        return text
    head = most // 2
    return text[:head] + "…" + text[len(text) - (most - 1 - head):]


def plan_table(plan: Plan, *, exact_numbers: bool, view: View = View(), legend: Legend | None = None,
               shape_budget: int | None = None, name_budget: int | None = None) -> Table:
    """The per-layer table: one row per model input and layer (or block, with ``view.depth``),
    and the total row. ``legend`` names long expressions: figures longer than its limit, and the
    symbolic dimensions of a shape longer than ``shape_budget`` (all of that shape's, so that
    ``(1, 64, e1, e2)`` reads as one thing)."""
    name = legend or Legend(None, set())
    split = _has_frozen([plan])
    wanted = set(view.columns)
    figures = [f for f in FIGURES if f.in_layer_table and (split or not f.parameter_split)
               and (f.key != "flops" or "flops" in wanted or exact_numbers)]

    def shape(s: tuple) -> str:
        texts = [_text(d) for d in s]
        whole = "(" + ", ".join(texts) + ")"
        if shape_budget is None or len(whole) <= shape_budget:
            return whole
        return "(" + ", ".join(name(t, is_concrete(d), 3) for t, d in zip(texts, s)) + ")"

    style = "exact" if view.exact else "human"

    def figure_cell(f: Figure, value: Any, unknown: bool = False, bound: bool = False) -> str:
        text = cell(f, value, exact_numbers, unknown=unknown, bound=bound, style=style)
        return text if unknown or exact_numbers else name(text, is_concrete(value))

    extra = [c for c in OPTIONAL_COLUMNS if c in wanted and c not in ("input", "flops", "rf")]
    if "rf" in wanted:
        from ..receptive import receptive_fields

        fields = receptive_fields(plan)
        extra += list(RF_COLUMNS)
    show_input = "input" in wanted or exact_numbers
    header = ["layer", "op"] + (["input"] if show_input else []) + ["output"] + \
        [f.title(exact_numbers or view.exact) for f in figures] + [("% MACs" if c == "percent" else c) for c in extra]
    rows: list[list[str]] = []
    for n, s in plan.inputs.items():
        rows.append([n, "input"] + ([""] if show_input else []) + [shape(s)] + [""] * (len(figures) + len(extra)))
    total_macs = plan.totals.macs
    for row in plan_rows(plan, view.depth):
        line = [shorten(row.name, name_budget), shorten(row.op, name_budget and max(8, name_budget - 4))]
        if show_input:
            line.append(" + ".join(shape(s) for s in row.first.input_shapes))
        line.append(" + ".join(shape(s) for s in row.last.outputs))
        line += [figure_cell(f, row.figure(f.key), unknown=row.unknown(f.key)) for f in figures]
        for c in extra:
            if c == "percent":
                m = row.figure("macs")
                line.append(f"{100 * m / total_macs:.1f}%" if is_concrete(m) and is_concrete(total_macs)
                            and total_macs and not row.unknown("macs") else "")
            elif c in RF_COLUMNS:  # a long symbolic start is named in the legend, as figures are
                text = rf_cell(fields[row.last.name], RF_COLUMNS.index(c))
                line.append(text if len(text) <= 12 or exact_numbers else name(text, False))
            else:
                line.append(_step_argument(row.first, c) if len(row.layers) == 1 else "")
        rows.append(line)
    rows.append(["total", ""] + ([""] if show_input else []) + [""]
                + [figure_cell(f, getattr(plan.totals, f.key), bound=f.key in plan.unknown) for f in figures]
                + [("100%" if c == "percent" else "") for c in extra])
    align = ["left"] * (3 if not show_input else 4) + ["right"] * (len(figures) + len(extra))
    return Table(header, rows, align)


def summary_lines(plan: Plan, legend: Legend | None = None) -> list[str]:
    """The totals line (exact counts, human units beside them; an expression by its legend name
    when the table named it) and the partial-model note."""
    t = plan.totals
    name = legend or Legend(None, set())
    p = "≥ " if "params" in plan.unknown else ""
    m = "≥ " if "macs" in plan.unknown else ""

    def exact_and_human(value: Any, unit: str) -> str:
        if not is_concrete(value):
            return name(fmt_dim(value), False) + (f" {unit}" if unit else "")
        return f"{count(value)} {unit} ({human_count(value)})".replace("  ", " ") if value >= 1000 else \
            f"{count(value)} {unit}".strip()

    params = exact_and_human(t.params, "params")
    split = "" if is_concrete(t.non_trainable_params) and t.non_trainable_params == 0 else \
        f" ({p}{count(t.trainable_params)} trainable, {p}{count(t.non_trainable_params)} non-trainable)"
    acts = cell(FIGURE["activation_bytes"], t.activation_bytes, False)
    acts = name(acts, is_concrete(t.activation_bytes))
    peak = inference_peak(plan) if not plan.unknown else None
    at = "" if peak is None else (
        f"; inference peak {name(cell(FIGURE['activation_bytes'], peak.bytes, False), is_concrete(peak.bytes))}"
        f" (at {peak.layer or 'the inputs'})")
    lines = [f"totals: {p}{params}{split}; {m}{exact_and_human(t.macs, 'MACs')}; FLOPs = 2 x MACs; "
             f"activations {acts} (sum of layer outputs){at}"]
    opaque = [ly for ly in plan.layers if ly.unknown]
    if opaque:
        ops = sorted({str(getattr(ly.steps[0], "source_op", "") or ly.op) for ly in opaque})
        lines.append(f"partial: {len(opaque)} layer(s) convcalc cannot model ({', '.join(ops)}) are kept with their "
                     "source's shapes; '?' is unknown and the totals marked ≥ are lower bounds")
    return lines


def layout_tries(whole: bool) -> list[tuple[int | None, int | None, int | None]]:
    """The layouts :func:`plan_document` tries, most generous first: (figure limit, shape budget,
    name budget) — expressions longer than the limit are named, shapes longer than the budget
    named, names longer than the budget cut in the middle; ``whole``: one layout, nothing named.
    Figures are named before shapes (a MACs formula is long by nature; a shape is read); last, on
    a narrow terminal, long layer and op names are cut."""
    if whole:
        return [(None, None, None)]
    limits = [(32, None), (24, None), (16, None), (12, None), (12, 40), (12, 32), (10, 24), (8, 20), (6, 16), (4, 12)]
    return [(f, b, None) for f, b in limits] + [(4, 12, n) for n in (20, 16, 12)]


def plan_document(plan: Plan, fmt: str, view: View = View(), measure: Any = None) -> Document:
    """The plan report: the per-layer table, the legend of long expressions, the totals, the
    constraints and the conventions.

    Expressions longer than their cell are named (``e1``, ...) and written out once in the
    legend; ``measure(table)`` (the text renderer's width of a table) lets the limits shrink until
    the table fits ``view.width``. CSV keeps every expression whole.
    """
    exact_numbers = fmt == "csv"
    conv = ["conventions: " + " ".join(conventions(plan))]
    csv_notes = constraint_lines(plan) + ["conventions: " + c for c in conventions(plan)]
    taken = set(plan.symbols) | {str(s) for s in getattr(plan, "used_symbols", ())}
    tries = layout_tries(exact_numbers or view.width is None)

    def laid_out(i: int) -> tuple[Table, Legend, bool]:
        fig_limit, shape_budget, name_budget = tries[i]
        legend = Legend(fig_limit, taken)
        table = plan_table(plan, exact_numbers=exact_numbers, view=view, legend=legend, shape_budget=shape_budget,
                           name_budget=name_budget)
        return table, legend, measure is None or view.width is None or measure(table) <= view.width

    # The first layout that fits, else the most compact. Each try is at most as wide as the one
    # before it (a lower limit only names or cuts more), so the first fit is found by bisection:
    # a 100,000-layer table on a 60-column terminal was laid out 13 times (25 s), now 2 to 5.
    table, legend, fits = laid_out(0)
    if not fits and len(tries) > 1:
        table, legend, fits = laid_out(len(tries) - 1)
        lo, hi = 0, len(tries) - 1  # tries[lo] does not fit; tries[hi] is the answer so far
        while fits and hi - lo > 1:
            mid = (lo + hi) // 2
            candidate = laid_out(mid)
            if candidate[2]:
                hi, (table, legend, _) = mid, candidate
            else:
                lo = mid
    totals = summary_lines(plan, legend)  # after the table: the totals reuse its names
    notes = legend.lines() + totals + constraint_lines(plan) + conv
    return Document(title(plan), [table], notes, csv_notes)


def final_shape(plan: Plan) -> str:
    """The output shape(s) of a plan, ``" + "``-joined when it has several outputs."""
    return " + ".join("(" + ", ".join(fmt_dim(d) for d in ly.output_shape) + ")" for ly in plan.outputs())


def compare_document(comparison: Comparison, fmt: str, layers: bool) -> Document:
    """Variants side by side: one column each, ratios to the baseline beside the figures."""
    from ..compare import ratio_json

    names = list(comparison.names)
    planned = [n for n in names if n in comparison.plans]
    base = comparison.baseline
    exact_numbers = fmt == "csv"
    split = any(not (is_concrete(p.totals.non_trainable_params) and p.totals.non_trainable_params == 0)
                for p in comparison.plans.values())
    failed = "failed (below)" if not exact_numbers else "failed"
    rows = [["output"] + [final_shape(comparison.plans[n]) if n in comparison.plans else failed for n in names]
            + ([""] * (len(planned) - 1) if exact_numbers else [])]
    for f in FIGURES:
        if f.parameter_split and not split:
            continue  # every parameter is trainable: one row says it
        row = [f.title(exact_numbers)]
        for n in names:
            if n not in comparison.plans:
                row.append("-")
                continue
            value = getattr(comparison.plans[n].totals, f.key)
            text = cell(f, value, exact_numbers)
            if not exact_numbers and n != base and f.ratio:
                text += f"  [{ratio_text(comparison.ratio(n, f.key))}]"
            row.append(text)
        if exact_numbers:
            row += [str(ratio_json(comparison.ratio(n, f.key))) if f.ratio else "" for n in planned if n != base]
        rows.append(row)
    mixed = len({p.framework for p in comparison.plans.values()}) > 1  # then each column says whose count it is

    def label(n: str) -> str:
        fw = f" [{comparison.plans[n].framework}]" if mixed and n in comparison.plans else ""
        return (f"{n} (baseline)" if n == base else n) + fw

    header = ["figure"] + [label(n) for n in names]
    if exact_numbers:
        header += [f"{n} / {base}" for n in planned if n != base]
    frameworks = sorted({p.framework for p in comparison.plans.values()})
    conv = conventions(comparison.plans[base])
    params_conv = " ".join(PARAM_CONVENTION[f] + "." for f in frameworks)
    notes = [f"[ratio] = this variant / {base}.", conv[0], params_conv, conv[2]]
    notes += [f"{n}: could not be planned: {why}" for n, why in comparison.failures.items()]
    for n in planned:
        for kind, texts in comparison.plans[n].constraint_summary.items():
            if texts:
                notes.append(f"{n}: {CONSTRAINT_TITLES[kind]} " + ", ".join(texts))
    tables = [Table(header, rows, ["left"] + ["right"] * (len(header) - 1))]
    if layers:
        tables.append(compare_layers_table(comparison, exact_numbers))
    return Document(None, tables, notes)


def compare_layers_table(comparison: Comparison, exact_numbers: bool) -> Table:
    """Per layer, side by side: output shape and MACs of each variant. Layers line up by name;
    a layer whose name another variant lacks lines up by position within its block (the same
    dotted parent, the same rank among its siblings), so ``conv2d_1`` meets ``conv3d_1``."""
    names = list(comparison.plans)  # a variant that failed has no layers to line up
    macs = FIGURE["macs"]

    def position(plan: Plan) -> dict[tuple[str, int], Any]:
        seen: dict[str, int] = {}
        out = {}
        for ly in plan.layers:
            parent = ly.name.rpartition(".")[0]
            out[(parent, seen.get(parent, 0))] = ly
            seen[parent] = seen.get(parent, 0) + 1
        return out

    by_name = {n: {ly.name: ly for ly in comparison.plans[n].layers} for n in names}
    by_place = {n: position(comparison.plans[n]) for n in names}
    place_of = {n: {id(ly): key for key, ly in by_place[n].items()} for n in names}
    used: dict[str, set[int]] = {n: set() for n in names}
    rows = []
    for source in names:  # every variant's layers not yet shown, in its order
        for ly in comparison.plans[source].layers:
            if id(ly) in used[source]:
                continue
            row, labels = [], [ly.name]
            for n in names:
                match = by_name[n].get(ly.name)
                if match is None or id(match) in used[n]:
                    match = by_place[n].get(place_of[source][id(ly)])
                    if match is not None and (id(match) in used[n] or match.name in by_name[source]):
                        match = None  # that one has its own name-twin elsewhere
                if match is None:
                    row += ["", ""]
                    continue
                used[n].add(id(match))
                if match.name not in labels:
                    labels.append(match.name)
                row += [f"{match.op} {fmt_shape(match.output_shape)}", cell(macs, match.macs, exact_numbers)]
            rows.append([" / ".join(labels)] + row)
    total = ["total"]
    for n in names:
        total += ["", cell(macs, comparison.plans[n].totals.macs, exact_numbers)]
    rows.append(total)
    header = ["layer"] + [h for n in names for h in (f"{n}: op, output", f"{n}: MACs")]
    return Table(header, rows, ["left"] + ["left", "right"] * len(names))


CHECK_NOTE = ("The executor runs every layer on random arrays with numpy, counts the windows that fit, the "
              "multiply-adds it performs and the weights it allocates; it shares no code with the planner. " + MACS)


def check_table(report: Any) -> Table:
    """Per layer: predicted and executed output shape, params and MACs, and the verdict."""
    rows = []
    for ly in report.layers:
        p, e = ly.predicted, ly.executed
        rows.append([
            ly.name, ly.op, fmt_shape(p.output_shape) if p.output_shape else "",
            "" if e.output_shape is None else ("=" if e.output_shape == p.output_shape else fmt_shape(e.output_shape)),
            count(p.params), "" if e.params is None else ("=" if e.params == p.params else count(e.params)),
            count(p.macs), "" if e.macs is None else ("=" if e.macs == p.macs else count(e.macs)),
            "ok" if ly.ok else "DIFFERS",
        ])
    header = ["layer", "op", "output", "executed", "params", "executed", "MACs", "executed", "verdict"]
    align = ["left", "left", "left", "left", "right", "right", "right", "right", "left"]
    return Table(header, rows, align)


SWEEP_NOTE = MACS + " valid: every size >= 1 and merges agree; exact: no stride drops a remainder."


def sweep_header(result: Any) -> list[str]:
    """The swept symbol(s) (``H,W`` when swept together), the ratio figures, valid, exact."""
    return [",".join(result.names), *(f.key for f in FIGURES if f.ratio), "valid", "exact"]


def sweep_table(result: Any) -> Table:
    """One row per swept size: the ratio figures, valid and exact (the HTML page's table; text,
    markdown and CSV are streamed by :mod:`convcalc.report.sweeps`)."""
    header = sweep_header(result)
    keys = header[1:-2]
    columns = [result.values.tolist(), *(result.totals[k].tolist() for k in keys), result.valid.tolist(),
               result.exact.tolist()]
    rows = [[f"{int(v):,}" if not isinstance(v, bool) else ("yes" if v else "no") for v in row] for row in zip(*columns)]
    return Table(header, rows, ["right"] * len(header))
