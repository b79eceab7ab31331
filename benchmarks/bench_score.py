"""`senderscore score --by user`, first and cached, against minimal hand-written queries that give the same counts.

    python benchmarks/bench_score.py --rows 1000000 10000000 --runs 3

Each run is a fresh process (wall time, median of --runs; peak RSS, the largest). The jobs:
senderscore with `--no-cache` (the checks, then one narrow pass), senderscore filling the cache
(the checks and the daily cube, kept), senderscore from the cache; the minimal anchors count ended,
replied and bounced enrollments per user with DuckDB SQL and polars lazy, checking nothing; the
same-output anchor computes senderscore's whole per-user table (every column, default policy)
in DuckDB SQL. Every job writes its table; the script says whether they all agree. The window
defaults to issue 13's (2026-01-01..2026-06-30; `--window '' ''` for the whole data). Data comes from
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
path, out, start, end = sys.argv[1:5]
con = duckdb.connect(); con.execute("SET TimeZone = 'UTC'")
src = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}', header=true)"
window = "".join(f" AND ended_at::TIMESTAMPTZ::DATE {op} DATE '{d}'" for op, d in ((">=", start), ("<=", end)) if d)
bounced = "(upper(coalesce(unenrolled_source,'')) = 'ERROR' AND upper(coalesce(step_error_type,'')) = 'BOUNCED')"
replies = "(coalesce(reply_count::BIGINT,0) > 0 OR upper(coalesce(unenrolled_source,'')) IN ('REPLY','THREAD_REPLY'))"
con.execute(f'''COPY (SELECT user_id, count(*) AS ended, sum({bounced}::INT) AS bounced,
  sum((NOT {bounced} AND {replies})::INT) AS replied
  FROM {src} WHERE upper(state) IN ('FINISHED','UNENROLLED'){window} GROUP BY user_id) TO '{out}' (HEADER)''')
"""

DUCKDB_SAME = r"""
import sys, duckdb
path, out, start, end = sys.argv[1:5]
con = duckdb.connect(); con.execute("SET TimeZone = 'UTC'")
src = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}', header=true, all_varchar=true)"
up = lambda c: f"upper(trim(coalesce({c}, '')))"
bounced = f"({up('unenrolled_source')} = 'ERROR' AND {up('step_error_type')} = 'BOUNCED')"
replies = f"(coalesce(reply_count::BIGINT, 0) > 0 OR {up('unenrolled_source')} IN ('REPLY', 'THREAD_REPLY'))"
window = "".join(f" AND ended_at::TIMESTAMPTZ::DATE {op} DATE '{d}'" for op, d in ((">=", start), ("<=", end)) if d)
z = 1.959963984540054  # the default policy's 95 % Wilson intervals
def wilson(k, n, sign):
    c = f"(({k} / {n} + {z}^2 / (2 * {n})) / (1 + {z}^2 / {n}))"
    h = f"({z} * sqrt({k} / {n} * (1 - {k} / {n}) / {n} + {z}^2 / (4 * {n}^2)) / (1 + {z}^2 / {n}))"
    return f"CASE WHEN {n} > 0 THEN greatest(0, least(1, {c} {sign} {h})) END"
def reply_pts(r):
    return (f"CASE WHEN {r} IS NULL THEN 0 WHEN {r} <= 0.07 THEN {r} / 0.07 * 35 "
            f"WHEN {r} <= 0.13 THEN 35 + ({r} - 0.07) / 0.06 * 15 ELSE 50 END")
def bounce_pts(b):
    return f"CASE WHEN {b} IS NULL THEN 0 WHEN {b} >= 0.10 THEN 0 ELSE 50 - {b} / 0.10 * 50 END"
name = lambda c: f"max(nullif(trim({c}), '')) AS {c}"
engagement = ", ".join(f"sum(coalesce({c}::BIGINT, 0)) AS {c}" for c in ("open_count", "click_count", "meeting_count"))
query = f'''
WITH counts AS (
  SELECT trim(user_id) AS user_id, count(*) AS ended, sum({bounced}::INT) AS bounced,
    sum((NOT {bounced} AND {replies})::INT) AS replied,
    sum(({up('step_error_type')} = 'UNSUBSCRIBED')::INT) AS unsubscribed, {engagement}
  FROM {src} WHERE {up('state')} IN ('FINISHED', 'UNENROLLED'){window} GROUP BY 1),
names AS (SELECT trim(user_id) AS user_id, {name('user_name')}, {name('user_email')}, {name('team')}
  FROM {src} GROUP BY 1),
rates AS (SELECT *, CASE WHEN ended > bounced THEN replied / (ended - bounced) END AS reply_rate,
  bounced / ended AS bounce_rate, ended - bounced AS delivered FROM counts),
bounds AS (SELECT *, {reply_pts('reply_rate')} AS reply_points, {bounce_pts('bounce_rate')} AS bounce_points,
  {wilson('replied', 'delivered', '-')} AS reply_rate_low, {wilson('replied', 'delivered', '+')} AS reply_rate_high,
  {wilson('bounced', 'ended', '-')} AS bounce_rate_low, {wilson('bounced', 'ended', '+')} AS bounce_rate_high
  FROM rates),
scored AS (SELECT *, round(reply_points + bounce_points, 6) AS score,
  round({reply_pts('reply_rate_low')} + {bounce_pts('bounce_rate_high')}, 6) AS score_low,
  round({reply_pts('reply_rate_high')} + {bounce_pts('bounce_rate_low')}, 6) AS score_high FROM bounds)
SELECT user_id, ended, replied, bounced, reply_rate, bounce_rate, reply_points, bounce_points, score,
  CASE WHEN score >= 85 THEN 'Excellent' WHEN score >= 70 THEN 'Good' WHEN score >= 50 THEN 'Fair' ELSE 'Low'
  END AS band,
  ended >= 100 AS eligible, reply_rate_low, reply_rate_high, bounce_rate_low, bounce_rate_high, score_low, score_high,
  unsubscribed, open_count, click_count, meeting_count, user_name, user_email, team
FROM scored LEFT JOIN names USING (user_id) ORDER BY eligible DESC, score DESC, user_id'''
con.execute(f"COPY ({query}) TO '{out}' (HEADER)")
"""

POLARS_USER = """
import sys, polars as pl
import datetime as dt
path, out, start, end = sys.argv[1:5]
scan = pl.scan_parquet(path) if path.endswith(".parquet") else pl.scan_csv(path, infer_schema=False)
at = pl.col("ended_at")
day = (at if path.endswith(".parquet") else at.str.to_datetime(time_zone="UTC")).dt.date()
if start:
    scan = scan.filter(day >= dt.date.fromisoformat(start))
if end:
    scan = scan.filter(day <= dt.date.fromisoformat(end))
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


def measure(rows: int, runs: int, kind: str, folder: Path, window: tuple[str, str]) -> None:
    path = str(data(rows, kind))
    cache = folder / "cache"
    os.environ["SENDERSCORE_CACHE_DIR"] = str(cache)
    span = [f"--{edge}={day}" for edge, day in zip(("start", "end"), window) if day]
    jobs = {
        "senderscore, --no-cache": score(path, folder / "nocache.csv", "--no-cache", *span),
        "senderscore, filling the cache": score(path, folder / "fill.csv", *span),
        "senderscore, from the cache": score(path, folder / "cached.csv", *span),
        "DuckDB SQL, minimal": [PY, "-c", DUCKDB_USER, path, str(folder / "duckdb.csv"), *window],
        "DuckDB SQL, same output": [PY, "-c", DUCKDB_SAME, path, str(folder / "same.csv"), *window],
        "polars lazy, minimal": [PY, "-c", POLARS_USER, path, str(folder / "polars.csv"), *window],
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
    names = ("nocache.csv", "fill.csv", "cached.csv", "duckdb.csv", "same.csv", "polars.csv")
    outputs = [folder / f for f in names]
    first = counts(outputs[0])
    same = all(counts(o).equals(first) for o in outputs[1:])
    floor = min(statistics.median(w for w, _ in results[n]) for n in jobs if "minimal" in n)
    what = f"window {window[0] or 'open'}..{window[1] or 'open'}"
    print(f"\n### `score --by user`, {rows:,} enrollments, {kind}, {what}, median of {runs} runs, 2 cores\n")
    print("| job | wall s | x minimal | peak RSS MB |\n|---|---:|---:|---:|")
    for name, samples in results.items():
        wall = statistics.median(w for w, _ in samples)
        print(f"| {name} | {wall:.2f} | {wall / floor:.1f} | {max(m for _, m in samples):.0f} |", flush=True)
    print(f"\nPer-user ended, replied and bounced identical in every job: {'yes' if same else 'NO'}")
    print(f"Every column of the same-output query equals senderscore's: {same_table(outputs[0], outputs[4])}")


def same_table(ours: Path, theirs: Path) -> str:
    """'yes', or the first column that differs (floats to 1e-9, names and bands exactly)."""
    a, b = (pd.read_csv(p, dtype={"user_id": str}).sort_values("user_id", ignore_index=True) for p in (ours, theirs))
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return f"NO (columns or rows differ: {list(a.columns)} against {list(b.columns)}, {len(a)} against {len(b)})"
    for column in a.columns:
        try:
            pd.testing.assert_series_equal(a[column], b[column], check_dtype=False, rtol=1e-9, atol=1e-9)
        except AssertionError:
            return f"NO (column {column!r})"
    return "yes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    parser.add_argument(
        "--window",
        nargs=2,
        default=["2026-01-01", "2026-06-30"],
        metavar=("START", "END"),
        help="ISO days, '' for open; default: the window of issue 13's table",
    )
    args = parser.parse_args()
    for rows in args.rows:
        for kind in args.formats:
            with tempfile.TemporaryDirectory() as folder:
                measure(rows, args.runs, kind, Path(folder), tuple(args.window))


if __name__ == "__main__":
    main()
