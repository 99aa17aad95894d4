"""The delivery part of a rules file: ``[route]``, ``[[receiver]]``, ``[[time_interval]]``,
``[[inhibit_rule]]`` and each rule's ``labels``, ``annotations`` and ``for``; errors name
file, line and field (``sentimon.alerts.rulelines``). Layout in docs/ALERTS.md, "Routing".
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sentimon.alerts import mute
from sentimon.alerts.alert_labels import BUILTIN, LABEL_NAME_RE, LabelMatcher, parse_matcher
from sentimon.alerts.durations import parse_duration
from sentimon.alerts.inhibition import LEGACY, InhibitRule
from sentimon.alerts.routing import ALL_LABELS, ReceiverSpec, Route, Routing
from sentimon.alerts.rulelines import Errors, Table
from sentimon.errors import ConfigError

TOP_LEVEL = {"route", "receiver", "time_interval", "inhibit_rule"}
FORMATS = ("json", "slack", "template")
_RECEIVER_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ROUTE_KEYS = {
    "receiver", "group_by", "group_wait", "group_interval", "repeat_interval",
    "mute_time_intervals", "kafka", "matchers", "continue", "routes",
}  # fmt: skip
_RECEIVER_KEYS = {
    "name", "webhook_urls", "format", "template", "email", "alertmanager_urls", "kafka",
}  # fmt: skip
_INTERVAL_KEYS = {"name", "market", "exchange", "start", "end", "weekdays", "times", "location"}
_INHIBIT_KEYS = {"source_matchers", "target_matchers", "equal"}
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")


class _Reader:
    """Typed access to one table's keys, with located errors."""

    def __init__(self, raw: Any, table: Table, errors: Errors, what: str) -> None:
        if not isinstance(raw, dict):
            raise errors.fail(table, what, None, "must be a table")
        self.raw, self.table, self.errors, self.what = raw, table, errors, what

    def fail(self, key: str | None, problem: str) -> ConfigError:
        return self.errors.fail(self.table, self.what, key, problem)

    def only(self, allowed: set[str]) -> None:
        for key in self.raw:
            if key not in allowed:
                raise self.fail(key, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def text(self, key: str, fallback: str | None = None) -> str:
        value = self.raw.get(key, fallback)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of strings, got {value!r}")
        return tuple(value)

    def flag(self, key: str, fallback: bool | None) -> bool | None:
        value = self.raw.get(key, fallback)
        if value is not None and not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def duration(self, key: str, fallback: int) -> int:
        if key not in self.raw:
            return fallback
        try:
            return parse_duration(self.raw[key])
        except ConfigError as exc:
            raise self.fail(key, str(exc)) from None

    def matchers(self, key: str) -> tuple[LabelMatcher, ...]:
        out = []
        for text in self.strings(key):
            try:
                out.append(parse_matcher(text))
            except ConfigError as exc:
                raise self.fail(key, str(exc)) from None
        return tuple(out)


def label_map(raw: Any, table: Table, errors: Errors, what: str, *, labels: bool) -> dict[str, str]:
    """A rule's ``labels`` or ``annotations`` table: names as Prometheus spells them,
    string values; labels may not redefine a built-in one."""
    reader = _Reader(raw, table, errors, what)
    for name, value in raw.items():
        if not LABEL_NAME_RE.match(name) or name.startswith("__"):
            raise reader.fail(name, "names use A-Z a-z 0-9 _ and start with a letter or _")
        if labels and name in BUILTIN:
            raise reader.fail(name, f"is a built-in label ({', '.join(BUILTIN)})")
        if not isinstance(value, str):
            raise reader.fail(name, f"must be a string, got {value!r}")
    return dict(raw)


def rule_labels(r: Any, key: str) -> tuple[tuple[str, str], ...]:
    """A rule's ``labels`` or ``annotations`` (``r``: the rule file's reader of one rule),
    those of ``[defaults]`` merged with its own, as sorted pairs."""
    merged: dict[str, str] = {}
    inherited, defaults_table = r.defaults.get(key, (None, None))
    own_table = r.table.subtables.get(key, r.table)
    for raw, table in ((inherited, defaults_table), (r.raw.get(key), own_table)):
        if raw is not None:
            what = f"{r.what} [{key}]"
            merged |= label_map(raw, table, r.errors, what, labels=key == "labels")
    return tuple(sorted(merged.items()))


def parse_routing(
    data: dict[str, Any], errors: Errors, *, inhibit: bool
) -> tuple[Routing | None, tuple[InhibitRule, ...]]:
    """The file's routing (None without ``[route]``) and inhibition rules (the legacy
    ``inhibit = true`` included as ``LEGACY``)."""
    top = errors.where.top
    intervals = _intervals(_tables(data, "time_interval", errors), errors)
    receivers = {}
    for raw, table in _tables(data, "receiver", errors):
        spec = _receiver(_Reader(raw, table, errors, "[[receiver]]"))
        if spec.name in receivers:
            raise errors.fail(table, f"receiver {spec.name!r}", "name", "duplicate receiver")
        receivers[spec.name] = spec
    rules = tuple(
        _inhibit_rule(raw, table, errors) for raw, table in _tables(data, "inhibit_rule", errors)
    )
    rules += (LEGACY,) if inhibit else ()
    if "route" not in data:
        if receivers:
            raise errors.fail(top, "top level", "receiver", "receivers need a [route] to use them")
        return None, rules
    table = errors.where.next_table("route", top)
    root = _route(data["route"], table, errors, None, "0", receivers, intervals)
    if root.matchers:
        raise errors.fail(table, "[route]", "matchers", "the root route takes every alert")
    return Routing(root, receivers, intervals), rules


def _tables(data: dict[str, Any], name: str, errors: Errors) -> list[tuple[Any, Table]]:
    raw = data.get(name, [])
    if not isinstance(raw, list):
        raise errors.fail(errors.where.top, "top level", name, f"use [[{name}]] tables")
    return [(item, errors.where.next_table(name, errors.where.top)) for item in raw]


def _route(
    raw: Any,
    table: Table,
    errors: Errors,
    parent: Route | None,
    path: str,
    receivers: dict[str, ReceiverSpec],
    intervals: dict[str, mute.TimeInterval],
) -> Route:
    what = "[route]" if parent is None else f"route {path}"
    r = _Reader(raw, table, errors, what)
    r.only(_ROUTE_KEYS if parent is not None else _ROUTE_KEYS - {"continue"})
    receiver = r.text("receiver", parent.receiver if parent else None)
    if receiver not in receivers:
        raise r.fail("receiver", f"no [[receiver]] named {receiver!r}")
    mutes = r.strings("mute_time_intervals")
    for name in mutes:
        if name not in intervals:
            raise r.fail("mute_time_intervals", f"no [[time_interval]] named {name!r}")
    group_by = r.strings("group_by") if "group_by" in raw else (parent.group_by if parent else ())
    if ALL_LABELS in group_by and len(group_by) > 1:
        raise r.fail("group_by", f'"{ALL_LABELS}" (every label) stands alone')
    route = Route(
        receiver=receiver,
        path=path,
        matchers=r.matchers("matchers"),
        group_by=group_by,
        group_wait_s=r.duration("group_wait", parent.group_wait_s if parent else 30),
        group_interval_s=r.duration("group_interval", parent.group_interval_s if parent else 300),
        repeat_s=r.duration("repeat_interval", parent.repeat_s if parent else 4 * 3600),
        cont=bool(r.flag("continue", False)),
        mute_time_intervals=mutes,
        kafka=r.flag("kafka", parent.kafka if parent else None),
        line=table.line,
    )
    children = raw.get("routes", [])
    if not isinstance(children, list):
        raise r.fail("routes", "use [[route.routes]] tables")
    header = _child_header(path)
    nested = tuple(
        _route(child, errors.where.next_table(header, table), errors, route,
               f"{path}.{i}", receivers, intervals)
        for i, child in enumerate(children)
    )  # fmt: skip
    return Route(**{**route.__dict__, "routes": nested})


def _child_header(path: str) -> str:
    """The TOML header of the children of the route at ``path`` ("0.1" -> route.routes.routes)."""
    return "route" + ".routes" * (path.count(".") + 1)


def _receiver(r: _Reader) -> ReceiverSpec:
    r.only(_RECEIVER_KEYS)
    name = r.text("name")
    if not _RECEIVER_NAME_RE.match(name):
        raise r.fail("name", f"use 1-64 characters from A-Z a-z 0-9 _ -, got {name!r}")
    r.what = f"receiver {name!r}"
    urls = r.strings("webhook_urls")
    for url in (*urls, *r.strings("alertmanager_urls")):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise r.fail("webhook_urls" if url in urls else "alertmanager_urls",
                         f"must be http(s)://host/..., got {url.split('?')[0]!r}")  # fmt: skip
    fmt = r.text("format", "json")
    if fmt not in FORMATS:
        raise r.fail("format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
    template = r.raw.get("template")
    if (fmt == "template") != (template is not None):
        raise r.fail("template", 'is required with format = "template" and only then')
    if template is not None:
        _check_template(r, r.text("template"))
    email = r.raw.get("email")
    if email is not None and not isinstance(email, dict):
        raise r.fail("email", "must be a table: { host = ..., sender = ..., to = [...] }")
    spec = ReceiverSpec(name, urls, fmt, template, email, r.strings("alertmanager_urls"),
                        bool(r.flag("kafka", False)), r.table.line)  # fmt: skip
    if not (spec.webhook_urls or spec.email or spec.alertmanager_urls or spec.kafka):
        raise r.fail(None, "sends nowhere: set webhook_urls, email, alertmanager_urls or kafka")
    return spec


def _check_template(r: _Reader, template: str) -> None:
    validate: Callable[[str, str], None] | None = _template_validator()
    if validate is None:
        raise r.fail("template", "template receivers are not available in this build")
    try:
        validate(template, f"{r.errors.source}, receiver template")
    except ConfigError as exc:
        raise r.fail("template", str(exc)) from None


def _template_validator() -> Callable[[str, str], None] | None:
    """``sentimon.alerts.templates.validate``, when that module is present."""
    try:  # written by another part of the project; optional until it lands
        templates = importlib.import_module("sentimon.alerts.templates")
    except ImportError:
        return None
    found: Callable[[str, str], None] | None = getattr(templates, "validate", None)
    return found


def _intervals(items: list[tuple[Any, Table]], errors: Errors) -> dict[str, mute.TimeInterval]:
    """Tables with one name add up to one interval."""
    found: dict[str, list[mute.Entry]] = {}
    for raw, table in items:
        r = _Reader(raw, table, errors, "[[time_interval]]")
        r.only(_INTERVAL_KEYS)
        name = r.text("name")
        r.what = f"time_interval {name!r}"
        found.setdefault(name, []).append(_interval_entry(r))
    return {name: mute.TimeInterval(name, tuple(entries)) for name, entries in found.items()}


def _interval_entry(r: _Reader) -> mute.Entry:
    raw = r.raw
    kinds = [k for k in ("market", "start", "weekdays") if k in raw] or (
        ["weekdays"] if "times" in raw else []
    )
    if len(kinds) != 1:
        raise r.fail(None, "set one of: market = ...; start and end; weekdays and/or times")
    if "market" in raw:
        market = r.text("market")
        if market not in mute.MARKET_STATES:
            raise r.fail("market", f"must be one of {', '.join(mute.MARKET_STATES)}")
        return mute.MarketEntry(market, r.text("exchange", "XNYS").upper())
    if "start" in raw:
        start, end = _instant(r, "start"), _instant(r, "end")
        if end <= start:
            raise r.fail("end", "must be after start")
        return mute.WindowEntry(start, end)
    location = r.text("location", "UTC")
    try:
        ZoneInfo(location)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail("location", f"unknown time zone {location!r}") from None
    return mute.WeeklyEntry(_weekdays(r), _times(r), location)


def _instant(r: _Reader, key: str) -> float:
    value = r.raw.get(key)
    try:
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise r.fail(
            key, f'must be a date-time like "2026-12-10T21:00:00Z", got {value!r}'
        ) from None
    if stamp.tzinfo is None:
        raise r.fail(key, "needs a time zone (Z or +HH:MM)")
    return stamp.timestamp()


def _weekdays(r: _Reader) -> frozenset[int]:
    days: set[int] = set()
    for item in r.strings("weekdays"):
        lo, _, hi = item.lower().partition(":")
        if lo not in mute.WEEKDAYS or (hi and hi not in mute.WEEKDAYS):
            raise r.fail("weekdays", f'use names like "saturday" or "monday:friday", got {item!r}')
        a, b = mute.WEEKDAYS.index(lo), mute.WEEKDAYS.index(hi or lo)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    return frozenset(days)


def _times(r: _Reader) -> tuple[tuple[int, int], ...]:
    items = r.raw.get("times", [])
    out = []
    for item in items if isinstance(items, list) else [None]:
        start, end = (
            (item.get("start_time"), item.get("end_time"))
            if isinstance(item, dict)
            else (None, None)
        )
        lo, hi = _minute(start), _minute(end)
        if lo is None or hi is None or hi <= lo:
            raise r.fail("times", 'use [{start_time = "17:00", end_time = "24:00"}] (start < end)')
        out.append((lo, hi))
    return tuple(out)


def _minute(text: Any) -> int | None:
    found = _TIME_RE.match(text) if isinstance(text, str) else None
    if found is None:
        return None
    hours, minutes = int(found.group(1)), int(found.group(2))
    ok = minutes < 60 and (hours < 24 or (hours == 24 and minutes == 0))
    return hours * 60 + minutes if ok else None


def _inhibit_rule(raw: Any, table: Table, errors: Errors) -> InhibitRule:
    r = _Reader(raw, table, errors, "[[inhibit_rule]]")
    r.only(_INHIBIT_KEYS)
    source, target = r.matchers("source_matchers"), r.matchers("target_matchers")
    if not source or not target:
        raise r.fail("source_matchers" if not source else "target_matchers", "needs a matcher")
    equal = r.strings("equal")
    for name in equal:
        if not LABEL_NAME_RE.match(name):
            raise r.fail("equal", f"{name!r} is not a label name")
    return InhibitRule(source, target, equal, table.line)
