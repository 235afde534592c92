"""Formula functions against the observed values in conventions.md (each table there was measured
on the real frameworks), plus equivalences with independent closed forms."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc import formulas as F


# conventions.md §1.2 "Delta-kernel probe, Conv1D same": (L, k, s) -> out, (left, right)
@pytest.mark.parametrize(
    "L,k,s,out,pads",
    [(10, 3, 2, 5, (0, 1)), (11, 3, 2, 6, (1, 1)), (10, 4, 2, 5, (1, 1)), (7, 4, 1, 7, (1, 2)), (9, 2, 3, 3, (0, 0)),
     (8, 5, 3, 3, (1, 2)), (224, 7, 2, 112, (2, 3)), (225, 7, 2, 113, (3, 3))],
    ids=lambda v: str(v),
)
def test_tf_same_padding_split(L, k, s, out, pads):
    assert F.same_out(L, s) == out
    assert F.same_pads(L, k, s) == pads
    pb, pe = pads
    assert F.conv_out(L, k, s, pb, pe) == out


# conventions.md §1.3: SAME_LOWER puts the odd pad first.
@pytest.mark.parametrize("L,k,s,upper,lower", [(10, 3, 2, (0, 1), (1, 0)), (11, 3, 2, (1, 1), (1, 1)),
                                               (9, 4, 1, (1, 2), (2, 1)), (8, 5, 3, (1, 2), (2, 1))])
def test_onnx_same_lower(L, k, s, upper, lower):
    assert F.same_pads(L, k, s) == upper
    assert F.same_pads(L, k, s, lower=True) == lower


# conventions.md §1.1: PyTorch 'same' split with a delta kernel, (k, d) -> (left, right)
@pytest.mark.parametrize("k,d,pads", [(2, 1, (0, 1)), (3, 1, (1, 1)), (4, 1, (1, 2)), (5, 1, (2, 2)), (2, 2, (1, 1)),
                                      (4, 3, (4, 5)), (3, 2, (2, 2))])
def test_torch_same_split(k, d, pads):
    assert F.torch_same_pads(k, d) == pads


def test_causal():
    # Conv1D(5, 3, causal, dilation 4) on 20 -> 20; strides=2 on 21 -> 11; k=2, strides=3 on 10 -> 4.
    for L, k, s, d, out in [(20, 3, 1, 4, 20), (21, 3, 2, 1, 11), (10, 2, 3, 1, 4)]:
        pb, pe = F.causal_pads(k, d)
        assert F.conv_out(L, k, s, pb, pe, d) == out


# conventions.md §2.2 table (Keras 3, observed): input 5 x 6
@pytest.mark.parametrize(
    "k,s,d,padding,a,out",
    [(3, 2, 1, "same", None, (10, 12)), (3, 2, 1, "same", 0, (9, 11)), (3, 2, 1, "same", 1, (10, 12)),
     (4, 2, 1, "same", None, (10, 12)), (4, 2, 1, "same", 1, (9, 11)), (2, 3, 1, "valid", None, (15, 18)),
     (3, 2, 1, "valid", None, (11, 13)), (4, 3, 1, "valid", 2, (18, 21))],
)
def test_keras_conv_transpose_table(k, s, d, padding, a, out):
    assert (F.keras_conv_transpose_out(5, k, s, d, padding, a), F.keras_conv_transpose_out(6, k, s, d, padding, a)) == out


def test_keras_conv_transpose_dilated():
    assert F.keras_conv_transpose_out(7, 5, 1, 2, "valid", None) == 15  # Conv1DTranspose(k5, d2) on 7


def test_onnx_conv_transpose_examples():
    # §2.3 worked examples, k3 s2 on 7: pads 1,1 -> 13; +output_padding 1 -> 14; pads (0,1) -> 14; VALID -> 15
    assert F.conv_transpose_out(7, 3, 2, 1, 1) == 13
    assert F.conv_transpose_out(7, 3, 2, 1, 1, a=1) == 14
    assert F.conv_transpose_out(7, 3, 2, 0, 1) == 14
    assert F.conv_transpose_out(7, 3, 2, 0, 0) == 15
    b, e = F.onnx_conv_transpose_same_pads(3, 2, 1, lower=False)
    assert F.conv_transpose_out(7, 3, 2, b, e) == 14
    b, e = F.onnx_conv_transpose_same_pads(2, 3, 1, lower=False)
    assert F.conv_transpose_out(5, 2, 3, b, e) == 14  # shape inference's clamp, not L*s = 15 (trap 11)


# conventions.md §3.1 worked examples
@pytest.mark.parametrize(
    "L,k,s,p,d,ceil,out",
    [(5, 2, 2, 1, 1, True, 3), (112, 3, 2, 0, 1, True, 56), (112, 3, 2, 0, 1, False, 55), (112, 3, 2, 1, 1, False, 56),
     (6, 3, 2, 0, 1, True, 3), (10, 3, 2, 1, 2, True, 5), (11, 2, 3, 1, 1, True, 4), (10, 3, 3, 1, 1, True, 4)],
)
def test_pool_ceil_mode_examples(L, k, s, p, d, ceil, out):
    assert F.pool_out(L, k, s, p, p, d, ceil) == out


@given(st.integers(1, 60), st.integers(1, 9), st.integers(1, 6), st.integers(0, 4), st.integers(1, 3))
def test_conv_out_equals_tinygrad_ceildiv_form(L, k, s, p, d):
    """floor((L + 2p - d(k-1) - 1)/s) + 1 == ceildiv(L + 2p - d(k-1), s) whenever the window fits."""
    if L + 2 * p < d * (k - 1) + 1:
        return
    assert F.conv_out(L, k, s, p, p, d) == -(-(L + 2 * p - d * (k - 1)) // s)


@given(st.integers(1, 60), st.integers(1, 9), st.integers(1, 6), st.integers(0, 4), st.integers(0, 4),
       st.integers(1, 3), st.booleans())
def test_pool_out_counts_window_starts(L, k, s, pb, pe, d, ceil):
    """Count the windows one by one. Floor mode: windows that fit in the padded input. Ceil mode:
    windows may overhang the end by less than a stride, but must start inside input + left pad.
    (Pads limited to half the window, PyTorch's legal range, where its single decrement is exact.)"""
    k_eff = d * (k - 1) + 1
    pb, pe = min(pb, k_eff // 2), min(pe, k_eff // 2)
    padded = L + pb + pe
    starts = range(0, padded + s, s)
    if ceil:
        count = sum(1 for i in starts if i + k_eff <= padded + s - 1 and i < L + pb)
    else:
        count = sum(1 for i in starts if i + k_eff <= padded)
    got = F.pool_out(L, k, s, pb, pe, d, ceil)
    assert got == count or (got <= 0 and count == 0)


@given(st.integers(1, 400), st.sampled_from([0.5, 1.5, 2, 2.5, 3, 0.75, 1.1, 1 / 3]))
def test_scale_out_is_pytorch_double_floor(L, f):
    assert F.scale_out(L, f) == math.floor(float(L) * f)


def test_macs_conventions_table():
    # conventions.md §6.2, input 16x8x8, N=1
    assert F.conv_macs(1, 8 * 8, 32, 16, 1, 9) == 294_912  # Conv2d 16->32 k3 p1
    assert F.conv_macs(1, 4 * 4, 32, 16, 4, 9) == 18_432  # Conv2d 16->32 k3 s2 g4
    assert F.conv_macs(1, 8 * 8, 16, 16, 16, 9) == 9_216  # depthwise
    assert F.conv_transpose_macs(1, 8 * 8, 16, 8, 1, 16) == 131_072  # ConvTranspose2d 16->8 k4 s2 p1
    assert F.conv_transpose_macs(1, 8 * 8, 16, 8, 1, 9) == 73_728
    assert F.conv_macs(1, 16, 6, 4, 1, 5) == 1_920  # Conv1d 4->6 k5 on L=20
    assert F.conv_macs(1, 4 * 6 * 6, 4, 2, 1, 27) == 31_104  # Conv3d 2->4 k3 p1 on 4x6x6
    assert F.dense_macs(1, 64, 10) == 640


def test_formula_explanation_substitutes_numbers():
    lines = F.CONV_OUT.explain("H_out", 0, L=4, pb=0, pe=0, d=1, k=5, s=1)
    assert lines == [
        "H_out = floor((L_in + pad_begin + pad_end - dilation*(kernel-1) - 1) / stride) + 1",
        "      = floor((4 + 0 + 0 - 1*(5-1) - 1) / 1) + 1 = 0",
    ]
