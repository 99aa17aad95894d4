"""Friendly states for an empty namespace and an unreachable Redis."""

from __future__ import annotations

import streamlit as st


def render_empty(namespace: str, known: list[str]) -> None:
    st.info(
        f"**Nothing ingested in namespace `{namespace}` yet.**  \n"
        "Start the stack and the pipeline, then feed it some posts:\n\n"
        "```\nsentimon stack up\nsentimon consume &\n"
        "sentimon produce data/sample/news.jsonl --topic news\n```\n"
        "This page refreshes by itself and fills in as soon as the first batch lands.",
        icon="🛈",
    )
    others = [n for n in known if n != namespace]
    if others:
        st.caption("Namespaces with data: " + ", ".join(f"`{n}`" for n in others))


def render_unreachable(error: Exception) -> None:
    st.warning(
        "**Redis is not answering**, so there is nothing to show right now "
        f"({type(error).__name__}). Check `SENTIMON_REDIS_URL` and `sentimon stack status`; "
        "the page retries on its next refresh.",
        icon="⚠️",
    )
