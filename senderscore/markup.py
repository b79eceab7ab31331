"""Small HTML building blocks for the report: tables, badges, cards, a download link.

Every style is inline: JupyterLab shows an untrusted notebook's HTML without ``<style>``
elements but keeps inline styles, so the executed notebook reads like the HTML report.
Every value from the data is escaped here.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from html import escape

import pandas as pd

from .charts import PALETTE
from .policy import Policy

LEFT, RIGHT = "text-align:left", "text-align:right"
NUMBER = re.compile(r"^[+\-−]?[\d,.]+( %| pts| points)?(-[\d,.]+)?$")
CELL = "padding:3px 8px;vertical-align:top;border-bottom:1px solid #eee"
MUTED = "color:#666"
PROVISIONAL = "color:#777;font-style:italic"


def band_colours(policy: Policy) -> dict[str, str]:
    """Band name -> colour, best green to worst red."""
    return dict(zip(policy.band_names, PALETTE))


def badge(band: str, policy: Policy, text: str | None = None) -> str:
    """A band's name (or ``text``) on the band's colour."""
    colour = band_colours(policy).get(band, "#999")
    return (
        f'<span class="ss-band" style="background-color:{colour};color:#111;border-radius:4px;'
        f'padding:1px 6px;white-space:nowrap">{escape(text or band)}</span>'
    )


def right_aligned(dtype: object, values: list) -> bool:
    """A column shown right-aligned: numbers, and text that reads as one (``'7.3 %'``, ``'1,204'``,
    ``'+2.0'``, ``'35-48'``), judged on its first ``values``: columns are uniform."""
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return True
    texts = [str(v).strip() for v in values if v is not None and v is not pd.NA]
    texts = [t for t in texts if t not in ("", "-", "nan")]
    return bool(texts) and all(NUMBER.match(t) for t in texts)


def table(
    frame: pd.DataFrame,
    table_id: str,
    *,
    caption: str = "",
    row_style: Callable[[dict], str] | None = None,
    cell_html: dict[str, Callable[[object], str]] | None = None,
    widths: dict[str, str] | None = None,
    row_data: list[dict[str, str]] | None = None,
) -> str:
    """``frame`` as an HTML table: text left-aligned, numbers right-aligned, every value escaped
    (``cell_html`` columns are rendered by their function, which must escape). ``widths``
    fixes column widths (CSS lengths) and the table to the page's width, so that tables of the
    same kind line up. ``row_data`` adds ``data-*`` attributes to each row (for tests and scripts).

    >>> html = table(pd.DataFrame({"User": ["<Ann>"], "Ended": [120]}), "t")
    >>> 'text-align:left">&lt;Ann&gt;</td>' in html, 'text-align:right">120</td>' in html
    (True, True)
    """
    cell_html = cell_html or {}
    head = frame.head(20).to_dict("list")  # one conversion for every column's alignment
    align = {c: RIGHT if right_aligned(t, head[c]) else LEFT for c, t in frame.dtypes.items()}
    widths = widths or {}
    head = "".join(
        f'<th style="{CELL};{align[c]}' + (f";width:{widths[c]}" if c in widths else "") + f'">{escape(str(c))}</th>'
        for c in frame.columns
    )
    layout = "border-collapse:collapse" + (";table-layout:fixed;width:100%" if widths else "")
    rows = []
    for i, values in enumerate(frame.to_dict("records")):
        style = row_style(values) if row_style else ""
        data = "".join(f' data-{k}="{escape(str(v))}"' for k, v in (row_data[i] if row_data else {}).items())
        cells = "".join(
            f'<td style="{CELL};{align[c]}">'
            + (cell_html[c](v) if c in cell_html else escape("" if v is None or v is pd.NA else str(v)))
            + "</td>"
            for c, v in values.items()
        )
        rows.append(f'<tr{data} style="{style}">{cells}</tr>' if style else f"<tr{data}>{cells}</tr>")
    cap = f'<caption style="text-align:left;{MUTED};padding:4px 0">{escape(caption)}</caption>' if caption else ""
    return (
        f'<div class="ss-scroll"><table class="ss-table" data-table="{escape(table_id)}" '
        f'style="{layout}">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></div>"
    )


def cards(items: Iterable[tuple[str, str, str]]) -> str:
    """Summary cards: (label, value, note)."""
    out = "".join(
        f'<div class="ss-card" style="border:1px solid #ddd;border-radius:6px;padding:6px 12px;min-width:140px">'
        f'{escape(label)}<b style="display:block;font-size:1.4em">{escape(value)}</b>'
        f'<span style="{MUTED}">{escape(note)}</span></div>'
        for label, value, note in items
    )
    return f'<div class="ss-cards" style="display:flex;flex-wrap:wrap;gap:8px;margin:4px 0">{out}</div>'


def download_link(text: str, filename: str, label: str) -> str:
    """A link that saves ``text`` as ``filename``: the file travels inside the page (a data URI),
    so it works offline, from an email or a shared drive."""
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f'<a class="ss-download" download="{escape(filename)}" href="data:text/csv;charset=utf-8;base64,{data}">'
        f"{escape(label)}</a>"
    )


def slug(value: object) -> str:
    """An id-safe form of ``value``: letters and digits kept, anything else ``-``.

    >>> slug("Maya Müller <x>")
    'Maya-Müller--x-'
    """
    return "".join(ch if ch.isalnum() else "-" for ch in str(value))
