"""Pure transformations of query results into the tables and series the panels draw."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from dashboard.snapshot import SectorRow, TickerRow, total
from dashboard.story_groups import StoryGroup, summary
from dashboard.timefmt import utc_ts
from sentimon.store.query import Point
from sentimon.windows import MINUTE, Stats

TICKER_COLUMNS = [
    "ticker",
    "n_5m",
    "mean_5m",
    "n_1h",
    "st_1h",
    "mean_1h",
    "wmean_1h",
    "baseline",
    "change",
    "z",
    "neg_1h",
    "vol_ratio",
    "trend",
]


def ticker_frame(rows: Iterable[TickerRow]) -> pd.DataFrame:
    """One row per ticker, in the order given (the table's default order), over the
    mentions the snapshot counts (its minimum relevance); ``wmean_1h`` is the
    relevance-weighted mean over every mention. Missing values (no posts in a window, no
    baseline) are NaN, which the table shows as blank."""
    records = [_ticker_record(row) for row in rows]
    frame = pd.DataFrame.from_records(records, columns=TICKER_COLUMNS)
    numeric = [c for c in TICKER_COLUMNS if c not in ("ticker", "trend")]
    frame[numeric] = frame[numeric].astype("float64")
    return frame


def _ticker_record(row: TickerRow) -> dict[str, Any]:
    view = row.view
    return {
        "ticker": row.symbol,
        "n_5m": view.m5.count,
        "mean_5m": view.m5.mean_score,
        "n_1h": view.h1.count,
        "st_1h": view.story_h1.count,
        "mean_1h": view.h1.mean_score,
        "wmean_1h": row.weighted_mean_1h,
        "baseline": view.baseline.mean_score,
        "change": view.change,
        "z": view.z,
        "neg_1h": view.h1.negative_share,
        "vol_ratio": view.volume_ratio,
        "trend": sparkline(view.hours),
    }


def sparkline(hours: list[Stats]) -> list[float]:
    """Hourly mean scores; an hour without posts repeats the previous value (0 at first)."""
    out: list[float] = []
    last = 0.0
    for stats in hours:
        if stats.mean_score is not None:
            last = round(stats.mean_score, 4)
        out.append(last)
    return out


def filter_tickers(frame: pd.DataFrame, search: str) -> pd.DataFrame:
    """Rows whose symbol contains any of the comma/space separated search terms."""
    terms = [t for t in search.upper().replace(",", " ").split() if t]
    if not terms:
        return frame
    mask = frame["ticker"].map(lambda sym: any(t in sym for t in terms))
    return frame[mask]


def bin_minutes(range_s: int) -> int:
    """Chart resolution: 1-minute bins up to 2 h, 5-minute up to 12 h, else 15-minute."""
    if range_s <= 2 * 3600:
        return 1
    return 5 if range_s <= 12 * 3600 else 15


def series_frame(
    points: list[Point], minutes_per_bin: int = 1, stories: list[Point] | None = None
) -> pd.DataFrame:
    """Per bin: UTC time, post count, mean score and the mean ± one standard error, and
    with ``stories`` (a story series over the same minutes) the stories begun in it."""
    width = minutes_per_bin * MINUTE
    bins = _binned(points, width)
    begun = _binned(stories or [], width)
    records = [_bin_record(start, total(group)) for start, group in sorted(bins.items())]
    for record, start in zip(records, sorted(bins), strict=True):
        record["stories"] = total(begun.get(start, [])).count if stories is not None else None
    columns = ["time", "count", "mean", "lo", "hi", "negative_share", "stories"]
    return pd.DataFrame.from_records(records, columns=columns)


def _binned(points: list[Point], width: int) -> dict[int, list[Stats]]:
    bins: dict[int, list[Stats]] = {}
    for point in points:
        bins.setdefault(point.minute_s // width * width, []).append(point.stats)
    return bins


def _bin_record(start_s: int, stats: Stats) -> dict[str, Any]:
    mean, err = stats.mean_score, stats.stderr or 0.0
    return {
        "time": utc_ts(start_s * 1000),
        "count": stats.count,
        "mean": mean,
        "lo": None if mean is None else mean - err,
        "hi": None if mean is None else mean + err,
        "negative_share": stats.negative_share,
    }


SECTOR_COLUMNS = ["sector", "posts", "mean", "wmean", "neg_share", "mentions"]


def sector_frame(rows: Iterable[SectorRow], min_relevance: float = 0.0) -> pd.DataFrame:
    """One row per sector, most active first: ``posts``, ``mean`` and ``neg_share`` over
    the mentions with relevance >= ``min_relevance``, ``wmean`` relevance-weighted over
    every mention, ``mentions`` every mention. Ties: more mentions first, then by name."""
    records = [_sector_record(row, min_relevance) for row in rows]
    records.sort(key=lambda r: (-r["posts"], -r["mentions"], r["sector"]))
    frame = pd.DataFrame.from_records(records, columns=SECTOR_COLUMNS)
    frame[SECTOR_COLUMNS[1:]] = frame[SECTOR_COLUMNS[1:]].astype("float64")
    return frame


def _sector_record(row: SectorRow, min_relevance: float) -> dict[str, Any]:
    kept = row.stats.at_least(min_relevance)
    return {
        "sector": row.sector,
        "posts": kept.count,
        "mean": kept.mean_score,
        "wmean": row.stats.weighted_mean,
        "neg_share": kept.negative_share,
        "mentions": row.stats.all.count,
    }


POST_COLUMNS = [
    "time",
    "score",
    "label",
    "confidence",
    "relevance",
    "low_relevance",
    "entities",
    "source",
    "url",
    "text",
]


def posts_frame(
    posts: list[dict[str, Any]], symbol: str | None = None, min_relevance: float = 0.0
) -> pd.DataFrame:
    """Recent posts, newest event time first (the stream keeps arrival order). With a
    ``symbol``, ``score``, ``label`` and ``relevance`` are that company's in the post, and
    ``low_relevance`` marks the posts naming it below ``min_relevance``; ``entities`` lists
    every company of the post with its label and relevance."""
    posts = sorted(posts, key=lambda p: -(p.get("ts") or 0))
    records = [_post_record(p, symbol, min_relevance) for p in posts]
    return pd.DataFrame.from_records(records, columns=POST_COLUMNS)


def _post_record(post: dict[str, Any], symbol: str | None, min_relevance: float) -> dict[str, Any]:
    mine = entity_of(post, symbol) if symbol else None
    relevance = mine.get("relevance") if mine else None
    return {
        "time": utc_ts(post["ts"]) if post.get("ts") is not None else None,
        "score": (mine or post).get("score"),
        "label": (mine or post).get("label"),
        # the model's calibrated probability of the post's own label
        "confidence": post.get("confidence"),
        "relevance": relevance,
        "low_relevance": isinstance(relevance, int | float) and relevance < min_relevance - 1e-9,
        "source": post.get("source") or post.get("kind"),
        "text": _headline(post),
        "url": post.get("url"),
        "entities": entities_text(post),
    }


STORY_COLUMNS = ["time", "story", "copies", *POST_COLUMNS[1:]]


def story_frame(
    groups: list[StoryGroup], symbol: str | None = None, min_relevance: float = 0.0
) -> pd.DataFrame:
    """One row per story, latest activity first: ``time`` of its latest post, ``story``
    ("12 copies, first by Newswire at 14:02"), ``copies`` in view, and the rest as
    ``posts_frame`` gives them for its first post (``StoryGroup.first``)."""
    records = [_story_record(g, symbol, min_relevance) for g in groups]
    return pd.DataFrame.from_records(records, columns=STORY_COLUMNS)


def _story_record(group: StoryGroup, symbol: str | None, min_relevance: float) -> dict[str, Any]:
    return {
        **_post_record(group.first, symbol, min_relevance),
        "time": utc_ts(group.latest_ts),
        "story": summary(group),
        "copies": group.copies,
    }


COPY_COLUMNS = ["story", "time", "first", "source", "text", "url"]


def copies_frame(groups: list[StoryGroup]) -> pd.DataFrame:
    """Every post of the stories with several posts in view, story by story (in the order
    given), newest first within one; ``story`` is the story's summary, ``first`` marks
    the post shown for it."""
    records = [
        {
            "story": f"{summary(group)}: {_headline(group.first)[:80]}",
            "time": utc_ts(post["ts"]) if post.get("ts") is not None else None,
            "first": post is group.first,
            "source": post.get("source") or post.get("kind"),
            "text": _headline(post),
            "url": post.get("url"),
        }
        for group in groups
        if group.copies > 1
        for post in group.posts
    ]
    return pd.DataFrame.from_records(records, columns=COPY_COLUMNS)


def entity_of(post: dict[str, Any], symbol: str) -> dict[str, Any] | None:
    """The post's entry for ``symbol`` in its ``entities`` (None: a post written before
    entity linking, or one not naming it)."""
    return next((e for e in post.get("entities") or [] if e.get("ticker") == symbol), None)


def entities_text(post: dict[str, Any]) -> str:
    """``AAPL negative · 0.8, MSFT positive · 0.6``: each company the post names, with the
    sentiment toward it and its relevance (a post written before linking: its tickers)."""
    entities = post.get("entities")
    if not entities:
        return ", ".join(post.get("tickers") or [])
    return ", ".join(_entity_text(e) for e in entities)


def _entity_text(entity: dict[str, Any]) -> str:
    relevance = entity.get("relevance")
    shown = f" · {relevance:.1f}" if isinstance(relevance, int | float) else ""
    return f"{entity.get('ticker')} {entity.get('label') or '?'}{shown}"


def _headline(post: dict[str, Any]) -> str:
    title, text = post.get("title"), str(post.get("text") or "")
    return f"{title} — {text}" if title and title not in text else text


def score_colour(value: object) -> str:
    """CSS for a score cell: green when positive, red when negative, grey near zero."""
    if not isinstance(value, int | float) or pd.isna(value):
        return ""
    if value > 0.05:
        return "color: #0a7d32; font-weight: 600"
    if value < -0.05:
        return "color: #c62828; font-weight: 600"
    return "color: #666"
