"""Chart builders, asserted on ``chart.to_dict()`` (marks, encodings, data columns)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SAMPLE

from senderscore import InputError, Policy, build_cube, load_enrollments, sender_scores
from senderscore.charts import chart_frame, rate_chart, score_chart
from senderscore.trend_charts import trend_chart
from senderscore.trends import trend_table


@pytest.fixture(scope="module")
def cube():
    return build_cube(load_enrollments(SAMPLE).enrollments)


def layers(spec: dict) -> list[dict]:
    return spec.get("layer") or [layer for panel in spec["vconcat"] for layer in panel["layer"]]


def data_of(spec: dict, layer: dict) -> list[dict]:
    name = (layer.get("data") or spec["data"])["name"]
    return spec["datasets"][name]


def test_score_chart_bars_by_band_with_range(cube):
    table = sender_scores(cube)
    spec = score_chart(table).to_dict()
    bars, rules = layers(spec)
    assert bars["mark"]["type"] == "bar" and rules["mark"]["type"] == "rule"
    assert bars["encoding"]["x"]["field"] == "score"
    assert bars["encoding"]["color"]["field"] == "band"
    assert bars["encoding"]["color"]["scale"]["domain"] == ["Excellent", "Good", "Fair", "Low"]
    assert bars["encoding"]["opacity"]["field"] == "status"
    assert (rules["encoding"]["x"]["field"], rules["encoding"]["x2"]["field"]) == ("score_low", "score_high")
    rows = data_of(spec, bars)
    assert len(rows) == len(table)
    assert set(rows[0]) == {"label", "score", "score_low", "score_high", "band", "status", "ended", "order"}
    # Official rows first, provisional after, in the y order the chart uses (a column of the data).
    assert bars["encoding"]["y"]["sort"] == {"field": "order", "op": "min"}
    statuses = [r["status"] for r in sorted(rows, key=lambda r: r["order"])]
    assert statuses == sorted(statuses)  # "official" < "provisional"
    assert "provisional" in statuses


def test_rate_chart_zones_and_points(cube):
    policy = Policy(reply_good=(0.05, 0.10), bounce_good_max=0.02)
    spec = rate_chart(sender_scores(cube), policy).to_dict()
    shade, points, names = spec["layer"]
    assert shade["mark"]["type"] == "rect" and points["mark"]["type"] == "point" and names["mark"]["type"] == "text"
    zones = data_of(spec, shade)
    assert (zones[0]["x"], zones[0]["x2"]) == (0.05, 0.10)
    assert zones[1]["y2"] == 0.02
    encoding = points["encoding"]
    assert (encoding["x"]["field"], encoding["y"]["field"], encoding["size"]["field"]) == (
        "reply_rate",
        "bounce_rate",
        "ended",
    )
    assert {t["field"] for t in encoding["tooltip"]} >= {"label", "reply_rate", "bounce_rate", "score"}


def test_trend_chart_has_a_panel_per_user_unique_labels_and_no_partial_periods(cube):
    trend = trend_table(cube, period="month", start="2025-11-15", end="2026-10-31")
    spec = trend_chart(trend).to_dict()
    assert spec["facet"]["field"] == "label" and spec["columns"] == 4
    line, official, provisional = spec["spec"]["layer"]
    assert line["mark"]["type"] == "line"
    assert official["mark"]["filled"] is True and provisional["mark"]["filled"] is False
    rows = spec["datasets"][spec["data"]["name"]]
    assert len({r["label"] for r in rows}) == trend["user_id"].nunique()  # every user, not the ten busiest
    assert line["encoding"]["x"]["sort"] == {"field": "order", "op": "min"}  # chronological, from the data
    labels = dict(sorted({r["order"]: r["when"] for r in rows}.items())).values()
    labels = list(labels)
    assert len(labels) == len(set(labels)) and labels[0] == "Dec 2025" and labels[-1] == "Oct 2026"
    assert "Nov 2025" not in {r["when"] for r in rows}  # cut by the window: left out, and said so
    assert "Left out, cut by the window: Nov 2025." in spec["title"]["subtitle"]
    weekly = trend_chart(trend_table(cube, period="week")).to_dict()
    weeks = {(r["order"], r["when"]) for r in weekly["datasets"][weekly["data"]["name"]]}
    assert len(weeks) == len({w for _, w in weeks}) and all(len(w) == 10 for _, w in weeks)  # 2026-01-05


def test_trend_chart_needs_periods(cube):
    with pytest.raises(InputError, match="period"):
        trend_chart(sender_scores(cube))


def test_labels_stay_unique_when_names_repeat():
    table = pd.DataFrame(
        {
            "user_id": ["1", "2"],
            "user_name": ["Ann", "Ann"],
            "score": [80.0, 60.0],
            "band": ["Good", "Fair"],
            "eligible": [True, True],
        }
    )
    assert chart_frame(table)["label"].tolist() == ["Ann (1)", "Ann (2)"]


def test_chart_frame_rejects_raw_rows():
    with pytest.raises(InputError, match="sender_scores"):
        chart_frame(pd.DataFrame({"user_id": ["1"]}))
