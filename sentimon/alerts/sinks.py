"""Where the dispatcher delivers notices: the sink interface and its errors.

A sink's ``deliver`` returns on success and raises ``DeliveryError`` otherwise;
``permanent=True`` means retrying cannot help (e.g. HTTP 400), so the notice goes to the
sink's dead-letter list at once. Sinks: ``webhook-<hash>`` (``sentimon.alerts.webhook``),
``kafka`` (``sentimon.alerts.kafka_sink``). The Redis history stream is not a sink here:
the hook writes it in the batch's atomic write.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


class DeliveryError(Exception):
    """A delivery failed; ``permanent`` failures are not retried."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after_s = retry_after_s


class Sink(Protocol):
    @property
    def name(self) -> str:
        """Stable identifier: progress, metrics and the dead-letter list are keyed by it."""
        ...

    def describe(self) -> str:
        """Human description without secrets (e.g. the webhook's host)."""
        ...

    def deliver(self, event_id: str, body: str, payload: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Periodic(Protocol):
    """A sink with work of its own between deliveries (the Alertmanager sink re-sends
    firing alerts): the dispatcher calls ``open`` once at start with its Redis client and
    namespace keys, then ``tick`` at every step (it must return quickly when nothing is
    due; Redis errors may propagate)."""

    def open(self, client: Any, keys: Any) -> None: ...

    def tick(self) -> None: ...
