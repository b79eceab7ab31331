"""Properties that must hold for any input (hypothesis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from senderscore import DEFAULT_POLICY, build_cube, load_enrollments, score_table, sender_scores

SOURCES = ["", "REPLY", "THREAD_REPLY", "ACCOUNT_REPLY", "MEETING", "MANUAL", "ERROR"]
ERRORS = ["", "BOUNCED", "UNSUBSCRIBED"]
STATES = ["FINISHED", "UNENROLLED", "EXECUTING", "PAUSED"]
DAY0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@st.composite
def counts(draw):
    ended = draw(st.integers(0, 5000))
    bounced_ = draw(st.integers(0, ended))
    replied_ = draw(st.integers(0, ended - bounced_))
    return ended, replied_, bounced_


@given(st.lists(counts(), min_size=1, max_size=30))
def test_scores_stay_within_0_100_and_the_range_brackets_them(rows):
    table = score_table(pd.DataFrame(rows, columns=["ended", "replied", "bounced"]))
    assert table["score"].between(0, 100).all()
    assert (table["score_low"] <= table["score"] + 1e-9).all()
    assert (table["score"] <= table["score_high"] + 1e-9).all()


@given(st.lists(st.floats(0, 100), min_size=2, max_size=50))
def test_bands_are_monotone_in_score(values):
    ordered = np.sort(np.array(values))
    rank = {name: i for i, name in enumerate(reversed(DEFAULT_POLICY.band_names))}
    bands = [rank[b] for b in DEFAULT_POLICY.band_for(ordered)]
    assert bands == sorted(bands)


@st.composite
def enrollments(draw):
    n = draw(st.integers(1, 60))
    records = []
    for i in range(n):
        start = draw(st.integers(0, 120 * 24)) * 3600 + draw(st.integers(0, 3599))
        length = draw(st.integers(0, 30 * 24 * 3600))
        enrolled = DAY0 + dt.timedelta(seconds=start)
        offset = draw(st.sampled_from(["Z", "-05:00", "+09:30"]))
        hours = {"Z": 0, "-05:00": -5, "+09:30": 9.5}[offset]
        records.append(
            {
                "enrollment_id": str(i),
                "sequence_id": draw(st.sampled_from(["s1", "s2", "s3"])),
                "user_id": draw(st.sampled_from(["u1", "u2"])),
                "contact_id": str(i),
                "enrolled_at": _local(enrolled, hours, offset),
                "ended_at": _local(enrolled + dt.timedelta(seconds=length), hours, offset),
                "state": draw(st.sampled_from(STATES)),
                "unenrolled_source": draw(st.sampled_from(SOURCES)),
                "step_error_type": draw(st.sampled_from(ERRORS)),
                "reply_count": draw(st.integers(0, 2)),
            }
        )
    return pd.DataFrame(records)


def _local(moment: dt.datetime, hours: float, offset: str) -> str:
    """``moment`` written as local time with an explicit offset, as exports do."""
    return (moment + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S") + offset


def direct(raw: pd.DataFrame, start: dt.date, end: dt.date, date_field: str) -> pd.DataFrame:
    """The definitions applied to raw rows, without the cube."""
    ended = raw["state"].isin(["FINISHED", "UNENROLLED"])
    day = pd.to_datetime(raw[date_field], utc=True).dt.date
    keep = raw[ended & (day >= start) & (day <= end)]
    is_bounced = (keep["unenrolled_source"] == "ERROR") & (keep["step_error_type"] == "BOUNCED")
    is_replied = ~is_bounced & ((keep["reply_count"] > 0) | keep["unenrolled_source"].isin(["REPLY", "THREAD_REPLY"]))
    out = pd.DataFrame(
        {"user_id": keep["user_id"], "ended": 1, "bounced": is_bounced.astype(int), "replied": is_replied.astype(int)}
    )
    return out.groupby("user_id")[["ended", "replied", "bounced"]].sum().reset_index()


@settings(max_examples=30, deadline=None)
@given(enrollments(), st.integers(0, 150), st.integers(0, 150), st.sampled_from(["ended_at", "enrolled_at"]))
def test_cube_sums_equal_a_direct_computation_for_any_window(raw, a, b, date_field):
    start, end = sorted((DAY0.date() + dt.timedelta(days=a), DAY0.date() + dt.timedelta(days=b)))
    cube = build_cube(load_enrollments(raw).enrollments, date_field=date_field)
    table = sender_scores(cube, start=start, end=end).sort_values("user_id").reset_index(drop=True)
    expected = direct(raw, start, end, date_field)
    pd.testing.assert_frame_equal(table[["user_id", "ended", "replied", "bounced"]], expected, check_dtype=False)


@settings(max_examples=25, deadline=None)
@given(
    enrollments(),
    st.integers(-20, 170),
    st.integers(-20, 170),
    st.sampled_from([None, "week", "month"]),
    st.sampled_from([["user_id"], ["user_id", "sequence_id"], ["sequence_id"]]),
)
def test_running_totals_give_the_scan_s_rollup_for_any_window(raw, a, b, period, keys):
    """DayIndex (running totals over days) and rollup(window(...)) are one definition evaluated
    two ways: the same rows, keys, periods, sums and dtypes, windows outside the data included."""
    from senderscore.daily import DayIndex
    from senderscore.scores import rollup, window

    cube = build_cube(load_enrollments(raw).enrollments)
    start, end = sorted((DAY0.date() + dt.timedelta(days=a), DAY0.date() + dt.timedelta(days=b)))
    columns = [c for c in ("ended", "bounced", "replied", "account_replied", "unsubscribed") if c in cube.counts]
    index = DayIndex.build(cube.counts, keys, columns)
    expected = rollup(window(cube, start, end), keys, period)[[*keys, *(["period"] if period else []), *columns]]
    if index is None:
        assert cube.counts.empty
        return
    got = index.rollup(start, end, period)
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True))
    # and sender_scores, which uses the totals from a key set's second request on
    first = sender_scores(cube, start=start, end=end, by="user", period=period)
    pd.testing.assert_frame_equal(sender_scores(cube, start=start, end=end, by="user", period=period), first)


@settings(max_examples=15, deadline=None)
@given(enrollments(), st.randoms())
def test_row_order_is_irrelevant_and_inputs_unchanged(raw, random):
    before = raw.copy()
    shuffled = raw.sample(frac=1, random_state=random.randint(0, 2**31))
    for by in ("user", "user-sequence"):
        a = sender_scores(raw, by=by)
        b = sender_scores(shuffled, by=by)
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(raw, before)
