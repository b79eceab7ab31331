"""`senderscore report`: files, offline HTML, failure paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import HEADER, RULES, SAMPLE, write_csv

from senderscore import load_enrollments
from senderscore.context import prepare_report
from senderscore.errors import InputError, ReportError
from senderscore.paths import REPORT_NOTEBOOK, TEMPLATES
from senderscore.report import check_parameters, export_html, report_name, run_report

pytestmark = pytest.mark.slow


def test_sample_report_is_offline_and_small(sample_report):
    html = sample_report.read_text()
    assert re.fullmatch(r"sender-score_sample_enrollments_2026-01-01_2026-10-31\.html", sample_report.name)
    assert sample_report.stat().st_size < 3_000_000
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", html)
    assert "cdn" not in html.lower()
    assert html.count("<svg") == 4  # score, rates, trend, domains
    for rule in RULES:
        assert re.search(f"data-rule=[\"']{rule}[\"']", html), rule
    assert "users need attention" in html and "official score at or below Low" in html
    assert 'data-table="cleanup"' in html and "***@" in html
    assert not re.search(r"\bc\d+@", html)  # sample emails are c<number>@domain: all masked
    assert 'data-table="user-scores"' in html
    assert "input_path" not in html  # no code cells


def test_bad_input_gives_the_score_message(cli, tmp_path):
    bad = write_csv(tmp_path / "in.csv", HEADER + "1,s1,u1,c1,2026-03-01,2026-03-10,DONE,,,0\n")
    code, _, err = cli("report", bad, "--output-dir", tmp_path / "out")
    assert code == 2
    assert "line 2, column 'state': value 'DONE'" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_unknown_parameter_is_an_error():
    with pytest.raises(InputError, match=r"unknown report parameter\(s\) \['stat_date'\]"):
        check_parameters({"stat_date": "2026-01-01"}, REPORT_NOTEBOOK)


def test_bad_users_and_dates(cli, tmp_path):
    code, _, err = cli("report", SAMPLE, "--users", "Nobody", "--output-dir", tmp_path)
    assert code == 2 and "not in the data; known users" in err
    code, _, err = cli("report", SAMPLE, "--start", "20260101x", "--output-dir", tmp_path)
    assert code == 2 and "is not a date" in err


def test_failing_cell_keeps_the_last_good_report(tmp_path, monkeypatch, cli):
    broken = nbformat.read(REPORT_NOTEBOOK, as_version=4)
    broken.cells.insert(4, nbformat.v4.new_code_cell("raise RuntimeError('boom')"))
    notebook = tmp_path / "broken.ipynb"
    nbformat.write(broken, notebook)
    out = tmp_path / "reports"
    out.mkdir()
    previous = out / "sender-score_sample_enrollments_2026-01-01_2026-01-31.html"
    previous.write_text("last good report")
    with pytest.raises(ReportError, match=r"failed in cell .*RuntimeError: boom"):
        run_report(
            SAMPLE, start_date="2026-01-01", end_date="2026-01-31", output_dir=out, notebook=notebook, progress=False
        )
    assert previous.read_text() == "last good report"
    failed = out / "sender-score_sample_enrollments_2026-01-01_2026-01-31.failed.ipynb"
    executed = nbformat.read(failed, as_version=4)
    assert executed.metadata.papermill.exception is True
    assert sorted(p.name for p in out.iterdir()) == [failed.name, previous.name]
    # Through the CLI: exit 1, a message that names the cell, no traceback.
    monkeypatch.setattr("senderscore.paths.REPORT_NOTEBOOK", notebook)
    code, _, err = cli("report", SAMPLE, "--start", "2026-01-01", "--end", "2026-01-31", "--output-dir", out)
    assert code == 1 and "report failed" in err and "RuntimeError: boom" in err and "Traceback" not in err
    assert previous.read_text() == "last good report"


def test_report_alert_exit_code(cli, tmp_path):
    code, out, err = cli(
        "report", SAMPLE, "--start", "2026-08-01", "--output-dir", tmp_path, "--fail-on-band", "Low", "--show-emails"
    )
    assert code == 3 and "wrote" in out and "ALERT:" in err
    html = next(tmp_path.glob("*.html")).read_text()
    assert "emails shown" in html


def test_both_formats(tmp_path, monkeypatch):
    saves = []  # papermill's saves while cells run: none (the notebook is written once, at the end)
    monkeypatch.setattr("papermill.engines.write_ipynb", lambda nb, path: saves.append(path))
    result = run_report(
        SAMPLE,
        start_date="2026-03-01",
        end_date="2026-03-31",
        output_dir=tmp_path,
        formats=("html", "ipynb"),
        progress=False,
        users=["Sven Weber"],
    )
    assert result.html.name == "sender-score_sample_enrollments_2026-03-01_2026-03-31_users-sven-weber.html"
    executed = nbformat.read(result.notebook, as_version=4)
    assert executed.metadata.papermill.parameters["users"] == ["Sven Weber"]
    assert "Sven Weber" in result.html.read_text()
    assert "Maya Evans" not in result.html.read_text()
    assert saves == []
    # Our export is nbconvert's page without its BeautifulSoup pass: the same document once parsed.
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    options = {"exclude_input": True, "exclude_input_prompt": True, "exclude_output_prompt": True}
    theirs, _ = HTMLExporter(
        template_name="offline", extra_template_basedirs=[str(TEMPLATES)], **options
    ).from_notebook_node(executed)
    ours = export_html(executed)
    assert ours.count('tabindex="0"') >= 4
    assert BeautifulSoup(ours, "html.parser").decode() == BeautifulSoup(theirs, "html.parser").decode()
    # Untrusted (opened on another machine), JupyterLab shows PNG and sanitised HTML, which keeps
    # inline styles and drops <style> elements: every chart carries a PNG, no output needs <style>.
    outputs = [o for cell in executed.cells for o in cell.get("outputs", [])]
    charts = [o for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert len(charts) >= 3 and all(o["data"]["image/png"] for o in charts)
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert html and not any("<style" in h for h in html)
    assert any("background-color:" in h and 'class="ss-band"' in h for h in html)  # band colours inline


@pytest.fixture(scope="module")
def sample_parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("parquet") / "sample.parquet"
    load_enrollments(SAMPLE).enrollments.drop(columns=["source_row"]).to_parquet(path)
    return path


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_every_engine_gives_every_section_of_the_report(sample_parquet, engine):
    rows = prepare_report(SAMPLE, end_date="2026-09-30", show_emails=True)
    other = prepare_report(sample_parquet, end_date="2026-09-30", show_emails=True, engine=engine)
    assert rows.engine == "pandas" and other.engine == engine
    for table in ("by_user", "by_user_sequence", "trend", "cleanup", "domains", "providers"):
        pd.testing.assert_frame_equal(getattr(other, table), getattr(rows, table), check_dtype=False)
    findings = [json.dumps(f.to_dict(), default=str) for f in rows.findings]  # text: NaN equals NaN
    assert [json.dumps(f.to_dict(), default=str) for f in other.findings] == findings
    assert {f.rule for f in rows.findings} >= {"reenrolled_after_bounce", "high_bounce", "low_reply"}
    assert len(rows.cleanup) > 100 and len(rows.domains) > 20


def test_report_engine_through_the_cli(cli, tmp_path, sample_parquet):
    code, _, err = cli("report", sample_parquet, "--engine", "polars", "--output-dir", tmp_path)
    assert code == 0, err
    html = next(tmp_path.glob("*.html")).read_text()
    assert 'data-table="cleanup"' in html and 'data-table="domains"' in html and "needs them" not in html


def test_relative_paths_mean_the_callers_folder(cli, tmp_path, monkeypatch):
    """The kernel runs in the caller's folder: a relative --policy, input and output dir are found there."""
    monkeypatch.chdir(tmp_path)
    policy = 'name = "Team policy"\nversion = "7"\n'
    (tmp_path / "mine.toml").write_text(policy, encoding="utf-8")
    (tmp_path / "in.csv").write_bytes(SAMPLE.read_bytes())
    code, _, err = cli("report", "in.csv", "--policy", "mine.toml", "--output-dir", "out", "--start", "2026-09-01")
    assert code == 0, err
    (html,) = (tmp_path / "out").glob("*.html")
    assert "Team policy" in html.read_text(encoding="utf-8")


def test_a_scheduled_report_can_skip_bad_rows_and_keep_them(cli, tmp_path):
    source = tmp_path / "in.csv"
    data = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    bad = data.iloc[:1].assign(enrollment_id="9999999", state="DONE")
    pd.concat([data, bad]).to_csv(source, index=False)
    code, _, err = cli("report", source, "--output-dir", tmp_path / "out", "--start", "2026-09-01")
    assert code == 2 and "--on-bad-rows skip" in err
    code, _, err = cli("report", source, "--output-dir", tmp_path / "out", "--start", "2026-09-01",
                       "--on-bad-rows", "skip")  # fmt: skip
    assert code == 0, err
    (html,) = (tmp_path / "out").glob("*.html")
    assert "1 rejected" in html.read_text(encoding="utf-8")
    rejects = pd.read_csv(tmp_path / "out" / "in.rejects.csv", dtype=str)
    assert rejects["enrollment_id"].tolist() == ["9999999"] and "state" in rejects.loc[0, "reason"]


def test_same_input_and_parameters_give_the_same_html_and_other_filters_another_file(sample_report, cli, tmp_path):
    """Byte-identical HTML for a re-run; other inputs or filters get other names (test_both_formats
    runs one with a users filter), and --name cannot leave the output folder."""
    code, _, _ = cli("report", SAMPLE, "--output-dir", tmp_path, "--start", "2026-01-01", "-q")
    assert code == 0 and (tmp_path / sample_report.name).read_bytes() == sample_report.read_bytes()
    names = {
        report_name("a", "b", input_path="x/q1.csv"),
        report_name("a", "b", input_path="x/q2.csv"),
        report_name("a", "b", input_path="x/q1.csv", users=["Sven Weber"]),
        report_name("a", "b", input_path="x/q1.csv", date_field="enrolled_at"),
    }
    assert len(names) == 4
    code, _, err = cli("report", SAMPLE, "--output-dir", tmp_path, "--name", "../elsewhere")
    assert code == 2 and "expected a file name without folders" in err


def test_the_kernels_own_stderr_is_kept_out_of_a_run_that_works(tmp_path, capfd):
    """What the kernel process prints on its stderr (not a cell's output: the notebook keeps that)
    goes to a log, relayed only when the run fails: a cron mail gets no shutdown noise."""
    from senderscore.report import _execute

    def notebook(source: str) -> Path:
        path = tmp_path / f"nb{len(list(tmp_path.glob('nb*.ipynb')))}.ipynb"
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
        return path

    quiet = notebook("import os\nos.write(2, b'kernel noise\\n')")
    _execute(quiet, {}, tmp_path, "ok", progress=False)
    assert "kernel noise" not in capfd.readouterr().err
    loud = notebook("import os\nos.write(2, b'kernel clue\\n')\nraise RuntimeError('boom')")
    with pytest.raises(ReportError, match="boom"):
        _execute(loud, {}, tmp_path, "bad", progress=False)
    assert "kernel clue" in capfd.readouterr().err


def test_a_report_runs_on_the_kernel_started_before_it_and_stops_it(tmp_path):
    """``senderscore report`` starts its kernel before loading the rest (senderscore.entry); the
    run takes that kernel, whose silent warm-up leaves no trace in the notebook, and kills it."""
    from senderscore import kernel
    from senderscore.report import _execute

    path = tmp_path / "pid.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nos.getpid()")]), path)
    kernel.prestart()
    early = kernel._early
    assert early is not None and early.alive()
    executed = _execute(path, {}, tmp_path, "pid", progress=False)
    cell = executed.cells[0]
    assert cell.outputs[0]["data"]["text/plain"] == str(early.manager.provisioner.pid)
    assert cell.execution_count == 1  # the warm-up import ran silently
    assert not early.alive() and not early.folder.exists() and kernel._early is None


def test_a_kernel_started_in_another_folder_is_replaced(tmp_path, monkeypatch):
    from senderscore import kernel

    kernel.prestart()
    early = kernel._early
    monkeypatch.chdir(tmp_path)
    taken = kernel.take(str(tmp_path))
    try:
        assert taken is not early and taken.cwd == str(tmp_path)
        assert not early.alive() and not early.folder.exists()
    finally:
        taken.stop()


def _deep(tmp_path: Path) -> Path:
    """A temporary folder whose sockets' paths would pass Unix's limit (about 107 bytes)."""
    deep = tmp_path / ("d" * 60) / ("e" * 40)
    deep.mkdir(parents=True)
    return deep


def test_a_deep_temporary_folder_still_gives_a_kernel(tmp_path, monkeypatch):
    """A TMPDIR too deep for a Unix socket's path (a test runner's, a CI's) moves the kernel's
    sockets to /tmp instead of failing: the report still starts early."""
    import tempfile

    from senderscore import kernel

    monkeypatch.setattr(tempfile, "tempdir", str(_deep(tmp_path)))
    started = kernel.Kernel()
    try:
        assert started.alive() and started.folder.parent == Path("/tmp")
    finally:
        started.stop()
    assert not started.alive() and not started.folder.exists()


def test_a_kernel_that_cannot_start_leaves_no_process_and_no_hang(tmp_path, monkeypatch):
    """When a socket fails after the kernel process was launched, the process is killed and the
    half-open sockets closed: nothing outlives the failure, and this process can still exit."""
    import os
    import subprocess
    import sys

    deep = _deep(tmp_path)
    code = (
        "import senderscore.kernel as k\n"
        f"k._socket_parent = lambda: {str(deep)!r}\n"
        "try:\n    k.Kernel()\nexcept Exception as exc:\n    print(type(exc).__name__)\n"
    )
    env = {**os.environ, "TMPDIR": str(deep)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ZMQError", done.stderr
    assert not list(deep.glob("senderscore-kernel-*"))
    assert subprocess.run(["pgrep", "-f", str(deep)], capture_output=True, text=True).stdout == ""


@pytest.mark.parametrize(
    ("args", "report"),
    [
        (["report", "in.csv"], True),
        (["report", "in.csv", "--engine", "polars"], True),
        (["report", "--help"], False),
        (["score", "report.csv"], False),
        ([], False),
    ],
)
def test_the_command_starts_a_kernel_only_for_a_report(args, report):
    from senderscore.entry import runs_a_report

    assert runs_a_report(args) is report


def test_a_report_that_stops_early_leaves_no_kernel(tmp_path):
    """Bad input ends the command before the report runs: its early kernel goes with it."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "senderscore", "report", tmp_path / "missing.csv"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "missing.csv" in done.stderr
    assert not list(tmp_path.glob("senderscore-kernel-*"))
    kernels = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout
    assert kernels == ""


def test_an_nbconvert_without_the_parts_we_reuse_exports_with_its_own_exporter(monkeypatch):
    from nbconvert import HTMLExporter

    from senderscore.report import _exporter_class

    assert _exporter_class() is not HTMLExporter  # ours: nbconvert 7's setup, without the soup
    monkeypatch.delattr(HTMLExporter, "_init_resources")
    assert _exporter_class() is HTMLExporter
