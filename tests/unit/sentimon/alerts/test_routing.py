"""Routing config: label matchers, the routing tree with ``continue``, inhibition rules,
``for``, and the rules file's routing sections with located errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sentimon.alerts.alert_labels import builtin_labels, parse_matcher
from sentimon.alerts.detect import Signal
from sentimon.alerts.inhibition import LEGACY, InhibitRule, inhibiting
from sentimon.alerts.lifecycle import AlertState, step
from sentimon.alerts.routing import matching_routes
from sentimon.alerts.rulefile import default_rules_text, parse_rules
from sentimon.alerts.rules import Rule
from sentimon.errors import ConfigError

RULE = """
[[rule]]
name = "drop"
scope = "*"
kind = "sentiment_drop"
window = "15m"
z = 3.0
severity = "critical"
for = "5m"

[rule.labels]
team = "rates"

[rule.annotations]
runbook = "https://wiki/drop"
"""

ROUTING = """
[route]
receiver = "default"
group_by = ["alertname"]

[[route.routes]]
matchers = ["severity = critical"]
receiver = "pager"
continue = true

[[route.routes]]
matchers = ["team =~ rates|fx", "entity != market"]
receiver = "desk"
group_by = ["ticker"]

[[route.routes.routes]]
matchers = ['ticker = "NVDA"']
receiver = "nvda"

[[route.routes]]
matchers = ["team = rates"]
receiver = "never"

[[receiver]]
name = "default"
kafka = true

[[receiver]]
name = "pager"
webhook_urls = ["https://pager.example/hook"]

[[receiver]]
name = "desk"
webhook_urls = ["https://desk.example/hook"]
format = "slack"

[[receiver]]
name = "nvda"
webhook_urls = ["https://nvda.example/hook"]

[[receiver]]
name = "never"
kafka = true
"""


def labels(**extra: str) -> dict[str, str]:
    base = builtin_labels("drop", "sentiment_drop", "warning", "ticker:AAPL", namespace="live",
                          model="m@1")  # fmt: skip
    return base | extra


@pytest.mark.parametrize(
    ("matcher", "value", "hit"),
    [
        ("severity = critical", "critical", True),
        ("severity = critical", "warning", False),
        ("severity != critical", "warning", True),
        ("team =~ rates|fx", "fx", True),
        ("team =~ rates|fx", "fxo", False),  # anchored: the whole value
        ("team =~ rat", "rates", False),
        ('team =~ "r.*"', "rates", True),
        ("team !~ rates|fx", "equities", True),
        ("team !~ rates|fx", "rates", False),
        ("team = ''", "", False),
        ('team = ""', "", True),  # a missing label reads as empty
        ("team !~ .+", "", True),
    ],
)
def test_matcher_semantics(matcher: str, value: str, hit: bool) -> None:
    found = {"team": value, "severity": value} if value else {}
    assert parse_matcher(matcher).matches(found) is hit


@pytest.mark.parametrize("bad", ["severity == critical", "= x", "team =~ (", "1team = x"])
def test_bad_matchers_say_what_to_write(bad: str) -> None:
    with pytest.raises(ConfigError, match="matcher"):
        parse_matcher(bad)


def test_builtin_labels() -> None:
    assert builtin_labels(
        "r", "volume_spike", "info", "sector:Energy", namespace="live", model=None
    ) == {
        "alertname": "r",
        "severity": "info",
        "kind": "volume_spike",
        "entity": "sector:Energy",
        "scope": "sector",
        "sector": "Energy",
        "namespace": "live",
    }
    assert builtin_labels("r", "k", "info", "kind:news", namespace="n", model="m")["source"] == (
        "news"
    )
    assert "ticker" not in builtin_labels("r", "k", "info", "market", namespace="n", model="m")


def test_tree_first_match_continue_and_nesting() -> None:
    root = parse_rules(RULE + ROUTING, "r.toml").routing.root  # type: ignore[union-attr]

    def receivers(**extra: str) -> list[str]:
        return [r.receiver for r in matching_routes(root, labels(**extra))]

    # critical continues to the desk route; "never" is after a matching non-continue route
    assert receivers(severity="critical", team="rates") == ["pager", "desk"]
    assert receivers(severity="critical", team="rates", ticker="NVDA") == ["pager", "nvda"]
    assert receivers(severity="warning", team="fx") == ["desk"]
    assert receivers(team="fx", entity="market") == ["default"]  # no child: the root itself
    assert receivers(severity="critical") == ["pager"]


def test_routing_file_parses_timings_groups_and_inheritance() -> None:
    rules = parse_rules(RULE + ROUTING, "r.toml")
    routes = rules.routing.routes()  # type: ignore[union-attr]
    assert routes["0"].group_by == ("alertname",) and routes["0"].group_wait_s == 30
    assert routes["0.0"].group_by == ("alertname",)  # inherited
    assert routes["0.1"].group_by == ("ticker",)
    assert routes["0.1.0"].group_by == ("ticker",) and routes["0.1.0"].receiver == "nvda"
    assert (
        routes["0.1.0"].line
        == RULE.count("\n")
        + ROUTING.split("[[route.routes.routes]]", maxsplit=1)[0].count("\n")
        + 1
    )
    rule = rules.rules[0]
    assert rule.labels == (("team", "rates"),) and rule.for_s == 300
    assert rule.annotations == (("runbook", "https://wiki/drop"),)
    assert rules.inhibit_rules == ()


def test_old_style_file_has_no_routing_and_inhibit_true_is_the_legacy_rule() -> None:
    shipped = parse_rules(default_rules_text())
    assert shipped.routing is None and shipped.inhibit_rules == ()
    old = parse_rules("inhibit = true\n" + RULE)
    assert old.routing is None and old.inhibit_rules == (LEGACY,)


def test_inhibition_rules_with_equal() -> None:
    rules = parse_rules(
        RULE + '[[inhibit_rule]]\nsource_matchers = ["severity = critical"]\n'
        'target_matchers = ["severity = warning"]\nequal = ["ticker"]\n'
    ).inhibit_rules
    target = labels(ticker="AAPL")
    same = labels(severity="critical", ticker="AAPL")
    other = labels(severity="critical", ticker="MSFT")
    assert inhibiting(rules, target, [("b", other)]) is None
    assert inhibiting(rules, target, [("b", other), ("a", same)]) == "a"
    assert inhibiting(rules, labels(severity="info"), [("a", same)]) is None
    # equal: a label both lack counts as equal (Alertmanager)
    rule = InhibitRule(same and rules[0].source, rules[0].target, ("desk",))
    assert inhibiting([rule], target, [("a", same)]) == "a"


def test_legacy_inhibition_matches_the_old_hard_coded_rule() -> None:
    market = builtin_labels("m", "sentiment_drop", "warning", "market", namespace="n", model="x")
    ticker = builtin_labels("t", "sentiment_drop", "warning", "ticker:A", namespace="n", model="x")
    volume = builtin_labels("t", "volume_spike", "warning", "ticker:A", namespace="n", model="x")
    sector = builtin_labels("s", "sentiment_drop", "warning", "sector:E", namespace="n", model="x")
    assert inhibiting([LEGACY], ticker, [("m1", market)]) == "m1"
    assert inhibiting([LEGACY], volume, [("m1", market)]) is None
    assert inhibiting([LEGACY], sector, [("m1", market)]) is None


ON, OFF = Signal(True, False), Signal(False, True)


def test_pending_for_opens_only_after_the_condition_held_that_long() -> None:
    rule = Rule("d", "sentiment_drop", ("ticker:*",), 900, 3.0, 1.0, for_s=300)
    state, opened = AlertState(), []
    # active at minutes 0-3, a gap at 4 (restarts the wait), active from 5 on
    for minute, signal in enumerate([ON, ON, ON, ON, OFF, ON, ON, ON, ON, ON, ON, ON]):
        state, notice = step(state, signal, minute * 60_000, rule, mute=None,
                             make_id=lambda t: f"id{t}")  # fmt: skip
        if notice:
            opened.append((minute, notice.alert_id))
    assert opened == [(10, "id600000")]  # 5 minutes after minute 5
    # without ``for`` it opens at the first active tick
    state, notice = step(AlertState(), ON, 0, replace(rule, for_s=0), mute=None,
                         make_id=str)  # fmt: skip
    assert notice is not None and state.firing


def test_pending_ignores_evaluations_older_than_its_start() -> None:
    rule = Rule("d", "sentiment_drop", ("ticker:*",), 900, 3.0, 1.0, for_s=300)
    state, _ = step(AlertState(), ON, 600_000, rule, mute=None, make_id=str)
    late, notice = step(state, ON, 100_000, rule, mute=None, make_id=str)
    assert late == state and notice is None and state.pending_since_ms == 600_000


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ('[route]\nreceiver = "nobody"\n', 2, "receiver"),
        (
            '[route]\nreceiver = "default"\ngroup_wait = "soon"\n'
            '[[receiver]]\nname = "default"'
            "\nkafka = true\n",
            3,
            "group_wait",
        ),
        (
            '[route]\nreceiver = "d"\n\n[[route.routes]]\nmatchers = ["team == x"]\n'
            '[[receiver]]\nname = "d"\nkafka = true\n',
            5,
            "matchers",
        ),
        (
            '[route]\nreceiver = "d"\nmute_time_intervals = ["closed"]\n'
            '[[receiver]]\nname = "d"\nkafka = true\n',
            3,
            "mute_time_intervals",
        ),
        ('[[receiver]]\nname = "d"\nformat = "xml"\nkafka = true\n', 3, "format"),
        ('[[time_interval]]\nname = "x"\nmarket = "lunch"\n', 3, "market"),
        ('[[time_interval]]\nname = "x"\nstart = "2026-12-10T21:00:00"\nend = "x"\n', 3, "start"),
        ('[[time_interval]]\nname = "x"\nweekdays = ["funday"]\n', 3, "weekdays"),
        (
            '[[inhibit_rule]]\nsource_matchers = []\ntarget_matchers = ["a = b"]\n',
            2,
            "source_matchers",
        ),
    ],
)
def test_routing_errors_name_file_line_and_field(text: str, line: int, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rules(RULE + text, "desk.toml")
    message = str(info.value)
    assert message.startswith(f"alert rules desk.toml, line {line + RULE.count(chr(10))}:"), message
    assert f"'{field}'" in message, message


def test_rule_labels_may_not_redefine_builtin_ones() -> None:
    text = RULE.replace('team = "rates"', 'alertname = "other"')
    with pytest.raises(ConfigError) as info:
        parse_rules(text, "desk.toml")
    line = text.split("\n").index('alertname = "other"') + 1
    assert str(info.value).startswith(f"alert rules desk.toml, line {line}:"), info.value
    assert "'alertname'" in str(info.value) and "built-in" in str(info.value)
