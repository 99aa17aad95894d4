"""A model's reference profile: what its training data looked like, stored beside it.

``write_reference(model_dir, texts, probs, tokenizer)`` writes ``<model_dir>/reference.json``
(``sentimon.drift.ReferenceProfile``): the label mix the model gives the texts (``probs``: one row
of P(negative), P(neutral), P(positive) per text), their length mix, and how the model's
WordPiece vocabulary cuts them (``sentimon.wordpieces``, the same counting the consumer
does live), plus the same two shares measured with the real tokenizer for comparison.
``sentimon model profile --model DIR --data CSV`` (re)writes it for any model directory.

The consumer reads it with ``load_reference`` and counts pieces with ``load_counter`` (the
vocabulary from ``vocab.txt`` or ``tokenizer.json``). A model without ``reference.json``
loads as before: its drift figures say "no reference".
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentimon.drift import LABELS, ReferenceProfile
from sentimon.errors import ConfigError
from sentimon.health_window import Observation, WindowCounts
from sentimon.wordpieces import FRAGMENTED_PIECES, WordPieceCounter

log = logging.getLogger(__name__)

REFERENCE_FILE = "reference.json"


def write_reference(
    model_dir: Path | str, texts: Sequence[str], probs: np.ndarray, tokenizer: Any
) -> Path:
    """ReferenceProfile ``texts`` as scored (``probs``, shape (n, 3)) and write it; returns the path.
    ``tokenizer``: the model's Hugging Face tokenizer (fast or slow)."""
    probs = np.asarray(probs)
    if probs.shape != (len(texts), 3) or not len(texts):
        raise ValueError(f"need one probability row per text, got {probs.shape} for {len(texts)}")
    flag = getattr(tokenizer, "do_lower_case", None)
    lowercase = _init_lowercase(tokenizer) if flag is None else bool(flag)
    counter = WordPieceCounter(tokenizer.get_vocab(), lowercase=lowercase)
    counts = WindowCounts()
    for text, label in zip(texts, probs.argmax(axis=1).tolist(), strict=True):
        counts.add(Observation.of(LABELS[label], text, counter=counter), 0.0)
    unknown, fragmented = tokenizer_shares(texts, tokenizer)
    profile = ReferenceProfile.of(
        counts,
        tokenizer_unknown_share=unknown,
        tokenizer_fragmented_share=fragmented,
        lowercase=lowercase,
    )
    path = Path(model_dir) / REFERENCE_FILE
    path.write_text(json.dumps(profile.as_dict(), indent=2) + "\n", encoding="utf-8")
    log.info("wrote the reference profile of %d texts to %s", len(texts), path)
    return path


def tokenizer_shares(
    texts: Sequence[str], tokenizer: Any, chunk: int = 512
) -> tuple[float | None, float | None]:
    """(unknown-token share, share of words in 3+ pieces) by the tokenizer itself; the
    second needs a fast tokenizer (word ids), else None."""
    tokens = unknown = words = fragmented = 0
    fast = bool(getattr(tokenizer, "is_fast", False))
    for start in range(0, len(texts), chunk):
        part = list(texts[start : start + chunk])
        encoded = tokenizer(part, add_special_tokens=False, truncation=False)
        for row, ids in enumerate(encoded["input_ids"]):
            tokens += len(ids)
            unknown += sum(1 for i in ids if i == tokenizer.unk_token_id)
            if fast:
                w, f = _fragmented(encoded, row, part[row])
                words, fragmented = words + w, fragmented + f
    return (
        unknown / tokens if tokens else None,
        fragmented / words if fast and words else None,
    )


def _fragmented(encoded: Any, row: int, text: str) -> tuple[int, int]:
    """(words, words in 3+ pieces) of one encoded text; a word is a run of letters or
    digits, as ``sentimon.wordpieces`` counts them (punctuation is left out)."""
    per_word: dict[int, int] = {}
    for word in encoded.word_ids(row):
        if word is not None:
            per_word[word] = per_word.get(word, 0) + 1
    words = [
        n for word, n in per_word.items() if text[encoded.word_to_chars(row, word).start].isalnum()
    ]
    return len(words), sum(1 for n in words if n >= FRAGMENTED_PIECES)


def _init_lowercase(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "init_kwargs", {}).get("do_lower_case", True))


def load_reference(model_dir: Path | str | None) -> ReferenceProfile | None:
    """The reference profile of ``model_dir``; None without one (or without a directory).
    A file that is there but unreadable raises ConfigError naming it."""
    if model_dir is None:
        return None
    path = Path(model_dir) / REFERENCE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"reference profile {path}: unreadable ({exc}); rewrite it with "
            "`sentimon model profile --model DIR --data CSV` or delete it"
        ) from exc
    return ReferenceProfile.from_dict(data, str(path))


def load_counter(
    model_dir: Path | str | None, *, lowercase: bool = True
) -> WordPieceCounter | None:
    """A piece counter over the model's WordPiece vocabulary (``vocab.txt``, else the
    ``tokenizer.json`` model's vocab); None when neither is there or it is not WordPiece."""
    if model_dir is None:
        return None
    vocab_txt = Path(model_dir) / "vocab.txt"
    if vocab_txt.is_file():
        words = vocab_txt.read_text("utf-8").splitlines()
        return WordPieceCounter(words, lowercase=lowercase)
    tokenizer_json = Path(model_dir) / "tokenizer.json"
    if tokenizer_json.is_file():
        model = json.loads(tokenizer_json.read_text("utf-8")).get("model", {})
        if model.get("type") == "WordPiece" and isinstance(model.get("vocab"), dict):
            return WordPieceCounter(model["vocab"], lowercase=lowercase)
    return None


def profile_model(model_dir: Path | str, data: Path | str, *, limit: int | None = None) -> Path:
    """Score the ``text`` column of the CSV ``data`` with the model in ``model_dir`` and
    write its reference profile (``sentimon model profile``); returns the path."""
    from transformers import AutoTokenizer  # noqa: PLC0415 (heavy: loaded only when used)

    from inference.loader import load_scorer  # noqa: PLC0415 (heavy: loaded only when used)

    texts = read_texts(Path(data), limit)
    scorer = load_scorer(model=str(model_dir))
    probs = np.concatenate(
        [scorer.score(texts[i : i + 64]).probs for i in range(0, len(texts), 64)]
    )
    return write_reference(model_dir, texts, probs, AutoTokenizer.from_pretrained(str(model_dir)))


def read_texts(path: Path, limit: int | None = None) -> list[str]:
    """The ``text`` column of a CSV (ConfigError naming the file when it has none)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if "text" not in (reader.fieldnames or []):
                raise ConfigError(f"{path}, line 1: no text column (found {reader.fieldnames})")
            texts = [row["text"] or "" for row in reader]
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not texts:
        raise ConfigError(f"{path} has no rows to profile")
    return texts[:limit] if limit else texts
