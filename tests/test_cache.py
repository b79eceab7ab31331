"""The cache of checked exports: the second question reads no rows; a changed file is read again."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE

from senderscore import cache

HIT = "from the cache"


@pytest.fixture
def export(tmp_path) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(SAMPLE.read_bytes())
    return path


def score(cli, path, *more):
    return cli("score", path, "--format", "csv", "-v", *more)


def test_the_second_run_is_served_from_the_cache_with_the_same_output(cli, export):
    code, first, err = score(cli, export)
    assert code == 0 and HIT not in err
    assert len(list(cache.cache_dir().iterdir())) == 1
    code, second, err = score(cli, export)
    assert code == 0 and HIT in err and second == first
    # Another window, another table: the same entry answers.
    code, out, err = score(cli, export, "--by", "user-sequence", "--start", "2026-03-01", "--end", "2026-05-31")
    assert code == 0 and HIT in err
    assert out == score(cli, export, "--by", "user-sequence", "--start", "2026-03-01", "--end", "2026-05-31",
                        "--no-cache")[1]  # fmt: skip


def test_a_changed_file_is_read_again(cli, export):
    first = score(cli, export)[1]
    stat = export.stat()
    os.utime(export, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, the bytes unchanged
    assert HIT not in score(cli, export)[2]
    lines = export.read_bytes().splitlines(keepends=True)
    export.write_bytes(b"".join(lines[:-500]))  # truncated
    code, out, err = score(cli, export)
    assert code == 0 and HIT not in err and out != first
    # The same size, other bytes, the modification time put back: the bytes' hash tells.
    before = export.stat()
    data = bytearray(export.read_bytes())
    at = data.index(b"FINISHED", len(data) // 2)
    data[at : at + 8] = b"UNENROLL"[:8]
    export.write_bytes(bytes(data))
    os.utime(export, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert export.stat().st_size == before.st_size and export.stat().st_mtime_ns == before.st_mtime_ns
    code, _, err = score(cli, export)
    assert code == 2 and "'UNENROLL'" in err and HIT not in err  # read again: the new state is a row problem


def test_large_files_are_hashed_by_sampled_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "WHOLE", 1000)
    monkeypatch.setattr(cache, "EDGE", 100)
    monkeypatch.setattr(cache, "BLOCK", 10)
    path = tmp_path / "big.csv"
    path.write_bytes(bytes(range(256)) * 40)
    stat = path.stat()
    before = cache.fingerprint(path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # in the last block
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cache.fingerprint(path) != before


def test_what_shapes_the_cube_is_part_of_the_key(cli, export, tmp_path):
    score(cli, export)
    policy = tmp_path / "ny.toml"
    policy.write_text('timezone = "America/New_York"\n', encoding="utf-8")
    assert HIT not in score(cli, export, "--policy", policy)[2]
    assert HIT not in score(cli, export, "--date-field", "enrolled_at")[2]
    assert HIT not in score(cli, export, "--engine", "polars")[2]
    assert len(list(cache.cache_dir().iterdir())) == 4


def test_no_cache_neither_reads_nor_writes(cli, export):
    assert score(cli, export, "--no-cache")[0] == 0
    assert not cache.cache_dir().exists() or not list(cache.cache_dir().iterdir())
    score(cli, export)
    assert HIT not in score(cli, export, "--no-cache")[2]


def test_rows_with_problems_are_never_cached(cli, export):
    export.write_text(export.read_text(encoding="utf-8") + "x,,,,,,,,,,,,,,,,,,,\n", encoding="utf-8")
    code, _, err = score(cli, export, "--on-bad-rows", "skip", "--rejects", export.with_suffix(".rej.csv"))
    assert code == 0 and "1 bad row skipped" in err
    assert not cache.cache_dir().exists() or not list(cache.cache_dir().iterdir())
    assert "1 bad row skipped" in score(cli, export, "--on-bad-rows", "skip", "--rejects",
                                        export.with_suffix(".rej.csv"))[2]  # fmt: skip


def test_an_unwritable_cache_is_a_warning_not_a_failure(cli, export, monkeypatch, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("SENDERSCORE_CACHE_DIR", str(blocked / "cache"))
    code, out, err = score(cli, export)
    assert code == 0 and out and "warning: cache not written" in err


def test_clear_and_dir(cli, export):
    score(cli, export)
    score(cli, export, "--engine", "polars")
    code, out, _ = cli("cache", "dir")
    assert code == 0 and out.strip() == str(cache.cache_dir())
    code, out, _ = cli("cache", "clear")
    assert code == 0 and "2 cache entries removed" in out
    assert HIT not in score(cli, export)[2]


def test_the_explorer_opens_from_the_cache_and_reads_rows_only_for_evidence(export):
    import datetime as dt

    from senderscore.explore import Explorer, Filters

    first = Explorer(export)
    assert first._opened is not None  # the rows were read to build the cube, which is kept
    again = Explorer(export)
    assert again._opened is None and again.load.rows_read == first.load.rows_read
    window = Filters(dt.date(2026, 2, 1), dt.date(2026, 4, 30), sequence_user=sorted(first.names)[0])
    for name, table in first.tables(window).items():
        assert table.equals(again.tables(window)[name]), name
    assert again._opened is None  # tables come from the cube
    assert len(again.evidence(window)["findings"]) == len(first.evidence(window)["findings"])
    assert again._opened is not None


def test_a_kept_text_is_made_once(tmp_path):
    made = []

    def make() -> str:
        made.append(1)
        return "bundle"

    assert cache.kept_text("t.js", make) == cache.kept_text("t.js", make) == "bundle"
    assert len(made) == 1


def test_an_entry_gives_back_the_cube_and_report_it_was_given(export):
    from senderscore import cube_of, open_dataset

    opened = open_dataset(export)
    cube = cube_of(opened)
    key = cache.Key.of(export, zone="UTC", date_field="ended_at", engine=opened.report.engine)
    cache.store(key, opened.report, cube)
    report, again = cache.load(key)
    for table in ("counts", "users", "sequences"):
        pd.testing.assert_frame_equal(getattr(again, table), getattr(cube, table))
    assert report.to_dict() == opened.report.to_dict() and report.columns == opened.report.columns
    assert (again.date_field, again.timezone) == ("ended_at", "UTC")


def test_the_report_keeps_and_reuses_the_cube(export, monkeypatch):
    from senderscore.context import prepare_report

    first = prepare_report(export, end_date="2026-09-30")
    assert len(list(cache.cache_dir().iterdir())) == 1

    def no_cube(*args, **kwargs):
        raise AssertionError("the cube should come from the cache")

    monkeypatch.setattr("senderscore.context.cube_of", no_cube)
    again = prepare_report(export, end_date="2026-09-30")
    pd.testing.assert_frame_equal(again.by_user, first.by_user)
    pd.testing.assert_frame_equal(again.trend, first.trend)
