"""Every notebook runs under papermill (sample data and a small fixture) and declares its parameters."""

from __future__ import annotations

import json
import os
import sys

import nbformat
import papermill as pm
import pytest
from conftest import SAMPLE, TRICKY_NAME

from senderscore.paths import EXPLORE_NOTEBOOK, NOTEBOOKS, REPORT_NOTEBOOK

pytestmark = pytest.mark.slow


def test_report_parameters_are_declared_typed_and_documented():
    declared = pm.inspect_notebook(str(REPORT_NOTEBOOK))
    assert list(declared) == [
        "input_path",
        "start_date",
        "end_date",
        "date_field",
        "policy_path",
        "users",
        "period",
        "output_dir",
        "alert_band",
        "show_emails",
        "engine",
        "on_bad_rows",
        "rejects_path",
    ]
    import ast
    import dataclasses

    from senderscore.context import ReportParams

    # One list: every ReportParams field, with its default (output_dir only the runner reads).
    fields = {f.name: f.default for f in dataclasses.fields(ReportParams)}
    assert set(declared) == set(fields) | {"output_dir"}
    for name, default in fields.items():
        written = ast.literal_eval(declared[name]["default"])
        assert written == (list(default) if isinstance(default, tuple) else default), name
    assert declared["users"]["inferred_type_name"] == "list"
    assert all(p["inferred_type_name"] in ("str", "list", "bool") for p in declared.values())
    assert all(p["help"] for p in declared.values())


def test_explore_parameters():
    assert list(pm.inspect_notebook(str(EXPLORE_NOTEBOOK))) == ["input_path", "policy_path", "period"]


def test_notebooks_are_saved_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = json.loads(path.read_text())
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), path


def test_notebook_cells_only_call_the_package():
    for path in NOTEBOOKS.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                assert "def " not in cell.source and len(cell.source.splitlines()) <= 8, (path, cell.source)


def run(notebook, tmp_path, parameters: dict) -> str:
    """Execute ``notebook`` headless with ``parameters``; every output's displayed data as JSON text
    (output metadata, which no front end renders, is left out)."""
    executed = pm.execute_notebook(
        str(notebook), str(tmp_path / "out.ipynb"), progress_bar=False, cwd=str(NOTEBOOKS), parameters=parameters
    )
    shown = [{k: v for k, v in o.items() if k != "metadata"} for c in executed.cells for o in c.get("outputs", [])]
    return json.dumps(shown)


def test_report_records_its_window_and_scores_for_the_runner(tmp_path):
    from senderscore.report_facts import facts

    pm.execute_notebook(
        str(REPORT_NOTEBOOK),
        str(tmp_path / "out.ipynb"),
        progress_bar=False,
        cwd=str(NOTEBOOKS),
        parameters={"input_path": str(SAMPLE), "end_date": "2026-06-30"},
    )
    found = facts(nbformat.read(tmp_path / "out.ipynb", as_version=4))
    assert (found["start"], found["end"]) == ("2025-11-02", "2026-06-30")  # start: the data's first day
    assert found["by_user"]["user_id"].is_unique and found["by_user"]["eligible"].dtype == bool
    assert set(found["by_user"]["band"]) <= {"Low", "Fair", "Good", "Excellent"}


def test_report_runs_on_the_fixture_and_escapes_names(small_fixture, tmp_path):
    text = run(
        REPORT_NOTEBOOK, tmp_path, {"input_path": str(small_fixture), "period": "week", "start_date": "2026-02-01"}
    )
    assert "&lt;script&gt;alert" in text
    assert "<script>alert" not in text
    assert "image/svg+xml" in text and "2026-02-01 to" in text


def test_explore_runs_headless_on_the_fixture(small_fixture, tmp_path):
    text = run(EXPLORE_NOTEBOOK, tmp_path, {"input_path": str(small_fixture)})
    assert "application/vnd.jupyter.widget-view+json" in text
    assert "Filters: " in text and TRICKY_NAME.replace('"', '\\"') in text  # DataFrame repr, not HTML


def test_explore_runs_headless_on_the_sample_with_weekly_trend(tmp_path):
    text = run(EXPLORE_NOTEBOOK, tmp_path, {"input_path": str(SAMPLE), "period": "week"})
    assert "trend by week" in text and "51720793" in text  # a sample user in the table head


@pytest.mark.slow
def test_the_documented_papermill_and_nbconvert_lines_run_offline(tmp_path):
    """The two lines of docs/reports.md, as written (run from the repository root), and a typo."""
    import re
    import shlex
    import subprocess
    from pathlib import Path

    root = Path(__file__).parents[1]
    block = re.search(
        r"## Plain papermill and nbconvert.*?```bash\n(.*?)\n```", (root / "docs/reports.md").read_text(), re.S
    )
    papermill_line, nbconvert_line = block.group(1).splitlines()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for line in (papermill_line, nbconvert_line):
        line = line.replace("out.ipynb", str(tmp_path / "out.ipynb"))
        result = subprocess.run(["bash", "-c", line], cwd=root, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
    html = (tmp_path / "out.html").read_text()
    assert "<svg" in html and "2026-01-01 to" in html
    assert not re.search(r"<script[^>]+src=|https?://cdn", html)
    typo = shlex.split(papermill_line.replace("out.ipynb", str(tmp_path / "typo.ipynb"))) + ["-p", "user", "Maya Evans"]
    result = subprocess.run(typo, cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "unknown report parameter(s) ['user']" in result.stderr + result.stdout
    assert "Did you mean 'users'?" in result.stderr + result.stdout
