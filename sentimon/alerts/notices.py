"""Planning what a notice writes: the history entry, the outbox entry, the open index.

Everything here only adds commands to the batch's ``WritePlan``; they are applied in the
same atomic write as the aggregates. The history stream (``Keys.alerts``) gets every notice
(``notify=0`` when muted or not sent); the outbox only the ones to deliver.
"""

from __future__ import annotations

from typing import Any

from sentimon.aggregate import AggregateUpdate
from sentimon.alerts import payload as payloads
from sentimon.alerts.lifecycle import AlertState, Notice
from sentimon.alerts.rules import Rule
from sentimon.alerts.state import AlertStore, MinuteRange
from sentimon.alerts.sweep import Emitted
from sentimon.keys import MARKET, Keys
from sentimon.writeplan import WritePlan, post_summary

_RECENT_SCAN = 100


class NoticeWriter:
    def __init__(
        self, keys: Keys, store: AlertStore, *, history_max: int, outbox_max: int, top_posts: int
    ) -> None:
        self.keys = keys
        self.store = store
        self.history_max = history_max
        self.outbox_max = outbox_max
        self.top_posts = top_posts

    def track_open(
        self,
        plan: WritePlan,
        opened: dict[str, dict[str, Any]],
        key: str,
        rule: Rule,
        entity: str,
        state: AlertState,
    ) -> None:
        """Keep the open-alert index (and the in-batch view ``opened``) in step."""
        was_open = key in opened
        if state.firing and (not was_open or opened[key].get("id") != state.alert_id):
            summary = {
                "id": state.alert_id,
                "rule": rule.name,
                "kind": rule.kind,
                "severity": rule.severity,
                "entity": entity,
                "opened_ms": state.opened_ms,
            }
            opened[key] = summary
            plan.add("HSET", self.keys.alert_open, key, payloads.encode(summary))
        elif not state.firing and was_open:
            opened.pop(key)
            plan.add("HDEL", self.keys.alert_open, key)

    def emit(
        self,
        plan: WritePlan,
        emitted: Emitted,
        rule: Rule,
        entity: str,
        window: MinuteRange,
        update: AggregateUpdate,
    ) -> dict[str, Any]:
        """Add the notice's history entry (and outbox entry); return its payload."""
        notice = emitted.notice
        body = payloads.build_payload(
            notice,
            rule,
            entity,
            emitted.signal,
            namespace=self.keys.namespace,
            window_end_ms=emitted.tick.ts_ms,
            model=update.posts[0].model_id,
            posts=self._posts(rule, entity, window, update),
        )
        text = payloads.encode(body)
        plan.add(
            "XADD",
            self.keys.alerts,
            "MAXLEN",
            "~",
            self.history_max,
            "*",
            *_history_fields(notice, rule, entity, text),
        )
        if notice.deliver:
            plan.add(
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
        return body

    def _posts(
        self, rule: Rule, entity: str, window: MinuteRange, update: AggregateUpdate
    ) -> list[dict[str, Any]]:
        """Top posts of the window: this batch's plus the entity's recent-posts stream."""
        lo, hi = window.first * 1000, (window.last + 60) * 1000
        kind = entity.removeprefix("kind:") if entity.startswith("kind:") else None
        stream = MARKET if kind or entity == MARKET else entity
        mine = [post_summary(s) for s in update.posts if entity in s.entities()]
        recent = self.store.recent_posts(stream, _RECENT_SCAN)
        posts = [
            p
            for p in (*mine, *recent)
            if lo <= int(p.get("ts", 0)) < hi and (kind is None or p.get("kind") == kind)
        ]
        return payloads.top_posts(rule, posts, self.top_posts)


def _history_fields(notice: Notice, rule: Rule, entity: str, text: str) -> list[Any]:
    return [
        "event", notice.event_id, "id", notice.alert_id, "status", notice.status,
        "rule", rule.name, "kind", rule.kind, "severity", rule.severity, "entity", entity,
        "ts", notice.at_ms, "notify", int(notice.deliver), "muted", notice.muted,
        "payload", text,
    ]  # fmt: skip
