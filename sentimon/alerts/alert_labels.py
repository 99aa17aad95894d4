"""Alert labels and label matchers (pure), with Alertmanager's matcher semantics.

Every alert carries built-in labels (``BUILTIN``): ``alertname`` (the rule name),
``severity``, ``kind`` (the rule kind), ``entity``, ``scope`` (``ticker``, ``sector``,
``kind``, ``market``), ``ticker`` / ``sector`` / ``source`` where the entity is one,
``namespace`` and ``model``; the rule's own ``[rule.labels]`` are added to them (they may
not redefine a built-in one). Routes and inhibition rules select alerts by these labels.

A matcher is ``name OP value`` with ``OP`` one of ``=``, ``!=``, ``=~`` (regex), ``!~``;
the value may be double-quoted. Regexes are anchored (they must match the whole value,
as in Alertmanager) and a label the alert lacks reads as the empty string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sentimon.errors import ConfigError

if TYPE_CHECKING:
    from sentimon.alerts.rules import Rule

BUILTIN = (
    "alertname",
    "severity",
    "kind",
    "entity",
    "scope",
    "ticker",
    "sector",
    "source",
    "namespace",
    "model",
)
LABEL_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MATCHER_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


def builtin_labels(
    rule: str, kind: str, severity: str, entity: str, *, namespace: str, model: str | None
) -> dict[str, str]:
    """The labels every alert of ``rule`` on ``entity`` has (empty ones left out)."""
    scope, _, value = entity.partition(":")
    labels = {
        "alertname": rule,
        "severity": severity,
        "kind": kind,
        "entity": entity,
        "scope": scope,
        "namespace": namespace,
        "model": model or "",
    }
    named = {"ticker": "ticker", "sector": "sector", "kind": "source"}.get(scope)
    if named and value:
        labels[named] = value
    return {k: v for k, v in labels.items() if v}


def rule_alert_labels(
    rule: Rule, entity: str, *, namespace: str, model: str | None
) -> dict[str, str]:
    """Every label of ``rule``'s alert on ``entity``: the built-in ones and the rule's."""
    labels = builtin_labels(
        rule.name, rule.kind, rule.severity, entity, namespace=namespace, model=model
    )
    return labels | dict(rule.labels)


@dataclass(frozen=True)
class LabelMatcher:
    """One ``name OP value`` test on an alert's labels."""

    name: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~"):
            object.__setattr__(self, "_regex", re.compile(f"(?:{self.value})\\Z"))

    def matches(self, labels: Mapping[str, str]) -> bool:
        found = labels.get(self.name, "")
        if self.op == "=":
            return found == self.value
        if self.op == "!=":
            return found != self.value
        hit = self._pattern().match(found) is not None
        return hit if self.op == "=~" else not hit

    def _pattern(self) -> re.Pattern[str]:
        pattern: re.Pattern[str] = getattr(self, "_regex")  # noqa: B009 (set in __post_init__)
        return pattern

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def parse_matcher(text: str) -> LabelMatcher:
    """``'team =~ "rates|fx"'`` -> a matcher; ConfigError (what to write) on a bad one."""
    found = _MATCHER_RE.match(text) if isinstance(text, str) else None
    if found is None:
        raise ConfigError(
            f"bad matcher {text!r}: use 'label = value', '!=', '=~' (regex) or '!~',"
            ' e.g. "severity = critical" or "team =~ rates|fx"'
        )
    name, op, value = found.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    elif value[:1] in ("=", "~"):  # "a == b", "a =~~ b": quote a value that starts so
        raise ConfigError(f"bad matcher {text!r}: the operator is one of = != =~ !~")
    try:
        return LabelMatcher(name, op, value)
    except re.error as exc:
        raise ConfigError(f"bad matcher {text!r}: invalid regex ({exc})") from None


def parse_label_matchers(texts: Iterable[str]) -> tuple[LabelMatcher, ...]:
    return tuple(parse_matcher(text) for text in texts)


def match_all(matchers: Iterable[LabelMatcher], labels: Mapping[str, str]) -> bool:
    """Whether every matcher holds (no matchers: always)."""
    return all(m.matches(labels) for m in matchers)
