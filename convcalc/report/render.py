"""One renderer per format: a :class:`~convcalc.report.tables.Document` as text, GitHub or pipe
markdown, LaTeX (booktabs), HTML or CSV. The only module of convcalc that imports ``tabulate``
(for every format but text, which :func:`simple_table` draws).

Every format has the same parts in the same order: the title (not in LaTeX and CSV), the first
table, the notes (LaTeX comments, HTML paragraphs, markdown bullets, CSV ``#`` lines), then any
further tables.
"""

from __future__ import annotations

import io
import re

from .escape import cell, note
from .tables import Document, Table

FORMATS = ("text", "github", "markdown", "latex", "html", "csv", "json")
_VALUE_AND_UNIT = re.compile(r"(\d) (B|KiB|MiB|GiB|TiB|PiB|EiB|K|M|G|T|P|E|MACs|params|FLOPs)\b")
TABLE_STYLES = {"text": "simple", "github": "github", "markdown": "pipe", "latex": "latex_booktabs", "html": "html"}


def table_text(table: Table, fmt: str) -> str:
    """One table in ``fmt`` (any of :data:`TABLE_STYLES`)."""
    rows = [[cell(str(v), fmt) for v in row] for row in table.rows]
    header = [cell(str(h), fmt) for h in table.header]
    if fmt == "text" and not any("\n" in c for row in [header, *rows] for c in row):
        return simple_table(header, rows, table.align)
    from tabulate import tabulate  # the other formats' library, loaded only when one is drawn

    return tabulate(rows, header, tablefmt=TABLE_STYLES[fmt], colalign=table.align, disable_numparse=True)


def simple_table(header: list[str], rows: list[list[str]], align: list[str] | None) -> str:
    """tabulate's "simple" format, byte for byte (``tests/test_render.py`` compares them), without
    importing it — the text table is what every plain ``convcalc plan`` draws, and tabulate's
    import (importlib.metadata for its version, wcwidth) costs a sixth of the start-up. Columns
    two spaces apart, each as wide as its widest cell or its header plus two, cells (not headers)
    stripped, lines stripped at the end; widths as a terminal shows them (:func:`display_width`).

        >>> print(simple_table(["layer", "MACs"], [["conv1", "118 M"], ["fc", "2.05 M"]], ["left", "right"]))
        layer      MACs
        -------  ------
        conv1     118 M
        fc       2.05 M
    """
    rows = [[c.strip() for c in row] for row in rows]  # (headers keep their spaces, as in tabulate)
    widths = [max([display_width(h) + 2, *(display_width(r[i]) for r in rows if i < len(r))]) for i, h in
              enumerate(header)]
    aligns = list(align) if align and rows else ["left"] * len(header)  # no rows: tabulate aligns headers left

    def line(cells: list[str]) -> str:
        parts = []
        for text, w, a in zip(cells, widths, aligns):
            pad = " " * (w - display_width(text))
            parts.append(pad + text if a == "right" else text + pad)
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: East Asian wide and full-width characters two,
    combining marks none (what wcwidth, which tabulate uses when installed, says for these)."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table_width(table: Table) -> int:
    """The width of ``table`` as text (tabulate's "simple": columns two spaces apart), without
    drawing it."""
    # tabulate's MIN_PADDING: a column is at least its header and two more wide.
    widths = [max([display_width(cell(str(h), "text").strip()) + 2,
                   *(display_width(cell(str(r[i]), "text").strip()) for r in table.rows)])
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
    import csv  # only for CSV

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
