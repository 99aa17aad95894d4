"""``sentimon query ticker|market|top|posts|dlq``: read aggregates through sentimon.store.query."""

from __future__ import annotations

import argparse
from typing import Any

from sentimon.cli.output import emit_json, emit_mapping, emit_table
from sentimon.entities.relevance import check_min_relevance
from sentimon.errors import ConfigError
from sentimon.keys import kind_entity, sector_entity, ticker_entity
from sentimon.settings import get_settings
from sentimon.store.client import connect
from sentimon.store.query import Query
from sentimon.windows import parse_window


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("query", help="read windows, top tickers, posts, DLQ counts")
    actions = parser.add_subparsers(dest="action", metavar="WHAT", required=True)
    ticker = actions.add_parser("ticker", help="window stats of one ticker")
    ticker.add_argument("symbol")
    sector = actions.add_parser("sector", help="window stats of one sector")
    sector.add_argument("sector", help="as in the universe, e.g. 'Information Technology'")
    market = actions.add_parser("market", help="window stats of the whole market")
    kind = actions.add_parser("kind", help="window stats of a source kind (news, social)")
    kind.add_argument("kind")
    top = actions.add_parser("top", help="tickers by volume in the window")
    top.add_argument("--limit", type=int, default=20)
    posts = actions.add_parser("posts", help="latest scored posts (of a ticker, or all)")
    posts.add_argument("symbol", nargs="?")
    posts.add_argument("--limit", type=int, default=20)
    dlq = actions.add_parser("dlq", help="dead-lettered messages per topic")
    for sub in (ticker, sector):
        sub.add_argument(
            "--min-relevance",
            type=float,
            default=None,
            help="'relevant' figures count mentions at this relevance or above "
            "(0-1; default SENTIMON_MIN_RELEVANCE, 0.4)",
        )
    for sub in (ticker, sector, market, kind, top):
        sub.add_argument("--window", default="1h", help="5m, 1h, 24h, ... (default 1h)")
        sub.add_argument(
            "--at", type=int, default=None, help="window end, epoch ms (default: watermark)"
        )
    for sub in (ticker, sector, market, kind, top, posts, dlq):
        sub.add_argument("--namespace", default=None, help="default SENTIMON_NAMESPACE (live)")
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    settings = get_settings()
    query = Query(
        connect(settings),
        args.namespace or settings.namespace,
        max_ahead_ms=settings.event_time_max_ahead_s * 1000,
    )
    data: Any
    if args.action in ("ticker", "sector", "market", "kind", "top"):
        seconds = parse_window(args.window)
        end = query.resolve_end(args.at)
        if args.action in ("ticker", "sector"):
            data = _company_window(args, query, seconds, end, settings.min_relevance)
        elif args.action == "top":
            rows = query.top(seconds, args.limit, end)
            stories = query.story_windows([ticker_entity(t) for t, _ in rows], seconds, end)
            data = [{"ticker": t, **s.as_dict(), "stories": stories[ticker_entity(t)].count}
                    for t, s in rows]  # fmt: skip
        else:
            entity = {
                "ticker": lambda: f"ticker:{args.symbol.upper()}",
                "market": lambda: "market",
                "kind": lambda: kind_entity(args.kind),
            }[args.action]()
            data = {
                "entity": entity,
                "window": args.window,
                "end_ms": end,
                **query.window(entity, seconds, end).as_dict(),
                "stories": _stories(query, entity, seconds, end),
            }
    elif args.action == "posts":
        data = query.recent_posts(args.symbol, args.limit)
    else:
        data = query.dlq_counts()
    if args.json:
        emit_json(data)
    elif args.action == "top":
        emit_table(
            data, ["ticker", "count", "stories", "mean_score", "std_score", "negative_share"]
        )
    elif args.action == "posts":
        emit_table(data, ["ts", "source", "label", "score", "text"])
    elif args.action in ("ticker", "sector"):
        emit_mapping(_flat(data))
    else:
        emit_mapping(data)
    return 0


def _company_window(
    args: argparse.Namespace, query: Query, seconds: int, end: int, default_min: float
) -> dict[str, Any]:
    """Every mention's figures, the ``relevant`` ones and the ``weighted`` ones."""
    entity = (
        ticker_entity(args.symbol.upper())
        if args.action == "ticker"
        else sector_entity(args.sector)
    )
    min_relevance = default_min if args.min_relevance is None else args.min_relevance
    try:
        check_min_relevance(min_relevance)
    except ValueError as exc:
        raise ConfigError(f"--min-relevance: {exc}") from exc
    stats = query.relevance_windows([entity], seconds, end)[entity]
    return {"entity": entity, "window": args.window, "end_ms": end,
            **stats.as_dict(min_relevance),
            "stories": _stories(query, entity, seconds, end)}  # fmt: skip


def _stories(query: Query, entity: str, seconds: int, end: int) -> dict[str, Any]:
    """Distinct stories begun in the window, and their story-level sentiment."""
    stats = query.story_windows([entity], seconds, end)[entity]
    return {"count": stats.count, "mean_score": _round6(stats.mean_score),
            "negative_share": _round6(stats.negative_share)}  # fmt: skip


def _round6(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    """Nested figures as ``relevant.count`` ... for the readable listing."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out
