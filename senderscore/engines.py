"""One cube build for several engines, written once with narwhals.

pandas (the default for DataFrames and small files), DuckDB (out of core, reads the file
itself), polars, and PySpark DataFrames all run :func:`cube_counts`, the same expressions
as :func:`senderscore.cube.enrollment_flags`, and hand back the small cube as pandas.

Pitfalls avoided on purpose (each measured): timestamps become calendar days by integer
arithmetic on epoch milliseconds in UTC (time-zone functions cost DuckDB seconds at 10M
rows); sums are plain columns cast afterwards (a cast inside an aggregation sent pandas
into a per-group Python loop; DuckDB returns 128-bit sums); sessions are pinned to UTC.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import pandas as pd

from . import schema
from .cube import COUNTS, ENGAGEMENT, Cube
from .errors import InputError
from .policy import Policy, load_policy

DAY_MS = 86_400_000
DAY_SUFFIX = "_day"  # a reader may supply <date_field>_day: days since 1970 in the report zone
KEYS = ["user_id", "sequence_id", "day"]


def _upper(name: str) -> nw.Expr:
    return nw.col(name).cast(nw.String).fill_null("").str.to_uppercase()


def flag_columns(columns: list[str]) -> dict[str, nw.Expr]:
    """The definitions as narwhals expressions (mirrors :func:`enrollment_flags`)."""
    state = _upper("state")
    source = _upper("unenrolled_source") if "unenrolled_source" in columns else nw.lit("")
    error = _upper("step_error_type") if "step_error_type" in columns else nw.lit("")
    replies = nw.col("reply_count").fill_null(0) > 0 if "reply_count" in columns else nw.lit(False)
    ended = state.is_in(list(schema.ENDED_STATES))
    bounced = ended & (source == "ERROR") & (error == "BOUNCED")
    replied = ended & ~bounced & (replies | source.is_in(["REPLY", "THREAD_REPLY"]))
    account = ended & ~bounced & ~replied & (source == "ACCOUNT_REPLY")
    return {
        "ended": ended,
        "bounced": bounced,
        "replied": replied,
        "account_replied": account,
        "unsubscribed": ended & (error == "UNSUBSCRIBED"),
    }


def _day(column: nw.Expr, timezone: str, implementation: nw.Implementation) -> nw.Expr:
    """Calendar day of a timestamp in ``timezone``: days since 1970 where the engine has epoch
    arithmetic, else the timestamp truncated to its day (DuckDB, its session pinned to UTC)."""
    if timezone != "UTC":  # local calendar days need the zone's rules; slower, so only when asked for
        column = column.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    if implementation in (
        nw.Implementation.DUCKDB,
        nw.Implementation.PYSPARK,
        nw.Implementation.PYSPARK_CONNECT,
        nw.Implementation.SQLFRAME,
    ):
        return column.dt.truncate("1d")
    return column.dt.timestamp("ms") // DAY_MS


def cube_counts(native: Any, *, date_field: str = "ended_at", timezone: str = "UTC") -> pd.DataFrame:
    """Daily counts (user x sequence x day) from any narwhals-supported frame with canonical
    columns and timestamp columns; returns the pandas table :class:`Cube` holds."""
    frame = nw.from_native(native)
    columns = list(frame.columns)
    flags = flag_columns(columns)
    engagement = [c for c in ENGAGEMENT if c in columns]
    if f"{date_field}{DAY_SUFFIX}" in columns:
        day = nw.col(f"{date_field}{DAY_SUFFIX}")
    else:
        day = _day(nw.col(date_field), timezone, frame.implementation)
    selected = frame.filter(flags["ended"]).select(
        nw.col("user_id").cast(nw.String),
        nw.col("sequence_id").cast(nw.String),
        day.alias("day"),
        *[flags[c].cast(nw.Int64).alias(c) for c in COUNTS],
        *[nw.col(c).fill_null(0).cast(nw.Int64).alias(c) for c in engagement],
    )
    grouped = selected.group_by(KEYS).agg(*[nw.col(c).sum() for c in (*COUNTS, *engagement)])
    if isinstance(grouped, nw.LazyFrame):
        grouped = grouped.collect()
    out = grouped.to_pandas()
    for column in (*COUNTS, *engagement):
        out[column] = out[column].astype("int64")  # DuckDB sums are 128-bit
    out["user_id"] = out["user_id"].astype(str)
    out["sequence_id"] = out["sequence_id"].astype(str)
    if pd.api.types.is_numeric_dtype(out["day"].dtype):
        out["day"] = pd.to_datetime(out["day"].astype("int64"), unit="D")
    else:  # truncated timestamps: keep the calendar date, drop any zone
        day = pd.to_datetime(out["day"])
        out["day"] = day.dt.tz_localize(None) if day.dt.tz is not None else day
    out["day"] = out["day"].astype("datetime64[ns]")
    return out.sort_values(KEYS, kind="stable").reset_index(drop=True)[[*KEYS, *COUNTS, *engagement]]


def names(native: Any, key: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """Display names per id (one row per id; the maximum non-blank name, deterministic)."""
    frame = nw.from_native(native)
    present = [c for c in columns if c in frame.columns]
    exprs = [nw.col(c).cast(nw.String).fill_null("").max().alias(c) for c in present]
    table = (
        frame.select(nw.col(key).cast(nw.String), *[nw.col(c) for c in present]).group_by(key).agg(*exprs)
        if present
        else frame.select(nw.col(key).cast(nw.String)).unique()
    )
    if isinstance(table, nw.LazyFrame):
        table = table.collect()
    return table.to_pandas().sort_values(key, kind="stable").reset_index(drop=True)


def cube_from_frame(native: Any, *, date_field: str = "ended_at", policy: Policy | str | None = None) -> Cube:
    """A :class:`Cube` from a DuckDB relation, polars or PySpark frame with canonical columns."""
    if date_field not in ("ended_at", "enrolled_at"):
        raise InputError(f"date_field {date_field!r}: expected 'ended_at' or 'enrolled_at'.")
    zone = load_policy(policy).timezone
    counts = cube_counts(native, date_field=date_field, timezone=zone)
    return Cube(
        counts,
        names(native, "user_id", ("user_name", "user_email", "team")),
        names(native, "sequence_id", ("sequence_name",)),
        date_field,
        zone,
    )
