"""How much a post is about each company it names: a relevance in [0, 1] (pure).

The score follows what a reader of the post takes its subject to be:

- **role**: the first company named (in the title when there is one, else in the text),
  or the only one, is the subject (1.0); another company named in the title is nearly so
  (0.85); a later one in the text is a secondary mention (0.7);
- **crowd**: the more companies share a post, the less it says about each one:
  ``1 / (1 + 0.2 (k - 1))`` for ``k`` companies (0.83 for two, 0.36 for ten);
- **repetition**: each further mention of the same company adds 0.1, at most 0.2.

The result is rounded to a step of ``RELEVANCE_STEP`` (0.2), never below one step. The
aggregates keep exact sums per step (``sentimon.keys.relevance_entity``), so every
minimum relevance a query or an alert rule asks for, and every relevance-weighted sum,
is exact rather than approximated from buckets.
"""

from __future__ import annotations

import math

#: Relevance is reported and aggregated in these steps: 0.2, 0.4, 0.6, 0.8, 1.0.
RELEVANCE_STEP = 0.2
RELEVANCE_LEVELS = (0.2, 0.4, 0.6, 0.8, 1.0)
#: Levels below full relevance: each keeps its own aggregates (``relevance_entity``).
PARTIAL_LEVELS = RELEVANCE_LEVELS[:-1]

SUBJECT, IN_TITLE, SECONDARY = 1.0, 0.85, 0.7
_CROWD = 0.2
_REPEAT = 0.1
_MAX_REPEAT = 0.2


def relevance(*, rank: int, companies: int, mentions: int, in_title: bool) -> float:
    """Relevance of the company ranked ``rank`` (0: named first) among ``companies`` in a
    post, named ``mentions`` times; ``in_title``: named in the post's title."""
    if rank == 0:
        role = SUBJECT
    elif in_title:
        role = IN_TITLE
    else:
        role = SECONDARY
    crowd = 1.0 / (1.0 + _CROWD * (max(companies, 1) - 1))
    repeat = min(_REPEAT * max(mentions - 1, 0), _MAX_REPEAT)
    return quantize_relevance(role * crowd + repeat)


def quantize_relevance(value: float) -> float:
    """``value`` rounded half up to a ``RELEVANCE_STEP``, within [0.2, 1.0]."""
    steps = math.floor(value / RELEVANCE_STEP + 0.5 + 1e-9)
    return RELEVANCE_LEVELS[min(max(steps, 1), len(RELEVANCE_LEVELS)) - 1]


def check_min_relevance(value: float) -> float:
    """A minimum relevance as given by a user: 0 (every mention) or up to 1. Thresholds
    between steps select the same mentions as the next step up."""
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError(f"minimum relevance {value!r} must be between 0 and 1")
    return value


def levels_below(min_relevance: float) -> tuple[float, ...]:
    """The partial levels a minimum relevance leaves out."""
    return tuple(level for level in PARTIAL_LEVELS if level < min_relevance - 1e-9)
