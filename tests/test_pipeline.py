"""One pipeline: the same row checks, timestamps and definitions give the same outcome on every engine."""

from __future__ import annotations

import json
import re
from unittest import mock

import pandas as pd
import pytest
from conftest import GOOD, HEADER, SAMPLE, bounced, frame, replied, rows, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from senderscore import (
    InputError,
    Policy,
    build_cube,
    cube_of,
    cube_riders,
    load_enrollments,
    open_dataset,
    sender_scores,
)

FILE_ENGINES = [("pandas", "csv"), ("duckdb", "csv"), ("polars", "csv"), ("pandas", "parquet"), ("duckdb", "parquet"),
                ("polars", "parquet")]  # fmt: skip


def outcome(path, engine, zone="UTC"):
    """Everything a user sees of one load, in a form comparable across engines."""
    # The cube's queries ride along the checks: DuckDB answers them from that scan on a clean CSV
    # (from FUSE_BYTES on: these small files too, so that the parity fixtures cover it).
    with mock.patch("senderscore.load.scan.FUSE_BYTES", 0):
        opened = open_dataset(
            path, engine=engine, on_bad_rows="skip", policy=Policy(timezone=zone), riders=cube_riders()
        )
    report = opened.report
    rejects = sorted(zip(report.rejects["enrollment_id"].astype(str), report.rejects["reason"]))
    cube = cube_of(opened)
    return {
        "accounting": (report.rows_read, report.rows_used, report.rows_rejected, report.duplicates_collapsed),
        "counts": report.problem_counts,
        "rejects": [(i, _without_rows(r)) for i, r in rejects],
        "cube": cube.counts,
        "users": cube.users,
    }


def _without_rows(reason: str) -> str:
    """Conflict messages name the copies' line (pandas) or row (engines) numbers: compare the rest."""
    return reason.split(" appears on ")[0] + (" appears on ..." if " appears on " in reason else "")


def assert_same(results: dict):
    (first, expected), *others = results.items()
    for engine, got in others:
        for key in ("accounting", "counts", "rejects"):
            assert got[key] == expected[key], (engine, first, key)
        pd.testing.assert_frame_equal(got["cube"], expected["cube"], obj=f"{engine} cube")
        pd.testing.assert_frame_equal(got["users"], expected["users"], obj=f"{engine} users")


def write(data: pd.DataFrame, folder, kind: str):
    path = folder / f"in.{kind}"
    if kind == "csv":
        data.to_csv(path, index=False)
    else:
        data.astype(str).to_parquet(path) if data.dtypes.eq(object).any() else data.to_parquet(path)
    return path


HOSTILE = frame(
    rows(3),
    rows(1, reply_count="two"),
    rows(1, reply_count="abc"),
    rows(1, reply_count="1.5"),
    rows(1, reply_count="-1"),
    rows(1, reply_count="99999999999999999999"),
    rows(1, reply_count="١٢"),
    rows(1, reply_count="３"),
    rows(1, reply_count="2.0"),
    rows(1, ended_at=""),
    rows(1, ended_at="soon"),
    rows(1, ended_at="0001-01-01T00:00:00Z"),
    rows(1, enrolled_at="9999-12-31"),
    rows(1, ended_at="2026-02-30"),
    rows(1, state="DONE"),
    rows(1, user_id=" "),
    rows(1, ended_at="2026-02-01T00:00:00Z"),
    rows(1, state="executing", ended_at=""),
    replied(2),
    bounced(2),
)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_hostile_rows_are_rejected_alike_on_every_engine(tmp_path, kind):
    data = HOSTILE.assign(reply_count=HOSTILE["reply_count"].astype(str))
    path = write(data, tmp_path, kind)
    results = {engine: outcome(path, engine) for engine, k in FILE_ENGINES if k == kind}
    assert_same(results)
    counts = results["pandas"]["counts"]
    assert counts["reply_count: expected a whole number >= 0 and under 10**9 (blank means 0)"] == 7
    assert counts["ended_at: ended_at is empty on an ended (FINISHED or UNENROLLED) enrollment"] == 1
    assert counts["ended_at: out of range; expected a time from 1971 to 2199"] == 1
    assert counts["enrolled_at: out of range; expected a time from 1971 to 2199"] == 1
    assert results["pandas"]["accounting"] == (len(data), 9, 15, 0)


@pytest.mark.parametrize(("engine", "kind"), FILE_ENGINES)
def test_strict_load_names_the_row_on_every_engine(tmp_path, engine, kind):
    data = frame(rows(2), rows(1, reply_count="1.5"), rows(1, ended_at=""))
    path = write(data.assign(reply_count=data["reply_count"].astype(str)), tmp_path, kind)
    with pytest.raises(InputError) as error:
        open_dataset(path, engine=engine)
    message = str(error.value)
    assert "2 problems found" in message and "--on-bad-rows skip" in message
    first = 4 if (engine, kind) == ("pandas", "csv") else 3  # a CSV line, or a data row
    assert f"{'line' if first == 4 else 'row'} {first}, column 'reply_count': value '1.5'" in message


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "polars"])
def test_conflicting_ids_rejected_in_every_copy_identical_collapsed(tmp_path, engine, cli):
    line = GOOD
    other = GOOD.replace("1,s1", "2,s1")
    text = HEADER + line + line + other + other.replace("FINISHED", "UNENROLLED,REPLY").replace(",,,0", ",,1")
    path = write_csv(tmp_path / "d.csv", text)
    result = outcome(path, engine)
    assert result["accounting"] == (4, 1, 2, 1)
    assert result["counts"] == {"enrollment_id: repeated with different content": 2}
    code, _, err = cli("score", path, "--engine", engine, "--on-bad-rows", "skip", "--rejects", tmp_path / "r.csv")
    assert code == 0 and "2 bad rows skipped" in err
    assert pd.read_csv(tmp_path / "r.csv")["reason"].str.contains("different state").all()


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_timestamps_mean_the_same_instant_on_every_engine(tmp_path, zone):
    cells = [
        "2026-03-31T14:05:00Z",
        "2026-03-31T23:30:00-05:00",
        "2026-03-31 00:15:00+0200",
        "2026-03-31T14:05:00.123456789+01",
        "2026-03-31T14:05Z",
        "2026-03-08T02:30:00",  # skipped hour in New York: read with the offset before the change
        "2026-11-01T01:30:00",  # repeated hour in New York: the first occurrence
        "20260315",
        "1775000000000",
        "2026-04-01",
    ]
    data = frame(*[rows(1, enrolled_at="2026-01-01", ended_at=c) for c in cells])
    csv = write(data, tmp_path, "csv")
    walls = ["2026-03-08T02:30:00", "2026-11-01T01:30:00", "2026-03-31T23:59:59", "2026-04-01T00:00:00"]
    naive = frame(*[rows(1, enrolled_at=pd.Timestamp("2026-01-01"), ended_at=pd.Timestamp(w)) for w in walls])
    results = {engine: outcome(csv, engine, zone) for engine in ("pandas", "duckdb", "polars")}
    assert_same(results)
    loaded = load_enrollments(csv, policy=Policy(timezone=zone)).enrollments["ended_at"]
    local = [pd.Timestamp(c[:19]).tz_localize(zone, ambiguous=True, nonexistent=pd.Timedelta("1h")) for c in cells[5:7]]
    # Instants are kept to the microsecond (fractions past six digits are cut).
    expected = pd.to_datetime(pd.Series(cells[:5]), format="ISO8601", utc=True).dt.floor("us").tolist()
    assert loaded.iloc[:5].tolist() == expected
    assert loaded.iloc[5:7].tolist() == [t.tz_convert("UTC") for t in local]
    assert loaded.iloc[8] == pd.Timestamp(1775000000000, unit="ms", tz="UTC")
    # Parquet: timestamps stored as strings, and naive timestamps (wall-clock in the report zone).
    for variant in (data, naive):
        folder = tmp_path / f"v{len(variant)}"
        folder.mkdir(exist_ok=True)
        path = write(variant, folder, "parquet")
        assert_same({engine: outcome(path, engine, zone) for engine in ("pandas", "duckdb", "polars")})


def test_duckdbs_cast_and_the_general_rule_read_each_cell_alike():
    """DuckDB casts the usual shape itself (``_PLAIN``); polars takes every cell apart by the
    general rule. Both must give each cell the same number, awareness and readability, on the
    edges of what the cast is trusted with: 29 February, day 31, 24:00, :60, fractions past six
    digits, offsets past 18 hours, lower-case z, years under 1000."""
    import itertools

    import narwhals as nw
    import polars as pl

    from senderscore.load.dates import _PLAIN, parse_stages
    from senderscore.load.scan import duckdb_connection
    from senderscore.load.validate import apply, collect

    dates = ["2026-03-31", "2028-02-29", "2026-02-29", "2026-04-31", "2026-12-31", "0999-05-05", "1000-01-01"]
    clocks = ["T14:05:09", " 00:00:00", "T23:59:59.5", "T24:00:00", "T12:00:60", "T08:30:00.1234567", "T08:30"]
    zones = [
        "",
        "Z",
        "z",
        "+02:00",
        "-05:30",
        "+18:00",
        "+19:00",
        "+0200",
        "-0530",
        "+02",
        "-03",
        "+1859",
        "+1900",
        "+0260",
    ]
    cells = ["".join(parts) for parts in itertools.product(dates, clocks, zones)] + ["20260331", "1775000000000", ""]
    columns = ["value", "aware", "readable"]

    def parse(frame, engine):
        stages = parse_stages(nw.col("x"), nw.String, "p", engine)
        return collect(apply(frame, stages).select(*[nw.col(f"p_{c}") for c in columns]))

    general = parse(nw.from_native(pl.DataFrame({"x": cells}).lazy()), nw.Implementation.POLARS)
    con = duckdb_connection()
    con.register("cells", pl.DataFrame({"x": cells}).to_arrow())
    cast = parse(nw.from_native(con.table("cells")), nw.Implementation.DUCKDB)
    pd.testing.assert_frame_equal(cast, general, check_dtype=False)
    plain = [c for c in cells if re.match(_PLAIN, c)]  # the cells the cast reads
    assert general["p_readable"].sum() > len(plain) > 0  # the cast's cells and the others are both here
    assert {c[-6:] for c in plain} >= {":09+02", "9+0200", "-05:30", "9-0530"}  # every offset form


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_the_fast_route_reads_its_cells_as_the_general_rule_does(engine):
    """Later passes parse a text timestamp column with the engine's own parser when the checking
    pass found every cell blank or in a shape it reads (polars: ``_FAST``, ``2026-03-31T14:05:09Z``
    with a fraction allowed; DuckDB: ``_PLAIN``, any offset form or none): the same value,
    awareness, blankness and readability as the general rule."""
    import itertools

    import narwhals as nw
    import polars as pl

    from senderscore.load.dates import _FAST, _PLAIN, fast_cells, fast_stages, parse_stages
    from senderscore.load.scan import duckdb_connection
    from senderscore.load.validate import apply, collect

    dates = ["2026-03-31", "2028-02-29", "2026-12-31", "1971-01-01", "2199-12-28"]
    clocks = ["T14:05:09", "T00:00:00.5", "T23:59:59.123456", " 14:05:09"]
    zones = ["Z", "", "+02:00", "-0530", "+00", "z", "+19:00"]
    cells = ["".join(p) for p in itertools.product(dates, clocks, zones)] + ["", "  ", "20260331"]
    fast = [c for c in cells if c.strip() == "" or re.match(_FAST if engine == "polars" else _PLAIN, c)]
    columns = [f"p_{c}" for c in ("value", "aware", "blank", "readable")]
    implementation = getattr(nw.Implementation, engine.upper())

    def frame(values):
        table = pl.DataFrame({"x": values})
        if engine == "polars":
            return nw.from_native(table.lazy())
        con = duckdb_connection()
        con.register("cells", table.to_arrow())
        return nw.from_native(con.table("cells"))

    general = apply(frame(cells), parse_stages(nw.col("x"), nw.String, "p", implementation))
    found = collect(general.select(nw.col("x"), fast_cells("p", implementation).alias("fast")))
    assert sorted(found.loc[found["fast"], "x"]) == sorted(fast) and len(fast) < len(cells)
    expected = collect(general.filter(fast_cells("p", implementation)).select(nw.col("x"), *map(nw.col, columns)))
    quick = collect(apply(frame(fast), fast_stages(nw.col("x"), "p", implementation)).select("x", *columns))
    written = [bool(re.search(r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$", x)) for x in quick["x"]]
    assert quick["p_aware"].tolist() == written and any(written) and not all(written)  # offsets written
    pd.testing.assert_frame_equal(
        quick.sort_values("x").reset_index(drop=True),
        expected.sort_values("x").reset_index(drop=True),
        check_dtype=False,
    )


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "polars"])
def test_later_passes_take_the_fast_route_only_where_every_cell_allows_it(tmp_path, engine):
    path = write_csv(tmp_path / "in.csv", HEADER + GOOD)
    opened = open_dataset(path, engine=engine)
    columns = opened.rows.collect_schema().names()
    assert "__ended_at_epoch" not in columns and "__enrolled_at_epoch" not in columns  # the fast route
    second = GOOD.replace("09:00:00Z,", "09:00Z,", 1).replace("1,", "2,", 1)  # a clock without seconds
    mixed = write_csv(tmp_path / "mixed.csv", HEADER + GOOD + second)
    columns = open_dataset(mixed, engine=engine).rows.collect_schema().names()
    assert "__enrolled_at_epoch" in columns and "__ended_at_epoch" not in columns  # general, fast


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "polars"])
def test_twin_columns_are_refused_on_every_engine(tmp_path, engine):
    path = write_csv(tmp_path / "in.csv", HEADER.strip() + ",Enrolled by\n" + GOOD.strip() + ",u2\n")
    with pytest.raises(InputError, match="both mean 'user_id'"):
        open_dataset(path, engine=engine)


def test_xlsx_on_duckdb_reads_like_pandas(tmp_path):
    data = frame(rows(3), replied(2), bounced(1))
    data.to_excel(tmp_path / "in.xlsx", index=False)
    assert_same({engine: outcome(tmp_path / "in.xlsx", engine) for engine in ("pandas", "duckdb")})


def test_build_cube_is_the_engine_query():
    enrollments = load_enrollments(SAMPLE).enrollments
    for engine in ("duckdb", "polars"):
        pd.testing.assert_frame_equal(
            cube_of(open_dataset(SAMPLE, engine=engine)).counts, build_cube(enrollments).counts
        )


CELLS = {
    "state": st.sampled_from(["FINISHED", "unenrolled", "EXECUTING", "DONE", ""]),
    "unenrolled_source": st.sampled_from(["", "REPLY", "ERROR", "ACCOUNT_REPLY", "bounce"]),
    "step_error_type": st.sampled_from(["", "BOUNCED", "UNSUBSCRIBED", "HARD"]),
    "reply_count": st.sampled_from(["0", "1", "", "-1", "1.5", "x", "12"]),
    "ended_at": st.sampled_from(["2026-03-10T09:00:00Z", "", "2026-03-01", "2026-02-28T23:00:00-05:00", "nope"]),
    "enrollment_id": st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "8"]),
    "user_id": st.sampled_from(["u1", "u2", ""]),
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries(CELLS), min_size=1, max_size=12))
def test_random_rows_give_identical_results_on_every_engine(tmp_path, cells):
    data = frame([{**rows(1)[0], **c} for c in cells])
    path = write(data, tmp_path, "csv")
    results = {}
    for engine in ("pandas", "duckdb", "polars"):
        try:
            results[engine] = outcome(path, engine)
        except InputError as error:  # no usable rows: the same message everywhere
            results[engine] = str(error).split(":", 1)[1]
    if isinstance(results["pandas"], str):
        assert len(set(results.values())) == 1
    else:
        assert_same(results)
        expected = load_enrollments(path, on_bad_rows="skip").enrollments
        assert sender_scores(build_cube(expected)).equals(
            sender_scores(cube_of(open_dataset(path, on_bad_rows="skip")))
        )


EVIDENCE = frame(
    # u1 bounces a lot: a typo domain, a contact that bounced and was enrolled again, a formula email
    bounced(3, user_id="u1", contact_id="t1", contact_email="t1@gmial.com", personalized="yes"),
    bounced(1, user_id="u1", contact_id="b1", contact_email="=cmd|'/c calc'!A0", ended_at="2026-03-02T09:00:00Z"),
    rows(2, user_id="u2", contact_id="b1", contact_email="b1@acme.com", enrolled_at="2026-03-20T09:00:00Z",
         ended_at="2026-03-25T09:00:00Z", personalized="no"),
    rows(4, user_id="u1", contact_id="d1", contact_email="d1@ACME.com ", open_count=0, click_count=0),
    replied(3, user_id="u1", contact_id="r1", contact_email="r1@gmail.com", personalized="yes"),
    rows(3, user_id="u2", contact_id="e1", contact_email="e1@gmail.com", open_count=2, personalized="no"),
    # unsubscribed, then enrolled again by u3 near the window's end (03:00 UTC is still March 31 in New York)
    rows(1, user_id="u1", contact_id="x1", contact_email="x1@web.de", state="UNENROLLED", unenrolled_source="ERROR",
         step_error_type="UNSUBSCRIBED", ended_at="2026-03-03T09:00:00Z"),
    rows(1, user_id="u3", contact_id="x1", contact_email="x1@web.de", state="EXECUTING", ended_at="",
         enrolled_at="2026-04-01T03:00:00Z"),
    rows(2, user_id="u3", contact_id="n1", contact_email="", enrolled_at="2026-04-02T09:00:00Z",
         ended_at="2026-04-03T09:00:00Z"),
)  # fmt: skip


def evidence_outcome(source, engine: str = "pandas", zone: str = "UTC", **window) -> dict:
    """What `recommend`, `suppress` and the report's domain tables give, comparable across engines."""
    from senderscore.evidence import domain_table, gather, recommend, suppression_list

    policy = Policy(timezone=zone)
    opened = open_dataset(source, engine=engine, policy=policy)
    ev = gather(opened, policy=policy, **window)
    return {
        "window": (ev.start, ev.end),
        "findings": [json.dumps(f.to_dict(), default=str) for f in recommend(ev)],
        "cleanup": suppression_list(ev).to_dict("records"),
        "domains": domain_table(ev.domain_counts).astype(str).to_dict("records"),  # text: NaN equals NaN
        "providers": domain_table(ev.domain_counts, by="provider").astype(str).to_dict("records"),
    }


@pytest.mark.parametrize(
    ("zone", "window"),
    [("UTC", {}), ("America/New_York", {"start": "2026-03-01", "end": "2026-03-31"}), ("UTC", {"end": "2026-03-15"})],
)
def test_evidence_is_the_same_on_every_engine(tmp_path, zone, window):
    results = {}
    for engine, kind in FILE_ENGINES:
        folder = tmp_path / f"{engine}-{kind}"
        folder.mkdir()
        path = write(EVIDENCE, folder, kind)
        results[(engine, kind)] = evidence_outcome(path, engine, zone, **window)
    expected = results[("pandas", "csv")]
    for key, got in results.items():
        assert got == expected, key
    assert expected["cleanup"] and expected["domains"] and expected["findings"]


def test_evidence_hand_checked_including_the_zone_edge():
    utc = evidence_outcome(EVIDENCE, start="2026-03-01", end="2026-03-31")
    local = evidence_outcome(EVIDENCE, zone="America/New_York", start="2026-03-01", end="2026-03-31")
    reasons = {r["contact_id"]: r["reasons"] for r in utc["cleanup"]}
    assert reasons == {
        "b1": "hard bounced, never engaged in 3 enrollments",  # a bounce is no engagement
        "d1": "never engaged in 4 enrollments",
        "t1": "hard bounced, suspected typo domain gmial.com (did you mean gmail.com?), never engaged in 3 enrollments",
        "x1": "unsubscribed",
    }
    b1 = next(r for r in utc["cleanup"] if r["contact_id"] == "b1")
    assert (b1["contact_email"], b1["enrollments"], b1["users"]) == ("b1@acme.com", 3, "u1; u2")
    rules = lambda result: sorted(json.loads(f)["rule"] for f in result["findings"])  # noqa: E731
    # x1's second enrollment is on April 1 in UTC but on March 31 in New York: only there is it in the window
    assert "emailed_after_unsubscribe" not in rules(utc) and "emailed_after_unsubscribe" in rules(local)
    assert "reenrolled_after_bounce" in rules(utc)
    domains = {d["domain"]: (d["ended"], d["bounced"], d["replied"]) for d in utc["domains"]}
    assert domains["gmial.com"] == ("3", "3", "0") and domains["acme.com"] == ("6", "0", "0")
    assert domains["gmail.com"] == ("6", "0", "3") and domains[""] == ("1", "1", "0")  # a formula, no @: no domain


def test_evidence_without_contact_emails_has_no_domain_table():
    data = EVIDENCE.drop(columns=["contact_email"])
    result = evidence_outcome(data)
    assert result["domains"] == [] and {r["contact_id"] for r in result["cleanup"]} == {"b1", "d1", "t1", "x1"}


@pytest.mark.spark
@pytest.mark.slow
def test_evidence_on_spark_is_the_same(spark):
    window = {"start": "2026-03-01", "end": "2026-03-31"}
    expected = evidence_outcome(EVIDENCE, zone="America/New_York", **window)
    native = spark.createDataFrame(EVIDENCE.astype(object).where(EVIDENCE.notna(), "").astype(str))
    assert evidence_outcome(native, zone="America/New_York", **window) == expected


@pytest.mark.parametrize("kind", ["csv", "int64", "uint64"])
def test_count_limit_keeps_every_sum_inside_64_bits(tmp_path, kind):
    """A count cell is under 10**9, so a sum over up to 9 billion rows fits in 64 bits: twenty
    cells of 999,999,999 sum exactly; 10**9 and 2**64-1 (uint64 Parquet) are row problems."""
    limit = 10**9
    data = frame(rows(20, open_count=limit - 1), rows(1, open_count=limit), rows(1, open_count=2**64 - 1))
    data["enrollment_id"] = [f"e{i}" for i in range(len(data))]
    if kind == "csv":
        path = write(data.assign(open_count=data["open_count"].astype(str)), tmp_path, "csv")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if kind == "int64":
            data = data[data["open_count"] < 2**63]
        table = pa.Table.from_pandas(data.astype({c: str for c in data if c != "open_count"}), preserve_index=False)
        table = table.set_column(
            table.schema.get_field_index("open_count"),
            "open_count",
            pa.array(data["open_count"].tolist(), pa.type_for_alias(kind)),
        )
        path = tmp_path / "in.parquet"
        pq.write_table(table, path)
    engines = [e for e, k in FILE_ENGINES if k == ("csv" if kind == "csv" else "parquet")]
    results = {engine: outcome(path, engine) for engine in engines}
    assert_same(results)
    expected = results["pandas"]
    assert expected["accounting"] == (len(data), 20, len(data) - 20, 0)
    assert expected["cube"]["open_count"].sum() == 20 * (limit - 1)


def test_ids_stored_as_bytes_are_text_or_a_clear_error(tmp_path):
    """Parquet binary columns: UTF-8 bytes read as the same text on every engine; other bytes are
    exit-2 material naming the column and the row, on every engine alike."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = frame(replied(3), bounced(2), rows(4, user_id="u2"))
    data["enrollment_id"] = [f"e{i}" for i in range(len(data))]
    text = write(data, tmp_path, "parquet")
    table = pq.read_table(text)
    for column in ("enrollment_id", "user_id"):
        index = table.column_names.index(column)
        table = table.set_column(index, column, table.column(index).cast(pa.binary()))
    as_bytes = tmp_path / "bytes.parquet"
    pq.write_table(table, as_bytes)
    expected = outcome(text, "pandas")
    assert_same({engine: outcome(as_bytes, engine) for engine in ("pandas", "duckdb", "polars")} | {"text": expected})
    values = table.column("user_id").to_pylist()
    values[3] = b"\xff\xfeu2"
    table = table.set_column(table.column_names.index("user_id"), "user_id", pa.array(values, pa.binary()))
    pq.write_table(table, as_bytes)
    for engine in ("pandas", "duckdb", "polars"):
        with pytest.raises(InputError, match=r"column 'user_id' holds bytes that are not UTF-8 text \(row 4: b'\\xff"):
            open_dataset(as_bytes, engine=engine)


def test_polars_runs_within_our_bounds_and_leaves_the_environment_as_it_was(monkeypatch):
    import os

    import narwhals as nw
    import polars as pl

    from senderscore.load.passes import POLARS_BOUNDS, collect

    monkeypatch.delenv("POLARS_IDEAL_MORSEL_SIZE", raising=False)
    monkeypatch.setenv("POLARS_ROW_GROUP_PREFETCH_SIZE", "4")  # the user's own setting
    seen = {}

    def spy(frame: pl.DataFrame) -> pl.DataFrame:
        seen.update({k: os.environ.get(k) for k in POLARS_BOUNDS})
        return frame

    query = nw.from_native(pl.LazyFrame({"a": [1, 2]}).map_batches(spy, streamable=True))
    assert collect(query)["a"].tolist() == [1, 2]
    assert seen == {"POLARS_IDEAL_MORSEL_SIZE": "25000", "POLARS_ROW_GROUP_PREFETCH_SIZE": "4"}
    assert "POLARS_IDEAL_MORSEL_SIZE" not in os.environ
    assert os.environ["POLARS_ROW_GROUP_PREFETCH_SIZE"] == "4"


def test_polars_checks_with_two_row_groups_ahead_and_builds_the_cube_with_one(monkeypatch):
    from contextlib import contextmanager

    from senderscore.load import passes

    used: list[dict[str, str]] = []
    real = passes.polars_bounds

    @contextmanager
    def spy(bounds=passes.POLARS_BOUNDS):
        used.append(dict(bounds))
        with real(bounds):
            yield

    monkeypatch.setattr(passes, "polars_bounds", spy)
    opened = open_dataset(SAMPLE, engine="polars")
    checking = list(used)
    used.clear()
    cube_of(opened)
    assert checking and all(b["POLARS_ROW_GROUP_PREFETCH_SIZE"] == "2" for b in checking)
    assert used and all(b == passes.POLARS_BOUNDS for b in used)
    assert passes.POLARS_BOUNDS["POLARS_ROW_GROUP_PREFETCH_SIZE"] == "1"


def test_a_polars_query_that_fails_arrives_as_a_narwhals_error_for_the_clear_message():
    import narwhals as nw
    import polars as pl

    from senderscore.load.passes import collect, collect_polars

    query = nw.from_native(pl.LazyFrame({"a": ["x"]})).select(nw.col("a").cast(nw.Int64))
    for run in (collect, collect_polars):
        with pytest.raises(nw.exceptions.NarwhalsError):
            run(query)
