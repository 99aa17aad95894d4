"""An alert payload as Alertmanager's API v2 "postable alert" (pure).

Alertmanager's API v2 (``POST /api/v2/alerts``, api/v2/openapi.yaml in the Alertmanager
repository) takes a JSON list of objects with ``labels`` (identifying: Alertmanager
de-duplicates, groups, routes, silences and inhibits on them), ``annotations`` (shown,
not identifying; the latest received wins), ``startsAt``, ``endsAt`` (RFC 3339) and
``generatorURL`` (a back-link to the source). Label names follow Prometheus'
``[a-zA-Z_][a-zA-Z0-9_]*``; empty values are left out, as Prometheus does.

Timestamps: Alertmanager keeps time by its own clock, so event times later than the
dispatcher's clock (a producer's clock running ahead) are clamped to now; a resolved
alert's ``endsAt`` is its resolution time and never before ``startsAt``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

#: Prometheus' label-name syntax (names starting ``__`` are reserved for its internals).
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: Posts listed in the ``top_posts`` annotation, and characters of each post's text.
TOP_POSTS = 3
_POST_CHARS = 140


def labels_of(payload: dict[str, Any]) -> dict[str, str]:
    """The identifying labels: ``alertname`` (the rule), ``severity``, ``kind``, ``scope``,
    ``entity``, ``ticker``/``sector``/``source`` (from the entity), ``namespace``, ``model``."""
    scope = payload.get("scope") or {}
    kind_of_scope = str(scope.get("type", ""))
    value = str(scope.get("value", ""))
    raw = {
        "alertname": payload.get("rule"),
        "severity": payload.get("severity"),
        "kind": payload.get("kind"),
        "scope": kind_of_scope,
        "entity": payload.get("entity"),
        "ticker": value if kind_of_scope == "ticker" else "",
        "sector": value if kind_of_scope == "sector" else "",
        "source": value if kind_of_scope == "kind" else "",
        "namespace": payload.get("namespace"),
        "model": payload.get("model"),
    }
    labels = {name: str(v) for name, v in raw.items() if v not in (None, "")}
    for name in labels:
        if not LABEL_NAME.match(name) or name.startswith("__"):
            raise ValueError(f"invalid Prometheus label name {name!r}")
    return labels


def annotations_of(payload: dict[str, Any], dashboard_url: str | None) -> dict[str, str]:
    """What a notification shows: ``summary``, ``description`` (the rule's, else the
    summary), ``top_posts`` (one compact line per post), ``dashboard``, the sentimon ids."""
    out = {
        "summary": str(payload.get("summary", "")),
        "description": str(payload.get("description") or payload.get("summary", "")),
        "top_posts": top_posts_text(payload.get("top_posts") or []),
        "sentimon_id": str(payload.get("id", "")),
        "sentimon_event_id": str(payload.get("event_id", "")),
    }
    link = generator_url(payload, dashboard_url)
    if link:
        out["dashboard"] = link
    return {k: v for k, v in out.items() if v}


def top_posts_text(posts: list[dict[str, Any]]) -> str:
    """``-0.93 Acme recalls ... https://...`` per line, the first ``TOP_POSTS`` posts."""
    lines = []
    for post in posts[:TOP_POSTS]:
        text = " ".join(str(post.get("text") or "").split())
        if len(text) > _POST_CHARS:
            text = text[: _POST_CHARS - 1] + "…"
        score = post.get("score")
        head = f"{float(score):+.2f} " if isinstance(score, int | float) else ""
        url = f" {post['url']}" if post.get("url") else ""
        lines.append(f"{head}{text}{url}")
    return "\n".join(lines)


def generator_url(payload: dict[str, Any], dashboard_url: str | None) -> str:
    """The dashboard on the alert's namespace, or ``""`` without a dashboard URL."""
    if not dashboard_url:
        return ""
    sep = "&" if "?" in dashboard_url else "?"
    return f"{dashboard_url}{sep}ns={quote(str(payload.get('namespace', '')), safe='')}"


def rfc3339(epoch_ms: float) -> str:
    """``2026-10-26T09:05:01.000Z``."""
    stamp = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def postable(
    payload: dict[str, Any], *, now_ms: int, valid_for_s: float, dashboard_url: str | None
) -> dict[str, Any]:
    """The postable alert for one notice at wall-clock ``now_ms``: a firing one ends
    ``valid_for_s`` from now (re-sending moves that on), a resolved one at its resolution."""
    starts_ms = min(int(payload.get("opened_ms") or now_ms), now_ms)
    alert: dict[str, Any] = {
        "labels": labels_of(payload),
        "annotations": annotations_of(payload, dashboard_url),
        "startsAt": rfc3339(starts_ms),
    }
    link = generator_url(payload, dashboard_url)
    if link:
        alert["generatorURL"] = link
    if payload.get("status") == "resolved":
        resolved = int(payload.get("resolved_ms") or payload.get("event_ms") or now_ms)
        alert["endsAt"] = rfc3339(max(starts_ms, min(resolved, now_ms)))
    else:
        alert["endsAt"] = rfc3339(now_ms + valid_for_s * 1000)
    return alert


def epoch_ms(stamp: str) -> int:
    """The inverse of ``rfc3339``."""
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def ending(alert: dict[str, Any], ends_ms: int) -> dict[str, Any]:
    """A stored postable alert with ``endsAt`` moved to ``ends_ms`` (never before its start)."""
    return {**alert, "endsAt": rfc3339(max(ends_ms, epoch_ms(alert["startsAt"])))}
