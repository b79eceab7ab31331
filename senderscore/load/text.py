"""Whitespace around a cell: the one rule, and the fastest way each engine applies it."""

from __future__ import annotations

import string

import narwhals as nw

WHITESPACE = string.whitespace
"""What is stripped from both ends of every text cell: ASCII space, tab, newline, carriage
return, vertical tab and form feed (explicit, because engines disagree on a default)."""

_EDGE = r"^[ \t\n\r\x0b\x0c]|[ \t\n\r\x0b\x0c]$"


def strip(text: nw.Expr, engine: object = None) -> nw.Expr:
    """``text`` without :data:`WHITESPACE` at either end, the same value on every engine.

    polars strips every cell (fast, and its ``when`` evaluates both branches anyway); the
    SQL engines (DuckDB, Spark) strip only the cells that start or end with whitespace, found
    with a cheap regular expression, because their trim with a character list is slow.
    """
    stripped = text.str.strip_chars(WHITESPACE)
    if engine is nw.Implementation.POLARS:
        return stripped
    return nw.when(text.str.contains(_EDGE)).then(stripped).otherwise(text)
