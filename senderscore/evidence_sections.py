"""The report's evidence sections: alerts, recommendations, clean-up list, recipient domains,
trend changes. HTML with every data value escaped."""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML
from pandas.io.formats.style import Styler

from .context import ReportContext
from .output import percent

MAX_ROWS = 50  # rows of the clean-up list shown in the HTML report
MAX_DOMAINS = 20  # rows of the domain table: the domains with the most bounces
SEVERITY_COLOURS = {"critical": "#67001f", "high": "#d73027", "medium": "#fdae61", "low": "#91bfdb"}


def alerts(ctx: ReportContext) -> HTML:
    """Official scores at or below the alert band: the first thing a scheduled report shows."""
    if not ctx.alert_band:
        return HTML("<p class='ss-muted'>No alert band set for this run.</p>")
    if ctx.alerts.empty:
        return HTML(f"<p>No official score at or below <b>{escape(ctx.alert_band)}</b>.</p>")
    items = "".join(
        f"<li><b>{escape(str(r.get('user_name') or r['user_id']))}</b>: {r['score']:.1f} {escape(r['band'])} "
        f"(reply {percent(r['reply_rate'])}, bounce {percent(r['bounce_rate'])}, {int(r['ended']):,} ended)</li>"
        for _, r in ctx.alerts.iterrows()
    )
    return HTML(
        f"<div class='ss-alert' style='border-left:6px solid #d73027;padding:4px 12px'>"
        f"<b>{len(ctx.alerts)} user(s) with an official score at or below {escape(ctx.alert_band)}:</b>"
        f"<ul>{items}</ul></div>"
    )


def recommendations(ctx: ReportContext) -> HTML:
    """Findings, most severe first: summary, effect on the score, advice."""
    if not ctx.findings:
        return HTML("<p>No findings: nothing in this window calls for action.</p>")
    rows = []
    for f in ctx.findings:
        colour = SEVERITY_COLOURS.get(f.severity, "#999")
        rows.append(
            f"<tr data-rule='{escape(f.rule)}'><td><span class='ss-band' style='background:{colour};color:white'>"
            f"{escape(f.severity)}</span></td><td>{escape(f.user_name)}</td><td>{escape(f.rule.replace('_', ' '))}"
            f"</td><td>{escape(f.summary)}</td><td>{escape(f.effect)}</td><td>{escape(f.advice)}</td></tr>"
        )
    counts = pd.Series([f.severity for f in ctx.findings]).value_counts()
    head = ", ".join(f"{int(counts[s])} {s}" for s in SEVERITY_COLOURS if s in counts)
    return HTML(
        f"<p>{len(ctx.findings)} findings: {head}.</p><table class='ss-table' data-table='findings'>"
        "<thead><tr><th>Severity</th><th>User</th><th>Rule</th><th>Finding</th><th>Effect on the score</th>"
        f"<th>Advice</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def cleanup(ctx: ReportContext) -> Styler | HTML:
    """The clean-up list (emails masked unless the report shows them)."""
    table = ctx.cleanup
    if table.empty:
        return HTML("<p>No contact to exclude.</p>")
    note = "emails masked; run with show_emails to show them" if not ctx.show_emails else "emails shown"
    shown = table.head(MAX_ROWS)
    caption = (
        f"{len(table):,} contacts to exclude ({note}); the first {len(shown)} below. "
        "`senderscore suppress` writes the whole list as CRM-ready CSV."
    )
    return (
        shown.style.hide(axis="index")
        .format(escape="html")
        .set_uuid("cleanup")
        .set_caption(escape(caption))
        .set_table_attributes('class="ss-table" data-table="cleanup"')
    )


def domains(ctx: ReportContext) -> Styler | HTML:
    """Bounce and reply rate by mailbox provider, then for the domains with the most bounces."""
    if ctx.domains.empty:
        return HTML("<p>No contact emails in the data: no per-domain view.</p>")
    providers = _rates(ctx.providers, ["provider"])
    worst = ctx.domains.sort_values(["bounced", "ended"], ascending=False, kind="stable").head(MAX_DOMAINS)
    busiest = _rates(worst, ["domain", "provider"])
    busiest.insert(3, "Bounced", worst["bounced"].map("{:,}".format).to_numpy())
    busiest["Typo of"] = worst["typo_of"].fillna("").to_numpy()
    html = (
        providers.style.hide(axis="index")
        .format(escape="html")
        .set_uuid("providers")
        .set_table_attributes('class="ss-table" data-table="providers"')
        .to_html()
    )
    html += (
        busiest.style.hide(axis="index")
        .format(escape="html")
        .set_uuid("domains")
        .set_table_attributes('class="ss-table" data-table="domains"')
        .to_html()
    )
    return HTML(html)


def _rates(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = table[keys].rename(columns=str.capitalize)
    out["Ended"] = table["ended"].map("{:,}".format)
    out["Bounce rate"] = table["bounce_rate"].map(percent)
    out["Reply rate"] = table["reply_rate"].map(percent)
    return out.reset_index(drop=True)


def trend_changes(ctx: ReportContext) -> Styler | HTML:
    """Each user's last period against the one before: score, reply and bounce rate changes."""
    trend = ctx.trend
    if trend.empty:
        return HTML("<p>No periods to compare.</p>")
    last = trend.groupby("user_id", sort=False).tail(1).sort_values("score_change", kind="stable")
    out = pd.DataFrame(
        {
            "User": last.get("user_name", last["user_id"]).where(lambda s: s != "", last["user_id"]),
            "Period": last["period"].dt.strftime("%Y-%m-%d"),
            "Ended": last["ended"],
            "Score": last["score"].map("{:.1f}".format),
            "Change": last["score_change"].map(lambda v: "-" if pd.isna(v) else f"{v:+.1f}"),
            "Reply rate": last["reply_rate"].map(percent),
            "Reply change": last["reply_rate_change"].map(lambda v: "-" if pd.isna(v) else f"{v * 100:+.1f} pts"),
            "Bounce rate": last["bounce_rate"].map(percent),
            "Bounce change": last["bounce_rate_change"].map(lambda v: "-" if pd.isna(v) else f"{v * 100:+.1f} pts"),
            "Status": last["eligible"].map({True: "official", False: "provisional"}),
        }
    ).reset_index(drop=True)
    return (
        out.style.hide(axis="index")
        .format(escape="html")
        .set_uuid("trend-changes")
        .set_table_attributes('class="ss-table" data-table="trend-changes"')
    )
