"""Planning what a notice writes: the history entry, the outbox entry, the open index.

Everything here only adds commands to the batch's ``WritePlan``; they are applied in the
same atomic write as the aggregates. The history stream (``Keys.alerts``) gets every notice
(``notify=0`` when muted or not sent); the outbox only the ones to deliver (none with
``outbox=False``: backtests). With a routing tree (``routed``) the outbox also gets the
resolved notices of delivered alerts whose rule sends none, marked ``quiet=1``, so the
dispatcher can drop the alert from its group without telling anyone.
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
        self,
        keys: Keys,
        store: AlertStore,
        *,
        history_max: int,
        outbox_max: int,
        top_posts: int,
        outbox: bool = True,
        routed: bool = False,
    ) -> None:
        self.outbox = outbox
        self.routed = routed
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
        labels: dict[str, str] | None = None,
    ) -> None:
        """Keep the open-alert index (and the in-batch view ``opened``) in step; an open
        alert's summary carries its ``labels`` (inhibition rules match them)."""
        was_open = key in opened
        if state.firing and (not was_open or opened[key].get("id") != state.alert_id):
            summary = {
                "id": state.alert_id,
                "rule": rule.name,
                "kind": rule.kind,
                "severity": rule.severity,
                "entity": entity,
                "opened_ms": state.opened_ms,
                "labels": labels or {},
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
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Add the notice's history entry (and outbox entry); return its payload."""
        notice = emitted.notice
        quiet = self.routed and notice.status == "resolved" and notice.was_sent
        quiet = quiet and not notice.deliver
        body = payloads.build_payload(
            notice,
            rule,
            entity,
            emitted.signal,
            namespace=self.keys.namespace,
            window_end_ms=emitted.tick.ts_ms,
            model=update.posts[0].model_id,
            posts=self._posts(rule, entity, window, update),
            labels=labels,
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
        if self.outbox and (notice.deliver or quiet):
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
                *(("quiet", 1) if quiet else ()),
            )
        return body

    def _posts(
        self, rule: Rule, entity: str, window: MinuteRange, update: AggregateUpdate
    ) -> list[dict[str, Any]]:
        """Top posts of the window among those the rule counts: this batch's plus the
        recent-posts stream of the entity (of the market for kinds and sectors, which
        have none of their own)."""
        lo, hi = window.first * 1000, (window.last + 60) * 1000
        kind = entity.removeprefix("kind:") if entity.startswith("kind:") else None
        own = entity.startswith("ticker:")
        floor = rule.min_relevance_for(entity) or 0.0
        mine = [post_summary(s) for s in update.posts if entity in s.entities()]
        recent = self.store.recent_posts(entity if own else MARKET, _RECENT_SCAN)
        posts = [
            p
            for p in (*mine, *recent)
            if lo <= int(p.get("ts", 0)) < hi
            and (kind is None or p.get("kind") == kind)
            and relevance_in(p, entity) >= floor - 1e-9
        ]
        return payloads.top_posts(rule, posts, self.top_posts)


def relevance_in(post: dict[str, Any], entity: str) -> float:
    """How relevant a post summary (``sentimon.writeplan.post_summary``) is to a ticker or
    sector entity (-1: not about it); 1 for any other entity. A summary written before
    entities has only ``tickers``: each counts fully."""
    scope, _, value = entity.partition(":")
    if scope not in ("ticker", "sector"):
        return 1.0
    field = "ticker" if scope == "ticker" else "sector"
    companies = post.get("entities")
    if companies is None:
        return 1.0 if scope == "ticker" and value in post.get("tickers", ()) else -1.0
    found = [float(c.get("relevance", 1.0)) for c in companies if c.get(field) == value]
    return max(found, default=-1.0)


def _history_fields(notice: Notice, rule: Rule, entity: str, text: str) -> list[Any]:
    return [
        "event", notice.event_id, "id", notice.alert_id, "status", notice.status,
        "rule", rule.name, "kind", rule.kind, "severity", rule.severity, "entity", entity,
        "ts", notice.at_ms, "notify", int(notice.deliver), "muted", notice.muted,
        "payload", text,
    ]  # fmt: skip
