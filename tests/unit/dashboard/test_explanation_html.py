"""The explanation panel's HTML and the terminal highlighter (pure): every word coloured by
its pull on the score, the post's text escaped."""

from __future__ import annotations

import re

from dashboard.panels.explanation import explanation_html, option_label
from inference.explain import Explanation, WordWeight
from sentimon.cli.highlight import coloured, marked, render, top_words


def example() -> Explanation:
    text = "<b>Acme</b> plunges & cuts $GUIDANCE"
    weights = {"<b>Acme</b>": 0.001, "plunges": -0.4, "cuts": -0.1, "$GUIDANCE": 0.2}
    words = []
    for word, weight in weights.items():
        start = text.index(word)
        words.append(WordWeight(start, start + len(word), word, -weight, weight))
    return Explanation(text, "negative", 0.8, -0.7, tuple(words), "occlusion", "m@1")


def test_words_are_coloured_spans_and_the_text_is_escaped() -> None:
    page = explanation_html(example())
    assert "<b>" not in page and "&lt;b&gt;Acme&lt;/b&gt;" in page and " &amp; " in page
    spans = re.findall(r'class="why-word why-(up|down)" data-weight="([^"]+)"', page)
    assert spans == [("down", "-0.4000"), ("down", "-0.1000"), ("up", "+0.2000")]
    strongest = re.search(r"rgba\(211, 47, 47, ([0-9.]+)\)", page)
    assert strongest is not None and float(strongest.group(1)) == 0.8  # the strongest word
    assert 'class="why-word" title' in page  # the faint word is a span without colour


def test_terminal_markers_and_colours() -> None:
    ex = example()
    assert marked(ex) == "<b>Acme</b> [-plunges] & [-cuts] [+$GUIDANCE]"
    text = coloured(ex)
    assert "\x1b[97;48;5;160mplunges\x1b[0m" in text  # strongest: the brightest red
    assert "\x1b[97;48;5;28m$GUIDANCE\x1b[0m" in text  # half as strong: the second green
    assert "\x1b[97;48;5;52mcuts\x1b[0m" in text  # a quarter: the faintest red
    assert top_words(ex, 2) == "plunges -0.400, $GUIDANCE +0.200"
    assert render(ex, tty=False)[0] == "  why: " + marked(ex)


def test_option_label() -> None:
    post = {"label": "negative", "score": -0.5, "text": "Acme\nplunges " + "x" * 200}
    assert option_label(post).startswith("negative -0.50 · Acme plunges xx")
    assert len(option_label(post)) < 110
