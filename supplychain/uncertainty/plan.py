"""What varies between samples in an :class:`~supplychain.uncertainty.kernel.ExposureKernel`.

:class:`VaryPlan` splits the kernel's edges into those fed only by central
values (computed once, with their sums over markets and measure groups) and
those that vary per sample; :class:`~supplychain.graph.sums.Groups` sums item
columns into groups in a way that does not depend on the block of samples (so
results are identical for any chunking).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from supplychain.graph.sums import Groups
from supplychain.metrics.trade import TradeIndex, market_sums, pair_sums

if TYPE_CHECKING:
    from supplychain.uncertainty.kernel import ExposureKernel

__all__ = ["VaryPlan", "multiply_slots"]


def multiply_slots(q: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Product over the slot columns (``slots``: items × factors, −1 = 1)."""
    out = np.ones((q.shape[0], slots.shape[0]))
    for f in range(slots.shape[1]):
        col = slots[:, f]
        use = col >= 0
        out[:, use] *= q[:, col[use]]
    return out

@dataclass(frozen=True)
class VaryPlan:
    """Which edges of an :class:`ExposureKernel` vary between samples, and the sums over the others.

    Observed edges fed only by central values are computed once (``tonnes_base``);
    sums over them (market inflow/outflow; the first-hop sums of
    :mod:`supplychain.metrics.trade`, ``sums_const`` and ``pairs_const``) are kept as
    constants, and only the varying edges are summed per sample (``trade_var``: the
    kernel's :class:`~supplychain.metrics.trade.TradeIndex` over ``var_edges``).
    """

    flow_var: np.ndarray
    flow_col: np.ndarray
    fac_var: np.ndarray
    prod_base: np.ndarray
    pair_var: np.ndarray
    pair_col: np.ndarray
    sent_const: np.ndarray
    sent_out: Groups
    sent_in: Groups
    imp_rows: np.ndarray
    imp_col: np.ndarray
    imp_rem_groups: Groups
    var_obs: np.ndarray
    m_in_const: np.ndarray
    m_out_const: np.ndarray
    m_prod_const: np.ndarray
    m_in_var: Groups
    m_out_var: Groups
    m_prod_var: Groups
    var_edges: np.ndarray
    v_obs: np.ndarray
    v_dem: np.ndarray
    v_pair: np.ndarray
    v_draw: np.ndarray
    v_left: np.ndarray
    tonnes_base: np.ndarray
    primary_base: np.ndarray
    prim_var_node: np.ndarray
    prim_var_pos: np.ndarray
    stock_node_var: Groups
    sums_const: np.ndarray
    pairs_const: np.ndarray
    trade_var: TradeIndex

    @classmethod
    def of(cls, k: ExposureKernel, d_out: np.ndarray, d_in: np.ndarray) -> VaryPlan:
        """Split the kernel's edges into constant and varying ones."""
        sampled = np.array([*(name is not None for name in k.q.names), False], dtype=bool)  # slot −1 → False
        consts = np.asarray([*k.q.consts, 1.0])
        flow_var = sampled[k.flow_slot]
        fac_var = sampled[k.fac_prod_slots].any(axis=1) if len(k.fac_prod_slots) else np.zeros(0, dtype=bool)
        fac_var_idx = np.flatnonzero(fac_var)
        prod_base = (np.prod(consts[k.fac_prod_slots], axis=1) * k.fac_prod_scale) if len(k.fac_prod_slots) \
            else np.zeros(0)  # fmt: skip
        pair_var = fac_var[k.fac_pairs_prod] if len(k.fac_pairs_prod) else np.zeros(0, dtype=bool)
        pair_var = pair_var.copy()
        for i in np.flatnonzero(flow_var):
            for g in (d_out[i], d_in[i]):
                if g >= 0:
                    pair_var[g] = True
        pair_var_idx = np.flatnonzero(pair_var)
        ent_var: dict[int, bool] = {}
        for r in range(len(k.imp_edge)):
            ent = int(k.imp_total[r])
            ent_var[ent] = ent_var.get(ent, False) or bool(sampled[k.imp_total[r]]) or bool(sampled[k.imp_share[r]])
        imp_rows = np.array([r for r in range(len(k.imp_edge)) if ent_var[int(k.imp_total[r])]], dtype=np.int64)
        var_obs = np.unique(np.concatenate([
            k.flow_edge[flow_var], k.fac_pairs_edge[pair_var_idx], k.imp_edge[imp_rows],
        ]).astype(np.int64))  # fmt: skip
        col = np.full(k.n_obs, -1, dtype=np.int64)
        col[var_obs] = np.arange(len(var_obs))
        # direct flows of varying pairs: constant part and per-sample groups over varying flows
        pair_pos = np.full(len(k.fac_pairs_edge), -1, dtype=np.int64)
        pair_pos[pair_var_idx] = np.arange(len(pair_var_idx))
        flows_base = consts[k.flow_slot]
        sent_const = np.zeros(len(pair_var_idx))
        for fi in range(len(k.flow_slot)):
            for g in (int(d_out[fi]), int(d_in[fi])):
                if g >= 0 and pair_pos[g] >= 0 and not flow_var[fi]:
                    sent_const[pair_pos[g]] += flows_base[fi]
        fv_idx = np.flatnonzero(flow_var)
        sent_out = Groups.of(np.where(d_out[fv_idx] >= 0, pair_pos[np.maximum(d_out[fv_idx], 0)], -1),
                              len(pair_var_idx))  # fmt: skip
        sent_in = Groups.of(np.where(d_in[fv_idx] >= 0, pair_pos[np.maximum(d_in[fv_idx], 0)], -1),
                             len(pair_var_idx))  # fmt: skip
        rem_of_row = {}
        for j, r in enumerate(imp_rows):
            if k.imp_remainder[r] > 0:
                rem_of_row[int(r)] = j
        imp_groups = np.full(len(imp_rows), -1, dtype=np.int64)
        # a listed partner row belongs to the remainder row of its entity (the next remainder row after it)
        for j, r in enumerate(imp_rows):
            if k.imp_remainder[r] <= 0:
                later = [rr for rr in rem_of_row if rr > r and int(k.imp_total[rr]) == int(k.imp_total[r])]
                if later:
                    imp_groups[j] = rem_of_row[min(later)]
        # market sums over observed edges: constant part once, varying part per sample
        obs_is_var = col >= 0
        buy_m = _group_of(k.m_in, k.n_obs + len(k.dem_slots))[: k.n_obs]
        sup_m = _group_of(k.m_out, k.n_obs + len(k.dem_slots))[: k.n_obs]
        prod_m = _group_of(k.m_prod, k.n_obs + len(k.dem_slots))[: k.n_obs]
        base = k.obs_base

        def const_sum(groups: np.ndarray, n: int) -> np.ndarray:
            keep = (groups >= 0) & ~obs_is_var
            return np.bincount(groups[keep], weights=base[keep], minlength=n).astype(float)

        # the full edge list: constant tonnes and the varying columns
        var_edges = np.concatenate([
            k.e_obs[var_obs], k.e_dem, k.e_pair, k.e_draw, np.where(k.e_build >= 0, k.e_build, k.e_use),
        ]).astype(np.int64)  # fmt: skip
        n_v = [len(var_obs), len(k.e_dem), len(k.e_pair), len(k.e_draw), k.n_markets]
        offs = np.cumsum([0, *n_v])
        tonnes_base = np.zeros(k.n_edges)
        tonnes_base[k.e_obs] = base
        tonnes_base[var_edges] = 0.0
        primary_base = np.zeros(k.n_nodes)
        if len(k.prim_fac_node):
            primary_base[k.prim_fac_node] = prod_base[k.prim_fac_pos]
        fv_pos = np.full(len(fac_var), -1, dtype=np.int64)
        fv_pos[fac_var_idx] = np.arange(len(fac_var_idx))
        pv = fv_pos[k.prim_fac_pos] if len(k.prim_fac_pos) else np.zeros(0, dtype=np.int64)
        stock_group = _group_of(k.stock_node_groups, k.n_edges)
        return cls(
            flow_var=flow_var, flow_col=col[k.flow_edge[flow_var]], fac_var=fac_var_idx, prod_base=prod_base,
            pair_var=pair_var_idx, pair_col=col[k.fac_pairs_edge[pair_var_idx]], sent_const=sent_const,
            sent_out=sent_out, sent_in=sent_in, imp_rows=imp_rows, imp_col=col[k.imp_edge[imp_rows]],
            imp_rem_groups=Groups.of(imp_groups, len(imp_rows)), var_obs=var_obs,
            m_in_const=const_sum(buy_m, k.n_markets), m_out_const=const_sum(sup_m, k.n_markets),
            m_prod_const=const_sum(prod_m, k.n_markets),
            m_in_var=Groups.of(buy_m[var_obs], k.n_markets), m_out_var=Groups.of(sup_m[var_obs], k.n_markets),
            m_prod_var=Groups.of(prod_m[var_obs], k.n_markets),
            var_edges=var_edges,
            v_obs=np.arange(offs[0], offs[1]), v_dem=np.arange(offs[1], offs[2]), v_pair=np.arange(offs[2], offs[3]),
            v_draw=np.arange(offs[3], offs[4]), v_left=np.arange(offs[4], offs[5]),
            tonnes_base=tonnes_base, primary_base=primary_base,
            prim_var_node=k.prim_fac_node[pv >= 0] if len(pv) else np.zeros(0, dtype=np.int64),
            prim_var_pos=pv[pv >= 0] if len(pv) else np.zeros(0, dtype=np.int64),
            stock_node_var=Groups.of(stock_group[var_edges], k.stock_node_groups.n),
            sums_const=market_sums(k.trade, tonnes_base), pairs_const=pair_sums(k.trade, tonnes_base),
            trade_var=k.trade.subset(var_edges),
        )  # fmt: skip


def _group_of(g: Groups, n_items: int) -> np.ndarray:
    """Recover the item → group array a :class:`Groups` was made from (−1: no group)."""
    out = np.full(n_items, -1, dtype=np.int64)
    if len(g.order):
        seg = np.repeat(g.targets, np.diff(np.append(g.starts, len(g.order))))
        out[g.order] = seg
    return out

