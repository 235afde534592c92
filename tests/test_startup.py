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
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True,
                         cwd=EXAMPLES.parent)
    names = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    return {n.split(".")[0] for n in names} - {"name"}


def test_a_concrete_plan_imports_only_what_it_needs():
    baseline = _top_level_imports("pass")  # the interpreter's own start-up (site, .pth files)
    used = _top_level_imports("import sys; from convcalc.cli import main; "
                              "sys.argv = ['convcalc', 'plan', 'examples/resnet50.yaml']; "
                              "import contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n"
                              "    try: main(sys.argv[1:])\n    except SystemExit: pass")
    extra = used - baseline - set(sys.stdlib_module_names)
    assert not extra & NEVER, sorted(extra & NEVER)
    assert extra <= ALLOWED_THIRD_PARTY, f"new top-level imports: {sorted(extra - ALLOWED_THIRD_PARTY)}"
    assert "convcalc" in extra and "yaml" in extra
