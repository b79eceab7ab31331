"""What a finding is and how findings are ordered, calibrated and printed.

The rules that produce findings live in :mod:`senderscore.evidence.rules`; each rule's
general advice is said once, here (:data:`ADVICE`), and every finding carries only its own
evidence (``summary``, ``detail``) and the one action worth most (``action``, ``contacts``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from ..output import printable

SEVERITIES = ("critical", "high", "medium", "low")
REPLY_ADVICE = (
    "Add personalisation tokens to the templates; split contacts into saved filters (segments) and "
    "write to each; add content relevant to the recipient's company or industry (a recent post, a "
    "case study)."
)
ADVICE = {
    "emailed_after_unsubscribe": (
        "These contacts asked not to be contacted: emailing them again is a compliance risk. "
        "Exclude unsubscribed contacts from every sequence (clean-up list)."
    ),
    "reenrolled_after_bounce": (
        "A hard-bounced address will bounce again: suppress it before enrolling (clean-up list)."
    ),
    "high_bounce": (
        "Remove contacts that hard-bounced (see the clean-up list); fix or drop typo domains; watch the "
        "domains with high bounce rates; filter out contacts that never engaged; use verified, consented "
        "addresses."
    ),
    "low_reply": REPLY_ADVICE,
    "changed": "Look first at the sequences that explain most of the change.",
    "needs_data": "Treat this score as provisional; compare again once the user has enough ended enrollments.",
}
TITLES = {
    "emailed_after_unsubscribe": "Emailed after unsubscribing",
    "reenrolled_after_bounce": "Enrolled again after a hard bounce",
    "high_bounce": "Bounce rate too high",
    "low_reply": "Reply rate too low",
    "changed": "Band changed",
    "needs_data": "Too few ended enrollments",
}


@dataclass
class Finding:
    """One recommendation: who, what, the evidence, the action and its effect on the score.

    ``summary`` states the evidence; ``detail`` what this user's data says to do first; the
    rule's general advice is :attr:`advice` (the same for every finding of a rule).
    ``action`` is the single step worth most, in a few words, and ``contacts`` how many
    contacts it touches (0: none named).
    """

    rule: str
    severity: str
    user_id: str
    user_name: str
    metric: str
    summary: str
    detail: str = ""
    action: str = ""
    contacts: int = 0
    sequence_id: str = ""
    sequence_name: str = ""
    evidence: dict = field(default_factory=dict)
    rows: list[str] = field(default_factory=list)
    score_before: float | None = None
    score_after: float | None = None
    band_before: str = ""
    band_after: str = ""
    official: bool = True  # the user's score is official (enough ended enrollments)

    @property
    def advice(self) -> str:
        """The rule's general advice (:data:`ADVICE`)."""
        return ADVICE.get(self.rule, "")

    @property
    def title(self) -> str:
        return TITLES.get(self.rule, self.rule.replace("_", " "))

    @property
    def score_change(self) -> float | None:
        """Points gained (+) or lost (-) by acting on the finding; None without a score effect."""
        if self.score_before is None or self.score_after is None:
            return None
        return round(self.score_after - self.score_before, 1) + 0.0  # + 0.0: no "-0.0"

    @property
    def effect(self) -> str:
        """``'+6.0 points, Fair → Good'``, or '' when the finding has no score effect."""
        if self.score_change is None:
            return ""
        text = f"{self.score_change:+.1f} points"
        return text + (f", {self.band_before} → {self.band_after}" if self.band_before != self.band_after else "")

    def to_dict(self) -> dict:
        return {**asdict(self), "advice": self.advice, "effect": self.effect}


def calibrated(finding: Finding, official: bool) -> Finding:
    """A provisional score's findings, and findings worth no points, are never "high":
    high means acting moves an official score."""
    finding.official = official
    if finding.severity == "high" and (not official or finding.score_change == 0.0):
        finding.severity = "medium"
    return finding


def order(findings: list[Finding]) -> list[Finding]:
    """Official users' findings first, then by severity, larger effects first, user, rule."""
    return sorted(
        findings,
        key=lambda f: (
            not f.official,
            SEVERITIES.index(f.severity),
            -abs(f.score_change or 0.0),
            f.user_name,
            f.rule,
        ),
    )


def best_action(findings: list[Finding]) -> Finding | None:
    """The finding whose action is worth most points (ties: the more severe), or None."""
    acts = [f for f in findings if f.action and (f.score_change or 0.0) > 0]
    if not acts:
        return None
    return max(acts, key=lambda f: (f.score_change, -SEVERITIES.index(f.severity)))


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a flat table (evidence and rows as text), for CSV and HTML."""
    columns = [
        "severity",
        "rule",
        "user_id",
        "user_name",
        "official",
        "sequence_id",
        "metric",
        "summary",
        "detail",
        "action",
        "contacts",
        "effect",
        "score_change",
        "advice",
        "score_before",
        "score_after",
        "band_before",
        "band_after",
        "rows",
    ]
    records = [{**f.to_dict(), "rows": "; ".join(map(str, f.rows)), "score_change": f.score_change} for f in findings]
    return pd.DataFrame(records, columns=columns)


def render_findings(findings: list[Finding]) -> str:
    """Findings for the terminal, in :func:`order`; each rule's advice printed once, at the end."""
    if not findings:
        return "No findings: nothing in this window calls for action.\n"
    lines = []
    for f in findings:
        where = f" / {f.sequence_name or f.sequence_id}" if f.sequence_id else ""
        status = "" if f.official else ", provisional"
        lines.append(printable(f"[{f.severity.upper()}] {f.user_name}{where} ({f.rule}{status}): {f.summary}"))
        if f.effect:
            lines.append(f"    effect: {f.effect}")
        if f.detail:
            lines.append(printable(f"    first: {f.detail}"))
    counts = pd.Series([f.severity for f in findings]).value_counts()
    lines.append("\n" + ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES))
    rules = dict.fromkeys(f.rule for f in findings)
    lines.append("\nWhat to do:")
    lines += [printable(f"  {TITLES.get(r, r)}: {ADVICE.get(r, '')}") for r in rules]
    return "\n".join(lines) + "\n"
