"""Clean-up list, recipient domains, typo matcher, trends and alerts."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from conftest import RULES, SAMPLE, bounced, frame, replied, rows, write_csv

from senderscore import build_cube, load_enrollments, output
from senderscore.evidence import (
    domain_table,
    gather,
    mask_email,
    provider_family,
    suppression_list,
    to_crm_csv,
    typo_of,
)
from senderscore.output import neutralise
from senderscore.trends import trend_table


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("gmial.com", "gmail.com"),
        ("hotmial.com", "hotmail.com"),
        ("outlok.com", "outlook.com"),
        ("yaho.com", "yahoo.com"),
        ("gmal.com", "gmail.com"),
        ("outlook.comm", "outlook.com"),
        ("gmail.com", None),
        ("mail.com", None),
        ("gmx.net", None),
        ("acme.com", None),
        ("web.de", None),
        ("me.com", None),
        ("hotmail.es", None),
        ("", None),
    ],
)
def test_typo_matcher(domain, expected):
    assert typo_of(domain) == expected


def test_masking_and_providers():
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_email("") == "" and mask_email(None) == "" and mask_email("nobody") == "***"
    families = provider_family(pd.Series(["gmail.com", "hotmail.com", "acme.io", ""])).tolist()
    assert families == ["Google", "Microsoft", "other (company or unknown)", "no email"]


def test_domain_rates_follow_the_definitions():
    data = frame(
        bounced(2, contact_email="a@gmial.com"),
        replied(1, contact_email="b@gmail.com"),
        rows(3, contact_email="c@gmail.com"),
        rows(2, contact_email="d@ACME.com"),
    )
    counts = gather(load_enrollments(data).enrollments).domain_counts
    table = domain_table(counts).set_index("domain")
    assert table.loc["gmail.com", ["ended", "bounced", "replied"]].tolist() == [4, 0, 1]
    assert table.loc["gmail.com", "reply_rate"] == pytest.approx(0.25)
    assert table.loc["gmial.com", "bounce_rate"] == 1.0 and pd.isna(table.loc["gmial.com", "reply_rate"])
    assert table.loc["gmial.com", "typo_of"] == "gmail.com" and "acme.com" in table.index
    providers = domain_table(gather(load_enrollments(data).enrollments).domain_counts, by="provider").set_index(
        "provider"
    )
    assert providers.loc["Google", "ended"] == 4


def cleanup_data() -> pd.DataFrame:
    return frame(
        bounced(1, contact_id="b1", contact_email="=cmd|'/c calc'!A0", sequence_id="s9"),
        rows(
            1,
            contact_id="u1",
            contact_email="u1@acme.com",
            state="UNENROLLED",
            unenrolled_source="ERROR",
            step_error_type="UNSUBSCRIBED",
        ),
        rows(1, contact_id="t1", contact_email="t1@hotmial.com"),
        rows(3, contact_id="d1", contact_email="d1@acme.com", open_count=0, click_count=0),
        rows(2, contact_id="e1", contact_email="e1@acme.com", open_count=1),
        replied(3, contact_id="r1", contact_email="r1@acme.com"),
        rows(
            1,
            contact_id="b1",
            contact_email="=cmd|'/c calc'!A0",
            sequence_id="+SUM(1)",
            enrolled_at="2026-03-12T09:00:00Z",
            ended_at="2026-03-20T09:00:00Z",
        ),
    )


def test_suppression_list_reasons_order_and_injection():
    table = suppression_list(gather(load_enrollments(cleanup_data()).enrollments))
    assert table["contact_id"].tolist() == ["b1", "d1", "t1", "u1"]  # deterministic, no e1 nor r1
    reasons = dict(zip(table["contact_id"], table["reasons"]))
    assert reasons["b1"] == "hard bounced"
    assert reasons["u1"] == "unsubscribed"
    assert reasons["t1"] == "suspected typo domain hotmial.com (did you mean hotmail.com?)"
    assert reasons["d1"] == "never engaged in 3 enrollments"
    b1 = table.set_index("contact_id").loc["b1"]
    assert b1["enrollments"] == 2 and b1["last_enrolled_at"] == "2026-03-12"
    assert b1["sequences"] == "+SUM(1); s9"
    text = to_crm_csv(table)
    parsed = pd.read_csv(io.StringIO(text), dtype=str)
    cell = parsed.set_index("contact_id").loc["b1"]
    assert cell["contact_email"] == "'=cmd|'/c calc'!A0"
    assert cell["sequences"] == "'+SUM(1); s9"
    assert not any(str(v).startswith(("=", "+", "-", "@")) for v in parsed.to_numpy().ravel())
    masked = suppression_list(gather(load_enrollments(cleanup_data()).enrollments), mask=True)
    assert masked.set_index("contact_id").loc["u1", "contact_email"] == "u***@acme.com"


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise(value):
    assert neutralise(value) == "'" + value


def test_csv_within_a_limit_is_the_whole_csv_or_none_when_it_would_pass_it(monkeypatch):
    monkeypatch.setattr(output, "CSV_BLOCK", 2)  # several blocks, one header
    table = pd.DataFrame({"contact": ["=a", "b", "c", "d", "e"], "n": [1, 2, 3, 4, 5]})
    whole = output.to_csv(table)
    assert output.to_csv_within(table, len(whole)) == whole == "contact,n\n'=a,1\nb,2\nc,3\nd,4\ne,5\n"
    assert output.to_csv_within(table, len(whole) - 1) is None
    assert output.to_csv_within(table.iloc[:0], 100) == "contact,n\n"
    odd = pd.DataFrame({"t": ["=x", "é", None, 'a,"b'], "o": pd.Series([1, "x", None, b"z"], dtype=object)})
    assert output._fewest_bytes(odd) <= len(output.to_csv(odd).encode("utf-8"))
    monkeypatch.setattr(output, "to_csv", None)  # far past the limit: not written at all
    assert output.to_csv_within(pd.DataFrame({"t": ["x" * 50] * 10}), 100) is None


def test_trend_changes_against_the_previous_period():
    data = frame(
        replied(10, ended_at="2026-01-20T10:00:00Z", enrolled_at="2026-01-02T10:00:00Z"),
        rows(90, ended_at="2026-01-21T10:00:00Z", enrolled_at="2026-01-02T10:00:00Z"),
        bounced(10, ended_at="2026-02-10T10:00:00Z", enrolled_at="2026-02-02T10:00:00Z"),
        rows(90, ended_at="2026-02-11T10:00:00Z", enrolled_at="2026-02-02T10:00:00Z"),
    )
    table = trend_table(build_cube(load_enrollments(data).enrollments), period="month")
    assert pd.isna(table.loc[0, "score_change"])
    assert table.loc[1, "score_change"] == pytest.approx(table.loc[1, "score"] - table.loc[0, "score"])
    assert table.loc[1, "bounce_rate_change"] == pytest.approx(0.10)
    assert table.loc[1, "reply_rate_change"] == pytest.approx(-0.10)


def test_recommend_and_suppress_commands_on_the_sample(cli, tmp_path):
    code, out, _ = cli("recommend", SAMPLE)
    assert code == 0
    for rule in RULES:
        assert f"({rule}" in out
    assert out.index("[CRITICAL]") < out.index("[HIGH]") < out.index("[LOW]")
    code, out, _ = cli("recommend", SAMPLE, "--format", "json", "--users", "Maya Evans")
    assert {f["user_name"] for f in json.loads(out)} == {"Maya Evans"}
    target = tmp_path / "contacts.csv"
    code, _, err = cli("suppress", SAMPLE, "--output", target)
    assert code == 0 and "contacts to exclude" in err
    contacts = pd.read_csv(target, dtype=str)
    assert contacts["contact_id"].is_unique and contacts["contact_id"].tolist() == sorted(contacts["contact_id"])
    assert contacts["reasons"].str.contains("hard bounced").any()
    assert contacts["reasons"].str.contains("suspected typo domain gmial.com").any()


def test_fail_on_band_exit_code(cli, tmp_path):
    code, _, err = cli("score", SAMPLE, "--fail-on-band", "low")
    assert code == 3
    assert "ALERT: 2 users with an official score at or below Low" in err
    assert "Maya Müller" in err and "Chloe Rossi" not in err  # provisional users never alert
    assert cli("score", SAMPLE, "--fail-on-band", "Terrible")[0] == 2
    healthy = tmp_path / "ok.csv"
    frame(replied(12), rows(100)).to_csv(healthy, index=False)
    assert cli("score", healthy, "--fail-on-band", "Low")[0] == 0
    assert cli("score", healthy, "--fail-on-band", "Excellent")[0] == 3  # at or below the top band


def test_recommend_bad_input_exit_2(cli, tmp_path):
    bad = write_csv(tmp_path / "in.csv", "enrollment_id\n1\n")
    assert cli("recommend", bad)[0] == 2 and cli("suppress", bad)[0] == 2
