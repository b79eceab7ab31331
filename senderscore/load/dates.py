"""Timestamps and dates: the one place where text becomes time.

The timestamp rule, written once as narwhals expressions that every engine evaluates
(pandas data through in-memory polars, DuckDB, polars, Spark):

- text with an offset (``2026-03-31T14:05:00Z``, ``+02:00``, ``+0200``, ``+02``) is that
  instant; epoch milliseconds (12-13 digits) are instants too;
- ISO text without an offset (``2026-03-31``, ``2026-03-31 14:05``), ``YYYYMMDD``, and
  Parquet/XLSX/DataFrame timestamps without a zone are wall-clock times in the report zone.
  A wall-clock time that occurs twice at a DST change is the first occurrence; one that does
  not exist (the skipped hour) is read with the offset in force before the change (02:30 on
  a spring-forward night in New York becomes 03:30 EDT): Python's ``fold=0`` rule;
- instants before 1971-01-01 or from 2200-01-01 on are out of range (a row problem).

Time zones are applied by :mod:`.zones`; report windows are parsed by :mod:`.windows`.
"""

from __future__ import annotations

import datetime as dt

import narwhals as nw

from .text import strip

US = 1_000_000
DAY_US = 86_400 * US
RANGE_US = (365 * DAY_US, 84_006 * DAY_US)  # [1971-01-01, 2200-01-01): days_from_civil(2200, 1, 1) = 84006
RANGE_TEXT = "expected a time from 1971 to 2199"
UNREADABLE = (
    "not a timestamp; expected ISO 8601 (2026-03-31T14:05:00Z, offset optional) or epoch milliseconds (1774965900000)"
)
_ISO = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?"
    r" *([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)?)?$"
)
_EPOCH_MS = r"^-?[0-9]{12,13}(\.0+)?$"
# The usual export's shape, every field in range and every day one that exists (not 29 Feb).
_DATE = (
    r"[1-9][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
_CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
# Offsets as +hh:mm, +hhmm or +hh (DuckDB writes +00 when it exports a zoned timestamp).
_PLAIN = rf"^{_DATE}[T ]{_CLOCK}(?:Z|[+-](?:0[0-9]|1[0-8])(?::?[0-5][0-9])?)?$"
_FAST = rf"^{_DATE}T{_CLOCK}Z$"  # the plainest: what polars' own parser reads as the rule does (FAST_FORMAT)
FAST_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"


def _int(text: nw.Expr, ok: nw.Expr) -> nw.Expr:
    """Digits -> Int64 where ``ok`` (cast only what is known to be digits: engines differ on the rest)."""
    return nw.when(ok).then(text).otherwise(None).cast(nw.Int64)


def floor_div(value: nw.Expr, divisor: int) -> nw.Expr:
    """``value // divisor`` for a positive constant ``divisor``, as an exact multiple divided.

    narwhals writes ``//`` for SQL engines as a CASE that repeats its operand six times, so
    nested divisions (a date's day number) grow into expressions DuckDB spends seconds on; a
    remainder (floored on every engine) and a true division repeat it twice. The quotient is
    exact below 2**53, far past the accepted range of instants (see ``RANGE_US``).
    """
    return ((value - value % divisor) / divisor).cast(nw.Int64)


def days_from_civil(year: nw.Expr, month: nw.Expr, day: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm), for years >= 0."""
    y = year - (month <= 2).cast(nw.Int64)
    era = floor_div(y, 400)
    yoe = y - era * 400
    mp = (month + 9) % 12  # March = 0
    doy = floor_div(153 * mp + 2, 5) + day - 1
    return era * 146_097 + yoe * 365 + floor_div(yoe, 4) - floor_div(yoe, 100) + doy - 719_468


def _days_in_month(year: nw.Expr, month: nw.Expr) -> nw.Expr:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    short = month.is_in([4, 6, 9, 11])
    return nw.when(month == 2).then(28 + leap.cast(nw.Int64)).otherwise(nw.when(short).then(30).otherwise(31))


Stages = list[dict[str, nw.Expr]]
"""Named columns to add in order, one ``with_columns`` per stage: each stage refers to the
columns of earlier ones by name, so no engine ever sees an expression copied into itself."""


def parse_stages(raw: nw.Expr, dtype: object, name: str, engine: object = None) -> Stages:
    """A timestamp column of any type -> columns ``{name}_value`` (microseconds since 1970: UTC
    where ``{name}_aware``, else wall-clock), ``{name}_aware``, ``{name}_blank`` and
    ``{name}_readable`` (not blank and well formed). ``engine`` (a narwhals Implementation)
    picks the fastest way it has to count a datetime's microseconds (:func:`epoch_us`)."""
    col = _namer(name)
    if isinstance(dtype, nw.Datetime) or dtype == nw.Date:
        aware = isinstance(dtype, nw.Datetime) and dtype.time_zone is not None
        first = {f"{name}_blank": raw.is_null(), f"{name}_aware": nw.lit(aware)}
        direct = epoch_us(raw, engine) if dtype != nw.Date else None
        if direct is not None:
            return [{**first, f"{name}_value": direct, f"{name}_readable": ~raw.is_null()}]
        # Aware values as UTC wall-clock (DuckDB sessions are pinned to UTC), then the same arithmetic.
        wall = raw.cast(nw.Datetime("us")) if aware else raw
        parts = {"year": wall.dt.year(), "month": wall.dt.month(), "day": wall.dt.day()}
        if dtype != nw.Date:
            parts.update(hour=wall.dt.hour(), minute=wall.dt.minute(), second=wall.dt.second())
            parts["micro"] = wall.dt.microsecond()
        first.update({f"{name}_{k}": v.cast(nw.Int64) for k, v in parts.items()})
        clock = [col(k) for k in ("hour", "minute", "second", "micro")] if dtype != nw.Date else [nw.lit(0)] * 4
        value = _microseconds(col("year"), col("month"), col("day"), *clock)
        return [first, {f"{name}_value": value, f"{name}_readable": ~col("blank")}]
    if dtype.is_float():
        raw = nw.when(raw % 1 == 0).then(raw.cast(nw.Int64).cast(nw.String)).otherwise(nw.lit("not whole"))
    return _text_stages(raw, name, engine)


EPOCH = dt.datetime(1970, 1, 1)


def epoch_us(raw: nw.Expr, engine: object) -> nw.Expr | None:
    """Microseconds since 1970 of a datetime column's wall clock (of UTC, for aware values), by
    the direct route ``engine`` offers; ``None`` where only date-part arithmetic gives it (Spark,
    whose casts drop the microseconds). Both routes give the same number: tests compare them."""
    if engine is nw.Implementation.POLARS:
        return raw.dt.timestamp("us")
    if engine is nw.Implementation.DUCKDB:  # aware values cast in the session's zone: UTC
        return (raw.cast(nw.Datetime("us")) - EPOCH).dt.total_microseconds()
    return None


def _namer(name: str):
    return lambda part: nw.col(f"{name}_{part}")


def _microseconds(year, month, day, hour, minute, second, micro) -> nw.Expr:
    return (days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second) * US + micro


def _text_stages(raw: nw.Expr, name: str, engine: object) -> Stages:
    """Text cells -> parts found by position: once ``_ISO`` has vouched for a cell's shape, each
    part sits at a known place (the date at 0-10, the clock at 11-19, the offset at the end),
    so slicing replaces the regular expressions that would otherwise cut the text up."""
    col = _namer(name)
    t = col("t")
    stages: Stages = [{f"{name}_t": strip(raw.cast(nw.String), engine).fill_null("")}]
    direct = engine is nw.Implementation.DUCKDB
    if direct:
        stages.append({f"{name}_plain": t.str.contains(_PLAIN)})

    def otherwise(stage: dict[str, nw.Expr]) -> dict[str, nw.Expr]:
        """DuckDB: the general rule's columns computed on the other cells only (a CASE evaluates
        its ELSE on the rows that reach it); a plain cell gets a null, which nothing reads."""
        if not direct:
            return stage
        return {k: nw.when(col("plain")).then(nw.lit(None)).otherwise(v) for k, v in stage.items()}

    stages.append(
        otherwise(
            {
                f"{name}_epoch": t.str.contains(_EPOCH_MS),
                f"{name}_basic": t.str.contains(r"^[0-9]{8}$"),
                f"{name}_iso": t.str.contains(_ISO),
            }
        )
    )
    stages.append(otherwise(_shape(t, col, name)))
    basic, time, zone = col("basic"), col("time"), col("zone")
    dated = basic | col("iso")
    fraction = nw.concat_str(t.str.slice(20, 6).str.replace_all(r"[^0-9].*$", ""), nw.lit("000000")).str.slice(0, 6)
    parts = {
        "year": _int(t.str.slice(0, 4), dated),
        "month": _int(nw.when(basic).then(t.str.slice(4, 2)).otherwise(t.str.slice(5, 2)), dated),
        "day": _int(nw.when(basic).then(t.str.slice(6, 2)).otherwise(t.str.slice(8, 2)), dated),
        "hour": _int(t.str.slice(11, 2), time).fill_null(0),
        "minute": _int(t.str.slice(14, 2), time).fill_null(0),
        "second": _int(t.str.slice(17, 2), col("seconds")).fill_null(0),
        "micro": _int(nw.when(col("fraction")).then(fraction).otherwise(nw.lit("0")), col("fraction")).fill_null(0),
        "sign": nw.when(zone.str.slice(0, 1) == "-").then(-1).otherwise(1),
        "off_h": _int(zone.str.slice(1, 2), col("offset")).fill_null(0),
        "off_m": _int(zone.str.slice(3, 2), col("offset")).fill_null(0),
        "epoch_ms": _int(nw.when(col("epoch")).then(t.str.replace_all(r"\.0+$", "")).otherwise(None), col("epoch")),
    }
    stages.append({**otherwise({f"{name}_{k}": v for k, v in parts.items()}), f"{name}_blank": t == ""})
    year, month, day = col("year"), col("month"), col("day")
    valid = (
        (month >= 1) & (month <= 12) & (day >= 1) & (day <= _days_in_month(year, month))
        & (col("hour") <= 23) & (col("minute") <= 59) & (col("second") <= 59)
        & (col("off_h") <= 18) & (col("off_m") <= 59)
    )  # fmt: skip
    stages.append(otherwise({f"{name}_valid": dated & valid.fill_null(False)}))
    wall = _microseconds(year, month, day, *(col(k) for k in ("hour", "minute", "second", "micro")))
    shift = col("sign") * (col("off_h") * 3_600 + col("off_m") * 60) * US
    value = (
        nw.when(col("epoch"))
        .then(col("epoch_ms") * 1_000)
        .otherwise(nw.when(col("valid")).then(wall - shift).otherwise(None))
    )
    last = {
        f"{name}_value": value,
        f"{name}_aware": col("epoch") | col("offset"),
        f"{name}_readable": col("epoch") | col("valid"),
    }
    if direct:
        last = _plain_cells(t, col("plain"), last)
    stages.append(last)
    return stages


def fast_cells(name: str, engine: object) -> nw.Expr | None:
    """Per cell of a text column parsed by :func:`parse_stages` (as ``{name}_...``): whether it
    is blank or in the shape the engine parses itself (DuckDB: ``_PLAIN``, polars: ``_FAST``);
    ``None`` on engines without a fast route (Spark)."""
    if engine is nw.Implementation.DUCKDB:
        shape = nw.col(f"{name}_plain")
    elif engine is nw.Implementation.POLARS:
        shape = nw.col(f"{name}_t").str.contains(_FAST)
    else:
        return None
    return nw.col(f"{name}_blank") | shape


def fast_stages(raw: nw.Expr, name: str, engine: object) -> Stages:
    """:func:`parse_stages` for a text column whose every cell is blank or in the shape the
    engine parses itself (:func:`fast_cells`, counted by the checking pass): the engine's own
    parser, the same columns and values, none of the general rule's work. Tests compare the
    two routes. On DuckDB a cell of another shape is not parsed (a null value, never an error):
    the checking pass may take this route on trust, then counts such cells and runs again."""
    t = nw.col(f"{name}_t")
    blank = t == ""
    stages: Stages = [{f"{name}_t": strip(raw.cast(nw.String), engine).fill_null("")}]
    if engine is nw.Implementation.DUCKDB:
        stages.append({f"{name}_plain": t.str.contains(_PLAIN)})
        cell = nw.when(nw.col(f"{name}_plain")).then(t).otherwise(nw.lit(None))
        value, aware = epoch_us(cell.cast(nw.Datetime("us", "UTC")), engine), _offset(t)
    else:
        cell = nw.when(blank).then(nw.lit(None)).otherwise(t)
        value, aware = cell.str.to_datetime(FAST_FORMAT).dt.timestamp("us"), ~blank
    stages.append({f"{name}_blank": blank, f"{name}_value": value, f"{name}_aware": aware, f"{name}_readable": ~blank})
    return stages


def _offset(t: nw.Expr) -> nw.Expr:
    """Whether a ``_PLAIN`` cell ends with an offset: ``Z``, or a sign followed by nothing but
    digits and colons (``+hh:mm``, ``+hhmm``, ``+hh``). The date's hyphens never qualify: a
    ``T`` or a space follows their digits. One regular expression: slicing the text from its
    end three times cost DuckDB more than casting the cell."""
    return t.str.contains(r"[Z+-][0-9:]*$")


def _plain_cells(t: nw.Expr, plain: nw.Expr, general: dict[str, nw.Expr]) -> dict[str, nw.Expr]:
    """DuckDB's own cast for ``_PLAIN`` cells, the general rule for the rest.

    On those cells the cast gives the rule's number (an offset makes it that instant; without one,
    the session zone, UTC, makes it the wall clock's microseconds), many times faster than taking
    the text apart; ``_PLAIN`` admits only what both read alike, and tests compare the two routes.
    """
    value, aware, readable = general.values()
    cast = epoch_us(t.cast(nw.Datetime("us", "UTC")), nw.Implementation.DUCKDB)
    names = list(general)
    return {
        names[0]: nw.when(plain).then(cast).otherwise(value),
        names[1]: nw.when(plain).then(_offset(t)).otherwise(aware),
        names[2]: plain | readable,
    }


def _shape(t: nw.Expr, col, name: str) -> dict[str, nw.Expr]:
    """Where an ISO cell's clock and offset are: a clock from position 11 when the text is long
    enough, seconds when position 16 is a colon, a fraction when position 19 is a point or a
    comma; the offset, read from the end, as ``+hhmm`` (``+0000`` for Z or none).

    ``_ISO`` allows four endings after the clock: ``Z``, ``+hh:mm``, ``+hhmm`` and ``+hh``. A sign
    6, 5 or 3 characters from the end tells which (a clock's digits, colons, point and spaces are
    never signs, and a cell without a clock has no offset)."""
    time = col("iso") & (t.str.len_chars() >= 16)
    six, five, three = (t.str.tail(n).str.slice(0, 1).is_in(["+", "-"]) for n in (6, 5, 3))
    zone = (
        nw.when(six)
        .then(nw.concat_str(t.str.tail(6).str.slice(0, 3), t.str.tail(2)))
        .otherwise(
            nw.when(five)
            .then(t.str.tail(5))
            .otherwise(nw.when(three).then(nw.concat_str(t.str.tail(3), nw.lit("00"))).otherwise(nw.lit("+0000")))
        )
    )
    seconds = time & (t.str.slice(16, 1) == ":")
    return {
        f"{name}_time": time,
        f"{name}_seconds": seconds,
        f"{name}_fraction": seconds & t.str.slice(19, 1).is_in([".", ","]),
        f"{name}_offset": nw.when(time).then(six | five | three | t.str.tail(1).is_in(["Z", "z"])).otherwise(False),
        f"{name}_zone": nw.when(time).then(zone).otherwise(nw.lit("+0000")),
    }
