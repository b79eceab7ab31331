"""Scheduled runs: relative windows, quiet output, stale data, a report that names its filters."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import SAMPLE, run_module

from senderscore.alerts import STALE_EXIT
from senderscore.errors import InputError
from senderscore.load.windows import relative_window


@pytest.mark.parametrize(
    ("last", "name", "today", "expected"),
    [
        ("90d", "", "2026-11-28", ("2026-08-30", "2026-11-27")),
        ("1d", "", "2026-03-01", ("2026-02-28", "2026-02-28")),
        ("2w", "", "2026-01-01", ("2025-12-18", "2025-12-31")),
        ("", "last-month", "2026-01-15", ("2025-12-01", "2025-12-31")),
        ("", "last-month", "2024-03-31", ("2024-02-01", "2024-02-29")),
        ("", "last-quarter", "2026-01-01", ("2025-10-01", "2025-12-31")),
        ("", "last-quarter", "2026-08-20", ("2026-04-01", "2026-06-30")),
        ("", "month-to-date", "2026-11-28", ("2026-11-01", "2026-11-28")),
        ("", "quarter-to-date", "2026-11-28", ("2026-10-01", "2026-11-28")),
    ],
)
def test_relative_windows_count_from_the_day_given(last, name, today, expected):
    start, end = relative_window(last=last, name=name, today=dt.date.fromisoformat(today))
    assert (start.isoformat(), end.isoformat()) == expected


@pytest.mark.parametrize("last", ["0d", "90", "d", "-3d", "1.5w"])
def test_bad_relative_windows_are_refused(last):
    with pytest.raises(InputError, match="expected a number of days or weeks"):
        relative_window(last=last, today=dt.date(2026, 1, 1))


def test_last_equals_the_explicit_dates_and_says_them(cli):
    code, relative, err = cli("score", SAMPLE, "--last", "30d", "--as-of", "2026-10-15", "--format", "csv")
    assert code == 0 and "window 2026-09-15 to 2026-10-14 (last 30d as of 2026-10-15, UTC)" in err
    assert relative == cli("score", SAMPLE, "--start", "2026-09-15", "--end", "2026-10-14", "--format", "csv")[1]


@pytest.mark.parametrize(
    "options",
    [["--last", "9d", "--window", "last-month"], ["--as-of", "2026-01-01"], ["--last", "9d", "--start", "2026-01-01"]],
)
def test_window_options_that_disagree_are_refused(cli, options):
    code, _, err = cli("score", SAMPLE, *options)
    assert code == 2 and "error:" in err


def test_quiet_leaves_stderr_empty(cli, tmp_path):
    code, _, err = cli(
        "score", SAMPLE, "--output", tmp_path / "s.csv", "--window", "last-month", "--as-of", "2026-10-02", "-q"
    )
    assert code == 0 and err == "" and (tmp_path / "s.csv").exists()


def test_stale_data_warns_and_fails_only_when_asked(cli):
    code, _, err = cli("score", SAMPLE, "--start", "2026-10-01", "--end", "2026-11-30", "--format", "csv")
    assert code == 0 and "30 days after the last ended enrollment in the data (2026-10-31)" in err
    code, _, err = cli("score", SAMPLE, "--start", "2026-10-01", "--end", "2026-11-30", "--fail-on-stale", "-q")
    assert code == STALE_EXIT and err.startswith("senderscore: warning:") and err.count("\n") == 1
    code, _, err = cli("score", SAMPLE, "--start", "2020-01-01", "--end", "2020-01-31", "--fail-on-stale", "-q")
    assert code == STALE_EXIT and "no ended enrollments" in err
    code, _, err = cli("score", SAMPLE, "--start", "2026-09-01", "--end", "2026-10-31", "--fail-on-stale", "-q")
    assert code == 0 and err == ""


@pytest.mark.slow
def test_a_scheduled_report_is_quiet_and_names_its_filters(tmp_path):
    """No progress bar, no kernel transport warning: a cron mail holds only the problem."""
    result = run_module(
        "report", SAMPLE, "--users", "Maya Evans", "--start", "2026-10-01", "--end", "2026-12-31",
        "--fail-on-stale", "--quiet", "--output-dir", tmp_path,
    )  # fmt: skip
    assert result.returncode == STALE_EXIT, result.stderr
    assert result.stderr.splitlines() == [
        "senderscore: warning: the window ends 2026-12-31, 61 days after the last ended enrollment in the data "
        "(2026-10-31): is the export stale?"
    ]
    html = next(tmp_path.glob("*.html")).read_text()
    assert "<b>Users:</b> Maya Evans (" in html and "is the export stale?" in html


def _documented_command(source: str) -> list[str]:
    """The `senderscore report` command the docs give: the cron line of docs/cli.md, or a recipe
    in docs/recipes/ (the Airflow task read without importing Airflow), as arguments."""
    import ast
    import re
    import shlex
    from pathlib import Path

    import yaml

    docs = Path(__file__).parents[1] / "docs"
    if source == "cron":
        line = re.search(r"```cron\n(.*?)\n```", (docs / "cli.md").read_text(), re.S).group(1).split("&&", 1)[1]
    elif source.endswith(".py"):
        keywords = [
            n for n in ast.walk(ast.parse((docs / "recipes" / source).read_text())) if isinstance(n, ast.keyword)
        ]
        line = ast.literal_eval(next(k.value for k in keywords if k.arg == "bash_command"))
    else:
        steps = yaml.safe_load((docs / "recipes" / source).read_text())["jobs"]["report"]["steps"]
        line = next(s["run"] for s in steps if s.get("name") == "report")
    return shlex.split(line)


@pytest.mark.slow
def test_the_documented_scheduled_commands_run(tmp_path):
    """The cron line and both recipes give one command; it runs as written, on the sample, with
    --as-of fixed and a temporary output folder."""
    commands = [_documented_command(source) for source in ("cron", "github-actions.yml", "airflow_dag.py")]
    command = commands[0]
    assert command[:2] == ["senderscore", "report"]
    plain = [[a.rsplit("/", 1)[-1] if "/" in a else a for a in c] for c in commands]  # the paths differ
    assert plain[0] == plain[1] == plain[2]
    args = [str(SAMPLE) if a.endswith(".csv") else a for a in command[1:]]
    args[args.index("--output-dir") + 1] = str(tmp_path)
    result = run_module(*args, "--as-of", "2026-11-02")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert [p.name for p in tmp_path.glob("*.html")] == ["sender-score_sample_enrollments_2026-10-01_2026-10-31.html"]


def test_long_runs_say_each_stage_on_stderr_unless_quiet(cli, monkeypatch, tmp_path):
    monkeypatch.setattr("senderscore.cli._Stages.BYTES", 0)  # the sample stands in for a large export
    code, _, err = cli("suppress", SAMPLE, "--output", tmp_path / "c.csv")
    stages = [line for line in err.splitlines() if line.startswith("senderscore: [")]
    assert code == 0 and [line.split("] ")[1].split(" ")[0] for line in stages] == [
        "reading",
        "8,024",
        "gathering",
        "evidence",
    ]
    assert all("\r" not in line for line in stages)
    code, _, err = cli("suppress", SAMPLE, "--output", tmp_path / "d.csv", "-q")
    assert code == 0 and err == ""
