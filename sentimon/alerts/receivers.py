"""The receivers the settings configure: every webhook URL, then the Kafka ``alerts`` topic."""

from __future__ import annotations

from typing import Any

from sentimon.alerts import alertmanager, email_sink
from sentimon.alerts.kafka_sink import KafkaSink
from sentimon.alerts.sinks import Sink
from sentimon.alerts.webhook import WebhookSink


def build_sinks(settings: Any) -> list[Sink]:
    """The sinks the settings configure: every webhook URL, then the Kafka topic."""

    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    sinks: list[Sink] = [
        WebhookSink(
            url, secret=secret, fmt=settings.webhook_format, timeout_s=settings.dispatch_timeout_s
        )
        for url in settings.webhook_urls
    ]
    sinks.append(KafkaSink(settings, timeout_s=settings.dispatch_timeout_s))
    # Receivers of their own settings (SENTIMON_ALERTMANAGER_URLS, SENTIMON_SMTP_*), when set.
    for extra in (alertmanager.from_settings(settings), email_sink.from_settings(settings)):
        if extra is not None:
            sinks.append(extra)
    return sinks
