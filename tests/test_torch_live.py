"""Live cross-check against PyTorch: random convolution, transposed convolution, pooling and
linear layers planned by convcalc vs real ``torch.nn`` modules.

For each configuration: the output shape of ``module(x)``, ``sum(p.numel())``, and the MACs of
``torch.utils.flop_counter.FlopCounterMode`` (which reports FLOPs = 2 x MACs, transposed
convolutions by input positions). When PyTorch raises, convcalc must refuse the model too, and
vice versa. Runs in CI (CONVCALC_REQUIRE_TORCH=1 makes a missing torch a failure, not a skip).
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.errors import ModelError

from .conftest import torch_or_skip

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run_torch(module, x, **forward):
    torch = torch_or_skip()
    from torch.utils.flop_counter import FlopCounterMode

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            y = module(x, **forward)
    return tuple(y.shape), sum(p.numel() for p in module.parameters()), counter.get_total_flops()


def _compare(model: dict, build, input_shape, **forward):
    torch = torch_or_skip()
    try:
        module = build()
        expected = _run_torch(module.eval(), torch.zeros(input_shape), **forward)
    except (RuntimeError, ValueError) as e:
        with pytest.raises(ModelError):
            convcalc.Model.from_dict(model).plan()
        return str(e)
    if 0 in expected[0]:  # PyTorch made an empty tensor; convcalc refuses those on purpose
        with pytest.raises(ModelError):
            convcalc.Model.from_dict(model).plan()
        return "empty"
    plan = convcalc.Model.from_dict(model).plan()
    layer = plan.layers[-1]
    assert layer.output_shape == expected[0]
    assert layer.params == expected[1]
    assert layer.flops == expected[2], "FLOPs = 2 x MACs must match torch's FlopCounterMode"
    assert 2 * layer.macs == expected[2]
    return None


def _t(draw, r, lo, hi):
    return draw(st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=r, max_size=r)))


@st.composite
def conv_cases(draw):
    r = draw(st.integers(1, 3))
    g = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = g * draw(st.integers(1, 3)), g * draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, {1: 20, 2: 12, 3: 7}[r])) for _ in range(r)]
    args = {
        "out_channels": cout,
        "kernel_size": _t(draw, r, 1, 5),
        "stride": _t(draw, r, 1, 3),
        "dilation": _t(draw, r, 1, 3),
        "groups": g,
        "bias": draw(st.booleans()),
        "padding": draw(st.one_of(st.just("same"), st.just("valid"), st.integers(0, 3))),
        "padding_mode": draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"])),
    }
    return r, [draw(st.integers(1, 2)), cin, *sizes], args


@SETTINGS
@given(conv_cases())
def test_conv_matches_torch(case):
    torch = torch_or_skip()
    r, shape, args = case
    model = {"framework": "pytorch", "input": shape, "layers": [{"op": f"Conv{r}d", **args}]}
    targs = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    _compare(model, lambda: getattr(torch.nn, f"Conv{r}d")(shape[1], **targs), shape)


@st.composite
def conv_transpose_cases(draw):
    r = draw(st.integers(1, 3))
    g = draw(st.sampled_from([1, 1, 2]))
    cin, cout = g * draw(st.integers(1, 3)), g * draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, {1: 16, 2: 9, 3: 5}[r])) for _ in range(r)]
    args = {
        "out_channels": cout,
        "kernel_size": _t(draw, r, 1, 5),
        "stride": _t(draw, r, 1, 3),
        "padding": _t(draw, r, 0, 2),
        "dilation": _t(draw, r, 1, 3),
        "output_padding": _t(draw, r, 0, 2),
        "groups": g,
        "bias": draw(st.booleans()),
    }
    return r, [1, cin, *sizes], args


@SETTINGS
@given(conv_transpose_cases())
def test_conv_transpose_matches_torch(case):
    torch = torch_or_skip()
    r, shape, args = case
    model = {"framework": "pytorch", "input": shape, "layers": [{"op": f"ConvTranspose{r}d", **args}]}
    targs = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    _compare(model, lambda: getattr(torch.nn, f"ConvTranspose{r}d")(shape[1], **targs), shape)


@SETTINGS
@given(st.data())
def test_conv_transpose_output_size_matches_torch(data):
    torch = torch_or_skip()
    r = data.draw(st.integers(1, 2))
    k, s, p = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3)), data.draw(st.integers(0, 1))
    sizes = [data.draw(st.integers(1, 9)) for _ in range(r)]
    lo = [(n - 1) * s - 2 * p + k for n in sizes]
    want = [m + data.draw(st.integers(-1, s)) for m in lo]
    shape = [1, 2, *sizes]
    model = {"framework": "pytorch", "input": shape, "layers": [
        {"op": f"ConvTranspose{r}d", "out_channels": 3, "kernel_size": k, "stride": s, "padding": p,
         "output_size": want}]}
    _compare(model, lambda: getattr(torch.nn, f"ConvTranspose{r}d")(2, 3, k, s, p), shape, output_size=want)


@st.composite
def pool_cases(draw):
    r = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["Max", "Avg"]))
    k = _t(draw, r, 1, 4)
    kmin = k if isinstance(k, int) else min(k)
    args = {"kernel_size": k, "stride": _t(draw, r, 1, 3), "padding": draw(st.integers(0, kmin // 2 + 1)),
            "ceil_mode": draw(st.booleans())}
    if mode == "Max":
        args["dilation"] = _t(draw, r, 1, 2)
    sizes = [draw(st.integers(1, {1: 16, 2: 10, 3: 6}[r])) for _ in range(r)]
    return r, mode, [1, 2, *sizes], args


@SETTINGS
@given(pool_cases())
def test_pool_matches_torch(case):
    torch = torch_or_skip()
    r, mode, shape, args = case
    model = {"framework": "pytorch", "input": shape, "layers": [{"op": f"{mode}Pool{r}d", **args}]}
    targs = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    _compare(model, lambda: getattr(torch.nn, f"{mode}Pool{r}d")(**targs), shape)


@SETTINGS
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(1, 8), st.integers(1, 8), st.booleans())
def test_linear_matches_torch(lead, fin, fout, bias):
    torch = torch_or_skip()
    shape = [*lead, fin]
    model = {"framework": "pytorch", "input": shape, "layers": [{"op": "Linear", "out_features": fout, "bias": bias}]}
    _compare(model, lambda: torch.nn.Linear(fin, fout, bias=bias), shape)


def test_cross_check_really_runs(torch):
    """A known case, asserted in full, so a broken harness cannot pass by raising everywhere."""
    shape = [1, 16, 8, 8]
    model = {"framework": "pytorch", "input": shape,
             "layers": [{"op": "ConvTranspose2d", "out_channels": 8, "kernel_size": 4, "stride": 2, "padding": 1}]}
    assert _compare(model, lambda: torch.nn.ConvTranspose2d(16, 8, 4, 2, 1), shape) is None
    plan = convcalc.Model.from_dict(model).plan()
    assert plan.layers[0].macs == 131_072  # conventions.md §6.2: input positions, not 524,288
