"""kafka-python client configuration from the settings: security and group timeouts.

Every Kafka client sentimon creates (consumer, producer, admin) gets ``client_config``, so
SASL/TLS settings reach all of them.
"""

from __future__ import annotations

from typing import Any

from sentimon.settings import Settings


def client_config(settings: Settings, client_id: str = "sentimon") -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": client_id,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_sasl_mechanism:
        config["sasl_mechanism"] = settings.kafka_sasl_mechanism
        config["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            config["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    for name in ("cafile", "certfile", "keyfile"):
        value = getattr(settings, f"kafka_ssl_{name}")
        if value:
            config[f"ssl_{name}"] = value
    return config


def group_timeouts(settings: Settings) -> dict[str, int]:
    """Session/heartbeat timeouts. Real Kafka rejects sessions under 6 s; Tansu joins in
    about half the session timeout, so the embedded profile uses fast ones."""
    if settings.kafka_profile == "embedded":
        return {"session_timeout_ms": 2000, "heartbeat_interval_ms": 500}
    return {"session_timeout_ms": 10000, "heartbeat_interval_ms": 3000}
