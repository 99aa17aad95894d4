"""Alert quality on a simulated market month: today's EWMA rules against seasonal ones.

One month of posts (deterministic seed) with the market day's rhythm: a volume bump at
the open every trading day, a busy session, a quieter evening, quiet nights and weekends,
one real exchange holiday (July 4th, 2024 by default) and the early close before it, plus
five genuine events of different sizes at known times (volume and/or sentiment, on one
ticker or the whole market; one after hours, one on a weekend). Posts are bucketed by
minute for ``market`` and ``ticker:ACME`` (each post is its own story) and replayed
minute by minute through the real evaluation path of the alert hook: ``sweep`` (the
EWMA baseline from the exact per-window sums, the seasonal fold and blend, ``measure``,
``limit_hours``, the lifecycle) with each pair's record, profile included, carried from
tick to tick. The hook only adds Redis around exactly this; the tick is the latest post
of each minute, as live.

Two rule sets, same table: the shipped rules as they were (every baseline ``ewma``, no
``hours``) and the shipped rules as shipped (seasonal where the file says so). Reported:
alerts per day, false alerts (opened outside every event's span, the event's start to 30
minutes after its end), events caught (an alert on the event's entity inside its span),
median delay from event start to the first such alert, and the record size per pair.

    python bench/alerts.py [--seed 1] [--month 2024-07] [--history-days 14]

The month is preceded by ``--history-days`` ordinary days (no event) that only warm the
baselines up, as a consumer that has been running has them; a third row shows the month
from a cold start.

Tune on another seed (``--seed 2``); the report uses seed 1. Writes
``bench/results/alerts.json``; prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import statistics
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, write_result
from sentimon.alerts.lifecycle import AlertState
from sentimon.alerts.rulefile import load_rules
from sentimon.alerts.rules import Rule
from sentimon.alerts.seasonal import SlotProfile
from sentimon.alerts.state import encode_record
from sentimon.alerts.sweep import Tick, sweep
from sentimon.market_calendar import get_calendar
from sentimon.windows import Stats

NY = ZoneInfo("America/New_York")
ENTITIES = ("market", "ticker:ACME")
#: ACME's share of the background flow.
ACME_SHARE = 0.1
#: Minutes after an event's end that still count as its alerts.
GRACE_MIN = 30


@dataclass(frozen=True)
class Event:
    name: str
    entity: str
    #: day of the month, local hour and minute (New York)
    day: int
    hour: int
    minute: int
    posts: int
    minutes: int
    score: float

    def start(self, year: int, month: int) -> int:
        local = dt.datetime(year, month, self.day, self.hour, self.minute, tzinfo=NY)
        return int(local.timestamp())


#: Five genuine events of different sizes and kinds (volume and/or sentiment).
EVENTS = (
    Event("ACME earnings beat (session, volume + rise)", "ticker:ACME", 9, 11, 20, 30, 12, 0.7),
    Event("ACME lawsuit (session, volume + drop)", "ticker:ACME", 16, 14, 5, 16, 10, -0.75),
    Event("CPI shock (pre-market, market volume)", "market", 11, 8, 30, 140, 15, -0.25),
    Event("ACME after-hours warning (evening)", "ticker:ACME", 24, 19, 10, 14, 8, -0.7),
    Event("weekend geopolitical shock (market drop)", "market", 27, 12, 0, 90, 15, -0.65),
)


def background_rate(local: dt.datetime, trading: bool, early_close: bool) -> float:
    """Market posts per minute at a local time (before ACME's share is taken)."""
    hm = local.hour + local.minute / 60
    if not trading:
        return 0.45 if 10 <= hm < 18 else 0.25
    close = 13 if early_close else 16
    if hm < 7:
        return 0.3
    if hm < 9.5:
        return 0.9
    if hm < 10:
        return 6.0  # the open
    if hm < close - 0.5:
        return 2.2
    if hm < close:
        return 3.5  # into the close
    if hm < 20:
        return 1.0
    return 0.4


def label_of(score: float) -> str:
    return "negative" if score < -0.33 else "positive" if score > 0.33 else "neutral"


def simulate(
    seed: int, year: int, month: int, history_days: int = 0
) -> dict[str, dict[int, Stats]]:
    """Per entity: minute (epoch s) -> stats of its posts; ``history_days`` of ordinary
    days (no event) run before the month."""
    rng = random.Random(seed)
    calendar = get_calendar("XNYS")
    first = int(dt.datetime(year, month, 1, tzinfo=NY).timestamp()) - history_days * 86_400
    end = int(dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=NY).timestamp())
    minutes: dict[str, dict[int, Stats]] = {e: {} for e in ENTITIES}

    def add(entity: str, minute: int, score: float) -> None:
        post = Stats.of_post(label_of(score), score)
        for name in {entity, "market"}:
            minutes[name][minute] = minutes[name].get(minute, Stats()) + post

    for minute in range(first, end, 60):
        local = dt.datetime.fromtimestamp(minute, NY)
        session = calendar.session(minute)
        trading = session is not None
        early = trading and session is not None and session.close - session.open < 6 * 3600
        rate = background_rate(local, trading, early)
        for _ in range(_poisson(rng, rate)):
            score = max(-1.0, min(1.0, rng.gauss(0.05, 0.45)))
            add("ticker:ACME" if rng.random() < ACME_SHARE else "market", minute, score)
    for event in EVENTS:
        start = event.start(year, month)
        for _ in range(event.posts):
            # Front-loaded: news breaks, then the echo fades.
            at = start + int(event.minutes * 60 * rng.random() ** 2)
            score = max(-1.0, min(1.0, rng.gauss(event.score, 0.25)))
            add(event.entity, at - at % 60, score)
    return minutes


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def replay(rule: Rule, entity: str, minutes: dict[int, Stats]) -> tuple[list[int], int]:
    """Opening times (epoch s) of ``rule`` on the entity's minutes; the largest record
    (JSON bytes) the pair had."""
    w = rule.window_s
    sums: dict[int, Stats] = {}
    for minute, stats in minutes.items():
        sums[minute // w] = sums.get(minute // w, Stats()) + stats
    state, profile, opened, largest = AlertState(), SlotProfile(), [], 0
    ordered = sorted(minutes)
    window: list[tuple[int, Stats]] = []
    current = Stats()
    for minute in ordered:
        window.append((minute, minutes[minute]))
        current = current + minutes[minute]
        while window[0][0] <= minute - w:
            current = current - window.pop(0)[1]
        result = sweep(
            rule,
            state,
            [Tick(minute, (minute + 59) * 1000)],
            window_of=lambda _t, c=current: c,  # type: ignore[misc]
            sums=sums,
            mute=lambda: None,
            make_id=lambda t: f"{rule.name}:{t}",
            profile=profile,
        )
        if result.profile is not profile and minute % 86_400 == 0:
            largest = max(largest, len(encode_record(result.state, result.profile)))
        state, profile = result.state, result.profile
        opened += [e.tick.minute_s for e in result.emitted if e.notice.status == "firing"]
    largest = max(largest, len(encode_record(state, profile if rule.seasonal else None)))
    return opened, largest


def evaluate(rules: list[Rule], data: dict[str, dict[int, Stats]], year: int, month: int):
    """The month's alerts (the history before it only warms the baselines up)."""
    first = int(dt.datetime(year, month, 1, tzinfo=NY).timestamp())
    spans = [
        (ev, ev.start(year, month), ev.start(year, month) + (ev.minutes + GRACE_MIN) * 60)
        for ev in EVENTS
    ]
    alerts: list[dict[str, Any]] = []
    largest = 0
    for rule in rules:
        for entity in ENTITIES:
            if rule.matches(entity):
                opened, size = replay(rule, entity, data[entity])
                largest = max(largest, size)
                alerts += [
                    {"rule": rule.name, "entity": entity, "at": t} for t in opened if t >= first
                ]
    false = [a for a in alerts if not any(lo <= a["at"] <= hi for _, lo, hi in spans)]
    delays: dict[str, float | None] = {}
    for ev, lo, hi in spans:
        hits = [a["at"] for a in alerts if a["entity"] == ev.entity and lo <= a["at"] <= hi]
        # The tick is the minute's last second: the alert is known by then.
        delays[ev.name] = round((min(hits) + 59 - lo) / 60, 1) if hits else None
    caught = [d for d in delays.values() if d is not None]
    days = len({m // 86_400 for e in data.values() for m in e if m >= first})
    first_false = [
        {**a, "at": dt.datetime.fromtimestamp(a["at"], NY).strftime("%a %d %H:%M")}
        for a in sorted(false, key=lambda a: a["at"])
    ]
    return {
        "alerts": len(alerts),
        "alerts_per_day": round(len(alerts) / days, 2),
        "false_alerts": len(false),
        "false_per_week": round(len(false) / days * 7, 2),
        "events_caught": f"{len(caught)}/{len(EVENTS)}",
        "median_delay_min": statistics.median(caught) if caught else None,
        "delays_min": delays,
        "largest_record_bytes": largest,
        "false_examples": first_false[:12],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--month", default="2024-07", help="YYYY-MM (the events assume July)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/alerts.json")
    parser.add_argument(
        "--history-days",
        type=int,
        default=14,
        help="ordinary days replayed before the month to warm the baselines up, as a "
        "deployment that has been running (or a backtest started earlier) has them",
    )
    args = parser.parse_args(argv)
    year, month = (int(x) for x in args.month.split("-"))
    data = simulate(args.seed, year, month, args.history_days)
    cold = simulate(args.seed, year, month, 0) if args.history_days else data
    shipped = list(load_rules().rules)
    today = [replace(r, baseline="ewma", hours="any") for r in shipped]
    results = {
        "ewma (today's rules)": evaluate(today, data, year, month),
        "seasonal (shipped rules)": evaluate(shipped, data, year, month),
        "seasonal, no history": evaluate(shipped, cold, year, month),
    }
    print(f"alerts on a simulated month ({args.month}, seed {args.seed}, XNYS)")
    print(f"{'rules':<26}{'alerts/day':>11}{'false':>7}{'false/wk':>9}{'caught':>8}"
          f"{'median delay':>14}{'record B':>10}")  # fmt: skip
    for name, r in results.items():
        delay = "-" if r["median_delay_min"] is None else f"{r['median_delay_min']} min"
        print(f"{name:<26}{r['alerts_per_day']:>11}{r['false_alerts']:>7}"
              f"{r['false_per_week']:>9}{r['events_caught']:>8}{delay:>14}"
              f"{r['largest_record_bytes']:>10}")  # fmt: skip
    for name, r in results.items():
        print(f"\n{name}: delays (min) {r['delays_min']}")
        for a in r["false_examples"]:
            print(f"  false: {a['at']} {a['rule']} {a['entity']}")
    write_result(
        args.out,
        {
            "command": f"python bench/alerts.py --seed {args.seed} --month {args.month} "
            f"--history-days {args.history_days}",
            "seed": args.seed,
            "history_days": args.history_days,
            "month": args.month,
            "posts": sum(s.count for s in data["market"].values()),
            "events": [e.__dict__ for e in EVENTS],
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
