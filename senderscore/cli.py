"""The command line: ``senderscore score|validate|sample|policy``, thin over the package.

Exit codes: 0 success; 2 bad input or usage (one message on stderr, no traceback);
3 an alert: ``--fail-on-band`` found official scores at or below the band (listed on stderr);
4 stale data under ``--fail-on-stale``; 1 an unexpected internal error, or a report notebook
that failed (the message names the cell).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from . import alerts, cache
from .cli_parser import build_parser
from .cube import Cube, cube_of, cube_riders, window_cube, window_riders
from .errors import InputError, ReportError
from .extras import require
from .files import STDOUT, check_target, free_name, write_text
from .load import LoadReport, Opened, Rider, load_enrollments, open_dataset, pick_engine
from .load.windows import parse_date, parse_window, relative_window
from .output import plural, to_csv, to_json, to_terminal
from .policy import Policy, load_policy
from .sample import write_sample
from .scores import sender_scores


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = build_parser().parse_args(argv)
    if hasattr(args, "format") and args.format is None:  # score, recommend: the file says what it wants
        suffix = args.output.suffix.lower() if args.output is not None else ""
        args.format = {".csv": "csv", ".json": "json"}.get(suffix, "table")
    try:
        _relative(args)
        args.stage = _Stages(args)
        commands = {
            "score": _score,
            "report": _report,
            "validate": _validate,
            "sample": _sample,
            "policy": _policy,
            "recommend": _recommend,
            "suppress": _suppress,
            "cache": _cache,
        }
        return commands[args.command](args)
    except InputError as exc:
        print(f"senderscore: error: {exc}", file=sys.stderr)
        return 2
    except ReportError as exc:
        print(f"senderscore: report failed: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `senderscore score ... | head`
        return 0
    except OSError as exc:  # a full disk, a lost mount...: the path and the reason, no traceback
        print(f"senderscore: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2


class _Stages:
    """One line per stage on stderr, with the time the previous stage took, for runs that take
    a while: inputs over 50 MB, samples of a million rows or more. Silent under --quiet, and
    plain lines (no carriage returns) that read well in a log or a cron mail."""

    BYTES = 50 * 1024 * 1024

    def __init__(self, args: argparse.Namespace) -> None:
        source = getattr(args, "input", None)
        large = source is not None and source.is_file() and source.stat().st_size > self.BYTES
        large = large or getattr(args, "rows", 0) >= 1_000_000
        self.enabled = large and not getattr(args, "quiet", False)
        self.started = time.perf_counter()

    def __call__(self, text: str) -> None:
        if self.enabled:
            now = time.perf_counter()
            print(f"senderscore: [{now - self.started:6.1f} s] {text}", file=sys.stderr, flush=True)


def _say(args: argparse.Namespace, text: str) -> None:
    """A progress or summary line on stderr, unless --quiet (problems are printed regardless)."""
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def _relative(args: argparse.Namespace) -> None:
    """--last / --window: the window as --start and --end, counted from --as-of (default: today
    in the policy's time zone), and said on stderr so that a scheduled log shows what ran."""
    last, name = getattr(args, "last", ""), getattr(args, "window", None)
    if not (last or name):
        if getattr(args, "as_of", ""):
            raise InputError("--as-of counts for --last or --window; give one of them, or drop --as-of.")
        return
    if last and name:
        raise InputError("--last and --window both give the window; keep one.")
    if args.start or args.end:
        raise InputError("--start/--end and --last/--window both give the window; keep one way.")
    zone = load_policy(args.policy).timezone
    today = parse_date(args.as_of, "as-of") or dt.datetime.now(ZoneInfo(zone)).date()
    start, end = relative_window(last=last, name=name or "", today=today)
    args.start, args.end = start.isoformat(), end.isoformat()
    what = f"last {last}" if last else name
    _say(args, f"senderscore: window {args.start} to {args.end} ({what} as of {today.isoformat()}, {zone})")


def _stale(args: argparse.Namespace, why: str) -> int:
    """Warn on stderr when the data does not cover the window; the exit code under --fail-on-stale."""
    if not why:
        return 0
    print(f"senderscore: warning: {why}", file=sys.stderr)
    return alerts.STALE_EXIT if args.fail_on_stale else 0


def _open(args: argparse.Namespace, policy: object, riders: tuple[Rider, ...] = ()) -> Opened:
    """Check the outputs, then read and check the input on its engine (``riders`` along, see
    :func:`senderscore.load.open_dataset`); write the rejects."""
    _check_outputs(args)
    args.stage(f"reading and checking {args.input.name} (engine {args.engine})")
    opened = open_dataset(
        args.input,
        engine=args.engine,
        on_bad_rows=args.on_bad_rows,
        policy=policy,
        encoding=args.encoding,
        verbose=args.verbose,
        riders=riders,
    )
    _write_rejects(opened.report, args)
    args.stage(f"{opened.report.rows_read:,} rows checked on {opened.report.engine}; grouping")
    return opened


def _score(args: argparse.Namespace) -> int:
    window = parse_window(args.start, args.end)  # before loading: a typo fails fast
    policy = load_policy(args.policy)
    report, cube, latest = _scored_cube(args, policy, window)
    table = sender_scores(cube, start=window[0], end=window[1], by=args.by, policy=policy)
    args.stage("scored")
    meta = {
        "by": args.by,
        "date_field": args.date_field,
        "start": window[0].isoformat() if window[0] else None,
        "end": window[1].isoformat() if window[1] else None,
    }
    if args.format == "csv":
        text = to_csv(table)
    elif args.format == "json":
        text = to_json(table, policy=policy, report=report, meta=meta)
    else:
        span = f"{meta['start'] or 'first day'} to {meta['end'] or 'last day'}"
        text = (
            f"{report.summary()}\nWindow: {args.date_field} {span} ({policy.timezone}); "
            f"policy {policy.name} {policy.version}\n\n" + to_terminal(table, by=args.by, policy=policy)
        )
    if args.format != "table":
        _say(args, report.summary())
    _emit(text, args)
    last_day = latest.date() if latest is not None else None
    code = _stale(args, alerts.stale(last_day=last_day, end=window[1], ended=int(table["ended"].sum())))
    if args.fail_on_band:
        users = table if args.by == "user" else sender_scores(cube, start=window[0], end=window[1], policy=policy)
        code = _alert(users, args.fail_on_band, policy) or code
    return code


def _scored_cube(args: argparse.Namespace, policy: Policy, window: tuple) -> tuple[LoadReport, Cube, object]:
    """The load report, a cube and the data's last day: from the cache when it holds the file;
    else read, and the daily cube kept for next time; with --no-cache, one narrow pass."""
    if args.no_cache or not args.input.is_file():  # one table over one window: a narrow pass, the same table
        narrow = dict(date_field=args.date_field, start=window[0], end=window[1], sequence_names=args.by != "user")
        opened = _open(args, policy, window_riders(**narrow))
        cube, latest = window_cube(opened, **narrow)
        return opened.report, cube, latest

    def build() -> tuple[LoadReport, Cube]:
        opened = _open(args, policy, cube_riders(args.date_field))
        return opened.report, cube_of(opened, date_field=args.date_field)

    engine = pick_engine(args.input, args.engine)
    report, cube, hit = cache.remembered(
        args.input, zone=policy.timezone, date_field=args.date_field, engine=engine, encoding=args.encoding, build=build
    )
    if hit:
        _check_outputs(args)
        if args.verbose:
            print(f"senderscore: {args.input.name} from the cache ({cache.cache_dir()})", file=sys.stderr)
    return report, cube, cube.span[1]


def _cache(args: argparse.Namespace) -> int:
    if args.action == "dir":
        print(cache.cache_dir())
    else:
        print(f"senderscore: {plural(cache.clear(), 'cache entry', 'cache entries')} removed from {cache.cache_dir()}")
    return 0


def _alert(by_user, band: str, policy) -> int:
    hits = alerts.at_or_below(by_user, band, policy)
    if hits.empty:
        return 0
    print(alerts.describe(hits, alerts.check_band(band, policy)), file=sys.stderr)
    return alerts.ALERT_EXIT


def _inputs(args: argparse.Namespace) -> list[Path]:
    """The files a run reads: never to be written over."""
    return [p for p in (getattr(args, "input", None), getattr(args, "policy", None)) if p is not None]


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse an output or rejects path that is an input, or cannot be written, before the work."""
    if getattr(args, "output", None) is not None:
        check_target(args.output, inputs=_inputs(args))
    if getattr(args, "rejects", None) is not None:
        check_target(args.rejects, inputs=_inputs(args), what="rejects file")


def _emit(text: str, args: argparse.Namespace) -> None:
    output = args.output
    write_text(output or STDOUT, text, inputs=_inputs(args))
    if output is not None and str(output) != STDOUT:
        _say(args, f"wrote {output}")


def _write_rejects(report: LoadReport, args: argparse.Namespace) -> None:
    if not report.rows_rejected:
        return
    target = args.rejects
    if target is None:
        named = args.output if args.output is not None and str(args.output) != STDOUT else args.input
        folder = args.output.parent if named is args.output else Path.cwd()
        target = free_name(folder, named.name.split(".")[0], ".rejects.csv", inputs=_inputs(args))
    write_text(target, to_csv(report.rejects), inputs=_inputs(args), what="rejects file")
    print(
        f"senderscore: {plural(report.rows_rejected, 'bad row')} skipped; each with its reason in {target}",
        file=sys.stderr,
    )


def _report(args: argparse.Namespace) -> int:
    require("report", "senderscore report")
    from .report import run_report  # papermill and nbconvert load only for reports

    formats = ("html", "ipynb") if args.format == "both" else (args.format,)
    users = [u.strip() for u in args.users.split(",") if u.strip()]
    policy = load_policy(args.policy)
    if args.fail_on_band:
        alerts.check_band(args.fail_on_band, policy)  # a typo fails before the long run
    check_target(args.output_dir / "report.html", what="report")  # an unwritable place fails before the run
    stem = args.input.name.split(".")[0]
    rejects = args.rejects or free_name(args.output_dir, stem, ".rejects.csv", inputs=_inputs(args))
    check_target(rejects, inputs=_inputs(args), what="rejects file")
    result = run_report(
        args.input,
        start_date=args.start,
        end_date=args.end,
        date_field=args.date_field,
        policy_path=str(args.policy or ""),
        users=users,
        period=args.period,
        output_dir=args.output_dir,
        formats=formats,
        alert_band=args.fail_on_band or "Low",
        show_emails=args.show_emails,
        engine=args.engine,
        on_bad_rows=args.on_bad_rows,
        rejects_path=rejects if args.on_bad_rows == "skip" else "",
        progress=not args.quiet and sys.stderr.isatty(),  # a log or cron mail gets no progress bar
        name=args.name,
    )
    for path in (result.html, result.notebook):
        if path is not None:
            print(f"wrote {path}")
    code = _stale(args, result.stale)
    return (_alert(result.by_user, args.fail_on_band, policy) if args.fail_on_band else 0) or code


def _evidence(args: argparse.Namespace):
    from .cube import select_users
    from .evidence import gather

    policy = load_policy(args.policy)
    window = parse_window(args.start, args.end)  # before loading: a typo fails fast
    opened = _open(args, policy, cube_riders(args.date_field))
    users = [u.strip() for u in args.users.split(",") if u.strip()]
    cube = select_users(cube_of(opened, date_field=args.date_field), users)
    args.stage("gathering the evidence (contacts, domains, re-enrollments)")
    evidence = gather(opened, start=window[0], end=window[1], policy=policy, cube=cube)
    args.stage("evidence gathered")
    return evidence


def _recommend(args: argparse.Namespace) -> int:
    from .evidence import findings_frame, recommend, render_findings

    findings = recommend(_evidence(args))
    if args.format == "csv":
        text = to_csv(findings_frame(findings))
    elif args.format == "json":
        text = json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False, default=str) + "\n"
    else:
        text = render_findings(findings)
    _emit(text, args)
    return 0


def _suppress(args: argparse.Namespace) -> int:
    from .evidence import suppression_list, to_crm_csv

    table = suppression_list(_evidence(args))
    _emit(to_crm_csv(table), args)
    _say(args, f"{plural(len(table), 'contact')} to exclude")
    return 0


def _validate(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    _, report = load_enrollments(args.input, on_bad_rows="skip", policy=policy, encoding=args.encoding)
    print(report.summary())
    print("Columns: " + ", ".join(f"{src!r} -> {dst}" if src != dst else dst for src, dst in report.columns.items()))
    if report.ignored_columns:
        print("Ignored columns: " + ", ".join(repr(c) for c in report.ignored_columns))
    if not report.problems:
        print("No problems found.")
        return 0
    print(f"{plural(len(report.problems), 'problem')}:")
    for problem in report.problems:
        print("  " + problem.describe(report.where))
    return 2


def _sample(args: argparse.Namespace) -> int:
    check_target(args.output, what="sample")
    if args.output.exists() and not args.force:
        raise InputError(f"{args.output}: exists; pass --force to replace it, or choose another --output.")
    args.stage(f"generating {args.rows:,} enrollments")
    path = write_sample(args.output, rows=args.rows, seed=args.seed)
    _say(args, f"wrote {path} ({args.rows:,} enrollments, seed {args.seed})")
    return 0


def _policy(args: argparse.Namespace) -> int:
    sys.stdout.write(load_policy(args.policy).to_toml())
    return 0
