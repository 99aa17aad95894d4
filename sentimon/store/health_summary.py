"""The compact model-health summary in Redis: one small hash per namespace.

The live consumer writes it every few seconds from its loop thread, beside its own health
snapshot (``consumers.wiring.HealthReporter``), outside the batches' atomic writes: it is
a view, not data the aggregates depend on. With several members the hash holds the
window of the member that wrote last (``consumer`` says which); members of one group
see statistically alike feeds. The dashboard's Pipeline tab reads it.
"""

from __future__ import annotations

from typing import Any

from sentimon.keys import Keys


def model_health_fields(
    fields: dict[str, str], *, consumer: str, model: str, now_ms: int
) -> dict[str, str]:
    """``fields`` (``sentimon.health_window.summary_fields``) with who wrote them, when."""
    return {**fields, "consumer": consumer, "model": model, "updated_ms": str(now_ms)}


def queue_model_health(pipe: Any, keys: Keys, fields: dict[str, str]) -> None:
    """Add the summary's write to ``pipe`` (a Redis pipeline): the hash is replaced."""
    pipe.delete(keys.model_health)
    pipe.hset(keys.model_health, mapping=fields)


def read_model_health(client: Any, keys: Keys) -> dict[str, str]:
    """The summary's fields ({} when no consumer has written one)."""
    raw = client.hgetall(keys.model_health)
    return {_text(k): _text(v) for k, v in raw.items()}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
