"""The report's sections as HTML: header, team summary, tables, drill-down, methodology.

Every value that comes from the data (user and sequence names, file names) is escaped
before it reaches HTML.
"""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

from . import markup
from .attention import needs_attention
from .context import ReportContext
from .evidence import plural
from .markup import MUTED, badge, cards
from .output import percent
from .policy import Policy

MAX_SEQUENCES = 15  # per user in the drill-down; the CSV export has them all
# Rows of the whole drill-down (each styled row is ~1 kB of HTML): with many users each shows
# fewer sequences, so that the report stays under 3 MB at any input size.
DRILLDOWN_ROWS = 1200


def per_user_rows(users: int) -> int:
    """Sequences shown per user in the drill-down: 15, fewer (down to 3) when there are many users.

    >>> per_user_rows(15), per_user_rows(500)
    (15, 3)
    """
    return max(3, min(MAX_SEQUENCES, DRILLDOWN_ROWS // max(users, 1)))


def header(ctx: ReportContext) -> HTML:
    """Period, users, input file and rows, the policy's name (its wording is in Methodology)."""
    load = ctx.load
    rows = (
        f"{load.rows_read:,} rows read, {load.rows_used:,} used, {load.rows_rejected:,} rejected, "
        f"{load.duplicates_collapsed:,} identical duplicates collapsed"
    )
    why = ctx.staleness
    warning = f'<br><b class="ss-stale" style="color:#b00020">Data:</b> {escape(why)}' if why else ""
    p = ctx.policy
    return HTML(f"""<div class="ss-header" style="color:#333">
<p><b>Period:</b> {escape(ctx.period_label)} (by {escape(ctx.date_field)}, {escape(p.timezone)})<br>
<b>Users:</b> {escape(ctx.users)}<br>
<b>Input:</b> {escape(ctx.input_path.name)}: {rows}<br>
<b>Policy:</b> {escape(p.name)} {escape(p.version)} ({escape(p.source)}); how scores are made: Methodology, at the end.\
{warning}</p></div>""")


def attention(ctx: ReportContext) -> HTML:
    """The first screen: who needs attention, why, and the one action worth most; team numbers
    beside it (see :func:`senderscore.attention.needs_attention`)."""
    table = needs_attention(ctx.by_user, ctx.findings, ctx.policy, alert_band=ctx.alert_band)
    if table.empty:
        rule = f"no official score at or below {escape(ctx.alert_band)} and " if ctx.alert_band else ""
        body = f"<p>Nobody needs attention: {rule}no critical or high finding on an official score.</p>"
    else:
        items = "".join(_attention_line(row, ctx.policy) for _, row in table.iterrows())
        body = (
            f"<p><b>{plural(len(table), 'user needs', 'users need')} attention</b> (lowest score first):</p>"
            f'<ol class="ss-attention" data-table="attention" style="padding-left:2em;margin:0">{items}</ol>'
        )
    return HTML(
        '<div class="ss-first" style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">'
        f'<div style="flex:3 1 480px;min-width:0">{body}</div>'
        f'<div style="flex:1 1 330px">{team_summary(ctx)}</div></div>'
    )


def _attention_line(row: pd.Series, policy: Policy) -> str:
    score = (
        f"{row['score']:.1f} {badge(row['band'], policy)} "
        f'<span style="{MUTED}">(range {row["score_low"]:.0f}-{row["score_high"]:.0f}, '
        f"{int(row['ended']):,} ended)</span>"
        f'<br><span style="{MUTED}">Why here: {escape(row["why"])}.</span>'
    )
    if row["action"]:
        act = f"<b>First:</b> {escape(row['action'])}: <b>{row['points']:+.1f} points</b>"
        act += f", {plural(int(row['contacts']), 'contact')}." if row["contacts"] else "."
    else:
        act = "<b>First:</b> no single action with a measurable effect; see Findings."
    compliance = (
        f'<br><b style="color:#67001f">Compliance:</b> {escape(row["compliance"])}' if row["compliance"] else ""
    )
    return (
        f'<li style="margin:0 0 8px" data-user="{escape(str(row["user_id"]))}"><b>{escape(str(row["user_name"]))}</b>: '
        f"{score}<br>{escape(row['cause'])}<br>{act}{compliance}</li>"
    )


def team_summary(ctx: ReportContext) -> str:
    """Team numbers: users with an official score, ended enrollments, the team's rates, bands."""
    table = ctx.by_user
    official = table[table["eligible"]]
    counts = official["band"].value_counts()
    bands = " ".join(badge(b, ctx.policy, f"{b}: {int(counts.get(b, 0))}") for b in ctx.policy.band_names)
    team = ctx.team
    reply = percent(team.get("reply_rate")) if len(team) else "-"
    bounce = percent(team.get("bounce_rate")) if len(team) else "-"
    ended = f"{int(team['ended']):,}" if len(team) else "0"
    return (
        '<div class="ss-team" data-table="team">'
        + cards(
            [
                ("Official scores", f"{len(official)} of {len(table)} users", "the rest are provisional"),
                ("Ended enrollments", ended, "in the window"),
                ("Team reply rate", reply, f"good: {ctx.policy.reply_good_text}"),
                ("Team bounce rate", bounce, f"good: {ctx.policy.bounce_good_text}"),
            ]
        )
        + f"<p>Official scores by band: {bands}</p></div>"
    )


def score_frame(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Readable columns for a scored table: the name, then score, band, range and status (what a
    narrow screen must keep), then the rates and counts. (Built from lists in one go: the
    explorer makes one per change, and a frame grown column by column costs several times more.)"""
    columns: dict[str, list] = {}
    for key in keys:
        kind = key.removesuffix("_id")
        ids = table[key].astype(str).tolist()
        names = table[f"{kind}_name"].fillna("").astype(str).tolist() if f"{kind}_name" in table else [""] * len(ids)
        columns[kind.capitalize()] = [name or i for name, i in zip(names, ids)]
    columns["Score"] = [f"{v:.1f}" for v in table["score"].tolist()]
    columns["Band"] = table["band"].tolist()
    columns["95 % range"] = [f"{lo:.0f}-{hi:.0f}" for lo, hi in zip(table["score_low"], table["score_high"])]
    columns["Status"] = ["official" if e else "provisional" for e in table["eligible"].tolist()]
    columns["Reply rate"] = [percent(v) for v in table["reply_rate"].tolist()]
    columns["Bounce rate"] = [percent(v) for v in table["bounce_rate"].tolist()]
    for name in ("ended", "replied", "bounced"):
        columns[name.capitalize()] = [f"{v:,}" for v in table[name].tolist()]
    if "team" in table.columns and keys == ["user_id"]:
        columns["Team"] = table["team"].fillna("").tolist()
    return pd.DataFrame(columns, dtype=object)


def score_html(table: pd.DataFrame, keys: list[str], policy: Policy, table_id: str) -> str:
    """A scored table as HTML: bands on their colours, provisional rows greyed and italic."""
    return markup.table(
        score_frame(table, keys),
        table_id,
        row_style=lambda row: markup.PROVISIONAL if row["Status"] == "provisional" else "",
        cell_html={"Band": lambda band: badge(str(band), policy)},
    )


def user_table(ctx: ReportContext) -> HTML:
    """The per-user table: official rows first (by score), then provisional ones."""
    return HTML(score_html(ctx.by_user, ["user_id"], ctx.policy, "user-scores"))


def drilldown(ctx: ReportContext) -> HTML:
    """Per user, the user x sequence table (sequences under the floor marked provisional)."""
    parts = [
        f"<p class='ss-muted' style='{MUTED}'>Sequences need {ctx.policy.min_ended_sequence} ended enrollments "
        "for an official score. Click a user to open their sequences (printing opens them all).</p>"
    ]
    table = ctx.by_user_sequence
    shown = table.groupby("user_id", sort=False).head(per_user_rows(len(ctx.by_user)))
    per_user = dict(list(shown.groupby("user_id", sort=False)))
    totals = table["user_id"].value_counts()
    for _, user in ctx.by_user.iterrows():
        user_id = user["user_id"]
        mine = per_user.get(user_id, shown.iloc[:0])
        total = int(totals.get(user_id, 0))
        name = user.get("user_name") or user_id
        more = (
            f"<p style='{MUTED}'>{total - len(mine)} more sequences not shown; "
            "<code>senderscore score --by user-sequence</code> lists them all.</p>"
            if total > len(mine)
            else ""
        )
        status = "" if user["eligible"] else " (provisional)"
        html = score_html(mine, ["sequence_id"], ctx.policy, f"seq-{markup.slug(user_id)}")
        parts.append(
            f"<details><summary>{escape(str(name))}: {user['score']:.1f} "
            f"{badge(user['band'], ctx.policy)}{status}, {plural(total, 'sequence')}</summary>{html}{more}</details>"
        )
    return HTML("\n".join(parts))


DEFINITIONS = [
    ("Ended enrollment", "state FINISHED or UNENROLLED; only ended enrollments count."),
    (
        "Window",
        "ended enrollments whose {field} falls, as a calendar date in {tz}, between the first and last "
        "day, both included.",
    ),
    ("Bounced", "unenrolled with source ERROR and step error type BOUNCED."),
    (
        "Replied",
        "not bounced, and the contact replied at least once (reply count above 0, or unenrolled by REPLY "
        "or THREAD_REPLY){account}.",
    ),
    ("Reply rate", "replied / (ended - bounced); undefined when every ended enrollment bounced."),
    ("Bounce rate", "bounced / ended."),
    ("Score", "reply points + bounce points, 0 to 100; the band is the first whose minimum the score reaches."),
    (
        "Official / provisional",
        "a user needs at least {user} ended enrollments for an official score, a sequence "
        "{seq}. Provisional scores are shown, marked, and listed after official ones.",
    ),
    (
        "95 % range",
        "Wilson intervals of both rates; the low end pairs the low reply rate with the high bounce "
        "rate, the high end the reverse.",
    ),
]


def methodology(ctx: ReportContext) -> HTML:
    """The definitions and the policy, in words."""
    p = ctx.policy
    account = (
        "; ACCOUNT_REPLY (a colleague replied) counts too"
        if p.count_account_reply
        else ("; ACCOUNT_REPLY (a colleague replied) does not count")
    )
    items = "".join(
        f"<li><b>{name}</b>: "
        + escape(
            text.format(
                field=ctx.date_field, tz=p.timezone, account=account, user=p.min_ended_user, seq=p.min_ended_sequence
            )
        )
        + "</li>"
        for name, text in DEFINITIONS
    )
    return HTML(
        f"<ul>{items}</ul><p><b>Policy</b>: {escape(p.describe())}</p>"
        f'<pre style="white-space:pre-wrap">{escape(p.to_toml())}</pre>'
    )
