"""The supply graph of one year: node and edge tables, allocation, mass balance, networkx view.

* :func:`build_tables` — node and edge tables of a scenario in a year
  (:mod:`~supplychain.graph.build`), with baseline flows closed by the documented
  allocation rules (:mod:`~supplychain.graph.allocate`) and checked for mass
  balance (:mod:`~supplychain.graph.balance`); after the base year, spare capacity of
  country aggregates meets what the paths leave short (:func:`meet_deficits`,
  :mod:`~supplychain.graph.spare`);
* :func:`to_networkx` — a ``networkx.MultiDiGraph`` view for users and reports
  (:mod:`~supplychain.graph.nxview`).

networkx is imported only when the view is asked for.
"""

from __future__ import annotations

from supplychain.graph.allocate import allocate, demand_table, stock_table
from supplychain.graph.balance import balance_problems, market_balance
from supplychain.graph.build import (
    EDGE_COLUMNS,
    NODE_COLUMNS,
    FacilityYear,
    build_tables,
    capacity_in_year,
    demand_in_year,
    facility_year,
    market_id,
    node_kind,
    stock_id,
    surplus_id,
    use_id,
)
from supplychain.graph.nxview import to_networkx
from supplychain.graph.spare import meet_deficits

__all__ = [
    "EDGE_COLUMNS",
    "NODE_COLUMNS",
    "FacilityYear",
    "allocate",
    "balance_problems",
    "build_tables",
    "capacity_in_year",
    "demand_in_year",
    "demand_table",
    "facility_year",
    "market_balance",
    "market_id",
    "meet_deficits",
    "node_kind",
    "stock_id",
    "stock_table",
    "surplus_id",
    "to_networkx",
    "use_id",
]
