"""Raw table -> validated enrollments. Every row is used, collapsed as a duplicate, or
rejected with a reason: rows read = used + rejected + duplicates collapsed.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from .dates import parse_timestamps
from .errors import InputError, Problem
from .read import RawTable


def map_columns(raw: RawTable) -> dict[str, str]:
    """Source column -> canonical column. Raises for missing or doubled columns."""
    mapping: dict[str, str] = {}
    for column in raw.frame.columns:
        canonical = schema.ALIASES.get(schema.normalize_name(column))
        if canonical is None:
            continue
        twin = next((src for src, can in mapping.items() if can == canonical), None)
        if twin is not None:
            raise InputError(
                f"{raw.source}: columns {twin!r} and {column!r} both mean {canonical!r}; "
                "keep one of them (or rename the other)."
            )
        mapping[column] = canonical
    missing = [c for c in schema.REQUIRED if c not in mapping.values()]
    if missing:
        raise InputError(_missing_message(raw, mapping, missing))
    return mapping


def _missing_message(raw: RawTable, mapping: dict[str, str], missing: list[str]) -> str:
    unmapped = [c for c in raw.frame.columns if c not in mapping]
    hints = []
    for canonical in missing:
        names = [k for k, v in schema.ALIASES.items() if v == canonical]
        for column in unmapped:
            folded = schema.normalize_name(column)
            if difflib.get_close_matches(folded, names, 1, 0.75) or folded.replace(" ", "") in {
                n.replace(" ", "") for n in names
            }:
                hints.append(f"rename {column!r} to {canonical!r}")
    found = ", ".join(repr(c) for c in raw.frame.columns) or "none"
    text = (
        f"{raw.source}: missing required column(s) {', '.join(missing)}; found {found}. "
        'HubSpot names (hs_enrolled_by, ...) and export labels ("Enrolled by", ...) are accepted.'
    )
    return text + (f" Did you mean: {'; '.join(hints)}?" if hints else "")


def as_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text; blanks and missing values become ''. Integral floats lose '.0'."""
    # pandas' own string dtype (Arrow-backed since pandas 3): comparisons, isin, strip and
    # grouping then run in C++; object columns made the 1M-row report ~5x slower.
    if pd.api.types.is_float_dtype(values.dtype):
        return values.map(lambda v: "" if pd.isna(v) else str(int(v)) if float(v).is_integer() else str(v)).astype(str)
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(str)
    if isinstance(values.dtype, pd.StringDtype):  # already text (pyarrow CSV reader, Parquet): no round trip
        return values.fillna("").str.strip()
    # astype(str) converts in one C loop; a Python-level map over millions of cells is ~10x slower.
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def is_blank(values: pd.Series) -> pd.Series:
    """True where a cell is missing or only whitespace, without converting typed columns to text."""
    if not pd.api.types.is_object_dtype(values.dtype) and not pd.api.types.is_string_dtype(values.dtype):
        return values.isna()
    return as_text(values) == ""


class _Checker:
    """Collects problems per row position while columns are converted."""

    def __init__(self, raw: RawTable, mapping: dict[str, str]):
        self.raw = raw
        self.source_name = {v: k for k, v in mapping.items()}
        self.problems: list[tuple[int, int, Problem]] = []  # (position, column order, problem)
        self.order = {c: i for i, c in enumerate(raw.frame.columns)}

    def flag(self, mask: pd.Series, canonical: str, values: pd.Series, message: str) -> None:
        column = self.source_name[canonical]
        for pos in np.flatnonzero(mask.to_numpy()):
            value = values.iloc[pos]
            problem = Problem(int(self.raw.rows[pos]), column, value, message)
            self.problems.append((int(pos), self.order.get(column, 0), problem))


def convert(raw: RawTable, mapping: dict[str, str], timezone: str) -> tuple[pd.DataFrame, _Checker]:
    """Convert each mapped column to its type, flagging bad cells."""
    check = _Checker(raw, mapping)
    frame = raw.frame.rename(columns=mapping)[list(mapping.values())]
    out = pd.DataFrame(index=frame.index)
    for column in schema.ID_COLUMNS:
        text = as_text(frame[column])
        check.flag(text == "", column, frame[column], f"{column} is empty; every enrollment needs one")
        out[column] = text
    for column in schema.TEXT_COLUMNS:
        if column in frame:
            out[column] = as_text(frame[column])
    for column, allowed in schema.ENUMS.items():
        if column not in frame:
            out[column] = ""
            continue
        text = as_text(frame[column]).str.upper()
        bad = ~text.isin(allowed) & ((text != "") | (column == "state"))
        check.flag(
            bad,
            column,
            frame[column],
            f"expected one of {', '.join(allowed)}" + ("" if column == "state" else " or blank"),
        )
        out[column] = text
    for column in schema.TIMESTAMP_COLUMNS:
        if column in frame:
            parsed, bad = parse_timestamps(frame[column], timezone)
            check.flag(
                bad,
                column,
                frame[column],
                "not a timestamp; expected ISO 8601 (2026-03-31T14:05:00Z, "
                "offset optional) or epoch milliseconds (1774965900000)",
            )
            out[column] = parsed
        else:
            out[column] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    for column in schema.COUNT_COLUMNS:
        if column in frame:
            out[column] = _counts(frame[column], column, check)
        elif column == "reply_count":
            out[column] = np.zeros(len(frame), dtype=np.int64)
    for column in schema.FLAG_COLUMNS:
        if column in frame:
            out[column] = _flags(frame[column], column, check)
    _check_rows(out, frame, check)
    return out, check


def _flags(values: pd.Series, column: str, check: _Checker) -> pd.Series:
    """true/false/yes/no/1/0 in any case; blank = unknown."""
    text = as_text(values).str.upper()
    bad = ~text.isin((*schema.TRUE_WORDS, *schema.FALSE_WORDS, ""))
    check.flag(bad, column, values, "expected true or false (yes/no, 1/0), or blank when unknown")
    return text.map(lambda v: True if v in schema.TRUE_WORDS else False if v in schema.FALSE_WORDS else None).astype(
        "boolean"
    )


def _counts(values: pd.Series, column: str, check: _Checker) -> pd.Series:
    if pd.api.types.is_integer_dtype(values.dtype):  # typed (Parquet): only the sign can be wrong
        bad = values < 0
        check.flag(bad, column, values, "expected a whole number >= 0 (blank means 0)")
        return values.where(~bad, 0).astype(np.int64)
    text = as_text(values)
    if (text.str.isdigit() | (text == "")).all():  # the usual case: a C++ cast, no float detour
        return pd.Series(pc.cast(pa.array(text.where(text != "", "0").array), pa.int64()).to_numpy(), index=text.index)
    numbers = pd.to_numeric(text.where(text != "", "0"), errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers.fillna(0) % 1 != 0)
    check.flag(bad, column, values, "expected a whole number >= 0 (blank means 0)")
    return numbers.where(~bad, 0).astype(np.int64)


def _check_rows(out: pd.DataFrame, frame: pd.DataFrame, check: _Checker) -> None:
    ended = out["state"].isin(schema.ENDED_STATES)
    missing_start = out["enrolled_at"].isna() & is_blank(frame["enrolled_at"])
    check.flag(missing_start, "enrolled_at", frame["enrolled_at"], "enrolled_at is empty; every enrollment has one")
    if "ended_at" in frame:
        blank_end = is_blank(frame["ended_at"])
        check.flag(
            ended & blank_end,
            "ended_at",
            frame["ended_at"],
            "ended_at is empty on an ended (FINISHED or UNENROLLED) enrollment",
        )
        early = out["ended_at"] < out["enrolled_at"]
        check.flag(
            early.fillna(False),
            "ended_at",
            frame["ended_at"],
            "ended_at is before enrolled_at; check both timestamps and their offsets",
        )
    elif ended.any():
        source = check.source_name["state"]
        raise InputError(
            f"{check.raw.source}: rows in state FINISHED or UNENROLLED (column {source!r}) "
            'but no ended_at column; add ended_at (HubSpot: hs_ended_at, "Ended at").'
        )
