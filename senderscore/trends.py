"""Trends: score, reply and bounce rate per user per week or month, with the change
against the user's previous complete period. A sum over the cube, like every table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .cube import Cube
from .load.windows import parse_window
from .policy import Policy, load_policy
from .scores import sender_scores

CHANGES = {"score": "score_change", "reply_rate": "reply_rate_change", "bounce_rate": "bounce_rate_change"}


def period_end(starts: pd.Series, period: str) -> pd.Series:
    """The last day of each week (Monday to Sunday) or month that starts on ``starts``.

    >>> period_end(pd.Series(pd.to_datetime(["2026-02-01", "2026-12-01"])), "month").dt.date.tolist()
    [datetime.date(2026, 2, 28), datetime.date(2026, 12, 31)]
    >>> period_end(pd.Series(pd.to_datetime(["2026-03-02"])), "week").dt.date.tolist()
    [datetime.date(2026, 3, 8)]
    """
    days = starts.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    month_ends = (days.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1  # the next month's first, less a day
    ends = month_ends if period == "month" else days + 6
    return pd.Series(ends.astype("datetime64[ns]"), index=starts.index)


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
    # By user, then period: a take in lexsort's order costs a fraction of a pandas sort here.
    users = pd.factorize(table["user_id"].to_numpy(), sort=True)[0]
    order = np.lexsort((table["period"].to_numpy(dtype="datetime64[ns]"), users))
    table = table.take(order).reset_index(drop=True)
    partial = _partial(table["period"], period, *parse_window(start, end))
    # Changes between consecutive complete periods of one user (rows are sorted by user, period).
    rows = np.flatnonzero(~partial)
    users = table["user_id"].to_numpy(dtype=object)[rows]
    follows = np.r_[False, users[1:] == users[:-1]]
    changes = {}
    for metric, change in CHANGES.items():
        values = np.full(len(table), np.nan)
        kept = table[metric].to_numpy(dtype=float)[rows]
        values[rows[1:]] = np.where(follows[1:], kept[1:] - kept[:-1], np.nan)
        changes[change] = values
    return table.assign(partial=partial, **changes)


def _partial(starts: pd.Series, period: str, first: dt.date | None, last: dt.date | None) -> np.ndarray:
    days = starts.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    ends = period_end(starts, period).to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    partial = np.zeros(len(days), dtype=bool)
    if first is not None:
        partial |= days < np.datetime64(first, "D")
    if last is not None:
        partial |= ends > np.datetime64(last, "D")
    return partial
