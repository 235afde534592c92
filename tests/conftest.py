"""Shared test helpers.

PyTorch cross-checks: ``torch_or_skip()`` imports torch, or skips the test — unless
``CONVCALC_REQUIRE_TORCH=1`` (set in CI), where a missing torch fails the test instead, so a
cross-check can never silently count as passing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def torch_or_skip():
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        if os.environ.get("CONVCALC_REQUIRE_TORCH") == "1":
            pytest.fail("CONVCALC_REQUIRE_TORCH=1 but torch is not installed (pip install torch==2.13.0)")
        pytest.skip("torch is not installed (pip install torch==2.13.0 to run the PyTorch cross-checks)")
    return torch


def torchvision_or_skip():
    """torchvision's model builders, for the from_torch tests (CI installs torchvision 0.28.0
    with ``--no-deps``, beside the CPU torch 2.13.0).

    The torchvision wheel is built for CUDA: its compiled ops (nms, roi_align, ...) do not load
    next to the CPU torch, and ``torchvision/_meta_registrations.py``, which registers meta
    kernels for them at import, fails with "operator torchvision::nms does not exist". The model
    builders need none of those ops, so that one module is replaced by an empty stand-in before
    torchvision is imported.
    """
    torch_or_skip()
    import sys
    import types

    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    try:
        import torchvision  # noqa: PLC0415
    except ImportError:
        if os.environ.get("CONVCALC_REQUIRE_TORCH") == "1":
            pytest.fail("CONVCALC_REQUIRE_TORCH=1 but torchvision is not installed "
                        "(pip install --no-deps torchvision==0.28.0)")
        pytest.skip("torchvision is not installed (pip install --no-deps torchvision==0.28.0)")
    return torchvision


@pytest.fixture
def torch():
    return torch_or_skip()


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def write_model(tmp_path):
    """Write a model file and return its path (as a string)."""

    def write(text: str, name: str = "model.yaml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write
