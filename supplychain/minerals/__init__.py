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

from supplychain.minerals.atlas import ATLAS_COLUMNS, SORT_KEYS, atlas, bundled_release, sort_atlas
from supplychain.minerals.controls import controls_section, controls_summary, controls_table
from supplychain.minerals.headline import Headline, headline, headline_lines
from supplychain.minerals.render import atlas_html, atlas_markdown, display_table

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
