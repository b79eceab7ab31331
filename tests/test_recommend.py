"""Every rule on fixtures with known answers: who must be listed, who must not, and the effect."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import RULES, SAMPLE, bounced, frame, replied, rows

from senderscore import load_enrollments, score_table
from senderscore.evidence import Finding, best_action, gather, recommend, render_findings
from senderscore.evidence.findings import ADVICE, SEVERITIES, calibrated


def evidence(data: pd.DataFrame, **kwargs):
    return gather(load_enrollments(data).enrollments, **kwargs)


def by_rule(findings, rule):
    return [f for f in findings if f.rule == rule]


def test_low_reply_lists_the_weakest_sequence_and_its_effect():
    data = frame(
        replied(1, user_id="low", sequence_id="sA"),
        rows(99, user_id="low", sequence_id="sA"),
        replied(5, user_id="low", sequence_id="sB"),
        rows(95, user_id="low", sequence_id="sB"),
        replied(20, user_id="ok", sequence_id="sC"),
        rows(180, user_id="ok", sequence_id="sC"),
    )
    (finding,) = by_rule(recommend(evidence(data)), "low_reply")
    assert finding.user_id == "low" and finding.rows[:2] == ["sA", "sB"]
    assert finding.evidence["team_median"] == pytest.approx(0.05)  # median of 1 %, 5 %, 10 %
    # Effect: sA brought to the team median, 5 replies out of 100 instead of 1.
    expected = score_table(pd.DataFrame({"ended": [200], "replied": [10], "bounced": [0]}))["score"].iloc[0]
    assert finding.score_after == pytest.approx(expected)
    assert finding.score_before == pytest.approx(
        score_table(pd.DataFrame({"ended": [200], "replied": [6], "bounced": [0]}))["score"].iloc[0]
    )


def test_high_bounce_counts_what_a_clean_up_list_catches():
    data = frame(
        bounced(3, user_id="u", contact_email="x@gmial.com", ended_at="2026-03-10T09:00:00Z"),
        bounced(2, user_id="u", contact_email="y@acme.com"),
        bounced(1, user_id="u", contact_id="again", ended_at="2026-03-02T10:00:00Z"),
        bounced(1, user_id="u", contact_id="again", enrolled_at="2026-03-05T09:00:00Z"),
        replied(10, user_id="u"),
        rows(83, user_id="u", contact_email="z@acme.com"),
        rows(100, user_id="clean"),
    )
    (finding,) = by_rule(recommend(evidence(data)), "high_bounce")
    assert finding.user_id == "u"
    assert finding.evidence["bounced_contacts"] == 2  # "c1" (the builder's default contact) and "again"
    assert finding.evidence["typo_domains"] == {"gmial.com": "gmail.com"}
    # Caught: the 3 typo-domain enrollments and the re-enrollment of "again" that bounced again.
    expected = score_table(pd.DataFrame({"ended": [100 - 4], "replied": [10], "bounced": [7 - 4]}))
    assert finding.score_after == pytest.approx(expected["score"].iloc[0])
    assert finding.evidence["bounce_rate_after"] == pytest.approx(3 / 96)


def test_reenrolled_after_bounce_and_after_unsubscribe():
    data = frame(
        bounced(1, user_id="u1", contact_id="b", enrolled_at="2026-03-01T09:00:00Z", ended_at="2026-03-02T09:00:00Z"),
        rows(1, user_id="u2", contact_id="b", enrolled_at="2026-03-20T09:00:00Z", ended_at="2026-04-01T09:00:00Z"),
        rows(1, user_id="u3", contact_id="early", enrolled_at="2026-02-01T09:00:00Z"),
        bounced(1, user_id="u3", contact_id="early", enrolled_at="2026-03-01T09:00:00Z"),
        rows(
            1,
            user_id="u1",
            contact_id="unsub",
            state="UNENROLLED",
            unenrolled_source="ERROR",
            step_error_type="UNSUBSCRIBED",
            enrolled_at="2026-03-01T09:00:00Z",
            ended_at="2026-03-03T09:00:00Z",
        ),
        rows(1, user_id="u3", contact_id="unsub", state="EXECUTING", ended_at="", enrolled_at="2026-04-02T09:00:00Z"),
    )
    findings = recommend(evidence(data))
    (again,) = by_rule(findings, "reenrolled_after_bounce")
    assert (again.user_id, again.rows, again.severity) == ("u2", ["b"], "medium")  # u2 is provisional: never high
    (unsub,) = by_rule(findings, "emailed_after_unsubscribe")
    assert (unsub.user_id, unsub.rows, unsub.severity) == ("u3", ["unsub"], "critical")
    assert findings[0].severity == "critical"  # most severe first


def test_needs_data():
    (finding,) = by_rule(recommend(evidence(frame(replied(6, user_id="new"), rows(54, user_id="new")))), "needs_data")
    assert finding.evidence == {"ended": 60, "needed": 40}
    assert "Needs 40 more ended enrollments" in finding.summary


def test_changed_names_the_band_move_and_the_sequence_behind_it():
    before = {"enrolled_at": "2026-03-01T09:00:00Z", "ended_at": "2026-03-15T09:00:00Z"}
    after = {"enrolled_at": "2026-06-01T09:00:00Z", "ended_at": "2026-06-15T09:00:00Z"}
    data = frame(
        replied(15, user_id="u", **before),
        rows(135, user_id="u", **before),
        replied(15, user_id="u", **after),
        rows(120, user_id="u", **after),
        bounced(15, user_id="u", sequence_id="list", **after),
        replied(15, user_id="steady", **before),
        rows(135, user_id="steady", **before),
        replied(15, user_id="steady", **after),
        rows(135, user_id="steady", **after),
    )
    (finding,) = by_rule(recommend(evidence(data, start="2026-01-01", end="2026-06-30")), "changed")
    assert finding.user_id == "u"
    assert (finding.band_before, finding.band_after) == ("Excellent", "Low")
    assert finding.rows == ["list"]
    # Before: 10 % replies (42.5 points), no bounce (50). After: 15 / 135 replies (45.28), 10 % bounces (0).
    assert finding.score_before == pytest.approx(92.5)
    assert finding.score_after == pytest.approx(35 + (15 / 135 - 0.07) / 0.06 * 15)


def test_no_findings_for_a_healthy_team():
    findings = recommend(evidence(frame(replied(12, user_id="a"), rows(100, user_id="a"))))
    assert findings == []
    assert "No findings" in render_findings(findings)


def test_sample_has_every_kind_of_finding():
    findings = recommend(gather(load_enrollments(SAMPLE).enrollments))
    assert {f.rule for f in findings} == set(RULES)
    for finding in findings:  # every quoted effect is a recomputation under the same policy
        if finding.score_after is not None:
            assert 0 <= finding.score_after <= 100


def test_low_reply_compares_personalised_emails_where_the_data_says():
    data = frame(
        replied(4, user_id="low", personalized="yes"),
        rows(46, user_id="low", personalized="true"),
        replied(1, user_id="low", personalized="no"),
        rows(99, user_id="low", personalized="FALSE"),
        rows(10, user_id="low", personalized=""),
    )
    (finding,) = by_rule(recommend(evidence(data)), "low_reply")
    assert finding.evidence["reply_rate_personalized"] == pytest.approx(4 / 50)
    assert finding.evidence["reply_rate_not_personalized"] == pytest.approx(1 / 100)
    assert "personalised emails got replies 8.0 % of the time (50 delivered), the others 1.0 % (100)" in finding.detail


def test_personalized_values_are_validated():
    from senderscore import InputError

    with pytest.raises(InputError, match=r"column 'personalized': value 'maybe': expected true or false"):
        load_enrollments(frame(rows(1, personalized="maybe")))


def test_findings_a_manager_reads_official_first_never_high_for_nothing():
    """Provisional users' findings come after official ones and are never "high"; a finding worth
    +0.0 points is not "high" either; each rule's advice is said once, not per finding."""
    findings = recommend(gather(load_enrollments(SAMPLE).enrollments, start="2026-01-01"))
    official = [f.official for f in findings]
    assert official == sorted(official, reverse=True) and True in official and False in official
    assert all(f.severity != "high" for f in findings if not f.official or f.score_change == 0.0)
    order = [(not f.official, SEVERITIES.index(f.severity)) for f in findings]
    assert order == sorted(order)
    for rule in {f.rule for f in findings}:
        assert len({f.advice for f in findings if f.rule == rule}) == 1
        assert all(f.advice not in f.detail for f in findings if f.rule == rule)
    text = render_findings(findings)
    assert text.count(ADVICE["high_bounce"]) == 1 and "(s)" not in text


def test_the_best_action_is_the_one_worth_most_points():
    def make(rule, change, action="do it", severity="high"):
        return Finding(rule, severity, "u", "U", "m", "s", action=action, score_before=50.0, score_after=50.0 + change)

    low, high, none = make("low_reply", 2.0), make("high_bounce", 6.5), make("changed", 9.0, action="")
    assert best_action([low, high, none]) is high  # "changed" is no action: its effect is history
    assert best_action([make("high_bounce", 0.0)]) is None
    assert calibrated(make("high_bounce", 0.0), official=True).severity == "medium"
    assert calibrated(make("high_bounce", 1.0), official=False).severity == "medium"
    compliance = make("emailed_after_unsubscribe", 0.0, severity="critical")
    assert calibrated(compliance, official=False).severity == "critical"  # compliance stays critical
