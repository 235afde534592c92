"""What a concrete `convcalc plan` imports: the set must not grow (issue 14). The plan's own
modules, the standard library, PyYAML and click; never sympy (no symbol), numpy (no sweep, no
check), tabulate (text tables are drawn by convcalc) or an importer's framework."""

from __future__ import annotations

import subprocess
import sys

from .conftest import EXAMPLES

ALLOWED_THIRD_PARTY = {"convcalc", "yaml", "_yaml", "click",
                       "org"}  # not a package: the standard library's copy module probes for Jython's org.python
NEVER = {"sympy", "numpy", "tabulate", "wcwidth", "matplotlib", "torch", "onnx", "h5py", "mpmath"}


def _top_level_imports(code: str) -> set[str]:
    """The top-level packages in ``sys.modules`` once ``code`` has run (every import counts,
    importlib.import_module's too, which ``-X importtime`` does not list)."""
    probe = code + "\nimport sys as _s\n_s.__stdout__.write(' '.join(sorted({m.split('.')[0] for m in _s.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=EXAMPLES.parent)
    return set(out.stdout.split())


def test_a_concrete_plan_imports_only_what_it_needs():
    baseline = _top_level_imports("pass")  # the interpreter's own start-up (site, .pth files)
    used = _top_level_imports("import sys; from convcalc.cli import main; "
                              "sys.argv = ['convcalc', 'plan', 'examples/resnet50.yaml']; "
                              "import contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n"
                              "    try: main(sys.argv[1:])\n    except SystemExit: pass")
    extra = used - baseline - set(sys.stdlib_module_names)
    # PyYAML's C loader is Cython-built: its runtime registers modules named after Cython's version
    extra = {m for m in extra if m != "cython_runtime" and not m.startswith("_cython_")}
    assert not extra & NEVER, sorted(extra & NEVER)
    assert extra <= ALLOWED_THIRD_PARTY, f"new top-level imports: {sorted(extra - ALLOWED_THIRD_PARTY)}"
    assert "convcalc" in extra and "yaml" in extra
