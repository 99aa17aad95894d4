"""The reliability diagram ``sentimon model eval --plot FILE.png`` draws.

Bars: accuracy per confidence bin; the diagonal is perfect calibration; the bars' gap to
it, weighted by the bins' sizes, is the expected calibration error printed in the title.
matplotlib comes with the ``plot`` extra (``pip install -e '.[plot]'``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sentimon.errors import ConfigError


def plot_reliability(
    report: dict[str, Any], path: Path, *, before: dict[str, Any] | None = None
) -> Path:
    """Write ``report``'s reliability diagram (and ``before``'s, for comparison) to ``path``."""
    try:
        import matplotlib  # noqa: PLC0415 (optional, heavy: loaded only when used)

        matplotlib.use("Agg")
        from matplotlib import pyplot  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigError(
            "--plot needs matplotlib: pip install -e '.[plot]' (or pip install matplotlib)"
        ) from exc
    panels = (
        [("raw model, uncalibrated", before), ("served", report)]
        if before
        else [("served", report)]
    )
    fig, axes = pyplot.subplots(1, len(panels), figsize=(5 * len(panels), 5), squeeze=False)
    for ax, (title, rep) in zip(axes[0], panels, strict=True):
        assert rep is not None
        rows = rep["reliability"]
        centres = [(r["low"] + r["high"]) / 2 for r in rows]
        width = rows[0]["high"] - rows[0]["low"] if rows else 0.1
        ax.bar(centres, [r["accuracy"] for r in rows], width=width * 0.9, label="accuracy")
        ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
        ax.plot(centres, [r["confidence"] for r in rows], "o", color="tab:red", label="confidence")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence (probability of the label given)")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{title}: ECE {rep['ece']:.3f}, n={rep['n']}")
        ax.legend(loc="upper left")
    fig.suptitle(f"{report['model_id']} on {Path(str(report['data'])).name}", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    pyplot.close(fig)
    return path
