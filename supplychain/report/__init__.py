"""Reports people would rather look at: network pictures, charts, an HTML page, Markdown.

=========================================  ===============================================
module                                     what it does
=========================================  ===============================================
:mod:`supplychain.report.dot`              :func:`to_dot` (Graphviz picture of one year's
                                           network, coloured by traced China share; diff
                                           view of a variant against the baseline) and
                                           :func:`render`/``render_bytes``
                                           (``.svg``/``.png``/``.dot``)
:mod:`supplychain.report.dot_style`        colour scale, flow line styles, formats of
                                           tonnes, shares and changes, display names
:mod:`supplychain.report.chain`            the part of a network that ends in one
                                           country's use of one commodity
:mod:`supplychain.report.graph_tables`     node and edge tables for :func:`to_dot`:
                                           normalised, baseline joined, one chain kept
:mod:`supplychain.report.fold`             folding plants into country pools and small
                                           flows into "Other"; values of folded nodes
:mod:`supplychain.report.layout`           stage bands (left to right) and columns
:mod:`supplychain.report.labels`           node and flow labels, tooltips, key, heading
:mod:`supplychain.report.escape`           escaping of user text for DOT and HTML-like
                                           labels
:mod:`supplychain.report.charts`           matplotlib charts: China share by year with
                                           the target, shortfall, capacity additions
:mod:`supplychain.report.runs`             :func:`run_scenario`, :func:`run_all` (several,
                                           on worker processes), :class:`ScenarioRun`
                                           (what one report section is about)
:mod:`supplychain.report.tables`           the report's tables: headline measures,
                                           target verdicts, shortfall, toggles
:mod:`supplychain.report.answers`          the one-screen answer per focus country
:mod:`supplychain.report.figures`          the report's network pictures and charts
:mod:`supplychain.report.inline_svg`       SVG pictures inlined into the page (ids
                                           prefixed, sized to the page, checked)
:mod:`supplychain.report.svg_minify`       the same SVG drawing in fewer bytes (ids,
                                           numbers, styles, whitespace written shorter)
:mod:`supplychain.report.html`             :func:`write_report` (self-contained
                                           ``index.html``, CSV tables, images) and its
                                           templates
:mod:`supplychain.report.markdown`         ``summary.md`` for pasting into documents
:mod:`supplychain.report.workbook`         ``tables.xlsx`` (a sheet per focus country,
                                           shortfall and flows as Excel tables) and the
                                           trimmed ``measures.csv``
:mod:`supplychain.report.numbers`          the one number format of every table (CLI,
                                           report, Markdown, notebooks)
:mod:`supplychain.report.notebook`         notebook displays: ``Result``, ``Scenario``,
                                           ``Result.draw`` pictures
:mod:`supplychain.report.published`        the published figures (USGS MCS 2025 unless
                                           stated) the bundled world must reproduce, as
                                           data (:data:`PUBLISHED_CHECKS`)
:mod:`supplychain.report.scenario_results` the "Results" tables of
                                           ``scenarios/README.md``: published vs
                                           computed, and every scenario's outcomes
=========================================  ===============================================

The names below are imported on first use, so ``import supplychain.report`` is cheap.

Examples
--------
>>> from supplychain.report import to_dot
>>> callable(to_dot)
True
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ScenarioRun",
    "render",
    "run_all",
    "run_scenario",
    "to_dot",
    "write_report",
]

_WHERE = {
    "ScenarioRun": "supplychain.report.runs",
    "render": "supplychain.report.dot",
    "run_all": "supplychain.report.runs",
    "run_scenario": "supplychain.report.runs",
    "to_dot": "supplychain.report.dot",
    "write_report": "supplychain.report.html",
}


def __getattr__(name: str) -> Any:
    """Import the public names lazily (PEP 562)."""
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    msg = f"module 'supplychain.report' has no attribute {name!r}"
    raise AttributeError(msg)
