"""The ``senderscore`` command: a report's kernel starts before the rest of the package loads.

Everything else is :func:`senderscore.cli.main`; this module only looks at the arguments
first, so that ``senderscore report`` gets its kernel going while this process imports
papermill and pandas (see :mod:`senderscore.kernel`).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    report = runs_a_report(sys.argv[1:] if argv is None else argv)
    if report:
        from . import kernel

        kernel.prestart()
    try:
        from .cli import main as run

        return run(argv)
    finally:
        if report:
            kernel.discard()  # not taken: the command stopped before its report ran


def runs_a_report(args: list[str]) -> bool:
    """Whether the arguments ask for a report (its first word, not asking for help)."""
    words = [a for a in args if not a.startswith("-")]
    return bool(words) and words[0] == "report" and not {"-h", "--help"} & set(args)
