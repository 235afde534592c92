"""Table values: what each report shows, as plain data (no formatting library, no format).

A :class:`Document` is a title, one or more :class:`Table` values and the notes under them;
:mod:`convcalc.report.render` turns it into text, markdown, LaTeX, HTML or CSV. Every builder
here reads the figures from :data:`convcalc.figures.FIGURES`, so a new figure appears in every
table by being declared there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..dims import fmt_dim, fmt_shape, is_concrete
from ..figures import FIGURE, FIGURES, Figure
from .conventions import CONSTRAINT_TITLES, MACS, PARAM_CONVENTION, constraint_lines, conventions
from .units import count, exact, human_bytes, ratio_text

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


def cell(figure: Figure, value: Any, exact_numbers: bool, unknown: bool = False, bound: bool = False) -> str:
    """One figure's cell: bytes in binary units (exact bytes in CSV), counts with separators;
    ``?`` when unknown, ``≥`` before a total that is a lower bound."""
    if unknown:
        return "?"
    if bound:
        return ">=" + exact(value) if exact_numbers else "≥ " + count(value)
    if exact_numbers:
        return exact(value)
    return human_bytes(value) if figure.unit == "bytes" else count(value)


def _has_frozen(plans: list[Plan]) -> bool:
    return any(not (is_concrete(ly.non_trainable_params) and ly.non_trainable_params == 0)
               for p in plans for ly in p.layers)


def title(plan: Plan) -> str:
    sym = ", ".join(f"{k}={v}" for k, v in sorted(plan.symbols.items()))
    return (f"{plan.name or plan.file or 'model'} ({plan.framework}, {plan.dtype}"
            + (f"; {sym}" if sym else "") + ")")


def plan_table(plan: Plan, *, exact_numbers: bool) -> Table:
    """The per-layer table: one row per model input and layer, and the total row."""
    split = _has_frozen([plan])
    figures = [f for f in FIGURES if f.in_layer_table and (split or not f.parameter_split)]
    header = ["layer", "op", "input", "output"] + [f.title(exact_numbers) for f in figures]
    rows: list[list[str]] = []
    for name, shape in plan.inputs.items():
        rows.append([name, "input", "", fmt_shape(shape)] + [""] * len(figures))
    for ly in plan.layers:
        rows.append([ly.name, ly.op, " + ".join(fmt_shape(s) for s in ly.input_shapes),
                     " + ".join(fmt_shape(s) for s in ly.outputs)]
                    + [cell(f, getattr(ly, f.key), exact_numbers, unknown=f.key in ly.unknown) for f in figures])
    rows.append(["total", "", "", ""] + [cell(f, getattr(plan.totals, f.key), exact_numbers, bound=f.key in plan.unknown)
                                         for f in figures])
    align = ["left"] * 4 + ["right"] * len(figures)
    return Table(header, rows, align)


def summary_lines(plan: Plan) -> list[str]:
    t = plan.totals
    from .units import human_count

    p = "≥ " if "params" in plan.unknown else ""
    m = "≥ " if "macs" in plan.unknown else ""
    lines = [
        f"totals: {p}{count(t.params)} params ({p}{count(t.trainable_params)} trainable, "
        f"{p}{count(t.non_trainable_params)} non-trainable); {m}{count(t.macs)} MACs ({m}{human_count(t.macs)}); "
        f"{m}{count(t.flops)} FLOPs; activations {human_bytes(t.activation_bytes)}",
    ]
    opaque = [ly for ly in plan.layers if ly.unknown]
    if opaque:
        ops = sorted({str(getattr(ly.steps[0], "source_op", "") or ly.op) for ly in opaque})
        lines.append(f"partial: {len(opaque)} layer(s) convcalc cannot model ({', '.join(ops)}) are kept with their "
                     "source's shapes; '?' is unknown and the totals marked ≥ are lower bounds")
    return lines


def plan_document(plan: Plan, fmt: str) -> Document:
    """The plan report: the per-layer table, the totals, the constraints and the conventions."""
    notes = summary_lines(plan) + constraint_lines(plan) + ["conventions: " + " ".join(conventions(plan))]
    csv_notes = constraint_lines(plan) + ["conventions: " + c for c in conventions(plan)]
    return Document(title(plan), [plan_table(plan, exact_numbers=fmt == "csv")], notes, csv_notes)


def final_shape(plan: Plan) -> str:
    """The output shape(s) of a plan, ``" + "``-joined when it has several outputs."""
    return " + ".join("(" + ", ".join(fmt_dim(d) for d in ly.output_shape) + ")" for ly in plan.outputs())


def compare_document(comparison: Comparison, fmt: str, layers: bool) -> Document:
    """Variants side by side: one column each, ratios to the baseline beside the figures."""
    from ..compare import ratio_json

    names = list(comparison.plans)
    base = comparison.baseline
    exact_numbers = fmt == "csv"
    split = any(not (is_concrete(p.totals.non_trainable_params) and p.totals.non_trainable_params == 0)
                for p in comparison.plans.values())
    rows = [["output"] + [final_shape(comparison.plans[n]) for n in names] + ([""] * (len(names) - 1) if exact_numbers
                                                                                else [])]
    for f in FIGURES:
        if f.parameter_split and not split:
            continue  # every parameter is trainable: one row says it
        row = [f.title(exact_numbers)]
        for n in names:
            value = getattr(comparison.plans[n].totals, f.key)
            text = cell(f, value, exact_numbers)
            if not exact_numbers and n != base and f.ratio:
                text += f"  [{ratio_text(comparison.ratio(n, f.key))}]"
            row.append(text)
        if exact_numbers:
            row += [str(ratio_json(comparison.ratio(n, f.key))) if f.ratio else "" for n in names if n != base]
        rows.append(row)
    header = ["figure"] + [f"{n} (baseline)" if n == base else n for n in names]
    if exact_numbers:
        header += [f"{n} / {base}" for n in names if n != base]
    frameworks = sorted({p.framework for p in comparison.plans.values()})
    conv = conventions(comparison.plans[base])
    params_conv = " ".join(PARAM_CONVENTION[f] + "." for f in frameworks)
    notes = [f"[ratio] = this variant / {base}.", conv[0], params_conv, conv[2]]
    for n in names:
        for kind, texts in comparison.plans[n].constraint_summary.items():
            if texts:
                notes.append(f"{n}: {CONSTRAINT_TITLES[kind]} " + ", ".join(texts))
    tables = [Table(header, rows, ["left"] + ["right"] * (len(header) - 1))]
    if layers:
        tables.append(compare_layers_table(comparison, exact_numbers))
    return Document(None, tables, notes)


def compare_layers_table(comparison: Comparison, exact_numbers: bool) -> Table:
    """Per layer, side by side: output shape and MACs of each variant (matched by layer name)."""
    names = list(comparison.plans)
    macs = FIGURE["macs"]
    order: list[str] = []
    for plan in comparison.plans.values():
        for ly in plan.layers:
            if ly.name not in order:
                order.append(ly.name)
    rows = []
    for lname in order:
        row = [lname]
        for n in names:
            ly = next((x for x in comparison.plans[n].layers if x.name == lname), None)
            row += ["", ""] if ly is None else [f"{ly.op} {fmt_shape(ly.output_shape)}", cell(macs, ly.macs,
                                                                                              exact_numbers)]
        rows.append(row)
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


def sweep_table(result: Any) -> Table:
    """One row per swept size: the ratio figures, valid and exact."""
    keys = [f.key for f in FIGURES if f.ratio]
    header = [",".join(result.names), *keys, "valid", "exact"]
    columns = [result.values.tolist(), *(result.totals[k].tolist() for k in keys), result.valid.tolist(),
               result.exact.tolist()]
    rows = [[f"{int(v):,}" if not isinstance(v, bool) else ("yes" if v else "no") for v in row] for row in zip(*columns)]
    return Table(header, rows, ["right"] * len(header))
