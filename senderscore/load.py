"""Load enrollments from a file or DataFrame: read, validate, account for every row."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from . import schema
from .dates import check_timezone
from .errors import InputError, Problem, problems_message
from .policy import Policy, load_policy
from .read import RawTable, from_frame, read_source
from .validate import convert, map_columns


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


def load_enrollments(
    source: str | Path | pd.DataFrame,
    *,
    on_bad_rows: Literal["error", "skip"] = "error",
    policy: Policy | str | Path | None = None,
    timezone: str | None = None,
    encoding: str = "utf-8",
) -> Loaded:
    """Read and validate sequence enrollments.

    Parameters
    ----------
    source : path or DataFrame
        ``.csv`` (UTF-8, comma or semicolon), ``.csv.gz``, ``.parquet``, ``.xlsx``, or a
        DataFrame. Columns may use canonical names, HubSpot property names or export labels.
    on_bad_rows : {"error", "skip"}
        ``"error"`` (default) raises :class:`InputError` listing the first 20 problems;
        ``"skip"`` drops bad rows and returns them in ``report.rejects`` with a reason.
    policy : Policy or path, optional
        Supplies the time zone for timestamps written without an offset.
    timezone : str, optional
        Overrides the policy's time zone.
    encoding : str
        Text encoding of CSV files.

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
    if on_bad_rows not in ("error", "skip"):
        raise InputError(f"on_bad_rows {on_bad_rows!r}: expected 'error' or 'skip'.")
    zone = check_timezone(timezone or load_policy(policy).timezone)
    if isinstance(source, pd.DataFrame):
        raw = from_frame(source)
    elif isinstance(source, str | Path):
        raw = read_source(source, encoding=encoding)
    else:
        raise InputError(f"source {type(source).__name__!r}: expected a file path or a pandas DataFrame.")
    return validate_raw(raw, zone, on_bad_rows)


def validate_raw(raw: RawTable, timezone: str, on_bad_rows: str = "error") -> Loaded:
    """Validate a :class:`RawTable`; see :func:`load_enrollments`."""
    mapping = map_columns(raw)
    data, check = convert(raw, mapping, timezone)
    problems = sorted(check.problems, key=lambda p: (p[0], p[1]))
    bad_pos = {pos for pos, _, _ in problems}
    good = np.ones(len(data), dtype=bool)
    good[list(bad_pos)] = False
    data["source_row"] = raw.rows
    kept, collapsed, conflicts = _deduplicate(data[good], raw.where)
    all_problems = raw.bad_rows + [p for _, _, p in problems] + [p for _, p in conflicts]
    all_problems.sort(key=lambda p: (p.row is None, p.row or 0))
    if all_problems and on_bad_rows == "error":
        raise InputError(problems_message(raw.source, all_problems, raw.where))
    rejects = _rejects(raw, problems, conflicts)
    report = LoadReport(
        source=raw.source,
        rows_read=len(raw.frame) + len(raw.bad_rows),
        rows_used=len(kept),
        rows_rejected=len(rejects),
        duplicates_collapsed=collapsed,
        columns=mapping,
        ignored_columns=[c for c in raw.frame.columns if c not in mapping],
        problems=all_problems,
        rejects=rejects,
        where=raw.where,
    )
    if not len(kept):
        raise InputError(
            f"{raw.source}: no usable rows ({report.rows_rejected:,} rejected); "
            "run `senderscore validate` on it to see why."
        )
    return Loaded(kept.reset_index(drop=True), report)


def _deduplicate(data: pd.DataFrame, where: str) -> tuple[pd.DataFrame, int, list[tuple[int, Problem]]]:
    """Collapse identical repeats of an enrollment; reject every row of a conflicting one."""
    content = [c for c in data.columns if c != "source_row"]
    if data["enrollment_id"].is_unique:  # the usual case: no need to hash every full row
        return data, 0, []
    repeat = data.duplicated(subset=content, keep="first")
    unique = data[~repeat]
    clash = unique["enrollment_id"].duplicated(keep=False)
    conflicts: list[tuple[int, Problem]] = []
    for enrollment_id, group in unique[clash].groupby("enrollment_id", sort=False):
        differ = [c for c in content if group[c].nunique(dropna=False) > 1]
        rows = ", ".join(str(r) for r in group["source_row"])
        for index, row in group.iterrows():
            message = (
                f"enrollment_id appears on {where}s {rows} with different {', '.join(differ)}; "
                "keep the right one (all copies were rejected)"
            )
            conflicts.append((index, Problem(int(row["source_row"]), "enrollment_id", enrollment_id, message)))
    kept = unique[~clash]
    return kept, int(repeat.sum()), conflicts


def _rejects(raw: RawTable, problems: list, conflicts: list) -> pd.DataFrame:
    """Rejected rows as read, with the row number and every reason joined by '; '."""
    reasons: dict[int, list[str]] = {}
    for pos, _, problem in problems:
        reasons.setdefault(pos, []).append(problem.reason)
    for index, problem in conflicts:
        reasons.setdefault(index, []).append(problem.reason)
    positions = sorted(reasons)
    frame = raw.frame.iloc[positions].copy()
    frame.insert(0, raw.where, raw.rows[positions])
    frame["reason"] = ["; ".join(reasons[p]) for p in positions]
    if raw.bad_rows:
        ragged = pd.DataFrame(
            {
                raw.where: [p.row for p in raw.bad_rows],
                "reason": [p.reason for p in raw.bad_rows],
                "raw_text": [r["_raw"] for r in raw.bad_raw],
            }
        )
        frame = pd.concat([frame, ragged], ignore_index=True).sort_values(raw.where, kind="stable")
    return frame.reset_index(drop=True)


def canonical_columns(enrollments: pd.DataFrame) -> list[str]:
    """The canonical columns present in a validated table, in contract order."""
    return [c for c in schema.COLUMNS if c in enrollments.columns]
