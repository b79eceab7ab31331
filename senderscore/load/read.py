"""Read an input file into a raw table: every cell as the file has it, plus row numbers.

Reading is kept apart from validation so that every problem can name the file, the
row (the line number in a CSV file, header = line 1) and the value exactly as written.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import itertools
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from .. import schema
from ..errors import InputError, Problem

SUPPORTED = (".csv", ".csv.gz", ".parquet", ".xlsx")
MAX_LINE = 1 << 20  # characters in one physical line of a CSV: no enrollment row comes near it


@dataclass
class RawTable:
    """Cells as read, before validation.

    ``rows`` holds each row's position in the source (see :class:`Problem`), ``where``
    the word for it ("line", "row" or "index"), ``bad_rows`` the problems found while
    reading (ragged rows), which count as read and rejected.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    source: str
    where: str = "line"
    bad_rows: list[Problem] = field(default_factory=list)
    bad_raw: list[dict] = field(default_factory=list)


def file_kind(path: Path) -> str:
    """The reader for ``path``, from its name: 'csv', 'csv.gz', 'parquet' or 'xlsx'."""
    name = path.name.lower()
    for suffix in (".csv.gz", ".csv", ".parquet", ".pq", ".xlsx"):
        if name.endswith(suffix):
            return {"pq": "parquet"}.get(suffix[1:], suffix[1:])
    raise InputError(
        f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; expected one of "
        f"{', '.join(SUPPORTED)}. Export the enrollments as CSV, or rename the file if it "
        "already is one."
    )


def checked_kind(path: Path) -> str:
    """The reader for an existing input file, or an :class:`InputError` that says what is wrong."""
    kind = file_kind(path)
    if not path.exists():
        raise InputError(f"{path}: no such file. Check the path (relative to {Path.cwd()}).")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; pass the enrollments file inside it.")
    return kind


def read_source(path: str | Path, *, encoding: str = "utf-8") -> RawTable:
    """Read ``path`` by its extension. Raises :class:`InputError` for unreadable files.

    CSV (plain or gzip) is read as a stream: a compressed file is never decompressed whole
    into memory."""
    path = Path(path)
    kind = checked_kind(path)
    if kind in ("csv", "csv.gz"):
        fast = _read_csv_arrow(path, kind) if _is_utf8(encoding) else None
        return fast if fast is not None else _read_csv(path, kind, encoding)
    if kind == "parquet":
        return _read_parquet(path)
    return _read_xlsx(path)


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")


@contextmanager
def _binary(path: Path, kind: str) -> Iterator[BinaryIO]:
    """The file's bytes as a stream, decompressed on the fly for ``.csv.gz``; a corrupt or
    truncated archive is an :class:`InputError` wherever the stream breaks."""
    try:
        with gzip.open(path, "rb") if kind == "csv.gz" else path.open("rb") as stream:
            yield stream
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(
            f"{path}: the compressed file is truncated or corrupt ({exc}). Download or "
            "export it again, or pass the uncompressed .csv."
        ) from None


def data_bytes(path: Path, *, limit: int) -> int:
    """The size of the data in ``path``: its size on disk, or for ``.csv.gz`` its uncompressed
    size, streamed and counted up to just past ``limit`` (a small archive can hold a lot)."""
    kind = checked_kind(path)
    if kind != "csv.gz":
        return path.stat().st_size
    total = 0
    with _binary(path, kind) as stream:
        while total <= limit and (chunk := stream.read(1 << 24)):
            total += len(chunk)
    return total


def sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    # The header of an enrollment export has several columns: its most frequent separator wins.
    return max((",", ";", "\t"), key=header.count)


def _read_csv(path: Path, kind: str, encoding: str) -> RawTable:
    """The csv module over a decoded stream: exact line numbers through quoted newlines."""
    codec = "utf-8-sig" if _is_utf8(encoding) else encoding
    try:
        codecs.lookup(codec)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}; try 'utf-8', 'cp1252' or 'latin-1'.") from None
    with _binary(path, kind) as raw:
        text = io.TextIOWrapper(raw, encoding=codec, newline="")
        reader = None
        try:
            first = text.readline()
            if not first.strip():
                raise InputError(
                    f"{path}: the file is empty or starts with a blank line; expected a header line "
                    "first, then one row per enrollment."
                )
            lines = itertools.chain([first], _bounded_lines(path, text))
            reader = csv.reader(lines, delimiter=sniff_delimiter(first), strict=True)
            return _records(path, reader)
        except UnicodeDecodeError:
            line, byte = _undecodable(path, kind, codec)
            raise InputError(
                f"{path}: line {line}: byte {byte!r} is not valid "
                f"{encoding}. The file is in another encoding (often cp1252 or latin-1 from Excel); "
                "pass --encoding cp1252 (API: encoding='cp1252'), or save it as UTF-8."
            ) from None
        except csv.Error as exc:
            line = reader.line_num if reader is not None else 1
            raise InputError(f"{path}: line {line}: {exc}; is this a CSV export of enrollments?") from None


def _undecodable(path: Path, kind: str, codec: str) -> tuple[int, bytes]:
    """The line and byte of the first undecodable byte (text is decoded in chunks, so the
    error itself does not say which line): a second pass, line by line, in bytes."""
    decoder = codecs.getincrementaldecoder(codec)()
    with _binary(path, kind) as raw:
        for number, line in enumerate(iter(lambda: raw.readline(MAX_LINE), b""), 1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError as exc:
                return number, line[exc.start : exc.start + 1]
    return number, b""


def _bounded_lines(path: Path, text: io.TextIOBase) -> Iterator[str]:
    """The stream's lines, refusing one longer than MAX_LINE characters: a damaged or hostile
    file (one endless line) stops with a message before it fills the memory."""
    number = 1
    while line := text.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE:
            raise InputError(
                f"{path}: line {number} is longer than {MAX_LINE:,} characters; this is not an enrollment "
                "export (or it lost its line breaks). Export it again."
            )
        yield line


def _checked(path: Path, reader: Any) -> Iterator[list[str]]:
    """The reader's records; a malformed one (a quote never closed, text after a closing
    quote) stops the load naming the line where its record starts: nothing is swallowed."""
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(
                f"{path}: line {start}: {exc} (a quoted field is not closed, or text follows its closing "
                'quote); fix the quoting there: a quote inside a field is written as two quotes ("").'
            ) from None
        yield record


def _records(path: Path, reader: Any) -> RawTable:
    header = next(reader)
    width = len(header)
    records: list[list[str]] = []
    lines: list[int] = []
    bad: list[Problem] = []
    bad_raw: list[dict] = []
    start = reader.line_num + 1
    for record in _checked(path, reader):
        if record:  # blank lines are not rows
            if len(record) == width:
                records.append(record)
                lines.append(start)
            else:
                bad.append(
                    Problem(
                        start,
                        None,
                        None,
                        f"has {len(record)} fields, the header has {width}; "
                        "a field with the separator in it must be quoted",
                    )
                )
                bad_raw.append({"_row": start, "_raw": ",".join(record)})
        start = reader.line_num + 1
    if not records and not bad:
        raise InputError(f"{path}: has a header line but no rows; expected one row per enrollment.")
    frame = (
        pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header, dtype=object)
    )
    return RawTable(frame, np.asarray(lines, dtype=np.int64), str(path), "line", bad, bad_raw)


def _read_csv_arrow(path: Path, kind: str = "csv") -> RawTable | None:
    """pyarrow's multi-threaded CSV reader (~15x faster than the csv module), used when it
    gives the same table: every cell as text, and line numbers that are simply row + 1 (no
    blank line, no quoted field spanning lines). Anything else returns None and the csv
    module reads the file, with exact line numbers for every message. Both stream a gzip."""
    import pyarrow as pa
    import pyarrow.csv as pv

    with _binary(path, kind) as stream:
        first = stream.readline(1 << 20)
        newlines = first.count(b"\n") + sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 24), b""))
    try:
        delimiter = sniff_delimiter(first.decode("utf-8-sig"))
        header = next(csv.reader([first.decode("utf-8-sig").rstrip("\r\n")], delimiter=delimiter))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return None
    if len(set(header)) != len(header) or not first.endswith(b"\n"):
        return None  # repeated header names (the csv module keeps them apart) or an endless first line
    source = pa.input_stream(str(path), compression="gzip") if kind == "csv.gz" else str(path)
    try:
        table = pv.read_csv(
            source,
            read_options=pv.ReadOptions(column_names=header, skip_rows=1, encoding="utf8"),
            parse_options=pv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, ValueError, OSError):  # ragged rows, bad UTF-8, a corrupt archive...
        return None
    rows = table.num_rows
    if not rows or newlines not in (rows, rows + 1):
        return None
    frame = table.to_pandas()
    return RawTable(frame, np.arange(2, rows + 2, dtype=np.int64), str(path), "line")


def _read_parquet(path: Path) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise InputError(f"{path}: not a readable Parquet file ({exc}). Export it again.") from None
    for name in binary_text(path, list(map_columns(table.column_names, str(path)))):
        index = table.column_names.index(name)
        table = table.set_column(index, name, table.column(index).cast(pa.string()))
    frame = table.to_pandas()
    if frame.empty:
        raise InputError(f"{path}: has no rows; expected one row per enrollment.")
    return RawTable(frame.reset_index(drop=True), np.arange(1, len(frame) + 1), str(path), "row")


def _read_xlsx(path: Path) -> RawTable:
    try:
        frame = pd.read_excel(path, dtype=object, keep_default_na=False)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/... for damaged files
        raise InputError(f"{path}: not a readable .xlsx workbook ({exc}). Save it again from Excel.") from None
    # Worksheet row numbers: header on row 1, data from row 2. Blank rows are not enrollments
    # (as blank lines in a CSV are not): they are skipped, the others keep their numbers.
    numbers = np.arange(2, len(frame) + 2)
    blank = frame.map(lambda v: v is None or (isinstance(v, float) and v != v) or str(v).strip() == "").all(axis=1)
    frame, numbers = frame[~blank.to_numpy()], numbers[~blank.to_numpy()]
    if frame.empty:
        raise InputError(f"{path}: the first sheet has no rows; expected one row per enrollment.")
    return RawTable(frame.reset_index(drop=True), numbers, str(path), "row")


def from_frame(frame: pd.DataFrame, name: str = "DataFrame") -> RawTable:
    """Wrap a DataFrame given through the API; rows are numbered by position + 1."""
    if len(frame) == 0:
        raise InputError(f"{name}: has no rows; expected one row per enrollment.")
    return RawTable(frame.reset_index(drop=True), np.arange(1, len(frame) + 1), name, "row")


def binary_text(path: Path, columns: list[str]) -> list[str]:
    """Which of ``columns`` a Parquet file stores as bytes: each is read as text, the same on
    every engine, once every value is checked to be UTF-8. One that is not is a clear error
    naming the column, the row and the bytes (no engine guesses an encoding for an id)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema_ = pq.read_schema(path)
    binary = [
        c
        for c in columns
        if pa.types.is_binary(schema_.field(c).type) or pa.types.is_large_binary(schema_.field(c).type)
    ]
    for column in binary:
        row = 0
        for batch in pq.ParquetFile(path).iter_batches(columns=[column]):
            values = batch.column(0)
            try:
                values.cast(pa.string())
            except pa.ArrowInvalid:
                offset, value = next((i, v) for i, v in enumerate(values.to_pylist()) if not _decodes(v))
                raise InputError(
                    f"{path}: column {column!r} holds bytes that are not UTF-8 text (row {row + offset + 1}: "
                    f"{value[:40]!r}); export it as text (ids and names are text)."
                ) from None
            row += len(values)
    return binary


def _decodes(value: bytes | None) -> bool:
    try:
        value is None or value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def map_columns(names: list[str], source: str) -> dict[str, str]:
    """Source column -> canonical column, for every reader: canonical names, HubSpot property
    names and export labels (:data:`schema.ALIASES`). Raises for missing or doubled columns."""
    mapping: dict[str, str] = {}
    for column in names:
        canonical = schema.ALIASES.get(schema.normalize_name(column))
        if canonical is None:
            continue
        twin = next((src for src, can in mapping.items() if can == canonical), None)
        if twin is not None:
            raise InputError(
                f"{source}: columns {twin!r} and {column!r} both mean {canonical!r}; "
                "keep one of them (or rename the other)."
            )
        mapping[column] = canonical
    missing = [c for c in schema.REQUIRED if c not in mapping.values()]
    if missing:
        raise InputError(_missing_message(names, source, mapping, missing))
    return mapping


def _missing_message(names: list[str], source: str, mapping: dict[str, str], missing: list[str]) -> str:
    unmapped = [c for c in names if c not in mapping]
    hints = []
    for canonical in missing:
        spellings = [k for k, v in schema.ALIASES.items() if v == canonical]
        for column in unmapped:
            folded = schema.normalize_name(column)
            if difflib.get_close_matches(folded, spellings, 1, 0.75) or folded.replace(" ", "") in {
                n.replace(" ", "") for n in spellings
            }:
                hints.append(f"rename {column!r} to {canonical!r}")
    found = ", ".join(repr(c) for c in names) or "none"
    text = (
        f"{source}: missing required column(s) {', '.join(missing)}; found {found}. "
        'HubSpot names (hs_enrolled_by, ...) and export labels ("Enrolled by", ...) are accepted.'
    )
    return text + (f" Did you mean: {'; '.join(hints)}?" if hints else "")
