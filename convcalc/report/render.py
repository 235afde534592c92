"""One renderer per format: a :class:`~convcalc.report.tables.Document` as text, GitHub or pipe
markdown, LaTeX (booktabs), HTML or CSV. The only module of convcalc that imports ``tabulate``.

Every format has the same parts in the same order: the title (not in LaTeX and CSV), the first
table, the notes (LaTeX comments, HTML paragraphs, markdown bullets, CSV ``#`` lines), then any
further tables.
"""

from __future__ import annotations

import csv
import io

from .escape import cell, note
from .tables import Document, Table

FORMATS = ("text", "github", "markdown", "latex", "html", "csv", "json")
TABLE_STYLES = {"text": "simple", "github": "github", "markdown": "pipe", "latex": "latex_booktabs", "html": "html"}


def table_text(table: Table, fmt: str) -> str:
    """One table in ``fmt`` (any of :data:`TABLE_STYLES`)."""
    from tabulate import tabulate  # the renderers' library, loaded only when a table is drawn

    rows = [[cell(str(v), fmt) for v in row] for row in table.rows]
    header = [cell(str(h), fmt) for h in table.header]
    return tabulate(rows, header, tablefmt=TABLE_STYLES[fmt], colalign=table.align, disable_numparse=True)


def table_csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([cell(str(h), "csv") for h in table.header])
    writer.writerows([[cell(str(v), "csv") for v in row] for row in table.rows])
    return buf.getvalue()


def render(doc: Document, fmt: str) -> str:
    """``doc`` in ``fmt`` (text, github, markdown, latex, html, csv)."""
    first, rest = doc.tables[0], doc.tables[1:]
    title = note(doc.title, fmt) if doc.title else None
    if fmt == "csv":
        notes = doc.notes if doc.csv_notes is None else doc.csv_notes
        return table_csv(first) + "".join(f"# {note(n, fmt)}\n" for n in notes) + "".join(
            "\n" + table_csv(t) for t in rest)
    if fmt not in TABLE_STYLES:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    table = table_text(first, fmt)
    more = [table_text(t, fmt) + "\n" for t in rest]
    notes = [note(n, fmt) for n in doc.notes]
    if fmt == "html":
        head = f"<h3>{title}</h3>\n" if title else ""
        return head + table + "\n" + "".join(f"<p>{n}</p>\n" for n in notes) + "".join(more)
    if fmt == "latex":
        return table + "\n" + "".join(f"% {n}\n" for n in notes) + "".join(more)
    if fmt in ("github", "markdown"):
        head = f"**{title}**\n\n" if title else ""
        return head + table + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n" + "".join("\n" + m for m in more)
    head = f"{title}\n\n" if title else ""
    return head + table + "\n\n" + "\n".join(notes) + "\n" + "".join("\n" + m for m in more)
