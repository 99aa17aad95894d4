"""Durations in rule files and on the command line: ``90s``, ``15m``, ``2h``, ``1d``, ``1h30m``."""

from __future__ import annotations

import re

from sentimon.errors import ConfigError

_PART_RE = re.compile(r"(\d+)\s*([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> int:
    """Seconds of a duration string (or a whole number of seconds); 0 is allowed."""
    if isinstance(value, bool):
        raise ConfigError(f"expected a duration like 15m, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"a duration cannot be negative, got {value}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"expected a duration like 15m, got {value!r}")
    text = value.strip().lower()
    if not text or _PART_RE.sub("", text).strip():
        raise ConfigError(f"expected a duration like 90s, 15m, 2h or 1h30m, got {value!r}")
    return sum(int(n) * _UNIT[unit] for n, unit in _PART_RE.findall(text))


def format_duration(seconds: int) -> str:
    """``5400`` -> ``1h30m``."""
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
