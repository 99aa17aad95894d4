"""The Alertmanager sink: sentimon's alerts as Prometheus Alertmanager alerts (API v2).

Each notice becomes one postable alert (``sentimon.alerts.postable``) sent with
``POST <base>/api/v2/alerts`` to every configured Alertmanager. Like Prometheus, which
sends every alert to all the Alertmanagers it knows and lets an HA cluster de-duplicate,
a delivery succeeds when at least one of them accepted it (the others get it at the next
re-send); it fails permanently only when every one answered with a status retrying cannot
fix (4xx other than 408/425/429), otherwise it is retried.

**Re-sending.** Alertmanager resolves an alert on its own at ``endsAt`` (or after its
``resolve_timeout`` without one) unless the client sends it again. Prometheus re-sends
each active alert every ``--rules.alert.resend-delay`` (1 m by default) with ``endsAt``
four intervals ahead (``ValidUntil = now + 4 * max(resend delay, evaluation interval)``
in prometheus/rules/alerting.go). This sink does the same: a firing alert is posted with
``endsAt`` = now + 4 * ``resend_s`` and posted again every ``resend_s`` until sentimon
resolves it; then one post with ``endsAt`` = the resolution time. The alerts being
re-sent live in Redis (``sentimon.alerts.resend_state``), so a restarted dispatcher goes
on; an alert that left the namespace's open-alert index without a resolved notice (a rule
with ``send_resolved = false``) is posted once more as ended, never left firing.
``open``/``tick`` are called by the dispatcher (``sentimon.alerts.sinks.Periodic``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sentimon.alerts.postable import ending, epoch_ms, postable
from sentimon.alerts.resend_state import TOMBSTONE_MS, ResendState, Tracked
from sentimon.alerts.sinks import DeliveryError
from sentimon.alerts.webhook import host_only, post
from sentimon.keys import Keys

log = logging.getLogger(__name__)

#: Prometheus' default ``--rules.alert.resend-delay``.
DEFAULT_RESEND_S = 60.0
#: ``endsAt`` of a firing alert: this many re-send intervals ahead (Prometheus: 4).
VALID_INTERVALS = 4
API_PATH = "/api/v2/alerts"


class AlertmanagerSink:
    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout_s: float,
        dashboard_url: str | None = None,
        resend_s: float = DEFAULT_RESEND_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not urls:
            raise ValueError("the Alertmanager sink needs at least one URL")
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"Alertmanager URL must be http(s)://host[:port], got {url!r}")
        self.urls = [url.rstrip("/") for url in urls]
        self.timeout_s = timeout_s
        self.dashboard_url = dashboard_url
        self.resend_s = resend_s
        self.clock = clock
        self.state: ResendState | None = None
        self._next_check_ms = 0
        digest = hashlib.sha256(",".join(self.urls).encode()).hexdigest()[:8]
        self._name = f"alertmanager-{digest}"

    @property
    def name(self) -> str:
        return self._name

    def describe(self) -> str:
        hosts = ", ".join(host_only(u) for u in self.urls)
        return f"alertmanager {hosts} (re-sent every {self.resend_s:g}s while firing)"

    def close(self) -> None:
        return None

    # --- delivery ----------------------------------------------------------------------
    def deliver(self, event_id: str, body: str, payload: dict[str, Any]) -> None:
        now = self._now_ms()
        alert = postable(
            payload, now_ms=now, valid_for_s=self._valid_s(), dashboard_url=self.dashboard_url
        )
        if self.state is not None:
            tracked = self._track(payload, alert, now)
            if tracked is None:
                log.info("%s: %s arrived after its alert resolved; not sent", self.name, event_id)
                return
            alert = tracked
        self.post([alert])

    def _track(
        self, payload: dict[str, Any], alert: dict[str, Any], now: int
    ) -> dict[str, Any] | None:
        """Record the notice; the alert to post (the first post's labels and start kept,
        so the alert's identity in Alertmanager never changes), or None for a firing
        notice of an alert already resolved."""
        assert self.state is not None
        alert_id = str(payload.get("id", ""))
        seq = int(payload.get("seq") or 0)
        known = self.state.get(alert_id)
        if known is not None:
            if known.resolved and payload.get("status") != "resolved":
                return None
            ends_ms = epoch_ms(alert["endsAt"])
            kept = {"labels": known.alert["labels"], "startsAt": known.alert["startsAt"]}
            alert = ending({**alert, **kept}, ends_ms)
            seq = max(seq, known.seq)
        resolved = now if payload.get("status") == "resolved" else None
        self.state.put(Tracked(alert_id, seq, alert, now, resolved))
        return alert

    def post(self, alerts: list[dict[str, Any]]) -> None:
        """Send ``alerts`` to every Alertmanager; succeed if one accepted them."""
        data = json.dumps(alerts, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "sentimon-alerts"}
        errors: list[DeliveryError] = []
        for url in self.urls:
            try:
                post(url + API_PATH, data, headers, self.timeout_s)
            except DeliveryError as exc:
                log.warning("%s: %s refused %d alerts: %s", self.name, url, len(alerts), exc)
                errors.append(
                    DeliveryError(
                        f"{host_only(url)}: {exc}",
                        permanent=exc.permanent,
                        retry_after_s=exc.retry_after_s,
                    )
                )
        if len(errors) < len(self.urls):
            return
        raise DeliveryError(
            "; ".join(str(e) for e in errors),
            permanent=all(e.permanent for e in errors),
            retry_after_s=max((e.retry_after_s or 0.0 for e in errors), default=0.0) or None,
        )

    # --- re-sending (sentimon.alerts.sinks.Periodic) ------------------------------------
    def open(self, client: Any, keys: Keys) -> None:
        """Keep the alerts to re-send in ``client`` under ``keys``' namespace."""
        self.state = ResendState(client, keys, self.name)

    def tick(self) -> None:
        """Re-send the firing alerts last sent ``resend_s`` ago or more, end the ones no
        longer open, forget old resolved ones; looks at most every ``resend_s / 2`` (5 s
        at most). Redis errors propagate (the dispatcher waits them out)."""
        now = self._now_ms()
        if self.state is None or now < self._next_check_ms:
            return
        self._next_check_ms = now + int(min(5.0, self.resend_s / 2) * 1000)
        tracked = self.state.all()
        firing = [t for t in tracked if not t.resolved]
        old = [
            t.alert_id for t in tracked if t.resolved and now - (t.resolved_ms or 0) > TOMBSTONE_MS
        ]
        self.state.forget(*old)
        if not firing:
            return
        open_ids = self.state.open_ids()
        due = [
            t for t in firing if t.alert_id in open_ids and now - t.sent_ms >= self.resend_s * 1000
        ]
        gone = [t for t in firing if t.alert_id not in open_ids]
        valid_ms = now + int(self._valid_s() * 1000)
        updates = [replace(t, alert=ending(t.alert, valid_ms), sent_ms=now) for t in due]
        updates += [
            replace(t, alert=ending(t.alert, now), sent_ms=now, resolved_ms=now) for t in gone
        ]
        if not updates:
            return
        try:
            self.post([t.alert for t in updates])
        except DeliveryError as exc:
            log.warning("%s: re-sending %d alerts failed: %s", self.name, len(updates), exc)
            return
        self.state.put(*updates)
        log.debug("%s: re-sent %d firing, ended %d", self.name, len(due), len(gone))

    def _valid_s(self) -> float:
        return VALID_INTERVALS * self.resend_s

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)


def from_settings(settings: Any) -> AlertmanagerSink | None:
    """The sink ``SENTIMON_ALERTMANAGER_URLS`` configures, or None when it is empty."""
    if not settings.alertmanager_urls:
        return None
    return AlertmanagerSink(
        settings.alertmanager_urls,
        timeout_s=settings.dispatch_timeout_s,
        dashboard_url=settings.dashboard_url,
        resend_s=settings.alertmanager_resend_s,
    )
