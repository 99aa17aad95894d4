"""The story index's reads: Redis trouble is a SinkError (the consumer retries it)."""

from __future__ import annotations

import pytest
import redis

from sentimon.errors import SinkError
from sentimon.keys import Keys
from sentimon.store.stories import StoryIndex
from sentimon.stories.assign import Candidate


class DownRedis:
    def mget(self, keys: list[str]) -> list[str | None]:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


def test_an_unreachable_redis_is_a_retryable_sink_error() -> None:
    index = StoryIndex(DownRedis(), Keys("unit"), horizon_s=3600)  # type: ignore[arg-type]
    with pytest.raises(SinkError, match=r"story index .* will retry"):
        index.assign([Candidate.of("p1", "Apple beats quarterly revenue estimates")])
