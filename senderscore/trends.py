"""Trends: score, reply and bounce rate per user per week or month, with the change
against the user's previous complete period. A sum over the cube, like every table."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .cube import Cube
from .load.dates import parse_window
from .policy import Policy, load_policy
from .scores import sender_scores

CHANGES = {"score": "score_change", "reply_rate": "reply_rate_change", "bounce_rate": "bounce_rate_change"}
LAST_DAY = {"week": pd.offsets.Week(weekday=6), "month": pd.offsets.MonthEnd(0)}


def period_end(starts: pd.Series, period: str) -> pd.Series:
    """The last day of each week (Monday to Sunday) or month that starts on ``starts``.

    >>> period_end(pd.Series(pd.to_datetime(["2026-02-01"])), "month").dt.date.tolist()
    [datetime.date(2026, 2, 28)]
    """
    return starts + LAST_DAY[period]


def trend_table(
    cube: Cube, *, period: str = "month", start: object = None, end: object = None, policy: Policy | None = None
) -> pd.DataFrame:
    """Per user and period: the scored table plus ``partial`` and the changes against the same
    user's previous complete period with ended enrollments (``score_change``,
    ``reply_rate_change``, ``bounce_rate_change``; empty for a user's first complete period and
    for partial periods). Sorted by user, then period.

    A period is ``partial`` when the window (``start``..``end``) cuts it: a week or a month
    the window covers only in part would compare a few days against a whole period.

    >>> from senderscore import build_cube, load_enrollments
    >>> from senderscore.paths import sample_data
    >>> cube = build_cube(load_enrollments(sample_data()).enrollments)
    >>> table = trend_table(cube, period="month", start="2026-01-10", end="2026-03-31")
    >>> table.groupby("period")["partial"].first().tolist()
    [True, False, False]
    >>> bool(table[~table["partial"]].groupby("user_id").head(1)["score_change"].isna().all())
    True
    """
    policy = load_policy(policy)
    table = sender_scores(cube, start=start, end=end, by="user", policy=policy, period=period)
    table = table.sort_values(["user_id", "period"], kind="stable").reset_index(drop=True)
    table["partial"] = _partial(table["period"], period, *parse_window(start, end))
    complete = table[~table["partial"]]
    grouped = complete.groupby("user_id", sort=False)
    for metric, change in CHANGES.items():
        table[change] = grouped[metric].diff().reindex(table.index)
    return table


def _partial(starts: pd.Series, period: str, first: dt.date | None, last: dt.date | None) -> pd.Series:
    ends = period_end(starts, period)
    partial = pd.Series(False, index=starts.index)
    if first is not None:
        partial |= starts.dt.date < first
    if last is not None:
        partial |= ends.dt.date > last
    return partial
