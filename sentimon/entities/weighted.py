"""A company's or sector's window at every relevance (pure): exact filters and weights.

The store keeps an entity's stats over every mention, and beside them the stats of its
mentions at each relevance level below 1 (``sentimon.keys.relevance_entity``). From those
``RelevanceStats`` gives, exactly:

- ``at_least(r)``: the stats of the mentions with relevance >= r (every mention minus
  the levels below r);
- ``weighted_count`` and ``weighted_mean``: sum of relevance, and the relevance-weighted
  mean score (each mention's score counts in proportion to its relevance).

Data written before relevance existed has no level entities: every mention reads as
relevance 1, as it was counted then.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sentimon.entities.relevance import PARTIAL_LEVELS, levels_below
from sentimon.windows import SCORE_SCALE, Stats


@dataclass(frozen=True)
class RelevanceStats:
    """``all``: every mention; ``levels``: partial level -> stats of its mentions alone."""

    all: Stats
    levels: dict[float, Stats] = field(default_factory=dict)

    def at_least(self, min_relevance: float) -> Stats:
        out = self.all
        for level in levels_below(min_relevance):
            out = out - self.levels.get(level, Stats())
        return out

    @property
    def weighted_count(self) -> float:
        partial = sum(self.levels.get(lv, Stats()).count for lv in PARTIAL_LEVELS)
        return (self.all.count - partial) + sum(
            lv * self.levels.get(lv, Stats()).count for lv in PARTIAL_LEVELS
        )

    @property
    def weighted_mean(self) -> float | None:
        weight = self.weighted_count
        if weight <= 0:
            return None
        partial = sum(self.levels.get(lv, Stats()).s_micro for lv in PARTIAL_LEVELS)
        total = (self.all.s_micro - partial) + sum(
            lv * self.levels.get(lv, Stats()).s_micro for lv in PARTIAL_LEVELS
        )
        return total / SCORE_SCALE / weight

    def as_dict(self, min_relevance: float) -> dict[str, object]:
        """Every mention's figures (as before relevance), plus ``relevant`` (mentions at
        ``min_relevance`` or above) and ``weighted`` (relevance-weighted)."""
        mean = self.weighted_mean
        return {
            **self.all.as_dict(),
            "min_relevance": min_relevance,
            "relevant": self.at_least(min_relevance).as_dict(),
            "weighted": {
                "count": round(self.weighted_count, 6),
                "mean_score": None if mean is None else round(mean, 6),
            },
        }
