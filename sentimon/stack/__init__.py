"""The embedded stack: a local Kafka-protocol broker and a Redis server."""

from sentimon.stack.manager import Stack

__all__ = ["Stack"]
