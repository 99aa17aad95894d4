"""Alerts: rules, spike detection, alert state in the batch's atomic write, silences and
a crash-safe dispatcher to webhooks and Kafka. See docs/ALERTS.md.

Pure modules (no Redis, no Kafka): ``rules``, ``rulefile``, ``durations``, ``baseline``,
``detect``, ``lifecycle``, ``payload``, ``silences``, ``signing``, ``backoff``.
"""

from sentimon.alerts.signing import verify_signature

__all__ = ["verify_signature"]
