"""Trends: score, reply and bounce rate per user per week or month, with the change
against the user's previous period. A sum over the cube, like every table."""

from __future__ import annotations

import pandas as pd

from .cube import Cube
from .policy import Policy, load_policy
from .scores import sender_scores

CHANGES = {"score": "score_change", "reply_rate": "reply_rate_change", "bounce_rate": "bounce_rate_change"}


def trend_table(
    cube: Cube, *, period: str = "month", start: object = None, end: object = None, policy: Policy | None = None
) -> pd.DataFrame:
    """Per user and period: the scored table plus ``score_change``, ``reply_rate_change`` and
    ``bounce_rate_change`` against the same user's previous period with ended enrollments
    (empty for a user's first period). Sorted by user, then period.

    >>> from senderscore import build_cube, load_enrollments
    >>> from senderscore.paths import sample_data
    >>> table = trend_table(build_cube(load_enrollments(sample_data()).enrollments), period="month")
    >>> bool(table.groupby("user_id").head(1)["score_change"].isna().all())
    True
    """
    policy = load_policy(policy)
    table = sender_scores(cube, start=start, end=end, by="user", policy=policy, period=period)
    table = table.sort_values(["user_id", "period"], kind="stable").reset_index(drop=True)
    grouped = table.groupby("user_id", sort=False)
    for metric, change in CHANGES.items():
        table[change] = grouped[metric].diff()
    return table
