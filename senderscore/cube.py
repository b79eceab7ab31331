"""Enrollments -> daily counts cube: the only step that touches raw rows.

One row per user x sequence x calendar day (in the report time zone) of ended
enrollments, with the counts every table is summed from. The cube does not depend on
the scoring policy except for its time zone, so a policy change never rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from . import schema
from .dates import local_day
from .errors import InputError
from .policy import Policy, load_policy

DateField = Literal["ended_at", "enrolled_at"]
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


def enrollment_flags(enrollments: pd.DataFrame) -> pd.DataFrame:
    """Per-enrollment 0/1 flags of the definitions (ended, bounced, replied, ...)."""
    source = enrollments["unenrolled_source"]
    error = enrollments["step_error_type"]
    ended = enrollments["state"].isin(schema.ENDED_STATES)
    bounced = ended & (source == "ERROR") & (error == "BOUNCED")
    replied = ended & ~bounced & ((enrollments["reply_count"] > 0) | source.isin(("REPLY", "THREAD_REPLY")))
    account = ended & ~bounced & ~replied & (source == "ACCOUNT_REPLY")
    return pd.DataFrame(
        {
            "ended": ended,
            "bounced": bounced,
            "replied": replied,
            "account_replied": account,
            "unsubscribed": ended & (error == "UNSUBSCRIBED"),
        },
        index=enrollments.index,
    ).astype("int64")


def build_cube(
    enrollments: pd.DataFrame,
    *,
    date_field: DateField = "ended_at",
    policy: Policy | str | None = None,
) -> Cube:
    """Build the daily counts cube from validated enrollments.

    Parameters
    ----------
    enrollments : DataFrame
        The table returned by :func:`load_enrollments`.
    date_field : {"ended_at", "enrolled_at"}
        Which timestamp decides an enrollment's day (and so the report window it falls in).
    policy : Policy or path, optional
        Supplies the time zone of the calendar days (default UTC).
    """
    if date_field not in ("ended_at", "enrolled_at"):
        raise InputError(f"date_field {date_field!r}: expected 'ended_at' or 'enrolled_at'.")
    zone = load_policy(policy).timezone
    flags = enrollment_flags(enrollments)
    ended = flags["ended"].astype(bool)
    rows = enrollments.loc[ended]
    frame = flags.loc[ended].copy()
    frame["user_id"] = rows["user_id"].astype(str)
    frame["sequence_id"] = rows["sequence_id"].astype(str)
    # Calendar day in the report zone, kept as naive midnight: cheap to compare and group.
    frame["day"] = local_day(rows[date_field], zone)
    extra = [c for c in ENGAGEMENT if c in rows.columns]
    for column in extra:
        frame[column] = rows[column].astype("int64")
    keys = ["user_id", "sequence_id", "day"]
    counts = frame.groupby(keys, sort=True, observed=True)[list(COUNTS) + extra].sum().reset_index()
    return Cube(
        counts,
        _names(enrollments, "user_id", ("user_name", "user_email", "team")),
        _names(enrollments, "sequence_id", ("sequence_name",)),
        date_field,
        zone,
    )


def _names(enrollments: pd.DataFrame, key: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """One value of each name column per id: the greatest non-blank one, so that every engine
    (see :mod:`senderscore.engines`) picks the same name when an export has several."""
    present = [c for c in columns if c in enrollments.columns]
    ids = pd.Index(sorted(enrollments[key].astype(str).unique()), name=key)
    out = pd.DataFrame(index=ids)
    for column in present:
        values = enrollments[[key, column]][enrollments[column] != ""]
        out[column] = values.groupby(key)[column].max().reindex(ids).fillna("")
    return out.reset_index()
