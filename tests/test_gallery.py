"""The gallery (examples/*.md) is convcalc's current output: regenerate every page and compare.

After an intended change: `python examples/_generators/gallery.py`, then review the diff.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from .conftest import EXAMPLES

spec = importlib.util.spec_from_file_location("convcalc_gallery", EXAMPLES / "_generators" / "gallery.py")
gallery = importlib.util.module_from_spec(spec)
sys.modules["convcalc_gallery"] = gallery  # dataclasses look their module up while the file runs
spec.loader.exec_module(gallery)

REQUIRED = {"conv1d_on_images", "conv3d_vs_conv2d", "onehot_conv1d_vs_conv2d", "per_sample_convolution",
            "multi_kernel_conv1d", "unet_2048", "transposed_conv1d"}


def test_the_gallery_has_every_seed_question():
    assert {p.name for p in gallery.PAGES} == REQUIRED
    for name in REQUIRED:
        assert (EXAMPLES / f"{name}.yaml").exists() and (EXAMPLES / f"{name}.md").exists()


@pytest.mark.parametrize("page", gallery.PAGES, ids=lambda p: p.name)
def test_page_has_not_drifted(page):
    assert (EXAMPLES / f"{page.name}.md").read_text() == gallery.render(page), (
        f"examples/{page.name}.md is stale: run python examples/_generators/gallery.py")


def test_index_has_not_drifted():
    assert (EXAMPLES / "README.md").read_text() == gallery.index()


def test_proofs_hold():
    for page in gallery.PAGES:
        for proof in page.proofs:
            text = proof()
            assert "DIFFERENT" not in text, text


def test_headline_figures():
    """The numbers the issue asks the gallery to show."""
    from convcalc.compare import compare

    c = compare({"3d": gallery._plan("examples/conv3d_vs_conv2d.yaml", "conv3d"),
                 "2d": gallery._plan("examples/conv3d_vs_conv2d.yaml", "conv2d_time_as_channels")})
    from fractions import Fraction

    assert (c.ratio("2d", "macs"), c.ratio("2d", "params"), c.ratio("2d", "activation_bytes")) == (
        Fraction(1, 5), Fraction(401, 126), Fraction(1, 16))
    same = gallery._plan("examples/conv1d_on_images.yaml", "same_padding")
    assert same.layers[-1].output_shape == (20, 100, 100, 64)
    assert gallery._plan("examples/per_sample_convolution.yaml", "full", N=5).layers[0].output_shape == (5, 4, 1)
    lengths = {v: gallery._plan("examples/transposed_conv1d.yaml", v).layers[-1].output_shape[1]
               for v in ("valid", "same", "same_output_padding_0", "valid_output_padding_1", "dilated")}
    assert lengths == {"valid": 101, "same": 100, "same_output_padding_0": 99, "valid_output_padding_1": 102,
                       "dilated": 54}
