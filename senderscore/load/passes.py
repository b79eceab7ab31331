"""How a query over the rows runs: alone (:func:`collect`), or with others in one scan
(:func:`collect_together`).

Every pass over a CSV file reads and types its rows again, and on DuckDB that costs more than
the question asked of them. So the checking pass takes other queries along (a :class:`Rider`:
the daily cube, the names): DuckDB evaluates them from one read of a CSV file, fanned out to
each query (a materialized common table expression, which DuckDB streams to its consumers
instead of storing). Elsewhere they run one after another, where the caller needs them: a
Parquet file is cheap to read again (DuckDB's separate passes measured as fast, with less
memory), and polars shares a scan only by holding every query's state at once, which measured
twice the memory (see benchmarks/README.md).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import pandas as pd

from .scan import DUCKDB_MEMORY

POLARS_BOUNDS = {"POLARS_IDEAL_MORSEL_SIZE": "25000", "POLARS_ROW_GROUP_PREFETCH_SIZE": "1"}
"""How polars' streaming engine runs our scans, unless the environment says otherwise: batches
of 25,000 rows (our checks make each row wide) and one Parquet row group decoded ahead (a
row group is often a million rows). Peak memory at 10M rows falls by about a third for a few
per cent of time: see benchmarks/README.md."""
CHECKING_BOUNDS = {**POLARS_BOUNDS, "POLARS_ROW_GROUP_PREFETCH_SIZE": "2"}
"""The checking pass's bounds: two row groups decoded ahead. Its aggregates hold almost nothing,
so the second row group keeps both cores busy for a peak no higher than the daily cube's; see
benchmarks/README.md."""

PART = "__part"
BATCH_ROWS = 100_000  # rows of the stacked result converted at a time
TOGETHER_MEMORY = "600MB"
"""DuckDB's memory limit while it answers several queries from one scan: their hash tables (the
distinct ids, the cube's groups) sit side by side, and the process around DuckDB needs about
0.3 GB more, so that 10M rows peak under 1 GB of RSS (see benchmarks/README.md)."""
_names = itertools.count(1)


@dataclass(frozen=True)
class Rider:
    """A query that rides along the checking pass: ``build`` turns typed rows (a lazy frame
    with the ``__t_`` columns) into a lazy query; its result is kept under ``key`` when the
    pass finds every row clean (then the checked rows are exactly the rows it must see)."""

    key: str
    build: Callable[[Any], Any]


@contextmanager
def polars_bounds(bounds: Mapping[str, str] = POLARS_BOUNDS) -> Iterator[None]:
    """``bounds`` in the environment for one query (polars reads it per query); a value the
    user set stays, and the environment is as it was afterwards."""
    added = {k: v for k, v in bounds.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def collect(query: Any, bounds: Mapping[str, str] = POLARS_BOUNDS) -> pd.DataFrame:
    """Run a narwhals query and hand back pandas. polars runs it on its streaming engine, which
    reads in batches on every core (faster on these scans, see benchmarks/), within
    ``bounds`` (:data:`POLARS_BOUNDS`)."""
    if isinstance(query, nw.LazyFrame):
        if query.implementation is nw.Implementation.POLARS:
            query = nw.from_native(collect_polars(query, bounds))
        else:
            query = query.collect()
    return query.to_pandas()


def collect_polars(query: Any, bounds: Mapping[str, str] = POLARS_BOUNDS) -> Any:
    """A narwhals query over polars as a native polars frame, from its streaming engine within
    ``bounds`` (:func:`collect` without the conversion to pandas). Collected through narwhals,
    so that polars' errors on a file it cannot read arrive as ``NarwhalsError``."""
    with polars_bounds(bounds):
        return query.collect(engine="streaming").to_native()


def shares_scans(frame: Any) -> bool:
    """Whether :func:`collect_together` answers several queries over ``frame`` from one scan."""
    return frame.implementation is nw.Implementation.DUCKDB


def collect_together(frame: Any, builds: Sequence[Callable[[Any], Any]], connection: Any = None) -> list[pd.DataFrame]:
    """``[collect(build(frame)) for build in builds]``, from one scan of ``frame`` where the
    engine shares one (:func:`shares_scans`, given the DuckDB ``connection`` behind it)."""
    if not shares_scans(frame) or connection is None or len(builds) < 2:
        return [collect(build(frame)) for build in builds]
    return _duckdb_together(frame, builds, connection)


def _duckdb_together(frame: Any, builds: Sequence[Callable[[Any], Any]], con: Any) -> list[pd.DataFrame]:
    """One DuckDB statement: ``frame`` as a materialized common table expression that each
    query reads, the results stacked by name with a part number. Each query is built over a
    view of the same name, which the expression shadows; its columns are renamed ``<part>:<name>``
    so that no two queries' columns meet (each keeps its own type)."""
    number = next(_names)
    source, shared = f"__together_source_{number}", f"__together_{number}"
    con.execute(f"CREATE TEMP VIEW {source} AS {frame.to_native().sql_query()}")
    try:
        con.execute(f"CREATE TEMP VIEW {shared} AS SELECT * FROM {source}")
        queries = [build(nw.from_native(con.table(shared))) for build in builds]
        columns = [q.collect_schema().names() for q in queries]
        parts = [
            f"SELECT {i} AS {PART}, " + ", ".join(f'"{c}" AS "{i}:{c}"' for c in names)
            + f" FROM ({q.to_native().sql_query()})"
            for i, (q, names) in enumerate(zip(queries, columns, strict=True))
        ]  # fmt: skip
        sql = f"WITH {shared} AS MATERIALIZED (SELECT * FROM {source}) " + " UNION ALL BY NAME ".join(parts)
        con.execute(f"SET memory_limit = '{TOGETHER_MEMORY}'")
        try:
            batches = _split(con.sql(sql).to_arrow_reader(BATCH_ROWS), columns)
        finally:
            con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")  # what duckdb_connection set
    finally:
        con.execute(f"DROP VIEW IF EXISTS {shared}")
        con.execute(f"DROP VIEW IF EXISTS {source}")
    return [nw.from_native(table).to_pandas() for table in batches]


def _split(reader: Any, columns: list[list[str]]) -> list[Any]:
    """The stacked result, batch by batch, as one Arrow table per query with its own columns: the
    whole stack (every query's columns on every row, mostly nulls) is never held at once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces: list[list[Any]] = [[] for _ in columns]
    for batch in reader:
        for number, names in enumerate(columns):
            rows = batch.filter(pc.equal(batch.column(PART), number))
            if rows.num_rows:
                pieces[number].append(pa.Table.from_batches([rows]).select([f"{number}:{c}" for c in names]))
    schema = reader.schema
    tables = []
    for number, names in enumerate(columns):
        own = pa.schema([schema.field(f"{number}:{c}") for c in names])
        table = pa.concat_tables(pieces[number]) if pieces[number] else own.empty_table()
        tables.append(table.rename_columns(names))
    return tables
