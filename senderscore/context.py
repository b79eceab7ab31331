"""Everything a report shows, computed once from the parameters: the report's data layer.

Notebooks call :func:`prepare_report` with their (string) parameters and then only
display what the returned :class:`ReportContext` holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .alerts import at_or_below, check_band
from .cube import Cube, cube_of
from .domains import domain_table
from .errors import InputError
from .evidence import Evidence, gather
from .load import REPORT_BYTES, LoadReport, open_dataset, pick_engine, to_pandas
from .load.dates import parse_window
from .paths import resolve_input
from .policy import Policy, load_policy
from .recommend import CUBE_RULES, recommend
from .scores import PERIODS, rollup, score_table, sender_scores, window
from .suppress import suppression_list
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
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)
    alert_band: str = ""
    show_emails: bool = False
    engine: str = "pandas"  # duckdb or polars: the cube only, no per-contact rows

    @property
    def rows(self) -> bool:
        """Whether per-contact rows were read (clean-up list, domains, compliance rules)."""
        return self.engine == "pandas"

    @property
    def period_label(self) -> str:
        if self.start is None:
            return "no ended enrollments"
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


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


def prepare_report(
    input_path: str | Path = "",
    start_date: str = "",
    end_date: str = "",
    date_field: str = "ended_at",
    policy_path: str = "",
    users: list[str] | str | None = None,
    period: str = "month",
    alert_band: str = "",
    show_emails: bool = False,
    engine: str = "auto",
) -> ReportContext:
    """Load, validate and score everything the report shows.

    Parameters are the report notebook's: dates are ISO strings (empty = the data's first
    or last day), ``users`` ids or names (empty = all). Bad input raises
    :class:`InputError` with the same message as ``senderscore score``. ``engine`` pandas
    reads every row (all sections); duckdb or polars build only the cube (scores, trends,
    drill-down and the rules that need no contact rows), for files too large for memory;
    auto: pandas up to about two million rows (100 MB of Parquet, 400 MB of CSV).
    """
    if period not in PERIODS:
        raise InputError(f"period {period!r}: expected 'week' or 'month'.")
    if date_field not in ("ended_at", "enrolled_at"):
        raise InputError(f"date_field {date_field!r}: expected 'ended_at' or 'enrolled_at'.")
    start, end = parse_window(start_date, end_date)
    policy = load_policy(policy_path or None)
    path = resolve_input(input_path)
    engine = pick_engine(path, engine, threshold=REPORT_BYTES["parquet" if path.suffix == ".parquet" else "csv"])
    opened = open_dataset(path, engine=engine, policy=policy)
    load = opened.report
    cube = select_users(cube_of(opened, date_field=date_field), users)
    enrollments = None
    if engine == "pandas":  # per-contact evidence reads the rows in pandas
        enrollments = to_pandas(opened.rows)
        enrollments = enrollments[enrollments["user_id"].isin(cube.users["user_id"])]
    start, end = _resolve(cube, start, end)
    by_user = sender_scores(cube, start=start, end=end, by="user", policy=policy)
    by_user_sequence = sender_scores(cube, start=start, end=end, by="user-sequence", policy=policy)
    trend = trend_table(cube, period=period, start=start, end=end, policy=policy)
    totals = rollup(window(cube, start, end).assign(team="all"), ["team"])
    team = score_table(totals, policy).iloc[0] if len(totals) else pd.Series(dtype=object)
    ctx = ReportContext(
        path,
        load,
        policy,
        cube,
        start,
        end,
        date_field,
        period,
        by_user,
        by_user_sequence,
        trend,
        team,
        alert_band=check_band(alert_band, policy) if alert_band else "",
        show_emails=show_emails,
        engine=engine,
    )
    if start is not None and enrollments is not None:
        _add_evidence(ctx, enrollments)
    elif start is not None:  # the cube only: rules that need no contact rows
        ev = Evidence(pd.DataFrame(), cube, policy, start, end, by_user, by_user_sequence)
        ctx.findings = recommend(ev, CUBE_RULES)
    if ctx.alert_band:
        ctx.alerts = at_or_below(ctx.by_user, ctx.alert_band, ctx.policy)
    return ctx


def _add_evidence(ctx: ReportContext, enrollments: pd.DataFrame) -> None:
    """Findings, the clean-up list, recipient domains and alerts: the evidence sections."""
    ev = gather(enrollments, start=ctx.start, end=ctx.end, policy=ctx.policy, cube=ctx.cube)
    ctx.findings = recommend(ev)
    ctx.cleanup = suppression_list(ev, mask=not ctx.show_emails)
    wanted = [c for c in ("ended", "bounced", "replied", "domain", "contact_email") if c in ev.enrollments]
    counted = ev.enrollments.loc[ev.in_window.to_numpy(), wanted]  # not a copy of every column
    ctx.domains = domain_table(counted)
    ctx.providers = domain_table(counted, by="provider")


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
