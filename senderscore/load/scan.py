"""Sources -> one lazy narwhals frame of raw canonical columns plus ``_row``, on any engine.

``pandas`` reads the file in Python (exact line numbers through quoted newlines; XLSX; any
DataFrame) and hands the rows to in-memory polars; ``duckdb`` and ``polars`` scan the file
themselves, out of core; a Spark DataFrame stays in Spark. What happens next (row checks,
typed columns, the cube) is the same query on all of them.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import narwhals as nw
import pandas as pd

from ..errors import InputError, Problem
from ..extras import require
from .read import (
    RawTable,
    binary_text,
    checked_kind,
    data_bytes,
    file_kind,
    from_frame,
    map_columns,
    read_source,
    sniff_delimiter,
)

ENGINES = ("auto", "pandas", "duckdb", "polars")
DUCKDB_MEMORY = "1GB"
AUTO_BYTES = 100 * 1024 * 1024  # files larger than this leave pandas under --engine auto
FUSE_BYTES = 64 * 1024 * 1024  # CSV data from which DuckDB's riders share the checking pass's scan
ROW = "_row"


@dataclass
class Dataset:
    """Raw canonical columns and ``_row`` (the row's line or row number), lazily, on one engine."""

    frame: Any  # a narwhals LazyFrame
    source: str
    where: str
    mapping: dict[str, str]
    ignored: list[str]
    engine: str
    read_problems: list[Problem] = field(default_factory=list)
    read_rejects: list[dict] = field(default_factory=list)
    keep: Any = None  # the DuckDB connection behind ``frame``, alive as long as the dataset
    # Whether riders run in the checking pass's scan (senderscore.load.passes): where reading and
    # typing the rows costs more than planning the shared statement, DuckDB on CSV from FUSE_BYTES
    # on. On Parquet the separate passes measured as fast, with less memory (benchmarks/README.md).
    fuse: bool = False


def pick_engine(source: object, engine: str = "auto", *, verbose: bool = False, threshold: int | None = None) -> str:
    """The engine to use. ``auto`` picks what measured fastest for the format and size (see
    benchmarks/README.md, "auto"): polars for Parquet at any size (as fast as pandas on small
    files, faster and with half the memory on large ones); for CSV, pandas up to 100 MB of data
    (exact line numbers through quoted newlines, as fast) and polars above (out of core);
    DuckDB for ``.csv.gz`` over 100 MB uncompressed (gzip streamed) and for large CSV with lone
    carriage-return line ends (polars splits lines at newlines only). ``verbose`` says why."""
    if engine not in ENGINES:
        raise InputError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}.")
    if engine != "auto":
        return engine
    path = Path(str(source))
    engine, why = _auto(path, AUTO_BYTES if threshold is None else threshold)
    if verbose:
        print(f"senderscore: engine auto -> {engine} ({why})", file=sys.stderr)
    return engine


def _auto(path: Path, limit: int) -> tuple[str, str]:
    kind = file_kind(path) if path.is_file() else ""
    if kind == "parquet":
        return "polars", "Parquet: polars scans it fastest at every size measured"
    if kind not in ("csv", "csv.gz"):
        return "pandas", f"{kind or 'not a file'}: read in Python"
    size = data_bytes(path, limit=limit)
    if size <= limit:
        return "pandas", f"{_size(size)} of CSV, up to {_size(limit)}: exact line numbers, as fast"
    if kind == "csv.gz":  # counted only up to the limit
        return "duckdb", f"over {_size(limit)} of CSV inside the gzip: DuckDB streams it"
    if _lone_cr(path):
        return "duckdb", f"{_size(size)} of CSV with lone-CR line ends, which polars cannot split"
    return "polars", f"{_size(size)} of CSV: out of core, fastest on large CSV"


def _size(count: int) -> str:
    return f"{count / 1e6:.0f} MB" if count >= 1e6 else f"{count / 1e3:.0f} kB"


def duckdb_connection() -> Any:
    """A DuckDB connection pinned to UTC (the timestamp rule does its own zone arithmetic) that
    spills to a temporary folder past 1 GB instead of growing."""
    require("scale", "the DuckDB engine")
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # senderscore reports progress itself; DuckDB's bar garbles stderr
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    con.execute(f"SET temp_directory = '{sql_text(str(Path(tempfile.gettempdir()) / 'senderscore-duckdb'))}'")
    return con


def _cast(name: str, binary: list[str]) -> str:
    """A column as selected: bytes columns (checked UTF-8) decoded to text."""
    return f"decode({_quoted(name)})" if name in binary else _quoted(name)


def sql_text(text: str) -> str:
    return text.replace("'", "''")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_source(source: object, *, engine: str = "pandas", encoding: str = "utf-8") -> Dataset:
    """The raw canonical columns of ``source`` (path, pandas/polars/Spark DataFrame) on ``engine``."""
    if isinstance(source, pd.DataFrame):
        return _from_raw(from_frame(source), "pandas")
    if not isinstance(source, str | Path):
        return _from_native(source)
    path = Path(source)
    kind = checked_kind(path)
    if engine == "pandas" or kind == "xlsx":  # XLSX: openpyxl reads it whatever the engine
        return _from_raw(read_source(path, encoding=encoding), engine if kind == "xlsx" else "pandas")
    if engine == "duckdb":
        return _duckdb_file(path, kind)
    if kind not in ("parquet", "csv"):
        raise InputError(f"{path}: the polars engine reads .parquet and .csv; use --engine duckdb for {kind}.")
    return _polars_file(path, kind, encoding)


def _text_cells(values: pd.Series) -> pd.Series:
    """Mixed cells (spreadsheets, object columns) as text: datetimes in ISO form, blanks as None."""

    def text(value: object) -> object:
        if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
            return None
        if isinstance(value, dt.datetime | pd.Timestamp | dt.date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return values.map(text).astype(object)


def _from_raw(raw: RawTable, engine: str) -> Dataset:
    """Rows read in Python -> an in-memory polars frame (through Arrow, no copy of text columns):
    polars plans the checks in milliseconds, where DuckDB binds each stage for tens of them."""
    import polars as pl
    import pyarrow as pa

    names = [str(c) for c in raw.frame.columns]
    mapping = map_columns(names, raw.source)
    positions = [names.index(original) for original in mapping]
    frame = raw.frame.iloc[:, positions].set_axis(list(mapping.values()), axis=1)
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = _text_cells(frame[column])
    frame[ROW] = raw.rows
    try:
        table = pl.from_arrow(pa.Table.from_pandas(frame, preserve_index=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"{raw.source}: a column mixes kinds of values that cannot be read ({exc}).") from None
    ignored = [c for c in names if c not in mapping]
    return Dataset(
        nw.from_native(table.lazy()), raw.source, raw.where, mapping, ignored, engine, raw.bad_rows, raw.bad_raw
    )


def _duckdb_file(path: Path, kind: str) -> Dataset:
    con = duckdb_connection()  # first: it names the extra when DuckDB is not installed
    import duckdb

    try:
        if kind == "parquet":
            source = f"read_parquet('{sql_text(str(path))}', file_row_number = true)"
            row = "file_row_number + 1"
        else:
            source, row = _csv_reader(con, path), "row_number() OVER ()"
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        names = [n for n in names if not (kind == "parquet" and n == "file_row_number")]
        mapping = map_columns(names, str(path))
        binary = binary_text(path, list(mapping)) if kind == "parquet" else []
        select = ", ".join(f"{_cast(o, binary)} AS {_quoted(c)}" for o, c in mapping.items())
        # A view: each pass reads only the columns it needs.
        con.execute(f"CREATE TEMP VIEW enrollments AS SELECT {select}, {row} AS {ROW} FROM {source}")
    except duckdb.Error as exc:
        raise InputError(
            f"{path}: DuckDB cannot read it ({str(exc).splitlines()[0]}). "
            "Run `senderscore validate` on it for each line's problem."
        ) from None
    if kind == "parquet":  # a CSV's rows stay in file order, which numbers them
        con.execute("SET preserve_insertion_order = false")  # lets later passes stream and spill
    ignored = [c for c in names if c not in mapping]
    frame = nw.from_native(con.table("enrollments"))
    fuse = kind != "parquet" and data_bytes(path, limit=FUSE_BYTES) >= FUSE_BYTES
    return Dataset(frame, str(path), "row", mapping, ignored, "duckdb", keep=con, fuse=fuse)


def _csv_reader(con: Any, path: Path) -> str:
    """``read_csv(...)`` with the dialect DuckDB's sniffer finds, written out: every later bind
    of the view (one per pass and per narwhals stage) then skips sniffing the file again."""
    prompt = con.execute(
        f"SELECT Prompt FROM sniff_csv('{sql_text(str(path))}', header = true, all_varchar = true)"
    ).fetchone()[0]
    return prompt.strip().removeprefix("FROM ").removesuffix(";")


def _polars_file(path: Path, kind: str, encoding: str) -> Dataset:
    import polars as pl

    if kind == "csv" and _lone_cr(path):  # polars splits lines at \n only
        raise InputError(
            f"{path}: lines end with a lone carriage return (old Mac style), which the polars engine "
            "cannot split; use --engine duckdb or --engine pandas (both read it), or save it with \\n endings."
        )
    try:
        if kind == "parquet":
            frame = pl.scan_parquet(path, row_index_name=ROW, row_index_offset=1)
        else:
            separator = sniff_delimiter(_head(path).decode("utf-8-sig", errors="replace"))
            frame = pl.scan_csv(
                path, separator=separator, infer_schema=False, row_index_name=ROW, row_index_offset=1, encoding="utf8"
            )
        names = [n for n in frame.collect_schema().names() if n != ROW]
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{path}: polars cannot read it ({str(exc).splitlines()[0]}).") from None
    mapping = map_columns(names, str(path))
    binary = binary_text(path, list(mapping)) if kind == "parquet" else []
    select = [(pl.col(o).cast(pl.String) if o in binary else pl.col(o)).alias(c) for o, c in mapping.items()]
    select.append(pl.col(ROW).cast(pl.Int64))
    ignored = [c for c in names if c not in mapping]
    return Dataset(nw.from_native(frame.select(select)), str(path), "row", mapping, ignored, "polars")


def _head(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read(1 << 16)


def _lone_cr(path: Path) -> bool:
    """Whether a plain CSV's lines end with a lone carriage return (judged on its first 64 KB)."""
    if file_kind(path) != "csv":
        return False
    head = _head(path)
    return b"\r" in head and b"\n" not in head


def _from_native(native: Any) -> Dataset:
    """A polars or Spark DataFrame given through the API; Spark numbers rows by its own ids."""
    module = type(native).__module__.split(".")[0]
    name = type(native).__name__
    if module == "polars":
        import polars as pl

        lazy = native.lazy().with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    elif module == "pyspark":
        from pyspark.sql import functions

        lazy = native.withColumn(ROW, functions.monotonically_increasing_id() + 1)
    else:
        raise InputError(f"source {name!r}: expected a file path, or a pandas, polars or Spark DataFrame.")
    frame = nw.from_native(lazy)
    names = [n for n in frame.collect_schema().names() if n != ROW]
    mapping = map_columns(names, name)
    frame = frame.select(*[nw.col(o).alias(c) for o, c in mapping.items()], nw.col(ROW))
    ignored = [c for c in names if c not in mapping]
    return Dataset(frame, name, "row", mapping, ignored, module)
