"""One pure function per arithmetic fact, on ints or sympy expressions alike.

Every function takes per-axis integers (or :data:`~convcalc.dims.Dim` expressions for sizes)
and returns an exact ``int`` for ints. The formula text next to each function is what error
messages print, with numbers substituted (never ``str(expr)``, which sympy rewrites into forms
nobody recognises). Section marks number the rules, verified against PyTorch, Keras 3 and ONNX:
§1 convolution output sizes (§1.0 the master formula, §1.1 PyTorch, §1.2 Keras, §1.3 ONNX), §2
transposed convolutions, §3 pooling, §4 other shape-changing layers, §5 parameter counts, §6 MACs,
§8 the frameworks' differences at a glance, §9 the traps (each rule is stated in full where cited).

Notation per axis: input length ``L``, kernel ``k``, stride ``s``, dilation ``d``, begin/end
padding ``pb``/``pe``, effective kernel ``k_eff = d*(k-1) + 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .dims import Dim, ceildiv, dmax, floordiv, fmt_dim, is_concrete, norm, sp


@dataclass(frozen=True)
class Formula:
    """A formula as text, with ``{name}`` fields that :meth:`explain` fills with numbers."""

    template: str
    symbols: tuple[tuple[str, str], ...]  # (field, the name printed when not substituted)

    def text(self, out: str) -> str:
        """``H_out = floor((H_in + ...``: the formula with the axis names."""
        return f"{out} = " + self.template.format(**dict(self.symbols))

    def explain(self, out: str, result: Any, **values: Any) -> list[str]:
        """Two lines: the formula, then the formula with numbers and its result."""
        numbers = {k: fmt_dim(v) for k, v in values.items()}
        first = self.text(out)
        second = " " * len(out) + " = " + self.template.format(**numbers) + f" = {fmt_dim(result)}"
        return [first, second]


def axis_formula(template: str, **names: str) -> Formula:
    return Formula(template, tuple(names.items()))


# --------------------------------------------------------------------------- direct convolution (§1)

CONV_OUT = axis_formula(
    "floor(({L} + {pb} + {pe} - {d}*({k}-1) - 1) / {s}) + 1",
    L="L_in", pb="pad_begin", pe="pad_end", d="dilation", k="kernel", s="stride",
)


def effective_kernel(k: int, d: int) -> int:
    """``k_eff = d*(k-1) + 1``: the span of a dilated kernel (§1).

    >>> effective_kernel(3, 2)
    5
    """
    return d * (k - 1) + 1


def conv_out(L: Dim, k: int, s: int, pb: Dim, pe: Dim, d: int = 1) -> Dim:
    """Output length of a strided, padded, dilated convolution along one axis (§1.0).

    Formula: ``floor((L + pb + pe - d*(k-1) - 1) / s) + 1``; valid when ``L + pb + pe >= k_eff``.
    Python's ``//`` floors negative numerators too, so a too-small input gives ``<= 0``.

    >>> conv_out(224, k=7, s=2, pb=3, pe=3)
    112
    >>> conv_out(4, k=5, s=1, pb=0, pe=0)
    0
    """
    return norm(floordiv(L + pb + pe - d * (k - 1) - 1, s) + 1)


def same_out(L: Dim, s: int) -> Dim:
    """Output length under TF/Keras ``same`` and ONNX ``SAME_UPPER``/``SAME_LOWER`` (§1.2, §1.3).

    ``ceil(L / s)``, independent of the kernel and the dilation.

    >>> same_out(224, 2), same_out(225, 2)
    (112, 113)
    """
    return ceildiv(L, s)


def same_pads(L: Dim, k: int, s: int, d: int = 1, *, lower: bool = False) -> tuple[Dim, Dim]:
    """The (begin, end) padding TF/Keras ``same`` and ONNX ``SAME_*`` actually apply (§1.2, §1.3).

    ``total = max(0, (ceil(L/s) - 1)*s + k_eff - L)``; the odd extra goes to the end
    (TF/Keras, ``SAME_UPPER``, PyTorch ``'same'``) or to the beginning (``SAME_LOWER``).

    >>> same_pads(10, 3, 2), same_pads(11, 3, 2), same_pads(224, 7, 2)
    ((0, 1), (1, 1), (2, 3))
    >>> same_pads(10, 3, 2, lower=True)
    (1, 0)
    """
    total = dmax(0, (ceildiv(L, s) - 1) * s + effective_kernel(k, d) - L)
    small = floordiv(total, 2)
    big = norm(total - small)
    return (big, small) if lower else (small, big)


def causal_pads(k: int, d: int) -> tuple[int, int]:
    """Keras ``padding='causal'``: ``d*(k-1)`` zeros before the sequence, none after (§1.2).

    >>> causal_pads(3, 4)
    (8, 0)
    """
    return (d * (k - 1), 0)


def torch_same_pads(k: int, d: int) -> tuple[int, int]:
    """PyTorch ``padding='same'`` (stride 1 only): total ``d*(k-1)``, odd extra at the end (§1.1).

    >>> [torch_same_pads(k, d) for k, d in [(2, 1), (3, 1), (4, 1), (4, 3)]]
    [(0, 1), (1, 1), (1, 2), (4, 5)]
    """
    total = d * (k - 1)
    return (total // 2, total - total // 2)


# --------------------------------------------------------------------------- transposed convolution (§2)

CONV_TRANSPOSE_OUT = axis_formula(
    "({L} - 1)*{s} - {pb} - {pe} + {d}*({k}-1) + {a} + 1",
    L="L_in", s="stride", pb="pad_begin", pe="pad_end", d="dilation", k="kernel", a="output_padding",
)


def conv_transpose_out(L: Dim, k: int, s: int, pb: Dim, pe: Dim, d: int = 1, a: Dim = 0) -> Dim:
    """Output length of a transposed convolution (§2.1, §2.3).

    ``(L - 1)*s - pb - pe + d*(k-1) + a + 1``: the full scatter output ``(L-1)*s + k_eff``,
    cropped by ``pb`` at the start and ``pe`` at the end, plus ``a`` (output_padding) at the end.

    >>> conv_transpose_out(7, k=3, s=2, pb=1, pe=1)
    13
    >>> conv_transpose_out(7, k=3, s=2, pb=1, pe=1, a=1)
    14
    """
    return norm((L - 1) * s - pb - pe + d * (k - 1) + a + 1)


def keras_conv_transpose_crops(
    k: int, s: int, d: int, padding: str, output_padding: int | None
) -> tuple[int, int, int]:
    """Keras ``Conv*DTranspose``: (crop at begin, crop at end, extra zeros at end) (§2.2).

    Keras derives its padding as JAX does (``backend_utils._convert_conv_transpose_padding_args
    _from_keras_to_jax``): a stride-1 convolution over the input stretched with ``s-1`` zeros,
    padded ``left``/``right``; relative to the full scatter output ``(L-1)*s + k_eff`` that is a
    crop of ``k_eff-1-left`` at the start and ``k_eff-1-right`` at the end (negative: extra
    zeros). The resulting lengths are tf.keras' ``deconv_output_length``:

    - valid, None: ``(L-1)*s + max(k_eff, s)``;  valid, a: ``(L-1)*s + k_eff + a``
    - same, None: ``L*s``;  same, a: ``(L-1)*s + (k_eff mod 2) + a``

    >>> keras_conv_transpose_crops(3, 2, 1, "same", None)
    (0, 1, 0)
    >>> keras_conv_transpose_crops(2, 3, 1, "valid", None)
    (0, 0, 1)
    """
    k_eff = effective_kernel(k, d)
    if padding == "valid":
        a = max(k_eff, s) - k_eff if output_padding is None else output_padding
        left, right = k_eff - 1, k_eff - 1 + a
    else:
        pad_len = s + k_eff - 2 if output_padding is None else k_eff + k_eff % 2 - 2 + output_padding
        left = min(pad_len // 2 + pad_len % 2, k_eff - 1)
        right = pad_len - left
    crop_begin = k_eff - 1 - left
    crop_end = k_eff - 1 - right
    return crop_begin, max(crop_end, 0), max(-crop_end, 0)


def keras_conv_transpose_out(L: Dim, k: int, s: int, d: int, padding: str, output_padding: int | None) -> Dim:
    """Output length of Keras/tf.keras ``Conv*DTranspose`` (§2.2, ``deconv_output_length``).

    >>> keras_conv_transpose_out(5, 3, 2, 1, "same", None), keras_conv_transpose_out(5, 3, 2, 1, "same", 0)
    (10, 9)
    >>> keras_conv_transpose_out(5, 2, 3, 1, "valid", None)
    15
    """
    b, e, a = keras_conv_transpose_crops(k, s, d, padding, output_padding)
    return conv_transpose_out(L, k, s, b, e, d, a)


def onnx_conv_transpose_same_pads(k: int, s: int, d: int, a: int = 0, *, lower: bool) -> tuple[int, int]:
    """ONNX ``ConvTranspose`` with ``auto_pad=SAME_*``, as onnxruntime runs it (§2.3, trap 11):
    ``total = max(0, output_padding + k_eff - s)``, the odd one at the end for ``SAME_UPPER``.

    The output is then ``s*(L-1) + output_padding + k_eff - total``: ``L*s`` when
    ``output_padding + k_eff >= s``. ONNX shape inference leaves ``output_padding`` out of the
    total (one more element when it is set); the ReferenceEvaluator forces ``L*s`` even when
    ``k_eff < s``.

    >>> onnx_conv_transpose_same_pads(3, 2, 1, lower=False), onnx_conv_transpose_same_pads(2, 3, 1, lower=False)
    ((0, 1), (0, 0))
    >>> onnx_conv_transpose_same_pads(4, 2, 1, 1, lower=False), onnx_conv_transpose_same_pads(4, 2, 1, 1, lower=True)
    ((1, 2), (2, 1))
    """
    total = max(0, a + effective_kernel(k, d) - s)
    small, big = total // 2, total - total // 2
    return (big, small) if lower else (small, big)


# --------------------------------------------------------------------------- pooling (§3)

POOL_CEIL_OUT = axis_formula(
    "floor(({L} + {pb} + {pe} - {d}*({k}-1) - 1 + ({s}-1)) / {s}) + 1, minus 1 if the last window "
    "starts at or after {L} + {pb}",
    L="L_in", pb="pad_begin", pe="pad_end", d="dilation", k="kernel", s="stride",
)


def pool_out(L: Dim, k: int, s: int, pb: int, pe: int, d: int = 1, ceil_mode: bool = False) -> Dim:
    """Output length of max/average pooling, PyTorch and ONNX rule (§3.1, §3.2).

    Floor mode is :func:`conv_out`. In ``ceil_mode`` the division rounds up, and then the last
    window must *start* inside the input or the left padding (``pooling_output_shape_pad_lr``)::

        O = floor((L + pb + pe - k_eff + s - 1) / s) + 1
        if (O - 1)*s >= L + pb:  O -= 1

    >>> pool_out(5, k=2, s=2, pb=1, pe=1, ceil_mode=True)   # naive ceil would say 4
    3
    >>> pool_out(112, k=3, s=2, pb=0, pe=0, ceil_mode=True), pool_out(112, k=3, s=2, pb=0, pe=0)
    (56, 55)

    Symbolically one rounding remains, which bound binds being decided from the arguments
    (not by asking sympy):

    >>> import sympy
    >>> H = sympy.Symbol("H", positive=True, integer=True)
    >>> pool_out(H, k=3, s=2, pb=0, pe=0, ceil_mode=True)
    floor(H/2)
    """
    if not ceil_mode:
        return conv_out(L, k, s, pb, pe, d)
    k_eff = effective_kernel(k, d)
    out = floordiv(L + pb + pe - k_eff + s - 1, s) + 1
    if is_concrete(L):
        return out - 1 if (out - 1) * s >= L + pb else out
    # The decrement happens when floor(N1/s) > floor(N2/s), N1 = L + pb + pe - k_eff + s - 1 (the
    # ceiling's numerator) and N2 = L + pb - 1 (window starts inside the input or the left
    # padding). Their difference pe - k_eff + s decides it from the arguments alone, so one
    # rounding remains (checked against the rule above on a million argument combinations in
    # tests/test_symbolic.py):
    if not (is_concrete(pb) and is_concrete(pe)):  # padding that depends on the size (ONNX SAME_*)
        s_ = sp()
        return norm(out - s_.Piecewise((1, s_.Ge((out - 1) * s, L + pb)), (0, True)))
    if pe <= k_eff - s:  # N1 <= N2: never (MaxPool2d(3, 2, ceil_mode=True): floor(H/2))
        return norm(out)
    if pe < k_eff:  # 0 < N1 - N2 < s: the start bound, exactly
        return norm(floordiv(L + pb - 1, s) + 1)
    return norm(out - 1)  # N1 - N2 >= s: always once


# --------------------------------------------------------------------------- resizing (§4)


def scale_out(L: Dim, scale: float | Fraction) -> Dim:
    """PyTorch ``interpolate(scale_factor=f)`` / ONNX ``Resize(scales)``: ``floor(L * f)`` (§4).

    Concrete sizes use the same double-precision product as PyTorch
    (``math.floor(float(L) * f)``), so 1.1 and friends round exactly as the framework does.

    >>> scale_out(5, 1.5), scale_out(7, 1.5)
    (7, 10)
    """
    if is_concrete(L):
        return math.floor(float(L) * float(scale))
    frac = Fraction(scale).limit_denominator(10**6) if isinstance(scale, float) else Fraction(scale)
    return floordiv(L * frac.numerator, frac.denominator)


# --------------------------------------------------------------------------- costs (§5, §6)


def conv_macs(batch: Dim, out_positions: Dim, c_out: Dim, c_in: Dim, groups: Dim, kernel_volume: int) -> Dim:
    """Direct convolution MACs: ``N * prod(out spatial) * C_out * (C_in / g) * prod(k)`` (§6.1).

    >>> conv_macs(1, 112 * 112, 64, 3, 1, 49)   # ResNet stem
    118013952
    """
    return norm(batch * out_positions * c_out * floordiv(c_in, groups) * kernel_volume)


def conv_transpose_macs(batch: Dim, in_positions: Dim, c_in: Dim, c_out: Dim, groups: Dim, kernel_volume: int) -> Dim:
    """Transposed convolution MACs: ``N * prod(INPUT spatial) * C_in * (C_out / g) * prod(k)`` (§6.1).

    Each input element is multiplied by its whole ``C_out/g x prod(k)`` kernel slice; counting
    output positions instead over-counts by about ``prod(stride)`` (thop, torchinfo; trap 7).

    >>> conv_transpose_macs(1, 8 * 8, 16, 8, 1, 16)
    131072
    """
    return norm(batch * in_positions * c_in * floordiv(c_out, groups) * kernel_volume)


def dense_macs(rows: Dim, in_features: Dim, out_features: Dim) -> Dim:
    """Dense / Linear MACs: ``rows * in * out``, rows = every axis but the last (§6.1).

    >>> dense_macs(1, 2048, 1000)
    2048000
    """
    return norm(rows * in_features * out_features)


def conv_params(c_in: Dim, c_out: Dim, groups: Dim, kernel_volume: int, bias: bool) -> Dim:
    """``C_out * (C_in / g) * prod(k) + C_out * bias`` (§5). Transposed: swap the channel roles.

    >>> conv_params(3, 64, 1, 49, False)
    9408
    """
    return norm(c_out * floordiv(c_in, groups) * kernel_volume + (c_out if bias else 0))


# --------------------------------------------------------------------------- receptive fields
# Per axis, a layer's field is written in the *start form*: output element ``i`` sees input
# pixels ``start + i*j`` to ``start + i*j + r - 1`` (``r`` the size, ``j`` the effective stride
# or jump, ``start`` negative where the field begins in padding). The model input has
# ``r = 1, j = 1, start = 0``. Araujo, Norris & Sim, "Computing Receptive Fields of
# Convolutional Neural Networks", Distill 2019, eqs. (1)-(3) in this notation.


def rf_size(r_in: Dim, k_eff: Dim, j_in: Any) -> Any:
    """``r_out = r_in + (k_eff - 1) * j_in``: a window of ``k_eff`` input elements, each ``j_in``
    pixels apart and each seeing ``r_in`` pixels.

    >>> rf_size(1, 7, 1), rf_size(7, 3, 2)  # ResNet's 7x7/2 stem, then its 3x3/2 max pool
    (7, 11)
    """
    return norm(r_in + (k_eff - 1) * j_in) if not isinstance(j_in, Fraction) else r_in + (k_eff - 1) * j_in


def rf_jump(j_in: Any, s: Dim) -> Any:
    """``j_out = j_in * s``: neighbouring outputs are ``s`` input elements apart.

    >>> rf_jump(2, 2)
    4
    """
    return j_in * s


def rf_start(start_in: Any, pb: Dim, j_in: Any) -> Any:
    """``start_out = start_in - pb * j_in``: output 0's window begins ``pb`` elements into the
    padding (a crop or a negative pad moves it the other way).

    >>> rf_start(0, 3, 1), rf_start(-3, 1, 2)  # the stem pads 3, the pool 1 (at jump 2)
    (-3, -5)
    """
    return start_in - pb * j_in if isinstance(start_in, Fraction) or isinstance(j_in, Fraction) else norm(start_in - pb * j_in)


def rf_transposed_taps(k: int, s: int, d: int, o: int, crop: int) -> list[int]:
    """The input elements a transposed convolution's output ``o`` reads: ``i`` with
    ``i*s + t*d = o + crop`` for a tap ``t`` in ``0..k-1`` (the scatter of §2, ``crop`` its
    begin padding). Empty where the output is bias alone (``k < s``).

    >>> rf_transposed_taps(3, 2, 1, 0, 1), rf_transposed_taps(3, 2, 1, 1, 1), rf_transposed_taps(1, 2, 1, 1, 0)
    ([0], [1, 0], [])
    """
    return [(o + crop - t * d) // s for t in range(k) if (o + crop - t * d) % s == 0]
