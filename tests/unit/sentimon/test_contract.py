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
