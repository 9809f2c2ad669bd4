"""``plot_outcomes(result)``: a send's outcome and latency as a matplotlib Figure.

matplotlib is an optional extra (``pip install 'flux_magic[plot]'``); it is imported when the
function is called, never by ``import flux_magic``. The counts come from the engine's
summary (``_summary``), the same the magic's line and the widget show.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import UsageError
from ._summary import summarize

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["plot_outcomes"]

_TONES = {"ok": "#2e7d32", "warn": "#f9a825", "fail": "#c62828", "none": "#9e9e9e"}
EXTRA = "pip install 'flux_magic[plot]'"


@functools.cache
def _figure_class(figure: Any) -> Any:
    """A matplotlib Figure that Jupyter shows as a PNG without pyplot or a backend set up."""

    class OutcomeFigure(figure):  # type: ignore[misc]
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=96)
            return buffer.getvalue()

    return OutcomeFigure


def plot_outcomes(result: pd.DataFrame, *, title: str = "") -> Any:
    """The outcome of a send as a matplotlib Figure of three panels.

    Outcome classes as bars (2xx, 4xx, 5xx, no answer by reason, not sent), each row's
    ``_elapsed`` in row order with failures marked, and a histogram of ``_elapsed``.

    Parameters
    ----------
    result : pandas.DataFrame
        The result of a send (``_status``, ``_sent``, ``_error``, ``_elapsed``).
    title : str
        A title over the three panels.

    Returns
    -------
    matplotlib.figure.Figure
        Displayed inline by Jupyter; ``fig.savefig("outcome.png")`` saves it.

    Raises
    ------
    ImportError
        Without matplotlib, naming the extra to install.

    Examples
    --------
    >>> fig = flux_magic.plot_outcomes(result)  # doctest: +SKIP
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            f"plot_outcomes draws with matplotlib, which is not installed: {EXTRA}"
        ) from None
    missing = [c for c in ("_status", "_sent", "_error", "_elapsed") if c not in result]
    if missing:
        raise UsageError(
            f"plot_outcomes needs the result of a send; this DataFrame has no "
            f"{', '.join(missing)} column(s)."
        )
    summary = summarize(result)
    fig = _figure_class(Figure)(figsize=(12, 3.6), layout="constrained")
    bars, timeline, histogram = fig.subplots(1, 3, width_ratios=[1.1, 1.6, 1])

    labels = [o.label for o in summary.outcomes]
    counts = [o.rows for o in summary.outcomes]
    colors = [_TONES[o.tone] for o in summary.outcomes]
    positions = np.arange(len(labels))
    bars.barh(positions, counts, color=colors)
    bars.set_yticks(positions, labels)
    bars.invert_yaxis()
    for y, n in zip(positions, counts, strict=True):
        bars.annotate(f"{n:,}", (n, y), xytext=(3, 0), textcoords="offset points", va="center")
    bars.margins(x=0.15)
    bars.set_xlabel("rows")
    bars.set_title("outcome by class")

    elapsed = result["_elapsed"].to_numpy(dtype=float)
    order = np.arange(len(result))
    sent = (result["_sent"] == "true").to_numpy()
    tried = ~np.isnan(elapsed)
    timeline.plot(order[sent & tried], elapsed[sent & tried], ".", color=_TONES["ok"], label="sent")
    failed = ~sent & tried
    if failed.any():
        timeline.plot(
            order[failed], elapsed[failed], "x", color=_TONES["fail"], label="not sent (failed)"
        )
    timeline.set_xlabel("row (in order)")
    timeline.set_ylabel("_elapsed (s)")
    timeline.set_title("seconds per row")
    timeline.legend(loc="upper right", fontsize="small")

    histogram.hist(elapsed[tried], bins=min(30, max(5, int(tried.sum() ** 0.5))), color="#1565c0")
    if summary.latency is not None:
        for value, name in zip(summary.latency, ("p50", "p95", "max"), strict=True):
            histogram.axvline(value, color="#555", linestyle=":", linewidth=1)
            histogram.annotate(name, (value, 1), xycoords=("data", "axes fraction"), fontsize=8)
    histogram.set_xlabel("_elapsed (s)")
    histogram.set_ylabel("rows")
    histogram.set_title("latency")
    fig.suptitle(title or summary.outcome_line(), fontsize="medium")
    return fig
