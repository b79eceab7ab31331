"""Prefix sums of a cube over its days: any window's sums per key in one subtraction.

:func:`senderscore.scores.rollup` of :func:`senderscore.scores.window` is the definition
(the sum of the cube's rows whose day lies in the window, per key, and per week or month).
:class:`DayIndex` evaluates that same sum another way, for the explorer and repeated report
tables: it lays a cube's counts out as ``keys x days``, once, and keeps running totals, so a
window costs a subtraction instead of a scan. ``tests/test_properties.py`` checks that both
give the same table for random cubes and windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_CELLS = 20_000_000  # keys x days x columns: past this the running totals cost more than a scan


@dataclass(frozen=True)
class DayIndex:
    """Running totals of ``columns`` per key row and day (plus the number of cube rows, which
    decides whether a key appears in a window at all, as it does in a group-by)."""

    keys: pd.DataFrame  # one row per key combination, in sorted key order
    first: np.datetime64  # the day of position 0
    columns: tuple[str, ...]
    totals: np.ndarray  # (keys, days + 1, columns + 1); totals[:, 0] == 0

    @classmethod
    def build(cls, counts: pd.DataFrame, keys: list[str], columns: list[str]) -> DayIndex | None:
        """The index of ``counts`` by ``keys``; None when it would be too large to pay off."""
        if counts.empty:
            return None
        days = counts["day"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        first = days.min()
        position = (days - first).astype("int64")
        groups = counts.groupby(keys, sort=True, observed=True)
        codes = groups.ngroup().to_numpy()
        n_keys, n_days = int(codes.max()) + 1, int(position.max()) + 1
        if n_keys * n_days * (len(columns) + 1) > MAX_CELLS:
            return None
        values = np.column_stack([counts[c].to_numpy(dtype="int64") for c in columns] + [np.ones(len(counts), "int64")])
        grid = np.zeros((n_keys, n_days + 1, len(columns) + 1), dtype="int64")
        np.add.at(grid, (codes, position + 1), values)
        key_rows = groups.size().index.to_frame(index=False)
        return cls(key_rows, first, tuple(columns), np.cumsum(grid, axis=1))

    def _positions(self, start: object, end: object) -> tuple[int, int]:
        last = self.totals.shape[1] - 2
        lo = 0 if start is None else int((np.datetime64(start, "D") - self.first).astype("int64"))
        hi = last if end is None else int((np.datetime64(end, "D") - self.first).astype("int64"))
        return max(lo, 0), min(hi, last)

    def rollup(self, start: object = None, end: object = None, period: str | None = None) -> pd.DataFrame:
        """What ``rollup(window(cube, start, end), keys, period)`` returns, from the totals."""
        from .scores import period_start

        lo, hi = self._positions(start, end)
        if lo > hi:
            empty = pd.Series([], dtype="datetime64[ns]") if period is not None else None
            return self._frame(np.zeros((0, len(self.columns) + 1), "int64"), np.array([], "int64"), empty)
        if period is None:
            sums = self.totals[:, hi + 1] - self.totals[:, lo]
            rows = np.flatnonzero(sums[:, -1] > 0)
            return self._frame(sums[rows], rows, None)
        days = self.first + np.arange(lo, hi + 1)
        starts = period_start(pd.Series(days.astype("datetime64[ns]")), period).to_numpy().astype("datetime64[D]")
        change = np.flatnonzero(np.r_[True, starts[1:] != starts[:-1]])
        los = lo + change
        his = np.r_[los[1:] - 1, hi]
        sums = self.totals[:, his + 1] - self.totals[:, los]  # (keys, periods, columns + 1)
        key_of, period_of = np.nonzero(sums[:, :, -1] > 0)
        periods = pd.Series(starts[change][period_of].astype("datetime64[ns]"))
        return self._frame(sums[key_of, period_of], key_of, periods)

    def _frame(self, sums: np.ndarray, rows: np.ndarray, periods: pd.Series | None) -> pd.DataFrame:
        columns = {k: self.keys[k].to_numpy()[rows] for k in self.keys.columns}
        keys = pd.DataFrame(columns).astype(self.keys.dtypes.to_dict())  # the keys' own dtypes
        if periods is not None:
            keys["period"] = periods.to_numpy()
        values = pd.DataFrame(sums[:, : len(self.columns)], columns=list(self.columns))
        return pd.concat([keys, values], axis=1)
