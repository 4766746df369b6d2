"""The compiled array fast path: one year's exposure measures for a block of samples.

:class:`ExposureKernel` is built once per sweep and year from the central
scenario (the observed edges, the demand and stock rows, the candidate
allocation pairs and the node structure of the traced share); per block of
samples it patches the sampled tonnes in, runs the allocation rules on arrays,
solves the traced share with the engine (the block compiled as copies of the
network side by side, :func:`~supplychain.engine.batch.compile_batch`, and solved
by :func:`~supplychain.engine.trace.traced_share`) and computes the first-hop
measures. Which slot feeds which table row is worked out in
:mod:`supplychain.uncertainty.paths`; which edges vary between samples in
:mod:`supplychain.uncertainty.plan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from supplychain.engine.batch import compile_batch
from supplychain.engine.compile import compile_arrays
from supplychain.engine.trace import traced_share
from supplychain.errors import EngineError
from supplychain.graph.allocate import MarketLayout, close_markets, releasable
from supplychain.graph.build import grown, import_split, net_of_direct
from supplychain.graph.sums import Groups
from supplychain.metrics.trade import TradeIndex, first_hop, market_sums, pair_sums, source_imports, trade_index
from supplychain.schema.model import Scenario
from supplychain.uncertainty.paths import (
    Quantities,
    Unsupported,
    demand_slots,
    facility_pairs,
    facility_slots,
    flow_slots,
    import_slots,
    is_inert,
    is_relevant,
    stock_slots,
)
from supplychain.uncertainty.plan import VaryPlan, multiply_slots
from supplychain.uncertainty.sampling import SamplingSpec

__all__ = ["FAST_METRICS", "KERNEL_CELLS", "SWEEP_METRICS", "ExposureKernel", "KernelTables",
           "first_hop_measures"]


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
        The varying edges' tonnes (``plan.var_edges`` order).
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

    Returns
    -------
    values, present, fuzzy : numpy.ndarray, shape (samples, rows)
        Values, whether the row exists, and whether its existence hangs on round-off.
    """
    hop = first_hop(sums, imports, from_source)
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


@dataclass(frozen=True)
class ExposureKernel:
    r"""One year's exposure measures for a block of samples, on arrays.

    Mirrors, for the metrics of :data:`FAST_METRICS`, the chain
    :func:`~supplychain.graph.build.build_tables` (observed edges, then the
    allocation rules of :mod:`supplychain.graph.allocate`, then the mass-balance
    check) → :func:`~supplychain.metrics.measures.measures_from_tables`, with the
    sampled numbers patched in and everything else fixed at build time:

    * observed edges: ``flows`` tonnes, ``imports`` (total × partner share, the
      remainder to ``remainder_to``: :func:`~supplychain.graph.build.import_split`),
      facility production (``production[year]``, else capacity × ramp-up × utilisation)
      times the process coefficients, less direct flows
      (:func:`~supplychain.graph.build.net_of_direct`);
    * given demand (``by_year`` or ``tonnes × (1 + growth)^(year − year₀)``:
      :func:`~supplychain.graph.build.grown`) and releasable stock
      (:func:`~supplychain.graph.allocate.releasable`) — the functions a run calls, here
      with a sample axis;
    * the allocation rules themselves, :func:`~supplychain.graph.allocate.close_markets`
      (the function every run calls, here with a sample axis): deficits to producers'
      spare output, then to other surpluses except round trips, stock draws, surplus
      or stock build — every pair of markets of a commodity is an edge;
    * traced share (:func:`~supplychain.engine.trace.traced_share` on the block's samples
      compiled side by side, :func:`~supplychain.engine.batch.compile_batch`), direct import share, direct share of
      apparent consumption and net import reliance (USGS; a net exporter is NaN,
      "E"), as in :mod:`supplychain.metrics.trade`.

    A sample whose markets do not balance (the case where ``build_tables``
    raises) is flagged as failed. :func:`patched_model` checks the kernel against
    the per-sample path before using it.
    """

    year: int
    q: Quantities
    # observed edges
    n_obs: int
    flow_edge: np.ndarray
    flow_slot: np.ndarray
    fac_pairs_edge: np.ndarray
    fac_pairs_prod: np.ndarray
    fac_pairs_ratio: np.ndarray
    fac_prod_slots: np.ndarray
    fac_prod_scale: np.ndarray
    imp_edge: np.ndarray
    imp_total: np.ndarray
    imp_share: np.ndarray
    imp_remainder: np.ndarray
    obs_base: np.ndarray
    # demand and stock
    dem_slots: np.ndarray
    dem_growth: np.ndarray
    dem_power: np.ndarray
    dem_market: Groups
    stock_level: np.ndarray
    stock_months: np.ndarray
    stock_share: np.ndarray
    # markets
    n_markets: int
    m_in: Groups
    m_out: Groups
    m_prod: Groups
    layout: MarketLayout
    # the full edge list
    n_edges: int
    e_obs: np.ndarray
    e_dem: np.ndarray
    e_pair: np.ndarray
    e_draw: np.ndarray
    e_build: np.ndarray
    e_use: np.ndarray
    n_nodes: int
    edge_src: np.ndarray
    edge_dst: np.ndarray
    prim_fac_node: np.ndarray
    prim_fac_pos: np.ndarray
    stock_node_groups: Groups
    stock_nodes: np.ndarray
    source: np.ndarray
    # measures: where each edge counts, markets in the index's order
    trade: TradeIndex
    source_countries: frozenset[str]
    market_node: np.ndarray
    cat_metric: np.ndarray
    cat_market: np.ndarray
    # what varies between samples (the rest is computed once, at the central values)
    plan: VaryPlan | None = None

    @classmethod
    def build(cls, scenario: Scenario, spec: SamplingSpec, year: int, source: frozenset[str],
              catalogue: pd.DataFrame) -> ExposureKernel:
        """Prepare the kernel of one year.

        Raises :class:`~supplychain.uncertainty.paths.Unsupported` when it cannot mirror the scenario.
        """
        from supplychain.graph.allocate import demand_table, stock_table
        from supplychain.graph.build import observed_edges, stock_id, surplus_id, use_id

        q = Quantities(spec)
        obs, fac, problems = observed_edges(scenario, year)
        if problems:
            raise Unsupported("the central scenario has facility problems")
        edge_pos = {str(e): i for i, e in enumerate(obs["edge"])}
        n_obs = len(obs)
        base = obs["tonnes"].to_numpy(dtype=float).copy()

        flow_edge, flow_slot = flow_slots(q, scenario, year, edge_pos)
        fac_ids, prod_slots, prod_scale = facility_slots(q, scenario, fac, year)
        pair_edge, pair_prod, pair_ratio, d_out, d_in = facility_pairs(
            scenario, fac, fac_ids, year, edge_pos, flow_edge
        )
        imp_edge, imp_total, imp_share, imp_rem = import_slots(q, scenario, year, edge_pos)
        dem = demand_table(scenario, year)
        stocks = stock_table(scenario, year, dem)
        dem_slots, dem_growth, dem_power = demand_slots(q, scenario, year, dem)

        dem_edges = pd.DataFrame({
            "edge": dem["entity"].astype(str), "supplier": dem["market"].astype(str),
            "buyer": [use_id(c, k) for c, k in zip(dem["country"], dem["commodity"], strict=True)],
            "commodity": dem["commodity"].astype(str), "kind": "use",
        })
        both = pd.concat([obs[["supplier", "buyer", "commodity", "kind"]], dem_edges[
            ["supplier", "buyer", "commodity", "kind"]]], ignore_index=True)
        is_m_buy = both["buyer"].str.count(":").eq(1).to_numpy()
        is_m_sup = both["supplier"].str.count(":").eq(1).to_numpy()
        markets = sorted(set(both["buyer"][is_m_buy]) | set(both["supplier"][is_m_sup]))
        m_pos = {m: i for i, m in enumerate(markets)}
        n_m = len(markets)
        buy_m = np.array([m_pos.get(b, -1) if ib else -1 for b, ib in zip(both["buyer"], is_m_buy, strict=True)])
        sup_m = np.array([m_pos.get(s, -1) if im else -1 for s, im in zip(both["supplier"], is_m_sup, strict=True)])
        is_supply = both["kind"].eq("supply").to_numpy()
        has_demand = np.zeros(n_m, dtype=bool)
        for mk in dem["market"].astype(str):
            has_demand[m_pos[mk]] = True

        st_market, st_level, st_months, st_share, st_nodes = stock_slots(q, scenario, stocks, m_pos)
        layout = MarketLayout.of(markets, obs, st_market)

        # the full edge list: observed, demand, allocation pairs, draws, builds, surplus
        sup_ids = list(obs["supplier"].astype(str)) + list(dem_edges["supplier"])
        buy_ids = list(obs["buyer"].astype(str)) + list(dem_edges["buyer"])
        kinds = list(obs["kind"].astype(str)) + ["use"] * len(dem_edges)
        s_country = list(obs["supplier_country"].astype(str)) + list(dem["country"].astype(str))
        b_country = list(obs["buyer_country"].astype(str)) + list(dem["country"].astype(str))
        com = list(obs["commodity"].astype(str)) + list(dem_edges["commodity"])

        def add(s: str, b: str, kind: str, sc: str, bc: str, k: str) -> int:
            sup_ids.append(s)
            buy_ids.append(b)
            kinds.append(kind)
            s_country.append(sc)
            b_country.append(bc)
            com.append(k)
            return len(sup_ids) - 1

        e_obs = np.arange(n_obs)
        e_dem = np.arange(n_obs, n_obs + len(dem_edges))
        e_pair = np.array([add(markets[j], markets[i], "trade", markets[j].split(":")[0], markets[i].split(":")[0],
                               markets[i].split(":", 1)[1])
                           for i, j in zip(layout.pair_i.tolist(), layout.pair_j.tolist(), strict=True)],
                          dtype=np.int64)
        e_draw = np.array([add(node, markets[m], "stock", markets[m].split(":")[0], markets[m].split(":")[0],
                               markets[m].split(":", 1)[1]) for (_, node), m in zip(st_nodes, st_market, strict=True)],
                          dtype=np.int64)
        e_build, e_use = [], []
        for m, mk in enumerate(markets):
            c, k = mk.split(":", 1)
            if has_demand[m]:
                e_build.append(add(mk, stock_id(c, k), "stock", c, c, k))
                e_use.append(-1)
            else:
                e_build.append(-1)
                e_use.append(add(mk, surplus_id(c, k), "surplus", c, c, k))

        node_table_ids = sorted(set(sup_ids) | set(buy_ids))
        n_pos = {nd: i for i, nd in enumerate(node_table_ids)}
        src_idx = np.array([n_pos[s] for s in sup_ids], dtype=np.int64)
        dst_idx = np.array([n_pos[b] for b in buy_ids], dtype=np.int64)
        node_country = [fac[nd].country if nd in fac else nd.split(":")[0] for nd in node_table_ids]
        in_source = np.array([c in source for c in node_country], dtype=bool)
        prim_nodes, prim_pos = [], []
        for fi, fid in enumerate(fac_ids):
            if fac[fid].primary and fid in n_pos:
                prim_nodes.append(n_pos[fid])
                prim_pos.append(fi)
        stock_node_group = np.full(len(sup_ids), -1, dtype=np.int64)
        stock_nodes = sorted({node for _, node in st_nodes})
        sn_pos = {nd: i for i, nd in enumerate(stock_nodes)}
        for e, (_, node) in zip(e_draw, st_nodes, strict=True):
            stock_node_group[e] = sn_pos[node]
        stock_node_index = np.array([n_pos[nd] for nd in stock_nodes], dtype=np.int64)

        # where each edge counts in the first-hop measures (supplychain.metrics.trade)
        m_key = [mk.split(":", 1) for mk in markets]
        trade = trade_index(
            pd.DataFrame({"node": markets, "kind": "market", "country": [c for c, _ in m_key],
                          "commodity": [k for _, k in m_key], "stage": "", "basis": ""}),
            pd.DataFrame({"supplier": sup_ids, "buyer": buy_ids, "supplier_country": s_country,
                          "buyer_country": b_country, "commodity": com, "kind": kinds}),
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

        unused = [p.name for p in spec if p.kind == "quantity" and p.path not in q.used
                  and not is_inert(p.path) and is_relevant(scenario, p.path, year)]
        if unused:
            msg = f"the fast path cannot patch {', '.join(unused[:3])}"
            raise Unsupported(msg)

        kernel = cls(
            year=year, q=q, n_obs=n_obs,
            flow_edge=np.array(flow_edge, dtype=np.int64), flow_slot=np.array(flow_slot, dtype=np.int64),
            fac_pairs_edge=np.array(pair_edge, dtype=np.int64), fac_pairs_prod=np.array(pair_prod, dtype=np.int64),
            fac_pairs_ratio=np.array(pair_ratio, dtype=float),
            fac_prod_slots=np.array(prod_slots, dtype=np.int64).reshape(len(fac_ids), 3),
            fac_prod_scale=np.array(prod_scale, dtype=float),
            imp_edge=np.array(imp_edge, dtype=np.int64), imp_total=np.array(imp_total, dtype=np.int64),
            imp_share=np.array(imp_share, dtype=np.int64), imp_remainder=np.array(imp_rem, dtype=np.int64),
            obs_base=base,
            dem_slots=np.array(dem_slots, dtype=np.int64), dem_growth=np.array(dem_growth, dtype=np.int64),
            dem_power=np.array(dem_power, dtype=float),
            dem_market=Groups.of(np.array([m_pos[str(m)] for m in dem["market"]], dtype=np.int64), n_m),
            stock_level=np.array(st_level, dtype=np.int64),
            stock_months=np.array(st_months, dtype=np.int64), stock_share=np.array(st_share, dtype=np.int64),
            n_markets=n_m,
            m_in=Groups.of(buy_m, n_m), m_out=Groups.of(sup_m, n_m),
            m_prod=Groups.of(np.where(is_supply, buy_m, -1), n_m),
            layout=layout,
            n_edges=len(sup_ids), e_obs=e_obs, e_dem=e_dem, e_pair=e_pair, e_draw=e_draw,
            e_build=np.array(e_build, dtype=np.int64), e_use=np.array(e_use, dtype=np.int64),
            n_nodes=len(node_table_ids), edge_src=src_idx, edge_dst=dst_idx,
            prim_fac_node=np.array(prim_nodes, dtype=np.int64), prim_fac_pos=np.array(prim_pos, dtype=np.int64),
            stock_node_groups=Groups.of(stock_node_group, len(stock_nodes)),
            stock_nodes=stock_node_index,
            source=in_source,
            trade=trade, source_countries=source,
            market_node=np.array([n_pos[f"{c}:{k}"] for c, k in key_pos], dtype=np.int64),
            cat_metric=cat_metric.astype(np.int64), cat_market=cat_market,
        )
        return replace(kernel, plan=VaryPlan.of(kernel, d_out, d_in))

    # ------------------------------------------------------------- evaluate
    def __call__(
        self, x: np.ndarray, columns: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Return the catalogue rows' values and presence per sample row, a failed mask and the reasons.

        ``x`` holds the sample rows as floats (toggles 0/1), one column per name in ``columns``.
        """
        step = max(1, KERNEL_CELLS // max(self.n_edges, 1))
        if len(x) <= step:
            return self._block(self.q.matrix(x, columns))
        parts = [self._block(self.q.matrix(x[i : i + step], columns)) for i in range(0, len(x), step)]
        return (
            np.vstack([p[0] for p in parts]),
            np.vstack([p[1] for p in parts]),
            np.vstack([p[2] for p in parts]),
            np.concatenate([p[3] for p in parts]),
            [r for p in parts for r in p[4]],
        )

    def tables(self, qv: np.ndarray) -> KernelTables:
        """Return the year's baseline edge tonnes and primary production for slot rows (``Quantities.matrix``).

        As :func:`~supplychain.graph.build.build_tables`: observed edges with the sampled numbers, then the
        allocation rules (:func:`~supplychain.graph.allocate.close_markets`); samples whose markets do not
        balance are flagged in ``failed``.
        """
        plan = self.plan
        assert plan is not None
        n_s = qv.shape[0]
        failed = np.zeros(n_s, dtype=bool)
        reasons = [""] * n_s

        def fail(mask: np.ndarray, why: str) -> None:
            for i in np.flatnonzero(mask & ~failed):
                reasons[i] = why
            failed[:] |= mask

        # observed edges that vary: flows, facility supply/input edges, imports
        obs_v = np.zeros((n_s, len(plan.var_obs)))
        flows_v = qv[:, self.flow_slot[plan.flow_var]]
        obs_v[:, plan.flow_col] = flows_v
        prod_v = multiply_slots(qv, self.fac_prod_slots[plan.fac_var]) * self.fac_prod_scale[plan.fac_var]
        if len(plan.pair_var):
            prod_all = np.array(np.broadcast_to(plan.prod_base, (n_s, len(plan.prod_base))))
            prod_all[:, plan.fac_var] = prod_v
            gross = prod_all[:, self.fac_pairs_prod[plan.pair_var]] * self.fac_pairs_ratio[plan.pair_var]
            sent = plan.sent_const + plan.sent_out.sum(flows_v) + plan.sent_in.sum(flows_v)
            net, over = net_of_direct(gross, sent)
            fail(np.asarray(over.any(axis=1)), "flows out of (or into) a facility exceed what it makes (or uses)")
            obs_v[:, plan.pair_col] = net
        if len(plan.imp_rows):
            rows = plan.imp_rows
            total = qv[:, self.imp_total[rows]]
            shares = self.imp_share[rows]
            share = np.where(shares >= 0, qv[:, np.maximum(shares, 0)], 0.0)
            to_partner, to_rest = import_split(total, share, plan.imp_rem_groups.sum(share))
            obs_v[:, plan.imp_col] = np.where(self.imp_remainder[rows] > 0, to_rest, to_partner)
        # demand
        d = qv[:, self.dem_slots]
        if len(self.dem_slots):
            g = np.where(self.dem_growth >= 0, qv[:, np.maximum(self.dem_growth, 0)], 0.0)
            d = grown(d, g, self.dem_power)
        dem_m = self.dem_market.sum(d)
        # releasable stock
        stock_market = self.layout.stock_market
        avail = np.zeros((n_s, len(stock_market)))
        if len(stock_market):
            avail = releasable(np.where(self.stock_level >= 0, qv[:, np.maximum(self.stock_level, 0)], 0.0),
                               np.where(self.stock_months >= 0, qv[:, np.maximum(self.stock_months, 0)], 0.0),
                               dem_m[:, stock_market], qv[:, self.stock_share], self.stock_months >= 0)
        # the allocation rules (graph.allocate): market sums of constant edges once, of varying edges per sample
        closed = close_markets(plan.m_in_const + plan.m_in_var.sum(obs_v),
                               plan.m_out_const + plan.m_out_var.sum(obs_v) + dem_m,
                               plan.m_prod_const + plan.m_prod_var.sum(obs_v), avail, self.layout)
        fail(np.asarray(closed.short.any(axis=1)), "a market is short (no spare production or stock covers it)")
        var = np.empty((n_s, len(plan.var_edges)))
        var[:, plan.v_obs] = obs_v
        var[:, plan.v_dem] = d
        var[:, plan.v_pair] = closed.trade
        var[:, plan.v_draw] = closed.draw
        var[:, plan.v_left] = closed.left
        tonnes = np.array(np.broadcast_to(plan.tonnes_base, (n_s, self.n_edges)))
        tonnes[:, plan.var_edges] = var
        # nodes: primary production of primary producers and stock releases
        primary = np.array(np.broadcast_to(plan.primary_base, (n_s, self.n_nodes)))
        if len(plan.prim_var_node):
            primary[:, plan.prim_var_node] = prod_v[:, plan.prim_var_pos]
        if self.stock_node_groups.n:
            primary[:, self.stock_nodes] = plan.stock_node_var.sum(var)
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

    def _block(self, qv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        plan = self.plan
        assert plan is not None
        tab = self.tables(qv)
        tonnes, primary, var, failed = tab.tonnes, tab.primary, tab.var, tab.failed
        t = self.traced(tonnes, primary, failed, tab.reasons)
        # first-hop measures (supplychain.metrics.trade): constant edges summed once, varying edges per sample
        sums = plan.sums_const + market_sums(plan.trade_var, var)
        imports, from_source = source_imports(self.trade, plan.pairs_const + pair_sums(plan.trade_var, var),
                                              self.source_countries)
        out, present, fuzzy = first_hop_measures(t[:, self.market_node], sums, imports, from_source,
                                                 self.cat_metric, self.cat_market)
        out[failed] = np.nan
        present[failed] = False
        return out, present, fuzzy, failed, tab.reasons

