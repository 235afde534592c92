"""Identities of convolution arithmetic, proved on real arrays by the reference executor.

They double as documentation of what the planner's numbers mean:

1. A transposed convolution is a stride-1 convolution over the input stretched with ``s-1``
   zeros (Dumoulin & Visin, relation 14), output_padding ``a`` included.
2. Conv2D with a (1, k) kernel on (1, L, C) is Conv1D with k on (L, C): same parameters, MACs
   and values.
3. A separable convolution is a depthwise convolution followed by a pointwise one.
4. TF/Keras 'same' with stride 2 on an even size equals PyTorch after ``F.pad(x, (0, 1, 0, 1))``
   with padding 0 — and not PyTorch's symmetric ``padding=1``, whose shape matches but whose
   values are shifted by one pixel (conventions.md trap 1).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import convcalc
from convcalc import reference
from convcalc.check import plain_fields
from convcalc.reference.conv import conv_core, transpose_scatter, transpose_stretched

RNG = np.random.default_rng(3)


def run_layer(layer, x, weights_per_step):
    current = [x]
    macs = params = 0
    for step, w in zip(layer.steps, weights_per_step):
        result = reference.run(step.kind, plain_fields(step, current), current, RNG, w)
        current, macs, params = [result.output], macs + result.macs, params + result.params
    return current[0], macs, params


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12), st.integers(1, 5), st.integers(1, 3), st.integers(0, 3), st.integers(1, 3))
def test_relation_14_transposed_conv_is_conv_over_the_stretched_input(i, k, s, p, c):
    """D&V relation 14: for a forward conv (i, k, s, p) with o outputs, a = (i + 2p - k) mod s;
    the transposed conv with output_padding a maps o back to exactly i, and equals a stride-1
    conv over the o-input stretched with s-1 zeros, padded k-p-1 (+a at the end), flipped kernel."""
    if i + 2 * p < k or p >= k:
        return
    o = (i + 2 * p - k) // s + 1
    a = (i + 2 * p - k) % s
    x = RNG.standard_normal((1, c, o)).astype(np.float32)
    w = RNG.standard_normal((c, 2, k)).astype(np.float32)  # (C_in, C_out, k)
    scattered, _ = transpose_scatter(x, w, 1, (s,), (1,), ((p, p),), (a,))
    assert scattered.shape[-1] == i  # the transpose restores the forward input size
    # The construction written out here, independently of transpose_stretched:
    stretched = np.zeros((1, c, (o - 1) * s + 1), np.float32)
    stretched[..., ::s] = x
    padded = np.pad(stretched, [(0, 0), (0, 0), (k - p - 1, k - p - 1 + a)])
    flipped = w.transpose(1, 0, 2)[:, :, ::-1][None]  # (groups=1, C_out, C_in, k), kernel reversed
    direct, _ = conv_core(padded, np.ascontiguousarray(flipped), (1,), (1,))
    np.testing.assert_allclose(scattered, direct, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(transpose_stretched(x, w, 1, (s,), (1,), ((p, p),), (a,)), direct, rtol=1e-5, atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3), st.integers(1, 9), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
       st.integers(0, 2), st.booleans())
def test_transposed_conv_two_ways_in_2d_with_output_padding(s, n, k, p, d, a, even):
    if a >= max(s, d):
        return
    size = (2 * n if even else 2 * n + 1, n + 1)
    x = RNG.standard_normal((2, 4) + size).astype(np.float32)
    w = RNG.standard_normal((4, 3, k, k + 1)).astype(np.float32)
    pads, extra = ((p, p), (p, 0)), (a, 0)
    try:
        y, macs = transpose_scatter(x, w, 2, (s, s), (d, d), pads, extra)
    except reference.ExecutionError:
        return
    z = transpose_stretched(x, w, 2, (s, s), (d, d), pads, extra)
    np.testing.assert_allclose(y, z, rtol=1e-4, atol=1e-4)
    assert macs == 2 * size[0] * size[1] * 4 * 3 * k * (k + 1)  # input positions, C_in, C_out/g, prod(k)


def test_conv2d_1xk_on_height_one_is_conv1d():
    conv1d = convcalc.Model(framework="keras", input=[4, 1000, 21]).add("Conv1D", filters=16, kernel_size=5).plan()
    conv2d = convcalc.Model(framework="keras", input=[4, 1, 1000, 21]).add(
        "Conv2D", filters=16, kernel_size=[1, 5]).plan()
    (l1,), (l2,) = conv1d.layers, conv2d.layers
    assert (l1.params, l1.macs) == (l2.params, l2.macs) == (5 * 21 * 16 + 16, 4 * 996 * 16 * 21 * 5)
    assert l2.output_shape == (4, 1, 996, 16) and l1.output_shape == (4, 996, 16)
    x = RNG.standard_normal((4, 1000, 21)).astype(np.float32)
    w = RNG.standard_normal((1, 16, 21, 5)).astype(np.float32)
    b = RNG.standard_normal(16).astype(np.float32)
    y1, m1, _ = run_layer(l1, x, [{"weight": w, "bias": b}])
    y2, m2, _ = run_layer(l2, x[:, None], [{"weight": w[..., None, :], "bias": b}])
    np.testing.assert_allclose(y1, y2[:, 0], rtol=1e-5, atol=1e-5)
    assert m1 == m2 == l1.macs


def test_separable_is_depthwise_then_pointwise():
    sep = convcalc.Model(framework="keras", input=[2, 9, 8, 3]).add(
        "SeparableConv2D", filters=5, kernel_size=3, depth_multiplier=2, padding="same").plan().layers[0]
    model = convcalc.Model(framework="keras", input=[2, 9, 8, 3])
    model.add("DepthwiseConv2D", name="dw", kernel_size=3, depth_multiplier=2, padding="same", use_bias=False)
    model.add("Conv2D", name="pw", filters=5, kernel_size=1)
    two = model.plan()
    assert sep.params == two.totals.params == 3 * 3 * 3 * 2 + 6 * 5 + 5  # one bias, after the pointwise step
    assert sep.macs == two.totals.macs
    dw_w = RNG.standard_normal((3, 2, 1, 3, 3)).astype(np.float32)
    pw_w = RNG.standard_normal((1, 5, 6, 1, 1)).astype(np.float32)
    bias = RNG.standard_normal(5).astype(np.float32)
    x = RNG.standard_normal((2, 9, 8, 3)).astype(np.float32)
    y_sep, _, _ = run_layer(sep, x, [{"weight": dw_w}, {"weight": pw_w, "bias": bias}])
    y_dw, _, _ = run_layer(two.layers[0], x, [{"weight": dw_w}])
    y_two, _, _ = run_layer(two.layers[1], y_dw, [{"weight": pw_w, "bias": bias}])
    np.testing.assert_allclose(y_sep, y_two, rtol=1e-5, atol=1e-5)


def test_tf_same_stride_2_is_torch_after_asymmetric_pad_not_symmetric_padding():
    keras = convcalc.Model(framework="keras", input=[1, 10, 10, 3], ).add(
        "Conv2D", filters=8, kernel_size=3, strides=2, padding="same").plan().layers[0]
    torch_asym = convcalc.Model(framework="pytorch", input=[1, 3, 10, 10])
    torch_asym.add("ZeroPad2d", name="pad", padding=[0, 1, 0, 1]).add("Conv2d", name="c", out_channels=8,
                                                                        kernel_size=3, stride=2)
    asym = torch_asym.plan()
    sym = convcalc.Model(framework="pytorch", input=[1, 3, 10, 10]).add(
        "Conv2d", out_channels=8, kernel_size=3, stride=2, padding=1).plan().layers[0]
    assert keras.output_shape == (1, 5, 5, 8)
    assert asym.layers[-1].output_shape == sym.output_shape == (1, 8, 5, 5)
    w = RNG.standard_normal((1, 8, 3, 3, 3)).astype(np.float32)
    b = RNG.standard_normal(8).astype(np.float32)
    x = RNG.standard_normal((1, 3, 10, 10)).astype(np.float32)
    y_keras, _, _ = run_layer(keras, x.transpose(0, 2, 3, 1), [{"weight": w, "bias": b}])
    padded, _, _ = run_layer(asym.layers[0], x, [{}])
    y_asym, _, _ = run_layer(asym.layers[1], padded, [{"weight": w, "bias": b}])
    y_sym, _, _ = run_layer(sym, x, [{"weight": w, "bias": b}])
    np.testing.assert_allclose(y_keras.transpose(0, 3, 1, 2), y_asym, rtol=1e-5, atol=1e-5)
    assert not np.allclose(y_keras.transpose(0, 3, 1, 2), y_sym, atol=1e-3)  # same shape, shifted values
