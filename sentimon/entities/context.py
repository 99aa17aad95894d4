"""Does a name that is also an ordinary word ("Apple", "Target", "Delta") mean the company here?

Pure rules over the text around the match, no model. A name the universe marks ambiguous
counts only with evidence:

- **strong**: a legal suffix follows ("Target Corp"), the company's own ticker is in the
  post (cashtag or ``tickers``), or a ``(NYSE: TGT)``-style ticker follows; or
- **context**, all of:
  1. the casing fits the text's style (in ordinary prose the company is capitalised;
     in lower-case social posts and Title Case or ALL-CAPS headlines casing says nothing);
  2. it does not continue a run of capitalised words ("Harrison Ford"), in prose;
  3. the next word makes it a subject or owner, not a modifier ("Apple pie", "Amazon
     rainforest", "Target Practice"): a company attribute or business verb ("shares",
     "cuts", "earnings"); or, in a sentence with financial words or another company, a
     function word ("Amazon to hire 250,000 workers"), a possessive ("Amazon's cloud
     unit") or an -s verb taking an object ("Oracle lands a contract"); or
  4. it is listed with a company already linked ("Meta and Alphabet").

The word lists are vocabulary of financial news, not of any one company, so a desk's own
universe gets the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    """A word list written as text, one space or line break between words."""
    return frozenset(text.split())


#: Nouns a company is the subject or owner of ("Apple shares", "Target's stores"), which
#: also mark a sentence as financial.
ATTRIBUTE_NOUNS = _words(
    """
    shares share stock stocks equity earnings revenue revenues sales profit profits loss
    losses income quarter quarterly q1 q2 q3 q4 fiscal forecast forecasts guidance outlook
    results ceo cfo chief executive executives investors shareholders shareholder dividend
    dividends buyback buybacks ipo stake layoffs layoff workers employees staff customers
    subscribers users stores store flights fleet unit division subsidiary brand app cloud
    platform products product vehicles trucks cars ev evs phones iphone chips software
    devices ads advertising subscription streaming factory plant plants production output
    orders deliveries shipments margin margins backlog bonds debt market-cap valuation
    calls puts options board
    """
)
#: Verbs of business news: after a name, they make it the subject ("Target cuts").
BUSINESS_VERBS = _words(
    """
    cut cuts raise raises raised beat beats beating miss misses missed upgrade upgraded
    downgrade downgraded sue sues sued settle settles settled recall recalls recalled
    post posts posted report reports reported announce announces announced launch launches
    launched unveil unveils unveiled plan plans planned expect expects expected see sees
    warn warns warned said says told confirm confirms confirmed agree agrees agreed sign
    signs signed win wins won lose loses lost boost boosts boosted slash slashes lift
    lifts lowered lowers trim trims reaffirms plunge plunges plunged slump slumps slumped
    slide slides slid fall falls fell drop drops dropped sink sinks sank tumble tumbles
    tumbled jump jumps jumped soar soars soared rally rallies rallied surge surges surged
    gain gains gained rise rises rose climb climbs climbed rebound rebounds slip slips
    slipped dip dips opens closes expands hires hire acquire acquires acquired buy buys
    bought sell sells sold invest invests files filed names named taps picks lands books
    hands halves doubles tops misses rejects approves delays delayed
    """
)
#: Verbs after "to" that make the name their subject ("Apple to open an office").
_INFINITIVES = _words(
    """
    open close hold move buy sell acquire merge cut raise hire launch expand build invest
    pay list split spin report announce unveil exit enter join pay cut shut lay
    """
)
#: Further words that mark a sentence as financial (not enough next to a name alone).
FINANCE_CONTEXT = _words(
    """
    estimates estimate analyst analysts deal deals acquisition acquisitions merger
    mergers takeover bid lawsuit antitrust regulators regulator probe billion million bn
    mln percent pct nyse nasdaq premarket after-hours trading traders upgrade downgrade
    rating ratings bullish bearish contract contracts partnership competition competitor
    competitors rival rivals drug drugs bankruptcy restructuring spinoff spin-off listing
    growth demand pricing price-target office offices headquarters meeting annual
    conference investor
    """
)
#: The words after a name that make it a subject or owner.
NEXT_WORDS = ATTRIBUTE_NOUNS | BUSINESS_VERBS
#: The words anywhere in a sentence that make it financial.
CONTEXT_WORDS = ATTRIBUTE_NOUNS | FINANCE_CONTEXT
#: Words that start a verb's object ("Oracle lands a contract", "Dow halves its payout").
_OBJECT_START = _words("a an the its their his her this that these another one two new")

#: Words after which a name can still be the subject of a business sentence.
FUNCTION_WORDS = _words(
    """
    to is was are were be been will would could should may might can must has had have
    and or but nor so yet also still just now then in on at for with from by of as after
    before over under into onto about against amid despite while whereas though although
    the a an its their this that these those not no n't
    """
)

#: A legal-form suffix right after a name ("Target Corp.", "Delta Air Lines, Inc.").
LEGAL_SUFFIX = re.compile(
    r"\s*,?\s+(?:inc|incorporated|corp|corporation|co|company|plc|ltd|limited|llc|"
    r"holdings|group|n\.v|s\.a|ag|se)(?![\w\-])\.?",
    re.IGNORECASE,
)
#: A ticker in parentheses after a name: "(TGT)", "(NYSE: TGT)", "(NASDAQ:AAPL)".
PAREN_TICKER = re.compile(r"\s*\((?:[A-Za-z ]{2,12}:\s*)?\$?([A-Z][A-Z0-9.\-]{0,9})\)")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9&'.\-]*")
_SENTENCE_END = re.compile(r"[.!?]\s|\n")
_COORDINATION = re.compile(r"\s*(?:,|,?\s*and|&|,?\s*or|vs\.?|versus|/)\s*", re.IGNORECASE)
_POSSESSIVE = re.compile("^(?:['\u2019]s|s['\u2019])(?![A-Za-z])")

PROSE, LOWER, HEADLINE = "prose", "lower", "headline"


def text_style(text: str) -> str:
    """``lower`` (no capitals to speak of), ``headline`` (Title Case or ALL CAPS: casing
    says nothing) or ``prose``."""
    words = [w for w in _WORD.findall(text) if w[0].isalpha()]
    if not words:
        return PROSE
    capitals = sum(w[0].isupper() for w in words)
    if words[0][0].islower() and capitals <= len(words) // 10:
        return LOWER
    long_words = [w for w in words if len(w) >= 4]
    if long_words and len(long_words) >= 3:
        shouting = sum(w.isupper() for w in long_words) / len(long_words)
        titled = sum(w[0].isupper() for w in long_words) / len(long_words)
        if shouting >= 0.8 or titled >= 0.75:
            return HEADLINE
    return PROSE


@dataclass(frozen=True)
class Site:
    """Where a candidate name sits: ``text[start:end]`` in a text of ``style``."""

    text: str
    start: int
    end: int
    style: str
    #: Spans of the companies already linked in the same text.
    others: tuple[tuple[int, int], ...] = ()


def after_name(site: Site) -> int:
    """End of the mention including a legal suffix ("Target Corp."), if one follows."""
    match = LEGAL_SUFFIX.match(site.text, site.end)
    return match.end() if match else site.end


def has_legal_suffix(site: Site) -> bool:
    return LEGAL_SUFFIX.match(site.text, site.end) is not None


def paren_ticker(site: Site) -> str | None:
    """The ticker in ``(NYSE: TGT)`` right after the name (or its legal suffix)."""
    match = PAREN_TICKER.match(site.text, after_name(site))
    return match.group(1).upper() if match else None


def casing_fits(site: Site, canonical: str) -> bool:
    """In prose a company's name is written as it is spelled (capitalised, or "eBay")."""
    if site.style != PROSE:
        return True
    first = site.text[site.start]
    return first.isupper() or first.isdigit() or first == canonical[:1]


def continues_name(site: Site) -> bool:
    """In prose: the previous word is capitalised, joined by a space, and is neither a
    function nor a business word ("Harrison Ford", "New Balance"), so the match is the
    tail of some other proper name."""
    if site.style != PROSE:
        return False
    before = site.text[: site.start]
    if not before.endswith(" "):
        return False
    words = _WORD.findall(before[-40:])
    if not words or not before.rstrip().endswith(words[-1]):
        return False
    word = words[-1]
    lower = word.lower()
    return word[0].isupper() and lower not in FUNCTION_WORDS and lower not in NEXT_WORDS


def reads_as_business(site: Site) -> bool:
    """The next word makes the name a subject or possessor in a business sentence."""
    rest = site.text[after_name(site) :]
    possessive = _POSSESSIVE.match(rest)
    if possessive:
        rest = rest[possessive.end() :]
    words = _WORD.findall(_sentence_tail(rest))
    if not words:
        return possessive is None and _context_words(site) >= 1
    following = words[0].lower().strip(".'")
    if following in NEXT_WORDS:
        return True
    if following == "to" and len(words) > 1 and words[1].lower() in _INFINITIVES:
        return True
    if possessive or following in FUNCTION_WORDS or following[0].isdigit():
        return _context_words(site) >= 1
    if not possessive and _looks_like_verb(following, words[1:2]):
        # "Oracle lands a contract": an -s verb taking an object, in a financial sentence
        return _context_words(site) >= 1
    return False


def _looks_like_verb(word: str, after: list[str]) -> bool:
    """An -s word followed by what starts an object ("lands a", "taps its", "picks
    Broadcom") reads as a verb; after a noun modifier comes a verb ("regulators want")."""
    if not (word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3):
        return False
    if not after:
        return False
    nxt = after[0]
    return nxt.lower() in _OBJECT_START or nxt[0].isdigit() or nxt[0].isupper()


def _sentence_tail(rest: str) -> str:
    match = _SENTENCE_END.search(rest)
    tail = rest[: match.start()] if match else rest
    # Punctuation right after the name ("Delta, United ...") ends the phrase it heads.
    return "" if tail[:1] in {",", ";", ":", ")"} else tail


def _context_words(site: Site) -> int:
    """Financial words in the name's sentence, another company there counting as two."""
    text = site.text
    starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, site.start)]
    start = starts[-1] if starts else 0
    found = _SENTENCE_END.search(text, site.end)
    end = found.start() if found else len(text)
    companies = sum(start <= a and b <= end for a, b in site.others)
    words = _WORD.findall(text[start : site.start] + " " + text[site.end : end])
    return 2 * companies + sum(w.lower().strip(".'") in CONTEXT_WORDS for w in words)


def coordinated(site: Site) -> bool:
    """Listed with a company already linked: "Meta and Alphabet", "Visa, Mastercard"."""
    for a, b in site.others:
        between = site.text[b : site.start] if b <= site.start else site.text[site.end : a]
        if _COORDINATION.fullmatch(_POSSESSIVE.sub("", between)):
            return True
    return False


def ambiguous_has_evidence(site: Site) -> bool:
    """Strong evidence: a legal suffix or a ``(NYSE: TGT)`` ticker follows the name (the
    company's own cashtag in the post is the linker's to check)."""
    return has_legal_suffix(site) or paren_ticker(site) is not None


def ambiguous_name_counts(site: Site, canonical: str) -> bool:
    """Whether an ambiguous name at ``site`` names the company, by context (module
    docstring); ``site.others`` are the companies linked so far."""
    if not casing_fits(site, canonical) or continues_name(site):
        return False
    return reads_as_business(site) or coordinated(site)
