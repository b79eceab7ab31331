"""senderscore: sender scores of sales sequences, with the formula in the open."""

__version__ = "0.1.0"

from . import _imports  # noqa: F401  (first: keeps a slow optional import out, see its docstring)
from .cube import Cube, build_cube, cube_of
from .errors import InputError, PolicyError, SenderScoreError
from .load import LoadReport, load_enrollments, open_dataset
from .policy import DEFAULT_POLICY, Policy
from .sample import generate_sample, write_sample
from .scores import score_table, sender_scores, wilson_interval

__all__ = [
    "DEFAULT_POLICY",
    "Cube",
    "InputError",
    "LoadReport",
    "Policy",
    "PolicyError",
    "SenderScoreError",
    "build_cube",
    "cube_of",
    "generate_sample",
    "load_enrollments",
    "open_dataset",
    "score_table",
    "sender_scores",
    "wilson_interval",
    "write_sample",
]
