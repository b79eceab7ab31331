"""The explorer's kernel work per filter change, at the sample's size and at 1M rows.

    python benchmarks/bench_explorer.py --rows 1000000 --runs 20
    python benchmarks/bench_explorer.py --rows 10000000 --opening 3

--opening N: only how the explorer opens, N fresh processes each (wall time from the
interpreter's start, imports included, and peak RSS): the first time (an empty cache of checked
exports, the widgets' script already kept, as on any machine that opened one before) and from
the cache, against issue 13's targets.

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
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_engines import PY, run  # noqa: E402

from senderscore.explore import Explorer  # noqa: E402

OPEN = "import sys; from senderscore.explore import Explorer; Explorer(sys.argv[1]).view"
TARGETS = {"the first time": (6.0, 1024), "from the cache": (2.0, 1024)}  # seconds, MB (1 GiB): issue 13


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


def opening(source: str, runs: int) -> None:
    """Fresh processes opening the explorer on ``source``, first and from the cache (a cache
    folder of their own; the widgets' script kept by a first opening of the sample)."""
    print("| opening | median s | slowest s | peak RSS MB | target s | verdict |\n|---|---:|---:|---:|---:|---|")
    firsts, cached = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            os.environ["SENDERSCORE_CACHE_DIR"] = folder
            subprocess.run([PY, "-c", OPEN, ""], check=True, capture_output=True)
            firsts.append(run([PY, "-c", OPEN, source]))
            cached.append(run([PY, "-c", OPEN, source]))
    for label, samples in (("the first time", firsts), ("from the cache", cached)):
        seconds, peak = statistics.median(s[0] for s in samples), max(s[1] for s in samples)
        target, memory = TARGETS[label]
        misses = []
        if seconds > target:
            misses.append(f"{seconds - target:.1f} s over")
        if peak > memory:
            misses.append(f"{peak - memory:.0f} MB over")
        verdict = "missed: " + ", ".join(misses) if misses else "holds"
        print(f"| {label} | {seconds:.2f} | {max(s[0] for s in samples):.2f} | {peak:.0f} | {target} | {verdict} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=0, help="0: the bundled 8,024-row sample")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--opening", type=int, default=0, metavar="N", help="only the opening, N runs")
    args = parser.parse_args()
    source = data_file(args.rows)
    if args.opening:
        return opening(source or "", args.opening)
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
