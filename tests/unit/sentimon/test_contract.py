import json

import pytest

from sentimon.contract import Invalid, Limits, Post, extract_cashtags, parse_ts, validate

TS = 1_700_000_000_000


def v(obj, **kw):
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return validate(raw, kind="news", record_ts_ms=TS, **kw)


def test_valid_minimal_post_defaults_ts_and_source():
    post = v({"id": "a1", "text": "Stocks rally"})
    assert isinstance(post, Post)
    assert post.ts_ms == TS and post.source == "news" and post.tickers == ()


def test_cashtags_and_explicit_tickers_merge_upper_dedup():
    post = v(
        {"id": "a", "text": "Buying $aapl and $BRK.B, not $5 or $AAPL", "tickers": ["msft", "AAPL"]}
    )
    assert isinstance(post, Post)
    assert post.tickers == ("MSFT", "AAPL", "BRK.B")


def test_extract_cashtags_ignores_amounts():
    assert extract_cashtags("$TSLA up $12.5bn, $1 and US$300") == ["TSLA"]


def test_unknown_fields_pass_through():
    post = v({"id": "a", "text": "x", "sector": "tech", "score_hint": 3})
    assert isinstance(post, Post)
    assert post.extra == {"sector": "tech", "score_hint": 3}


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"\xff\xfe not utf8", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "expected an object"),
        (json.dumps({"text": "x"}).encode(), "'id'"),
        (json.dumps({"id": "", "text": "x"}).encode(), "'id'"),
        (json.dumps({"id": "a"}).encode(), "'text' is missing"),
        (json.dumps({"id": "a", "text": "   "}).encode(), "'text' is empty"),
        (json.dumps({"id": "a", "text": 5}).encode(), "'text' is a int"),
        (json.dumps({"id": "a", "text": "x", "tickers": "AAPL"}).encode(), "list of strings"),
        (json.dumps({"id": "a", "text": "x", "source": 3}).encode(), "'source' must be a string"),
        (json.dumps({"id": "a", "text": "x", "ts": "yesterday"}).encode(), "not ISO-8601"),
        (json.dumps({"id": "a", "text": "x", "ts": 12}).encode(), "outside 2000-2100"),
        (json.dumps({"id": "a", "text": "x", "tickers": ["$$$"]}).encode(), "invalid ticker"),
        (None, "tombstone"),
    ],
)
def test_invalid_messages_have_reasons(raw, needle):
    out = validate(raw, kind="news", record_ts_ms=TS)
    assert isinstance(out, Invalid)
    assert needle in out.reason


def test_size_limit_and_truncation():
    limits = Limits(max_message_bytes=300, max_text_chars=20, max_tickers=2)
    big = v({"id": "a", "text": "x" * 400}, limits=limits)
    assert isinstance(big, Invalid) and "over the limit" in big.reason
    cut = v({"id": "a", "text": "y" * 50}, limits=limits)
    assert isinstance(cut, Post) and cut.truncated and len(cut.text) == 20
    many = v({"id": "a", "text": "$A $B $C"}, limits=limits)
    assert isinstance(many, Invalid) and "too many tickers" in many.reason


def test_deeply_nested_json_is_rejected_not_crashing():
    raw = ('{"id":"a","text":"x","deep":' + "[" * 5000 + "]" * 5000 + "}").encode()
    out = validate(raw, kind="news", record_ts_ms=TS)
    assert isinstance(out, Invalid) and "nested" in out.reason


def test_parse_ts_iso_and_epoch():
    assert parse_ts("2024-03-01T12:00:00Z") == 1709294400000
    assert parse_ts("2024-03-01T13:00:00+01:00") == 1709294400000
    assert parse_ts(1709294400000) == 1709294400000
    assert isinstance(parse_ts(True), Invalid)


# --- strict JSON: no NaN/Infinity, no duplicate keys -------------------------------------


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(
    "template",
    [
        '{"id": "a", "text": "x", "score": %s}',  # top level, unknown field
        '{"id": "a", "text": "x", "ts": %s}',  # top level, known field
        '{"id": "a", "text": "x", "meta": {"deep": {"v": %s}}}',  # nested in an unknown field
        '{"id": "a", "text": "x", "values": [1, 2.5, %s, 4]}',  # inside a list
        '{"id": "a", "text": "x", "rows": [{"v": [%s]}]}',  # list of objects of lists
        "%s",  # the whole document
    ],
)
def test_nan_and_infinity_are_rejected_anywhere(token, template):
    out = validate((template % token).encode(), kind="news", record_ts_ms=TS)
    assert isinstance(out, Invalid)
    assert out.reason == f"not JSON: {token} is not a JSON number"


def test_large_finite_numbers_are_still_accepted_in_unknown_fields():
    post = v(b'{"id": "a", "text": "x", "n": -1.5e300, "m": [0, 1e-300]}')
    assert isinstance(post, Post)
    assert post.extra == {"n": -1.5e300, "m": [0, 1e-300]}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"id": "a", "id": "b", "text": "x"}', "duplicate key 'id' in an object (at $)"),
        (b'{"id": "a", "text": "x", "id": "a"}', "duplicate key 'id' in an object (at $)"),
        (
            b'{"id": "a", "text": "x", "meta": {"ts": 1, "src": "w", "ts": 2}}',
            "duplicate key 'ts' in an object (at $.meta)",
        ),
        (
            b'{"id": "a", "text": "x", "rows": [{}, {"a b": {"q": 1, "q": 1}}]}',
            "duplicate key 'q' in an object (at $.rows[1]['a b'])",
        ),
        (
            b'{"id": "a", "text": "x", "m": {"\\u0000": 1, "\\u0000": 2}}',
            "duplicate key '\\x00' in an object (at $.m)",
        ),
    ],
)
def test_duplicate_keys_are_rejected_with_key_and_path(raw, reason):
    out = validate(raw, kind="news", record_ts_ms=TS)
    assert isinstance(out, Invalid)
    assert out.reason == reason


def test_duplicate_key_before_a_syntax_error_still_names_the_key():
    out = validate(
        b'{"id": "a", "text": "x", "m": {"k": 1, "k": 2}, oops', kind="news", record_ts_ms=TS
    )
    assert isinstance(out, Invalid)
    assert out.reason == "duplicate key 'k' in an object"


def test_duplicate_key_reason_is_short_and_header_safe():
    key = "\\ud800" + "k" * 500
    pairs = f'"{key}": 1, "{key}": 2'
    raw = ('{"id": "a", "text": "x", "m": {' + pairs + "}}").encode()
    out = validate(raw, kind="news", record_ts_ms=TS)
    assert isinstance(out, Invalid) and "duplicate key" in out.reason
    assert len(out.reason) < 200
    out.reason.encode("utf-8")


def test_same_key_in_sibling_objects_is_not_a_duplicate():
    post = v(b'{"id": "a", "text": "x", "a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 3}, {"k": 4}]}')
    assert isinstance(post, Post)


# --- text that is empty in effect --------------------------------------------------------

EMPTY_TEXT = "'text' is empty (only whitespace, zero-width or control characters)"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\u200b",
        "\u200b" * 50,
        "\x00",
        "\x00" * 10,
        " \t\n\r\u00a0\u3000",
        "\u200b \u200c\t\u200d\n\u2060\ufeff\u00ad\x00\x07\x1b\x7f\u2028 ",
        "\ufeff",
    ],
)
def test_text_of_only_whitespace_zero_width_or_control_chars_is_empty(text):
    out = v({"id": "a", "text": text})
    assert isinstance(out, Invalid)
    assert out.reason == EMPTY_TEXT


def test_text_empty_within_the_scored_part_is_rejected():
    limits = Limits(max_text_chars=20)
    out = v({"id": "a", "text": "\u200b" * 20 + "visible"}, limits=limits)
    assert isinstance(out, Invalid)
    assert out.reason == f"{EMPTY_TEXT} in its first 20 characters"


@pytest.mark.parametrize(
    "text",
    [
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # family emoji joined by ZWJ
        "\u200b\u200bhidden start",
        "\n\t  indented line\n",
        "\x00x",
        "co\u00adoperate",
        "\u2060\ufeff\U0001f4c8",
    ],
)
def test_text_with_real_content_passes_unchanged(text):
    post = v({"id": "a", "text": text})
    assert isinstance(post, Post)
    assert post.text == text
