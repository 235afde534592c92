"""Dimensions: exact integers, or sympy expressions in positive-integer symbols.

A dimension (:data:`Dim`) is a Python ``int`` when it is known, or a sympy expression when it
depends on symbols such as ``H``. Every helper here takes either and returns an ``int`` whenever
the answer is a number, so a model without symbols never imports sympy (a concrete ResNet-50 plan
starts in a fraction of a second). sympy is imported lazily, the first time a symbol appears.

User text never reaches ``eval``, ``exec``, ``sympify`` or ``parse_expr``: dimension expressions
(``2*T``, ``H/2``, ``ceil(H/32)``) go through :func:`parse_dim`, a small recursive-descent parser
that accepts integers, names, ``+ - * / // % **``, parentheses and ``floor ceil min max``.

Validity is three-valued (:func:`ge`, :func:`eq`, :func:`divisible`): ``True``/``False`` when decided, ``None``
when it depends on the symbols — never ``bool()`` on a sympy relational.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union

from .errors import ArgumentError

if TYPE_CHECKING:  # pragma: no cover
    import sympy

Dim = Union[int, "sympy.Expr"]
Shape = tuple  # tuple[Dim, ...]

_sympy: Any = None


def sp() -> Any:
    """The sympy module, imported on first use (concrete plans never call this)."""
    global _sympy
    if _sympy is None:
        import sympy

        _sympy = sympy
    return _sympy


_SYMBOLS: dict[str, Any] = {}


def symbol(name: str) -> Any:
    """The positive-integer sympy symbol ``name`` (one object per name).

    The assumptions matter: with them ``floor((H + 2 - 3)/1) + 1`` simplifies to ``H``.
    """
    if name not in _SYMBOLS:
        _SYMBOLS[name] = sp().Symbol(name, integer=True, positive=True)
    return _SYMBOLS[name]


def is_concrete(x: object) -> bool:
    """True for a plain ``int`` (``bool`` excluded)."""
    return type(x) is int


def dsum(values: Iterable[Any]) -> Dim:
    """The sum of dimensions: an ``int`` while every term is one; with expressions, one sympy
    ``Add`` of all the terms (``sum()`` would flatten the growing sum again at every term:
    quadratic, 20 s over 100,000 symbolic layers).

    >>> dsum([1, 2, 3])
    6
    """
    ints = 0
    exprs = []
    for v in values:
        if type(v) is int:
            ints += v
        else:
            exprs.append(v)
    if not exprs:
        return ints
    return norm(sp().Add(ints, *exprs))


def norm(x: Any) -> Dim:
    """Turn a sympy number that is an integer into ``int``; leave everything else alone."""
    if type(x) is int:
        return x
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else x  # type: ignore[return-value]
    if getattr(x, "is_Integer", False):
        return int(x)
    return x


def _as_expr(x: Any) -> Any:
    if type(x) is int:
        return sp().Integer(x)
    if isinstance(x, Fraction):
        return sp().Rational(x.numerator, x.denominator)
    return x


def floordiv(a: Dim, b: Dim) -> Dim:
    """``floor(a / b)``, exact for ints (Python ``//`` floors negatives too).

    >>> floordiv(7, 2), floordiv(-1, 2)
    (3, -1)
    """
    if type(a) is int and type(b) is int:
        return a // b
    if type(b) is int and b > 0:
        from .algebra import canonical_floordiv

        return norm(canonical_floordiv(_as_expr(a), b))
    return norm(sp().floor(_as_expr(a) / _as_expr(b)))


def ceildiv(a: Dim, b: Dim) -> Dim:
    """``ceil(a / b)``.

    >>> ceildiv(7, 2), ceildiv(224, 32)
    (4, 7)
    """
    if type(a) is int and type(b) is int:
        return -(-a // b)
    if type(b) is int and b > 0:
        from .algebra import canonical_ceildiv

        return norm(canonical_ceildiv(_as_expr(a), b))
    return norm(sp().ceiling(_as_expr(a) / _as_expr(b)))


def dmax(a: Dim, b: Dim) -> Dim:
    """``max(a, b)``; symbolic when undecidable."""
    if type(a) is int and type(b) is int:
        return max(a, b)
    return norm(sp().Max(_as_expr(a), _as_expr(b)))


def dmin(a: Dim, b: Dim) -> Dim:
    """``min(a, b)``; symbolic when undecidable."""
    if type(a) is int and type(b) is int:
        return min(a, b)
    return norm(sp().Min(_as_expr(a), _as_expr(b)))


def mod(a: Dim, b: Dim) -> Dim:
    """``a mod b`` (Python sign convention)."""
    if type(a) is int and type(b) is int:
        return a % b
    return norm(sp().Mod(_as_expr(a), _as_expr(b)))


def prod(values: Any) -> Dim:
    """Product of dimensions; ``1`` for an empty sequence."""
    out: Any = 1
    for v in values:
        out = out * v
    return norm(out)


def ge(a: Dim, b: Dim) -> bool | None:
    """Three-valued ``a >= b``.

    Symbolic comparisons are decided by bounds, not by sympy's assumption system (which is slow
    and often undecided on roundings): see :func:`convcalc.algebra.bounds`. What the bounds
    cannot decide becomes a constraint, solved exactly later.
    """
    if type(a) is int and type(b) is int:
        return a >= b
    from .algebra import bounds

    lo, hi = bounds(_as_expr(a) - _as_expr(b))
    if lo is not None and lo >= 0:
        return True
    if hi is not None and hi < 0:
        return False
    return None


def eq(a: Dim, b: Dim) -> bool | None:
    """Three-valued ``a == b`` (``None`` when equal only for some symbol values)."""
    if type(a) is int and type(b) is int:
        return a == b
    diff = sp().expand(_as_expr(a) - _as_expr(b))
    if diff == 0:
        return True
    if diff.is_number:
        return False
    from .algebra import bounds

    lo, hi = bounds(diff)
    if (lo is not None and lo > 0) or (hi is not None and hi < 0):
        return False
    return None


def divisible(x: Dim, d: Dim) -> bool | None:
    """Three-valued ``x % d == 0`` (symbolic: decided only when every term is a multiple of
    ``d`` up to the same constant; otherwise left to the exact constraint solver)."""
    if type(x) is int and type(d) is int:
        return x % d == 0
    if type(d) is not int:
        return None
    expr = sp().expand(_as_expr(x))
    const = 0
    for term in sp().Add.make_args(expr):
        coeff, rest = term.as_coeff_Mul()
        if rest == 1:
            const += coeff
        elif not (coeff.is_Integer and int(coeff) % d == 0 and _integer_valued(rest)):
            return None
    return const % d == 0 if getattr(const, "is_Integer", True) else None


def _integer_valued(expr: Any) -> bool:
    from .algebra import _integer_poly

    return _integer_poly(expr)


def free_symbols(x: Any) -> set[str]:
    """Names of the symbols a dimension depends on."""
    if type(x) is int:
        return set()
    return {str(s) for s in getattr(x, "free_symbols", ())}


def subs(x: Dim, values: dict[str, int]) -> Dim:
    """Substitute symbol values (by name) into a dimension."""
    if type(x) is int or not values:
        return x
    mapping = {symbol(k): v for k, v in values.items() if k in free_symbols(x)}
    return norm(x.subs(mapping)) if mapping else x


# --------------------------------------------------------------------------- formatting

def fmt_dim(x: Any) -> str:
    """A dimension as text: ``224``, ``H``, ``floor((H - 1)/4)``, ``ceil(H/32)``."""
    if type(x) is int:
        return str(x)
    if isinstance(x, Fraction):
        return str(x)
    from .algebra import textbook

    return textbook(x)


def fmt_shape(shape: Shape) -> str:
    """``(1, 64, 56, 56)``; a 1-tuple keeps no trailing comma: ``(10)``."""
    return "(" + ", ".join(fmt_dim(d) for d in shape) + ")"


class Printed(tuple):
    """A shape as the Python API hands it out: a plain tuple (``==`` a tuple of the same sizes)
    that prints its expressions as convcalc writes them (``ceil(H/2)``, never sympy's
    ``ceiling(H/2)``).

    >>> Printed((1, 64, 112, 112)) == (1, 64, 112, 112), repr(Printed((1, 3))), type(Printed((1, 3))[1:]).__name__
    (True, '(1, 3)', 'Printed')
    """

    __slots__ = ()

    def __getitem__(self, index: Any) -> Any:  # a slice (the spatial sizes: shape[2:]) prints alike
        got = tuple.__getitem__(self, index)
        return Printed(got) if isinstance(index, slice) else got

    def __repr__(self) -> str:
        if all(type(d) is int for d in self):
            return tuple.__repr__(self)
        return "(" + ", ".join(fmt_dim(d) for d in self) + ("," if len(self) == 1 else "") + ")"

    __str__ = __repr__


def printed(shape: Any) -> Printed:
    """``shape`` as a :class:`Printed` tuple."""
    return shape if isinstance(shape, Printed) else Printed(shape)


def json_dim(d: Any) -> Any:
    """A size or figure for the JSON reports: the int, or the expression as convcalc prints it
    (``ceil(H/2)``, never sympy's ``ceiling``)."""
    return d if is_concrete(d) else fmt_dim(d)


BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
COUNT_UNITS = ("", "K", "M", "G", "T", "P", "E")


def _three_digits(value: float) -> str:
    """``4.09``, ``25.6``, ``392``: three significant digits for 1 <= value < 1000."""
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def fmt_scaled(n: int, base: int, units: tuple[str, ...]) -> str:
    """``n`` in the largest unit of ``units`` (each ``base`` times the last) that keeps it at least
    1, to three significant digits: ``3.00 MiB``, ``98.5 MiB``, ``4.09 G``; below the first step
    exact (``512 B``).

        >>> fmt_scaled(10_235_904, 1024, BYTE_UNITS), fmt_scaled(999_700, 1000, COUNT_UNITS)
        ('9.76 MiB', '1.00 M')
    """
    value, i = abs(n), 0
    while value >= base and i < len(units) - 1:
        value /= base
        i += 1
    if i == 0:
        return f"{n} {units[0]}".rstrip()
    shown = _three_digits(value)
    if float(shown) >= base and i < len(units) - 1:  # 999.7 K rounds to 1000 K: say 1.00 M
        shown, i = _three_digits(value / base), i + 1
    return f"{'-' if n < 0 else ''}{shown} {units[i]}"


def fmt_bytes(n: int) -> str:
    """A byte count in binary units: ``9.76 MiB`` (:func:`fmt_scaled` over :data:`BYTE_UNITS`)."""
    return fmt_scaled(n, 1024, BYTE_UNITS)


def fmt_count(x: Any) -> str:
    """An exact count with thousands separators, or the expression."""
    if type(x) is int:
        return f"{x:,}"
    return fmt_dim(x)


# --------------------------------------------------------------------------- the dimension parser

MAX_EXPR_CHARS = 256
MAX_EXPR_DEPTH = 32
MAX_INT = 2**48  # sizes beyond this are a typo, not a tensor
_SYMBOL_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# ASCII digits only: \d would also read Arabic-Indic or fullwidth digits as numbers.
_TOKEN_RE = re.compile(r"\s*(?:([0-9]+)|([A-Za-z_][A-Za-z0-9_]*)|(//|\*\*|[-+*/%(),]))", re.ASCII)
MAX_NUMBER_DIGITS = 15  # sizes are at most 2**48: 15 digits
MAX_LITERAL_DIGITS = MAX_NUMBER_DIGITS  # a size is at most 2**48; a longer number is a typo (and int() of 4,300 digits fails)
MAX_VALUE_BITS = 64  # no intermediate result of an expression beyond 2**64
MAX_DEGREE = 16  # no symbolic expression of higher degree in its symbols ((H+1)**64 would expand for minutes)
_FUNCTIONS = ("floor", "ceil", "min", "max")


class _Parser:
    """Recursive descent over the token list; builds a small AST of tuples."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN_RE.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                bad = text[pos:].strip()[0]
                raise self.error(f"unexpected character {bad!r}")
            num, name, punct = m.groups()
            if num is not None:
                if len(num) > MAX_LITERAL_DIGITS:
                    raise self.error(f"a number of {len(num):,} digits (sizes are at most 2**48, {MAX_LITERAL_DIGITS} "
                                     "digits)")
                self.tokens.append(("int", num))
            elif name is not None:
                self.tokens.append(("name", name))
            elif punct is not None:
                self.tokens.append(("op", punct))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def error(self, why: str) -> ArgumentError:
        return ArgumentError(
            f"cannot read the dimension {self.text!r}: {why}",
            fix="write an integer, a symbol name, or an expression such as 2*T, H/2, ceil(H/32)",
        )

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise self.error("it ends too early")
        if value is not None and tok[1] != value:
            raise self.error(f"expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> tuple:
        if not self.tokens:
            raise self.error("it is empty")
        node = self.expr()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def expr(self) -> tuple:
        self.depth += 1
        if self.depth > MAX_EXPR_DEPTH:
            raise self.error("it is nested too deeply")
        node = self.term()
        while (tok := self.peek()) is not None and tok[1] in ("+", "-"):
            self.take()
            node = (tok[1], node, self.term())
        self.depth -= 1
        return node

    def term(self) -> tuple:
        node = self.unary()
        while (tok := self.peek()) is not None and tok[1] in ("*", "/", "//", "%"):
            self.take()
            node = (tok[1], node, self.unary())
        return node

    def unary(self) -> tuple:
        tok = self.peek()
        if tok is not None and tok[1] in ("-", "+"):
            self.take()
            inner = self.unary()
            return ("neg", inner) if tok[1] == "-" else inner
        return self.power()

    def power(self) -> tuple:
        base = self.atom()
        if (tok := self.peek()) is not None and tok[1] == "**":
            self.take()
            return ("**", base, self.unary())
        return base

    def atom(self) -> tuple:
        kind, value = self.take()
        if kind == "int":
            return ("int", int(value))
        if kind == "name":
            if (nxt := self.peek()) is not None and nxt[1] == "(":
                if value not in _FUNCTIONS:
                    raise self.error(f"unknown function {value!r} (known: {', '.join(_FUNCTIONS)})")
                self.take("(")
                args = [self.expr()]
                while (tok := self.peek()) is not None and tok[1] == ",":
                    self.take()
                    args.append(self.expr())
                self.take(")")
                want = 1 if value in ("floor", "ceil") else 2
                if len(args) != want:
                    raise self.error(f"{value}() takes {want} argument{'s' * (want > 1)}")
                return ("call", value, *args)
            if value in _FUNCTIONS:
                raise self.error(f"{value} is a function; write {value}(...)")
            return ("name", value)
        if value == "(":
            node = self.expr()
            self.take(")")
            return node
        raise self.error(f"unexpected {value!r}")


def parse_dim_ast(text: str) -> tuple:
    """Parse a dimension expression into an AST of tuples (no evaluation).

    >>> parse_dim_ast("2*T + 1")
    ('+', ('*', ('int', 2), ('name', 'T')), ('int', 1))
    """
    if len(text) > MAX_EXPR_CHARS:
        raise ArgumentError(f"the dimension expression is longer than {MAX_EXPR_CHARS} characters")
    return _Parser(text).parse()


def ast_names(node: tuple) -> set[str]:
    """The symbol names an AST mentions."""
    if node[0] == "name":
        return {node[1]}
    if node[0] == "int":
        return set()
    out: set[str] = set()
    for child in node[1:]:
        if isinstance(child, tuple):
            out |= ast_names(child)
    return out


def _degree(expr: Any) -> int:
    """The polynomial degree of a sympy expression in its symbols, without expanding it."""
    if expr.is_Symbol:
        return 1
    if expr.is_Number or not expr.args:
        return 0
    if expr.is_Mul:
        return sum(_degree(a) for a in expr.args)
    if expr.is_Pow:
        exp = expr.args[1]
        return _degree(expr.args[0]) * (int(exp) if exp.is_Integer and exp > 0 else 1)
    return max(_degree(a) for a in expr.args)


def _bounded(value: Any) -> Any:
    """An intermediate value of an expression, refused when it is beyond what a size can be."""
    if isinstance(value, int):
        if value.bit_length() > MAX_VALUE_BITS:
            raise ArgumentError(f"the expression reaches a value beyond 2**{MAX_VALUE_BITS}")
    elif isinstance(value, Fraction):
        if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_VALUE_BITS:
            raise ArgumentError(f"the expression reaches a value beyond 2**{MAX_VALUE_BITS}")
    elif getattr(value, "free_symbols", None):
        if _degree(value) > MAX_DEGREE:
            raise ArgumentError(f"the expression is of degree {_degree(value)} in its symbols (at most {MAX_DEGREE})")
    return value


def eval_ast(node: tuple, env: dict[str, int]) -> Any:
    """Evaluate an AST: ints and Fractions while every name has a value, sympy otherwise; every
    intermediate value bounded (:func:`_bounded`) before the next operation computes with it."""
    return _bounded(_eval(node, env))


def _eval(node: tuple, env: dict[str, int]) -> Any:
    kind = node[0]
    if kind == "int":
        return node[1]
    if kind == "name":
        return env[node[1]] if node[1] in env else symbol(node[1])
    if kind == "neg":
        return -eval_ast(node[1], env)
    if kind == "call":
        args = [eval_ast(a, env) for a in node[2:]]
        fn = node[1]
        if all(isinstance(a, (int, Fraction)) for a in args):
            if fn == "floor":
                return Fraction(args[0]).__floor__()
            if fn == "ceil":
                return Fraction(args[0]).__ceil__()
            return min(args) if fn == "min" else max(args)
        s = sp()
        ex = [_as_expr(a) for a in args]
        return {"floor": s.floor, "ceil": s.ceiling, "min": s.Min, "max": s.Max}[fn](*ex)
    a, b = eval_ast(node[1], env), eval_ast(node[2], env)
    numeric = isinstance(a, (int, Fraction)) and isinstance(b, (int, Fraction))
    if kind in ("/", "//", "%") and (b == 0 if isinstance(b, (int, Fraction)) else bool(getattr(b, "is_zero", False))):
        raise ArgumentError("division by zero in a dimension expression" + (
            "" if isinstance(b, (int, Fraction)) else " (the divisor is 0 for every size)"))
    if kind == "+":
        return a + b
    if kind == "-":
        return a - b
    if kind == "*":
        return a * b
    if kind == "/":
        return Fraction(a) / Fraction(b) if numeric else _as_expr(a) / _as_expr(b)
    if kind == "//":
        return Fraction(a) // Fraction(b) if numeric else sp().floor(_as_expr(a) / _as_expr(b))
    if kind == "%":
        return Fraction(a) % Fraction(b) if numeric else sp().Mod(_as_expr(a), _as_expr(b))
    if kind == "**":
        if not (isinstance(b, int) and 0 <= b <= 64):
            raise ArgumentError("exponents in dimension expressions must be integers from 0 to 64")
        if isinstance(a, int) and (a.bit_length() - 1) * b > MAX_VALUE_BITS:  # |a|**b >= 2**((bits-1)*b)
            raise ArgumentError(f"the expression reaches a value beyond 2**{MAX_VALUE_BITS}")
        if isinstance(a, Fraction) and (max(a.numerator.bit_length(), a.denominator.bit_length()) - 1) * b > \
                MAX_VALUE_BITS:
            raise ArgumentError(f"the expression reaches a value beyond 2**{MAX_VALUE_BITS}")
        if getattr(a, "free_symbols", None) and _degree(a) * b > MAX_DEGREE:
            raise ArgumentError(f"the expression is of degree {_degree(a) * b} in its symbols (at most {MAX_DEGREE})")
        return a**b
    raise AssertionError(kind)  # pragma: no cover - the parser emits nothing else


def parse_dim(value: Any, env: dict[str, int] | None = None) -> Dim:
    """Read one dimension from a model file: an int, a symbol name or an expression.

    Names with a value in ``env`` are substituted; the others stay symbolic.

    >>> parse_dim(224)
    224
    >>> parse_dim("2*T", {"T": 16})
    32
    >>> parse_dim("H/2", {"H": 7})
    Traceback (most recent call last):
    ...
    convcalc.errors.ArgumentError: error: the dimension 'H/2' is 7/2, not an integer
      fix: choose sizes that divide evenly, or write floor(H/2) or ceil(H/2)
    """
    if type(value) is int:
        return _checked(value, value)
    if isinstance(value, str):
        return dim_from_ast(parse_dim_ast(value), env or {}, value)
    raise ArgumentError(
        f"a dimension must be an integer or an expression in quotes, not {type(value).__name__} {value!r}"
    )


def dim_from_ast(ast: tuple, env: dict[str, int], text: str) -> Dim:
    """Evaluate a parsed dimension (see :func:`parse_dim_ast`); ``text`` is quoted in errors.

    Callers that also need the names an expression mentions parse once and call this.
    """
    return _checked(norm(eval_ast(ast, env)), text)


def _checked(result: Any, value: Any) -> Dim:
    """A dimension must be an integer (or an integer-valued expression) of sane size."""
    if isinstance(result, Fraction):
        raise ArgumentError(
            f"the dimension {value!r} is {result}, not an integer",
            fix="choose sizes that divide evenly, or write floor(H/2) or ceil(H/2)",
        )
    if type(result) is int:
        if abs(result) > MAX_INT:
            raise ArgumentError(f"the dimension {value!r} = {result} is larger than {MAX_INT:,}")
        return result
    if result.is_number:  # a sympy non-integer number such as 7/2
        raise ArgumentError(f"the dimension {value!r} is {result}, not an integer")
    return result


# --------------------------------------------------------------------------- element types and symbol values

# Bytes per element of the dtypes a model file may name (``dtype: float16``).
DTYPE_BYTES = {
    "float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1, "uint8": 1, "int16": 2, "int32": 4,
    "int64": 8, "float8": 1,
}


def check_symbol_value(name: Any, value: Any, *, line: int | None = None) -> int:
    """A symbol value: a positive integer."""
    if not isinstance(name, str) or not _SYMBOL_RE.match(name):
        raise ArgumentError(f"symbol name {name!r} is not a valid name", line=line, key="symbols")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ArgumentError(
            f"symbol {name} must be a positive integer, got {value!r}", line=line, key="symbols",
            fix=f"{name}: 224",
        )
    if value > MAX_INT:
        raise ArgumentError(f"symbol {name} = {value} is larger than {MAX_INT:,}", line=line, key="symbols")
    return value


def ascii_int(text: str) -> int | None:
    """A non-negative ASCII decimal integer of at most 15 digits (an optional ``+``), or ``None``:
    ``²``, ``٣``, ``３`` and 4,000-digit numbers are not sizes.

    >>> ascii_int("224"), ascii_int("+7"), ascii_int("²"), ascii_int("1" * 40)
    (224, 7, None, None)
    """
    digits = text.strip()
    digits = digits[1:] if digits.startswith("+") else digits
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > MAX_NUMBER_DIGITS:
        return None
    return int(digits)
