"""Recipient domains: bounce and reply rates by domain and mailbox provider, typo domains,
and masking of contact emails for reports.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

# Mailbox provider families of well-known consumer domains (no MX lookups: works offline).
PROVIDERS: dict[str, str] = {
    **dict.fromkeys(["gmail.com", "googlemail.com"], "Google"),
    **dict.fromkeys(
        [
            "outlook.com",
            "hotmail.com",
            "live.com",
            "msn.com",
            "hotmail.co.uk",
            "outlook.de",
            "hotmail.de",
            "hotmail.fr",
            "live.co.uk",
        ],
        "Microsoft",
    ),
    **dict.fromkeys(["yahoo.com", "yahoo.co.uk", "yahoo.de", "yahoo.fr", "ymail.com", "aol.com"], "Yahoo/AOL"),
    **dict.fromkeys(["icloud.com", "me.com", "mac.com"], "Apple"),
    **dict.fromkeys(["gmx.de", "gmx.net", "web.de", "t-online.de"], "German consumer"),
    **dict.fromkeys(["proton.me", "protonmail.com"], "Proton"),
    # Real providers one edit away from a bigger one: known, so never taken for typos.
    **dict.fromkeys(
        ["mail.com", "gmx.com", "gmx.at", "zoho.com", "yandex.ru", "mail.ru", "fastmail.com"], "other consumer"
    ),
}
KNOWN_DOMAINS = tuple(PROVIDERS)


def provider_family(domains: pd.Series) -> pd.Series:
    """Google, Microsoft, ... for known consumer domains; 'other (company or unknown)' otherwise."""
    return domains.map(PROVIDERS).fillna("other (company or unknown)").where(domains != "", "no email")


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, swaps of neighbours.

    >>> edit_distance("gmial.com", "gmail.com"), edit_distance("outlok.com", "outlook.com")
    (1, 1)
    """
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=65_536)
def typo_of(domain: str) -> str | None:
    """The well-known domain ``domain`` is probably a typo of, or None.

    A domain one edit away from a known consumer domain (two for long ones) and not itself
    known counts as a suspected typo.

    >>> typo_of("gmial.com"), typo_of("hotmial.com"), typo_of("gmail.com"), typo_of("acme.io")
    ('gmail.com', 'hotmail.com', None, None)
    """
    domain = str(domain).lower().strip()
    if not domain or domain in PROVIDERS:
        return None
    limit = 2 if len(domain) >= 12 else 1
    # Length bounds the distance from below: most domains are rejected without any work.
    near = [known for known in KNOWN_DOMAINS if abs(len(known) - len(domain)) <= limit]
    scored = sorted((edit_distance(domain, known), known) for known in near)
    return scored[0][1] if scored and scored[0][0] <= limit else None


def mask_email(email: object) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``; blanks stay blank.

    >>> mask_email("jane.doe@example.com")
    'j***@example.com'
    """
    text = "" if email is None or (isinstance(email, float) and np.isnan(email)) else str(email)
    local, at, domain = text.rpartition("@")
    if not at:
        return "***" if text else ""
    return f"{local[:1]}***@{domain}"


def domain_table(domain_counts: pd.DataFrame, *, by: str = "domain") -> pd.DataFrame:
    """Ended enrollments, bounces and replies by recipient ``domain`` or ``provider``, from the
    per-domain counts of the window (:attr:`Evidence.domain_counts`).

    Rates follow the sender-score definitions: bounce_rate = bounced / ended,
    reply_rate = replied / (ended - bounced). Sorted by ended enrollments, descending.
    """
    table = domain_counts[["domain", "ended", "bounced", "replied"]]
    if by == "provider":  # providers from the (small) domain table, not from every row
        table = table.assign(provider=provider_family(table["domain"]))
        table = table.groupby("provider", sort=False)[["ended", "bounced", "replied"]].sum().reset_index()
    delivered = table["ended"] - table["bounced"]
    table = table.assign(
        bounce_rate=table["bounced"] / table["ended"],
        reply_rate=(table["replied"] / delivered.where(delivered > 0)).astype(float),
    )
    if by == "domain":
        table["provider"] = provider_family(table["domain"])
        table["typo_of"] = table["domain"].map(typo_of)
    return table.sort_values(["ended", by], ascending=[False, True], kind="stable").reset_index(drop=True)
