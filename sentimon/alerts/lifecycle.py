"""The life of one alert (pure): hysteresis, cooldown, repeat and send_resolved.

Per (rule, entity) an ``AlertState`` is either ``ok`` or ``firing``. All times are event
time (epoch ms), so replays and backtests behave like the live run.

- ``ok`` -> ``firing`` when the signal is active and the cooldown since the last
  resolution has passed. The alert gets its id then. A rule with ``for`` (``for_s``)
  first keeps the pair *pending*: the signal must stay active from the first tick that
  saw it until a tick ``for`` later (event time; a tick where it is not active starts
  the wait over), so replays open the alert at the same moment as the live run.
- ``firing`` -> ``ok`` once the signal has been *cleared* (the looser resolve threshold)
  continuously for ``resolve_after``; going back above it restarts that wait.
- While firing, a firing notice goes out when none has been delivered yet, then again
  every ``repeat_interval`` (Alertmanager's repeat semantics).
- On resolution a resolved notice is delivered once, if the rule has ``send_resolved``
  and a firing notice was delivered (receivers that never heard of it are not told).
- Evaluations at event times before the latest one the state acted on are ignored, so
  partitions consumed at different event times cannot re-open or resolve an alert early.
- A muted alert (silence, inhibition) still changes state; its notices are recorded in
  the history but not delivered, and once unmuted it is delivered at the next evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from sentimon.alerts.detect import Signal
from sentimon.alerts.rules import Rule

OK = "ok"
FIRING = "firing"
RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertState:
    status: str = OK
    alert_id: str | None = None
    opened_ms: int | None = None
    #: event time of the last delivered firing notice (None: none delivered)
    sent_ms: int | None = None
    #: notices emitted for this alert so far (the next one's sequence number)
    seq: int = 0
    #: since when the signal has been cleared (None: not cleared)
    clear_since_ms: int | None = None
    #: when the previous alert of this pair resolved (for the cooldown)
    resolved_ms: int | None = None
    #: since when the opening condition has held, while waiting out the rule's ``for``
    pending_since_ms: int | None = None

    @property
    def firing(self) -> bool:
        return self.status == FIRING

    @property
    def latest_ms(self) -> int | None:
        """The latest event time this state has acted on."""
        times = [
            t
            for t in (
                self.opened_ms,
                self.sent_ms,
                self.clear_since_ms,
                self.resolved_ms,
                self.pending_since_ms,
            )
            if t is not None
        ]
        return max(times) if times else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertState:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class Notice:
    """Something to record (history) and maybe deliver (outbox) about one alert."""

    status: str  # firing | resolved
    alert_id: str
    seq: int
    opened_ms: int
    at_ms: int
    deliver: bool
    muted: str = ""
    #: a firing notice of this alert was delivered (resolved notices: receivers know it)
    was_sent: bool = False

    @property
    def event_id(self) -> str:
        """Unique per notice; the receivers' idempotency key."""
        return f"{self.alert_id}.{self.seq}"


def step(
    state: AlertState,
    signal: Signal,
    now_ms: int,
    rule: Rule,
    *,
    mute: str | None,
    make_id: Callable[[int], str],
) -> tuple[AlertState, Notice | None]:
    """Advance ``state`` by one evaluation at event time ``now_ms``. Evaluations older than
    what the state already acted on (a lagging partition in a backfill) change nothing."""
    latest = state.latest_ms
    if latest is not None and now_ms < latest:
        return state, None
    if not state.firing:
        if not (signal.active and _cooled_down(state, now_ms, rule)):
            return replace(state, pending_since_ms=None), None
        since = state.pending_since_ms if state.pending_since_ms is not None else now_ms
        if now_ms - since < rule.for_s * 1000:
            return replace(state, pending_since_ms=since), None
        opened = AlertState(FIRING, make_id(now_ms), now_ms, resolved_ms=state.resolved_ms)
        return _notify_firing(opened, now_ms, rule, mute, just_opened=True)
    if signal.cleared:
        since = state.clear_since_ms if state.clear_since_ms is not None else now_ms
        if now_ms - since >= rule.resolve_after_s * 1000:
            return _resolve(state, now_ms, rule)
        state = replace(state, clear_since_ms=since)
    elif state.clear_since_ms is not None:
        state = replace(state, clear_since_ms=None)
    return _notify_firing(state, now_ms, rule, mute, just_opened=False)


def _cooled_down(state: AlertState, now_ms: int, rule: Rule) -> bool:
    return state.resolved_ms is None or now_ms - state.resolved_ms >= rule.cooldown_s * 1000


def _notify_firing(
    state: AlertState, now_ms: int, rule: Rule, mute: str | None, *, just_opened: bool
) -> tuple[AlertState, Notice | None]:
    assert state.alert_id is not None and state.opened_ms is not None
    if mute is None:
        due = state.sent_ms is None or now_ms - state.sent_ms >= rule.repeat_s * 1000
        if not due:
            return state, None
        notice = Notice(FIRING, state.alert_id, state.seq, state.opened_ms, now_ms, True)
        return replace(state, sent_ms=now_ms, seq=state.seq + 1), notice
    if not just_opened:
        return state, None
    notice = Notice(FIRING, state.alert_id, state.seq, state.opened_ms, now_ms, False, mute)
    return replace(state, seq=state.seq + 1), notice


def _resolve(state: AlertState, now_ms: int, rule: Rule) -> tuple[AlertState, Notice]:
    assert state.alert_id is not None and state.opened_ms is not None
    deliver = rule.send_resolved and state.sent_ms is not None
    notice = Notice(
        RESOLVED,
        state.alert_id,
        state.seq,
        state.opened_ms,
        now_ms,
        deliver,
        was_sent=state.sent_ms is not None,
    )
    return AlertState(OK, resolved_ms=now_ms), notice
