"""The explorer in a real JupyterLab: run all cells, move the window, see the table and chart change."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import OUTPUT, browser_page

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
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


def test_explorer_reacts_to_the_date_window(jupyterlab):
    with browser_page({"width": 1400, "height": 1000}) as (page, _errors):
        page.set_default_timeout(90_000)
        page.goto(f"{jupyterlab}/lab/tree/notebooks/explore.ipynb", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-NotebookPanel")
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
        table = page.locator('table[data-table="explore-users"]')
        table.wait_for()
        chart = page.locator(".widget-html-content svg").first
        chart.wait_for()
        before_table, before_chart = table.inner_text(), chart.inner_html()
        handle = page.locator(".noUi-handle-lower").first
        handle.focus()
        for _ in range(6):  # each PageUp moves the window's start by several days
            handle.press("PageUp")
        page.wait_for_function(
            "([before]) => { const t = document.querySelector('table[data-table=\"explore-users\"]');"
            " return t && t.innerText !== before; }",
            arg=[before_table],
        )
        assert table.inner_text() != before_table
        assert page.locator(".widget-readout").first.inner_text().startswith("2025-12-")  # start moved a month
        page.wait_for_function(
            "([before]) => { const s = document.querySelector('.widget-html-content svg');"
            " return s && s.innerHTML !== before; }",
            arg=[before_chart],
        )
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "explorer.png"))
