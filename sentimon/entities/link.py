"""Entity linking: which companies of the universe a post names, where, and how relevant.

Three ways in, in order of trust:

1. explicit tickers (the message's ``tickers`` field) and cashtags (``$AAPL``), as the
   contract extracted them; a symbol outside the universe still counts, unnamed;
2. a ``(NYSE: TGT)``-style ticker right after a name;
3. company names and aliases in the title and the text, found with one Aho-Corasick
   automaton (``pyahocorasick``) over the lower-cased text: possessives ("Apple's"),
   legal suffixes ("Microsoft Corp."), multi-word names ("Bank of America") and several
   names of one company ("Alphabet's Google") all link. A name the universe marks
   ambiguous needs context (``sentimon.entities.context``).

Why pyahocorasick: one pass over the text finds every name of a 500+-company universe
whatever its size, in C; measured against a compiled regular-expression alternation and
flashtext in docs/ENTITIES.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import ahocorasick

from sentimon.contract import cashtag_spans
from sentimon.entities.context import (
    Site,
    ambiguous_has_evidence,
    ambiguous_name_counts,
    casing_fits,
    paren_ticker,
    text_style,
)
from sentimon.entities.relevance import relevance
from sentimon.entities.universe import Company, Universe, load_universe

NAME, CASHTAG, TICKERS = "name", "cashtag", "tickers"
#: Companies linked per post at most (the rest are dropped, last named first).
MAX_ENTITIES = 20


@dataclass(frozen=True)
class Mention:
    """One place a company is named: ``text[start:end]`` (``in_title``: of the title)."""

    ticker: str
    start: int
    end: int
    via: str
    in_title: bool = False


@dataclass(frozen=True)
class Entity:
    """A company a post is about, with every mention and its relevance to the post."""

    ticker: str
    name: str | None
    sector: str | None
    mentions: tuple[Mention, ...]
    relevance: float

    @property
    def text_mentions(self) -> tuple[Mention, ...]:
        """Mentions located in the post's text (not its title nor its tickers field)."""
        return tuple(m for m in self.mentions if m.via != TICKERS and not m.in_title)


@dataclass(frozen=True)
class _Name:
    length: int
    ticker: str
    canonical: str
    ambiguous: bool


class Linker:
    """Links posts to a universe's companies (build once; ``link`` is thread-safe)."""

    def __init__(self, universe: Universe) -> None:
        self.universe = universe
        self._automaton = ahocorasick.Automaton()
        names = list(universe.names())
        for surface, company, ambiguous in [*names, *short_names(names)]:
            for variant in _variants(surface):
                key = _fold(variant)
                if len(key) >= 2 and key not in self._automaton:
                    self._automaton.add_word(
                        key, _Name(len(key), company.ticker, surface, ambiguous)
                    )
        if len(self._automaton):
            self._automaton.make_automaton()

    def link(
        self, text: str, *, title: str | None = None, tickers: Sequence[str] = ()
    ) -> list[Entity]:
        """The companies a post names, the subject first (see ``relevance``)."""
        mentions = [
            *(self._mentions(title, tickers, in_title=True) if title else []),
            *self._mentions(text, tickers, in_title=False),
        ]
        named = {m.ticker for m in mentions}
        mentions += [Mention(t, -1, -1, TICKERS) for t in tickers if t not in named]
        return self._entities(mentions)

    def _mentions(self, text: str, tickers: Sequence[str], *, in_title: bool) -> list[Mention]:
        found = [Mention(sym, a, b, CASHTAG, in_title) for sym, a, b in cashtag_spans(text)]
        style = text_style(text)
        pending = []
        for start, end, name in self._names(text, [(m.start, m.end) for m in found]):
            site = Site(text, start, end, style)
            if not name.ambiguous:
                if casing_fits(site, name.canonical):
                    found += self._named(site, name, in_title)
            elif name.ticker in tickers or ambiguous_has_evidence(site):
                found += self._named(site, name, in_title)
            else:
                pending.append((site, name))
        # Ambiguous names decided by context, which includes the companies linked so far
        # ("Meta and Alphabet"): repeated while a pass links another.
        while pending:
            others = tuple((m.start, m.end) for m in found)
            decided = [(site, name) for site, name in pending
                       if ambiguous_name_counts(replace(site, others=others), name.canonical)]  # fmt: skip
            if not decided:
                break
            for site, name in decided:
                found += self._named(site, name, in_title)
            pending = [p for p in pending if p not in decided]
        return sorted(found, key=lambda m: m.start)

    def _named(self, site: Site, name: _Name, in_title: bool) -> list[Mention]:
        """The mention of ``name`` at ``site``, plus a ``(NYSE: XYZ)`` ticker after it."""
        out = [Mention(name.ticker, site.start, site.end, NAME, in_title)]
        symbol = paren_ticker(site)
        if symbol and symbol != name.ticker and symbol in self.universe:
            out.append(Mention(symbol, site.start, site.end, TICKERS, in_title))
        return out

    def _names(self, text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int, _Name]]:
        """Leftmost-longest name matches on word boundaries, clear of cashtags."""
        if not len(self._automaton):
            return []
        folded = _fold(text)
        candidates = []
        for last, name in self._automaton.iter(folded):
            start, end = last - name.length + 1, last + 1
            if _bounded(folded, start, end):
                candidates.append((start, end, name))
        candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
        chosen: list[tuple[int, int, _Name]] = []
        for start, end, name in candidates:
            if any(start < b and a < end for a, b in taken):
                continue
            chosen.append((start, end, name))
            taken.append((start, end))
        return chosen

    def _entities(self, mentions: Iterable[Mention]) -> list[Entity]:
        grouped: dict[str, list[Mention]] = {}
        for mention in mentions:
            grouped.setdefault(mention.ticker, []).append(mention)
        order = list(grouped)[:MAX_ENTITIES]
        out = []
        for rank, ticker in enumerate(order):
            found = grouped[ticker]
            company = self.universe.get(ticker)
            located = [m for m in found if m.via != TICKERS] or found
            out.append(
                Entity(
                    ticker,
                    company.name if company else None,
                    company.sector if company else None,
                    tuple(found),
                    relevance(
                        rank=rank,
                        companies=len(order),
                        mentions=len(located),
                        in_title=any(m.in_title for m in found),
                    ),
                )
            )
        return out


@lru_cache(maxsize=4)
def linker_for(path: str | None = None) -> Linker:
    """The linker of the universe file at ``path`` (None: the shipped default), built once
    per process."""
    return Linker(load_universe(path))


def _fold(text: str) -> str:
    """Lower case with the same length as ``text`` (offsets stay valid); curly quotes as
    straight ones."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(c) for c in text)


def _fold_char(c: str) -> str:
    if c in "\u2019\u2018\u02bc":
        return "'"
    low = c.lower()
    return low if len(low) == 1 else c


def _bounded(folded: str, start: int, end: int) -> bool:
    """The match is a whole word (or words): no letter or digit runs on either side;
    a possessive ``'s`` may follow."""
    if start > 0 and (folded[start - 1].isalnum() or folded[start - 1] in "$&"):
        return False
    return end >= len(folded) or not (folded[end].isalnum() or folded[end] == "&")


#: Trailing words of a company's name that news often leaves out ("Palantir" for
#: Palantir Technologies, "Principal Financial" for Principal Financial Group). Only
#: words that say nothing of the business: "Duke Energy" does not become "Duke".
DESCRIPTORS = frozenset({"technologies", "holdings", "group", "incorporated"})


def short_names(
    names: list[tuple[str, Company, bool]],
) -> list[tuple[str, Company, bool]]:
    """Names without their descriptor words, where no company claims them already. A
    short name of one word may be an ordinary word or a surname ("Duke"), so it is
    ambiguous: it links only in context."""
    claimed = {surface.casefold() for surface, _, _ in names}
    out = []
    for surface, company, _ in names:
        words = surface.replace(",", "").split()
        while len(words) > 1 and words[-1].lower().strip(".") in DESCRIPTORS:
            words.pop()
        short = " ".join(words)
        if short != surface and len(short) > 2 and short.casefold() not in claimed:
            claimed.add(short.casefold())
            out.append((short, company, len(words) == 1))
    return out


def _variants(surface: str) -> set[str]:
    """Spellings of a name news uses interchangeably: ``&``/``and``, hyphen/space."""
    out = {surface}
    if " & " in surface:
        out.add(surface.replace(" & ", " and "))
    if " and " in surface:
        out.add(surface.replace(" and ", " & "))
    if "-" in surface:
        out.add(surface.replace("-", " "))
    return out
