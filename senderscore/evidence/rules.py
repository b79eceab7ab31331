"""Evidence, not tips: rule-based findings with the numbers behind them and their effect on
the score, computed with the same policy.

Each rule is one small function ``rule(evidence) -> list[Finding]``; :func:`recommend`
runs them all. Severity: critical (compliance), high, medium, low.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..output import percent, plural
from ..scores import score_table, sender_scores
from .facts import SUMS, Evidence
from .findings import Finding, calibrated, order

MIN_DELIVERED = 20  # sequences with fewer delivered enrollments are too noisy to single out
COMPARE_DAYS = 90  # "what changed": the last 90 days of the window against the 90 before


def _with_effect(finding: Finding, before: pd.Series, after: pd.Series) -> Finding:
    finding.score_before, finding.score_after = float(before["score"]), float(after["score"])
    finding.band_before, finding.band_after = str(before["band"]), str(after["band"])
    return finding


def median_rate(table: pd.DataFrame, min_delivered: int) -> float:
    """Median reply rate over rows with at least ``min_delivered`` delivered enrollments."""
    delivered = table["ended"] - table["bounced"]
    rates = table.loc[delivered >= min_delivered, "reply_rate"]
    return float(np.nanmedian(rates)) if len(rates) else float("nan")


def low_reply(ev: Evidence) -> list[Finding]:
    """Reply rate under the good range: the user's weakest sequences against the medians."""
    low = ev.policy.reply_good[0]
    team_median = median_rate(ev.by_user_sequence, MIN_DELIVERED)
    findings = []
    for _, user in ev.by_user[ev.by_user["reply_rate"] < low].iterrows():
        rows = ev.by_user_sequence[ev.by_user_sequence["user_id"] == user["user_id"]]
        rows = rows[(rows["ended"] - rows["bounced"]) >= MIN_DELIVERED].sort_values("reply_rate", kind="stable")
        user_median = median_rate(rows, MIN_DELIVERED)
        worst = rows.head(3)
        names = [f"{ev.sequence_name(s)} ({percent(r)})" for s, r in zip(worst["sequence_id"], worst["reply_rate"])]
        finding = Finding(
            "low_reply",
            "high" if user["band"] == ev.policy.bands[-1][0] else "medium",
            user["user_id"],
            ev.user_name(user["user_id"]),
            "reply_rate",
            f"Reply rate {percent(user['reply_rate'])} is under the good range ({ev.policy.reply_good_text}).",
            (
                f"Start with {', '.join(names)}: your median sequence replies at {percent(user_median)}, "
                f"the team's at {percent(team_median)}."
                if names
                else "No sequence has enough delivered enrollments to single one out."
            ),
            evidence={
                "reply_rate": user["reply_rate"],
                "user_median": user_median,
                "team_median": team_median,
                "weakest_sequences": list(worst["sequence_id"]),
            },
            rows=list(worst["sequence_id"]),
        )
        finding = _personalisation(ev, user["user_id"], finding)
        if len(worst) and team_median > worst["reply_rate"].iloc[0]:
            seq = worst.iloc[0]  # effect: the weakest sequence brought up to the team median
            gained = round(team_median * (seq["ended"] - seq["bounced"])) - int(seq["replied"])
            after = user.copy()
            after["replied"] = user["replied"] + gained
            finding = _with_effect(finding, user, _score_counts(ev, after))
            name = ev.sequence_name(seq["sequence_id"])
            finding.detail += f" Bringing {name} up to the team median would be worth {finding.effect}."
            finding.action = f"Rework {name}: from {percent(seq['reply_rate'])} to the team's {percent(team_median)}"
            finding.contacts = int(seq["ended"] - seq["bounced"])
        findings.append(finding)
    return findings


def _personalisation(ev: Evidence, user_id: str, finding: Finding) -> Finding:
    """Where the data says whether emails were personalised: the user's reply rate with and without."""
    table = ev.personalisation
    mine = table[table["user_id"] == user_id]
    mine = mine.set_index(mine["personalized"].astype(bool))
    if True in mine.index and False in mine.index:
        (yes_n, yes_r), (no_n, no_r) = (mine.loc[k, ["delivered", "replied"]].astype(int) for k in (True, False))
        finding.evidence["reply_rate_personalized"] = yes_r / yes_n
        finding.evidence["reply_rate_not_personalized"] = no_r / no_n
        finding.detail += (
            f" This user's personalised emails got replies {percent(yes_r / yes_n)} of the time "
            f"({yes_n} delivered), the others {percent(no_r / no_n)} ({no_n})."
        )
    return finding


def _score_counts(ev: Evidence, row: pd.Series) -> pd.Series:
    counts = pd.DataFrame({c: [int(row[c])] for c in ("ended", "bounced", "replied")})
    return score_table(counts, ev.policy).iloc[0]


def high_bounce(ev: Evidence) -> list[Finding]:
    """Bounce rate at or above the good maximum: the contacts, domains and typos behind it."""
    high = ev.by_user[ev.by_user["bounce_rate"] >= ev.policy.bounce_good_max]
    if high.empty:
        return []
    facts = ev.bounce_facts(list(high["user_id"]), threshold=2 * ev.policy.bounce_good_max)
    # What a clean-up list would have caught before sending: enrollments of contacts that had
    # hard-bounced already, and addresses on typo domains.
    caught = facts.caught.set_index("user_id").reindex(high["user_id"], fill_value=0)
    rescored = ev.rescore(caught)
    dormant = facts.dormant.set_index("user_id")["contact_id"]
    # Grouped once: a filter per user over the whole table costs a full scan each time.
    bounced_by = {u: sorted(g) for u, g in facts.bounced.groupby("user_id")["contact_id"]}
    domains_by = dict(list(facts.domains.groupby("user_id")))
    typos_by = {u: sorted(g) for u, g in facts.typos.groupby("user_id")["domain"]}
    findings = []
    for _, user in high.iterrows():
        user_id = user["user_id"]
        after = rescored.loc[user_id]
        bounced = bounced_by.get(user_id, [])
        bad = domains_by.get(user_id, facts.domains.iloc[:0])
        bad = bad.sort_values(["ended", "domain"], ascending=[False, True], kind="stable").head(5)
        user_typos = typos_by.get(user_id, [])
        contacts = int(caught.loc[user_id, "contact_id"])
        summary = f"Bounce rate {percent(user['bounce_rate'])} ({plural(len(bounced), 'hard-bounced contact')})."
        if contacts:
            detail = (
                f"Removing the {plural(contacts, 'contact')} a clean-up list catches (bounced before, typo "
                f"domains) would have taken it to {percent(after['bounce_rate'])}."
            )
        else:
            detail = "None had bounced before or sits on a typo domain: check the sources of these addresses."
        worst = [f"{d} ({percent(b / e)})" for d, e, b in zip(bad["domain"], bad["ended"], bad["bounced"]) if b]
        detail += f" Domains that bounce most: {', '.join(worst)}." if worst else ""
        detail += f" Typo domains: {', '.join(f'{d} ({ev.typos[d]}?)' for d in user_typos)}." if user_typos else ""
        finding = Finding(
            "high_bounce",
            "high",
            user["user_id"],
            ev.user_name(user["user_id"]),
            "bounce_rate",
            summary,
            detail,
            action=f"Suppress the {plural(contacts, 'contact')} on the clean-up list" if contacts else "",
            contacts=contacts,
            evidence={
                "bounced_contacts": len(bounced),
                "caught_contacts": contacts,
                "bounce_rate": user["bounce_rate"],
                "bounce_rate_after": after["bounce_rate"],
                "high_bounce_domains": {
                    d: round(b / e, 3) for d, e, b in zip(bad["domain"], bad["ended"], bad["bounced"])
                },
                "typo_domains": {d: ev.typos[d] for d in user_typos},
                "never_engaged_contacts": int(dormant.get(user_id, 0)),
            },
            rows=bounced,
        )
        findings.append(_with_effect(finding, user, after))
    return findings


def _reenrolled(ev: Evidence, *, error: str, rule: str, severity: str, what: str, action: str) -> list[Finding]:
    later = ev.reenrolled[error]
    removed = later[later["counted"] & later["user_id"].isin(ev.users.index)].groupby("user_id")[list(SUMS)].sum()
    rescored = ev.rescore(removed)
    findings = []
    for user_id, rows in later.groupby("user_id", sort=True):
        contacts = sorted(rows["contact_id"].unique())
        finding = Finding(
            rule,
            severity,
            str(user_id),
            ev.user_name(str(user_id)),
            "compliance",
            f"{plural(len(contacts), 'contact was', 'contacts were')} enrolled again after {what} "
            f"({plural(len(rows), 'enrollment')}), first on "
            f"{pd.Timestamp(int(rows['event_at'].min()), unit='us').date()}.",
            action=action.format(contacts=plural(len(contacts), "contact")),
            contacts=len(contacts),
            evidence={
                "contacts": len(contacts),
                "enrollments": len(rows),
                "first_event": str(pd.Timestamp(int(rows["event_at"].min()), unit="us").date()),
            },
            rows=contacts,
        )
        if user_id in ev.users.index:
            after = rescored.loc[user_id] if user_id in rescored.index else ev.users.loc[user_id]
            finding = _with_effect(finding, ev.users.loc[user_id], after)
        findings.append(finding)
    return findings


def rebounce(ev: Evidence) -> list[Finding]:
    """Contacts enrolled again after a hard bounce."""
    return _reenrolled(
        ev,
        error="BOUNCED",
        rule="reenrolled_after_bounce",
        severity="high",
        what="a hard bounce",
        action="Suppress the {contacts} that bounced before",
    )


def after_unsubscribe(ev: Evidence) -> list[Finding]:
    """Contacts emailed again after unsubscribing: a compliance risk."""
    return _reenrolled(
        ev,
        error="UNSUBSCRIBED",
        rule="emailed_after_unsubscribe",
        severity="critical",
        what="unsubscribing",
        action="Remove the {contacts} who unsubscribed from every sequence",
    )


def needs_data(ev: Evidence) -> list[Finding]:
    """Users without an official score: how many more ended enrollments they need."""
    floor = ev.policy.min_ended_user
    return [
        Finding(
            "needs_data",
            "low",
            u["user_id"],
            ev.user_name(u["user_id"]),
            "eligibility",
            f"Needs {plural(floor - int(u['ended']), 'more ended enrollment')} for an official score "
            f"({int(u['ended'])} of {floor}); provisional score {u['score']:.1f} "
            f"(range {u['score_low']:.0f}-{u['score_high']:.0f}), {u['band']}.",
            evidence={"ended": int(u["ended"]), "needed": floor - int(u["ended"])},
        )
        for _, u in ev.by_user[~ev.by_user["eligible"]].iterrows()
    ]


def changed(ev: Evidence) -> list[Finding]:
    """A user whose band moved between the previous and the current period of equal length."""
    current_start = max(ev.start, ev.end - dt.timedelta(days=COMPARE_DAYS - 1))
    length = (ev.end - current_start).days + 1
    previous_end = current_start - dt.timedelta(days=1)
    previous_start = previous_end - dt.timedelta(days=length - 1)
    now = sender_scores(ev.cube, start=current_start, end=ev.end, policy=ev.policy).set_index("user_id")
    before = sender_scores(ev.cube, start=previous_start, end=previous_end, policy=ev.policy).set_index("user_id")
    rank = {name: i for i, name in enumerate(ev.policy.band_names)}
    # Per user x sequence counts of both periods, computed once (not once per user).
    by_sequence = {
        period: sender_scores(ev.cube, start=period[0], end=period[1], by="user-sequence", policy=ev.policy).groupby(
            "user_id", sort=False
        )
        for period in ((current_start, ev.end), (previous_start, previous_end))
    }
    findings = []
    for user_id in sorted(set(now.index) & set(before.index)):
        cur, prev = now.loc[user_id], before.loc[user_id]
        step = rank[cur["band"]] - rank[prev["band"]]  # > 0: fell
        if step == 0 or not (cur["eligible"] and prev["eligible"]):
            continue
        drivers = _drivers(ev, user_id, *by_sequence.values(), float(cur["score"] - prev["score"]))
        severity = "high" if step > 0 and cur["band"] == ev.policy.bands[-1][0] else "medium" if step > 0 else "low"
        verb = "fell" if step > 0 else "rose"
        finding = Finding(
            "changed",
            severity,
            user_id,
            ev.user_name(user_id),
            "score",
            f"Score {verb} from {prev['score']:.1f} ({prev['band']}, {previous_start} to {previous_end}) "
            f"to {cur['score']:.1f} ({cur['band']}, {current_start} to {ev.end}).",
            (
                "Sequences behind the change: "
                + "; ".join(f"{ev.sequence_name(s)} ({p:+.1f} points)" for s, p in drivers)
                + "."
                if drivers
                else "No single sequence explains the change."
            ),
            evidence={
                "previous": prev["score"],
                "current": cur["score"],
                "reply_rate": [prev["reply_rate"], cur["reply_rate"]],
                "bounce_rate": [prev["bounce_rate"], cur["bounce_rate"]],
                "drivers": {s: round(p, 1) for s, p in drivers},
            },
            rows=[s for s, _ in drivers],
        )
        findings.append(_with_effect(finding, prev, cur))
    return findings


def _drivers(ev: Evidence, user_id: str, current: object, previous: object, change: float) -> list[tuple[str, float]]:
    """The (at most three) sequences that explain most of a score ``change``: per sequence, the
    current score minus the score with that sequence's counts put back to the previous
    period's; only sequences worth a tenth of the change or more, in its direction."""
    fell = change < 0

    def counts(grouped: object) -> pd.DataFrame:  # the user's rows of a period's user x sequence table
        columns = ["sequence_id", "ended", "bounced", "replied"]
        rows = grouped.get_group(user_id) if user_id in grouped.groups else pd.DataFrame(columns=columns)
        return rows[columns].set_index("sequence_id").astype("int64")

    now, before = counts(current), counts(previous)
    index = now.index.union(before.index)
    now, before = now.reindex(index, fill_value=0), before.reindex(index, fill_value=0)
    total = now.sum()
    score = _score_counts(ev, total)["score"]
    # One scored row per sequence: the total with that sequence put back to its previous counts.
    swapped = score_table(total.to_numpy() - now + before, ev.policy)["score"]
    effects = [(s, float(score - swapped.loc[s])) for s in index]
    effects.sort(key=lambda item: item[1] if fell else -item[1])
    return [(s, p) for s, p in effects[:3] if (p < 0 if fell else p > 0) and abs(p) >= abs(change) / 10]


RULES = (after_unsubscribe, rebounce, high_bounce, low_reply, changed, needs_data)


def recommend(ev: Evidence, rules: tuple = RULES) -> list[Finding]:
    """Every rule's findings, calibrated (:func:`~senderscore.evidence.findings.calibrated`) and
    ordered: official users first, most severe first, larger effects first."""
    official = dict(zip(ev.by_user["user_id"], ev.by_user["eligible"].astype(bool)))
    findings = [calibrated(f, official.get(f.user_id, False)) for rule in rules for f in rule(ev)]
    return order(findings)
