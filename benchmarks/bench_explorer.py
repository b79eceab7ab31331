"""The explorer's kernel work per filter change, at the sample's size and at 1M rows.

    python benchmarks/bench_explorer.py --rows 1000000 --runs 20

Opens the explorer headless (its widgets built), then times each kind of change the analyst
makes: a preset, a typed date, the date field, a user filter, the trend period, the sequence
view's user. Prints the median and the slowest refresh in ms (the kernel's share, up to the
status line; the browser then applies the rows it receives, which the JupyterLab test times),
the download links written after it, the time to open, and the on-demand findings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from senderscore.explore import Explorer  # noqa: E402


def data_file(rows: int) -> str:
    """The sample for its default size, else the benchmark data (generated once, like bench_engines)."""
    if rows == 0:
        return ""
    path = HERE / "data" / f"enrollments_{rows}.parquet"
    if not path.exists():
        from senderscore.sample import write_sample

        path.parent.mkdir(exist_ok=True)
        write_sample(path, rows=rows)
    return str(path)


def changes(view) -> list[tuple[str, callable]]:
    first, _ = view.explorer.span("ended_at")
    users = [uid for _, uid in view.users.options]
    # Each run picks users it has not picked before: the explorer keeps what it computed for a
    # selection, and a benchmark that repeats one would time that memory, not the work.
    pairs = itertools.cycle([tuple(users[i : i + 2]) for i in range(0, len(users) - 1)])
    others = itertools.cycle(users[::-1])
    return [
        ("preset: last 90 days", lambda: setattr(view.preset, "value", "last 90 days")),
        ("preset: quarter to date", lambda: setattr(view.preset, "value", "quarter to date")),
        ("typed start date", lambda: setattr(view.start, "value", first + dt.timedelta(days=20))),
        ("date field: enrolled_at", lambda: setattr(view.date_field, "value", "enrolled_at")),
        ("users: two", lambda: setattr(view.users, "value", next(pairs))),
        ("trend by week", lambda: setattr(view.period_picker, "value", "week")),
        ("sequences tab open, another user", lambda: sequences_of(view, next(others))),
    ]


def sequences_of(view, user: str) -> None:
    view.tabs.selected_index = 1
    view.sequence_user.value = user


def baseline(view) -> None:
    """Every control back to where the explorer opens, so that each timed change is a change."""
    view.date_field.value = "ended_at"
    view.users.value = ()
    view.period_picker.value = "month"
    view.sequence_user.value = view.sequence_user.options[0][1]
    view.preset.value = "whole data"
    view.tabs.selected_index = 0
    view.refresh()


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "later"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=0, help="0: the bundled 8,024-row sample")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    source = data_file(args.rows)
    began = time.perf_counter()
    explorer = Explorer(source)
    view = explorer.view
    opened = time.perf_counter() - began
    print(f"rows: {explorer.load.rows_read:,}; open (load, cube, widgets, first refresh): {opened:.2f} s")
    print("| change | median ms | slowest ms | then the download links, median ms |\n|---|---:|---:|---:|")
    every, links = [], []
    for name, act in changes(view):
        times, later = [], []
        for _ in range(args.runs):
            baseline(view)
            act()
            times.append(explorer.timings["total_ms"])
            if "downloads_ms" in explorer.timings:  # in a kernel the links come after this change's turn
                later.append(explorer.timings["downloads_ms"])
        every += times
        links += later
        print(f"| {name} | {statistics.median(times):.1f} | {max(times):.1f} | {_median(later)} |")
    print(f"| every change | {statistics.median(every):.1f} | {max(every):.1f} | {_median(links)} |")
    began = time.perf_counter()
    view.show_evidence()
    print(f"findings and clean-up counts on demand: {time.perf_counter() - began:.2f} s")


if __name__ == "__main__":
    main()
