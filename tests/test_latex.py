"""The LaTeX output compiles: the plan's and the comparison's tables, wrapped in a minimal
document with booktabs, go through pdflatex. Names carry the characters LaTeX treats specially
(``_ # % & $``; layer names allow ``_`` and ``.``, model and variant names anything) and a newline, which must come out escaped (or inside the comments).

Needs pdflatex with booktabs (Debian: texlive-latex-base, texlive-latex-recommended); ``.ci/run``
installs them and sets CONVCALC_REQUIRE_LATEX=1, so there this fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import convcalc
from convcalc.compare import compare
from convcalc.report import render_compare

PDFLATEX = shutil.which("pdflatex")
WRAPPER = "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n%s\n\\end{document}\n"


def _compile(tmp_path, body: str) -> subprocess.CompletedProcess:
    if PDFLATEX is None:
        if os.environ.get("CONVCALC_REQUIRE_LATEX") == "1":
            pytest.fail("CONVCALC_REQUIRE_LATEX=1 but pdflatex is not installed")
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    (tmp_path / "doc.tex").write_text(WRAPPER % body)
    return subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def _model(name: str) -> convcalc.Model:
    return (convcalc.Model(framework="pytorch", input=[1, 3, "H", 32], name=name, symbols={"H": 32})
            .add("Conv2d", name="conv_1", out_channels=8, kernel_size=3, stride=2)
            .add("BatchNorm2d", name="block_1.bn_1")
            .add("ReLU", name="act_1"))


@pytest.mark.parametrize("symbolic", [False, True], ids=["concrete", "symbolic"])
def test_the_plan_table_compiles(tmp_path, symbolic):
    model = _model("net_$1 & 100%\n\\input{/etc/passwd}")
    plan = model.plan_symbolic() if symbolic else model.plan()
    ran = _compile(tmp_path, plan.table("latex", depth=None))
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    assert "(/etc/passwd" not in (tmp_path / "doc.log").read_text()  # the name stayed in a comment: never read


def test_the_comparison_compiles(tmp_path):
    comparison = compare({"wide_1": _model("a").plan(), "narrow#2": _model("b").plan()})
    ran = _compile(tmp_path, render_compare(comparison, "latex", layers=True))
    assert ran.returncode == 0, ran.stdout[-3000:]
