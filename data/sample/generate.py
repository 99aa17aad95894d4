"""Generate the sample feed shipped with sentimon (deterministic; written for this project).

Four hours of event time on 2026-11-02 (14:00-18:00 UTC): ~300 news headlines and ~450
social posts across 24 tickers with mixed sentiment, plus a clear negative burst on NVDA
(recall and guidance cut) between 16:00 and 16:40, when the volume triples and almost every
post is negative. Run ``python data/sample/generate.py`` to rebuild the .jsonl files.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
HOURS = 4
BURST_TICKER = "NVDA"
BURST_START, BURST_END = START + timedelta(hours=2), START + timedelta(hours=2, minutes=40)

TICKERS = {
    "AAPL": "Apple",
    "MSFT": "Microsoft",
    "NVDA": "Nvidia",
    "AMZN": "Amazon",
    "GOOGL": "Alphabet",
    "META": "Meta",
    "TSLA": "Tesla",
    "JPM": "JPMorgan",
    "BAC": "Bank of America",
    "XOM": "Exxon",
    "CVX": "Chevron",
    "PFE": "Pfizer",
    "JNJ": "Johnson & Johnson",
    "WMT": "Walmart",
    "KO": "Coca-Cola",
    "DIS": "Disney",
    "NFLX": "Netflix",
    "INTC": "Intel",
    "AMD": "AMD",
    "BA": "Boeing",
    "GS": "Goldman Sachs",
    "NKE": "Nike",
    "BRK.B": "Berkshire Hathaway",
    "UBER": "Uber",
}
PUBLISHERS = ["Newswire", "MarketDesk", "FinTimes Daily", "Street Ledger", "Capital Brief"]
PLATFORMS = ["x", "stocktwits", "reddit"]

NEWS = {
    "positive": [
        "{name} beats quarterly estimates as revenue jumps {pct}%",
        "{name} raises full-year guidance on strong demand",
        "{name} shares climb after upbeat analyst upgrade to buy",
        "{name} announces ${amt}bn share buyback, stock rallies",
        "{name} wins major contract, shares hit record high",
        "Analysts lift {name} price target after blowout results",
    ],
    "negative": [
        "{name} misses earnings forecasts, shares slide {pct}%",
        "{name} cuts outlook citing weak demand",
        "{name} downgraded to sell on margin pressure",
        "Regulators open probe into {name} accounting practices",
        "{name} shares tumble after CEO unexpectedly resigns",
        "{name} announces layoffs of {amt},000 workers amid slowdown",
    ],
    "neutral": [
        "{name} to report third-quarter results next week",
        "{name} schedules annual shareholder meeting for March",
        "{name} names new chief financial officer",
        "{name} completes previously announced debt offering",
        "{name} shares unchanged ahead of Fed decision",
        "{name} to present at industry conference on Thursday",
    ],
}
SOCIAL = {
    "positive": [
        "${t} breaking out, loading more calls",
        "${t} earnings were fantastic, long and strong",
        "Bullish on ${t}, this dip was a gift",
        "${t} to the moon, guidance was way better than expected",
        "Added to my ${t} position today, fundamentals look great",
    ],
    "negative": [
        "${t} looks terrible, dumping my shares",
        "Bearish on ${t}, that guidance was a disaster",
        "${t} breaking down hard, stop losses everywhere",
        "Selling all my ${t}, management has lost the plot",
        "${t} puts printing today, this is going lower",
    ],
    "neutral": [
        "Anyone watching ${t} into the close?",
        "${t} volume is average today",
        "What is the consensus on ${t} earnings date?",
        "Holding ${t} for now, waiting for the report",
        "${t} trading sideways all session",
    ],
}
BURST_NEWS = [
    "Nvidia recalls data-center chips over overheating defect, shares plunge",
    "Nvidia slashes revenue guidance after recall, stock sinks {pct}%",
    "Nvidia faces class-action lawsuit over chip defect disclosure",
    "Analysts downgrade Nvidia as recall costs mount",
    "Nvidia suspends shipments to key cloud customers amid recall",
]
BURST_SOCIAL = [
    "$NVDA recall is a disaster, getting out now",
    "$NVDA crashing, guidance cut is brutal",
    "Dumped all my $NVDA, this recall will take quarters to fix",
    "$NVDA puts were the trade of the year, stock is collapsing",
    "Never seen $NVDA sell off this hard, awful news",
    "$NVDA lawsuit plus recall, bearish for months",
]


def _ts(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.uniform(0, HOURS * 3600))


def _fill(template: str, rng: random.Random, symbol: str) -> str:
    return template.format(
        name=TICKERS.get(symbol, symbol), t=symbol, pct=rng.randint(3, 18), amt=rng.randint(2, 40)
    )


def _news(rng: random.Random, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        symbol = rng.choice(list(TICKERS))
        label = rng.choices(["positive", "negative", "neutral"], [0.38, 0.27, 0.35])[0]
        ts = _ts(rng)
        rows.append(
            {
                "id": f"news-{i:04d}",
                "ts": ts.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                "source": rng.choice(PUBLISHERS),
                "tickers": [symbol],
                "text": _fill(rng.choice(NEWS[label]), rng, symbol),
                "url": f"https://news.example.com/{symbol.lower()}/{i:04d}",
                "lang": "en",
            }
        )
    return rows


def _social(rng: random.Random, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        symbol = rng.choice(list(TICKERS))
        label = rng.choices(["positive", "negative", "neutral"], [0.4, 0.25, 0.35])[0]
        rows.append(
            {
                "id": f"social-{i:04d}",
                "ts": _ts(rng).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                "source": rng.choice(PLATFORMS),
                "author": f"user{rng.randint(1, 400)}",
                "text": _fill(rng.choice(SOCIAL[label]), rng, symbol),
            }
        )
    return rows


def _burst(rng: random.Random, n_news: int, n_social: int) -> tuple[list[dict], list[dict]]:
    span = (BURST_END - BURST_START).total_seconds()
    news, social = [], []
    for i in range(n_news):
        ts = BURST_START + timedelta(seconds=rng.uniform(0, span))
        news.append(
            {
                "id": f"news-burst-{i:03d}",
                "ts": ts.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                "source": rng.choice(PUBLISHERS),
                "tickers": [BURST_TICKER],
                "text": _fill(rng.choice(BURST_NEWS), rng, BURST_TICKER),
                "url": f"https://news.example.com/nvda/burst-{i:03d}",
                "lang": "en",
            }
        )
    for i in range(n_social):
        ts = BURST_START + timedelta(seconds=rng.uniform(0, span))
        social.append(
            {
                "id": f"social-burst-{i:03d}",
                "ts": ts.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                "source": rng.choice(PLATFORMS),
                "author": f"user{rng.randint(1, 400)}",
                "text": rng.choice(BURST_SOCIAL),
            }
        )
    return news, social


def main() -> None:
    rng = random.Random(20261102)
    news, social = _news(rng, 270), _social(rng, 400)
    burst_news, burst_social = _burst(rng, 30, 60)
    out = Path(__file__).parent
    for name, rows in (("news", news + burst_news), ("social", social + burst_social)):
        rows.sort(key=lambda r: (r["ts"], r["id"]))
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {len(rows)} records to {out / f'{name}.jsonl'}")


if __name__ == "__main__":
    main()
