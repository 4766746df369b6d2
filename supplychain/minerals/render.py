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
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from supplychain.minerals.atlas import RARE_EARTHS, china_listed, commodity_names, display_name, stage_text
from supplychain.minerals.chart import ranked_chart
from supplychain.minerals.headline import Headline, headline, headline_lines
from supplychain.report.charts import figure_svg
from supplychain.report.markdown import md_table
from supplychain.report.numbers import ASSUMED_MARK, ASSUMED_NOTE, assumed_percent
from supplychain.schema.assumptions import ASSUMED_SPLIT

__all__ = ["DISPLAY_COLUMNS", "NOT_LISTED", "TITLE", "atlas_html", "atlas_markdown", "controls_display",
           "display_notes", "display_table", "nir_text"]

TITLE = "Critical minerals: US import reliance and China (USGS MCS 2025)"
"""Heading of the section."""

TRACED = "traced China share"
DISPLAY_COLUMNS = ("mineral", "list", "NIR recomputed", "NIR published", "China % of world (stage)",
                   "China's rank in US imports", TRACED, "note")
"""Columns of :func:`display_table` (``traced China share`` only when a scenario filled it)."""

NOT_LISTED = "n/l"
"""Shown for China's world share where USGS's world table has no row for China."""

_NIR_NOTE = ("NIR: US net import reliance 2024, (imports − exports ± stock change) / apparent consumption; "
             "recomputed from the salient figures, published as printed by USGS (T5, else Fig2, else the salient "
             "file); E = net exporter.")
_ESTIMATE_NOTE = ("≈ … †: US production withheld (W) or not available (NA), so the recomputation is (imports − "
                  "exports) / apparent consumption with the unknown stock change taken as 0 — an estimate, shown "
                  "to the whole percent; the published value is USGS's.")
_WORLD_NOTE = ("China % of world (stage): China's 2024 row over USGS's world total as published (rounded; it "
               "covers countries whose rows are blank or withheld), of the production stage in brackets — mine, "
               "refinery, smelter, plant, sponge or primary metal, often not the stage of the US figures; ex-US: "
               "USGS's world total leaves the US out.")
_NOT_LISTED_NOTE = (f"{NOT_LISTED}: not listed — USGS's world table has no row for China (any Chinese output is "
                    "inside 'Other countries'); not a 0 % share.")
_RANK_NOTE = ("China's rank: place among the US's major import sources 2020–23 (Fig2, descending share); in "
              "brackets the share the scenarios use — * marks a RANKED-SOURCE SPLIT assumed from the ranked list "
              "(no percentages published), otherwise the chapter's printed percentage.")
_TRACED_NOTE = ("Traced China share: the share of US supply that was mined or processed in China, traced through "
                "the scenario's chain (one stage for most minerals; * = built on the assumed ranked split).")
_NO_TRACED_NOTE = ("The traced China share needs a scenario that models the minerals (--scenario FILE, or "
                   "atlas(scenarios=...)); none given models them, so the column is left out.")


def _pct(x: float) -> str:
    """Percent with one decimal; exactly 0 and 1 without (``0%``, ``100%``), NaN as ``—``."""
    if math.isnan(x):
        return "—"
    return f"{x:.0%}" if x in (0.0, 1.0) else f"{x:.1%}"


def nir_text(value: float, note: str, estimate: bool) -> str:
    """Show a recomputed NIR: ``85.4%``, ``E``, ``—``, or ``≈100%†`` for an estimate.

    Examples
    --------
    >>> nir_text(0.8537, "(C - P) / C", False), nir_text(0.99775, "(I - E) / C ...", True)
    ('85.4%', '≈100%†')
    >>> nir_text(math.nan, "E", False), nir_text(math.nan, "consumption withheld (W)", False)
    ('E', '—')
    """
    if math.isnan(value):
        return "E" if note == "E" else "—"
    return f"≈{value:.0%}†" if estimate else _pct(value)


def _has_traced(frame: pd.DataFrame) -> bool:
    return bool(frame["traced_from"].ne("").any())


def display_notes(frame: pd.DataFrame) -> list[str]:
    """Return the footnotes of :func:`display_table` for an atlas: only those its marks need."""
    notes = [_NIR_NOTE]
    if frame["nir_computed_estimate"].astype(bool).any():
        notes.append(_ESTIMATE_NOTE)
    notes.append(_WORLD_NOTE)
    if frame["china_listed"].eq(False).any():
        notes.append(_NOT_LISTED_NOTE)
    notes += _measured_as(frame)
    notes += [_RANK_NOTE, _TRACED_NOTE if _has_traced(frame) else _NO_TRACED_NOTE]
    return notes


def _measured_as(frame: pd.DataFrame) -> list[str]:
    """Footnotes for list minerals that USGS measures as another commodity (aluminum as bauxite)."""
    return [f"{shown}: the list's {r['name']} is measured as {r['usgs_name']}, as in USGS's critical-minerals "
            f"table (T5); {r['china_world_note']}."
            for r in frame.to_dict("records")
            if (shown := display_name(str(r["mineral"]), str(r["name"]), str(r["usgs_commodity"]))) != r["name"]]


def _china_cell(r: Mapping[Any, Any]) -> str:
    """China's world share with its stage: ``44.4% (refinery)``, ``17.1% (mine, ex-US)``, ``n/l (mine)``, ``—``."""
    share = _pct(float(r["china_world_share"])) if china_listed(r) else NOT_LISTED
    stage = stage_text(r)
    return f"{share} ({stage})" if stage else share


def display_table(frame: pd.DataFrame, *, collapse: bool = True) -> pd.DataFrame:
    """Return the table people read: percentages as text, assumptions starred, estimates marked.

    Parameters
    ----------
    frame : DataFrame
        An atlas.
    collapse : bool
        Show the 14 lanthanides as one row (they share one USGS aggregate).

    Returns
    -------
    DataFrame
        :data:`DISPLAY_COLUMNS`, in the atlas's order; without ``traced China share``
        when no scenario filled it. China's world share is :data:`NOT_LISTED` where
        USGS lists no row for China; a recomputed NIR that rests on a stock change
        taken as 0 is shown as ``≈`` whole percent with ``†`` (:func:`nir_text`).
    """
    rows = []
    seen: set[str] = set()
    for r in frame.to_dict("records"):
        name = display_name(str(r["mineral"]), str(r["name"]), str(r["usgs_commodity"]))
        if collapse and r["usgs_commodity"] == "rare_earths":
            if "rare_earths" in seen:
                continue
            seen.add("rare_earths")
            name = RARE_EARTHS
        computed = nir_text(float(r["nir_computed"]), str(r["nir_computed_note"]), bool(r["nir_computed_estimate"]))
        rank = "—" if pd.isna(r["china_import_rank"]) else str(int(r["china_import_rank"]))
        if rank != "—":
            star = "*" if str(r["china_import_share_basis"]).startswith("assumption") else ""
            rank += f" ({_pct(float(r['china_import_share']))}{star})"
        traced = _pct(float(r["traced_share"]))
        if traced != "—" and ASSUMED_SPLIT in str(r["traced_from"]):
            traced += "*"
        why = str(r["nir_computed_note"])
        rows.append([name, r["list"], computed, r["nir_published"], _china_cell(r), rank, traced,
                     why if math.isnan(float(r["nir_computed"])) and why != "E" else ""])
    table = pd.DataFrame(rows, columns=list(DISPLAY_COLUMNS))
    return table if _has_traced(frame) else table.drop(columns=[TRACED])


def controls_display(summary: pd.DataFrame) -> pd.DataFrame:
    """Return a :func:`~supplychain.minerals.controls.controls_summary` as text, minerals with a shortfall first.

    Returns
    -------
    DataFrame
        ``mineral`` (named as in the atlas, :func:`~supplychain.minerals.atlas.commodity_names`;
        a commodity outside the catalogue keeps its id), shortfall share and traced
        China share in the ``fixed`` and ``rebalance`` modes (a traced share built on a
        ranked-source split to the whole percent, starred: :func:`~supplychain.report.numbers.assumed_percent`,
        ``>99%*`` for 0.996 as ``run`` and the report read it); a not-evaluated mineral
        (a policy covers it, the US has no demand of it) reads "not evaluated" in both
        shortfall columns and its reason in a last ``note`` column (only when there is one).
    """
    cols = {"shortfall_share_fixed": "US shortfall, fixed", "shortfall_share_rebalance": "US shortfall, rebalance",
            "traced_share_fixed": "traced China share, fixed",
            "traced_share_rebalance": "traced China share, rebalance"}
    names = commodity_names()
    out = pd.DataFrame({"mineral": [names.get(str(c), str(c)) for c in summary["commodity"]]})
    notes = summary["note"].fillna("").astype(str) if "note" in summary.columns else pd.Series("", index=summary.index)
    assumed = (summary["assumed_split"].fillna(False).astype(bool) if "assumed_split" in summary.columns
               else pd.Series(False, index=summary.index))
    for col, title in cols.items():
        shown = (summary[col].map(lambda v: _pct(float(v))) if col in summary.columns
                 else pd.Series("—", index=summary.index))
        if col.startswith("traced_share") and col in summary.columns:
            # built on a ranked-source split: whole percent and starred, as run and the report read it
            starred = summary[col].map(lambda v: assumed_percent(v) if not math.isnan(float(v)) else "—")
            shown = shown.where(~assumed, starred)
        if col.startswith("shortfall_share"):
            shown = shown.where(notes.eq(""), notes.str.split(":").str[0])  # "not evaluated"
        out[title] = shown.to_numpy()
    if notes.ne("").any():
        out["note"] = notes.to_numpy()
    return out


def _controls_md(controls: tuple[str, pd.DataFrame] | None) -> list[str]:
    if controls is None:
        return []
    caption, summary = controls
    table = controls_display(summary)
    return ["", f"**{caption}**", "", md_table(list(table.columns), table.astype(str).values.tolist()),
            *(["", f"_{CONTROLS_STAR_NOTE}_"] if starred(table) else [])]


CONTROLS_STAR_NOTE: Final = f"{ASSUMED_MARK} {ASSUMED_NOTE}."
"""Footnote of a controls table with a starred traced share: the one note of every output."""


def starred(table: pd.DataFrame) -> bool:
    """Tell whether a :func:`controls_display` table has a starred share (``"75%*"``), for its footnote.

    Only a share ends in ``%*``: a note or a mineral's name ending in ``*`` does not count.

    Examples
    --------
    >>> starred(pd.DataFrame({"a": ["75%*", "3.2%"]})), starred(pd.DataFrame({"note": ["see *"]}))
    (True, False)
    """
    return bool(table.astype(str).apply(lambda c: c.str.endswith(f"%{ASSUMED_MARK}")).to_numpy().any())


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
             *(f"_{note}_" for note in display_notes(frame)), *_controls_md(controls)]
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
    notes = "".join(f"<p class=\"note\">{html.escape(n)}</p>" for n in display_notes(frame))
    extra = ""
    if controls is not None:
        heading = f"<h{level + 1}>{html.escape(controls[0])}</h{level + 1}>"
        shown = controls_display(controls[1])
        star = f'<p class="note">{html.escape(CONTROLS_STAR_NOTE)}</p>\n' if starred(shown) else ""
        extra = f"{heading}\n{_html_table(shown)}\n{star}"
    return (f'<section class="atlas">\n<h{level}>{html.escape(TITLE)}</h{level}>\n<ul>{items}</ul>\n'
            f'<figure class="chart">{svg}</figure>\n{_html_table(display_table(frame))}\n{notes}\n{extra}</section>\n')
