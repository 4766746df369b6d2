"""The re-routing LP solved block by block.

The constraint matrix of :class:`~supplychain.simulation.rebalance.RebalanceModel`
is block-diagonal over the connected components of its row/column graph: commodities
linked by facilities (yield rows) form one chain, and chains that share no market,
facility or re-export row share no row. Only two kinds of row can link blocks:

* the cost-level bound of the lexicographic objective (one row over every edge) —
  here each block gets its own cost row, bounded by its own optimum;
* export quota rows (added per year) — a quota whose edges fall in two blocks
  makes :meth:`BlockRebalance.solve` fall back to the monolithic model.

Every level's objective is a sum over blocks with the *global* normalisation of
:meth:`RebalanceModel._level_costs`, so the minimum of the sum is the sum of the
block minima and the optimal set is the product of the blocks' optimal sets: the
lexicographic optimum of the whole is the block-wise one, level by level (the
cost bound's tolerance, 10⁻⁹ relative, is applied per block instead of to the
sum). ``tests/test_rebalance.py`` compares both per level to 10⁻⁷.

Each block is its own ``Highs`` object, kept between solves, so a block's basis
is re-used for the next year or variant exactly as the monolithic model's is.
"""

from __future__ import annotations

import time
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from supplychain.errors import SolverError
from supplychain.simulation.rebalance import (
    INF,
    WEIGHTS,
    RebalanceModel,
    RebalanceSolution,
    YearInputs,
    _quiet_highs,
)

__all__ = ["BlockRebalance", "constraint_blocks"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def constraint_blocks(model: RebalanceModel) -> tuple[int, IntArray, IntArray]:
    """Label the connected components of the LP's base constraint matrix (without the cost row).

    Returns
    -------
    n_blocks : int
    col_block : numpy.ndarray
        Component of every column.
    row_block : numpy.ndarray
        Component of every base row (−1 for the cost row).
    """
    a = sp.csr_matrix(model._matrix)
    nr = a.shape[0]
    keep = np.flatnonzero(np.arange(nr) != model._rows.cost)
    ak = a[keep]
    g = sp.bmat([[None, ak], [ak.T, None]]).tocsr()
    _, lab = connected_components(g, directed=False)
    # every base row has a column of its own (balance: g_m, yield: a_v, demand: z_u, re-export:
    # its edges), so numbering the components by their columns covers every row
    _, col_block = np.unique(lab[len(keep):], return_inverse=True)
    comp_of = np.full(lab.max() + 1, -1, dtype=np.intp)
    comp_of[lab[len(keep):]] = col_block
    row_block = np.full(nr, -1, dtype=np.intp)
    row_block[keep] = comp_of[lab[: len(keep)]]
    if np.any(row_block[keep] < 0):
        msg = "a row of the rebalance LP has no column"
        raise SolverError(msg)
    return int(col_block.max()) + 1 if col_block.size else 0, col_block.astype(np.intp), row_block


class _Block:
    def __init__(self, cols: IntArray, rows: IntArray, a: sp.csc_matrix, options: dict[str, Any]) -> None:
        self.cols = cols
        self.rows = rows
        sub = sp.csc_matrix(a[rows][:, cols])
        sub.sort_indices()
        nr, nc = len(rows) + 1, len(cols)  # + its own cost-level row (last)
        self.cost_row = nr - 1
        lp = highspy.HighsLp()
        lp.num_col_ = nc
        lp.num_row_ = nr
        lp.col_cost_ = np.zeros(nc)
        lp.col_lower_ = np.zeros(nc)
        lp.col_upper_ = np.full(nc, INF)
        lp.row_lower_ = np.full(nr, -INF)
        lp.row_upper_ = np.full(nr, INF)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
        lp.a_matrix_.index_ = sub.indices.astype(np.int32)
        lp.a_matrix_.value_ = sub.data
        h: Any = _quiet_highs()
        for k, v in options.items():
            h.setOptionValue(k, v)
        if h.passModel(lp) != highspy.HighsStatus.kOk:
            msg = "HiGHS rejected a rebalance block"
            raise SolverError(msg)
        self.h = h
        self.allc = np.arange(nc, dtype=np.int32)
        self.allr = np.arange(len(rows), dtype=np.int32)
        self.cost_coef: dict[int, float] = {}
        self.solved = False


class BlockRebalance:
    """Solve a :class:`RebalanceModel` one independent block at a time.

    Parameters
    ----------
    model : RebalanceModel
        The monolithic model (its structure, bounds and level costs are re-used;
        it is also the fallback when a quota links blocks).
    min_cols : int
        Components with fewer columns are pooled into one block (a union of
        components is still independent of the rest); avoids thousands of tiny
        HiGHS objects for isolated columns.

    Attributes
    ----------
    n_components : int
        Connected components of the base constraint matrix.
    blocks : list
        The blocks solved separately (pooled small components count as one).
    """

    def __init__(self, model: RebalanceModel, *, min_cols: int = 64) -> None:
        self.model = model
        self.n_components, col_block, row_block = constraint_blocks(model)
        sizes = np.bincount(col_block, minlength=self.n_components)
        small = sizes < min_cols
        # relabel: every small component → one pooled label
        label = np.where(small, -1, np.arange(self.n_components))
        cb = label[col_block]
        rb = np.where(row_block >= 0, label[np.maximum(row_block, 0)], -2)
        a = sp.csc_matrix(model._matrix)
        opts = dict(model._options)
        self.blocks: list[_Block] = []
        self.col_block = np.full(len(cb), -1, dtype=np.intp)
        for lab in np.unique(cb):
            cols = np.flatnonzero(cb == lab).astype(np.intp)
            rows = np.flatnonzero(rb == lab).astype(np.intp)
            self.col_block[cols] = len(self.blocks)
            self.blocks.append(_Block(cols, rows, a, opts))

    def _row_bounds(self, inputs: YearInputs) -> tuple[FloatArray, FloatArray]:
        m = self.model
        r = m._rows
        lo = np.zeros(m._n_base_rows)
        hi = m._row_hi_base.copy()
        lo[r.cost], hi[r.cost] = -INF, INF
        nu = len(m.uses)
        lo[r.demand : r.demand + nu] = inputs.demand
        hi[r.demand : r.demand + nu] = inputs.demand
        lo[r.reexport : r.n] = -INF
        hi[r.reexport : r.n] = inputs.reexport
        return lo, hi

    def _links_blocks(self, inputs: YearInputs) -> bool:
        for q in inputs.quotas:
            e = q.edges[q.edges >= 0]
            if len(np.unique(self.col_block[e])) > 1:
                return True
        return False

    def _run(self, b: _Block, level: str, cost: FloatArray, warm: bool, cold: bool) -> float:
        h = b.h
        h.changeColsCost(len(b.cols), b.allc, cost[b.cols])
        cold_solver = self.model.cold_solver
        if cold and cold_solver != "choose":
            h.setOptionValue("solver", cold_solver)
            try:
                h.run()
            finally:
                h.setOptionValue("solver", self.model._options.get("solver", "choose"))
        else:
            h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal and warm:
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            msg = (f"HiGHS stopped at level {level!r} of a rebalance block with status "
                   f"{h.modelStatusToString(status)!r}; solve the monolithic model for a diagnosis")
            raise SolverError(msg)
        return float(h.getInfo().objective_function_value)

    def solve(self, inputs: YearInputs, *, warm: bool = True) -> RebalanceSolution:
        """Solve like :meth:`RebalanceModel.solve`, one block at a time (objectives summed over blocks).

        Quotas whose edges lie in more than one block are solved by the monolithic model.
        """
        m = self.model
        if inputs.quotas and self._links_blocks(inputs):
            return m.solve(inputs, warm=warm)
        t0 = time.perf_counter()
        col_lo, col_hi = m._col_bounds(inputs)
        row_lo, row_hi = self._row_bounds(inputs)
        lv = m._level_costs(inputs)
        c, ne = m._cols, len(m.edges)
        x = np.zeros(c.n)
        its = 0
        warm_all = True
        obj = {"shortfall": 0.0, "stock": 0.0, "cost": 0.0, "deviation": 0.0, "weighted": 0.0}
        solved_levels: set[str] = set()
        for b in self.blocks:
            h = b.h
            bw = warm and b.solved
            warm_all &= bw
            if not bw:
                h.clearSolver()
            h.changeColsBounds(len(b.cols), b.allc, col_lo[b.cols], col_hi[b.cols])
            h.changeRowsBounds(len(b.rows), b.allr, row_lo[b.rows], row_hi[b.rows])
            h.changeRowBounds(b.cost_row, -INF, INF)
            # quotas inside this block: added as rows on first use (same as the monolithic model)
            self._set_quotas(b, inputs)
            first = [not bw]

            def level(name: str, cost: FloatArray, b: _Block = b, bw: bool = bw, first: list[bool] = first) -> float:
                nonlocal its
                z = self._run(b, name, cost, bw, first[0])
                first[0] = False
                info = b.h.getInfo()
                its += int(info.simplex_iteration_count) + int(info.ipm_iteration_count)
                its += int(info.crossover_iteration_count)
                obj[name] += z
                solved_levels.add(name)
                return z

            if m.objective == "weighted":
                w = WEIGHTS
                level("weighted", w[0] * lv.cost1 + w[1] * lv.cost2 + w[2] * lv.cost3 + w[3] * lv.cost4)
            else:
                level("shortfall", lv.cost1)
                xb = np.asarray(h.getSolution().col_value)
                sel = (b.cols >= c.short) & (b.cols < c.gap)
                js = np.flatnonzero(sel).astype(np.int32)
                if js.size:
                    h.changeColsBounds(js.size, js, np.zeros(js.size), np.maximum(xb[js], 0.0))
                if lv.has_stock:
                    level("stock", lv.cost2)
                    xb = np.asarray(h.getSolution().col_value)
                    sel = b.cols >= c.draw
                    js = np.flatnonzero(sel).astype(np.int32)
                    if js.size:
                        st = inputs.stock[b.cols[js] - c.draw]
                        h.changeColsBounds(js.size, js, np.zeros(js.size), np.minimum(st, np.maximum(xb[js], 0.0)))
                if lv.has_cost:
                    self._set_cost_row(b, lv.cost3)
                    zc = level("cost", lv.cost3)
                    h.changeRowBounds(b.cost_row, -INF, zc + 1e-9 * max(1.0, abs(zc)))
                level("deviation", lv.cost4)
            x[b.cols] = np.asarray(h.getSolution().col_value)
            b.solved = True
        objectives: dict[str, float]
        if m.objective == "weighted":
            objectives = {
                "weighted": obj["weighted"],
                "shortfall": float(lv.cost1 @ x) * lv.ws_scale,
                "stock": float(lv.cost2 @ x),
                "cost": float(lv.cost3 @ x) * lv.cscale,
                "deviation": float(lv.cost4 @ x) + lv.dev_const,
            }
        else:
            objectives = {k: obj[k] for k in ("shortfall", "stock", "cost", "deviation") if k in solved_levels}
            objectives["shortfall"] *= lv.ws_scale
            objectives["cost"] = objectives.get("cost", 0.0) * lv.cscale
            objectives["deviation"] += lv.dev_const
        return RebalanceSolution.from_columns(x, c, ne, objectives=objectives, iterations=its,
                                              seconds=time.perf_counter() - t0, warm=warm_all)

    def _set_cost_row(self, b: _Block, cost3: FloatArray) -> None:
        want = {int(j): float(v) for j, v in zip(np.flatnonzero(cost3[b.cols]), cost3[b.cols][cost3[b.cols] != 0],
                                                 strict=True)}
        for j in set(b.cost_coef) | set(want):
            v = want.get(j, 0.0)
            if b.cost_coef.get(j, 0.0) != v:
                b.h.changeCoeff(b.cost_row, j, v)
        b.cost_coef = want

    def _set_quotas(self, b: _Block, inputs: YearInputs) -> None:
        ne = len(self.model.edges)
        rows: dict[str, int] = b.__dict__.setdefault("quota_rows", {})
        coefs: dict[str, dict[int, float]] = b.__dict__.setdefault("quota_coef", {})
        pos = {int(g): i for i, g in enumerate(b.cols.tolist())} if inputs.quotas or rows else {}
        active: set[str] = set()
        for q in inputs.quotas:
            want: dict[int, float] = {}
            for e, w in zip(q.edges.tolist(), q.weights.tolist(), strict=True):
                if e >= 0 and e in pos:
                    for g in (e, e + ne):
                        want[pos[g]] = want.get(pos[g], 0.0) + w
            if not want:
                continue
            active.add(q.policy)
            if q.policy not in rows:
                b.h.addRow(-INF, INF, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
                rows[q.policy] = b.h.getNumRow() - 1
                coefs[q.policy] = {}
            have = coefs[q.policy]
            for j in set(have) | set(want):
                v = want.get(j, 0.0)
                if have.get(j, 0.0) != v:
                    b.h.changeCoeff(rows[q.policy], j, v)
            coefs[q.policy] = want
            b.h.changeRowBounds(rows[q.policy], -INF, q.cap)
        for pid, row in rows.items():
            if pid not in active:
                b.h.changeRowBounds(row, -INF, INF)
