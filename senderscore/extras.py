"""Optional parts of senderscore and the extra that installs each: a clear message, not a traceback."""

from __future__ import annotations

import importlib.util

from .errors import InputError

EXTRAS = {
    "report": ("papermill", "nbconvert", "ipykernel", "altair", "vl_convert"),
    "explore": ("ipywidgets", "altair", "vl_convert"),
    "scale": ("duckdb",),
}


def require(extra: str, what: str) -> None:
    """Raise :class:`InputError` (exit 2 from the CLI) naming the extra to install when a module
    that ``what`` needs is missing.

    >>> require("report", "senderscore report")  # installed here: nothing happens
    """
    missing = [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(
            f"{what} needs the {extra!r} extra ({', '.join(missing)} not installed): "
            f"pip install 'senderscore[{extra}]'."
        )
