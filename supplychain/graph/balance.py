"""Mass balance of the market nodes, with located problems.

Material is conserved at a market node ``"{country}:{commodity}"``: what flows in
(domestic output, imports, allocated supply, stock draws) flows out (exports,
facility inputs, final use, stock build). After the allocation rules of
:mod:`supplychain.graph.allocate` every market must balance within

    |inflow − outflow| ≤ 1e-6 · max(inflow, outflow) + 1e-6 t

(:func:`~supplychain.graph.allocate.tolerance`, the rule the allocation closes markets to).

A market that still does not balance means the scenario takes more of a material
out of a country than can come in — typically exports plus facility inputs above
production plus imports, with no stock to draw and no spare output anywhere in the
world to allocate. :func:`balance_problems` reports each such market as a
:class:`~supplychain.errors.Problem` located at the scenario entity that draws most
from it (``flows.<id>``, ``imports.<id>.partners.<code>``,
``facilities.<id>.production.<year>``, ``demand.<id>.tonnes`` …), with the market,
inflow, outflow and gap in the message and what to add in the hint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from supplychain.errors import KeyPath, Problem
from supplychain.graph.allocate import market_flow_sums, market_flows, tolerance
from supplychain.report.numbers import format_apart, format_number
from supplychain.schema.model import Scenario
from supplychain.schema.references import problem_at
from supplychain.schema.units import commodity_units

if TYPE_CHECKING:
    from supplychain.graph.build import FacilityYear

__all__ = ["balance_problems", "edge_path", "market_balance"]


def market_balance(edges: pd.DataFrame) -> pd.DataFrame:
    """Inflow, outflow and gap of every market node.

    Parameters
    ----------
    edges : DataFrame
        Edge table (contract columns).

    Returns
    -------
    DataFrame
        Indexed by market id: ``country``, ``commodity``, ``inflow``, ``outflow``,
        ``gap = inflow − outflow``, ``tolerance`` and ``balanced`` (bool).

    Examples
    --------
    >>> e = pd.DataFrame({"edge": ["a", "b"], "supplier": ["m", "AU:ore"], "buyer": ["AU:ore", "JP:ore"],
    ...                   "tonnes": [100.0, 150.0], "kind": ["supply", "trade"]})
    >>> print(market_balance(e)[["inflow", "outflow", "gap", "balanced"]].reset_index().to_string(index=False))
    market  inflow  outflow   gap  balanced
    AU:ore   100.0    150.0 -50.0     False
    JP:ore   150.0      0.0 150.0     False
    """
    mf = market_flows(edges)
    inflow, outflow = mf["inflow"].to_numpy(dtype=float), mf["outflow"].to_numpy(dtype=float)
    gap, tol = inflow - outflow, tolerance(inflow, outflow)
    return pd.DataFrame({"country": mf["country"], "commodity": mf["commodity"], "inflow": inflow,
                         "outflow": outflow, "gap": gap, "tolerance": tol,
                         "balanced": np.abs(gap) <= tol}, index=mf.index)


def edge_path(scenario: Scenario, edge: pd.Series, year: int,
              facilities: dict[str, FacilityYear] | None = None) -> KeyPath | None:
    """Key path of the scenario entity an edge came from, or ``None`` for derived edges.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "imports": {"us": {"importer": "US", "commodity": "c", "year": 2024, "total": 10,
    ...                        "partners": {"CN": 0.7}}}})
    >>> edge_path(s, pd.Series({"edge": "imports.us.CN", "entity": "imports.us"}), 2024)
    ('imports', 'us', 'partners', 'CN')
    >>> edge_path(s, pd.Series({"edge": "imports.us.ROW", "entity": "imports.us"}), 2024)
    ('imports', 'us', 'remainder_to')
    """
    entity = str(edge["entity"])
    section, _, ident = entity.partition(".")
    if not ident:
        return None
    if section == "flows":
        return ("flows", ident, "tonnes")
    if section == "imports":
        imp = scenario.imports.get(ident)
        partner = str(edge["edge"]).removeprefix(f"imports.{ident}.")
        if imp is not None and partner in imp.partners:
            return ("imports", ident, "partners", partner)
        if imp is not None and partner in imp.remainder_split:
            return ("imports", ident, "remainder_split", partner)
        return ("imports", ident, "remainder_to")
    if section == "facilities":
        if facilities is not None and ident in facilities:
            return facilities[ident].path
        f = scenario.facilities.get(ident)
        if f is not None and year in f.production:
            return ("facilities", ident, "production", year)
        return ("facilities", ident)
    if section == "demand":
        d = scenario.demand.get(ident)
        if d is not None and year in d.by_year:
            return ("demand", ident, "by_year", year)
        return ("demand", ident, "tonnes")
    return (section, ident)


_KIND_WORDS = {"supply": "domestic output", "trade": "trade", "input": "facility inputs", "use": "final use",
               "stock": "stock"}


def _breakdown(rows: pd.DataFrame, unit: str) -> str:
    if not len(rows):
        return "nothing"
    parts = []
    for kind, t in rows.groupby("kind", sort=True)["tonnes"].sum().items():
        parts.append(f"{_KIND_WORDS.get(str(kind), str(kind))} {format_number(t)} {unit}")
    return ", ".join(parts)


def balance_problems(
    scenario: Scenario,
    year: int,
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    facilities: dict[str, FacilityYear] | None = None,
) -> list[Problem]:
    """One located problem per market node out of balance.

    Parameters
    ----------
    scenario : Scenario
        The scenario the tables were built from (to locate problems).
    year : int
        The tables' year.
    nodes, edges : DataFrame
        Tables from :func:`~supplychain.graph.build.build_tables`.
    facilities : dict, optional
        Facility id -> :class:`~supplychain.graph.build.FacilityYear`, to point at
        the figure a facility's production came from.

    Returns
    -------
    list of Problem
        Empty when every market balances within the tolerance (module docstring).
        A market short of material is located at its largest outflow that comes
        from the scenario; a market with material left over at its largest inflow.
    """
    del nodes  # the balance is a property of the edges; kept for a stable signature
    markets, inflow, outflow, _ = market_flow_sums(edges)
    gaps = inflow - outflow
    problems: list[Problem] = []
    out_of_balance = np.flatnonzero(~(np.abs(gaps) <= tolerance(inflow, outflow))).tolist()
    if not out_of_balance:
        return problems
    units = commodity_units(scenario)
    for i in out_of_balance:
        market = markets[i]
        gap = float(gaps[i])
        short = gap < 0
        side = "supplier" if short else "buyer"
        touching = edges.loc[edges[side].eq(market)].sort_values(["tonnes", "edge"], ascending=[False, True])
        path: KeyPath | None = None
        culprit = ""
        for _, e in touching.iterrows():
            path = edge_path(scenario, e, year, facilities)
            if path is not None:
                culprit = f"{e['edge']} ({format_number(float(e['tonnes']))} {units.get(str(e['commodity']), 't')})"
                break
        inflow_rows = edges.loc[edges["buyer"].eq(market)]
        outflow_rows = edges.loc[edges["supplier"].eq(market)]
        country, commodity = market.split(":", 1)
        u = units.get(commodity, "t")
        shown_out, shown_in = format_apart(outflow[i], inflow[i])  # read different when they differ
        if short:
            msg = (f"market {market} is short in {year}: outflow {shown_out} {u} exceeds inflow "
                   f"{shown_in} {u} by {format_number(-gap)} {u} (in: {_breakdown(inflow_rows, u)}; "
                   f"out: {_breakdown(outflow_rows, u)}); no spare production of {commodity} anywhere "
                   f"and no stock to draw covers it")
            hint = (f"add supply of {commodity} to {country}: a facility producing it, a `flows` or `imports` "
                    f"entry into {country}, or a `stockpiles` entry; or reduce the outflows"
                    + (f" (largest: {culprit})" if culprit else ""))
        else:
            msg = (f"market {market} has material left over in {year}: inflow {shown_in} {u} "
                   f"exceeds outflow {shown_out} {u} by {format_number(gap)} {u} "
                   f"(in: {_breakdown(inflow_rows, u)}; out: {_breakdown(outflow_rows, u)})")
            hint = ("add a `demand` entry, exports or a stockpile for it, or reduce the inflows"
                    + (f" (largest: {culprit})" if culprit else ""))
        problems.append(problem_at(scenario, path if path is not None else (), msg, hint))
    return problems
