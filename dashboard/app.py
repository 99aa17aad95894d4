"""sentimon dashboard: ``sentimon dashboard`` or ``streamlit run dashboard/app.py``.

The page shell (settings, the cached Redis client, the namespace selector) runs once per
full rerun; everything showing data lives in one fragment that re-runs on its own every
``dashboard_refresh_s`` seconds. Reads go through ``sentimon.store.query`` (aggregates) and
``sentimon.alerts`` (``AlertReader``, ``SilenceStore``: alerts and silences); the one write
(adding a silence) is offered only with ``dashboard_allow_writes``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import redis
import streamlit as st

from dashboard import cache
from dashboard import session as state
from dashboard.alertview import AlertCard, alert_events, open_lines
from dashboard.panels.alertfeed import render_feed
from dashboard.panels.drilldown import pick_symbol, render_drilldown
from dashboard.panels.empty import guard, render_empty, render_unreachable
from dashboard.panels.health import render_health
from dashboard.panels.namespace import render_backtest
from dashboard.panels.overview import render_market
from dashboard.panels.sectors import render_sectors
from dashboard.panels.silence_form import render_silence_form
from dashboard.panels.storyfeed import READ, render_stories
from dashboard.panels.tickers import render_table
from dashboard.snapshot import Snapshot
from dashboard.timefmt import utc
from sentimon.alerts.history import AlertReader
from sentimon.alerts.silence_store import SilenceStore
from sentimon.errors import SentimonError
from sentimon.store.query import Query, namespaces

log = logging.getLogger(__name__)

RANGES = {"1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600}
ALERTS = 200


def main() -> None:
    st.set_page_config(page_title="sentimon", page_icon="📈", layout="wide")
    try:
        settings = state.current_settings()
    except SentimonError as exc:
        st.error(f"Configuration problem: {exc}")
        return
    client = state.client_for(settings)
    try:
        namespace = state.choose_namespace(client, settings.namespace)
    except redis.RedisError as exc:
        render_unreachable(exc)
        return
    refresh = settings.dashboard_refresh_s
    mode = "writes allowed" if settings.dashboard_allow_writes else "read-only"
    st.sidebar.caption(f"Refreshes every {refresh:g} s · {mode} · times in UTC")
    range_label = st.sidebar.segmented_control(
        "Chart range", list(RANGES), default="6h", key="range", required=True
    )
    view = View(
        namespace,
        RANGES[range_label or "6h"],
        refresh,
        settings.dashboard_allow_writes,
        min_relevance=state.choose_min_relevance(settings.min_relevance),
        sectors=state.sectors_of(settings),
    )
    st.fragment(run_every=refresh)(live)(client, view)


@dataclass(frozen=True)
class View:
    """What the page shows, chosen outside the self-refreshing fragment."""

    namespace: str
    range_s: int
    refresh_s: float
    writes: bool
    #: ticker and sector figures count mentions at this relevance or above
    min_relevance: float = 0.0
    #: the universe's sectors, for the sector view
    sectors: tuple[str, ...] = ()


def live(client: redis.Redis, view: View) -> None:
    """The self-refreshing part of the page."""
    try:
        render_live(Query(client, view.namespace), view)
    except redis.RedisError as exc:
        render_unreachable(exc)


def render_live(query: Query, view: View) -> None:
    range_s = view.range_s
    snapshot = cache.snapshot(query, range_s, view.sectors, view.min_relevance)
    render_header(snapshot, view.refresh_s)
    if snapshot.empty:
        with st.container(key="empty_state"):
            render_empty(query.namespace, namespaces(query.client))
        return
    render_backtest(query.namespace, query.meta())
    alerts = AlertReader(query.client, query.namespace)
    events = alert_events(alerts.events(ALERTS))
    firing = alerts.open_alerts()
    market_tab, alerts_tab, health_tab = st.tabs(["Market & tickers", "Alerts", "Pipeline"])
    with market_tab, guard("market"):
        render_market_tab(query, snapshot, view, events, firing)
    with alerts_tab, st.container(key="alerts_panel"), guard("alerts"):
        render_feed(events, firing, SilenceStore(query.client, query.keys).listing())
        render_silence_form(query.client, query.namespace, view.writes)
    with health_tab, st.container(key="health_panel"), guard("pipeline"):
        render_health(query)


def render_header(snapshot: Snapshot, refresh: float) -> None:
    st.markdown(f"### sentimon · `{snapshot.namespace}`")
    now_ms = int(time.time() * 1000)
    as_of = "nothing ingested yet" if snapshot.empty else utc(snapshot.watermark_ms)
    st.caption(
        f"**As of {as_of}** (event-time watermark) · refreshed {utc(now_ms)} every "
        f"{refresh:g} s · snapshot read in {snapshot.load_s * 1000:.0f} ms"
    )


def render_market_tab(
    query: Query,
    snapshot: Snapshot,
    view: View,
    events: list[AlertCard],
    firing: list[dict[str, Any]],
) -> None:
    if firing:
        names = ", ".join(open_lines(firing)[:5])
        st.error(
            f"**{len(firing)} alert(s) firing:** {names}", icon=":material/notifications_active:"
        )
    with st.container(key="market_panel"):
        st.markdown("#### Market")
        render_market(snapshot, view.range_s)
    with st.container(key="sector_panel"), guard("sectors"):
        st.markdown("#### Sectors")
        render_sectors(snapshot, view.range_s)
    with st.container(key="ticker_panel"):
        st.markdown("#### Tickers")
        symbols = render_table(snapshot)
    symbol = pick_symbol(symbols)
    if symbol:
        with st.container(key="drilldown_panel"):
            render_drilldown(query, snapshot, symbol, view.range_s, events)
    with st.container(key="feed_panel"), guard("latest stories"):
        st.markdown("#### Latest stories")
        render_stories(query.recent_posts(None, READ), key="feed")


main()
