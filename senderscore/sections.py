"""The report's sections as HTML: header, team summary, tables, drill-down, methodology.

Every value that comes from the data (user and sequence names, file names) is escaped
before it reaches HTML.
"""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML
from pandas.io.formats.style import Styler

from .charts import PALETTE
from .context import ReportContext
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


STYLE = """<style>
.ss-cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.ss-card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:150px}
.ss-card b{display:block;font-size:1.5em}
.ss-band{display:inline-block;border-radius:4px;padding:1px 6px;margin-right:4px}
.ss-stale{color:#b00020}
table.ss-table td,table.ss-table th{padding:3px 8px}
.ss-muted{color:#666}
</style>"""


def band_colours(policy: Policy) -> dict[str, str]:
    return dict(zip(policy.band_names, PALETTE))


def _badge(band: str, policy: Policy, text: str | None = None) -> str:
    colour = band_colours(policy).get(band, "#999")
    return f'<span class="ss-band" style="background:{colour}">{escape(text or band)}</span>'


def _slug(value: object) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(value))


def header(ctx: ReportContext) -> HTML:
    """Period, input file, rows read/used/rejected, policy and its cut-offs."""
    load = ctx.load
    rows = (
        f"{load.rows_read:,} rows read, {load.rows_used:,} used, {load.rows_rejected:,} rejected, "
        f"{load.duplicates_collapsed:,} identical duplicates collapsed"
    )
    why = ctx.staleness
    warning = f'<br><b class="ss-stale">Data:</b> {escape(why)}' if why else ""
    return HTML(f"""{STYLE}<div class="ss-header">
<p><b>Period:</b> {escape(ctx.period_label)} (by {escape(ctx.date_field)}, {escape(ctx.policy.timezone)})<br>
<b>Users:</b> {escape(ctx.users)}<br>
<b>Input:</b> {escape(ctx.input_path.name)}: {rows}<br>
<b>Policy:</b> {escape(ctx.policy.describe())}{warning}</p></div>""")


def team_summary(ctx: ReportContext) -> HTML:
    """Users with an official score, the band distribution, the team's rates."""
    table = ctx.by_user
    official = table[table["eligible"]]
    counts = official["band"].value_counts()
    bands = " ".join(_badge(b, ctx.policy, f"{b}: {int(counts.get(b, 0))}") for b in ctx.policy.band_names)
    team = ctx.team
    reply = percent(team.get("reply_rate")) if len(team) else "-"
    bounce = percent(team.get("bounce_rate")) if len(team) else "-"
    ended = f"{int(team['ended']):,}" if len(team) else "0"
    low, high = ctx.policy.reply_good
    return HTML(f"""<div class="ss-cards">
<div class="ss-card">Users with an official score<b>{len(official)} of {len(table)}</b></div>
<div class="ss-card">Ended enrollments<b>{ended}</b></div>
<div class="ss-card">Team reply rate<b>{reply}</b>good: {low:.0%}-{high:.0%}</div>
<div class="ss-card">Team bounce rate<b>{bounce}</b>good: under {ctx.policy.bounce_good_max:.0%}</div>
</div><p>Official scores by band: {bands}</p>""")


def score_frame(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Readable columns for a scored table (percentages, score range, status)."""
    out = pd.DataFrame(index=table.index)
    for key in keys:
        kind = key.removesuffix("_id")
        names = table.get(f"{kind}_name", pd.Series("", index=table.index)).fillna("")
        out[kind.capitalize()] = names.where(names != "", table[key].astype(str))
    if "team" in table.columns and keys == ["user_id"]:
        out["Team"] = table["team"].fillna("")
    out["Ended"] = table["ended"].map("{:,}".format)
    out["Replied"] = table["replied"].map("{:,}".format)
    out["Bounced"] = table["bounced"].map("{:,}".format)
    out["Reply rate"] = table["reply_rate"].map(percent)
    out["Bounce rate"] = table["bounce_rate"].map(percent)
    out["Score"] = table["score"].map("{:.1f}".format)
    out["95 % range"] = [f"{lo:.0f}-{hi:.0f}" for lo, hi in zip(table["score_low"], table["score_high"])]
    out["Band"] = table["band"]
    out["Status"] = table["eligible"].map({True: "official", False: "provisional"})
    return out.reset_index(drop=True)


def styled(table: pd.DataFrame, keys: list[str], policy: Policy, table_id: str) -> Styler:
    """A Styler with band colours; provisional rows greyed and italic."""
    frame = score_frame(table, keys)
    colours = band_colours(policy)

    def row_style(row: pd.Series) -> list[str]:
        muted = "color:#777;font-style:italic" if row["Status"] == "provisional" else ""
        return [
            f"background-color:{colours.get(row['Band'], '#fff')};color:#111" if col == "Band" else muted
            for col in row.index
        ]

    # A fixed uuid keeps element ids stable from run to run (diffable reports, nbval).
    return (
        frame.style.apply(row_style, axis=1)
        .hide(axis="index")
        .format(escape="html")
        .set_uuid(table_id)
        .set_table_attributes(f'class="ss-table" data-table="{table_id}"')
    )


def html_rows(frame: pd.DataFrame, policy: Policy) -> list[str]:
    """A :func:`score_frame` as ``<tr>`` strings, coloured as :func:`styled` colours them: a pandas
    Styler per table costs ~30 ms and ~1 kB of CSS per row, too much for hundreds of users."""
    colours = band_colours(policy)
    rows = []
    for values in frame.to_dict("records"):
        muted = ' style="color:#777;font-style:italic"' if values["Status"] == "provisional" else ""
        cells = "".join(
            f'<td style="background-color:{colours.get(v, "#fff")};color:#111">{escape(str(v))}</td>'
            if column == "Band"
            else f"<td>{escape(str(v))}</td>"
            for column, v in values.items()
        )
        rows.append(f"<tr{muted}>{cells}</tr>")
    return rows


def user_table(ctx: ReportContext) -> Styler:
    """The per-user table: official rows first (by score), then provisional ones."""
    return styled(ctx.by_user, ["user_id"], ctx.policy, "user-scores")


def drilldown(ctx: ReportContext) -> HTML:
    """Per user, the user x sequence table (sequences under the floor marked provisional)."""
    parts = [
        f"<p class='ss-muted'>Sequences need {ctx.policy.min_ended_sequence} ended enrollments for an "
        "official score. Click a user to open their sequences.</p>"
    ]
    table = ctx.by_user_sequence
    shown = table.groupby("user_id", sort=False).head(per_user_rows(len(ctx.by_user)))
    frame = score_frame(shown, ["sequence_id"])  # once for every user: ~20 ms per call
    rows = html_rows(frame, ctx.policy)
    positions = pd.Series(range(len(shown))).groupby(shown["user_id"].to_numpy(), sort=False).agg(list)
    totals = table["user_id"].value_counts()
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    for _, user in ctx.by_user.iterrows():
        user_id = user["user_id"]
        mine = [rows[i] for i in positions.get(user_id, [])]
        total = int(totals.get(user_id, 0))
        name = user.get("user_name") or user_id
        more = (
            f"<p class='ss-muted'>{total - len(mine)} more sequences not shown; "
            "<code>senderscore score --by user-sequence</code> lists them all.</p>"
            if total > len(mine)
            else ""
        )
        status = "" if user["eligible"] else " (provisional)"
        html = (
            f'<table class="ss-table" data-table="seq-{escape(_slug(user_id))}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(mine)}</tbody></table>"
        )
        parts.append(
            f"<details><summary>{escape(str(name))}: {user['score']:.1f} "
            f"{_badge(user['band'], ctx.policy)}{status}, {total} sequences</summary>{html}{more}</details>"
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
    return HTML(f"<ul>{items}</ul><p>{escape(p.describe())}</p><pre>{escape(p.to_toml())}</pre>")
