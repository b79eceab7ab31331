"""The explorer's widgets: controls in, tables and browser-rendered charts out.

Charts are :class:`senderscore.vegawidget.VegaChart` widgets (Vega from vl-convert, no CDN):
each chart's spec is built and embedded once; a change then sends only its new rows, which Vega
applies as a data update, tooltips included.
"""

from __future__ import annotations

import asyncio
import time
from html import escape

import pandas as pd

try:
    import altair as alt
    import ipywidgets as widgets

    from .vegawidget import VegaChart
except (ModuleNotFoundError, ImportError) as exc:  # a core install: name the extra that brings the explorer
    name = getattr(exc, "name", None) or "anywidget"
    raise ModuleNotFoundError(
        f"the explorer needs the 'explore' extra ({name} is not installed): pip install 'senderscore[explore]'."
    ) from None

from . import charts, markup, trend_charts
from .evidence import plural
from .evidence_sections import cleanup_download
from .explore import PRESETS, Explorer, Filters, preset_window
from .output import to_csv
from .sections import score_html

CUSTOM = "custom"
SEQUENCES = 1  # the Sequences tab's index


def later(task: object) -> None:
    """Run ``task`` once the kernel has sent this change's updates (the download links are not
    what the analyst looks at first); at once where no event loop runs (a script, a test)."""
    try:
        asyncio.get_running_loop().call_soon(task)
    except RuntimeError:
        task()


def _spec(chart: alt.TopLevelMixin) -> dict:
    # validate=False: the builders are tested against the schema; validating a spec on every
    # change would cost more kernel time than computing its table.
    return chart.to_dict(validate=False)


class ExplorerView:
    """Controls (window, presets, date field, users, period), a status line, and three tabs:
    users (table, score chart, trend), sequences of a chosen user, findings and clean-up."""

    def __init__(self, explorer: Explorer) -> None:
        self.explorer = explorer
        self._quiet = False  # True while a preset sets both dates: one refresh, not three
        self._templates: dict[int, dict] = {}
        self._last: dict[str, tuple[tuple, pd.DataFrame]] = {}  # each table and the filters it was made for
        self._build()
        self.refresh()

    # -- controls -----------------------------------------------------------------------
    def _build(self) -> None:
        ex = self.explorer
        first, last = ex.span("ended_at")
        self.preset = widgets.Dropdown(options=[*PRESETS, CUSTOM], value="whole data", description="Window")
        self.start = widgets.DatePicker(value=first, min=first, max=last, description="From")
        self.end = widgets.DatePicker(value=last, min=first, max=last, description="To")
        self.date_field = widgets.ToggleButtons(options=["ended_at", "enrolled_at"], description="Date field")
        options = sorted(((name, uid) for uid, name in ex.names.items()), key=lambda o: o[0].lower())
        self.users = widgets.SelectMultiple(options=options, description="Users", rows=min(8, len(options)))
        self.period_picker = widgets.Dropdown(options=["month", "week"], value=ex.period, description="Trend by")
        self.sequence_user = widgets.Dropdown(options=options, description="User")
        self.status = widgets.HTML()
        self.table = widgets.HTML()
        self.sequences = widgets.HTML()
        self.downloads = widgets.HTML()
        self.evidence_button = widgets.Button(description="Find for this window", icon="search")
        self.evidence_html = widgets.HTML("<p>Findings and the clean-up list read the rows: press the button.</p>")
        self.score_chart = VegaChart()
        self.trend_chart = VegaChart()
        self.trend_note = widgets.HTML()
        self.preset.observe(self._on_preset, names="value")
        for control in (self.start, self.end):
            control.observe(self._on_date, names="value")
        self.date_field.observe(self._on_field, names="value")
        for control in (self.users, self.period_picker, self.sequence_user):
            control.observe(lambda _c: self.refresh(), names="value")
        self.evidence_button.on_click(lambda _b: self.show_evidence())
        self.tabs = tabs = widgets.Tab(
            children=[
                widgets.VBox([self.table, self.score_chart, self.trend_note, self.trend_chart]),
                widgets.VBox([self.sequence_user, self.sequences]),
                widgets.VBox([self.evidence_button, self.evidence_html]),
            ]
        )
        for i, title in enumerate(("Users", "Sequences", "Findings & clean-up")):
            tabs.set_title(i, title)
        tabs.observe(lambda _c: self.refresh() if tabs.selected_index == SEQUENCES else None, names="selected_index")
        controls = widgets.VBox(
            [
                widgets.HBox([self.preset, self.start, self.end]),
                widgets.HBox([self.date_field, self.period_picker]),
                self.users,
            ]
        )
        self.widget = widgets.VBox([controls, self.status, self.downloads, tabs])

    def _on_preset(self, change: dict) -> None:
        if change["new"] == CUSTOM:
            return
        start, end = preset_window(change["new"], *self.explorer.span(self.date_field.value))
        self._quiet = True
        try:
            self.start.value, self.end.value = start, end
        finally:
            self._quiet = False
        self.refresh()

    def _on_date(self, _change: dict) -> None:
        if self._quiet:
            return
        if self.preset.value != CUSTOM:
            self._quiet = True
            self.preset.value = CUSTOM
            self._quiet = False
        self.refresh()

    def _on_field(self, _change: dict) -> None:
        """Each date field has its own range: enrolled_at starts earlier than ended_at."""
        first, last = self.explorer.span(self.date_field.value)
        self._quiet = True
        try:
            for picker in (self.start, self.end):  # widen first, then clamp: min may not pass max
                picker.min, picker.max = min(picker.min, first), max(picker.max, last)
            self.start.value = min(max(self.start.value or first, first), last)
            self.end.value = min(max(self.end.value or last, first), last)
            for picker in (self.start, self.end):
                picker.min, picker.max = first, last
            if self.preset.value != CUSTOM:
                self.start.value, self.end.value = preset_window(self.preset.value, first, last)
        finally:
            self._quiet = False
        self.refresh()

    @property
    def filters(self) -> Filters:
        start, end = self.start.value, self.end.value
        if start and end and start > end:
            start, end = end, start
        return Filters(
            start,
            end,
            self.date_field.value,
            tuple(self.users.value),
            self.period_picker.value,
            # The sequence table is computed while its tab is open: a change elsewhere skips it.
            (self.sequence_user.value or "") if self.tabs.selected_index == SEQUENCES else "",
        )

    # -- views --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute from the cube and redraw; timings in ms go to ``explorer.timings``."""
        ex = self.explorer
        began = time.perf_counter()
        filters = self.filters
        tables, changed = self._tables(filters)
        computed = time.perf_counter()
        by_user, sequences = tables["by_user"], tables["sequences"]
        if "by_user" in changed:
            empty = "<p><i>No ended enrollments in this window.</i></p>"
            self.table.value = score_html(by_user, ["user_id"], ex.policy, "explore-users") if len(by_user) else empty
            if len(by_user):
                self._draw(self.score_chart, lambda: charts.score_chart(by_user, ex.policy), charts.score_data(by_user))
        if filters.sequence_user and "sequences" in changed:  # the tab is open
            name = escape(ex.names.get(filters.sequence_user, filters.sequence_user))
            self.sequences.value = (
                f"<p>{name}: sequences need {ex.policy.min_ended_sequence} ended enrollments for an official "
                "score.</p>" + score_html(sequences, ["sequence_id"], ex.policy, "explore-sequences")
                if len(sequences)
                else f"<p><i>{name} has no ended enrollment in this window.</i></p>"
            )
        if "trend" in changed and len(tables["trend"]):
            data, subtitle = trend_charts.trend_data(tables["trend"])
            self.trend_note.value = f"<small>{escape(' '.join(subtitle))}</small>"  # changes with the window
            title = trend_charts.trend_title("Sender score", []).to_dict()  # the chart's shape stays: rows only
            chart = lambda: trend_charts.trend_chart(tables["trend"], ex.policy, columns=3)  # noqa: E731
            self._draw(self.trend_chart, chart, data, title=title)
        done = time.perf_counter()
        ex.timings = {"tables_ms": (computed - began) * 1e3, "total_ms": (done - began) * 1e3}
        self.status.value = (
            f"<small>{ex.load.summary()}<br>{filters.describe(ex.names)} "
            f"Refreshed in {ex.timings['total_ms']:.0f} ms (tables {ex.timings['tables_ms']:.0f} ms).</small>"
        )
        later(lambda: self._downloads(tables, filters))

    def _tables(self, filters: Filters) -> tuple[dict[str, pd.DataFrame], set[str]]:
        """The three tables, each recomputed only when the filters it depends on changed (a new
        trend period leaves the per-user table as it is); and which ones were."""
        depends = {
            "by_user": (filters.date_field, filters.users, filters.start, filters.end),
            "trend": (filters.date_field, filters.users, filters.start, filters.end, filters.period),
            "sequences": (filters.date_field, filters.sequence_user, filters.start, filters.end),
        }
        changed = set()
        for name, key in depends.items():
            if name not in self._last or self._last[name][0] != key:
                self._last[name] = (key, getattr(self.explorer, name)(filters))
                changed.add(name)
        return {name: table for name, (_, table) in self._last.items()}, changed

    def _downloads(self, tables: dict[str, pd.DataFrame], filters: Filters) -> None:
        began = time.perf_counter()
        self.downloads.value = (
            "<small>Download the tables shown: "
            + " · ".join(
                markup.download_link(to_csv(table), f"{key}_{filters.start}_{filters.end}.csv", f"{key}.csv")
                for key, table in tables.items()
                if len(table)
            )
            + "</small>"
        )
        self.explorer.timings["downloads_ms"] = (time.perf_counter() - began) * 1e3

    def _draw(self, chart: VegaChart, build: object, data: pd.DataFrame, **properties: object) -> None:
        """Build a chart's spec once (altair's work), then only send its rows: Vega updates its data."""
        key = id(chart)
        if key not in self._templates:
            self._templates[key] = charts.with_data(_spec(build()), data.iloc[:0])  # its dataset renamed once
        chart.show({**self._templates[key], **properties}, charts.records_json(data))

    def show_evidence(self) -> None:
        """Findings and clean-up counts for the current window and users."""
        began = time.perf_counter()
        found = self.explorer.evidence(self.filters)
        findings = found["findings"]
        shown = findings[["severity", "user_name", "rule", "summary", "effect"]].rename(columns=str.capitalize)
        contacts = found["cleanup"]
        link = cleanup_download(contacts, "clean-up.csv", "clean-up.csv") if len(contacts) else ""
        self.evidence_html.value = (
            f"<p>{plural(len(findings), 'finding')}; {plural(len(contacts), 'contact')} on the clean-up list "
            f"(emails masked) {link}</p>"
            + markup.table(shown, "explore-findings")
            + '<div style="display:flex;flex-wrap:wrap;gap:24px">'
            + markup.table(found["cleanup_by_reason"].rename(columns=str.capitalize), "explore-cleanup-reasons")
            + markup.table(found["cleanup_by_user"].rename(columns=str.capitalize), "explore-cleanup-users")
            + f"</div><p><small>Computed in {(time.perf_counter() - began) * 1e3:.0f} ms.</small></p>"
        )

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # Exported HTML cannot run widgets offline: it shows this text, the filters in use.
        bundle["text/plain"] = self.filters.describe(self.explorer.names)
        return bundle
