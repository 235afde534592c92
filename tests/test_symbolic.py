"""Symbolic sizes: closed forms equal concrete plans, canonical forms stay small, constraints and
solutions are right, sweeps equal concrete plans."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.algebra import SYMPY_LOCALS, compile_int
from convcalc.cli import cli
from convcalc.constraints import describe
from convcalc.dims import ceildiv, floordiv, fmt_dim, parse_dim, subs, symbol
from convcalc.errors import ModelError
from convcalc.solve import parameter_options, solve_sizes
from convcalc.sweep import sweep

from .conftest import EXAMPLES

H = symbol("H")

# --------------------------------------------------------------------------- property: symbolic == concrete

TORCH_LAYERS = st.one_of(
    st.fixed_dictionaries({"op": st.just("Conv2d"), "out_channels": st.integers(1, 4), "kernel_size": st.integers(1, 5),
                           "stride": st.integers(1, 3), "padding": st.integers(0, 2), "dilation": st.integers(1, 2)}),
    st.fixed_dictionaries({"op": st.just("ConvTranspose2d"), "out_channels": st.integers(1, 3),
                           "kernel_size": st.integers(1, 4), "stride": st.integers(1, 3), "padding": st.integers(0, 1)}),
    st.fixed_dictionaries({"op": st.sampled_from(["MaxPool2d", "AvgPool2d"]), "kernel_size": st.integers(1, 3),
                           "stride": st.integers(1, 3), "ceil_mode": st.booleans()}),
    st.fixed_dictionaries({"op": st.just("ZeroPad2d"), "padding": st.lists(st.integers(0, 3), min_size=4, max_size=4)}),
    st.fixed_dictionaries({"op": st.just("Upsample"), "scale_factor": st.sampled_from([2, 3])}),
    st.fixed_dictionaries({"op": st.just("AdaptiveAvgPool2d"), "output_size": st.sampled_from([[4, None], [None, 3]])}),
    st.fixed_dictionaries({"op": st.just("BatchNorm2d")}),
    st.fixed_dictionaries({"op": st.just("ReLU")}),
)
KERAS_LAYERS = st.one_of(
    st.fixed_dictionaries({"op": st.just("Conv2D"), "filters": st.integers(1, 4), "kernel_size": st.integers(1, 5),
                           "strides": st.integers(1, 3), "padding": st.sampled_from(["valid", "same"])}),
    st.fixed_dictionaries({"op": st.just("Conv2DTranspose"), "filters": st.integers(1, 3),
                           "kernel_size": st.integers(1, 4), "strides": st.integers(1, 3),
                           "padding": st.sampled_from(["valid", "same"])}),
    st.fixed_dictionaries({"op": st.sampled_from(["MaxPooling2D", "AveragePooling2D"]), "pool_size": st.integers(1, 3),
                           "padding": st.sampled_from(["valid", "same"])}),
    st.fixed_dictionaries({"op": st.just("Cropping2D"), "cropping": st.integers(0, 2)}),
    st.fixed_dictionaries({"op": st.just("UpSampling2D"), "size": st.integers(1, 3)}),
    st.fixed_dictionaries({"op": st.just("BatchNormalization")}),
)


@st.composite
def symbolic_models(draw):
    keras = draw(st.booleans())
    layers = draw(st.lists(KERAS_LAYERS if keras else TORCH_LAYERS, min_size=1, max_size=6))
    if draw(st.booleans()):  # a skip connection merged back with a centre crop
        layers.append({"op": "CropTo", "name": "crop", "inputs": ["input", f"l{len(layers) - 1}"]})
    named = [{**ly, "name": ly.get("name", f"l{i}")} for i, ly in enumerate(layers)]
    shape = ["N", "H", "W", 2] if keras else ["N", 2, "H", "W"]
    return {"framework": "keras" if keras else "pytorch", "input": shape, "layers": named}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(symbolic_models(), st.integers(1, 40), st.integers(1, 40), st.integers(1, 3))
def test_symbolic_plan_substituted_equals_concrete_plan(model, h, w, n):
    """Layer by layer: shapes, params, MACs, activation bytes; an invalid size is refused by the
    concrete plan exactly when a symbolic validity or merge constraint fails there."""
    m = convcalc.Model.from_dict(model)
    try:
        symbolic = m.plan()
    except ModelError:
        return  # refused whatever the sizes (e.g. a crop that can never fit)
    point = {"H": h, "W": w, "N": n}
    failing = [c for c in symbolic.constraints if c.kind not in ("exact", "invertible")
               and not _holds(c, point)]
    try:
        concrete = m.plan(**point)
    except ModelError:
        assert failing, f"concrete plan refused H={h}, W={w} but no symbolic constraint fails there"
        return
    assert not failing, f"constraints fail at H={h}, W={w} yet the concrete plan works: {failing}"
    for s, c in zip(symbolic.layers, concrete.layers):
        assert tuple(subs(d, point) for d in s.output_shape) == c.output_shape, s.name
        assert subs(s.params, point) == c.params, s.name
        assert subs(s.macs, point) == c.macs, s.name
        assert subs(s.activation_bytes, point) == c.activation_bytes, s.name
    exact_fails = [c for c in symbolic.constraints if c.kind == "exact" and not _holds(c, point)]
    # Rows never read for every size (or windows narrower than their stride) are already notes.
    assert bool(exact_fails or symbolic.notes) == bool(concrete.notes), (exact_fails, concrete.notes)
    inverse_fails = [c for c in symbolic.constraints if c.kind == "invertible" and not _holds(c, point)]
    assert bool(inverse_fails or symbolic.inversion_notes) == bool(concrete.inversion_notes)


def _holds(c, point) -> bool:
    from convcalc.algebra import compile_condition

    return bool(compile_condition(c.lhs, c.op, c.rhs)(**{k: np.array([v]) for k, v in point.items()})[0])


# --------------------------------------------------------------------------- canonical forms


def test_resnet50_ends_at_one_rounding():
    plan = convcalc.load(str(EXAMPLES / "resnet50.yaml")).plan_symbolic()
    last = plan.layer("layer4.2.relu3").output_shape
    assert [fmt_dim(d) for d in last] == ["1", "2048", "ceil(H/32)", "ceil(W/32)"]
    assert fmt_dim(plan.layer("conv1").output_shape[2]) == "ceil(H/2)"
    assert fmt_dim(plan.layer("maxpool").output_shape[2]) == "ceil(H/4)"


@pytest.mark.parametrize(
    "build,text",
    [
        (lambda: floordiv(floordiv(H, 2), 3), "floor(H/6)"),
        (lambda: ceildiv(ceildiv(H, 4), 8), "ceil(H/32)"),
        (lambda: floordiv(H - 1, 2) + 1, "ceil(H/2)"),
        (lambda: floordiv(floordiv(H - 4, 2) - 4, 2), "floor(H/4) - 3"),
        (lambda: floordiv(ceildiv(H, 2) - 1, 2) + 1, "ceil(H/4)"),
        (lambda: floordiv(H + 1, 3), "floor((H + 1)/3)"),
        (lambda: floordiv(2 * H + 7, 2), "H + 3"),
        (lambda: floordiv(H * H - 1, 4), "ceil(H**2/4) - 1"),
        (lambda: ceildiv(3 * floordiv(H, 2), 2), "ceil(3*floor(H/2)/2)"),
    ],
)
def test_rounding_chains_collapse(build, text):
    expr = build()
    assert fmt_dim(expr) == text
    xs = np.arange(1, 300)
    assert (compile_int(expr)(H=xs) == compile_int(parse_dim(text))(H=xs)).all()


def test_chain_identities_hold_numerically():
    """floor(floor(x/a)/b) = floor(x/(ab)) and the ceil version, on every size 1..999."""
    xs = np.arange(1, 1000)
    for a in range(1, 6):
        for b in range(1, 6):
            for c in range(-3, 4):
                e = floordiv(floordiv(H + c, a), b)
                assert (compile_int(e)(H=xs) == (xs + c) // a // b).all()
                e = ceildiv(ceildiv(H + c, a), b)
                inner = -((-(xs + c)) // a)  # ceil((x + c)/a)
                assert (compile_int(e)(H=xs) == -((-inner) // b)).all()


def deep_chain(depth: int = 100) -> convcalc.Model:
    """Conv1d layers with every fifth one strided (a conv, then a max pool): 20 halvings per 100."""
    model = convcalc.Model(framework="pytorch", input=[1, 1, "H"])
    for i in range(depth):
        if i % 10 == 0:
            model.add("Conv1d", out_channels=1, kernel_size=3, stride=2, padding=1)
        elif i % 10 == 5:
            model.add("MaxPool1d", kernel_size=3, stride=2, padding=1)
        else:
            model.add("Conv1d", out_channels=1, kernel_size=3, padding=1)
    return model


def test_expression_size_stays_bounded_over_depth():
    """100 layers of stride-2 / stride-1 convs and pools: still one rounding, a handful of ops."""
    last = deep_chain(100).plan().layers[-1].output_shape[-1]
    assert sympy.count_ops(last) <= 4  # ceil(H/2**20): one division, one rounding
    assert fmt_dim(last) == "ceil(H/1048576)"


# --------------------------------------------------------------------------- printing and parsing back


@pytest.mark.parametrize("text", ["floor((H - 1)/2) + 1", "ceil(H/32)", "16*floor((H + 4)/16) - 188", "H % 16",
                                  "max(H, 3) + min(W, 2)", "floor((H**2 + 3)/4)"])
def test_textbook_round_trip(text):
    expr = parse_dim(text)
    printed = fmt_dim(expr)
    assert parse_dim(printed) == expr
    _same_values(sympy.sympify(printed, locals=SYMPY_LOCALS), expr)  # JSON strings parse back with sympy


def _same_values(plain, ours) -> None:
    """Equal at many integer points (sympify makes symbols without our integer assumptions)."""
    for h in range(1, 60, 7):
        for w in (1, 5, 12):
            point = {"H": h, "W": w}
            a = plain.subs({sympy.Symbol(k): v for k, v in point.items()})
            assert a == subs(ours, point), (plain, ours, point)


def test_json_of_a_symbolic_plan_parses_back():
    plan = convcalc.load(str(EXAMPLES / "unet_symbolic.yaml")).plan()
    report = json.loads(plan.to_json())
    for ly, entry in zip(plan.layers, report["layers"]):
        for d, text in zip(ly.output_shape, entry["output_shape"]):
            if isinstance(text, int):
                assert text == d
            else:
                _same_values(sympy.sympify(text, locals=SYMPY_LOCALS), d)
    # Valid U-Net sizes: every row read (valid convolutions, 2x2 pools on even sizes), and then a
    # transposed convolution gives each size back too.
    assert report["constraints"] == ["H >= 188", "W >= 188", "H % 16 == 12", "W % 16 == 12", "H % 16 == 12",
                                     "W % 16 == 12"]
    assert report["constraints_by_kind"]["exact"] == ["H % 16 == 12", "W % 16 == 12"]
    assert report["constraints_by_kind"]["invertible"] == ["H % 16 == 12", "W % 16 == 12"]


# --------------------------------------------------------------------------- constraints


@pytest.mark.parametrize(
    "lhs,op,rhs,text",
    [
        (H - 4, ">=", 1, "H >= 5"),
        (floordiv(H - 1, 2) + 1, ">=", 3, "H >= 5"),
        (H - 4, "%0", 2, "H % 2 == 0"),
        (floordiv(H - 4, 2) - 4, "%0", 2, "H % 4 in {0, 1}"),
        (2 * floordiv(H, 2), "==", H, "H % 2 == 0"),
        (H + 3, ">=", 1, None),
    ],
)
def test_constraints_in_plain_words(lhs, op, rhs, text):
    assert describe(lhs, op, rhs) == text


def test_kinds_are_reported_separately(runner, write_model):
    path = write_model("""\
framework: keras
input: [1, H, 3]
layers:
  - {op: Conv1D, name: a, filters: 2, kernel_size: 5}
  - {op: MaxPooling1D, name: p, pool_size: 2}
  - {op: UpSampling1D, name: u, size: 2}
  - {op: Conv1D, name: b, inputs: input, filters: 2, kernel_size: 5}
  - {op: Concatenate, name: cat, inputs: [u, b]}
""")
    out = runner.invoke(cli, ["plan", path]).stdout
    assert "valid when: H >= 6" in out
    assert "merges need: H % 2 == 0" in out
    assert "every input row is read when: H % 2 == 0" in out


# --------------------------------------------------------------------------- solve


def test_unet_valid_sizes():
    sol = solve_sizes(convcalc.load(str(EXAMPLES / "unet_symbolic.yaml")))
    d = sol.to_dict()
    assert d["symbols"] == {"H": {"min": 188, "modulus": 16, "residues": [12]},
                            "W": {"min": 188, "modulus": 16, "residues": [12]}}
    assert d["outputs_on_valid_sizes"]["head"] == ["1", "H - 184", "W - 184", "2"]
    assert [r["H"] for r in d["first"][:3]] == [188, 204, 220]
    assert 572 in sol.symbols["H"].values(30)
    # The paper's tile, planned concretely: 388 out, and the original (Cropping2D) model agrees.
    concrete = convcalc.load(str(EXAMPLES / "unet_symbolic.yaml")).plan(H=572, W=572)
    original = convcalc.load(str(EXAMPLES / "unet_original.yaml")).plan()
    assert concrete.layers[-1].output_shape == original.layers[-1].output_shape == (1, 388, 388, 2)
    assert concrete.totals.macs == original.totals.macs and concrete.totals.params == original.totals.params


def test_unet_sizes_off_the_grid_fail_exactness_but_plan():
    plan = convcalc.load(str(EXAMPLES / "unet_symbolic.yaml")).plan(H=190, W=188)
    assert plan.notes  # a pool or a crop drops or shifts a remainder at 190
    with pytest.raises(ModelError):
        convcalc.load(str(EXAMPLES / "unet_symbolic.yaml")).plan(H=180, W=188)


def test_solve_cli_json_contract(runner):
    result = runner.invoke(cli, ["solve", str(EXAMPLES / "unet_symbolic.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["symbols"]["H"] == {"min": 188, "modulus": 16, "residues": [12]}
    assert "H % 16 == 12" in d["constraints"]


def test_committed_solve_output_is_current(runner):
    committed = (EXAMPLES / "unet_symbolic.solve.txt").read_text()
    assert runner.invoke(cli, ["solve", str(EXAMPLES / "unet_symbolic.yaml")]).stdout == committed


def test_parameter_options_match_the_formula_exhaustively():
    """ConvTranspose1d 50 -> 100: the options are exactly the grid points where PyTorch's
    formula gives 100 and PyTorch's output_padding rule allows them."""
    model = convcalc.Model(framework="pytorch", input=[1, 8, 50]).add(
        "ConvTranspose1d", name="up", out_channels=4, kernel_size=3)
    opts = parameter_options(model, "up", "L", 100)
    spellings = [a for o in opts.options for a in (o.args, *o.same_as)]  # each computation once, its twins under it
    got = {(a["kernel_size"][0], a["stride"][0], a["padding"][0], a["dilation"][0], a["output_padding"][0])
           for a in spellings}
    assert len(spellings) == len(got)  # no combination is listed twice
    want = {(k, s, p, d, a) for k in range(1, 8) for s in range(1, 5) for p in range(0, 4) for d in range(1, 4)
            for a in range(0, 4) if (a < s or a < d) and (50 - 1) * s - 2 * p + d * (k - 1) + a + 1 == 100}
    assert got == want and (2, 2, 0, 1, 0) in got and (4, 2, 1, 1, 0) in got


def test_parameter_options_keras_same_and_valid():
    model = convcalc.Model(framework="keras", input=[1, 64, 64, 3]).add("Conv2D", name="c", filters=8, kernel_size=3)
    opts = parameter_options(model, "c", "H", 32)
    for o in opts.options:
        k, s = o.args["kernel_size"][0], o.args["strides"][0]
        d = o.args["dilation_rate"][0]
        k_eff = d * (k - 1) + 1
        out = -(-64 // s) if o.args["padding"] == "same" else (64 - k_eff) // s + 1
        assert out == 32 and not (s > 1 and d > 1)
    assert any(o.args["padding"] == "same" and o.args["strides"][0] == 2 for o in opts.options)


# --------------------------------------------------------------------------- sweeps


def test_sweep_equals_concrete_plans():
    model = convcalc.load(str(EXAMPLES / "resnet50.yaml"))
    result = sweep(model, ["H", "W"], range(32, 300, 37))
    assert result.valid.all()  # every one of these sizes plans (an odd size is valid, if not invertible)
    for i, x in enumerate(result.values.tolist()):
        plan = model.plan(H=x, W=x)
        for key in ("params", "macs", "flops", "activation_bytes"):
            assert int(result.totals[key][i]) == getattr(plan.totals, key), (x, key)


@pytest.mark.parametrize("example,sizes", [("vgg16", range(1, 70)), ("unet_symbolic", range(120, 260))])
def test_sweep_valid_is_whether_the_concrete_plan_builds(example, sizes):
    """The valid column against the concrete planner at every size: it plans, or it raises a
    shape error (an empty output, merges that disagree)."""
    model = convcalc.load(str(EXAMPLES / f"{example}.yaml"))
    result = sweep(model, ["H", "W"], sizes)
    for x, valid in zip(result.values.tolist(), result.valid.tolist()):
        try:
            model.plan(H=x, W=x)
            builds = True
        except convcalc.ShapeError:
            builds = False
        assert valid == builds, (example, x)
    assert result.valid.any() and not result.valid.all()


@pytest.mark.parametrize("example,names,values", [
    ("resnet50", ["H", "W"], range(1, 400, 7)),  # valid and invalid sizes, totals from 7 to 12 digits
    ("vgg16", ["H", "W"], range(1, 90)),
    ("unet_symbolic", ["H", "W"], range(150, 260, 3)),
])
def test_streamed_sweep_tables_are_the_drawn_ones(example, names, values, monkeypatch):
    """The streamed text and markdown sweeps (every width decided before a row is drawn) are
    byte for byte the tables drawn cell by cell — tabulate's "simple" (as simple_table draws it)
    and tabulate's "github" — and the CSV reads back, through the csv module, as the sweep's own
    numbers; chunked into pieces of 16 rows, so that chunk seams are crossed."""
    import csv
    import io

    from tabulate import tabulate

    from convcalc.report import render_sweep, sweeps
    from convcalc.report.render import simple_table
    from convcalc.report.tables import SWEEP_NOTE, sweep_table

    monkeypatch.setattr(sweeps, "ROWS_PER_CHUNK", 16)
    result = sweep(convcalc.load(str(EXAMPLES / f"{example}.yaml")), names, values)
    table = sweep_table(result)
    assert render_sweep(result, "text") == simple_table(table.header, table.rows, table.align) + "\n\n" + SWEEP_NOTE + "\n"
    github = tabulate(table.rows, table.header, tablefmt="github", colalign=table.align, disable_numparse=True)
    assert render_sweep(result, "markdown") == github + "\n\n" + SWEEP_NOTE + "\n"
    text = render_sweep(result, "csv")
    assert text.startswith("# MACs = multiply-accumulates") and text.endswith("\n")
    rows = list(csv.reader(io.StringIO(text.split("\n", 1)[1])))
    assert rows[0] == table.header
    keys = table.header[1:-2]
    for i, row in enumerate(rows[1:]):
        assert int(row[0]) == values[i]
        assert [int(v) for v in row[1:-2]] == [int(result.totals[k][i]) for k in keys]
        assert row[-2:] == [str(bool(result.valid[i])).lower(), str(bool(result.exact[i])).lower()]
    assert len(rows) == len(values) + 1
    assert "".join(sweeps.sweep_chunks(result, "json")) == json.dumps(result.to_dict()) + "\n"


def test_sweep_cli_formats(runner, tmp_path):
    path = str(EXAMPLES / "unet_symbolic.yaml")
    d = json.loads(runner.invoke(cli, ["plan", path, "--sweep", "H,W=186:206:2", "--format", "json"]).stdout)
    assert d["symbol"] == "H,W" and d["values"][:2] == [186, 188]
    assert d["valid"][:2] == [False, True] and d["exact"][1] is True
    assert set(d["totals"]) == {"params", "macs", "flops", "activation_bytes"}
    csv = runner.invoke(cli, ["plan", path, "--sweep", "H,W=188:190", "--format", "csv"]).stdout
    rows = [line for line in csv.splitlines() if not line.startswith("#")]  # the conventions: a header comment
    assert rows[0].startswith('"H,W",params') and rows[1].startswith("188,31030658,")
    png = tmp_path / "cost.png"
    result = runner.invoke(cli, ["plan", path, "--sweep", "H,W=188:400:16", "--plot", str(png)])
    assert result.exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG"
    bad = runner.invoke(cli, ["plan", path, "--sweep", "H=188:400"])
    assert bad.exit_code == 2 and "leaves W free" in bad.stderr


def test_crop_to_in_every_framework():
    for fw, shape, ref in [("keras", [1, 9, 10, 2], [1, 4, 5, 3]), ("pytorch", [1, 2, 9, 10], [1, 3, 4, 5]),
                           ("onnx", [1, 2, 9, 10], [1, 3, 4, 5]), ("tf.keras", [1, 9, 10, 2], [1, 4, 5, 3])]:
        model = convcalc.Model(framework=fw, inputs={"x": shape, "r": ref}).add("CropTo", inputs=["x", "r"])
        plan = model.plan()
        want = [1, 4, 5, 2] if fw.endswith("keras") else [1, 2, 4, 5]
        assert list(plan.layers[0].output_shape) == want
        assert plan.notes  # 9 -> 4 crops 5: off centre by one
        from convcalc.check import check_plan

        assert check_plan(plan).ok


# --------------------------------------------------------------------------- solve --layer (issue 11)


def test_solve_layer_names_its_columns_merges_equal_computations_and_counts_each(runner, write_model):
    import json

    path = write_model("framework: pytorch\ninput: [1, 4, 50]\nlayers:\n  - {op: Conv1d, name: c, out_channels: 8, "
                       "kernel_size: 3}\n")
    result = runner.invoke(cli, ["solve", path, "--layer", "c", "--output", "L=50"])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[2].split()
    assert header[:4] == ["kernel_size", "stride", "padding", "dilation"] and header.count("padding") == 1
    data = json.loads(runner.invoke(cli, ["solve", path, "--layer", "c", "--output", "L=50", "--format",
                                          "json"]).stdout)
    k3 = next(o for o in data["options"] if o["kernel_size"] == [3] and o["stride"] == [1] and o["dilation"] == [1])
    assert k3["padding"] == [1] and {"kernel_size": [3], "stride": [1], "padding": "same", "dilation": [1],
                                     } in k3["same_as"]  # padding: same is padding 1 here: one row
    for o in data["options"]:  # each option's figures are its own plan's
        one = convcalc.Model(framework="pytorch", input=[1, 4, 50]).add(
            "Conv1d", out_channels=8, kernel_size=o["kernel_size"], stride=o["stride"], padding=o["padding"],
            dilation=o["dilation"]).plan()
        assert (one.totals.params, one.totals.macs, list(one.layers[0].output_shape)) == (
            o["params"], o["macs"], o["output_shape"])


def test_solve_layer_with_no_answer_exits_1_with_the_nearest_sizes(runner, write_model):
    path = write_model("framework: pytorch\ninput: [1, 4, 50]\nlayers:\n  - {op: Conv1d, name: c, out_channels: 8, "
                       "kernel_size: 3}\n")
    result = runner.invoke(cli, ["solve", path, "--layer", "c", "--output", "L=1000"])
    assert result.exit_code == 1 and "the nearest sizes these reach: 56" in result.stdout
    assert result.stderr.startswith("error: no argument combination of 'c' gives 1000")
    wrong_axis = runner.invoke(cli, ["solve", path, "--layer", "c", "--output", "H=25"])
    assert wrong_axis.exit_code == 2 and "a 1-D layer has the one axis L, not 'H'" in wrong_axis.stderr


def test_ceil_mode_pooling_keeps_one_rounding_and_is_exact():
    """The symbolic ceil-mode rule (one floor, its numerator picked from the arguments) against
    the concrete rule (round up, then drop a window that starts past the input) on every size."""
    from convcalc.formulas import effective_kernel, pool_out

    xs = np.arange(1, 200)
    for k in range(1, 6):
        for s in range(1, 5):
            for d in (1, 2):
                k_eff = effective_kernel(k, d)
                for pb in range(0, 4):
                    for pe in range(0, 9):
                        expr = pool_out(H, k, s, pb, pe, d, ceil_mode=True)
                        assert len(expr.atoms(sympy.floor, sympy.ceiling)) <= 1, (k, s, d, pb, pe, expr)
                        ok = xs + pb + pe - k_eff + s - 1 >= 0
                        want = [pool_out(int(x), k, s, pb, pe, d, ceil_mode=True) for x in xs[ok]]
                        assert compile_int(expr)(H=xs[ok]).tolist() == want, (k, s, d, pb, pe)


def test_three_ceil_mode_pools_print_as_torch_does():
    """Issue 14's smallest case: GoogLeNet's and SqueezeNet's MaxPool2d(3, 2, ceil_mode=True)."""
    model = convcalc.Model(framework="pytorch", input=[1, 1, "H", 8])
    for name in ("p1", "p2", "p3"):
        model.add("MaxPool2d", name=name, kernel_size=3, stride=2, ceil_mode=True)
    plan = model.plan_symbolic()
    assert [fmt_dim(ly.output_shape[2]) for ly in plan.layers] == ["floor(H/2)", "floor(H/4)", "floor(H/8)"]


KINDS = {"pytorch": ["torch_conv", "torch_pool", "torch_ceil_pool"], "keras": ["keras_valid", "keras_same",
                                                                             "keras_pool_same"],
         "onnx": ["onnx_conv", "onnx_ceil_pool"]}


@st.composite
def chains(draw):
    framework = draw(st.sampled_from(sorted(KINDS)))
    layer = st.tuples(st.sampled_from(KINDS[framework]), st.integers(1, 5), st.integers(1, 3), st.integers(1, 2),
                      st.integers(0, 2))
    return framework, draw(st.lists(layer, min_size=1, max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_random_chains_keep_one_rounding_per_axis(drawn):
    """Chains of convolutions and pools of any mode (PyTorch, Keras, ONNX rules: ceil_mode,
    padding, dilation, 'same'): every layer's size is one rounding of the input's (a chain of
    floors and ceilings of integer offsets is one), equal to the concrete plan at sampled sizes."""
    framework, chain = drawn
    layers = []
    for kind, k, s, d, p in chain:
        if kind == "torch_conv":
            layers.append({"op": "Conv1d", "out_channels": 2, "kernel_size": k, "stride": s, "dilation": d,
                           "padding": min(p, k // 2)})
        elif kind in ("torch_pool", "torch_ceil_pool"):
            layers.append({"op": "MaxPool1d", "kernel_size": max(k, 2), "stride": s, "dilation": d,
                           "padding": min(p, max(k, 2) // 2), "ceil_mode": kind == "torch_ceil_pool"})
        elif kind in ("keras_valid", "keras_same"):
            layers.append({"op": "Conv1D", "filters": 2, "kernel_size": k, "strides": s,
                           "padding": "same" if kind == "keras_same" else "valid"})
        elif kind == "keras_pool_same":
            layers.append({"op": "MaxPooling1D", "pool_size": max(k, 2), "strides": s, "padding": "same"})
        elif kind == "onnx_conv":
            layers.append({"op": "Conv", "out_channels": 2, "kernel_shape": [k], "strides": [s], "dilations": [d],
                           "pads": [p, p]})
        else:
            layers.append({"op": "MaxPool", "kernel_shape": [max(k, 2)], "strides": [s], "pads": [min(p, 1), p],
                           "ceil_mode": 1})
    shape = {"pytorch": [1, 2, "L"], "keras": [1, "L", 2], "onnx": [1, 2, "L"]}[framework]
    axis = 1 if framework == "keras" else 2
    model = convcalc.Model.from_dict({"framework": framework, "input": shape,
                                      "layers": [{**ly, "name": f"l{i}"} for i, ly in enumerate(layers)]})
    plan = model.plan_symbolic()
    for ly in plan.layers:
        size = ly.output_shape[axis]
        if not isinstance(size, int):
            assert len(size.atoms(sympy.floor, sympy.ceiling)) <= 1, (layers, ly.name, size)
    compared = 0
    for L in (64, 97, 128, 211):
        try:
            concrete = model.plan(L=L)
        except ModelError:
            continue
        compared += 1
        for sym, con in zip(plan.layers, concrete.layers):
            assert subs(sym.output_shape[axis], {"L": L}) == con.output_shape[axis], (layers, sym.name, L)
    assert compared or len(layers) > 3  # short chains fit at these sizes
