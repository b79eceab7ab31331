"""An interactive explorer for JupyterLab: ipywidgets over the same package functions.

Every number comes from :meth:`Explorer.tables` and :meth:`Explorer.evidence`, plain
methods that work without a front-end; the widgets (:mod:`senderscore.explore_view`) only
choose their arguments and show their results. A refresh reads the daily counts cube,
never the raw rows; findings and the clean-up list read the rows, on demand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import cache
from .cube import Cube, coarsen, cube_of, cube_riders, select_users
from .evidence import findings_frame, gather, recommend, suppression_list
from .evidence_sections import REASONS, cleanup_counts
from .load import LoadReport, Opened, Rider, open_dataset, pick_engine
from .paths import resolve_input
from .policy import load_policy
from .scores import sender_scores
from .trends import trend_table

TABLES = ("by_user", "trend", "sequences")
MAX_SELECTIONS = 16  # user selections whose cubes are kept: small, and analysts go back and forth
PRESETS = ("whole data", "last 30 days", "last 90 days", "quarter to date", "last quarter", "year to date")


def preset_window(name: str, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """A named window ending on the data's last day ``last`` (an export ends before "today"),
    clipped to the data's first day ``first``.

    >>> d = dt.date
    >>> preset_window("last 30 days", d(2025, 11, 1), d(2026, 10, 31))
    (datetime.date(2026, 10, 2), datetime.date(2026, 10, 31))
    >>> preset_window("last quarter", d(2025, 11, 1), d(2026, 10, 31))
    (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
    """
    quarter = dt.date(last.year, 3 * ((last.month - 1) // 3) + 1, 1)
    windows = {
        "whole data": (first, last),
        "last 30 days": (last - dt.timedelta(days=29), last),
        "last 90 days": (last - dt.timedelta(days=89), last),
        "quarter to date": (quarter, last),
        "last quarter": (_quarter_before(quarter), quarter - dt.timedelta(days=1)),
        "year to date": (dt.date(last.year, 1, 1), last),
    }
    if name not in windows:
        raise ValueError(f"preset {name!r}: expected one of {', '.join(PRESETS)}.")
    start, end = windows[name]
    return max(start, first), max(min(end, last), max(start, first))


def _quarter_before(start: dt.date) -> dt.date:
    month = start.month - 3
    return dt.date(start.year - (month < 1), month + 12 * (month < 1), 1)


@dataclass(frozen=True)
class Filters:
    """What the explorer shows: a window, the date field, users (empty = all), the trend period,
    and the user whose sequences the Sequences tab lists."""

    start: dt.date
    end: dt.date
    date_field: str = "ended_at"
    users: tuple[str, ...] = ()
    period: str = "month"
    sequence_user: str = ""

    def describe(self, names: dict[str, str] | None = None) -> str:
        names = names or {}
        users = ", ".join(names.get(u, u) for u in self.users) if self.users else "all users"
        return (
            f"Filters: {self.start.isoformat()} to {self.end.isoformat()} by {self.date_field}; "
            f"{users}; trend by {self.period}."
        )


@dataclass
class Explorer:
    """The explorer's data and its widgets. ``Explorer("")`` explores the bundled sample.

    Examples
    --------
    >>> explorer = Explorer("")
    >>> first = sorted(explorer.names)[0]
    >>> tables = explorer.tables(Filters(dt.date(2026, 1, 1), dt.date(2026, 1, 31), sequence_user=first))
    >>> sorted(tables)
    ['by_user', 'sequences', 'trend']
    >>> bool(len(tables["sequences"])) and bool(tables["sequences"]["user_id"].eq(first).all())
    True
    """

    source: str | Path = ""
    policy_path: str | Path | None = None
    period: str = "month"
    engine: str = "auto"
    use_cache: bool = True
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.policy = load_policy(self.policy_path or None)
        self._path = Path(resolve_input(self.source))
        self._opened: Opened | None = None
        self._cubes: dict[tuple[str, bool], Cube] = {}
        self._selected: dict[tuple, Cube] = {}
        self.load: LoadReport | None = None  # set by the first cube: from the cache or the rows
        users = self.cube("ended_at").users
        names = users.get("user_name", pd.Series("", index=users.index)).fillna("")
        self.names = dict(zip(users["user_id"].astype(str), names.where(names != "", users["user_id"])))
        self._view = None

    def cube(self, date_field: str, *, sequences: bool = False) -> Cube:
        """The daily cube for a date field, built once (the only raw scan per date field):
        per user and day, or per user, sequence and day with ``sequences=True``."""
        key = (date_field, sequences)
        if key not in self._cubes:
            full = self._cubes.get((date_field, True)) or _python_strings(self._daily(date_field))
            self._cubes[(date_field, True)] = full
            self._cubes[(date_field, False)] = _python_strings(coarsen(full))  # fewer rows, same numbers
        return self._cubes[key]

    def selected(self, date_field: str, users: tuple[str, ...], *, sequences: bool = False) -> Cube:
        """:meth:`cube` for some users (all when none), kept for the next changes: the tables
        of one selection share its running totals and name lookups instead of each starting over."""
        key = (date_field, sequences, tuple(users))
        if key not in self._selected:
            if len(self._selected) >= MAX_SELECTIONS:
                del self._selected[next(iter(self._selected))]  # the oldest
            self._selected[key] = select_users(self.cube(date_field, sequences=sequences), list(users))
        return self._selected[key]

    def _daily(self, date_field: str) -> Cube:
        """The daily cube, from the cache of checked exports when it holds the file (no row read)."""

        def build() -> tuple[LoadReport, Cube]:
            opened = self._open(cube_riders(date_field))
            return opened.report, cube_of(opened, date_field=date_field)

        engine = pick_engine(self._path, self.engine)
        report, cube, _ = cache.remembered(
            self._path, zone=self.policy.timezone, date_field=date_field, engine=engine, build=build, use=self.use_cache
        )
        self.load = self.load or report
        return cube

    @property
    def opened(self) -> Opened:
        """The checked rows on their engine, opened on first use: refreshes read the cube, only
        findings and the clean-up list read rows."""
        return self._open()

    def _open(self, riders: tuple[Rider, ...] = ()) -> Opened:
        """:attr:`opened`, with ``riders`` in its checking pass when this opens it."""
        if self._opened is None:
            self._opened = open_dataset(self._path, engine=self.engine, policy=self.policy, riders=riders)
            self.load = self._opened.report
        return self._opened

    def span(self, date_field: str) -> tuple[dt.date, dt.date]:
        """The first and last day with ended enrollments, by ``date_field``."""
        first, last = self.cube(date_field).span
        return first.date(), last.date()

    def tables(self, filters: Filters) -> dict[str, pd.DataFrame]:
        """The per-user table, the trend, and the chosen user's sequences: plain DataFrames."""
        return {name: getattr(self, name)(filters) for name in TABLES}

    def by_user(self, filters: Filters) -> pd.DataFrame:
        """The per-user table of the window and users."""
        cube = self.selected(filters.date_field, filters.users)
        return sender_scores(cube, by="user", start=filters.start, end=filters.end, policy=self.policy)

    def trend(self, filters: Filters) -> pd.DataFrame:
        """The trend of the window and users, by the filters' period."""
        cube = self.selected(filters.date_field, filters.users)
        return trend_table(cube, period=filters.period, start=filters.start, end=filters.end, policy=self.policy)

    def sequences(self, filters: Filters) -> pd.DataFrame:
        """The sequences of ``filters.sequence_user`` in the window (none without one)."""
        if not filters.sequence_user:
            return pd.DataFrame(columns=["user_id", "sequence_id"])
        mine = self.selected(filters.date_field, (filters.sequence_user,), sequences=True)
        return sender_scores(mine, by="user-sequence", start=filters.start, end=filters.end, policy=self.policy)

    def evidence(self, filters: Filters) -> dict[str, pd.DataFrame]:
        """Findings and clean-up counts (by reason and by user) for the window and users: they
        read the rows, so the explorer computes them when asked, not on every change."""
        cube = self.selected(filters.date_field, filters.users, sequences=True)
        ev = gather(
            self.opened,
            start=filters.start,
            end=filters.end,
            date_field=filters.date_field,
            policy=self.policy,
            cube=cube,
        )
        contacts = suppression_list(ev, mask=True)
        if len(contacts):
            by_reason, by_user = cleanup_counts(contacts)
            by_user = by_user[["user", "contacts"]]
        else:
            by_reason = pd.DataFrame({"reason": list(REASONS.values()), "contacts": 0})
            by_user = pd.DataFrame(columns=["user", "contacts"])
        return {
            "findings": findings_frame(recommend(ev)),
            "cleanup": contacts,
            "cleanup_by_reason": by_reason,
            "cleanup_by_user": by_user,
        }

    @property
    def view(self):
        """The widgets (built on first use: a headless run that only wants tables never pays)."""
        if self._view is None:
            from .explore_view import ExplorerView

            self._view = ExplorerView(self)
        return self._view

    @property
    def filters(self) -> Filters:
        return self.view.filters

    def refresh(self) -> None:
        self.view.refresh()

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        return self.view._repr_mimebundle_(**kwargs)


def _python_strings(cube: Cube) -> Cube:
    """The cube with its text columns held as Python strings (object dtype), not Arrow: every
    refresh sorts, joins and slices tables of tens to hundreds of rows, where each Arrow call's
    fixed cost outweighs the work (see benchmarks/README.md, the explorer)."""

    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)]
        return frame.astype(dict.fromkeys(text, object)) if text else frame

    return Cube(plain(cube.counts), plain(cube.users), plain(cube.sequences), cube.date_field, cube.timezone)
