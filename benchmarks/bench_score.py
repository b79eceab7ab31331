"""`senderscore score --by user`, first and cached, against minimal hand-written queries that give the same counts.

    python benchmarks/bench_score.py --rows 1000000 10000000 --runs 3

Each run is a fresh process (wall time, median of --runs; peak RSS, the largest). The jobs:
senderscore with `--no-cache` (the checks, then one narrow pass), senderscore filling the cache
(the checks and the daily cube, kept), senderscore from the cache; the anchors count ended,
replied and bounced enrollments per user with DuckDB SQL and polars lazy, checking nothing.
Every job writes its per-user counts; the script says whether they all agree. Data comes from
bench_engines.py's generator (benchmarks/data/, not versioned).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engines import PY, data, run  # noqa: E402

DUCKDB_USER = """
import sys, duckdb
path, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
src = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}', header=true)"
bounced = "(upper(coalesce(unenrolled_source,'')) = 'ERROR' AND upper(coalesce(step_error_type,'')) = 'BOUNCED')"
replies = "(coalesce(reply_count::BIGINT,0) > 0 OR upper(coalesce(unenrolled_source,'')) IN ('REPLY','THREAD_REPLY'))"
con.execute(f'''COPY (SELECT user_id, count(*) AS ended, sum({bounced}::INT) AS bounced,
  sum((NOT {bounced} AND {replies})::INT) AS replied
  FROM {src} WHERE upper(state) IN ('FINISHED','UNENROLLED') GROUP BY user_id) TO '{out}' (HEADER)''')
"""

POLARS_USER = """
import sys, polars as pl
path, out = sys.argv[1], sys.argv[2]
scan = pl.scan_parquet(path) if path.endswith(".parquet") else pl.scan_csv(path, infer_schema=False)
src = pl.col("unenrolled_source").fill_null("").str.to_uppercase()
err = pl.col("step_error_type").fill_null("").str.to_uppercase()
bounced = (src == "ERROR") & (err == "BOUNCED")
replies = pl.col("reply_count").cast(pl.Int64).fill_null(0) > 0
replied = ~bounced & (replies | src.is_in(["REPLY", "THREAD_REPLY"]))
ended = scan.filter(pl.col("state").str.to_uppercase().is_in(["FINISHED", "UNENROLLED"]))
ended.group_by(pl.col("user_id").cast(pl.String)).agg(
    pl.len().alias("ended"), bounced.sum().alias("bounced"), replied.sum().alias("replied")
).collect(engine="streaming").write_csv(out)
"""


def score(path: str, out: Path, *more: str) -> list[str]:
    return [PY, "-m", "senderscore", "score", path, "--by", "user", "-q", "-o", str(out), *more]


def counts(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype={"user_id": str})[["user_id", "ended", "replied", "bounced"]]
    return table.sort_values("user_id").reset_index(drop=True).astype({c: "int64" for c in table if c != "user_id"})


def measure(rows: int, runs: int, kind: str, folder: Path) -> None:
    path = str(data(rows, kind))
    cache = folder / "cache"
    os.environ["SENDERSCORE_CACHE_DIR"] = str(cache)
    jobs = {
        "senderscore, --no-cache": score(path, folder / "nocache.csv", "--no-cache"),
        "senderscore, filling the cache": score(path, folder / "fill.csv"),
        "senderscore, from the cache": score(path, folder / "cached.csv"),
        "DuckDB SQL, minimal": [PY, "-c", DUCKDB_USER, path, str(folder / "duckdb.csv")],
        "polars lazy, minimal": [PY, "-c", POLARS_USER, path, str(folder / "polars.csv")],
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}
    for _ in range(runs):
        for name, code in jobs.items():  # in turn: the machine's drift falls on every job alike
            if name == "senderscore, filling the cache":
                for entry in cache.glob("*"):
                    if entry.is_dir() and entry.name != "texts":
                        for file in entry.iterdir():
                            file.unlink()
                        entry.rmdir()
            results[name].append(run(code))
    outputs = [folder / f for f in ("nocache.csv", "fill.csv", "cached.csv", "duckdb.csv", "polars.csv")]
    first = counts(outputs[0])
    same = all(counts(o).equals(first) for o in outputs[1:])
    floor = min(statistics.median(w for w, _ in results[n]) for n in jobs if "minimal" in n)
    print(f"\n### `score --by user`, {rows:,} enrollments, {kind}, median of {runs} runs, 2 cores\n")
    print("| job | wall s | x minimal | peak RSS MB |\n|---|---:|---:|---:|")
    for name, samples in results.items():
        wall = statistics.median(w for w, _ in samples)
        print(f"| {name} | {wall:.2f} | {wall / floor:.1f} | {max(m for _, m in samples):.0f} |", flush=True)
    print(f"\nPer-user ended, replied and bounced identical in every job: {'yes' if same else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    args = parser.parse_args()
    for rows in args.rows:
        for kind in args.formats:
            with tempfile.TemporaryDirectory() as folder:
                measure(rows, args.runs, kind, Path(folder))


if __name__ == "__main__":
    main()
