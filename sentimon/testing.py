"""Test doubles for sentimon's interfaces, shared by the test suite and the benchmarks.

Everything here is deterministic, needs neither a broker, Redis nor a model, and imports
neither Kafka nor Redis (``RecordingProcessor`` imports the batch types when it is used).

- scorers (the ``inference.Scorer`` interface): ``HashScorer`` (pseudo-probabilities from
  a hash of the text), ``FixedScorer`` (given probabilities), ``KeywordScorer`` and
  ``MarkerScorer`` (fixed probabilities per keyword), ``FailingScorer`` (raises on a
  trigger word, or always when ``broken``);
- ``ManualClock``: a monotonic clock (and ``sleep``) that moves only when told;
- ``MemorySource``: the consume loop's ``Source`` over a list of records;
- ``RecordingProcessor``: a ``BatchProcessor`` stand-in that records what it wrote;
- ``FlakyPingClient``: a Redis client whose ``PING`` fails as told;
- ``WebhookReceiver``: a local HTTP server that records webhook deliveries.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from consumers.staged import BatchResult, StagedBatch
from inference.scorer import ScoreBatch
from sentimon.errors import SinkError

if TYPE_CHECKING:
    from consumers.records import SourceRecord
    from consumers.staged import BatchResult, StagedBatch

__all__ = [
    "FailingScorer",
    "FixedScorer",
    "FlakyPingClient",
    "HashScorer",
    "KeywordScorer",
    "ManualClock",
    "MarkerScorer",
    "MemorySource",
    "RecordingProcessor",
    "WebhookReceiver",
    "hash_probs",
    "uneven_scoring",
]

Offsets = dict[tuple[str, int], int]


# --- scorers ---------------------------------------------------------------------------------
def hash_probs(text: str) -> list[float]:
    """(P(neg), P(neu), P(pos)) from the SHA-256 of ``text``: each in (0, 1), summing to 1."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    weights = [b + 1 for b in digest[:3]]
    total = sum(weights)
    return [w / total for w in weights]


class HashScorer:
    """Probabilities from a hash of each text: stable across runs, processes and batchings,
    and nearly free, so a consumer starts in about a second and inference is never the limit.

    ``delay_s`` makes every call that slow (a batch stays in flight); ``marker`` gets a
    ``start N SIZE`` line before and an ``end N`` line after each call's scoring."""

    def __init__(
        self, delay_s: float = 0.0, marker: Path | None = None, model_id: str = "hash@1"
    ) -> None:
        self.delay_s = delay_s
        self.marker = marker
        self.model_id = model_id
        self.batches = 0

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        self.batches += 1
        self._note(f"start {self.batches} {len(texts)}")
        if self.delay_s:
            time.sleep(self.delay_s)
        probs = np.array([hash_probs(t) for t in texts], dtype=np.float64).reshape(-1, 3)
        self._note(f"end {self.batches}")
        return ScoreBatch(probs, self.model_id)

    def _note(self, line: str) -> None:
        if self.marker is not None:
            with self.marker.open("a") as f:
                f.write(line + "\n")


class FixedScorer:
    """Given probabilities: one row (``(3,)``) for every text, or a matrix (``(n, 3)``)
    whose first rows score a call's texts, in order."""

    def __init__(
        self,
        probs: Sequence[float] | np.ndarray,
        model_id: str = "fixed@1",
        dtype: Any = np.float32,
    ) -> None:
        self.probs = np.asarray(probs, dtype=dtype)
        if self.probs.shape[-1] != 3 or self.probs.ndim not in (1, 2):
            raise ValueError(f"probs must have shape (3,) or (n, 3), got {self.probs.shape}")
        self.model_id = model_id

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        if self.probs.ndim == 1:
            return ScoreBatch(np.tile(self.probs, (len(texts), 1)), self.model_id)
        if len(texts) > len(self.probs):
            raise ValueError(f"{len(texts)} texts, but probabilities for {len(self.probs)}")
        return ScoreBatch(self.probs[: len(texts)], self.model_id)


class KeywordScorer:
    """Each text gets the row of the first keyword it contains (``keywords`` in order),
    else ``default``: the right answer on any text is known in advance."""

    def __init__(
        self,
        keywords: Mapping[str, Sequence[float]],
        default: Sequence[float] = (0.1, 0.8, 0.1),
        model_id: str = "keywords@1",
        dtype: Any = np.float64,
    ) -> None:
        self.keywords = {word: tuple(row) for word, row in keywords.items()}
        self.default = tuple(default)
        self.model_id = model_id
        self.dtype = dtype

    def row(self, text: str) -> tuple[float, ...]:
        return next((row for word, row in self.keywords.items() if word in text), self.default)

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        rows = [self.row(t) for t in texts]
        return ScoreBatch(np.array(rows, dtype=self.dtype).reshape(-1, 3), self.model_id)


class MarkerScorer(KeywordScorer):
    """``[neg]`` in a text -> negative, ``[pos]`` -> positive, anything else -> neutral."""

    NEGATIVE = (0.9, 0.08, 0.02)
    POSITIVE = (0.02, 0.08, 0.9)

    def __init__(self, model_id: str = "marker-scorer@test") -> None:
        super().__init__({"[neg]": self.NEGATIVE, "[pos]": self.POSITIVE}, model_id=model_id)


class FailingScorer:
    """Fails a whole call (``error(message)``) when any of its texts contains ``trigger``,
    or every call while ``broken`` is set, as a tokenizer or runtime bug some inputs hit
    would; other calls get ``probs`` for every text. Counts its calls."""

    def __init__(
        self,
        trigger: str = "POISON",
        *,
        broken: bool = False,
        error: type[Exception] = ValueError,
        message: str = "tokenizer exploded",
        probs: Sequence[float] = (0.2, 0.3, 0.5),
        model_id: str = "failing@1",
    ) -> None:
        self.trigger = trigger
        self.broken = broken
        self.error = error
        self.message = message
        self.probs = tuple(probs)
        self.model_id = model_id
        self.calls = 0

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        self.calls += 1
        if self.broken or any(self.trigger in t for t in texts):
            raise self.error(self.message)
        return ScoreBatch(np.tile(self.probs, (len(texts), 1)), self.model_id)


# --- time --------------------------------------------------------------------------------
class ManualClock:
    """A clock (``clock()`` -> seconds) that moves only when a test moves it: ``now`` may
    be set directly, ``advance`` adds to it, and ``sleep`` (pass it wherever a ``sleep``
    is injected) records the wait and advances by it."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


# --- the consume loop's source and processor -------------------------------------------------
class MemorySource:
    """The consume loop's ``Source`` over a list of records: ``poll`` hands out up to
    ``chunk`` at a time, in order; commits, rewinds and pauses are recorded. One partition
    (``news``/0) is assigned, and the source is caught up once everything was polled."""

    def __init__(self, records: Sequence[SourceRecord], chunk: int = 10) -> None:
        self.pending = list(records)
        self.chunk = chunk
        self.commits: list[Offsets] = []
        self.blocking: list[bool] = []
        self.rewinds: list[Offsets] = []
        self.paused = False
        self.pauses = 0
        self.closed_with: float | None = None

    def poll(self, timeout_s: float) -> list[SourceRecord]:
        if self.paused or not self.pending:
            time.sleep(min(timeout_s, 0.01))
            return []
        out, self.pending = self.pending[: self.chunk], self.pending[self.chunk :]
        return out

    def commit(
        self, offsets: Offsets, *, blocking: bool = True, timeout_s: float | None = None
    ) -> None:
        self.commits.append(dict(offsets))
        self.blocking.append(blocking)

    def rewind(self, offsets: Offsets) -> None:
        self.rewinds.append(dict(offsets))

    def pause_all(self) -> None:
        self.pauses += not self.paused
        self.paused = True

    def resume_all(self) -> None:
        self.paused = False

    def assignment(self) -> list[tuple[str, int]]:
        return [("news", 0)]

    def caught_up(self) -> bool:
        return not self.pending

    def close(self, timeout_s: float = 5.0) -> None:
        self.closed_with = timeout_s


def uneven_scoring(records: Sequence[SourceRecord]) -> float:
    """Scoring time for ``RecordingProcessor(score_s=...)``: 30 ms for a batch starting in
    an even ten of offsets, 5 ms otherwise, so later batches often finish scoring first."""
    return 0.03 if (records[0].offset // 10) % 2 == 0 else 0.005


class RecordingProcessor:
    """Stands in for ``consumers.pipeline.BatchProcessor``: "scores" (sleeping ``score_s``,
    a number or a function of the batch) and "writes" by recording the offsets of each
    write in ``writes`` (the first of each in ``written``); every record counts as scored.
    The next ``fail_writes`` writes raise ``SinkError`` as a Redis outage would. Its sink's
    client is a ``FlakyPingClient``."""

    def __init__(
        self,
        concurrency: int = 1,
        fail_writes: int = 0,
        score_s: float | Callable[[Sequence[SourceRecord]], float] = 0.0,
        model_id: str = "fake@0",
    ) -> None:
        self.scorer = SimpleNamespace(concurrency=concurrency, model_id=model_id)
        self.client = FlakyPingClient()
        self.sink = SimpleNamespace(client=self.client)
        self.fail_writes = fail_writes
        self.score_s = score_s
        #: The first offset of each write.
        self.written: list[int] = []
        #: The offsets each write carried.
        self.writes: list[list[int]] = []
        self.scoring_now = 0
        self.most_at_once = 0
        self.forgotten: list[str] = []
        self._lock = threading.Lock()

    def score_phase(self, records: Sequence[SourceRecord]) -> StagedBatch:

        with self._lock:
            self.scoring_now += 1
            self.most_at_once = max(self.most_at_once, self.scoring_now)
        delay = self.score_s(records) if callable(self.score_s) else self.score_s
        if delay:
            time.sleep(delay)
        with self._lock:
            self.scoring_now -= 1
        commit: Offsets = {}
        for r in records:
            key = (r.topic, r.partition)
            commit[key] = max(commit.get(key, 0), r.offset + 1)
        return StagedBatch(
            list(records), BatchResult(records=len(records), commit=commit), None, []
        )

    def write_phase(self, staged: StagedBatch) -> BatchResult:
        if self.fail_writes:
            self.fail_writes -= 1
            raise SinkError("Redis is down (test double)")
        self.written.append(staged.records[0].offset)
        self.writes.append([r.offset for r in staged.records])
        staged.result.scored = len(staged.records)
        return staged.result

    def process(self, records: Sequence[SourceRecord]) -> BatchResult:
        return self.write_phase(self.score_phase(records))

    def forget_partitions(self, fields: Sequence[str]) -> None:
        self.forgotten.extend(fields)


# --- Redis -----------------------------------------------------------------------------------
class FlakyPingClient:
    """A Redis client whose ``ping`` raises the queued ``errors`` first, then ``error``
    for as long as it is set, and otherwise answers; counts the pings."""

    def __init__(self, *errors: Exception, error: Exception | None = None) -> None:
        self.errors = list(errors)
        self.error = error
        self.pings = 0

    def ping(self) -> bool:
        self.pings += 1
        if self.errors:
            raise self.errors.pop(0)
        if self.error is not None:
            raise self.error
        return True


# --- webhooks --------------------------------------------------------------------------------
class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 that records each POST (headers, body) in
    ``requests`` and answers ``status`` (after ``delay_s``, with a ``Retry-After`` header
    when ``retry_after`` is set). ``down()`` and ``up()`` stop and restart it on the same
    port (``port=0``: a free one, chosen at the first ``up``). A context manager."""

    def __init__(self, port: int = 0, path: str = "/hook") -> None:
        self.port = port
        self.path = path
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        self.delay_s = 0.0
        self.retry_after: str | None = None
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def up(self) -> WebhookReceiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                if outer.delay_s:
                    threading.Event().wait(outer.delay_s)
                self.send_response(outer.status)
                if outer.retry_after is not None:
                    self.send_header("Retry-After", outer.retry_after)
                self.end_headers()

            def log_message(self, *args: Any) -> None: ...

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> WebhookReceiver:
        return self.up() if self.server is None else self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]

    def wait_for(self, n: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The payloads once ``n`` requests arrived (or ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.payloads()
