"""The record type every source yields (Kafka, files) and the pipeline consumes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceRecord:
    """One input record and where it came from."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    value: bytes | None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = field(default_factory=tuple)
    #: The partition's high-water mark (next offset to be written) when the record was
    #: fetched; None when the source does not know it. Detects a log that lost its data.
    log_end: int | None = None

    @property
    def fence_field(self) -> str:
        """The field of the applied-offsets hash that fences this record's partition."""
        return f"{self.topic}:{self.partition}"
