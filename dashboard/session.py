"""Per-session settings, the one cached Redis client, the universe's sectors, and the
sidebar's choices (namespace, minimum relevance)."""

from __future__ import annotations

import logging

import redis
import streamlit as st

from dashboard import mentions
from sentimon.entities.universe import GICS_SECTORS, load_universe
from sentimon.errors import ConfigError
from sentimon.settings import Settings, load_settings
from sentimon.store.client import connect
from sentimon.store.query import namespaces

log = logging.getLogger(__name__)

NAMESPACE_KEY = "namespace"
MIN_RELEVANCE_KEY = "min_relevance"
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


@st.cache_resource(show_spinner=False)
def _universe_sectors(path: str | None) -> tuple[str, ...]:
    """The sectors of the universe file at ``path`` (None: the shipped one), read once per
    server process like the consumer reads it once at start-up. A failure is not cached."""
    return tuple(load_universe(path).sectors())


def sectors_of(settings: Settings) -> tuple[str, ...]:
    """The sectors the sector view lists: the universe's, or the 11 GICS sectors (which the
    shipped universe uses) when the universe cannot be read."""
    path = str(settings.universe) if settings.universe else None
    try:
        return _universe_sectors(path)
    except ConfigError as exc:
        log.warning("dashboard lists the GICS sectors: %s", exc)
        return GICS_SECTORS


def choose_min_relevance(default: float) -> float:
    """Sidebar selector of the minimum relevance of the company and sector figures
    (default ``SENTIMON_MIN_RELEVANCE``)."""
    options = mentions.choices(default)
    chosen = st.sidebar.selectbox(
        "Min relevance",
        options,
        index=options.index(round(default, 4)),
        key=MIN_RELEVANCE_KEY,
        format_func=mentions.label,
        help="Ticker and sector figures count the mentions at this relevance or above "
        "(1: the post's subject; a company named in passing among many: 0.2). The "
        "weighted mean counts every mention in proportion to its relevance.",
    )
    return float(chosen)
