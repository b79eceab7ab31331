"""The report notebook's vocabulary: one call per cell, each returning something to display.

>>> import senderscore.notebook as rn
>>> ctx = rn.prepare("", "2026-01-01", "2026-03-31")  # empty input: the bundled sample
>>> ctx.period_label
'2026-01-01 to 2026-03-31'
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import json

from IPython.display import HTML

from . import charts, trend_charts
from .context import ReportContext, ReportParams, prepare_report
from .errors import InputError
from .evidence_sections import cleanup, domains, recommendations, trend_changes
from .report_facts import ALERT_COLUMNS, META_KEY
from .sections import attention, drilldown, methodology, user_table
from .sections import header as header_html

__all__ = [
    "attention",
    "cleanup",
    "domain_chart",
    "domains",
    "drilldown",
    "header",
    "methodology",
    "parameters",
    "prepare",
    "rate_chart",
    "recommendations",
    "score_chart",
    "trend_changes",
    "trend_chart",
    "user_table",
]

EMPTY = HTML("<p><i>No ended enrollments in this window.</i></p>")


class Tagged:
    """HTML plus metadata on its output: the runner reads the window and the per-user scores
    from the executed notebook instead of computing the report a second time."""

    def __init__(self, html: HTML, metadata: dict):
        self.html, self.metadata = html, metadata

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> tuple[dict, dict]:
        return {"text/html": self.html.data}, {META_KEY: self.metadata}


def header(ctx: ReportContext) -> Tagged:
    """Period, input file, rows read/used/rejected, policy (see :func:`senderscore.sections.header`)."""
    users = ctx.by_user.reindex(columns=ALERT_COLUMNS)
    return Tagged(
        header_html(ctx),
        {
            "start": ctx.start.isoformat() if ctx.start else "",
            "end": ctx.end.isoformat() if ctx.end else "",
            "stale": ctx.staleness,
            "by_user": json.loads(users.to_json(orient="records")),  # NaN -> null: valid JSON
        },
    )


RUNNER_ONLY = ("output_dir",)  # declared for `senderscore report`, which records it; prepare does not take it


def parameters(namespace: dict) -> dict:
    """The arguments of :func:`prepare` taken by name from the notebook's namespace (its
    parameters cell, as papermill filled it): the one list is :class:`ReportParams`' fields.

    A parameter papermill injected that the notebook does not take (``-p user Maya`` for
    ``users``) is an :class:`InputError` here: papermill itself only warns, and the report
    would silently cover everyone.
    """
    names = [f.name for f in dataclasses.fields(ReportParams)]
    unknown = sorted(injected(namespace) - set(names) - set(RUNNER_ONLY))
    if unknown:
        known = sorted([*names, *RUNNER_ONLY])
        near = [m for u in unknown for m in difflib.get_close_matches(u, known, n=1)]
        hint = f" Did you mean {', '.join(map(repr, near))}?" if near else ""
        raise InputError(f"unknown report parameter(s) {unknown!r}; the notebook takes {', '.join(known)}.{hint}")
    return {name: namespace[name] for name in names if name in namespace}


def injected(namespace: dict) -> set[str]:
    """Names papermill assigned in its injected cell (the kernel's input history keeps its
    source, which papermill opens with ``# Parameters``)."""
    found: set[str] = set()
    for source in namespace.get("In") or []:
        if isinstance(source, str) and source.startswith("# Parameters\n"):
            for node in ast.parse(source).body:
                targets = node.targets if isinstance(node, ast.Assign) else []
                found |= {t.id for t in targets if isinstance(t, ast.Name)}
    return found


def prepare(*args: object, **params: object) -> ReportContext:
    """Compute the report for these :class:`ReportParams` fields, by position or name (see
    :func:`senderscore.context.prepare_report`), and switch charts to offline SVG rendering."""
    charts.use_offline_renderer()
    return prepare_report(ReportParams(*args, **params))


def score_chart(ctx: ReportContext):
    """Score by user, bars coloured by band, the 95 % range as error bars."""
    return charts.score_chart(ctx.by_user, ctx.policy) if len(ctx.by_user) else EMPTY


def rate_chart(ctx: ReportContext):
    """Reply rate vs bounce rate per user, good zones shaded."""
    return charts.rate_chart(ctx.by_user, ctx.policy) if len(ctx.by_user) else EMPTY


def trend_chart(ctx: ReportContext):
    """Each official user's score per week or month, as small multiples; periods the window
    cuts are left out (see :func:`senderscore.trend_charts.trend_chart`)."""
    official = set(ctx.by_user.loc[ctx.by_user["eligible"], "user_id"])
    trend = ctx.trend[ctx.trend["user_id"].isin(official)]
    if trend.empty:
        return HTML("<p><i>No official score in this window: no trend to show.</i></p>")
    return trend_charts.trend_chart(trend, ctx.policy)


def domain_chart(ctx: ReportContext):
    """Bounce rate of the busiest recipient domains, typo domains in red."""
    return charts.domain_chart(ctx.domains, ctx.policy) if len(ctx.domains) else EMPTY
