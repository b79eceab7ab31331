"""Everything a report shows, computed once from the parameters: the report's data layer.

Notebooks call :func:`prepare_report` with their (string) parameters and then only
display what the returned :class:`ReportContext` holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import cache
from .alerts import check_band, stale
from .cube import Cube, cube_of, cube_riders, select_users
from .errors import InputError
from .evidence import domain_table, gather, recommend, suppression_list
from .files import write_text
from .load import LoadReport, Opened, Rider, open_dataset, pick_engine
from .load.windows import parse_window
from .output import to_csv
from .paths import resolve_input
from .policy import Policy, load_policy
from .scores import PERIODS, rollup, score_table, sender_scores, window
from .trends import trend_table


@dataclass
class ReportContext:
    """The inputs, the resolved window and every table of one report."""

    input_path: Path
    load: LoadReport
    policy: Policy
    cube: Cube
    start: dt.date | None
    end: dt.date | None
    date_field: str
    period: str
    by_user: pd.DataFrame
    by_user_sequence: pd.DataFrame
    trend: pd.DataFrame
    team: pd.Series
    findings: list = field(default_factory=list)
    cleanup: pd.DataFrame = field(default_factory=pd.DataFrame)
    domains: pd.DataFrame = field(default_factory=pd.DataFrame)
    providers: pd.DataFrame = field(default_factory=pd.DataFrame)
    alert_band: str = ""
    show_emails: bool = False
    engine: str = "pandas"  # where the rows were checked and grouped
    users: str = "all users"  # the users filter, as the header names it

    @property
    def staleness(self) -> str:
        """Why the data does not cover the window ('' when it does): see :func:`senderscore.alerts.stale`."""
        last = self.cube.span[1]
        ended = int(self.by_user["ended"].sum()) if len(self.by_user) else 0
        return stale(last_day=last.date() if last is not None else None, end=self.end, ended=ended)

    @property
    def period_label(self) -> str:
        if self.start is None:
            return "no ended enrollments"
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def _riders(path: Path, p: ReportParams, policy: Policy) -> tuple[Rider, ...]:
    """The daily cube's queries for the checking pass to take along, unless the cache holds the cube."""
    engine = pick_engine(path, p.engine)
    if cache.holds(path, zone=policy.timezone, date_field=p.date_field, engine=engine):
        return ()
    return cube_riders(p.date_field)


def _daily_cube(path: Path, opened: Opened, date_field: str, policy: Policy) -> Cube:
    """The daily cube from the cache of checked exports when it holds the file (the rows are
    read for the evidence either way), else built and kept for the next run (see senderscore.cache)."""

    def build() -> tuple[LoadReport, Cube]:
        return opened.report, cube_of(opened, date_field=date_field)

    zone, engine = policy.timezone, opened.report.engine
    return cache.remembered(Path(path), zone=zone, date_field=date_field, engine=engine, build=build)[1]


@dataclass(frozen=True)
class ReportParams:
    """A report's parameters: the one list that ``senderscore report``, the runner (papermill)
    and the notebook's parameters cell share (a test holds the cell's defaults to these).

    Dates are ISO strings (empty: the data's first or last day); ``users`` ids or names (empty:
    everyone; a comma-separated string is split); ``alert_band``: official scores at or below
    it are listed first (empty: none); ``engine``: where rows are checked and grouped (every
    section on every engine; see :func:`senderscore.load.open_dataset`).
    """

    input_path: str | Path = ""
    start_date: str = ""
    end_date: str = ""
    date_field: str = "ended_at"
    policy_path: str | Path = ""
    users: tuple[str, ...] = ()
    period: str = "month"
    alert_band: str = "Low"
    show_emails: bool = False
    engine: str = "auto"
    on_bad_rows: str = "error"
    rejects_path: str | Path = ""

    def __post_init__(self) -> None:
        users = self.users or ()
        if isinstance(users, str):
            users = [u.strip() for u in users.split(",") if u.strip()]
        object.__setattr__(self, "users", tuple(str(u) for u in users))
        for name in ("start_date", "end_date"):  # dates travel as ISO text (a date object becomes one)
            object.__setattr__(self, name, str(getattr(self, name) or ""))


def prepare_report(input_path: str | Path | ReportParams = "", **options: object) -> ReportContext:
    """Load, validate and score everything the report shows, for a :class:`ReportParams` or its
    fields as arguments (``input_path`` first). Bad input raises :class:`InputError` with the
    same message as ``senderscore score``."""
    p = input_path if isinstance(input_path, ReportParams) else ReportParams(input_path, **options)
    if p.period not in PERIODS:
        raise InputError(f"period {p.period!r}: expected 'week' or 'month'.")
    if p.date_field not in ("ended_at", "enrolled_at"):
        raise InputError(f"date_field {p.date_field!r}: expected 'ended_at' or 'enrolled_at'.")
    start, end = parse_window(p.start_date, p.end_date)
    policy = load_policy(p.policy_path or None)
    path = resolve_input(p.input_path)
    opened = open_dataset(
        path, engine=p.engine, policy=policy, on_bad_rows=p.on_bad_rows, riders=_riders(path, p, policy)
    )
    load = opened.report
    if load.rows_rejected and p.rejects_path:  # a scheduled run goes on; the skipped rows are kept here
        write_text(Path(p.rejects_path), to_csv(load.rejects), inputs=[path], what="rejects file")
    cube = select_users(_daily_cube(path, opened, p.date_field, policy), list(p.users))
    start, end = _resolve(cube, start, end)
    by_user = sender_scores(cube, start=start, end=end, by="user", policy=policy)
    by_user_sequence = sender_scores(cube, start=start, end=end, by="user-sequence", policy=policy)
    trend = trend_table(cube, period=p.period, start=start, end=end, policy=policy)
    totals = rollup(window(cube, start, end).assign(team="all"), ["team"])
    team = score_table(totals, policy).iloc[0] if len(totals) else pd.Series(dtype=object)
    ctx = ReportContext(
        path,
        load,
        policy,
        cube,
        start,
        end,
        p.date_field,
        p.period,
        by_user,
        by_user_sequence,
        trend,
        team,
        alert_band=check_band(p.alert_band, policy) if p.alert_band else "",
        show_emails=p.show_emails,
        engine=load.engine,
        users=_users_label(cube) if p.users else "all users",
    )
    if start is not None:
        _add_evidence(ctx, opened)
    return ctx


def _users_label(cube: Cube) -> str:
    names = cube.users.get("user_name", pd.Series("", index=cube.users.index)).fillna("")
    return ", ".join(f"{n} ({i})" if n else str(i) for i, n in zip(cube.users["user_id"], names, strict=True))


def _add_evidence(ctx: ReportContext, opened: object) -> None:
    """Findings, the clean-up list and recipient domains: the evidence sections, grouped on
    the engine that checked the rows."""
    ev = gather(opened, start=ctx.start, end=ctx.end, policy=ctx.policy, cube=ctx.cube)
    ctx.findings = recommend(ev)
    ctx.cleanup = suppression_list(ev, mask=not ctx.show_emails)
    ctx.domains = domain_table(ev.domain_counts)
    ctx.providers = domain_table(ev.domain_counts, by="provider")


def _resolve(cube: Cube, start: dt.date | None, end: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    first, last = cube.span
    if first is None:
        return start, end
    start = start or first.date()
    end = end or last.date()
    if start > end:
        raise InputError(
            f"the window {start} to {end} is empty: the data's ended enrollments run from "
            f"{first.date()} to {last.date()}."
        )
    return start, end
