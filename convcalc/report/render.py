"""One renderer per format: a :class:`~convcalc.report.tables.Document` as text, GitHub or pipe
markdown, LaTeX (booktabs), HTML or CSV. The only module of convcalc that imports ``tabulate``.

Every format has the same parts in the same order: the title (not in LaTeX and CSV), the first
table, the notes (LaTeX comments, HTML paragraphs, markdown bullets, CSV ``#`` lines), then any
further tables.
"""

from __future__ import annotations

import csv
import io
import re

from .escape import cell, note
from .tables import Document, Table

FORMATS = ("text", "github", "markdown", "latex", "html", "csv", "json")
_VALUE_AND_UNIT = re.compile(r"(\d) (B|KiB|MiB|GiB|TiB|PiB|EiB|K|M|G|T|P|E|MACs|params|FLOPs)\b")
TABLE_STYLES = {"text": "simple", "github": "github", "markdown": "pipe", "latex": "latex_booktabs", "html": "html"}


def table_text(table: Table, fmt: str) -> str:
    """One table in ``fmt`` (any of :data:`TABLE_STYLES`)."""
    from tabulate import tabulate  # the renderers' library, loaded only when a table is drawn

    rows = [[cell(str(v), fmt) for v in row] for row in table.rows]
    header = [cell(str(h), fmt) for h in table.header]
    return tabulate(rows, header, tablefmt=TABLE_STYLES[fmt], colalign=table.align, disable_numparse=True)


def table_width(table: Table) -> int:
    """The width of ``table`` as text (tabulate's "simple": columns two spaces apart), without
    drawing it."""
    # tabulate's MIN_PADDING: a column is at least its header and two more wide.
    widths = [max(len(cell(str(h), "text")) + 2, *(len(cell(str(r[i]), "text")) for r in table.rows))
              for i, h in enumerate(table.header)]
    return sum(widths) + 2 * (len(widths) - 1)


def wrap(line: str, width: int | None) -> str:
    """A note wrapped to ``width`` (continuation lines indented; a legend entry ``e1 = ...``
    continues under its expression). Expressions break at their spaces, never inside a name."""
    if width is None or len(line) <= width:
        return line
    import textwrap

    legend = re.match(r"^[a-z]+\d+ = ", line)  # a legend entry: e12 = ...
    indent = " " * legend.end() if legend else "  "
    kept = _VALUE_AND_UNIT.sub("\\1\xa0\\2", line).replace("FLOPs = 2 x MACs", "FLOPs\xa0=\xa02\xa0x\xa0MACs")
    # "143 MiB" and "FLOPs = 2 x MACs" stay on one line (textwrap does not break at \xa0)
    return textwrap.fill(kept, width, subsequent_indent=indent, break_long_words=True,
                         break_on_hyphens=False).replace("\xa0", " ")


def table_csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([cell(str(h), "csv") for h in table.header])
    writer.writerows([[cell(str(v), "csv") for v in row] for row in table.rows])
    return buf.getvalue()


def render(doc: Document, fmt: str, width: int | None = None) -> str:
    """``doc`` in ``fmt`` (text, github, markdown, latex, html, csv); text notes wrapped to
    ``width``."""
    first, rest = doc.tables[0], doc.tables[1:]
    title = note(doc.title, fmt) if doc.title else None
    if fmt == "csv":
        notes = doc.notes if doc.csv_notes is None else doc.csv_notes
        # The notes (conventions, constraints) are a header comment: every row below is a row
        # of the table, all of one width (pandas: read_csv(path, comment="#")).
        return "".join(f"# {note(n, fmt)}\n" for n in notes) + table_csv(first) + "".join(
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
    head = f"{title}\n\n" if title else ""  # a name: never wrapped
    return head + table + "\n\n" + "\n".join(wrap(n, width) for n in notes) + "\n" + "".join("\n" + m for m in more)
