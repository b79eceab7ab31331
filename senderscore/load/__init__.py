"""Load enrollments from a file or DataFrame on any engine: read, check, account for every row.

:func:`open_dataset` is the one engine switch: it reads ``source`` on the chosen engine and
runs the one table of row checks (:mod:`.rules`) there. :func:`load_enrollments` hands the
clean rows to pandas; :func:`senderscore.cube.cube_of` builds the cube where they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import narwhals as nw
import pandas as pd

from .. import schema
from ..errors import InputError, Problem, problems_message
from ..policy import Policy, check_timezone, load_policy
from .passes import Rider, collect
from .rules import TYPED
from .scan import ENGINES, ROW, open_source, pick_engine
from .validate import Validated, validate

__all__ = [
    "ENGINES",
    "LoadReport",
    "Loaded",
    "Rider",
    "load_enrollments",
    "open_dataset",
    "pick_engine",
    "to_pandas",
]


@dataclass
class LoadReport:
    """What happened to every input row: rows_read = rows_used + rows_rejected + duplicates_collapsed."""

    source: str
    rows_read: int
    rows_used: int
    rows_rejected: int
    duplicates_collapsed: int
    columns: dict[str, str]
    ignored_columns: list[str]
    problems: list[Problem] = field(default_factory=list)
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)
    where: str = "line"
    engine: str = "pandas"
    problem_counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: rows read, used, rejected, collapsed."""
        return (
            f"{self.source}: {self.rows_read:,} rows read, {self.rows_used:,} used, "
            f"{self.rows_rejected:,} rejected, {self.duplicates_collapsed:,} identical duplicates collapsed"
        )

    def to_dict(self) -> dict:
        keys = ("source", "rows_read", "rows_used", "rows_rejected", "duplicates_collapsed")
        return {k: getattr(self, k) for k in keys}


class Loaded(NamedTuple):
    """The result of :func:`load_enrollments`: unpack as ``enrollments, report = ...``."""

    enrollments: pd.DataFrame
    report: LoadReport


@dataclass
class Opened:
    """A checked dataset on its engine: ``rows`` (lazy typed ``__t_`` columns) and the report."""

    rows: Any
    report: LoadReport
    validated: Validated

    @property
    def zone(self) -> str:
        return self.validated.span.zone

    @property
    def ridden(self) -> dict[str, pd.DataFrame]:
        """The results of the riders that ran in the checking pass (see :func:`open_dataset`)."""
        return self.validated.ridden


def open_dataset(
    source: str | Path | Any,
    *,
    engine: str = "auto",
    on_bad_rows: Literal["error", "skip"] = "error",
    policy: Policy | str | Path | None = None,
    timezone: str | None = None,
    encoding: str = "utf-8",
    threshold: int | None = None,
    verbose: bool = False,
    riders: Sequence[Rider] = (),
) -> Opened:
    """Read ``source`` on ``engine`` and check every row there (see :func:`load_enrollments`).

    ``engine``: ``pandas`` reads in Python (exact line numbers) and checks in an in-memory
    polars frame; ``duckdb`` and ``polars`` scan the file out of core; ``auto`` picks by size
    (:func:`pick_engine`). polars and Spark DataFrames are checked where they are.
    ``riders`` are queries over the typed rows (the daily cube, the names) that the engine may
    answer from the checking pass's own scan (:mod:`.passes`); ``Opened.ridden`` holds those
    it answered, the others are for the caller to run on ``Opened.rows``.
    """
    if on_bad_rows not in ("error", "skip"):
        raise InputError(f"on_bad_rows {on_bad_rows!r}: expected 'error' or 'skip'.")
    zone = check_timezone(timezone or load_policy(policy).timezone)
    if isinstance(source, str | Path):
        engine = pick_engine(source, engine, verbose=verbose, threshold=threshold)
    elif engine not in ENGINES:
        raise InputError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}.")
    dataset = open_source(source, engine=engine, encoding=encoding)
    try:
        checked = validate(dataset, zone, on_bad_rows, riders)
    except nw.exceptions.NarwhalsError as exc:  # the engine's reader gave up on the file itself
        raise InputError(
            f"{dataset.source}: the {dataset.engine} engine cannot read it ({str(exc).splitlines()[0]}). "
            "Run `senderscore validate` on it for each line's problem, or use --engine pandas."
        ) from None
    if checked.problems and on_bad_rows == "error":
        raise InputError(problems_message(dataset.source, checked.problems, dataset.where, checked.counts))
    report = LoadReport(
        source=dataset.source,
        rows_read=checked.rows_read,
        rows_used=checked.rows_used,
        rows_rejected=checked.rows_rejected,
        duplicates_collapsed=checked.collapsed,
        columns=dataset.mapping,
        ignored_columns=dataset.ignored,
        problems=checked.problems,
        rejects=checked.rejects,
        where=dataset.where,
        engine=dataset.engine,
        problem_counts=checked.counts,
    )
    if not report.rows_used:
        raise InputError(
            f"{dataset.source}: no usable rows ({report.rows_rejected:,} rejected); "
            "run `senderscore validate` on it to see why."
        )
    return Opened(checked.frame, report, checked)


def load_enrollments(
    source: str | Path | pd.DataFrame,
    *,
    on_bad_rows: Literal["error", "skip"] = "error",
    policy: Policy | str | Path | None = None,
    timezone: str | None = None,
    encoding: str = "utf-8",
    engine: str = "pandas",
) -> Loaded:
    """Read and validate sequence enrollments into pandas.

    Parameters
    ----------
    source : path or DataFrame
        ``.csv`` (UTF-8, comma or semicolon), ``.csv.gz``, ``.parquet``, ``.xlsx``, or a
        pandas, polars or Spark DataFrame. Columns may use canonical names, HubSpot property
        names or export labels.
    on_bad_rows : {"error", "skip"}
        ``"error"`` (default) raises :class:`InputError` listing the first 20 problems;
        ``"skip"`` drops bad rows and returns them in ``report.rejects`` with a reason.
    policy : Policy or path, optional
        Supplies the time zone for timestamps written without an offset.
    timezone : str, optional
        Overrides the policy's time zone.
    encoding : str
        Text encoding of CSV files.
    engine : {"pandas", "duckdb", "polars", "auto"}
        Where the file is read and checked (the result is pandas either way).

    Returns
    -------
    Loaded
        ``(enrollments, report)``: one row per enrollment with canonical columns and a
        ``source_row`` column, and the :class:`LoadReport`.

    Examples
    --------
    >>> frame = pd.DataFrame({"enrollment_id": [1], "sequence_id": [7], "user_id": ["u1"],
    ...     "contact_id": [9], "enrolled_at": ["2026-01-05"], "ended_at": ["2026-01-20"],
    ...     "state": ["finished"]})
    >>> enrollments, report = load_enrollments(frame)
    >>> enrollments.loc[0, "state"], report.rows_used
    ('FINISHED', 1)
    """
    opened = open_dataset(
        source, engine=engine, on_bad_rows=on_bad_rows, policy=policy, timezone=timezone, encoding=encoding
    )
    return Loaded(to_pandas(opened.rows), opened.report)


def to_pandas(rows: Any) -> pd.DataFrame:
    """Typed rows -> the pandas enrollments table (timestamps as UTC datetimes, in source order)."""
    names = [n for n in rows.collect_schema().names() if n.startswith(TYPED) and not n.endswith("_day")]
    canonical = [n[len(TYPED) :] for n in names]
    frame = collect(rows.select(*[nw.col(n).alias(c) for n, c in zip(names, canonical)], nw.col(ROW)))
    frame = frame.sort_values(ROW, kind="stable").reset_index(drop=True)
    for column in schema.TIMESTAMP_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column].astype("Int64"), unit="us", utc=True).astype(
                "datetime64[ns, UTC]"
            )
    for column in schema.COUNT_COLUMNS:
        if column in frame:
            frame[column] = frame[column].astype("int64")
    for column in schema.FLAG_COLUMNS:
        if column in frame:
            frame[column] = frame[column].astype("boolean")
    if "ended_at" not in frame:
        frame["ended_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    text = [c for c in (*schema.ID_COLUMNS, *schema.TEXT_COLUMNS, *schema.ENUMS) if c in frame]
    frame[text] = frame[text].astype(str)
    order = [c for c in schema.COLUMNS if c in frame]
    return frame[order].assign(source_row=frame[ROW].astype("int64"))
