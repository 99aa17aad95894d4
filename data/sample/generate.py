"""Generate the sample feed shipped with sentimon (deterministic; written for this project).

Four hours of event time on 2026-11-02 (14:00-18:00 UTC): ~300 news headlines and ~460
social posts about S&P 500 companies with mixed sentiment, plus a clear negative burst on
NVDA (recall and guidance cut) between 16:00 and 16:40, when the volume triples and almost
every post is negative. Every headline and post is invented for this project.

How posts name their companies, so the demo exercises entity linking
(``sentimon.entities``):

- about a third name a company only by name, with no cashtag and no ``tickers`` field
  ("Nvidia shares climb after data-center sales beat estimates");
- about a tenth name several: two rivals with different sentiment ("Coca-Cola gains on
  upbeat forecast while PepsiCo slides"), or a market wrap naming four to eight companies
  in passing (low relevance);
- the rest carry the ticker as before: a ``tickers`` field (news) or a cashtag (social).

Run ``python data/sample/generate.py`` to rebuild the .jsonl files; add ``--check`` to
also link every post with the universe (``SENTIMON_UNIVERSE`` or the shipped file) and
list the ones whose companies do not all link.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from texts import (
    BURST_NEWS,
    BURST_SOCIAL,
    COMPANIES,
    NAME_ONLY,
    NAMED_NEWS,
    NAMED_SOCIAL,
    NEWS,
    PAIR_NEWS,
    PAIR_SOCIAL,
    RIVALS,
    SOCIAL,
    TICKERS,
    WRAPS,
)

START = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
HOURS = 4
BURST_TICKER = "NVDA"
BURST_START, BURST_END = START + timedelta(hours=2), START + timedelta(hours=2, minutes=40)
PUBLISHERS = ["Newswire", "MarketDesk", "FinTimes Daily", "Street Ledger", "Capital Brief"]
PLATFORMS = ["x", "stocktwits", "reddit"]
#: Share of each kind of post (the rest: the ticker in a field or a cashtag).
NEWS_MIX = {"named": 0.45, "pair": 0.12, "wrap": 0.04}
SOCIAL_MIX = {"named": 0.28, "pair": 0.07}
LABELS = ("positive", "negative", "neutral")

Post = dict[str, object]
#: A generated post and the tickers it is meant to link to (not part of the message).
Made = tuple[Post, list[str]]


def _stamp(ts: datetime) -> str:
    return ts.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _ts(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.uniform(0, HOURS * 3600))


def _fill(template: str, rng: random.Random, **names: str) -> str:
    return template.format(pct=rng.randint(3, 18), amt=rng.randint(2, 40), **names)


def _company(symbol: str, key: str = "") -> dict[str, str]:
    """``name``/``biz`` (or ``name_a``/``biz_a`` with ``key='_a'``) of a company."""
    name, biz = COMPANIES[symbol]
    return {f"name{key}": name, f"biz{key}": biz}


def _pick(rng: random.Random, mix: dict[str, float]) -> str:
    draw, edge = rng.random(), 0.0
    for kind, share in mix.items():
        edge += share
        if draw < edge:
            return kind
    return "ticker"


def _label(rng: random.Random, weights: tuple[float, float, float]) -> str:
    return rng.choices(LABELS, weights)[0]


def _pair(rng: random.Random) -> tuple[str, str]:
    """Two rivals, in random order."""
    first, second = rng.choice(RIVALS)
    return (first, second) if rng.random() < 0.5 else (second, first)


def news_text(rng: random.Random, kind: str) -> tuple[str, list[str], bool]:
    """(headline, the tickers it names, whether the tickers go in the ``tickers`` field)."""
    if kind == "named":
        symbol = rng.choice(NAME_ONLY)
        label = _label(rng, (0.38, 0.27, 0.35))
        return _fill(rng.choice(NAMED_NEWS[label]), rng, **_company(symbol)), [symbol], False
    if kind == "pair":
        a, b = _pair(rng)
        names = {**_company(a, "_a"), **_company(b, "_b")}
        return _fill(rng.choice(PAIR_NEWS), rng, **names), [a, b], False
    if kind == "wrap":
        return _wrap(rng)
    symbol = rng.choice(TICKERS)
    label = _label(rng, (0.38, 0.27, 0.35))
    return _fill(rng.choice(NEWS[label]), rng, **_company(symbol)), [symbol], True


def _wrap(rng: random.Random) -> tuple[str, list[str], bool]:
    """A market wrap naming several companies of one theme, each in passing."""
    template, pool = rng.choice(WRAPS)
    symbols = rng.sample(pool, min(len(pool), rng.randint(4, 8)))
    names = [COMPANIES[s][0] for s in symbols]
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    return template.format(names=listed, pct=rng.randint(2, 4)), symbols, False


def social_text(rng: random.Random, kind: str) -> tuple[str, list[str]]:
    """(post, the tickers it names): by name, a pair by cashtag, or one cashtag."""
    if kind == "named":
        symbol = rng.choice(NAME_ONLY)
        label = _label(rng, (0.4, 0.25, 0.35))
        return _fill(rng.choice(NAMED_SOCIAL[label]), rng, **_company(symbol)), [symbol]
    if kind == "pair":
        a, b = _pair(rng)
        return _fill(rng.choice(PAIR_SOCIAL), rng, a=a, b=b), [a, b]
    symbol = rng.choice(TICKERS)
    label = _label(rng, (0.4, 0.25, 0.35))
    return _fill(rng.choice(SOCIAL[label]), rng, t=symbol), [symbol]


def make_news(rng: random.Random, n: int) -> list[Made]:
    out: list[Made] = []
    for i in range(n):
        text, symbols, in_field = news_text(rng, _pick(rng, NEWS_MIX))
        row: Post = {
            "id": f"news-{i:04d}",
            "ts": _stamp(_ts(rng)),
            "source": rng.choice(PUBLISHERS),
        }
        if in_field:
            row["tickers"] = symbols
        row |= {"text": text, "url": _url(symbols[0], f"{i:04d}"), "lang": "en"}
        out.append((row, symbols))
    return out


def _url(symbol: str, slug: str) -> str:
    return f"https://news.example.com/{symbol.lower()}/{slug}"


def make_social(rng: random.Random, n: int) -> list[Made]:
    out: list[Made] = []
    for i in range(n):
        text, symbols = social_text(rng, _pick(rng, SOCIAL_MIX))
        row: Post = {
            "id": f"social-{i:04d}",
            "ts": _stamp(_ts(rng)),
            "source": rng.choice(PLATFORMS),
            "author": f"user{rng.randint(1, 400)}",
            "text": text,
        }
        out.append((row, symbols))
    return out


def make_burst(rng: random.Random, n_news: int, n_social: int) -> tuple[list[Made], list[Made]]:
    """The NVDA sell-off: headlines naming Nvidia (with the ticker field) and cashtags."""
    span = (BURST_END - BURST_START).total_seconds()

    def when() -> str:
        return _stamp(BURST_START + timedelta(seconds=rng.uniform(0, span)))

    news: list[Made] = []
    for i in range(n_news):
        row: Post = {
            "id": f"news-burst-{i:03d}",
            "ts": when(),
            "source": rng.choice(PUBLISHERS),
            "tickers": [BURST_TICKER],
            "text": _fill(rng.choice(BURST_NEWS), rng),
            "url": _url(BURST_TICKER, f"burst-{i:03d}"),
            "lang": "en",
        }
        news.append((row, [BURST_TICKER]))
    social: list[Made] = []
    for i in range(n_social):
        row = {
            "id": f"social-burst-{i:03d}",
            "ts": when(),
            "source": rng.choice(PLATFORMS),
            "author": f"user{rng.randint(1, 400)}",
            "text": rng.choice(BURST_SOCIAL),
        }
        social.append((row, [BURST_TICKER]))
    return news, social


def build() -> dict[str, list[Made]]:
    """Both files' posts, in event-time order."""
    rng = random.Random(20261102)
    news, social = make_news(rng, 270), make_social(rng, 400)
    burst_news, burst_social = make_burst(rng, 30, 60)
    files = {"news": news + burst_news, "social": social + burst_social}
    for rows in files.values():
        rows.sort(key=lambda made: (str(made[0]["ts"]), str(made[0]["id"])))
    return files


def write(files: dict[str, list[Made]], out: Path) -> None:
    for name, rows in files.items():
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for row, _ in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {len(rows)} records to {out / f'{name}.jsonl'}")


def describe(files: dict[str, list[Made]]) -> str:
    """How the posts name their companies, as shares of all posts."""
    rows = [made for made_rows in files.values() for made in made_rows]
    named = sum(1 for row, _ in rows if "tickers" not in row and "$" not in str(row["text"]))
    several = sum(1 for _, symbols in rows if len(symbols) > 1)
    return (
        f"{len(rows)} posts: {named / len(rows):.0%} name companies only by name, "
        f"{several / len(rows):.0%} name several"
    )


def check(files: dict[str, list[Made]], link: Callable[[Post], list[str]]) -> int:
    """Posts whose intended companies do not all link (printed); returns their number."""
    missed = 0
    for rows in files.values():
        for row, symbols in rows:
            found = link(row)
            if not set(symbols) <= set(found):
                missed += 1
                print(f"  {row['id']}: wanted {symbols}, linked {found}: {row['text']}")
    return missed


def linker_check(files: dict[str, list[Made]], universe: str | None) -> int:
    """Link with sentimon's own linker (from this checkout) over ``universe``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from sentimon.contract import Invalid, normalise_tickers  # noqa: PLC0415 (--check only)
    from sentimon.entities.link import linker_for  # noqa: PLC0415

    linker = linker_for(universe)

    def link(row: Post) -> list[str]:
        text, explicit = str(row["text"]), row.get("tickers")
        tickers = normalise_tickers(list(explicit) if isinstance(explicit, list) else [], text, 20)
        found = linker.link(text, tickers=() if isinstance(tickers, Invalid) else tickers)
        return [e.ticker for e in found]

    missed = check(files, link)
    print(f"{missed} posts with companies that do not link ({linker.universe.source})")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="link every post, list misses")
    args = parser.parse_args(argv)
    files = build()
    write(files, Path(__file__).parent)
    print(describe(files))
    if args.check:
        return 1 if linker_check(files, os.environ.get("SENTIMON_UNIVERSE") or None) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
