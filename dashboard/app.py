"""sentimon dashboard: ``sentimon dashboard`` or ``streamlit run dashboard/app.py``.

The page shell (settings, the cached Redis client, the namespace selector) runs once per
full rerun; everything showing data lives in one fragment that re-runs on its own every
``dashboard_refresh_s`` seconds. Reads go through ``sentimon.query`` only; nothing here
writes to Redis.
"""

from __future__ import annotations

import logging
import time

import redis
import streamlit as st

from dashboard import state
from dashboard.alertview import AlertEvent, alert_events, open_alerts
from dashboard.panels.alertfeed import render_feed
from dashboard.panels.drilldown import pick_symbol, render_drilldown
from dashboard.panels.empty import render_empty, render_unreachable
from dashboard.panels.health import render_health
from dashboard.panels.namespace import render_backtest
from dashboard.panels.overview import render_market
from dashboard.panels.tickers import render_table
from dashboard.snapshot import Snapshot, load_snapshot
from dashboard.timefmt import utc
from sentimon.errors import SentimonError
from sentimon.query import Query, namespaces

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
    st.fragment(run_every=refresh)(live)(client, namespace, refresh)


def live(client: redis.Redis, namespace: str, refresh: float) -> None:
    """The self-refreshing part of the page."""
    try:
        render_live(Query(client, namespace), refresh)
    except redis.RedisError as exc:
        render_unreachable(exc)


def render_live(query: Query, refresh: float) -> None:
    range_label = st.segmented_control(
        "Chart range", list(RANGES), default="6h", key="range", required=True
    )
    range_s = RANGES[range_label or "6h"]
    snapshot = load_snapshot(query, range_s)
    render_header(snapshot, refresh)
    if snapshot.empty:
        render_empty(query.namespace, namespaces(query.client))
        return
    render_backtest(query.namespace, query.meta())
    events = alert_events(query.alerts(ALERTS))
    market_tab, alerts_tab, health_tab = st.tabs(["Market & tickers", "Alerts", "Pipeline"])
    with market_tab:
        render_market_tab(query, snapshot, range_s, events)
    with alerts_tab:
        render_feed(events, silences=[])
    with health_tab:
        render_health(query)


def render_header(snapshot: Snapshot, refresh: float) -> None:
    st.markdown(f"### sentimon · `{snapshot.namespace}`")
    now_ms = int(time.time() * 1000)
    st.caption(
        f"**As of {utc(snapshot.watermark_ms)}** (event-time watermark) · "
        f"refreshed {utc(now_ms)} every {refresh:g} s · data loaded in "
        f"{snapshot.load_s * 1000:.0f} ms"
    )


def render_market_tab(
    query: Query, snapshot: Snapshot, range_s: int, events: list[AlertEvent]
) -> None:
    firing = open_alerts(events)
    if firing:
        names = ", ".join(f"{e.rule} · {e.entity}" for e in firing[:5])
        st.error(f"**{len(firing)} alert(s) firing:** {names}", icon="🚨")
    st.markdown("#### Market")
    render_market(snapshot, range_s)
    st.markdown("#### Tickers")
    symbols = render_table(snapshot)
    symbol = pick_symbol(symbols)
    if symbol:
        render_drilldown(query, snapshot, symbol, range_s, events)


main()
