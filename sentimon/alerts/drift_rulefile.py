"""The rules-file keys of a ``model_drift`` rule, validated with file, line and field.

::

    [[rule]]
    name = "model-drift"
    kind = "model_drift"
    scope = "model"                     # optional: the only scope it can have
    psi = 0.25                          # label-mix or length PSI that opens it ...
    resolve_psi = 0.15                  # ... and that both must fall below to resolve
    low_confidence_share = 0.4          # share of posts below SENTIMON_LOW_CONFIDENCE
    resolve_low_confidence_share = 0.3
    min_count = 1000                    # posts in the health window before it judges

At least one of ``psi`` and ``low_confidence_share`` is required. There is no ``window``:
the rule reads the consumer's health window (the last ``SENTIMON_HEALTH_WINDOW`` posts).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from sentimon.alerts.rules import MODEL_DRIFT, MODEL_SCOPE, SEVERITIES, Rule
from sentimon.errors import ConfigError

#: Keys a model_drift rule may set.
DRIFT_KEYS = frozenset({
    "name", "description", "scope", "kind", "severity", "min_count", "cooldown",
    "repeat_interval", "resolve_after", "send_resolved", "psi", "resolve_psi",
    "low_confidence_share", "resolve_low_confidence_share",
})  # fmt: skip
#: Posts the health window must hold before a rule that sets no min_count judges.
DEFAULT_MIN_COUNT = 500
#: The window length a model_drift rule reports (it has none: see the module doc).
NO_WINDOW_S = 60


class RuleReader(Protocol):
    """What ``sentimon.alerts.rulefile``'s rule reader offers."""

    raw: dict[str, Any]

    def fail(self, key: str | None, problem: str) -> ConfigError: ...
    def get(self, key: str, fallback: Any = None) -> Any: ...
    def text(self, key: str, fallback: str | None = None) -> str: ...
    def number(
        self,
        key: str,
        fallback: float | None,
        *,
        low: float,
        high: float | None = None,
        low_open: bool = False,
    ) -> float: ...
    def integer(self, key: str, fallback: int, *, low: int) -> int: ...
    def duration(self, key: str, fallback: str) -> int: ...
    def flag(self, key: str, fallback: bool) -> bool: ...


def drift_rule(name: str, r: RuleReader, line: int) -> Rule:
    """The ``model_drift`` rule ``name`` of reader ``r`` (ConfigError naming the field)."""
    for key in r.raw:
        if key not in DRIFT_KEYS:
            raise r.fail(
                key,
                f"unknown key for a {MODEL_DRIFT} rule (allowed: {', '.join(sorted(DRIFT_KEYS))})",
            )
    scope = r.get("scope", MODEL_SCOPE)
    if scope not in (MODEL_SCOPE, [MODEL_SCOPE]):
        raise r.fail(
            "scope", f'a {MODEL_DRIFT} rule watches the model: scope = "model", got {scope!r}'
        )
    severity = r.text("severity", "warning")
    if severity not in SEVERITIES:
        raise r.fail("severity", f"must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    psi, resolve_psi = _pair(r, "psi", "resolve_psi", high=None)
    low, resolve_low = _pair(r, "low_confidence_share", "resolve_low_confidence_share", high=1.0)
    if psi is None and low is None:
        raise r.fail("psi", "set psi, low_confidence_share or both (what opens the alert)")
    return Rule(
        name=name,
        kind=MODEL_DRIFT,
        scope=(MODEL_SCOPE,),
        window_s=NO_WINDOW_S,
        threshold=math.inf if psi is None else psi,
        resolve=math.inf if resolve_psi is None else resolve_psi,
        severity=severity,
        min_count=r.integer("min_count", DEFAULT_MIN_COUNT, low=1),
        cooldown_s=r.duration("cooldown", "15m"),
        repeat_s=r.duration("repeat_interval", "1h"),
        resolve_after_s=r.duration("resolve_after", "0m"),
        send_resolved=r.flag("send_resolved", True),
        description=str(r.get("description", "")),
        line=line,
        low_confidence=low,
        resolve_low_confidence=resolve_low,
    )


def _pair(
    r: RuleReader, open_key: str, resolve_key: str, *, high: float | None
) -> tuple[float | None, float | None]:
    """An opening threshold and its resolve threshold (default: 0.6 x it), or (None, None)
    when the rule does not set ``open_key``."""
    if r.get(open_key) is None:
        if r.get(resolve_key) is not None:
            raise r.fail(resolve_key, f"needs {open_key} as well")
        return None, None
    opens = r.number(open_key, None, low=0.0, high=high, low_open=True)
    resolves = r.number(resolve_key, round(opens * 0.6, 6), low=0.0, high=high)
    if resolves >= opens:
        raise r.fail(
            resolve_key, f"must be looser than {open_key} = {opens} (smaller), got {resolves}"
        )
    return opens, resolves
