"""Time zones as integer arithmetic over the tz database's transitions (via :mod:`zoneinfo`):
plain comparisons that every engine evaluates alike, so that each computes the same instant
and the same calendar day."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import narwhals as nw

from .dates import DAY_US, US, floor_div

EPOCH_DAY = dt.date(1970, 1, 1)  # what local_day counts its days from


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01: how typed rows store calendar days (see :func:`local_day`)."""
    return (day - EPOCH_DAY).days


FIXED_ZONES = frozenset({"UTC", "GMT", "Zulu", "Universal", "Greenwich", "UCT"})


@lru_cache(maxsize=64)
def transitions(zone: str, lo: int, hi: int) -> tuple[tuple[int, int, int], ...]:
    """``(instant, offset before, offset after)`` in microseconds for each change of ``zone``'s
    UTC offset between ``lo`` and ``hi`` (found daily, then to the second by bisection)."""
    if zone in FIXED_ZONES or zone.startswith("Etc/"):  # fixed offsets by definition: skip the search
        return ()
    tz = ZoneInfo(zone)

    def offset(seconds: int) -> int:
        moment = dt.datetime.fromtimestamp(seconds, dt.UTC).astimezone(tz)
        return int(moment.utcoffset().total_seconds()) * US

    found = []
    start, stop = lo // US - 86_400, hi // US + 86_400
    previous, before = start, offset(start)
    for second in range(start + 86_400, stop + 86_400, 86_400):
        after = offset(second)
        if after != before:
            low, high = previous, second  # offset(low) == before, offset(high) == after
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if offset(mid) == before else (low, mid)
            found.append((high * US, before, after))
        previous, before = second, after
    return tuple(found)


def base_offset(zone: str, at: int) -> int:
    """The zone's UTC offset at ``at`` (microseconds since 1970)."""
    moment = dt.datetime.fromtimestamp(at // US, dt.UTC).astimezone(ZoneInfo(zone))
    return int(moment.utcoffset().total_seconds()) * US


def zone_offset(value: nw.Expr, zone: str, span: tuple[int, int], *, wall: bool) -> nw.Expr:
    """The zone's UTC offset (microseconds) at each ``value``: a UTC instant, or with ``wall``
    a wall-clock time (resolved by the ``fold=0`` rule). A sum of steps over the transitions in
    ``span``: plain comparisons, the same on every engine."""
    lo, hi = span
    steps = transitions(zone, lo, hi)
    expr = nw.lit(base_offset(zone, lo - DAY_US))
    for instant, before, after in steps:
        edge = instant + max(before, after) if wall else instant
        expr = expr + (value >= edge).cast(nw.Int64) * (after - before)
    return expr


def to_utc(name: str, zone: str, span: tuple[int, int]) -> nw.Expr:
    """Microseconds since 1970 in UTC of the parsed column ``name``: wall-clock values placed in ``zone``."""
    value = nw.col(f"{name}_value")
    local = value - zone_offset(value, zone, span, wall=True)
    return nw.when(nw.col(f"{name}_aware")).then(value).otherwise(local)


def local_day(utc: nw.Expr, zone: str, span: tuple[int, int]) -> nw.Expr:
    """The calendar day in ``zone`` of a UTC instant, as days since 1970-01-01 (the one definition)."""
    return floor_div(utc + zone_offset(utc, zone, span, wall=False), DAY_US)
