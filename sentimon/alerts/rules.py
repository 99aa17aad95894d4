"""Alert rules as plain data (pure): what a rule watches, when it opens and resolves.

A rule's scope is a tuple of entity globs (``market``, ``kind:news``, ``ticker:*``,
``ticker:NVDA``, ``sector:*``, ``sector:Energy``); ``sentimon.alerts.rulefile`` turns the
TOML shorthand into them. Relevance-level entities (``ticker:AAPL@0.6``,
``sentimon.keys.relevance_entity``) are never a rule's subject, whatever its globs.

For ticker and sector entities a rule counts only the mentions with relevance >=
``min_relevance``: its window and its baseline are the entity's stats minus those of its
relevance levels below that (``excluded_levels``). Market and source-kind entities have
no relevance: every post counts.

A ``volume_spike`` or ``negative_share`` rule counts posts (``count = "posts"``) or the
stories begun (``count = "stories"``: a story counts once, by its first post,
``sentimon.stories``), so a wire story re-published by 40 outlets is one event, not 40.
Stories are counted per company, not per relevance level: a story-count rule counts every
story naming the company, whatever the relevance (``min_relevance`` does not apply), and
its baseline sums go under a series of their own (``series``: ``<entity>#stories``).

Thresholds mean different things per kind:

=================  ======================================  =============================
kind               ``threshold`` (opens at)                ``resolve`` (clears below)
=================  ======================================  =============================
sentiment_drop     z-score <= -threshold                   z > -resolve
sentiment_rise     z-score >= threshold                    z < resolve
negative_share     negative share >= threshold             share < resolve
volume_spike       posts >= threshold x baseline rate      posts < resolve x rate
                   (stories and story rate when counting stories)
model_drift        label or length PSI >= threshold, or    both PSIs < resolve and the
                   low-confidence share >= its threshold   share < its resolve
=================  ======================================  =============================

A ``model_drift`` rule has the one scope ``model`` and is evaluated by
``sentimon.alerts.drift_rule`` on the consumer's model-health window, never per entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache

from sentimon.alerts.inhibition import InhibitRule
from sentimon.alerts.routing import Routing
from sentimon.entities.relevance import RELEVANCE_LEVELS, levels_below
from sentimon.keys import MARKET, STORY_SERIES, is_relevance_entity

KINDS = ("sentiment_drop", "sentiment_rise", "negative_share", "volume_spike", "model_drift")
#: The kind that watches the model rather than an entity (``sentimon.alerts.drift_rule``),
#: and its one scope.
MODEL_DRIFT = "model_drift"
MODEL_SCOPE = "model"
SEVERITIES = ("info", "warning", "critical")
BASELINE_KINDS = frozenset({"sentiment_drop", "sentiment_rise", "volume_spike"})
#: What a rule counts (``count``), and the kinds that may count stories.
COUNTS = ("posts", "stories")
STORY_KINDS = frozenset({"negative_share", "volume_spike"})
#: Entities whose mentions have a relevance (``min_relevance`` applies to them).
RELEVANCE_SCOPES = ("ticker:", "sector:")
#: ``baseline``: the entity's recent windows only, or those blended with the same
#: time-of-day slot of past days (``sentimon.alerts.seasonal``).
BASELINES = ("ewma", "seasonal")
#: ``hours``: when a rule may open, by the exchange's regular sessions.
HOURS = ("any", "market", "closed")


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
    #: mentions of a ticker or sector below this relevance are left out (0: all count);
    #: the rules file defaults it to ``SENTIMON_MIN_RELEVANCE``
    min_relevance: float = 0.0
    #: "posts" or "stories" (``COUNTS``; stories only for ``STORY_KINDS``)
    count: str = "posts"
    #: model_drift: low-confidence share that opens / resolves (None: not watched); its
    #: ``threshold``/``resolve`` are the PSI's (inf: PSI not watched)
    low_confidence: float | None = None
    resolve_low_confidence: float | None = None
    #: "ewma" or "seasonal" (``BASELINES``); seasonal profiles use ``slot_s``-long
    #: exchange-local time-of-day slots over about ``seasonal_days`` days of each type
    baseline: str = "ewma"
    slot_s: int = 1800
    seasonal_days: int = 20
    #: exchange whose calendar ``baseline = "seasonal"`` and ``hours`` use (ISO 10383)
    exchange: str = "XNYS"
    #: "any", "market" (open only inside regular sessions) or "closed" (only outside)
    hours: str = "any"
    #: ``[rule.labels]`` / ``[rule.annotations]`` as sorted (name, value) pairs (routing,
    #: inhibition; carried in the payload) and ``for``: how long (event time) the opening
    #: condition must hold before the alert opens
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    for_s: int = 0

    def __post_init__(self) -> None:
        if self.baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {BASELINES}, got {self.baseline!r}")
        if self.hours not in HOURS:
            raise ValueError(f"hours must be one of {HOURS}, got {self.hours!r}")
        if self.count not in COUNTS:
            raise ValueError(f"count must be one of {COUNTS}, got {self.count!r}")
        if self.counts_stories and self.kind not in STORY_KINDS:
            raise ValueError(f"a {self.kind} rule cannot count stories")

    @property
    def uses_baseline(self) -> bool:
        return self.kind in BASELINE_KINDS

    @property
    def seasonal(self) -> bool:
        """Whether the rule's baseline blends in its time-of-day slot of past days."""
        return self.baseline == "seasonal" and self.uses_baseline

    @property
    def counts_stories(self) -> bool:
        """Whether the rule counts stories begun rather than posts."""
        return self.count == "stories"

    @property
    def warmup_windows(self) -> int:
        return min(self.warmup, self.history)

    def matches(self, entity: str) -> bool:
        """Whether ``entity`` is a subject of this rule (never a relevance level)."""
        return not is_relevance_entity(entity) and any(
            fnmatchcase(entity, pattern) for pattern in self.scope
        )

    def min_relevance_for(self, entity: str) -> float | None:
        """The minimum relevance this rule counts for ``entity``; None where mentions
        have no relevance (market, source kinds) or the rule counts stories (every story
        naming the company counts)."""
        return self.min_relevance if self._by_relevance(entity) else None

    def excluded_levels(self, entity: str) -> tuple[float, ...]:
        """The relevance levels of ``entity`` whose mentions this rule leaves out."""
        return levels_below(self.min_relevance) if self._by_relevance(entity) else ()

    def series(self, entity: str) -> str:
        """Where this rule's baseline sums of ``entity`` are kept: ``<entity>#stories``
        when it counts stories, else ``series_name`` of the levels it leaves out."""
        return _series(self.counts_stories, self.min_relevance, entity)

    def _by_relevance(self, entity: str) -> bool:
        return has_relevance(entity) and not self.counts_stories


@lru_cache(maxsize=65_536)
def _series(counts_stories: bool, min_relevance: float, entity: str) -> str:
    """``Rule.series``, memoised: it is asked for every (rule, entity) pair of a batch."""
    if counts_stories:
        return story_series(entity)
    excluded = levels_below(min_relevance) if has_relevance(entity) else ()
    return series_name(entity, excluded)


@dataclass(frozen=True)
class RuleSet:
    """The rules of one file plus file-wide options."""

    rules: tuple[Rule, ...] = ()
    #: A firing ``market`` alert mutes ``ticker:*`` alerts of the same kind.
    inhibit: bool = False
    source: str = "<memory>"
    #: ``[[inhibit_rule]]`` tables, plus the legacy ``inhibit = true`` as one
    inhibit_rules: tuple[InhibitRule, ...] = ()
    #: ``[route]`` and its receivers and mute timings; None: every notice to every sink
    routing: Routing | None = None
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

    def baseline_series(self, entity: str) -> dict[tuple[int, tuple[float, ...]], int]:
        """(window length, excluded relevance levels) -> longest history of the baseline
        rules counting posts that cover ``entity``: one series of baseline sums each."""
        out: dict[tuple[int, tuple[float, ...]], int] = {}
        for rule in self.for_entity(entity):
            if rule.uses_baseline and not rule.counts_stories:
                key = (rule.window_s, rule.excluded_levels(entity))
                out[key] = max(out.get(key, 0), rule.history)
        return out

    def story_windows(self, entity: str) -> tuple[int, ...]:
        """Window lengths of the baseline rules counting stories that cover ``entity``:
        one story series of baseline sums each."""
        found = {
            r.window_s for r in self.for_entity(entity) if r.uses_baseline and r.counts_stories
        }
        return tuple(sorted(found))


def has_relevance(entity: str) -> bool:
    """Ticker and sector entities: their mentions have a relevance."""
    return entity.startswith(RELEVANCE_SCOPES) and not is_relevance_entity(entity)


def series_name(entity: str, excluded: tuple[float, ...]) -> str:
    """The name the baseline sums of ``entity`` go under when ``excluded`` levels are left
    out: the entity itself when none are, else ``ticker:AAPL@>=0.4`` (the lowest level
    still counted). Thresholds that leave out the same levels share a series."""
    if not excluded:
        return entity
    return f"{entity}@>={RELEVANCE_LEVELS[len(excluded)]:.1f}"


def story_series(entity: str) -> str:
    """The name the story baseline sums of ``entity`` go under: ``ticker:AAPL#stories``."""
    return f"{entity}{STORY_SERIES}"


def entity_order(entity: str) -> tuple[int, str]:
    """Evaluation order: market first, then source kinds, sectors, tickers (inhibition
    needs the market's alerts settled before the tickers')."""
    if entity == MARKET:
        return (0, entity)
    if entity.startswith("kind:"):
        return (1, entity)
    return (2 if entity.startswith("sector:") else 3, entity)
