"""The compiled exposure sweep: one year's exposure measures for a block of samples, on arrays.

:class:`ExposureKernel` is built once per sweep and year: the year's observed edges, given
demand and stock rows are the build's own layout (:func:`~supplychain.graph.layout.year_layout`,
the one walk of the scenario a run also evaluates), here evaluated on a block of samples
(:meth:`~supplychain.graph.layout.YearLayout.evaluate`); then the allocation rules
(:func:`~supplychain.graph.allocate.close_markets`), the traced share (the block compiled as
copies of the network side by side, :func:`~supplychain.engine.batch.compile_batch`, solved by
:func:`~supplychain.engine.trace.traced_share`) and the first-hop measures
(:mod:`supplychain.metrics.trade`) — the functions a run calls, with a sample axis.
:func:`patched_model` prepares one kernel per year or says why the sweep computes each
sample with :func:`~supplychain.metrics.measures.compute_measures` instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from supplychain.engine.batch import compile_batch
from supplychain.engine.compile import compile_arrays
from supplychain.engine.trace import traced_share
from supplychain.errors import EngineError, KeyPath
from supplychain.graph.allocate import MarketClosing, close_markets, demand_edges, market_flow_sums
from supplychain.graph.build import concat_edges
from supplychain.graph.layout import YearLayout, central_tables, year_layout
from supplychain.graph.sums import Groups
from supplychain.metrics.trade import TradeIndex, first_hop, market_sums, pair_sums, source_imports, trade_index
from supplychain.schema.model import Scenario
from supplychain.uncertainty.models import (
    ATTRIBUTE_COLUMNS,
    ChunkResult,
    MeasureFilter,
    Mode,
    SweepModel,
    chunk_result,
    empty_catalogue,
    empty_raised,
    normalise_measures,
)
from supplychain.uncertainty.sampling import SamplingSpec

__all__ = ["FAST_METRICS", "INERT", "KERNEL_CELLS", "SWEEP_METRICS", "ExposureKernel", "KernelTables",
           "PatchedExposureModel", "Unsupported", "first_hop_measures", "is_inert", "is_relevant", "patched_model"]


FAST_METRICS: tuple[str, ...] = (
    "traced_share",
    "direct_import_share",
    "direct_share_of_consumption",
    "net_import_reliance",
)
"""Metrics the compiled fast path computes (the rest need :func:`~supplychain.metrics.measures.compute_measures`)."""

SWEEP_METRICS: tuple[str, ...] = (*FAST_METRICS, "shortfall_share")
"""Metrics a sweep keeps when ``measures`` is not given (``measures="all"`` keeps every metric)."""
KERNEL_CELLS = 1_000_000
"""Samples × edges evaluated at once by :class:`ExposureKernel` (keeps the arrays in cache)."""


@dataclass(frozen=True)
class KernelTables:
    """One year's baseline tables for a block of samples (:meth:`ExposureKernel.tables`).

    Attributes
    ----------
    tonnes : numpy.ndarray, shape (samples, edges)
        Edge tonnes: observed, given demand, allocation pairs, stock draws, then each
        market's stock build or surplus (the kernel's ``e_*`` positions).
    primary : numpy.ndarray, shape (samples, nodes)
        Primary production per node of the traced share.
    var : numpy.ndarray
        The tonnes of the edges that vary between samples (``ExposureKernel.var_edges``).
    failed : numpy.ndarray of bool
        Samples whose markets do not balance.
    reasons : list of str
        Why, per sample (empty when it did not fail).
    """

    tonnes: np.ndarray
    primary: np.ndarray
    var: np.ndarray
    failed: np.ndarray
    reasons: list[str]


def first_hop_measures(
    traced: np.ndarray,
    sums: np.ndarray,
    imports: np.ndarray,
    from_source: np.ndarray,
    cat_metric: np.ndarray,
    cat_market: np.ndarray,
    recorded_use: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Compute the :data:`FAST_METRICS` of catalogue rows from per-market sums (:mod:`supplychain.metrics.trade`).

    With production :math:`P`, imports :math:`I`, exports :math:`E`, imports from the
    source :math:`I_s`, stock draws :math:`R` and builds :math:`B` of a market,
    apparent consumption is :math:`AC = P + I - E + R - B`; direct import share
    :math:`I_s / I` (NaN without imports; the traced share NaN for a market no material
    reaches), direct share of consumption :math:`I_s / AC`
    and USGS net import reliance :math:`\mathrm{clip}((I - E + R - B) / AC, 0, 1)`
    (NaN for a net exporter, "E") exist only where :math:`AC` is positive beyond
    round-off: :func:`supplychain.metrics.trade.first_hop`, the one implementation.

    Parameters
    ----------
    traced : numpy.ndarray, shape (samples, markets)
        Traced share of each market node.
    sums : numpy.ndarray, shape (samples, 5, markets)
        :math:`P, I, E, R, B` (:func:`~supplychain.metrics.trade.market_sums`).
    imports, from_source : numpy.ndarray, shape (samples, markets)
        Imports summed over partners and over the source's partners
        (:func:`~supplychain.metrics.trade.source_imports`).
    cat_metric, cat_market : numpy.ndarray
        Metric code (:data:`FAST_METRICS` position) and market of each catalogue row.
    recorded_use : numpy.ndarray of bool, optional
        :attr:`~supplychain.metrics.trade.TradeIndex.market_use`: no net import reliance where
        a market's use is not recorded (:data:`~supplychain.metrics.trade.UNRECORDED_USE`).

    Returns
    -------
    values, present, fuzzy : numpy.ndarray, shape (samples, rows)
        Values, whether the row exists, and whether its existence hangs on round-off.
    """
    hop = first_hop(sums, imports, from_source, recorded_use)
    per_metric = np.stack([np.where(hop.supplied, traced, np.nan), hop.direct_import_share,
                           hop.direct_share_of_consumption,
                           hop.net_import_reliance])  # FAST_METRICS order
    out = per_metric[cat_metric, :, cat_market].T.copy()
    has_ac = hop.has_consumption
    always = np.ones_like(has_ac, dtype=bool)
    exists = np.stack([always, always, has_ac, has_ac])
    present = exists[cat_metric, :, cat_market].T.copy()
    fuzzy = np.stack([~always, ~always, hop.round_off, hop.round_off])[cat_metric, :, cat_market].T.copy()
    return out, present, fuzzy


INERT = (
    ("policies",),
    ("agreements",),
    ("countries",),
    ("toggles",),
    ("commodities",),
)
"""Key-path prefixes that cannot change the fast metrics of the unshocked network.

Policies, agreements and toggles act only through a shock (modes ``fixed`` and
``rebalance``); governance indicators, prices and ownership stakes feed other
metrics (supply risk, owner shares) that the fast path does not compute.
"""


def is_inert(path: KeyPath) -> bool:
    """Whether a sampled quantity cannot change the fast metrics (see :data:`INERT`)."""
    if any(path[: len(p)] == p for p in INERT):
        return True
    # ownership stakes and recycled shares feed owner_share / supply_risk only
    return len(path) >= 3 and path[0] == "facilities" and (path[2] == "owners" or path[2] == "recycled_share")


class Unsupported(Exception):  # noqa: N818 - internal signal, never leaves the fast path
    """The fast path cannot reproduce this scenario; use the per-sample path."""


def is_relevant(scenario: Scenario, path: KeyPath, year: int) -> bool:
    """Whether a quantity can change the tables of ``year`` at all (conservative: True when unsure)."""
    section = path[0]
    ident = path[1] if len(path) > 1 else None
    if section == "flows" and ident in scenario.flows:
        return scenario.flows[str(ident)].year == year
    if section == "imports" and ident in scenario.imports:
        return scenario.imports[str(ident)].year == year
    if section == "facilities" and ident in scenario.facilities and len(path) > 2:
        f = scenario.facilities[str(ident)]
        if path[2] == "production" and len(path) > 3:
            return path[3] == year
        if path[2] in ("capacity", "utilisation", "capacity_changes", "commissioning_year", "ramp_up_years"):
            return year not in f.production
    if section == "demand" and ident in scenario.demand and len(path) > 3 and path[2] == "by_year":
        return path[3] == year
    if section == "stockpiles" and ident in scenario.stockpiles:
        return scenario.stockpiles[str(ident)].year <= year
    return True


@dataclass(frozen=True)
class ExposureKernel:
    r"""One year's exposure measures for a block of samples, on arrays.

    The chain :func:`~supplychain.graph.build.build_tables` (observed edges, the
    allocation rules of :mod:`supplychain.graph.allocate`, the mass-balance check) →
    :func:`~supplychain.metrics.measures.measures_from_tables` for the metrics of
    :data:`FAST_METRICS`, with the sampled numbers in the values matrix:

    * observed edges, given demand and releasable stock: the year's
      :class:`~supplychain.graph.layout.YearLayout` evaluated on the block — the rows and
      formulas a run evaluates on the central values (the facility rows no sampled
      number feeds keep their central tonnes, :meth:`~supplychain.graph.layout.YearLayout.varying`);
    * the allocation rules, :func:`~supplychain.graph.allocate.close_markets` (the
      function every run calls): deficits to producers' spare output, then to other
      surpluses except round trips, stock draws, surplus or stock build, on the markets and
      closing edges a run lays out (:class:`~supplychain.graph.allocate.MarketClosing`), all
      kept: every pair of markets of a commodity is an edge;
    * traced share (:func:`~supplychain.engine.trace.traced_share` on the block's samples
      compiled side by side, :func:`~supplychain.engine.batch.compile_batch`), direct
      import share, direct share of apparent consumption and net import reliance (USGS;
      a net exporter is NaN, "E"), as in :mod:`supplychain.metrics.trade`.

    A sample whose facilities send more than they make or whose markets do not balance
    (where ``build_tables`` raises) is flagged as failed.
    """

    year: int
    layout: YearLayout
    base: np.ndarray
    sampled: np.ndarray
    sampled_names: tuple[str, ...]
    # the observed rows that vary (the others keep their central tonnes, summed once)
    var_obs: np.ndarray
    # markets: inflow, outflow and facility output over the observed and demand edges
    m_const: np.ndarray
    m_in: Groups
    m_out: Groups
    m_prod: Groups
    # the markets and their closing edges (pairs, stock draws, surplus: read by their named slices)
    closing: MarketClosing
    # the full edge list: observed, demand, allocation pairs, draws, builds or surplus
    n_edges: int
    tonnes_base: np.ndarray
    var_edges: np.ndarray
    n_nodes: int
    edge_src: np.ndarray
    edge_dst: np.ndarray
    primary_base: np.ndarray
    prim_var_node: np.ndarray
    prim_var_pos: np.ndarray
    stock_node_groups: Groups
    stock_nodes: np.ndarray
    source: np.ndarray
    # measures: where each edge counts, markets in the index's order; sums over constant edges
    trade: TradeIndex
    trade_var: TradeIndex
    sums_const: np.ndarray
    pairs_const: np.ndarray
    source_countries: frozenset[str]
    market_node: np.ndarray
    cat_metric: np.ndarray
    cat_market: np.ndarray

    @classmethod
    def build(cls, scenario: Scenario, spec: SamplingSpec, year: int, source: frozenset[str],
              catalogue: pd.DataFrame) -> ExposureKernel:
        """Prepare the kernel of one year.

        Raises :class:`Unsupported` for the limits listed in docs/uncertainty.md ("Compiled fast path").
        """
        lay = year_layout(scenario, year)
        observed, fac, problems, dem_cols, stock_cols = central_tables(scenario, lay)
        if problems:
            raise Unsupported("the central scenario has facility problems")
        names = {p.path: p.name for p in spec if p.kind == "quantity"}
        slot_names = [names.get(path) for path in lay.paths]
        read = set(lay.paths)
        unused = [p.name for p in spec if p.kind == "quantity" and p.path not in read
                  and not is_inert(p.path) and is_relevant(scenario, p.path, year)]
        if unused:
            msg = f"the fast path cannot patch {', '.join(unused[:3])}"
            raise Unsupported(msg)
        varies = np.array([n is not None for n in slot_names], dtype=bool)
        with_rest = set(lay.imp_entry[lay.imp_rest].tolist())
        if any(e not in with_rest and varies[s] for e, s in zip(lay.imp_entry.tolist(), lay.imp_share.tolist(),
                                                                strict=True)):
            raise Unsupported("an import's remainder edge appears only in some samples (its central shares add up "
                              "to 1 and some are sampled)")
        # the edges before closing, the markets and every edge that may close them: as a run lays them out
        both = concat_edges(observed, demand_edges(dem_cols))
        n_obs, n_both = len(observed["edge"]), len(both["edge"])
        markets = market_flow_sums(both)[0]
        closing = MarketClosing.of(markets, both, dem_cols, stock_cols)
        edges = concat_edges(both, closing.edges(np.zeros(closing.size)))
        n_m = len(markets)
        m_pos = {m: i for i, m in enumerate(markets)}
        buy_m = np.array([m_pos.get(b, -1) for b in both["buyer"].tolist()], dtype=np.int64)
        sup_m = np.array([m_pos.get(s, -1) for s in both["supplier"].tolist()], dtype=np.int64)
        is_supply = both["kind"] == "supply"
        e_draw = n_both + np.arange(closing.size, dtype=np.int64)[closing.draws]  # the stock draws' closing edges
        sup_ids, buy_ids = edges["supplier"].tolist(), edges["buyer"].tolist()
        st_nodes = [sup_ids[e] for e in e_draw.tolist()]

        node_table_ids = sorted(set(sup_ids) | set(buy_ids))
        n_pos = {nd: i for i, nd in enumerate(node_table_ids)}
        src_idx = np.array([n_pos[s] for s in sup_ids], dtype=np.int64)
        dst_idx = np.array([n_pos[b] for b in buy_ids], dtype=np.int64)
        node_country = [fac[nd].country if nd in fac else nd.split(":")[0] for nd in node_table_ids]
        in_source = np.array([c in source for c in node_country], dtype=bool)
        prim_nodes, prim_pos = [], []
        for fi, fx in enumerate(lay.facilities):
            if fx.primary and fx.facility in n_pos:
                prim_nodes.append(n_pos[fx.facility])
                prim_pos.append(fi)
        stock_node_group = np.full(len(sup_ids), -1, dtype=np.int64)
        stock_nodes = sorted(set(st_nodes))
        sn_pos = {nd: i for i, nd in enumerate(stock_nodes)}
        for e, node in zip(e_draw, st_nodes, strict=True):
            stock_node_group[e] = sn_pos[node]

        # where each edge counts in the first-hop measures (supplychain.metrics.trade)
        m_key = [mk.split(":", 1) for mk in markets]
        trade = trade_index(
            pd.DataFrame({"node": markets, "kind": "market", "country": [c for c, _ in m_key],
                          "commodity": [k for _, k in m_key], "stage": "", "basis": ""}),
            pd.DataFrame({c: edges[c] for c in ("supplier", "buyer", "supplier_country", "buyer_country",
                                                "commodity", "kind")}),
        )
        key_pos = {(str(c), str(k)): i for i, (c, k) in enumerate(zip(trade.market_country, trade.market_commodity,
                                                                         strict=True))}

        # catalogue → (metric code, market)
        metric_code = {m: i for i, m in enumerate(FAST_METRICS)}
        cat_metric = catalogue["metric"].map(metric_code).to_numpy()
        cat_market = np.array([key_pos.get((c, k), -1) for c, k in zip(catalogue["country"], catalogue["commodity"],
                                                                         strict=True)], dtype=np.int64)
        if (cat_market < 0).any() or np.isnan(cat_metric.astype(float)).any():
            raise Unsupported("a measure row has no market in the kernel")

        # what varies: the layout's rows that read a sampled slot, demand, and everything allocated
        part = lay.varying(np.flatnonzero(varies))
        imp_v = np.isin(part.imp_entry, part.imp_entry[varies[part.imp_total] | varies[part.imp_share]
                                                            | varies[part.imp_weight]])
        var_obs = np.unique(np.concatenate([part.flow_row[varies[part.flow_slot]], part.pair_row,
                                            part.imp_row[imp_v]])).astype(np.int64)
        var_both = np.concatenate([var_obs, np.arange(n_obs, n_both)])
        var_edges = np.concatenate([var_both, np.arange(n_both, len(sup_ids))]).astype(np.int64)
        tonnes_base = np.zeros(len(sup_ids))
        tonnes_base[:n_obs] = observed["tonnes"]
        tonnes_base[var_edges] = 0.0
        const_m = [np.bincount(g[g >= 0], weights=tonnes_base[: len(g)][g >= 0], minlength=n_m)
                   for g in (buy_m, sup_m, np.where(is_supply, buy_m, -1))]
        production = lay.evaluate(lay.central[None]).production[0]
        primary_base = np.zeros(len(node_table_ids))
        primary_base[prim_nodes] = production[prim_pos]
        var_fac = np.full(len(lay.facilities), -1, dtype=np.int64)
        var_fac[part.fac_rows] = np.arange(len(part.fac_rows))
        prim_var = var_fac[prim_pos] if prim_pos else np.zeros(0, dtype=np.int64)
        return cls(
            year=year, layout=part, base=observed["tonnes"], sampled=np.flatnonzero(varies),
            sampled_names=tuple(str(slot_names[i]) for i in np.flatnonzero(varies)),
            var_obs=var_obs, m_const=np.stack(const_m),
            m_in=Groups.of(buy_m[var_both], n_m), m_out=Groups.of(sup_m[var_both], n_m),
            m_prod=Groups.of(np.where(is_supply, buy_m, -1)[var_both], n_m), closing=closing,
            n_edges=len(sup_ids), tonnes_base=tonnes_base, var_edges=var_edges,
            n_nodes=len(node_table_ids), edge_src=src_idx, edge_dst=dst_idx, primary_base=primary_base,
            prim_var_node=np.array(prim_nodes, dtype=np.int64)[prim_var >= 0], prim_var_pos=prim_var[prim_var >= 0],
            stock_node_groups=Groups.of(stock_node_group[var_edges], len(stock_nodes)),
            stock_nodes=np.array([n_pos[nd] for nd in stock_nodes], dtype=np.int64),
            source=in_source, trade=trade, trade_var=trade.subset(var_edges),
            sums_const=market_sums(trade, tonnes_base), pairs_const=pair_sums(trade, tonnes_base),
            source_countries=source,
            market_node=np.array([n_pos[f"{c}:{k}"] for c, k in key_pos], dtype=np.int64),
            cat_metric=cat_metric.astype(np.int64), cat_market=cat_market,
        )

    # ------------------------------------------------------------- evaluate
    def matrix(self, x: np.ndarray, columns: Sequence[str]) -> np.ndarray:
        """Return the layout's values matrix (samples × slots) of sample rows (``x``: samples × ``columns``)."""
        q = np.empty((x.shape[0], len(self.layout.central)))
        q[:] = self.layout.central
        if len(self.sampled):
            pos = {c: i for i, c in enumerate(columns)}
            q[:, self.sampled] = x[:, [pos[name] for name in self.sampled_names]]
        return q

    def __call__(
        self, x: np.ndarray, columns: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Return the catalogue rows' values and presence per sample row, a failed mask and the reasons.

        ``x`` holds the sample rows as floats (toggles 0/1), one column per name in ``columns``.
        """
        step = max(1, KERNEL_CELLS // max(self.n_edges, 1))
        if len(x) <= step:
            return self._block(self.matrix(x, columns))
        parts = [self._block(self.matrix(x[i : i + step], columns)) for i in range(0, len(x), step)]
        return (
            np.vstack([p[0] for p in parts]),
            np.vstack([p[1] for p in parts]),
            np.vstack([p[2] for p in parts]),
            np.concatenate([p[3] for p in parts]),
            [r for p in parts for r in p[4]],
        )

    def tables(self, q: np.ndarray) -> KernelTables:
        """Return the year's baseline edge tonnes and primary production for a values matrix (:meth:`matrix`).

        As :func:`~supplychain.graph.build.build_tables`: the layout's rows evaluated, then the
        allocation rules (:func:`~supplychain.graph.allocate.close_markets`); samples whose
        facilities send more than they make or whose markets do not balance are flagged in ``failed``.
        """
        n_s = q.shape[0]
        failed = np.zeros(n_s, dtype=bool)
        reasons = [""] * n_s

        def fail(mask: np.ndarray, why: str) -> None:
            for i in np.flatnonzero(mask & ~failed):
                reasons[i] = why
            failed[:] |= mask

        v = self.layout.evaluate(q, self.base)
        fail(np.asarray(v.over.any(axis=1)), "flows out of (or into) a facility exceed what it makes (or uses)")
        both = np.hstack([v.tonnes[:, self.var_obs], v.demand])
        closed = close_markets(self.m_const[0] + self.m_in.sum(both), self.m_const[1] + self.m_out.sum(both),
                               self.m_const[2] + self.m_prod.sum(both), v.available[:, self.closing.held],
                               self.closing.layout)
        fail(np.asarray(closed.short.any(axis=1)), "a market is short (no spare production or stock covers it)")
        var = np.hstack([both, self.closing.tonnes(closed)])
        tonnes = np.empty((n_s, self.n_edges))
        tonnes[:] = self.tonnes_base
        tonnes[:, self.var_edges] = var
        # nodes: primary production of primary producers and stock releases
        primary = np.empty((n_s, self.n_nodes))
        primary[:] = self.primary_base
        primary[:, self.prim_var_node] = v.production[:, self.prim_var_pos]
        if self.stock_node_groups.n:
            primary[:, self.stock_nodes] = self.stock_node_groups.sum(var)
        return KernelTables(tonnes, primary, var, failed, reasons)

    def traced(self, tonnes: np.ndarray, primary: np.ndarray, failed: np.ndarray, reasons: list[str]) -> np.ndarray:
        """Traced share of every node in every sample (samples × nodes), solved by the engine.

        The samples are compiled together (:func:`~supplychain.engine.batch.compile_batch`)
        and solved by :func:`~supplychain.engine.trace.traced_share`; those already in
        ``failed`` are solved on zero tonnes and not used. When the block does not solve
        (a sample closes a loop), each sample is compiled and solved alone and those that
        fail are added to ``failed`` and ``reasons``, as the per-sample path fails them.
        """
        n_s, n = len(tonnes), self.n_nodes
        if failed.any():  # their tonnes may not be flows (e.g. more sent than made)
            tonnes, primary = np.where(failed[:, None], 0.0, tonnes), np.where(failed[:, None], 0.0, primary)
        try:
            cg = compile_batch(n, self.edge_src, self.edge_dst, tonnes, primary)
            t = np.empty(cg.n)
            t[cg.order] = traced_share(cg, np.tile(self.source, n_s)[cg.order])
            return t.reshape(n_s, n)
        except EngineError:
            out = np.zeros((n_s, n))
            for i in np.flatnonzero(~failed).tolist():
                try:
                    one = compile_arrays(n, self.edge_src, self.edge_dst, tonnes[i], primary[i])
                    out[i, one.order] = traced_share(one, self.source[one.order])
                except EngineError as exc:
                    failed[i] = True
                    reasons[i] = f"EngineError: {exc}"
            return out

    def _block(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        tab = self.tables(q)
        failed = tab.failed
        t = self.traced(tab.tonnes, tab.primary, failed, tab.reasons)
        # first-hop measures (supplychain.metrics.trade): constant edges summed once, varying edges per sample
        sums = self.sums_const + market_sums(self.trade_var, tab.var)
        imports, from_source = source_imports(self.trade, self.pairs_const + pair_sums(self.trade_var, tab.var),
                                              self.source_countries)
        out, present, fuzzy = first_hop_measures(t[:, self.market_node], sums, imports, from_source,
                                                 self.cat_metric, self.cat_market, self.trade.market_use)
        out[failed] = np.nan
        present[failed] = False
        return out, present, fuzzy, failed, tab.reasons


@dataclass(frozen=True)
class PatchedExposureModel:
    """Sweep model of the compiled fast path: one :class:`ExposureKernel` per year.

    Parameters
    ----------
    kernels : tuple of ExposureKernel
        One per year, in year order.
    catalogue : pandas.DataFrame
        The measure rows the kernels fill, in kernel order (normalised).
    on_error : {"raise", "nan"}
        What to do with a sample whose markets do not balance.
    """

    kernels: tuple[ExposureKernel, ...]
    catalogue: pd.DataFrame
    on_error: str = "raise"

    @property
    def description(self) -> str:
        """What the model computes."""
        return "compiled exposure kernel (network built once, sampled tonnes patched, solved on arrays)"

    def evaluate(self, inputs: pd.DataFrame, *, detail: bool = False) -> ChunkResult:
        """Compute the catalogue's measures for each sample row.

        Parameters
        ----------
        inputs : pandas.DataFrame
            Sample rows.
        detail : bool
            Keep per-cell ``present`` and ``fuzzy`` masks (to check the kernel);
            by default only which measures are present at all is returned, to keep
            what workers send back small.

        Returns
        -------
        ChunkResult
            Values aligned on :attr:`catalogue`.

        Raises
        ------
        SampleError
            With ``on_error="raise"``, for the first sample whose tables do not balance.
        """
        t0 = time.perf_counter()
        blocks = []
        shows = []
        failed = np.zeros(len(inputs), dtype=bool)
        reasons = [""] * len(inputs)
        fuzzies = []
        x = inputs.to_numpy(dtype=float) if len(inputs.columns) else np.zeros((len(inputs), 0))
        columns = [str(c) for c in inputs.columns]
        for k in self.kernels:
            vals, present, fuzzy, bad, why = k(x, columns)
            blocks.append(vals)
            shows.append(present)
            fuzzies.append(fuzzy)
            for j in np.flatnonzero(bad & ~failed).tolist():
                reasons[j] = f"{k.year}: {why[j]}"
            failed |= bad
        samples = np.asarray(inputs.index, dtype=np.int64)
        values = np.hstack(blocks) if blocks else np.empty((len(inputs), 0))
        present = np.hstack(shows) if shows else np.empty((len(inputs), 0), dtype=bool)
        fuzzy = np.hstack(fuzzies) if fuzzies else np.empty((len(inputs), 0), dtype=bool)
        # no raise: the kernels run the base year alone (patched_model), whose outputs are records
        # (supplychain.graph.spare.raised_table lists none before a later year)
        return chunk_result(samples, self.catalogue, values, present, fuzzy, failed, reasons,
                            on_error=self.on_error, detail=detail, started=t0, raised=empty_raised())


def _potential_rows(central: pd.DataFrame, select: MeasureFilter, source_name: str) -> pd.DataFrame:
    """Add the rows that exist only in some samples to a year's central catalogue.

    Direct share of consumption and NIR exist only where apparent consumption is
    positive, which a sample may change; every market (known from its traced-share
    row) gets both rows, and rows that exist in no sample are dropped later.
    """
    metrics = [m for m in ("direct_share_of_consumption", "net_import_reliance") if m in select.metrics]
    base = central[central["metric"].eq("traced_share")]
    if not metrics or not len(base):
        return central
    extra = []
    for metric in metrics:
        have = central[central["metric"].eq(metric)]
        rows = base.copy()
        rows["metric"] = metric
        rows["source_country"] = source_name if metric == "direct_share_of_consumption" else ""
        rows["unit"] = have["unit"].iloc[0] if len(have) else "share"
        extra.append(rows)
    keys = [c for c in central.columns if c not in ATTRIBUTE_COLUMNS]
    out = pd.concat([central, *extra], ignore_index=True).drop_duplicates(subset=keys, keep="first")
    return out.reset_index(drop=True)


def patched_model(
    scenario: Scenario,
    spec: SamplingSpec,
    *,
    mode: Mode,
    years: Sequence[int],
    source: str | None,
    select: MeasureFilter,
    on_error: str = "raise",
) -> tuple[SweepModel | None, str]:
    """Compile the fast path, or say why it does not apply.

    The fast path applies to ``mode="exposure"`` when every kept metric is in
    :data:`FAST_METRICS` and every sampled quantity is one the kernel can patch
    (flows, imports, facility production/capacity/utilisation, demand, stock),
    or cannot change the unshocked network (policies, agreements, toggles,
    governance indicators, prices, ownership stakes), and the year's layout has the
    same rows in every sample (:class:`Unsupported`: the limits listed in
    docs/uncertainty.md). The kernel evaluates the layout a run evaluates, so it is
    not checked against the per-sample path at run time (the tests do that).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    spec : SamplingSpec
        Sampled parameters.
    mode : {"exposure", "fixed", "rebalance"}
        Only ``exposure`` has a fast path.
    years : sequence of int
        Years.
    source : str or None
        Source country (default: the scenario's).
    select : MeasureFilter
        Measure rows kept.
    on_error : {"raise", "nan"}
        Passed to the model.

    Returns
    -------
    model : SweepModel or None
        The compiled model, or ``None``.
    reason : str
        Why the fast path is not used (empty when it is).
    """
    from supplychain.simulation.toggles import switches_world

    if switches_world(scenario):
        return None, ("toggles switch facilities, flows, stockpiles or offtakes: each sample is computed "
                      "in its own world")
    if mode != "exposure":
        return None, f"mode {mode!r} runs the supply response (simulate) per sample"
    later = [y for y in years if y > scenario.scenario.base_year]
    if later:
        return None, (f"the compiled path does not carry the base year's trade pattern to later years "
                      f"({later[0]}…; supplychain.graph.pattern): every sample is computed")
    extra = sorted(set(select.metrics) - set(FAST_METRICS) - {"shortfall_share"}) if select.metrics else ["(all)"]
    if extra:
        return None, f"metrics {', '.join(extra)} are not computed by the fast path"
    from supplychain.graph.build import build_tables
    from supplychain.metrics.measures import compute_measures, resolve_source

    src_name = source or scenario.scenario.source_country
    fast_select = MeasureFilter(
        tuple(m for m in (select.metrics or FAST_METRICS) if m in FAST_METRICS),
        select.countries,
        select.commodities,
        select.years,
        tuple(k for k in select.always if k[0] in FAST_METRICS),
    )
    kernels = []
    catalogues = []
    try:
        for year in years:
            nodes, _ = build_tables(scenario, year)
            universe = set(nodes["country"].astype(str)) | set(scenario.countries) | set(scenario.regions)
            src = resolve_source(scenario, src_name, universe)
            central = normalise_measures(fast_select.apply(compute_measures(scenario, year, source=src_name)))
            cat = _potential_rows(central.drop(columns="value"), fast_select, src_name)
            kernels.append(ExposureKernel.build(scenario, spec, year, src, cat))
            catalogues.append(cat)
    except Unsupported as exc:
        return None, str(exc)
    catalogue = pd.concat(catalogues, ignore_index=True) if catalogues else empty_catalogue()
    return PatchedExposureModel(tuple(kernels), catalogue, on_error), ""
