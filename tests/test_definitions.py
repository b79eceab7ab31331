"""Hand-checked tables for every definition and its edges."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import bounced, frame, replied, row, rows

from senderscore import DEFAULT_POLICY, Policy, build_cube, load_enrollments, score_table, sender_scores


def scores(data: pd.DataFrame, **kwargs) -> pd.DataFrame:
    enrollments, _ = load_enrollments(data, policy=kwargs.get("policy"))
    return sender_scores(enrollments, **kwargs)


def one(data: pd.DataFrame, **kwargs) -> pd.Series:
    table = scores(data, **kwargs)
    assert len(table) == 1
    return table.iloc[0]


def test_hand_checked_user_row():
    # 100 ended: 10 replied, 3 bounced, 87 delivered without reply.
    result = one(frame(replied(10), bounced(3), rows(87)))
    assert (result["ended"], result["replied"], result["bounced"]) == (100, 10, 3)
    assert result["reply_rate"] == pytest.approx(10 / 97)
    assert result["bounce_rate"] == pytest.approx(0.03)
    # reply points: 35 + (10/97 - 0.07) / 0.06 * 15 ; bounce points: 50 - 500 * 0.03 = 35
    assert result["reply_points"] == pytest.approx(35 + (10 / 97 - 0.07) / 0.06 * 15)
    assert result["bounce_points"] == pytest.approx(35.0)
    assert result["score"] == pytest.approx(78.273196, abs=1e-6)
    assert result["band"] == "Good"
    assert bool(result["eligible"]) is True


@pytest.mark.parametrize(("ended", "eligible"), [(99, False), (100, True), (101, True)])
def test_user_floor_is_at_least_100(ended, eligible):
    assert bool(one(frame(replied(10), rows(ended - 10)))["eligible"]) is eligible


@pytest.mark.parametrize("by", ["sequence", "user-sequence"])
@pytest.mark.parametrize(("ended", "eligible"), [(100, False), (101, True)])
def test_sequence_floor_is_more_than_100(by, ended, eligible):
    result = one(frame(replied(10), rows(ended - 10)), by=by)
    assert bool(result["eligible"]) is eligible


def test_provisional_rows_come_after_official_ones():
    data = frame(rows(100, user_id="big"), replied(20, user_id="small"), rows(10, user_id="small"))
    table = scores(data)
    assert table["user_id"].tolist() == ["big", "small"]
    assert table["score"].tolist()[1] > table["score"].tolist()[0]  # higher score, still listed after


def test_bounced_with_replies_counts_as_bounced_only():
    result = one(frame(bounced(1, reply_count=2), rows(3)))
    assert (result["bounced"], result["replied"]) == (1, 0)
    assert result["reply_rate"] == 0.0


@pytest.mark.parametrize(
    ("source", "count", "is_reply"),
    [
        ("REPLY", 0, True),
        ("THREAD_REPLY", 0, True),
        ("ACCOUNT_REPLY", 0, False),
        ("MEETING", 0, False),
        ("MEETING", 1, True),
        ("ACCOUNT_REPLY", 1, True),
        ("MANUAL", 0, False),
        ("", 3, True),
    ],
)
def test_what_counts_as_a_reply(source, count, is_reply):
    result = one(frame(rows(1, state="UNENROLLED", unenrolled_source=source, reply_count=count)))
    assert result["replied"] == int(is_reply)


def test_account_reply_counts_when_the_policy_says_so():
    data = frame(rows(1, state="UNENROLLED", unenrolled_source="ACCOUNT_REPLY"), rows(3))
    assert one(data)["replied"] == 0
    policy = Policy(count_account_reply=True)
    result = one(data, policy=policy)
    assert result["replied"] == 1
    assert result["reply_rate"] == pytest.approx(0.25)


def test_all_bounced_user_has_undefined_reply_rate_and_zero_score():
    result = one(frame(bounced(5)))
    assert math.isnan(result["reply_rate"])
    assert result["bounce_rate"] == 1.0
    assert (result["reply_points"], result["bounce_points"], result["score"], result["band"]) == (0, 0, 0, "Low")
    assert math.isnan(result["reply_rate_low"]) and math.isnan(result["reply_rate_high"])


def test_score_table_zero_delivered_and_zero_ended():
    table = score_table(pd.DataFrame({"ended": [0, 4], "replied": [0, 0], "bounced": [0, 4]}))
    assert table["reply_rate"].isna().all()
    assert math.isnan(table.loc[0, "bounce_rate"])
    assert table["score"].tolist() == [0.0, 0.0]  # undefined rates earn no points


def test_running_enrollments_are_not_counted():
    data = frame(rows(3), rows(4, state="executing", ended_at=""), rows(2, state="PAUSED", ended_at=""))
    assert one(data)["ended"] == 3


def test_lower_case_states_and_sources():
    data = frame(
        rows(2, state="finished"),
        rows(1, state="Unenrolled", unenrolled_source="reply"),
        rows(1, state="unenrolled", unenrolled_source="error", step_error_type="bounced"),
    )
    result = one(data)
    assert (result["ended"], result["replied"], result["bounced"]) == (4, 1, 1)


EDGE = "2026-03-31T23:30:00-05:00"  # April 1, 04:30 UTC


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-03-01", "2026-03-31", 0),
        ("2026-04-01", "2026-04-30", 1),
        (None, "2026-04-01", 1),
        ("2026-04-01", "2026-04-01", 1),
        ("2026-04-02", None, 0),
    ],
)
def test_window_edges_use_the_utc_calendar_day(start, end, expected):
    data = frame(rows(1, ended_at=EDGE, enrolled_at="2026-03-20T10:00:00Z"))
    table = scores(data, start=start, end=end)
    assert int(table["ended"].sum()) == expected


def test_window_edges_follow_the_policy_time_zone():
    policy = Policy(timezone="America/Chicago")  # UTC-05:00 in March, like EDGE
    data = frame(rows(1, ended_at=EDGE, enrolled_at="2026-03-20T10:00:00Z"))
    assert int(scores(data, start="2026-03-31", end="2026-03-31", policy=policy)["ended"].sum()) == 1
    assert int(scores(data, start="2026-04-01", policy=policy)["ended"].sum()) == 0


def test_naive_timestamps_are_read_in_the_policy_time_zone():
    policy = Policy(timezone="Europe/Berlin")
    data = frame(rows(1, ended_at="2026-04-01T00:30:00", enrolled_at="2026-03-20T10:00:00"))
    enrollments, _ = load_enrollments(data, policy=policy)
    assert enrollments.loc[0, "ended_at"] == pd.Timestamp("2026-03-31T22:30:00Z")
    assert int(scores(data, start="2026-04-01", end="2026-04-01", policy=policy)["ended"].sum()) == 1


def test_window_on_enrolled_at():
    data = frame(rows(2, enrolled_at="2026-01-15T10:00:00Z", ended_at="2026-02-15T10:00:00Z"))
    assert int(scores(data, start="2026-01-01", end="2026-01-31")["ended"].sum()) == 0
    by_enrolled = scores(data, start="2026-01-01", end="2026-01-31", date_field="enrolled_at")
    assert int(by_enrolled["ended"].sum()) == 2


def test_epoch_milliseconds_match_iso_timestamps():
    iso = frame(rows(3, enrolled_at="2026-03-31T23:30:00Z", ended_at="2026-04-01T00:10:00Z"))
    epoch = frame(rows(3, enrolled_at="1775000000000", ended_at=str(1775002200000)))
    loaded, _ = load_enrollments(epoch)
    assert loaded.loc[0, "enrolled_at"] == pd.Timestamp("2026-03-31T23:33:20Z")
    assert scores(iso, start="2026-04-01")["ended"].tolist() == scores(epoch, start="2026-04-01")["ended"].tolist()


def test_hubspot_names_give_the_same_result_as_canonical_ones():
    canonical = frame(replied(7), bounced(2), rows(95, state="unenrolled", unenrolled_source="MANUAL"))
    renamed = canonical.rename(
        columns={
            "enrollment_id": "hs_enrollment_id",
            "sequence_id": "hs_sequence_id",
            "user_id": "hs_enrolled_by",
            "contact_id": "hs_contact_id",
            "enrolled_at": "hs_enrolled_at",
            "ended_at": "hs_ended_at",
            "state": "hs_enrollment_state",
            "unenrolled_source": "hs_unenrolled_source",
            "step_error_type": "hs_step_error_type",
            "reply_count": "hs_email_reply_count",
        }
    )
    labels = canonical.rename(
        columns={
            "enrollment_id": "Enrollment ID",
            "sequence_id": "Sequence ID",
            "user_id": "Enrolled by",
            "contact_id": "Contact ID",
            "enrolled_at": "Enrolled at",
            "ended_at": "Ended at",
            "state": "Enrollment state",
            "unenrolled_source": "Unenrolled source",
            "step_error_type": "Step error type",
            "reply_count": "Email reply count",
        }
    )
    expected = scores(canonical)
    pd.testing.assert_frame_equal(scores(renamed), expected)
    pd.testing.assert_frame_equal(scores(labels), expected)


def test_wilson_bounds_and_score_range():
    result = one(frame(replied(7), bounced(3), rows(90)))
    low, high = result["reply_rate_low"], result["reply_rate_high"]
    z = 1.959963984540054
    n, p = 97, 7 / 97
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (low, high) == pytest.approx((centre - half, centre + half))
    assert low < result["reply_rate"] < high
    expected_low = DEFAULT_POLICY.reply_points_for(low) + DEFAULT_POLICY.bounce_points_for(result["bounce_rate_high"])
    expected_high = DEFAULT_POLICY.reply_points_for(high) + DEFAULT_POLICY.bounce_points_for(result["bounce_rate_low"])
    assert result["score_low"] == pytest.approx(float(expected_low), abs=1e-6)
    assert result["score_high"] == pytest.approx(float(expected_high), abs=1e-6)
    assert result["score_low"] <= result["score"] <= result["score_high"]


def test_wilson_interval_at_zero_and_all():
    table = score_table(pd.DataFrame({"ended": [50, 50], "replied": [0, 50], "bounced": [0, 0]}))
    assert table.loc[0, "reply_rate_low"] == 0.0
    assert table.loc[1, "reply_rate_high"] == 1.0


@pytest.mark.parametrize(
    ("ended", "replied", "bounced", "points", "band"),
    [
        (1000, 0, 0, 50.0, "Fair"),  # 0 % reply, 0 % bounce
        (1000, 35, 0, 67.5, "Fair"),  # 3.5 %: halfway to 35 reply points
        (1000, 70, 0, 85.0, "Excellent"),  # 7 %: 35 points; Excellent starts at 85
        (10000, 679, 300, 70.0, "Good"),  # 7 % reply, 3 % bounce: 35 + 35, Good starts at 70
        (1000, 200, 30, 85.0, "Excellent"),  # reply above 13 % keeps 50 points
        (1000, 200, 100, 50.0, "Fair"),  # 10 % bounce: 0 bounce points
        (1000, 200, 400, 50.0, "Fair"),  # above 10 % bounce: still 0, never negative
        (1000, 38, 50, 45.0, "Low"),  # 4 % reply (20) + 5 % bounce (25)
    ],
)
def test_default_curve_and_bands(ended, replied, bounced, points, band):
    table = score_table(pd.DataFrame({"ended": [ended], "replied": [replied], "bounced": [bounced]}))
    assert table.loc[0, "score"] == pytest.approx(points)
    assert table.loc[0, "band"] == band


def test_band_edges_are_inclusive():
    assert DEFAULT_POLICY.band_for(np.array([85.0, 84.999999, 70.0, 69.9, 50.0, 49.99])).tolist() == [
        "Excellent",
        "Good",
        "Good",
        "Fair",
        "Fair",
        "Low",
    ]


def test_period_rollup_sums_to_the_whole():
    data = frame(
        rows(3, ended_at="2026-01-30T10:00:00Z", enrolled_at="2026-01-02T10:00:00Z"),
        replied(2, ended_at="2026-02-02T10:00:00Z", enrolled_at="2026-01-02T10:00:00Z"),
    )
    monthly = scores(data, period="month")
    assert monthly["period"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-01", "2026-02-01"]
    assert monthly["ended"].tolist() == [3, 2]
    weekly = scores(data, period="week")
    assert weekly["period"].dt.day_name().unique().tolist() == ["Monday"]
    assert weekly["ended"].sum() == 5


def test_cube_is_one_row_per_user_sequence_day():
    data = frame(
        rows(2, ended_at="2026-03-10T01:00:00Z"),
        rows(1, ended_at="2026-03-10T23:00:00Z"),
        rows(1, ended_at="2026-03-11T00:00:00Z"),
        rows(1, sequence_id="s2"),
    )
    cube = build_cube(load_enrollments(data).enrollments)
    assert cube.counts[["sequence_id", "day", "ended"]].astype(str).values.tolist() == [
        ["s1", "2026-03-10", "3"],
        ["s1", "2026-03-11", "1"],
        ["s2", "2026-03-10", "1"],
    ]


def test_cube_rows_are_sorted_bytewise_by_ids_then_day_as_text_and_64_bit_counts():
    data = frame(
        rows(1, sequence_id="s2", ended_at="2026-03-11T00:00:00Z"),
        rows(1, sequence_id="s10"),
        rows(1, sequence_id="S2"),
        rows(1, sequence_id="s2", ended_at="2026-03-09T00:00:00Z"),
        rows(1, sequence_id="s1", user_id="u0"),
    )
    counts = build_cube(load_enrollments(data).enrollments).counts
    assert counts[["user_id", "sequence_id", "day"]].astype(str).values.tolist() == [
        ["u0", "s1", "2026-03-10"],
        ["u1", "S2", "2026-03-10"],
        ["u1", "s10", "2026-03-10"],
        ["u1", "s2", "2026-03-09"],
        ["u1", "s2", "2026-03-11"],
    ]
    assert pd.api.types.is_string_dtype(counts["sequence_id"])
    assert {str(counts[c].dtype) for c in ("ended", "bounced", "replied")} == {"int64"}


def test_policy_change_needs_no_rebuild_but_timezone_change_does():
    cube = build_cube(load_enrollments(frame(rows(2), replied(1))).enrollments)
    assert sender_scores(cube, policy=Policy(count_account_reply=True))["ended"].tolist() == [3]
    with pytest.raises(ValueError, match="time zone"):
        sender_scores(cube, policy=Policy(timezone="Europe/Berlin"))


def test_row_builder_applies_overrides():
    assert row(user_id="x")["user_id"] == "x"
