"""The dimension parser (a whitelist, never eval) and the int-or-sympy helpers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from convcalc.dims import ceildiv, eq, floordiv, fmt_dim, ge, parse_dim, symbol
from convcalc.errors import ArgumentError

VALID = [
    ("224", {}, 224),
    ("2*T", {"T": 16}, 32),
    ("H/2", {"H": 8}, 4),
    ("ceil(H/32)", {"H": 225}, 8),
    ("floor((H - 1)/2) + 1", {"H": 7}, 4),
    ("max(H, 3) - min(W, 2)", {"H": 1, "W": 5}, 1),
    ("H // 3 + H % 3", {"H": 10}, 4),
    ("2**k", {"k": 5}, 32),
    ("-(-H // 4)", {"H": 9}, 3),
]


@pytest.mark.parametrize("text,env,value", VALID, ids=[v[0] for v in VALID])
def test_valid_expressions(text, env, value):
    assert parse_dim(text, env) == value


INVALID = [
    "__import__('os')",
    "H.__class__",
    "exec('1')",
    "H +* 2",
    "(H",
    "H)",
    "lambda: 1",
    "sqrt(H)",
    "floor",
    "floor(H, 2)",
    "H[0]",
    "'H'",
    "1e3",
    "",
    "   ",
    "2 ** 100",
    "7/2",
    "x" * 300,
    "(" * 40 + "1" + ")" * 40,
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_expressions_are_refused(text):
    with pytest.raises(ArgumentError):
        parse_dim(text, {"H": 3})


def test_symbolic_exponents_are_refused():
    with pytest.raises(ArgumentError):
        parse_dim("2 ** H", {})


def test_symbolic_values_keep_their_assumptions():
    H = symbol("H")
    assert parse_dim("H") is H
    assert H.is_integer and H.is_positive
    # floor((H + 2 - 3)/1) + 1 simplifies to H only because H is a positive integer.
    assert floordiv(H + 2 - 3, 1) + 1 == H
    assert fmt_dim(ceildiv(H, 32)) == "ceil(H/32)"


def test_three_valued_comparisons():
    H = symbol("H")
    assert ge(H + 2, 1) is True
    assert ge(H - 4, 1) is None  # depends on H: a constraint, not a crash
    assert ge(3, 4) is False
    assert eq(2 * H, H + H) is True
    assert eq(H, H + 1) is False
    assert eq(H, 5) is None


def test_a_concrete_plan_never_imports_sympy(tmp_path):
    """`convcalc plan` on a concrete model must not pay for sympy (design.md §1)."""
    code = (
        "import sys, convcalc\n"
        "from convcalc.cli import main\n"
        "plan = convcalc.load('examples/resnet50.yaml').plan()\n"
        "assert plan.totals.params == 25557032\n"
        "plan.table('text'); plan.table('markdown'); plan.to_json()\n"
        "assert 'sympy' not in sys.modules, 'sympy was imported'\n"
    )
    from .conftest import ROOT

    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
