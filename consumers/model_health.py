"""The consumer's model-health window, kept batch by batch (``sentimon.health_window``).

``ModelHealth`` measures each post's text on the scorer threads (``observe``: length and
WordPiece counts, ``sentimon.wordpieces``), so the one writer thread only adds sums. As a
batch hook it runs inside each batch's write: ``before_write`` previews the window with
the batch's posts and plans the ``model_drift`` alerts on it (``sentimon.alerts.drift_rule``)
into the same atomic write; ``after_write`` appends the posts for good. Posts enter in
batch order and only once written, so a retried write counts them once and a replay gives
the same figures at the same post.

The live consumer exports ``latest`` as Prometheus gauges (``consumers.observe``) and as
the Redis summary (``consumers.wiring.HealthReporter``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from inference.profile import load_counter, load_reference
from sentimon.aggregate import AggregateUpdate, ScoredPost
from sentimon.alerts.drift_rule import DriftAlerts
from sentimon.drift import ReferenceProfile
from sentimon.errors import ConfigError
from sentimon.health_window import HealthSnapshot, HealthWindow, Observation
from sentimon.wordpieces import WordPieceCounter
from sentimon.writeplan import WritePlan

log = logging.getLogger(__name__)

#: Observations of scored posts not yet written (a failure can leave some behind).
_MAX_PENDING = 100_000


class ModelHealth:
    """The health window of one processor, and the drift alerts judged on it."""

    def __init__(
        self,
        window: HealthWindow,
        counter: WordPieceCounter | None = None,
        drift: DriftAlerts | None = None,
    ) -> None:
        self.window = window
        self.counter = counter
        self.drift = drift
        #: The figures after the last written batch (None before the first).
        self.latest: HealthSnapshot | None = None
        self._observed: dict[str, Observation] = {}
        self._planned: list[Observation] = []

    @classmethod
    def for_model(
        cls,
        model_dir: Path | None,
        *,
        size: int,
        low_confidence: float,
        drift: DriftAlerts | None = None,
    ) -> ModelHealth:
        """The window for the model in ``model_dir`` (None: a model without a local
        directory): its reference profile and vocabulary where it has them."""
        reference = _reference(model_dir)
        counter = load_counter(model_dir, lowercase=reference.lowercase if reference else True)
        log.info(
            "model health: last %d posts, low confidence below %g, %s, %s",
            size,
            low_confidence,
            "reference profile loaded" if reference else "no reference profile (no drift PSI)",
            "WordPiece counts on" if counter else "no WordPiece vocabulary (no token shares)",
        )
        return cls(
            HealthWindow(size, low_confidence=low_confidence, reference=reference), counter, drift
        )

    def observe(self, scored: Sequence[ScoredPost]) -> None:
        """Measure the posts of a scored batch (scorer threads; before their write)."""
        if len(self._observed) > _MAX_PENDING:
            self._observed.clear()
        for item in scored:
            self._observed[item.post.id] = self._observation(item)

    # --- BatchHook -------------------------------------------------------------------
    def before_write(self, plan: WritePlan, update: AggregateUpdate) -> None:
        self._planned = [
            self._observed.get(item.post.id) or self._observation(item) for item in update.posts
        ]
        if self.drift is None or not update.posts or update.max_event_ms is None:
            return
        health = self.window.snapshot(self.window.preview(self._planned))
        self.drift.plan(plan, health, update.max_event_ms, update.posts[0].model_id)

    def after_write(self, update: AggregateUpdate) -> None:
        self.window.extend(self._planned)
        for item in update.posts:
            self._observed.pop(item.post.id, None)
        self._planned = []
        self.latest = self.window.snapshot()
        if self.drift is not None:
            self.drift.after_write()

    def _observation(self, item: ScoredPost) -> Observation:
        return Observation.of(
            item.label, item.post.text, item.confidence, item.escalated, self.counter
        )


def _reference(model_dir: Path | None) -> ReferenceProfile | None:
    try:
        return load_reference(model_dir)
    except ConfigError as exc:
        log.warning("%s; model health runs without drift PSI", exc)
        return None
