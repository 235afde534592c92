"""convcalc: plan convolutional networks on paper.

Exact shapes, parameters, MACs and memory for every layer, under Keras, tf.keras, PyTorch and
ONNX semantics, as numbers or as closed forms in symbolic sizes.

    >>> import convcalc
    >>> model = convcalc.Model(framework="pytorch", input=[1, 3, 224, 224])
    >>> plan = model.add("Conv2d", out_channels=64, kernel_size=7, stride=2, padding=3, bias=False).plan()
    >>> plan.layers[0].output_shape, plan.totals.params, plan.totals.macs
    ((1, 64, 112, 112), 9408, 118013952)

``convcalc.load("model.yaml")`` reads a model file (docs/model-file.md); ``plan.table("markdown")`` and
``plan.to_json()`` render the report (docs/json.md).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from .errors import ArgumentError, ConvcalcError, ModelError, ShapeError, UsageError

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Layer
    from .model import Model, Variants
    from .plan import LayerPlan, Plan, Totals

# The engine is imported on first use, so that `import convcalc.reference` (the independent
# executor) loads nothing of the planner, and `import convcalc` stays cheap. This face is the
# top of the package: handing out the planner, it also loads the report, which registers the
# renderer behind Plan.table (the planner itself never imports the report).
_LAZY = {"Layer": "graph", "Model": "model", "Variants": "model", "LayerPlan": "plan", "Plan": "plan",
         "Totals": "plan"}


def _planner(module: str) -> Any:
    importlib.import_module(".report", __name__)
    return importlib.import_module(f".{module}", __name__)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(_planner(_LAZY[name]), name)
    raise AttributeError(f"module 'convcalc' has no attribute {name!r}")


def load(path: str) -> Model | Variants:
    """Load a model: a YAML model file (a :class:`Model`, or :class:`Variants` when it has
    ``variants``), an ``.onnx`` file or a Keras file, chosen by suffix and content.

        >>> import convcalc
        >>> convcalc.load("examples/resnet50.yaml").plan().totals.macs
        4089184256
        >>> sorted(convcalc.load("examples/conv3d_vs_conv2d.yaml"))
        ['conv2d_time_as_channels', 'conv3d']
    """
    return _planner("importers").load_any(path)


def from_onnx(source: Any, *, name: str | None = None, partial: bool = False) -> Model:
    """A :class:`Model` (framework ``onnx``) from an ``.onnx`` file or a loaded ``onnx.ModelProto``
    (needs the ``onnx`` extra: ``pip install '.[onnx]'``); ``dim_param`` sizes become symbols.
    ``partial``: keep nodes convcalc cannot model as opaque layers (MACs unknown, totals lower bounds).

        >>> import convcalc
        >>> convcalc.from_onnx("examples/resnet50.onnx").plan(H=224, W=224).totals.macs  # its H, W are symbols
        4089184256
    """
    return _planner("importers.onnx_file").from_onnx(source, name=name, partial=partial)


def from_keras(source: Any, *, name: str | None = None, partial: bool = False) -> Model:
    """A :class:`Model` (framework ``keras`` or ``tf.keras``, from the file's own version fields)
    from a ``.keras`` file, ``model.to_json()`` text or file, an ``.h5`` file, a config dict, or a
    live Keras model; only the architecture is read, never weights or code.

        >>> import convcalc
        >>> convcalc.from_keras("examples/mobilenet_v2.keras").plan().totals.params
        3538984
    """
    return _planner("importers.keras_file").from_keras(source, name=name, partial=partial)


def from_torch(module: Any, input_shape: Any, *, name: str | None = None, partial: bool = False) -> Model:
    """A :class:`Model` (framework ``pytorch``) from an ``nn.Module`` (your own torch), traced
    with torch.fx on fake tensors; ``input_shape`` may hold symbol names: ``(1, 3, "H", "W")``.
    ``partial``: keep calls convcalc cannot model as opaque layers (MACs unknown)."""
    return _planner("importers.torch_module").from_torch(module, input_shape, name=name, partial=partial)


def loads(text: str, file: str | None = None) -> Model | Variants:
    r"""Load a model from YAML text (``file`` names it in errors).

        >>> import convcalc
        >>> convcalc.loads("framework: pytorch\ninput: [1, 3, 32, 32]\nlayers:\n  - {op: MaxPool2d, kernel_size: 2}\n"
        ...                ).plan().layers[0].output_shape
        (1, 3, 16, 16)
    """
    return _planner("loader").loads(text, file)


def compare(models: Any, baseline: str | None = None, **symbols: int) -> Any:
    """Variants side by side, as ``convcalc compare`` shows them: a
    :class:`~convcalc.compare.Comparison` (``.plans``, ``.ratio(name, "macs")``, ``.failures``,
    ``.to_dict()``). ``models``: a file's :class:`Variants`, a path, or a mapping of names to
    models or plans; a variant that cannot be planned is kept in ``.failures`` with its error.

        >>> import convcalc
        >>> c = convcalc.compare("examples/conv3d_vs_conv2d.yaml")
        >>> c.ratio("conv2d_time_as_channels", "macs")
        Fraction(1, 5)
    """
    compare_mod = _planner("compare")
    if isinstance(models, str):
        models = load(models)
    models = dict(models)
    plans, failures = compare_mod.plan_variants(models, symbols)
    if not plans:
        compare_mod.raise_first_failure(models, symbols)
    return compare_mod.compare(plans, baseline, failures, tuple(models))


def solve(model: Any, layer: str | None = None, output: str | None = None, **symbols: int) -> Any:
    """``convcalc solve``: the valid input sizes of ``model`` (a :class:`~convcalc.solve.SizeSolution`:
    per symbol the smallest size, the period and residues, ``.values(n)``), or, with ``layer``
    and ``output`` (``"H=100"``), the argument combinations of that layer that give the size.

        >>> import convcalc
        >>> convcalc.solve("examples/unet_symbolic.yaml").symbols["H"].values(3)
        [188, 204, 220]
    """
    solve_mod = _planner("solve")
    if isinstance(model, str):
        model = load(model)
    if layer is None:
        return solve_mod.solve_sizes(model, symbols)
    axis, sep, size = (output or "").partition("=")
    if not sep or not size.strip().isdigit():
        raise UsageError(f"output must be AXIS=SIZE, such as 'H=100', got {output!r}")
    return solve_mod.parameter_options(model, layer, axis.strip(), int(size), symbols)


def check(model: Any, *, seed: int = 0, **symbols: int) -> Any:
    """``convcalc check``: run ``model`` (a model, a path, or a plan) with the reference executor
    on seeded random arrays and compare every layer with the plan; a
    :class:`~convcalc.check.CheckReport` (``.ok``, ``.layers``).

        >>> import convcalc
        >>> convcalc.check("examples/resnet50.yaml", H=32, W=32).ok
        True
    """
    if isinstance(model, str):
        model = load(model)
    plan = model if isinstance(model, _planner("plan").Plan) else model.plan(**symbols)
    return _planner("check").check_plan(plan, seed=seed)


def __dir__() -> list[str]:
    return sorted(__all__)


class _Face(types.ModuleType):
    """``convcalc.compare``, ``.solve`` and ``.check`` are the functions above, although
    ``convcalc/compare.py`` (and the others) are submodules of the same names: importing a
    submodule sets the package's attribute to it, which would replace the function. A property
    on the module's class wins over that attribute (a data descriptor), and its setter leaves the
    submodule in ``sys.modules`` only, where ``from convcalc.compare import ...`` finds it."""

    compare = property(lambda self: _FUNCTIONS["compare"], lambda self, module: None)
    solve = property(lambda self: _FUNCTIONS["solve"], lambda self, module: None)
    check = property(lambda self: _FUNCTIONS["check"], lambda self, module: None)


_FUNCTIONS = {"compare": compare, "solve": solve, "check": check}
sys.modules[__name__].__class__ = _Face


__all__ = [
    "ArgumentError",
    "ConvcalcError",
    "Layer",
    "LayerPlan",
    "Model",
    "ModelError",
    "Plan",
    "ShapeError",
    "Totals",
    "UsageError",
    "Variants",
    "check",
    "compare",
    "from_keras",
    "from_onnx",
    "from_torch",
    "load",
    "loads",
    "solve",
]
