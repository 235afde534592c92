"""convcalc's own "simple" text table (report/render.py) against tabulate's, byte for byte."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from convcalc.report.render import simple_table

# what convcalc's cells hold: ASCII, its units and marks, and a layer name someone wrote in CJK
ALPHABET = st.sampled_from(list("abcXYZ019 .,()-_=*/+") + ["·", "…", "≥", "×", "~", "−", "層", "名", "é"])
CELL = st.text(ALPHABET, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(CELL, min_size=n, max_size=n),
    st.lists(st.lists(CELL, min_size=n, max_size=n), max_size=6),
    st.one_of(st.none(), st.lists(st.sampled_from(["left", "right"]), min_size=n, max_size=n)))))
def test_the_text_table_is_tabulates_simple(table):
    import tabulate as tabulate_module

    # the reference is tabulate measuring display widths (wcwidth, a test extra); without it
    # tabulate counts a CJK character as one column and misaligns it
    assert tabulate_module.wcwidth is not None and tabulate_module.WIDE_CHARS_MODE
    header, rows, align = table
    want = tabulate(rows, header, tablefmt="simple", colalign=align, disable_numparse=True)
    assert simple_table(header, rows, align) == want


def test_wide_characters_take_two_columns():
    """A layer named in CJK lines up on a terminal: its column is as wide as it looks."""
    assert simple_table(["layer", "MACs"], [["層1", "118 M"], ["fc", "2.05 M"]], ["left", "right"]) == (
        "layer      MACs\n-------  ------\n層1       118 M\nfc       2.05 M")


def test_a_plan_table_is_unchanged(runner):
    """The ResNet-50 table as tabulate draws it."""
    import convcalc
    from convcalc.report import View, plan_document
    from convcalc.report.render import TABLE_STYLES

    from .conftest import EXAMPLES

    doc = plan_document(convcalc.load(str(EXAMPLES / "resnet50.yaml")).plan(), "text", View(width=None), None)
    table = doc.tables[0]
    rows = [[str(v) for v in row] for row in table.rows]
    want = tabulate(rows, table.header, tablefmt=TABLE_STYLES["text"], colalign=table.align, disable_numparse=True)
    assert simple_table(list(table.header), rows, table.align) == want
