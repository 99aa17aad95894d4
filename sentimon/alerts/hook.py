"""The alert hook: evaluates rules right before each batch's atomic write and adds the
alert changes to that same write.

For the entities the batch touched (plus those with an alert open, so an alert can
resolve once its entity goes quiet) and the rules whose scope covers them, the hook
reads the pair's record, folds closed windows into the baseline, measures the current
window ending at the event-time watermark (the batch's own deltas added, since the read
precedes the write), steps the lifecycle, and plans:

- ``HSET`` of the changed record, guarded by the value read (a concurrent change aborts
  the write; the processor calls the hook again and retries);
- the open-alert index (``HSET``/``HDEL``);
- for each notice an ``XADD`` to the history stream and, if it is to be delivered, an
  ``XADD`` to the outbox that the dispatcher drains.

So an alert's state change, its history entry and its outbox entry land exactly when the
aggregates that caused them do, or not at all.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from consumers.writeplan import Guard, WritePlan, post_summary
from sentimon.aggregate import AggregateUpdate
from sentimon.alerts import payload as payloads
from sentimon.alerts.baseline import Baseline, FoldPlan, apply_fold, plan_fold, window_minutes
from sentimon.alerts.detect import Signal, measure
from sentimon.alerts.lifecycle import AlertState, Notice, step
from sentimon.alerts.rulefile import load_rules
from sentimon.alerts.rules import Rule, RuleSet, entity_order
from sentimon.alerts.silences import alert_labels, muting_silence
from sentimon.alerts.state import (
    AlertStore,
    MinuteRange,
    Snapshot,
    decode_record,
    encode_record,
    pair_field,
    split_field,
)
from sentimon.keys import MARKET, Keys
from sentimon.settings import Settings
from sentimon.windows import Stats, minute_of

log = logging.getLogger(__name__)


@dataclass
class _Pair:
    rule: Rule
    entity: str
    key: str
    raw: str | None
    baseline: Baseline | None
    state: AlertState
    fold: FoldPlan | None = None
    current: MinuteRange | None = None
    folds: dict[int, MinuteRange] = field(default_factory=dict)


@dataclass
class _Batch:
    """What one evaluation pass shares: time, reads, deltas, open alerts, plan."""

    plan: WritePlan
    update: AggregateUpdate
    snapshot: Snapshot
    now_ms: int
    wall_ms: int
    stats: dict[MinuteRange, Stats]
    open: dict[str, dict[str, Any]]
    model: str | None


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
    ) -> None:
        self.rules = rules
        self.keys = keys
        self.store = AlertStore(client, keys)
        self.history_max = history_max
        self.outbox_max = outbox_max
        self.top_posts = top_posts
        self.clock = clock
        self.notices: list[tuple[Notice, dict[str, Any]]] = []

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis, keys: Keys) -> AlertHook | None:
        """The hook for ``settings`` (its rules file or the shipped one); None if disabled."""
        if not settings.alerts_enabled:
            return None
        rules = load_rules(settings.alert_rules)
        if not rules.rules:
            log.info("alert rules %s define no rules: alerts off", rules.source)
            return None
        log.info("alerts: %d rules from %s", len(rules.rules), rules.source)
        return cls(rules, client, keys, history_max=settings.alerts_history_max)

    # --- BatchHook -------------------------------------------------------------------
    def before_write(self, plan: WritePlan, update: AggregateUpdate) -> None:
        self.notices = []
        if not update.posts or update.max_event_ms is None:
            return
        wanted = self._wanted(update)
        snapshot = self.store.load([pair_field(r.name, e) for r, e in wanted])
        now_ms = max(snapshot.watermark_ms or 0, update.max_event_ms)
        pairs = self._pairs(wanted, snapshot, plan)
        self._plan_reads(pairs, now_ms)
        batch = _Batch(
            plan,
            update,
            snapshot,
            now_ms,
            int(self.clock() * 1000),
            self._read(pairs, update),
            dict(snapshot.open),
            update.posts[0].model_id,
        )
        for pair in sorted(pairs, key=lambda p: (entity_order(p.entity), p.rule.name)):
            self._evaluate(pair, batch)

    def after_write(self, update: AggregateUpdate) -> None:
        for notice, body in self.notices:
            log.info(
                "alert %s%s: %s (event %s)",
                notice.status,
                ""
                if notice.deliver
                else f" (not delivered{', ' + notice.muted if notice.muted else ''})",
                body["summary"],
                notice.event_id,
            )

    # --- what to evaluate ------------------------------------------------------------
    def _wanted(self, update: AggregateUpdate) -> list[tuple[Rule, str]]:
        return [
            (rule, entity)
            for entity in sorted(update.entities)
            for rule in self.rules.for_entity(entity)
        ]

    def _pairs(
        self, wanted: list[tuple[Rule, str]], snapshot: Snapshot, plan: WritePlan
    ) -> list[_Pair]:
        """Touched pairs plus pairs with an open alert (whose rule still exists)."""
        records = dict(snapshot.records)
        extra = [name for name in snapshot.open if name not in records]
        if extra:
            records.update(self.store.load(extra).records)
        pairs = []
        seen = set()
        for name, raw in records.items():
            rule_name, entity = split_field(name)
            rule = self.rules.by_name(rule_name)
            if rule is None or not rule.matches(entity):
                if name in snapshot.open:
                    log.warning("dropping open alert %s: its rule is gone or changed scope", name)
                    plan.add("HDEL", self.keys.alert_open, name)
                continue
            if name not in seen:
                seen.add(name)
                baseline, state = decode_record(raw)
                pairs.append(_Pair(rule, entity, name, raw, baseline, state))
        return pairs

    # --- reads -------------------------------------------------------------------------
    def _plan_reads(self, pairs: list[_Pair], now_ms: int) -> None:
        last_minute = minute_of(now_ms)
        for pair in pairs:
            rule = pair.rule
            pair.current = MinuteRange(pair.entity, last_minute - rule.window_s + 60, last_minute)
            if rule.uses_baseline:
                pair.fold = plan_fold(pair.baseline, now_ms, rule.window_s)
                for index in pair.fold.reads:
                    first, last = window_minutes(index, rule.window_s)
                    pair.folds[index] = MinuteRange(pair.entity, first, last)

    def _read(self, pairs: list[_Pair], update: AggregateUpdate) -> dict[MinuteRange, Stats]:
        ranges = sorted(
            {r for p in pairs for r in (p.current, *p.folds.values()) if r},
            key=lambda r: (r.entity, r.first, r.last),
        )
        read = self.store.read_ranges(ranges)
        deltas: dict[str, list[tuple[int, Stats]]] = defaultdict(list)
        for (entity, minute), stats in update.buckets.items():
            deltas[entity].append((minute, stats))
        out = {}
        for r, stats in zip(ranges, read, strict=True):
            for minute, delta in deltas.get(r.entity, ()):
                if r.contains(minute):
                    stats = stats + delta
            out[r] = stats
        return out

    # --- one pair ----------------------------------------------------------------------
    def _evaluate(self, pair: _Pair, batch: _Batch) -> None:
        rule = pair.rule
        baseline = pair.baseline
        if pair.fold is not None:
            folded = {i: batch.stats[r] for i, r in pair.folds.items()}
            baseline = apply_fold(pair.fold, folded, alpha=rule.alpha, min_posts=rule.min_posts)
        assert pair.current is not None
        signal = measure(rule, batch.stats[pair.current], baseline)
        state, notice = step(
            pair.state,
            signal,
            batch.now_ms,
            rule,
            mute=self._mute(rule, pair.entity, batch),
            make_id=lambda opened: payloads.fingerprint(
                self.keys.namespace, rule.name, pair.entity, opened
            ),
        )
        record = encode_record(baseline, state)
        if record != pair.raw:
            batch.plan.guards.append(Guard(self.keys.alert_state, pair.key, pair.raw))
            batch.plan.add("HSET", self.keys.alert_state, pair.key, record)
        self._track_open(pair, state, batch)
        if notice is not None:
            self._emit(notice, pair, signal, batch)

    def _mute(self, rule: Rule, entity: str, batch: _Batch) -> str | None:
        labels = alert_labels(rule.name, rule.kind, rule.severity, entity)
        silence = muting_silence(batch.snapshot.silences, labels, batch.wall_ms)
        if silence is not None:
            return f"silence:{silence.id}"
        if self.rules.inhibit and entity.startswith("ticker:"):
            for summary in batch.open.values():
                if summary.get("entity") == MARKET and summary.get("kind") == rule.kind:
                    return f"inhibited:{summary.get('id')}"
        return None

    def _track_open(self, pair: _Pair, state: AlertState, batch: _Batch) -> None:
        was_open = pair.key in batch.open
        if state.firing and not was_open:
            summary = {
                "id": state.alert_id,
                "rule": pair.rule.name,
                "kind": pair.rule.kind,
                "severity": pair.rule.severity,
                "entity": pair.entity,
                "opened_ms": state.opened_ms,
            }
            batch.open[pair.key] = summary
            batch.plan.add("HSET", self.keys.alert_open, pair.key, payloads.encode(summary))
        elif not state.firing and was_open:
            batch.open.pop(pair.key)
            batch.plan.add("HDEL", self.keys.alert_open, pair.key)

    def _emit(self, notice: Notice, pair: _Pair, signal: Signal, batch: _Batch) -> None:
        body = payloads.build_payload(
            notice,
            pair.rule,
            pair.entity,
            signal,
            namespace=self.keys.namespace,
            window_end_ms=batch.now_ms,
            model=batch.model,
            posts=self._posts(pair, batch),
        )
        text = payloads.encode(body)
        batch.plan.add(
            "XADD",
            self.keys.alerts,
            "MAXLEN",
            "~",
            self.history_max,
            "*",
            "event",
            notice.event_id,
            "id",
            notice.alert_id,
            "status",
            notice.status,
            "rule",
            pair.rule.name,
            "kind",
            pair.rule.kind,
            "severity",
            pair.rule.severity,
            "entity",
            pair.entity,
            "ts",
            notice.at_ms,
            "notify",
            int(notice.deliver),
            "muted",
            notice.muted,
            "payload",
            text,
        )
        if notice.deliver:
            batch.plan.add(
                "XADD",
                self.keys.alert_outbox,
                "MAXLEN",
                "~",
                self.outbox_max,
                "*",
                "event",
                notice.event_id,
                "payload",
                text,
            )
        self.notices.append((notice, body))

    def _posts(self, pair: _Pair, batch: _Batch) -> list[dict[str, Any]]:
        """Top posts of the window: this batch's plus the entity's recent stream."""
        assert pair.current is not None
        lo, hi = pair.current.first * 1000, (pair.current.last + 60) * 1000
        kind = pair.entity.removeprefix("kind:") if pair.entity.startswith("kind:") else None
        stream = MARKET if kind or pair.entity == MARKET else pair.entity
        mine = [post_summary(s) for s in batch.update.posts if pair.entity in s.entities()]
        recent = self.store.recent_posts(stream, 100)
        posts = [
            p
            for p in (*mine, *recent)
            if lo <= int(p.get("ts", 0)) < hi and (kind is None or p.get("kind") == kind)
        ]
        return payloads.top_posts(pair.rule, posts, self.top_posts)
