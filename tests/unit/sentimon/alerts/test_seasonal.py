"""Seasonal baselines and market-hours limits on the real XNYS calendar (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from sentimon.alerts.lifecycle import AlertState
from sentimon.alerts.rulefile import parse_rules
from sentimon.alerts.rules import Rule
from sentimon.alerts.seasonal import SlotProfile
from sentimon.alerts.state import decode_profile, decode_record, encode_record
from sentimon.alerts.sweep import Tick, sweep
from sentimon.errors import ConfigError
from sentimon.windows import Stats

W = 900
NY = dt.timezone(dt.timedelta(hours=-4))  # EDT, the whole of July
VOLUME = Rule("vol", "volume_spike", ("market",), W, 4.0, 2.0, min_count=8, cooldown_s=0)
SEASONAL = replace(VOLUME, name="vol-s", baseline="seasonal", seasonal_days=20)


def at(day: int, hour: int, minute: int = 0) -> int:
    """Epoch seconds of July ``day`` 2024, New York time."""
    return int(dt.datetime(2024, 7, day, hour, minute, tzinfo=NY).timestamp())


def busy_at_open(start: int) -> float:
    """Posts per 15-minute window: 60 in the first half hour of a session, 3 otherwise."""
    local = dt.datetime.fromtimestamp(start, NY)
    trading = local.weekday() < 5 and local.day != 4
    return 60 if trading and (local.hour, local.minute) in ((9, 30), (9, 45)) else 3


def feed(first: int, last: int) -> dict[int, Stats]:
    return {i: Stats(count=int(busy_at_open(i * W))) for i in range(first // W, last // W)}


def run(rule: Rule, sums: dict[int, Stats], first: int, last: int, *, batch: int = 1):
    """Sweep one tick per window (its last minute), ``batch`` ticks per sweep, the record
    going through its JSON encoding between sweeps, as between batches."""
    raw: str | None = None
    opened: list[int] = []
    ticks = [Tick(i * W + W - 60, (i * W + W - 30) * 1000) for i in range(first // W, last // W)]
    for k in range(0, len(ticks), batch):
        result = sweep(
            rule,
            decode_record(raw),
            ticks[k : k + batch],
            window_of=lambda t: sums.get(t.minute_s // W, Stats()),
            sums=sums,
            mute=lambda: None,
            make_id=lambda t: f"a{t}",
            profile=decode_profile(raw),
        )
        opened += [e.tick.ts_ms // 1000 for e in result.emitted if e.notice.status == "firing"]
        raw = encode_record(result.state, result.profile if rule.seasonal else None)
    return opened, raw


def test_the_open_is_compared_with_earlier_opens_not_with_the_night():
    start, end = at(8, 0), at(13, 0)  # Monday to Friday morning
    sums = feed(start - 16 * W, end)
    ewma_alerts, _ = run(VOLUME, sums, start, end)
    seasonal_alerts, raw = run(SEASONAL, sums, start, end)
    opens = {d: at(d, 9, 59) for d in (8, 9, 10, 11, 12)}
    # The EWMA compares each open (60 posts) with the night (3): it fires every morning.
    assert [dt.datetime.fromtimestamp(t, NY).day for t in ewma_alerts] == [8, 9, 10, 11, 12]
    # The seasonal baseline fires on the first open only (no history of opens yet).
    assert seasonal_alerts == [t for t in ewma_alerts if t < opens[9]]
    profile = decode_profile(raw)
    assert profile.slots["t19"][1] > 40 and profile.slots["t3"][1] == pytest.approx(3)


def test_a_genuine_spike_at_the_open_still_fires():
    start, end = at(8, 0), at(12, 9, 30)
    sums = feed(start - 16 * W, end + W)
    spike = at(12, 9, 30) // W
    sums[spike] = Stats(count=300)
    alerts, _ = run(SEASONAL, sums, start, end + W)
    assert alerts and alerts[-1] // W == spike


def test_blend_weight_grows_with_the_days_seen():
    sums = feed(at(7, 0) - 16 * W, at(13, 0))
    weights = []
    for day in (9, 10, 11, 12):
        _, raw = run(SEASONAL, sums, at(8, 0), at(day, 9, 30))
        result = sweep(
            SEASONAL,
            AlertState(),
            [Tick(at(day, 9, 44), at(day, 9, 44) * 1000)],
            window_of=lambda t: Stats(count=60),
            sums=sums,
            mute=lambda: None,
            make_id=str,
            profile=decode_profile(raw),
        )
        assert result.last_signal is not None and result.last_signal.baseline is not None
        weights.append(result.last_signal.baseline.seasonal_weight)
    # About one day per day folded (a little less: the decay), full weight after 5 days.
    assert weights == sorted(weights) and 0.18 < weights[0] <= 0.2
    assert 0.7 < weights[-1] <= 0.8


def test_a_holiday_is_compared_with_weekends_not_with_trading_days():
    sums = feed(at(1, 0) - 16 * W, at(5, 0))
    _, raw = run(SEASONAL, sums, at(1, 0), at(5, 0))
    profile = decode_profile(raw)
    # July 4th's 09:30 is a non-trading slot: quiet, like the night and the weekend.
    assert profile.slots["n19"][1] == pytest.approx(3)
    assert profile.slots["t19"][1] > 40


@pytest.mark.parametrize("batch", [1, 7, 96])
def test_same_input_same_alerts_and_profile_however_batched(batch):
    start, end = at(1, 0), at(19, 0)
    sums = feed(start - 16 * W, end)
    sums[at(16, 14) // W] = Stats(count=200)
    reference = run(SEASONAL, sums, start, end)
    assert run(SEASONAL, sums, start, end, batch=batch) == reference
    assert any(t // W == at(16, 14) // W for t in reference[0])


def test_old_records_without_a_profile_still_load():
    raw = '{"status":"ok","alert_id":null,"opened_ms":null,"seq":0}'
    assert decode_record(raw) == AlertState() and decode_profile(raw) == SlotProfile()
    assert "season" not in encode_record(AlertState(), SlotProfile())


@pytest.mark.parametrize(
    ("hours", "local_hour", "opens"),
    [("market", 10, True), ("market", 20, False), ("closed", 10, False), ("closed", 20, True)],
)
def test_hours_limit_when_a_rule_may_open(hours, local_hour, opens):
    rule = replace(VOLUME, hours=hours, warmup=1)
    now = at(9, local_hour, 5)
    sums = {now // W - k: Stats(count=3) for k in range(1, 17)}
    result = sweep(
        rule,
        AlertState(),
        [Tick(now - now % 60, now * 1000)],
        window_of=lambda t: Stats(count=100),
        sums=sums,
        mute=lambda: None,
        make_id=str,
    )
    assert result.state.firing is opens
    assert result.last_signal is not None
    assert result.last_signal.reason == ("" if opens else "hours")


RULE = """
[[rule]]
name = "v"
scope = "market"
kind = "volume_spike"
window = "15m"
k = 3.0
{extra}
"""


def test_rule_file_options_and_defaults():
    rules = parse_rules(RULE.format(extra='baseline = "seasonal"\nhours = "market"'))
    rule = rules.rules[0]
    assert (rule.baseline, rule.slot_s, rule.seasonal_days, rule.exchange, rule.hours) == (
        "seasonal",
        1800,
        20,
        "XNYS",
        "market",
    )
    assert parse_rules(RULE.format(extra=""), exchange="xnas").rules[0].exchange == "XNAS"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ('baseline = "daily"', "baseline"),
        ('hours = "night"', "hours"),
        ('baseline = "seasonal"\nslot = "20m"', "slot"),
        ('slot = "7m"', "slot"),
        ("seasonal_days = 1", "seasonal_days"),
        ('hours = "market"\nexchange = "MOON"', "exchange"),
    ],
)
def test_rule_file_errors_name_line_and_field(extra, field):
    with pytest.raises(ConfigError, match=rf"rules\.toml, line \d+: rule 'v' field '{field}'"):
        parse_rules(RULE.format(extra=extra), "rules.toml")
