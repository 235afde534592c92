"""Escaping, per format, in one place: every user string a report shows (model, file, variant
and layer names, and whatever an imported model calls things) goes through here.

- text (a terminal): control characters — escape sequences, NUL, DEL, C1 — shown as ``\\x1b``;
- markdown/github: ``|`` escaped, ``<`` as ``&lt;`` (no tag can start), newlines as spaces (a table row
  stays a row);
- LaTeX: tabulate escapes the cells; notes are ``%`` comments, so a newline, which would end
  the comment (``\\input{/etc/passwd}`` on a line of its own), becomes a space;
- HTML: ``html.escape`` (tabulate escapes the cells);
- CSV: a cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first)
  is prefixed with ``'``.

    >>> terminal("ok\\x1b[2Jgone\\x00")
    'ok\\\\x1b[2Jgone\\\\x00'
    >>> cell("a|b\\n<c>", "github"), cell("=HYPERLINK(1)", "csv"), note("x\\n\\\\input{y}", "latex")
    ('a\\\\|b &lt;c>', "'=HYPERLINK(1)", 'x \\\\input{y}')
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def terminal(text: str) -> str:
    """Control characters (but newline and tab) as visible ``\\xNN``."""
    if text.isprintable():  # the common case, decided in C: no control character at all
        return text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _one_line(text: str) -> str:
    if text.isprintable():  # no newline, tab or control character: nothing to replace (decided in C)
        return text
    return terminal(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " "))


def cell(text: str, fmt: str) -> str:
    """A table cell (or header) in ``fmt``."""
    if fmt == "csv":
        text = terminal(text)
        return "'" + text if text.startswith(FORMULA_START) else text
    if fmt in ("github", "markdown"):
        return _one_line(text).replace("|", "\\|").replace("<", "&lt;")
    return _one_line(text)  # text, html, latex: tabulate escapes HTML and LaTeX itself


def note(text: str, fmt: str) -> str:
    """A line under a table (or the title) in ``fmt``."""
    if fmt == "html":
        import html  # only for HTML (html.entities is a large table)

        return html.escape(terminal(text))
    if fmt in ("github", "markdown"):
        return _one_line(text).replace("|", "\\|").replace("<", "&lt;")
    if fmt in ("latex", "csv"):
        return _one_line(text)  # a % or # comment: one line
    return terminal(text)
