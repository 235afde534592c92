"""The plot of a sweep: MACs and activation memory against the swept size (matplotlib, the
``plot`` extra: ``pip install '.[plot]'``)."""

from __future__ import annotations

import textwrap
from typing import Any

from ..errors import UsageError
from .conventions import MACS


def plot_sweep(result: Any, path: str) -> None:
    """Draw ``result`` (a :class:`~convcalc.sweep.SweepResult`) to the PNG ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib", fix="pip install matplotlib (from a checkout: pip install '.[plot]')") from None
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    x = result.values
    ok = result.valid
    top.plot(x[ok], result.totals["macs"][ok] / 1e9, color="tab:blue")
    top.set_ylabel("GMACs")
    top.set_title(f"{result.plan.name or 'model'}: cost against {', '.join(result.names)}")
    bottom.plot(x[ok], result.totals["activation_bytes"][ok] / 2**20, color="tab:orange")
    bottom.set_ylabel("activations (MiB)")
    bottom.set_xlabel(", ".join(result.names))
    exact = ok & result.exact
    if exact.any() and not exact.all():
        top.scatter(x[exact], result.totals["macs"][exact] / 1e9, s=8, color="tab:green", label="exact sizes")
        top.legend()
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(MACS, 120)), fontsize=7)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
