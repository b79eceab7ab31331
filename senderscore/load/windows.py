"""Report windows: dates given as text (ISO, ``YYYYMMDD``) or relative to today.

Dates travel into notebooks and the CLI as ISO strings and are parsed here, so that
``20260101`` means 1 January 2026 and never 1970.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from ..errors import InputError

_BASIC_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: object, name: str = "date") -> dt.date | None:
    """Parse a report-window date given as ISO text, ``YYYYMMDD`` or a date object.

    Blank (``None`` or ``""``) means "no bound" and returns ``None``.

    >>> parse_date("2026-03-31")
    datetime.date(2026, 3, 31)
    >>> parse_date(20260101)
    datetime.date(2026, 1, 1)
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    match = _BASIC_DATE.match(text)
    if match:
        text = "-".join(match.groups())
    try:  # the whole text must be a date (or an ISO date and time): '2026-01-01garbage' is not
        return dt.datetime.fromisoformat(text).date() if len(text) > 10 else dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name} {value!r} is not a date; expected YYYY-MM-DD, for example '2026-01-31'.") from None


def parse_window(start: object, end: object) -> tuple[dt.date | None, dt.date | None]:
    """Parse a [start, end] window (both inclusive); start after end is an error."""
    first, last = parse_date(start, "start"), parse_date(end, "end")
    if first and last and first > last:
        raise InputError(
            f"start {first.isoformat()!r} is after end {last.isoformat()!r}; swap them (both dates are inclusive)."
        )
    return first, last


WINDOWS = ("last-month", "last-quarter", "month-to-date", "quarter-to-date")
_LAST = re.compile(r"^\s*(\d{1,4})\s*([dw])\s*$", re.IGNORECASE)


def relative_window(*, last: str = "", name: str = "", today: dt.date) -> tuple[dt.date, dt.date]:
    """A window relative to ``today`` (a date in the report zone), both ends inclusive.

    ``last`` (``90d``, ``12w``): that many whole days ending yesterday, the last complete day;
    ``name``: ``last-month`` and ``last-quarter`` (the previous calendar month or quarter),
    ``month-to-date`` and ``quarter-to-date`` (from its first day to today).

    >>> relative_window(last="90d", today=dt.date(2026, 11, 28))
    (datetime.date(2026, 8, 30), datetime.date(2026, 11, 27))
    >>> relative_window(name="last-quarter", today=dt.date(2026, 1, 15))
    (datetime.date(2025, 10, 1), datetime.date(2025, 12, 31))
    """
    if last:
        match = _LAST.match(str(last))
        if not match or int(match.group(1)) < 1:
            raise InputError(f"last {last!r}: expected a number of days or weeks, e.g. '90d' or '12w'.")
        days = int(match.group(1)) * (7 if match.group(2).lower() == "w" else 1)
        end = today - dt.timedelta(days=1)
        return end - dt.timedelta(days=days - 1), end
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if name == "month-to-date":
        return today.replace(day=1), today
    if name == "quarter-to-date":
        return quarter_start, today
    if name == "last-month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if name == "last-quarter":
        end = quarter_start - dt.timedelta(days=1)
        return dt.date(end.year, end.month - 2, 1), end
    raise InputError(f"window {name!r}: expected one of {', '.join(WINDOWS)}.")
