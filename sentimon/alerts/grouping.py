"""Alert groups (pure): when a route's group of alerts is notified, and with what.

Notices routed to a route are grouped by the route's ``group_by`` labels (one group per
route, receiver and label values). Timing follows Alertmanager, in the dispatcher's wall
clock (ms):

- a new group is first notified ``group_wait`` after its first alert;
- after a notification, a change (an alert starts firing or resolves) is notified
  ``group_interval`` after the previous notification at the earliest;
- an unchanged group with firing alerts is notified again every ``repeat_interval``.

A notification carries every alert of the group (firing ones and those resolved since the
last one); resolved alerts then leave the group, and an empty group is deleted. An alert
that resolves before any notification told of it firing, or whose rule does not send
resolved notices (``quiet``), leaves silently. While a mute timing holds, nothing is
sent and the group is looked at again ``group_interval`` later.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sentimon.alerts.routing import Route

FIRING = "firing"
RESOLVED = "resolved"
#: Alerts listed in one notification at most (the rest are counted in ``truncated``).
MAX_ALERTS = 200


def group_id(route: Route, receiver: str, labels: dict[str, str]) -> str:
    """Stable id of a group: 20 hex digits of SHA-256 over route, receiver, labels."""
    raw = json.dumps([route.path, receiver, sorted(labels.items())], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


@dataclass
class Group:
    gid: str
    route: str
    receiver: str
    labels: dict[str, str]
    namespace: str
    created_ms: int
    next_ms: int
    #: alert id -> {"status", "seq", "quiet", "payload"}
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ids of the alerts the last notification listed as firing
    sent: list[str] = field(default_factory=list)
    sent_ms: int | None = None
    #: notifications so far (the next one's sequence number)
    seq: int = 0

    def encode(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str) -> Group:
        data = json.loads(raw)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def add_alert(
    group: Group | None,
    route: Route,
    receiver: str,
    labels: dict[str, str],
    payload: dict[str, Any],
    now_ms: int,
    *,
    quiet: bool = False,
) -> Group:
    """The group (created if None) with this notice's alert added or updated. A notice
    older (``seq``) than the one held changes nothing (redeliveries, reordering)."""
    if group is None:
        group = Group(
            gid=group_id(route, receiver, labels),
            route=route.path,
            receiver=receiver,
            labels=labels,
            namespace=str(payload.get("namespace", "")),
            created_ms=now_ms,
            next_ms=now_ms + route.group_wait_s * 1000,
        )
    alert_id, seq, status = str(payload.get("id")), int(payload.get("seq", 0)), payload["status"]
    held = group.alerts.get(alert_id)
    if held is not None and held["seq"] > seq:
        return group
    group.alerts[alert_id] = {"status": status, "seq": seq, "quiet": quiet, "payload": payload}
    announced = alert_id in group.sent
    if group.sent_ms is not None and (status == FIRING) != announced:
        soonest = max(group.sent_ms + route.group_interval_s * 1000, now_ms)
        group.next_ms = min(group.next_ms, soonest)
    return group


def flush(
    group: Group, route: Route, now_ms: int, *, muted: bool
) -> tuple[Group | None, dict[str, Any] | None]:
    """At ``now_ms`` (the group's ``next_ms`` or later): the group afterwards (None: it is
    empty, delete it) and the notification to send, if any."""
    for alert_id in [a for a, v in group.alerts.items() if _leaves_silently(group, a, v)]:
        del group.alerts[alert_id]
    if not group.alerts:
        return None, None
    firing = sorted(a for a, v in group.alerts.items() if v["status"] == FIRING)
    # news: an alert firing that was not announced, or one resolving that was (an alert
    # leaving silently is none, as in Alertmanager)
    changed = bool(set(firing) - set(group.sent)) or len(firing) < len(group.alerts)
    repeat_due = group.sent_ms is not None and now_ms - group.sent_ms >= route.repeat_s * 1000
    if not changed and not repeat_due:
        assert group.sent_ms is not None  # no news implies notified before
        group.sent = firing
        group.next_ms = group.sent_ms + route.repeat_s * 1000
        return group, None
    if muted:
        group.next_ms = now_ms + route.group_interval_s * 1000
        return group, None
    notification = notification_payload(group, now_ms)
    group.seq += 1
    group.sent, group.sent_ms = firing, now_ms
    group.alerts = {a: v for a, v in group.alerts.items() if v["status"] == FIRING}
    group.next_ms = now_ms + route.repeat_s * 1000
    return (group if group.alerts else None), notification


def _leaves_silently(group: Group, alert_id: str, held: dict[str, Any]) -> bool:
    return held["status"] == RESOLVED and (held["quiet"] or alert_id not in group.sent)


def notification_payload(group: Group, now_ms: int) -> dict[str, Any]:
    """One group notification: the alerts as a list plus what they have in common."""
    rows = sorted(
        (v["payload"] for v in group.alerts.values()),
        key=lambda p: (p.get("status") != FIRING, p.get("opened_ms") or 0, str(p.get("id"))),
    )
    status = FIRING if any(p.get("status") == FIRING for p in rows) else RESOLVED
    common = _common([p.get("labels") or {} for p in rows])
    entities = {str(p.get("entity", "")) for p in rows}
    listed = rows[:MAX_ALERTS]
    counts = {s: sum(p.get("status") == s for p in rows) for s in (FIRING, RESOLVED)}
    return {
        "schema": 1,
        "type": "group",
        "event_id": f"{group.gid}.{group.seq}",
        "group_key": group.gid,
        "route": group.route,
        "receiver": group.receiver,
        "status": status,
        "namespace": group.namespace,
        "entity": entities.pop() if len(entities) == 1 else "",
        "group_labels": dict(group.labels),
        "common_labels": common,
        "common_annotations": _common([p.get("annotations") or {} for p in rows]),
        "counts": counts,
        "sent_ms": now_ms,
        "alerts": listed,
        "truncated": len(rows) - len(listed),
        "summary": _summary(status, group.labels, counts, listed),
    }


def _common(maps: list[dict[str, Any]]) -> dict[str, Any]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in sorted(first.items()) if all(m.get(k) == v for m in maps[1:])}


def _summary(
    status: str, labels: dict[str, str], counts: dict[str, int], rows: list[dict[str, Any]]
) -> str:
    keyed = ", ".join(f"{k}={v}" for k, v in labels.items()) or "all alerts"
    head = f"{status.upper()} [{keyed}] {counts[FIRING]} firing, {counts[RESOLVED]} resolved"
    return "\n".join([head, *(str(p.get("summary", "")) for p in rows[:10])])
