"""Silence matchers and expiry."""

from __future__ import annotations

import pytest

from sentimon.alerts.silences import Silence, alert_labels, muting_silence, parse_matchers
from sentimon.errors import ConfigError

TSLA = alert_labels("ticker-drop", "sentiment_drop", "warning", "ticker:TSLA")
NEWS = alert_labels("market-drop", "sentiment_drop", "critical", "kind:news")


def test_labels():
    assert TSLA["ticker"] == "TSLA" and TSLA["scope"] == "ticker" and TSLA["source"] == ""
    assert NEWS["source"] == "news" and NEWS["ticker"] == ""


def test_matchers_and_globs():
    assert all(m.matches(TSLA) for m in parse_matchers(["ticker=tsla"]))
    both = parse_matchers(["kind=sentiment_*,severity!=critical"])
    assert all(m.matches(TSLA) for m in both) and not all(m.matches(NEWS) for m in both)
    assert all(m.matches(NEWS) for m in parse_matchers(["entity=kind:*", "source=news"]))


@pytest.mark.parametrize("bad", ["ticker", "colour=red", "ticker=", "=TSLA", ""])
def test_bad_matchers(bad):
    with pytest.raises(ConfigError, match=r"label=value|at least one"):
        parse_matchers([bad])


def test_silence_expires_and_round_trips():
    s = Silence.new(parse_matchers(["ticker=TSLA"]), now_ms=1000, for_s=60, reason="earnings")
    assert s.active(1000) and s.active(60_999) and not s.active(61_000) and not s.active(999)
    assert muting_silence([s], TSLA, 2000) is s
    assert muting_silence([s], NEWS, 2000) is None
    assert muting_silence([s], TSLA, 70_000) is None
    again = Silence.from_dict(s.as_dict())
    assert again == s and again.as_dict()["matchers"] == ["ticker=TSLA"]
    with pytest.raises(ConfigError):
        Silence.new(s.matchers, 0, 0, "")
