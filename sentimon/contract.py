"""The input message contract: bytes in, a validated ``Post`` or an ``Invalid`` reason out.

Pure logic: no Kafka, no Redis. Both the live consumer and the backtest use it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# $AAPL, $BRK.B, $RDS-A; not $5 or $1.2bn (must start with a letter).
_CASHTAG_RE = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{0,9}(?:[.\-][A-Za-z]{1,3})?)\b")
_TICKER_RE = re.compile(r"^[A-Z][A-Z0-9]{0,9}(?:[.\-][A-Z]{1,3})?$")
_KNOWN = ("id", "text", "ts", "source", "tickers", "title", "url", "author", "lang")
_OPTIONAL_STR = ("source", "title", "url", "author", "lang")
_MAX_DEPTH = 20
# Event times must fall between 2000-01-01 and 2100-01-01 (epoch milliseconds).
_MIN_TS_MS = 946_684_800_000
_MAX_TS_MS = 4_102_444_800_000


@dataclass(frozen=True)
class Limits:
    """Input limits enforced by validation (from the settings)."""

    max_message_bytes: int = 64 * 1024
    max_text_chars: int = 2000
    max_tickers: int = 20


@dataclass(frozen=True)
class Post:
    """A validated input message."""

    id: str
    text: str
    ts_ms: int
    kind: str
    source: str
    tickers: tuple[str, ...]
    title: str | None = None
    url: str | None = None
    author: str | None = None
    lang: str | None = None
    truncated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Invalid:
    """Why a message was rejected; it goes to the dead-letter topic with this reason."""

    reason: str


def extract_cashtags(text: str) -> list[str]:
    """Cashtags in ``text``, upper-cased, in order of first appearance."""
    return [match.group(1).upper() for match in _CASHTAG_RE.finditer(text)]


def normalise_tickers(explicit: list[str], text: str, limit: int) -> tuple[str, ...] | Invalid:
    """Explicit tickers plus cashtags, upper-cased, ``$`` stripped, de-duplicated in order."""
    seen: dict[str, None] = {}
    for raw in [*explicit, *extract_cashtags(text)]:
        symbol = raw.strip().lstrip("$").upper()
        if not _TICKER_RE.match(symbol):
            return Invalid(f"invalid ticker symbol {raw!r}")
        seen.setdefault(symbol, None)
    if len(seen) > limit:
        return Invalid(f"too many tickers: {len(seen)} > limit {limit}")
    return tuple(seen)


def parse_ts(value: Any) -> int | Invalid:
    """Event time as epoch milliseconds from ISO-8601 text or epoch milliseconds."""
    if isinstance(value, bool):
        return Invalid("ts must be ISO-8601 text or epoch milliseconds, got a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return Invalid("ts is not a finite number")
        ts_ms = int(value)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return Invalid(f"ts {value[:40]!r} is not ISO-8601")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        ts_ms = int(parsed.timestamp() * 1000)
    else:
        return Invalid(
            f"ts must be ISO-8601 text or epoch milliseconds, got {type(value).__name__}"
        )
    if not _MIN_TS_MS <= ts_ms < _MAX_TS_MS:
        return Invalid(f"ts {ts_ms} is outside 2000-2100 (epoch milliseconds expected)")
    return ts_ms


def _depth(value: Any, level: int = 0) -> int:
    if level > _MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _decode(raw: bytes | None, limits: Limits) -> dict[str, Any] | Invalid:
    if raw is None:
        return Invalid("empty record value (tombstone)")
    if len(raw) > limits.max_message_bytes:
        return Invalid(f"message is {len(raw)} bytes, over the limit of {limits.max_message_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Invalid(f"not UTF-8: {exc.reason} at byte {exc.start}")
    try:
        obj = json.loads(text)
    except RecursionError:
        return Invalid(f"JSON nested deeper than {_MAX_DEPTH} levels")
    except ValueError as exc:
        return Invalid(f"not JSON: {exc}")
    if not isinstance(obj, dict):
        return Invalid(f"JSON value is a {type(obj).__name__}, expected an object")
    if _depth(obj) > _MAX_DEPTH:
        return Invalid(f"JSON nested deeper than {_MAX_DEPTH} levels")
    return obj


def _check_fields(obj: dict[str, Any]) -> Invalid | None:
    msg_id = obj.get("id")
    if not isinstance(msg_id, str) or not msg_id.strip():
        return Invalid("missing or empty 'id' (a non-empty string is required)")
    if len(msg_id) > 256:
        return Invalid("'id' is longer than 256 characters")
    text = obj.get("text")
    if not isinstance(text, str):
        kind = "missing" if text is None else f"a {type(text).__name__}"
        return Invalid(f"'text' is {kind}, a non-empty string is required")
    if not text.strip():
        return Invalid("'text' is empty")
    for name in _OPTIONAL_STR:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            return Invalid(f"'{name}' must be a string, got {type(value).__name__}")
    tickers = obj.get("tickers")
    if tickers is not None and (
        not isinstance(tickers, list) or not all(isinstance(t, str) for t in tickers)
    ):
        return Invalid("'tickers' must be a list of strings")
    for name in ("id", "text", *_OPTIONAL_STR):
        if isinstance(obj.get(name), str) and not _is_unicode(obj[name]):
            return Invalid(f"'{name}' contains a lone surrogate escape (not valid Unicode)")
    return None


def _is_unicode(value: str) -> bool:
    """False for strings holding lone surrogates (JSON "\\ud800"): not encodable as UTF-8,
    so the tokenizer, Redis and Kafka headers would all fail on them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(
    raw: bytes | None, *, kind: str, record_ts_ms: int, limits: Limits = Limits()
) -> Post | Invalid:
    """Validate one record value. ``kind`` is the source kind (the topic's role)."""
    obj = _decode(raw, limits)
    if isinstance(obj, Invalid):
        return obj
    problem = _check_fields(obj)
    if problem is not None:
        return problem
    ts = parse_ts(obj["ts"]) if obj.get("ts") is not None else record_ts_ms
    if isinstance(ts, Invalid):
        return ts
    text: str = obj["text"]
    truncated = len(text) > limits.max_text_chars
    if truncated:
        text = text[: limits.max_text_chars]
    tickers = normalise_tickers(obj.get("tickers") or [], text, limits.max_tickers)
    if isinstance(tickers, Invalid):
        return tickers
    return Post(
        id=obj["id"].strip(),
        text=text,
        ts_ms=ts,
        kind=kind,
        source=(obj.get("source") or kind),
        tickers=tickers,
        title=obj.get("title"),
        url=obj.get("url"),
        author=obj.get("author"),
        lang=obj.get("lang"),
        truncated=truncated,
        extra={k: v for k, v in obj.items() if k not in _KNOWN},
    )


def derive_id(record: dict[str, Any]) -> str:
    """A stable id for a record that has none: a hash of its text, time and source."""
    basis = json.dumps(
        [record.get("text"), record.get("ts"), record.get("source")], sort_keys=True, default=str
    )
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]
