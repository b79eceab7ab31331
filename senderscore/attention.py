"""Who needs attention, why, and what to do first: the report's first screen, as data.

A user needs attention when their official score is at or below the alert band, or when a
finding about their official score is critical or high. Provisional scores wait for data
(their findings are listed, after the official ones). For each: the main cause in plain
words (the rate that loses more points) and the single action worth most points
(:func:`senderscore.evidence.best_action`).
"""

from __future__ import annotations

import pandas as pd

from .alerts import at_or_below
from .evidence import Finding, best_action, plural
from .output import percent
from .policy import Policy

COLUMNS = [
    "user_id",
    "user_name",
    "score",
    "score_low",
    "score_high",
    "band",
    "ended",
    "why",
    "cause",
    "action",
    "points",
    "contacts",
    "compliance",
]


def main_cause(row: pd.Series, policy: Policy) -> str:
    """The rate that costs the score more points, in plain words.

    >>> from senderscore import DEFAULT_POLICY, score_table
    >>> row = score_table(pd.DataFrame({"ended": [200], "bounced": [16], "replied": [20]})).iloc[0]
    >>> main_cause(row, DEFAULT_POLICY)
    'Too many bounces: 8.0 % of emails bounced (good: under 3 %); 40 of 50 bounce points lost.'
    """
    reply_max = max(p for _, p in policy.reply_points)
    bounce_max = max(p for _, p in policy.bounce_points)
    reply_lost = reply_max - float(row["reply_points"])
    bounce_lost = bounce_max - float(row["bounce_points"])
    if bounce_lost >= reply_lost:
        return (
            f"Too many bounces: {percent(row['bounce_rate'])} of emails bounced (good: "
            f"{policy.bounce_good_text}); {bounce_lost:.0f} of {bounce_max:.0f} bounce points lost."
        )
    return (
        f"Too few replies: {percent(row['reply_rate'])} of delivered emails got a reply (good: "
        f"{policy.reply_good_text}); {reply_lost:.0f} of {reply_max:.0f} reply points lost."
    )


def needs_attention(
    by_user: pd.DataFrame, findings: list[Finding], policy: Policy, *, alert_band: str = ""
) -> pd.DataFrame:
    """One row per user who needs attention, lowest score first (columns :data:`COLUMNS`).

    ``why`` says what put the user here (the alert band, a critical or a high finding);
    ``action``/``points``/``contacts`` the best action (empty, 0.0, 0 without one);
    ``compliance`` the critical findings' summaries, joined.
    """
    flagged = set(at_or_below(by_user, alert_band, policy)["user_id"]) if alert_band else set()
    urgent = {f.user_id for f in findings if f.official and f.severity in ("critical", "high")}
    users = by_user[by_user["user_id"].isin(flagged | urgent)]
    users = users.sort_values(["score", "user_id"], kind="stable")
    per_user: dict[str, list[Finding]] = {}
    for finding in findings:  # once, not once per user: a large export has thousands of each
        per_user.setdefault(finding.user_id, []).append(finding)
    rows = []
    for _, user in users.iterrows():
        mine = per_user.get(user["user_id"], [])
        best = best_action(mine)
        critical = [f.summary for f in mine if f.severity == "critical"]
        why = [f"official score at or below {alert_band}"] if user["user_id"] in flagged else []
        counts = {s: sum(f.severity == s for f in mine) for s in ("critical", "high")}
        why += [plural(n, f"{s} finding") for s, n in counts.items() if n]
        rows.append(
            {
                **{c: user.get(c, "") for c in COLUMNS[:7]},
                "user_name": user.get("user_name") or user["user_id"],
                "why": "; ".join(why),
                "cause": main_cause(user, policy),
                "action": best.action if best else "",
                "points": best.score_change if best else 0.0,
                "contacts": best.contacts if best else 0,
                "compliance": " ".join(critical),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
