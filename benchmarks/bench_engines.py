"""Cube build and scores per engine, against hand-written floors and a naive pandas version.

    python benchmarks/bench_engines.py --rows 1000000 --runs 5

Every measurement is a fresh process: wall time (median of --runs) and peak RSS. Prints a
Markdown table (paste it into the README), then the date-filter refresh on the cube and the
full HTML report time and size. Data is generated once into benchmarks/data/ (not versioned).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable

BOTH_TABLES = """
import sys
from senderscore import cube_of, cube_riders, open_dataset, sender_scores
path, engine = sys.argv[1], sys.argv[2]
# One switch: every engine runs the same checks and query (the cube's in the checks' scan where it can).
cube = cube_of(open_dataset(path, engine=engine, riders=cube_riders()))
sender_scores(cube, by="user"); sender_scores(cube, by="user-sequence")
"""

DUCKDB_SQL = """
import sys, duckdb
path = sys.argv[1]
con = duckdb.connect(); con.execute("SET TimeZone='UTC'")
src = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}', header=true)"
base = f'''SELECT user_id, sequence_id, upper(state) IN ('FINISHED','UNENROLLED') AS ended,
  upper(coalesce(unenrolled_source,'')) = 'ERROR' AND upper(coalesce(step_error_type,'')) = 'BOUNCED' AS bounced,
  coalesce(reply_count,0) > 0 OR upper(coalesce(unenrolled_source,'')) IN ('REPLY','THREAD_REPLY') AS any_reply
  FROM {src}'''
for keys in ("user_id", "user_id, sequence_id"):
    con.execute(f'''SELECT {keys}, count(*) AS ended, sum(bounced::INT) AS bounced,
      sum((any_reply AND NOT bounced)::INT) AS replied FROM ({base}) WHERE ended GROUP BY {keys}''').df()
"""

POLARS_LAZY = """
import sys, polars as pl
path = sys.argv[1]
scan = pl.scan_parquet(path) if path.endswith(".parquet") else pl.scan_csv(path)
src = pl.col("unenrolled_source").fill_null("").str.to_uppercase()
err = pl.col("step_error_type").fill_null("").str.to_uppercase()
ended = scan.filter(pl.col("state").str.to_uppercase().is_in(["FINISHED", "UNENROLLED"])).with_columns(
    bounced=(src == "ERROR") & (err == "BOUNCED"))
ended = ended.with_columns(replied=~pl.col("bounced") & ((pl.col("reply_count").fill_null(0) > 0)
                                                         | src.is_in(["REPLY", "THREAD_REPLY"])))
cube = ended.group_by("user_id", "sequence_id").agg(pl.len().alias("ended"), pl.col("bounced").sum(),
                                                    pl.col("replied").sum()).collect()
cube.group_by("user_id").agg(pl.col("ended", "bounced", "replied").sum())
"""

NAIVE_PANDAS = """
import sys, pandas as pd
path = sys.argv[1]
df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
df["state"] = df["state"].str.upper()
df = df[df["state"].isin(["FINISHED", "UNENROLLED"])].copy()
df["bounced"] = (df["unenrolled_source"] == "ERROR") & (df["step_error_type"] == "BOUNCED")
replies = df["unenrolled_source"].isin(["REPLY", "THREAD_REPLY"])
df["replied"] = ~df["bounced"] & ((df["reply_count"].fillna(0) > 0) | replies)
df["ended"] = 1
for keys in (["user_id"], ["user_id", "sequence_id"]):
    df.groupby(keys)[["ended", "bounced", "replied"]].sum()
"""


def run(code: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed: {' '.join(code[:4])}: {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def data(rows: int, kind: str) -> Path:
    path = HERE / "data" / f"enrollments_{rows}.{kind}"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        subprocess.run([PY, "-m", "senderscore", "sample", "--rows", str(rows), "--output", str(path)], check=True)
    return path


def measure(rows: int, runs: int, kinds: list[str], skip: list[str]) -> None:
    print(f"\n### {rows:,} enrollments, median of {runs} runs, 2 cores\n")
    print("| query | file | wall s | x floor | peak RSS MB |\n|---|---|---|---|---|")
    for kind in kinds:
        path = str(data(rows, kind))
        candidates = {
            "senderscore, engine pandas": [PY, "-c", BOTH_TABLES, path, "pandas"],
            "senderscore, engine duckdb": [PY, "-c", BOTH_TABLES, path, "duckdb"],
            "senderscore, engine polars": [PY, "-c", BOTH_TABLES, path, "polars"],
            "hand-written DuckDB SQL": [PY, "-c", DUCKDB_SQL, path],
            "hand-written polars lazy": [PY, "-c", POLARS_LAZY, path],
            "naive pandas": [PY, "-c", NAIVE_PANDAS, path],
        }
        results = {}
        candidates = {name: code for name, code in candidates.items() if not any(s in name for s in skip)}
        for name, code in candidates.items():
            samples = [run(code) for _ in range(runs)]
            results[name] = (statistics.median(s[0] for s in samples), max(s[1] for s in samples))
        floors = [results[n][0] for n in ("hand-written DuckDB SQL", "hand-written polars lazy") if n in results]
        for name, (wall, rss) in results.items():
            ratio = f"{wall / min(floors):.1f}" if floors else "-"  # floors skipped: no ratio
            print(f"| {name} | {kind} | {wall:.2f} | {ratio} | {rss:.0f} |", flush=True)


def refresh(rows: int) -> None:
    import random

    from senderscore import cube_of, open_dataset, sender_scores
    from senderscore.cube import coarsen

    full = cube_of(open_dataset(data(rows, "parquet"), engine="polars"))
    for label, cube in (("user x sequence x day", full), ("user x day", coarsen(full))):
        first, last = cube.span
        rng = random.Random(1)
        timings = []
        for _ in range(20):
            a, b = sorted(rng.sample(range((last - first).days), 2))
            start = time.perf_counter()
            sender_scores(cube, start=(first + dt.timedelta(days=a)).date(), end=(first + dt.timedelta(days=b)).date())
            timings.append((time.perf_counter() - start) * 1e3)
        print(
            f"Date-filter refresh, per-user table from the {label} cube ({len(cube.counts):,} rows from "
            f"{rows:,} enrollments): median {statistics.median(timings):.0f} ms over 20 random windows"
        )


def report(rows: int) -> None:
    out = HERE / "data" / "report"
    start = time.perf_counter()
    subprocess.run(
        [PY, "-m", "senderscore", "report", str(data(rows, "csv")), "--output-dir", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    html = max(out.glob("*.html"), key=lambda p: p.stat().st_mtime)
    print(
        f"Full HTML report from a {rows:,}-row CSV: {time.perf_counter() - start:.1f} s, "
        f"{html.stat().st_size / 1e6:.2f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    parser.add_argument("--no-report", action="store_true", help="skip the full HTML report timing")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="skip queries whose name contains one of these, e.g. --skip 'engine pandas' at 10M rows",
    )
    args = parser.parse_args()
    for rows in args.rows:
        measure(rows, args.runs, args.formats, args.skip)
        refresh(rows)
        if not args.no_report:
            report(rows)


if __name__ == "__main__":
    main()
