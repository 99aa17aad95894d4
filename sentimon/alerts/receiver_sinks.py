"""The sinks of the named receivers of a rules file with a ``[route]``.

Each sink of receiver ``R`` is named ``R.<sink>`` (``desk-slack.webhook-1a2b3c4d``,
``desk-slack.kafka``), so progress, metrics and dead letters are per receiver. Group
notifications (``sentimon.alerts.grouping.notification_payload``) are rendered in the
receiver's ``format``: ``json`` (the group payload itself), ``slack`` (one message listing
the alerts) or ``template`` (Jinja2, ``sentimon.alerts.templates``, over ``alerts``,
``group_labels``, ``common_labels``, ``common_annotations``, ``status``, ``receiver``).
Alertmanager receivers get each alert of a group on its own (Alertmanager groups itself).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from sentimon.alerts.alertmanager import AlertmanagerSink
from sentimon.alerts.kafka_sink import KafkaSink
from sentimon.alerts.payload import encode
from sentimon.alerts.routing import ReceiverSpec, Route, Routing, walk
from sentimon.alerts.sinks import Periodic, Sink
from sentimon.alerts.webhook import WebhookSink
from sentimon.errors import ConfigError

Render = Callable[[str, dict[str, Any]], str]
_COLORS = {"firing": "#d62728", "resolved": "#2ca02c"}


class ReceiverSink:
    """One of a receiver's sinks, rendering notifications in the receiver's format."""

    def __init__(self, receiver: str, inner: Sink, render: Render | None = None) -> None:
        self.receiver = receiver
        self.inner = inner
        self.render = render
        self._name = f"{receiver}.{inner.name}"

    @property
    def name(self) -> str:
        return self._name

    def describe(self) -> str:
        return f"{self.receiver}: {self.inner.describe()}"

    def deliver(self, event_id: str, body: str, payload: dict[str, Any]) -> None:
        text = self.render(body, payload) if self.render is not None else body
        self.inner.deliver(event_id, text, payload)

    def close(self) -> None:
        self.inner.close()


class EachAlertSink(ReceiverSink):
    """Delivers each alert of a group notification on its own (Alertmanager), and does
    the inner sink's periodic work (re-sending firing alerts)."""

    def deliver(self, event_id: str, body: str, payload: dict[str, Any]) -> None:
        for alert in payload.get("alerts", [payload]):
            self.inner.deliver(str(alert.get("event_id", event_id)), encode(alert), alert)

    def open(self, client: Any, keys: Any) -> None:
        if isinstance(self.inner, Periodic):
            self.inner.open(client, keys)

    def tick(self) -> None:
        if isinstance(self.inner, Periodic):
            self.inner.tick()


@dataclass
class RoutedSinks:
    """Every receiver's sinks, and which of them a route's notifications go to."""

    routing: Routing
    sinks: list[Sink] = field(default_factory=list)
    by_receiver: dict[str, list[str]] = field(default_factory=dict)
    kafka: dict[str, str] = field(default_factory=dict)

    def names(self, route: Route, receiver: str) -> list[str]:
        spec = self.routing.receivers[receiver]
        wants_kafka = spec.kafka if route.kafka is None else route.kafka
        extra = [self.kafka[receiver]] if wants_kafka and receiver in self.kafka else []
        return [*self.by_receiver.get(receiver, []), *extra]


def build_receivers(routing: Routing, settings: Any) -> RoutedSinks:
    """The sinks of every receiver the routing tree uses (Kafka where a route wants it)."""
    out = RoutedSinks(routing)
    used = {route.receiver for route in walk(routing.root)}
    kafka = {
        r.receiver
        for r in walk(routing.root)
        if (routing.receivers[r.receiver].kafka if r.kafka is None else r.kafka)
    }
    for name in sorted(used):
        spec = routing.receivers[name]
        sinks = _receiver_sinks(spec, settings)
        out.by_receiver[name] = [s.name for s in sinks]
        if name in kafka:
            sink = ReceiverSink(name, KafkaSink(settings, timeout_s=settings.dispatch_timeout_s))
            out.kafka[name] = sink.name
            sinks.append(sink)
        out.sinks.extend(sinks)
    return out


def _receiver_sinks(spec: ReceiverSpec, settings: Any) -> list[Sink]:
    timeout = settings.dispatch_timeout_s
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    render = _renderer(spec)
    sinks: list[Sink] = [
        ReceiverSink(spec.name, WebhookSink(u, secret=secret, timeout_s=timeout), render)
        for u in spec.webhook_urls
    ]
    if spec.alertmanager_urls:
        manager = AlertmanagerSink(
            spec.alertmanager_urls, timeout_s=timeout, dashboard_url=settings.dashboard_url
        )
        sinks.append(EachAlertSink(spec.name, manager))
    if spec.email is not None:
        sinks.append(ReceiverSink(spec.name, _email_sink(spec, timeout), render))
    return sinks


def _renderer(spec: ReceiverSpec) -> Render | None:
    if spec.format == "slack":
        return lambda _body, payload: json.dumps(slack_group_message(payload))
    if spec.format == "template" and spec.template is not None:
        return _template_renderer(spec.name, spec.template)
    return None


def _template_renderer(receiver: str, template: str) -> Render:
    try:  # optional until that module lands
        templates = importlib.import_module("sentimon.alerts.templates")
    except ImportError:
        raise ConfigError(f"receiver {receiver!r}: template receivers are not available") from None

    def render(_body: str, payload: dict[str, Any]) -> str:
        return str(templates.render(template, template_context(payload), source=receiver))

    return render


def _email_sink(spec: ReceiverSpec, timeout_s: float) -> Sink:
    try:  # optional until that module lands
        email_sink = importlib.import_module("sentimon.alerts.email_sink")
    except ImportError:
        raise ConfigError(f"receiver {spec.name!r}: email receivers are not available") from None
    options = dict(spec.email or {})
    if options.get("password") is not None:
        options["password"] = SecretStr(str(options["password"]))
    try:
        config = email_sink.EmailConfig(**options)
    except TypeError as exc:
        raise ConfigError(f"receiver {spec.name!r} email: {exc}") from None
    sink: Sink = email_sink.EmailSink(config, timeout_s=timeout_s)
    return sink


def template_context(payload: dict[str, Any]) -> dict[str, Any]:
    """What a receiver template sees: a group notification's fields, or a lone alert as a
    group of one."""
    if payload.get("type") == "group":
        return dict(payload)
    labels = payload.get("labels") or {}
    return {
        "alerts": [payload],
        "group_labels": {},
        "common_labels": labels,
        "common_annotations": payload.get("annotations") or {},
        "status": payload.get("status"),
        "receiver": "",
        "summary": payload.get("summary", ""),
    }


def slack_group_message(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message for a group notification (or a lone alert)."""
    alerts = payload.get("alerts", [payload])
    lines = [f"*{str(payload.get('summary', '')).splitlines()[0]}*"]
    for alert in alerts[:20]:
        mark = ":rotating_light:" if alert.get("status") == "firing" else ":white_check_mark:"
        lines.append(f"{mark} {alert.get('summary', '')}")
    more = max(len(alerts) - 20, 0) + int(payload.get("truncated") or 0)
    if more:
        lines.append(f"… and {more} more")
    return {
        "text": str(payload.get("summary", "")).splitlines()[0],
        "attachments": [
            {
                "color": _COLORS.get(str(payload.get("status")), "#888888"),
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}
                ],
            }
        ],
    }
