"""How a WordPiece tokenizer would cut a text, counted cheaply without the tokenizer (pure).

The model-health window (``sentimon.health_window``) needs, per post, how many of its
word pieces would be the unknown token and how many of its words fall apart into many
pieces. Running the tokenizer again would cost about as much as a good share of the
scoring, so ``WordPieceCounter`` redoes WordPiece's two steps in Python over the model's
vocabulary, and remembers each word's answer (a feed repeats its words, so almost every
lookup is one dict hit):

1. pre-tokenise like BERT's basic tokenizer: runs of letters and digits are words, every
   other non-space character is a token of its own; lower-case and strip accents when the
   vocabulary is uncased;
2. cut each word greedily into the longest vocabulary entries (``##`` marks a piece that
   continues a word); a word that cannot be cut, or is longer than 100 characters, is one
   unknown token, as in WordPiece.

Definitions (the reference profile and the live window use the same ones):

- *unknown share*: unknown tokens / all tokens of the texts (tokens = word pieces and
  punctuation, no special tokens);
- *fragmented share*: words (letter/digit runs) cut into 3 or more pieces / all words. It
  moves long before the unknown share does: an English WordPiece vocabulary rarely gives
  ``[UNK]`` for Latin-script text, but jargon, foreign words and garbled text fall apart.

It differs from the tokenizer only in corner cases (Chinese characters, control
characters), which the reference profile measures with the real tokenizer beside it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN_RE = re.compile(r"[^\W_]+|[^\w\s]|_")
#: WordPiece's limit: a longer word is one unknown token.
MAX_WORD_CHARS = 100
#: Pieces from which a word counts as fragmented.
FRAGMENTED_PIECES = 3
_UNKNOWN = 0


@dataclass(frozen=True)
class PieceCounts:
    """What WordPiece would make of one text."""

    tokens: int = 0
    unknown: int = 0
    words: int = 0
    fragmented: int = 0


class WordPieceCounter:
    """Counts tokens, unknown tokens, words and fragmented words of texts against a
    WordPiece ``vocab`` (its entries, ``##`` continuations included)."""

    def __init__(
        self, vocab: Iterable[str], *, lowercase: bool = True, cache_size: int = 200_000
    ) -> None:
        self.vocab = frozenset(vocab)
        self.lowercase = lowercase
        self.cache_size = cache_size
        self._stats: dict[str, tuple[int, int, int, int]] = {}

    def count(self, text: str) -> PieceCounts:
        get, found = self._stats.get, self._stats_of
        tokens = unknown = words = fragmented = 0
        for token in _TOKEN_RE.findall(text.lower() if self.lowercase else text):
            t, u, w, f = get(token) or found(token)
            tokens += t
            unknown += u
            words += w
            fragmented += f
        return PieceCounts(tokens, unknown, words, fragmented)

    def _stats_of(self, token: str) -> tuple[int, int, int, int]:
        """What ``token`` adds: (tokens, unknown, words, fragmented), remembered."""
        n = self._cut(token)
        is_word = token[0].isalnum()
        stats = (max(n, 1), int(n == _UNKNOWN), int(is_word),
                 int(is_word and n >= FRAGMENTED_PIECES))  # fmt: skip
        if len(self._stats) >= self.cache_size:
            self._stats.clear()
        self._stats[token] = stats
        return stats

    def pieces(self, word: str) -> int:
        """Pieces WordPiece cuts ``word`` into (0: it becomes the unknown token)."""
        return self._cut(word)

    def _cut(self, word: str) -> int:
        if self.lowercase and not word.isascii():
            word = "".join(
                c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn"
            )
        if not word or len(word) > MAX_WORD_CHARS:
            return _UNKNOWN
        start, pieces = 0, 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            if end == start:
                return _UNKNOWN
            pieces += 1
            start = end
        return pieces
