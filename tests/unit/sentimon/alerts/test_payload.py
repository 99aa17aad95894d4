"""Alert ids and payloads."""

from __future__ import annotations

from sentimon.alerts.baseline import Baseline
from sentimon.alerts.detect import measure
from sentimon.alerts.lifecycle import Notice
from sentimon.alerts.payload import build_payload, encode, fingerprint, scope_of, top_posts
from sentimon.alerts.rules import Rule
from sentimon.windows import Stats

RULE = Rule(
    "drop",
    "sentiment_drop",
    ("ticker:*",),
    900,
    threshold=3.0,
    resolve=1.0,
    severity="critical",
    description="d",
)


def test_fingerprint_is_stable_and_specific():
    a = fingerprint("live", "drop", "ticker:NVDA", 1000)
    assert a == fingerprint("live", "drop", "ticker:NVDA", 1000) and len(a) == 20
    others = {
        fingerprint("bt", "drop", "ticker:NVDA", 1000),
        fingerprint("live", "rise", "ticker:NVDA", 1000),
        fingerprint("live", "drop", "ticker:AMD", 1000),
        fingerprint("live", "drop", "ticker:NVDA", 1001),
    }
    assert a not in others and len(others) == 4


def test_top_posts_follow_the_rule_direction():
    posts = [
        {"id": str(i), "ts": i, "score": s, "text": "t", "url": None}
        for i, s in enumerate([0.5, -0.9, 0.1, -0.2, 0.9])
    ]
    assert [p["id"] for p in top_posts(RULE, posts, 3)] == ["1", "3", "2"]
    rise = Rule("rise", "sentiment_rise", ("*",), 900, 3.0, 1.0)
    assert [p["id"] for p in top_posts(rise, posts + posts, 2)] == ["4", "0"]  # de-duplicated
    volume = Rule("v", "volume_spike", ("*",), 900, 3.0, 1.0)
    assert [p["id"] for p in top_posts(volume, posts, 2)] == ["4", "3"]  # newest
    assert (
        len(top_posts(RULE, [{"id": "x", "ts": 1, "score": 0, "text": "y" * 1000}])[0]["text"])
        == 280
    )


def test_payload_has_every_promised_field():
    notice = Notice("firing", "abc", 0, 1_000_000, 1_060_000, True)
    window = Stats()
    for score in [-0.9] * 10 + [0.1, 0.1]:
        window = window + Stats.of_post("negative" if score < 0 else "neutral", score)
    baseline = Baseline(mean=0.1, var=0.2, windows=8, rate=3.0, rate_windows=8)
    signal = measure(RULE, window, baseline)
    assert signal.active and signal.metric == "z"
    posts = [{"id": "p1", "ts": 1_050_000, "text": "bad", "url": "http://x", "score": -0.9}]
    body = build_payload(
        notice,
        RULE,
        "ticker:NVDA",
        signal,
        namespace="live",
        window_end_ms=1_060_000,
        model="m@1",
        posts=top_posts(RULE, posts),
    )
    for key in (
        "id",
        "event_id",
        "status",
        "rule",
        "kind",
        "severity",
        "entity",
        "scope",
        "namespace",
        "window",
        "stats",
        "model",
        "top_posts",
        "opened_ms",
        "summary",
    ):
        assert key in body, key
    assert body["event_id"] == "abc.0" and body["scope"] == {"type": "ticker", "value": "NVDA"}
    assert body["window"] == {
        "length": "15m",
        "seconds": 900,
        "start_ms": 180_000,
        "end_ms": 1_060_000,
    }
    assert body["top_posts"][0] == {
        "id": "p1",
        "ts": 1_050_000,
        "text": "bad",
        "url": "http://x",
        "score": -0.9,
        "label": None,
        "source": None,
    }
    assert body["stats"]["count"] == 12 and body["stats"]["baseline_mean"] == 0.1
    assert body["stats"]["z"] == body["value"] < -3 and body["stats"]["negative_share"] == 0.833333
    assert "ticker:NVDA" in body["summary"] and f"z={body['value']:.2f}" in body["summary"]
    assert encode(body) == encode(dict(reversed(list(body.items()))))  # canonical
    assert scope_of("market") == {"type": "market", "value": ""}
