"""The package's imports flow one way (design.md §1): read every module's imports with ``ast``
and fail on a cycle, on an import that runs up the layers, and on an edge library imported
outside its edge module.

Layers, bottom first (a module may import its own layer and those below it, never above)::

    errors
    dims, algebra, constraints      sizes and the sympy algebra under them
    formulas, figures               one function per arithmetic fact; the figures reported
    ir                              canonical layers
    frontends/                      framework vocabulary -> IR
    graph, plan                     the layer graph and its walk
    model                           the Python model (builds plans)
    compare, solve, sweep, check,   analyses of plans
    memory, receptive
    loader, importers/, report/,    edges: files and other frameworks' models, rendering, the
    cli, face                       command line, the package face

``reference/`` is the independent executor: numpy and the standard library only, imported by
``check`` alone. Imports under ``if TYPE_CHECKING:`` are annotations, not dependencies, and are
not counted.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "convcalc"

LAYERS: list[tuple[str, ...]] = [
    ("errors",),
    ("dims", "algebra", "constraints"),
    ("formulas", "figures"),
    ("ir",),
    ("frontends",),
    ("graph", "plan", "blocks"),
    ("model",),
    ("compare", "solve", "sweep", "check", "memory", "receptive"),
    ("loader", "importers", "report", "cli", "__init__", "__main__"),
]
# Third-party libraries that belong to one edge module each (style.md: the edges read files,
# print and draw; nothing else imports their libraries).
EDGE_LIBRARIES = {"yaml": {"loader"}, "click": {"cli"}, "tabulate": {"report.render"},
                  "matplotlib": {"report.plot"}, "onnx": {"importers.onnx_file"}, "torch": {"importers.torch_module"},
                  "h5py": {"importers.keras_file"}}
REFERENCE_MAY_IMPORT = {"numpy"}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Absolute module names imported by ``path`` (runtime imports only), with their lines."""
    tree = ast.parse(path.read_text(), str(path))
    own = module_name(path)
    if path.name == "__init__.py":
        package = "" if own == "__init__" else own  # the package face is convcalc itself
    else:
        package = own.rpartition(".")[0]
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".") if package else []
                    base = base[: len(base) - (child.level - 1)] if child.level > 1 else base
                    target = ".".join(["convcalc", *base, *([child.module] if child.module else [])])
                    if child.module is None:  # from . import x: x may be a module
                        found.extend((f"{target}.{alias.name}", child.lineno) for alias in child.names)
                        continue
                else:
                    target = child.module or ""
                found.append((target, child.lineno))
            visit(child)

    visit(tree)
    return found


def internal(name: str, modules: set[str]) -> str | None:
    """The convcalc module ``name`` refers to (a package's name stands for its __init__)."""
    if name != "convcalc" and not name.startswith("convcalc."):
        return None
    rel = name[len("convcalc."):] if name != "convcalc" else "__init__"
    while rel and rel not in modules:
        rel = rel.rpartition(".")[0]
    return rel or "__init__"


def graph() -> dict[str, dict[str, int]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    edges: dict[str, dict[str, int]] = {}
    for p in paths:
        src = module_name(p)
        out = edges.setdefault(src, {})
        for name, line in imports_of(p):
            dst = internal(name, modules)
            if dst is not None and dst != src:
                out.setdefault(dst, line)
    return edges


def layer_of(module: str) -> int | None:
    top = module.split(".")[0]
    for i, members in enumerate(LAYERS):
        if top in members or module in members:
            return i
    return None


def find_cycle(edges: dict[str, dict[str, int]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, {}):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None and (found := dfs(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if state.get(node) is None and (found := dfs(node)):
            return found
    return None


def test_every_module_has_a_layer():
    missing = [m for m in graph() if not m.startswith("reference") and layer_of(m) is None]
    assert not missing, f"modules without a layer in tests/test_architecture.py LAYERS: {missing}"


def test_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports_never_run_up_the_layers():
    bad = []
    for src, dsts in graph().items():
        if src.startswith("reference"):
            continue
        for dst, line in dsts.items():
            if dst.startswith("reference"):
                if src != "check":
                    bad.append(f"convcalc/{src}:{line} imports the reference executor (only check may)")
                continue
            a, b = layer_of(src), layer_of(dst)
            if a is not None and b is not None and b > a:
                bad.append(f"convcalc/{src}:{line} imports {dst}, a layer above it ({LAYERS[b]} over {LAYERS[a]})")
    assert not bad, "\n".join(bad)


def test_reference_imports_numpy_and_the_stdlib_only():
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    bad = []
    for path in sorted((PACKAGE / "reference").rglob("*.py")):
        for name, line in imports_of(path):
            top = name.split(".")[0]
            if name.startswith("convcalc.reference") or top in stdlib or top in REFERENCE_MAY_IMPORT:
                continue
            bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_edge_libraries_stay_in_their_edge_modules():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        mod = module_name(path)
        for name, line in imports_of(path):
            top = name.split(".")[0]
            if top in EDGE_LIBRARIES and mod not in EDGE_LIBRARIES[top]:
                bad.append(f"convcalc/{mod}:{line} imports {top} (only {sorted(EDGE_LIBRARIES[top])} may)")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_a_cycle_and_an_upward_import():
    """The rules above would fail on today's kind of mistake: a plan that imports the report."""
    edges = {"plan": {"report": 1}, "report": {"plan": 2}}
    assert find_cycle(edges) == ["plan", "report", "plan"]
    assert layer_of("report.render") > layer_of("plan") > layer_of("ir")
