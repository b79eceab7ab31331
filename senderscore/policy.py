"""The scoring policy: breakpoints, bands, floors, switches. TOML in, documented defaults.

HubSpot does not publish its cut-offs; ours are public and versioned. The default
policy ``v1``:

- reply_points rises linearly from 0 at a 0 % reply rate to 35 at 7 %, then to 50 at
  13 %, and stays 50 above; 0 when the reply rate is undefined;
- bounce_points = max(0, 50 - 500 x bounce_rate): 50 at 0 %, 35 at 3 %, 0 at 10 %+;
- score = reply_points + bounce_points (0-100), rounded to 6 decimals to drop float noise;
- bands: Excellent >= 85, Good >= 70, Fair >= 50, Low below 50;
- a user row is eligible (official) with >= 100 ended enrollments, a sequence or
  user x sequence row with >= 101;
- ACCOUNT_REPLY does not count as a reply; the report time zone is UTC;
- intervals are 95 % Wilson intervals.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from .errors import InputError, PolicyError


def check_timezone(name: str) -> str:
    """Return ``name`` if it is an IANA time zone, else raise a helpful :class:`InputError`."""
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {name!r}; expected an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York'."
        ) from None
    return str(name)


Breakpoints = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Policy:
    """A versioned scoring policy. Every field can be set in a TOML file of the same keys.

    Attributes
    ----------
    name, version : str
        Printed on every report, so a number can be traced to the rules that made it.
    reply_points, bounce_points : tuple of (rate, points)
        Piecewise-linear curves; between breakpoints points are interpolated, outside them
        the nearest end's points apply.
    bands : tuple of (name, minimum score)
        From best to worst; a score falls in the first band whose minimum it reaches.
    min_ended_user, min_ended_sequence : int
        Ended enrollments needed for an official score per user, and per sequence or
        user x sequence.
    count_account_reply : bool
        Count ACCOUNT_REPLY unenrollments (a colleague of the contact replied) as replies.
    timezone : str
        IANA zone for calendar dates and for timestamps written without an offset.
    confidence : float
        Level of the Wilson intervals.
    reply_good, bounce_good_max : tuple of float, float
        The "good" zones shown on charts and used by recommendations.
    """

    name: str = "senderscore default"
    version: str = "v1"
    reply_points: Breakpoints = ((0.0, 0.0), (0.07, 35.0), (0.13, 50.0))
    bounce_points: Breakpoints = ((0.0, 50.0), (0.10, 0.0))
    bands: tuple[tuple[str, float], ...] = (("Excellent", 85.0), ("Good", 70.0), ("Fair", 50.0), ("Low", 0.0))
    min_ended_user: int = 100
    min_ended_sequence: int = 101
    count_account_reply: bool = False
    timezone: str = "UTC"
    confidence: float = 0.95
    reply_good: tuple[float, float] = (0.07, 0.13)
    bounce_good_max: float = 0.03
    source: str = field(default="built-in", compare=False)

    def __post_init__(self) -> None:
        for name in ("name", "version", "timezone"):
            if not isinstance(getattr(self, name), str):
                raise PolicyError(f'{name} {getattr(self, name)!r}: expected text in quotes, e.g. {name} = "...".')
        if not isinstance(self.count_account_reply, bool):
            raise PolicyError(
                f"count_account_reply {self.count_account_reply!r}: expected true or false (a TOML boolean, no quotes)."
            )
        for name in ("reply_points", "bounce_points"):
            _check_breakpoints(name, getattr(self, name))
        top = max(y for _, y in self.reply_points) + max(y for _, y in self.bounce_points)
        if top > 100:
            raise PolicyError(f"reply_points and bounce_points can add up to {top:g}; a score must stay within 0-100.")
        scores = [b[1] for b in self.bands]
        if (
            not self.bands
            or not all(isinstance(n, str) and n.strip() for n, _ in self.bands)
            or not all(_finite(m) and 0 <= m <= 100 for m in scores)
            or scores != sorted(scores, reverse=True)
            or len(set(scores)) != len(scores)
        ):
            raise PolicyError(
                f"bands {self.bands!r}: expected named bands with distinct minimum scores between 0 and 100, "
                "e.g. Excellent = 85.0, Good = 70.0, Fair = 50.0, Low = 0.0."
            )
        if not (_finite(self.confidence) and 0 < self.confidence < 1):
            raise PolicyError(f"confidence {self.confidence!r} must be between 0 and 1, e.g. 0.95.")
        for name in ("min_ended_user", "min_ended_sequence"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PolicyError(f"{name} {value!r} must be a whole number >= 1, e.g. 100.")
        low, high = self.reply_good
        if not (_finite(low) and _finite(high) and 0 <= low < high <= 1):
            raise PolicyError(f"reply_good {self.reply_good!r}: expected [low, high] with 0 <= low < high <= 1.")
        if not (_finite(self.bounce_good_max) and 0 <= self.bounce_good_max <= 1):
            raise PolicyError(f"bounce_good_max {self.bounce_good_max!r}: expected a rate between 0 and 1, e.g. 0.03.")
        try:
            check_timezone(self.timezone)
        except InputError as exc:
            raise PolicyError(f"timezone: {exc}") from None

    # -- scoring ---------------------------------------------------------------------------
    def reply_points_for(self, rate: np.ndarray) -> np.ndarray:
        """Points for reply rates (fractions); NaN (undefined rate) earns 0."""
        return _curve(self.reply_points, rate)

    def bounce_points_for(self, rate: np.ndarray) -> np.ndarray:
        """Points for bounce rates (fractions); NaN earns 0."""
        return _curve(self.bounce_points, rate)

    def band_for(self, score: np.ndarray) -> np.ndarray:
        """Band name of each score (the first band whose minimum the score reaches)."""
        score = np.asarray(score, dtype=float)
        out = np.full(score.shape, self.bands[-1][0], dtype=object)
        for name, minimum in reversed(self.bands):
            out[score >= minimum] = name
        return out

    @property
    def reply_good_text(self) -> str:
        """The good reply range in words: ``'7-13 %'``."""
        low, high = self.reply_good
        return f"{low * 100:g}-{high * 100:g} %"

    @property
    def bounce_good_text(self) -> str:
        """The good bounce rate in words: ``'under 3 %'``."""
        return f"under {self.bounce_good_max * 100:g} %"

    @property
    def band_names(self) -> list[str]:
        return [b[0] for b in self.bands]

    # -- input / output --------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | Path) -> Policy:
        """Load a policy from a TOML file; keys not given keep their default."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PolicyError(f"{path}: no such policy file.") from None
        except IsADirectoryError:
            raise PolicyError(f"{path}: is a folder; pass the policy .toml file inside it.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path}: cannot read the policy ({exc}); save it as UTF-8 text.") from None
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{path}: not valid TOML ({exc}).") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict, source: str = "dict") -> Policy:
        known = {f.name for f in fields(cls)} - {"source"}
        unknown = sorted(set(data) - known)
        if unknown:
            hints = [
                f"{k!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, known, 1)) else repr(k)
                for k in unknown
            ]
            raise PolicyError(
                f"{source}: unknown policy key(s) {', '.join(hints)}; known keys: {', '.join(sorted(known))}."
            )
        kwargs = dict(data)
        try:
            for key in ("reply_points", "bounce_points"):
                if key in kwargs:
                    kwargs[key] = tuple((float(x), float(y)) for x, y in kwargs[key])
            if "bands" in kwargs:
                bands = kwargs["bands"]
                pairs = bands.items() if isinstance(bands, dict) else bands
                kwargs["bands"] = tuple(sorted(((str(n), float(s)) for n, s in pairs), key=lambda b: -b[1]))
            if "reply_good" in kwargs:
                low, high = kwargs["reply_good"]
                kwargs["reply_good"] = (float(low), float(high))
            for key in ("confidence", "bounce_good_max"):
                if key in kwargs and not isinstance(kwargs[key], bool):
                    kwargs[key] = float(kwargs[key])
            for key in ("min_ended_user", "min_ended_sequence"):  # 100.0 is a whole number; 1.5 is not
                if isinstance(kwargs.get(key), float) and kwargs[key].is_integer():
                    kwargs[key] = int(kwargs[key])
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"{source}: malformed value ({exc}); see `senderscore policy` for the format.") from None
        return cls(**kwargs, source=source)

    def to_toml(self) -> str:
        """The policy as TOML text that :meth:`from_toml` reads back unchanged."""
        lines = ["# senderscore scoring policy: edit, then pass it with --policy FILE"]
        for key, value in asdict(self).items():
            if key in ("source", "bands"):
                continue
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("\n[bands]")
        lines += [f"{_toml_value(name)} = {minimum!r}" for name, minimum in self.bands]
        return "\n".join(lines) + "\n"

    def describe(self) -> str:
        """One paragraph in words, printed by reports."""
        bands = ", ".join(f"{n} >= {s:g}" for n, s in self.bands[:-1]) + f", {self.bands[-1][0]} below"
        reply = "; ".join(f"{p:g} pts at {r:.0%}" for r, p in self.reply_points)
        bounce = "; ".join(f"{p:g} pts at {r:.0%}" for r, p in self.bounce_points)
        return (
            f"Policy {self.name} {self.version} ({self.source}): reply points {reply} (linear between); "
            f"bounce points {bounce} (linear between); bands {bands}. Official score from "
            f"{self.min_ended_user} ended enrollments per user, {self.min_ended_sequence} per sequence. "
            f"ACCOUNT_REPLY counts as reply: {'yes' if self.count_account_reply else 'no'}. "
            f"Time zone {self.timezone}; {self.confidence:.0%} Wilson intervals."
        )


def _curve(points: Breakpoints, rate: np.ndarray) -> np.ndarray:
    rate = np.asarray(rate, dtype=float)
    xs, ys = zip(*points)
    out = np.interp(np.nan_to_num(rate, nan=0.0), xs, ys)
    return np.where(np.isnan(rate), 0.0, out)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_breakpoints(name: str, points: Breakpoints) -> None:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    if (
        len(points) < 2
        or not all(_finite(v) for v in (*xs, *ys))
        or xs != sorted(xs)
        or len(set(xs)) != len(xs)
        or not all(0 <= x <= 1 for x in xs)
        or not all(0 <= y <= 100 for y in ys)
    ):
        raise PolicyError(
            f"{name} {points!r}: expected at least two [rate, points] pairs with rates rising "
            "from 0 to 1 and points between 0 and 100, e.g. [[0.0, 0.0], [0.07, 35.0], [0.13, 50.0]]."
        )


def _toml_string(text: str) -> str:
    """A TOML basic string: backslash, quote and every control character (DEL too) escaped."""
    escaped = "".join(
        f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else "\\" + c if c in '"\\' else c for c in text
    )
    return f'"{escaped}"'


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


DEFAULT_POLICY = Policy()
"""The published default policy, v1."""


def load_policy(policy: Policy | str | Path | None) -> Policy:
    """Accept a Policy, a TOML path or None (the default policy)."""
    if policy is None:
        return DEFAULT_POLICY
    if isinstance(policy, Policy):
        return policy
    return Policy.from_toml(policy)
