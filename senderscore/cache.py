"""A cache of checked exports: a file's daily cube and load report, so that the second question
about the same export reads none of its rows (``score``; the report and the explorer reuse the
cube and still read the rows for their findings).

An entry is keyed by the file's identity (its resolved path, size, modification time and a hash
of its bytes: all of them up to 64 MB, else the first and last MB and 16 blocks between) and by
what shapes the cube (the report time zone, the date field, the engine, this format's version).
A changed file (touched, truncated, rewritten at the same size) gets another key and is read
again. Only clean loads are kept (no rejected rows): a rejects file is always written from the
rows. Entries live in ``$SENDERSCORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/senderscore``, else
``~/.cache/senderscore``; the 32 most recent are kept; ``senderscore cache clear`` empties it.
A cache that cannot be read or written is skipped with a warning, never a failed run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .cube import Cube
from .load import LoadReport
from .paths import cache_dir

FORMAT = 1
WHOLE = 64 << 20  # files up to this size are hashed whole
EDGE = 1 << 20
BLOCK = 1 << 16
SAMPLES = 16
KEEP = 32
REPORT_FIELDS = ("source", "rows_read", "rows_used", "rows_rejected", "duplicates_collapsed", "columns",
                 "ignored_columns", "where", "engine", "problem_counts")  # fmt: skip


def fingerprint(path: Path) -> str:
    """A digest of the file's identity: path, size, modification time and (sampled) bytes."""
    stat = path.stat()
    digest = hashlib.blake2b(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode(), digest_size=20)
    with path.open("rb") as stream:
        if stat.st_size <= WHOLE:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
        else:
            step = (stat.st_size - 2 * EDGE) // (SAMPLES + 1)
            places = [(0, EDGE), *((EDGE + step * (i + 1), BLOCK) for i in range(SAMPLES)), (stat.st_size - EDGE, EDGE)]
            for offset, size in places:
                stream.seek(offset)
                digest.update(stream.read(size))
    return digest.hexdigest()


@dataclass(frozen=True)
class Key:
    """What an entry answers for: a file (its fingerprint) read in a zone, by a date field, on an
    engine, in a text encoding."""

    file: str
    zone: str
    date_field: str
    engine: str
    encoding: str = "utf-8"

    @classmethod
    def of(cls, path: Path, *, zone: str, date_field: str, engine: str, encoding: str = "utf-8") -> Key:
        return cls(fingerprint(path), zone, date_field, engine, encoding)

    @property
    def name(self) -> str:
        text = json.dumps([FORMAT, self.file, self.zone, self.date_field, self.engine, self.encoding])
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def remembered(
    path: Path,
    *,
    zone: str,
    date_field: str,
    engine: str,
    encoding: str = "utf-8",
    build: Callable[[], tuple[LoadReport, Cube]],
    use: bool = True,
) -> tuple[LoadReport, Cube, bool]:
    """``path``'s load report and daily cube from the cache, else ``build()``'s, kept for next
    time; the flag says whether they came from the cache. Without ``use``, or for a source
    that is not a file, ``build()`` answers and nothing is kept."""
    if not use or not path.is_file():
        return (*build(), False)
    key = Key.of(path, zone=zone, date_field=date_field, engine=engine, encoding=encoding)
    hit = load(key)
    if hit is not None:
        return hit[0], hit[1], True
    report, cube = build()
    store(key, report, cube)
    return report, cube, False


def holds(path: Path, *, zone: str, date_field: str, engine: str, encoding: str = "utf-8") -> bool:
    """Whether :func:`remembered` would answer from the cache (an entry for ``path`` as it is now)."""
    if not path.is_file():
        return False
    key = Key.of(path, zone=zone, date_field=date_field, engine=engine, encoding=encoding)
    return (cache_dir() / key.name / "entry.json").is_file()


def load(key: Key) -> tuple[LoadReport, Cube] | None:
    """The cached report and cube for ``key``, or None."""
    folder = cache_dir() / key.name
    try:
        meta = json.loads((folder / "entry.json").read_text(encoding="utf-8"))
        tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in ("counts", "users", "sequences")}
    except (OSError, ValueError):
        return None  # absent, or half written by a run that died: read the file instead
    os.utime(folder)  # most recently used
    report = LoadReport(**meta["report"])
    return report, Cube(tables["counts"], tables["users"], tables["sequences"], key.date_field, key.zone)


def store(key: Key, report: LoadReport, cube: Cube) -> None:
    """Keep ``report`` and ``cube`` under ``key`` (clean loads only); written whole or not at all."""
    if report.rows_rejected:
        return
    root, work = cache_dir(), None
    try:
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".writing-", dir=root))
        for name in ("counts", "users", "sequences"):
            getattr(cube, name).to_parquet(work / f"{name}.parquet", index=False)
        meta = {"format": FORMAT, "report": {f: getattr(report, f) for f in REPORT_FIELDS}}
        (work / "entry.json").write_text(json.dumps(meta), encoding="utf-8")
        target = root / key.name
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)
        _prune(root)
    except OSError as exc:  # a full disk or a read-only home: the run goes on without it
        print(f"senderscore: warning: cache not written ({exc.strerror or exc}); use --no-cache", file=sys.stderr)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def kept_text(name: str, make: Callable[[], str]) -> str:
    """A text that only changes with the versions ``name`` spells out (the explorer's Vega
    bundle), made once per machine and read from the cache folder after that."""
    path = cache_dir() / "texts" / name
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    text = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as stream:
            stream.write(text)
        Path(stream.name).replace(path)
    except OSError:  # no cache folder: made again next time
        pass
    return text


def _prune(root: Path) -> None:
    entries = [p for p in root.iterdir() if p.is_dir() and p.name != "texts"]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def clear() -> int:
    """Remove every entry; returns how many there were."""
    root = cache_dir()
    if not root.is_dir():
        return 0
    entries = [p for p in root.iterdir() if p.is_dir()]
    for entry in entries:
        shutil.rmtree(entry, ignore_errors=True)
    return len(entries)
