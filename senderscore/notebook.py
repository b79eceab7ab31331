"""The report notebook's vocabulary: one call per cell, each returning something to display.

>>> import senderscore.notebook as rn
>>> ctx = rn.prepare("", "2026-01-01", "2026-03-31")  # empty input: the bundled sample
>>> ctx.period_label
'2026-01-01 to 2026-03-31'
"""

from __future__ import annotations

from IPython.display import HTML

from . import charts
from .context import ReportContext, prepare_report
from .evidence_sections import alerts, cleanup, domains, recommendations, trend_changes
from .sections import drilldown, header, methodology, team_summary, user_table

__all__ = [
    "alerts",
    "cleanup",
    "domain_chart",
    "domains",
    "drilldown",
    "header",
    "methodology",
    "prepare",
    "rate_chart",
    "recommendations",
    "score_chart",
    "team_summary",
    "trend_changes",
    "trend_chart",
    "user_table",
]

EMPTY = HTML("<p><i>No ended enrollments in this window.</i></p>")


def prepare(
    input_path: str = "",
    start_date: str = "",
    end_date: str = "",
    date_field: str = "ended_at",
    policy_path: str = "",
    users: list | str | None = None,
    period: str = "month",
    alert_band: str = "",
    show_emails: bool = False,
) -> ReportContext:
    """Compute the report (see :func:`senderscore.context.prepare_report`) and switch charts to
    offline SVG rendering."""
    charts.use_offline_renderer()
    return prepare_report(
        input_path, start_date, end_date, date_field, policy_path, users, period, alert_band, show_emails
    )


def score_chart(ctx: ReportContext):
    """Score by user, bars coloured by band, the 95 % range as error bars."""
    return charts.score_chart(ctx.by_user, ctx.policy) if len(ctx.by_user) else EMPTY


def rate_chart(ctx: ReportContext):
    """Reply rate vs bounce rate per user, good zones shaded."""
    return charts.rate_chart(ctx.by_user, ctx.policy) if len(ctx.by_user) else EMPTY


def trend_chart(ctx: ReportContext):
    """Score, reply rate and bounce rate per week or month."""
    return charts.trend_chart(ctx.trend, ctx.policy) if len(ctx.trend) else EMPTY


def domain_chart(ctx: ReportContext):
    """Bounce rate of the busiest recipient domains, typo domains in red."""
    return charts.domain_chart(ctx.domains, ctx.policy) if len(ctx.domains) else EMPTY
