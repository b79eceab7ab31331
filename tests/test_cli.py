"""The CLI on the sample data: formats, columns, commands."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from conftest import SAMPLE, run_module

from senderscore import Policy, load_enrollments, sender_scores

FIRST_COLUMNS = [
    "ended",
    "replied",
    "bounced",
    "reply_rate",
    "bounce_rate",
    "reply_points",
    "bounce_points",
    "score",
    "band",
    "eligible",
    "reply_rate_low",
    "reply_rate_high",
    "bounce_rate_low",
    "bounce_rate_high",
    "score_low",
    "score_high",
]


@pytest.mark.parametrize(
    ("by", "keys"),
    [("user", ["user_id"]), ("sequence", ["sequence_id"]), ("user-sequence", ["user_id", "sequence_id"])],
)
def test_csv_columns_in_order(cli, by, keys):
    code, out, _ = cli("score", SAMPLE, "--by", by, "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert list(table.columns[: len(keys) + len(FIRST_COLUMNS)]) == keys + FIRST_COLUMNS
    assert set(table["eligible"]) <= {"true", "false"}
    rate = table["reply_rate"][table["reply_rate"] != ""].astype(float)
    assert ((rate >= 0) & (rate <= 1)).all()  # fractions, not percentages


def test_csv_matches_the_api(cli):
    code, out, _ = cli("score", SAMPLE, "--format", "csv", "--start", "2026-01-01", "--end", "2026-06-30")
    assert code == 0
    cli_table = pd.read_csv(io.StringIO(out), dtype={"user_id": str})
    api = sender_scores(load_enrollments(SAMPLE).enrollments, start="2026-01-01", end="2026-06-30")
    assert cli_table["user_id"].tolist() == api["user_id"].tolist()
    assert cli_table["score"].tolist() == pytest.approx(api["score"].tolist())


def test_undefined_values_are_empty_in_csv(cli, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(
        "enrollment_id,sequence_id,user_id,contact_id,enrolled_at,ended_at,state,unenrolled_source,"
        "step_error_type\n1,s1,u1,c1,2026-03-01,2026-03-02,UNENROLLED,ERROR,BOUNCED\n"
    )
    code, out, _ = cli("score", path, "--format", "csv")
    assert code == 0
    values = dict(zip(*[line.split(",") for line in out.splitlines()[:2]]))
    assert values["reply_rate"] == "" and values["reply_rate_low"] == ""
    assert values["bounce_rate"] == "1.0" and values["eligible"] == "false"


def test_json_document(cli):
    code, out, _ = cli("score", SAMPLE, "--format", "json", "--by", "sequence", "--start", "2026-03-01")
    assert code == 0
    document = json.loads(out)
    assert document["by"] == "sequence" and document["start"] == "2026-03-01" and document["end"] is None
    assert document["policy"] == "senderscore default v1"
    assert document["load"]["rows_read"] == document["load"]["rows_used"]
    assert {"sequence_id", "score", "band", "eligible"} <= set(document["rows"][0])


def test_table_marks_provisional_rows(cli):
    code, out, _ = cli("score", SAMPLE)
    assert code == 0
    official, _, provisional = out.partition("\n\n* provisional")[0].rpartition("\n\n")
    assert " *" in provisional and " *" not in official.split("---")[-1]
    assert "provisional: fewer than 100 ended enrollments" in out


def test_output_file_and_policy_file(cli, tmp_path):
    policy = tmp_path / "strict.toml"
    policy.write_text('name = "strict"\nversion = "v2"\nmin_ended_user = 5000\n')
    target = tmp_path / "scores.csv"
    code, out, err = cli("score", SAMPLE, "--policy", policy, "--format", "csv", "--output", target)
    assert code == 0 and out == "" and f"wrote {target}" in err
    assert (pd.read_csv(target)["eligible"] == False).all()  # noqa: E712  (nobody has 5000 ended)
    printed = cli("policy", "--policy", policy)[1]
    assert 'name = "strict"' in printed and 'version = "v2"' in printed and "min_ended_user = 5000" in printed


def test_bad_policy_file(cli, tmp_path):
    policy = tmp_path / "p.toml"
    policy.write_text("min_ended_usr = 50\n")
    code, _, err = cli("score", SAMPLE, "--policy", policy)
    assert code == 2 and "did you mean 'min_ended_user'?" in err


def test_policy_round_trips_through_toml(cli, tmp_path):
    text = cli("policy")[1]
    path = tmp_path / "p.toml"
    path.write_text(text)
    assert Policy.from_toml(path) == Policy()


def test_sample_is_seeded_and_sized(cli, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert cli("sample", "--rows", 500, "--seed", 7, "--output", a)[0] == 0
    cli("sample", "--rows", 500, "--seed", 7, "--output", b)
    assert a.read_bytes() == b.read_bytes()
    frame = pd.read_csv(a)
    assert len(frame) == 500 and frame["contact_id"].duplicated().any()  # re-enrollments among the 500
    for rows, kind in ((100, "csv"), (101, "parquet"), (2000, "csv.gz"), (2007, "parquet")):
        assert cli("sample", "--rows", rows, "--seed", rows, "--output", tmp_path / f"{rows}.{kind}")[0] == 0
        read = pd.read_parquet if kind == "parquet" else pd.read_csv
        assert len(read(tmp_path / f"{rows}.{kind}")) == rows


def test_checked_in_sample_is_what_the_generator_makes(cli, tmp_path):
    fresh = tmp_path / "sample.csv"
    cli("sample", "--rows", 8024, "--seed", 42, "--output", fresh)
    assert fresh.read_bytes() == SAMPLE.read_bytes()


def test_python_dash_m_and_version():
    result = run_module("--version")
    assert result.returncode == 0 and result.stdout.startswith("senderscore ")


def test_mistyped_commands_and_choices_get_a_suggestion(cli):
    code, _, err = cli("scroe", SAMPLE)
    assert code == 2 and "did you mean 'score'?" in err
    code, _, err = cli("score", SAMPLE, "--by", "usr")
    assert code == 2 and "did you mean 'user'?" in err


def test_help_shows_defaults(capsys):
    from senderscore.cli import main

    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    out = capsys.readouterr().out
    assert "(default: 8024)" in out and "(default: 42)" in out


@pytest.mark.parametrize("command", ["score", "report", "recommend", "suppress", "validate", "sample"])
def test_help_says_each_default_once(capsys, command):
    """A default is said once: no "(default: )" or "(default: None)" after a help text that names
    its default already, and none for off switches."""
    from senderscore.cli import main

    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for noise in ("(default: )", "(default: None)", "(default: False)", ") (default:"):
        assert noise not in out, (command, noise)
