"""When the scorer raises on a batch: find the posts it fails on (poison input), so they
are dead-lettered with the error and the rest of the batch is scored and written.

A post that makes the model fail (a tokenizer or runtime bug hit by some odd text) would
otherwise fail its batch on every redelivery, and the consumer would stop on it for good.
Bisection scores halves until each failing post stands alone: at most 2 x log2(batch)
extra calls per poison post, paid only when something failed. A scorer that fails even on a
plain canary text is broken, not fed bad input: that raises ``ModelError`` (the batch is
retried with backoff, nothing is committed or dead-lettered).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from inference.scorer import Scorer
from sentimon.errors import ModelError, SentimonError

log = logging.getLogger(__name__)

#: Scored when a batch failed, to tell poison input from a broken scorer.
CANARY = "Shares rose after the company reported earnings in line with estimates."

#: A dead letter's reason header carries the error; a runtime's message can quote its input.
_MAX_REASON = 500

T = TypeVar("T")


@dataclass
class Isolated(Generic[T]):
    """``scored``: (item, label, score, model id) in input order; ``failed``: (item, the
    error as a dead-letter reason)."""

    scored: list[tuple[T, str, float, str]]
    failed: list[tuple[T, str]]


def score_isolating(
    scorer: Scorer, items: Sequence[T], texts: Sequence[str], error: Exception
) -> Isolated[T]:
    """After ``scorer.score(texts)`` raised ``error``: score what can be scored, and name
    the items it fails on alone. Raises ``ModelError`` if the canary fails too."""
    _check_canary(scorer, error)
    out: Isolated[T] = Isolated([], [])
    _split(scorer, list(zip(items, texts, strict=True)), error, out)
    log.warning(
        "scorer failed on a batch of %d (%s: %s): %d post(s) dead-lettered, %d scored",
        len(items),
        type(error).__name__,
        error,
        len(out.failed),
        len(out.scored),
    )
    return out


def _check_canary(scorer: Scorer, error: Exception) -> None:
    try:
        scorer.score([CANARY])
    except SentimonError:
        raise
    except Exception as exc:
        raise ModelError(
            f"the scorer fails even on a plain sentence ({type(exc).__name__}: {exc}; the "
            f"batch raised {type(error).__name__}: {error}): the model or its backend is "
            "broken, not the input. Nothing was committed; check the model files and the "
            "backend (SENTIMON_MODEL, SENTIMON_BACKEND)"
        ) from exc


def _split(scorer: Scorer, pairs: list[tuple[T, str]], error: Exception, out: Isolated[T]) -> None:
    """``pairs`` failed together with ``error``: one alone is poison; more are scored by
    halves (the failed call is not repeated)."""
    if len(pairs) == 1:
        why = f"scoring failed: {type(error).__name__}: {error}"
        out.failed.append((pairs[0][0], why[:_MAX_REASON]))
        return
    middle = len(pairs) // 2
    for half in (pairs[:middle], pairs[middle:]):
        try:
            batch = scorer.score([text for _, text in half])
        except SentimonError:
            raise
        except Exception as exc:
            _split(scorer, half, exc, out)
            continue
        labels, scores = batch.labels, batch.scores.tolist()
        out.scored.extend(
            (item, label, score, batch.model_id)
            for (item, _), label, score in zip(half, labels, scores, strict=True)
        )
