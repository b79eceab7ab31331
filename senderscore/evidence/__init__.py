"""Evidence, not tips: facts grouped on any engine, the rules that read them, the clean-up list, domains."""

from ..output import plural
from .cleanup import suppression_list, to_crm_csv
from .domains import domain_table, mask_email, provider_family, typo_of
from .facts import Evidence, gather
from .findings import Finding, best_action, findings_frame, render_findings
from .rules import RULES, recommend

__all__ = [
    "RULES",
    "Evidence",
    "Finding",
    "best_action",
    "domain_table",
    "findings_frame",
    "gather",
    "mask_email",
    "plural",
    "provider_family",
    "recommend",
    "render_findings",
    "suppression_list",
    "to_crm_csv",
    "typo_of",
]
