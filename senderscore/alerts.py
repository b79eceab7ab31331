"""Alerts for scheduled runs: eligible users at or below a band."""

from __future__ import annotations

import pandas as pd

from .errors import InputError
from .policy import Policy

ALERT_EXIT = 3  # exit code of `score` and `report` with --fail-on-band when someone is at or below it


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
    lines = [f"ALERT: {len(hits)} user(s) with an official score at or below {band}:"]
    for _, row in hits.iterrows():
        name = row.get("user_name") or row["user_id"]
        lines.append(
            f"  {name} ({row['user_id']}): {row['score']:.1f} {row['band']}, "
            f"reply {row['reply_rate']:.1%}, bounce {row['bounce_rate']:.1%}, {int(row['ended'])} ended"
        )
    return "\n".join(lines)
