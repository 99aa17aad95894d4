"""The alert hook: evaluates rules right before each batch's atomic write and adds the
alert changes to that same write.

For the entities the batch touched (plus those with an alert open, so an alert can
resolve once its entity goes quiet) and the rules whose scope covers them, the hook reads
the pair's lifecycle record, the current windows (aggregate minutes) and the baseline's
per-window sums, adds the batch's own deltas (the read precedes the write), sweeps the
lifecycle through the batch's event-time ticks and plans:

- ``HINCRBY`` of the per-window baseline sums (commutative: no guard needed);
- ``HSET`` of a changed lifecycle record, guarded by the value read (a concurrent change
  aborts the write; the processor calls the hook again and retries);
- the open-alert index (``HSET``/``HDEL``);
- per notice an ``XADD`` to the history stream and, if it is to be delivered, an
  ``XADD`` to the outbox that the dispatcher drains.

So an alert's state change, its history entry and its outbox entry land exactly when the
aggregates that caused them do, or not at all.

A rule with a minimum relevance sees a ticker or sector only through the mentions it
counts: its current window is the entity's minutes minus those of its relevance levels
below the threshold (read in the same round trip), and its baseline sums are kept as a
series of their own (``series_name``), each batch adding the entity's buckets minus
those levels. Relevance levels themselves are never evaluated.

A rule counting stories (``count = "stories"``) reads the story fields of the entity's
minutes instead (stories begun, negative ones, their score sum) and keeps its baseline
sums in the series ``<entity>#stories``, each batch adding the stories it begins
(``AggregateUpdate.stories``). The pure parts (what a pair reads, the batch's deltas)
are in ``sentimon.alerts.pairs``.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from sentimon.aggregate import AggregateUpdate
from sentimon.alerts import payload as payloads
from sentimon.alerts.alert_labels import builtin_labels, rule_alert_labels
from sentimon.alerts.inhibition import LEGACY, inhibiting
from sentimon.alerts.lifecycle import Notice
from sentimon.alerts.notices import NoticeWriter
from sentimon.alerts.pairs import (
    Deltas,
    Pair,
    counted,
    ranges_of,
    story_stats,
    window_deltas,
    window_range,
    window_requests,
    within,
)
from sentimon.alerts.rulefile import load_rules
from sentimon.alerts.rules import MODEL_DRIFT, Rule, RuleSet, entity_order
from sentimon.alerts.silences import alert_labels, muting_silence
from sentimon.alerts.state import (
    WINDOW_BLOCK,
    AlertSnapshot,
    AlertStore,
    MinuteRange,
    Reads,
    decode_profile,
    decode_record,
    encode_record,
    pair_field,
    split_field,
)
from sentimon.alerts.sweep import Tick, entity_mentions, sweep, ticks_at_least
from sentimon.keys import SS, Keys, N, S, window_field
from sentimon.settings import Settings
from sentimon.windows import Stats, minute_of
from sentimon.writeplan import Guard, WritePlan

log = logging.getLogger(__name__)


@dataclass
class _Batch:
    """What one evaluation pass shares."""

    plan: WritePlan
    update: AggregateUpdate
    snapshot: AlertSnapshot
    wall_ms: int
    windows: dict[MinuteRange, Stats] = field(default_factory=dict)
    sums: dict[tuple[str, int], dict[int, Stats]] = field(default_factory=dict)
    baselines: dict[tuple[str, int], dict[Any, Any]] = field(default_factory=dict)
    open: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (entity, window length, window index) -> this batch's baseline sums
    deltas: Deltas = field(default_factory=dict)


class AlertHook:
    """A ``BatchHook`` that evaluates alert rules inside the batch's atomic write."""

    def __init__(
        self,
        rules: RuleSet,
        client: redis.Redis,
        keys: Keys,
        *,
        history_max: int = 10_000,
        outbox_max: int = 100_000,
        top_posts: int = payloads.TOP_POSTS,
        clock: Callable[[], float] = time.time,
        outbox: bool = True,
    ) -> None:
        self.rules = rules
        self.keys = keys
        self.store = AlertStore(client, keys)
        self.writer = NoticeWriter(
            keys,
            self.store,
            history_max=history_max,
            outbox_max=outbox_max,
            top_posts=top_posts,
            outbox=outbox,
            routed=rules.routing is not None,
        )
        #: the file's inhibition rules; ``inhibit = true`` is ``LEGACY`` (docs/ALERTS.md)
        self.inhibit_rules = rules.inhibit_rules + (
            (LEGACY,) if rules.inhibit and LEGACY not in rules.inhibit_rules else ()
        )
        self.clock = clock
        #: notices of the last planned write (read by after_write, tests, tools)
        self.notices: list[tuple[Notice, dict[str, Any]]] = []
        #: open alerts as of the last evaluation: their quiet pairs are read up front
        self._open_hint: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis, keys: Keys) -> AlertHook | None:
        """The hook for ``settings`` (its rules file or the shipped one); None if disabled."""
        if not settings.alerts_enabled:
            return None
        rules = load_rules(
            settings.alert_rules, min_relevance=settings.min_relevance, exchange=settings.exchange
        )
        if not rules.rules:
            log.info("alert rules %s define no rules: alerts off", rules.source)
            return None
        log.info("alerts: %d rules from %s", len(rules.rules), rules.source)
        return cls(
            rules,
            client,
            keys,
            history_max=settings.alerts_history_max,
            outbox=settings.alerts_outbox,
        )

    # --- BatchHook -------------------------------------------------------------------
    def before_write(self, plan: WritePlan, update: AggregateUpdate) -> None:
        self.notices = []
        if not update.posts or update.max_event_ms is None:
            return
        deltas = window_deltas(self.rules, update)
        self._plan_sums(plan, deltas)
        pairs = self._touched_pairs(update)
        touched = {p.key for p in pairs}
        # Open alerts of untouched entities are evaluated too (so they can resolve). Those
        # open at the last batch are read in the same round trip; only alerts opened
        # meanwhile by another consumer need a second one.
        guessed = self._quiet_pairs(
            self._open_hint - touched, update.max_event_ms, plan, guess=True
        )
        snapshot, reads = self._fetch(pairs + guessed)
        batch = _Batch(
            plan,
            update,
            snapshot,
            int(self.clock() * 1000),
            open=dict(snapshot.open),
            deltas=deltas,
        )
        self._apply_reads(pairs + guessed, reads, batch)
        quiet_keys = set(snapshot.open) - touched
        quiet = [p for p in guessed if p.key in quiet_keys]
        missed = self._quiet_pairs(quiet_keys - {p.key for p in guessed}, update.max_event_ms, plan)
        if missed:
            _, missed_reads = self._fetch(missed)
            self._apply_reads(missed, missed_reads, batch)
        for pair in sorted(pairs + quiet + missed,
                           key=lambda p: (entity_order(p.entity), p.rule.name)):  # fmt: skip
            self._evaluate(pair, batch)
        self._open_hint = set(batch.open)

    def after_write(self, update: AggregateUpdate) -> None:
        for notice, body in self.notices:
            how = (
                "queued"
                if notice.deliver
                else f"recorded only{' (' + notice.muted + ')' if notice.muted else ''}"
            )
            log.info(
                "alert %s, %s: %s [event %s]", notice.status, how, body["summary"], notice.event_id
            )

    # --- baseline sums ---------------------------------------------------------------
    def _plan_sums(self, plan: WritePlan, deltas: Deltas) -> None:
        """``HINCRBY`` the batch's baseline sums (commutative: no guard), then refresh the
        touched hashes' expiry (three blocks of windows)."""
        touched: dict[str, int] = {}
        for (entity, window_s, index), stats in sorted(deltas.items()):
            key = self.keys.alert_window(entity, window_s, index // WINDOW_BLOCK)
            plan.add("HINCRBY", key, window_field(index, N), stats.count)
            plan.add("HINCRBY", key, window_field(index, S), stats.s_micro)
            if stats.ss_micro:  # 0 in a story series (stories keep no squares): not written
                plan.add("HINCRBY", key, window_field(index, SS), stats.ss_micro)
            touched[key] = 3 * WINDOW_BLOCK * window_s
        for key, ttl in sorted(touched.items()):
            plan.add("EXPIRE", key, ttl)

    # --- what to evaluate ------------------------------------------------------------
    def _touched_pairs(self, update: AggregateUpdate) -> list[Pair]:
        """(rule, entity) pairs of the entities the batch has mentions of, each with the
        ticks of the mentions the rule counts (none: the pair is not touched)."""
        pairs = []
        for entity, found in sorted(entity_mentions(update).items()):
            for rule in self.rules.for_entity(entity):
                ticks = ticks_at_least(found, rule.min_relevance_for(entity))
                if ticks:
                    pairs.append(Pair(rule, entity, pair_field(rule.name, entity), None, ticks))
        return pairs

    def _quiet_pairs(
        self, names: set[str], batch_ms: int, plan: WritePlan, *, guess: bool = False
    ) -> list[Pair]:
        """Pairs for open alerts of entities this batch did not touch, evaluated at the
        batch's time so they can resolve when their entity goes quiet. ``guess``: names
        not yet confirmed open (a stale one is skipped quietly)."""
        tick = [Tick(minute_of(batch_ms), batch_ms)]
        pairs = []
        for name in sorted(names):
            rule_name, entity = split_field(name)
            rule = self.rules.by_name(rule_name)
            if rule is not None and rule.kind == MODEL_DRIFT:
                continue  # the model's alert: sentimon.alerts.drift_rule evaluates it
            if rule is None or not rule.matches(entity):
                if guess:
                    continue
                log.warning("dropping open alert %s: its rule is gone or changed scope", name)
                plan.add("HDEL", self.keys.alert_open, name)
                continue
            pairs.append(Pair(rule, entity, name, None, tick))
        return pairs

    # --- reads -----------------------------------------------------------------------
    def _fetch(self, pairs: list[Pair]) -> tuple[AlertSnapshot, Reads]:
        """Records of the pairs (filled in), open alerts, silences, windows, sums."""
        ranges = sorted({r for p in pairs for t in p.ticks for r in ranges_of(p, t)},
                        key=lambda r: (r.entity, r.first, r.last))  # fmt: skip
        requests = window_requests(pairs)
        snapshot, reads = self.store.fetch([p.key for p in pairs], ranges, requests)
        for pair in pairs:
            pair.raw = snapshot.records.get(pair.key)
        return snapshot, reads

    def _apply_reads(self, pairs: list[Pair], reads: Reads, batch: _Batch) -> None:
        """Store what Redis had, plus this batch's own deltas (the read precedes the write):
        its buckets on post ranges, the stories it begins on story ranges."""
        stories = {key: story_stats(s) for key, s in batch.update.stories.items()}
        deltas = {False: _by_entity(batch.update.buckets), True: _by_entity(stories)}
        for r, stats in zip(reads.ranges, reads.windows, strict=True):
            for _, delta in within(deltas[r.stories].get(r.entity, []), r.first, r.last):
                stats = stats + delta
            batch.windows[r] = stats
        by_series: dict[tuple[str, int], list[tuple[int, Stats]]] = defaultdict(list)
        for (entity, window_s, index), delta in sorted(batch.deltas.items()):
            by_series[(entity, window_s)].append((index, delta))
        for req, found in zip(reads.requests, reads.sums, strict=True):
            series = by_series.get((req.entity, req.window_s), [])
            for index, delta in within(series, req.first, req.last):
                found[index] = found.get(index, Stats()) + delta
            # A series may come in several disjoint requests: their windows add up.
            batch.sums.setdefault((req.entity, req.window_s), {}).update(found)

    # --- one pair ----------------------------------------------------------------------
    def _evaluate(self, pair: Pair, batch: _Batch) -> None:
        rule = pair.rule
        state = decode_record(pair.raw)
        profile = decode_profile(pair.raw) if rule.seasonal else None
        result = sweep(
            rule,
            state,
            pair.ticks,
            window_of=lambda tick: counted(pair, tick, batch.windows),
            sums=batch.sums.get((pair.series, rule.window_s), {}),
            mute=lambda: self._mute(rule, pair.entity, batch),
            cache=batch.baselines.setdefault((pair.series, rule.window_s), {}),
            make_id=lambda opened: payloads.fingerprint(
                self.keys.namespace, rule.name, pair.entity, opened
            ),
            profile=profile,
        )
        kept = result.profile if rule.seasonal else None
        # The open index changes only with the guarded record (which holds the profile).
        if result.state != state or kept != profile:
            batch.plan.guards.append(Guard(self.keys.alert_state, pair.key, pair.raw))
            record = encode_record(result.state, kept)
            batch.plan.add("HSET", self.keys.alert_state, pair.key, record)
            self.writer.track_open(
                batch.plan, batch.open, pair.key, rule, pair.entity, result.state,
                self._labels(rule, pair.entity, batch),
            )  # fmt: skip
        for emitted in result.emitted:
            body = self.writer.emit(
                batch.plan,
                emitted,
                rule,
                pair.entity,
                window_range(pair, emitted.tick),
                batch.update,
                self._labels(rule, pair.entity, batch),
            )
            self.notices.append((emitted.notice, body))

    def _mute(self, rule: Rule, entity: str, batch: _Batch) -> str | None:
        labels = alert_labels(rule.name, rule.kind, rule.severity, entity)
        silence = muting_silence(batch.snapshot.silences, labels, batch.wall_ms)
        if silence is not None:
            return f"silence:{silence.id}"
        if not self.inhibit_rules:
            return None
        key = pair_field(rule.name, entity)
        firing = [
            (str(s.get("id")), self._open_labels(s, batch))
            for k, s in batch.open.items()
            if k != key  # an alert never inhibits itself
        ]
        source = inhibiting(self.inhibit_rules, self._labels(rule, entity, batch), firing)
        return None if source is None else f"inhibited:{source}"

    def _labels(self, rule: Rule, entity: str, batch: _Batch) -> dict[str, str]:
        model = batch.update.posts[0].model_id if batch.update.posts else None
        return rule_alert_labels(rule, entity, namespace=self.keys.namespace, model=model)

    def _open_labels(self, summary: dict[str, Any], batch: _Batch) -> dict[str, str]:
        """An open alert's labels (an index entry written before labels: rebuilt)."""
        labels = summary.get("labels")
        if labels:
            return dict(labels)
        rule = self.rules.by_name(str(summary.get("rule")))
        if rule is None:
            return builtin_labels(
                str(summary.get("rule")), str(summary.get("kind")),
                str(summary.get("severity")), str(summary.get("entity")),
                namespace=self.keys.namespace, model=None,
            )  # fmt: skip
        return self._labels(rule, str(summary.get("entity")), batch)


def _by_entity(buckets: dict[tuple[str, int], Stats]) -> dict[str, list[tuple[int, Stats]]]:
    """(entity, minute) -> stats, as per entity its (minute, stats), oldest first."""
    out: dict[str, list[tuple[int, Stats]]] = defaultdict(list)
    for (entity, minute), stats in sorted(buckets.items()):
        out[entity].append((minute, stats))
    return out
