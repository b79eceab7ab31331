"""The facts recommendation rules read: enrollment flags, the window, scores, contacts.

Rules need per-contact facts (who bounced, who was enrolled again), which the cube does
not keep, so they read the validated enrollments; every score they quote comes from the
same policy and the same definitions as the score tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .cube import COUNTS, Cube, build_cube, enrollment_flags
from .domains import email_domain, typo_of
from .load.dates import parse_window
from .policy import Policy, load_policy
from .scores import score_table, sender_scores

NEVER_ENGAGED_MIN = 3  # ended enrollments without an open, click or reply before a contact counts as unengaged


@dataclass
class Evidence:
    """Enrollments with their flags, the window, and the scored tables of the window."""

    enrollments: pd.DataFrame  # validated rows plus flags, domain, day columns
    cube: Cube
    policy: Policy
    start: dt.date
    end: dt.date
    by_user: pd.DataFrame
    by_user_sequence: pd.DataFrame

    @property
    def in_window(self) -> pd.Series:
        """Ended enrollments counted in the window's scores."""
        return self.enrollments["counted"]

    @cached_property
    def _names(self) -> dict[str, dict[str, str]]:
        users, sequences = self.cube.users, self.cube.sequences
        return {
            "user": dict(zip(users["user_id"], users.get("user_name", users["user_id"]))),
            "sequence": dict(zip(sequences["sequence_id"], sequences.get("sequence_name", sequences["sequence_id"]))),
        }

    def user_name(self, user_id: str) -> str:
        """The user's name where the data has one, else the id."""
        return self._names["user"].get(user_id) or str(user_id)

    def sequence_name(self, sequence_id: str) -> str:
        """The sequence's name where the data has one, else the id."""
        return self._names["sequence"].get(sequence_id) or str(sequence_id)

    @cached_property
    def _by_user(self) -> tuple[pd.DataFrame, dict]:
        wanted = ["user_id", "contact_id", "domain", "personalized", "counted", *COUNTS]
        counted = self.enrollments.loc[self.enrollments["counted"], [c for c in wanted if c in self.enrollments]]
        return counted, counted.groupby("user_id", sort=False).indices

    def counted_rows(self, user_id: str) -> pd.DataFrame:
        """The user's enrollments counted in the window (rows indexed as in ``enrollments``).

        Grouped once: a filter over all rows per user costs a full scan each time."""
        counted, positions = self._by_user
        return counted.iloc[positions.get(user_id, [])]

    @cached_property
    def users(self) -> pd.DataFrame:
        """``by_user`` indexed by user_id."""
        return self.by_user.set_index("user_id")

    @cached_property
    def reenrolled(self) -> dict[str, pd.DataFrame]:
        """:func:`reenrolled_after` BOUNCED and UNSUBSCRIBED, computed once for every rule."""
        return {error: reenrolled_after(self.enrollments, error) for error in ("BOUNCED", "UNSUBSCRIBED")}

    def rescore(self, user_id: str, removed: pd.DataFrame) -> pd.Series:
        """The user's window score had the enrollments in ``removed`` not been there."""
        before = self.users.loc[user_id]
        gone = removed.loc[removed["counted"], ["ended", "bounced", "replied", "account_replied"]].sum()
        if self.policy.count_account_reply:  # the table's "replied" already includes them
            gone["replied"] += gone["account_replied"]
        counts = {c: [int(before[c]) - int(gone[c])] for c in ("ended", "bounced", "replied")}
        return score_table(pd.DataFrame(counts), self.policy).iloc[0]


def gather(
    enrollments: pd.DataFrame,
    *,
    start: object = None,
    end: object = None,
    date_field: str = "ended_at",
    policy: Policy | str | None = None,
    cube: Cube | None = None,
) -> Evidence:
    """Flags, windows and scores for the rules. Blank dates default to the data's span."""
    policy = load_policy(policy)
    cube = cube or build_cube(enrollments, date_field=date_field, policy=policy)
    first, last = parse_window(start, end)
    span = cube.span
    first = first or (span[0].date() if span[0] is not None else dt.date.min)
    # Without an end, the window runs to the data's last day, enrollments still running included
    # (compliance rules look at when a contact was enrolled, not when it ended).
    newest = enrollments["enrolled_at"].max().tz_convert(policy.timezone).date()
    last = last or max(span[1].date(), newest) if span[1] is not None else last or newest
    facts = enrollment_flags(enrollments, policy=policy, date_field=cube.date_field)
    frame = pd.concat([enrollments, facts], axis=1)
    in_window = (frame["day"] >= pd.Timestamp(first)) & (frame["day"] <= pd.Timestamp(last))
    frame["counted"] = (frame["ended"] == 1) & in_window
    frame["domain"] = email_domain(frame["contact_email"]) if "contact_email" in frame else ""
    engaged = frame["replied"] + frame["account_replied"]
    for column in ("open_count", "click_count"):
        if column in frame:
            engaged = engaged + frame[column]
    frame["engaged"] = engaged > 0
    by_user = sender_scores(cube, start=first, end=last, by="user", policy=policy)
    by_seq = sender_scores(cube, start=first, end=last, by="user-sequence", policy=policy)
    return Evidence(frame, cube, policy, first, last, by_user, by_seq)


def member(values: pd.Series, members: object) -> np.ndarray:
    """``values.isin(members)`` as a boolean array, in Arrow's C++ hash set for text columns:
    pandas loops over a large ``members`` in Python (~1 s per 50,000 contacts)."""
    members = pd.Index(members)
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow" and len(members):
        arrow = pa.array(values.array)
        found = pc.is_in(arrow, value_set=pa.array(members.astype(str).to_numpy(dtype=object), type=arrow.type))
        return found.to_numpy(zero_copy_only=False)
    return values.isin(members).to_numpy()


def reenrolled_after(frame: pd.DataFrame, error: str) -> pd.DataFrame:
    """Enrollments of contacts enrolled again after an ended enrollment with ``step_error_type``
    ``error`` (BOUNCED or UNSUBSCRIBED), with the date of that first event."""
    events = frame[(frame["ended"] == 1) & (frame["step_error_type"] == error)]
    first = events.groupby("contact_id")["ended_at"].min()
    # Only the (few) contacts with such an event: a join over every row is a full hash pass.
    later = frame[member(frame["contact_id"], first.index)]
    if later.empty:
        return later.assign(event_at=frame["ended_at"].iloc[:0])
    later = later.assign(event_at=later["contact_id"].map(first))
    return later[later["enrolled_at"] > later["event_at"]]


def never_engaged(frame: pd.DataFrame, minimum: int = NEVER_ENGAGED_MIN) -> pd.Series:
    """Contacts with at least ``minimum`` ended enrollments and no open, click or reply in any."""
    ended = frame.loc[frame["ended"] == 1, ["contact_id", "engaged"]]
    # Integer codes and bincount: a groupby over a million string keys costs seconds.
    codes, contacts = pd.factorize(ended["contact_id"], sort=True)
    n = np.bincount(codes, minlength=len(contacts))
    engaged = np.bincount(codes, weights=ended["engaged"].to_numpy(dtype=float), minlength=len(contacts)) > 0
    keep = (n >= minimum) & ~engaged
    return pd.Series(n[keep], index=pd.Index(contacts[keep], name="contact_id"), name="n")


def typo_domains(frame: pd.DataFrame) -> pd.Series:
    """Domain -> the well-known domain it is probably a typo of, for the domains in ``frame``."""
    domains = pd.Series(frame["domain"].unique())
    matches = domains.map(typo_of)
    return pd.Series(matches.to_numpy(), index=domains.to_numpy()).dropna()


def median_rate(table: pd.DataFrame, min_delivered: int) -> float:
    """Median reply rate over rows with at least ``min_delivered`` delivered enrollments."""
    delivered = table["ended"] - table["bounced"]
    rates = table.loc[delivered >= min_delivered, "reply_rate"]
    return float(np.nanmedian(rates)) if len(rates) else float("nan")
