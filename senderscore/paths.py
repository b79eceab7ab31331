"""All paths from one place: the project folders, the bundled notebooks and template."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent  # the checkout, when there is one
DATA = ROOT / "data"
SAMPLE = DATA / "sample_enrollments.csv"


def _notebooks() -> Path:
    """The notebooks folder: ``senderscore.notebooks`` in an installed package (the repo's
    ``notebooks/`` mapped into it, see pyproject.toml), else the checkout's ``notebooks/``."""
    try:
        report = Path(str(resources.files("senderscore.notebooks").joinpath("sender_score_report.ipynb")))
    except ModuleNotFoundError:  # running from a source tree that is not installed
        return ROOT / "notebooks"
    return report.parent if report.is_file() else ROOT / "notebooks"


NOTEBOOKS = _notebooks()
TEMPLATES = Path(str(resources.files("senderscore") / "templates"))
REPORT_NOTEBOOK = NOTEBOOKS / "sender_score_report.ipynb"
EXPLORE_NOTEBOOK = NOTEBOOKS / "explore.ipynb"


def cache_dir() -> Path:
    """Where senderscore keeps what it can make again (senderscore.cache; the sample outside a
    checkout): ``$SENDERSCORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/senderscore``, else
    ``~/.cache/senderscore``."""
    if os.environ.get("SENDERSCORE_CACHE_DIR"):
        return Path(os.environ["SENDERSCORE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "senderscore"


def sample_data() -> Path:
    """The checked-in sample; outside a source checkout, a generated copy in the user's cache."""
    if SAMPLE.exists():
        return SAMPLE
    from .sample import write_sample

    cache = cache_dir() / SAMPLE.name
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_sample(cache)
    return cache


def resolve_input(path: str | Path | None) -> Path:
    """An input path as given, or the sample data when it is blank."""
    if path is None or not str(path).strip():
        return sample_data()
    return Path(path).expanduser()
