"""``model_drift`` alerts: the model no longer fits its feed.

A ``model_drift`` rule (``sentimon.alerts.drift_rulefile``) watches the consumer's
model-health window (``sentimon.health_window``) rather than an entity: it opens when the
PSI of the label mix or of the length mix against the model's reference profile reaches
``psi``, or when the share of low-confidence posts reaches ``low_confidence_share``; it
clears once both PSIs are below ``resolve_psi`` and the share below its resolve
threshold. With fewer than ``min_count`` posts in the window, or (for PSI) without a
reference profile, nothing is measured.

It goes through the same machinery as the other kinds: the lifecycle (``lifecycle.step``,
event time: the batch's latest post), silences, the guarded state record
``<rule>|model``, the open-alert index, the history stream and the outbox, all planned
into the batch's one atomic write (``DriftAlerts.plan``). The window is the writing
member's own (members of one group see statistically alike feeds); the record is shared,
so members agree on one alert. To stay off Redis on the common path, the state is read
only while the signal is active or the last known state was firing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis

from sentimon.alerts import payload as payloads
from sentimon.alerts.detect import Signal
from sentimon.alerts.lifecycle import Notice, step
from sentimon.alerts.notices import NoticeWriter, _history_fields
from sentimon.alerts.rules import MODEL_DRIFT, MODEL_SCOPE, Rule, RuleSet
from sentimon.alerts.silences import alert_labels, muting_silence
from sentimon.alerts.state import AlertStore, decode_record, encode_record, pair_field
from sentimon.drift import psi_band
from sentimon.health_window import HealthSnapshot
from sentimon.keys import Keys
from sentimon.windows import Stats
from sentimon.writeplan import Guard, WritePlan

log = logging.getLogger(__name__)


def measure_drift(rule: Rule, health: HealthSnapshot) -> Signal:
    """The rule's signal on the window's figures (pure; see the module doc)."""
    window = Stats(count=health.posts)
    if health.posts < rule.min_count:
        return Signal(False, True, None, window, None, rule.window_s, reason="min_count")
    psi = health.psi_max
    low = health.low_confidence_share
    psi_open = psi is not None and psi >= rule.threshold
    psi_clear = psi is None or psi < rule.resolve
    low_open = rule.low_confidence is not None and low is not None and low >= rule.low_confidence
    low_clear = (
        rule.resolve_low_confidence is None or low is None or (low < rule.resolve_low_confidence)
    )
    if psi_open or (psi is not None and not low_open):
        value, metric = psi, "psi"
    else:
        value, metric = low, "low_confidence_share"
    return Signal(psi_open or low_open, psi_clear and low_clear, value, window, None,
                  rule.window_s, metric)  # fmt: skip


def drift_stats(health: HealthSnapshot) -> dict[str, Any]:
    """The figures a model_drift notice carries."""
    ref = health.reference
    return {
        "count": health.posts,
        "psi_label": _r(health.psi_label),
        "psi_length": _r(health.psi_length),
        "psi_band": psi_band(health.psi_max),
        "label_mix": dict(
            zip(("negative", "neutral", "positive"), map(_r, health.label_mix), strict=True)
        ),
        "mean_confidence": _r(health.mean_confidence),
        "low_confidence_share": _r(health.low_confidence_share),
        "low_confidence": health.low_confidence,
        "escalation_share": _r(health.escalation_share),
        "mean_chars": _r(health.mean_chars),
        "unknown_share": _r(health.unknown_share),
        "fragmented_share": _r(health.fragmented_share),
        "reference": ref is not None,
    }


class DriftAlerts:
    """Plans the model_drift rules' alert changes into a batch's write."""

    def __init__(
        self,
        rules: Sequence[Rule],
        client: redis.Redis,
        keys: Keys,
        *,
        history_max: int = 10_000,
        outbox_max: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rules = tuple(r for r in rules if r.kind == MODEL_DRIFT)
        self.keys = keys
        self.store = AlertStore(client, keys)
        self.writer = NoticeWriter(
            keys, self.store, history_max=history_max, outbox_max=outbox_max, top_posts=0
        )
        self.history_max, self.outbox_max = history_max, outbox_max
        self.clock = clock
        #: rule name -> whether its alert was firing when last read or written (absent:
        #: not known yet, read at the next evaluation)
        self._firing: dict[str, bool] = {}
        self._planned: dict[str, bool] = {}
        #: notices of the last planned write (logged by after_write; read by tests)
        self.notices: list[tuple[Notice, dict[str, Any]]] = []

    @classmethod
    def of(cls, rules: RuleSet, client: redis.Redis, keys: Keys, **kw: Any) -> DriftAlerts | None:
        """The drift alerts of ``rules``; None when it has no model_drift rule."""
        found = cls(rules.rules, client, keys, **kw)
        return found if found.rules else None

    def plan(self, plan: WritePlan, health: HealthSnapshot, event_ms: int, model: str) -> None:
        self.notices, self._planned = [], {}
        for rule in self.rules:
            signal = measure_drift(rule, health)
            if not signal.active and self._firing.get(rule.name) is False:
                continue  # not firing and nothing to open: no read, no change
            self._evaluate(rule, signal, plan, health, event_ms, model)

    def after_write(self) -> None:
        self._firing.update(self._planned)
        for notice, body in self.notices:
            how = "queued" if notice.deliver else f"recorded only ({notice.muted})"
            log.info("alert %s, %s: %s [event %s]", notice.status, how, body["summary"],
                     notice.event_id)  # fmt: skip

    def _evaluate(
        self,
        rule: Rule,
        signal: Signal,
        plan: WritePlan,
        health: HealthSnapshot,
        event_ms: int,
        model: str,
    ) -> None:
        key = pair_field(rule.name, MODEL_SCOPE)
        snapshot, _ = self.store.fetch([key], [], [])
        raw = snapshot.records.get(key)
        state = decode_record(raw)
        labels = alert_labels(rule.name, rule.kind, rule.severity, MODEL_SCOPE)
        silence = muting_silence(snapshot.silences, labels, int(self.clock() * 1000))
        new, notice = step(
            state,
            signal,
            event_ms,
            rule,
            mute=None if silence is None else f"silence:{silence.id}",
            make_id=lambda opened: payloads.fingerprint(
                self.keys.namespace, rule.name, MODEL_SCOPE, opened
            ),
        )
        self._planned[rule.name] = new.firing
        if new != state:
            plan.guards.append(Guard(self.keys.alert_state, key, raw))
            plan.add("HSET", self.keys.alert_state, key, encode_record(new))
            self.writer.track_open(plan, dict(snapshot.open), key, rule, MODEL_SCOPE, new)
        if notice is not None:
            self.notices.append((notice, self._emit(plan, notice, rule, signal, health, model)))

    def _emit(
        self,
        plan: WritePlan,
        notice: Notice,
        rule: Rule,
        signal: Signal,
        health: HealthSnapshot,
        model: str,
    ) -> dict[str, Any]:
        """The notice's history entry and (to deliver) outbox entry; returns its payload."""
        body = payloads.build_payload(
            notice, rule, MODEL_SCOPE, signal, namespace=self.keys.namespace,
            window_end_ms=notice.at_ms, model=model, posts=[],
        )  # fmt: skip
        body["stats"] = drift_stats(health)
        body["window"] = {"length": f"last {health.posts} posts", "posts": health.posts}
        body["threshold"] = {
            "psi": _finite(rule.threshold), "resolve_psi": _finite(rule.resolve),
            "low_confidence_share": rule.low_confidence,
            "resolve_low_confidence_share": rule.resolve_low_confidence,
        }  # fmt: skip
        body["summary"] = _summary(notice.status, rule, health)
        text = payloads.encode(body)
        history = _history_fields(notice, rule, MODEL_SCOPE, text)
        plan.add("XADD", self.keys.alerts, "MAXLEN", "~", self.history_max, "*", *history)
        if notice.deliver:
            plan.add("XADD", self.keys.alert_outbox, "MAXLEN", "~", self.outbox_max, "*",
                     "event", notice.event_id, "payload", text)  # fmt: skip
        return body


def _summary(status: str, rule: Rule, health: HealthSnapshot) -> str:
    psi = health.psi_max
    psi_text = "no reference profile" if psi is None else f"PSI {psi:.2f} ({psi_band(psi)})"
    low = health.low_confidence_share
    low_text = "-" if low is None else f"{low:.2f}"
    return (
        f"{status.upper()} [{rule.severity}] model {rule.kind} ({rule.name}): {psi_text}, "
        f"low-confidence share {low_text} (below {health.low_confidence:g}) over the last "
        f"{health.posts} posts"
    )


def _finite(value: float) -> float | None:
    return None if value == float("inf") else value


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
