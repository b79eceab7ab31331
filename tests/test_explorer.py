"""The explorer's tables without widgets: what a filter change computes, and what it keeps."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from senderscore import sender_scores
from senderscore.cube import Cube, select_users
from senderscore.explore import MAX_SELECTIONS, Explorer, Filters
from senderscore.paths import sample_data
from senderscore.trends import trend_table


@pytest.fixture
def explorer() -> Explorer:
    return Explorer(str(sample_data()), use_cache=False)


def filters(explorer: Explorer, **changes: object) -> Filters:
    first, last = explorer.span("ended_at")
    return dataclasses.replace(Filters(first, last, "ended_at", (), "month", ""), **changes)


def test_a_user_selection_gives_the_tables_of_those_users(explorer):
    users = tuple(sorted(explorer.names)[:2])
    chosen = filters(explorer, users=users)
    cube = select_users(explorer.cube("ended_at"), list(users))
    expected = sender_scores(cube, by="user", start=chosen.start, end=chosen.end, policy=explorer.policy)
    pd.testing.assert_frame_equal(explorer.by_user(chosen), expected)
    expected_trend = trend_table(cube, period="month", start=chosen.start, end=chosen.end, policy=explorer.policy)
    pd.testing.assert_frame_equal(explorer.trend(chosen), expected_trend)
    assert set(explorer.by_user(chosen)["user_id"]) == set(users)


def test_a_selection_is_kept_for_the_next_change_and_the_oldest_dropped(explorer):
    ids = sorted(explorer.names)
    first = explorer.selected("ended_at", (ids[0],))
    assert explorer.selected("ended_at", (ids[0],)) is first  # kept: its running totals too
    pairs = [(a, b) for a in ids for b in ids if a < b][:MAX_SELECTIONS]
    for pair in pairs:
        explorer.selected("ended_at", pair)
    assert len(explorer._selected) == MAX_SELECTIONS
    assert explorer.selected("ended_at", (ids[0],)) is not first  # the oldest went first


def test_names_are_placed_by_id_missing_where_the_cube_has_none_and_first_when_repeated(explorer):
    cube = explorer.cube("ended_at")
    ids = sorted(cube.users["user_id"])
    users = cube.users[cube.users["user_id"] != ids[0]]  # ids[0] has no names
    twice = users[users["user_id"] == ids[1]].assign(user_name="Second name")
    odd = Cube(cube.counts, pd.concat([users, twice]), cube.sequences, cube.date_field, cube.timezone)
    table = sender_scores(odd, by="user", policy=explorer.policy).set_index("user_id")
    whole = sender_scores(cube, by="user", policy=explorer.policy).set_index("user_id")
    assert len(table) == len(whole)  # a repeated name row adds no score row
    assert pd.isna(table.loc[ids[0], "user_name"])
    assert table.loc[ids[1], "user_name"] == whole.loc[ids[1], "user_name"]  # the first row's name
    pd.testing.assert_frame_equal(
        table.drop(columns=["user_name", "user_email", "team"]), whole.drop(columns=["user_name", "user_email", "team"])
    )


def test_the_clean_up_list_past_the_size_limit_is_not_sent_to_the_browser(explorer, monkeypatch):
    view = explorer.view
    view.show_evidence()
    assert "data:text/csv" in view.evidence_html.value  # the sample's list travels with the page
    monkeypatch.setattr("senderscore.evidence_sections.MAX_DOWNLOAD", 100)
    view.show_evidence()
    assert "data:text/csv" not in view.evidence_html.value
    assert "<code>senderscore suppress</code> writes it" in view.evidence_html.value
