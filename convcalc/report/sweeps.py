"""A sweep's totals per size as text, markdown, CSV or JSON, written in chunks.

A sweep holds up to a million sizes (:data:`convcalc.sweep.MAX_POINTS`); drawing its table cell by
cell through :func:`convcalc.report.render.table_text` took 6 s as CSV and 11 s as text, with a
1.1 GiB peak. Here every column's width is known before a row is drawn — the widest ``{:,}`` of
an integer column is that of its largest or its most negative value — so each row is one
``str.format`` call on a format string built once, and rows leave in chunks of
:data:`ROWS_PER_CHUNK` (``cli.write_output`` writes them as they come). JSON is
``json.dumps(result.to_dict())`` byte for byte, its arrays joined a chunk at a time (a million
sizes: 480 MiB of lists before).

The text table is tabulate's "simple" format and the markdown table its "github" format, byte for
byte (``tests/test_symbolic.py`` compares them with :func:`convcalc.report.render.simple_table` and
tabulate itself): every column right-aligned, as wide as its widest cell or its header plus two.

    >>> import convcalc
    >>> from convcalc.sweep import sweep
    >>> model = convcalc.Model(framework="pytorch", input=[1, 3, "H", "H"]).add("Conv2d", out_channels=8, kernel_size=3)
    >>> print("".join(sweep_chunks(sweep(model, ["H"], range(3, 5)), "csv")).splitlines()[-1])
    4,224,864,1728,128,true,true
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .conventions import MACS
from .tables import SWEEP_NOTE, sweep_header

ROWS_PER_CHUNK = 50_000
CSV_COMMENT = "# " + MACS + " activation_bytes: every layer output, batch included."
STREAMED = ("text", "markdown", "github", "csv", "json")
# An HTML page is one document a browser lays out whole: 100,000 rows are 37 MB and 3 s to draw.
MAX_HTML_ROWS = 100_000


def sweep_chunks(result: Any, fmt: str) -> Iterator[str]:
    """The sweep as ``fmt`` (one of :data:`STREAMED`), in pieces; the last ends with a newline."""
    if fmt == "json":
        yield from _json_chunks(result)
        return
    header = sweep_header(result)
    numbers = [result.values, *(result.totals[k] for k in header[1:-2])]
    flags = [result.valid, result.exact]
    words = ("false", "true") if fmt == "csv" else ("no", "yes")
    if fmt == "csv":
        # the header as csv.writer quotes it: "H,W" swept together is one column
        yield CSV_COMMENT + "\n" + ",".join(f'"{h}"' if "," in h else h for h in header) + "\n"
        row = ",".join(["{}"] * len(header))
    else:
        widths = [max(len(h) + 2, _widest(c)) for h, c in zip(header, numbers)]
        widths += [max(len(h) + 2, *(len(w) for w in words)) for h in header[-2:]]
        specs = [f"{{:>{w},}}" for w in widths[:len(numbers)]] + [f"{{:>{w}}}" for w in widths[len(numbers):]]
        if fmt == "text":
            row = "  ".join(specs)
            yield "  ".join(h.rjust(w) for h, w in zip(header, widths)) + "\n" + "  ".join("-" * w for w in widths) + "\n"
        else:
            row = "| " + " | ".join(specs) + " |"
            yield ("| " + " | ".join(h.rjust(w) for h, w in zip(header, widths)) + " |\n"
                   + "|" + "|".join("-" * (w + 2) for w in widths) + "|\n")
    for lo in range(0, len(result.values), ROWS_PER_CHUNK):
        part = slice(lo, lo + ROWS_PER_CHUNK)
        columns = [c[part].tolist() for c in numbers] + [[words[v] for v in c[part].tolist()] for c in flags]
        yield "\n".join(row.format(*cells) for cells in zip(*columns)) + "\n"
    if fmt != "csv":
        yield "\n" + SWEEP_NOTE + "\n"


def _json_chunks(result: Any) -> Iterator[str]:
    """``json.dumps(result.to_dict())`` and a newline, in pieces (the JSON contract of a sweep)."""
    yield '{"symbol": ' + json.dumps(",".join(result.names)) + ', "values": '
    yield from _json_array(result.values)
    yield ', "totals": {'
    for i, (key, column) in enumerate(result.totals.items()):
        yield (", " if i else "") + json.dumps(key) + ": "
        yield from _json_array(column)
    yield '}, "valid": '
    yield from _json_array(result.valid)
    yield ', "exact": '
    yield from _json_array(result.exact)
    yield "}\n"


def _json_array(column: Any) -> Iterator[str]:
    """A numpy column (integers or booleans) as json.dumps writes the list of its values."""
    yield "["
    for lo in range(0, len(column), ROWS_PER_CHUNK):
        values = column[lo:lo + ROWS_PER_CHUNK].tolist()
        text = ", ".join(("true" if v else "false") for v in values) if column.dtype == bool else ", ".join(map(str, values))
        yield (", " if lo else "") + text
    yield "]"


def _widest(column: Any) -> int:
    """The width of the widest ``{:,}`` in an integer column (int64 or Python integers)."""
    return max(len(f"{int(column.max()):,}"), len(f"{int(column.min()):,}"))


__all__ = ["CSV_COMMENT", "MAX_HTML_ROWS", "ROWS_PER_CHUNK", "STREAMED", "sweep_chunks"]
