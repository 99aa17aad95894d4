"""Per-session settings, the one cached Redis client, and the namespace choice."""

from __future__ import annotations

import logging

import redis
import streamlit as st

from sentimon.settings import Settings, load_settings
from sentimon.store.client import connect
from sentimon.store.query import namespaces

log = logging.getLogger(__name__)

NAMESPACE_KEY = "namespace"
BACKTEST_PREFIX = "bt:"


def current_settings() -> Settings:
    """Read from the environment on every run (not the process-wide cached settings), so
    tests and ``sentimon dashboard --namespace`` can point the app anywhere."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def redis_client(url: str, _settings: Settings) -> redis.Redis:
    """One client (and connection pool) per Redis URL for the whole server process."""
    log.info("dashboard connecting to Redis")
    return connect(_settings)


def client_for(settings: Settings) -> redis.Redis:
    return redis_client(settings.redis_url.get_secret_value(), settings)


def namespace_options(known: list[str], default: str, requested: str | None) -> list[str]:
    """The default first, then live ones, then backtests; a requested unknown one included."""
    names = set(known) | {default} | ({requested} if requested else set())
    rest = sorted(names - {default}, key=lambda n: (n.startswith(BACKTEST_PREFIX), n))
    return [default, *rest]


def choose_namespace(client: redis.Redis, default: str) -> str:
    """Sidebar selector; the choice is mirrored in the URL (``?ns=``) so a view is shareable."""
    requested = st.query_params.get("ns")
    options = namespace_options(namespaces(client), default, requested)
    if NAMESPACE_KEY not in st.session_state or st.session_state[NAMESPACE_KEY] not in options:
        st.session_state[NAMESPACE_KEY] = requested or default
    chosen = st.sidebar.selectbox(
        "Namespace",
        options,
        key=NAMESPACE_KEY,
        format_func=namespace_label,
        help="`live`, or a backtest written by `sentimon replay` / `sentimon backtest`",
    )
    if st.query_params.get("ns") != chosen:
        st.query_params["ns"] = chosen
    return str(chosen)


def namespace_label(name: str) -> str:
    if name.startswith(BACKTEST_PREFIX):
        return f"backtest · {name[len(BACKTEST_PREFIX) :]}"
    return name
