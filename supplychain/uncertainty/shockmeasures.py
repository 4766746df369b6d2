"""Exposure measures of the re-routed network, for a block of samples, on arrays.

:class:`AfterShockMeasures` mirrors, for the metrics a compiled rebalance sweep
keeps (:data:`~supplychain.uncertainty.kernel.FAST_METRICS` and
``shortfall_share``), what :meth:`supplychain.simulation.run.Simulator.run` does
after each year's solve: the simulated node table (primary production of primary
producers = their simulated output, stock releases as primary supply of the stock
node, ``_sim_nodes``), the simulated edges (model edges and one release edge per
stock market, ``_add_release_edges``), then
:func:`~supplychain.metrics.measures.measures_from_tables` for the traced share and
the first-hop measures, and the shortfall share per use node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from supplychain.simulation.rebalance import RebalanceModel
from supplychain.uncertainty.kernel import FAST_METRICS, first_hop_groups, first_hop_measures
from supplychain.uncertainty.paths import Unsupported
from supplychain.uncertainty.plan import Groups
from supplychain.uncertainty.tracer import BatchTracer

__all__ = ["RELEASE_TOL", "AfterShockMeasures"]

RELEASE_TOL = 1e-6
"""Stock draws at most this many tonnes are not released (``simulation.run.TOL``)."""


@dataclass(frozen=True)
class AfterShockMeasures:
    """One year's measures of the re-routed network for a block of samples.

    Built once from the :class:`~supplychain.simulation.rebalance.RebalanceModel`
    structure and the year's catalogue rows; :meth:`__call__` takes the solved
    tonnes of the model edges, the stock draws and the shortfall shares of every
    sample.
    """

    n_edges: int
    n_nodes: int
    sel_fac: np.ndarray
    stock_nodes: np.ndarray
    base_primary: np.ndarray
    release_node: np.ndarray
    out_matrix: sp.csr_matrix
    in_matrix: sp.csr_matrix
    tracer: BatchTracer
    source: np.ndarray
    groups: tuple[Groups, ...]
    market_node: np.ndarray
    row_metric: np.ndarray
    row_market: np.ndarray
    row_use: np.ndarray
    rows_fast: np.ndarray
    rows_short: np.ndarray

    @classmethod
    def build(cls, model: RebalanceModel, source: frozenset[str], catalogue: pd.DataFrame) -> AfterShockMeasures:
        """Prepare the measures of the catalogue rows (one year's) on ``model``'s network.

        Raises :class:`~supplychain.uncertainty.paths.Unsupported` for a row it cannot compute.
        """
        nodes = model.nodes
        ids = nodes["node"].astype(str).to_numpy()
        kind = nodes["kind"].astype(str).to_numpy()
        country = nodes["country"].astype(str).to_numpy()
        commodity = nodes["commodity"].astype(str).to_numpy()
        n, ne = len(ids), len(model.edges)
        pos = {nd: i for i, nd in enumerate(ids)}
        # release nodes "C:k:stock" of the stock markets (new nodes when the network has none)
        release: list[int] = []
        extra_c: list[str] = []
        extra_k: list[str] = []
        for m in model.stock_markets.tolist():
            rid = f"{ids[m]}:stock"
            if rid not in pos:
                pos[rid] = n + len(extra_c)
                extra_c.append(country[m])
                extra_k.append(commodity[m])
            release.append(pos[rid])
        n_all = n + len(extra_c)
        primary = nodes["primary"].astype(float).fillna(0.0).to_numpy() if "primary" in nodes else np.zeros(n)
        base_primary = np.concatenate([primary, np.zeros(len(extra_c))])
        is_fac = kind == "facility"
        invested = np.array(["." in i for i in ids], dtype=bool)  # investment facilities: "<agreement>.<project>"
        sel_fac = np.flatnonzero(is_fac & ((primary > 0) | invested))
        stock_nodes = np.flatnonzero(kind == "stock")
        src = np.asarray(model.index.src, dtype=np.int64)
        dst = np.asarray(model.index.dst, dtype=np.int64)
        ones = np.ones(ne)
        out_matrix = sp.csr_matrix((ones, (np.arange(ne), src)), shape=(ne, n_all))
        in_matrix = sp.csr_matrix((ones, (np.arange(ne), dst)), shape=(ne, n_all))
        rel = np.asarray(release, dtype=np.int64)
        all_src = np.concatenate([src, rel])
        all_dst = np.concatenate([dst, model.stock_markets.astype(np.int64)])
        node_country = np.concatenate([country, np.asarray(extra_c, dtype=str)]) if extra_c else country
        in_source = np.array([c in source for c in node_country], dtype=bool)

        # first-hop groups per market (as ExposureKernel.build / metrics.trade.trade_summary)
        markets = np.flatnonzero(kind == "market")
        key_pos = {(country[m], commodity[m]): i for i, m in enumerate(markets.tolist())}
        e = model.edges
        sup = np.concatenate([e["supplier"].astype(str).to_numpy(), np.array([f"{ids[m]}:stock" for m in
                                                                              model.stock_markets.tolist()])])
        buy = np.concatenate([e["buyer"].astype(str).to_numpy(), ids[model.stock_markets]])
        kinds = np.concatenate([e["kind"].astype(str).to_numpy(), np.full(len(rel), "stock")])
        sc = np.concatenate([e["supplier_country"].astype(str).to_numpy(), country[model.stock_markets]])
        bc = np.concatenate([e["buyer_country"].astype(str).to_numpy(), country[model.stock_markets]])
        com = np.concatenate([e["commodity"].astype(str).to_numpy(), commodity[model.stock_markets]])
        groups = first_hop_groups(sup.tolist(), buy.tolist(), kinds, sc, bc, com, key_pos, source)
        # catalogue rows → metric code and market, or use node
        use_pos = {(country[u], commodity[u]): i for i, u in enumerate(model.uses.tolist())}
        code = {m: i for i, m in enumerate(FAST_METRICS)}
        metric = catalogue["metric"].astype(str).to_numpy()
        keys = list(zip(catalogue["country"].astype(str), catalogue["commodity"].astype(str), strict=True))
        short = metric == "shortfall_share"
        fast = np.array([m in code for m in metric], dtype=bool)
        if not (short | fast).all():
            other = sorted(set(metric[~(short | fast)]))
            msg = f"metrics {', '.join(other)} are not computed by the compiled rebalance path"
            raise Unsupported(msg)
        row_market = np.array([key_pos.get(k, -1) for k in keys], dtype=np.int64)
        row_use = np.array([use_pos.get(k, -1) for k in keys], dtype=np.int64)
        if (row_market[fast] < 0).any() or (row_use[short] < 0).any():
            msg = "a measure row has no market or use node in the rebalance model"
            raise Unsupported(msg)
        return cls(
            n_edges=ne, n_nodes=n_all, sel_fac=sel_fac, stock_nodes=stock_nodes, base_primary=base_primary,
            release_node=rel, out_matrix=out_matrix, in_matrix=in_matrix,
            tracer=BatchTracer.build(n_all, all_src, all_dst), source=in_source, groups=groups,
            market_node=markets.astype(np.int64),
            row_metric=np.array([code.get(m, 0) for m in metric], dtype=np.int64),
            row_market=row_market, row_use=row_use,
            rows_fast=np.flatnonzero(fast), rows_short=np.flatnonzero(short),
        )

    def __call__(self, tonnes: np.ndarray, draws: np.ndarray, shortfall_share: np.ndarray, use_seen: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values, presence and fuzziness of the catalogue rows, one row per sample.

        Parameters
        ----------
        tonnes : numpy.ndarray, shape (samples, model edges)
            Simulated tonnes (edges the year's tables do not keep already zeroed).
        draws : numpy.ndarray, shape (samples, stock markets)
            Stock drawn per stock market.
        shortfall_share : numpy.ndarray, shape (samples, use nodes)
            Shortfall over demand per use node.
        use_seen : numpy.ndarray of bool, shape (samples, use nodes)
            Whether the use node is in the sample's network (else it has no shortfall row).
        """
        n_s = tonnes.shape[0]
        release = np.where(draws > RELEASE_TOL, draws, 0.0)
        # simulated node table: primary producers and stock nodes supply what they send out
        out = np.asarray(self.out_matrix.T @ tonnes.T).T
        into = np.asarray(self.in_matrix.T @ (tonnes > 0).astype(float).T).T > 0
        primary = np.array(np.broadcast_to(self.base_primary, (n_s, self.n_nodes)))
        fac = self.sel_fac
        primary[:, fac] = np.where(into[:, fac], primary[:, fac], out[:, fac])
        primary[:, self.stock_nodes] = out[:, self.stock_nodes]
        if len(self.release_node):
            primary[:, self.release_node] += release  # one release node per stock market
        all_t = np.hstack([tonnes, release])
        t = self.tracer.solve(all_t, primary, self.source)
        sums = tuple(g.sum(all_t) for g in self.groups)
        cat_n = len(self.row_metric)
        values = np.full((n_s, cat_n), np.nan)
        present = np.zeros((n_s, cat_n), dtype=bool)
        fuzzy = np.zeros((n_s, cat_n), dtype=bool)
        f = self.rows_fast
        if len(f):
            v, p, z = first_hop_measures(t[:, self.market_node], _six(sums), self.row_metric[f], self.row_market[f])
            values[:, f], present[:, f], fuzzy[:, f] = v, p, z
        s = self.rows_short
        if len(s):
            seen = use_seen[:, self.row_use[s]]
            values[:, s] = np.where(seen, shortfall_share[:, self.row_use[s]], np.nan)
            present[:, s] = seen
        return values, present, fuzzy


def _six(sums: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    p, i_, e_, s_, d_, b_ = sums
    return p, i_, e_, s_, d_, b_
