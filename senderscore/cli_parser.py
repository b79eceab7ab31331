"""The command line's options: one parser, each option's help and default said once."""

from __future__ import annotations

import argparse
import difflib
import re
from pathlib import Path
from typing import NoReturn

from . import __version__, alerts
from .load.windows import WINDOWS


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default in its help, unless the help says it already or there is none
    worth saying (an empty text, None, an off switch)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, "", False) or action.default is argparse.SUPPRESS:
            return text
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """argparse with a "did you mean" for mistyped commands and choices, and defaults in the help."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2))
            near = difflib.get_close_matches(match.group(1), choices, n=1)
            if near:
                message += f"; did you mean {near[0]!r}?"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="senderscore", description="Sender scores of sales sequences, from HubSpot-shaped enrollment exports."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    score = commands.add_parser("score", help="score users, sequences or user x sequence")
    _input_options(score)
    score.add_argument("--start", help="first day of the window, YYYY-MM-DD (inclusive)")
    score.add_argument("--end", help="last day of the window, YYYY-MM-DD (inclusive)")
    score.add_argument(
        "--date-field",
        choices=["ended_at", "enrolled_at"],
        default="ended_at",
        help="timestamp the window filters on (default ended_at)",
    )
    score.add_argument(
        "--by", choices=["user", "sequence", "user-sequence"], default="user", help="one row per user, sequence or both"
    )
    score.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        help="default: from the --output extension (.csv, .json), else table",
    )
    score.add_argument("--output", "-o", type=Path, help="write here instead of standard output ('-')")
    _engine_options(score)
    score.add_argument(
        "--no-cache",
        action="store_true",
        help="read the file even if the cache holds it, and keep nothing (the cache: senderscore cache --help)",
    )
    _fail_on_band(score, "e.g. Low), listing who on stderr")
    _schedule_options(score, stale=True)

    report = commands.add_parser("report", help="run the report notebook: offline HTML (and/or the notebook)")
    report.add_argument("input", type=Path, help="enrollments: .csv, .csv.gz, .parquet or .xlsx")
    _window_options(report, stale=True)
    report.add_argument("--policy", type=Path, help="scoring policy TOML file (default: built-in v1)")
    report.add_argument("--period", choices=["week", "month"], default="month", help="trend granularity")
    report.add_argument("--output-dir", type=Path, default=Path("reports"), help="where the report files go")
    report.add_argument(
        "--format", choices=["html", "ipynb", "both"], default="html", help="the offline HTML, the notebook, or both"
    )
    _fail_on_band(report, "the report lists them at the top)")
    report.add_argument("--show-emails", action="store_true", help="show contact emails unmasked in the report")
    _engine_options(report, verbose=False)
    report.add_argument(
        "--on-bad-rows",
        choices=["error", "skip"],
        default="error",
        help="error: stop on any bad row; skip: report without them (the header says how many), rejects written",
    )
    report.add_argument(
        "--rejects",
        type=Path,
        help="with --on-bad-rows skip: where skipped rows go (default: <output-dir>/<input>.rejects.csv)",
    )
    report.add_argument(
        "--name",
        default="",
        help="the report's file name, without extension (default: sender-score_<input>_<start>_<end> and the filters)",
    )

    recommend = commands.add_parser("recommend", help="findings with evidence and their effect on the score")
    _input_options(recommend)
    _window_options(recommend)
    _engine_options(recommend)
    recommend.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        help="default: from the --output extension (.csv, .json), else table",
    )
    recommend.add_argument("--output", "-o", type=Path, help="write here instead of standard output ('-')")

    suppress = commands.add_parser("suppress", help="the clean-up list: contacts to exclude, as CRM-ready CSV")
    _input_options(suppress)
    _window_options(suppress)
    _engine_options(suppress)
    suppress.add_argument("--output", "-o", type=Path, help="CSV file (default: standard output)")

    validate = commands.add_parser("validate", help="check an input file and list every problem")
    _input_options(validate, skip=False)

    sample = commands.add_parser("sample", help="write a seeded sample dataset (CSV or Parquet)")
    sample.add_argument("--rows", type=int, default=8024, help="enrollments to write, re-enrollments included")
    sample.add_argument("--seed", type=int, default=42, help="the random seed: the same seed, the same file")
    sample.add_argument("--quiet", "-q", action="store_true", help="nothing on stderr but problems")
    sample.add_argument(
        "--output", "-o", type=Path, default=Path("sample_enrollments.csv"), help="a .csv, .csv.gz or .parquet file"
    )
    sample.add_argument("--force", action="store_true", help="replace the output file if it exists")

    policy = commands.add_parser("policy", help="print the scoring policy as TOML (a template to edit)")
    policy.add_argument("--policy", type=Path, help="a policy TOML file to check and print")

    kept = commands.add_parser(
        "cache",
        help="the cache of checked exports that score reuses",
        description="score keeps each clean export's daily cube and load report, keyed by the file's "
        "size, modification time and bytes, so the next question about it reads no rows. "
        "Set SENDERSCORE_CACHE_DIR to move it.",
    )
    kept.add_argument("action", choices=["clear", "dir"], help="clear: remove every entry; dir: print where they live")
    return parser


def _fail_on_band(parser: argparse.ArgumentParser, then: str) -> None:
    parser.add_argument(
        "--fail-on-band",
        metavar="BAND",
        help=f"exit {alerts.ALERT_EXIT} if any official user score is at or below BAND ({then}",
    )


def _input_options(parser: argparse.ArgumentParser, skip: bool = True) -> None:
    parser.add_argument("input", type=Path, help="enrollments: .csv, .csv.gz, .parquet or .xlsx")
    parser.add_argument("--policy", type=Path, help="scoring policy TOML file (default: built-in v1)")
    parser.add_argument("--encoding", default="utf-8", help="text encoding of a CSV file (default utf-8)")
    if skip:
        parser.add_argument(
            "--on-bad-rows",
            choices=["error", "skip"],
            default="error",
            help="error (default): stop on any bad row; skip: go on, write rejects",
        )
        parser.add_argument(
            "--rejects", type=Path, help="with --on-bad-rows skip: where rejected rows go (default: <name>.rejects.csv)"
        )


def _engine_options(parser: argparse.ArgumentParser, *, verbose: bool = True) -> None:
    parser.add_argument(
        "--engine",
        choices=["auto", "pandas", "duckdb", "polars"],
        default="auto",
        help="where rows are checked and grouped (same results on each): auto (default) takes Parquet to "
        "polars, CSV over 100 MB to polars (DuckDB for .csv.gz and lone-CR CSV), out of core; pandas otherwise",
    )
    if verbose:
        parser.add_argument("--verbose", "-v", action="store_true", help="say which engine was picked, and why")


def _window_options(parser: argparse.ArgumentParser, *, stale: bool = False) -> None:
    parser.add_argument("--start", default="", help="first day, YYYY-MM-DD (default: the data's first day)")
    parser.add_argument("--end", default="", help="last day, YYYY-MM-DD (default: the data's last day)")
    parser.add_argument("--date-field", choices=["ended_at", "enrolled_at"], default="ended_at")
    parser.add_argument("--users", default="", help="comma-separated user ids or names (default: everyone)")
    _schedule_options(parser, stale=stale)


def _schedule_options(parser: argparse.ArgumentParser, *, stale: bool = False) -> None:
    """Options for scheduled runs: relative windows, quiet output, stale data as an exit code."""
    parser.add_argument(
        "--last",
        metavar="N",
        default="",
        help="instead of --start/--end: the N days or weeks ending yesterday (90d, 12w)",
    )
    parser.add_argument(
        "--window", choices=WINDOWS, help="instead of --start/--end: a calendar window relative to today"
    )
    parser.add_argument("--as-of", default="", help="the day --last and --window count from (default: today)")
    parser.add_argument("--quiet", "-q", action="store_true", help="nothing on stderr but problems")
    if stale:
        parser.add_argument(
            "--fail-on-stale",
            action="store_true",
            help=f"exit {alerts.STALE_EXIT} when the window holds no ended enrollments or ends after the data's end",
        )
