"""Redis connections: one place that turns settings into a client."""

from __future__ import annotations

import redis

from sentimon.settings import Settings


def connect(settings: Settings, *, timeout_s: float = 5.0) -> redis.Redis:
    """A client with decoded responses; ``rediss://`` URLs get TLS, credentials come from the URL."""
    return redis.Redis.from_url(
        settings.redis_url.get_secret_value(),
        decode_responses=True,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
    )
