"""An explanation as text for a terminal: coloured words on a TTY, ``[+word]`` elsewhere.

Colours follow the word's pull on the score: red pulls it down (toward negative), green up,
and the brighter the background the stronger the word against the post's strongest one.
Without a TTY (a pipe, a file, a test) the words that matter are marked ``[+word]`` or
``[-word]`` instead, and the rest is the text as it was.
"""

from __future__ import annotations

import math

from inference.explain import Explanation, WordWeight

#: Words weaker than this share of the strongest are left unmarked.
THRESHOLD = 0.2
#: 256-colour backgrounds, faint to strong.
GREENS = (22, 28, 34, 40)
REDS = (52, 88, 124, 160)
RESET = "\x1b[0m"


def _level(strength: float) -> int:
    """0..3 from |strength| in (THRESHOLD, 1]."""
    return min(3, math.ceil(abs(strength) * 4) - 1)


def coloured(ex: Explanation) -> str:
    """The text with ANSI backgrounds on the words that move the score."""
    out = []
    for piece, word in ex.pieces():
        strength = ex.strength(word) if word else 0.0
        if word is None or abs(strength) < THRESHOLD:
            out.append(piece)
            continue
        colour = (GREENS if strength > 0 else REDS)[_level(strength)]
        out.append(f"\x1b[97;48;5;{colour}m{piece}{RESET}")
    return "".join(out)


def marked(ex: Explanation) -> str:
    """The text with ``[+word]`` / ``[-word]`` around the words that move the score."""
    out = []
    for piece, word in ex.pieces():
        strength = ex.strength(word) if word else 0.0
        if word is None or abs(strength) < THRESHOLD:
            out.append(piece)
        else:
            out.append(f"[{'+' if strength > 0 else '-'}{piece}]")
    return "".join(out)


def top_words(ex: Explanation, n: int = 5) -> str:
    """``plunge -0.254, cuts -0.078, ...``: the words that move the score most."""
    return ", ".join(_describe(w) for w in ex.top(n)) or "(none)"


def render(ex: Explanation, *, tty: bool) -> list[str]:
    """The lines ``sentimon score --explain`` prints under a post."""
    text = coloured(ex) if tty else marked(ex)
    return [f"  why: {text}", f"  top words (score weight): {top_words(ex)}"]


def _describe(word: WordWeight) -> str:
    return f"{word.word} {word.score_weight:+.3f}"
