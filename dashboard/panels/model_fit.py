"""Model health on the Pipeline tab: does the model still fit its feed?

Reads the compact summary the live consumer writes (``sentimon.store.health_summary``):
the label mix, mean confidence, low-confidence and escalation shares of its last posts,
and the drift against the model's reference profile (PSI of the label and length mixes,
read in the usual bands, with the length and token shares beside the reference's).
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from dashboard.timefmt import ago
from sentimon.drift import LABELS, psi_band

_BAND_TEXT = {
    "none": "stable (< 0.1)",
    "moderate": "moderate shift (0.1-0.25)",
    "major": "major shift (>= 0.25)",
    "n/a": "no reference profile",
}


def number(fields: dict[str, str], name: str) -> float | None:
    """A summary field as a number (None: absent or not measured)."""
    raw = fields.get(name, "")
    try:
        return float(raw) if raw != "" else None
    except ValueError:
        return None


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def drift_rows(fields: dict[str, str]) -> list[dict[str, Any]]:
    """Live versus reference, one row per figure, with the PSI bands."""
    rows: list[dict[str, Any]] = []
    for feature in ("label", "length"):
        value = number(fields, f"psi_{feature}")
        rows.append(
            {
                "figure": f"PSI of the {feature} mix",
                "live": "—" if value is None else f"{value:.3f}",
                "reference": "0 by definition",
                "reading": _BAND_TEXT[psi_band(value)],
            }
        )
    for label in LABELS:
        rows.append(_pair(fields, f"{label} share", f"label_{label}", f"ref_label_{label}"))
    chars, ref_chars = number(fields, "mean_chars"), number(fields, "ref_mean_chars")
    rows.append(
        {
            "figure": "mean length (characters)",
            "live": "—" if chars is None else f"{chars:.0f}",
            "reference": "—" if ref_chars is None else f"{ref_chars:.0f}",
            "reading": "",
        }
    )
    rows.append(_pair(fields, "unknown-token share", "unknown_share", "ref_unknown_share"))
    rows.append(_pair(fields, "words in 3+ pieces", "fragmented_share", "ref_fragmented_share"))
    return rows


def _pair(fields: dict[str, str], figure: str, live: str, ref: str) -> dict[str, Any]:
    return {
        "figure": figure,
        "live": share(number(fields, live)),
        "reference": share(number(fields, ref)),
        "reading": "",
    }


def render_model_health(fields: dict[str, str]) -> None:
    st.markdown("**Model health**")
    if not fields:
        st.caption("No consumer has reported model health in this namespace yet.")
        return
    posts = int(number(fields, "posts") or 0)
    updated = number(fields, "updated_ms")
    age = "" if updated is None else f", reported {ago(time.time() - updated / 1000)}"
    st.caption(
        f"Last {posts:,} posts scored by `{fields.get('model') or '—'}` "
        f"(consumer {fields.get('consumer') or '—'}{age})."
    )
    cols = st.columns(4)
    cols[0].metric("Mean confidence", share(number(fields, "mean_confidence")))
    low = number(fields, "low_confidence")
    cols[1].metric(
        f"Below {low:g} confidence" if low is not None else "Low confidence",
        share(number(fields, "low_confidence_share")),
    )
    cols[2].metric("Escalated (cascade)", share(number(fields, "escalation_share")))
    psi = [v for v in (number(fields, "psi_label"), number(fields, "psi_length")) if v is not None]
    cols[3].metric("Drift (max PSI)", f"{max(psi):.3f}" if psi else "—",
                   help=_BAND_TEXT[psi_band(max(psi) if psi else None)])  # fmt: skip
    st.markdown(
        "Label mix: "
        + " · ".join(f"{label} {share(number(fields, f'label_{label}'))}" for label in LABELS)
    )
    st.dataframe(drift_rows(fields), hide_index=True, key="model_drift_table")
