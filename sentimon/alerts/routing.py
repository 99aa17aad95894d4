"""The routing tree (pure): which routes (and so which receivers) an alert goes to.

Like Alertmanager's: the root route takes every alert. Below a route that matched, its
child routes are tried in order; an alert goes to the first child whose matchers all
hold and, if that child has ``continue = true``, on to the later siblings too. A route
none of whose children matched delivers the alert itself. Children inherit ``receiver``,
``group_by``, the three timings and the ``kafka`` switch from their parent; mute timings
are not inherited.

``group_by`` names the labels an alert's group is keyed by (``["..."]``: every label).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sentimon.alerts.alert_labels import LabelMatcher, match_all
from sentimon.alerts.mute import TimeInterval

GROUP_WAIT_S = 30
GROUP_INTERVAL_S = 300
REPEAT_INTERVAL_S = 4 * 3600
ALL_LABELS = "..."


@dataclass(frozen=True)
class Route:
    """One node of the tree; ``path`` ("0", "0.2", "0.2.1") names it in group keys."""

    receiver: str
    path: str = "0"
    matchers: tuple[LabelMatcher, ...] = ()
    group_by: tuple[str, ...] = ()
    group_wait_s: int = GROUP_WAIT_S
    group_interval_s: int = GROUP_INTERVAL_S
    repeat_s: int = REPEAT_INTERVAL_S
    cont: bool = False
    mute_time_intervals: tuple[str, ...] = ()
    #: also publish this route's notifications on the Kafka ``alerts`` topic (None: as
    #: the receiver says)
    kafka: bool | None = None
    routes: tuple[Route, ...] = ()
    line: int = 0

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels that key this alert's group on this route."""
        if ALL_LABELS in self.group_by:
            return dict(sorted(labels.items()))
        return {name: labels.get(name, "") for name in self.group_by}


def matching_routes(root: Route, labels: Mapping[str, str]) -> list[Route]:
    """The routes that deliver an alert with ``labels``, in tree order."""
    return _match(root, labels)


def _match(route: Route, labels: Mapping[str, str]) -> list[Route]:
    found: list[Route] = []
    for child in route.routes:
        if not match_all(child.matchers, labels):
            continue
        found.extend(_match(child, labels))
        if not child.cont:
            break
    return found or [route]


def walk(root: Route) -> list[Route]:
    """Every route of the tree, depth first."""
    return [root, *(r for child in root.routes for r in walk(child))]


@dataclass(frozen=True)
class ReceiverSpec:
    """A named receiver from the rules file; ``receivers.build_receivers`` makes its sinks."""

    name: str
    webhook_urls: tuple[str, ...] = ()
    format: str = "json"
    template: str | None = None
    email: Mapping[str, Any] | None = None
    alertmanager_urls: tuple[str, ...] = ()
    kafka: bool = False
    line: int = 0


@dataclass(frozen=True)
class Routing:
    """Everything a rules file says about delivery (None on a ``RuleSet``: no ``[route]``,
    every notice to every configured sink as before)."""

    root: Route
    receivers: Mapping[str, ReceiverSpec] = field(default_factory=dict)
    intervals: Mapping[str, TimeInterval] = field(default_factory=dict)

    def routes(self) -> dict[str, Route]:
        return {route.path: route for route in walk(self.root)}


def describe(routing: Routing) -> list[dict[str, Any]]:
    """One row per route, for ``sentimon alerts check``."""
    return [
        {
            "route": r.path,
            "matchers": ", ".join(map(str, r.matchers)) or "(any)",
            "receiver": r.receiver,
            "group_by": ",".join(r.group_by),
            "continue": r.cont,
            "mute": ",".join(r.mute_time_intervals),
        }
        for r in walk(routing.root)
    ]
