"""Score tables as CSV, JSON and readable terminal tables."""

from __future__ import annotations

import io
import json
import math
import re

import pandas as pd

from .load import LoadReport
from .policy import Policy

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CSV_BLOCK = 50_000  # rows written at a time by to_csv_within


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with ``'``.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-1+2"), neutralise("ok"), neutralise(3)
    ('\\'=HYPERLINK("http://x")', "'-1+2", 'ok', 3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def plural(count: int, word: str, many: str | None = None) -> str:
    """``'1 contact'``, ``'2 contacts'``, with thousands separators.

    >>> plural(1, "contact"), plural(1200, "enrollment"), plural(2, "sequence was", "sequences were")
    ('1 contact', '1,200 enrollments', '2 sequences were')
    """
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def printable(text: object) -> str:
    """Text for a terminal: control characters (escape sequences, bells, carriage returns) as ``?``.

    >>> printable("Eve\\x1b[31m red")
    'Eve?[31m red'
    """
    return CONTROL.sub("?", str(text))


def to_csv(table: pd.DataFrame, *, header: bool = True) -> str:
    """CSV text, safe to open in a spreadsheet: rates as fractions, booleans ``true``/``false``,
    undefined values empty, and every text cell that a spreadsheet would run as a formula
    (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) prefixed with ``'``; numbers stay numbers.
    ``header=False`` leaves out the line of column names.

    >>> to_csv(pd.DataFrame({"name": ["=1+2", "ok", None], "n": [1, 2, 3]}))
    "name,n\\n'=1+2,1\\nok,2\\n,3\\n"
    """
    frame = table.copy()
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            frame[column] = frame[column].map({True: "true", False: "false"})
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
        elif not pd.api.types.is_numeric_dtype(dtype):
            frame[column] = frame[column].map(neutralise).astype(object)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=header, na_rep="", lineterminator="\n")
    return buffer.getvalue()


def to_csv_within(table: pd.DataFrame, limit: int) -> str | None:
    """:func:`to_csv` of ``table``, or None where its text passes ``limit`` bytes (UTF-8). Written
    in blocks of rows and given up at the first block past the limit: a table ten times too
    large costs the limit's worth of work, not its own."""
    if _fewest_bytes(table) > limit:
        return None
    parts, size = [], 0
    for first in range(0, max(len(table), 1), CSV_BLOCK):
        part = to_csv(table.iloc[first : first + CSV_BLOCK], header=first == 0)
        size += len(part.encode("utf-8"))
        if size > limit:
            return None
        parts.append(part)
    return "".join(parts)


def _fewest_bytes(table: pd.DataFrame) -> int:
    """A lower bound of ``to_csv(table)``'s size, from vectorized lengths: the characters of
    every text cell, and a separator or line end after every cell (quotes, prefixes and every
    other cell only add to it)."""
    least = table.size
    for column in table.columns:
        try:
            least += int(table[column].str.len().sum())
        except (AttributeError, TypeError):  # not a text column
            continue
    return least


def to_json(table: pd.DataFrame, *, policy: Policy, report: LoadReport | None, meta: dict) -> str:
    """JSON object with the policy, the window, the load report and one record per row."""
    rows = []
    for record in table.to_dict(orient="records"):
        rows.append({k: _plain(v) for k, v in record.items()})
    document = {
        **meta,
        "policy": policy.name + " " + policy.version,
        "load": report.to_dict() if report else None,
        "rows": rows,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _plain(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if value is pd.NaT or value is None:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def percent(value: float, digits: int = 1) -> str:
    """``0.0731`` -> ``'7.3 %'``; undefined -> ``'-'``."""
    return "-" if value is None or pd.isna(value) else f"{value * 100:.{digits}f} %"


def to_terminal(table: pd.DataFrame, *, by: str, policy: Policy) -> str:
    """A readable table: official rows first, provisional rows after, marked with ``*``."""
    headers = _label_headers(by) + ["Ended", "Reply", "Bounce", "Score", "Range", "Band"]
    lines: list[list[str]] = []
    for _, row in table.iterrows():
        mark = "" if row["eligible"] else " *"
        lines.append(
            _labels(row, by)
            + [
                f"{row['ended']:,}",
                percent(row["reply_rate"]),
                percent(row["bounce_rate"]),
                f"{row['score']:.1f}",
                f"{row['score_low']:.0f}-{row['score_high']:.0f}",
                row["band"] + mark,
            ]
        )
        lines[-1] = [printable(cell) for cell in lines[-1]]
    widths = [max(len(h), *(len(r[i]) for r in lines)) if lines else len(h) for i, h in enumerate(headers)]
    numeric = set(range(len(headers) - 6, len(headers) - 1))

    def render(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    out = [render(headers), render(["-" * w for w in widths])]
    official = table["eligible"].tolist()
    for i, cells in enumerate(lines):
        if i > 0 and official[i - 1] and not official[i]:
            out.append("")
        out.append(render(cells))
    floor = policy.min_ended_user if by == "user" else policy.min_ended_sequence
    if not all(official):
        out.append(f"\n* provisional: fewer than {floor} ended enrollments; not an official score.")
    if not lines:
        out.append("(no ended enrollments in this window)")
    return "\n".join(out) + "\n"


def _label_headers(by: str) -> list[str]:
    return {"user": ["User"], "sequence": ["Sequence"], "user-sequence": ["User", "Sequence"]}[by]


def _labels(row: pd.Series, by: str) -> list[str]:
    def name(kind: str) -> str:
        label = row.get(f"{kind}_name", "")
        ident = row[f"{kind}_id"]
        return f"{label} ({ident})" if isinstance(label, str) and label else str(ident)

    kinds = {"user": ["user"], "sequence": ["sequence"], "user-sequence": ["user", "sequence"]}[by]
    return [name(kind) for kind in kinds]
