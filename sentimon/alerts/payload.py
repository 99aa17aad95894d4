"""The alert payload (pure): ids, the JSON every sink receives, the top contributing posts.

The alert id is a fingerprint of namespace + rule + entity + opening event time, so it is
the same in every notice of that alert (firing, repeats, resolved); each notice has its own
event id ``<alert id>.<seq>``, which receivers use as the idempotency key.

``min_relevance`` is the minimum relevance of the mentions the figures count (ticker and
sector alerts; null for market and source kinds, whose posts have no relevance, and for
rules counting stories, which count every story naming the company). ``count`` says what
the figures count: ``"posts"`` or ``"stories"`` (stories begun, each once); a rule
counting stories lists one top post per story. ``labels`` (built-in and the rule's) and
``annotations`` (the rule's) were added later: readers of older payloads find none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sentimon.alerts.detect import Signal
from sentimon.alerts.lifecycle import Notice
from sentimon.alerts.rules import Rule
from sentimon.windows import format_window

SCHEMA = 1
TOP_POSTS = 5
_TEXT_CHARS = 280


def fingerprint(namespace: str, rule: str, entity: str, opened_ms: int) -> str:
    """Stable alert id: 20 hex digits of SHA-256 over namespace, rule, entity, opening."""
    raw = f"{namespace}\x1f{rule}\x1f{entity}\x1f{opened_ms}".encode()
    return hashlib.sha256(raw).hexdigest()[:20]


def scope_of(entity: str) -> dict[str, str]:
    """``ticker:NVDA`` -> ``{"type": "ticker", "value": "NVDA"}``; market has no value."""
    kind, _, value = entity.partition(":")
    return {"type": kind, "value": value} if value else {"type": kind, "value": ""}


def top_posts(
    rule: Rule, posts: Iterable[dict[str, Any]], limit: int = TOP_POSTS
) -> list[dict[str, Any]]:
    """The posts that pushed the window most in the rule's direction (distinct ids; one
    per story, the first seen, when the rule counts stories)."""
    rows = _distinct(posts, by_story=rule.counts_stories)
    if rule.kind == "sentiment_rise":
        rows.sort(key=lambda p: (-float(p.get("score", 0.0)), -int(p.get("ts", 0))))
    elif rule.kind == "volume_spike":
        rows.sort(key=lambda p: -int(p.get("ts", 0)))
    else:
        rows.sort(key=lambda p: (float(p.get("score", 0.0)), -int(p.get("ts", 0))))
    return [_post(p) for p in rows[:limit]]


def _distinct(posts: Iterable[dict[str, Any]], *, by_story: bool) -> list[dict[str, Any]]:
    """The posts with distinct ids, or one per story (``story``, else the id): its first
    post (``novel``) where that is among them, else the first seen."""
    unique: dict[str, dict[str, Any]] = {}
    for post in posts:
        key = str((post.get("story") if by_story else None) or post.get("id"))
        kept = unique.get(key)
        if kept is None or (by_story and post.get("novel") and not kept.get("novel")):
            unique[key] = post
    return list(unique.values())


def _post(post: dict[str, Any]) -> dict[str, Any]:
    text = str(post.get("text") or "")
    return {
        "id": post.get("id"),
        "ts": post.get("ts"),
        "text": text if len(text) <= _TEXT_CHARS else text[: _TEXT_CHARS - 1] + "…",
        "url": post.get("url"),
        "score": post.get("score"),
        "label": post.get("label"),
        "source": post.get("source"),
    }


def build_payload(
    notice: Notice,
    rule: Rule,
    entity: str,
    signal: Signal,
    *,
    namespace: str,
    window_end_ms: int,
    model: str | None,
    posts: list[dict[str, Any]],
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON document every sink delivers for one notice. ``labels``: the alert's
    (``sentimon.alerts.alert_labels``); ``annotations`` are the rule's."""
    start_ms = (window_end_ms // 60_000) * 60_000 - rule.window_s * 1000 + 60_000
    return {
        "schema": SCHEMA,
        "id": notice.alert_id,
        "event_id": notice.event_id,
        "seq": notice.seq,
        "status": notice.status,
        "rule": rule.name,
        "kind": rule.kind,
        "severity": rule.severity,
        "description": rule.description,
        "entity": entity,
        "scope": scope_of(entity),
        "min_relevance": rule.min_relevance_for(entity),
        "count": rule.count,
        "namespace": namespace,
        "opened_ms": notice.opened_ms,
        "event_ms": notice.at_ms,
        "resolved_ms": notice.at_ms if notice.status == "resolved" else None,
        "window": {
            "length": format_window(rule.window_s),
            "seconds": rule.window_s,
            "start_ms": start_ms,
            "end_ms": window_end_ms,
        },
        "stats": dict(signal.stats),
        "value": None if signal.value is None else round(signal.value, 6),
        "threshold": {"open": rule.threshold, "resolve": rule.resolve},
        "model": model,
        "top_posts": posts,
        "muted": notice.muted,
        "summary": summary(notice.status, rule, entity, signal),
        "labels": dict(labels or {}),
        "annotations": dict(rule.annotations),
    }


def summary(status: str, rule: Rule, entity: str, signal: Signal) -> str:
    """One human line, e.g. ``FIRING ticker:NVDA sentiment_drop: mean -0.81 vs baseline ...``."""
    s = signal.stats
    window = format_window(rule.window_s)
    unit = rule.count
    if signal.reason == "min_count":
        detail = f"too few {unit} to measure (min_count {rule.min_count})"
    elif rule.kind in ("sentiment_drop", "sentiment_rise"):
        detail = (
            f"mean {_f(s.get('mean'))} vs baseline {_f(s.get('baseline_mean'))} "
            f"(z={_f(s.get('z'))})"
        )
    elif rule.kind == "negative_share":
        detail = f"negative share {_f(s.get('negative_share'))} (threshold {rule.threshold:g})"
    else:
        detail = f"{s.get('count')} {unit} vs baseline {_f(s.get('baseline_rate'))} per {window}"
    floor = rule.min_relevance_for(entity)
    counted = f" (relevance >= {floor:g})" if floor else ""
    return (
        f"{status.upper()} [{rule.severity}] {entity} {rule.kind} ({rule.name}): {detail}, "
        f"{s.get('count')} {unit}{counted} in {window}"
    )


def _f(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def encode(payload: dict[str, Any]) -> str:
    """Canonical JSON of a payload: the exact bytes webhooks sign and send."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
