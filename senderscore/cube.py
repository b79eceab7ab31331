"""Typed rows -> daily counts cube: the ONE set of definitions and the one query every engine runs.

One row per user x sequence x calendar day (in the report time zone) of ended
enrollments, with the counts every table is summed from. The cube does not depend on
the scoring policy except for its time zone, so a policy change never rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import narwhals as nw
import numpy as np
import pandas as pd

from . import schema
from .errors import InputError
from .load import Opened, Rider
from .load.passes import collect
from .load.rules import TYPED, typed
from .load.validate import typed_rows
from .load.windows import parse_window
from .load.zones import EPOCH_DAY, day_number
from .names import name_riders, names_of
from .policy import Policy, load_policy

DateField = Literal["ended_at", "enrolled_at"]
KEYS = ["user_id", "sequence_id", "day"]
COUNTS = ("ended", "bounced", "replied", "account_replied", "unsubscribed")
ENGAGEMENT = ("open_count", "click_count", "meeting_count")


@dataclass(frozen=True)
class Cube:
    """Daily counts of ended enrollments.

    Attributes
    ----------
    counts : DataFrame
        ``user_id, sequence_id, day`` (naive midnight of the calendar day in ``timezone``)
        and the counts: ``ended``; ``bounced`` (unenrolled_source ERROR and step_error_type
        BOUNCED); ``replied`` (not bounced, and reply_count > 0 or unenrolled_source REPLY
        or THREAD_REPLY); ``account_replied`` (not bounced, not replied, unenrolled_source
        ACCOUNT_REPLY: added to ``replied`` when the policy counts them); ``unsubscribed``
        (step_error_type UNSUBSCRIBED); and sums of open/click/meeting counts where present.
    users, sequences : DataFrame
        Names per ``user_id`` (user_name, user_email, team) and ``sequence_id``
        (sequence_name), where the input had them.
    date_field : str
        The timestamp the days come from: ``ended_at`` or ``enrolled_at``.
    timezone : str
        The zone the calendar days are taken in.
    """

    counts: pd.DataFrame
    users: pd.DataFrame
    sequences: pd.DataFrame
    date_field: str
    timezone: str
    # Running totals per key set (senderscore.daily), built when a key set is asked for twice:
    # a one-off table scans, repeated ones (a report, the explorer) subtract.
    _indexes: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def day_index(self, keys: list[str], columns: list[str]) -> object:
        """The :class:`senderscore.daily.DayIndex` for ``keys`` from the second request on; None
        before that, or when it would be too large."""
        from .daily import DayIndex

        key = tuple(keys)
        seen = self._indexes.get(key, 0)
        if seen == 0:
            self._indexes[key] = 1
            return None
        if seen == 1:
            self._indexes[key] = DayIndex.build(self.counts, keys, columns)
        return self._indexes[key]

    def name_lookup(self, key: str) -> tuple[pd.Index, pd.DataFrame]:
        """The names of ``key`` (``user_id`` or ``sequence_id``), one row per id (a hand-built
        cube listing more keeps the first), and an index of their ids: kept, since every
        scored table places names by it."""
        if ("names", key) not in self._indexes:
            names = (self.users if key == "user_id" else self.sequences).drop_duplicates(key)
            self._indexes[("names", key)] = (pd.Index(names[key]), names.drop(columns=[key]).reset_index(drop=True))
        return self._indexes[("names", key)]

    @property
    def span(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """First and last day with ended enrollments."""
        if self.counts.empty:
            return None, None
        return self.counts["day"].min(), self.counts["day"].max()


def coarsen(cube: Cube) -> Cube:
    """The same cube summed over sequences: one row per user x day (``sequence_id`` "*").

    Per-user tables from it equal those from the full cube, at a fraction of the rows: what
    interactive refreshes use when a dataset has many sequences.
    """
    columns = [c for c in cube.counts.columns if c not in ("user_id", "sequence_id", "day")]
    counts = cube.counts.groupby(["user_id", "day"], sort=True, observed=True)[columns].sum().reset_index()
    counts.insert(1, "sequence_id", "*")
    return Cube(counts, cube.users, cube.sequences, cube.date_field, cube.timezone)


def select_users(cube: Cube, users: list[str] | tuple[str, ...] | str | None) -> Cube:
    """Keep the given users (ids or names, any case); empty keeps everyone."""
    if isinstance(users, str):
        users = [u.strip() for u in users.split(",") if u.strip()]
    if not users:
        return cube
    names = cube.users.set_index("user_id").get("user_name", pd.Series(dtype=str))
    lookup = {str(i).lower(): str(i) for i in cube.users["user_id"]}
    lookup.update({str(n).lower(): str(i) for i, n in names.items() if n})
    unknown = [u for u in users if str(u).strip().lower() not in lookup]
    if unknown:
        known = ", ".join(
            sorted(f"{n} ({i})" if n else str(i) for i, n in names.reindex(cube.users["user_id"]).fillna("").items())
        )
        raise InputError(f"users {unknown!r} not in the data; known users: {known}.")
    keep = {lookup[str(u).strip().lower()] for u in users}
    counts = cube.counts[cube.counts["user_id"].isin(keep)]
    return replace(cube, counts=counts, users=cube.users[cube.users["user_id"].isin(keep)])


def flag_exprs(*, among_ended: bool = False) -> dict[str, nw.Expr]:
    """The definitions, once, as expressions over the typed columns that every engine evaluates:
    ``ended`` (state FINISHED or UNENROLLED); ``bounced`` (ended, unenrolled_source ERROR and
    step_error_type BOUNCED); ``replied`` (ended, not bounced, and reply_count > 0 or
    unenrolled_source REPLY or THREAD_REPLY); ``account_replied`` (ended, not bounced, not
    replied, unenrolled_source ACCOUNT_REPLY); ``unsubscribed`` (ended, step_error_type
    UNSUBSCRIBED).

    ``among_ended``: the same definitions over rows already filtered to ended ones (the cube's),
    without the test of ``ended`` that every such row passes (``ended`` is then true)."""
    source, error = typed("unenrolled_source"), typed("step_error_type")
    ended = typed("state").is_in(list(schema.ENDED_STATES))
    bounce = (source == "ERROR") & (error == "BOUNCED")
    reply = (typed("reply_count") > 0) | source.is_in(["REPLY", "THREAD_REPLY"])
    given = {  # each flag given that the enrollment ended
        "bounced": bounce,
        "replied": ~bounce & reply,
        "account_replied": ~bounce & ~reply & (source == "ACCOUNT_REPLY"),
        "unsubscribed": error == "UNSUBSCRIBED",
    }
    if among_ended:
        return {"ended": nw.lit(True), **given}
    return {"ended": ended, **{name: ended & flag for name, flag in given.items()}}


def build_cube(
    enrollments: pd.DataFrame,
    *,
    date_field: DateField = "ended_at",
    policy: Policy | str | None = None,
) -> Cube:
    """Build the daily counts cube from validated enrollments (the same query as every engine).

    Parameters
    ----------
    enrollments : DataFrame
        The table returned by :func:`load_enrollments`.
    date_field : {"ended_at", "enrolled_at"}
        Which timestamp decides an enrollment's day (and so the report window it falls in).
    policy : Policy or path, optional
        Supplies the time zone of the calendar days (default UTC).
    """
    _check_field(date_field)
    rows, span = typed_rows(enrollments, load_policy(policy).timezone)
    return cube_query(rows, date_field=date_field, timezone=span.zone)


def cube_of(opened: Opened, *, date_field: DateField = "ended_at") -> Cube:
    """The cube of a checked dataset, built on its engine (see :func:`senderscore.load.open_dataset`):
    from the checking pass's own scan where :func:`cube_riders` rode along it."""
    _check_field(date_field)
    return cube_query(opened.rows, date_field=date_field, timezone=opened.zone, ridden=opened.ridden)


def cube_riders(date_field: DateField = "ended_at") -> tuple[Rider, ...]:
    """The queries :func:`cube_of` runs, for :func:`senderscore.load.open_dataset` to take
    along the checking pass (one scan of the file instead of four, where the engine shares it)."""
    _check_field(date_field)
    counts = Rider(f"cube:{date_field}", lambda rows: _counts_query(rows, date_field))
    return counts, *name_riders(sequence_names=True)


def _check_field(date_field: str) -> None:
    if date_field not in ("ended_at", "enrolled_at"):
        raise InputError(f"date_field {date_field!r}: expected 'ended_at' or 'enrolled_at'.")


def cube_query(rows: Any, *, date_field: str, timezone: str, ridden: dict[str, pd.DataFrame] | None = None) -> Cube:
    """Group typed rows (any engine) into the :class:`Cube`: counts, user and sequence names;
    a query whose result is in ``ridden`` (see :func:`cube_riders`) is not run again."""
    ridden = ridden or {}
    counts = ridden.get(f"cube:{date_field}")
    if counts is None:
        counts = collect(_counts_query(rows, date_field))
    return _cube(rows, _finish(counts), date_field, timezone, ridden=ridden)


def _counts_query(rows: Any, date_field: str) -> Any:
    """The cube's counts: ended rows grouped by user, sequence and day, each count summed."""
    ended = rows.filter(flag_exprs()["ended"])
    sums = _sums(ended, None)
    user, sequence, day = typed("user_id"), typed("sequence_id"), _day(rows, date_field)
    if rows.implementation is nw.Implementation.POLARS:
        user, sequence, day, sums = _compact(user, sequence, day, sums)
    selected = ended.select(user.alias("user_id"), sequence.alias("sequence_id"), day.alias("day"), **sums)
    return selected.group_by(KEYS).agg(nw.len().alias("ended"), *[nw.col(c).sum() for c in sums])


def _compact(user: nw.Expr, sequence: nw.Expr, day: nw.Expr, sums: dict[str, nw.Expr]) -> tuple:
    """polars' cube group-by on narrower columns, the same groups and sums: ids as categories
    (each group's key held as a number), days as 32-bit numbers, flags summed as unsigned 32-bit
    numbers (a group would need four billion rows to overflow them; the engagement counts,
    user-supplied, keep 64 bits): this group-by set polars' peak memory (see
    benchmarks/README.md). :func:`_finish` gives back strings and 64-bit counts."""
    flags = {c: (e.cast(nw.UInt32) if c in COUNTS else e) for c, e in sums.items()}
    return user.cast(nw.Categorical), sequence.cast(nw.Categorical), day.cast(nw.Int32), flags


def window_cube(
    opened: Opened,
    *,
    date_field: DateField = "ended_at",
    start: object = None,
    end: object = None,
    sequence_names: bool = True,
) -> tuple[Cube, pd.Timestamp | None]:
    """What one table over one window needs, in one narrow pass instead of the daily cube.

    Returns a :class:`Cube` with one row per user x sequence with ended enrollments in the
    window (``start``..``end``, inclusive; its counts summed over the window's days, dated at
    the last of them), so that :func:`senderscore.sender_scores` over the same window gives the
    same table as from :func:`cube_of`; and the last day with ended enrollments in the whole
    data (how fresh the data is), or ``None``. ``sequence_names=False`` skips the pass that
    looks up sequence names (a per-user table shows none). Where :func:`window_riders` rode
    along the checking pass, no query runs again.
    """
    _check_field(date_field)
    key = _window_key(date_field, start, end)
    table = opened.ridden.get(key)
    if table is None:
        table = collect(_window_query(opened.rows, date_field, start, end))
    newest = table["__last"].max()
    table = table[table["ended"] > 0].drop(columns="__last").reset_index(drop=True)
    latest = None if pd.isna(newest) else pd.Timestamp(EPOCH_DAY) + pd.Timedelta(days=int(newest))
    counts, ridden = _finish(table), opened.ridden
    return _cube(opened.rows, counts, date_field, opened.zone, sequence_names=sequence_names, ridden=ridden), latest


def window_riders(
    *, date_field: DateField = "ended_at", start: object = None, end: object = None, sequence_names: bool = True
) -> tuple[Rider, ...]:
    """The queries :func:`window_cube` runs with the same arguments, to ride along the checking pass."""
    _check_field(date_field)
    window = Rider(_window_key(date_field, start, end), lambda rows: _window_query(rows, date_field, start, end))
    return window, *name_riders(sequence_names=sequence_names)


def _window_key(date_field: str, start: object, end: object) -> str:
    first, last = parse_window(start, end)
    return f"window:{date_field}:{first}:{last}"


def _window_query(rows: Any, date_field: str, start: object, end: object) -> Any:
    """Ended rows grouped by user and sequence: each count summed over the window's days, the
    window's last day with any (``day``) and the data's (``__last``)."""
    rows = rows.filter(flag_exprs()["ended"])
    day = _day(rows, date_field)
    first, last = parse_window(start, end)
    inside = nw.lit(True)
    if first is not None:
        inside = inside & (day >= day_number(first))
    if last is not None:
        inside = inside & (day <= day_number(last))
    sums = _sums(rows, inside.fill_null(False))
    return (
        rows.select(
            typed("user_id").alias("user_id"),
            typed("sequence_id").alias("sequence_id"),
            nw.when(inside).then(day).otherwise(None).alias("day"),
            day.alias("__last"),
            **sums,
        )
        .group_by(["user_id", "sequence_id"])
        .agg(nw.col("day").max(), nw.col("__last").max(), *[nw.col(c).sum() for c in sums])
    )


def _day(rows: Any, date_field: str) -> nw.Expr:
    """The calendar day (days since 1970) of ``date_field``, in the rows' report zone."""
    column = f"{TYPED}{date_field}_day"
    return nw.col(column) if column in rows.collect_schema().names() else nw.lit(None).cast(nw.Int64)


def _sums(rows: Any, counted: nw.Expr | None) -> dict[str, nw.Expr]:
    """What the cube sums per row of ended ``rows`` where ``counted``: each count (:func:`flag_exprs`)
    and the engagement counts present. ``counted`` None: every row, and ``ended`` is left to the
    caller (the group's length). DuckDB sums as floats (its integer sums are 128-bit)."""
    names = rows.collect_schema().names()
    summed = nw.Float64 if rows.implementation is nw.Implementation.DUCKDB else nw.Int64
    flags = flag_exprs(among_ended=True)
    if counted is None:
        sums = {c: flags[c].cast(summed) for c in COUNTS if c != "ended"}
    else:
        sums = {c: (flags[c] & counted).cast(summed) for c in COUNTS}
    for c in ENGAGEMENT:
        if TYPED + c in names:
            sums[c] = (
                typed(c).cast(summed) if counted is None else nw.when(counted).then(typed(c)).otherwise(0).cast(summed)
            )
    return sums


def _cube(
    rows: Any,
    counts: pd.DataFrame,
    date_field: str,
    timezone: str,
    *,
    sequence_names: bool = True,
    ridden: dict[str, pd.DataFrame],
) -> Cube:
    users = names_of(rows, "user_id", ridden)
    if sequence_names:
        sequences = names_of(rows, "sequence_id", ridden)
    else:  # no pass: the ids the counts hold
        sequences = pd.DataFrame({"sequence_id": sorted(counts["sequence_id"].unique())}, dtype=str)
    return Cube(counts, users, sequences, date_field, timezone)


def _finish(counts: pd.DataFrame) -> pd.DataFrame:
    """The engine's counts as the cube's frame: ids as text, days as naive midnights, counts as
    64-bit integers, sorted by user, sequence and day. Sorted here, not on the engine: one sort,
    and the same bytewise order whatever the engine; by each id's rank among the distinct ids
    (a few thousand), not by the strings. A new frame: the engine's result may be kept
    (``Opened.ridden``) and finished again."""
    engagement = [c for c in ENGAGEMENT if c in counts]
    (users, user_rank), (sequences, sequence_rank) = _ranks(counts["user_id"]), _ranks(counts["sequence_id"])
    days = counts["day"].to_numpy().astype("int64")
    order = np.lexsort((days, sequence_rank, user_rank))
    columns = {
        "user_id": users[user_rank[order]],
        "sequence_id": sequences[sequence_rank[order]],
        "day": days[order].astype("datetime64[D]").astype("datetime64[ns]"),
    }
    for column in (*COUNTS, *engagement):
        columns[column] = counts[column].to_numpy().astype("int64")[order]
    return pd.DataFrame(columns)


def _ranks(ids: pd.Series) -> tuple[pd.Index, np.ndarray]:
    """The distinct ids sorted as text, and each row's place among them (ids come as categories
    from polars, as text elsewhere; never missing: such a row is rejected)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        text = ids.cat.categories.astype(str)
        order = text.argsort(kind="stable")
        return text[order], order.argsort()[ids.cat.codes.to_numpy()]
    ranks, distinct = pd.factorize(ids.astype(str), sort=True)
    return distinct, ranks
