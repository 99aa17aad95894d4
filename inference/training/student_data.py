"""What the default model trains on, and the slice of training data it never sees.

- **Held-out slice**: one training tweet in ``HOLDOUT_EVERY`` (chosen by a hash of its
  text, so identical texts fall on the same side and the split never changes) is kept out
  of training, with its transfer-set variants. The build fits the calibration, the
  decision offsets and the cascade threshold on it (``inference.calibration``), so none of
  them is tuned on ``valid.csv``.
- **Transfer set**: teacher-labelled variants of the tweets and of the first
  ``TRANSFER_HEADLINES`` headlines, the texts the committed teacher targets were made for
  (``inference/data/teacher_targets.json``). Later headlines learn from their labels, with
  a smoothed label standing in for the teacher, until ``make teacher`` rebuilds the
  targets; variants without a target are left out.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.training import augment, dataset, distill
from sentimon.errors import ModelError

log = logging.getLogger(__name__)

#: One training tweet in this many is held out for calibration.
HOLDOUT_EVERY = 10
#: Headlines (in file order) the teacher targets cover; see the module docstring.
TRANSFER_HEADLINES = 232
#: Teacher-labelled variants of each training text (``inference.training.augment``).
TRANSFER_COPIES = 2


@dataclass(frozen=True)
class StudentData:
    train: dataset.Labelled
    soft: np.ndarray | None
    holdout: dataset.Labelled
    stats: dict[str, int]


def is_held_out(text: str) -> bool:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % HOLDOUT_EVERY == 0


def split_holdout(tweets: dataset.Labelled) -> tuple[dataset.Labelled, dataset.Labelled]:
    """(the tweets trained on, the held-out tweets)."""
    held = np.array([is_held_out(t) for t in tweets.texts], dtype=bool)
    return tweets.take(np.flatnonzero(~held)), tweets.take(np.flatnonzero(held))


def transfer_base(tweets: dataset.Labelled, headlines: dataset.Labelled | None) -> list[str]:
    """The texts the transfer set is drawn from (the teacher's and the student's alike)."""
    extra = headlines.texts[:TRANSFER_HEADLINES] if headlines is not None else []
    return [*tweets.texts, *extra]


def transfer_variants(base: list[str]) -> list[tuple[int, str]]:
    """``TRANSFER_COPIES`` variants of each base text with the index of their origin,
    always drawn with seed 0."""
    return augment.transfer_variants(base, TRANSFER_COPIES, seed=0)


def student_data(train_csv: Path, headlines_csv: Path | None, targets: Path | None) -> StudentData:
    """The training set (with soft targets when ``targets`` is given) and the holdout."""
    tweets = dataset.read_labelled(train_csv)
    headlines = dataset.read_labelled(headlines_csv) if headlines_csv else None
    fit, holdout = split_holdout(tweets)
    train = dataset.concat([fit] + ([headlines] if headlines is not None else []))
    stats = {"tweets": len(tweets), "held_out": len(holdout), "labelled": len(train)}
    if targets is None:
        return StudentData(train, None, holdout, stats)
    base = transfer_base(tweets, headlines)
    held = {i for i, text in enumerate(base) if i < len(tweets) and is_held_out(text)}
    variants = [v for origin, v in transfer_variants(base) if origin not in held]
    labelled_soft, labelled_found = distill.read_some_targets(targets, train.texts)
    variant_soft, variant_found = distill.read_some_targets(targets, variants)
    standin = distill.label_targets(train.labels)
    labelled_soft = np.where(labelled_found[:, None], labelled_soft, standin)
    kept = np.flatnonzero(variant_found)
    if variants and len(kept) < len(variants) / 2:
        raise ModelError(
            f"{targets} has targets for only {len(kept)} of the {len(variants)} transfer-set "
            f"variants: it was made for other training texts; {distill.REBUILD_HINT}"
        )
    train = dataset.with_unlabelled(train, [variants[i] for i in kept.tolist()])
    soft = np.concatenate([labelled_soft, variant_soft[kept]]).astype(np.float32)
    stats |= {
        "labelled_with_teacher": int(labelled_found.sum()),
        "variants": len(kept),
        "variants_without_target": int(len(variants) - len(kept)),
    }
    log.info("student data: %s", stats)
    return StudentData(train, soft, holdout, stats)
