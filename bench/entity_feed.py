"""A feed for the entity benchmarks: posts that name companies the way news and social do.

Mix (issue 23): a third of the posts name one company by name only (no cashtag), a tenth
name two or three companies, the rest are cashtag posts or market posts naming none.
Companies are drawn from the shipped universe; the phrases are written for this
benchmark (generic market language, no real headlines). Deterministic for a seed.
"""

from __future__ import annotations

import random
from typing import Any

from sentimon.entities.universe import Company, load_universe

NAME_ONLY = (
    "{a} shares climb after quarterly revenue tops estimates",
    "{a} cuts its full-year outlook as demand cools",
    "{a} to present at an industry conference next week",
    "{a}'s new product line draws strong early orders",
    "Analysts raise price targets on {a} after a strong quarter",
    "{a} slides as margins shrink for a third straight quarter",
    "{a} announces a $2 billion share buyback",
    "{a} faces a regulatory probe over its sales practices",
    "{a} names a new chief financial officer",
    "{a} stock falls after a rating downgrade",
    "{a} wins a multi-year supply contract",
    "{a} opens a new regional office",
)
MULTI = (
    "{a} gains on upbeat guidance while {b} slides after a downgrade",
    "{a} and {b} extend their cloud partnership",
    "{a} beats estimates; {b} misses on margins",
    "{a} rallies as {b} warns on costs",
    "{a} agrees to buy a unit of {b} for $3 billion",
    "{a}, {b} and {c} lead the index higher",
)
CASHTAG = (
    "${t} breaking out, volume picking up",
    "${t} earnings next week, implied volatility elevated",
    "Added more ${t} on the dip today",
    "${t} looking weak into the close",
)
NONE = (
    "Treasury yields edge higher ahead of the jobs report",
    "Oil prices steady as traders weigh supply risks",
    "Stocks drift lower in quiet trading before the Fed decision",
    "The dollar firms against the euro after inflation data",
)


def entity_feed(n: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` messages (``id``, ``text``, ``source``) in the mix above."""
    rng = random.Random(seed)
    companies = [c for c in load_universe().companies if not c.ambiguous and len(c.name) > 2]
    out = []
    for i in range(n):
        roll = i % 30
        if roll < 10:
            text = rng.choice(NAME_ONLY).format(a=_name(rng, companies))
        elif roll < 13:
            a, b, c = (_name(rng, companies) for _ in range(3))
            text = rng.choice(MULTI).format(a=a, b=b, c=c)
        elif roll < 24:
            text = rng.choice(CASHTAG).format(t=rng.choice(companies).ticker)
        else:
            text = rng.choice(NONE)
        out.append({"id": f"ent-{i}", "text": text, "source": "bench"})
    return out


def _name(rng: random.Random, companies: list[Company]) -> str:
    company = rng.choice(companies)
    return rng.choice((company.name, *company.aliases)) if company.aliases else company.name
