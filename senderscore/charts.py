"""Altair chart builders: small scored tables in, ``alt.Chart`` out (never raw rows).

Reports render charts to SVG in the kernel (:func:`use_offline_renderer`): no JavaScript,
no CDN, the same bytes on every run.
"""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd

from .errors import InputError
from .policy import Policy, load_policy

MAX_BARS = 40  # users in the score and rate charts; the tables list everyone
PALETTE = ["#1a9850", "#91cf60", "#fdae61", "#d73027", "#a50026", "#67001f"]  # best -> worst
PERCENT = ".1%"


# Encodings are written as channel objects (alt.X(...), alt.Tooltip(...)), never as bare
# shorthand strings: altair parses each string through its JSON schema (about 10 ms each),
# which made the explorer's trend chart take half a second to build.


def use_offline_renderer() -> None:
    """Render charts as inline SVG through vl-convert: works offline and in exported HTML."""
    alt.renderers.enable("svg")


def band_scale(policy: Policy) -> alt.Scale:
    """Colours for the policy's bands, best green to worst red."""
    names = policy.band_names
    return alt.Scale(domain=names, range=PALETTE[: len(names)])


def chart_labels(table: pd.DataFrame, label: str = "user") -> tuple[np.ndarray, np.ndarray]:
    """Each row's display label (its name, or its id where it has none; two names shared by
    different ids get the id added, so bars and panels never merge) and its status,
    ``official`` or ``provisional``, as arrays."""
    needed = {"score", "band", "eligible", f"{label}_id"}
    missing = sorted(needed - set(table.columns))
    if missing:
        raise InputError(f"chart table lacks column(s) {missing!r}; pass a table from sender_scores().")
    ids = table[f"{label}_id"].astype(str).to_numpy(dtype=object)
    labels = ids
    if f"{label}_name" in table.columns:
        names = table[f"{label}_name"].fillna("").astype(str).to_numpy(dtype=object)
        labels = np.where(names != "", names, ids)
    owners: dict[str, set] = {}
    for text, key in zip(labels, ids):
        owners.setdefault(text, set()).add(key)
    shown = np.array([f"{t} ({k})" if len(owners[t]) > 1 else t for t, k in zip(labels, ids)], dtype=object)
    status = np.where(table["eligible"].to_numpy(dtype=bool), "official", "provisional").astype(object)
    return shown, status


def chart_frame(table: pd.DataFrame, label: str = "user") -> pd.DataFrame:
    """The columns charts use: a display label, the metrics, and official/provisional status."""
    labels, status = chart_labels(table, label)
    return table.assign(label=labels, status=status)


def columns_at(table: pd.DataFrame, names: list[str], rows: np.ndarray | slice) -> dict[str, np.ndarray]:
    """``table``'s columns ``names`` as arrays, at ``rows``: what chart rows are built from."""
    return {name: table[name].to_numpy()[rows] for name in names}


def score_data(table: pd.DataFrame, label: str = "user") -> pd.DataFrame:
    """The rows :func:`score_chart` draws: the first :data:`MAX_BARS`, in the table's order.
    Built from arrays, once: the explorer makes it on every change."""
    head = table.iloc[:MAX_BARS]
    labels, status = chart_labels(head, label)
    metrics = columns_at(head, ["score", "score_low", "score_high", "band"], slice(None))
    ended = head["ended"].to_numpy()
    return pd.DataFrame({"label": labels, **metrics, "status": status, "ended": ended, "order": np.arange(len(head))})


def score_chart(table: pd.DataFrame, policy: Policy | None = None, *, label: str = "user") -> alt.LayerChart:
    """Score per row as bars coloured by band, the score range as error bars.

    Provisional rows are faded and come after the official ones. Everything that depends on
    the rows is in the data (the order is a column), so that :func:`with_data` can swap it.
    """
    policy = load_policy(policy)
    data = score_data(table, label)
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort=alt.EncodingSortField(field="order", op="min"), title=None),
    )
    bars = base.mark_bar().encode(
        x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title="Sender score"),
        color=alt.Color("band:N", scale=band_scale(policy), title="Band"),
        opacity=alt.Opacity(
            "status:N", scale=alt.Scale(domain=["official", "provisional"], range=[1.0, 0.35]), title="Score"
        ),
        tooltip=[
            alt.Tooltip("label:N"),
            alt.Tooltip("score:Q", format=".1f"),
            alt.Tooltip("band:N"),
            alt.Tooltip("status:N"),
            alt.Tooltip("ended:Q"),
        ],
    )
    ranges = base.mark_rule(color="#333").encode(x=alt.X("score_low:Q"), x2=alt.X2("score_high:Q"))
    # A height per row (a step), not in pixels: the chart grows with its rows, so that new rows
    # alone redraw it (with_data).
    return alt.layer(bars, ranges).properties(width=520, height=alt.Step(22), title="Sender score and its 95 % range")


DATASET = "rows"  # the one dataset's name in a spec from with_data: the same from change to change


def with_data(spec: dict, data: pd.DataFrame, **properties: object) -> dict:
    """``spec`` (a chart's ``to_dict()``, with one dataset) drawing ``data`` instead, its dataset
    named :data:`DATASET`: the explorer builds each chart once and then only swaps its rows,
    which costs no altair work.

    >>> table = pd.DataFrame({"user_id": ["a"], "score": [80.0], "score_low": [70.0],
    ...     "score_high": [90.0], "band": ["Good"], "eligible": [True], "ended": [120]})
    >>> spec = score_chart(table).to_dict()
    >>> swapped = with_data(spec, score_data(table.assign(score=60.0)))
    >>> swapped["datasets"][DATASET][0]["score"], swapped["data"]
    (60.0, {'name': 'rows'})
    """
    (name,) = spec["datasets"]
    records = json.loads(records_json(data))
    renamed = _renamed({k: v for k, v in spec.items() if k != "datasets"}, name)
    return {**renamed, **properties, "datasets": {DATASET: records}}


def records_json(data: pd.DataFrame) -> str:
    """A chart's rows as a JSON array of records (NaN as null: valid JSON; dates in ISO form)."""
    return data.to_json(orient="records", date_format="iso")


def _renamed(node: object, name: str) -> object:
    """``node`` with every ``{"name": name}`` data reference pointing at :data:`DATASET`."""
    if isinstance(node, dict):
        if node.get("name") == name and len(node) == 1:
            return {"name": DATASET}
        return {k: _renamed(v, name) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v, name) for v in node]
    return node


def rate_chart(table: pd.DataFrame, policy: Policy | None = None, *, label: str = "user") -> alt.LayerChart:
    """Reply rate against bounce rate, point size = ended enrollments, good zones shaded."""
    policy = load_policy(policy)
    data = chart_frame(table, label).head(MAX_BARS)
    data = data[["label", "reply_rate", "bounce_rate", "ended", "score", "band", "status"]]
    x_max = max(0.25, float(data["reply_rate"].max(skipna=True) or 0) * 1.1)
    y_max = max(0.12, float(data["bounce_rate"].max(skipna=True) or 0) * 1.1)
    low, high = policy.reply_good
    zones = pd.DataFrame(
        [
            {"zone": f"good reply rate ({policy.reply_good_text})", "x": low, "x2": high, "y": 0.0, "y2": y_max},
            {
                "zone": f"good bounce rate ({policy.bounce_good_text})",
                "x": 0.0,
                "x2": x_max,
                "y": 0.0,
                "y2": policy.bounce_good_max,
            },
        ]
    )
    shade = (
        alt.Chart(zones)
        .mark_rect(opacity=0.15)
        .encode(
            x=alt.X("x:Q", scale=alt.Scale(domain=[0, x_max])),
            x2=alt.X2("x2:Q"),
            y=alt.Y("y:Q", scale=alt.Scale(domain=[0, y_max])),
            y2=alt.Y2("y2:Q"),
            color=alt.Color("zone:N", scale=alt.Scale(range=["#1a9850", "#4575b4"]), title="Good zones"),
        )
    )
    points = (
        alt.Chart(data)
        .mark_point(filled=True, opacity=0.85)
        .encode(
            x=alt.X("reply_rate:Q", title="Reply rate", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, x_max])),
            y=alt.Y(
                "bounce_rate:Q", title="Bounce rate", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, y_max])
            ),
            size=alt.Size("ended:Q", title="Ended enrollments"),
            fill=alt.Fill("band:N", scale=band_scale(policy), title="Band"),
            shape=alt.Shape(
                "status:N",
                scale=alt.Scale(domain=["official", "provisional"], range=["circle", "triangle"]),
                title="Score",
            ),
            tooltip=[
                alt.Tooltip("label:N"),
                alt.Tooltip("reply_rate:Q", format=PERCENT),
                alt.Tooltip("bounce_rate:Q", format=PERCENT),
                alt.Tooltip("ended:Q"),
                alt.Tooltip("score:Q", format=".1f"),
                alt.Tooltip("band:N"),
            ],
        )
    )
    names = (
        alt.Chart(data)
        .mark_text(align="left", dx=7, fontSize=10)
        .encode(x=alt.X("reply_rate:Q"), y=alt.Y("bounce_rate:Q"), text=alt.Text("label:N"))
    )
    return (
        alt.layer(shade, points, names)
        .resolve_scale(color="independent")
        .properties(width=520, height=360, title="Reply rate vs bounce rate")
    )


def domain_chart(domains: pd.DataFrame, policy: Policy | None = None, *, top: int = 15) -> alt.LayerChart:
    """Bounce rate of the recipient domains with the most bounces (from :func:`domain_table`),
    suspected typo domains in red, the good bounce maximum as a rule."""
    policy = load_policy(policy)
    # The domains that cost the most bounces: where a clean-up pays off first.
    data = domains.sort_values(["bounced", "ended"], ascending=False, kind="stable").head(top).copy()
    data["kind"] = data["typo_of"].map(lambda t: "suspected typo" if isinstance(t, str) else "domain")
    data = data[["domain", "ended", "bounced", "bounce_rate", "reply_rate", "provider", "kind"]]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("domain:N", sort=data["domain"].tolist(), title=None),
            x=alt.X("bounce_rate:Q", title="Bounce rate", axis=alt.Axis(format="%")),
            color=alt.Color(
                "kind:N", scale=alt.Scale(domain=["domain", "suspected typo"], range=["#4575b4", "#d73027"]), title=None
            ),
            tooltip=[
                alt.Tooltip("domain:N"),
                alt.Tooltip("provider:N"),
                alt.Tooltip("ended:Q"),
                alt.Tooltip("bounce_rate:Q", format=PERCENT),
                alt.Tooltip("reply_rate:Q", format=PERCENT),
            ],
        )
    )
    good = pd.DataFrame({"x": [policy.bounce_good_max]})
    rule = alt.Chart(good).mark_rule(color="#1a9850", strokeDash=[4, 3]).encode(x=alt.X("x:Q"))
    return alt.layer(bars, rule).properties(
        width=520, height=max(120, 20 * len(data)), title=f"The {len(data)} recipient domains with the most bounces"
    )
