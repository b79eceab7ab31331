"""Evidence, not tips: facts grouped on any engine, the rules that read them, the clean-up list, domains."""

from .cleanup import suppression_list, to_crm_csv
from .domains import domain_table, mask_email, provider_family, typo_of
from .facts import Evidence, gather
from .rules import RULES, Finding, findings_frame, recommend, render_findings

__all__ = [
    "RULES",
    "Evidence",
    "Finding",
    "domain_table",
    "findings_frame",
    "gather",
    "mask_email",
    "provider_family",
    "recommend",
    "render_findings",
    "suppression_list",
    "to_crm_csv",
    "typo_of",
]
