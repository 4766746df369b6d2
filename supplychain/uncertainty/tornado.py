"""Tornado charts: what moves a measure, input by input (from a one-at-a-time ranking)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from supplychain.io.atomic import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["tornado_chart"]


def tornado_chart(
    ranking: pd.DataFrame,
    path: str | Path | None = None,
    *,
    top: int = 15,
    title: str | None = None,
) -> Figure:
    """Draw a tornado chart from a ranking table.

    Each input is a horizontal bar from the measure at the input's low value to
    the measure at its high value, split at the central value; the largest
    swing is on top. The Agg backend is used (no display needed).

    Parameters
    ----------
    ranking : pandas.DataFrame
        Output of :meth:`OATResult.ranking`.
    path : str or Path, optional
        File to save (format from the suffix: ``.svg``, ``.png``, ``.pdf``).
    top : int
        Number of inputs shown.
    title : str, optional
        Chart title (default: the measure's description).

    Returns
    -------
    matplotlib.figure.Figure
        The chart (not attached to pyplot, so it is not shown twice in notebooks).

    Raises
    ------
    ValueError
        If ``path`` has an unsupported suffix.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if path is not None and Path(path).suffix.lower() not in (".svg", ".png", ".pdf"):
        msg = f"cannot save a chart as {Path(path).name!r}: use .svg, .png or .pdf"
        raise ValueError(msg)
    moving = ranking[ranking["swing"].fillna(0.0) > 0.0]
    hidden = len(ranking) - len(moving)
    data = moving.head(top).iloc[::-1]
    measure = ranking.attrs.get("measure", {})
    central = float(ranking["value_central"].iloc[0]) if len(ranking) else 0.0
    height = 1.6 + 0.38 * max(len(data), 1)
    fig = Figure(figsize=(8.5, height), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = np.arange(len(data))
    low_colour, high_colour = "#4C78A8", "#F58518"
    ax.barh(y, data["value_low"] - central, left=central, color=low_colour, height=0.6)
    ax.barh(y, data["value_high"] - central, left=central, color=high_colour, height=0.6)
    for yi, row in zip(y, data.to_dict("records"), strict=True):
        for val, inp in ((float(row["value_low"]), row["input_low"]), (float(row["value_high"]), row["input_high"])):
            if not np.isfinite(val) or val == central:
                continue
            text = ("on" if inp else "off") if row["kind"] == "toggle" else f"{float(inp):,.4g}"
            ha = "left" if val > central else "right"
            ax.annotate(text, (val, yi), xytext=(3 if ha == "left" else -3, 0), textcoords="offset points",
                        ha=ha, va="center", fontsize=7, color="#333333")  # fmt: skip
    ax.axvline(central, color="black", linewidth=0.8)
    ax.set_yticks(y, [_short(str(p)) for p in data["parameter"]], fontsize=8)
    metric = measure.get("metric", "measure")
    what = " ".join(str(measure[k]) for k in ("country", "commodity", "year") if measure.get(k) not in (None, ""))
    unit = measure.get("unit", "")
    note = f"; {hidden} input{'s' if hidden != 1 else ''} with no effect not shown" if hidden else ""
    ax.set_xlabel(f"{metric}{f' [{unit}]' if unit else ''} (central {central:.4g}){note}", fontsize=8)
    fig.suptitle(title or f"What moves {metric} {what}".strip(), fontsize=10)
    fig.legend(
        handles=[Patch(color=low_colour, label="input at low"), Patch(color=high_colour, label="input at high")],
        fontsize=8,
        loc="outside lower center",
        ncols=2,
    )
    ax.margins(x=0.15)
    if path is not None:
        fmt = Path(path).suffix.lstrip(".").lower() or None
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt))
    return fig


def _short(name: str, width: int = 48) -> str:
    """Shorten a key path for a chart label: the start elided, the end kept."""
    if len(name) <= width:
        return name
    return "…" + name[-(width - 1) :]
