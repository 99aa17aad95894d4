"""Alert lifecycle: hysteresis, resolve_after, repeat_interval, cooldown, send_resolved, mute."""

from __future__ import annotations

from dataclasses import replace

from sentimon.alerts.detect import Signal
from sentimon.alerts.lifecycle import AlertState, step
from sentimon.alerts.rules import Rule

RULE = Rule(
    "d",
    "sentiment_drop",
    ("ticker:*",),
    900,
    threshold=3.0,
    resolve=1.0,
    cooldown_s=600,
    repeat_s=1800,
    resolve_after_s=120,
)
ON, HOLD, OFF = Signal(True, False), Signal(False, False), Signal(False, True)
MIN = 60_000


def run(signals, rule=RULE, mute=None, state=None, start=0, every=MIN):
    """Feed (time, signal) steps; return the final state and the notices."""
    state = state or AlertState()
    notices = []
    for i, signal in enumerate(signals):
        now = start + i * every
        state, notice = step(state, signal, now, rule, mute=mute, make_id=lambda t: f"id{t}")
        if notice:
            notices.append(notice)
    return state, notices


def test_opens_once_and_repeats_only_after_repeat_interval():
    state, notices = run([ON] * 45)  # 45 minutes firing, repeat every 30
    assert state.firing and state.alert_id == "id0"
    assert [(n.status, n.at_ms // MIN, n.seq, n.deliver) for n in notices] == [
        ("firing", 0, 0, True),
        ("firing", 30, 1, True),
    ]
    assert notices[1].event_id == "id0.1" and notices[1].alert_id == notices[0].alert_id


def test_resolves_only_after_clear_for_resolve_after():
    signals = [ON, ON, OFF, HOLD, OFF, OFF, OFF, OFF]
    state, notices = run(signals)
    # clear at 2 is interrupted by HOLD at 3 (still above the resolve threshold);
    # clear again from 4, resolved at 6 (120 s later)
    assert [(n.status, n.at_ms // MIN) for n in notices] == [("firing", 0), ("resolved", 6)]
    assert not state.firing and state.resolved_ms == 6 * MIN
    assert notices[1].deliver and notices[1].alert_id == "id0" and notices[1].seq == 1


def test_hold_between_thresholds_keeps_it_open():
    state, notices = run([ON] + [HOLD] * 20)
    assert state.firing and len(notices) == 1


def test_cooldown_blocks_reopening():
    _, notices = run([ON, OFF, OFF, OFF] + [ON] * 12)
    opened = [n.at_ms // MIN for n in notices if n.status == "firing"]
    # resolved at 3; cooldown 10 min -> may open again at 13
    assert opened == [0, 13]
    assert notices[-1].alert_id == "id780000"


def test_send_resolved_false_sends_nothing_on_resolve():
    _, notices = run([ON, OFF, OFF, OFF], rule=replace(RULE, send_resolved=False))
    assert [(n.status, n.deliver) for n in notices] == [("firing", True), ("resolved", False)]


def test_muted_alert_is_recorded_not_delivered_and_delivered_once_unmuted():
    state, notices = run([ON] * 3, mute="silence:x")
    assert [(n.status, n.deliver, n.muted) for n in notices] == [("firing", False, "silence:x")]
    state, later = run([ON, ON], state=state, start=3 * MIN)
    assert [(n.status, n.deliver, n.at_ms // MIN) for n in later] == [("firing", True, 3)]


def test_resolved_after_only_muted_firing_is_not_delivered():
    state, _ = run([ON], mute="silence:x")
    _, notices = run([OFF, OFF, OFF], state=state, start=MIN, mute="silence:x")
    assert [(n.status, n.deliver) for n in notices] == [("resolved", False)]


def test_evaluations_older_than_the_state_change_nothing():
    state, _ = run([ON], start=10 * MIN)
    late, notices = run([OFF, OFF, OFF, ON], state=state, start=0)  # a lagging partition
    assert late == state and notices == []


def test_state_round_trips_through_a_dict():
    state, _ = run([ON, OFF])
    assert AlertState.from_dict(state.as_dict()) == state
