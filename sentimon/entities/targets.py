"""What to score for each company of a post that names several (pure).

"$AAA soars on record orders while $BBB slumps after guidance cut" says two things. The
post is split into clauses at sentence ends, at strong punctuation (``;``, a spaced dash)
at contrast or cause connectors ("while", "but", "whereas", "as", "after", "even as",
"meanwhile", ...), and at a comma before a company or a participle ("..., Verizon loses
subscribers", "..., sending Intel shares lower"). A clause that names no company belongs
to the one before it ("... as investors cheered"); a clause that is little more than a
name ("Visa and") belongs to the one after it. Each company is scored on the clauses that
name it, or on those it opens when it opens any ("Nvidia supplier Micron jumps, while
Nvidia itself slips": Nvidia is scored on the second).

A company whose clauses are the whole post (or that is only in the title or the tickers
field) takes the post's own score, so a post naming one company costs one model call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sentimon.entities.context import FUNCTION_WORDS
from sentimon.entities.link import Entity

_ABBREVIATIONS = r"(?<!\binc)(?<!\bcorp)(?<!\bco)(?<!\bltd)(?<!\bplc)(?<!\bu\.s)(?<!\bu\.k)(?<!\bst)(?<!\bvs)(?<!\bno)(?<!\bmr)(?<!\bms)(?<!\bdr)"
_BOUNDARY = re.compile(
    rf"(?:{_ABBREVIATIONS}[.!?]+[\"')\]]*\s+)"  # sentence end
    r"|(?:\s*[;|]\s*)"  # strong punctuation
    r"|(?:\s+[\u2014\u2013-]{1,2}\s+)"  # spaced dash
    r"|(?:,?\s+(?=(?:while|whereas|but|as|after|even as|meanwhile|although|though|"
    r"despite|yet|and then|while also|unlike|whilst|following)\b(?!\s+(?:well|much|many|"
    r"long|soon|far|part|a result|expected|planned|usual|such)\b)))"
    r"|(?:,\s+(?=and\b))|(?:\n+)"
    r"|(?:,\s+(?=[a-z]{3,}ing\b))",  # a participle clause: ", sending Intel shares lower"
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_COMMA_BEFORE = re.compile(r",\s+")
#: A clause "opens with" a company named within its first few characters ("while X").
_LEAD_CHARS = 14


@dataclass(frozen=True)
class _Clause:
    start: int
    end: int
    tickers: frozenset[str]
    #: The company the clause opens with, if any: what the clause is about.
    lead: str | None = None


def target_texts(text: str, entities: Sequence[Entity]) -> dict[str, str | None]:
    """Ticker -> the text to score for it, or None where the post's own score stands."""
    out: dict[str, str | None] = {e.ticker: None for e in entities}
    located = [e for e in entities if e.text_mentions]
    if len(located) < 2:
        return out
    clauses = _merge(_split(text, located), text, located)
    if len(clauses) < 2:
        return out
    for entity in located:
        mine = [c for c in clauses if entity.ticker in c.tickers]
        # Where it heads a clause ("... while Nvidia itself slips"), that clause is about
        # it; a clause naming it in passing ("Nvidia supplier Micron jumps") is not.
        led = [c for c in mine if c.lead == entity.ticker]
        mine = led or mine
        if mine and len(mine) < len(clauses):
            out[entity.ticker] = " ".join(text[c.start : c.end].strip() for c in mine)
    return out


def _split(text: str, entities: Sequence[Entity]) -> list[_Clause]:
    cuts = sorted([(m.start(), m.end()) for m in _BOUNDARY.finditer(text)]
                  + _comma_cuts(text, entities))  # fmt: skip
    spans = []
    start = 0
    for cut_start, cut_end in cuts:
        if cut_start > start:
            spans.append((start, cut_start))
        start = max(start, cut_end)
    spans.append((start, len(text)))
    return [_clause(entities, a, b) for a, b in spans if text[a:b].strip()]


def _comma_cuts(text: str, entities: Sequence[Entity]) -> list[tuple[int, int]]:
    """A comma right before a company ("AT&T adds customers, Verizon loses them") ends
    a clause, as a connector does."""
    out = []
    for e in entities:
        for m in e.text_mentions:
            found = _COMMA_BEFORE.search(text, max(0, m.start - 4), m.start)
            if found and found.end() == m.start and found.start() > 0:
                out.append((found.start(), found.end()))
    return out


def _clause(entities: Sequence[Entity], start: int, end: int) -> _Clause:
    inside = sorted((m.start, e.ticker) for e in entities for m in e.text_mentions
                    if start <= m.start < end)  # fmt: skip
    lead = inside[0][1] if inside and inside[0][0] - start <= _LEAD_CHARS else None
    return _Clause(start, end, frozenset(t for _, t in inside), lead)


def _merge(clauses: list[_Clause], text: str, entities: Sequence[Entity]) -> list[_Clause]:
    """Clauses without a company join the previous one; bare names join the next."""
    merged: list[_Clause] = []
    for clause in clauses:
        if merged and (not clause.tickers or _bare(merged[-1], text, entities)):
            merged[-1] = _join(merged[-1], clause)
        else:
            merged.append(clause)
    if len(merged) > 1 and not merged[0].tickers:
        merged[:2] = [_join(merged[0], merged[1])]
    if len(merged) > 1 and _bare(merged[-1], text, entities):
        merged[-2:] = [_join(merged[-2], merged[-1])]
    return merged


def _join(a: _Clause, b: _Clause) -> _Clause:
    return _Clause(a.start, b.end, a.tickers | b.tickers, a.lead or b.lead)


def _bare(clause: _Clause, text: str, entities: Sequence[Entity]) -> bool:
    """A clause with no word of its own beyond company names and function words."""
    chars = list(text[clause.start : clause.end])
    for e in entities:
        for m in e.text_mentions:
            for i in range(max(m.start, clause.start), min(m.end, clause.end)):
                chars[i - clause.start] = " "
    words = [w.lower() for w in _WORD.findall("".join(chars))]
    return not [w for w in words if w not in FUNCTION_WORDS and w not in {"'s", "s"}]
