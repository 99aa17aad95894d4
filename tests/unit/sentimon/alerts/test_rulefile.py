"""Rule files: the shipped defaults parse; every error names file, line and field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from sentimon.alerts.rulefile import load_rules, parse_rules, scope_pattern
from sentimon.errors import ConfigError

GOOD = """
inhibit = true

[defaults]
cooldown = "10m"
min_count = 4

[[rule]]
name = "drop"
scope = ["*", "market"]
kind = "sentiment_drop"
window = "15m"
z = 3

[[rule]]
name = "neg"
scope = "news"
kind = "negative_share"
window = "5m"
threshold = 0.6
min_count = 9
"""


def _error(text: str, tmp_path: Path) -> str:
    path = tmp_path / "rules.toml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    return str(caught.value)


def test_shipped_defaults_parse_and_cover_every_kind():
    rules = load_rules(None)
    assert {r.kind for r in rules.rules} == {
        "sentiment_drop",
        "sentiment_rise",
        "negative_share",
        "volume_spike",
        "model_drift",
    }
    scopes = {p for r in rules.rules for p in r.scope}
    assert {"ticker:*", "market", "kind:news", "kind:social"} <= scopes
    assert all(r.min_count >= 5 and r.cooldown_s > 0 for r in rules.rules)


def test_good_file_with_defaults_and_derived_thresholds():
    rules = parse_rules(GOOD, "g.toml")
    drop, neg = rules.rules
    assert rules.inhibit is True
    assert drop.scope == ("ticker:*", "market") and drop.window_s == 900
    assert drop.threshold == 3.0 and drop.resolve == 1.5  # resolve defaults to half
    assert drop.cooldown_s == 600 and drop.min_count == 4  # from [defaults]
    assert neg.scope == ("kind:news",) and neg.min_count == 9  # rule beats defaults
    assert neg.resolve == pytest.approx(0.45)
    assert drop.line == 8 and neg.line == 15
    assert [r.name for r in rules.for_entity("ticker:NVDA")] == ["drop"]
    assert [r.name for r in rules.for_entity("kind:news")] == ["neg"]
    assert rules.for_entity("kind:social") == ()


def test_scope_shorthand():
    assert scope_pattern("market") == "market"
    assert scope_pattern("social") == "kind:social"
    assert scope_pattern("kind:*") == "kind:*"
    assert scope_pattern("brk.*") == "ticker:BRK.*"
    assert scope_pattern("ticker:nvda") == "ticker:NVDA"
    assert scope_pattern("not a ticker!") is None


@pytest.mark.parametrize(
    ("body", "line", "field", "needle"),
    [
        (
            '[[rule]]\nname = "a"\nscope = "*"\nkind = "sentiment_drop"\nwindow = "5m"\nz = "three"\n',
            6,
            "z",
            "must be a number",
        ),
        (
            '[[rule]]\nname = "a"\nscope = "*"\nkind = "spike"\nwindow = "5m"\n',
            4,
            "kind",
            "unknown kind 'spike'",
        ),
        (
            '[[rule]]\nname = "a"\nscope = "*"\nkind = "volume_spike"\nwindow = "7x"\nk = 3\n',
            5,
            "window",
            "use a number and a unit",
        ),
        (
            '[[rule]]\nname = "a"\nscope = "*"\nkind = "volume_spike"\nwindow = "5m"\nk = 3\nresolve_k = 4\n',
            7,
            "resolve_k",
            "must be looser",
        ),
        (
            '[[rule]]\nname = "a"\nscope = "*"\nkind = "negative_share"\nwindow = "5m"\nthreshold = 0.5\nz = 2\n',
            7,
            "z",
            "unknown key",
        ),
        (
            '\n\n[[rule]]\nname = "a"\nkind = "negative_share"\nwindow = "5m"\nthreshold = 0.5\n',
            3,
            "scope",
            "is required",
        ),
        (
            '[[rule]]\nname = "a"\nscope = ["*", "$$$"]\nkind = "negative_share"\nwindow = "5m"\nthreshold = 0.5\n',
            3,
            "scope",
            "'$$$' is not",
        ),
        (
            '[[rule]]\nname = "a"\nscope = "*"\nkind = "negative_share"\nwindow = "5m"\nthreshold = 0.5\n'
            'severity = "page"\n',
            7,
            "severity",
            "must be one of",
        ),
        (
            '[defaults]\ncooldown = "soon"\n[[rule]]\nname = "a"\nscope = "*"\nkind = "negative_share"\n'
            'window = "5m"\nthreshold = 0.5\n',
            2,
            "cooldown",
            "expected a duration",
        ),
        (
            '[[rule]]\nname = "a"\nscope = "*"\nkind = "negative_share"\nwindow = "5m"\nthreshold = 0.5\n'
            '[[rule]]\nname = "a"\nscope = "*"\nkind = "negative_share"\nwindow = "5m"\nthreshold = 0.5\n',
            8,
            "name",
            "duplicate",
        ),
        ("inhibt = true\n", 1, "inhibt", "unknown key"),
    ],
)
def test_semantic_errors_name_file_line_and_field(tmp_path, body, line, field, needle):
    message = _error(body, tmp_path)
    assert str(tmp_path / "rules.toml") in message
    assert f"line {line}:" in message, message
    assert f"field {field!r}" in message, message
    assert needle in message, message


def test_syntax_error_reports_the_line(tmp_path):
    message = _error('[[rule]]\nname = "a"\nscope = [\n', tmp_path)
    assert "invalid TOML" in message and re.search(r"line [34]\b", message), message
    message = _error('[[rule]]\nname = "a"\nscope = [1,,2]\nkind = "x"\n', tmp_path)
    assert "line 3:" in message and "invalid TOML" in message, message


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")


def test_error_in_second_rule_names_it(tmp_path):
    body = GOOD.replace("threshold = 0.6", "threshold = 1.6")
    message = _error(body, tmp_path)
    assert "rule 'neg'" in message and "field 'threshold'" in message and "line 20:" in message
