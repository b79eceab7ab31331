"""Alerts for scheduled runs: eligible users at or below a band; stale data."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .errors import InputError
from .output import plural
from .policy import Policy

ALERT_EXIT = 3  # exit code of `score` and `report` with --fail-on-band when someone is at or below it
STALE_EXIT = 4  # exit code of `score` and `report` with --fail-on-stale when the data does not cover the window


def check_band(band: str, policy: Policy) -> str:
    """The policy's spelling of ``band`` (any case), or a clear error."""
    names = {name.lower(): name for name in policy.band_names}
    if str(band).lower() not in names:
        raise InputError(f"band {band!r}: expected one of {', '.join(policy.band_names)}.")
    return names[str(band).lower()]


def at_or_below(by_user: pd.DataFrame, band: str, policy: Policy) -> pd.DataFrame:
    """Eligible users whose band is ``band`` or worse, worst score first.

    Provisional users never raise an alert: their scores are not official.
    """
    band = check_band(band, policy)
    worse = policy.band_names[policy.band_names.index(band) :]
    hits = by_user[by_user["eligible"] & by_user["band"].isin(worse)]
    return hits.sort_values(["score", "user_id"], kind="stable").reset_index(drop=True)


def describe(hits: pd.DataFrame, band: str) -> str:
    """One line per user, for stderr and the report's top."""
    lines = [f"ALERT: {plural(len(hits), 'user')} with an official score at or below {band}:"]
    for _, row in hits.iterrows():
        name = row.get("user_name") or row["user_id"]
        lines.append(
            f"  {name} ({row['user_id']}): {row['score']:.1f} {row['band']}, "
            f"reply {row['reply_rate']:.1%}, bounce {row['bounce_rate']:.1%}, {int(row['ended'])} ended"
        )
    return "\n".join(lines)


def stale(*, last_day: dt.date | None, end: dt.date | None, ended: int) -> str:
    """Why the data does not cover the window, or '' when it does: the window holds no ended
    enrollment, or it ends after the data's last day (an export that stopped being refreshed).

    >>> stale(last_day=dt.date(2026, 10, 31), end=dt.date(2026, 11, 27), ended=12)
    'the window ends 2026-11-27, 27 days after the last ended enrollment in the data (2026-10-31): is the export stale?'
    """
    if not ended:
        return "the window holds no ended enrollments: is the export stale, or the window wrong?"
    if last_day is not None and end is not None and end > last_day:
        days = (end - last_day).days
        return (
            f"the window ends {end.isoformat()}, {days} day{'s' * (days != 1)} after the last ended enrollment "
            f"in the data ({last_day.isoformat()}): is the export stale?"
        )
    return ""
