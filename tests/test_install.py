"""What the user installs is what must work: the wheel, in a clean venv, outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile

import pytest
from conftest import ROOT, SAMPLE


@pytest.mark.slow
def test_the_wheel_runs_score_and_report_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "--wheel-dir", str(dist)],
        check=True,
        timeout=300,
    )
    (wheel,) = dist.glob("senderscore-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "senderscore/notebooks/sender_score_report.ipynb" in names
    assert "senderscore/templates/offline/index.html.j2" in names
    assert not any(name.startswith(("notebooks/", "tests/", "data/")) for name in names)

    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env)  # our pip installs into it (--python): no ensurepip run
    python = env / "bin" / "python"
    # --no-compile: byte-compiling every installed module is half of pip's time; imports compile anyway.
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    install = [*pip, "install", "--quiet", "--no-compile"]
    subprocess.run([*install, str(wheel)], check=True, timeout=900)
    work = tmp_path / "work"  # no checkout anywhere near: the package must carry what it runs
    work.mkdir()
    senderscore = env / "bin" / "senderscore"
    core = subprocess.run([senderscore, "score", SAMPLE, "--format", "csv"], cwd=work, capture_output=True, text=True)
    assert core.returncode == 0 and core.stdout.startswith("user_id,"), core.stderr  # the core alone scores
    lean = subprocess.run([senderscore, "report", SAMPLE], cwd=work, capture_output=True, text=True)
    assert lean.returncode == 2 and "pip install 'senderscore[report]'" in lean.stderr, lean.stderr
    command = [senderscore, "score", SAMPLE, "--engine", "duckdb"]
    lean = subprocess.run(command, cwd=work, capture_output=True, text=True)
    assert lean.returncode == 2 and "pip install 'senderscore[scale]'" in lean.stderr, lean.stderr
    subprocess.run([*install, f"{wheel}[report]"], check=True, timeout=900)
    where = subprocess.run(
        [python, "-c", "import senderscore.paths as p; print(p.REPORT_NOTEBOOK)"],
        cwd=work, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "site-packages" in where and str(ROOT) not in where

    score = subprocess.run([senderscore, "score", SAMPLE, "--format", "csv"], cwd=work, capture_output=True, text=True)
    assert score.returncode == 0, score.stderr
    assert score.stdout.startswith("user_id,")
    report = subprocess.run(
        [senderscore, "report", SAMPLE, "--output-dir", "out"], cwd=work, capture_output=True, text=True, timeout=600
    )
    assert report.returncode == 0, report.stderr[-3000:]
    (html,) = (work / "out").glob("sender-score_*.html")
    text = html.read_text(encoding="utf-8")
    assert "Clean-up list" in text and 'data-table="cleanup"' in text and 'data-table="findings"' in text
    # A plain install carries rfc3987-syntax (via jupyter-events); it must not be imported where
    # senderscore runs (the CLI process and the report kernel), or every report pays seconds.
    installed = subprocess.run([*pip, "show", "rfc3987-syntax"], capture_output=True, text=True)
    if installed.returncode == 0:  # the probe means something only while the package is installed
        probe = "import senderscore, nbformat, altair, sys; print(sys.modules.get('rfc3987_syntax'))"
        result = subprocess.run([python, "-c", probe], cwd=work, capture_output=True, text=True)
        assert result.stdout.strip() == "None", result.stderr
