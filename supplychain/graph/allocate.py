"""Final use, unobserved trade and stock changes: the rules that close the flows.

Observed data rarely close the books: a separation plant in Japan needs ore that no
trade statistic says where it came from; a mining country's output is not all
exported and nobody reports where the rest went. docs/domain.md, "The material graph",
allows edges "allocated by a documented rule where only production and consumption
are known". These are the rules, applied per commodity to every market node
``"{country}:{commodity}"`` by :func:`allocate`:

1. **Given demand.** Each ``demand`` entry becomes a use edge (id ``demand.<id>``)
   from the market to its use node, ``tonnes`` from
   :func:`~supplychain.graph.build.demand_in_year` (growth compounded from the
   entry's year; ``by_year`` wins). Several entries for one market are added.
2. **Residual.** ``r(m) = inflow − outflow`` of every market over the observed
   edges and the given demand.
3. **Allocation of deficits.** (a) A market with ``r < 0`` (deficit ``d``) is
   supplied by the markets of the same commodity with ``r > 0`` that *produce* it,
   pro rata to what they can spare, ``s(j) = min(r(j), P(j))`` with ``P(j)`` the
   output delivered to market ``j`` by facilities. With ``D = Σ d`` and ``S = Σ s``::

       x(j → i) = d(i) · min(1, S / D) · s(j) / S

   (b) Only if producers cannot spare enough, what is still short is taken pro rata
   from the remaining surpluses of any market (re-exports of imported material),
   except from markets the deficit market itself exports to — material is never sent
   back where it came from, so an export above production plus imports is still
   reported, not explained away as a round trip. Each allocation becomes one trade
   edge ``alloc.<commodity>.<country j>.<country i>`` with ``entity="allocation"``
   and ``allocated=True``; allocation is between any pair of countries, also where
   some trade between them is observed (it then tops the observed flow up).
4. **Stock draws.** A deficit left after step 3 is drawn from the country's
   stockpiles of that commodity (:func:`stock_table`: the entries whose year is at
   most the year, their levels times ``max_release_share`` added up), as an edge
   ``stockpiles.<id>`` from the stock node ``"{country}:{commodity}:stock"``. The
   stock node's ``primary`` is the draw: stocked material has no traceable origin
   and counts as produced in the holding country.
5. **Surplus and stock build.** A surplus left over goes to the market's surplus
   node (edge ``surplus.<market>``, ``entity="surplus"``, kind ``surplus``: material
   whose destination the data do not give, which the supply response does not protect
   as demand) when the market has no given demand, else into stock (edge
   ``stock.<market>.build``, ``entity="stock_build"``): given demand is never silently
   overridden.

Whatever deficit is left after step 4 stays in the table and is reported by
:mod:`supplychain.graph.balance` as a located problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.graph.build import (
    EDGE_COLUMNS,
    _typed_edges,
    demand_in_year,
    market_id,
    stock_id,
    surplus_id,
    use_id,
)
from supplychain.graph.sums import group_sums, is_market
from supplychain.schema.model import Scenario

__all__ = ["allocate", "demand_table", "market_flows", "stock_table"]

RTOL = 1e-6
"""Relative tolerance of a market balance (of the larger of inflow and outflow)."""
ATOL = 1e-6
"""Absolute tolerance of a market balance, tonnes."""


def demand_table(scenario: Scenario, year: int) -> pd.DataFrame:
    """Given final demand of a year, one row per ``demand`` entry.

    Returns
    -------
    DataFrame
        Columns ``entity`` (``demand.<id>``), ``market``, ``country``,
        ``commodity``, ``tonnes``, sorted by ``entity``.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "demand": {"us": {"country": "US", "commodity": "ore", "year": 2024, "tonnes": 10}}})
    >>> demand_table(s, 2025).to_dict("records")
    [{'entity': 'demand.us', 'market': 'US:ore', 'country': 'US', 'commodity': 'ore', 'tonnes': 10.0}]
    """
    rows = [
        {"entity": f"demand.{did}", "market": market_id(d.country, d.commodity), "country": d.country,
         "commodity": d.commodity, "tonnes": demand_in_year(d, year)}
        for did, d in sorted(scenario.demand.items())
    ]
    return _records(rows, ["entity", "market", "country", "commodity", "tonnes"])


def stock_table(scenario: Scenario, year: int, demand: pd.DataFrame | None = None, *,
                after: int | None = None) -> pd.DataFrame:
    """Stock that may be released in a year, one row per stockpile entry held.

    Each ``stockpiles`` entry is one stock, held from the start of its ``year``:
    the entries whose year is at most `year` (and after `after`, when given) are
    used, and several entries of one country and commodity add up. A level given
    in ``months_of_cover`` is ``months / 12 ×`` that market's given demand in
    `year` (0 without demand). Releasable = level × ``max_release_share`` (default 1).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    year : int
        The year.
    demand : DataFrame, optional
        :func:`demand_table` of `year` (computed when omitted).
    after : int, optional
        Only entries dated after this year (the stocks that enter in a later
        simulated year, :class:`~supplychain.simulation.stocks.StockLedger`).

    Returns
    -------
    DataFrame
        Columns ``entity`` (``stockpiles.<id>``), ``market``, ``country``,
        ``commodity``, ``available`` (in the commodity's unit), sorted by ``entity``.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "stockpiles": {
    ...     "old": {"country": "US", "commodity": "ore", "year": 2024, "quantity": 100},
    ...     "new": {"country": "US", "commodity": "ore", "year": 2026, "quantity": 40}}})
    >>> stock_table(s, 2025)["available"].tolist(), stock_table(s, 2026)["available"].tolist()
    ([100.0], [40.0, 100.0])
    >>> stock_table(s, 2026, after=2024)["entity"].tolist()
    ['stockpiles.new']
    """
    if demand is None:
        demand = demand_table(scenario, year)
    dem = group_sums(demand["market"].tolist(), demand["tonnes"].to_numpy(dtype=float).tolist())
    rows = []
    for sid, sp in sorted(scenario.stockpiles.items()):
        if sp.year > year or (after is not None and sp.year <= after):
            continue
        m = market_id(sp.country, sp.commodity)
        if sp.tonnes is not None:
            level = sp.tonnes.central
        else:
            assert sp.months_of_cover is not None  # the Stockpile validator guarantees one level
            level = sp.months_of_cover.central / 12.0 * float(dem.get(m, 0.0))
        share = sp.max_release_share.central if sp.max_release_share is not None else 1.0
        rows.append({"entity": f"stockpiles.{sid}", "market": m, "country": sp.country,
                     "commodity": sp.commodity, "available": float(level * share)})
    return _records(rows, ["entity", "market", "country", "commodity", "available"])


def _records(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Build a frame of ``rows`` column by column: text columns as objects, the last column float64."""
    data: dict[str, Any] = {c: [r[c] for r in rows] for c in columns[:-1]}
    data[columns[-1]] = np.array([r[columns[-1]] for r in rows], dtype=np.float64)
    return pd.DataFrame(data, columns=columns)


def market_flows(edges: pd.DataFrame) -> pd.DataFrame:
    """Inflow, outflow and facility output of every market node of an edge table.

    Returns
    -------
    DataFrame
        Indexed by market id, columns ``inflow``, ``outflow``, ``produced``
        (inflow on ``supply`` edges), ``country``, ``commodity``.
    """
    sup = edges["supplier"].astype(str).to_numpy(dtype=object)
    buy = edges["buyer"].astype(str).to_numpy(dtype=object)
    tonnes = edges["tonnes"].to_numpy(dtype=float)
    into, out_of = is_market(buy), is_market(sup)
    supply = (edges["kind"].to_numpy(dtype=object) == "supply") & into
    inflow = group_sums(buy[into].tolist(), tonnes[into].tolist())
    outflow = group_sums(sup[out_of].tolist(), tonnes[out_of].tolist())
    produced = group_sums(buy[supply].tolist(), tonnes[supply].tolist())
    index = sorted(set(inflow) | set(outflow))
    split = [m.split(":", 1) for m in index]
    return pd.DataFrame({
        "inflow": np.array([inflow.get(m, 0.0) for m in index], dtype=np.float64),
        "outflow": np.array([outflow.get(m, 0.0) for m in index], dtype=np.float64),
        "produced": np.array([produced.get(m, 0.0) for m in index], dtype=np.float64),
        "country": pd.Series([c for c, _ in split], dtype="object", index=index),
        "commodity": pd.Series([k for _, k in split], dtype="object", index=index),
    }, index=pd.Index(index, name="market", dtype="object"))


def _tolerance(inflow: npt.NDArray[np.float64], outflow: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = RTOL * np.maximum(inflow, outflow) + ATOL
    return out


def _pro_rata(deficit: dict[str, float], candidates: dict[str, dict[str, float]]) -> dict[tuple[str, str], float]:
    """Split each deficit over its candidate suppliers pro rata to what they can give.

    ``x(j → i) = d(i) · s(j) / Σ_{j' ∈ C(i)} s(j')``, all scaled by one factor
    ``min(1, min_j s(j) / load(j))`` so that no supplier gives more than it has.
    Returns ``{(j, i): tonnes}``.
    """
    raw: dict[tuple[str, str], float] = {}
    load: dict[str, float] = {}
    for i, d in deficit.items():
        cands = {j: s for j, s in candidates.get(i, {}).items() if s > 0.0}
        total = sum(cands.values())
        if d <= 0.0 or total <= 0.0:
            continue
        for j, s in cands.items():
            x = d * s / total
            raw[(j, i)] = x
            load[j] = load.get(j, 0.0) + x
    if not raw:
        return {}
    supply = {j: s for cands in candidates.values() for j, s in cands.items()}
    scale = min([1.0, *(supply[j] / load[j] for j in load if load[j] > 0.0)])
    return {key: x * scale for key, x in raw.items()}


def allocate(
    observed: pd.DataFrame,
    demand: pd.DataFrame | None = None,
    stocks: pd.DataFrame | None = None,
    *,
    stage_of: Callable[[str], str] = lambda _c: "",
) -> pd.DataFrame:
    """Close the flows of a year: final use, allocated trade and stock changes.

    Parameters
    ----------
    observed : DataFrame
        Edge table of observed edges (supply, input, trade).
    demand : DataFrame, optional
        From :func:`demand_table` (``entity, market, country, commodity, tonnes``);
        none when omitted.
    stocks : DataFrame, optional
        From :func:`stock_table` (``entity, market, country, commodity, available``);
        none when omitted.
    stage_of : callable, optional
        Commodity -> stage, for the ``stage`` column of new edges.

    Returns
    -------
    DataFrame
        The observed edges plus ``use`` edges (given demand), ``surplus`` edges
        (no known destination), allocated ``trade`` edges and ``stock`` edges;
        contract columns, sorted by ``edge``.

    Notes
    -----
    The rules are in the module docstring (and ``docs/measures.md``, "Allocation").
    With ``d(i)`` the deficit of market ``i``, ``s(j) = min(r(j), P(j))`` the
    surplus producer ``j`` can spare, ``D = Σ d`` and ``S = Σ s`` per commodity:
    ``x(j → i) = d(i) · min(1, S/D) · s(j)/S``.

    Examples
    --------
    Ore mined in China (150 t) and Australia (50 t; 40 t of it observed going to
    Malaysia) and a Japanese plant that needs 60 t: Japan's deficit of 60 t is
    allocated pro rata to the spare output, 150 t in China and 10 t in Australia.

    >>> from supplychain.graph.build import EDGE_COLUMNS
    >>> rows = [("supply.cn.ore", "facilities.cn", "cn", "CN:ore", "CN", "CN", 150.0, "supply"),
    ...         ("supply.au.ore", "facilities.au", "au", "AU:ore", "AU", "AU", 50.0, "supply"),
    ...         ("flows.au_my", "flows.au_my", "AU:ore", "MY:ore", "AU", "MY", 40.0, "trade"),
    ...         ("input.jp.ore", "facilities.jp", "JP:ore", "jp", "JP", "JP", 60.0, "input")]
    >>> obs = pd.DataFrame([dict(edge=e, entity=n, supplier=s, buyer=b, supplier_country=sc, buyer_country=bc,
    ...     commodity="ore", stage="ore", tonnes=t, kind=k, allocated=False) for e, n, s, b, sc, bc, t, k in rows])
    >>> out = allocate(obs)
    >>> print(out.loc[out["allocated"] & out["kind"].eq("trade"), ["edge", "tonnes"]].to_string(index=False))
               edge  tonnes
    alloc.ore.AU.JP    3.75
    alloc.ore.CN.JP   56.25
    """
    if demand is None:
        demand = pd.DataFrame(columns=["entity", "market", "country", "commodity", "tonnes"])
    if stocks is None:
        stocks = pd.DataFrame(columns=["entity", "market", "country", "commodity", "available"])
    rows: list[dict[str, object]] = []

    def add(edge: str, entity: str, supplier: str, buyer: str, s_country: str, b_country: str, commodity: str,
            tonnes: float, kind: str, *, allocated: bool = True) -> None:
        rows.append({"edge": edge, "entity": entity, "supplier": supplier, "buyer": buyer,
                     "supplier_country": s_country, "buyer_country": b_country, "commodity": commodity,
                     "stage": stage_of(commodity), "tonnes": float(tonnes), "kind": kind, "allocated": allocated})

    # 1. given demand (observed, not derived)
    has_demand: set[str] = set()
    for rec in demand.to_dict("records"):
        market, country, commodity = str(rec["market"]), str(rec["country"]), str(rec["commodity"])
        has_demand.add(market)
        add(str(rec["entity"]), str(rec["entity"]), market, use_id(country, commodity), country, country,
            commodity, float(rec["tonnes"]), "use", allocated=False)
    demand_edges = pd.DataFrame(rows, columns=list(EDGE_COLUMNS))

    # 2. residuals over observed edges and given demand
    current = pd.concat([observed, demand_edges], ignore_index=True) if len(demand_edges) else observed
    mf = market_flows(current)
    markets = [str(m) for m in mf.index]
    inflow = mf["inflow"].to_numpy(dtype=float)
    outflow = mf["outflow"].to_numpy(dtype=float)
    tol = dict(zip(markets, _tolerance(inflow, outflow).tolist(), strict=True))
    resid = dict(zip(markets, (inflow - outflow).tolist(), strict=True))
    produced = dict(zip(markets, mf["produced"].to_numpy(dtype=float).tolist(), strict=True))
    by_commodity: dict[str, list[str]] = {}
    for m in markets:
        by_commodity.setdefault(m.split(":", 1)[1], []).append(m)

    # 3. allocation of deficits: (a) to producers' spare output, (b) to other surpluses
    trade = current.loc[current["kind"].eq("trade")]
    exports_to = set(zip(trade["commodity"].astype(str), trade["supplier_country"].astype(str),
                         trade["buyer_country"].astype(str), strict=True))
    for commodity in sorted(by_commodity):
        ms = by_commodity[commodity]
        alloc: dict[tuple[str, str], float] = {}
        deficit = {m: -resid[m] for m in ms if resid[m] < -tol[m]}
        spare = {m: min(resid[m], produced[m]) for m in ms if resid[m] > tol[m] and produced[m] > 0.0}
        for (j, i), x in _pro_rata(deficit, dict.fromkeys(deficit, spare)).items():
            alloc[(j, i)] = alloc.get((j, i), 0.0) + x
            resid[i] += x
            resid[j] -= x
        deficit = {m: -resid[m] for m in ms if resid[m] < -tol[m]}
        surplus = {m: resid[m] for m in ms if resid[m] > tol[m]}
        if deficit and surplus:
            # never back to a market the deficit market itself exports to (no invented round trips)
            candidates = {i: {j: sj for j, sj in surplus.items()
                              if (commodity, i.split(":", 1)[0], j.split(":", 1)[0]) not in exports_to}
                          for i in deficit}
            for (j, i), x in _pro_rata(deficit, candidates).items():
                alloc[(j, i)] = alloc.get((j, i), 0.0) + x
                resid[i] += x
                resid[j] -= x
        for (j, i), x in sorted(alloc.items()):
            ci, cj = i.split(":", 1)[0], j.split(":", 1)[0]
            add(f"alloc.{commodity}.{cj}.{ci}", "allocation", j, i, cj, ci, commodity, x, "trade")

    # 4. stock draws for what is left
    stock_rows: dict[str, list[tuple[str, float]]] = {}
    for rec in stocks.to_dict("records"):
        stock_rows.setdefault(str(rec["market"]), []).append((str(rec["entity"]), float(rec["available"])))
    for m in sorted(stock_rows):
        need = -resid.get(m, 0.0)
        total = sum(a for _, a in stock_rows[m])
        if need <= tol.get(m, ATOL) or total <= 0.0:
            continue
        draw = min(need, total)
        country, commodity = m.split(":", 1)
        for entity, a in stock_rows[m]:
            if a > 0.0:
                add(entity, entity, stock_id(country, commodity), m, country, country, commodity, draw * a / total,
                    "stock")
        resid[m] += draw

    # 5. surplus or stock build
    for m in markets:
        r_m = resid[m]
        if r_m <= tol[m]:
            continue
        country, commodity = m.split(":", 1)
        if m in has_demand:
            add(f"stock.{m}.build", "stock_build", m, stock_id(country, commodity), country, country, commodity, r_m,
                "stock")
        else:
            add(f"surplus.{m}", "surplus", m, surplus_id(country, commodity), country, country, commodity, r_m,
                "surplus")

    return _typed_edges(observed, rows)
