"""Reading the outcome back: aggregates, counters, fences, committed offsets, DLQ topics."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from consumers.dlq import SHA256_HEADER, TRUNCATED_HEADER
from sentimon.keys import ticker_entity
from sentimon.topics import dlq_topic
from tests.fixtures.stack import Env
from tests.integration.faults.procs import Consumer
from tests.integration.faults.streams import Expected, Msg

DAY_S = 24 * 3600
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float, every_s: float = 0.2) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(every_s)


def wait_for_records(env: Env, n: int, consumer: Consumer, timeout_s: float = 120.0) -> None:
    """Wait until Redis counts ``n`` records; fail at once if the consumer died."""

    def probe() -> bool:
        if not consumer.alive():
            raise AssertionError(
                f"consumer exited ({consumer.proc.returncode}):\n{consumer.tail()}"
            )
        return env.query().counters().get("records", 0) >= n

    wait_for(f"{n} records applied", probe, timeout_s)


def wait_for_commits(env: Env, msgs: list[Msg], consumer: Consumer, timeout_s: float) -> None:
    """Wait until the group has committed every message's offset. After a crash the
    records counter can reach the total first: a partition whose every record a killed
    run applied (but did not commit) adds nothing to it, and the next run still has to
    read that partition's tail, skip it at the fence and commit it."""
    want = Counter(m.topic for m in msgs)

    def probe() -> bool:
        if not consumer.alive():
            raise AssertionError(
                f"consumer exited ({consumer.proc.returncode}):\n{consumer.tail()}"
            )
        per_topic: Counter[str] = Counter()
        for (topic, _), offset in committed(env).items():
            per_topic[topic] += offset
        return per_topic == want

    wait_for("every offset committed", probe, timeout_s, every_s=0.5)


def assert_matches(env: Env, exp: Expected) -> None:
    """Windows, volume index, counters and DLQ counts equal the expectation exactly."""
    q = env.query()
    end = exp.max_ts + 1  # windows are half-open: end just after the latest post
    assert q.market(DAY_S, end).count == exp.market
    for kind in ("news", "social"):
        assert q.window(f"kind:{kind}", DAY_S, end).count == exp.kinds[kind], kind
    stats = q.windows([ticker_entity(t) for t in exp.tickers], DAY_S, end)
    got = {t: stats[ticker_entity(t)].count for t in exp.tickers}
    assert got == dict(exp.tickers)
    for s in stats.values():
        assert s.positive + s.neutral + s.negative == s.count
    top = {t: s.count for t, s in q.top(DAY_S, limit=50, end_ms=end)}
    assert top == dict(exp.tickers)
    counters = q.counters()
    assert counters.get("records", 0) == exp.total, counters
    assert counters.get("scored", 0) == exp.market, counters
    assert counters.get("dlq", 0) == sum(exp.dlq.values()), counters
    assert counters.get("duplicates", 0) == exp.duplicates, counters
    assert q.dlq_counts() == {t: n for t, n in exp.dlq.items() if n}


def committed(env: Env) -> dict[tuple[str, int], int]:
    """The group's committed offsets (next offset to read) per partition."""
    admin = KafkaAdminClient(bootstrap_servers=[env.stack.bootstrap])
    try:
        offsets = admin.list_group_offsets(env.settings.group).get(env.settings.group, {})
    finally:
        admin.close()
    return {(tp.topic, tp.partition): m.offset for tp, m in offsets.items() if m.offset >= 0}


def assert_offsets_at_end(env: Env, msgs: list[Msg]) -> None:
    """Committed offsets cover every message, and each fence is the last committed offset."""
    done = committed(env)
    per_topic: Counter[str] = Counter()
    for (topic, _), offset in done.items():
        per_topic[topic] += offset
    assert per_topic == Counter(m.topic for m in msgs), done
    fences = env.query().applied_offsets()
    assert fences == {f"{t}:{p}": o - 1 for (t, p), o in done.items()}


Layout = dict[tuple[str, int, int], Msg]


def layout(env: Env, msgs: list[Msg]) -> Layout:
    """Where the broker put each message: (topic, partition, offset) -> message."""
    by_value = {(m.topic, m.value or b""): m for m in msgs}
    out: Layout = {}
    for topic in (env.news, env.social):
        wanted = sum(1 for m in msgs if m.topic == topic)
        for r in read_topic(env, topic, wanted):
            out[(topic, r.partition, r.offset)] = by_value[(topic, r.value or b"")]
    assert len(out) == len(msgs)
    return out


def applied_prefix(env: Env, where: Layout) -> Expected:
    """The expectation for exactly the records at or below each partition's Redis fence."""
    fences = env.query().applied_offsets()
    return Expected.of(
        m for (t, p, offset), m in sorted(where.items()) if offset <= fences.get(f"{t}:{p}", -1)
    )


def assert_consistent(env: Env, where: Layout) -> Expected:
    """After any crash: Redis holds exactly the effect of a prefix of every partition (the
    one its fences name), and no committed offset is ahead of its fence."""
    prefix = applied_prefix(env, where)
    assert_matches(env, prefix)
    fences = env.query().applied_offsets()
    for (t, p), offset in committed(env).items():
        assert offset <= fences.get(f"{t}:{p}", -1) + 1, (t, p, offset, fences)
    return prefix


def read_topic(env: Env, topic: str, count: int, timeout_s: float = 20.0) -> list[Any]:
    """All records of ``topic`` (at least ``count`` expected), in no particular order."""
    consumer = KafkaConsumer(bootstrap_servers=[env.stack.bootstrap], group_id=None)
    try:
        parts = wait_for(f"partitions of {topic}", lambda: consumer.partitions_for_topic(topic), 10)
        consumer.assign([TopicPartition(topic, p) for p in parts])
        consumer.seek_to_beginning()
        out: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = [r for records in consumer.poll(timeout_ms=300).values() for r in records]
            out.extend(got)
            if len(out) >= count and not got:  # reached the end (duplicates included)
                break
        return out
    finally:
        consumer.close()


def assert_dead_letters(env: Env, msgs: list[Msg]) -> list[str]:
    """Each invalid message is in its DLQ topic once (original bytes, a reason), however
    often its batch was retried or its consumer killed; returns the reasons."""
    reasons: list[str] = []
    for topic in (env.news, env.social):
        wanted = Counter(m.value or b"" for m in msgs if m.post_id is None and m.topic == topic)
        by_sha = {hashlib.sha256(v).hexdigest(): v for v in wanted}
        letters = read_topic(env, dlq_topic(topic), sum(wanted.values()))
        by_source = {}
        for letter in letters:
            headers = {k: v.decode() for k, v in letter.headers}
            assert headers["sentimon-source-topic"] == topic
            reason = headers["sentimon-dlq-reason"]
            assert reason.strip(), headers
            source = (headers["sentimon-source-partition"], headers["sentimon-source-offset"])
            assert source not in by_source, f"dead-lettered twice: {topic} {source} {reason}"
            by_source[source] = _original(letter.value or b"", headers, by_sha)
            reasons.append(reason)
        assert Counter(by_source.values()) == wanted, topic
    return reasons


def _original(value: bytes, headers: dict[str, str], by_sha: dict[str, bytes]) -> bytes:
    """A dead letter's original value: itself, or (cut to fit) the one its hash names."""
    if TRUNCATED_HEADER not in headers:
        return value
    original = by_sha[headers[SHA256_HEADER]]
    assert original.startswith(value) and len(value) < len(original)
    return original
