"""The HTML report (``convcalc plan MODEL --format html -o report.html``): one self-contained page,
checked as a file here and rendered in a real browser (headless Chromium).

The browser test needs Debian's ``chromium`` (``.ci/run`` installs it and sets
``CONVCALC_REQUIRE_BROWSER=1``, so there it fails instead of skipping). It loads each page,
reads the DOM after the page's script ran (the script marks ``<body data-ready="1">`` as its last
statement), counts the diagram's nodes, checks that the browser logged no console error — with a
page whose script throws as the control that such an error is seen — and saves a screenshot
(``$CONVCALC_ARTIFACTS``, else the test's temporary folder).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import convcalc
from convcalc.cli import cli
from convcalc.report import html_report

from .conftest import EXAMPLES

PAGES = ["resnet50.yaml", "unet_symbolic.yaml", "conv3d_vs_conv2d.yaml"]  # the last: variants


def _report(runner, tmp_path, name: str, *args: str) -> Path:
    out = tmp_path / (name.replace(".yaml", "") + ".html")
    result = runner.invoke(cli, ["plan", str(EXAMPLES / name), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


def _layers(name: str) -> int:
    """Layers plus model inputs, over every variant of the file."""
    from convcalc.model import Variants

    loaded = convcalc.load(str(EXAMPLES / name))
    plans = loaded.plan() if isinstance(loaded, Variants) else {"": loaded.plan()}
    return sum(len(p.layers) + len(p.inputs) for p in plans.values())


@pytest.mark.parametrize("name", PAGES)
def test_the_page_is_self_contained_and_has_a_node_per_layer(runner, tmp_path, name):
    text = _report(runner, tmp_path, name).read_text()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert not re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)=", text)  # nothing fetched
    assert re.findall(r"https?://[^\"' ]+", text) == ["http://www.w3.org/2000/svg"] * text.count("<svg ")
    assert text.count('<g class="node') == _layers(name)
    assert "position: sticky" in text and "conventions: MACs = multiply-accumulates" in text


def test_the_largest_output_is_outlined_and_long_skips_go_round(runner, tmp_path):
    text = _report(runner, tmp_path, "unet_symbolic.yaml").read_text()
    assert text.count('class="node largest"') == 1
    plan = convcalc.load(str(EXAMPLES / "vgg16.yaml")).plan()
    page = html_report(plan)
    largest = max(plan.layers, key=lambda ly: ly.activation_bytes).name
    assert f'<g class="node largest" data-layer="{largest}">' in page


def test_names_are_escaped_in_the_page():
    model = convcalc.Model(framework="pytorch", input=[1, 3, 8, 8], name="<script>alert(1)</script>")
    model.add("ReLU")
    page = html_report(model.plan())
    variants = html_report({"<img src=x onerror=alert(1)>": model.plan()})
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "<img src=x" not in variants


def test_a_sweep_has_its_plot(runner, tmp_path):
    out = tmp_path / "sweep.html"
    result = runner.invoke(cli, ["plan", str(EXAMPLES / "resnet50.yaml"), "--sweep", "H,W=32:257:32", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.count("<polyline") == 2 and "<table>" in text


# --------------------------------------------------------------------------- in a real browser

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


def _browser() -> str:
    if CHROMIUM is None:
        if os.environ.get("CONVCALC_REQUIRE_BROWSER") == "1":
            pytest.fail("CONVCALC_REQUIRE_BROWSER=1 but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    return CHROMIUM


def _run(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([_browser(), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def _console_errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]


def test_the_console_check_sees_a_script_error(tmp_path):
    """The control: a page whose script throws is caught by the same check."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>")
    ran = _run(page, tmp_path / "profile", "--dump-dom")
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert _console_errors(ran.stderr), ran.stderr[-2000:]


@pytest.mark.parametrize("name", PAGES)
def test_the_report_renders_in_chromium(runner, tmp_path, name):
    page = _report(runner, tmp_path, name)
    ran = _run(page, tmp_path / "profile", "--dump-dom")
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert _console_errors(ran.stderr) == []
    dom = ran.stdout
    assert 'data-ready="1"' in dom  # the page's script ran to its end
    assert dom.count('<g class="node') == _layers(name)
    folder = Path(os.environ.get("CONVCALC_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / (page.stem + ".png")
    ran = _run(page, tmp_path / "profile", "--window-size=1400,2000", f"--screenshot={shot}")
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
