"""Property tests: ``sentimon.contract.validate`` never raises, whatever the bytes.

A raise inside validation would crash the consumer on the same record after every restart
(a poison pill), so every input must come back as a ``Post`` or an ``Invalid`` with a
reason. Accepted posts must also be safe for everything downstream: UTF-8 encodable
strings (the tokenizer, Redis keys and headers need that), limits respected.
"""

from __future__ import annotations

import json
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
    assert post.text.strip() and len(post.text) <= LIMITS.max_text_chars
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
