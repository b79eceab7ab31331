"""The clean-up (suppression) list: one row per contact to exclude, as a CSV a CRM imports
as a static list. Cells are neutralised against spreadsheet formula injection."""

from __future__ import annotations

import pandas as pd

from .domains import mask_email
from .evidence import Evidence, never_engaged, typo_domains

COLUMNS = ["contact_id", "contact_email", "reasons", "last_enrolled_at", "enrollments", "sequences", "users"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix a cell that a spreadsheet would run as a formula with ``'``.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-1+2"), neutralise("ok"), neutralise(3)
    ('\\'=HYPERLINK("http://x")', "'-1+2", 'ok', 3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def suppression_list(ev: Evidence, *, mask: bool = False) -> pd.DataFrame:
    """Contacts to exclude, with every reason: hard bounced, unsubscribed, a suspected typo
    domain, never engaged across several enrollments. Considers every enrollment up to the
    window's end. Sorted by contact_id; ``mask=True`` masks emails (for HTML reports).
    """
    frame = ev.enrollments[ev.enrollments["enrolled_day"] <= ev.end]
    reasons: dict[str, list[str]] = {}

    def add(contacts: pd.Index | list, reason: object) -> None:
        for contact in contacts:
            text = reason(contact) if callable(reason) else reason
            reasons.setdefault(str(contact), []).append(text)

    ended = frame[frame["ended"] == 1]
    add(sorted(ended.loc[ended["bounced"] == 1, "contact_id"].unique()), "hard bounced")
    add(sorted(ended.loc[ended["step_error_type"] == "UNSUBSCRIBED", "contact_id"].unique()), "unsubscribed")
    typos = typo_domains(frame)
    on_typo = frame[frame["domain"].isin(typos.index)].drop_duplicates("contact_id").set_index("contact_id")["domain"]
    add(sorted(on_typo.index), lambda c: f"suspected typo domain {on_typo[c]} (did you mean {typos[on_typo[c]]}?)")
    dormant = never_engaged(frame)
    add(sorted(dormant.index), lambda c: f"never engaged in {int(dormant[c])} enrollments")
    if not reasons:
        return pd.DataFrame(columns=COLUMNS)
    return _rows(frame[frame["contact_id"].isin(reasons)], reasons, ev, mask)


def _rows(frame: pd.DataFrame, reasons: dict[str, list[str]], ev: Evidence, mask: bool) -> pd.DataFrame:
    sequences = frame["sequence_id"].map(ev.sequence_name)
    users = frame["user_id"].map(ev.user_name)
    grouped = frame.assign(sequence=sequences, user=users).groupby("contact_id", sort=True)
    out = pd.DataFrame(
        {
            "contact_email": grouped["contact_email"].last() if "contact_email" in frame else "",
            "last_enrolled_at": grouped["enrolled_at"].max().dt.tz_convert(ev.policy.timezone).dt.strftime("%Y-%m-%d"),
            "enrollments": grouped.size(),
            "sequences": grouped["sequence"].agg(lambda s: "; ".join(sorted(set(s)))),
            "users": grouped["user"].agg(lambda s: "; ".join(sorted(set(s)))),
        }
    )
    out["reasons"] = [", ".join(reasons[c]) for c in out.index]
    out = out.rename_axis("contact_id").reset_index()[COLUMNS]
    if mask:
        out["contact_email"] = out["contact_email"].map(mask_email)
    return out


def to_crm_csv(table: pd.DataFrame) -> str:
    """CSV text for a CRM import, every text cell neutralised against formula injection."""
    return table.map(neutralise).to_csv(index=False, lineterminator="\n")
