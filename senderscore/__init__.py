"""senderscore: sender scores of sales sequences, with the formula in the open.

The public names below load with their module on first use, so that ``import senderscore``
stays cheap: ``senderscore report`` starts its kernel before pandas loads (see kernel.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _imports  # noqa: F401  (first: keeps a slow optional import out, see its docstring)

__version__ = "0.1.0"

_HOMES = {
    "cube": ("Cube", "build_cube", "cube_of", "cube_riders"),
    "errors": ("InputError", "PolicyError", "SenderScoreError"),
    "load": ("LoadReport", "load_enrollments", "open_dataset"),
    "policy": ("DEFAULT_POLICY", "Policy"),
    "sample": ("generate_sample", "write_sample"),
    "scores": ("score_table", "sender_scores", "wilson_interval"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [  # the names of _HOMES, spelled out for tools that read them without running this
    "DEFAULT_POLICY",
    "Cube",
    "InputError",
    "LoadReport",
    "Policy",
    "PolicyError",
    "SenderScoreError",
    "build_cube",
    "cube_of",
    "cube_riders",
    "generate_sample",
    "load_enrollments",
    "open_dataset",
    "score_table",
    "sender_scores",
    "wilson_interval",
    "write_sample",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    else:  # a submodule (``senderscore.cube``), as when the names above were loaded eagerly
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError:
            raise AttributeError(f"module 'senderscore' has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


if TYPE_CHECKING:
    from .cube import Cube, build_cube, cube_of, cube_riders
    from .errors import InputError, PolicyError, SenderScoreError
    from .load import LoadReport, load_enrollments, open_dataset
    from .policy import DEFAULT_POLICY, Policy
    from .sample import generate_sample, write_sample
    from .scores import score_table, sender_scores, wilson_interval
