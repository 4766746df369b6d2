"""Measures of exposure as pure functions and one tidy table.

* :func:`compute_measures` — every measure of a scenario in a year
  (:mod:`~supplychain.metrics.measures`);
* :mod:`~supplychain.metrics.trade` — direct import share, NIR;
* :mod:`~supplychain.metrics.concentration` — HHI, top-k shares;
* :mod:`~supplychain.metrics.risk` — JRC supply risk.
"""

from __future__ import annotations

from supplychain.metrics.measures import (
    MEASURE_COLUMNS,
    compute_measures,
    measures_from_tables,
    origin_by_node,
    resolve_source,
    traced_share_by_node,
)
from supplychain.metrics.risk import hhi_wgi, jrc_supply_risk
from supplychain.metrics.trade import net_import_reliance, trade_summary

__all__ = [
    "MEASURE_COLUMNS",
    "compute_measures",
    "hhi_wgi",
    "jrc_supply_risk",
    "measures_from_tables",
    "net_import_reliance",
    "origin_by_node",
    "resolve_source",
    "traced_share_by_node",
    "trade_summary",
]
