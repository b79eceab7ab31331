"""The report's evidence sections: findings, clean-up list, recipient domains, trend changes.
HTML with every data value escaped (:mod:`senderscore.markup`)."""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

from . import markup
from .context import ReportContext
from .evidence import plural
from .evidence.findings import ADVICE, SEVERITIES, TITLES, Finding
from .output import percent, to_csv_within

TOP_CONTACTS = 20  # contacts shown in the report; the download holds the whole list
MAX_DOWNLOAD = 20_000_000  # bytes of CSV embedded in the page; past it, `senderscore suppress` writes it
MAX_DOMAINS = 20  # rows of the domain table: the domains with the most bounces
SEVERITY_COLOURS = {"critical": "#67001f", "high": "#d73027", "medium": "#fdae61", "low": "#91bfdb"}
WIDTHS = {"Severity": "6em", "Finding": "11em", "Effect on the score": "9em"}  # findings tables line up
# Clean-up reasons, most urgent first: the order the list is read in.
REASONS = {
    "unsubscribed": "Unsubscribed (compliance)",
    "hard bounced": "Hard bounced",
    "suspected typo domain": "Suspected typo domain",
    "never engaged": "Never engaged",
}


def _severity(severity: str) -> str:
    colour = SEVERITY_COLOURS.get(severity, "#999")
    text = "#fff" if severity in ("critical", "high") else "#111"
    return (
        f'<span class="ss-band" style="background-color:{colour};color:{text};border-radius:4px;'
        f'padding:1px 6px">{escape(severity)}</span>'
    )


def recommendations(ctx: ReportContext) -> HTML:
    """Findings grouped per user (official users first, by severity and effect); each row holds
    the evidence, and each rule's advice is said once, under the groups."""
    if not ctx.findings:
        return HTML("<p>No findings: nothing in this window calls for action.</p>")
    groups: dict[str, list[Finding]] = {}
    for f in ctx.findings:  # already ordered: official first, severity, effect
        groups.setdefault(f.user_id, []).append(f)
    counts = pd.Series([f.severity for f in ctx.findings]).value_counts()
    head = ", ".join(f"{int(counts[s])} {s}" for s in SEVERITIES if s in counts)
    parts = [f"<p>{plural(len(ctx.findings), 'finding')} for {plural(len(groups), 'user')}: {head}.</p>"]
    for findings in groups.values():
        first = findings[0]
        status = "" if first.official else " (provisional score: findings wait for more data)"
        frame = pd.DataFrame(
            {
                "Severity": [f.severity for f in findings],
                "Finding": [f.title for f in findings],
                "Evidence": [" ".join(p for p in (f.summary, f.detail) if p) for f in findings],
                "Effect on the score": [f.effect or "-" for f in findings],
            }
        )
        parts.append(
            f'<h4 style="margin:14px 0 4px">{escape(first.user_name)}{escape(status)}</h4>'
            + markup.table(
                frame,
                f"findings-{markup.slug(first.user_id)}",
                cell_html={"Severity": _severity},
                widths=WIDTHS,
                row_data=[{"rule": f.rule} for f in findings],
            )
        )
    rules = dict.fromkeys(f.rule for f in ctx.findings)
    advice = "".join(f"<li><b>{escape(TITLES.get(r, r))}</b>: {escape(ADVICE.get(r, ''))}</li>" for r in rules)
    parts.append(f'<h4 style="margin:14px 0 4px">What to do</h4><ul data-table="advice">{advice}</ul>')
    return HTML(f'<div data-table="findings">{"".join(parts)}</div>')


def reason_kinds(reasons: pd.Series) -> pd.DataFrame:
    """One boolean column per :data:`REASONS` kind, from the clean-up list's ``reasons`` text."""
    return pd.DataFrame({label: reasons.str.contains(key, regex=False) for key, label in REASONS.items()})


def priority(table: pd.DataFrame) -> pd.DataFrame:
    """The clean-up list, the contacts that matter most first: compliance (unsubscribed), then
    hard bounces, typo domains, never engaged; within a reason, more enrollments first, then
    the most recently enrolled."""
    kinds = reason_kinds(table["reasons"])
    rank = kinds.to_numpy().argmax(axis=1)
    ordered = table.assign(_rank=rank).sort_values(
        ["_rank", "enrollments", "last_enrolled_at", "contact_id"],
        ascending=[True, False, False, True],
        kind="stable",
    )
    return ordered.drop(columns="_rank")


def cleanup(ctx: ReportContext) -> HTML:
    """The clean-up list: counts by reason and by user, the contacts that matter most, and the
    whole list as a CSV that downloads from the page, offline."""
    table = ctx.cleanup
    if table.empty:
        return HTML("<p>No contact to exclude.</p>")
    by_reason, by_user = cleanup_counts(table)
    by_reason = by_reason.rename(columns=str.capitalize).assign(Contacts=lambda t: t["Contacts"].map("{:,}".format))
    by_user = by_user.rename(columns={"user": "User", "contacts": "Contacts"})
    by_user[by_user.columns[1:]] = by_user[by_user.columns[1:]].map("{:,}".format)
    note = "emails masked; run with show_emails to show them" if not ctx.show_emails else "emails shown"
    ordered = priority(table)
    top = ordered.head(TOP_CONTACTS)
    return HTML(
        f"<p>{plural(len(table), 'contact')} to exclude ({note}). {_download(ctx, ordered)}</p>"
        '<div class="ss-row" style="display:flex;flex-wrap:wrap;gap:24px">'
        f"<div>{markup.table(by_reason, 'cleanup-reasons', caption='By reason (a contact can have several)')}</div>"
        f"<div>{markup.table(by_user, 'cleanup-users', caption='By user (contacts they enrolled)')}</div></div>"
        + markup.table(
            top.rename(columns=lambda c: c.replace("_", " ").capitalize()),
            "cleanup",
            caption=f"The {len(top)} that matter most: compliance first, then the most enrollments.",
        )
    )


def cleanup_counts(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A clean-up list's contacts by reason (``reason, contacts``) and by user (``user,
    contacts`` and a column per reason), most contacts first; a contact can count under several."""
    import polars as pl  # a contact per user it was enrolled by: the split and count in polars

    kinds = reason_kinds(table["reasons"]).astype("int64")
    by_reason = kinds.sum().rename_axis("reason").reset_index(name="contacts")
    users = pl.Series("user", table["users"].astype(str).tolist(), dtype=pl.String).str.split("; ")
    pairs = pl.from_pandas(kinds).with_columns(users).explode("user")
    counted = pairs.group_by("user").agg(pl.len().cast(pl.Int64).alias("contacts"), pl.exclude("user").sum())
    by_user = counted.sort(["contacts", "user"], descending=[True, False]).to_pandas()
    return by_reason, by_user[["user", "contacts", *kinds.columns]]


def _download(ctx: ReportContext, ordered: pd.DataFrame) -> str:
    """The whole list, in the order of :func:`priority`, as a CSV link inside the page."""
    name = f"clean-up_{ctx.input_path.stem}_{ctx.start}_{ctx.end}.csv"
    return cleanup_download(ordered, name, f"Download the whole list ({plural(len(ordered), 'contact')}, CSV)")


def cleanup_download(table: pd.DataFrame, filename: str, label: str) -> str:
    """A clean-up list as a CSV link inside the page (the report's or the explorer's), up to
    :data:`MAX_DOWNLOAD`; past it, where to get the list instead: megabytes of data URI would
    make the page slow to open and, in the explorer, travel to the browser at each click."""
    text = to_csv_within(table, MAX_DOWNLOAD)
    if text is None:
        return "The list is too large to embed; <code>senderscore suppress</code> writes it as CSV."
    return markup.download_link(text, filename, label)


def domains(ctx: ReportContext) -> HTML:
    """Bounce and reply rate by mailbox provider, then for the domains with the most bounces."""
    if ctx.domains.empty:
        return HTML("<p>No contact emails in the data: no per-domain view.</p>")
    providers = _rates(ctx.providers, ["provider"])
    worst = ctx.domains.sort_values(["bounced", "ended"], ascending=False, kind="stable").head(MAX_DOMAINS)
    busiest = _rates(worst, ["domain", "provider"])
    busiest.insert(3, "Bounced", worst["bounced"].map("{:,}".format).to_numpy())
    busiest["Typo of"] = worst["typo_of"].fillna("").to_numpy()
    return HTML(markup.table(providers, "providers") + markup.table(busiest, "domains"))


def _rates(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = table[keys].rename(columns=str.capitalize)
    out["Ended"] = table["ended"].map("{:,}".format)
    out["Bounce rate"] = table["bounce_rate"].map(percent)
    out["Reply rate"] = table["reply_rate"].map(percent)
    return out.reset_index(drop=True)


def trend_changes(ctx: ReportContext) -> HTML:
    """Each user's last complete period against the one before: score, reply and bounce rate."""
    trend = ctx.trend[~ctx.trend["partial"]] if "partial" in ctx.trend else ctx.trend
    if trend.empty:
        return HTML("<p>No complete period to compare: the window is shorter than one period.</p>")
    last = trend.groupby("user_id", sort=False).tail(1).sort_values("score_change", kind="stable")

    def change(values: pd.Series, scale: float = 1.0, unit: str = "") -> pd.Series:
        return values.map(lambda v: "-" if pd.isna(v) else f"{v * scale:+.1f}{unit}")

    out = pd.DataFrame(
        {
            "User": last.get("user_name", last["user_id"]).where(lambda s: s != "", last["user_id"]),
            "Period": last["period"].dt.strftime("%Y-%m-%d"),
            "Ended": last["ended"].map("{:,}".format),
            "Score": last["score"].map("{:.1f}".format),
            "Change": change(last["score_change"]),
            "Reply rate": last["reply_rate"].map(percent),
            "Reply change": change(last["reply_rate_change"], 100, " pts"),
            "Bounce rate": last["bounce_rate"].map(percent),
            "Bounce change": change(last["bounce_rate_change"], 100, " pts"),
            "Status": last["eligible"].map({True: "official", False: "provisional"}),
        }
    ).reset_index(drop=True)
    provisional = lambda row: markup.PROVISIONAL if row["Status"] == "provisional" else ""  # noqa: E731
    return HTML(markup.table(out, "trend-changes", row_style=provisional))
