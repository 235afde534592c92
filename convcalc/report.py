"""Render plans: rows first (pure data), text last (the only place that calls ``tabulate``).

Every rendering states its counting conventions — MACs vs FLOPs, what is excluded, whose
parameter count, what activation memory means — because they are the most asked question in
this field (design.md §4).
"""

from __future__ import annotations

import csv
import html
import io
from typing import TYPE_CHECKING, Any

from .dims import fmt_count, fmt_dim, fmt_shape, is_concrete

if TYPE_CHECKING:  # pragma: no cover
    from .check import CheckReport
    from .plan import Plan

FORMATS = ("text", "github", "markdown", "latex", "html", "csv", "json")

PARAM_CONVENTION = {
    "pytorch": "params follow PyTorch: parameters only, buffers (BatchNorm running mean/var) excluded",
    "keras": "params follow Keras count_params(): BatchNorm moving mean/variance included, as non-trainable",
    "tf.keras": "params follow tf.keras count_params(): BatchNorm moving mean/variance included, as non-trainable",
    "onnx": "params are ONNX initializer elements (weights, biases; BatchNormalization mean/var as non-trainable)",
}


def conventions(plan: Plan) -> list[str]:
    """The counting conventions, one statement per line."""
    return [
        "MACs = multiply-accumulates of convolutions and dense layers (transposed convolutions counted by input "
        "positions); bias adds, normalisation, activations, pooling and resizing are excluded. FLOPs = 2 x MACs.",
        PARAM_CONVENTION[plan.framework] + ".",
        f"activations = output elements x {plan.dtype_bytes} bytes ({plan.dtype}) per layer, batch included, "
        "model inputs excluded.",
    ]


def human_bytes(n: Any) -> str:
    """``3.06 MiB``; expressions are left as they are."""
    if not is_concrete(n):
        return fmt_dim(n) + " B"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError  # pragma: no cover


def human_count(n: Any) -> str:
    """``4.09 G``; expressions are left as they are."""
    if not is_concrete(n):
        return fmt_dim(n)
    for div, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f} {unit}"
    return str(n)


def plan_rows(plan: Plan, *, exact: bool) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-layer table (``exact``: bytes as integers, for CSV)."""
    nontrainable = any(not (is_concrete(ly.non_trainable_params) and ly.non_trainable_params == 0) for ly in plan.layers)
    header = ["layer", "op", "input", "output", "params"]
    if nontrainable:
        header.append("non-trainable")
    header += ["MACs", "FLOPs", "activation bytes" if exact else "activations"]
    rows: list[list[str]] = []
    for name, shape in plan.inputs.items():
        row = [name, "input", "", fmt_shape(shape), ""] + ([""] if nontrainable else []) + ["", "", ""]
        rows.append(row)
    for ly in plan.layers:
        row = [ly.name, ly.op, " + ".join(fmt_shape(s) for s in ly.input_shapes), fmt_shape(ly.output_shape),
               _count(ly.params, exact)]
        if nontrainable:
            row.append(_count(ly.non_trainable_params, exact))
        row += [_count(ly.macs, exact), _count(ly.flops, exact),
                _count(ly.activation_bytes, True) if exact else human_bytes(ly.activation_bytes)]
        rows.append(row)
    t = plan.totals
    total = ["total", "", "", "", _count(t.params, exact)]
    if nontrainable:
        total.append(_count(t.non_trainable_params, exact))
    total += [_count(t.macs, exact), _count(t.flops, exact),
              _count(t.activation_bytes, True) if exact else human_bytes(t.activation_bytes)]
    rows.append(total)
    return header, rows


def _count(n: Any, exact: bool) -> str:
    if exact:
        return str(n) if is_concrete(n) else fmt_dim(n)
    return fmt_count(n)


def summary_lines(plan: Plan) -> list[str]:
    t = plan.totals
    return [
        f"totals: {fmt_count(t.params)} params ({fmt_count(t.trainable_params)} trainable, "
        f"{fmt_count(t.non_trainable_params)} non-trainable); {fmt_count(t.macs)} MACs ({human_count(t.macs)}); "
        f"{fmt_count(t.flops)} FLOPs; activations {human_bytes(t.activation_bytes)}",
    ]


CONSTRAINT_TITLES = {"valid": "valid when", "merge": "merges need", "exact": "exact (nothing dropped) when"}


def constraint_lines(plan: Plan) -> list[str]:
    """One line per kind of constraint on the symbols, and the concrete remainders dropped."""
    lines = [f"{CONSTRAINT_TITLES[k]}: " + ", ".join(texts) for k, texts in plan.constraint_summary.items() if texts]
    if plan.notes:
        shown = "; ".join(plan.notes[:4]) + (f"; and {len(plan.notes) - 4} more layers" if len(plan.notes) > 4 else "")
        lines.append(f"not exact (a stride skips the last rows of its padded input): {shown}")
    return lines


def title(plan: Plan) -> str:
    sym = ", ".join(f"{k}={v}" for k, v in sorted(plan.symbols.items()))
    return (f"{plan.name or plan.file or 'model'} ({plan.framework}, {plan.dtype}"
            + (f"; {sym}" if sym else "") + ")")


def render_plan(plan: Plan, fmt: str = "text") -> str:
    """The plan as ``fmt``: a table followed by totals, constraints and conventions."""
    if fmt == "json":
        return plan.to_json()
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    exact = fmt == "csv"
    header, rows = plan_rows(plan, exact=exact)
    notes = summary_lines(plan) + constraint_lines(plan) + ["conventions: " + " ".join(conventions(plan))]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        for line in constraint_lines(plan) + ["conventions: " + c for c in conventions(plan)]:
            buf.write(f"# {line}\n")
        return buf.getvalue()
    from tabulate import tabulate

    numeric = {"params", "non-trainable", "MACs", "FLOPs", "activations", "activation bytes"}
    align = ["right" if h in numeric else "left" for h in header]
    if fmt == "html":
        table = tabulate(rows, header, tablefmt="html", colalign=align, disable_numparse=True)
        paras = "".join(f"<p>{html.escape(n)}</p>\n" for n in notes)
        return f"<h3>{html.escape(title(plan))}</h3>\n{table}\n{paras}"
    if fmt == "latex":
        table = tabulate(rows, header, tablefmt="latex_booktabs", colalign=align, disable_numparse=True)
        return table + "\n" + "".join(f"% {n}\n" for n in notes)
    if fmt in ("github", "markdown"):
        table = tabulate(rows, header, tablefmt="github" if fmt == "github" else "pipe", colalign=align, disable_numparse=True)
        return f"**{title(plan)}**\n\n{table}\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    table = tabulate(rows, header, tablefmt="simple", colalign=align, disable_numparse=True)
    return f"{title(plan)}\n\n{table}\n\n" + "\n".join(notes) + "\n"


def render_check(report: CheckReport) -> str:
    """The per-layer table with a verdict, and a summary line."""
    from tabulate import tabulate

    rows = []
    for ly in report.layers:
        p, e = ly.predicted, ly.executed
        rows.append([
            ly.name, ly.op, fmt_shape(p.output_shape) if p.output_shape else "",
            "" if e.output_shape is None else ("=" if e.output_shape == p.output_shape else fmt_shape(e.output_shape)),
            fmt_count(p.params), "" if e.params is None else ("=" if e.params == p.params else fmt_count(e.params)),
            fmt_count(p.macs), "" if e.macs is None else ("=" if e.macs == p.macs else fmt_count(e.macs)),
            "ok" if ly.ok else "DIFFERS",
        ])
    header = ["layer", "op", "output", "executed", "params", "executed", "MACs", "executed", "verdict"]
    align = ["left", "left", "left", "left", "right", "right", "right", "right", "left"]
    table = tabulate(rows, header, tablefmt="simple", colalign=align, disable_numparse=True)
    agree = sum(ly.ok for ly in report.layers)
    summary = (f"{agree} of {len(report.layers)} layers agree with the reference executor "
               f"(seed {report.seed}, {report.seconds:.2f} s); '=' means executed equals predicted.")
    note = ("The executor runs every layer on random arrays with numpy, counts the windows that fit, the "
            "multiply-adds it performs and the weights it allocates; it shares no code with the planner. MACs are "
            "multiply-accumulates of convolutions and dense layers (transposed convolutions by input positions; bias, "
            "normalisation, activations, pooling excluded); FLOPs would be 2 x MACs.")
    return f"{table}\n\n{summary}\n{note}\n"


def render_solution(sol: Any) -> str:
    """`convcalc solve MODEL`: valid sizes per symbol, the constraints, the first valid sizes."""
    from tabulate import tabulate

    plan = sol.plan
    lines = [f"{plan.name or plan.file or 'model'}: valid input sizes (every size >= 1, merges agree, no stride or "
             "pooling drops a remainder)", ""]
    rows = []
    for name, a in sol.symbols.items():
        sizes = a.values(4)
        pattern = f"{name} = {a.first} + {a.modulus}k" if a.first is not None and len(a.residues) == 1 else ""
        rows.append([name, a.first if a.first is not None else "none", a.modulus,
                     ", ".join(str(r) for r in a.residues), ", ".join(str(v) for v in sizes) + ", ...", pattern])
    lines.append(tabulate(rows, ["symbol", "smallest", "period", "residues", "sizes", ""], tablefmt="simple",
                          disable_numparse=True))
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
        lines += ["", tabulate(table, names + outs, tablefmt="simple", disable_numparse=True)]
    return "\n".join(lines) + "\n"


def render_options(opts: Any, framework: str) -> str:
    """`convcalc solve MODEL --layer NAME --output H=100`: the argument combinations that work."""
    from tabulate import tabulate

    ly = opts.layer
    head = (f"layer '{ly.name}' ({ly.op}), input {fmt_shape(ly.input_shapes[0])}: {len(opts.options)} argument "
            f"combinations give {opts.target} on spatial axis {opts.axis} under {framework} rules, simplest first")
    if not opts.options:
        return head + "\n(none in kernel 1-7, stride 1-4, padding 0-3, dilation 1-3, output_padding 0-3)\n"

    def cell(v: Any) -> str:
        if isinstance(v, (list, tuple)):
            v = v[opts.axis] if len(v) > opts.axis and framework != "onnx" else v
        return "-" if v is None else str(v)

    rows = [[cell(o.args.get(k)) for k in opts.searched] + [fmt_shape(o.output)] for o in opts.options]
    table = tabulate(rows, opts.searched + ["output"], tablefmt="simple", disable_numparse=True)
    note = ("values are for that axis; the other axes keep the layer's own arguments. Ranges searched: kernel 1-7, "
            "stride 1-4, padding 0-3, dilation 1-3, output_padding 0-3.")
    return f"{head}\n\n{table}\n\n{note}\n"


def render_compare(comparison: Any, fmt: str = "text", layers: bool = False) -> str:
    """Variants side by side: one column each, ratios to the baseline beside the figures."""
    import json

    from .compare import final_shape, ratio_text

    if fmt == "json":
        return json.dumps(comparison.to_dict(), indent=2)
    names = list(comparison.plans)
    base = comparison.baseline
    exact = fmt == "csv"
    labels = [("output", None), ("params", "params"), ("trainable", "trainable_params"),
              ("non-trainable", "non_trainable_params"), ("MACs", "macs"), ("FLOPs", "flops"),
              ("activations" if not exact else "activation bytes", "activation_bytes")]
    rows = []
    for label, key in labels:
        if key in ("trainable_params", "non_trainable_params") and all(
            is_concrete(p.totals.non_trainable_params) and p.totals.non_trainable_params == 0
            for p in comparison.plans.values()
        ):
            continue  # every parameter is trainable: one row says it
        row = [label]
        for n in names:
            plan = comparison.plans[n]
            if key is None:
                row.append(final_shape(plan))
                continue
            value = getattr(plan.totals, key)
            if exact:
                row.append(str(value) if is_concrete(value) else fmt_dim(value))
                continue
            cell = human_bytes(value) if key == "activation_bytes" else fmt_count(value)
            if n != base and key in ("params", "macs", "flops", "activation_bytes"):
                cell += f"  [{ratio_text(comparison.ratio(n, key))}]"
            row.append(cell)
        if exact and key in ("params", "macs", "flops", "activation_bytes"):
            from .compare import ratio_json

            row += [str(ratio_json(comparison.ratio(n, key))) for n in names if n != base]
        elif exact:
            row += ["" for n in names if n != base]
        rows.append(row)
    header = ["figure"] + [f"{n} (baseline)" if n == base else n for n in names]
    if exact:
        header += [f"{n} / {base}" for n in names if n != base]
    frameworks = sorted({p.framework for p in comparison.plans.values()})
    conv = conventions(comparison.plans[base])
    params_conv = " ".join(PARAM_CONVENTION[f] + "." for f in frameworks)
    notes = [f"[ratio] = this variant / {base}.", conv[0], params_conv, conv[2]]
    constraints = []
    for n in names:
        for kind, texts in comparison.plans[n].constraint_summary.items():
            if texts:
                constraints.append(f"{n}: {CONSTRAINT_TITLES[kind]} " + ", ".join(texts))
    notes += constraints
    layer_table = _compare_layers(comparison, fmt) if layers else ""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        for n in notes:
            buf.write(f"# {n}\n")
        return buf.getvalue() + (("\n" + layer_table) if layer_table else "")
    from tabulate import tabulate

    style = {"text": "simple", "github": "github", "markdown": "pipe", "latex": "latex_booktabs", "html": "html"}[fmt]
    table = tabulate(rows, header, tablefmt=style, disable_numparse=True,
                     colalign=["left"] + ["right"] * (len(header) - 1))
    if fmt == "html":
        return table + "\n" + "".join(f"<p>{html.escape(n)}</p>\n" for n in notes) + layer_table
    if fmt == "latex":
        return table + "\n" + "".join(f"% {n}\n" for n in notes) + layer_table
    if fmt in ("github", "markdown"):
        return table + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n" + (("\n" + layer_table) if layer_table else "")
    return table + "\n\n" + "\n".join(notes) + "\n" + (("\n" + layer_table) if layer_table else "")


def _compare_layers(comparison: Any, fmt: str) -> str:
    """Per layer, side by side: output shape and MACs of each variant (matched by layer name)."""
    names = list(comparison.plans)
    order: list[str] = []
    for plan in comparison.plans.values():
        for ly in plan.layers:
            if ly.name not in order:
                order.append(ly.name)
    exact = fmt == "csv"
    rows = []
    for lname in order:
        row = [lname]
        for n in names:
            plan = comparison.plans[n]
            ly = next((x for x in plan.layers if x.name == lname), None)
            if ly is None:
                row += ["", ""]
            else:
                row += [f"{ly.op} {fmt_shape(ly.output_shape)}",
                        (str(ly.macs) if is_concrete(ly.macs) else fmt_dim(ly.macs)) if exact else fmt_count(ly.macs)]
        rows.append(row)
    total = ["total"]
    for n in names:
        m = comparison.plans[n].totals.macs
        total += ["", (str(m) if is_concrete(m) else fmt_dim(m)) if exact else fmt_count(m)]
    rows.append(total)
    header = ["layer"] + [h for n in names for h in (f"{n}: op, output", f"{n}: MACs")]
    if exact:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([header] + rows)
        return buf.getvalue()
    from tabulate import tabulate

    style = {"text": "simple", "github": "github", "markdown": "pipe", "latex": "latex_booktabs", "html": "html"}[fmt]
    align = ["left"] + ["left", "right"] * len(names)
    return tabulate(rows, header, tablefmt=style, disable_numparse=True, colalign=align) + "\n"
