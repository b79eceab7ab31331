"""An interactive explorer for JupyterLab: ipywidgets over the same package functions.

Every number comes from :meth:`Explorer.tables`, a plain method that works without a
front-end; the widgets only choose its arguments and show its result. A refresh reads
the daily counts cube, never the raw rows.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

try:
    import altair as alt
    import ipywidgets as widgets
except ModuleNotFoundError as exc:  # a core install: name the extra that brings the explorer
    raise ModuleNotFoundError(
        f"the explorer needs the 'explore' extra ({exc.name} is not installed): pip install 'senderscore[explore]'."
    ) from None

from . import charts
from .cube import Cube, build_cube, coarsen, select_users
from .load import load_enrollments
from .paths import resolve_input
from .policy import load_policy
from .scores import sender_scores
from .sections import styled


@dataclass
class Filters:
    """What the explorer shows: a window, the date field, users (empty = all), the period."""

    start: dt.date
    end: dt.date
    date_field: str = "ended_at"
    users: tuple[str, ...] = ()
    period: str = "month"

    def describe(self) -> str:
        users = ", ".join(self.users) if self.users else "all users"
        return (
            f"Filters: {self.start.isoformat()} to {self.end.isoformat()} by {self.date_field}; "
            f"{users}; trend by {self.period}."
        )


@dataclass
class Explorer:
    """Widgets over a loaded dataset. ``Explorer("")`` explores the bundled sample.

    Examples
    --------
    >>> explorer = Explorer("")
    >>> tables = explorer.tables(Filters(dt.date(2026, 1, 1), dt.date(2026, 1, 31)))
    >>> sorted(tables)
    ['by_user', 'trend']
    """

    source: str | Path = ""
    policy_path: str | Path | None = None
    period: str = "month"
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.policy = load_policy(self.policy_path or None)
        enrollments, self.load = load_enrollments(resolve_input(self.source), policy=self.policy)
        self._enrollments = enrollments
        self._cubes: dict[str, Cube] = {}
        first, last = self.cube("ended_at").span
        self.days = [d.date() for d in pd.date_range(first, last, freq="D")]
        self._build_widgets()
        self.refresh()

    def cube(self, date_field: str) -> Cube:
        """The user x day cube for a date field, built once (the only raw scan per date field).

        The explorer shows per-user tables only, so it keeps the cube summed over sequences:
        far fewer rows to filter on every refresh, the same numbers."""
        if date_field not in self._cubes:
            full = build_cube(self._enrollments, date_field=date_field, policy=self.policy)
            self._cubes[date_field] = coarsen(full)
        return self._cubes[date_field]

    def tables(self, filters: Filters) -> dict[str, pd.DataFrame]:
        """The per-user table and the trend for ``filters``: plain DataFrames."""
        cube = select_users(self.cube(filters.date_field), list(filters.users))
        kwargs = {"start": filters.start, "end": filters.end, "policy": self.policy}
        return {
            "by_user": sender_scores(cube, by="user", **kwargs),
            "trend": sender_scores(cube, by="user", period=filters.period, **kwargs),
        }

    @property
    def filters(self) -> Filters:
        start, end = self.window.value
        return Filters(start, end, self.date_field.value, tuple(self.users.value), self.period_picker.value)

    def _build_widgets(self) -> None:
        options = [(d.isoformat(), d) for d in self.days]
        self.window = widgets.SelectionRangeSlider(
            options=options,
            index=(0, len(options) - 1),
            continuous_update=False,
            description="Window",
            layout=widgets.Layout(width="95%"),
        )
        self.date_field = widgets.ToggleButtons(options=["ended_at", "enrolled_at"], description="Date field")
        names = self.cube("ended_at").users
        labels = names.get("user_name", names["user_id"]).where(lambda s: s != "", names["user_id"])
        self.users = widgets.SelectMultiple(
            options=list(zip(labels, names["user_id"])), description="Users", rows=min(8, len(names))
        )
        self.period_picker = widgets.Dropdown(options=["month", "week"], value=self.period, description="Trend by")
        self.status = widgets.HTML()
        self.table = widgets.HTML()
        self.chart = widgets.HTML()
        self.trend = widgets.HTML()
        for control in (self.window, self.date_field, self.users, self.period_picker):
            control.observe(lambda _change: self.refresh(), names="value")
        controls = widgets.VBox([self.window, widgets.HBox([self.date_field, self.period_picker]), self.users])
        self.view = widgets.VBox([controls, self.status, self.table, self.chart, self.trend])

    def refresh(self) -> None:
        """Recompute from the cube and redraw; timings in ms go to ``self.timings``."""
        start = time.perf_counter()
        filters = self.filters
        tables = self.tables(filters)
        computed = time.perf_counter()
        by_user = tables["by_user"]
        self.table.value = (
            styled(by_user, ["user_id"], self.policy, "explore-users").to_html()
            if len(by_user)
            else ("<p><i>No ended enrollments in this window.</i></p>")
        )
        self.chart.value = _svg(charts.score_chart(by_user, self.policy)) if len(by_user) else ""
        # One trend panel (the score) keeps a refresh quick; the report has all three.
        trend = charts.trend_chart(tables["trend"], self.policy, metric="score")
        self.trend.value = _svg(trend) if len(by_user) else ""
        done = time.perf_counter()
        self.timings = {"tables_ms": (computed - start) * 1e3, "total_ms": (done - start) * 1e3}
        self.status.value = (
            f"<small>{self.load.summary()}<br>{filters.describe()} "
            f"Refreshed in {self.timings['total_ms']:.0f} ms "
            f"(tables {self.timings['tables_ms']:.0f} ms).</small>"
        )

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        bundle = self.view._repr_mimebundle_(**kwargs)
        # Exported HTML cannot run widgets offline: it shows this text, the filters in use.
        bundle["text/plain"] = self.filters.describe()
        return bundle


def _svg(chart: alt.TopLevelMixin) -> str:
    buffer = io.StringIO()
    chart.save(buffer, format="svg")
    return buffer.getvalue()
