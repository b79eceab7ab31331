"""The exception family. Messages are built from context: file, column, row, value, fix.

User mistakes raise :class:`InputError` (the CLI prints its message and exits 2, no
traceback). Anything else is a bug and surfaces as an ordinary exception.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LISTED = 20  # how many problems a strict load lists before summarising the rest


class SenderScoreError(Exception):
    """Base class of every error senderscore raises on purpose."""


class InputError(SenderScoreError, ValueError):
    """Bad input or usage: the message says what is wrong and how to fix it."""


class PolicyError(InputError):
    """A scoring policy (TOML file or arguments) that cannot be used."""


class ReportError(SenderScoreError):
    """A report notebook failed while running; the message names the cell, the notebook is kept."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input row.

    Attributes
    ----------
    row : int or None
        Where the row is in the source: the line number in a CSV file (header = line 1),
        the worksheet row in an XLSX file, the 1-based row in a Parquet file, the index
        position + 1 of a DataFrame. ``None`` for problems about the whole file.
    column : str or None
        The column concerned, as the file names it.
    value : object
        The offending value, shown with ``repr``.
    message : str
        What was expected, or how to fix it.
    """

    row: int | None
    column: str | None
    value: object
    message: str

    def describe(self, where: str = "line") -> str:
        parts = []
        if self.row is not None:
            parts.append(f"{where} {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        head = ", ".join(parts)
        value = "" if self.value is None else f" value {self.value!r}:"
        return f"{head}:{value} {self.message}" if head else f"{value} {self.message}".strip()

    @property
    def reason(self) -> str:
        """Short text for the ``reason`` column of a rejects file."""
        col = f"{self.column}: " if self.column else ""
        val = "" if self.value is None else f"{self.value!r} "
        return f"{col}{val}{self.message}".strip()


def problems_message(
    source: str, problems: list[Problem], where: str = "line", counts: dict[str, int] | None = None
) -> str:
    """Render a list of problems as the one message a strict load raises; past
    :data:`MAX_LISTED` problems, ``counts`` (problems by reason) summarise the rest."""
    head = f"{source}: {len(problems)} problem{'s' if len(problems) != 1 else ''} found"
    lines = [head] + ["  " + p.describe(where) for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"  ... and {len(problems) - MAX_LISTED} more; by reason:")
        lines += [f"  {n:,} x {reason}" for reason, n in sorted((counts or {}).items(), key=lambda kv: -kv[1])]
    lines.append(
        "Fix these rows, or pass --on-bad-rows skip (API: on_bad_rows='skip') to load the "
        "good rows and write the rejected ones, each with its reason, to a rejects file."
    )
    return "\n".join(lines)
