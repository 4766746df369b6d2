"""Importer of the USGS Mineral Commodity Summaries 2025 data release.

Pipeline, one module per step::

    table (CSV quirks) + cells (W/NA/E/bounds) + names (typos, footnotes, ISO codes)
        --> release (the files as records)  --catalogue-->  figures (per commodity)
        --> fragments (YAML)  --> run (write the folder atomically)

Public entry points: :func:`import_usgs_mcs` (``supplychain import usgs-mcs``),
:func:`read_release`, :func:`load_catalogue` and the figure readers used by
:mod:`supplychain.minerals` (the atlas).
"""

from supplychain.importers.usgs_mcs.catalogue import Catalogue, CommoditySpec, Mineral, load_catalogue
from supplychain.importers.usgs_mcs.figures import (
    Figure,
    ImportSources,
    USFigures,
    WorldFigures,
    computed_nir,
    import_sources,
    ranked_split,
    us_figures,
    world_figures,
)
from supplychain.importers.usgs_mcs.release import Release, read_release
from supplychain.importers.usgs_mcs.run import ImportResult, import_usgs_mcs

__all__ = [
    "Catalogue",
    "CommoditySpec",
    "Figure",
    "ImportResult",
    "ImportSources",
    "Mineral",
    "Release",
    "USFigures",
    "WorldFigures",
    "computed_nir",
    "import_sources",
    "import_usgs_mcs",
    "load_catalogue",
    "ranked_split",
    "read_release",
    "us_figures",
    "world_figures",
]
