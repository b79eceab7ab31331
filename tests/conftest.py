"""Builders for hand-checked enrollment tables, and a CLI runner."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from senderscore.entry import main  # the command itself: a report starts its kernel early there

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_enrollments.csv"
_ids = itertools.count(1)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core this process may use, and at least two (most tests wait
    on a subprocess, so two workers overlap even on one core)."""
    return max(2, len(os.sched_getaffinity(0)))


def row(**overrides: object) -> dict:
    """One ended, unreplied, delivered enrollment; override any column."""
    base = {
        "enrollment_id": str(next(_ids)),
        "sequence_id": "s1",
        "user_id": "u1",
        "contact_id": "c1",
        "enrolled_at": "2026-03-01T09:00:00Z",
        "ended_at": "2026-03-10T09:00:00Z",
        "state": "FINISHED",
        "unenrolled_source": "",
        "step_error_type": "",
        "reply_count": 0,
    }
    base.update(overrides)
    return base


def rows(n: int, **overrides: object) -> list[dict]:
    return [row(**overrides) for _ in range(n)]


def replied(n: int, **overrides: object) -> list[dict]:
    return rows(n, state="UNENROLLED", unenrolled_source="REPLY", reply_count=1, **overrides)


def bounced(n: int, **overrides: object) -> list[dict]:
    return rows(n, state="UNENROLLED", unenrolled_source="ERROR", step_error_type="BOUNCED", **overrides)


def frame(*groups: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([r for group in groups for r in group])


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


HEADER = (
    "enrollment_id,sequence_id,user_id,contact_id,enrolled_at,ended_at,state,"
    "unenrolled_source,step_error_type,reply_count\n"
)
GOOD = "1,s1,u1,c1,2026-03-01T09:00:00Z,2026-03-10T09:00:00Z,FINISHED,,,0\n"


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory, monkeypatch):
    """Each test its own empty cache of checked exports (senderscore.cache), never the user's."""
    monkeypatch.setenv("SENDERSCORE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""

    def run(*args: object) -> tuple[int, str, str]:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def run_module(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m senderscore`` in a subprocess (for exit codes and tracebacks as a user sees them)."""
    return subprocess.run(
        [sys.executable, "-m", "senderscore", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120
    )


RULES = ("emailed_after_unsubscribe", "reenrolled_after_bounce", "high_bounce", "low_reply", "changed", "needs_data")
"""Every recommendation rule: the sample data must make each of them fire."""

TRICKY_NAME = '<script>alert("x")</script> Eve & Co'


@pytest.fixture(scope="session")
def small_fixture(tmp_path_factory) -> Path:
    """A small export with a user name that must be escaped everywhere it reaches HTML."""
    from senderscore import generate_sample

    frame = generate_sample(rows=602, seed=11)  # 600 first enrollments, 2 re-enrollments
    first = frame["user_id"].iloc[0]
    frame.loc[frame["user_id"] == first, "user_name"] = TRICKY_NAME
    path = tmp_path_factory.mktemp("fixture") / "small.csv"
    for column in ("enrolled_at", "ended_at"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory) -> Path:
    """The sample report, made once per test session through the CLI."""
    out = tmp_path_factory.mktemp("reports")
    assert main(["report", str(SAMPLE), "--output-dir", str(out), "--start", "2026-01-01"]) == 0
    (html,) = out.glob("*.html")
    return html


@pytest.fixture(scope="session")
def spark():
    pyspark = pytest.importorskip("pyspark.sql", reason="pyspark is in the test extras; CI installs it")
    session = (
        pyspark.SparkSession.builder.master("local[2]")
        .appName("senderscore-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        # Tiny frames, huge expressions (the row checks): compiling code costs more than running it.
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    yield session
    session.stop()
