"""Writing results without destroying anything: never over an input, atomically, with a message.

Every output the CLI writes goes through :func:`write_text` or :func:`write_bytes`: ``-`` is standard output; a
special file (``/dev/null``, ``/dev/stdout``, a pipe) is written directly, never replaced;
a regular file is written to a temporary file beside it and renamed into place, so a failed
write leaves neither a half-written result nor a stray temporary file. A target that is one
of the run's inputs (also through a link) is refused before any work.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from .errors import InputError

STDOUT = "-"


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name the same file (links followed); False when either is missing."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(target: Path, *, inputs: Iterable[Path] = (), what: str = "output") -> None:
    """Refuse (:class:`InputError`) a target that is an input of the run, a folder, or in a
    place that cannot be written: checked before the work, not after it."""
    if str(target) == STDOUT or _is_special(target):
        return
    for source in inputs:
        if same_file(target, Path(source)):
            raise InputError(f"{target}: the {what} would overwrite the input {source}; choose another file name.")
    if target.is_dir():
        raise InputError(f"{target}: is a folder; give the {what} a file name (e.g. {target / 'scores.csv'}).")
    folder = _existing_parent(target)
    if not folder.is_dir():
        raise InputError(f"{target}: {folder} is a file, not a folder; choose another place for the {what}.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{target}: the folder {folder} is not writable; choose another place for the {what}.")


def write_text(target: Path | str, text: str, *, inputs: Iterable[Path] = (), what: str = "output") -> None:
    """Write ``text`` (UTF-8) to ``target`` (see the module docstring); filesystem errors become
    :class:`InputError` naming the path and the reason."""
    if str(target) == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_bytes(target, lambda stream: stream.write(text.encode("utf-8")), inputs=inputs, what=what)


def write_bytes(
    target: Path | str, writer: Callable[[BinaryIO], object], *, inputs: Iterable[Path] = (), what: str = "output"
) -> None:
    """Let ``writer`` write ``target`` through a binary stream: special files in place, regular
    files atomically (a temporary file beside it, then a rename), errors as :class:`InputError`."""
    target = Path(target)
    check_target(target, inputs=inputs, what=what)
    try:
        if _is_special(target):
            with target.open("wb") as stream:
                writer(stream)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic(target, writer)
    except OSError as exc:
        raise InputError(f"{target}: cannot write the {what} ({exc.strerror or exc}).") from None


def _atomic(target: Path, writer: Callable[[BinaryIO], object]) -> None:
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            writer(stream)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _is_special(target: Path) -> bool:
    """A character device, pipe or socket: written in place, never replaced by a regular file."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _existing_parent(target: Path) -> Path:
    folder = target.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def free_name(folder: Path, stem: str, suffix: str, *, inputs: Iterable[Path] = ()) -> Path:
    """``folder/stem+suffix``, or with ``suffix`` repeated until the name is not an input:
    a default output name never lands on a file the run reads."""
    sources = list(inputs)
    name = stem + suffix
    while any(same_file(folder / name, Path(s)) for s in sources):
        name = name.removesuffix(".csv") + suffix
    return folder / name
