"""Alert rules as plain data (pure): what a rule watches, when it opens and resolves.

A rule's scope is a tuple of entity globs (``market``, ``kind:news``, ``ticker:*``,
``ticker:NVDA``); ``sentimon.alerts.rulefile`` turns the TOML shorthand into them.
Thresholds mean different things per kind:

=================  ======================================  =============================
kind               ``threshold`` (opens at)                ``resolve`` (clears below)
=================  ======================================  =============================
sentiment_drop     z-score <= -threshold                   z > -resolve
sentiment_rise     z-score >= threshold                    z < resolve
negative_share     negative share >= threshold             share < resolve
volume_spike       posts >= threshold x baseline rate      posts < resolve x rate
=================  ======================================  =============================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from sentimon.keys import MARKET

KINDS = ("sentiment_drop", "sentiment_rise", "negative_share", "volume_spike")
SEVERITIES = ("info", "warning", "critical")
BASELINE_KINDS = frozenset({"sentiment_drop", "sentiment_rise", "volume_spike"})


@dataclass(frozen=True)
class Rule:
    """One validated alert rule (durations in seconds)."""

    name: str
    kind: str
    scope: tuple[str, ...]
    window_s: int
    threshold: float
    resolve: float
    severity: str = "warning"
    min_count: int = 5
    cooldown_s: int = 900
    repeat_s: int = 3600
    resolve_after_s: int = 0
    send_resolved: bool = True
    warmup: int = 4
    alpha: float = 0.2
    #: closed windows the baseline looks back over
    history: int = 16
    min_posts: int = 2
    min_stderr: float = 0.1
    min_rate: float = 1.0
    description: str = ""
    line: int = 0

    @property
    def uses_baseline(self) -> bool:
        return self.kind in BASELINE_KINDS

    @property
    def warmup_windows(self) -> int:
        return min(self.warmup, self.history)

    def matches(self, entity: str) -> bool:
        return any(fnmatchcase(entity, pattern) for pattern in self.scope)


@dataclass(frozen=True)
class RuleSet:
    """The rules of one file plus file-wide options."""

    rules: tuple[Rule, ...] = ()
    #: A firing ``market`` alert mutes ``ticker:*`` alerts of the same kind.
    inhibit: bool = False
    source: str = "<memory>"
    _cache: dict[str, tuple[Rule, ...]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = [rule.name for rule in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("rule names must be unique")

    def __len__(self) -> int:
        return len(self.rules)

    def by_name(self, name: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.name == name), None)

    def for_entity(self, entity: str) -> tuple[Rule, ...]:
        """Rules whose scope covers ``entity`` (memoised: entities recur every batch)."""
        found = self._cache.get(entity)
        if found is None:
            found = tuple(rule for rule in self.rules if rule.matches(entity))
            if len(self._cache) < 100_000:
                self._cache[entity] = found
        return found

    def baseline_windows(self, entity: str) -> dict[int, int]:
        """Window length -> longest history of the baseline rules covering ``entity``."""
        out: dict[int, int] = {}
        for rule in self.for_entity(entity):
            if rule.uses_baseline:
                out[rule.window_s] = max(out.get(rule.window_s, 0), rule.history)
        return out


def entity_order(entity: str) -> tuple[int, str]:
    """Evaluation order: market first, then source kinds, then tickers (for inhibition)."""
    if entity == MARKET:
        return (0, entity)
    return (1 if entity.startswith("kind:") else 2, entity)
