"""The figures convcalc reports, declared once.

Every per-layer figure of a plan is one :class:`Figure`: the plan's totals, the JSON report, the
table headers, ``compare``'s rows and ratios and ``--sweep``'s columns all read :data:`FIGURES`,
so a new figure is one entry here plus the property that computes it on
:class:`~convcalc.plan.LayerPlan`.

    >>> [f.key for f in FIGURES if f.ratio]
    ['params', 'macs', 'flops', 'activation_bytes']
    >>> FIGURE["activation_bytes"].header, FIGURE["activation_bytes"].exact_header
    ('activations', 'activation bytes')
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One reported figure.

    Attributes:
        key: the attribute of a layer plan and of the totals, and the JSON key (``"macs"``).
        header: its column header or row label (``"MACs"``).
        exact_header: the header where it is printed as an exact integer (CSV), if different.
        unit: ``"count"`` or ``"bytes"`` (bytes print in binary units: ``3.06 MiB``).
        ratio: ``compare`` shows its ratio to the baseline, and ``--sweep`` its value per size.
        in_layer_table: a column of the per-layer plan table.
        parameter_split: one of the trainable/non-trainable pair, shown only when some
            parameter of a plan is non-trainable.
    """

    key: str
    header: str
    exact_header: str | None = None
    unit: str = "count"
    ratio: bool = False
    in_layer_table: bool = True
    parameter_split: bool = False

    def title(self, exact: bool) -> str:
        """The header, in its exact-integer form when ``exact``."""
        return (self.exact_header or self.header) if exact else self.header


FIGURES: tuple[Figure, ...] = (
    Figure("params", "params", ratio=True),
    Figure("trainable_params", "trainable", in_layer_table=False, parameter_split=True),
    Figure("non_trainable_params", "non-trainable", parameter_split=True),
    Figure("macs", "MACs", ratio=True),
    Figure("flops", "FLOPs", ratio=True),
    Figure("activation_bytes", "activations", exact_header="activation bytes", unit="bytes", ratio=True),
)
FIGURE = {f.key: f for f in FIGURES}
RATIO_KEYS = tuple(f.key for f in FIGURES if f.ratio)

__all__ = ["FIGURE", "FIGURES", "RATIO_KEYS", "Figure"]
