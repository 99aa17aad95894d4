"""What a post says, as tokens: wire furniture off, news-bearing words in one spelling each.

:func:`normalise` drops what outlets add when they re-publish a story: URLs, handles,
hashtags, wire prefixes ("UPDATE 2-", "BREAKING:", "(Reuters) -", "RT @user:", a run of
capitals before a dash or colon), a trailing " - Some Outlet" in title case, a trailing
note ("(adds analyst comment)"), trailing punctuation and emoji, case and spacing.
Outlet names, "sources", "says" and the like need not go from the text: they are not
content tokens.

:func:`content_tokens` keeps the words that tell one story from another. Numbers get one
spelling ("$1.2 billion", "$1.2bn", "$1.20B" -> ``1.2b``; "5 pct" -> ``5%``), quarters
too ("third-quarter", "3Q" -> ``q3``); words are stemmed and synonyms share a class
("beats", "tops", "above" -> ``~beat``). Function words, reporting verbs and outlet names
go. Numbers, quarters, months, weekdays, tickers and direction classes are *critical*:
a copy of a story never drops one, except where it was cut off.
"""

from __future__ import annotations

import re
import unicodedata

_CLEAN = re.compile(r"https?://\S+|www\.\S+|\b[rRmM][tT] @\w+:?|[@#]\w+")
_WIRE = (
    r"update(?:\s*\d+)?|refile|rpt|corrected|correction|brief|exclusive|flash|breaking|just in"
    r"|alert|watch|top news|hot stocks|market chatter|analyst action|instant view|news"
    r"|stock alert|earnings|wrapup(?:\s*\d+)?|factbox|buzz|us stocks|moves"
)
_PREFIX = re.compile(
    rf"^(?:\s*(?:(?:{_WIRE})\s*[-:\u2013\u2014]+|\((?:reuters|bloomberg|ap|afp)\)\s*[-\u2013\u2014]*|[^\w\s$(]+))+\s*",
    re.IGNORECASE,
)
_CAPS_PREFIX = re.compile(r"^(?:[A-Z][A-Z0-9&]*\s?){1,3}\d?\s*(?:-(?=\S)|:\s)")
_TITLE_SUFFIX = re.compile(r"\s+[-\u2013\u2014|]+\s+(?:[A-Z][\w'.&]*\s?){1,4}$")
_NOTE = re.compile(r"(?:adds|updates|recasts|changes|corrects|updated|refiles)\b", re.IGNORECASE)
_JOIN = re.compile(r"\.com\b|[-'\u2019.](?=[a-z])(?<=[a-z].)")
_PHRASES = {
    "before the bell": "premarket",
    "after the bell": "afterhours",
    "after hours": "afterhours",
    "extended trading": "afterhours",
    "falls short of": "misses",
    "fell short of": "missed",
    "price target": "target",
} | {
    f"{w}{s}quarter": f"q{n}"
    for w, n in zip(("first", "second", "third", "fourth"), "1234", strict=True)
    for s in ("", " ")
}
_PHRASE = re.compile(r"\b(?:" + "|".join(_PHRASES) + r")\b")
_TRIGGERS = ("bell", "hours", "extended", "short of", "target", "quarter")
_TOKEN = re.compile(
    r"\b(?:q[1-4]|[1-4]q|h[12])\b|\$[a-z][a-z.]{0,5}\b|[$€£]?\d[\d,]*(?:\.\d+)?"
    r"(?:\s?(?:%|percent|pct|billion|bln|bn|b|million|mln|mn|m|k)\b|%)?"
    r"|(?<!\S)(?:aaa|aa|a|bbb|bb)[+-](?!\w)|[a-z][a-z'\u2019]*"
)
_UNITS = {"percent": "%", "pct": "%", "billion": "b", "bln": "b", "bn": "b", "million": "m"}
_UNITS |= {"mln": "m", "mn": "m", "%": "%", "b": "b", "m": "m"}


def stem(word: str) -> str:
    """A crude, consistent stem: inflections, a final e and doubled consonants go."""
    word = word.replace("\u2019", "'").removesuffix("'s").rstrip("'")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for end in ("ing", "ed", "es", "s"):
        if len(word) > len(end) + 2 and word.endswith(end) and not word.endswith("ss"):
            word = word[: -len(end)]
            break
    if len(word) > 3 and word[-1] == "e":
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


def _classes(spec: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in spec.split(";"):
        head, *words = group.split()
        out |= dict.fromkeys([stem(w) for w in words], head)
    return out


#: Stemmed words spelled one way; direction classes (``~``) are critical tokens.
CANON = _classes(
    "~beat beat top exceed surpass outpace ahead above;~miss miss trail lag below short;"
    "~up rise rose climb jump surge gain rally soar advance higher up increase grow grew raise"
    " lift boost hike spike pop upgrade;"
    "~down fall fell drop slide slid slip sink sank tumble plunge decline lower down cut slash"
    " trim reduce decrease dip slump shrink downgrade;"
    "~keep reaffirm maintain reiterate keep;~launch launch roll rollout debut start initiate;"
    "~delay delay postpone push;~buy buy bought acquire acquisition takeover;~sell sell sold;"
    "estimate estimate expectation expect consensus view forecast projection est outlook guidance;"
    "revenue revenue sale;profit profit earning income eps;job job role worker staff people;"
    "afterhours afterhours afterhour;target target pt;fine fine penalty;"
    "buyback buyback repurchase;name name appoint hire;leave leave resign step;"
    "dividend dividend payout"
)
_SOFT_WORDS = """a an the to of in on for at by with as and or its it is are was were be been will
    would after amid over from into than that this these those vs versus against about around
    roughly some new says said say told report inc corp co ltd plc llc company firm group share
    stock breaking update brief exclusive rpt refile corrected flash alert just watch video
    reuters bloomberg cnbc wsj ft ap dj marketwatch barrons benzinga yahoo finance dow jones news
    newswire source details comment according familiar matter per via rt wow big huge here we go
    ouch thoughts today our my me i until while plan plans announce unveil post sees see come
    came hit get make deal level trade trading wall street analyst analysts filing quarterly q
    us quarter back prior you add ceo desk"""
#: Words that say nothing about which story a post tells (stemmed).
SOFT = frozenset(stem(w) for w in _SOFT_WORDS.split())
_CALENDAR = """january february march april may june july august september october november
    december monday tuesday wednesday thursday friday saturday sunday"""
_FIXED = frozenset(_CALENDAR.split()) | {"q1", "q2", "q3", "q4", "h1", "h2"}
_CLASSES = frozenset(v for v in CANON.values() if v.startswith("~"))
VOCAB = SOFT | CANON.keys()
_VOCAB_PREFIXES = frozenset(w[:i] for w in VOCAB for i in range(1, len(w)))
_WORDS: dict[str, str] = {}


def normalise(text: str) -> str:
    """Lower-case words of the post without URLs, handles, hashtags and wire furniture."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = _PREFIX.sub("", _CLEAN.sub(" ", text).strip())
    if not text.isupper():
        text = _TITLE_SUFFIX.sub("", _CAPS_PREFIX.sub("", text))
    note = text.rfind("(")
    if note > 0 and _NOTE.match(text, note + 1):
        text = text[:note]
    text = " ".join(_JOIN.sub("", text.casefold()).split())
    end = len(text)
    while end and not (text[end - 1].isalnum() or text[end - 1] in "%+-"):
        end -= 1
    return text[:end]


def content_tokens(normalised: str) -> tuple[str, ...]:
    """The news-bearing tokens of a normalised post, canonical spellings, in order."""
    out: dict[str, None] = {}
    text = normalised
    if any(word in text for word in _TRIGGERS):
        text = _PHRASE.sub(lambda m: _PHRASES[m.group()], text)
    for raw in _TOKEN.findall(text):
        token = _WORDS.get(raw)
        if token is None:
            token = _word(raw)
            if len(_WORDS) > 100_000:
                _WORDS.clear()
            _WORDS[raw] = token
        if token:
            out[token] = None
    return tuple(out)


def _word(raw: str) -> str:
    """One raw token in its canonical spelling ('' for a soft word)."""
    head = raw[0]
    if head.isdigit():
        return "q" + head if raw[-1] == "q" else _number(raw)
    if head in "$€£":
        return raw[:24] if raw[1:2].isalpha() else _number(raw)
    if raw[-1] in "+-" or raw in _FIXED or (head in "qh" and raw[1:2].isdigit()):
        return raw
    word = stem(raw)
    return "" if word in SOFT else CANON.get(word, word)[:24]


def _number(raw: str) -> str:
    value, _, unit = raw.lstrip("$€£").replace(",", "").partition(" ")
    digits = re.match(r"[\d.]*\d", value)
    body = digits.group() if digits else value
    unit = (unit or value[len(body) :]).strip()
    if "." in body:
        body = body.rstrip("0").rstrip(".")
    if unit == "k" and body.replace(".", "", 1).isdigit():
        return str(round(float(body) * 1000))
    return body + _UNITS.get(unit, "")


def critical(token: str) -> bool:
    """Numbers, tickers, quarters, dates and direction classes."""
    return token[0].isdigit() or token[0] == "$" or token in _CLASSES or token in _FIXED


def cut_word(cut: str, others: tuple[str, ...]) -> bool:
    """Whether ``cut`` reads as a word cut short by truncation, given the other post's tokens."""
    if any(t != cut and t.startswith(cut) for t in others) or (
        cut in _VOCAB_PREFIXES and cut not in VOCAB
    ):
        return True
    return any(t in VOCAB or t in others for t in (cut[:i] for i in range(3, len(cut))))
