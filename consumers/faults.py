"""Fault injection for the crash-safety tests.

``SENTIMON_FAULT=<point>[:<n>]`` makes the process SIGKILL itself the n-th time (default
the first) it reaches ``<point>``: ``after_poll``, ``after_score``, ``after_dead_letters``
(the broker acknowledged a batch's dead letters, not yet recorded in Redis),
``after_write`` or ``after_commit``. Unset in production; reading it costs one dict lookup per batch.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

POINTS = ("after_poll", "after_score", "after_dead_letters", "after_write", "after_commit")
_counts: dict[str, int] = {}


def _parse(spec: str) -> tuple[str, int]:
    point, _, nth = spec.partition(":")
    return point, int(nth) if nth else 1


def fault_point(name: str) -> None:
    spec = os.environ.get("SENTIMON_FAULT")
    if not spec:
        return
    point, nth = _parse(spec)
    if point != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= nth:
        log.warning("fault injection: SIGKILL at %s (#%d)", name, _counts[name])
        os.kill(os.getpid(), signal.SIGKILL)
