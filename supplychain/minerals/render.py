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

from supplychain.minerals.chart import ranked_chart
from supplychain.minerals.headline import Headline, headline, headline_lines
from supplychain.report.charts import figure_svg
from supplychain.report.markdown import md_table

__all__ = ["DISPLAY_COLUMNS", "TITLE", "atlas_html", "atlas_markdown", "display_table"]

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
    return "—" if math.isnan(x) else f"{x:.0%}" if round(x * 100) in (0, 100) else f"{x:.1%}"


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
        if traced != "—" and "RANKED-SOURCE SPLIT" in str(r["traced_from"]):
            traced += "*"
        rows.append([name, r["list"], computed, r["nir_published"], _pct(float(r["china_world_share"])), rank,
                     traced, note if math.isnan(nir) and note != "E" else ""])
    return pd.DataFrame(rows, columns=list(DISPLAY_COLUMNS))


def atlas_markdown(frame: pd.DataFrame, h: Headline | None = None, *, level: int = 2) -> str:
    """Render the atlas as a Markdown section (heading, headline lines, table, footnotes)."""
    h = h if h is not None else headline(frame)
    table = display_table(frame)
    parts = [f"{'#' * level} {TITLE}", "", *(f"- {line}" for line in headline_lines(h)), "",
             md_table(list(table.columns), table.astype(str).values.tolist()), "",
             *(f"_{note}_" for note in _FOOTNOTES)]
    return "\n".join(parts) + "\n"


def atlas_html(frame: pd.DataFrame, h: Headline | None = None, *, chart: bool = True, level: int = 2) -> str:
    """Render the atlas as a self-contained HTML ``<section>`` (inline SVG chart, no external resources)."""
    h = h if h is not None else headline(frame)
    table = display_table(frame)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                     for row in table.itertuples(index=False))
    svg = figure_svg(ranked_chart(frame)) if chart else ""
    svg = svg[svg.find("<svg"):] if svg else ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in headline_lines(h))
    notes = "".join(f"<p class=\"note\">{html.escape(n)}</p>" for n in _FOOTNOTES)
    return (f'<section class="atlas">\n<h{level}>{html.escape(TITLE)}</h{level}>\n<ul>{items}</ul>\n'
            f'<figure class="chart">{svg}</figure>\n'
            f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n{notes}\n</section>\n")
