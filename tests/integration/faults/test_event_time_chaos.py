"""Posts stamped decades away, mixed into a live feed, under kills and a SIGTERM: counts
stay exact, each is dead-lettered once, the watermark stays near processing time, Redis
keeps answering and every member stops within its grace period."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest

from tests.fixtures.stack import Env
from tests.integration.faults.checks import (
    assert_dead_letters,
    assert_matches,
    assert_offsets_at_end,
    wait_for,
    wait_for_commits,
    wait_for_records,
)
from tests.integration.faults.procs import FAKE, Consumer, spawn
from tests.integration.faults.streams import SPAN_MS, Expected, Msg, build_stream, publish

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AHEAD_S = 300
BEHIND_S = 7 * 86_400
GRACE_S = 8.0
#: A SIGTERMed member must be gone within its grace period plus process start-up slack.
EXIT_MARGIN_S = 6.0
PING_LIMIT_S = 0.1


def out_of_bounds(news: str, social: str, now_ms: int, n: int, seed: int) -> list[Msg]:
    """Valid posts whose event time the live consumer must not trust: far future and far
    past (the contract's own limits), seconds mistaken for milliseconds, a day ahead, a
    month behind. Each must be dead-lettered (``post_id`` None)."""
    rng = random.Random(seed)
    times = [
        lambda: 4_102_444_799_000,  # 2099-12-31T23:59:59Z
        lambda: 946_684_800_000,  # 2000-01-01
        lambda: now_ms // 1000,  # seconds, read as ms: 1970
        lambda: now_ms + 86_400_000,
        lambda: now_ms - 30 * 86_400_000,
        lambda: "2099-12-31T23:59:59Z",
    ]
    msgs = []
    for i in range(n):
        topic, kind = (news, "news") if i % 2 else (social, "social")
        body = {
            "id": f"oob-{i}",
            "text": f"Company beats estimates (oob {i})",
            "ts": times[i % len(times)](),
            "tickers": [rng.choice(["ACME", "BETA"])],
        }
        msgs.append(Msg(topic, json.dumps(body).encode(), kind))
    return msgs


class PingWatch:
    """Times a ``PING`` to Redis every 50 ms from a thread (the worst is what matters)."""

    def __init__(self, env: Env) -> None:
        self.client = env.redis()
        self.worst = 0.0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PingWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            began = time.perf_counter()
            try:
                self.client.ping()
            except Exception as exc:
                self.failures.append(repr(exc))
            self.worst = max(self.worst, time.perf_counter() - began)


def test_far_past_and_future_posts_under_kills_and_sigterm_count_exactly(
    stack, tiny_model, tmp_path: Path, reaper
) -> None:
    """Injects: 1,200 current posts (+5 repeats, 10 malformed) and 60 posts stamped in
    2099, 2000, 1970 (seconds read as ms), a day ahead and a month behind, shuffled over
    two topics of 4 partitions; two members of one group (hash scorer, 0.05 s a batch,
    32 records a batch); SIGKILL of each member once at a random point, a replacement
    started each time; then SIGTERM of one member (grace 8 s) while the other finishes.
    Asserts: exact per-ticker/kind/market counts, counters and DLQ counts; every
    out-of-bounds and malformed record in its DLQ topic exactly once with a reason;
    committed offsets at the end and equal to the fences; the watermark between the
    newest valid post and processing time plus the allowed skew; every PING to Redis
    answered within 100 ms; the SIGTERMed member gone within its grace period."""
    env = Env(
        stack,
        tiny_model,
        max_batch=32,
        event_time_max_ahead_s=AHEAD_S,
        event_time_max_behind_s=BEHIND_S,
        shutdown_grace_s=GRACE_S,
    )
    now = int(time.time() * 1000)
    rng = random.Random(2099)
    msgs = build_stream(env.news, env.social, 1200, seed=7, base_ms=now - SPAN_MS)
    msgs += out_of_bounds(env.news, env.social, now, 60, seed=7)
    rng.shuffle(msgs)
    exp = Expected.of(msgs)
    publish(stack.bootstrap, msgs)
    log = tmp_path / "members.log"

    def member() -> Consumer:
        started = spawn(env, log, "--delay-s", "0.05", module=FAKE)
        reaper.append(started)
        return started

    with PingWatch(env) as ping:
        members = [member(), member()]
        for victim in (0, 1):
            target = rng.randrange(150, 900)
            wait_for(
                f"{target} records applied",
                lambda t=target: env.query().counters().get("records", 0) >= t,
                120,
                every_s=0.05,
            )
            members[victim].proc.kill()
            members[victim].proc.wait()
            members[victim] = member()
        wait_for(
            "more records applied",
            lambda: env.query().counters().get("records", 0) >= 1000,
            120,
            every_s=0.05,
        )
        code, took = members[0].stop(timeout_s=GRACE_S + 30)
        assert code == 0, members[0].tail()
        assert took <= GRACE_S + EXIT_MARGIN_S, (took, members[0].tail())
        wait_for_records(env, exp.total, members[1], 180)
        wait_for_commits(env, msgs, members[1], 60)
        code, took = members[1].stop(timeout_s=GRACE_S + 30)
        assert code == 0, members[1].tail()
        assert took <= GRACE_S + EXIT_MARGIN_S, took
    assert not ping.failures, ping.failures[:3]
    assert ping.worst <= PING_LIMIT_S, f"a PING took {ping.worst * 1000:.0f} ms"
    assert_matches(env, exp)
    assert_offsets_at_end(env, msgs)
    reasons = assert_dead_letters(env, msgs)
    # Seconds read as milliseconds land in 1970, which the contract itself refuses.
    assert sum("processing time" in r for r in reasons) == 50, reasons
    assert sum("outside 2000-2100" in r for r in reasons) == 10, reasons
    watermark = env.query().watermark_ms()
    assert watermark is not None
    assert exp.max_ts <= watermark <= int(time.time() * 1000) + AHEAD_S * 1000
