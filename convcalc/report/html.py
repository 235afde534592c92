"""The HTML report: one self-contained page (inline CSS, inline SVG, one inline script; nothing
fetched from anywhere) with the layer table, the shape-flow diagram of the graph, the totals,
the constraints and the conventions, and for ``--sweep`` the plot of cost against size.

``convcalc plan MODEL --format html -o report.html`` writes it. Every user string is escaped
(:mod:`convcalc.report.escape`); expressions are printed whole (the page scrolls), with the
long ones shortened in the diagram and written out in its tooltips.

The diagram is a layered drawing of the DAG, top to bottom: a node's rank is the length of the
longest path to it from a model input, so a chain is a column and a branch (a downsample path,
a U-Net skip) sits beside it. Edge widths grow with the logarithm of the tensor's elements; the
layer with the largest output is outlined.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

from ..dims import fmt_shape, is_concrete
from ..figures import FIGURES
from .escape import terminal
from .tables import View, cell, plan_document, plan_rows, shorten

if TYPE_CHECKING:  # pragma: no cover
    from ..plan import Plan

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 200, 40, 28, 22, 16

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #1d1d1f; }
h1 { font-size: 1.35em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
.wrap { max-height: 75vh; overflow: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 2px 10px; white-space: nowrap; text-align: left; }
td.n, th.n { text-align: right; }
thead th { position: sticky; top: 0; background: #f4f4f6; border-bottom: 1px solid #ccc; }
tr.block td { background: #eef3fb; font-weight: 600; cursor: pointer; }
tr.block td:first-child::before { content: "▾ "; }
tr.block.closed td:first-child::before { content: "▸ "; }
tr.hidden { display: none; }
tr.total td { border-top: 1px solid #999; font-weight: 600; }
ul.notes li { margin: .2em 0; }
svg text { font: 11px system-ui, sans-serif; }
svg .node rect { fill: #fff; stroke: #7a869a; }
svg .node.input rect { fill: #f0f0f0; }
svg .node.largest rect { stroke: #d9480f; stroke-width: 2.5; fill: #fff4e6; }
svg .edge { fill: none; stroke: #9aa5b8; }
code { font-size: .95em; }
"""

# Expand and collapse the blocks of the table; marks the page as ready for the browser test.
SCRIPT = """
document.querySelectorAll("tr.block").forEach(function (row) {
  row.addEventListener("click", function () {
    var name = row.dataset.block, closed = !row.classList.contains("closed");
    row.classList.toggle("closed", closed);
    document.querySelectorAll("tr[data-blocks]").forEach(function (r) {
      var inside = r.dataset.blocks.split(" ").indexOf(name) >= 0;
      if (inside) { r.classList.toggle("hidden", closed); }
    });
  });
});
document.body.dataset.ready = "1";
"""


def esc(text: Any) -> str:
    return html.escape(terminal(str(text)))


def _page_view(view: View) -> View:
    """The page scrolls, but a figure longer than 32 characters is still named in its cell and
    written out under the table, as in text (the same legend, so the two read alike)."""
    return View(width=10_000, exact=view.exact, columns=view.columns, depth=view.depth)


def _num(text: str) -> str:
    return f'<td class="n">{esc(text)}</td>'


def table_html(plan: Plan, view: View, doc: Any = None) -> str:
    """The layer table with a row per block (click to fold) above its layers, sticky header
    (``doc``: the plan's document, when the caller has it already)."""
    doc = doc or plan_document(plan, "html", _page_view(view))
    table = doc.tables[0]
    align = table.align
    head = "".join(f'<th class="{"n" if a == "right" else ""}">{esc(h)}</th>' for h, a in zip(table.header, align))
    rows_by_name = {r[0]: r for r in table.rows}
    out = []
    for name in plan.inputs:
        out.append(_row(rows_by_name[name], align, ""))
    opened: list[str] = []
    block_rows = {r.name: r for depth in (1, 2) for r in plan_rows(plan, depth) if len(r.layers) > 1} \
        if view.depth is None else {}
    for row in plan_rows(plan, view.depth):
        parts = row.name.split(".")
        prefixes = [".".join(parts[:i]) for i in range(1, min(len(parts), 3))]
        for prefix in prefixes:
            if prefix in block_rows and prefix not in opened:
                opened.append(prefix)
                cells = block_cells(block_rows[prefix], table.header, view)
                out.append(f'<tr class="block" data-block="{esc(prefix)}" '
                           f'data-blocks="{esc(" ".join(p for p in prefixes if p != prefix and len(p) < len(prefix)))}">'
                           + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
        line = rows_by_name.get(row.name)
        if line is not None:
            out.append(_row(line, align, " ".join(p for p in prefixes if p in block_rows)))
    out.append(_row(table.rows[-1], align, "", cls="total"))
    return (f'<div class="wrap"><table><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(out)
            + "\n</tbody></table></div>")


def block_cells(block: Any, header: list[str], view: View) -> list[str]:
    """A block's row: its name, its size in layers, its last output and the sums of its figures."""
    by_title = {f.title(view.exact): f for f in FIGURES}
    cells = []
    for h in header:
        if h == "layer":
            cells.append(block.name)
        elif h == "op":
            cells.append(f"{len(block.layers)} layers")
        elif h == "output":
            cells.append(" + ".join(fmt_shape(s) for s in block.last.outputs))
        elif h in by_title:
            f = by_title[h]
            cells.append(cell(f, block.figure(f.key), False, unknown=block.unknown(f.key),
                              style="exact" if view.exact else "human"))
        else:
            cells.append("")
    return cells


def _row(cells: list[str], align: list[str], blocks: str, cls: str = "") -> str:
    attrs = (f' class="{cls}"' if cls else "") + (f' data-blocks="{esc(blocks)}"' if blocks else "")
    return f"<tr{attrs}>" + "".join(_num(c) if a == "right" else f"<td>{esc(c)}</td>"
                                    for c, a in zip(cells, align)) + "</tr>"


def _elements(shape: tuple) -> float:
    n = 1.0
    for d in shape:
        n *= float(d) if is_concrete(d) else 64.0  # a symbolic size: drawn as a middling width
    return n


MAX_DIAGRAM_NODES = 2_000  # beyond this a drawing is unreadable and the page slow to open


def diagram(plan: Plan) -> str:
    """The shape-flow diagram: one node per model input and per layer, one edge per tensor read
    (for graphs of at most :data:`MAX_DIAGRAM_NODES` nodes; a larger one gets a sentence)."""
    if len(plan.layers) + len(plan.inputs) > MAX_DIAGRAM_NODES:
        return (f"<p>The graph has {len(plan.layers):,} layers, more than the {MAX_DIAGRAM_NODES:,} this page draws; "
                "the table above has every one.</p>")
    nodes: list[tuple[str, str, str, bool]] = [(n, "input", fmt_shape(s), True) for n, s in plan.inputs.items()]
    nodes += [(ly.name, ly.op, " + ".join(fmt_shape(s) for s in ly.outputs), False) for ly in plan.layers]
    rank: dict[str, int] = {n: 0 for n in plan.inputs}
    for ly in plan.layers:
        rank[ly.name] = 1 + max((rank.get(s.producer, 0) for s in ly.sources), default=0)
    columns: dict[int, int] = {}
    pos: dict[str, tuple[float, float]] = {}
    for name, *_ in nodes:
        r = rank[name]
        col = columns.get(r, 0)
        columns[r] = col + 1
        pos[name] = (MARGIN + col * (NODE_W + GAP_X), MARGIN + r * (NODE_H + GAP_Y))
    width = MARGIN * 2 + max(columns.values()) * (NODE_W + GAP_X) - GAP_X + 60  # room for the skips
    height = MARGIN * 2 + (max(rank.values()) + 1) * (NODE_H + GAP_Y) - GAP_Y
    shapes = {n: s for n, s in plan.inputs.items()}
    shapes.update({ly.name: ly.outputs for ly in plan.layers})
    sizes = [_elements(ly.output_shape) for ly in plan.layers] or [1.0]
    biggest = max(sizes)
    largest = plan.layers[sizes.index(biggest)].name if plan.layers else None
    edges = []
    for ly in plan.layers:
        x2, y2 = pos[ly.name]
        for src in ly.sources:
            out = shapes[src.producer]
            shape = out if src.producer in plan.inputs else out[min(src.index, len(out) - 1)]
            w = 1 + 5 * math.log1p(_elements(shape)) / math.log1p(max(biggest, 2.0))
            x1, y1 = pos[src.producer]
            if rank[ly.name] - rank[src.producer] > 1 and abs(x1 - x2) < NODE_W:
                # A long skip (a U-Net's, a residual's) goes round the right of the column it jumps.
                bulge = max(x1, x2) + NODE_W + 18 + 6 * (len(edges) % 5)
                a, b = (x1 + NODE_W, y1 + NODE_H / 2), (x2 + NODE_W, y2 + NODE_H / 2)
                d = f"M{a[0]:.0f},{a[1]:.0f} C{bulge:.0f},{a[1]:.0f} {bulge:.0f},{b[1]:.0f} {b[0]:.0f},{b[1]:.0f}"
            else:
                a, b = (x1 + NODE_W / 2, y1 + NODE_H), (x2 + NODE_W / 2, y2)
                mid = (a[1] + b[1]) / 2
                d = f"M{a[0]:.0f},{a[1]:.0f} C{a[0]:.0f},{mid:.0f} {b[0]:.0f},{mid:.0f} {b[0]:.0f},{b[1]:.0f}"
            edges.append(f'<path class="edge" stroke-width="{w:.1f}" d="{d}"><title>{esc(src)} → {esc(ly.name)}: '
                         f'{esc(fmt_shape(shape))}</title></path>')
    boxes = []
    for name, op, shape_text, is_input in nodes:
        x, y = pos[name]
        cls = "node input" if is_input else ("node largest" if name == largest else "node")
        label = shorten(f"{name} · {op}", 32)
        boxes.append(
            f'<g class="{cls}" data-layer="{esc(name)}"><title>{esc(name)} ({esc(op)}) → {esc(shape_text)}'
            f'{" — the largest output" if name == largest else ""}</title>'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="5"/>'
            f'<text x="{x + 8:.0f}" y="{y + 16:.0f}">{esc(label)}</text>'
            f'<text x="{x + 8:.0f}" y="{y + 31:.0f}" fill="#555">{esc(shorten(shape_text, 32))}</text></g>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="shape flow of {esc(plan.name or "model")}">'
            + "".join(edges) + "".join(boxes) + "</svg>")


def sweep_svg(result: Any) -> str:
    """MACs and activation memory against the swept size: two polylines, each scaled to its own
    maximum (the axis labels give the ranges)."""
    xs = [float(v) for v in result.values.tolist()]
    series = [("MACs", "#1c7ed6", [float(v) for v in result.totals["macs"].tolist()]),
              ("activations (bytes)", "#e8590c", [float(v) for v in result.totals["activation_bytes"].tolist()])]
    w, h, pad = 640, 300, 48
    lo, hi = min(xs), max(xs)
    span = (hi - lo) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
             f'<rect x="{pad}" y="{pad / 2}" width="{w - 1.5 * pad}" height="{h - 1.5 * pad}" fill="none" stroke="#ccc"/>']
    for i, (label, colour, ys) in enumerate(series):
        top = max(ys) or 1.0
        pts = " ".join(f"{pad + (x - lo) / span * (w - 1.5 * pad):.1f},{h - pad - y / top * (h - 1.5 * pad):.1f}"
                       for x, y in zip(xs, ys))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
        parts.append(f'<text x="{pad + 8}" y="{pad / 2 + 16 + 14 * i}" fill="{colour}">{esc(label)} '
                     f'(max {top:,.0f})</text>')
    parts.append(f'<text x="{pad}" y="{h - pad / 3}">{esc(",".join(result.names))} = {lo:,.0f}</text>')
    parts.append(f'<text x="{w - pad}" y="{h - pad / 3}" text-anchor="end">{hi:,.0f}</text></svg>')
    return "".join(parts)


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
            f"<script>{SCRIPT}</script>\n</body></html>\n")


def plan_section(plan: Plan, view: View, heading: str = "h1") -> str:
    doc = plan_document(plan, "html", _page_view(view))
    notes = "".join(f"<li>{esc(n)}</li>" for n in doc.notes)
    return (f"<{heading}>{esc(doc.title)}</{heading}>\n{table_html(plan, view, doc)}\n"
            f'<ul class="notes">{notes}</ul>\n<h2>Shape flow</h2>\n'
            f"<p>One box per layer, top to bottom in the order the graph runs; edge width grows with the "
            f"tensor's size; the outlined box has the largest output.</p>\n"
            f'<div class="wrap">{diagram(plan)}</div>')


def html_report(plans: dict[str, Plan] | Plan, view: View | None = None) -> str:
    """The whole page for one plan, or for a file's variants (a section each)."""
    view = view or View(width=None)
    if not isinstance(plans, dict):
        return page(plans.name or plans.file or "convcalc plan", plan_section(plans, view))
    body = "\n".join(f"<section><h1>variant '{esc(k)}'</h1>{plan_section(p, view, 'h2')}</section>"
                     for k, p in plans.items())
    return page("convcalc plans", body)


def sweep_report(result: Any, table_html_text: str, note: str) -> str:
    """A sweep's page: the plot, then the table of totals per size."""
    return page("convcalc sweep", f"<h1>Totals over {esc(','.join(result.names))}</h1>\n{sweep_svg(result)}\n"
                f'<div class="wrap">{table_html_text}</div>\n<p>{esc(note)}</p>')


__all__ = ["diagram", "html_report", "sweep_report"]
