"""Queries that ride along the checking pass: the same results as their own passes, kept only
when every row is clean, and no query run twice."""

from __future__ import annotations

import narwhals as nw
import pandas as pd
import pytest
from conftest import SAMPLE, bounced, frame, replied, rows

from senderscore import cube_of, cube_riders, open_dataset, sender_scores
from senderscore.cube import window_cube, window_riders
from senderscore.load.passes import collect, collect_together, shares_scans
from senderscore.load.scan import duckdb_connection


@pytest.fixture(autouse=True)
def fuse_small_files(monkeypatch):
    """DuckDB shares the checking pass from FUSE_BYTES of CSV on; these small files too."""
    monkeypatch.setattr("senderscore.load.scan.FUSE_BYTES", 0)


def test_duckdb_shares_the_scan_from_a_size_on(monkeypatch):
    size = SAMPLE.stat().st_size
    for limit, fused in ((size, True), (size + 1, False)):
        monkeypatch.setattr("senderscore.load.scan.FUSE_BYTES", limit)
        assert bool(open_dataset(SAMPLE, engine="duckdb", riders=cube_riders()).ridden) is fused


def test_duckdb_answers_several_queries_from_one_statement_as_each_alone():
    con = duckdb_connection()
    con.execute(
        "CREATE TABLE t AS SELECT range AS n, 'k' || (range % 3) AS k, range * 0.5 AS x, "
        "CASE WHEN range % 4 = 0 THEN NULL ELSE range END AS maybe FROM range(1000)"
    )
    table = nw.from_native(con.table("t"))
    builds = [
        lambda f: f.group_by("k").agg(nw.col("n").sum(), nw.col("maybe").max(), nw.len().alias("rows")),
        lambda f: f.select(nw.len().alias("rows"), nw.col("k").n_unique().alias("n"), nw.col("x").sum()),
        lambda f: f.filter(nw.col("n") < 0).select("k", "n"),  # no rows: an empty part
        lambda f: f.select(nw.col("k").alias("n")),  # "n" again, as text: each part keeps its own type
    ]
    assert shares_scans(table)
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()
    together = collect_together(table, builds, con)
    assert con.execute("SELECT current_setting('memory_limit')").fetchall() == limit
    for build, got in zip(builds, together, strict=True):
        alone = collect(build(table))
        sort = list(alone.columns)
        pd.testing.assert_frame_equal(
            got.sort_values(sort).reset_index(drop=True), alone.sort_values(sort).reset_index(drop=True)
        )
    assert [len(t) for t in together] == [3, 1, 0, 1000]
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name LIKE '__together%'").fetchone()[0] == 0


def test_other_engines_run_the_queries_one_by_one():
    import polars as pl

    table = nw.from_native(pl.LazyFrame({"k": ["a", "b", "a"], "n": [1, 2, 3]}))
    builds = [lambda f: f.group_by("k").agg(nw.col("n").sum()), lambda f: f.select(nw.len())]
    assert not shares_scans(table)
    got = collect_together(table, builds)
    assert sorted(got[0]["n"]) == [2, 4] and got[1].iloc[0, 0] == 3


def forbid_queries(monkeypatch):
    """From here on, every table must come from the checking pass: a query of its own fails."""
    for module in ("senderscore.cube", "senderscore.names"):
        monkeypatch.setattr(f"{module}.collect", lambda query: pytest.fail("a query ran again"))


def _cube(engine: str, path, **options):
    opened = open_dataset(path, engine=engine, on_bad_rows="skip", **options)
    return opened, cube_of(opened)


def test_the_cube_from_the_checking_pass_is_the_cube_of_its_own_passes(monkeypatch):
    path = SAMPLE
    opened, expected = _cube("duckdb", path)
    assert opened.ridden == {}
    pd.testing.assert_frame_equal(expected.counts, cube_of(open_dataset(path, engine="polars")).counts)
    ridden = open_dataset(path, engine="duckdb", riders=cube_riders())
    assert set(ridden.ridden) == {"cube:ended_at", "names:user_id", "names:sequence_id"}

    forbid_queries(monkeypatch)
    for _ in range(2):  # a kept result is not changed by the cube built from it
        got = cube_of(ridden)
        for name in ("counts", "users", "sequences"):
            pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), obj=name)


def test_riders_are_dropped_when_a_row_is_rejected_and_the_cube_counts_the_clean_rows(tmp_path):
    data = frame(rows(3), rows(1, reply_count="two"), rows(1, ended_at="soon"), replied(2), bounced(2))
    data = pd.concat([data, data.iloc[[0]]])  # an identical repeat: collapsed
    path = tmp_path / "in.csv"
    data.to_csv(path, index=False)
    opened = open_dataset(path, engine="duckdb", on_bad_rows="skip", riders=cube_riders())
    assert opened.ridden == {} and opened.report.rows_rejected == 2 and opened.report.duplicates_collapsed == 1
    expected = cube_of(open_dataset(path, engine="pandas", on_bad_rows="skip"))
    pd.testing.assert_frame_equal(cube_of(opened).counts, expected.counts)
    assert int(expected.counts["ended"].sum()) == 7


@pytest.mark.parametrize(("engine", "kind"), [("polars", "csv"), ("duckdb", "parquet")])
def test_riders_wait_for_the_caller_where_separate_passes_measured_better(tmp_path, engine, kind):
    path = tmp_path / f"in.{kind}"
    data = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    data.to_csv(path, index=False) if kind == "csv" else data.to_parquet(path)
    opened = open_dataset(path, engine=engine, riders=cube_riders())
    assert opened.ridden == {}
    assert int(cube_of(opened).counts["ended"].sum()) == int(data["state"].isin(["FINISHED", "UNENROLLED"]).sum())


def test_the_narrow_pass_rides_along_too_and_only_for_its_own_window(monkeypatch):
    window = {"date_field": "ended_at", "start": "2026-03-01", "end": "2026-05-31"}
    plain = open_dataset(SAMPLE, engine="duckdb")
    expected = {names: window_cube(plain, **window, sequence_names=names) for names in (True, False)}
    other, _ = window_cube(plain, start="2026-04-01", end="2026-04-30")
    opened = open_dataset(SAMPLE, engine="duckdb", riders=window_riders(**window, sequence_names=False))
    assert len(opened.ridden) == 2  # the window's table and the users' names
    got_other, _ = window_cube(opened, start="2026-04-01", end="2026-04-30")  # another window: its own pass
    pd.testing.assert_frame_equal(got_other.counts, other.counts)
    forbid_queries(monkeypatch)
    got, latest = window_cube(opened, **window, sequence_names=False)
    assert latest == expected[False][1]
    pd.testing.assert_frame_equal(sender_scores(got, by="user"), sender_scores(expected[False][0], by="user"))
    pd.testing.assert_frame_equal(got.sequences, expected[False][0].sequences)
    with pytest.raises(pytest.fail.Exception):  # sequence names did not ride: they need a pass
        window_cube(opened, **window, sequence_names=True)


def _passes(monkeypatch) -> list[frozenset[str]]:
    """The columns each checking pass typed on the fast route, in order."""
    import importlib

    validate = importlib.import_module("senderscore.load.validate")
    seen: list[frozenset[str]] = []
    real = validate._checking_pass

    def spy(dataset, span, plain, riders):
        seen.append(plain)
        return real(dataset, span, plain, riders)

    monkeypatch.setattr(validate, "_checking_pass", spy)
    return seen


TRUSTING = [("duckdb", "csv"), ("duckdb", "parquet"), ("polars", "csv"), ("polars", "parquet"), ("pandas", "csv")]


def _written(data: pd.DataFrame, folder, kind: str):
    path = folder / f"in.{kind}"
    data.to_csv(path, index=False) if kind == "csv" else data.to_parquet(path)
    return path


def _general(monkeypatch, path, engine: str):
    """``open_dataset`` with nothing taken on trust: the general route for every column."""
    import importlib

    validate = importlib.import_module("senderscore.load.validate")
    with monkeypatch.context() as patch:
        patch.setattr(validate, "_trusted", lambda dataset, candidates: frozenset())
        return open_dataset(path, engine=engine, on_bad_rows="skip")


@pytest.mark.parametrize(("engine", "kind"), TRUSTING)
def test_a_clean_file_is_checked_once_on_the_fast_route_taken_on_trust(tmp_path, monkeypatch, engine, kind):
    path = _written(pd.read_csv(SAMPLE, dtype=str, keep_default_na=False), tmp_path, kind)
    seen = _passes(monkeypatch)
    opened = open_dataset(path, engine=engine, riders=cube_riders())
    trusted = {"enrollment_id", "state", "unenrolled_source", "personalized"}
    if engine == "duckdb":  # its own parser never raises: text timestamps are trusted too
        trusted |= {"enrolled_at", "ended_at"}
    assert len(seen) == 1 and trusted <= seen[0]
    if engine == "duckdb" and kind == "csv":
        assert opened.ridden  # the one pass answered the riders too
    expected = _general(monkeypatch, path, engine)
    pd.testing.assert_frame_equal(cube_of(opened).counts, cube_of(expected).counts)


TEXT_CASES = [
    ({"user_id": " u1"}, "user_id"),  # typing strips it
    ({"state": "finished"}, "state"),  # typing upper-cases it
    ({"state": "DONE"}, "state"),  # a bad state: the general route names it
    ({"unenrolled_source": " reply"}, "unenrolled_source"),
    ({"personalized": "YeS"}, "personalized"),  # a spelling the rule reads, the plain route does not
    ({"personalized": "maybe"}, "personalized"),  # a bad one
]
TIME_CASES = [
    ({"enrolled_at": "2026-03-01 09:00"}, "enrolled_at"),  # no seconds: the general rule reads it
    ({"ended_at": "soon"}, "ended_at"),  # unreadable: a problem the general rule names
]


@pytest.mark.parametrize(
    ("engine", "kind", "cells", "broken"),
    # polars reads CSV and Parquet text alike; only its text timestamps are not taken on trust
    [(e, k, *case) for e, k in TRUSTING if (e, k) != ("polars", "csv") for case in TEXT_CASES]
    + [(e, k, *case) for e, k in TRUSTING if e != "pandas" for case in TIME_CASES],
)
def test_misplaced_trust_runs_the_pass_again_on_the_general_route_for_that_column(
    tmp_path, monkeypatch, cells, broken, engine, kind
):
    data = frame(rows(3, personalized="true"), rows(1, **cells), replied(2), bounced(2))
    path = _written(data.astype(str).replace("nan", ""), tmp_path, kind)
    seen = _passes(monkeypatch)
    opened = open_dataset(path, engine=engine, on_bad_rows="skip", riders=cube_riders())
    if broken in seen[0]:
        assert len(seen) == 2 and seen[1] == seen[0] - {broken}
    else:  # not taken on trust (polars' text timestamps): one pass on the general route
        assert len(seen) == 1 and broken in {"enrolled_at", "ended_at"} and engine != "duckdb"
    expected = _general(monkeypatch, path, engine)
    assert opened.report.problem_counts == expected.report.problem_counts
    pd.testing.assert_frame_equal(opened.report.rejects, expected.report.rejects)
    pd.testing.assert_frame_equal(cube_of(opened).counts, cube_of(expected).counts)
