"""The explorer in a real JupyterLab: run all cells, move the window, see the table and chart change."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import OUTPUT, browser_page
from conftest import SAMPLE

from senderscore.report import run_report

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """One JupyterLab for the module, with its own config and data folders: a fresh notebook
    secret, so that a notebook made elsewhere opens untrusted, as it would on a colleague's machine."""
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={ROOT}",
        "--ServerApp.allow_root=True",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
        f"--LabApp.workspaces_dir={tmp_path / 'ws'}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    # Every cell rendered (no windowing): the tests count outputs anywhere in a notebook.
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    notices = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    notices.mkdir(parents=True)  # no "news?" toast over the screenshots
    (notices / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("jupyter lab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()[-3000:])
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


LATENCY_JS = """(preset) => new Promise((resolve) => {
  // From a preset change to the whole refresh shown (the status line is written last), in the browser.
  const label = (o) => o.text.replace(/\\s/g, ' ');  // ipywidgets writes no-break spaces
  const select = [...document.querySelectorAll('.widget-dropdown select')]
    .find((s) => [...s.options].some((o) => label(o) === preset));
  const status = () => [...document.querySelectorAll('.widget-html-content')]
    .find((e) => e.innerText.includes('Refreshed in'));
  const before = status().innerText;
  const began = performance.now();
  const check = () => {
    if (status().innerText !== before) { resolve(performance.now() - began); } else { requestAnimationFrame(check); }
  };
  select.value = [...select.options].find((o) => label(o) === preset).value;
  select.dispatchEvent(new Event('change', { bubbles: true }));
  requestAnimationFrame(check);
})"""


def open_notebook(page, url: str, path: str) -> None:
    page.goto(f"{url}/lab/tree/{path}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-NotebookPanel")


def run_all(page, url: str) -> None:
    open_notebook(page, url, "notebooks/explore.ipynb")
    # The notebook's kernel session must be ready, or "run all" is silently dropped.
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
        " === 'idle'"
    )
    # Fire and forget: awaiting the command's promise can outlive the page's patience.
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def test_the_explorer_filters_shows_sequences_and_downloads(jupyterlab, tmp_path):
    with browser_page({"width": 1400, "height": 1100}) as (page, errors):
        page.set_default_timeout(90_000)
        run_all(page, jupyterlab)
        table = page.locator('table[data-table="explore-users"]')
        table.wait_for()
        page.locator(".vega-embed").first.wait_for()  # charts drawn in the browser, offline
        rows_before = table.locator("tbody tr").count()
        browser, kernel = [], []
        for preset in ["last 90 days", "quarter to date"] * 4:  # the first change is cold: a median of 8
            browser.append(page.evaluate(LATENCY_JS, preset))
            status = page.locator(".widget-html-content", has_text="Refreshed in").first.inner_text()
            kernel.append(float(status.split("Refreshed in ")[1].split(" ms")[0]))
        latency, work = statistics.median(browser), statistics.median(kernel)
        print(
            f"explorer filter change, median of {len(browser)}: {latency:.0f} ms in the browser (slowest "
            f"{max(browser):.0f}), {work:.0f} ms in the kernel (slowest {max(kernel):.0f})"
        )
        assert latency < 1500 and work < 300  # the targets (150 ms, 30 ms) are measured in benchmarks/
        assert table.locator("tbody tr").count() <= rows_before
        assert page.locator("input[type=date]").first.input_value() != ""  # typed dates, moved by the preset
        with page.expect_download() as info:
            page.locator(".widget-html-content a.ss-download", has_text="by_user.csv").click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        assert saved.read_text(encoding="utf-8").startswith("user_id,")
        page.locator(".lm-TabBar-tab", has_text="Sequences").first.click()
        sequences = page.locator('table[data-table="explore-sequences"]')
        sequences.wait_for()
        assert sequences.locator("tbody tr").count() > 0 and "Sequence" in sequences.inner_text()
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "explorer.png"))
    assert not [e for e in errors if "vega" in e.lower() or "altair" in e.lower()]


def test_the_executed_report_notebook_reads_untrusted(jupyterlab):
    """`--format both` keeps the executed notebook; opened on another machine (untrusted), JupyterLab
    shows its charts (as PNG) and its band colours (inline styles), not `alt.LayerChart(...)`."""
    folder = OUTPUT / "untrusted"  # under the server's root; test-output/ is not versioned
    folder.mkdir(parents=True, exist_ok=True)
    result = run_report(
        SAMPLE, start_date="2026-01-01", output_dir=folder, formats=("ipynb",), progress=False, name="untrusted"
    )
    with browser_page({"width": 1400, "height": 1000}) as (page, _errors):
        page.set_default_timeout(90_000)
        open_notebook(page, jupyterlab, result.notebook.relative_to(ROOT).as_posix())
        page.locator(".jp-OutputArea-output").first.wait_for()
        trusted = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.cells.get(0).trusted")
        assert trusted is False
        images = page.locator(".jp-RenderedImage img")
        images.first.wait_for()
        assert images.count() == 4  # score, rates, trend, domains
        assert page.get_by_text("alt.LayerChart").count() == 0 and page.get_by_text("alt.FacetChart").count() == 0
        badge = page.locator(".jp-RenderedHTMLCommon span.ss-band").first
        assert badge.evaluate("e => getComputedStyle(e).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
        assert page.get_by_text("users need attention").count() > 0  # the first screen's list
