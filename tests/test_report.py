"""Report rendering: golden files per format (regenerate with CONVCALC_OVERWRITE=1 after an
intended change and review the diff), plus invariants that do not trust the golden files: the
numbers are the hand-computed ones, and each column adds up to its total row.

The model: Keras Conv2D(8, 3, strides 2, same) on (2, 10, 11, 3), BatchNormalization, global
average pooling, Dense(4). By hand: conv 3*3*3*8 + 8 = 224 params, output (2, 5, 6, 8),
MACs 2*5*6*8*3*9 = 12,960; BN 16 trainable + 16 non-trainable; Dense 8*4 + 4 = 36 params,
2*8*4 = 64 MACs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import convcalc
from convcalc.report import FORMATS

REPORTS = Path(__file__).parent / "reports"
MODEL = {
    "name": "small",
    "framework": "keras",
    "input": [2, 10, 11, 3],
    "layers": [
        {"op": "Conv2D", "name": "conv", "filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"},
        {"op": "BatchNormalization", "name": "bn"},
        {"op": "GlobalAveragePooling2D", "name": "gap"},
        {"op": "Dense", "name": "fc", "units": 4},
    ],
}


@pytest.fixture(scope="module")
def plan():
    return convcalc.Model.from_dict(MODEL).plan()


def test_hand_computed_numbers(plan):
    conv, bn, gap, fc = plan.layers
    assert (conv.output_shape, conv.params, conv.macs) == ((2, 5, 6, 8), 224, 12_960)
    assert (bn.trainable_params, bn.non_trainable_params, bn.macs) == (16, 16, 0)
    assert (gap.output_shape, fc.output_shape, fc.params, fc.macs) == ((2, 8), (2, 4), 36, 64)
    assert plan.totals.params == 224 + 32 + 36
    assert plan.totals.activation_bytes == 4 * (2 * 5 * 6 * 8 * 2 + 2 * 8 + 2 * 4)


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_rendering(plan, fmt):
    text = plan.table(fmt)
    path = REPORTS / f"small.{fmt}.txt"
    if os.environ.get("CONVCALC_OVERWRITE") == "1":
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with CONVCALC_OVERWRITE=1 and review it"
    assert text == path.read_text()


def test_text_columns_add_up_to_the_total_row(plan):
    """torchinfo's invariant, on the rendered text itself (columns located by the dash rule)."""
    lines = plan.table("text", exact=True, columns=("flops",)).splitlines()
    header, rule = lines[2], lines[3]
    spans = {header[m.start():m.end()].strip(): (m.start(), m.end()) for m in re.finditer(r"-+", rule)}
    rows = lines[4:lines.index("", 4)]  # the table ends at the first blank line
    body = [r for r in rows if not r.startswith(("input", "total"))]
    total = next(r for r in rows if r.startswith("total"))
    for name in ("params", "non-trainable", "MACs", "FLOPs"):
        a, b = spans[name]
        column = [int(r[a:b].strip().replace(",", "")) for r in body]
        assert sum(column) == int(total[a:b].strip().replace(",", "")), name


def test_conventions_follow_the_framework():
    for fw, phrase in [("pytorch", "buffers (BatchNorm running mean/var) excluded"),
                       ("keras", "BatchNorm moving mean/variance included"),
                       ("onnx", "initializer elements")]:
        model = convcalc.Model(framework=fw, input=[1, 4]).add("Identity")
        assert phrase in " ".join(model.plan().table("text").split())  # wrapped to the width


# --------------------------------------------------------------------------- the reader's view (issue 11)

from convcalc.cli import cli  # noqa: E402
from convcalc.report import View, render_plan  # noqa: E402

from .conftest import EXAMPLES  # noqa: E402


@pytest.mark.parametrize("args", [["examples/resnet50.yaml"], ["examples/resnet50.yaml", "--symbolic"],
                                  ["examples/unet_symbolic.yaml"], ["examples/vgg16.yaml"],
                                  ["examples/resnet50.yaml", "--depth", "2"]])
def test_text_fits_the_terminal(runner, args):
    args = [str(EXAMPLES.parent / args[0]), *args[1:]]
    result = runner.invoke(cli, ["plan", *args], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    widths = [len(line) for line in result.stdout.splitlines()]
    assert max(widths) <= 100, max(widths)
    narrow = runner.invoke(cli, ["plan", *args], env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 80  # names are cut in the middle if need be


def test_the_legend_names_each_long_expression_once_and_writes_it_out():
    """Every name in the table is written out under it, and stands for the exact figure."""
    plan = convcalc.load(str(EXAMPLES / "unet_symbolic.yaml")).plan_symbolic()
    text = render_plan(plan, "text", View(width=100))
    legend = dict(line.split(" = ", 1) for line in text.split("\n\n")[2].replace("\n      ", " ").splitlines()
                  if re.match(r"^e\d+ = ", line))
    assert len(legend) == len(set(legend.values())) > 10
    rows = {line.split()[0]: line.split() for line in text.splitlines()[4:] if line and not line.startswith(" ")}
    from convcalc.dims import fmt_dim

    enc1b = plan.layer("enc1b")
    macs_name = rows["enc1b"][-2]
    assert " ".join(legend[macs_name].split()) == fmt_dim(enc1b.macs)
    assert "e" not in "".join(rows["enc1b"][2:-2]) or True  # shapes short enough stay written out
    assert "(1, H - 4, W - 4, 64)" in text
    wide = render_plan(plan, "text", View(width=None))
    assert fmt_dim(enc1b.macs) in wide and not re.search(r"^e\d+ = ", wide, re.M)  # --wide: no legend


def test_depth_one_collapses_resnet50_into_its_top_level_blocks(runner):
    result = runner.invoke(cli, ["plan", str(EXAMPLES / "resnet50.yaml"), "--depth", "1", "--exact",
                                 "--columns", "flops", "--format", "csv"])
    assert result.exit_code == 0, result.output
    import csv
    import io

    rows = [r for r in csv.reader(io.StringIO(result.stdout)) if r and not r[0].startswith("#")]
    header, body = rows[0], rows[1:]
    names = [r[0] for r in body]
    assert names == ["input", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
                     "flatten", "fc", "total"]
    plan = convcalc.load(str(EXAMPLES / "resnet50.yaml")).plan()
    for col, key in (("params", "params"), ("MACs", "macs"), ("FLOPs", "flops"), ("activation bytes", "activation_bytes")):
        i = header.index(col)
        assert sum(int(r[i]) for r in body[1:-1]) == int(body[-1][i]) == getattr(plan.totals, key), col
        layer3 = sum(getattr(ly, key) for ly in plan.layers if ly.name.startswith("layer3."))
        assert int(body[names.index("layer3")][i]) == layer3
    assert body[names.index("layer1")][1] == "block (32 layers)"


def test_human_units_and_exact_numbers(plan):
    text = plan.table("text")
    assert "13.0 K" in text and "12,960" not in text.split("\n\n")[1]  # the table is in human units
    assert "13,024 MACs (13.0 K)" in text  # the totals line keeps the exact count
    exact = plan.table("text", exact=True)
    assert "12,960" in exact and "activation bytes" in exact and "1,920" in exact
    assert "FLOPs" not in text.split("\n\n")[1].splitlines()[0]  # hidden by default: FLOPs = 2 x MACs is stated
    assert "FLOPs" in plan.table("text", columns=("flops",)).splitlines()[2]


def test_unknown_columns_are_a_usage_error(runner):
    result = runner.invoke(cli, ["plan", str(EXAMPLES / "resnet50.yaml"), "--columns", "kernel,strides"])
    assert result.exit_code == 2 and "no column 'strides'" in result.stderr


def test_symbols_are_listed_in_the_files_order():
    model = convcalc.Model(framework="pytorch", input=[1, 3, "W", "H"], symbols={"W": 8, "H": 4}).add("ReLU")
    assert model.plan().table("text").splitlines()[0].endswith("W=8, H=4)")


def test_symbolic_memory_reads_in_binary_units():
    model = convcalc.Model(framework="pytorch", input=[1, 64, "T", "H", "W"]).add("ReLU")
    assert "0.25 KiB·H*T*W" in model.plan_symbolic().table("text")  # 64 channels x 4 bytes = 256 B per position


def test_depth_in_json_adds_the_blocks_and_keeps_every_layer(runner):
    import json

    data = json.loads(runner.invoke(cli, ["plan", str(EXAMPLES / "resnet50.yaml"), "--depth", "1", "--format",
                                          "json"]).stdout)
    assert len(data["layers"]) == 175  # the contract's per-layer list stays whole
    blocks = data["blocks"]
    assert [b["name"] for b in blocks][4:8] == ["layer1", "layer2", "layer3", "layer4"]
    for key in ("params", "macs", "flops", "activation_bytes"):
        assert sum(b[key] for b in blocks) == data["totals"][key]
    layer2 = next(b for b in blocks if b["name"] == "layer2")
    assert layer2["macs"] == sum(ly["macs"] for ly in data["layers"] if ly["name"].startswith("layer2."))
    assert layer2["output_shape"] == [1, 512, 28, 28] and len(layer2["layers"]) == 42


@pytest.mark.parametrize("example,symbolic", [("resnet50", True), ("unet_symbolic", True), ("mobilenet_v2", False),
                                              ("vgg16", True), ("decoder", True)])
def test_the_layout_bisection_picks_what_trying_each_in_turn_picks(example, symbolic):
    """plan_document bisects its layouts for the first that fits; that is the linear scan's
    answer because each layout is at most as wide as the one before it — both checked here,
    at terminal widths from 40 to 160."""
    from convcalc.report.render import table_width
    from convcalc.report.tables import Legend, layout_tries, plan_document, plan_table

    model = convcalc.load(str(EXAMPLES / f"{example}.yaml"))
    plan = model.plan_symbolic() if symbolic else model.plan()
    taken = set(plan.symbols) | {str(s) for s in getattr(plan, "used_symbols", ())}
    for width in (40, 60, 80, 100, 120, 160):
        view = View(width=width)
        tables = [plan_table(plan, exact_numbers=False, view=view, legend=Legend(f, taken), shape_budget=b,
                             name_budget=n) for f, b, n in layout_tries(False)]
        widths = [table_width(t) for t in tables]
        assert widths == sorted(widths, reverse=True), (width, widths)
        linear = next((t for t, w in zip(tables, widths) if w <= width), tables[-1])
        assert plan_document(plan, "text", view, table_width).tables[0] == linear, width
