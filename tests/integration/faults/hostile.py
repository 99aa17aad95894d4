"""Hypothesis strategies for the hostile-input test: each hostile payload breaks the input
contract in one known way (so it must be dead-lettered); each odd-but-valid one must count.

The rules come from the contract's documentation (a UTF-8 JSON object of at most
``max_message_bytes`` and depth 20; a non-empty string ``id`` of at most 256 characters,
a non-empty string ``text``; ``ts`` ISO-8601 or epoch milliseconds in 2000-2100; ``tickers``
a list of valid symbols, at most ``max_tickers``; optional fields strings), not its code.
"""

from __future__ import annotations

import json
import string
import unicodedata
from typing import Any

from hypothesis import strategies as st

from tests.integration.faults.streams import SPAN_MS, Msg
from tests.integration.feeds import T0, TICKERS

LIMIT = 64 * 1024  # default max_message_bytes
MIN_TS, MAX_TS = 946_684_800_000, 4_102_444_800_000
OPTIONAL = ("source", "title", "url", "author", "lang")
BASE = {"id": "h-1", "text": "well formed but for one thing", "ts": T0}
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88"]
NOT_SYMBOLS = ["", "$", "1ABC", "TOOLONGSYMBOL1", "A..B", "AB-CDEF", "ÄPFEL", "A B"]


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=True).encode()


def _with(name: str, value: Any) -> bytes:
    return _dumps({**BASE, name: value})


def _nest(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "0" + "}" * depth)


non_strings = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip
lone_surrogate = st.characters(categories=["Cs"])
not_iso = st.text(string.ascii_letters, min_size=1, max_size=12).map(lambda s: f"x{s}")

hostile: st.SearchStrategy[bytes | None] = st.one_of(
    st.binary(max_size=400),  # random bytes
    st.builds(  # invalid UTF-8 inside an otherwise fine message
        lambda bad, junk: b'{"id": "u-1", "text": "ab' + bad + junk.encode() + b'"}',
        st.sampled_from(BAD_UTF8),
        st.text(string.ascii_letters, max_size=8),
    ),
    st.builds(  # nested deeper than 20, top level or inside a field
        lambda depth, kind, inside: (
            f'{{"id": "d-1", "text": "deep", "x": {_nest(depth, kind)}}}' if inside else _nest(depth, kind)
        ).encode(),
        st.integers(21, 5000), st.sampled_from(["list", "dict"]), st.booleans(),
    ),
    st.integers(LIMIT, 3 * LIMIT).map(lambda n: _with("text", "y" * n)),  # over the size limit
    st.integers(257, 4000).map(lambda n: _with("id", "i" * n)),  # id too long
    st.builds(_with, st.sampled_from(["id", "text"]), non_strings | st.sampled_from(["", "  \n"])),
    st.builds(_with, st.sampled_from(OPTIONAL), non_strings.filter(lambda v: v is not None)),
    st.builds(_with, st.just("tickers"), non_strings.filter(lambda v: v is not None and v != [])),
    st.builds(_with, st.just("tickers"), st.lists(st.sampled_from(NOT_SYMBOLS), min_size=1, max_size=3)),
    st.builds(_with, st.just("tickers"), st.integers(21, 40).map(lambda n: [f"T{i}" for i in range(n)])),
    st.builds(_with, st.just("ts"), st.booleans() | st.lists(st.integers(), max_size=2) | not_iso),
    st.builds(_with, st.just("ts"), st.integers(max_value=MIN_TS - 1) | st.integers(min_value=MAX_TS)),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400"]).map(  # non-finite numbers
        lambda tok: _dumps({**BASE, "ts": None}).replace(b'"ts": null', b'"ts": ' + tok.encode())
    ),
    st.sampled_from(["id", "text"]).map(lambda f: _with(f, None).replace(b"null", b"NaN")),
    st.sampled_from(["id", "ts", "text"]).map(  # a key repeated (the last would win)
        lambda f: _dumps(BASE)[:-1] + b", " + json.dumps(f).encode() + b": " + json.dumps(BASE[f]).encode() + b"}"
    ),
    st.just(_with("text", "\u200b\u200b \x00\t")),  # nothing visible
    st.just(_dumps({**BASE, "ts": None}).replace(b"null", b"1" + b"0" * 5000)),  # > 4300 digits
    st.builds(  # a lone surrogate (JSON "\udXXX") in a string field
        lambda name, ch: _with(name, f"a{ch}b"), st.sampled_from(["id", "text", *OPTIONAL]), lone_surrogate
    ),
    st.sampled_from([None, b"", b"null", b"[]", b'"text"', b"42", b"true", b"{}"]),  # nulls, non-objects
    st.builds(  # truncated JSON
        lambda raw, cut: raw[: cut % (len(raw) - 1)], st.just(_dumps(BASE)), st.integers(0, 10**6)
    ),
    st.sampled_from([b"\xef\xbb\xbf" + _dumps(BASE), _dumps(BASE) + b" trailing", _dumps(BASE) + b"{}"]),
)  # fmt: skip


def _visible(text: str) -> bool:
    """The contract counts a text of only whitespace, control (Cc) or format (Cf, e.g.
    zero-width) characters as empty."""
    return any(not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf") for c in text)


odd_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="$"), min_size=1, max_size=300
).filter(_visible)


@st.composite
def odd_valid(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], tuple[str, ...], int]:
    """A valid post with odd but allowed content: any Unicode text (or over 2,000 chars,
    truncated), an id with Unicode and padding, ISO or float time, huge finite or deep-ish
    unknown fields, tickers in lower case or with a ``$``. (padding, id suffix, body, tickers, ts)"""
    ts = T0 + draw(st.integers(0, SPAN_MS - 1))
    tickers = draw(st.lists(st.sampled_from(TICKERS), max_size=3, unique=True))
    body: dict[str, Any] = {
        "text": draw(odd_text | st.integers(2001, 20_000).map(lambda n: "z" * n)),
        "ts": draw(st.sampled_from([ts, float(ts), _iso(ts)])),
        "tickers": [draw(st.sampled_from([t.lower(), f"${t}", t])) for t in tickers],
        "extra": draw(st.sampled_from([1e300, -0.0, json.loads(_nest(15, "dict"))])),
    }
    pad = draw(st.sampled_from(["", " ", "\t"]))
    suffix = draw(st.text(st.characters(exclude_categories=["Cs"]), max_size=6))
    return pad, suffix, body, tuple(tickers), ts


def odd_msg(number: int, topic: str, kind: str, drawn: Any) -> Msg:
    """An ``odd_valid`` draw as a message with a unique id (``v-<number>-...``)."""
    pad, suffix, body, tickers, ts = drawn
    post_id = f"v-{number}-{suffix}"
    raw = _dumps({"id": pad + post_id, **body})
    return Msg(topic, raw, kind, post_id.strip(), tickers, ts)


def _iso(ts_ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat()
