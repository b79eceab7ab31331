"""Policies are checked key by key, and what `senderscore policy` prints reads back unchanged."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senderscore import Policy, PolicyError


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('count_account_reply = "no"', "expected true or false"),
        ("reply_points = [[0.0, 0.0], [0.07, nan]]", "reply_points"),
        ("bounce_points = [[0.0, inf], [0.1, 0.0]]", "bounce_points"),
        ("reply_points = [[0.0, 0.0], [0.07, 80.0]]", "add up to 130"),
        ("reply_points = [[0.0, 0.0], [1.5, 35.0]]", "rates rising from 0 to 1"),
        ("reply_good = [0.13, 0.07]", "0 <= low < high <= 1"),
        ("min_ended_user = 1.5", "whole number >= 1"),
        ("min_ended_user = 0", "whole number >= 1"),
        ('min_ended_user = "100"', "whole number"),
        ("confidence = nan", "between 0 and 1"),
        ("bounce_good_max = 3", "between 0 and 1"),
        ("[bands]\nGood = nan\nLow = 0.0", "between 0 and 100"),
        ("[bands]\nGood = 170.0\nLow = 0.0", "between 0 and 100"),
        ("name = 5", "expected text"),
        ('timezone = "Mars/Olympus"', "Mars/Olympus"),
        ('reply_points = "steep"', "malformed value"),
    ],
)
def test_nonsense_values_are_refused_naming_the_key(tmp_path, cli, text, fragment):
    path = tmp_path / "p.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
        Policy.from_toml(path)
    code, _, err = cli("policy", "--policy", path)
    assert code == 2 and "Traceback" not in err


def test_unreadable_policy_files_are_messages(tmp_path, cli):
    binary = tmp_path / "p.toml"
    binary.write_bytes(b'name = "\xff\xfe"\n')
    for path, fragment in ((binary, "UTF-8"), (tmp_path, "is a folder")):
        code, _, err = cli("policy", "--policy", path)
        assert code == 2 and fragment in err


def test_whole_floats_are_whole_numbers(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("min_ended_user = 50.0\n", encoding="utf-8")
    assert Policy.from_toml(path).min_ended_user == 50


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(str.strip)
rates = st.lists(st.floats(0, 1), min_size=2, max_size=4, unique=True).map(sorted)


@settings(max_examples=40, deadline=None)
@given(
    name=names,
    version=names,
    bands=st.lists(names, min_size=2, max_size=4, unique=True),
    reply_x=rates,
    floor=st.integers(1, 10_000),
    account=st.booleans(),
    good=st.tuples(st.floats(0, 0.5), st.floats(0.5, 1)).filter(lambda g: g[0] < g[1]),
)
def test_printed_policies_read_back_unchanged(tmp_path_factory, name, version, bands, reply_x, floor, account, good):
    policy = Policy(
        name=name,
        version=version,
        reply_points=tuple((x, 50.0 * i / (len(reply_x) - 1)) for i, x in enumerate(reply_x)),
        bands=tuple((b, float(100 - 25 * i)) for i, b in enumerate(bands)),
        min_ended_user=floor,
        count_account_reply=account,
        reply_good=good,
    )
    path = tmp_path_factory.mktemp("policy") / "p.toml"
    path.write_text(policy.to_toml(), encoding="utf-8")
    again = Policy.from_toml(path)
    assert again == policy and not math.isnan(again.reply_points[0][1])
