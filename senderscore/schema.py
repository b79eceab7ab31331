"""The data contract in one place: canonical columns, accepted aliases, allowed values.

Every other module refers to columns by their canonical name. Input files may use
HubSpot's CRM property names (``hs_enrolled_by``) or the labels of a report export
("Enrolled by"); :func:`normalize_name` and :data:`ALIASES` map both to the
canonical names.
"""

from __future__ import annotations

import re

REQUIRED: tuple[str, ...] = (
    "enrollment_id",
    "sequence_id",
    "user_id",
    "contact_id",
    "enrolled_at",
    "state",
)
"""Columns every input must have. ``ended_at`` is required on ended rows only."""

OPTIONAL: tuple[str, ...] = (
    "ended_at",
    "sequence_name",
    "user_name",
    "user_email",
    "team",
    "contact_email",
    "company_id",
    "unenrolled_source",
    "step_error_type",
    "reply_count",
    "open_count",
    "click_count",
    "meeting_count",
    "personalized",
)

COLUMNS: tuple[str, ...] = REQUIRED + OPTIONAL
ID_COLUMNS = ("enrollment_id", "sequence_id", "user_id", "contact_id")
TIMESTAMP_COLUMNS = ("enrolled_at", "ended_at")
COUNT_COLUMNS = ("reply_count", "open_count", "click_count", "meeting_count")
FLAG_COLUMNS = ("personalized",)
TRUE_WORDS = ("TRUE", "YES", "Y", "1")
FALSE_WORDS = ("FALSE", "NO", "N", "0")
TEXT_COLUMNS = ("sequence_name", "user_name", "user_email", "team", "contact_email", "company_id")

STATES = ("EXECUTING", "PAUSED", "FINISHED", "UNENROLLED")
ENDED_STATES = ("FINISHED", "UNENROLLED")
UNENROLLED_SOURCES = (
    "MANUAL",
    "WORKFLOW",
    "MEETING",
    "REPLY",
    "THREAD_REPLY",
    "ACCOUNT_REPLY",
    "ACCOUNT_MEETING",
    "ERROR",
    "SEQUENCE_DELETED",
)
STEP_ERROR_TYPES = ("BOUNCED", "UNSUBSCRIBED", "OTHER", "UNKNOWN")
# Enumerations checked by validation: column -> allowed values (blank allowed where optional).
ENUMS: dict[str, tuple[str, ...]] = {
    "state": STATES,
    "unenrolled_source": UNENROLLED_SOURCES,
    "step_error_type": STEP_ERROR_TYPES,
}

# Every accepted spelling, already normalized (see normalize_name), -> canonical column.
# Canonical names, HubSpot CRM property names and report-export labels.
_ALIAS_LISTS: dict[str, tuple[str, ...]] = {
    "enrollment_id": ("hs_enrollment_id", "enrollment id", "record id", "sequence enrollment id"),
    "sequence_id": ("hs_sequence_id", "sequence id"),
    "sequence_name": ("hs_sequence_name", "sequence name", "sequence"),
    "user_id": ("hs_enrolled_by", "enrolled by", "enrolled by user id", "owner id", "sender"),
    "user_name": ("enrolled by name", "user name", "user"),
    "user_email": ("enrolled by email", "user email", "sender email"),
    "team": ("hs_team", "team name"),
    "contact_id": ("hs_contact_id", "contact id", "contact record id"),
    "contact_email": ("email", "contact email", "hs_contact_email"),
    "company_id": ("hs_company_id", "company id", "associated company id"),
    "enrolled_at": ("hs_enrolled_at", "enrolled at", "enrollment date", "enrolled date"),
    "ended_at": ("hs_ended_at", "ended at", "end date", "ended date"),
    "state": ("hs_enrollment_state", "enrollment state", "status"),
    "unenrolled_source": ("hs_unenrolled_source", "unenrolled source", "unenrollment source"),
    "step_error_type": ("hs_step_error_type", "step error type", "error type"),
    "reply_count": ("hs_email_reply_count", "email reply count", "replies", "reply count"),
    "open_count": ("hs_email_open_count", "email open count", "opens", "open count"),
    "click_count": ("hs_email_click_count", "email click count", "clicks", "click count"),
    "personalized": ("personalised", "personalization", "personalisation", "is personalized", "personalized email"),
    "meeting_count": (
        "hs_meeting_booked_count",
        "meeting booked count",
        "meetings booked",
        "meetings",
        "meeting count",
    ),
}


def normalize_name(name: object) -> str:
    """Fold a column header for matching: case, surrounding space, ``_``/``-``/space runs.

    >>> normalize_name("  Enrolled_By ")
    'enrolled by'
    """
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s_\-]+", " ", text)


ALIASES: dict[str, str] = {}
for _canonical, _names in _ALIAS_LISTS.items():
    for _name in (_canonical, *_names):
        ALIASES[normalize_name(_name)] = _canonical
del _canonical, _names, _name
