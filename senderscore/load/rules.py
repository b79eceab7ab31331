"""The ONE table of row checks, and the typed columns they read, as narwhals expressions.

Every engine (pandas data through in-memory polars, DuckDB, polars, Spark) evaluates exactly these:
:func:`typed_stages` turns raw cells into typed columns (named ``__t_<column>``), and
:data:`CHECKS` says, once, what makes a row bad: a reason, the column it names, and an
expression that is true on the rows that fail it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import narwhals as nw

from .. import schema
from .dates import RANGE_TEXT, RANGE_US, UNREADABLE, Stages, fast_cells, fast_stages, parse_stages
from .text import strip
from .zones import local_day, to_utc

TYPED = "__t_"
COUNT_DIGITS = 9
COUNT_LIMIT = 10**COUNT_DIGITS  # a cell under 10**9: a sum over up to 9 billion rows stays inside 64 bits
COUNT_PATTERN = rf"^[0-9]{{1,{COUNT_DIGITS}}}(\.0+)?$"  # ASCII digits only
COUNT_MESSAGE = f"expected a whole number >= 0 and under 10**{COUNT_DIGITS} (blank means 0)"


def typed(column: str) -> nw.Expr:
    """The typed value of a canonical column (after :func:`typed_stages`)."""
    return nw.col(TYPED + column)


def _text(raw: nw.Expr, dtype: object, engine: object = None) -> nw.Expr:
    """Cells as stripped text, '' for blanks; whole floats lose their '.0' (ids read by pandas)."""
    if dtype.is_float():
        raw = nw.when(raw % 1 == 0).then(raw.cast(nw.Int64).cast(nw.String)).otherwise(raw.cast(nw.String))
    return strip(raw.cast(nw.String), engine).fill_null("")


def text_cells(column: str, dtype: object, engine: object = None) -> nw.Expr:
    """The typed value of a text column that is not checked (names, emails): see :func:`_text`."""
    return _text(nw.col(column), dtype, engine)


def _typed_text(column: str, schema_: dict[str, object], engine: object) -> nw.Expr:
    """The typed value of an id, text or enum column (enums upper-cased; a missing enum is blank)."""
    if column not in schema.ENUMS:
        return text_cells(column, schema_[column], engine)
    raw = nw.col(column) if column in schema_ else nw.lit("")
    return _text(raw, schema_.get(column, nw.String), engine).str.to_uppercase()


def _count(raw: nw.Expr, dtype: object, engine: object = None) -> tuple[nw.Expr, nw.Expr]:
    """(value, bad) of a count column: blank means 0; anything but a whole number in [0, 10**9) is bad."""
    if dtype.is_integer():
        ok = raw.is_null() | ((raw >= 0) & (raw < COUNT_LIMIT))
        return nw.when(ok).then(raw.cast(nw.Int64)).otherwise(0).fill_null(0), ~ok
    if dtype.is_float():
        ok = raw.is_null() | ((raw >= 0) & (raw < float(COUNT_LIMIT)) & (raw % 1 == 0))
        return nw.when(ok).then(raw.cast(nw.Int64)).otherwise(0).fill_null(0), ~ok.fill_null(False)
    text = strip(raw.cast(nw.String), engine).fill_null("")
    ok = (text == "") | text.str.contains(COUNT_PATTERN)
    digits = text.str.replace_all(r"\.0+$", "")
    if engine is nw.Implementation.DUCKDB:  # only a cell with a point needs the replace ("3.00")
        digits = nw.when(text.str.contains(".", literal=True)).then(digits).otherwise(text)
    value = nw.when(ok & (text != "")).then(digits).otherwise(None).cast(nw.Int64)
    return value.fill_null(0), ~ok


def _flag(text: nw.Expr, spellings: bool = False) -> tuple[nw.Expr, nw.Expr]:
    """(value, bad) of a yes/no column from its upper-case text (a column of its own, so that no
    engine recomputes it per use): true/false/yes/no/y/n/1/0 in any case, blank unknown.
    ``spellings``: ``text`` is the raw cell, read by :data:`SPELLINGS` alone (the plain route);
    any other cell is then bad, which :func:`cleaned` counts as a cell the rule must read."""
    words = SPELLINGS if spellings else {True: schema.TRUE_WORDS, False: schema.FALSE_WORDS}
    yes, no = text.is_in(list(words[True])), text.is_in(list(words[False]))
    value = nw.when(yes).then(nw.lit(True)).otherwise(nw.when(no).then(nw.lit(False)).otherwise(None))
    blank = text.is_null() | (text == "") if spellings else text == ""
    return value.cast(nw.Boolean), ~(yes | no | blank)


SPELLINGS = {
    answer: tuple(dict.fromkeys(s for w in words for s in (w, w.lower(), w.title())))
    for answer, words in ((True, schema.TRUE_WORDS), (False, schema.FALSE_WORDS))
}
"""The spellings of a yes/no cell that the plain route reads as they stand (``true``, ``True``,
``TRUE``...): what exports write. Every other spelling the rule accepts takes the general route."""


@dataclass(frozen=True)
class Span:
    """The report zone and the range of instants its transitions are needed for."""

    zone: str
    low: int = RANGE_US[0]
    high: int = RANGE_US[1]

    @property
    def bounds(self) -> tuple[int, int]:
        return self.low, self.high


def timestamp_stages(schema_: dict[str, object], engine: object = None, plain: frozenset[str] = frozenset()) -> Stages:
    """The parse stages of every timestamp column present (before any zone is applied), as
    ``engine`` (the frame's narwhals Implementation) computes them fastest; a text column in
    ``plain`` has only blank cells or cells the engine parses itself (see :func:`cleaned`) and
    takes that fast route (:func:`senderscore.load.dates.fast_stages`)."""
    stages: Stages = []
    for column in schema.TIMESTAMP_COLUMNS:
        if column in schema_:
            name = f"__{column}"
            if column in plain:
                parse = fast_stages(nw.col(column), name, engine)
            else:
                parse = parse_stages(nw.col(column), schema_[column], name, engine)
            for level, stage in enumerate(parse):
                if level == len(stages):
                    stages.append({})
                stages[level].update(stage)
    return stages


def typed_stages(
    schema_: dict[str, object], span: Span, engine: object = None, plain: frozenset[str] = frozenset()
) -> Stages:
    """Raw canonical columns -> typed ``__t_<column>`` columns and ``__bad_<column>`` flags.

    ``plain`` names text columns whose every cell is known to be already in typed form (see
    :func:`cleaned`): their typed value is the cell itself, blanks as '', without the string work;
    and timestamp columns the engine parses itself (see :func:`timestamp_stages`).
    """
    stages = timestamp_stages(schema_, engine, plain)
    last: dict[str, nw.Expr] = {}
    for column in schema.ID_COLUMNS + schema.TEXT_COLUMNS + tuple(schema.ENUMS):
        if column in plain:
            last[TYPED + column] = nw.col(column).fill_null("")
        elif column in schema_ or column in schema.ENUMS:
            last[TYPED + column] = _typed_text(column, schema_, engine)
    for column in schema.COUNT_COLUMNS:
        if column in schema_:
            last[TYPED + column], last[f"__bad_{column}"] = _count(nw.col(column), schema_[column], engine)
        elif column == "reply_count":
            last[TYPED + column] = nw.lit(0).cast(nw.Int64)
    words: dict[str, nw.Expr] = {}
    for column in schema.FLAG_COLUMNS:
        if column in schema_ and schema_[column] == nw.Boolean:
            last[TYPED + column], last[f"__bad_{column}"] = nw.col(column), nw.lit(False)
        elif column in plain:
            last[TYPED + column], last[f"__bad_{column}"] = _flag(nw.col(column), spellings=True)
        elif column in schema_:
            words[f"__text_{column}"] = _text(nw.col(column), schema_[column], engine).str.to_uppercase()
            last[TYPED + column], last[f"__bad_{column}"] = _flag(nw.col(f"__text_{column}"))
    stages.append(words)
    utc: dict[str, nw.Expr] = {}
    for column in schema.TIMESTAMP_COLUMNS:
        if column in schema_:
            utc[TYPED + column] = to_utc(f"__{column}", span.zone, span.bounds)
    stages += [last, utc]
    days = {
        f"{TYPED}{column}_day": local_day(typed(column), span.zone, span.bounds)
        for column in schema.TIMESTAMP_COLUMNS
        if column in schema_
    }
    stages.append(days)
    return stages


def cleaned(
    schema_: dict[str, object], engine: object = None, plain: frozenset[str] = frozenset()
) -> dict[str, nw.Expr]:
    """Per checked text column (ids, enums) read as text: how many cells typing changes
    (stripped, upper-cased); per yes/no column read as text: how many cells are not blank and
    not one of :data:`SPELLINGS`; per timestamp column read as text: how many cells are neither
    blank nor in the shape the engine parses itself (:func:`fast_cells`). A column with none
    skips that work in later passes (see :func:`typed_stages`).

    Over rows typed with ``plain`` (the fast route taken on trust, see
    :func:`senderscore.load.validate.validate`) a plain column's typed value is the cell itself,
    so its count says where that is wrong: an id compares the cell with what typing makes of it;
    an enum counts the cells that are not blank and not an allowed value as written (a cell
    typing would change, or a bad one: either way the general route must read the column).
    """
    columns = [c for c in (*schema.ID_COLUMNS, *schema.ENUMS) if schema_.get(c) == nw.String]
    counts = {}
    for column in columns:
        if column in plain and column in schema.ENUMS:  # no string work: a set lookup per cell
            changed = ~(nw.col(column).is_in([*schema.ENUMS[column], ""]) | nw.col(column).is_null())
        else:
            value = _typed_text(column, schema_, engine) if column in plain else typed(column)
            changed = (value != nw.col(column)).fill_null(False)
        counts[column] = changed.cast(nw.Int64).sum()
    for column in schema.FLAG_COLUMNS:
        if schema_.get(column) == nw.String:
            counts[column] = _flag(nw.col(column), spellings=True)[1].cast(nw.Int64).sum()
    for column in schema.TIMESTAMP_COLUMNS:
        fast = fast_cells(f"__{column}", engine) if schema_.get(column) == nw.String else None
        if fast is not None:
            counts[column] = (~fast).fill_null(True).cast(nw.Int64).sum()
    return counts


def in_range(column: str) -> nw.Expr:
    return (typed(column) >= RANGE_US[0]) & (typed(column) < RANGE_US[1])


@dataclass(frozen=True)
class Check:
    """One row check: the column it names, what is wrong, and when (an expression over the
    raw and typed columns, true on failing rows). ``needs`` lists the columns it reads."""

    column: str
    message: str
    test: Callable[[], nw.Expr]
    needs: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return f"{self.column}: {self.message}"


def _ended() -> nw.Expr:
    return typed("state").is_in(list(schema.ENDED_STATES))


def _enum_check(column: str) -> Check:
    allowed = schema.ENUMS[column]
    optional = column != "state"

    def test() -> nw.Expr:
        value = typed(column)
        bad = ~value.is_in(list(allowed))
        return bad & (value != "") if optional else bad

    return Check(column, f"expected one of {', '.join(allowed)}" + (" or blank" if optional else ""), test, (column,))


def _timestamp_checks(column: str) -> list[Check]:
    blank, readable = nw.col(f"__{column}_blank"), nw.col(f"__{column}_readable")
    checks = [
        Check(column, UNREADABLE, lambda: ~blank & ~readable, (column,)),
        Check(column, f"out of range; {RANGE_TEXT}", lambda: readable & ~in_range(column), (column,)),
    ]
    if column == "enrolled_at":
        checks.insert(0, Check(column, "enrolled_at is empty; every enrollment has one", lambda: blank, (column,)))
    else:
        message = "ended_at is empty on an ended (FINISHED or UNENROLLED) enrollment"
        checks.insert(0, Check(column, message, lambda: blank & _ended(), (column,)))
    return checks


CHECKS: tuple[Check, ...] = (
    *(
        Check(c, f"{c} is empty; every enrollment needs one", lambda c=c: typed(c) == "", (c,))
        for c in schema.ID_COLUMNS
    ),
    *(_enum_check(c) for c in schema.ENUMS),
    *_timestamp_checks("enrolled_at"),
    *_timestamp_checks("ended_at"),
    Check(
        "ended_at",
        "ended_at is before enrolled_at; check both timestamps and their offsets",
        lambda: (typed("ended_at") < typed("enrolled_at")).fill_null(False),
        ("ended_at", "enrolled_at"),
    ),
    *(Check(c, COUNT_MESSAGE, lambda c=c: nw.col(f"__bad_{c}"), (c,)) for c in schema.COUNT_COLUMNS),
    Check(
        "personalized",
        "expected true or false (yes/no, 1/0), or blank when unknown",
        lambda: nw.col("__bad_personalized"),
        ("personalized",),
    ),
)
"""Every row check, in the order problems are listed within a row."""


def checks_for(columns: list[str] | tuple[str, ...]) -> list[Check]:
    """The checks that apply to a frame with these canonical columns."""
    present = set(columns)
    return [c for c in CHECKS if all(n in present for n in c.needs)]
