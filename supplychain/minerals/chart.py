"""The ranked chart of the atlas: US net import reliance per mineral, China's share of world output beside it.

One bar per USGS commodity (the 14 lanthanides share the rare-earth bar), longest
first: the net import reliance recomputed from the salient figures, or — hatched —
the published value where the figures do not allow a recomputation (a bound such
as ``>75`` is drawn at its number). A black tick marks the published value, a red
dot China's share of world production; the stage that share is of (mine,
refinery, …) follows the mineral's name in brackets, ``n/l`` where USGS lists no
row for China (no dot: not a 0 % share), and ``†`` marks a recomputed value
that takes an unknown stock change as 0 (US production withheld). Built without
:mod:`matplotlib.pyplot`; written with :func:`supplychain.report.charts.save_figure` (SVG or PNG by suffix,
atomically, deterministic SVG).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from supplychain.minerals.atlas import RARE_EARTHS, china_listed, display_name, stage_text
from supplychain.report.charts import CHINA_COLOUR, save_figure

__all__ = ["chart_rows", "ranked_chart", "save_ranked_chart"]

_BAR = "#4d4d4d"


def chart_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per USGS commodity with a reliance to draw, longest bar first.

    Returns
    -------
    DataFrame
        ``label`` (the name, ``†`` for an estimate, and in brackets the stage of
        China's world share, ``n/l`` when China is not listed), ``commodity``,
        ``value`` (recomputed, else published), ``published`` (the published
        value or bound) and ``published_label`` (``>75``), ``recomputed`` (bool),
        ``estimate`` (bool), ``china`` (China's world share, NaN when not listed),
        ``traced``.
    """
    rows = []
    for cid, group in frame[frame["usgs_commodity"] != ""].groupby("usgs_commodity", sort=False):
        first = group.iloc[0]
        computed = float(first["nir_computed"])
        published = float(first["nir_published_value"])
        value = computed if not math.isnan(computed) else published
        if math.isnan(value):
            continue
        label = RARE_EARTHS if len(group) > 1 else display_name(str(first["mineral"]), str(first["name"]), str(cid))
        estimate = bool(first["nir_computed_estimate"])
        record = first.to_dict()
        stage = ", ".join(s for s in (stage_text(record), "" if china_listed(record) else "China n/l") if s)
        label += ("†" if estimate else "") + (f" [{stage}]" if stage else "")
        rows.append({"label": label, "commodity": cid, "value": value, "published": published,
                     "published_label": str(first["nir_published"]), "recomputed": not math.isnan(computed),
                     "estimate": estimate, "china": float(first["china_world_share"]),
                     "traced": float(first["traced_share"])})
    out = pd.DataFrame(rows, columns=["label", "commodity", "value", "published", "published_label", "recomputed",
                                      "estimate", "china", "traced"])
    return out.sort_values(["value", "label"], ascending=[False, True], kind="stable").reset_index(drop=True)


def ranked_chart(frame: pd.DataFrame,
                 title: str = "US net import reliance 2024\nand China's share of world production") -> Figure:
    """Build the ranked chart of an atlas (:func:`~supplychain.minerals.atlas.atlas`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    rows = chart_rows(frame)
    with mpl.rc_context({"font.size": 8, "font.family": "DejaVu Sans", "axes.titlesize": 10,
                         "axes.titleweight": "bold", "axes.titlelocation": "left", "svg.hashsalt": "supplychain",
                         "axes.spines.top": False, "axes.spines.right": False}):
        fig = Figure(figsize=(7.5, 1.2 + 0.2 * max(len(rows), 1)), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        ax.barh(y, rows["value"], color=[_BAR if r else "white" for r in rows["recomputed"]],
                edgecolor=_BAR, hatch=[None if r else "////" for r in rows["recomputed"]], height=0.7)
        ax.scatter(rows["published"], y, marker="|", s=90, color="black", zorder=3)
        for i, r in enumerate(rows.to_dict("records")):
            if not r["recomputed"]:
                ax.text(r["value"] - 0.01, i, r["published_label"], ha="right", va="center", fontsize=7,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        ax.scatter(rows["china"], y, marker="o", s=16, color=CHINA_COLOUR, zorder=4)
        ax.set_yticks(y, rows["label"])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.02)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.axvline(0.5, color="#bdbdbd", linewidth=0.8, zorder=0)
        ax.set_title(title)
        ax.legend(handles=[
            Patch(facecolor=_BAR, label="net import reliance, recomputed from salient figures"),
            Patch(facecolor="white", edgecolor=_BAR, hatch="////",
                  label="published only (figures withheld or missing)"),
            mpl.lines.Line2D([], [], marker="|", linestyle="", color="black", markersize=9, label="published"),
            mpl.lines.Line2D([], [], marker="o", linestyle="", color=CHINA_COLOUR, markersize=4,
                             label="China's share of world production\n"
                                   "[stage; ex-US: world total without the US; n/l: no row for China]"),
            mpl.lines.Line2D([], [], linestyle="",
                             label="† US production withheld or NA: stock change taken as 0 (estimate)"),
        ], loc="upper center", bbox_to_anchor=(0.35, -0.03), ncol=1, fontsize=7, frameon=False)
    return fig


def save_ranked_chart(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write :func:`ranked_chart` to ``path`` (``.svg`` or ``.png``), atomically.

    Raises
    ------
    ValueError
        A suffix other than ``.svg`` or ``.png``.
    """
    return save_figure(ranked_chart(frame), path)
