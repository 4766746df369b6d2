"""The critical-minerals atlas: the article's headline checked against USGS data.

* :mod:`~supplychain.minerals.atlas` — one row per mineral of the US lists
  (:func:`atlas`, also ``supplychain.atlas``);
* :mod:`~supplychain.minerals.headline` — fully / more-than-half import-reliant
  counts against USGS's and the article's claims;
* :mod:`~supplychain.minerals.chart` — the ranked chart;
* :mod:`~supplychain.minerals.render` — Markdown and HTML section for reports;
* :mod:`~supplychain.minerals.controls` — US shortfall and exposure per mineral
  under China's export controls, in both response modes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# atlas and headline name both a module and a function: bound here, the functions win
from supplychain.minerals.atlas import ATLAS_COLUMNS, SORT_KEYS, atlas, bundled_release, sort_atlas
from supplychain.minerals.headline import Headline, headline, headline_lines

if TYPE_CHECKING:
    from supplychain.minerals.controls import controls_section, controls_summary, controls_table
    from supplychain.minerals.render import atlas_html, atlas_markdown, display_table

_LAZY = {
    **dict.fromkeys(("controls_section", "controls_summary", "controls_table"), "controls"),
    **dict.fromkeys(("atlas_html", "atlas_markdown", "display_table"), "render"),
}
"""Names imported on first use: the controls table and the renderer import the chart's matplotlib
(~0.5 s), which the atlas's rows do not need."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"supplychain.minerals.{_LAZY[name]}"), name)
    msg = f"module 'supplychain.minerals' has no attribute {name!r}"
    raise AttributeError(msg)

__all__ = [
    "ATLAS_COLUMNS",
    "SORT_KEYS",
    "Headline",
    "atlas",
    "atlas_html",
    "atlas_markdown",
    "bundled_release",
    "controls_section",
    "controls_summary",
    "controls_table",
    "display_table",
    "headline",
    "headline_lines",
    "sort_atlas",
]
