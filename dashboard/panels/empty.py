"""Friendly states: an empty namespace, an unreachable Redis, a panel that failed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
import streamlit as st

log = logging.getLogger(__name__)


def render_empty(namespace: str, known: list[str]) -> None:
    st.info(
        f"**Nothing ingested in namespace `{namespace}` yet.**  \n"
        "Start the stack and the pipeline, then feed it some posts:\n\n"
        "```\nsentimon stack up\nsentimon consume &\n"
        "sentimon produce data/sample/news.jsonl --topic news\n```\n"
        "This page refreshes by itself and fills in as soon as the first batch lands.",
        icon=":material/hourglass_empty:",
    )
    others = [n for n in known if n != namespace]
    if others:
        st.caption("Namespaces with data: " + ", ".join(f"`{n}`" for n in others))


def render_unreachable(error: Exception) -> None:
    st.warning(
        "**Redis is not answering**, so there is nothing to show right now "
        f"({type(error).__name__}). Check `SENTIMON_REDIS_URL` and `sentimon stack status`; "
        "the page retries on its next refresh.",
        icon=":material/cloud_off:",
    )


@contextmanager
def guard(panel: str) -> Iterator[None]:
    """Keep one failing panel from taking the page down: log the traceback, say so in the
    panel, carry on. Redis errors propagate (the page shows one "not answering" state)."""
    try:
        yield
    except redis.RedisError:
        raise
    except Exception:
        log.exception("dashboard panel %r failed", panel)
        st.warning(f"The {panel} panel could not be drawn; the dashboard log has the details.")
