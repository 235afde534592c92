"""The command line: ``convcalc plan MODEL [--set NAME=VALUE ...] [--format ...] [-o FILE]``.

Exit codes (design.md §5): 0 ok, 1 the model is wrong, 2 usage error, 3 ``check`` found a
disagreement, 4 an internal error (a bug in convcalc — please report it). Errors are printed as
``error: file:line: layer 'x' (Op): what, with numbers`` plus the formula and a fix; never a
traceback (set ``CONVCALC_DEBUG=1`` to see one for an internal error).
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click

from . import __version__
from .dims import DTYPE_BYTES, MAX_NUMBER_DIGITS, ascii_int, json_dim
from .errors import ConvcalcError, UsageError, quoted, unknown_symbol_error
from .report import FORMATS


class Failure(click.ClickException):
    """A ClickException that prints convcalc's own rendering and carries its exit code."""

    def __init__(self, text: str, exit_code: int) -> None:
        super().__init__(text)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        from .report.escape import terminal  # names in a message reach the terminal as text, never as escapes

        click.echo(terminal(self.message), err=True)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn convcalc errors into exit codes and one readable message, for every command."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConvcalcError as e:
            raise Failure(e.render(), e.exit_code) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except RecursionError:
            raise Failure("error: the model is nested too deeply to plan", 1) from None
        except Exception as e:  # a bug: say so plainly, keep the traceback for CONVCALC_DEBUG
            if os.environ.get("CONVCALC_DEBUG"):
                raise
            raise Failure(
                f"internal error: {type(e).__name__}: {e}\n  this is a bug in convcalc; rerun with CONVCALC_DEBUG=1 "
                "for the traceback and please report it with the model file",
                4,
            ) from None

    return wrapper


def parse_sets(values: tuple[str, ...]) -> dict[str, int]:
    """``("H=224", "W=224")`` -> ``{"H": 224, "W": 224}``."""
    out: dict[str, int] = {}
    for item in values:
        name, sep, value = item.partition("=")
        name = name.strip()
        number = ascii_int(value)
        if not sep or not name.isidentifier() or not name.isascii() or number is None or number < 1:
            raise UsageError(
                f"--set expects NAME=VALUE with a positive integer VALUE (ASCII digits, at most "
                f"{MAX_NUMBER_DIGITS}), got {quoted(item)}", fix="--set H=224"
            )
        if name in out and out[name] != number:
            raise UsageError(f"--set gives {name} twice ({out[name]} and {number})", fix=f"--set {name}=... once")
        out[name] = number
    return out


SUFFIXES = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}


BINARY = {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "B": 1}


class Count(click.ParamType):
    """A positive count as convcalc prints them: ``2e10``, ``20000000000``, ``40G``, ``31.6 G``;
    with ``binary``, sizes in bytes too: ``8GiB``, ``500 MiB``."""

    name = "count"

    def __init__(self, binary: bool = False) -> None:
        self.binary = binary

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip().replace(",", "").replace("_", "")
        scale = 1
        for unit, factor in (BINARY.items() if self.binary else ()):
            if text.upper().endswith(unit) and len(text) > len(unit):
                scale, text = factor, text[: -len(unit)].strip()
                break
        if scale == 1 and text and text[-1].upper() in SUFFIXES:
            scale, text = SUFFIXES[text[-1].upper()], text[:-1].strip()
        try:
            number = float(text) if text.isascii() and len(text) <= 32 else float("nan")
        except ValueError:
            number = float("nan")
        total = number * scale
        if not (total == total) or total in (float("inf"), float("-inf")) or total < 1 or total > 1e30:
            self.fail(f"{quoted(str(value))} is not a positive count such as 2e10, 40G or 31.6 G (at most 1e30)",
                      param, ctx)
        return int(total)


class AsciiInt(click.ParamType):
    """An integer in ``[low, high]`` written in ASCII digits (click's own int() takes ``１`` and
    ``٣``; convcalc reads ASCII digits only, as everywhere else)."""

    name = "integer"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number: int | None = value
        else:
            number = ascii_int(str(value).strip())
        if number is None or not self.low <= number <= self.high:
            self.fail(f"{quoted(str(value))} is not an integer from {self.low:,} to {self.high:,} in ASCII digits",
                      param, ctx)
        return number


SUFFIX_FORMATS = {".json": "json", ".csv": "csv", ".md": "markdown", ".markdown": "markdown", ".tex": "latex",
                  ".html": "html", ".htm": "html", ".txt": "text"}


def output_format(fmt: str | None, path: str | None) -> str:
    """The --format given, else the one the -o file's suffix names (``out.json``), else text."""
    if fmt:
        return fmt
    if path:
        return SUFFIX_FORMATS.get(os.path.splitext(path)[1].lower(), "text")
    return "text"


def write_output(text: str | Iterable[str], path: str | None) -> None:
    """Print, or write ``path``: one text, or its pieces as they come (a million-row sweep is
    never held whole; the last piece ends with the newline).

    A regular file (or a new path) is replaced atomically — a temporary file in the same folder,
    given the umask's mode, then renamed over it — and a symlink is followed to the file it names.
    A character device, a FIFO or ``/dev/stdout`` is written directly, never renamed over (as root,
    renaming over ``/dev/null`` would replace the device). No temporary file outlives an interrupt
    or a termination signal; every I/O failure is a usage error (exit 2).
    """
    body: Iterable[str] = [text if text.endswith("\n") else text + "\n"] if isinstance(text, str) else text
    if path is not None and path.endswith(os.sep):
        raise UsageError(f"cannot write {path}: a path ending in {os.sep} names a folder", fix="-o FOLDER/report.txt")
    if path is None:
        try:
            for piece in body:
                sys.stdout.write(piece)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise UsageError(f"cannot write to standard output: {e.strerror}") from None
        return
    target = os.path.realpath(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write {path}: it is a directory")
    if info is not None and not stat.S_ISREG(info.st_mode):
        try:  # a device or a FIFO: written through, never replaced
            # Opened without blocking, so that a FIFO nobody reads is an error (ENXIO), not a hang.
            fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK)
            os.set_blocking(fd, True)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.writelines(body)
        except OSError as e:
            reason = "nothing reads from that FIFO" if e.errno == errno.ENXIO else e.strerror
            raise UsageError(f"cannot write {path}: {reason}", fix="start its reader first, or write a file") from None
        return
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {path}: the folder {folder} does not exist")
    umask = os.umask(0)
    os.umask(umask)
    tmp = None
    previous = _cleanup_on_signals()
    try:
        import tempfile  # only when writing a file (3 ms of start-up: shutil, random)

        fd, tmp = tempfile.mkstemp(prefix=".convcalc-", dir=folder)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(body)
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        _restore_signals(previous)


def _cleanup_on_signals() -> dict[int, Any]:
    """While a temporary file exists, termination signals unwind (so ``finally`` removes it)
    instead of killing the process where it stands. SIGINT already raises KeyboardInterrupt."""
    import signal

    previous: dict[int, Any] = {}

    def unwind(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                previous[sig] = signal.signal(sig, unwind)
            except ValueError:  # not the main thread
                pass
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    import signal

    for sig, handler in previous.items():
        signal.signal(sig, handler)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convcalc")
def cli() -> None:
    """Plan convolutional networks on paper: exact shapes, parameters, MACs and memory under
    Keras, tf.keras, PyTorch and ONNX semantics."""


SET_HELP = "Give a symbol a value (repeatable): --set H=224."


def terminal_width(output: str | None) -> int:
    """The width text tables fit: ``COLUMNS`` when set, else the terminal's when standard output
    is one (and no -o file), else 100."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isascii() and columns.isdigit() and 20 <= int(columns) <= 10_000:
        return int(columns)
    if output is None and sys.stdout.isatty():
        import shutil

        return max(20, shutil.get_terminal_size((100, 24)).columns)
    return 100


def view_options(command: Callable) -> Callable:
    """--wide, --exact, --columns, --depth: how the table is laid out (convcalc.report.View)."""
    from .report import OPTIONAL_COLUMNS

    names = ", ".join(OPTIONAL_COLUMNS)
    options = [
        click.option("--wide", is_flag=True, help="Do not fit text tables to the terminal (COLUMNS, the terminal's "
                     "width, else 100): expressions are written out in their cells."),
        click.option("--exact", "exact_numbers", is_flag=True,
                     help="Exact integers instead of human units (4,089,184,256 instead of 4.09 G)."),
        click.option("--columns", "columns", metavar="NAME[,NAME...]", default="",
                     help=f"Optional columns: {names}."),
        click.option("--depth", type=AsciiInt(0, 64), default=None, metavar="N",
                     help="Collapse layers below depth N of their dotted names (layer1.0.conv1 is at depth 2) into "
                          "one row per block, with the block's totals."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def make_view(wide: bool, exact_numbers: bool, columns: str, depth: int | None, output: str | None) -> Any:
    from .errors import did_you_mean
    from .report import OPTIONAL_COLUMNS, View

    chosen = tuple(c.strip() for c in columns.split(",") if c.strip())
    for c in chosen:
        if c not in OPTIONAL_COLUMNS:
            raise UsageError(f"--columns: no column {c!r}.{did_you_mean(c, list(OPTIONAL_COLUMNS))}",
                             fix="--columns " + ",".join(OPTIONAL_COLUMNS))
    return View(width=None if wide else terminal_width(output), exact=exact_numbers, columns=chosen, depth=depth)


@cli.command()
@click.argument("model", metavar="MODEL")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the -o file's suffix, .json .csv .md .tex .html, else text).")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (atomically) instead of standard output.")
@click.option("--sweep", "sweep_spec", metavar="NAME=START:STOP[:STEP]",
              help="Totals over a range of a symbol, START to STOP exclusive by STEP (range() semantics; at most "
                   "1,000,000 sizes); NAME1,NAME2=... sweeps several together.")
@click.option("--plot", metavar="FILE.png",
              help="With --sweep: draw MACs and activation memory (needs matplotlib: pip install '.[plot]').")
@click.option("--symbolic", is_flag=True, help="Keep the symbols symbolic even where the file gives defaults.")
@click.option("--variant", "variants", multiple=True, metavar="NAME", help="Only these variants (repeatable).")
@click.option("--partial", is_flag=True, help="Imported models: keep nodes convcalc cannot model as opaque rows "
              "(MACs unknown, totals as lower bounds) instead of refusing.")
@click.option("--rf", is_flag=True, help="Add each layer's receptive field: size, effective stride and start per "
              "spatial axis (= --columns rf; JSON: receptive_field per layer).")
@view_options
@handle_errors
def plan(model: str, sets: tuple[str, ...], fmt: str, output: str | None, sweep_spec: str | None,
         plot: str | None, symbolic: bool, variants: tuple[str, ...], partial: bool, rf: bool, wide: bool,
         exact_numbers: bool, columns: str, depth: int | None) -> None:
    """Every layer's input and output shape, parameters, MACs, FLOPs and activation memory.

    MODEL is a model file (.yaml, see docs/model-file.md) or a model to import (.onnx, .keras,
    .h5, Keras .json). A file with variants plans each variant. Text tables fit the terminal:
    long expressions are named (e1, e2, ...) and written out under the table. With --sweep, the
    totals over a range of sizes instead (formats text, csv, json, markdown).
    """
    from .importers import load_any as load
    from .model import Variants
    from .report import html_report, render_plan, render_plans

    fmt = output_format(fmt, output)
    view = make_view(wide, exact_numbers, ",".join(filter(None, [columns, "rf" if rf else ""])), depth, output)
    symbols = parse_sets(sets)
    loaded = select_variants(load(model, partial=partial), variants)
    if variants and isinstance(loaded, Variants) and len(loaded) == 1:
        loaded = next(iter(loaded.values()))
    if plot and not sweep_spec:
        raise UsageError("--plot goes with --sweep", fix="--sweep H=32:1025:32 --plot cost.png")
    if sweep_spec:
        from .report import plot_sweep, render_sweep
        from .report.sweeps import MAX_HTML_ROWS, STREAMED, sweep_chunks
        from .sweep import parse_sweep, sweep

        if isinstance(loaded, Variants):
            raise UsageError("--sweep works on one model; this file has variants")
        if fmt not in ("text", "csv", "json", "github", "markdown", "html"):
            raise UsageError(f"--sweep renders as text, csv, json, markdown or html, not {fmt}")
        names, values = parse_sweep(sweep_spec)
        if fmt == "html" and len(values) > MAX_HTML_ROWS:
            raise UsageError(f"--sweep {sweep_spec} has {len(values):,} sizes; an HTML page holds at most "
                             f"{MAX_HTML_ROWS:,} rows", fix=f"--format csv (any size), or a STEP of at least "
                             f"{-(-len(values) * values.step // MAX_HTML_ROWS)}")
        with Progress("sweep") as bar:
            result = sweep(loaded, names, values, symbols, progress=bar.update)
        if plot:
            plot_sweep(result, plot)
        write_output(sweep_chunks(result, fmt) if fmt in STREAMED else render_sweep(result, fmt), output)
        return
    if isinstance(loaded, Variants):
        plans = loaded.plan(**symbols) if not symbolic else {k: m.plan_symbolic(**symbols) for k, m in loaded.items()}
        text = html_report(plans, view) if fmt == "html" else render_plans(plans, fmt, view)
    else:
        one = loaded.plan_symbolic(**symbols) if symbolic else loaded.plan(**symbols)
        text = html_report(one, view) if fmt == "html" else render_plan(one, fmt, view)
    write_output(text, output)


def select_variants(loaded: Any, chosen: tuple[str, ...]) -> Any:
    """Keep the variants named with --variant (all when none is named)."""
    from .model import Variants

    if not chosen:
        return loaded
    if not isinstance(loaded, Variants):
        raise UsageError("--variant goes with a file that has variants")
    for name in chosen:
        loaded[name]  # raises with "did you mean"
    return Variants({k: loaded[k] for k in chosen}, file=loaded.file, name=loaded.name)


def one_model(loaded: Any, variant: str | None, command: str) -> Any:
    """The model a one-model command (memory, rf) works on: the file's, or its variant
    ``--variant`` (required in a file with variants, refused in one without)."""
    from .model import Variants

    if isinstance(loaded, Variants):
        if variant is None:
            raise UsageError(f"{command} works on one model; this file has variants",
                             fix="--variant " + " | --variant ".join(list(loaded)[:6]))
        return loaded[variant]
    if variant is not None:
        raise UsageError(f"--variant {variant}: this file has no variants", fix="drop --variant")
    return loaded


@cli.command()
@click.argument("models", nargs=-1, required=True, metavar="MODEL [MODEL ...]")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
@click.option("--variant", "variants", multiple=True, metavar="NAME", help="Only these variants (repeatable).")
@click.option("--partial", is_flag=True, help="Imported models: keep nodes convcalc cannot model as opaque rows "
              "(MACs unknown, totals as lower bounds) instead of refusing.")
@click.option("--baseline", metavar="NAME", help="The variant the ratios are taken against (default: the first).")
@click.option("--layers", "show_layers", is_flag=True, help="Add the per-layer side-by-side.")
@click.option("--symbolic", is_flag=True, help="Compare with the symbols symbolic (ratios as expressions).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the -o file's suffix, else text).")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (atomically) instead of standard output.")
@handle_errors
def compare(models: tuple[str, ...], sets: tuple[str, ...], variants: tuple[str, ...], partial: bool,
            baseline: str | None,
            show_layers: bool, symbolic: bool, fmt: str, output: str | None) -> None:
    """Variants side by side: output shape, params, MACs, FLOPs and activation memory, with the
    ratio to a baseline beside each figure.

    MODEL is a variants file, or several model files (each a column).
    """
    import os

    from .compare import compare as build
    from .compare import plan_variants, raise_first_failure
    from .importers import load_any as load
    from .model import Variants
    from .report import render_compare

    fmt = output_format(fmt, output)
    symbols = parse_sets(sets)
    models_by_name: dict[str, Any] = {}
    for path in models:
        loaded = select_variants(load(path, partial=partial), variants) if len(models) == 1 else load(
            path, partial=partial)
        entries = loaded.items() if isinstance(loaded, Variants) else [
            (loaded.name or os.path.splitext(os.path.basename(path))[0], loaded)]
        for name, m in entries:
            key, n = name, 1
            while key in models_by_name:  # the same name from several files: each keeps a column
                n += 1
                key = f"{os.path.basename(path)}:{name}" if n == 2 else f"{os.path.basename(path)}:{name}#{n - 1}"
            models_by_name[key] = m
    plans, failures = plan_variants(models_by_name, symbols, symbolic)
    if not plans:
        raise_first_failure(models_by_name, symbols, symbolic)
    unused = set(symbols) - set().union(*(p.used_symbols | set(p.symbols) for p in plans.values()))
    if unused:
        raise unknown_symbol_error(sorted(unused)[0], set().union(*(m.symbol_names() for m in models_by_name.values())))
    comparison = build(plans, baseline, failures, tuple(models_by_name))
    write_output(render_compare(comparison, fmt, show_layers, width=terminal_width(output)), output)
    if failures:
        raise Failure(f"error: {len(failures)} of {len(models_by_name)} variants could not be planned: "
                      + ", ".join(repr(n) for n in failures) + " (the comparison says why)", 1)


@cli.command()
@click.argument("model", metavar="MODEL")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
@click.option("--seed", type=AsciiInt(0, 2**63 - 1), default=0, show_default=True,
              help="Seed of the random inputs and weights (0 to 2**63 - 1).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--max-macs", type=Count(), default="20G", show_default=True, metavar="N",
              help="Refuse runs above N multiply-accumulates (2e10, 20G, 31.6 G).")
@click.option("--max-bytes", type=Count(binary=True), default="8GiB", show_default=True, metavar="SIZE",
              help="Refuse runs whose arrays would take more than SIZE at once (8GiB, 500MiB, 1.5e10).")
@click.option("--variant", "variants", multiple=True, metavar="NAME", help="Only these variants (repeatable).")
@click.option("--rf", is_flag=True, help="Check the receptive fields instead: the boxes the closed forms predict for "
              "the first, central and last element of every spatial layer against the executor's window walks.")
@handle_errors
def check(model: str, sets: tuple[str, ...], seed: int, fmt: str, max_macs: int, max_bytes: int,
          variants: tuple[str, ...], rf: bool) -> None:
    """Run MODEL on random arrays with the reference executor and compare every layer's output
    shape, parameters and MACs with the plan.

    Exit 0 when all agree, 3 on any disagreement (naming the first layer that differs), 1 for a
    wrong model, 2 for a usage error (a symbolic model needs --set).
    """
    import json

    from .check import check_plan
    from .importers import load_any as load
    from .model import Variants
    from .report import render_check, terminal

    symbols = parse_sets(sets)
    loaded = select_variants(load(model), variants)
    plans = loaded.plan(**symbols) if isinstance(loaded, Variants) else {None: loaded.plan(**symbols)}
    if rf:
        _check_fields(plans, fmt)
        return
    reports = {}
    for key, plan in plans.items():
        with Progress(f"check {key}" if key else "check") as bar:
            reports[key] = check_plan(plan, seed=seed, max_macs=max_macs, max_bytes=max_bytes, progress=bar.update)
    if fmt == "json":
        if None in reports:
            text = json.dumps(reports[None].to_dict(), indent=2)
        else:
            text = json.dumps({"variants": {k: r.to_dict() for k, r in reports.items()}}, indent=2)
    else:
        text = "\n".join((f"variant '{terminal(k)}':\n" if k else "") + render_check(r) for k, r in reports.items())
    write_output(text, None)
    failed = [(k, r) for k, r in reports.items() if not r.ok]
    if failed:
        key, report = failed[0]
        layer = report.first_difference
        assert layer is not None
        where = f"variant '{key}': " if key else ""
        message = (f"error: {where}layer '{layer.name}' ({layer.op}) differs from the reference executor: "
                   + "; ".join(layer.differences()))
        raise Failure(message, 3)


def _check_fields(plans: dict, fmt: str) -> None:
    """check --rf: every probe's predicted and measured box; exit 3 on the first disagreement."""
    import json

    from .check import check_fields
    from .report import render_field_check, terminal

    results = {key: check_fields(plan) for key, plan in plans.items()}
    if fmt == "json":
        def rows(checks: list) -> list[dict[str, Any]]:
            return [{"layer": c.layer, "position": list(c.position), "predicted": [list(b) if b else None for b in
                     c.predicted], "measured": [list(b) if b else None for b in c.measured], "ok": c.ok} for c in checks]
        text = json.dumps(rows(results[None]) if None in results else
                          {"variants": {k: rows(v) for k, v in results.items()}}, indent=2)
    else:
        text = "\n".join((f"variant '{terminal(k)}':\n" if k else "") + render_field_check(v) for k, v in results.items())
    write_output(text, None)
    for key, checks in results.items():
        bad = next((c for c in checks if not c.ok), None)
        if bad is not None:
            where = f"variant '{key}': " if key else ""
            raise Failure(f"error: {where}layer '{bad.layer}' at {list(bad.position)}: the predicted field "
                          f"{list(bad.predicted)} differs from the measured {list(bad.measured)}", 3)


class Progress:
    """A progress bar on stderr, drawn only once a run has taken more than a second (and only on
    a terminal); otherwise a single summary line for runs over a second."""

    def __init__(self, label: str) -> None:
        import time

        self.label = label
        self.start = time.perf_counter()
        self.drawn = False
        self.tty = sys.stderr.isatty()
        self.clock = time.perf_counter

    def update(self, done: int, total: int, name: str) -> None:
        elapsed = self.clock() - self.start
        if elapsed < 1.0 or not self.tty or total == 0:
            return
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name[:30]:<30}")
        sys.stderr.flush()
        self.drawn = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        elapsed = self.clock() - self.start
        if self.drawn:
            sys.stderr.write("\r" + " " * 80 + "\r")
        if elapsed >= 1.0 and not exc[0]:
            sys.stderr.write(f"{self.label}: ran in {elapsed:.1f} s\n")


@cli.command()
@click.argument("model", metavar="MODEL")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
@click.option("--layer", metavar="NAME", help="Solve for the arguments of this layer instead.")
@click.option("--output", "outputs", multiple=True, metavar="AXIS=SIZE",
              help="With --layer: the output size wanted along AXIS (H, W, D, or any name for 1-D).")
@click.option("--count", type=AsciiInt(1, 1000), default=8, show_default=True, help="How many valid sizes to list (1 to 1,000).")
@click.option("--variant", metavar="NAME", help="The variant to solve, in a file with variants.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--partial", is_flag=True, help="Imported models: keep nodes convcalc cannot model as opaque rows "
              "(MACs unknown, totals as lower bounds) instead of refusing.")
@handle_errors
def solve(model: str, sets: tuple[str, ...], layer: str | None, outputs: tuple[str, ...], count: int,
          variant: str | None, fmt: str, partial: bool) -> None:
    """Inverse problems. Without --layer: which input sizes are valid and exact, per symbol
    (smallest, period, residues), with the output size at the first ones. With --layer NAME
    --output H=100: every kernel/stride/padding/dilation/output_padding combination that makes
    that layer produce the size, under the model's framework rules.
    """
    import json

    from .importers import load_any as load
    from .model import Variants
    from .report import render_options, render_solution
    from .solve import parameter_options, solve_sizes

    symbols = parse_sets(sets)
    loaded = load(model, partial=partial)
    if isinstance(loaded, Variants):
        if variant is None:
            raise UsageError("solve works on one model; this file has variants",
                             fix="--variant " + " | ".join(loaded))
        loaded = loaded[variant]
    elif variant is not None:
        raise UsageError("--variant goes with a file that has variants")
    if layer is None:
        if outputs:
            raise UsageError("--output goes with --layer NAME")
        sol = solve_sizes(loaded, symbols, count)
        text = json.dumps(sol.to_dict(), indent=2) if fmt == "json" else render_solution(sol)
    else:
        if len(outputs) != 1:
            raise UsageError("give one --output AXIS=SIZE with --layer", fix="--output H=100")
        axis, sep, size = outputs[0].partition("=")
        target = ascii_int(size)
        if not sep or target is None or target < 1:
            raise UsageError(f"--output expects AXIS=SIZE with a positive integer SIZE (ASCII digits, at most "
                             f"{MAX_NUMBER_DIGITS}), got {quoted(outputs[0])}", fix="--output H=100")
        opts = parameter_options(loaded, layer, axis.strip(), target, symbols)
        text = json.dumps(opts.to_dict(), indent=2) if fmt == "json" else render_options(opts, loaded.framework)
        if not opts.options:
            write_output(text, None)
            raise Failure(f"error: no argument combination of '{layer}' gives {target}", 1)
    write_output(text, None)


@cli.command()
@click.argument("source", metavar="SRC")
@click.option("-o", "--output", metavar="FILE", help="Write the model file to FILE instead of standard output.")
@click.option("--input", "input_shape", metavar="SHAPE",
              help="torch:... sources: the input shape, batch first, sizes or symbols: --input 1,3,H,W.")
@click.option("--partial", is_flag=True, help="Keep nodes convcalc cannot model as Opaque layers.")
@handle_errors
def convert(source: str, output: str | None, input_shape: str | None, partial: bool) -> None:
    """Write the model file (YAML, in the source's own vocabulary) of SRC: an .onnx file, a Keras
    file (.keras, model.to_json() .json, .h5), or torch:PACKAGE.MODULE:CALLABLE — a factory of
    yours that convcalc imports and calls with no arguments (the only place convcalc runs your
    code, and only when you name it here). Planning the written file gives the plan of SRC.
    """
    from .importers import load_any
    from .loader import dump_model

    if source.startswith("torch:"):
        model = _torch_source(source, input_shape, partial)
    else:
        if input_shape:
            raise UsageError("--input goes with a torch:PACKAGE.MODULE:CALLABLE source")
        model = load_any(source, partial=partial)
    write_output(dump_model(model), output)


def _torch_source(source: str, input_shape: str | None, partial: bool) -> Any:
    """``torch:PACKAGE.MODULE:CALLABLE``: import the user's module, call the factory, trace it."""
    import importlib

    spec = source[len("torch:"):]
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"expected torch:PACKAGE.MODULE:CALLABLE, got {source!r}",
                         fix="torch:torchvision.models:resnet18 --input 1,3,224,224")
    if not input_shape:
        raise UsageError("a torch source needs --input", fix="--input 1,3,224,224 (or 1,3,H,W)")
    shape = [int(d) if d.strip().isascii() and d.strip().isdigit() else d.strip() for d in input_shape.split(",")]
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except Exception as e:  # noqa: BLE001 - the user's own code: whatever it raises is a usage problem
        raise UsageError(f"cannot import {module_name}:{attr}: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
                         if str(e) else f"cannot import {module_name}:{attr}: {type(e).__name__}") from None
    try:
        module = factory()
    except Exception as e:  # noqa: BLE001
        raise UsageError(f"{module_name}:{attr}() failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}") from None
    from .importers.torch_module import from_torch

    return from_torch(module, shape, partial=partial)


@cli.command()
@click.argument("model", metavar="MODEL")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
@click.option("--variant", default=None, metavar="NAME", help="The variant to measure, in a file with variants.")
@click.option("--batch", default=None, metavar="N",
              help="Replace the leading (batch) dimension of every input with N: a size (8) or a symbol "
                   "name (N: every figure a formula in N).")
@click.option("--train", is_flag=True, help="Also what a training step holds: weights, gradients, optimizer "
              "state, activations saved for the backward pass.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad"]),
              default="adam", show_default=True, help="With --train: whose state to count.")
@click.option("--amp", is_flag=True, help="Mixed precision as torch.autocast on a GPU (float16 or bfloat16: "
              "the same bytes): float32 weights as the master copy, half activations and weight copies.")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="Every tensor in this type instead of the model's (float32 unless the file says).")
@click.option("--device-memory", "device", type=Count(binary=True), default=None, metavar="SIZE",
              help="The largest batch that fits in SIZE (80GiB, 16G, 1.5e10), for inference and for training, "
                   "solved from the closed form in the batch.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def memory(model: str, sets: tuple[str, ...], variant: str | None, batch: str | None, train: bool, optimizer: str,
           amp: bool, dtype: str | None, device: int | None, fmt: str) -> None:
    """Memory of MODEL: per layer its output, the bytes alive once it has run and, with --train,
    what it saves for the backward pass; the inference peak and, with --train, a training step's
    total (PyTorch's rules; exact against torch on CPU, see the README's conventions).
    """
    import json

    from .importers import load_any as load
    from .memory import (
        inference_peak,
        largest_batch,
        precision,
        saved_activations,
        training_memory,
        with_batch,
        with_dtype,
    )
    from .report import memory_text

    loaded = one_model(load(model), variant, "memory")
    if dtype is not None:
        loaded = with_dtype(loaded, dtype)
    if amp and loaded.dtype != "float32":
        raise UsageError(f"--amp starts from float32 weights; this model is {loaded.dtype}",
                         fix="drop --dtype (autocast keeps float32 weights and computes in half)")
    policy = "cuda" if amp else None
    symbols = parse_sets(sets)
    fits = largest_batch(loaded, device, optimizer, symbols, policy) if device is not None else None
    batch_value = _batch_value(batch) if batch is not None else None
    if batch_value is not None:
        loaded = with_batch(loaded, batch_value)
    plan = (loaded.plan_symbolic(batch_value, **symbols) if isinstance(batch_value, str) else loaded.plan(**symbols))
    prec = precision(plan, policy)
    peak = inference_peak(plan, policy)
    saved = saved_activations(plan, policy) if train else None
    training = training_memory(plan, optimizer, policy) if train else None
    output_bytes = [prec.output_bytes(ly) for ly in plan.layers]
    if fmt == "json":
        report: dict[str, Any] = {"batch": batch_value, "dtype": "autocast float16" if amp else plan.dtype,
                                  "inference": peak.to_dict(),
                                  "layers": [{"name": ly.name, "output_bytes": json_dim(out),
                                              "live_bytes_after": json_dim(live)} for ly, out, (_, live) in
                                             zip(plan.layers, output_bytes, peak.after)]}
        if training is not None and saved is not None:
            report["training"] = {"optimizer": optimizer, **training.to_dict()}
            for row, (_, b) in zip(report["layers"], saved.per_layer):
                row["saved_bytes"] = json_dim(b)
        if fits is not None:
            report["max_batch"] = fits
        text = json.dumps(report, indent=2)
    else:
        text = memory_text(plan, peak, saved, training, optimizer, output_bytes, amp)
        if fits is not None:
            text += (f"largest batch in {device:,} bytes: inference {fits['inference'] or 'none'}, training "
                     f"({optimizer}) {fits['training'] or 'none'}\n")
    write_output(text, None)


def _batch_value(text: str) -> int | str:
    """``--batch``: a size from 1 to 2**31, or a symbol name."""
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit() and len(stripped) <= 12:
        value = int(stripped)
        if 1 <= value <= 2**31:
            return value
        raise UsageError(f"--batch {text}: a batch is from 1 to {2**31:,}")
    if stripped.isascii() and stripped.isidentifier() and len(stripped) <= 64:
        return stripped
    raise UsageError(f"--batch {text[:40]!r} is neither a size nor a symbol name", fix="--batch 8, or --batch N")


@cli.command()
@click.argument("model", metavar="MODEL")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=SET_HELP)
@click.option("--variant", default=None, metavar="NAME", help="The variant, in a file with variants.")
@click.option("--layer", default=None, metavar="NAME", help="Only this layer.")
@click.option("--at", "at", default=None, metavar="AXIS=I[,AXIS=I]",
              help="With --layer: the input box that output cell sees (H=3,W=4: by the axis names of the "
                   "input shape, or by tensor axis number 2=3).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def rf(model: str, sets: tuple[str, ...], variant: str | None, layer: str | None, at: str | None, fmt: str) -> None:
    """Receptive fields of MODEL's spatial layers: per spatial axis the field's size in input
    pixels, the effective stride (jump) and where output element 0's field starts (negative:
    in the padding). Output element i sees start + i*stride .. start + i*stride + size - 1.
    """
    import json

    from .importers import load_any as load
    from .receptive import ElementBoxes, receptive_fields
    from .report import render_fields

    loaded = one_model(load(model), variant, "rf")
    plan = loaded.plan(**parse_sets(sets))
    if layer is not None:
        try:
            ly = plan.layer(layer)
        except KeyError as e:
            raise UsageError(str(e.args[0]).replace("..", ".")) from None
    if at is not None:
        if layer is None:
            raise UsageError("--at goes with --layer", fix="--layer NAME --at H=3,W=4")
        if plan.is_symbolic:
            raise UsageError("--at needs concrete sizes", fix="--set H=224 --set W=224 (every symbol)")
        boxes = ElementBoxes(plan)
        index = _cell_index(at, loaded, plan, layer, boxes.axes(layer))
        box = boxes.cell(layer, index)
        if fmt == "json":
            text = json.dumps({"layer": layer, "at": {str(k): v for k, v in index.items()},
                               "box": {str(ax): list(b) if b else None for ax, b in box.items()}}, indent=2)
        else:
            field = boxes.fields[layer]
            text = render_fields(plan, boxes.fields, [layer]) + "\n" + _box_text(plan, field, ly, index, box)
        write_output(text, None)
        return
    fields = receptive_fields(plan)
    names = [layer] if layer else [ly.name for ly in plan.layers]
    if fmt == "json":
        text = json.dumps({"layers": [{"name": n, "receptive_field": fields[n].to_dict(), "notes": list(fields[n].notes)}
                                      for n in names]}, indent=2)
    else:
        text = render_fields(plan, fields, names)
    write_output(text, None)


def _cell_index(text: str, model: Any, plan: Any, layer: str, axes: list[int]) -> dict[int, int]:
    """``H=3,W=4`` (the symbols of the model input's shape) or ``2=3,3=4`` (tensor axes) -> {axis: i}."""
    shape = plan.layer(layer).output_shape
    written = next(iter(model.inputs.values()), ())
    names = {d.strip(): i for i, d in enumerate(written) if isinstance(d, str)}
    out: dict[int, int] = {}
    for part in text.split(","):
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not value.lstrip("-").isdigit() or len(value) > 12:
            raise UsageError(f"--at {text!r}: write AXIS=INDEX pairs", fix="--at H=3,W=4")
        ax = int(key) if key.isdigit() else names.get(key)
        if ax is None or ax not in axes:
            raise UsageError(f"--at: {key!r} is not a spatial axis of layer {layer!r} (its spatial axes: "
                             f"{', '.join(str(a) for a in axes)})", fix="--at 2=3,3=4 (tensor axes)")
        i = int(value)
        if not 0 <= i < int(shape[ax]):
            raise UsageError(f"--at {key}={i}: layer {layer!r} has {shape[ax]} positions on that axis (0 to "
                             f"{int(shape[ax]) - 1})")
        out[ax] = i
    return out


def _box_text(plan: Any, field: Any, ly: Any, index: dict[int, int], box: dict) -> str:
    """The box one output cell sees, per spatial axis, and its part inside the input."""
    parts = []
    for (ax, b), a in zip(box.items(), field.axes):
        if b is None or a is None:
            parts.append(f"axis {ax}: nothing (this element sees only padding, or a bias)")
            continue
        lo, hi = b
        n = int(plan.inputs[a.input][a.axis])
        inside = f"; inside the input: {max(lo, 0)}..{min(hi, n - 1)}" if lo < 0 or hi >= n else ""
        parts.append(f"axis {ax} position {index.get(ax, 0)}: {a.input} axis {a.axis}, pixels {lo}..{hi} "
                     f"({hi - lo + 1}){inside}")
    return f"{ly.name} at {', '.join(f'{ax}={i}' for ax, i in index.items())} sees:\n  " + "\n  ".join(parts) + "\n"


@cli.command()
@click.argument("framework", required=False)
@handle_errors
def ops(framework: str | None) -> None:
    """List the ops convcalc knows, for one FRAMEWORK (keras, tf.keras, pytorch, onnx) or all."""
    from .frontends import FRAMEWORKS, framework_registry

    regs = [framework_registry(framework)] if framework else list(FRAMEWORKS.values())
    lines = []
    for reg in regs:
        lines.append(f"{reg.display} (framework: {reg.framework}): {len(reg.ops)} ops")
        lines += [f"  {name}({', '.join(reg.ops[name].listed_args)})" for name in sorted(reg.ops)]
    write_output("\n".join(lines), None)  # a full disk is a usage error, as for every command


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point. A reader that goes away (``convcalc ops | head -1``) ends
    convcalc quietly, as it ends other Unix tools: SIGPIPE keeps its default action."""
    import signal

    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    cli.main(args=argv, prog_name="convcalc")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
