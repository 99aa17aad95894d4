"""The event-time policy: which event times the live consumer and replays trust."""

from __future__ import annotations

from sentimon.eventtime import EventTimePolicy

NOW = 1_765_000_000_000  # 2025-12-06
MIN = 60_000
DAY = 86_400_000
LIVE = EventTimePolicy.live(max_ahead_s=300, max_behind_s=7 * 86_400)


def test_live_accepts_times_within_the_skew() -> None:
    for ts in (NOW, NOW + 5 * MIN, NOW - 7 * DAY, NOW - 3 * DAY):
        assert LIVE.reject_reason(ts, NOW) is None, ts


def test_live_rejects_times_too_far_ahead_or_behind_with_a_reason() -> None:
    ahead = LIVE.reject_reason(4_102_444_799_000, NOW)  # 2099-12-31T23:59:59Z
    assert ahead is not None
    assert "2099-12-31T23:59:59Z" in ahead and "ahead of processing time" in ahead
    assert "5m ahead" in ahead and "7d behind" in ahead
    behind = LIVE.reject_reason(946_684_800_000, NOW)  # 2000-01-01
    assert behind is not None and "behind processing time" in behind
    assert LIVE.reject_reason(NOW + 5 * MIN + 1, NOW) is not None
    assert LIVE.reject_reason(NOW - 7 * DAY - 1, NOW) is not None


def test_seconds_mistaken_for_milliseconds_are_rejected() -> None:
    assert LIVE.reject_reason(NOW // 1000, NOW) is not None


def test_the_watermark_cap_is_processing_time_plus_the_skew() -> None:
    assert LIVE.watermark_cap(NOW) == NOW + 5 * MIN
    assert EventTimePolicy().watermark_cap(NOW) is None


def test_a_replay_trusts_its_range_whatever_processing_time_is() -> None:
    lo, hi = NOW - 400 * DAY, NOW - 399 * DAY
    replay = EventTimePolicy.between(lo, hi)
    assert replay.reject_reason(lo, NOW) is None
    assert replay.reject_reason(hi - 1, NOW) is None
    reason = replay.reject_reason(hi, NOW)
    assert reason is not None and "outside the range" in reason
    assert replay.watermark_cap(NOW) == hi - 1
    assert EventTimePolicy.between(None, None).reject_reason(946_684_800_000, NOW) is None


def test_describe_names_the_bounds() -> None:
    assert LIVE.describe() == "5m ahead, 7d behind"
    assert EventTimePolicy().describe() == "any time"
