"""What `--engine auto` should pick: `senderscore score FILE --by user` on each engine, per format and size.

    python benchmarks/bench_auto.py --rows 8024 100000 1000000 --runs 3

Each run is a fresh process (imports, reading, checks, cube, the table), the engines taken in
turn; prints the median wall time and the largest peak RSS per engine, and what auto picks.
The files are generated once by `senderscore sample` into benchmarks/data/ (gitignored), as
bench_engines.py does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_engines import PY, data, run  # noqa: E402

from senderscore.load.scan import pick_engine  # noqa: E402

ENGINES = ("pandas", "polars", "duckdb")


def score(path: Path, engine: str) -> list[str]:
    return [PY, "-m", "senderscore", "score", str(path), "--engine", engine, "--by", "user", "-q"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[8024, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet"])
    args = parser.parse_args()
    print("| file | MB | " + " | ".join(f"{e}: s (peak RSS)" for e in ENGINES) + " | auto picks |")
    print("|---|---:|" + "---:|" * len(ENGINES) + "---|")
    for rows in args.rows:
        for kind in args.formats:
            path = data(rows, kind)
            measured: dict[str, list[tuple[float, float]]] = {e: [] for e in ENGINES}
            for _ in range(args.runs):
                for engine in ENGINES:  # in turn, so that the machine's drift falls on every engine alike
                    measured[engine].append(run(score(path, engine)))
            cells = " | ".join(
                f"{statistics.median(w for w, _ in measured[e]):.2f} ({max(m for _, m in measured[e]):.0f} MB)"
                for e in ENGINES
            )
            size = path.stat().st_size / 1e6
            print(f"| {rows:,} rows, {kind} | {size:.0f} | {cells} | {pick_engine(path)} |", flush=True)


if __name__ == "__main__":
    main()
