"""Hostile and unlucky bytes: every mutated export ends in a result or exit 2, never a traceback,
and a result accounts for every row the file holds."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import HEADER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senderscore.cli import main

ROWS = "".join(
    f"{i},s{i % 3},u{i % 2},c{i % 4},2026-03-0{1 + i % 5}T09:00:00Z,2026-03-1{i % 9}T09:00:00Z,"
    f"{'FINISHED' if i % 2 else 'UNENROLLED'},{'REPLY' if i % 5 == 0 else ''},,{i % 3}\n"
    for i in range(1, 13)
)
BASE = (HEADER + ROWS).encode()
PIECES = [b'"', b",", b";", b"\t", b"\r", b"\n", b"\r\n", "é".encode(), b"\xff", b"\x00", b"=1+1", b"\xef\xbb\xbf"]
EDITS = st.lists(
    st.tuples(
        st.sampled_from(["cut", "duplicate", "swap", "insert"]),
        st.integers(0, len(BASE)),
        st.integers(1, 40),
        st.sampled_from(PIECES),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, edits) -> bytes:
    for kind, at, size, piece in edits:
        at = min(at, len(data))
        if kind == "cut":
            data = data[:at] + data[at + size :]
        elif kind == "duplicate":
            data = data[:at] + data[at : at + size] + data[at:]
        elif kind == "swap":
            other = (at + size) % max(len(data), 1)
            a, b = sorted((at, other))
            data = data[:a] + data[b : b + 1] + data[a + 1 : b] + data[a : a + 1] + data[b + 1 :]
        else:
            data = data[:at] + piece + data[at:]
    return data


def data_rows(data: bytes) -> int | None:
    """An independent count of the data rows (non-blank records after the header), or None when the
    bytes are not UTF-8 text the csv module reads."""
    try:
        text = data.decode("utf-8-sig")
        header = text.split("\n", 1)[0]
        delimiter = max((",", ";", "\t"), key=header.count)
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True) if r]
    except (UnicodeDecodeError, csv.Error):
        return None
    return max(len(records) - 1, 0)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_mutated_csv_is_a_result_or_exit_2(tmp_path_factory, capsys, edits):
    data = mutate(BASE, edits)
    path = tmp_path_factory.mktemp("fuzz") / "in.csv"
    path.write_bytes(data)
    code, out, err = run(capsys, "score", path, "--on-bad-rows", "skip", "--format", "json", "--rejects",
                         path.with_name("r.csv"))  # fmt: skip
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 0:
        load = json.loads(out)["load"]
        assert load["rows_read"] == load["rows_used"] + load["rows_rejected"] + load["duplicates_collapsed"]
        expected = data_rows(data)
        if expected is not None and b"\r" not in data:  # lone CRs: the csv module and Python's lines differ
            assert load["rows_read"] == expected, (data, load)


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_mutated_csv_on_the_engines_is_a_result_or_exit_2(tmp_path_factory, capsys, engine, edits):
    path = tmp_path_factory.mktemp("fuzz") / "in.csv"
    path.write_bytes(mutate(BASE, edits))
    code, out, err = run(capsys, "score", path, "--on-bad-rows", "skip", "--format", "json", "--engine", engine,
                         "--rejects", path.with_name("r.csv"))  # fmt: skip
    assert code in (0, 2), err
    if code == 0:
        load = json.loads(out)["load"]
        assert load["rows_read"] == load["rows_used"] + load["rows_rejected"] + load["duplicates_collapsed"]


POLICY_LINES = [
    'name = "x"', "min_ended_user = 50", "count_account_reply = true", "confidence = 0.9",
    "reply_points = [[0.0, 0.0], [0.1, 50.0]]", "[bands]", "A = 50.0", "B = 0.0", 'timezone = "Europe/Berlin"',
]  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.sampled_from(POLICY_LINES), max_size=6), edits=EDITS)
def test_mutated_policy_is_a_policy_or_exit_2(tmp_path_factory, capsys, lines, edits):
    path = tmp_path_factory.mktemp("policy") / "p.toml"
    path.write_bytes(mutate("\n".join(lines).encode(), [(k, a % 200, s, p) for k, a, s, p in edits]))
    code, _, err = run(capsys, "policy", "--policy", path)
    assert code in (0, 2), err
