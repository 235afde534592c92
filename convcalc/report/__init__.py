"""Reports: what convcalc prints, in every format.

Rendering goes in two steps (style.md R14): :mod:`~convcalc.report.tables` builds the values
of each report as plain data (a :class:`~convcalc.report.tables.Document` of tables and
notes), and :mod:`~convcalc.report.render` writes a document in one format. The counting
conventions every report states are in :mod:`~convcalc.report.conventions`, human units and
ratios in :mod:`~convcalc.report.units`, the sweep's plot in :mod:`~convcalc.report.plot`.

This package is an edge of convcalc (it imports ``tabulate``, ``matplotlib``); the planner
never imports it. Importing it registers :func:`render_plan` as the renderer behind
:meth:`convcalc.plan.Plan.table`.
"""

from __future__ import annotations

import json
from typing import Any

from ..dims import fmt_dim, fmt_shape, free_symbols, json_dim
from ..memory import inference_peak
from ..plan import RENDERERS, Plan
from .conventions import MACS, constraint_lines, conventions
from .escape import note, terminal
from .render import FORMATS, render, table_text, table_width
from .sweeps import sweep_chunks
from .tables import (
    CHECK_NOTE,
    OPTIONAL_COLUMNS,
    SWEEP_NOTE,
    Table,
    View,
    check_table,
    compare_document,
    plan_document,
    plan_rows,
    sweep_table,
)
from .units import human_bytes, human_count, ratio_text


def render_plan(plan: Plan, fmt: str = "text", view: View | None = None, **layout: Any) -> str:
    """The plan as ``fmt``: a table followed by totals, constraints and conventions, laid out by
    ``view`` (width, exact numbers, optional columns, depth).

    >>> import convcalc
    >>> plan = convcalc.load("examples/resnet50.yaml").plan()
    >>> max(len(line) for line in render_plan(plan, "text", View(width=100)).splitlines()) <= 100
    True
    """
    view = view or View(**layout)
    if fmt == "json":
        report = plan.to_dict()
        if not plan.unknown:  # the contract, extended: the inference peak (convcalc.memory)
            report["inference_peak"] = inference_peak(plan).to_dict()
        if "rf" in view.columns:  # and with --rf each layer's receptive field (convcalc.receptive)
            from ..receptive import receptive_fields

            fields = receptive_fields(plan)
            for row in report["layers"]:
                row["receptive_field"] = fields[row["name"]].to_dict()
        if view.depth is not None:  # and the rows --depth shows, with their sums
            report["blocks"] = blocks_json(plan, view.depth)
        return json.dumps(report, indent=2)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    measure = table_width if fmt == "text" else None
    return render(plan_document(plan, fmt, view, measure), fmt, width=view.width if fmt == "text" else None)


RENDERERS["plan"] = render_plan


def blocks_json(plan: Plan, depth: int) -> list[dict[str, Any]]:
    """The rows of ``--depth``: each block (or layer left alone) with its layers' names and the
    sums of their figures."""
    from ..figures import FIGURES

    return [{"name": row.name, "layers": [ly.name for ly in row.layers],
             "output_shape": [json_dim(d) for d in row.last.output_shape],
             **{f.key: None if row.unknown(f.key) else json_dim(row.figure(f.key)) for f in FIGURES}}
            for row in plan_rows(plan, depth)]


def render_plans(plans: dict[str, Plan], fmt: str = "text", view: View | None = None) -> str:
    """The plans of a file's variants, each under its (escaped) name; JSON: ``{"variants": {...}}``."""
    if fmt == "json":
        return json.dumps({"variants": {k: p.to_dict() for k, p in plans.items()}}, indent=2)
    heads = {"latex": "% variant '{}'\n", "csv": "# variant '{}'\n", "html": "<h2>variant '{}'</h2>\n",
             "markdown": "### variant '{}'\n\n", "github": "### variant '{}'\n\n"}
    head = heads.get(fmt, "variant '{}': ")
    return "\n".join(head.format(note(k, fmt)) + render_plan(p, fmt, view) for k, p in plans.items())


def render_compare(comparison: Any, fmt: str = "text", layers: bool = False, width: int | None = None) -> str:
    """Variants side by side: one column each, ratios to the baseline beside the figures; a
    variant that could not be planned is a column that says so, its error under the table.
    Text notes wrap to ``width``."""
    if fmt == "json":
        return json.dumps(comparison.to_dict(), indent=2)
    return render(compare_document(comparison, fmt, layers), fmt, width=width if fmt == "text" else None)


def memory_text(plan: Plan, peak: Any, saved: Any, training: Any, optimizer: str,
                output_bytes: list | None = None, amp: bool = False) -> str:
    """`convcalc memory`: per layer its output bytes, the bytes alive once it has run and (with
    --train) what it newly saves for the backward pass; then the peak and the training totals.
    Symbolic figures (``--batch N``) print as formulas."""
    header = ["layer", "op", "output", "live after"] + (["saved"] if saved is not None else [])
    rows = []
    saved_by = dict(saved.per_layer) if saved is not None else {}
    outs = output_bytes if output_bytes is not None else [ly.activation_bytes for ly in plan.layers]
    for ly, out, (_, live) in zip(plan.layers, outs, peak.after):
        row = [ly.name, ly.op, human_bytes(out), human_bytes(live)]
        if saved is not None:
            row.append(human_bytes(saved_by[ly.name]))
        rows.append(row)
    table = table_text(Table(header, rows, ["left", "left"] + ["right"] * (len(header) - 2)), "text")
    lines = [f"inference peak: {_bytes_and_exact(peak.bytes)} at {peak.layer or 'the inputs'}; "
             "alive then: " + ", ".join(f"{n} {human_bytes(b)}" for n, b in peak.live)]
    if training is not None:
        t = training
        copies = f" + half weight copies {human_bytes(t.weight_copy_bytes)}" if amp else ""
        lines.append(f"training step ({optimizer}{', autocast' if amp else ''}): weights "
                     f"{human_bytes(t.weights_bytes)} + gradients {human_bytes(t.gradient_bytes)} + optimizer state "
                     f"{human_bytes(t.optimizer_bytes)} + saved activations {human_bytes(t.saved_activation_bytes)}"
                     f"{copies} = {_bytes_and_exact(t.total_bytes)}")
    precision = (f"{plan.dtype} tensors" if not amp else "torch.autocast to float16 on a GPU (bfloat16: the same "
                 "bytes): float32 weights, gradients and optimizer state, half activations except float32 "
                 "statistics, and half copies of conv/linear weights kept until the backward pass")
    lines.append(f"PyTorch's rules, {precision} (views and in-place layers allocate nothing; max pooling holds "
                 "int64 indices); left out: buffers (BatchNorm running statistics), optimizer step counters, the "
                 "backward pass's own transient gradients, a GPU allocator's rounding and kernel workspaces.")
    return table + "\n\n" + "\n".join(lines) + "\n"


def _bytes_and_exact(n: Any) -> str:
    """``9.76 MiB (10,235,904 bytes)``; a formula when symbolic, and for ``a*N + c`` in one
    symbol its reading in units (``85909504*N + 409124992 B (81.9 MiB·N + 390 MiB)``)."""
    if isinstance(n, int):
        return f"{human_bytes(n)} ({n:,} bytes)"
    exact = human_bytes(n)
    symbols = free_symbols(n)
    if len(symbols) == 1:
        import sympy

        (symbol,) = n.free_symbols
        name = str(symbol)
        poly = sympy.Poly(sympy.expand(n), symbol)
        coeffs = poly.all_coeffs()
        if poly.degree() == 1 and all(c.is_Integer for c in coeffs) and coeffs[1] != 0:
            exact += f" ({human_bytes(int(coeffs[0]))}·{name} + {human_bytes(int(coeffs[1]))})"
    return exact


def render_fields(plan: Plan, fields: dict, names: list[str]) -> str:
    """`convcalc rf`: per spatial layer its field's size, jump and start per spatial axis, the
    notes (merges whose paths disagree), and the convention."""
    from .tables import rf_cell

    rows = [[n, plan.layer(n).op, fmt_shape(plan.layer(n).output_shape), rf_cell(fields[n], 0), rf_cell(fields[n], 1),
             rf_cell(fields[n], 2)] for n in names if fields[n].axes or fields[n].whole]
    lines = [table_text(Table(["layer", "op", "output", "field", "jump", "start"], rows,
                              ["left", "left", "left", "right", "right", "right"]), "text"), ""]
    notes = [(n, note) for n in names for note in fields[n].notes]
    lines += [f"note: {n}: {note}" for n, note in notes[:20]]
    if len(notes) > 20:
        lines.append(f"note: ... and {len(notes) - 20} more")
    lines.append(RF_NOTE)
    return "\n".join(lines) + "\n"


RF_NOTE = ("Output element i sees input pixels start + i*jump to start + i*jump + field - 1 along each spatial axis "
           "(one value when every axis agrees, else per axis joined by x; start < 0: the field begins in the padding; "
           "a dilated kernel's field has gaps, its span is given). After a transposed convolution or an upsampling "
           "the jump is a fraction and the field depends on the element: the largest is given, and element 0's start "
           "(`convcalc rf --layer NAME --at H=i,W=j` gives one cell's box). 'all': no spatial axis is left (flatten, "
           "global pooling). Max pooling counts as its window; ~ marks an approximate closed form (symbolic sizes past "
           "a fractional stride).")


def render_field_check(checks: list) -> str:
    """`convcalc check --rf`: per probed element the predicted and measured boxes."""
    rows = [[c.layer, ", ".join(str(p) for p in c.position),
             " x ".join(f"{b[0]}..{b[1]}" if b else "-" for b in c.predicted),
             " x ".join(f"{b[0]}..{b[1]}" if b else "-" for b in c.measured), "=" if c.ok else "DIFFERS"]
            for c in checks]
    table = table_text(Table(["layer", "element", "predicted", "measured", ""], rows, None), "text")
    agree = sum(c.ok for c in checks)
    layers = len({c.layer for c in checks})
    return (f"{table}\n\n{agree} of {len(checks)} probed elements ({layers} layers) see the input box the closed "
            "forms predict; measured by the executor's window walks with every weight positive and max pooling as "
            "average (the support of the output's gradient), boxes clipped to the input.\n")


def render_check(report: Any) -> str:
    """The per-layer table with a verdict, and a summary line."""
    agree = sum(ly.ok for ly in report.layers)
    summary = (f"{agree} of {len(report.layers)} layers agree with the reference executor "
               f"(seed {report.seed}, {report.seconds:.2f} s); '=' means executed equals predicted.")
    return f"{table_text(check_table(report), 'text')}\n\n{summary}\n{CHECK_NOTE}\n"


def render_solution(sol: Any) -> str:
    """`convcalc solve MODEL`: valid sizes per symbol, the constraints, the first valid sizes."""
    plan = sol.plan
    lines = [f"{plan.name or plan.file or 'model'}: valid input sizes (every size >= 1, merges agree, every input "
             "row is read)", ""]
    rows = []
    for name, a in sol.symbols.items():
        sizes = a.values(4)
        pattern = f"{name} = {a.first} + {a.modulus}k" if a.first is not None and len(a.residues) == 1 else ""
        rows.append([name, a.first if a.first is not None else "none", a.modulus,
                     ", ".join(str(r) for r in a.residues), ", ".join(str(v) for v in sizes) + ", ...", pattern])
    lines.append(table_text(Table(["symbol", "smallest", "period", "residues", "sizes", ""], rows, None), "text"))
    lines.append("")
    lines += constraint_lines(plan)
    for layer, dims in sol.on_valid.items():
        general = [fmt_dim(d) for d in plan.layer(layer).output_shape]
        shown = "(" + ", ".join(dims) + ")"
        lines.append(f"output '{layer}' on valid sizes: {shown}"
                     + ("" if dims == general else f"  (for any size: ({', '.join(general)}))"))
    if sol.rows:
        names = list(sol.symbols)
        outs = list(sol.rows[0]["outputs"])
        table = [[r[n] for n in names] + ["(" + ", ".join(str(d) for d in r["outputs"][o]) + ")" for o in outs]
                 for r in sol.rows]
        lines += ["", table_text(Table(names + outs, table, None), "text")]
    return "\n".join(lines) + "\n"


def render_options(opts: Any, framework: str) -> str:
    """`convcalc solve MODEL --layer NAME --output H=100`: the argument combinations that work,
    each distinct computation once (its other spellings beside it), with its params and MACs."""
    ly = opts.layer
    head = (f"layer '{ly.name}' ({ly.op}), input {fmt_shape(ly.input_shapes[0])}: {len(opts.options)} distinct "
            f"computations give {opts.target} on spatial axis {opts.axis} under {framework} rules, simplest first")
    ranges = "kernel 1-7, stride 1-4, padding 0-3, dilation 1-3, output_padding 0-3"
    if not opts.options:
        below, above = opts.nearest
        near = " and ".join(str(v) for v in (below, above) if v is not None) or "none"
        return head + f"\n(none in {ranges}; the nearest sizes these reach: {near})\n"

    def cell(v: Any) -> str:
        if isinstance(v, (list, tuple)):
            v = v[opts.axis] if len(v) > opts.axis and framework != "onnx" else v
        return "-" if v is None else str(v)

    rows = [[cell(o.args.get(k)) for k in opts.searched] + [fmt_shape(o.output), human_count(o.params),
            human_count(o.macs), "; ".join(", ".join(f"{k}={cell(a.get(k))}" for k in opts.searched
                                                      if a.get(k) != o.args.get(k)) for a in o.same_as)]
            for o in opts.options]
    table = table_text(Table(opts.searched + ["output", "params", "MACs", "the same computation as"], rows, None),
                       "text")
    note = (f"values are for that axis; the other axes keep the layer's own arguments. Ranges searched: {ranges}. "
            + MACS)
    return f"{head}\n\n{table}\n\n{note}\n"


def render_sweep(result: Any, fmt: str) -> str:
    """A sweep's totals per size: text or markdown table, CSV, JSON or an HTML page (text,
    markdown and CSV are :func:`convcalc.report.sweeps.sweep_chunks` joined)."""
    if fmt == "json":
        return json.dumps(result.to_dict())
    if fmt == "html":
        from .html import sweep_report

        return sweep_report(result, table_text(sweep_table(result), "html"), SWEEP_NOTE)
    return "".join(sweep_chunks(result, fmt))


def html_report(plans: Any, view: View | None = None) -> str:
    """The self-contained HTML page (:func:`convcalc.report.html.html_report`), imported when asked."""
    from .html import html_report as page

    return page(plans, view)


def plot_sweep(result: Any, path: str) -> None:
    """The sweep's plot (:func:`convcalc.report.plot.plot_sweep`: needs matplotlib)."""
    from .plot import plot_sweep as draw

    draw(result, path)


__all__ = [
    "FORMATS",
    "OPTIONAL_COLUMNS",
    "View",
    "conventions",
    "human_bytes",
    "human_count",
    "html_report",
    "memory_text",
    "plot_sweep",
    "ratio_text",
    "render_check",
    "render_compare",
    "render_options",
    "render_plan",
    "render_plans",
    "terminal",
    "render_solution",
    "render_sweep",
]
