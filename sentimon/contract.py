"""The input message contract: bytes in, a validated ``Post`` or an ``Invalid`` reason out.

Pure logic: no Kafka, no Redis. Both the live consumer and the backtest use it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
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
# Characters that show nothing on their own: controls (NUL, ...) and format characters
# (zero-width space/joiners, word joiner, BOM, soft hyphen, ...). Whitespace is checked apart.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})
_SHOWN_KEY_CHARS = 40


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


def cashtag_spans(text: str) -> list[tuple[str, int, int]]:
    """(symbol upper-cased, start, end) of each cashtag in ``text``, ``$`` included."""
    return [(m.group(1).upper(), m.start(), m.end()) for m in _CASHTAG_RE.finditer(text)]


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


class _NonJSONConstantError(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` in the input: Python accepts them, JSON does not."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


class _DuplicateKeyError(ValueError):
    """One object names the same key twice; ``json`` would keep the last value silently."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _MarkedObject(dict[str, Any]):
    """An object holding a duplicate key, as built by the slow pass that locates it."""

    duplicate: str = ""


def _reject_constant(token: str) -> Any:
    """``parse_constant`` hook: every call is a non-JSON token, so refuse it."""
    raise _NonJSONConstantError(token)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for the hot path: a dict, or a raise if a key repeats.

    Only a length comparison on top of building the dict; the key itself is looked for only
    when the lengths differ.
    """
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKeyError(_first_repeat(pairs))
    return obj


def _marking_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for locating a duplicate: marks the object instead of raising."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _MarkedObject(obj)
    marked.duplicate = _first_repeat(pairs)
    return marked


def _first_repeat(pairs: list[tuple[str, Any]]) -> str:
    """The first key of ``pairs`` that appeared earlier in it (``""`` if none does)."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return ""


# Strict JSON: no NaN/Infinity/-Infinity, no key twice in an object. Built once: json.loads
# with hooks would build a decoder per call.
_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object, parse_constant=_reject_constant
)
_LOCATING_DECODER = json.JSONDecoder(object_pairs_hook=_marking_object)


def _show_key(key: str) -> str:
    """A key for a reason: quoted, escaped (lone surrogates included), cut if long."""
    if len(key) > _SHOWN_KEY_CHARS:
        return repr(key[:_SHOWN_KEY_CHARS]) + "..."
    return repr(key)


def _path_step(key: str | int) -> str:
    """One JSONPath step: ``[3]`` for a list index, ``.name`` or ``['a b']`` for a key."""
    if isinstance(key, int):
        return f"[{key}]"
    if key.isidentifier() and len(key) <= _SHOWN_KEY_CHARS:
        return f".{key}"
    return f"[{_show_key(key)}]"


def _find_marked(root: Any) -> tuple[str, str] | None:
    """The first marked object in document order within ``_MAX_DEPTH`` levels, as
    ``(duplicate key, JSONPath)``. Iterative, so a deep document cannot overflow the stack."""
    stack: list[tuple[Any, str, int]] = [(root, "$", 0)]
    while stack:
        value, path, level = stack.pop()
        if isinstance(value, _MarkedObject):
            return value.duplicate, path
        if level >= _MAX_DEPTH:
            continue
        if isinstance(value, dict):
            children: list[tuple[str | int, Any]] = list(value.items())
        elif isinstance(value, list):
            children = list(enumerate(value))
        else:
            continue
        for step, child in reversed(children):
            stack.append((child, path + _path_step(step), level + 1))
    return None


def _duplicate_reason(text: str, key: str) -> Invalid:
    """The reason for a duplicate key, with its path when a second (slow) parse finds it.

    Runs only for rejected messages. That parse may still fail on something later in the
    document (the strict parse stopped at the duplicate): then the key alone is named.
    """
    try:
        found = _find_marked(_LOCATING_DECODER.decode(text))
    except (ValueError, RecursionError):
        found = None
    if found is None:
        return Invalid(f"duplicate key {_show_key(key)} in an object")
    return Invalid(f"duplicate key {_show_key(found[0])} in an object (at {found[1]})")


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
        obj = _STRICT_DECODER.decode(text)
    except RecursionError:
        return Invalid(f"JSON nested deeper than {_MAX_DEPTH} levels")
    except _NonJSONConstantError as exc:
        return Invalid(f"not JSON: {exc.token} is not a JSON number")
    except _DuplicateKeyError as exc:
        return _duplicate_reason(text, exc.key)
    except ValueError as exc:
        return Invalid(f"not JSON: {exc}")
    if not isinstance(obj, dict):
        return Invalid(f"JSON value is a {type(obj).__name__}, expected an object")
    if _depth(obj) > _MAX_DEPTH:
        return Invalid(f"JSON nested deeper than {_MAX_DEPTH} levels")
    return obj


def _check_fields(obj: dict[str, Any], limits: Limits) -> Invalid | None:
    msg_id = obj.get("id")
    if not isinstance(msg_id, str) or not msg_id.strip():
        return Invalid("missing or empty 'id' (a non-empty string is required)")
    if len(msg_id) > 256:
        return Invalid("'id' is longer than 256 characters")
    text = obj.get("text")
    if not isinstance(text, str):
        kind = "missing" if text is None else f"a {type(text).__name__}"
        return Invalid(f"'text' is {kind}, a non-empty string is required")
    if not _has_visible_char(text[: limits.max_text_chars]):
        return Invalid(_empty_text_reason(len(text), limits.max_text_chars))
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


def _has_visible_char(text: str) -> bool:
    """True if ``text`` has a character other than whitespace, control (Cc, NUL included)
    or format (Cf: zero-width space/joiners, word joiner, BOM, soft hyphen) characters.

    A text made only of those would be scored and counted while saying nothing. Ordinary
    text is settled by its first character; the loop stops at the first visible one.
    """
    if not text:
        return False
    first = text[0]
    if first != " " and first.isprintable():  # printable: not Cc/Cf, no whitespace but " "
        return True
    return any(
        not char.isspace() and unicodedata.category(char) not in _INVISIBLE_CATEGORIES
        for char in text
    )


def _empty_text_reason(length: int, max_chars: int) -> str:
    """The reason for an empty-in-effect text; says so when only the cut-off part had content."""
    reason = "'text' is empty (only whitespace, zero-width or control characters)"
    if length > max_chars:
        reason += f" in its first {max_chars} characters"
    return reason


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
    problem = _check_fields(obj, limits)
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
