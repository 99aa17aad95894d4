""" "Why this score?": pick one of the stories shown and see its text with the words that
pushed its score highlighted (green up, red down, stronger colour for stronger words).

The model is loaded only when a post is picked, once per server process
(``st.cache_resource``), and explanations are cached per model and text; the dashboard
never needs a model otherwise, so where none is available (no ``models/default``, a
dashboard host without the runtime) the panel says so and the rest of the page is
unaffected. Explanations are occlusion on the configured model (``inference.explain``).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import Any

import streamlit as st

from inference.explain import Explanation, Occlusion
from sentimon.errors import SentimonError
from sentimon.settings import Settings, load_settings

log = logging.getLogger(__name__)

#: Words weaker than this share of the post's strongest word are not coloured.
FAINT = 0.05
#: (r, g, b) of a word pushing the score up, and down.
UP, DOWN = (46, 160, 67), (211, 47, 47)

Post = dict[str, Any]


@st.cache_resource(show_spinner="Loading the model to explain scores…", max_entries=2)
def _explainer(model: str, backend: str, device: str, _settings: Settings) -> Occlusion:
    from inference.loader import load_scorer  # noqa: PLC0415 (heavy: loaded only when asked)

    log.info("dashboard loading %s to explain scores", model)
    return Occlusion(load_scorer(_settings))


@st.cache_data(show_spinner=False, max_entries=256)
def _explained(model_id: str, text: str, _explainer: Occlusion) -> Explanation:
    return _explainer.explain(text)


def word_html(piece: str, strength: float, score_weight: float, label_weight: float) -> str:
    """One word as a span coloured by its ``strength`` in [-1, 1] (text escaped)."""
    title = f"score {score_weight:+.3f} · label {label_weight:+.3f}"
    if abs(strength) < FAINT:
        return f'<span class="why-word" title="{title}">{html.escape(piece)}</span>'
    r, g, b = UP if strength > 0 else DOWN
    alpha = 0.15 + 0.65 * min(1.0, abs(strength))
    style = f"background-color: rgba({r}, {g}, {b}, {alpha:.2f}); border-radius: 3px"
    return (
        f'<span class="why-word why-{"up" if strength > 0 else "down"}" '
        f'data-weight="{score_weight:+.4f}" title="{title}" style="{style}">'
        f"{html.escape(piece)}</span>"
    )


def explanation_html(ex: Explanation) -> str:
    """The text with each word in a coloured span; everything from the post escaped."""
    parts = [
        html.escape(piece)
        if word is None
        else word_html(piece, ex.strength(word), word.score_weight, word.label_weight)
        for piece, word in ex.pieces()
    ]
    return (
        f'<div class="why-text" style="line-height: 2; font-size: 1.05rem">{"".join(parts)}</div>'
    )


def option_label(post: Post) -> str:
    score = post.get("score")
    shown = f"{score:+.2f}" if isinstance(score, int | float) else "?"
    text = " ".join(str(post.get("text") or "").split())
    return f"{post.get('label') or '?'} {shown} · {text[:90]}"


def render_why(posts: Sequence[Post], *, key: str) -> None:
    """A picker over ``posts`` and, once one is picked, why it scored as it did."""
    by_id = {str(p.get("id")): p for p in posts if p.get("text")}
    if not by_id:
        return
    chosen = st.selectbox(
        "Why this score?",
        list(by_id),
        index=None,
        key=f"{key}_why",
        format_func=lambda pid: option_label(by_id[pid]),
        placeholder="Pick a story to see which words pushed its score",
    )
    if chosen is None:
        return
    with st.container(key=f"{key}_explanation"):
        _render_explanation(str(by_id[chosen]["text"]))


def _render_explanation(text: str) -> None:
    settings = load_settings()
    try:
        explainer = _explainer(settings.model, settings.backend, settings.device, settings)
        ex = _explained(explainer.scorer.model_id, text, explainer)
    except (SentimonError, OSError) as exc:
        st.info(f"No model available to explain scores here ({exc}).", icon=":material/info:")
        return
    st.html(explanation_html(ex) + details_html(ex))


def details_html(ex: Explanation) -> str:
    """What the model said of the whole post, and its strongest words (escaped)."""
    top = ", ".join(f"{w.word} {w.score_weight:+.3f}" for w in ex.top(5)) or "none"
    line = (
        f"{ex.label} {ex.confidence:.2f} · score {ex.base_score:+.3f} on {ex.model_id} · "
        f"green pushed the score up, red down · strongest: {top} · {ex.method}: a word's "
        "weight is how far the score moves without it"
    )
    return f'<div class="why-details" style="opacity: 0.7; font-size: 0.85rem">{html.escape(line)}</div>'
