"""Hostile input, by class (issue 10): every one gets one line, exit 1 or 2, no traceback, no hang
and no unbounded allocation. Each test names the class it covers."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.cli import cli
from convcalc.dims import ascii_int, parse_dim
from convcalc.errors import ArgumentError, ModelError

from .conftest import EXAMPLES

RELU = "framework: pytorch\ninput: [1, 3, 8, 8]\nlayers:\n  - {op: ReLU}\n"


def _one_error(result, code):
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("error: ") or "Error:" in result.stderr, result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output


# --------------------------------------------------------------------------- 1. integers beyond int<->str


def test_huge_integers_in_a_model_file_are_refused_at_read_time(runner, write_model):
    path = write_model("framework: pytorch\ninput: [1, 3, " + "9" * 5000 + ", 8]\nlayers:\n  - {op: ReLU}\n")
    result = runner.invoke(cli, ["plan", path])
    _one_error(result, 1)
    assert "an integer of 5,000 digits (sizes are at most 2**48)" in result.stderr and ":2:" in result.stderr


@pytest.mark.parametrize("args", [["--set", "H=" + "9" * 5000], ["--sweep", "H=1:" + "9" * 5000],
                                  ["--sweep", "H=" + "9" * 30 + ":" + "9" * 31]])
def test_huge_integers_on_the_command_line(runner, write_model, args):
    path = write_model("framework: pytorch\ninput: [1, 3, H, 8]\nlayers:\n  - {op: ReLU}\n")
    _one_error(runner.invoke(cli, ["plan", path, *args]), 2)


def test_huge_solve_output(runner, write_model):
    path = write_model("framework: pytorch\ninput: [1, 3, 8, 8]\nlayers:\n  - {op: Conv2d, name: c, out_channels: 2, "
                       "kernel_size: 3}\n")
    _one_error(runner.invoke(cli, ["solve", path, "--layer", "c", "--output", "H=" + "7" * 4400]), 2)


# --------------------------------------------------------------------------- 2. digits int() reads but are not ASCII


@settings(max_examples=60, deadline=None)
@given(st.characters(categories=["Nd", "No"]).filter(lambda c: not ("0" <= c <= "9")))
def test_only_ascii_digits_are_numbers(digit):
    assert ascii_int(digit) is None and ascii_int("1" + digit) is None
    with pytest.raises(ArgumentError):
        parse_dim(digit)
    with pytest.raises(ArgumentError):
        parse_dim(f"2*{digit}")


def test_a_superscript_two_in_set_is_a_usage_error(runner, write_model):
    _one_error(runner.invoke(cli, ["plan", write_model(RELU), "--set", "H=²"]), 2)


# --------------------------------------------------------------------------- 3. unbounded arithmetic in the parser


@pytest.mark.parametrize("text,why", [
    ("((2**64)**64)**64", "beyond 2**64"), ("(2**63)*4", "beyond 2**64"),
    ("((H+1)**64)**64", "degree 64"), ("H**17", "degree 17"),
    ("H % 0", "division by zero"), ("H % (H-H)", "divisor is 0 for every size"), ("H / (H-H)", "divisor is 0"),
    ("H // (W - W)", "divisor is 0"),
])
def test_the_parser_bounds_its_arithmetic(text, why):
    start = time.perf_counter()
    with pytest.raises(ArgumentError, match=why.replace("*", r"\*")):
        parse_dim(text)
    assert time.perf_counter() - start < 1.0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 64), st.integers(0, 64), st.integers(1, 8))
def test_towers_are_refused_or_exact(a, b, c):
    text = f"({a}**{b})**{c}"
    try:
        value = parse_dim(text)
    except ArgumentError:
        assert (a ** b) ** c > 2**48  # refused only when it is no size
        return
    assert value == (a ** b) ** c


# --------------------------------------------------------------------------- 4. special files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_with_no_writer_does_not_hang(tmp_path):
    fifo = tmp_path / "model.yaml"
    os.mkfifo(fifo)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "convcalc", "plan", str(fifo)], capture_output=True, text=True,
                            timeout=20)
    assert result.returncode == 2 and "is not a regular file" in result.stderr
    assert time.perf_counter() - start < 15


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_not_read(runner, device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    result = runner.invoke(cli, ["plan", device])
    _one_error(result, 2)
    assert "is not a regular file" in result.stderr


# --------------------------------------------------------------------------- 6. command-line values


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "-5", "0", "many", "1" * 5000])
def test_bad_max_macs_is_a_usage_error(runner, write_model, value):
    _one_error(runner.invoke(cli, ["check", write_model(RELU), "--max-macs", value]), 2)


@pytest.mark.parametrize("value", ["40G", "31.6 G", "2e10", "20000000000", "1.5T"])
def test_max_macs_takes_the_units_convcalc_prints(runner, write_model, value):
    assert runner.invoke(cli, ["check", write_model(RELU), "--max-macs", value]).exit_code == 0


@pytest.mark.parametrize("value", ["-1", str(2**64)])
def test_a_seed_out_of_range_is_a_usage_error(runner, write_model, value):
    _one_error(runner.invoke(cli, ["check", write_model(RELU), "--seed", value]), 2)


# --------------------------------------------------------------------------- 9. building a model is linear


def test_a_hundred_thousand_layers_build_and_plan():
    model = convcalc.Model(framework="pytorch", input=[1, 3, 4, 4])
    for _ in range(100_000):
        model.add("ReLU")
    assert len(model.plan().layers) == 100_000  # (the time is bench material; 0.4 s + 1.5 s here)


def test_a_large_file_without_aliases_is_not_called_an_alias_bomb(tmp_path):
    from convcalc.loader import MAX_NODES, parse_yaml

    text = "layers:\n" + "  - {op: ReLU, a: 1}\n" * (MAX_NODES // 5 + 10)
    with pytest.raises(ModelError) as e:
        parse_yaml(text)
    assert "alias" not in e.value.message and "more than" in e.value.message


def test_the_tree_count_is_the_alias_walks_count_and_stops_at_its_limit():
    """Without anchors the nodes are counted by a plain walk: the memoised alias walk's count on
    every example, and a walk that stops just past its limit."""
    from convcalc.loader import _expanded_size, _Loader, _node_count

    from .conftest import EXAMPLES

    for path in sorted(EXAMPLES.glob("*.yaml")):
        node = _Loader(path.read_text()).get_single_node()
        assert _node_count(node, 10**9) == _expanded_size(node, {}), path.name
        assert _node_count(node, 10) == 11


# --------------------------------------------------------------------------- 10. solve with a symbol only in arguments


def test_solve_with_a_symbol_only_layer_arguments_use(runner, write_model):
    text = "framework: pytorch\ninput: [1, 3, H, W]\nsymbols: {K: 16}\nlayers:\n  - {op: Conv2d, out_channels: K, " \
           "kernel_size: 3, stride: 2}\n"
    result = runner.invoke(cli, ["solve", write_model(text)])
    assert result.exit_code == 0, result.output
    # k3 s2: valid from 3, and exact when (H - 3) % 2 == 0; K keeps its default 16.
    assert "H = 3 + 2k" in result.stdout and "W = 3 + 2k" in result.stdout
    no_default = text.replace("symbols: {K: 16}\n", "symbols: {H: 32}\n")
    result = runner.invoke(cli, ["solve", write_model(no_default)])
    _one_error(result, 1)
    assert "K is not a symbol of the model" in result.stderr


# --------------------------------------------------------------------------- 12. broken pipes


def test_a_reader_that_goes_away_ends_convcalc_quietly():
    proc = subprocess.run(f"{sys.executable} -m convcalc ops pytorch | head -1", shell=True, capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout.startswith("PyTorch") and "Error" not in proc.stderr and "internal" not in proc.stderr


# --------------------------------------------------------------------------- 14. variant keys that collide


@pytest.mark.parametrize("a,b", [("1", "'1'"), ("null", "'None'"), ("true", "'True'")])
def test_colliding_variant_keys_are_refused(runner, write_model, a, b):
    text = f"framework: pytorch\ninput: [1, 3, 8, 8]\nvariants:\n  {a}: {{layers: [{{op: ReLU}}]}}\n  {b}: " \
           "{layers: [{op: ReLU}]}\n"
    result = runner.invoke(cli, ["plan", write_model(text)])
    _one_error(result, 1)
    assert "have the same name" in result.stderr


def test_an_error_inside_a_variant_names_the_variant(runner, write_model):
    text = "framework: pytorch\ninput: [1, 3, 8, 8]\nvariants:\n  ok: {layers: [{op: ReLU}]}\n  wide: {layers: " \
           "[{op: Conv2d, out_channels: 2, kernel_size: 9}]}\n"
    result = runner.invoke(cli, ["plan", write_model(text)])
    _one_error(result, 1)
    assert ": variant 'wide': layer 'conv2d_1' (Conv2d): output would be empty" in result.stderr


# --------------------------------------------------------------------------- 11. the output file


def test_output_replaces_a_regular_file_atomically_with_the_umask_mode(runner, write_model, tmp_path):
    out = tmp_path / "plan.txt"
    out.write_text("old")
    os.chmod(out, 0o600)
    old = os.umask(0o022)
    try:
        assert runner.invoke(cli, ["plan", write_model(RELU), "-o", str(out)]).exit_code == 0
    finally:
        os.umask(old)
    assert out.read_text().split(" (pytorch")[0].endswith("model.yaml")
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".convcalc-")]


def test_output_through_a_symlink_replaces_its_target(runner, write_model, tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert runner.invoke(cli, ["plan", write_model(RELU), "-o", str(link)]).exit_code == 0
    assert link.is_symlink() and target.read_text().split(" (pytorch")[0].endswith("model.yaml")


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_output_to_a_character_device_writes_through_it(runner, write_model, tmp_path):
    import stat

    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a clone of /dev/null, in a temporary folder
    assert runner.invoke(cli, ["plan", write_model(RELU), "-o", str(null)]).exit_code == 0
    assert stat.S_ISCHR(os.stat(null).st_mode)  # still the device, not renamed over


def test_output_to_a_fifo_writes_through_it(write_model, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    result = subprocess.run([sys.executable, "-m", "convcalc", "plan", write_model(RELU), "-o", str(fifo)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and reader.communicate(timeout=30)[0].split(" (pytorch")[0].endswith("model.yaml")


def test_output_failures_are_usage_errors_and_leave_no_temporary_file(runner, write_model, tmp_path, monkeypatch):
    _one_error(runner.invoke(cli, ["plan", write_model(RELU), "-o", str(tmp_path / "no" / "x.txt")]), 2)
    import tempfile as tf

    monkeypatch.setattr(tf, "mkstemp", lambda **kw: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    result = runner.invoke(cli, ["plan", write_model(RELU), "-o", str(tmp_path / "x.txt")])
    _one_error(result, 2)
    assert "Permission denied" in result.stderr


def test_an_interrupt_while_writing_leaves_no_temporary_file(write_model, tmp_path, monkeypatch):
    from convcalc import cli as cli_module

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cli_module.write_output("text", str(tmp_path / "out.txt"))
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_on_standard_output_is_a_usage_error(write_model):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "convcalc", "plan", write_model(RELU)], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("error: cannot write to standard output")


def test_the_format_comes_from_the_output_suffix(runner, write_model, tmp_path):
    out = tmp_path / "plan.json"
    assert runner.invoke(cli, ["plan", write_model(RELU), "-o", str(out)]).exit_code == 0
    assert out.read_text().lstrip().startswith("{")


# --------------------------------------------------------------------------- 13. escaping


EVIL = "framework: pytorch\ninput: [1, 3, 8, 8]\nvariants:\n  \"<img src=x onerror=alert(1)>\": {layers: [{op: ReLU}]}\n" \
       "  \"a\\n\\\\input{/etc/passwd}\": {layers: [{op: ReLU}]}\n  \"=cmd|' /C calc'!A0\": {layers: [{op: ReLU}]}\n" \
       "  \"esc\\e[2J\\0\": {layers: [{op: ReLU}]}\n"


def test_html_escapes_every_name(runner, write_model):
    out = runner.invoke(cli, ["plan", write_model(EVIL), "--format", "html"]).stdout
    assert "<img" not in out and "&lt;img src=x" in out


def test_latex_keeps_names_inside_comments(runner, write_model):
    out = runner.invoke(cli, ["plan", write_model(EVIL), "--format", "latex"]).stdout
    assert all(not line.startswith("\\input") for line in out.splitlines())


def test_csv_cells_never_start_a_formula(runner, write_model):
    import csv
    import io

    out = runner.invoke(cli, ["plan", write_model(EVIL), "--format", "csv"]).stdout
    for row in csv.reader(io.StringIO(out)):
        for value in row:
            assert not value.startswith(("=", "+", "@")), value


def test_markdown_and_the_terminal_get_no_raw_markup_or_escapes(runner, write_model):
    md = runner.invoke(cli, ["plan", write_model(EVIL), "--format", "github"]).stdout
    assert "<img" not in md
    text = runner.invoke(cli, ["plan", write_model(EVIL)]).stdout
    assert "\x1b" not in text and "\x00" not in text and "\\x1b[2J" in text


# --------------------------------------------------------------------------- 7. a memory budget for check


@pytest.mark.parametrize("text", [
    "framework: pytorch\ninput: [1, 3, 30000, 30000]\nlayers:\n  - {op: ReLU}\n",  # 10.1 GiB per array
    "framework: pytorch\ninput: [1, 1, 100000, 100000]\nlayers:\n  - {op: Conv2d, out_channels: 1, kernel_size: 1}\n",
    "framework: pytorch\ninput: [1, 3, 8, 8]\nlayers:\n  - {op: ZeroPad2d, padding: 40000}\n",
])
def test_check_refuses_before_allocating_beyond_its_memory_budget(runner, write_model, text):
    result = runner.invoke(cli, ["check", write_model(text), "--max-macs", "1e15"])
    _one_error(result, 2)
    assert "GiB" in result.stderr and "--max-bytes" in result.stderr


def test_the_memory_budget_is_settable_and_the_estimate_bounds_real_use(runner):
    from convcalc.check import executor_bytes

    plan = convcalc.load(str(EXAMPLES / "resnet50.yaml")).plan(H=64, W=64)
    need = executor_bytes(plan)
    assert 1 << 20 < need < 1 << 30  # the live arrays of one image at 64x64: tens of MiB, with scratch
    result = runner.invoke(cli, ["check", str(EXAMPLES / "resnet50.yaml"), "--set", "H=64", "--set", "W=64",
                                 "--max-bytes", "1MiB"])
    _one_error(result, 2)
    assert runner.invoke(cli, ["check", str(EXAMPLES / "resnet50.yaml"), "--set", "H=64", "--set", "W=64",
                               "--max-bytes", "2GiB"]).exit_code == 0


# --------------------------------------------------------------------------- 8. the symbolic validity analysis is bounded


@pytest.mark.parametrize("layers", [
    [{"op": "MaxPool1d", "kernel_size": 2, "stride": 2}] * 21,
    [{"op": "Conv1d", "out_channels": 1, "kernel_size": 1, "stride": 2**40}],
    [{"op": "Conv1d", "out_channels": 1, "kernel_size": 1, "stride": s} for s in (1009, 1013, 1019)],
])
def test_large_periods_are_stated_not_enumerated(layers):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    plan = convcalc.Model(framework="pytorch", input=[1, 1, "H"], layers=layers).plan()
    texts = [t for kind in plan.constraint_summary.values() for t in kind]
    assert texts and time.perf_counter() - start < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 512 * 1024  # KiB: under 512 MiB more


def test_solve_says_when_the_period_is_too_large(runner, write_model):
    text = "framework: pytorch\ninput: [1, 1, H]\nlayers:\n" + "".join(
        f"  - {{op: Conv1d, out_channels: 1, kernel_size: {s}, stride: {s}}}\n" for s in (1009, 1013, 1019))
    result = runner.invoke(cli, ["solve", write_model(text)])
    _one_error(result, 2)
    assert f"repeat only every {1009 * 1013 * 1019:,} sizes" in result.stderr


# --------------------------------------------------------------------------- 5. sweeps


CONV512 = "framework: pytorch\ninput: [1, 512, H, 8]\nlayers:\n  - {op: Conv2d, out_channels: 512, kernel_size: 3, " \
          "padding: 1}\n"


@pytest.mark.parametrize("start", [10**7, 2**47 - 3, 2**40])
def test_sweep_totals_past_int64_are_exact(runner, write_model, start):
    result = runner.invoke(cli, ["plan", write_model(CONV512), "--sweep", f"H={start}:{start + 3}", "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    for h, macs, act in zip(data["values"], data["totals"]["macs"], data["totals"]["activation_bytes"]):
        assert macs == h * 8 * 512 * 512 * 9 and act == 512 * h * 8 * 4  # by hand: N*H*W*C_out*C_in*k*k


def test_a_streamed_sweep_past_int64_draws_as_the_cell_by_cell_table():
    """Totals kept in exact Python integers (object columns) stream with the same widths and
    digits as the table drawn cell by cell."""
    from convcalc.report import render_sweep
    from convcalc.report.render import simple_table
    from convcalc.report.tables import SWEEP_NOTE, sweep_table
    from convcalc.sweep import sweep

    model = convcalc.Model.from_dict({"framework": "pytorch", "input": [1, 512, "H", 8], "layers": [
        {"op": "Conv2d", "out_channels": 512, "kernel_size": 3, "padding": 1}]})
    result = sweep(model, ["H"], range(2**47 - 3, 2**47))
    assert result.totals["macs"].dtype == object
    table = sweep_table(result)
    assert render_sweep(result, "text") == simple_table(table.header, table.rows, table.align) + "\n\n" + SWEEP_NOTE + "\n"
    assert render_sweep(result, "csv").splitlines()[2].split(",")[2] == str((2**47 - 3) * 8 * 512 * 512 * 9)


def test_sweep_points_and_bounds_are_capped(runner, write_model):
    _one_error(runner.invoke(cli, ["plan", write_model(CONV512), "--sweep", "H=1:10000001"]), 2)
    _one_error(runner.invoke(cli, ["plan", write_model(CONV512), "--sweep", "H=5:3"]), 2)
    _one_error(runner.invoke(cli, ["plan", write_model(CONV512), "--sweep", f"H=1:{2**50}:{2**40}"]), 2)
    assert "exclusive" in runner.invoke(cli, ["plan", "--help"]).stdout


# --------------------------------------------------------------------------- 15. what "exact" means


def test_padding_is_not_lost_input_and_the_two_conditions_have_their_own_names():
    """ResNet-50 at 224: conv1 (k7 s2 p3) reads every input row — only padding is past its last
    window — so solve no longer prefers 225; the 1x1 stride-2 downsamples read one row in two,
    said so; and whether a transposed convolution gives the size back is its own statement."""
    plan = convcalc.load(str(EXAMPLES / "resnet50.yaml")).plan()
    assert not any(n.startswith("conv1:") for n in plan.notes)
    assert "layer2.0.downsample.0: H: 1 row read in every 2, W: 1 row read in every 2" in plan.notes
    assert plan.inversion_notes[0] == "conv1: H 224, W 224"  # (224 + 6 - 7) % 2 = 1
    symbolic = convcalc.load(str(EXAMPLES / "resnet50.yaml")).plan_symbolic()
    assert symbolic.constraint_summary["exact"] == []
    assert symbolic.constraint_summary["invertible"] == ["H % 32 == 1", "W % 32 == 1"]
    from convcalc.solve import solve_sizes

    assert solve_sizes(convcalc.load(str(EXAMPLES / "resnet50.yaml"))).symbols["H"].values(3) == [1, 2, 3]


def test_rows_no_window_reads_are_counted_by_hand():
    # Conv1d k3 s2 p0 on 8: windows start at 0, 2, 4 and cover rows 0..6: row 7 is never read.
    plan = convcalc.Model(framework="pytorch", input=[1, 1, 8]).add("Conv1d", name="c", out_channels=1, kernel_size=3,
                                                                  stride=2).plan()
    assert plan.notes == ("c: L: the last 1 input row never read",)
    # With padding 1 the last window covers padded rows 6..8: row 7 is read, only padding is left.
    padded = convcalc.Model(framework="pytorch", input=[1, 1, 8]).add("Conv1d", name="c", out_channels=1,
                                                                    kernel_size=3, stride=2, padding=1).plan()
    assert padded.notes == ()


# --------------------------------------------------------------------------- 16. ONNX ConvTranspose: onnxruntime's rules
# The rules are observed, not assumed: tests/golden/onnx.json and tests/golden/values/onnx.json are
# onnxruntime's shapes and values (gen_onnx.py); these are the issue's decoder, end to end.

DECODER = "framework: onnx\ninput: [1, 1, 50]\nlayers:\n  - {{op: ConvTranspose, name: up, out_channels: 1, " \
          "kernel_shape: [4], strides: [2], {args}}}\n"


@pytest.mark.parametrize("args,size", [
    ("auto_pad: SAME_UPPER, output_padding: [1]", 100),  # shape inference says 101; onnxruntime runs 100
    ("auto_pad: SAME_LOWER, output_padding: [1]", 100),
    ("auto_pad: SAME_UPPER", 100),
    ("pads: [1, 1], output_padding: [1]", 101),
    ("output_shape: [100]", 100),  # pads derived: 1 at the end, 1 at the start
    ("output_shape: [103]", 103),  # one past the full 49 * 2 + 4 = 102: onnxruntime zero-fills it
])
def test_onnx_conv_transpose_sizes_are_onnxruntime_s(runner, write_model, args, size):
    import json

    result = runner.invoke(cli, ["plan", write_model(DECODER.format(args=args)), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"][0]["output_shape"] == [1, 1, size]


@pytest.mark.parametrize("args,message", [
    ("auto_pad: SAME_UPPER, output_padding: [2]", "output_padding [2] must be less than the stride [2] along L"),
    ("output_shape: [104]", "output_shape [104] is larger than this ConvTranspose can produce along L (at most 103"),
])
def test_onnx_conv_transpose_what_onnxruntime_refuses_is_refused(runner, write_model, args, message):
    result = runner.invoke(cli, ["plan", write_model(DECODER.format(args=args))])
    _one_error(result, 1)
    assert message in result.stderr


# --------------------------------------------------------------------------- 17. fixes that fix


def test_a_linear_after_global_pooling_without_flatten_suggests_flatten(runner, write_model):
    text = "framework: pytorch\ninput: [1, 3, 32, 32]\nlayers:\n  - {op: Conv2d, out_channels: 8, kernel_size: 3}\n" \
           "  - {op: AdaptiveAvgPool2d, output_size: 1}\n  - {op: Linear, in_features: 8, out_features: 10}\n"
    result = runner.invoke(cli, ["plan", write_model(text)])
    _one_error(result, 1)
    assert "fix: add {op: Flatten} (nn.Flatten()) before it: (1, 8, 1, 1) flattens to (1, 8)" in result.stderr
    fixed = text.replace("  - {op: Linear", "  - {op: Flatten}\n  - {op: Linear")
    assert runner.invoke(cli, ["plan", write_model(fixed)]).exit_code == 0  # the fix works


@pytest.mark.parametrize("framework,op,args,expected", [
    ("pytorch", "Conv2d", "filters: 8, kernel_shape: 3, strides: 2",
     "'filters' (PyTorch spells it 'out_channels'); 'kernel_shape' (PyTorch spells it 'kernel_size'); 'strides' "
     "(PyTorch spells it 'stride')"),
    ("keras", "Conv2D", "out_channels: 8, kernel_size: 3", "'out_channels' (Keras spells it 'filters')"),
    ("onnx", "Conv", "out_channels: 8, kernel_size: 3", "'kernel_size' (ONNX spells it 'kernel_shape')"),
])
def test_another_frameworks_spelling_names_the_right_one_and_every_unknown_argument(runner, write_model, framework,
                                                                                    op, args, expected):
    shape = "[1, 3, 32, 32]" if framework != "keras" else "[1, 32, 32, 3]"
    text = f"framework: {framework}\ninput: {shape}\nlayers:\n  - {{op: {op}, {args}}}\n"
    result = runner.invoke(cli, ["plan", write_model(text)])
    _one_error(result, 1)
    assert expected in result.stderr


@pytest.mark.parametrize("layer", ["MaxPooling2D, pool_size: 2", "DepthwiseConv2D, kernel_size: 3",
                                   "SeparableConv2D, filters: 8, kernel_size: 3", "GlobalAveragePooling2D",
                                   "Conv2DTranspose, filters: 4, kernel_size: 2", "ZeroPadding2D", "UpSampling2D"])
def test_the_layout_hint_covers_every_spatial_keras_layer(layer):
    plan = convcalc.Model.from_dict({"framework": "keras", "input": [1, 3, 224, 224],
                                     "layers": [{"op": layer.split(",")[0], "name": "x",
                                                 **dict(kv.split(": ") for kv in layer.split(", ")[1:])}]}).plan()
    assert any(h.startswith("x: the input (1, 3, 224, 224) reads as 224 channels") for h in plan.hints), plan.hints


def test_a_channels_last_input_under_pytorch_gets_the_layout_fix(runner, write_model):
    text = "framework: pytorch\ninput: [1, 224, 224, 3]\nlayers:\n  - {op: Conv2d, in_channels: 3, out_channels: 8, " \
           "kernel_size: 3}\n"
    result = runner.invoke(cli, ["plan", write_model(text)])
    _one_error(result, 1)
    assert "fix: PyTorch reads channels first: if (1, 224, 224, 3) is channels last, write input: (1, 3, 224, 224)" \
        in result.stderr
    assert runner.invoke(cli, ["plan", write_model(text.replace("[1, 224, 224, 3]", "[1, 3, 224, 224]"))]).exit_code == 0


def test_an_input_in_the_other_layout_gets_a_hint(runner, write_model):
    text = "framework: keras\ninput: [1, 3, 224, 224]\nlayers:\n  - {op: Conv2D, filters: 8, kernel_size: 3}\n"
    result = runner.invoke(cli, ["plan", write_model(text)])
    assert result.exit_code == 0
    assert "hint: conv2d_1: the input (1, 3, 224, 224) reads as 224 channels with a first spatial size of 3: if it " \
           "is channels first, write data_format: channels_first or input: (1, 224, 224, 3)" in " ".join(result.stdout.split())
    import json

    assert json.loads(runner.invoke(cli, ["plan", write_model(text), "--format", "json"]).stdout)["hints"]
    ordinary = text.replace("[1, 3, 224, 224]", "[1, 224, 224, 3]")
    assert "hint:" not in runner.invoke(cli, ["plan", write_model(ordinary)]).stdout


# --------------------------------------------------------------------------- the second fresh corpus (394 inputs)
# Classes it still found open after the first round; each test names its class.


@pytest.mark.parametrize("number", ["0x" + "f" * 5000, "0b" + "1" * 70], ids=["hex", "binary"])
def test_1_integers_in_any_base_are_bounded_at_read_time(runner, write_model, number):
    result = runner.invoke(cli, ["plan", write_model(f"framework: pytorch\ninput: [1, {number}, 8]\nlayers:\n"
                                                     "  - {op: ReLU}\n")])
    _one_error(result, 1)
    assert "model.yaml:2: an integer of" in result.stderr and "sizes are at most 2**48" in result.stderr


def test_5_a_sweep_whose_total_peaks_inside_the_range_stays_exact():
    """4096 x 4096 x H x (2e6 - H) MACs is small at both ends and 1.7e19 in the middle (past int64)."""
    from convcalc.sweep import sweep

    model = convcalc.Model(framework="pytorch", input=[1, 4096, "H*(2000000-H)", 1]).add(
        "Conv2d", out_channels=4096, kernel_size=1, bias=False)
    result = sweep(model, ["H"], range(1, 2_000_000, 250_000))
    for h, macs in zip(result.values.tolist(), result.totals["macs"].tolist()):
        assert macs == 4096 * 4096 * h * (2_000_000 - h) > 0


def test_5_sweep_csv_quotes_symbols_swept_together_and_caps_points(runner, write_model):
    path = write_model("framework: pytorch\ninput: [1, 3, H, W]\nlayers:\n  - {op: Conv2d, out_channels: 4, "
                       "kernel_size: 3}\n")
    out = runner.invoke(cli, ["plan", path, "--sweep", "H,W=10:13", "--format", "csv"]).stdout
    import csv
    import io

    rows = [r for r in csv.reader(io.StringIO(out)) if r and not r[0].startswith("#")]
    assert rows[0][0] == "H,W" and {len(r) for r in rows} == {len(rows[0])}  # rectangular
    result = runner.invoke(cli, ["plan", path, "--sweep", "H,W=1:1000002"])
    _one_error(result, 2)
    assert "more than 1,000,000" in result.stderr
    # an HTML page is laid out whole by a browser: 100,000 rows at most, refused before computing
    result = runner.invoke(cli, ["plan", path, "--sweep", "H,W=3:100004", "--format", "html"])
    _one_error(result, 2)
    assert "100,001 sizes" in result.stderr and "a STEP of at least 2" in result.stderr
    assert runner.invoke(cli, ["plan", path, "--sweep", "H,W=3:100003", "--format", "html"]).exit_code == 0


def test_5_a_size_divided_by_an_expression_is_a_model_error_not_a_bug(runner, write_model):
    path = write_model("framework: pytorch\ninput: [1, 3, '(H**4 + 1)//(H**3 + 1)']\nlayers:\n  - {op: ReLU}\n")
    result = runner.invoke(cli, ["plan", path, "--sweep", "H=10:14"])
    _one_error(result, 1)
    assert "cannot evaluate" in result.stderr


@pytest.mark.parametrize("layer", [
    "{op: Conv2d, out_channels: 1, kernel_size: 3, dilation: 50000, padding: 50000}",
    "{op: MaxPool2d, kernel_size: 60001, stride: 60001, padding: 30000}",
    "{op: ConvTranspose2d, out_channels: 1, kernel_size: 3, dilation: 20000, padding: 20000}",
])
def test_7_the_memory_budget_counts_padded_copies(runner, write_model, layer):
    result = runner.invoke(cli, ["check", write_model(f"framework: pytorch\ninput: [1, 1, 4, 4]\nlayers:\n  - {layer}\n")])
    _one_error(result, 2)
    assert "of arrays at once, over the budget of 8.00 GiB" in result.stderr


def test_7_running_out_of_memory_anyway_is_a_clean_error(runner, monkeypatch):
    from convcalc import reference

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(reference, "run", exhausted)
    result = runner.invoke(cli, ["check", str(EXAMPLES / "resnet50.yaml"), "--set", "H=32", "--set", "W=32"])
    _one_error(result, 2)
    assert "ran out of memory at layer 'conv1'" in result.stderr


# (ids: the test's id reaches the subprocess's environment, where 120,000 characters are too many)
@pytest.mark.parametrize("text", ["[" * 60000 + "]" * 60000, "{a: " * 30000 + "1" + "}" * 30000, "- " * 60000 + "1"],
                         ids=["flow-lists", "flow-maps", "block-dashes"])
def test_9_deep_nesting_is_refused_before_the_c_parser_sees_it(runner, write_model, text):
    result = subprocess.run([sys.executable, "-m", "convcalc", "plan", write_model(text)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 1, (result.returncode, result.stderr[-500:])  # -11 was a segfault
    assert "levels deep, more than the 1,000 a model file may" in result.stderr


def test_11_a_fifo_nobody_reads_is_an_error_not_a_hang(write_model, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = subprocess.run([sys.executable, "-m", "convcalc", "plan", write_model(RELU), "-o", str(fifo)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "nothing reads from that FIFO" in result.stderr


def test_11_every_command_reports_a_full_disk(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "convcalc", "ops", "pytorch"], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=30)
    assert result.returncode == 2 and result.stderr.startswith("error: cannot write to standard output")


def test_14_three_models_of_one_name_keep_three_columns(runner, write_model, tmp_path):
    import json

    path = write_model("name: net\nframework: pytorch\ninput: [1, 3, 8, 8]\nlayers:\n  - {op: ReLU}\n")
    data = json.loads(runner.invoke(cli, ["compare", path, path, path, "--format", "json"]).stdout)
    assert list(data["variants"]) == ["net", "model.yaml:net", "model.yaml:net#2"]


@pytest.mark.parametrize("args,message", [
    (["check", "--seed", "１"], "not an integer from 0"),
    (["solve", "--count", "-1"], "not an integer from 1 to 1,000"),
    (["check", "--max-macs", "0.5"], "not a positive count"),
    (["plan", "--set", "H=3", "--set", "H=4"], "--set gives H twice (3 and 4)"),
    (["plan", "-o", "out.txt/"], "a path ending in / names a folder"),
])
def test_6_command_line_values_more(runner, write_model, args, message):
    path = write_model("framework: pytorch\ninput: [1, 3, H, 8]\nsymbols: {H: 8}\nlayers:\n  - {op: ReLU}\n")
    result = runner.invoke(cli, [args[0], path, *args[1:]])
    _one_error(result, 2)
    assert message in result.stderr


def test_9_long_argument_lists_and_tensors_of_many_axes_are_refused(runner, write_model):
    many = ", ".join(["1"] * 70_000)
    result = runner.invoke(cli, ["plan", write_model(f"framework: pytorch\ninput: [1, 1]\nlayers:\n  - {{op: reshape, "
                                                     f"shape: [{many}]}}\n")])
    _one_error(result, 1)
    assert "shape lists 70,000 values, more than the 65,536 an argument may" in result.stderr
    axes = ", ".join(["1"] * 70)
    result = runner.invoke(cli, ["plan", write_model(f"framework: pytorch\ninput: [1, 1]\nlayers:\n  - {{op: reshape, "
                                                     f"shape: [{axes}]}}\n")])
    _one_error(result, 1)
    assert "the output has 70 axes, more than the 64" in result.stderr


def test_9_a_huge_graph_gets_a_sentence_instead_of_a_drawing():
    from convcalc.report.html import MAX_DIAGRAM_NODES, diagram

    model = convcalc.Model(framework="pytorch", input=[1, 3, 4, 4], layers=[{"op": "ReLU"}] * (MAX_DIAGRAM_NODES + 1))
    text = diagram(model.plan())
    assert "<svg" not in text and f"{MAX_DIAGRAM_NODES + 1:,} layers" in text
