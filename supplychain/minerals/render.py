"""The atlas as a report section: a display table, Markdown and an HTML fragment.

:func:`display_table` turns an :func:`~supplychain.minerals.atlas.atlas` into the
table people read (percentages as text, assumed shares starred);
:func:`atlas_markdown` and :func:`atlas_html` wrap it with the headline lines
(:func:`~supplychain.minerals.headline.headline_lines`) and, in HTML, the ranked
chart as inline SVG — a self-contained ``<section>`` the report can drop in.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from supplychain.importers.usgs_mcs.figures import ASSUMED_SPLIT
from supplychain.minerals.chart import ranked_chart
from supplychain.minerals.headline import Headline, headline, headline_lines
from supplychain.report.charts import figure_svg
from supplychain.report.markdown import md_table

__all__ = ["DISPLAY_COLUMNS", "TITLE", "atlas_html", "atlas_markdown", "controls_display", "display_table"]

TITLE = "Critical minerals: US import reliance and China (USGS MCS 2025)"
"""Heading of the section."""

DISPLAY_COLUMNS = ("mineral", "list", "NIR recomputed", "NIR published", "China % of world output",
                   "China's rank in US imports", "traced China share", "note")
"""Columns of :func:`display_table`."""

_FOOTNOTES = (
    "NIR: US net import reliance 2024, (imports − exports ± stock change) / apparent consumption; recomputed from "
    "the salient figures, published as printed by USGS (T5, else Fig2, else the salient file); E = net exporter.",
    "China's rank: place among the US's major import sources 2020–23 (Fig2, descending share); in brackets the "
    "share the scenarios use — * marks a RANKED-SOURCE SPLIT assumed from the ranked list (no percentages "
    "published), otherwise the chapter's printed percentage.",
    "Traced China share: the share of US supply that was mined or processed in China, traced through the "
    "scenario's chain (one stage for most minerals; * = built on the assumed ranked split).",
)


def _pct(x: float) -> str:
    """Percent with one decimal; exactly 0 and 1 without (``0%``, ``100%``), NaN as ``—``."""
    if math.isnan(x):
        return "—"
    return f"{x:.0%}" if x in (0.0, 1.0) else f"{x:.1%}"


def display_table(frame: pd.DataFrame, *, collapse: bool = True) -> pd.DataFrame:
    """Return the table people read: percentages as text, assumptions starred.

    Parameters
    ----------
    frame : DataFrame
        An atlas.
    collapse : bool
        Show the 14 lanthanides as one row (they share one USGS aggregate).

    Returns
    -------
    DataFrame
        :data:`DISPLAY_COLUMNS`, in the atlas's order.
    """
    rows = []
    seen: set[str] = set()
    for r in frame.to_dict("records"):
        name = str(r["name"])
        if collapse and r["usgs_commodity"] == "rare_earths":
            if "rare_earths" in seen:
                continue
            seen.add("rare_earths")
            name = "Rare earths (14 lanthanides)"
        nir, note = float(r["nir_computed"]), str(r["nir_computed_note"])
        computed = _pct(nir) if not math.isnan(nir) else ("E" if note == "E" else "—")
        rank = "—" if pd.isna(r["china_import_rank"]) else str(int(r["china_import_rank"]))
        if rank != "—":
            star = "*" if str(r["china_import_share_basis"]).startswith("assumption") else ""
            rank += f" ({_pct(float(r['china_import_share']))}{star})"
        traced = _pct(float(r["traced_share"]))
        if traced != "—" and ASSUMED_SPLIT in str(r["traced_from"]):
            traced += "*"
        rows.append([name, r["list"], computed, r["nir_published"], _pct(float(r["china_world_share"])), rank,
                     traced, note if math.isnan(nir) and note != "E" else ""])
    return pd.DataFrame(rows, columns=list(DISPLAY_COLUMNS))


def controls_display(summary: pd.DataFrame) -> pd.DataFrame:
    """Return a :func:`~supplychain.minerals.controls.controls_summary` as text, minerals with a shortfall first.

    Returns
    -------
    DataFrame
        ``mineral``, shortfall share and traced China share in the ``fixed`` and
        ``rebalance`` modes.
    """
    cols = {"shortfall_share_fixed": "US shortfall, fixed", "shortfall_share_rebalance": "US shortfall, rebalance",
            "traced_share_fixed": "traced China share, fixed",
            "traced_share_rebalance": "traced China share, rebalance"}
    out = pd.DataFrame({"mineral": summary["commodity"]})
    for col, title in cols.items():
        out[title] = summary[col].map(lambda v: _pct(float(v))) if col in summary.columns else "—"
    return out


def _controls_md(controls: tuple[str, pd.DataFrame] | None) -> list[str]:
    if controls is None:
        return []
    caption, summary = controls
    table = controls_display(summary)
    return ["", f"**{caption}**", "", md_table(list(table.columns), table.astype(str).values.tolist())]


def atlas_markdown(frame: pd.DataFrame, h: Headline | None = None, *, level: int = 2,
                   controls: tuple[str, pd.DataFrame] | None = None) -> str:
    """Render the atlas as a Markdown section (heading, headline lines, table, footnotes).

    Parameters
    ----------
    frame : DataFrame
        An atlas.
    h : Headline, optional
        Its headline (computed when not given).
    level : int
        Heading level.
    controls : (str, DataFrame), optional
        A caption and a :func:`~supplychain.minerals.controls.controls_summary`, shown after the table.
    """
    h = h if h is not None else headline(frame)
    table = display_table(frame)
    parts = [f"{'#' * level} {TITLE}", "", *(f"- {line}" for line in headline_lines(h)), "",
             md_table(list(table.columns), table.astype(str).values.tolist()), "",
             *(f"_{note}_" for note in _FOOTNOTES), *_controls_md(controls)]
    return "\n".join(parts) + "\n"


def _html_table(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                     for row in table.itertuples(index=False))
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def atlas_html(frame: pd.DataFrame, h: Headline | None = None, *, chart: bool = True, level: int = 2,
               controls: tuple[str, pd.DataFrame] | None = None) -> str:
    """Render the atlas as a self-contained HTML ``<section>`` (inline SVG chart, no external resources).

    Parameters are those of :func:`atlas_markdown`, and ``chart`` (include the ranked chart).
    """
    h = h if h is not None else headline(frame)
    svg = figure_svg(ranked_chart(frame)) if chart else ""
    svg = svg[svg.find("<svg"):] if svg else ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in headline_lines(h))
    notes = "".join(f"<p class=\"note\">{html.escape(n)}</p>" for n in _FOOTNOTES)
    extra = ""
    if controls is not None:
        heading = f"<h{level + 1}>{html.escape(controls[0])}</h{level + 1}>"
        extra = f"{heading}\n{_html_table(controls_display(controls[1]))}\n"
    return (f'<section class="atlas">\n<h{level}>{html.escape(TITLE)}</h{level}>\n<ul>{items}</ul>\n'
            f'<figure class="chart">{svg}</figure>\n{_html_table(display_table(frame))}\n{notes}\n{extra}</section>\n')
