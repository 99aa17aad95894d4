"""A transfer set for distillation: variants of the training texts that the teacher labels.

A student learns the teacher's function only where it sees inputs, and 9,775 training texts
are few for that. Distillation with augmented inputs (as TinyBERT does, Jiao et al. 2020)
shows the student more of it: every variant here is scored by the teacher
(``inference.training.build_teacher``), and the student is trained on its soft targets alone (a
variant's hand label is unknown: "raises to Buy" may become "cuts to Buy").

Pure and deterministic (a seed, the training texts, no model): ``make teacher`` and
``make model`` derive the same variants, so the teacher's targets for them can be stored
keyed by text, like those of the training texts. Each variant changes a few words of one
training text:

- a word is replaced by another that the corpus shows in the same place: seen after the
  previous word and before the next one (``cuts to Neutral`` -> ``raises to Neutral``);
- a number is changed (``+18%`` -> ``-7%``, ``3.8%`` -> ``12.4%``);
- a cashtag is replaced by another cashtag of the corpus;
- a word is dropped.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

_NUMBER = re.compile(r"^([+-]?)(\$?)(\d+(?:[.,]\d+)?)(%|[kKmMbB]n?)?([.,:;)!?]?)$")
_CASHTAG = re.compile(r"^\$[A-Za-z][A-Za-z0-9.\-]{0,9}$")
_START, _END = "<s>", "</s>"

#: Per word, the chance that it is changed (substituted) or dropped.
SUBSTITUTE_P = 0.25
DROP_P = 0.08
#: A substitute must occur at least this often in the corpus (no one-off typos).
MIN_COUNT = 2


class _Corpus:
    """Which words follow and precede which (lower-cased), and the corpus's cashtags."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.after: dict[str, set[str]] = defaultdict(set)
        self.before: dict[str, set[str]] = defaultdict(set)
        counts: Counter[str] = Counter()
        cashtags: set[str] = set()
        for text in texts:
            words = [_START, *text.split(), _END]
            for left, word, right in zip(words, words[1:], words[2:], strict=False):
                self.after[left.lower()].add(word)
                self.before[right.lower()].add(word)
                counts[word] += 1
                if _CASHTAG.match(word):
                    cashtags.add(word)
        self.common = {w for w, c in counts.items() if c >= MIN_COUNT}
        self.cashtags = sorted(cashtags)
        self._fits: dict[tuple[str, str], list[str]] = {}

    def fits(self, left: str, right: str) -> list[str]:
        """Words seen after ``left`` and before ``right`` (sorted: deterministic)."""
        key = (left.lower(), right.lower())
        if key not in self._fits:
            both = self.after.get(key[0], set()) & self.before.get(key[1], set())
            self._fits[key] = sorted(w for w in both & self.common if not w.startswith("http"))
        return self._fits[key]


def _number(match: re.Match[str], rng: random.Random) -> str:
    sign, currency, digits, unit, tail = match.groups()
    value = float(digits.replace(",", ""))
    new = value * rng.choice((0.25, 0.5, 0.8, 1.5, 2, 4)) if value else rng.uniform(1, 20)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    text = f"{new:.{decimals}f}" if decimals else str(max(1, round(new)))
    if sign and rng.random() < 0.4:
        sign = "-" if sign == "+" else "+"
    return f"{sign}{currency}{text}{unit or ''}{tail}"


def _variant(words: list[str], corpus: _Corpus, rng: random.Random) -> list[str]:
    padded = [_START, *words, _END]
    out: list[str] = []
    for i, word in enumerate(words, start=1):
        roll = rng.random()
        if word.startswith("http"):  # links are dropped by the tokenizer anyway
            out.append(word)
            continue
        if roll < DROP_P and len(words) > 4:
            continue
        if roll < DROP_P + SUBSTITUTE_P:
            number = _NUMBER.match(word)
            if number:
                word = _number(number, rng)
            elif _CASHTAG.match(word) and corpus.cashtags:
                word = rng.choice(corpus.cashtags)
            else:
                options = [w for w in corpus.fits(padded[i - 1], padded[i + 1]) if w != word]
                if options:
                    word = rng.choice(options)
        out.append(word)
    return out


def transfer_texts(texts: Sequence[str], copies: int, seed: int) -> list[str]:
    """Up to ``copies`` distinct variants of each text (none equal to a training text),
    in a fixed order for a given ``texts``, ``copies`` and ``seed``."""
    return [variant for _, variant in transfer_variants(texts, copies, seed)]


def transfer_variants(texts: Sequence[str], copies: int, seed: int) -> list[tuple[int, str]]:
    """``transfer_texts`` with, for each variant, the index of the text it was made from."""
    if copies <= 0:
        return []
    corpus = _Corpus(texts)
    known = set(texts)
    out: list[tuple[int, str]] = []
    for copy in range(copies):
        rng = random.Random(f"{seed}:{copy}")
        for origin, text in enumerate(texts):
            words = text.split()
            if len(words) < 3:
                continue
            variant = " ".join(_variant(words, corpus, rng))
            if variant not in known:
                known.add(variant)
                out.append((origin, variant))
    return out
