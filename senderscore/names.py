"""Display names: one user name, email and team per ``user_id``, one name per ``sequence_id``.

An export repeats each name on every row, sometimes blank or spelled two ways; the cube keeps
one per id, the greatest non-blank one after the text rule (stripped), which every engine picks
alike. A lookup is a query of its own, or a :class:`~senderscore.load.Rider` of the checking pass.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import pandas as pd

from .load import Rider
from .load.passes import collect
from .load.rules import TYPED, text_cells, typed

NAMES = {"user_id": ("user_name", "user_email", "team"), "sequence_id": ("sequence_name",)}
"""The name columns looked up per id column."""


def name_riders(*, sequence_names: bool = True) -> tuple[Rider, ...]:
    """The lookups as riders of the checking pass (see :func:`senderscore.load.open_dataset`)."""
    keys = ("user_id", "sequence_id") if sequence_names else ("user_id",)
    return tuple(Rider(f"names:{key}", lambda rows, key=key: names_query(rows, key)) for key in keys)


def names_of(rows: Any, key: str, ridden: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """``key`` and its name columns present, one row per id, sorted by id, as text: from
    ``ridden`` where :func:`name_riders` rode along the checking pass, else by a pass of its own."""
    table = (ridden or {}).get(f"names:{key}")
    if table is None:
        table = collect(names_query(rows, key))
    present = [c for c in NAMES[key] if c in table]
    return table.sort_values(key, kind="stable").reset_index(drop=True)[[key, *present]].astype(str)


def names_query(rows: Any, key: str) -> Any:
    """The lookup of ``key``'s names over typed rows, on their engine."""
    schema_ = rows.collect_schema()
    present = [c for c in NAMES[key] if TYPED + c in schema_]
    # Distinct (id, names as read) first: the typing then runs on a few rows per id, not on all.
    distinct = rows.group_by(typed(key).alias(key), *present).agg(nw.len().alias("__n"))
    cells = {c: text_cells(c, schema_[c], rows.implementation) for c in present}
    distinct = distinct.with_columns(**cells) if cells else distinct
    return distinct.group_by(key).agg(*[nw.col(c).max() for c in present])
