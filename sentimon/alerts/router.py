"""The dispatcher's routing stage, used when the rules file has a ``[route]``.

Each outbox notice (an entry without ``sinks``) is routed by its labels
(``sentimon.alerts.routing``) into one group per matching route
(``sentimon.alerts.grouping``), stored in Redis (``sentimon.alerts.group_store``) in the
same transaction that acknowledges the notice. ``flush_due`` then turns the groups whose
time has come into notifications: outbox entries addressed to the route's receiver's
sinks, which the dispatcher delivers like any other entry. Mute timings are checked when
a group is due, in wall-clock time.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from sentimon.alerts.alert_labels import builtin_labels
from sentimon.alerts.group_store import GroupStore, Update
from sentimon.alerts.grouping import Group, add_alert, flush, group_id
from sentimon.alerts.mute import Calendars, muted_by
from sentimon.alerts.outbox import Entry
from sentimon.alerts.routing import Route, Routing, matching_routes
from sentimon.market_calendar import get_calendar

log = logging.getLogger(__name__)

#: (route, receiver name) -> the names of the sinks its notifications go to
SinksOf = Callable[[Route, str], list[str]]


class Router:
    def __init__(
        self,
        routing: Routing,
        store: GroupStore,
        sinks_of: SinksOf,
        *,
        wall: Callable[[], float] = time.time,
        calendars: Calendars = get_calendar,
    ) -> None:
        self.routing = routing
        self.routes = routing.routes()
        self.store = store
        self.sinks_of = sinks_of
        self.wall = wall
        self.calendars = calendars
        self.muted = 0

    def accept(self, entry: Entry) -> None:
        """Route one notice into its groups and acknowledge its outbox entry."""
        try:
            payload = entry.payload
        except ValueError:
            log.error("outbox entry %s is not JSON; dropping it", entry.entry_id)
            payload = {}
        if "status" not in payload:
            self.store.accept(entry.entry_id, [])
            return
        labels = alert_labels_of(payload)
        now_ms = self._now_ms()
        updates: list[tuple[str, Update]] = []
        for route in matching_routes(self.routing.root, labels):
            keyed = route.group_labels(labels)
            change = partial(_added, route=route, labels=keyed, payload=payload, now_ms=now_ms,
                             quiet=entry.quiet)  # fmt: skip
            updates.append((_gid(route, keyed), change))
        self.store.accept(entry.entry_id, updates)

    def flush_due(self, *, force: bool = False) -> int:
        """Notify the groups that are due (``force``: every group now, as ``--once``
        does); returns the notifications queued."""
        now_ms = self._now_ms()
        queued = 0
        for gid in self.store.due(math.inf if force else now_ms):
            note = self.store.flush(gid, partial(self._decide, now_ms=now_ms, force=force))
            queued += note is not None
        return queued

    def _decide(
        self, group: Group, *, now_ms: int, force: bool
    ) -> tuple[Group | None, dict[str, Any] | None, str]:
        route = self.routes.get(group.route)
        if route is None or route.receiver != group.receiver:
            log.warning("dropping alert group %s: its route changed", group.gid)
            return None, None, ""
        if group.next_ms > now_ms and not force:  # another dispatcher flushed it meanwhile
            return group, None, ""
        muted = muted_by(
            route.mute_time_intervals, self.routing.intervals, now_ms / 1000, self.calendars
        )
        after, note = flush(group, route, now_ms, muted=muted is not None)
        if muted is not None:
            self.muted += 1
            log.info("alert group %s muted by time interval %s", group.gid, muted)
        return after, note, ",".join(self.sinks_of(route, group.receiver))

    def _now_ms(self) -> int:
        return int(self.wall() * 1000)


def _added(
    group: Group | None,
    *,
    route: Route,
    labels: dict[str, str],
    payload: dict[str, Any],
    now_ms: int,
    quiet: bool,
) -> Group:
    return add_alert(group, route, route.receiver, labels, payload, now_ms, quiet=quiet)


def _gid(route: Route, labels: dict[str, str]) -> str:
    return group_id(route, route.receiver, labels)


def alert_labels_of(payload: dict[str, Any]) -> dict[str, str]:
    """A notice's labels; a payload written before labels gets its built-in ones."""
    labels = payload.get("labels")
    if isinstance(labels, dict) and labels:
        return {str(k): str(v) for k, v in labels.items()}
    return builtin_labels(
        str(payload.get("rule", "")),
        str(payload.get("kind", "")),
        str(payload.get("severity", "")),
        str(payload.get("entity", "")),
        namespace=str(payload.get("namespace", "")),
        model=payload.get("model"),
    )
