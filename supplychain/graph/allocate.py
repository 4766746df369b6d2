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
   most the year, each releasing at most its level times ``max_release_share`` in the year:
   :func:`releasable`), as an edge
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

Steps 2–5 are one function on arrays with a sample axis, :func:`close_markets`, over a
:class:`MarketLayout` (the markets and every pair of markets of a commodity). The markets,
their layout and the edge each of its results goes on (an allocation pair, a stock draw, a
market's stock build or surplus) are laid out once by :meth:`MarketClosing.of`, from the
edges before closing (:func:`demand_edges`: the observed edges and the given demand):
:func:`allocate_columns` closes one sample and keeps the edges with tonnes; the compiled
exposure sweep (:mod:`supplychain.uncertainty.kernel`) keeps every edge and closes a block
of samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.graph.build import (
    Columns,
    _EdgeRows,
    concat_edges,
    edge_columns,
    edge_frame,
    sort_edges,
    stock_id,
    surplus_id,
    use_id,
)
from supplychain.graph.sums import Groups, group_sums, is_market
from supplychain.memo import Memo
from supplychain.schema.model import Scenario

__all__ = [
    "Closure",
    "MarketClosing",
    "MarketLayout",
    "allocate",
    "allocate_columns",
    "close_markets",
    "demand_columns",
    "demand_edges",
    "demand_table",
    "market_flow_sums",
    "market_flows",
    "releasable",
    "stock_columns",
    "stock_level",
    "stock_table",
    "tolerance",
]

RTOL = 1e-6
"""Relative tolerance of a market balance (of the larger of inflow and outflow)."""
ATOL = 1e-6
"""Absolute tolerance of a market balance, tonnes."""
_DEMAND = ("entity", "market", "country", "commodity", "tonnes")
"""Columns of :func:`demand_table`."""
_STOCK = ("entity", "market", "country", "commodity", "available")
"""Columns of :func:`stock_table`."""


def tolerance(inflow: npt.NDArray[np.float64], outflow: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    r"""Return the tolerance of a market balance, :math:`\tau = \mathrm{RTOL} \max(I, O) + \mathrm{ATOL}`.

    With inflow :math:`I` and outflow :math:`O`, a market balances when :math:`|I - O| \le \tau`;
    the allocation rules move only gaps beyond it (:func:`close_markets`).

    Examples
    --------
    >>> tolerance(np.array([1e6, 0.0]), np.array([2e6, 0.0])).tolist()  # 1e-6 · 2e6 + 1e-6 t
    [2.000001, 1e-06]
    """
    tol: npt.NDArray[np.float64] = RTOL * np.maximum(inflow, outflow) + ATOL
    return tol


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
    from supplychain.graph.layout import central_tables, year_layout

    return central_tables(scenario, year_layout(scenario, year, observed=False))[3]


def stock_table(scenario: Scenario, year: int, demand: pd.DataFrame | None = None, *,
                after: int | None = None) -> pd.DataFrame:
    """Stock that may be released in a year, one row per stockpile entry held.

    Each ``stockpiles`` entry is one stock, held from the start of its ``year``:
    the entries whose year is at most `year` (and after `after`, when given) are
    used, and several entries of one country and commodity add up. A level given
    in ``months_of_cover`` is ``months / 12 ×`` that market's given demand in
    `year` (0 without demand): ``level`` (:func:`stock_level`). ``available`` is what the stock
    may release in the year, level × ``max_release_share`` (default 1, :func:`releasable`);
    ``share`` the release share.

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
        ``commodity``, ``available``, ``level`` (both in the commodity's unit) and ``share``,
        sorted by ``entity``.

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
    from supplychain.graph.layout import year_layout

    lay = year_layout(scenario, year, observed=False, after=after)
    dem = group_sums(demand["market"].tolist(), demand["tonnes"].tolist())
    market = lay.stocks["market"].tolist()
    d = np.array([[float(dem.get(m, 0.0)) for m in market]])
    level = lay.level(lay.central[None], d)
    return {**lay.stocks, "available": lay.available(lay.central[None], d)[0], "level": level[0],
            "share": lay.central[None][:, lay.st_share][0]}


def stock_level(tonnes: npt.NDArray[np.float64], months: npt.NDArray[np.float64], demand: npt.NDArray[np.float64],
                in_months: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    r"""Return a stockpile's level :math:`L` when it enters: its tonnes, or :math:`m / 12 \times D` in months of cover.

    Where the level is given in months of cover (`in_months`), :math:`m` is the months and :math:`D`
    the market's given demand in the year the stock enters.

    Examples
    --------
    >>> stock_level(np.array([100.0, 0.0]), np.array([0.0, 3.0]), np.array([50.0, 400.0]),
    ...             np.array([False, True])).tolist()  # 100 t; 3/12 × 400
    [100.0, 100.0]
    """
    level: npt.NDArray[np.float64] = np.where(in_months, months / 12.0 * demand, tonnes)
    return level


def releasable(level: npt.NDArray[np.float64] | float,
               share: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64]:
    r"""Return the most a stock at level :math:`L` may release in one year, :math:`R = s \, L`.

    :math:`s` is ``max_release_share``, "the largest share of the stock that may be released in one
    year" (1 when not given), applied to the level at the start of each year: the stock keeps
    :math:`L`, and a year's draw is :math:`\delta_y = \min(L_y, \Delta_y, s L_y)`
    (:class:`~supplychain.simulation.stocks.StockLedger`; a 6,000 t stock at :math:`s = 0.5`
    releases at most 3,000 t in its first year and, if all of it is drawn, 1,500 t of the 3,000 t
    left in the next). The one formula: the year's layout calls it for the stock a year's
    baseline may draw (:meth:`~supplychain.graph.layout.YearLayout.available`: one run's
    stockpiles, or a block of samples of the compiled exposure sweep, arrays samples ×
    stockpiles) and the ledger for each simulated year's cap.

    Parameters
    ----------
    level : numpy.ndarray or float
        Level :math:`L` at the start of the year (:func:`stock_level` when it enters).
    share : numpy.ndarray or float
        Release share :math:`s` in [0, 1].

    Examples
    --------
    >>> releasable(np.array([6000.0, 3000.0, 100.0]), np.array([0.5, 0.5, 1.0])).tolist()
    [3000.0, 1500.0, 100.0]
    """
    out: npt.NDArray[np.float64] = np.asarray(level, dtype=np.float64) * np.asarray(share, dtype=np.float64)
    return out


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
    index, inflow, outflow, produced = market_flow_sums(edges)
    split = [m.split(":", 1) for m in index]
    return pd.DataFrame({
        "inflow": inflow,
        "outflow": outflow,
        "produced": produced,
        "country": pd.Series([c for c, _ in split], dtype="object", index=index),
        "commodity": pd.Series([k for _, k in split], dtype="object", index=index),
    }, index=pd.Index(index, name="market", dtype="object"))


def market_flow_sums(edges: Columns | pd.DataFrame) -> tuple[list[str], npt.NDArray[np.float64],
                                                            npt.NDArray[np.float64], npt.NDArray[np.float64]]:
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


@dataclass(frozen=True)
class MarketLayout:
    """The markets of a year and who may supply whom: what :func:`close_markets` runs over.

    Fixed for a sweep's samples: only tonnes vary between them.

    Attributes
    ----------
    commodity : numpy.ndarray of int, shape (M,)
        Commodity number of each market.
    pair_i, pair_j : numpy.ndarray of int, shape (P,)
        Every ordered pair of distinct markets of one commodity: ``i`` the market
        supplied, ``j`` the supplier; by commodity, then ``i``, then ``j``.
    round_trip : numpy.ndarray of bool, shape (P,)
        Whether ``i``'s country exports the commodity to ``j``'s (an observed trade
        edge): such a pair takes no step-3b allocation.
    stock_market : numpy.ndarray of int, shape (R,)
        Market of each stock row.
    """

    commodity: npt.NDArray[np.int64]
    pair_i: npt.NDArray[np.int64]
    pair_j: npt.NDArray[np.int64]
    round_trip: npt.NDArray[np.bool_]
    stock_market: npt.NDArray[np.int64]

    @classmethod
    def of(cls, markets: Sequence[str], edges: Columns | pd.DataFrame, stock_markets: Sequence[int]) -> MarketLayout:
        """Lay out markets (ids ``"{country}:{commodity}"``) and who exports what to whom.

        Parameters
        ----------
        markets : sequence of str
            The market ids.
        edges : Columns or DataFrame
            The edges before allocation: their ``trade`` edges say who exports to whom
            (columns ``kind``, ``commodity``, ``supplier_country``, ``buyer_country``).
        stock_markets : sequence of int
            Market of each stock row (its position in `markets`).

        Notes
        -----
        The last :data:`LAYOUT_MEMO_SIZE` layouts are kept, keyed on the markets, who exports
        what to whom and the stock rows' markets (:class:`~supplychain.memo.Memo`): a sweep's
        samples mostly have the same markets and trade. A layout is shared then: it must not
        be changed in place.
        """
        trade = np.asarray(edges["kind"], dtype=object) == "trade"
        exports_to = frozenset((str(k), str(a), str(b)) for k, a, b in zip(
            *(np.asarray(edges[c], dtype=object)[trade].tolist() for c in ("commodity", "supplier_country",
                                                                           "buyer_country")), strict=True))
        stock = tuple(int(m) for m in stock_markets)
        key = (tuple(markets), exports_to, stock)
        return _LAYOUTS.get(key, lambda: cls._of(key[0], exports_to, stock))

    @classmethod
    def _of(cls, markets: Sequence[str], exports_to: frozenset[tuple[str, str, str]],
            stock_markets: Sequence[int]) -> MarketLayout:
        """Compute the layout (:meth:`of`) of ``exports_to``: (commodity, exporter, importer) of the trade edges."""
        split = [m.split(":", 1) for m in markets]
        names = sorted({k for _, k in split})
        k_pos = {k: n for n, k in enumerate(names)}
        commodity = np.array([k_pos[k] for _, k in split], dtype=np.int64)
        pos = {m: n for n, m in enumerate(markets)}
        # every market i (by commodity, then market order) against every market of its commodity
        order = np.argsort(commodity, kind="stable")
        counts = np.bincount(commodity, minlength=len(names))
        size = counts[commodity[order]]
        first = (np.cumsum(counts) - counts)[commodity[order]]
        within = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
        pi, pj = np.repeat(order, size), order[np.repeat(first, size) + within]
        pi, pj = pi[pi != pj].astype(np.int64), pj[pi != pj].astype(np.int64)
        back = [pos[f"{a}:{k}"] * len(markets) + pos[f"{b}:{k}"] for k, a, b in exports_to
                if f"{a}:{k}" in pos and f"{b}:{k}" in pos]
        return cls(commodity, pi, pj, np.isin(pi * len(markets) + pj, np.array(back, dtype=np.int64)),
                   np.asarray(stock_markets, dtype=np.int64))

    @cached_property
    def groups(self) -> tuple[Groups, Groups, Groups, Groups]:
        """Pairs by market supplied, pairs by supplier, markets by commodity, stock rows by market."""
        n_m = len(self.commodity)
        return (Groups.of(self.pair_i, n_m), Groups.of(self.pair_j, n_m),
                Groups.of(self.commodity, int(self.commodity.max()) + 1 if n_m else 0),
                Groups.of(self.stock_market, n_m))


LAYOUT_MEMO_SIZE = 32
"""Market layouts :meth:`MarketLayout.of` keeps (a sweep's years, a few trade structures each)."""
_LAYOUTS: Memo[MarketLayout] = Memo(LAYOUT_MEMO_SIZE)


@dataclass(frozen=True)
class Closure:
    """What closes a year's markets (:func:`close_markets`), per sample.

    Attributes
    ----------
    trade : numpy.ndarray, shape (S, P)
        Tonnes allocated from ``pair_j`` to ``pair_i`` (steps 3a and 3b).
    draw : numpy.ndarray, shape (S, R)
        Tonnes drawn from each stock row (step 4).
    left : numpy.ndarray, shape (S, M)
        Surplus left in each market, to its surplus node or into stock (step 5).
    short : numpy.ndarray of bool, shape (S, M)
        Markets still short after step 4 (beyond the tolerance).
    """

    trade: npt.NDArray[np.float64]
    draw: npt.NDArray[np.float64]
    left: npt.NDArray[np.float64]
    short: npt.NDArray[np.bool_]


def close_markets(inflow: npt.NDArray[np.float64], outflow: npt.NDArray[np.float64],
                  produced: npt.NDArray[np.float64], available: npt.NDArray[np.float64],
                  layout: MarketLayout) -> Closure:
    r"""Close the markets of S samples at once: steps 2–5 of the rules (module docstring), their one implementation.

    Parameters
    ----------
    inflow, outflow, produced : numpy.ndarray, shape (S, M)
        Per sample and market: tonnes in and out over the observed edges and the given
        demand, and in from facilities (``supply`` edges).
    available : numpy.ndarray, shape (S, R)
        Releasable stock of each stock row (:func:`stock_columns`).
    layout : MarketLayout
        The markets and their candidate pairs.

    Returns
    -------
    Closure
        Allocated trade per pair, draws per stock row, surplus left and markets still short.

    Notes
    -----
    Per sample, with :math:`r = \mathrm{inflow} - \mathrm{outflow}` and the tolerance
    :math:`\tau = 10^{-6} \max(\mathrm{inflow}, \mathrm{outflow}) + 10^{-6}` t (``RTOL``, ``ATOL``):

    * 3a: deficits :math:`d_i = -r_i` where :math:`r_i < -\tau_i`, spare output
      :math:`s_j = \min(r_j, P_j)` where :math:`r_j > \tau_j` and :math:`P_j > 0`;
    * 3b (on the residuals after 3a): deficits as before, surpluses :math:`s_j = r_j` where
      :math:`r_j > \tau_j`, candidates :math:`C(i)` the markets ``i`` does not export to;
    * each step splits every deficit pro rata over its candidates (3a: all markets of the
      commodity) and scales the commodity's allocations by one factor so that no supplier
      gives more than it has:

      .. math:: x_{j \to i} = \lambda_k \, d_i \frac{s_j}{\sum_{j' \in C(i)} s_{j'}}, \qquad
                \lambda_k = \min\Bigl(1, \min_{j \in k} \frac{s_j}{\sum_{i: j \in C(i)} d_i s_j / \sum_{C(i)} s}\Bigr)

      (3a: :math:`\lambda_k = \min(1, S_k / D_k)`), then :math:`r_i \mathrel{+}= x`, :math:`r_j \mathrel{-}= x`;
    * 4: a market still short (:math:`-r > \tau`) with stock :math:`A = \sum_\rho a_\rho > 0`
      draws :math:`\min(-r, A)`, row :math:`\rho` its share :math:`a_\rho / A`;
    * 5: a surplus :math:`r > \tau` is left (``left``); :math:`r < -\tau` is ``short``.
    """
    by_buyer, by_supplier, by_commodity, by_stock = layout.groups
    tol = tolerance(inflow, outflow)
    r = inflow - outflow

    def allocate_step(supply: npt.NDArray[np.float64], allowed: npt.NDArray[np.bool_] | None,
                      need: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        s = supply[:, layout.pair_j] if allowed is None else np.where(allowed, supply[:, layout.pair_j], 0.0)
        d = need[:, layout.pair_i]
        ok = (d > 0.0) & (s > 0.0)
        total = by_buyer.sum(s)[:, layout.pair_i]
        raw = np.where(ok, d * s / np.where(ok, total, 1.0), 0.0)
        load = by_supplier.sum(raw)
        ratio = np.where(load > 0.0, supply / np.where(load > 0.0, load, 1.0), np.inf)
        scale = np.minimum(1.0, by_commodity.min(ratio))
        x: npt.NDArray[np.float64] = raw * scale[:, layout.commodity[layout.pair_i]]
        return x

    # 3a: deficits to producers' spare output
    need = np.where(r < -tol, -r, 0.0)
    trade = allocate_step(np.where((r > tol) & (produced > 0.0), np.minimum(r, produced), 0.0), None, need)
    r = r + by_buyer.sum(trade) - by_supplier.sum(trade)
    # 3b: what is still short, to other surpluses, never back where the market exports to
    need = np.where(r < -tol, -r, 0.0)
    surplus = np.where(r > tol, r, 0.0)
    if need.any() and surplus.any():
        more = allocate_step(surplus, ~layout.round_trip, need)
        r = r + by_buyer.sum(more) - by_supplier.sum(more)
        trade = trade + more
    # 4: stock draws, pro rata to what each stock row can release
    sm = layout.stock_market
    stock = by_stock.sum(available)
    act = (-r > tol) & (stock > 0.0)
    take = np.where(act, np.minimum(-r, stock), 0.0)
    draw = np.where((available > 0.0) & act[:, sm], take[:, sm] * available / np.where(act, stock, 1.0)[:, sm], 0.0)
    r = r + take
    # 5: surplus left, or still short
    return Closure(trade, draw, np.where(r > tol, r, 0.0), r < -tol)


def demand_edges(demand: Columns, *, stage_of: Callable[[str], str] = lambda _c: "") -> Columns:
    """Step 1: each given-demand row as a ``use`` edge ``demand.<id>`` from its market to its use node.

    Parameters
    ----------
    demand : Columns
        :func:`demand_columns` (``entity, market, country, commodity, tonnes``).
    stage_of : callable, optional
        Commodity -> stage, for the ``stage`` column.

    Returns
    -------
    Columns
        Edge columns (:data:`~supplychain.graph.build.EDGE_COLUMNS`), one row per demand row, in its order.
    """
    rows = _EdgeRows()
    for entity, market, country, commodity, tonnes in zip(
            demand["entity"].tolist(), demand["market"].tolist(), demand["country"].tolist(),
            demand["commodity"].tolist(), demand["tonnes"].tolist(), strict=True):
        rows.add(entity, entity, market, use_id(country, commodity), country, country, commodity,
                 stage_of(commodity), tonnes, "use", False)
    return rows.columns()


@dataclass(frozen=True)
class MarketClosing:
    """A year's markets and every edge that may close them: what :func:`close_markets` runs over, where its tonnes go.

    Laid out once from the edges before closing (the observed edges and :func:`demand_edges`);
    only tonnes vary between the samples of a sweep. A run keeps the edges that carry tonnes
    (:func:`allocate_columns`); the compiled exposure sweep keeps them all
    (:class:`~supplychain.uncertainty.kernel.ExposureKernel`).

    Attributes
    ----------
    markets : list of str
        The market ids ``"{country}:{commodity}"``, sorted (:func:`market_flow_sums`' order), M of them.
    layout : MarketLayout
        Their candidate pairs and stock rows.
    held : numpy.ndarray of int, shape (R,)
        The stock rows (positions in the stock columns) whose market is one of `markets`.
    stock_entity : tuple of str
        The entity (``stockpiles.<id>``) of each held stock row.
    has_demand : numpy.ndarray of bool, shape (M,)
        Whether a market has given demand (its surplus goes into stock, rule 5).
    """

    markets: list[str]
    layout: MarketLayout
    held: npt.NDArray[np.int64]
    stock_entity: tuple[str, ...]
    has_demand: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, markets: Sequence[str], edges: Columns | pd.DataFrame, demand: Columns,
           stocks: Columns) -> MarketClosing:
        """Lay out the markets of edges before closing.

        Parameters
        ----------
        markets : sequence of str
            The market ids of `edges` (:func:`market_flow_sums`).
        edges : Columns or DataFrame
            The edges before closing (their ``trade`` edges say who exports to whom, :meth:`MarketLayout.of`).
        demand, stocks : Columns
            :func:`demand_columns` and :func:`stock_columns` of the year.
        """
        known = {m: i for i, m in enumerate(markets)}
        market_of = stocks["market"].tolist()
        held = [n for n, m in enumerate(market_of) if m in known]
        has_demand = np.zeros(len(known), dtype=bool)
        has_demand[[known[m] for m in demand["market"].tolist()]] = True
        return cls(list(markets), MarketLayout.of(markets, edges, [known[market_of[n]] for n in held]),
                   np.array(held, dtype=np.int64), tuple(str(stocks["entity"][n]) for n in held), has_demand)

    @property
    def size(self) -> int:
        """Number of closing edges: allocation pairs, stock draws, then one per market."""
        return int(self.surplus.stop)

    @property
    def pairs(self) -> slice:
        """Positions of the allocation pairs among the closing edges (:meth:`edges`, :meth:`tonnes`): ``trade``."""
        return slice(0, len(self.layout.pair_i))

    @property
    def draws(self) -> slice:
        """Positions of the held stock rows' draws among the closing edges: ``draw``, one per :attr:`held`."""
        return slice(self.pairs.stop, self.pairs.stop + len(self.held))

    @property
    def surplus(self) -> slice:
        """Positions of each market's surplus (stock build or surplus node) among the closing edges: ``left``."""
        return slice(self.draws.stop, self.draws.stop + len(self.markets))

    def tonnes(self, closed: Closure) -> npt.NDArray[np.float64]:
        """Return the tonnes of every closing edge per sample (samples × :attr:`size`), in :meth:`edges` order.

        Each part of ``closed`` goes to its named positions (:attr:`pairs`, :attr:`draws`,
        :attr:`surplus`), the one statement of the order that :meth:`edges` and a reader of the
        tonnes (the compiled sweep, :class:`~supplychain.uncertainty.kernel.ExposureKernel`) follow.
        """
        out = np.empty((closed.trade.shape[0], self.size))
        out[:, self.pairs] = closed.trade
        out[:, self.draws] = closed.draw
        out[:, self.surplus] = closed.left
        return out

    def edges(self, tonnes: npt.NDArray[np.float64], keep: npt.NDArray[np.bool_] | None = None, *,
              stage_of: Callable[[str], str] = lambda _c: "") -> Columns:
        """Return the closing edges (rules 3–5) as edge columns, ``allocated`` true.

        In the order of :meth:`tonnes`: the allocation pair ``j → i`` of each candidate pair
        (``alloc.<commodity>.<country j>.<country i>``, ``trade``), each held stock row's draw
        (``stockpiles.<id>``, from the stock node ``"{country}:{commodity}:stock"``, ``stock``),
        then each market's surplus: into stock where it has given demand
        (``stock.<market>.build``, ``stock``), else to its surplus node (``surplus.<market>``, ``surplus``).

        Parameters
        ----------
        tonnes : numpy.ndarray, shape (size,)
            Tonnes of each closing edge (one sample of :meth:`tonnes`).
        keep : numpy.ndarray of bool, optional
            Which edges to return (all when omitted).
        stage_of : callable, optional
            Commodity -> stage, for the ``stage`` column.
        """
        rows = _EdgeRows()
        markets, layout = self.markets, self.layout
        pairs, draws, surplus = self.pairs, self.draws, self.surplus
        chosen = range(self.size) if keep is None else np.flatnonzero(keep).tolist()
        for e in chosen:
            t = float(tonnes[e])
            if pairs.start <= e < pairs.stop:
                i, j = markets[layout.pair_i[e - pairs.start]], markets[layout.pair_j[e - pairs.start]]
                (ci, commodity), cj = i.split(":", 1), j.split(":", 1)[0]
                rows.add(f"alloc.{commodity}.{cj}.{ci}", "allocation", j, i, cj, ci, commodity, stage_of(commodity),
                         t, "trade", True)
            elif draws.start <= e < draws.stop:
                m = markets[layout.stock_market[e - draws.start]]
                country, commodity = m.split(":", 1)
                entity = self.stock_entity[e - draws.start]
                rows.add(entity, entity, stock_id(country, commodity), m, country, country, commodity,
                         stage_of(commodity), t, "stock", True)
            else:
                n = e - surplus.start
                m = markets[n]
                country, commodity = m.split(":", 1)
                if self.has_demand[n]:
                    rows.add(f"stock.{m}.build", "stock_build", m, stock_id(country, commodity), country, country,
                             commodity, stage_of(commodity), t, "stock", True)
                else:
                    rows.add(f"surplus.{m}", "surplus", m, surplus_id(country, commodity), country, country,
                             commodity, stage_of(commodity), t, "surplus", True)
        return rows.columns()


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
    given = demand_edges(demand, stage_of=stage_of)  # 1. given demand (observed, not derived)
    # 2.–5. residuals, allocation, stock draws, surplus: close_markets on one sample
    current = concat_edges(observed, given)
    markets, inflow, outflow, made = market_flow_sums(current)
    closing = MarketClosing.of(markets, current, demand, stocks)
    closed = close_markets(inflow[None], outflow[None], made[None], stocks["available"][closing.held][None],
                           closing.layout)
    tonnes = closing.tonnes(closed)[0]
    return sort_edges(concat_edges(current, closing.edges(tonnes, tonnes > 0.0, stage_of=stage_of)))
