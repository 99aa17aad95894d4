"""One snapshot per namespace and data version, shared by every viewer of the server.

The version is the namespace's event-time watermark and its applied-batch counter (both
move with every batch the pipeline writes), so a refresh while nothing changed costs two
small reads, and several screens watching the same namespace cost Redis one snapshot per
batch, not one per screen. Writers that bump neither (a hand-filled namespace) show up
within ``TTL_S``.
"""

from __future__ import annotations

import streamlit as st

from dashboard.snapshot import Snapshot, load_snapshot
from sentimon.store.query import Query

TTL_S = 30


def data_version(query: Query) -> tuple[int | None, int]:
    return query.watermark_ms(), query.counters().get("batches", 0)


@st.cache_resource(ttl=TTL_S, max_entries=64, show_spinner=False)
def _cached(
    _query: Query,
    client_id: int,
    namespace: str,
    range_s: int,
    version: tuple[int | None, int],
    sectors: tuple[str, ...],
    min_relevance: float,
) -> Snapshot:
    return load_snapshot(_query, range_s, sectors=sectors, min_relevance=min_relevance)


def snapshot(
    query: Query, range_s: int, sectors: tuple[str, ...] = (), min_relevance: float = 0.0
) -> Snapshot:
    """The current snapshot of ``query``'s namespace (cached per data version), with a row
    per sector in ``sectors`` and ticker rows over the mentions at ``min_relevance`` or
    above."""
    version = data_version(query)
    if version[0] is None:
        return Snapshot(query.namespace, None)
    return _cached(
        query, id(query.client), query.namespace, range_s, version, sectors, min_relevance
    )


def clear() -> None:
    """Forget every cached snapshot (the benchmark measures cold refreshes with it)."""
    _cached.clear()
