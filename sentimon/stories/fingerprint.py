"""Near-duplicate fingerprints of posts: which copies of wire copy tell the same story.

Pure (no Kafka or Redis). A post becomes a :class:`Fingerprint`: the hash of its
normalised text plus its content tokens (``sentimon.stories.tokens``), the words that
carry the news, with numbers, quarters, tickers and direction words in one spelling each.
That is what a story keeps in the index: tens of bytes, a few hundred at most.

**Decision.** Two posts tell the same story when one's content tokens are all found in
the other's (a copy adds prefixes, suffixes, clauses, URLs or cashtags; truncation drops a
tail, perhaps mid-word), give or take an ordinary word or two in long posts; never when a
number, quarter, ticker or direction word is missing: "misses" vs "beats", "$1.20" vs
"$1.02" and "$AAPL" vs "$MSFT" stay apart. Token *containment*, not a similarity score,
is what lets truncated copies match while one-word template twins do not: SimHash,
MinHash-Jaccard and fuzzy ratios were measured against it (docs/STORIES.md).

**Candidates.** MinHash banding over the content tokens: :data:`BANDS` keys of
:data:`ROWS` minima each, so copies sharing most tokens share a key with high probability.
Token hashes are ``hashlib.blake2b`` (stable across processes, unlike ``hash()``), cached
per distinct token with their permutations, so a post costs a few dictionary look-ups.

**Company names.** ``mentions`` (spans of company names and cashtags, with the ticker)
read each as its cashtag, so "Exxon Mobil", "ExxonMobil" and "$XOM" are one token and two
companies never are.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from sentimon.stories.tokens import VOCAB, content_tokens, critical, cut_word, normalise, stem

__all__ = ["BANDS", "ROWS", "Fingerprint", "band_keys", "fingerprint", "normalise", "same_story"]

#: MinHash banding: ``BANDS`` keys a post, ``ROWS`` minima per key.
BANDS, ROWS = 8, 2
#: Content tokens kept per post (and per stored story).
MAX_TOKENS = 40
#: Fewer content tokens than this in common: only the exact normalised text matches.
MIN_TOKENS = 3
#: Tokens in common, as a share of the longer post's tokens, at least.
MIN_COVER = 0.34

_MINS = f">{BANDS * ROWS}I"
_PERMS: dict[str, tuple[int, ...]] = {}


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the story index keeps per story: exact hash, content tokens, truncation flag."""

    exact: str
    tokens: tuple[str, ...]
    truncated: bool = False
    _set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_set", frozenset(self.tokens))

    def to_bytes(self) -> bytes:
        """8 bytes of hash, a flag byte, then the tokens joined by 0x1f (UTF-8)."""
        head = struct.pack(">QB", int(self.exact, 16), int(self.truncated))
        return head + "\x1f".join(self.tokens).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        exact, flags = struct.unpack_from(">QB", data)
        body = data[9:].decode()
        return cls(f"{exact:016x}", tuple(body.split("\x1f")) if body else (), bool(flags & 1))


def fingerprint(text: str, mentions: Iterable[tuple[int, int, str]] = ()) -> Fingerprint:
    """The fingerprint of one post; ``mentions``: (start, end, ticker) spans in ``text``."""
    for start, end, ticker in sorted(mentions, reverse=True):
        if 0 <= start < end <= len(text) and stem(text[start:end].casefold()) not in VOCAB:
            text = f"{text[:start]} ${ticker} {text[end:]}"
    norm = normalise(text)
    tokens = content_tokens(norm)[:MAX_TOKENS]
    digest = hashlib.blake2b(norm.encode(), digest_size=8).hexdigest()
    return Fingerprint(digest, tokens, _cut_off(text, tokens))


def _cut_off(text: str, tokens: tuple[str, ...]) -> bool:
    """Truncated ("..."), and the last content token is the last word before the cut."""
    at = max(text.rfind("..."), text.rfind("…"))
    if at < 0 or not tokens:
        return False
    words = text[:at].split()
    return bool(words) and content_tokens(normalise(words[-1]))[-1:] == tokens[-1:]


def band_keys(fp: Fingerprint) -> list[str]:
    """LSH keys under which a story is indexed and its copies look for it."""
    if len(fp.tokens) < MIN_TOKENS:
        return ["x" + fp.exact]
    mins = map(min, zip(*[_PERMS.get(t) or _perms(t) for t in fp.tokens], strict=True))
    digest = struct.pack(_MINS, *mins).hex()
    return [digest[i : i + 8 * ROWS] for i in range(0, 8 * ROWS * BANDS, 8 * ROWS)]


def _perms(token: str) -> tuple[int, ...]:
    """The token's value under each of the BANDS * ROWS hash functions (32-bit each)."""
    if len(_PERMS) > 100_000:
        _PERMS.clear()
    digest = hashlib.blake2b(token.encode(), digest_size=4 * BANDS * ROWS).digest()
    value = _PERMS[token] = struct.unpack(_MINS, digest)
    return value


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether two posts tell the same story (symmetric; see the module docstring)."""
    return a.exact == b.exact or _contained(a, b) or _contained(b, a)


def _contained(short: Fingerprint, long_: Fingerprint) -> bool:
    """The news of ``short`` is all in ``long_``."""
    n = len(short.tokens)
    if n < MIN_TOKENS:
        return False
    missing = short._set - long_._set
    if missing:
        last = short.tokens[-1]
        if last in missing and _cut(short, last, long_):
            missing = missing - {last}
        if len(missing) > _tolerance(n) or any(map(critical, missing)):
            return False
    shared = n - len(missing)
    return shared >= MIN_TOKENS and shared >= MIN_COVER * len(long_.tokens)


def _cut(short: Fingerprint, last: str, other: Fingerprint) -> bool:
    """The short post's last token is a word cut off by truncation."""
    if short.truncated:
        return cut_word(last, other.tokens)
    return not critical(last) and any(t != last and t.startswith(last) for t in other.tokens)


def _tolerance(n: int) -> int:
    """Ordinary words of the shorter post that may be missing from the longer one."""
    return 0 if n < 8 else 1 if n < 14 else 2
