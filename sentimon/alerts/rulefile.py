"""Read and validate an alert rules file (TOML), with file, line and field in every error.

Layout::

    inhibit = false              # optional: market alerts mute ticker alerts of the same kind

    [defaults]                   # optional: values every rule inherits
    cooldown = "30m"

    [[rule]]
    name = "ticker-sentiment-drop"
    scope = "*"                  # or a list: "market", "news", "social", "kind:*", "NVDA",
                                 # "BRK.*", "sector:*", "sector:Energy"
    kind = "sentiment_drop"
    window = "15m"
    z = 3.0
    min_relevance = 0.4          # tickers and sectors: mentions below this do not count
    count = "posts"              # volume_spike, negative_share: or "stories" (each once)

``tomllib`` reports lines only for syntax errors; ``sentimon.alerts.rulelines`` locates
the rest.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from sentimon.alerts.baseline import MAX_WINDOWS
from sentimon.alerts.drift_rulefile import drift_rule
from sentimon.alerts.durations import parse_duration
from sentimon.alerts.market_options import BASELINE_KEYS, KEYS, market_options
from sentimon.alerts.routefile import TOP_LEVEL as ROUTING_KEYS
from sentimon.alerts.routefile import parse_routing, rule_labels
from sentimon.alerts.rulelines import Errors, Locations, Table
from sentimon.alerts.rules import (
    COUNTS,
    KINDS,
    MODEL_DRIFT,
    SEVERITIES,
    STORY_KINDS,
    Rule,
    RuleSet,
)
from sentimon.entities.universe import GICS_SECTORS
from sentimon.errors import ConfigError
from sentimon.keys import MARKET, RELEVANCE_SEP
from sentimon.market_calendar import DEFAULT_EXCHANGE
from sentimon.windows import parse_window

_TOML_LINE_RE = re.compile(r"at line (\d+)")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_TICKER_GLOB_RE = re.compile(r"^[A-Z0-9.*?\[\]!_-]{1,32}$")
#: A sector name or glob: printable, without the pair separator ``|``
#: (``sentimon.alerts.state.pair_field``); ``@`` is refused as well (relevance levels).
_SECTOR_GLOB_RE = re.compile(r"^[^\x00-\x1f|]{1,64}$")
_GICS_BY_LOWER = {name.lower(): name for name in GICS_SECTORS}

#: ``min_relevance`` of a rule that sets none (here or in [defaults]) when the caller
#: passes no other: the default of ``SENTIMON_MIN_RELEVANCE``.
DEFAULT_MIN_RELEVANCE = 0.4

#: Per kind: (opening threshold key, resolve threshold key, default resolve from threshold).
_THRESHOLDS = {
    "sentiment_drop": ("z", "resolve_z"),
    "sentiment_rise": ("z", "resolve_z"),
    "negative_share": ("threshold", "resolve_threshold"),
    "volume_spike": ("k", "resolve_k"),
}
_COMMON = {
    "name",
    "description",
    "scope",
    "kind",
    "window",
    "severity",
    "min_count",
    "cooldown",
    "repeat_interval",
    "resolve_after",
    "send_resolved",
    "min_relevance",
}
_BASELINE = {
    "warmup",
    "baseline_alpha",
    "baseline_windows",
    "baseline_min_posts",
    "min_stderr",
    "min_rate",
}
#: ``count``: what a volume_spike or negative_share rule counts (``COUNTS``); [defaults]
#: may set it for those kinds, the other kinds leave it unread.
_COUNT = "count"
_TOP_LEVEL = {"inhibit", "defaults", "rule", *ROUTING_KEYS}
#: Routing keys of a rule (docs/ALERTS.md, "Routing"); [defaults] may set them too.
_ROUTED = {"labels", "annotations", "for"}


def default_rules_text() -> str:
    """The rules file shipped with sentimon (``sentimon/data/alert_rules.toml``)."""
    return resources.files("sentimon").joinpath("data/alert_rules.toml").read_text("utf-8")


def load_rules(
    path: Path | str | None = None,
    *,
    min_relevance: float = DEFAULT_MIN_RELEVANCE,
    exchange: str = DEFAULT_EXCHANGE,
) -> RuleSet:
    """Rules from ``path``, or the shipped defaults when ``path`` is None.
    ``min_relevance``, ``exchange``: what rules setting none get (``SENTIMON_MIN_RELEVANCE``,
    ``SENTIMON_EXCHANGE``)."""
    if path is None:
        return parse_rules(
            default_rules_text(), "<default alert_rules.toml>", min_relevance, exchange=exchange
        )
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"alert rules {path}: cannot read the file ({exc})") from exc
    return parse_rules(text, str(path), min_relevance, exchange=exchange)


def parse_rules(
    text: str,
    source: str = "<text>",
    min_relevance: float = DEFAULT_MIN_RELEVANCE,
    *,
    exchange: str = DEFAULT_EXCHANGE,
) -> RuleSet:
    """Parse and validate rules; raises ConfigError naming file, line and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        line = match.group(1) if match else str(max(len(text.splitlines()), 1))
        raise ConfigError(f"alert rules {source}, line {line}: invalid TOML: {exc}") from None
    where = Locations.scan(text)
    errors = Errors(source, where)
    for key in data:
        if key not in _TOP_LEVEL:
            raise errors.fail(
                where.top, "top level", key, f"unknown key (expected one of {sorted(_TOP_LEVEL)})"
            )
    inhibit = data.get("inhibit", False)
    if not isinstance(inhibit, bool):
        raise errors.fail(where.top, "top level", "inhibit", "must be true or false")
    defaults = _defaults(data.get("defaults", {}), errors)
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise errors.fail(where.top, "top level", "rule", "use [[rule]] tables")
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules):
        table = where.rules[index] if index < len(where.rules) else where.top
        reader = _RuleReader(raw, defaults, table, errors, index)
        rule = _rule(raw, reader, min_relevance, exchange)
        if any(r.name == rule.name for r in rules):
            raise errors.fail(table, f"rule {rule.name!r}", "name", "duplicate rule name")
        rules.append(rule)
    routing, inhibit_rules = parse_routing(data, errors, inhibit=inhibit)
    return RuleSet(
        tuple(rules), inhibit=inhibit, source=source, inhibit_rules=inhibit_rules, routing=routing
    )


def _defaults(raw: Any, errors: Errors) -> dict[str, Any]:
    table = errors.where.defaults or errors.where.top
    if not isinstance(raw, dict):
        raise errors.fail(table, "top level", "defaults", "must be a table ([defaults])")
    allowed = _COMMON | _BASELINE | {_COUNT} | {k for pair in _THRESHOLDS.values() for k in pair}
    allowed |= KEYS | BASELINE_KEYS
    allowed |= _ROUTED
    for key in raw:
        if key in ("name", "scope") or key not in allowed:
            raise errors.fail(table, "[defaults]", key, "not a key [defaults] can set")
    return {key: (value, table) for key, value in raw.items()}


class _RuleReader:
    """Typed access to one rule's keys, falling back to [defaults], with located errors."""

    def __init__(
        self,
        raw: dict[str, Any],
        defaults: dict[str, Any],
        table: Table,
        errors: Errors,
        index: int,
    ) -> None:
        self.raw, self.defaults, self.table, self.errors = raw, defaults, table, errors
        self.what = f"rule #{index + 1}"

    def fail(self, key: str | None, problem: str) -> ConfigError:
        if key is not None and key not in self.raw and key in self.defaults:
            return self.errors.fail(
                self.defaults[key][1], f"[defaults] (for {self.what})", key, problem
            )
        return self.errors.fail(self.table, self.what, key, problem)

    def get(self, key: str, fallback: Any = None) -> Any:
        if key in self.raw:
            return self.raw[key]
        if key in self.defaults:
            return self.defaults[key][0]
        return fallback

    def text(self, key: str, fallback: str | None = None) -> str:
        value = self.get(key, fallback)
        if value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def number(
        self,
        key: str,
        fallback: float | None,
        *,
        low: float,
        high: float | None = None,
        low_open: bool = False,
    ) -> float:
        value = self.get(key, fallback)
        if value is None:
            raise self.fail(key, "is required")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, got {value!r}")
        too_low = value <= low if low_open else value < low
        if too_low or (high is not None and value > high):
            bound = f"> {low}" if low_open else f">= {low}"
            raise self.fail(
                key,
                f"must be {bound}"
                + (f" and <= {high}" if high is not None else "")
                + f", got {value}",
            )
        return float(value)

    def integer(self, key: str, fallback: int, *, low: int) -> int:
        value = self.get(key, fallback)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(key, f"must be a whole number >= {low}, got {value!r}")
        return value

    def duration(self, key: str, fallback: str) -> int:
        value = self.get(key, fallback)
        try:
            return parse_duration(value)
        except ConfigError as exc:
            raise self.fail(key, str(exc)) from None

    def flag(self, key: str, fallback: bool) -> bool:
        value = self.get(key, fallback)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value


def _rule(raw: Any, r: _RuleReader, min_relevance: float, exchange: str) -> Rule:
    if not isinstance(raw, dict):
        raise r.fail(None, "each [[rule]] must be a table")
    name = r.text("name")
    if not _NAME_RE.match(name):
        raise r.fail("name", f"use 1-64 characters from A-Z a-z 0-9 _ . -, got {name!r}")
    r.what = f"rule {name!r}"
    kind = r.text("kind")
    if kind not in KINDS:
        raise r.fail("kind", f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    if kind == MODEL_DRIFT:  # watches the model, not an entity: keys of its own
        return drift_rule(name, r, r.table.line)
    open_key, resolve_key = _THRESHOLDS[kind]
    allowed = _COMMON | {open_key, resolve_key} | (_BASELINE if kind != "negative_share" else set())
    allowed |= {_COUNT} if kind in STORY_KINDS else set()
    allowed |= KEYS | (BASELINE_KEYS if kind != "negative_share" else set())
    allowed |= _ROUTED
    for key in raw:
        if key == _COUNT and kind not in STORY_KINDS:
            raise r.fail(
                key,
                f"a {kind} rule counts posts only (count applies to"
                f" {' and '.join(sorted(STORY_KINDS))} rules)",
            )
        if key not in allowed:
            raise r.fail(
                key, f"unknown key for a {kind} rule (allowed: {', '.join(sorted(allowed))})"
            )
    severity = r.text("severity", "warning")
    if severity not in SEVERITIES:
        raise r.fail("severity", f"must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    try:
        window_s = parse_window(r.text("window"))
    except ConfigError as exc:
        raise r.fail("window", str(exc)) from None
    threshold, resolve = _thresholds(r, kind, open_key, resolve_key)
    count = _count(r, kind)
    return Rule(
        name=name,
        kind=kind,
        scope=_scope(r),
        window_s=window_s,
        threshold=threshold,
        resolve=resolve,
        severity=severity,
        min_count=r.integer("min_count", 5, low=1),
        cooldown_s=r.duration("cooldown", "15m"),
        repeat_s=r.duration("repeat_interval", "1h"),
        resolve_after_s=r.duration("resolve_after", "0m"),
        send_resolved=r.flag("send_resolved", True),
        warmup=r.integer("warmup", 4, low=1),
        alpha=r.number("baseline_alpha", 0.2, low=0.0, high=1.0, low_open=True),
        history=_history(r),
        min_posts=r.integer("baseline_min_posts", 2, low=1),
        min_stderr=r.number("min_stderr", 0.1, low=0.0, low_open=True),
        min_rate=r.number("min_rate", 1.0, low=0.0, low_open=True),
        description=str(r.get("description", "")),
        labels=rule_labels(r, "labels"),
        annotations=rule_labels(r, "annotations"),
        for_s=r.duration("for", "0m"),
        line=r.table.line,
        min_relevance=_min_relevance(r, count, min_relevance),
        count=count,
        **market_options(r, window_s, exchange),
    )


def _count(r: _RuleReader, kind: str) -> str:
    """What the rule counts: "posts" (the default) or "stories" (its kind permitting)."""
    if kind not in STORY_KINDS:
        return "posts"
    value = r.get(_COUNT, "posts")
    if value not in COUNTS:
        raise r.fail(_COUNT, f"must be {' or '.join(map(repr, COUNTS))}, got {value!r}")
    return str(value)


def _min_relevance(r: _RuleReader, count: str, fallback: float) -> float:
    """The rule's minimum relevance; 0 for a rule counting stories, which counts every
    story naming the company (set in the rule itself, that is an error)."""
    value = r.number("min_relevance", fallback, low=0.0, high=1.0)
    if count != "stories":
        return value
    if "min_relevance" in r.raw:
        raise r.fail(
            "min_relevance",
            'does not apply to count = "stories": a story counts for every company it'
            " names, whatever the relevance (remove it, or count posts)",
        )
    return 0.0


def _history(r: _RuleReader) -> int:
    windows = r.integer("baseline_windows", 16, low=1)
    if windows > MAX_WINDOWS:
        raise r.fail("baseline_windows", f"must be at most {MAX_WINDOWS}, got {windows}")
    return windows


def _thresholds(r: _RuleReader, kind: str, open_key: str, resolve_key: str) -> tuple[float, float]:
    if kind == "negative_share":
        threshold = r.number(open_key, None, low=0.0, high=1.0, low_open=True)
        resolve = r.number(resolve_key, max(threshold - 0.15, 0.0), low=0.0, high=1.0)
    elif kind == "volume_spike":
        threshold = r.number(open_key, None, low=1.0, low_open=True)
        resolve = r.number(resolve_key, 1.0 + (threshold - 1.0) / 2, low=0.0)
    else:
        threshold = r.number(open_key, None, low=0.0, low_open=True)
        resolve = r.number(resolve_key, threshold / 2, low=0.0)
    if resolve >= threshold:
        raise r.fail(
            resolve_key, f"must be looser than {open_key} = {threshold} (smaller), got {resolve}"
        )
    return threshold, resolve


def _scope(r: _RuleReader) -> tuple[str, ...]:
    value = r.get("scope")
    if value is None:
        raise r.fail(
            "scope", 'is required ("market", "news", "social", "*", ticker symbols or sectors)'
        )
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise r.fail("scope", f"must be a string or a non-empty list of strings, got {value!r}")
    out = []
    for item in items:
        pattern = scope_pattern(item)
        if pattern is None:
            raise r.fail(
                "scope",
                f"{item!r} is not market, news, social, kind:<k>, sector:<name> or a ticker"
                " (names and tickers may be globs)",
            )
        out.append(pattern)
    return tuple(dict.fromkeys(out))


def scope_pattern(item: str) -> str | None:
    """Shorthand -> entity glob: ``market``; ``news``/``social``/``kind:x``;
    ``sector:<name or glob>``; else a ticker (``*``: every ticker)."""
    text = item.strip()
    if text == MARKET:
        return MARKET
    if text in ("news", "social"):
        return f"kind:{text}"
    if text.startswith("kind:") and len(text) > 5:
        return text
    if text.startswith("sector:"):
        return sector_pattern(text.removeprefix("sector:").strip())
    symbol = text.removeprefix("ticker:").upper()
    return f"ticker:{symbol}" if _TICKER_GLOB_RE.match(symbol) else None


def sector_pattern(name: str) -> str | None:
    """``sector:<name>`` for a sector name or glob as the universe spells it; the GICS
    sector names match whatever their case (``energy`` -> ``Energy``)."""
    if not _SECTOR_GLOB_RE.match(name) or RELEVANCE_SEP in name:
        return None
    return f"sector:{_GICS_BY_LOWER.get(name.lower(), name)}"
