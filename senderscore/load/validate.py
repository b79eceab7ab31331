"""Raw canonical columns -> typed, checked enrollments, on whatever engine holds them.

Every row is used, collapsed as an identical duplicate, or rejected with a reason:
rows read = used + rejected + duplicates collapsed, on every engine. The usual clean file
costs one aggregate pass (every check counted, ids counted); only a file with problems or
repeated ids pays a second pass, which lists those rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from .. import schema
from ..errors import InputError, Problem
from .passes import CHECKING_BOUNDS, Rider, collect, collect_polars, collect_together
from .rules import TYPED, Check, Span, checks_for, cleaned, timestamp_stages, typed, typed_stages
from .scan import ROW, Dataset
from .zones import transitions


@dataclass
class Validated:
    """The clean rows as a lazy frame of typed ``__t_`` columns and ``_row``, and what was rejected."""

    frame: Any
    dataset: Dataset
    span: Span
    rows_read: int
    collapsed: int
    problems: list[Problem] = field(default_factory=list)
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)
    counts: dict[str, int] = field(default_factory=dict)  # problems by reason
    ridden: dict[str, pd.DataFrame] = field(default_factory=dict)  # riders' results, on a clean pass

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)

    @property
    def rows_used(self) -> int:
        return self.rows_read - self.rows_rejected - self.collapsed


def apply(frame: Any, stages: list[dict[str, nw.Expr]]) -> Any:
    for stage in stages:
        if stage:
            frame = frame.with_columns(**stage)
    return frame


def zone_span(frame: Any, columns: dict[str, object], zone: str) -> Span:
    """Where the zone's transitions are needed: the data's range, found by a small pass, only
    for zones that have transitions at all (UTC has none)."""
    if not transitions(zone, *Span(zone).bounds):
        return Span(zone)
    stages = timestamp_stages(columns, frame.implementation)
    present = [c for c in schema.TIMESTAMP_COLUMNS if c in columns]
    values = [nw.col(f"__{c}_value") for c in present]
    limits = collect(
        apply(frame, stages).select(
            nw.min_horizontal(*[v.min() for v in values]).alias("low"),
            nw.max_horizontal(*[v.max() for v in values]).alias("high"),
        )
    ).iloc[0]
    if pd.isna(limits["low"]):
        return Span(zone)
    base = Span(zone)
    day = 86_400_000_000
    low = min(max(int(limits["low"]) - 2 * day, base.low), base.high)
    high = max(min(int(limits["high"]) + 2 * day, base.high), low)
    return Span(zone, low, high)


def staged(
    dataset: Dataset, zone: str, *, span: Span | None = None, plain: frozenset[str] = frozenset()
) -> tuple[Any, Span, list[Check]]:
    """The dataset with every typed column and check flag ``__check_<i>`` added."""
    columns = dict(dataset.frame.collect_schema())
    span = span or zone_span(dataset.frame, columns, zone)
    frame = apply(dataset.frame, typed_stages(columns, span, dataset.frame.implementation, plain))
    checks = checks_for(list(columns))
    frame = frame.with_columns(**{f"__check_{i}": c.test().fill_null(True) for i, c in enumerate(checks)})
    return frame, span, checks


ID_KEY = "__id_key"


def with_id_key(frame: Any) -> Any:
    """``frame`` with ``__id_key``: what the one-pass duplicate test counts distinct values of.

    A 64-bit hash of the typed id where the engine has one (hashes count faster than text), else
    the id itself. Equal ids give equal hashes, so as many distinct hashes as rows proves every
    id distinct; fewer (a repeat, or a collision) sends the file to the exact test, which
    compares the ids themselves (:func:`_duplicates`).
    """
    native, key = frame.to_native(), TYPED + "enrollment_id"
    if frame.implementation is nw.Implementation.POLARS:
        import polars as pl

        return nw.from_native(native.with_columns(pl.col(key).hash(seed=0).alias(ID_KEY)))
    if frame.implementation is nw.Implementation.DUCKDB:
        return nw.from_native(native.project(f'*, hash("{key}") AS {ID_KEY}'))
    if frame.implementation is nw.Implementation.PYSPARK:
        from pyspark.sql import functions

        return nw.from_native(native.withColumn(ID_KEY, functions.xxhash64(key)))
    return frame.with_columns(typed("enrollment_id").alias(ID_KEY))


def typed_rows(enrollments: pd.DataFrame, zone: str) -> tuple[Any, Span]:
    """Already validated pandas enrollments as typed rows in in-memory polars (no checks): what
    :func:`senderscore.cube.build_cube` and the evidence group."""
    from .read import RawTable
    from .scan import _from_raw

    table = enrollments.drop(columns=[c for c in enrollments.columns if c not in schema.COLUMNS])
    positions = np.arange(1, len(table) + 1)
    dataset = _from_raw(RawTable(table.reset_index(drop=True), positions, "enrollments", "row"), "pandas")
    columns = dict(dataset.frame.collect_schema())
    span = zone_span(dataset.frame, columns, zone)
    return apply(dataset.frame, typed_stages(columns, span, dataset.frame.implementation)), span


def validate(dataset: Dataset, zone: str, on_bad_rows: str = "error", riders: Sequence[Rider] = ()) -> Validated:
    """Check every row of ``dataset``; see :func:`senderscore.load.load_enrollments`. ``riders``
    run in the checking pass where the dataset fuses them (``Dataset.fuse``, :mod:`.passes`);
    their results are kept in ``ridden`` when every row is clean, the rows they must see.

    The checking pass first takes the fast route on trust where the engine allows it
    (:func:`_trusted`): every id, enum and yes/no cell already in typed form, every timestamp
    in the shape the engine parses itself. It counts the cells that break that trust
    (:func:`cleaned`); with none, its answers are the general route's, found without the string
    work; with some, the pass runs again, on the fast route only for the columns that kept it."""
    columns = dict(dataset.frame.collect_schema())
    span = zone_span(dataset.frame, columns, zone)
    riders = riders if dataset.fuse else ()
    candidates = frozenset(cleaned(columns, dataset.frame.implementation))
    plain = _trusted(dataset, candidates)
    frame, checks, totals, ridden = _checking_pass(dataset, span, plain, riders)
    kept = frozenset(c for c in candidates if not int(totals[f"__changed_{c}"] or 0))
    if plain - kept:  # the trust was misplaced for some column: its cells need the general route
        plain &= kept
        frame, checks, totals, ridden = _checking_pass(dataset, span, plain, riders)
    if int(totals.get("ended", 0) or 0):
        source = next(o for o, c in dataset.mapping.items() if c == "state")
        raise InputError(
            f"{dataset.source}: rows in state FINISHED or UNENROLLED (column {source!r}) "
            'but no ended_at column; add ended_at (HubSpot: hs_ended_at, "Ended at").'
        )
    flags = [f"__check_{i}" for i in range(len(checks))]
    counts = {checks[i].reason: int(totals[f] or 0) for i, f in enumerate(flags) if int(totals[f] or 0)}
    if kept != plain:  # later passes (cube, names, evidence) skip string work that changes nothing
        frame = staged(dataset, zone, span=span, plain=kept)[0]
    rows = int(totals["rows"]) + len(dataset.read_problems)
    empty = pd.DataFrame(columns=[dataset.where, *dataset.mapping, "reason"])
    result = Validated(frame, dataset, span, rows, 0, rejects=empty, counts=counts)
    if not counts and int(totals["ids"]) == int(totals["rows"]) and not dataset.read_problems:
        result.ridden = ridden
        return result  # the usual file: one pass did everything
    bad = nw.any_horizontal(*[nw.col(f) for f in flags], ignore_nulls=True) if flags else nw.lit(False)
    problems = _row_problems(dataset, frame.filter(bad), checks) if counts else []
    good = frame.filter(~bad) if counts else frame
    dropped, collapsed, conflicts = _duplicates(dataset, good)
    result.frame = good.filter(~nw.col(ROW).is_in(dropped)) if dropped else good
    result.collapsed = collapsed
    result.problems = sorted(dataset.read_problems + problems + conflicts, key=lambda p: (p.row is None, p.row or 0))
    if conflicts:
        result.counts["enrollment_id: repeated with different content"] = len(conflicts)
    if dataset.read_problems:
        result.counts["row: its fields do not match the header"] = len(dataset.read_problems)
    result.rejects = _rejects(dataset, frame, problems, conflicts)
    return result


def _trusted(dataset: Dataset, candidates: frozenset[str]) -> frozenset[str]:
    """The columns the first checking pass takes on trust (see :func:`validate`). On DuckDB every
    candidate: its fast route gives a null, never an error, for a cell it does not read. On
    polars all but text timestamps: its own parser raises on such a cell. None on Spark, where a
    second pass costs more than the string work it might save. An export as HubSpot writes it
    keeps the trust, so its one pass does no string work on states, sources and yes/no cells."""
    implementation = dataset.frame.implementation
    if implementation is nw.Implementation.DUCKDB:
        return candidates
    if implementation is nw.Implementation.POLARS:
        return candidates - frozenset(schema.TIMESTAMP_COLUMNS)
    return frozenset()


def _checking_pass(
    dataset: Dataset, span: Span, plain: frozenset[str], riders: Sequence[Rider]
) -> tuple[Any, list[Check], pd.Series, dict[str, pd.DataFrame]]:
    """The typed, flagged rows (typed with ``plain``), their checks, and one pass's totals: every
    check's count, the rows, the distinct ids, the cells typing changes, and the riders' results."""
    frame, _, checks = staged(dataset, span.zone, span=span, plain=plain)
    frame = with_id_key(frame)
    columns = dict(dataset.frame.collect_schema())
    aggregates = [nw.len().alias("rows")]
    aggregates += [nw.col(f"__check_{i}").cast(nw.Int64).sum().alias(f"__check_{i}") for i in range(len(checks))]
    changed = cleaned(columns, dataset.frame.implementation, plain)
    aggregates += [count.alias(f"__changed_{c}") for c, count in changed.items()]
    if "ended_at" not in dataset.mapping.values():
        aggregates.append(typed("state").is_in(list(schema.ENDED_STATES)).cast(nw.Int64).sum().alias("ended"))
    totals, ridden = _totals(frame, aggregates, riders, dataset.keep)
    return frame, checks, totals, ridden


def _totals(
    frame: Any, aggregates: list[nw.Expr], riders: Sequence[Rider], connection: Any
) -> tuple[pd.Series, dict[str, pd.DataFrame]]:
    """The checking pass's ``aggregates`` and ``ids``, the distinct-id count, and the results of
    ``riders`` (those the dataset fuses: see :func:`validate`) from the same scan. polars counts
    the ids in a pass of their own, which hands back their hashes (8 bytes a row) to be counted
    in memory: its streaming distinct count, in the checking pass or alone, was slower and held
    more memory, and sharing the scan with the checks (``collect_all``) peaked far higher (see
    benchmarks/README.md)."""
    if frame.implementation is nw.Implementation.POLARS:
        totals = collect(frame.select(*aggregates), CHECKING_BOUNDS).iloc[0]
        totals["ids"] = collect_polars(frame.select(ID_KEY), CHECKING_BOUNDS).to_series().n_unique()
        return totals, {}
    ids = nw.col(ID_KEY).n_unique().alias("ids")
    builds = [lambda rows: rows.select(*aggregates, ids), *(r.build for r in riders)]
    first, *rest = collect_together(frame, builds, connection)
    return first.iloc[0], {r.key: table for r, table in zip(riders, rest, strict=True)}


def _row_problems(dataset: Dataset, failing: Any, checks: list[Check]) -> list[Problem]:
    """One :class:`Problem` per failed check, with the value as the file has it."""
    raw = list(dataset.mapping.values())
    flags = [f"__check_{i}" for i in range(len(checks))]
    table = collect(failing.select(nw.col(ROW), *[nw.col(c) for c in raw], *flags))
    original = {c: o for o, c in dataset.mapping.items()}
    order = {c: i for i, c in enumerate(raw)}
    found: list[tuple[int, int, Problem]] = []
    for i, check in enumerate(checks):
        hits = table[table[f"__check_{i}"].fillna(True).astype(bool)]
        for row, value in zip(hits[ROW], hits[check.column]):
            value = "" if value is None or (isinstance(value, float) and value != value) else value
            problem = Problem(int(row), original[check.column], value, check.message)
            found.append((int(row), order.get(check.column, 0), problem))
    found.sort(key=lambda item: (item[0], item[1]))
    return [p for _, _, p in found]


def _duplicates(dataset: Dataset, good: Any) -> tuple[list[int], int, list[Problem]]:
    """Rows to drop (identical repeats after the first, every copy of a conflicting id), how many
    collapsed, and a problem per conflicting copy. Only rows whose id repeats are collected."""
    key = TYPED + "enrollment_id"
    repeated = collect(good.group_by(key).agg(nw.len().alias("n")).filter(nw.col("n") > 1).select(key))[key]
    if repeated.empty:
        return [], 0, []
    content = [c for c in good.collect_schema().names() if c.startswith(TYPED)]
    rows = collect(good.filter(nw.col(key).is_in(repeated.tolist())).select(ROW, *content))
    rows = rows.sort_values(ROW, kind="stable")
    repeat = rows.duplicated(subset=content, keep="first")
    unique = rows[~repeat]
    clash = unique[key].duplicated(keep=False)
    conflicts: list[Problem] = []
    for enrollment_id, group in unique[clash].groupby(key, sort=False):
        differ = [c[len(TYPED) :] for c in content if group[c].nunique(dropna=False) > 1]
        where = ", ".join(str(r) for r in group[ROW])
        message = (
            f"enrollment_id appears on {dataset.where}s {where} with different {', '.join(differ)}; "
            "keep the right one (all copies were rejected)"
        )
        column = next(o for o, c in dataset.mapping.items() if c == "enrollment_id")
        conflicts += [Problem(int(r), column, enrollment_id, message) for r in group[ROW]]
    dropped = rows.loc[repeat, ROW].tolist() + unique.loc[clash, ROW].tolist()
    return [int(r) for r in dropped], int(repeat.sum()), conflicts


def _rejects(dataset: Dataset, frame: Any, problems: list[Problem], conflicts: list[Problem]) -> pd.DataFrame:
    """Rejected rows as read (the file's column names), with the row number and every reason."""
    reasons: dict[int, list[str]] = {}
    for problem in problems + conflicts:
        reasons.setdefault(int(problem.row), []).append(problem.reason)
    where = dataset.where
    if reasons:
        raw = [nw.col(c).alias(o) for o, c in dataset.mapping.items()]
        table = collect(frame.filter(nw.col(ROW).is_in(list(reasons))).select(nw.col(ROW).alias(where), *raw))
        table = table.sort_values(where, kind="stable").reset_index(drop=True)
        table["reason"] = ["; ".join(reasons[int(r)]) for r in table[where]]
    else:
        table = pd.DataFrame(columns=[where, *dataset.mapping, "reason"])
    if dataset.read_problems:
        ragged = pd.DataFrame(
            {
                where: [p.row for p in dataset.read_problems],
                "reason": [p.reason for p in dataset.read_problems],
                "raw_text": [r["_raw"] for r in dataset.read_rejects],
            }
        )
        table = pd.concat([table, ragged], ignore_index=True).sort_values(where, kind="stable")
    return table.reset_index(drop=True)
