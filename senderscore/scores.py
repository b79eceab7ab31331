"""Cube -> scored tables: every table is a sum over the cube, then the policy.

Definitions (over ended enrollments in the window):

- ``reply_rate = replied / (ended - bounced)``; undefined (NaN) when every ended
  enrollment bounced. ``replied`` includes ACCOUNT_REPLY only if the policy says so.
- ``bounce_rate = bounced / ended``.
- ``reply_points`` and ``bounce_points`` from the policy's curves; ``score`` their sum,
  rounded to 6 decimals; ``band`` from the policy's bands.
- ``eligible``: ``ended >= min_ended_user`` for user rows (and per-period user rows),
  ``ended >= min_ended_sequence`` for sequence and user x sequence rows.
- ``*_low``/``*_high``: Wilson intervals at the policy's confidence; ``score_low`` takes
  the low reply bound with the high bounce bound, ``score_high`` the reverse.
"""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd

from .cube import COUNTS, ENGAGEMENT, Cube, DateField, build_cube
from .errors import InputError
from .load import load_enrollments
from .load.windows import parse_window
from .policy import Policy, load_policy

By = Literal["user", "sequence", "user-sequence"]
KEYS: dict[str, list[str]] = {
    "user": ["user_id"],
    "sequence": ["sequence_id"],
    "user-sequence": ["user_id", "sequence_id"],
}
METRICS = [
    "ended",
    "replied",
    "bounced",
    "reply_rate",
    "bounce_rate",
    "reply_points",
    "bounce_points",
    "score",
    "band",
    "eligible",
    "reply_rate_low",
    "reply_rate_high",
    "bounce_rate_low",
    "bounce_rate_high",
    "score_low",
    "score_high",
]
PERIODS = {"week": "W-SUN", "month": "M"}


def wilson_interval(
    successes: np.ndarray, trials: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion; NaN where ``trials`` is 0.

    >>> low, high = wilson_interval(np.array([7]), np.array([100]))
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.0343, 0.1375)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def score_table(counts: pd.DataFrame, policy: Policy | None = None, *, floor: int | None = None) -> pd.DataFrame:
    """Add rates, points, score, band, eligibility and intervals to a table of counts.

    ``counts`` needs ``ended``, ``bounced``, ``replied`` (and ``account_replied``, added
    to ``replied`` when the policy counts ACCOUNT_REPLY). Returns a new DataFrame.

    >>> t = score_table(pd.DataFrame({"ended": [100], "replied": [13], "bounced": [0]}))
    >>> row = t.iloc[0]
    >>> float(row["reply_rate"]), float(row["score"]), row["band"], bool(row["eligible"])
    (0.13, 100.0, 'Excellent', True)
    """
    policy = policy or load_policy(None)
    floor = policy.min_ended_user if floor is None else floor
    out = counts
    if policy.count_account_reply and "account_replied" in out:
        out = out.assign(replied=out["replied"] + out["account_replied"])
    ended = out["ended"].to_numpy(dtype=float)
    bounced = out["bounced"].to_numpy(dtype=float)
    replied = out["replied"].to_numpy(dtype=float)
    delivered = ended - bounced
    new: dict[str, np.ndarray] = {}  # built as arrays, joined once: a column at a time costs more than the math
    with np.errstate(divide="ignore", invalid="ignore"):
        new["reply_rate"] = np.where(delivered > 0, replied / delivered, np.nan)
        new["bounce_rate"] = np.where(ended > 0, bounced / ended, np.nan)
    new["reply_points"] = policy.reply_points_for(new["reply_rate"])
    new["bounce_points"] = policy.bounce_points_for(new["bounce_rate"])
    new["score"] = np.round(new["reply_points"] + new["bounce_points"], 6)
    new["band"] = policy.band_for(new["score"])
    new["eligible"] = ended >= floor
    new["reply_rate_low"], new["reply_rate_high"] = wilson_interval(replied, delivered, policy.confidence)
    new["bounce_rate_low"], new["bounce_rate_high"] = wilson_interval(bounced, ended, policy.confidence)
    low = policy.reply_points_for(new["reply_rate_low"]) + policy.bounce_points_for(new["bounce_rate_high"])
    high = policy.reply_points_for(new["reply_rate_high"]) + policy.bounce_points_for(new["bounce_rate_low"])
    new["score_low"], new["score_high"] = np.round(low, 6), np.round(high, 6)
    kept = out.drop(columns=[c for c in new if c in out.columns])
    return pd.concat([kept, pd.DataFrame(new, index=out.index)], axis=1)


def window(cube: Cube, start: object = None, end: object = None) -> pd.DataFrame:
    """Cube rows whose day lies in [start, end] (ISO dates, both inclusive; None = open)."""
    first, last = parse_window(start, end)
    days = cube.counts["day"]
    mask = np.ones(len(days), dtype=bool)
    if first is not None:
        mask &= (days >= pd.Timestamp(first)).to_numpy()
    if last is not None:
        mask &= (days <= pd.Timestamp(last)).to_numpy()
    return cube.counts[mask]


def period_start(days: pd.Series, period: str) -> pd.Series:
    """The first day of each day's week (Monday; weeks end on Sunday) or month.

    >>> period_start(pd.Series(pd.to_datetime(["2026-03-01", "2026-03-04"])), "week").dt.date.tolist()
    [datetime.date(2026, 2, 23), datetime.date(2026, 3, 2)]
    """
    values = days.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    if period == "month":
        starts = values.astype("datetime64[M]").astype("datetime64[D]")
    else:  # 1970-01-01 was a Thursday: (days + 3) % 7 counts days since Monday
        starts = values - ((values.astype("int64") + 3) % 7).astype("timedelta64[D]")
    return pd.Series(starts.astype("datetime64[ns]"), index=days.index)


def rollup(counts: pd.DataFrame, keys: list[str], period: str | None = None) -> pd.DataFrame:
    """Sum cube rows by ``keys`` (and by week or month of ``day`` when ``period`` is given)."""
    columns = [c for c in (*COUNTS, *ENGAGEMENT) if c in counts.columns]
    frame = counts
    if period is not None:
        if period not in PERIODS:
            raise InputError(f"period {period!r}: expected 'week' or 'month'.")
        frame = counts.assign(period=period_start(counts["day"], period))
        keys = [*keys, "period"]
    return frame.groupby(keys, sort=True, observed=True)[columns].sum().reset_index()


def sender_scores(
    data: Cube | pd.DataFrame | str | Path,
    *,
    start: object = None,
    end: object = None,
    by: By = "user",
    policy: Policy | str | Path | None = None,
    date_field: DateField = "ended_at",
    period: str | None = None,
) -> pd.DataFrame:
    """Sender scores per user, sequence or user x sequence over a date window.

    Parameters
    ----------
    data : Cube, DataFrame or path
        A cube from :func:`build_cube`, validated enrollments, or anything
        :func:`load_enrollments` reads (strictly validated).
    start, end : date or ISO string, optional
        Inclusive window on the calendar day of ``date_field`` in the policy's time zone.
    by : {"user", "sequence", "user-sequence"}
    policy : Policy or TOML path, optional
    date_field : {"ended_at", "enrolled_at"}
        Ignored when ``data`` is a Cube (the cube fixed it).
    period : {"week", "month"}, optional
        Adds a ``period`` column (start of the week or month) for trends.

    Returns
    -------
    DataFrame
        Key columns, then :data:`METRICS` in order, then names and engagement sums.
        Eligible rows come first, by score descending; provisional rows after them.

    Examples
    --------
    >>> from senderscore.sample import generate_sample
    >>> table = sender_scores(generate_sample(rows=2000, seed=1), by="user")
    >>> list(table.columns[:4])
    ['user_id', 'ended', 'replied', 'bounced']
    """
    policy = load_policy(policy)
    keys = _keys(by)
    cube = as_cube(data, policy=policy, date_field=date_field)
    if cube.timezone != policy.timezone:
        raise InputError(
            f"the cube was built in time zone {cube.timezone!r} but the policy uses "
            f"{policy.timezone!r}; rebuild it with build_cube(..., policy=policy)."
        )
    counts = _rollup(cube, keys, start, end, period)
    floor = policy.min_ended_user if by == "user" else policy.min_ended_sequence
    table = score_table(counts, policy, floor=floor)
    return _arranged(table, cube, keys, period)


def _arranged(table: pd.DataFrame, cube: Cube, keys: list[str], period: str | None) -> pd.DataFrame:
    """``table`` with the names joined, sorted (by period, then eligible rows first, by score
    descending, then by keys) and its columns in the documented order. One take of the whole
    frame and the names placed by position: a merge, a sort and a selection cost several times
    as much on the explorer's small tables."""
    by_key = [pd.factorize(table[k].to_numpy(), sort=True)[0] for k in reversed(keys)]
    when = [table["period"].to_numpy(dtype="datetime64[ns]").astype("int64")] if period else []
    sort_keys = [*by_key, -table["score"].to_numpy(dtype=float), -table["eligible"].to_numpy(dtype=int), *when]
    order = np.lexsort(sort_keys)  # stable, the last key first; NaN scores last, as pandas sorts them
    columns = keys + (["period"] if period else []) + METRICS
    extra = [c for c in table.columns if c not in columns and c != "account_replied"]
    parts = [table.iloc[order].reset_index(drop=True)]
    for key in ("user_id", "sequence_id"):
        if key in keys:
            ids, names = cube.name_lookup(key)
            at = ids.get_indexer(parts[0][key].to_numpy())  # a left join by position
            parts.append((names.take(at) if (at >= 0).all() else names.reindex(at)).reset_index(drop=True))  # -1: none
            extra += list(names.columns)
    return pd.concat(parts, axis=1)[columns + extra] if len(parts) > 1 else parts[0][columns + extra]


def _rollup(cube: Cube, keys: list[str], start: object, end: object, period: str | None) -> pd.DataFrame:
    """``rollup(window(cube, start, end), keys, period)``, from the cube's running totals when it
    keeps them (see :meth:`Cube.day_index`): the same table."""
    columns = [c for c in (*COUNTS, *ENGAGEMENT) if c in cube.counts.columns]
    index = cube.day_index(keys, columns)
    if index is None:
        return rollup(window(cube, start, end), keys, period)
    if period is not None and period not in PERIODS:
        raise InputError(f"period {period!r}: expected 'week' or 'month'.")
    return index.rollup(*parse_window(start, end), period)


def _keys(by: str) -> list[str]:
    key = by.replace("_", "-")
    if key not in KEYS:
        raise InputError(f"by {by!r}: expected one of {', '.join(KEYS)}.")
    return KEYS[key]


def as_cube(
    data: Cube | pd.DataFrame | str | Path, *, policy: Policy | None = None, date_field: DateField = "ended_at"
) -> Cube:
    """Return ``data`` if it is a Cube, else load/validate it and build the cube."""
    if isinstance(data, Cube):
        return data
    if isinstance(data, pd.DataFrame) and "source_row" in data.columns:
        return build_cube(data, date_field=date_field, policy=policy)
    enrollments, _ = load_enrollments(data, policy=policy)
    return build_cube(enrollments, date_field=date_field, policy=policy)
