"""Silences (pure): label matchers that mute matching alerts until they expire.

A matcher is ``label=value`` or ``label!=value``; values may be globs (``ticker=BRK.*``).
Several matchers, comma-separated or given as several ``--match`` options, must all hold.
Labels of an alert:

- ``rule``: the rule name; ``kind``: the alert kind (``sentiment_drop``, ...);
- ``severity``; ``entity`` (``ticker:TSLA``, ``sector:Energy``, ``kind:news``, ``market``);
- ``ticker`` (``TSLA``; empty unless a ticker alert); ``sector`` (``Energy``; empty unless
  a sector alert); ``source`` (``news``/``social`` for source-kind alerts; empty
  otherwise); ``scope`` (``ticker``, ``sector``, ``kind``, ``market``).

Silences expire in wall-clock time (an operator's "for 2h"), unlike alert evaluation,
which runs in event time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from sentimon.errors import ConfigError

LABELS = ("rule", "kind", "severity", "entity", "ticker", "sector", "source", "scope")
_MATCHER_RE = re.compile(r"^\s*([a-z]+)\s*(!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # "=" or "!="
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        hit = fnmatchcase(labels.get(self.label, ""), self.value)
        return hit if self.op == "=" else not hit

    def __str__(self) -> str:
        return f"{self.label}{self.op}{self.value}"


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    """``["ticker=TSLA,severity!=info"]`` -> matchers; ConfigError on a bad one."""
    out: list[Matcher] = []
    for text in texts:
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = _MATCHER_RE.match(part)
            if not match or match.group(1) not in LABELS or not match.group(3):
                raise ConfigError(
                    f"--match {part!r}: use label=value or label!=value with a label from "
                    f"{', '.join(LABELS)} (e.g. ticker=TSLA)"
                )
            label, op, value = match.groups()
            out.append(Matcher(label, op, value.upper() if label == "ticker" else value))
    if not out:
        raise ConfigError("a silence needs at least one --match label=value")
    return tuple(out)


def alert_labels(rule: str, kind: str, severity: str, entity: str) -> dict[str, str]:
    scope, _, value = entity.partition(":")
    return {
        "rule": rule,
        "kind": kind,
        "severity": severity,
        "entity": entity,
        "scope": scope,
        "ticker": value if scope == "ticker" else "",
        "sector": value if scope == "sector" else "",
        "source": value if scope == "kind" else "",
    }


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    created_ms: int
    expires_ms: int
    reason: str = ""
    by: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def new(
        cls, matchers: tuple[Matcher, ...], now_ms: int, for_s: int, reason: str, by: str = ""
    ) -> Silence:
        if for_s <= 0:
            raise ConfigError("--for must be a positive duration, like 30m or 2h")
        return cls(uuid.uuid4().hex[:12], matchers, now_ms, now_ms + for_s * 1000, reason, by)

    def active(self, now_ms: int) -> bool:
        return self.created_ms <= now_ms < self.expires_ms

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["matchers"] = [str(m) for m in self.matchers]
        data.pop("extra")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Silence:
        return cls(
            id=str(data["id"]),
            matchers=parse_matchers(data.get("matchers", [])),
            created_ms=int(data["created_ms"]),
            expires_ms=int(data["expires_ms"]),
            reason=str(data.get("reason", "")),
            by=str(data.get("by", "")),
        )


def muting_silence(
    silences: Iterable[Silence], labels: Mapping[str, str], now_ms: int
) -> Silence | None:
    """The first active silence matching ``labels``, if any."""
    return next((s for s in silences if s.active(now_ms) and s.matches(labels)), None)
