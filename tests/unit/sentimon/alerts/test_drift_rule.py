"""The model_drift rule kind: rules-file validation and its signal (pure)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from consumers.model_health import ModelHealth
from dashboard.panels.model_fit import drift_rows
from inference.posts import PostScorer
from inference.scorer import ScoreBatch
from sentimon.aggregate import aggregate
from sentimon.alerts.drift_rule import measure_drift
from sentimon.alerts.rulefile import load_rules, parse_rules
from sentimon.contract import Post
from sentimon.drift import ReferenceProfile
from sentimon.errors import ConfigError
from sentimon.health_window import HealthSnapshot, HealthWindow, summary_fields
from sentimon.writeplan import WritePlan

RULE = """
[[rule]]
name = "model-drift"
kind = "model_drift"
psi = 0.25
low_confidence_share = 0.3
min_count = 50
"""


def _health(posts: int = 100, psi: float | None = 0.0, low: float | None = 0.1) -> HealthSnapshot:
    return HealthSnapshot(posts, (0.2, 0.6, 0.2), 0.8, low, None, 80.0, 0.0, 0.05, psi, psi, 0.6)


def test_a_model_drift_rule_parses_with_defaults() -> None:
    [rule] = parse_rules(RULE).rules
    assert rule.scope == ("model",) and rule.min_count == 50
    assert (rule.threshold, rule.resolve) == (0.25, 0.15)
    assert (rule.low_confidence, rule.resolve_low_confidence) == (0.3, 0.18)
    only_low = parse_rules(RULE.replace("psi = 0.25\n", "")).rules[0]
    assert math.isinf(only_low.threshold)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            ("min_count = 50", 'window = "15m"'),
            r"rules.toml, line 7: rule 'model-drift' field 'window': unknown key",
        ),
        (("psi = 0.25", "psi = -1"), r"field 'psi': must be > 0.0"),
        (("min_count = 50", "resolve_psi = 0.3"), r"field 'resolve_psi': must be looser"),
        (("min_count = 50", 'scope = "market"'), r"field 'scope': a model_drift rule watches"),
        (("psi = 0.25\nlow_confidence_share = 0.3", 'severity = "info"'), r"field 'psi': set psi"),
        (("low_confidence_share = 0.3", "low_confidence_share = 1.5"), r"must be > 0.0 and <= 1.0"),
    ],
)
def test_bad_model_drift_rules_name_line_and_field(change: tuple[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_rules(RULE.replace(*change), "rules.toml")


def test_the_shipped_rules_have_a_model_drift_rule() -> None:
    kinds = {r.kind for r in load_rules().rules}
    assert "model_drift" in kinds


def test_the_signal_opens_on_psi_or_low_confidence_and_clears_below_both() -> None:
    [rule] = parse_rules(RULE).rules
    few = measure_drift(rule, _health(posts=10, psi=9.0))
    assert (few.active, few.cleared, few.reason) == (False, True, "min_count")
    calm = measure_drift(rule, _health())
    assert (calm.active, calm.cleared, calm.metric) == (False, True, "psi")
    drift = measure_drift(rule, _health(psi=0.3))
    assert (drift.active, drift.value) == (True, 0.3)
    between = measure_drift(rule, _health(psi=0.2))
    assert (between.active, between.cleared) == (False, False)  # hysteresis
    unsure = measure_drift(rule, _health(psi=None, low=0.35))
    assert (unsure.active, unsure.metric, unsure.value) == (True, "low_confidence_share", 0.35)
    no_reference = measure_drift(rule, _health(psi=None, low=0.1))
    assert (no_reference.active, no_reference.cleared) == (False, True)


class _Cascade:
    """Escalates the texts containing "hard" (as a cascade scorer reports it)."""

    model_id = "cascade@1"

    def score(self, texts: list[str]) -> ScoreBatch:
        hard = np.array(["hard" in t for t in texts])
        probs = np.where(hard[:, None], [0.5, 0.3, 0.2], [0.1, 0.8, 0.1])
        return ScoreBatch(probs.astype(float), self.model_id, escalated=hard)


def test_escalation_and_low_confidence_shares_from_a_cascaded_batch() -> None:
    posts = [Post(f"p{i}", "a hard one" if i % 4 == 0 else "easy", 1000 + i, "news", "s", ())
             for i in range(20)]  # fmt: skip
    scored = PostScorer(_Cascade()).score(posts)
    assert [s.escalated for s in scored[:2]] == [True, False]
    health = ModelHealth(HealthWindow(100, low_confidence=0.6))
    health.observe(scored)
    update = aggregate(scored)
    health.before_write(WritePlan(ids=[]), update)
    assert health.latest is None  # nothing counted before the write
    health.after_write(update)
    latest = health.latest
    assert latest is not None and latest.posts == 20
    assert latest.escalation_share == pytest.approx(0.25)
    assert latest.low_confidence_share == pytest.approx(0.25)


def test_the_dashboard_rows_read_the_summary() -> None:
    window = HealthWindow(
        5,
        low_confidence=0.6,
        reference=ReferenceProfile(10, (0.3, 0.4, 0.3), (0.1,) * 10, 50.0, 0.0, 0.02),
    )
    from sentimon.health_window import Observation

    window.extend([Observation(0, 900, 0.5)] * 5)
    rows = {r["figure"]: r for r in drift_rows(summary_fields(window.snapshot()))}
    assert rows["PSI of the label mix"]["reading"].startswith("major")
    assert rows["negative share"]["live"] == "100.0%"
    assert rows["negative share"]["reference"] == "30.0%"
    assert rows["mean length (characters)"]["live"] == "900"
    assert drift_rows({})[0]["reading"] == "no reference profile"
