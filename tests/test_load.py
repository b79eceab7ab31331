"""Bad input gets a clear error, and nothing is lost: every case through the CLI."""

from __future__ import annotations

import gzip
import subprocess
import sys

import pandas as pd
import pytest
from conftest import GOOD, HEADER, frame, rows, run_module, write_csv

from senderscore import InputError, load_enrollments


def bad(cli, path, *extra):
    code, out, err = cli("score", path, *extra)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("line", "column", "fragment"),
    [
        (
            "2,s1,u1,c1,2026-03-01,2026-03-10,DONE,,,0",
            "state",
            "expected one of EXECUTING, PAUSED, FINISHED, UNENROLLED",
        ),
        ("2,s1,u1,c1,2026-03-01,2026-03-10,UNENROLLED,BOUNCE,,0", "unenrolled_source", "expected one of MANUAL"),
        ("2,s1,u1,c1,2026-03-01,2026-03-10,UNENROLLED,ERROR,HARD,0", "step_error_type", "expected one of BOUNCED"),
        ("2,s1,u1,c1,31/03/2026,2026-04-10,FINISHED,,,0", "enrolled_at", "not a timestamp"),
        ("2,s1,u1,c1,2026-03-01,,FINISHED,,,0", "ended_at", "ended_at is empty on an ended"),
        ("2,s1,u1,c1,2026-03-10,2026-03-01,FINISHED,,,0", "ended_at", "before enrolled_at"),
        ("2,s1,u1,c1,2026-03-01,2026-03-10,FINISHED,,,-1", "reply_count", "whole number >= 0"),
        ("2,s1,u1,c1,2026-03-01,2026-03-10,FINISHED,,,1.5", "reply_count", "whole number >= 0"),
        ("2,s1,u1,c1,2026-03-01,2026-03-10,FINISHED,,,two", "reply_count", "whole number >= 0"),
        ("2,s1,,c1,2026-03-01,2026-03-10,FINISHED,,,0", "user_id", "user_id is empty"),
    ],
)
def test_bad_value_names_file_line_column_value(cli, tmp_path, line, column, fragment):
    path = write_csv(tmp_path / "in.csv", HEADER + GOOD + line + "\n")
    err = bad(cli, path)
    assert str(path) in err
    assert f"line 3, column '{column}'" in err
    assert fragment in err
    value = line.split(",")[list(HEADER.strip().split(",")).index(column)]
    assert repr(value) in err
    assert "--on-bad-rows skip" in err


def test_missing_columns_lists_found_and_suggests(cli, tmp_path):
    path = write_csv(
        tmp_path / "in.csv", HEADER.replace("contact_id", "contactid").replace(",state,", ",status_x,") + GOOD
    )
    err = bad(cli, path)
    assert "missing required column(s) contact_id, state" in err
    assert "found 'enrollment_id'" in err
    assert "rename 'contactid' to 'contact_id'" in err


def test_two_columns_with_the_same_meaning(cli, tmp_path):
    path = write_csv(tmp_path / "in.csv", HEADER.strip() + ",hs_enrolled_by\n" + GOOD.strip() + ",u2\n")
    assert "both mean 'user_id'" in bad(cli, path)


def test_ended_rows_without_an_ended_at_column(cli, tmp_path):
    header = "enrollment_id,sequence_id,user_id,contact_id,enrolled_at,state\n"
    err = bad(cli, write_csv(tmp_path / "in.csv", header + "1,s1,u1,c1,2026-03-01,FINISHED\n"))
    assert "no ended_at column" in err


def test_conflicting_duplicates_are_rejected_identical_ones_collapsed(cli, tmp_path):
    path = write_csv(
        tmp_path / "in.csv",
        HEADER
        + GOOD
        + GOOD
        + GOOD.replace("FINISHED", "UNENROLLED,REPLY").replace(",,,0", ",,0")
        + "9,s1,u1,c1,2026-03-01,2026-03-10,FINISHED,,,0\n",
    )
    err = bad(cli, path)
    assert "enrollment_id appears on lines 2, 4 with different state, unenrolled_source" in err
    code, out, err = cli("validate", write_csv(tmp_path / "dups.csv", HEADER + GOOD + GOOD + GOOD))
    assert code == 0
    assert "3 rows read, 1 used, 0 rejected, 2 identical duplicates collapsed" in out


def test_ragged_rows(cli, tmp_path):
    path = write_csv(
        tmp_path / "in.csv", HEADER + GOOD + "2,s1,u1,c1,2026-03-01\n" + GOOD.replace("1,", "3,", 1).strip() + ",x\n"
    )
    err = bad(cli, path)
    assert "line 3: has 5 fields, the header has 10" in err
    assert "line 4: has 11 fields" in err


def test_quoted_newlines_keep_line_numbers_exact(cli, tmp_path):
    header = HEADER.strip() + ",sequence_name\n"
    text = header + GOOD.strip() + ',"two\nlines"\n' + "2,s1,u1,c1,2026-03-01,2026-03-10,NOPE,,,0,x\n"
    assert "line 4, column 'state'" in bad(cli, write_csv(tmp_path / "in.csv", text))


@pytest.mark.parametrize(("text", "fragment"), [("", "the file is empty"), (HEADER, "has a header line but no rows")])
def test_empty_file_and_header_only(cli, tmp_path, text, fragment):
    assert fragment in bad(cli, write_csv(tmp_path / "in.csv", text))


def test_not_utf8_says_so_and_offers_encoding(cli, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes((HEADER + GOOD).encode() + "2,s1,Jürgen,c1,2026-03-01,2026-03-10,FINISHED,,,0\n".encode("cp1252"))
    err = bad(cli, path)
    assert "line 3" in err and "not valid utf-8" in err and "--encoding cp1252" in err
    code, out, _ = cli("score", path, "--encoding", "cp1252")
    assert code == 0 and "Jürgen" in out


def test_bom_and_semicolons_are_read(cli, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD).replace(",", ";").encode())
    code, out, _ = cli("score", path)
    assert code == 0 and "1 used" in out


def test_truncated_gzip(cli, tmp_path):
    data = gzip.compress((HEADER + GOOD * 50).encode())
    path = tmp_path / "in.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    assert "truncated or corrupt" in bad(cli, path)
    path.write_bytes(data)
    assert cli("score", path)[0] == 0


def test_gzip_is_streamed_and_decided_by_its_uncompressed_size(cli, tmp_path, monkeypatch, capsys):
    from senderscore.load import pick_engine

    data = (HEADER + "".join(GOOD.replace("1,", f"{i},", 1) for i in range(1, 400))).encode()
    path = tmp_path / "in.csv.gz"
    path.write_bytes(gzip.compress(data))
    assert path.stat().st_size < 4_000 < len(data)
    monkeypatch.setattr("senderscore.load.scan.AUTO_BYTES", 4_000)  # small on disk, large inside
    assert pick_engine(path, verbose=True) == "duckdb"
    assert "engine auto -> duckdb (over 4 kB of CSV inside the gzip: DuckDB streams it)" in capsys.readouterr().err
    monkeypatch.undo()
    expected = cli("score", path, "--engine", "pandas", "--format", "csv")
    assert expected[0] == 0 and cli("score", path, "--engine", "duckdb", "--format", "csv")[1] == expected[1]


def test_a_gzip_bomb_is_a_message_within_bounded_memory(tmp_path):
    """One endless line inside a small archive: exit 2 naming the line, without decompressing it whole."""
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as stream:
        stream.write(HEADER.encode())
        for _ in range(16):
            stream.write(b"a" * (1 << 24))  # 256 MB on one line
    assert path.stat().st_size < 2_000_000
    # The child reports its own peak (VmHWM: counted from its exec, unlike a forked child's rusage).
    script = (
        "import sys; from senderscore.cli import main; code = main(sys.argv[1:]); "
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
        "print('peak', peak, file=sys.stderr); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "score", str(path), "--engine", "pandas"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "line 2 is longer than" in done.stderr and "Traceback" not in done.stderr
    peak_kb = int(done.stderr.split("peak ")[1].split()[0])
    assert peak_kb < 400_000  # the whole line would need well over 500 MB


def test_unknown_encoding_is_a_message(cli, tmp_path):
    path = write_csv(tmp_path / "in.csv", HEADER + GOOD)
    assert "unknown encoding 'klingon'" in bad(cli, path, "--encoding", "klingon")


def test_unsupported_type_and_missing_file(cli, tmp_path):
    assert "unsupported file type '.json'" in bad(cli, write_csv(tmp_path / "in.json", "{}"))
    assert "no such file" in bad(cli, tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--start", "2026-04-01", "--end", "2026-03-01"), "is after end"),
        (("--start", "April 1st"), "is not a date"),
        (("--start", "2026-01-01garbage"), "is not a date"),
        (("--end", "2026-13-01"), "is not a date"),
    ],
)
def test_bad_window(cli, tmp_path, args, fragment):
    assert fragment in bad(cli, write_csv(tmp_path / "in.csv", HEADER + GOOD), *args)


@pytest.mark.parametrize("text", ["2026-03-31", "20260331", "2026-03-31T12:00:00"])
def test_window_dates_in_every_accepted_form(text):
    from senderscore.load.windows import parse_date

    assert str(parse_date(text)) == "2026-03-31"


def test_strict_lists_twenty_problems_and_counts_the_rest(cli, tmp_path):
    lines = "".join(f"{i},s1,u1,c1,2026-03-01,2026-03-10,NOPE,,,0\n" for i in range(2, 32))
    err = bad(cli, write_csv(tmp_path / "in.csv", HEADER + GOOD + lines))
    assert "30 problems found" in err
    assert err.count("column 'state': value 'NOPE'") == 20
    assert "... and 10 more; by reason:" in err
    assert "30 x state: expected one of EXECUTING" in err


def test_skip_writes_rejects_and_accounts_for_every_row(cli, tmp_path):
    text = (
        HEADER
        + GOOD
        + GOOD
        + "2,s1,u1,c1,2026-03-01,2026-03-10,NOPE,,,0\n"
        + "3,s1,u1,c1,2026-03-01\n"
        + "4,s2,u1,c1,2026-03-01,2026-03-10,FINISHED,,,0\n"
    )
    path = write_csv(tmp_path / "in.csv", text)
    out_path = tmp_path / "out" / "scores.csv"
    code, _, err = cli("score", path, "--on-bad-rows", "skip", "--format", "csv", "--output", out_path)
    assert code == 0
    rejects_path = out_path.parent / "scores.rejects.csv"
    assert f"2 bad rows skipped; each with its reason in {rejects_path}" in err
    assert "5 rows read, 2 used, 2 rejected, 1 identical duplicates collapsed" in err
    rejects = pd.read_csv(rejects_path)
    assert rejects["line"].tolist() == [4, 5]
    assert "expected one of EXECUTING" in rejects.loc[0, "reason"]
    assert "has 5 fields" in rejects.loc[1, "reason"]
    assert pd.read_csv(out_path)["ended"].sum() == 2


def test_validate_lists_every_problem(cli, tmp_path):
    lines = "".join(f"{i},s1,u1,c1,2026-03-01,2026-03-10,NOPE,,,0\n" for i in range(2, 32))
    code, out, _ = cli("validate", write_csv(tmp_path / "in.csv", HEADER + GOOD + lines))
    assert code == 2
    assert "31 rows read, 1 used, 30 rejected" in out
    assert out.count("expected one of EXECUTING") == 30


def test_no_traceback_as_a_user_sees_it(tmp_path):
    result = run_module("score", write_csv(tmp_path / "in.csv", HEADER + GOOD.replace("FINISHED", "DONE")))
    assert result.returncode == 2
    assert result.stderr.startswith("senderscore: error:")
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2(cli):
    assert cli("score")[0] == 2
    assert cli("score", "x.csv", "--by", "team")[0] == 2


def test_xlsx_and_parquet_rows_are_numbered(tmp_path):
    data = frame(rows(2), rows(1, state="DONE"))
    data.to_excel(tmp_path / "in.xlsx", index=False)
    with pytest.raises(InputError, match=r"row 4, column 'state'"):
        load_enrollments(tmp_path / "in.xlsx")
    data.to_parquet(tmp_path / "in.parquet")
    with pytest.raises(InputError, match=r"row 3, column 'state'"):
        load_enrollments(tmp_path / "in.parquet")
    good = frame(rows(3, reply_count=1))
    good.to_parquet(tmp_path / "good.parquet")
    assert load_enrollments(tmp_path / "good.parquet").report.rows_used == 3


def test_inputs_are_not_modified():
    data = frame(rows(3), rows(1, state="finished"))
    before = data.copy()
    load_enrollments(data)
    pd.testing.assert_frame_equal(data, before)


def _slow_read(path):
    from senderscore.load import read

    return read._read_csv(path, "csv", "utf-8")


@pytest.mark.parametrize(
    "text",
    [
        HEADER + GOOD + "2, s1 ,u1,c1,2026-03-01T10:00:00+02:00,1773100800000,finished,,,\n",
        (HEADER + GOOD).replace(",", ";") + "2;s1;u1;c1;2026-03-01;2026-03-10;FINISHED;;;3\n",
        HEADER.strip() + ",sequence_name\n" + GOOD.strip() + ',"quoted, with a comma"\n',
    ],
)
def test_fast_csv_reader_reads_what_the_csv_module_reads(tmp_path, text):
    from senderscore.load import read

    path = write_csv(tmp_path / "in.csv", text)
    fast, slow = read._read_csv_arrow(path), _slow_read(path)
    assert fast is not None
    pd.testing.assert_frame_equal(fast.frame, slow.frame.astype(str))
    assert fast.rows.tolist() == slow.rows.tolist() == list(range(2, len(slow.frame) + 2))
    assert load_enrollments(path).enrollments.equals(validate_slow(slow))


def validate_slow(raw):
    from senderscore.load import to_pandas
    from senderscore.load.scan import _from_raw
    from senderscore.load.validate import validate

    return to_pandas(validate(_from_raw(raw, "pandas"), "UTC").frame)


@pytest.mark.parametrize(
    "text",
    [
        HEADER.strip() + ",sequence_name\n" + GOOD.strip() + ',"two\nlines"\n',  # line numbers shift
        HEADER + GOOD + "\n" + GOOD.replace("1,", "3,", 1),  # a blank line is not a row
        HEADER + GOOD + "2,s1,u1,c1,2026-03-01\n",  # ragged
        HEADER.replace("sequence_id", "enrollment_id") + GOOD,  # a repeated header name
    ],
)
def test_fast_csv_reader_steps_aside_when_lines_are_not_rows(tmp_path, text):
    from senderscore.load import read

    assert read._read_csv_arrow(write_csv(tmp_path / "in.csv", text)) is None


def test_an_unclosed_quote_stops_the_load_at_its_line(cli, tmp_path):
    lines = [GOOD.replace("1,", f"{i},", 1).rstrip("\n") + "\n" for i in range(1, 101)]
    lines[9] = lines[9].replace(",s1,", ',"s1,', 1)  # the quote swallows the 90 lines after it
    path = write_csv(tmp_path / "in.csv", HEADER + "".join(lines))
    err = bad(cli, path)
    assert "line 11:" in err and "not closed" in err


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
@pytest.mark.parametrize("engine", ["pandas", "duckdb", "polars"])
def test_any_line_ending_is_read_or_a_clear_message(cli, tmp_path, ending, engine):
    rows_ = [GOOD.replace("1,", f"{i},", 1).rstrip("\n") for i in range(1, 6)]
    path = tmp_path / "in.csv"
    path.write_bytes(ending.join([HEADER.rstrip("\n"), *rows_, ""]).encode())
    code, out, err = cli("score", path, "--engine", engine)
    if engine == "polars" and ending == "\r":
        assert code == 2 and "lone carriage return" in err and "--engine duckdb" in err
    else:
        assert code == 0 and "5 rows read, 5 used" in out, err


def test_blank_xlsx_rows_are_skipped_like_blank_csv_lines(tmp_path, cli):
    data = frame(rows(2), rows(1, state="DONE"))
    blank = pd.DataFrame([{c: None for c in data.columns}])
    path = tmp_path / "in.xlsx"
    pd.concat([data.iloc[:1], blank, data.iloc[1:]], ignore_index=True).to_excel(path, index=False)
    loaded = load_enrollments(path, on_bad_rows="skip")
    assert (loaded.report.rows_read, loaded.report.rows_used, loaded.report.rows_rejected) == (3, 2, 1)
    assert "row 5" in bad(cli, path)  # the DONE row keeps its worksheet row number
