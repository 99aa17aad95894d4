"""Silencing from the dashboard: the one write, shown only when
``SENTIMON_DASHBOARD_ALLOW_WRITES=true`` (read-only otherwise)."""

from __future__ import annotations

import logging

import redis
import streamlit as st

from sentimon.alerts.durations import parse_duration
from sentimon.alerts.silence_store import SilenceStore
from sentimon.alerts.silences import parse_matchers
from sentimon.errors import SentimonError
from sentimon.keys import Keys

log = logging.getLogger(__name__)


def render_silence_form(client: redis.Redis, namespace: str, allow_writes: bool) -> None:
    if not allow_writes:
        st.caption(
            "Read-only: set `SENTIMON_DASHBOARD_ALLOW_WRITES=true` to silence alerts from here, "
            "or use `sentimon alerts silence`."
        )
        return
    with st.form("silence_form", clear_on_submit=True):
        st.markdown("**Add a silence**")
        match = st.text_input("Match", placeholder="ticker=TSLA, rule=ticker-negative-share")
        duration = st.text_input("For", value="2h")
        reason = st.text_input("Reason")
        if st.form_submit_button("Silence"):
            add_silence(client, namespace, match, duration, reason)


def add_silence(
    client: redis.Redis, namespace: str, match: str, duration: str, reason: str
) -> None:

    try:
        silence = SilenceStore(client, Keys(namespace)).add(
            parse_matchers([match]), parse_duration(duration), reason, by="dashboard"
        )
    except SentimonError as exc:
        st.error(str(exc))
        return
    log.info("dashboard added silence %s in %s", silence.id, namespace)
    st.success(f"Silenced {', '.join(str(m) for m in silence.matchers)} for {duration}.")
