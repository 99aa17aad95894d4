"""Pipeline health: lag per topic (messages and seconds), throughput, last batch, DLQ, model,
and the model's health (``dashboard.panels.model_fit``)."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from dashboard.panels.model_fit import render_model_health
from dashboard.timefmt import ago, utc
from sentimon.store.health_summary import read_model_health
from sentimon.store.query import Query


def render_health(query: Query) -> None:
    now_ms = int(time.time() * 1000)
    counters, dlq, meta = query.counters(), query.dlq_counts(), query.meta()
    consumers = query.health()
    cols = st.columns(6)
    cols[0].metric("Records", f"{counters.get('records', 0):,}")
    cols[1].metric("Scored", f"{counters.get('scored', 0):,}")
    cols[2].metric("Dead-lettered", f"{sum(dlq.values()):,}")
    cols[3].metric("Duplicates", f"{counters.get('duplicates', 0):,}")
    cols[4].metric("Batches", f"{counters.get('batches', 0):,}")
    cols[5].metric("Throughput", f"{_throughput(consumers, now_ms):,.1f} rec/s")
    st.markdown(f"Model in use: `{meta.get('model') or '—'}`")
    lag = query.lag_by_topic(now_ms)
    st.markdown("**Consumer lag per topic**")
    if lag:
        st.dataframe(
            [{"topic": t.topic, "messages": t.messages, "seconds (est.)": t.seconds} for t in lag],
            hide_index=True,
            key="lag_table",
        )
    else:
        st.caption("No consumer has reported in the last minute.")
    st.markdown("**Consumers**")
    if consumers:
        st.dataframe(consumer_rows(consumers, now_ms), hide_index=True, key="consumers_table")
    else:
        st.caption("No consumer health snapshots in this namespace (backtests have none).")
    st.markdown("**Dead-lettered per topic**")
    st.dataframe(
        [{"topic": t, "messages": n} for t, n in sorted(dlq.items())]
        or [{"topic": "—", "messages": 0}],
        hide_index=True,
        key="dlq_table",
    )
    with st.container(key="model_health_panel"):
        render_model_health(read_model_health(query.client, query.keys))


def consumer_rows(consumers: dict[str, dict[str, Any]], now_ms: int) -> list[dict[str, Any]]:
    rows = []
    for name, snap in sorted(consumers.items()):
        last_batch = snap.get("last_batch_ts")
        rows.append(
            {
                "consumer": name,
                "model": snap.get("model"),
                "rate (rec/s)": snap.get("rate"),
                "records": snap.get("records"),
                "lag": sum(int(n) for n in (snap.get("lag") or {}).values()),
                "partitions": len(snap.get("assignment") or []),
                "last batch (UTC)": utc(last_batch),
                "last seen": ago((now_ms - int(snap.get("ts", now_ms))) / 1000),
            }
        )
    return rows


def _throughput(consumers: dict[str, dict[str, Any]], now_ms: int) -> float:
    """Sum of the rates of consumers seen in the last minute."""
    fresh = [s for s in consumers.values() if now_ms - int(s.get("ts", 0)) <= 60_000]
    return sum(float(s.get("rate") or 0.0) for s in fresh)
