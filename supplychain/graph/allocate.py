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

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.graph.build import (
    Columns,
    _EdgeRows,
    concat_edges,
    demand_in_year,
    edge_columns,
    edge_frame,
    market_id,
    sort_edges,
    stock_id,
    surplus_id,
    use_id,
)
from supplychain.graph.sums import group_sums, is_market
from supplychain.schema.model import Scenario

__all__ = [
    "allocate",
    "allocate_columns",
    "demand_columns",
    "demand_table",
    "market_flows",
    "market_sums",
    "stock_columns",
    "stock_table",
]

RTOL = 1e-6
"""Relative tolerance of a market balance (of the larger of inflow and outflow)."""
ATOL = 1e-6
"""Absolute tolerance of a market balance, tonnes."""
_DEMAND = ("entity", "market", "country", "commodity", "tonnes")
"""Columns of :func:`demand_table`."""
_STOCK = ("entity", "market", "country", "commodity", "available")
"""Columns of :func:`stock_table`."""


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
    return pd.DataFrame(demand_columns(scenario, year))


def demand_columns(scenario: Scenario, year: int) -> Columns:
    """:func:`demand_table` as columns (:data:`~supplychain.graph.build.Columns`)."""
    items = sorted(scenario.demand.items())
    return _columns([
        [f"demand.{did}" for did, _ in items],
        [market_id(d.country, d.commodity) for _, d in items],
        [d.country for _, d in items],
        [d.commodity for _, d in items],
        [demand_in_year(d, year) for _, d in items],
    ], _DEMAND)


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
    dem = demand_columns(scenario, year) if demand is None else _table_columns(demand, _DEMAND)
    return pd.DataFrame(stock_columns(scenario, year, dem, after=after))


def stock_columns(scenario: Scenario, year: int, demand: Columns, *, after: int | None = None) -> Columns:
    """:func:`stock_table` as columns (:data:`~supplychain.graph.build.Columns`), from :func:`demand_columns`."""
    dem = group_sums(demand["market"].tolist(), demand["tonnes"].tolist())
    entity: list[str] = []
    market: list[str] = []
    country: list[str] = []
    commodity: list[str] = []
    available: list[float] = []
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
        entity.append(f"stockpiles.{sid}")
        market.append(m)
        country.append(sp.country)
        commodity.append(sp.commodity)
        available.append(float(level * share))
    return _columns([entity, market, country, commodity, available], _STOCK)


def _columns(values: Sequence[Sequence[Any]], names: Sequence[str]) -> Columns:
    """Columns of a demand or stock table: the text columns as objects, the last (a quantity) float64."""
    *text, quantity = values
    out: Columns = {n: np.array(v, dtype=object) for n, v in zip(names[:-1], text, strict=True)}
    out[names[-1]] = np.array(quantity, dtype=np.float64)
    return out


def _table_columns(table: pd.DataFrame | None, names: Sequence[str]) -> Columns:
    """Return a demand or stock table as :func:`_columns` (``None``: no rows)."""
    return _columns([table[n].tolist() if table is not None else [] for n in names], names)


def market_flows(edges: pd.DataFrame) -> pd.DataFrame:
    """Inflow, outflow and facility output of every market node of an edge table.

    Returns
    -------
    DataFrame
        Indexed by market id, columns ``inflow``, ``outflow``, ``produced``
        (inflow on ``supply`` edges), ``country``, ``commodity``.
    """
    index, inflow, outflow, produced = market_sums(edges)
    split = [m.split(":", 1) for m in index]
    return pd.DataFrame({
        "inflow": inflow,
        "outflow": outflow,
        "produced": produced,
        "country": pd.Series([c for c, _ in split], dtype="object", index=index),
        "commodity": pd.Series([k for _, k in split], dtype="object", index=index),
    }, index=pd.Index(index, name="market", dtype="object"))


def market_sums(edges: Columns | pd.DataFrame) -> tuple[list[str], npt.NDArray[np.float64], npt.NDArray[np.float64],
                                                       npt.NDArray[np.float64]]:
    """Inflow, outflow and facility output of every market node of an edge table or edge columns.

    Returns
    -------
    markets : list of str
        The market ids, sorted.
    inflow, outflow, produced : numpy.ndarray
        Per market: tonnes in, out, and in on ``supply`` edges (:func:`~supplychain.graph.sums.group_sums`).
    """
    supplier, buyer = np.asarray(edges["supplier"], dtype=object), np.asarray(edges["buyer"], dtype=object)
    tonnes = np.asarray(edges["tonnes"], dtype=np.float64)
    into, out_of = is_market(buyer), is_market(supplier)
    supply = (np.asarray(edges["kind"], dtype=object) == "supply") & into
    inflow = group_sums(buyer[into].tolist(), tonnes[into].tolist())
    outflow = group_sums(supplier[out_of].tolist(), tonnes[out_of].tolist())
    produced = group_sums(buyer[supply].tolist(), tonnes[supply].tolist())
    index = sorted(set(inflow) | set(outflow))
    return (index,
            np.array([inflow.get(m, 0.0) for m in index], dtype=np.float64),
            np.array([outflow.get(m, 0.0) for m in index], dtype=np.float64),
            np.array([produced.get(m, 0.0) for m in index], dtype=np.float64))


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
    return edge_frame(allocate_columns(edge_columns(observed), _table_columns(demand, _DEMAND),
                                       _table_columns(stocks, _STOCK), stage_of=stage_of))


def allocate_columns(observed: Columns, demand: Columns, stocks: Columns, *,
                     stage_of: Callable[[str], str] = lambda _c: "") -> Columns:
    """:func:`allocate` on columns (:data:`~supplychain.graph.build.Columns`), sorted by ``edge``.

    ``demand`` and ``stocks`` are :func:`demand_columns` and :func:`stock_columns`.
    """
    rows = _EdgeRows()

    # 1. given demand (observed, not derived)
    has_demand: set[str] = set()
    for entity, market, country, commodity, tonnes in zip(
            demand["entity"].tolist(), demand["market"].tolist(), demand["country"].tolist(),
            demand["commodity"].tolist(), demand["tonnes"].tolist(), strict=True):
        has_demand.add(market)
        rows.add(entity, entity, market, use_id(country, commodity), country, country, commodity,
                 stage_of(commodity), tonnes, "use", False)

    def add(edge: str, entity: str, supplier: str, buyer: str, s_country: str, b_country: str, commodity: str,
            tonnes: float, kind: str) -> None:
        rows.add(edge, entity, supplier, buyer, s_country, b_country, commodity, stage_of(commodity), tonnes, kind,
                 True)

    # 2. residuals over observed edges and given demand
    current = concat_edges(observed, rows.columns()) if has_demand else observed
    markets, inflow, outflow, made = market_sums(current)
    tol = dict(zip(markets, _tolerance(inflow, outflow).tolist(), strict=True))
    resid = dict(zip(markets, (inflow - outflow).tolist(), strict=True))
    produced = dict(zip(markets, made.tolist(), strict=True))
    by_commodity: dict[str, list[str]] = {}
    for m in markets:
        by_commodity.setdefault(m.split(":", 1)[1], []).append(m)

    # 3. allocation of deficits: (a) to producers' spare output, (b) to other surpluses
    trade = current["kind"] == "trade"
    exports_to = set(zip(current["commodity"][trade].tolist(), current["supplier_country"][trade].tolist(),
                         current["buyer_country"][trade].tolist(), strict=True))
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
    for market, entity, available in zip(stocks["market"].tolist(), stocks["entity"].tolist(),
                                         stocks["available"].tolist(), strict=True):
        stock_rows.setdefault(market, []).append((entity, available))
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

    return sort_edges(concat_edges(observed, rows.columns()))
