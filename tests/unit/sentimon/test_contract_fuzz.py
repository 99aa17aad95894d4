"""Property tests: ``sentimon.contract.validate`` never raises, whatever the bytes.

A raise inside validation would crash the consumer on the same record after every restart
(a poison pill), so every input must come back as a ``Post`` or an ``Invalid`` with a
reason. Accepted posts must also be safe for everything downstream: UTF-8 encodable
strings (the tokenizer, Redis keys and headers need that), limits respected.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sentimon.contract import Invalid, Limits, Post, validate

LIMITS = Limits(max_message_bytes=8 * 1024, max_text_chars=300, max_tickers=5)
RECORD_TS = 1_793_000_000_000
FIELDS = ("id", "text", "ts", "source", "tickers", "title", "url", "author", "lang")

# Any code point, with lone surrogates made common (json.dumps escapes them as \udXXX).
# (``st.text`` would merge the two alphabets and make surrogates rare again.)
any_text = st.lists(st.characters() | st.characters(categories=["Cs"]), max_size=40).map("".join)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
iso_times = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(),
    st.integers(min_value=-1439, max_value=1439),
)
field_values = json_values | iso_times | st.lists(any_text, max_size=8)
message_like = st.dictionaries(st.sampled_from(FIELDS) | any_text, field_values, max_size=9)
# A valid message with one field replaced: reaches the checks past JSON decoding.
one_field_off = st.builds(
    lambda name, value: {"id": "ok-1", "text": "fine text", "ts": RECORD_TS, name: value},
    st.sampled_from(FIELDS),
    any_text | field_values,
)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode("utf-8")


# --- strict JSON and empty-in-effect texts -----------------------------------------------
# A leaf that marks where a token or an object with a duplicate key is spliced in.
SPLICE = "\x00splice-here\x00"
# Keys as JSON decodes them (an escaped surrogate pair becomes one code point), so keys that
# differ here also differ once parsed and no duplicate appears by accident.
json_keys = any_text.map(lambda key: str(json.loads(json.dumps(key))))
finite_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(json_keys, inner, max_size=3),
    max_leaves=8,
)


def _in_dict(value: Any, siblings: dict[str, Any], key: str) -> dict[str, Any]:
    return {**siblings, key: value}


def _in_list(value: Any, siblings: list[Any], at: int) -> list[Any]:
    at = at % (len(siblings) + 1)
    return [*siblings[:at], value, *siblings[at:]]


# The splice mark somewhere inside nested lists and objects (or as the value itself).
spliced_value = st.recursive(
    st.just(SPLICE),
    lambda inner: (
        st.builds(_in_dict, inner, st.dictionaries(json_keys, finite_json, max_size=3), json_keys)
        | st.builds(_in_list, inner, st.lists(finite_json, max_size=3), st.integers(min_value=0))
    ),
    max_leaves=6,
)
# A valid message with the splice mark in one field, known or unknown.
spliced_message = st.builds(
    lambda name, value: {"id": "sp-1", "text": "fine text", "ts": RECORD_TS, name: value},
    st.sampled_from(FIELDS) | json_keys,
    spliced_value,
)
non_json_tokens = st.sampled_from(["NaN", "Infinity", "-Infinity"])


def _splice(msg: dict[str, Any], replacement: str) -> bytes:
    """``msg`` as JSON with the splice mark replaced by raw JSON-ish ``replacement``."""
    text = json.dumps(msg)
    mark = json.dumps(SPLICE)
    assert text.count(mark) == 1
    return text.replace(mark, replacement).encode("utf-8")


def _object_with_duplicate(
    key: str, first: Any, second: Any, others: dict[str, Any], at: int
) -> str:
    """JSON text of an object holding ``key`` twice, other pairs around and between them."""
    pairs = [(k, v) for k, v in others.items() if k != key]
    at = at % (len(pairs) + 1)
    pairs = [(key, first), *pairs[:at], (key, second), *pairs[at:]]
    return "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"


duplicated_objects = st.builds(
    lambda key, first, second, others, at: (
        key,
        _object_with_duplicate(key, first, second, others, at),
    ),
    st.sampled_from(FIELDS) | json_keys,
    finite_json,
    finite_json,
    st.dictionaries(st.sampled_from(FIELDS) | json_keys, finite_json, max_size=4),
    st.integers(min_value=0),
)
# Whitespace, controls (NUL included) and format characters (zero-width and friends).
invisible_text = st.text(
    st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"])
    | st.sampled_from("\u200b\u200d\ufeff\x00"),
    max_size=60,
)


def _visible(text: str) -> bool:
    """The contract's notion of content, restated independently of its implementation."""
    return any(not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf") for c in text)


def _nested(depth: int) -> bytes:
    return _dumps({"id": "deep", "text": "x", "extra": 0}).replace(
        b"0}", b"[" * depth + b"]" * depth + b"}"
    )


def _corrupt(raw: bytes, at: int, byte: int) -> bytes:
    at = at % (len(raw) + 1)
    return raw[:at] + bytes([byte]) + raw[at:]


payloads = st.one_of(
    st.binary(max_size=200),
    st.none(),
    json_values.map(_dumps),
    message_like.map(_dumps),
    st.integers(min_value=0, max_value=3000).map(_nested),
    st.builds(
        _corrupt,
        message_like.map(_dumps),
        st.integers(min_value=0),
        st.integers(min_value=0x80, max_value=0xFF),
    ),
    st.integers(min_value=8 * 1024 - 50, max_value=9 * 1024).map(
        lambda n: _dumps({"id": "big", "text": "y" * n})
    ),
    st.builds(_splice, spliced_message, non_json_tokens),
    st.builds(lambda msg, dup: _splice(msg, dup[1]), spliced_message, duplicated_objects),
    invisible_text.map(lambda text: _dumps({"id": "blank", "text": text})),
)


def _encodable(value: str | None) -> bool:
    if value is None:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_post(post: Post) -> None:
    assert post.id and post.id == post.id.strip() and len(post.id) <= 256
    assert _visible(post.text) and len(post.text) <= LIMITS.max_text_chars
    assert 946_684_800_000 <= post.ts_ms < 4_102_444_800_000
    assert len(post.tickers) <= LIMITS.max_tickers
    strings = [post.id, post.text, post.source, post.title, post.url, post.author, post.lang]
    assert all(_encodable(s) for s in [*strings, *post.tickers]), post
    assert all(isinstance(s, str) or s is None for s in strings)


def _check(raw: bytes | None) -> None:
    outcome = validate(raw, kind="news", record_ts_ms=RECORD_TS, limits=LIMITS)
    if isinstance(outcome, Invalid):
        assert outcome.reason.strip()
        assert _encodable(outcome.reason)  # it travels in a Kafka header
    else:
        assert isinstance(outcome, Post)
        _check_post(outcome)


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_validate_never_raises_on_hostile_bytes(raw: bytes | None) -> None:
    _check(raw)


@settings(max_examples=300, deadline=None)
@given(one_field_off)
def test_a_valid_message_with_any_one_field_replaced_is_safe(msg: dict[str, Any]) -> None:
    _check(_dumps(msg))


@settings(max_examples=200, deadline=None)
@given(st.characters(categories=["Cs"]), st.sampled_from(FIELDS))
def test_lone_surrogates_in_any_string_field_are_rejected(bad: str, name: str) -> None:
    msg: dict[str, Any] = {"id": "s-1", "text": "plain text", name: f"a{bad}b"}
    if name == "tickers":
        msg[name] = [f"A{bad}"]
    outcome = validate(_dumps(msg), kind="news", record_ts_ms=RECORD_TS, limits=LIMITS)
    assert isinstance(outcome, Invalid), outcome
    assert outcome.reason.strip()


@given(st.sampled_from(["NaN", "Infinity", "-Infinity"]), st.sampled_from(["id", "text", "ts"]))
def test_non_finite_numbers_never_pass_as_id_text_or_time(token: str, name: str) -> None:
    base = {"id": "n-1", "text": "plain", "ts": RECORD_TS}
    raw = json.dumps({k: (None if k == name else v) for k, v in base.items()})
    raw = raw.replace(f'"{name}": null', f'"{name}": {token}')
    assert token in raw
    outcome = validate(raw.encode(), kind="news", record_ts_ms=RECORD_TS, limits=LIMITS)
    assert isinstance(outcome, Invalid), outcome


def _rejected(raw: bytes) -> Invalid:
    outcome = validate(raw, kind="news", record_ts_ms=RECORD_TS, limits=LIMITS)
    assert isinstance(outcome, Invalid), outcome
    assert outcome.reason.strip() and _encodable(outcome.reason)
    return outcome


@settings(max_examples=200, deadline=None)
@given(spliced_message, non_json_tokens)
def test_nan_and_infinity_are_rejected_at_any_depth(msg: dict[str, Any], token: str) -> None:
    outcome = _rejected(_splice(msg, token))
    assert outcome.reason == f"not JSON: {token} is not a JSON number"


def _duplicate_reason_start(key: str) -> str:
    """How the reason begins: the key quoted and escaped, cut to 40 characters, then a path."""
    return f"duplicate key {key[:40]!r} in an object (at $"


@settings(max_examples=200, deadline=None)
@given(spliced_message, duplicated_objects)
def test_duplicate_keys_are_rejected_at_any_depth(
    msg: dict[str, Any], dup: tuple[str, str]
) -> None:
    key, obj = dup
    outcome = _rejected(_splice(msg, obj))
    assert outcome.reason.startswith(_duplicate_reason_start(key))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIELDS) | json_keys, finite_json, finite_json)
def test_a_duplicated_top_level_key_is_rejected(key: str, first: Any, second: Any) -> None:
    outcome = _rejected(
        _object_with_duplicate(key, first, second, {"id": "d-1", "text": "fine"}, 1).encode()
    )
    assert outcome.reason.startswith(_duplicate_reason_start(key))


@settings(max_examples=300, deadline=None)
@given(invisible_text)
def test_texts_without_visible_characters_are_empty(text: str) -> None:
    outcome = _rejected(_dumps({"id": "b-1", "text": text}))
    assert outcome.reason.startswith("'text' is empty")


@settings(max_examples=200, deadline=None)
@given(invisible_text, st.characters(categories=["L", "N", "P", "S"]), invisible_text)
def test_visible_text_among_invisible_characters_is_kept_unchanged(
    before: str, visible: str, after: str
) -> None:
    text = before + visible + after
    outcome = validate(
        _dumps({"id": "k-1", "text": text}), kind="news", record_ts_ms=RECORD_TS, limits=LIMITS
    )
    assert isinstance(outcome, Post), outcome
    assert outcome.text == text
