"""`senderscore report`, first run and from the cache, and where its time goes.

    python benchmarks/bench_report.py --runs 2
    python benchmarks/bench_report.py --files sample 1000000.csv 10000000.parquet --runs 2

Each run is a fresh process (wall time, median of --runs; peak RSS, the largest): the first run
with an empty cache, then the second, which finds the daily cube there (the findings still read
the rows). A third process times the data preparation alone (`prepare_report`: checks, cube,
tables and evidence); the rest of a run is the kernel, the notebook's cells (charts rendered
to SVG), and nbconvert. The targets are issue 13's. Data comes from bench_engines.py's generator.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_engines import PY, data, run  # noqa: E402

from senderscore.paths import sample_data  # noqa: E402

TARGETS = {"sample": 4.0, "1000000.csv": 10.0, "10000000.parquet": 30.0}  # seconds, issue 13

PREPARE = """
import sys, time
began = time.perf_counter()
from senderscore.context import prepare_report
imported = time.perf_counter()
prepare_report(sys.argv[1])
print(f"{imported - began:.2f} {time.perf_counter() - imported:.2f}")
"""


def source(name: str) -> Path:
    if name == "sample":
        return sample_data()
    rows, kind = name.split(".", 1)
    return data(int(rows), kind)


def measure(name: str, runs: int, folder: Path) -> str:
    path = str(source(name))
    cache = folder / "cache"
    os.environ["SENDERSCORE_CACHE_DIR"] = str(cache)
    command = [PY, "-m", "senderscore", "report", path, "--output-dir", str(folder / "out"), "--quiet"]
    first, cached = [], []
    for _ in range(runs):
        shutil.rmtree(cache, ignore_errors=True)
        first.append(run(command))
        cached.append(run(command))
    shutil.rmtree(cache, ignore_errors=True)
    split = subprocess.run([PY, "-c", PREPARE, path], capture_output=True, text=True, check=True).stdout.split()
    imports, prepare = (float(x) for x in split)
    wall = statistics.median(w for w, _ in first)
    again = statistics.median(w for w, _ in cached)
    rss = max(m for _, m in first + cached)
    target = TARGETS.get(name)
    verdict = "-" if target is None else ("holds" if wall <= target else f"missed by {wall - target:.1f} s")
    return (
        f"| {name} | {wall:.1f} | {again:.1f} | {rss:.0f} | {imports:.2f} + {prepare:.2f} "
        f"| {wall - imports - prepare:.1f} | {target or '-'} | {verdict} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="+", default=["sample", "1000000.csv"], help="sample, or ROWS.csv|parquet")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    print(f"\n### `senderscore report`, median of {args.runs} runs, 2 cores\n")
    print(
        "| file | first run s | from the cache s | peak RSS MB | data preparation s (imports + work) "
        "| kernel, cells, nbconvert s | target s | verdict |\n|---|---:|---:|---:|---:|---:|---:|---|"
    )
    for name in args.files:
        with tempfile.TemporaryDirectory() as folder:
            print(measure(name, args.runs, Path(folder)), flush=True)


if __name__ == "__main__":
    main()
