"""Large files without pandas: DuckDB (CSV or Parquet, out of core) or polars (Parquet) scans
the file, checks every row with the same narwhals expressions, and builds the cube.

Row-level messages with line numbers come from the pandas path (``senderscore validate``);
here each check is counted, and rows that fail are rejected (``skip``) or stop the load
(``error``), so that rows read = used + rejected + duplicates collapsed still holds.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import narwhals as nw
import pandas as pd

from . import schema
from .cube import Cube
from .engines import (
    DAY_MS,
    DAY_SUFFIX,
    Spellings,
    cube_batch,
    cube_from_frame,
    is_value,
    spellings,
    summed,
)
from .errors import InputError
from .load import LoadReport
from .policy import Policy, load_policy
from .read import file_kind

ENGINES = ("auto", "pandas", "duckdb", "polars")
DUCKDB_MEMORY = "1GB"
AUTO_BYTES = 100 * 1024 * 1024  # files larger than this leave pandas under --engine auto
# Reports read rows into pandas for the per-contact evidence (~1.4 GB RSS per million rows);
# above about two million rows `report --engine auto` builds only the cube, with DuckDB or polars.
REPORT_BYTES = {"parquet": 100 * 1024 * 1024, "csv": 400 * 1024 * 1024}


def pick_engine(source: object, engine: str = "auto", *, verbose: bool = False, threshold: int | None = None) -> str:
    """The engine to use. ``auto``: pandas up to 100 MB; above, polars for Parquet (the faster
    scan on 2 cores, measured in benchmarks/) and DuckDB for CSV (out of core)."""
    if engine not in ENGINES:
        raise InputError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}.")
    if engine == "auto":
        path = Path(str(source))
        size = path.stat().st_size if path.is_file() else 0
        engine = "pandas"
        if size > (AUTO_BYTES if threshold is None else threshold):
            engine = "polars" if file_kind(path) == "parquet" else "duckdb"
        if verbose:
            print(f"senderscore: engine auto -> {engine} ({size / 1e6:.0f} MB)", file=sys.stderr)
    return engine


def _columns(names: list[str], source: str) -> dict[str, str]:
    mapping = {c: schema.ALIASES[schema.normalize_name(c)] for c in names if schema.normalize_name(c) in schema.ALIASES}
    missing = [c for c in schema.REQUIRED if c not in mapping.values()]
    if missing:
        raise InputError(
            f"{source}: missing required column(s) {', '.join(missing)}; found "
            f"{', '.join(repr(c) for c in names)}. Run `senderscore validate` for suggestions."
        )
    return mapping


def duckdb_frame(path: Path, policy: Policy) -> Any:
    """A DuckDB relation with canonical columns and typed timestamps (session in the report zone)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{policy.timezone}'")  # naive timestamps are in the report zone
    # Out of core for real: past this much memory DuckDB spills to a temporary folder. A 10M-row
    # CSV peaked at 3.4 GB without it, 1.4 GB with it, for ~25 % more time.
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    con.execute(f"SET temp_directory = '{_sql_text(str(Path(tempfile.gettempdir()) / 'senderscore-duckdb'))}'")
    kind = file_kind(path)
    reader = "read_parquet" if kind == "parquet" else "read_csv"
    options = "" if kind == "parquet" else ", header = true, all_varchar = true"
    source = f"{reader}('{_sql_text(str(path))}'{options})"
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").fetchall())
    mapping = _columns(list(types), str(path))
    select = [
        _duckdb_column(original, canonical, types[original])
        for original, canonical in mapping.items()
        if canonical not in UNUSED
    ]
    # One scan of the file into a temporary table (DuckDB spills it to disk when large); every
    # check and the cube then read that table instead of parsing the file again.
    # Calendar days as integers, computed in the same scan: DuckDB's time-zone and truncation
    # functions are slow at scale, epoch arithmetic is not (cube_counts uses these columns).
    days = [
        f"{_day_sql(field, policy.timezone)} AS {field}{DAY_SUFFIX}"
        for field in schema.TIMESTAMP_COLUMNS
        if field in mapping.values()
    ]
    con.execute("SET preserve_insertion_order = false")  # lets DuckDB stream and spill, not buffer
    # Parquet: a view, so that each pass reads only the columns it needs (projection pushdown);
    # CSV: a table, so that the text is parsed once.
    what = "VIEW" if kind == "parquet" else "TABLE"
    con.execute(
        f"CREATE TEMP {what} enrollments AS SELECT *, {', '.join(days)} FROM (SELECT {', '.join(select)} FROM {source})"
    )
    return con.table("enrollments")


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _day_sql(field: str, timezone: str) -> str:
    """Days since 1970-01-01 of the timestamp's calendar date in ``timezone``, as DuckDB SQL."""
    if timezone == "UTC":
        return f"CAST(floor(epoch_ms({field}) / {DAY_MS}) AS BIGINT)"
    return f"date_diff('day', DATE '1970-01-01', CAST(timezone('{timezone}', {field}) AS DATE))"


UNUSED = ("contact_email", "company_id")  # not needed for scores


def _duckdb_column(original: str, canonical: str, kind: str) -> str:
    column = '"' + original.replace('"', '""') + '"'
    if canonical in schema.TIMESTAMP_COLUMNS:
        if kind.startswith("TIMESTAMP"):  # typed (Parquet); naive ones are in the session's zone
            return f"CAST({column} AS TIMESTAMPTZ) AS {canonical}"
        return (
            f"CASE WHEN regexp_full_match({column}, '-?[0-9]{{12,13}}') "
            f"THEN to_timestamp(CAST({column} AS BIGINT) / 1000.0) "
            f"ELSE TRY_CAST({column} AS TIMESTAMPTZ) END AS {canonical}"
        )
    if canonical in schema.COUNT_COLUMNS:
        if "INT" in kind:
            return f"CAST({column} AS BIGINT) AS {canonical}"
        return f"TRY_CAST(NULLIF(TRIM({column}), '') AS BIGINT) AS {canonical}"
    if kind == "VARCHAR":
        return f"NULLIF(TRIM({column}), '') AS {canonical}"
    return f"CAST({column} AS VARCHAR) AS {canonical}"


def polars_frame(path: Path, policy: Policy) -> Any:
    """A polars LazyFrame with canonical columns (Parquet files)."""
    import polars as pl

    if file_kind(path) != "parquet":
        raise InputError(f"{path}: the polars engine reads Parquet; use --engine duckdb for CSV.")
    frame = pl.scan_parquet(path)
    mapping = _columns(frame.collect_schema().names(), str(path))
    return frame.select([pl.col(o).alias(c) for o, c in mapping.items()])


def enum_problems(combos: pd.DataFrame) -> dict[str, int]:
    """Rows with a value outside the allowed ones, counted on the small table of distinct
    (state, unenrolled_source, step_error_type) combinations with their row counts."""
    found = {}
    for column, allowed in schema.ENUMS.items():
        if column not in combos:
            continue
        value = combos[column].fillna("").astype(str).str.strip().str.upper()
        bad = ~value.isin(allowed) & ((value != "") | (column == "state"))
        reason = (
            "state is not one of " + ", ".join(schema.STATES)
            if column == "state"
            else f"{column} is not an allowed value"
        )
        found[reason] = int(combos.loc[bad, "rows"].sum())
    return found


def row_checks(columns: list[str], spell: Spellings) -> dict[str, nw.Expr]:
    """Reason -> expression true on rows that fail it (the same checks as the pandas path)."""
    ended = is_value("state", schema.ENDED_STATES, spell)
    checks = {f"{c} is empty": nw.col(c).is_null() for c in schema.ID_COLUMNS}
    checks["state is not one of " + ", ".join(schema.STATES)] = ~is_value("state", schema.STATES, spell)
    checks["enrolled_at is empty or not a timestamp"] = nw.col("enrolled_at").is_null()
    if "ended_at" in columns:
        checks["ended_at is empty or not a timestamp on an ended enrollment"] = ended & nw.col("ended_at").is_null()
        checks["ended_at is before enrolled_at"] = (nw.col("ended_at") < nw.col("enrolled_at")).fill_null(False)
    for column in ("unenrolled_source", "step_error_type"):
        if column in columns:
            allowed = is_value(column, [*schema.ENUMS[column], ""], spell) | nw.col(column).is_null()
            checks[f"{column} is not an allowed value"] = ~allowed
    for column in schema.COUNT_COLUMNS:
        if column in columns:
            checks[f"{column} is negative"] = (nw.col(column) < 0).fill_null(False)
    return checks


def scan_cube(
    path: str | Path,
    *,
    engine: str,
    date_field: str = "ended_at",
    policy: Policy | str | None = None,
    on_bad_rows: str = "error",
) -> tuple[Cube, LoadReport]:
    """Read ``path`` with DuckDB or polars, check every row, and build the cube.

    The usual file is clean: its checks, the duplicate check, the cube and the names run as
    one batch (polars plans them over a single scan); only a file with bad or repeated rows
    pays a second pass, over the rows that survive.
    """
    policy = load_policy(policy)
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file. Check the path (relative to {Path.cwd()}).")
    if date_field not in ("ended_at", "enrolled_at"):
        raise InputError(f"date_field {date_field!r}: expected 'ended_at' or 'enrolled_at'.")
    native = duckdb_frame(path, policy) if engine == "duckdb" else polars_frame(path, policy)
    frame = nw.from_native(native)
    combos, spell = spellings(native)
    by_value = enum_problems(combos)  # counted on the small table already
    checks = {r: e for r, e in row_checks(list(frame.columns), spell).items() if r not in by_value}
    counted = frame.select(
        nw.len().alias("_rows"),
        nw.col("enrollment_id").n_unique().alias("_ids"),
        *[e.cast(summed(frame)).sum().alias(r) for r, e in checks.items()],
    )
    cube, (totals,) = cube_batch(frame, spell, date_field=date_field, timezone=policy.timezone, extra=(counted,))
    totals = totals.iloc[0]
    found = {r: int(n) for r, n in {**by_value, **totals.drop(["_rows", "_ids"]).to_dict()}.items() if n}
    rows, ids = int(totals["_rows"]), int(totals["_ids"])
    if not found and ids == rows:  # the usual case: one batch did everything
        return cube, LoadReport(str(path), rows, rows, 0, 0, {}, [], where="row")
    return _second_pass(path, frame, spell, found, rows, date_field, policy, on_bad_rows)


def _second_pass(path, frame, spell, found, rows, date_field, policy, on_bad_rows) -> tuple[Cube, LoadReport]:
    """Bad rows rejected (or reported), identical repeats collapsed, then the cube again."""
    bad_any = nw.any_horizontal(*row_checks(list(frame.columns), spell).values(), ignore_nulls=True)
    rejected = _count(frame.filter(bad_any)) if found else 0
    if found and on_bad_rows == "error":
        lines = "\n".join(f"  {n:,} row(s): {reason}" for reason, n in found.items())
        raise InputError(
            f"{path}: {rejected:,} bad row(s)\n{lines}\nRun `senderscore validate {path}` "
            "for each row's line and value, or pass --on-bad-rows skip."
        )
    good = frame.filter(~bad_any) if rejected else frame
    used = rows - rejected
    distinct_ids = _count(good.select("enrollment_id").unique())
    unique = good
    if distinct_ids != used:  # identical repeats collapse; anything left over is a conflict
        unique = good.unique()
        used = _count(unique)
    if distinct_ids != used:
        raise InputError(
            f"{path}: {used - distinct_ids:,} enrollment_id(s) repeat with different content; "
            f"run `senderscore validate {path}` to see them."
        )
    report = LoadReport(str(path), rows, used, rejected, rows - rejected - used, {}, [], where="row")
    return cube_from_frame(unique.to_native(), date_field=date_field, policy=policy), report


def _count(frame: Any) -> int:
    result = frame.select(nw.len())
    result = result.collect() if isinstance(result, nw.LazyFrame) else result
    return int(result.item())
