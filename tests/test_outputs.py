"""Outputs never destroy anything, every CSV is spreadsheet-safe, terminals get no escapes."""

from __future__ import annotations

import hashlib
import io
import os
import stat

import pandas as pd
import pytest
from conftest import HEADER, SAMPLE, frame, rows, write_csv


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(SAMPLE.read_bytes())
    return path


@pytest.mark.parametrize("option", ["--output", "--rejects"])
def test_an_output_over_the_input_is_refused_also_through_a_link(cli, tmp_path, export, option):
    before = digest(export)
    link = tmp_path / "link.csv"
    link.symlink_to(export)
    for target in (export, link):
        code, _, err = cli("score", export, "--on-bad-rows", "skip", option, target)
        assert code == 2 and "would overwrite the input" in err
    assert digest(export) == before and not list(tmp_path.glob(".*.tmp"))


def test_default_rejects_never_land_on_the_input(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = write_csv(tmp_path / "x.rejects.csv", HEADER + "1,s1,u1,c1,2026-03-01,2026-03-10,FINISHED,,,x\n"
                    + "2,s1,u1,c1,2026-03-01,2026-03-10,FINISHED,,,0\n")  # fmt: skip
    before = digest(bad)
    code, _, err = cli("score", bad, "--on-bad-rows", "skip")
    assert code == 0 and digest(bad) == before
    rejects = pd.read_csv(tmp_path / "x.rejects.rejects.csv", dtype=str)
    assert rejects["enrollment_id"].tolist() == ["1"] and "x.rejects.rejects.csv" in err


def test_special_files_are_written_in_place_and_dash_is_stdout(cli, export):
    code, _, _ = cli("score", export, "--format", "csv", "--output", "/dev/null")
    assert code == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    code, out, _ = cli("score", export, "--format", "csv", "--output", "-")
    assert code == 0 and out.startswith("user_id,")


def test_unwritable_places_fail_before_the_work_with_the_path(cli, tmp_path, export):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for args in (
        ("score", export, "--output", blocker / "x.csv"),
        ("report", export, "--output-dir", blocker),
        ("sample", "--output", blocker / "s.csv"),
        ("score", export, "--output", tmp_path),
    ):
        code, _, err = cli(*args)
        assert code == 2 and "Traceback" not in err and str(tmp_path) in err, args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "in.csv"]  # nothing left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder_is_a_message(cli, tmp_path, export):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = cli("score", export, "--output", locked / "x.csv")
    assert code == 2 and "not writable" in err


def hostile():
    return frame(
        rows(120, user_id="=1+1", user_name="@SUM(A1)", sequence_id="-s", sequence_name="+cmd|' /C calc'!A0"),
        rows(1, user_id="u2", user_name="Eve\x1b[2J\x1b[31m"),
        rows(1, user_id="u3", reply_count="x"),
    )


@pytest.mark.parametrize("by", ["user", "sequence", "user-sequence"])
def test_every_csv_we_write_is_spreadsheet_safe(cli, tmp_path, by):
    data = hostile().assign(contact_email='=HYPERLINK("http://x")')
    source = tmp_path / "in.csv"
    data.to_csv(source, index=False)
    code, out, _ = cli("score", source, "--by", by, "--format", "csv", "--on-bad-rows", "skip",
                       "--rejects", tmp_path / "rejects.csv")  # fmt: skip
    assert code == 0
    for text in (out, (tmp_path / "rejects.csv").read_text()):
        cells = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).to_numpy().ravel()
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], by
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert pd.api.types.is_numeric_dtype(table["score"]) and pd.api.types.is_numeric_dtype(table["ended"])
    assert "'=1+1" in out or by == "sequence"


def test_findings_csv_has_a_numeric_score_change_and_no_formula(cli):
    code, out, _ = cli("recommend", SAMPLE, "--format", "csv")
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert code == 0 and pd.api.types.is_float_dtype(table["score_change"].replace("", None).astype(float))
    effects = table.loc[table["effect"] != "", "effect"]
    assert len(effects) and all(e.startswith("'+") or e.startswith("'-") for e in effects)
    changes = table.loc[table["score_change"] != "", "score_change"].astype(float)
    assert (changes > 0).any()


def test_terminal_tables_strip_control_characters(cli, tmp_path):
    source = tmp_path / "in.csv"
    hostile().to_csv(source, index=False)
    code, out, _ = cli("score", source, "--on-bad-rows", "skip", "--rejects", tmp_path / "r.csv")
    assert code == 0 and "Eve?[2J?[31m" in out and "\x1b" not in out


@pytest.mark.parametrize("command", ["recommend", "suppress"])
def test_evidence_commands_skip_bad_rows_when_asked(cli, tmp_path, command):
    source = tmp_path / "in.csv"
    frame(rows(5, contact_id="a"), rows(1, reply_count="x")).to_csv(source, index=False)
    code, _, err = cli(command, source)
    assert code == 2 and "--on-bad-rows skip" in err
    code, _, err = cli(command, source, "--on-bad-rows", "skip", "--rejects", tmp_path / "r.csv")
    assert code == 0 and "1 bad row skipped" in err
    assert pd.read_csv(tmp_path / "r.csv")["reason"].str.contains("reply_count").all()


def test_the_output_extension_sets_the_format(cli, tmp_path, export):
    for name, start in (("s.csv", "user_id,"), ("s.json", "{"), ("s.txt", str(export))):
        code, _, err = cli("score", export, "--output", tmp_path / name)
        assert code == 0 and (tmp_path / name).read_text().startswith(start), err
    code, _, _ = cli("score", export, "--output", tmp_path / "t.csv", "--format", "json")
    assert code == 0 and (tmp_path / "t.csv").read_text().startswith("{")  # an explicit --format wins


def test_sample_never_overwrites_without_force(cli, tmp_path):
    target = tmp_path / "s.csv"
    target.write_text("mine\n")
    code, _, err = cli("sample", "--rows", 200, "--output", target)
    assert code == 2 and "--force" in err and target.read_text() == "mine\n"
    assert cli("sample", "--rows", 200, "--output", target, "--force")[0] == 0
    assert target.read_text().startswith("enrollment_id,")


def test_a_full_disk_is_a_message_and_keeps_the_old_file(cli, tmp_path, export, monkeypatch):
    """Writing to a full device: exit 2 naming the path and the reason; an existing output keeps its
    content and no temporary file is left. (/dev/full answers every write with ENOSPC.)"""
    code, _, err = cli("score", export, "--output", "/dev/full", "--format", "csv")
    assert code == 2 and "/dev/full" in err and "No space left on device" in err
    target = tmp_path / "scores.csv"
    target.write_text("yesterday's scores\n")
    real_mkstemp = __import__("tempfile").mkstemp

    def full_disk(*args, **kwargs):  # the temporary file exists, but every write to it fails
        handle, name = real_mkstemp(*args, **kwargs)
        os.close(handle)
        return os.open("/dev/full", os.O_WRONLY), name

    monkeypatch.setattr("senderscore.files.tempfile.mkstemp", full_disk)
    for command in (["score", export, "--output", target], ["sample", "--output", target, "--force"]):
        code, _, err = cli(*command)
        assert code == 2 and str(target) in err and "No space left on device" in err, command
        assert target.read_text() == "yesterday's scores\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "scores.csv"]
