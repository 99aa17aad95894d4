"""Scoring many texts into a pandas DataFrame (``sentimon.score``): one row per text, in
input order and with the input's index, so the result joins back onto the caller's frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from inference.loader import load_scorer
from inference.scorer import LABELS, ScoreBatch, Scorer

if TYPE_CHECKING:
    import pandas as pd

    from sentimon.settings import Settings

#: Texts handed to the scorer per call (it splits them into token-budget batches itself);
#: bounds the memory of the encoded texts when a whole column is scored.
CHUNK = 1024
COLUMNS = ("label", "score", *LABELS, "model")


def score(
    texts: Iterable[str] | pd.Series | pd.DataFrame,
    *,
    column: str = "text",
    settings: Settings | None = None,
    scorer: Scorer | None = None,
) -> pd.DataFrame:
    """Score ``texts`` (strings, a Series, or a DataFrame's ``column``) and return a
    DataFrame with columns ``label`` (negative/neutral/positive), ``score`` (P(positive)
    - P(negative), in [-1, 1]), the three probabilities and ``model`` (name, version,
    backend), indexed like the input. Loads the settings' model unless ``scorer`` is
    given; to score repeatedly, load one with ``load_scorer`` and pass it.

    >>> frame = score(["$ACME beats estimates", "$XYZ cuts guidance"])
    >>> news.join(score(news, column="headline"))
    """
    import pandas as pd  # noqa: PLC0415 (heavy: loaded only when used)

    if isinstance(texts, pd.DataFrame):
        texts = texts[column]
    index = texts.index if isinstance(texts, pd.Series) else None
    values = list(texts)
    for i, text in enumerate(values):
        if not isinstance(text, str):
            where = index[i] if index is not None else i
            raise TypeError(f"text at {where!r} is a {type(text).__name__}, not a string")
    if scorer is None:
        scorer = load_scorer(settings)
    probs = np.zeros((len(values), len(LABELS)), dtype=np.float32)
    for start in range(0, len(values), CHUNK):
        part = scorer.score(values[start : start + CHUNK])
        probs[start : start + len(part)] = part.probs
    scored = ScoreBatch(probs, scorer.model_id)
    data: dict[str, Any] = {
        "label": scored.labels,
        "score": scored.scores,
        **{label: probs[:, i] for i, label in enumerate(LABELS)},
        "model": scorer.model_id,
    }
    return pd.DataFrame(data, index=index, columns=list(COLUMNS))
