"""Inhibition rules (pure): a firing alert mutes other alerts, as in Alertmanager.

An ``InhibitRule`` mutes a *target* alert (its labels match every ``target`` matcher)
while a *source* alert is firing (its labels match every ``source`` matcher) that has
the same value (or lacks it too) for each label in ``equal``. An alert never inhibits
itself. The hook applies the rules at evaluation time, in event time, against the open
alerts it sees; an inhibited alert is recorded in the history with
``muted = inhibited:<source alert id>`` and not delivered.

The old top-level ``inhibit = true`` ("a firing market alert mutes ticker alerts of the
same kind") is the rule ``LEGACY``: source ``entity = market``, target
``scope = ticker``, equal ``["kind"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sentimon.alerts.alert_labels import LabelMatcher, match_all


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[LabelMatcher, ...]
    target: tuple[LabelMatcher, ...]
    equal: tuple[str, ...] = ()
    line: int = 0

    def inhibits(self, source: Mapping[str, str], target: Mapping[str, str]) -> bool:
        return (
            match_all(self.target, target)
            and match_all(self.source, source)
            and all(source.get(n, "") == target.get(n, "") for n in self.equal)
        )


LEGACY = InhibitRule(
    source=(LabelMatcher("entity", "=", "market"),),
    target=(LabelMatcher("scope", "=", "ticker"),),
    equal=("kind",),
)


def inhibiting(
    rules: Iterable[InhibitRule],
    target: Mapping[str, str],
    firing: Iterable[tuple[str, Mapping[str, str]]],
) -> str | None:
    """The id of a firing alert that inhibits ``target``, if any. ``firing``: (alert id,
    labels) of the alerts firing now, the target itself left out by the caller."""
    candidates = [rule for rule in rules if match_all(rule.target, target)]
    if not candidates:
        return None
    for alert_id, labels in firing:
        if any(rule.inhibits(labels, target) for rule in candidates):
            return alert_id
    return None
