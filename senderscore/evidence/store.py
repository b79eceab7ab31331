"""Computing an intermediate frame once on its engine, for the several group-bys that read it."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import narwhals as nw

from ..load.passes import polars_bounds


class Store:
    """Materializes lazy narwhals frames where they live: in memory for data already in
    memory (polars), a DuckDB table on the dataset's connection (spilled past its memory
    limit), a temporary Parquet file for a polars scan of a file (out of core), Spark's cache.

    ``connection`` is the DuckDB connection behind a DuckDB dataset; the store keeps it, and
    its temporary folder, alive as long as the store itself.
    """

    def __init__(self, connection: Any = None) -> None:
        self.connection = connection
        self._names = itertools.count(1)
        self._folder: tempfile.TemporaryDirectory | None = None
        self._out_of_core: bool | None = None

    def __call__(self, frame: Any) -> Any:
        native = frame.to_native()
        implementation = frame.implementation
        if implementation is nw.Implementation.DUCKDB and self.connection is not None:
            name = f"evidence_{next(self._names)}"
            native.create(name)
            return nw.from_native(self.connection.table(name))
        if implementation is nw.Implementation.POLARS:
            if self._out_of_core is None:  # decided once, on the first frame: the dataset's source
                self._out_of_core = _scans_a_file(native)
            if not self._out_of_core:
                return nw.from_native(native.collect().lazy())
            import polars as pl

            self._folder = self._folder or tempfile.TemporaryDirectory(prefix="senderscore-evidence-")
            path = Path(self._folder.name) / f"{next(self._names)}.parquet"
            with polars_bounds():  # batches and row groups ahead as every other scan: the same memory
                native.sink_parquet(path, compression="lz4")  # temporary: as quick to write as no compression
            return nw.from_native(pl.scan_parquet(path))
        if implementation is nw.Implementation.PYSPARK:
            return nw.from_native(native.cache())
        return frame


def _scans_a_file(lazy: Any) -> bool:
    """Whether a polars plan reads a file (out of core) rather than frames in memory."""
    return " SCAN [" in lazy.explain(optimized=False).upper()
