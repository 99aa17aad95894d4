"""Start, stop and inspect the embedded stack (``sentimon stack up|down|status``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sentimon.settings import DEFAULT_KAFKA_PORT, DEFAULT_REDIS_PORT, Settings, load_settings
from sentimon.stack.services import KafkaService, RedisService, Service
from sentimon.topics import create_topics, default_specs

log = logging.getLogger(__name__)


@dataclass
class Stack:
    """Broker and Redis on 127.0.0.1, state (pids, logs) under ``state_dir``."""

    kafka_port: int = DEFAULT_KAFKA_PORT
    redis_port: int = DEFAULT_REDIS_PORT
    state_dir: Path = Path(".sentimon")

    @property
    def kafka(self) -> KafkaService:
        return KafkaService("kafka", self.kafka_port, self.state_dir)

    @property
    def redis(self) -> RedisService:
        return RedisService("redis", self.redis_port, self.state_dir)

    @property
    def services(self) -> list[Service]:
        return [self.kafka, self.redis]

    @property
    def bootstrap(self) -> str:
        return self.kafka.address

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis.address}/0"

    def settings(self, **overrides: object) -> Settings:
        """Settings pointing at this stack (embedded group profile)."""
        base: dict[str, object] = {
            "kafka_bootstrap": self.bootstrap,
            "redis_url": self.redis_url,
            "kafka_profile": "embedded",
        }
        base.update(overrides)
        return load_settings(**base)

    def up(self, settings: Settings | None = None) -> None:
        for service in self.services:
            service.start()
        create_topics(self.settings(), default_specs(settings or self.settings()))

    def down(self) -> list[str]:
        return [s.name for s in self.services if s.stop()]

    def status(self) -> list[dict[str, object]]:
        return [s.status() for s in self.services]
