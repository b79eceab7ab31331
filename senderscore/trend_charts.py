"""Trend charts: one small panel per user, a metric per week or month (altair, like
:mod:`senderscore.charts`, whose band colours and labels they share)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .charts import PERCENT, band_scale, chart_labels, columns_at
from .errors import InputError
from .policy import Policy, load_policy

TREND_METRICS = {
    "score": ("Sender score", ".0f"),
    "reply_rate": ("Reply rate", "%"),
    "bounce_rate": ("Bounce rate", "%"),
}
TREND_COLUMNS = ["score", "reply_rate", "bounce_rate", "ended", "band"]
MAX_PANELS = 60  # small multiples in one trend chart: the busiest users; tables list everyone


def period_labels(periods: pd.Series) -> pd.Series:
    """Unique axis labels: ``'Jan 2026'`` for months, the week's Monday ``'2026-01-05'`` for weeks.

    >>> period_labels(pd.Series(pd.to_datetime(["2026-01-01", "2026-06-01"]))).tolist()
    ['Jan 2026', 'Jun 2026']
    """
    starts = np.unique(periods.to_numpy(dtype="datetime64[ns]"))
    names = dict(zip(starts, _labels(starts)))
    return pd.Series([names[p] for p in periods.to_numpy(dtype="datetime64[ns]")], index=periods.index, dtype=object)


def _labels(starts: np.ndarray) -> list[str]:
    """Labels of distinct period starts: months when every start is a first of the month and
    not every one a Monday (weeks start on Mondays; a month may too)."""
    stamps = pd.DatetimeIndex(starts)
    monthly = bool(len(stamps)) and bool((stamps.day == 1).all()) and bool((stamps.day_of_week != 0).any())
    return list(stamps.strftime("%b %Y" if monthly else "%Y-%m-%d"))


def trend_data(trend: pd.DataFrame, label: str = "user") -> tuple[pd.DataFrame, list[str]]:
    """The rows :func:`trend_chart` draws and its subtitle: partial periods left out, the
    :data:`MAX_PANELS` busiest users, the periods' and panels' order as columns. Built from
    arrays, once: the explorer makes it on every change."""
    if "period" not in trend.columns:
        raise InputError("trend_chart needs a 'period' column: pass sender_scores(..., period='month').")
    labels, status = chart_labels(trend, label)
    periods = trend["period"].to_numpy(dtype="datetime64[ns]")
    starts = np.unique(periods)  # every period, cut ones included: one labelling for all of them
    names = np.array(_labels(starts), dtype=object)
    position = np.searchsorted(starts, periods)
    partial = trend["partial"].to_numpy(dtype=bool) if "partial" in trend else np.zeros(len(trend), dtype=bool)
    left_out = [str(n) for n in names[np.unique(position[partial])]]
    keep = ~partial
    # The busiest first; ties in label order (what a stable sort of a sorted group-by gives).
    shown, inverse = np.unique(labels[keep].astype(str), return_inverse=True)
    ended = np.bincount(inverse, weights=trend["ended"].to_numpy(dtype=float)[keep], minlength=len(shown))
    busiest = shown[np.argsort(-ended, kind="stable")]
    panel = {name: i for i, name in enumerate(busiest[:MAX_PANELS])}
    keep &= np.fromiter((x in panel for x in labels), dtype=bool, count=len(labels))
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(position[rows], kind="stable")]
    out = pd.DataFrame(
        {
            "label": labels[rows],
            **columns_at(trend, TREND_COLUMNS, rows),
            "status": status[rows],
            "when": names[position[rows]],
            "order": position[rows] + 1,
            "panel": [panel[x] for x in labels[rows]],
        }
    )
    subtitle = ["Filled points: official; hollow: provisional (too few ended enrollments in the period)."]
    if left_out:
        subtitle.append(f"Left out, cut by the window: {', '.join(left_out)}.")
    if len(busiest) > len(panel):
        subtitle.append(f"The {len(panel)} busiest of {len(busiest)}; the table above lists everyone.")
    return out, subtitle


def trend_chart(
    trend: pd.DataFrame,
    policy: Policy | None = None,
    *,
    label: str = "user",
    metric: str = "score",
    columns: int = 4,
) -> alt.FacetChart:
    """One small panel per user: ``metric`` per week or month, points coloured by band.

    ``trend`` is :func:`senderscore.trends.trend_table` (or ``sender_scores(..., period=...)``).
    Every user gets a panel (up to :data:`MAX_PANELS`, the busiest first; the title says so
    when some are left out). Rows marked ``partial`` (a period the window cuts) are left out
    and named in the subtitle. Hollow, faded points are provisional periods (too few ended
    enrollments for an official score in that period).
    """
    policy = load_policy(policy)
    if metric not in TREND_METRICS:
        raise InputError(f"metric {metric!r}: expected one of {', '.join(TREND_METRICS)}.")
    data, subtitle = trend_data(trend, label)
    title, fmt = TREND_METRICS[metric]
    tip_fmt = PERCENT if fmt == "%" else ".1f"
    x_axis = alt.Axis(labelAngle=-45, labelOverlap="greedy")  # greedy: hide a label rather than overlap it
    base = alt.Chart().encode(
        x=alt.X("when:O", sort=alt.EncodingSortField(field="order", op="min"), title=None, axis=x_axis),
        y=alt.Y(f"{metric}:Q", title=title, axis=alt.Axis(format=fmt)),
    )
    tooltip = [
        alt.Tooltip("label:N", title=label.capitalize()),
        alt.Tooltip("when:O", title="Period"),
        alt.Tooltip(f"{metric}:Q", format=tip_fmt, title=title),
        alt.Tooltip("band:N"),
        alt.Tooltip("ended:Q", title="Ended"),
        alt.Tooltip("status:N"),
    ]
    colour = alt.Color("band:N", scale=band_scale(policy), title="Band")
    official = base.transform_filter("datum.status == 'official'").mark_point(size=45, filled=True, opacity=1)
    provisional = base.transform_filter("datum.status != 'official'").mark_point(size=45, filled=False, opacity=0.6)
    layers = alt.layer(
        base.mark_line(color="#999", strokeWidth=1),
        official.encode(color=colour, tooltip=tooltip),
        provisional.encode(color=colour, tooltip=tooltip),
    ).properties(width=190, height=110)
    panels = alt.Facet("label:N", title=None, sort=alt.EncodingSortField(field="panel", op="min"))
    return layers.facet(facet=panels, columns=columns, data=data).properties(title=trend_title(title, subtitle))


def trend_title(title: str, subtitle: list[str]) -> alt.Title:
    return alt.Title(f"{title} per period", subtitle=subtitle, anchor="start")
