"""The same cube and the same tables on pandas, DuckDB, polars and PySpark."""

from __future__ import annotations

import gzip
import re

import pandas as pd
import pytest
from conftest import HEADER, SAMPLE, bounced, frame, replied, rows, write_csv

from senderscore import InputError, Policy, build_cube, cube_of, load_enrollments, open_dataset, sender_scores
from senderscore.load import pick_engine


def scan_cube(path, *, engine, policy=None, on_bad_rows="error"):
    opened = open_dataset(path, engine=engine, policy=policy, on_bad_rows=on_bad_rows)
    return cube_of(opened), opened.report


def tricky() -> pd.DataFrame:
    """Window edges, offsets, lower case, every outcome, epoch milliseconds."""
    return frame(
        rows(3, ended_at="2026-03-31T23:30:00-05:00", state="finished"),
        replied(2, user_id="u2", ended_at="2026-04-01T00:10:00+02:00", sequence_id="s2"),
        bounced(2, reply_count=2, ended_at="1775000000000"),
        rows(1, state="UNENROLLED", unenrolled_source="ACCOUNT_REPLY", user_id="u2"),
        rows(1, state="UNENROLLED", unenrolled_source="THREAD_REPLY"),
        rows(1, state="UNENROLLED", unenrolled_source="ERROR", step_error_type="UNSUBSCRIBED"),
        rows(2, state="EXECUTING", ended_at=""),
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("engines")
    data = tricky()
    csv = folder / "tricky.csv"
    data.to_csv(csv, index=False)
    parquet = folder / "tricky.parquet"
    load_enrollments(data).enrollments.drop(columns=["source_row"]).to_parquet(parquet)
    return {"csv": csv, "parquet": parquet}


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
@pytest.mark.parametrize(("engine", "kind"), [("duckdb", "csv"), ("duckdb", "parquet"), ("polars", "parquet")])
def test_file_engines_match_pandas(files, engine, kind, zone):
    policy = Policy(timezone=zone)
    expected = build_cube(load_enrollments(files[kind], policy=policy).enrollments, policy=policy)
    cube, report = scan_cube(files[kind], engine=engine, policy=policy)
    pd.testing.assert_frame_equal(cube.counts, expected.counts)
    assert report.rows_read == report.rows_used == 12
    for by in ("user", "sequence", "user-sequence"):
        pd.testing.assert_frame_equal(
            sender_scores(cube, by=by, policy=policy, end="2026-03-31"),
            sender_scores(expected, by=by, policy=policy, end="2026-03-31"),
        )


def test_sample_is_identical_on_duckdb_and_polars(tmp_path):
    enrollments = load_enrollments(SAMPLE).enrollments
    expected = build_cube(enrollments)
    parquet = tmp_path / "sample.parquet"
    enrollments.drop(columns=["source_row"]).to_parquet(parquet)
    for engine, path in (("duckdb", SAMPLE), ("duckdb", parquet), ("polars", parquet)):
        cube, _ = scan_cube(path, engine=engine)
        pd.testing.assert_frame_equal(cube.counts, expected.counts)
        pd.testing.assert_frame_equal(cube.users, expected.users)
        pd.testing.assert_frame_equal(
            sender_scores(cube, by="user-sequence"), sender_scores(expected, by="user-sequence")
        )


def test_bad_rows_are_counted_and_skipped(tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        HEADER + "1,s1,u1,c1,2026-03-01,2026-03-10,FINISHED,,,0\n"
        "2,s1,u1,c1,2026-03-01,2026-03-10,DONE,,,0\n3,s1,,c1,2026-03-01,2026-03-10,FINISHED,,,0\n"
        "4,s1,u1,c1,2026-03-11,2026-03-10,FINISHED,,,0\n",
    )
    with pytest.raises(InputError, match="3 problems found") as error:
        scan_cube(path, engine="duckdb")
    assert "row 2, column 'state': value 'DONE'" in str(error.value) and "--on-bad-rows skip" in str(error.value)
    cube, report = scan_cube(path, engine="duckdb", on_bad_rows="skip")
    assert (report.rows_read, report.rows_used, report.rows_rejected) == (4, 1, 3)
    assert int(cube.counts["ended"].sum()) == 1


def test_identical_duplicates_collapse_conflicts_are_rejected(tmp_path):
    line = "1,s1,u1,c1,2026-03-01,2026-03-10,FINISHED,,,0\n"
    _, report = scan_cube(write_csv(tmp_path / "d.csv", HEADER + line * 3), engine="duckdb")
    assert (report.rows_read, report.rows_used, report.duplicates_collapsed) == (3, 1, 2)
    with pytest.raises(InputError, match="with different state"):
        scan_cube(
            write_csv(tmp_path / "c.csv", HEADER + line + line.replace("FINISHED", "UNENROLLED")), engine="duckdb"
        )


def test_engine_choice(tmp_path, cli, capsys, monkeypatch, files):
    assert pick_engine(SAMPLE, verbose=True) == "pandas"  # small CSV: exact line numbers
    assert pick_engine(files["parquet"], verbose=True) == "polars"  # Parquet: polars at any size
    said = capsys.readouterr().err.splitlines()
    assert said[0].startswith("senderscore: engine auto -> pandas (2 MB of CSV, up to 105 MB")
    assert said[1] == "senderscore: engine auto -> polars (Parquet: polars scans it fastest at every size measured)"
    monkeypatch.setattr("senderscore.load.scan.AUTO_BYTES", 100)  # the fixtures stand in for large files
    assert pick_engine(files["csv"], verbose=True) == "polars"
    assert re.search(r"engine auto -> polars \(\d+ kB of CSV: out of core", capsys.readouterr().err)
    gz = tmp_path / "big.csv.gz"
    gz.write_bytes(gzip.compress(files["csv"].read_bytes()))
    lone_cr = tmp_path / "mac.csv"
    lone_cr.write_bytes(files["csv"].read_bytes().replace(b"\r\n", b"\r").replace(b"\n", b"\r"))
    assert pick_engine(gz) == pick_engine(lone_cr) == "duckdb"  # gzip streamed; lines split at CR
    monkeypatch.undo()
    with pytest.raises(InputError, match="engine 'spark'"):
        pick_engine(SAMPLE, "spark")
    code, out, _ = cli("score", SAMPLE, "--engine", "duckdb", "--format", "csv")
    assert code == 0 and out == cli("score", SAMPLE, "--format", "csv")[1]
    assert cli("score", SAMPLE, "--engine", "polars", "--format", "csv")[1] == out


@pytest.mark.spark
@pytest.mark.slow
def test_spark_matches_pandas(spark):
    enrollments = load_enrollments(SAMPLE).enrollments
    expected = build_cube(enrollments)
    extra = load_enrollments(tricky().assign(open_count=0, click_count=0, meeting_count=0)).enrollments
    combined = pd.concat([enrollments, extra], ignore_index=True)
    cube = cube_of(open_dataset(spark.createDataFrame(combined.drop(columns=["source_row"]))))
    both = build_cube(combined)
    pd.testing.assert_frame_equal(cube.counts, both.counts)
    assert len(cube.counts) > len(expected.counts)
    pd.testing.assert_frame_equal(sender_scores(cube, by="user"), sender_scores(both, by="user"))


@pytest.mark.parametrize(("start", "end"), [(None, None), ("2026-02-01", "2026-05-31"), ("2026-10-31", None)])
def test_coarse_cube_gives_the_same_user_tables(start, end):
    from senderscore.cube import coarsen

    cube = build_cube(load_enrollments(SAMPLE).enrollments)
    coarse = coarsen(cube)
    assert len(coarse.counts) < len(cube.counts)
    pd.testing.assert_frame_equal(
        sender_scores(coarse, start=start, end=end), sender_scores(cube, start=start, end=end)
    )
    pd.testing.assert_frame_equal(
        sender_scores(coarse, start=start, end=end, period="week"),
        sender_scores(cube, start=start, end=end, period="week"),
    )


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_whitespace_rule_is_the_same_on_every_engine(tmp_path, kind):
    """ASCII whitespace (space, tab, vertical tab, form feed, CR, LF) is stripped from both ends
    of a cell; a no-break space is content. Every engine keeps the same ids."""
    data = frame(
        rows(2, user_id="\tu1 ", state=" finished\x0b"),
        rows(1, user_id="u1\x0c", sequence_id=" s9\r\n"),
        rows(1, user_id="u2\u00a0", enrollment_id=" e99 "),
    )
    path = tmp_path / f"spaces.{kind}"
    if kind == "csv":
        data.to_csv(path, index=False)
    else:
        data.astype(str).to_parquet(path)
    cubes = {engine: scan_cube(path, engine=engine)[0] for engine in ("pandas", "duckdb", "polars")}
    assert sorted(cubes["pandas"].counts["user_id"].unique()) == ["u1", "u2\u00a0"]
    assert set(cubes["pandas"].counts["sequence_id"]) == {"s1", "s9"}
    for engine in ("duckdb", "polars"):
        pd.testing.assert_frame_equal(cubes[engine].counts, cubes["pandas"].counts)


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_polars_reads_the_separators_and_bom_pandas_reads(tmp_path, separator):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + tricky().to_csv(index=False, sep=separator).encode())
    expected, _ = scan_cube(path, engine="pandas")
    for engine in ("polars", "duckdb"):
        cube, report = scan_cube(path, engine=engine)
        pd.testing.assert_frame_equal(cube.counts, expected.counts)
        assert report.rows_used == 12


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "polars"])
def test_a_hash_collision_in_the_duplicate_test_changes_nothing(files, monkeypatch, engine):
    """The one-pass duplicate test counts distinct id hashes; a collision (simulated: every row
    gets the same hash) sends the file to the exact test, which finds no repeat."""
    import importlib

    import narwhals as nw

    validate = importlib.import_module("senderscore.load.validate")
    expected, _ = scan_cube(files["csv"], engine=engine)
    monkeypatch.setattr(validate, "with_id_key", lambda frame: frame.with_columns(nw.lit(1).alias(validate.ID_KEY)))
    cube, report = scan_cube(files["csv"], engine=engine)
    pd.testing.assert_frame_equal(cube.counts, expected.counts)
    assert (report.rows_read, report.rows_used, report.rows_rejected, report.duplicates_collapsed) == (12, 12, 0, 0)


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "polars"])
def test_one_window_in_one_pass_gives_the_daily_cubes_tables(engine):
    """``score`` groups one window straight at user x sequence (window_cube): every table over
    that window, and the data's last day, as from the daily cube."""
    from senderscore.cube import window_cube

    opened = open_dataset(SAMPLE, engine=engine, policy=Policy(timezone="America/New_York"))
    daily = cube_of(opened)
    windows = [(None, None), ("2026-02-01", "2026-04-30"), ("2026-03-15", None), (None, "2026-01-31"),
               ("2030-01-01", None)]  # fmt: skip
    for start, end in windows:
        cube, latest = window_cube(opened, start=start, end=end)
        assert latest == daily.span[1]
        for by in ("user", "sequence", "user-sequence"):
            expected = sender_scores(daily, start=start, end=end, by=by, policy=Policy(timezone="America/New_York"))
            got = sender_scores(cube, start=start, end=end, by=by, policy=Policy(timezone="America/New_York"))
            pd.testing.assert_frame_equal(got, expected)
    assert len(window_cube(opened, start="2026-03-15")[0].counts) < len(daily.counts)
