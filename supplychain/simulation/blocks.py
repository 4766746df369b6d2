"""The re-routing LP solved block by block.

The constraint matrix of :class:`~supplychain.simulation.rebalance.RebalanceModel`
(as HiGHS holds it: folded, :mod:`supplychain.simulation.fold`) is block-diagonal
over the connected components of its row/column graph: commodities
linked by facilities (yield rows) form one chain, and chains that share no market,
facility or re-export row share no row. Only export quota rows (added per year)
can link blocks: a quota whose edges fall in two blocks makes
:meth:`BlockRebalance.solve` fall back to the monolithic model. (The optimum of the
cost level is kept by fixing its optimal face, column by column and row by row,
not by a row over every edge, so it links nothing.)

Every level's objective is a sum over blocks with the *global* normalisation of
:meth:`RebalanceModel._level_costs`, so the minimum of the sum is the sum of the
block minima and the optimal set is the product of the blocks' optimal sets: the
lexicographic optimum of the whole is the block-wise one, level by level. The
model's deterministic tie-break factors (``RebalanceModel._tie``, where present) are
applied per column as in the model, and levels 1, 2, 4 and the weighted objective
are reported without them, from the stitched solution, as the model does.
``tests/test_warm_start.py`` and ``tests/test_rebalance.py`` compare both per level.

Each block is its own ``Highs`` object, kept between solves, so a block's basis
is re-used for the next year or variant exactly as the monolithic model's is.

Two exact short-cuts (``BlockRebalance(reuse=..., threads=...)``):

* in a warm solve, a block whose LP is the same as at its last solve (column and
  row bounds, level costs on its columns, quota rows and the sequence of levels all
  equal) is not re-solved: its previous solution and level optima are kept — an
  identical LP has identical optima;
* blocks are independent, and ``Highs.run`` releases the GIL, so blocks can be
  solved on several Python threads; the objectives are summed in block order
  whatever the threads do, so the result does not depend on the number of threads.
"""

from __future__ import annotations

import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from supplychain.errors import SolverError
from supplychain.simulation.highs import INF, SentHighs, iterations, open_solve, quiet_highs, run_highs
from supplychain.simulation.levels import LevelCosts, dot, lexicographic_levels, perturbation, weighted_value
from supplychain.simulation.rationing import Rationing, ShareRows
from supplychain.simulation.rebalance import RebalanceModel, RebalanceSolution, YearInputs

__all__ = ["BlockRebalance", "constraint_blocks"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def constraint_blocks(model: RebalanceModel) -> tuple[int, IntArray, IntArray]:
    """Label the connected components of the LP's base constraint matrix.

    Returns
    -------
    n_blocks : int
    col_block : numpy.ndarray
        Component of every column.
    row_block : numpy.ndarray
        Component of every base row.
    """
    a = sp.csr_matrix(model._matrix)
    nr = a.shape[0]
    g = sp.bmat([[None, a], [a.T, None]]).tocsr()
    _, lab = connected_components(g, directed=False)
    # every base row has a column of its own (balance: g_m, yield: a_v, demand: z_u, re-export:
    # its edges), so numbering the components by their columns covers every row
    _, col_block = np.unique(lab[nr:], return_inverse=True)
    comp_of = np.full(lab.max() + 1, -1, dtype=np.intp)
    comp_of[lab[nr:]] = col_block
    row_block = comp_of[lab[:nr]].astype(np.intp)
    if np.any(row_block < 0):
        msg = "a row of the rebalance LP has no column"
        raise SolverError(msg)
    return int(col_block.max()) + 1 if col_block.size else 0, col_block.astype(np.intp), row_block


@dataclass
class _Result:
    """What one block's solve contributes: its columns' values and each level's optimum."""

    x: FloatArray
    levels: dict[str, float]
    iterations: int
    warm: bool


class _Block:
    def __init__(self, cols: IntArray, rows: IntArray, a: sp.csc_matrix, options: dict[str, Any],
                 crash: tuple[IntArray, IntArray], short_cols: npt.NDArray[np.int32],
                 draw_cols: npt.NDArray[np.int32]) -> None:
        self.cols = cols
        self.rows = rows
        self.share_rows = ShareRows()  # the allocation rules' level column and share rows, on first use
        # baseline_basis in the block's own numbering: activity columns made basic in place of these rows' slacks
        self.crash = crash
        # the block's shortfall and stock-draw columns (lexicographic levels), and each draw's stock
        self.short = np.flatnonzero(np.isin(cols, short_cols)).astype(np.int32)
        self.draw = np.flatnonzero(np.isin(cols, draw_cols)).astype(np.int32)
        self.draw_stock = np.searchsorted(draw_cols, cols[self.draw])  # model draw columns are increasing
        sub = sp.csc_matrix(a[rows][:, cols])
        sub.sort_indices()
        nr, nc = len(rows), len(cols)
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
        h: Any = quiet_highs(options)
        if h.passModel(lp) != highspy.HighsStatus.kOk:
            msg = "HiGHS rejected a rebalance block"
            raise SolverError(msg)
        self.h = SentHighs(h, lp)
        self.quota_rows: dict[str, int] = {}
        self.quota_coef: dict[str, dict[int, float]] = {}
        self.quota_key: tuple[Any, ...] = ()
        self.solved = False
        self.result: _Result | None = None  # of the last solve, for the inputs of ``BlockRebalance._last``
        self.start_basis: dict[str, Any] = {}  # optimal basis of the last solve's weighted start


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
    reuse : bool
        In a warm solve, keep the previous solution of a block whose LP did not
        change since its last solve (same column and row bounds, same level costs on
        its columns, same quota rows, same levels): an identical LP has the same
        optima, so the result is exact (default True).
    threads : int
        Solve up to this many blocks at once on Python threads (``Highs.run``
        releases the GIL; each block is its own ``Highs``). Objectives are summed in
        block order whatever the number of threads (default 1).

    Attributes
    ----------
    n_components : int
        Connected components of the base constraint matrix.
    blocks : list
        The blocks solved separately (pooled small components count as one).
    last_solved : int
        Blocks re-solved by the last :meth:`solve` (the others kept their solution).
    """

    def __init__(self, model: RebalanceModel, *, min_cols: int = 64, reuse: bool = True, threads: int = 1) -> None:
        self.model = model
        self.reuse = reuse
        self.threads = max(1, int(threads))
        self.n_components, col_block, row_block = constraint_blocks(model)
        sizes = np.bincount(col_block, minlength=self.n_components)
        small = sizes < min_cols
        # relabel: every small component → one pooled label
        label = np.where(small, -1, np.arange(self.n_components))
        cb = label[col_block]
        rb = label[row_block]
        a = sp.csc_matrix(model._matrix)
        opts = dict(model._options)
        self.blocks: list[_Block] = []
        self.col_block = np.full(len(cb), -1, dtype=np.intp)
        self.row_block = np.full(len(rb), -1, dtype=np.intp)
        crash_cols, crash_rows = model._crash  # baseline_basis: activity columns and their yield rows
        for lab in np.unique(cb):
            cols = np.flatnonzero(cb == lab).astype(np.intp)
            rows = np.flatnonzero(rb == lab).astype(np.intp)
            self.col_block[cols] = len(self.blocks)
            self.row_block[rows] = len(self.blocks)
            # an activity column and its yield row share a non-zero, so they are in the same block
            mine = np.isin(crash_cols, cols)
            crash = (np.searchsorted(cols, crash_cols[mine]).astype(np.intp),
                     np.searchsorted(rows, crash_rows[mine]).astype(np.intp))
            self.blocks.append(_Block(cols, rows, a, opts, crash, model._short_cols, model._draw_cols))
        self._last: tuple[Any, ...] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.last_solved = 0

    def _executor(self) -> ThreadPoolExecutor:
        # kept between solves: HiGHS sets up its scheduler once per calling thread
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="rebalance-block")
            weakref.finalize(self, self._pool.shutdown, wait=False)
        return self._pool

    def close(self) -> None:
        """Stop the solver threads (``threads > 1``); a later solve starts them again."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _links_blocks(self, inputs: YearInputs) -> bool:
        m = self.model
        for q in inputs.quotas:
            cols = np.fromiter(m._quota_lp_coef(q), dtype=np.intp)
            if len(np.unique(self.col_block[cols])) > 1:
                return True
        return False

    def _changed(self, key: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        """Blocks whose bounds, level costs, users' demand or floors differ from the last solve's (all: unknown)."""
        nb = len(self.blocks)
        last = self._last
        # objective, has_stock, has_cost, rule: the sequence of levels; the reserved exports
        if last is None or last[0] != key[0] or last[4] != key[4]:
            return np.ones(nb, dtype=bool)
        col = np.zeros(len(self.col_block), dtype=bool)
        for new, old in zip(key[1], last[1], strict=True):
            col |= new != old
        row = np.zeros(len(self.row_block), dtype=bool)
        for new, old in zip(key[2], last[2], strict=True):
            row |= new != old
        changed = np.bincount(self.col_block[col], minlength=nb) > 0
        rb = self.row_block[row]
        changed |= np.bincount(rb[rb >= 0], minlength=nb) > 0
        users = np.zeros(len(key[3][0]), dtype=bool)
        for new, old in zip(key[3], last[3], strict=True):
            users |= new != old
        changed |= np.bincount(self.col_block[self.model._short_cols[users]], minlength=nb) > 0
        return changed

    def _run(self, b: _Block, level: str, cost: FloatArray, warm: bool, cold: bool) -> float:
        """Solve one level of block ``b`` with ``cost`` (in the block's columns)."""
        h = b.h
        h.set_costs(cost)
        m = self.model
        cold_solver = m.cold_solver if cold and m.cold_solver != "choose" else None
        status = run_highs(h, warm=warm, cold_solver=cold_solver, solver=m._options.get("solver", "choose"),
                           perturb=perturbation(level, m._options))
        if status != highspy.HighsModelStatus.kOptimal:
            msg = (f"HiGHS stopped at level {level!r} of a rebalance block with status "
                   f"{h.modelStatusToString(status)!r}; solve the monolithic model for a diagnosis")
            raise SolverError(msg)
        return float(h.getInfo().objective_function_value)

    def solve(self, inputs: YearInputs, *, warm: bool = True) -> RebalanceSolution:
        """Solve like :meth:`RebalanceModel.solve`, one block at a time (objectives summed over blocks).

        Quotas whose edges lie in more than one block are solved by the monolithic model.
        With ``reuse``, a warm solve keeps the solution of every block whose LP is the
        same as at its last solve; ``warm=False`` always re-solves every block from scratch.
        """
        m = self.model
        if m.objective == "weighted" and m.rule_of(inputs) != "max_delivery":
            return m.solve(inputs, warm=warm)  # raises the model's error
        if inputs.quotas and self._links_blocks(inputs):
            self._last = None  # the blocks' quota rows are not those of this solve
            return m.solve(inputs, warm=warm)
        t0 = time.perf_counter()
        # bounds and costs in HiGHS' (folded) columns, as the model's own solve
        geo, col_lo, col_hi, row_lo, row_hi = m._lp_bounds(inputs)
        lv = m._level_costs(inputs)
        c, ne = m._cols, len(m.edges)
        fold = m._fold
        costs = m._lp_costs(lv, geo)  # with the model's deterministic tie-break of the deviation level
        plan = m.rationing(inputs)
        floor = np.nan_to_num(plan.floor, nan=-1.0)
        key = ((m.objective, lv.has_stock, lv.has_cost, plan.rule), (col_lo, col_hi, *costs),
               (row_lo, row_hi), (plan.demand, floor), plan.preference_key())
        quotas = [(q.policy, m._quota_lp_coef(q), float(q.cap)) for q in inputs.quotas]
        quota_keys = [self._quota_want(b, quotas) for b in self.blocks]
        if warm and self.reuse:
            changed = self._changed(key)
            todo = [i for i, b in enumerate(self.blocks)
                    if changed[i] or b.result is None or not b.solved or b.quota_key != quota_keys[i]]
        else:
            todo = list(range(len(self.blocks)))
        self._last = None  # until every block holds the solution of these inputs

        def one(i: int) -> _Result:
            b = self.blocks[i]
            b.result = None
            b.result = self._solve_block(b, inputs, warm, col_lo, col_hi, row_lo, row_hi, lv, costs, quota_keys[i],
                                         plan)
            return b.result

        if self.threads > 1 and len(todo) > 1:
            list(self._executor().map(one, todo))
        else:
            for i in todo:
                one(i)
        self._last = key
        self.last_solved = len(todo)
        x = np.zeros(fold.n_cols)
        its = 0
        warm_all = True
        obj = {"shortfall": 0.0, "stock": 0.0, "cost": 0.0, "deviation": 0.0, "weighted": 0.0}
        solved_levels: set[str] = set()
        redone = set(todo)
        for i, b in enumerate(self.blocks):  # in block order, whatever the threads did
            res = b.result
            if res is None:  # pragma: no cover - every block was solved or kept above
                msg = "a rebalance block has no solution"
                raise SolverError(msg)
            x[b.cols] = res.x[: len(b.cols)]
            if i in redone:
                its += res.iterations
                warm_all &= res.warm
            for name, z in res.levels.items():
                obj[name] = obj.get(name, 0.0) + z
                solved_levels.add(name)
        x = fold.unfold(x, geo, c.n)
        objectives: dict[str, float]
        if m.objective == "weighted":
            objectives = {
                "weighted": weighted_value(lv, x),  # without the tie-break
                "shortfall": dot(lv.cost1, x) * lv.ws_scale,
                "stock": dot(lv.cost2, x),
                "cost": dot(lv.cost3, x) * lv.cscale,
                "deviation": dot(lv.cost4, x) + lv.dev_const,
            }
        else:
            # levels are reported without the tie-break, as by the model
            objectives = {"shortfall": dot(lv.cost1, x) * lv.ws_scale}
            if "stock" in solved_levels:
                objectives["stock"] = dot(lv.cost2, x)
            objectives["cost"] = obj["cost"] * lv.cscale
            if "unsold" in solved_levels:
                objectives["unsold"] = obj["unsold"]
            objectives["deviation"] = dot(lv.cost4, x) + lv.dev_const
        return RebalanceSolution.from_columns(x, c, ne, objectives=objectives, iterations=its,
                                              seconds=time.perf_counter() - t0, warm=warm_all)

    def _solve_block(self, b: _Block, inputs: YearInputs, warm: bool, col_lo: FloatArray, col_hi: FloatArray,
                     row_lo: FloatArray, row_hi: FloatArray, lv: LevelCosts, costs: tuple[FloatArray, ...],
                     quota_key: tuple[Any, ...], plan: Rationing) -> _Result:
        """All levels of one block (touches only ``b``: safe on a thread of its own)."""
        m = self.model
        h = b.h
        bw = warm and b.solved
        if not bw:
            h.clearSolver()
        hi = col_hi[b.cols]
        h.set_col_bounds(col_lo[b.cols], hi)  # also undoes the optimal face and kept levels
        h.set_row_bounds(row_lo[b.rows], row_hi[b.rows])
        # quotas inside this block: added as rows on first use (same as the monolithic model)
        self._set_quotas(b, quota_key)
        levels: dict[str, float] = {}
        its = 0

        bases, b.start_basis = b.start_basis, {}

        crash = b.crash if m.crashes() else None

        def level(name: str, cost: FloatArray) -> float:
            nonlocal its
            opening = not b.start_basis  # as RebalanceModel.solve: the weighted objective first
            from_basis = open_solve(h, name, cost, hi, bases, warm=bw, crash=crash) if opening else bw
            z = self._run(b, name, cost, from_basis, opening and not bw)
            if opening:
                b.start_basis[name] = h.getBasis()
            its += iterations(h)
            levels[name] = z
            return z

        local = [k[b.cols] for k in costs]
        if m.objective == "weighted":
            level("weighted", local[0])
            x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        else:
            x = lexicographic_levels(
                h, level, levels, start=local[4], rationing=plan.local(b.cols), rows=b.share_rows,
                draws=local[1] if lv.has_stock else None, cost=local[2] if lv.has_cost else None, unsold=local[5],
                deviation=local[3], draw=b.draw, stock=inputs.stock[b.draw_stock],
            )
        b.solved = True
        return _Result(x=x, levels=levels, iterations=its, warm=bw)

    @staticmethod
    def _quota_want(b: _Block, quotas: list[tuple[str, dict[int, float], float]]) -> tuple[Any, ...]:
        """Return the quota rows inside block ``b``: ``(policy, ((col, coef), …), cap)`` each.

        ``quotas``: ``(policy, coefficients on the model's HiGHS columns, cap)`` of each quota in force.
        """
        if not quotas:
            return ()
        pos = b.__dict__.get("pos")
        if pos is None:
            pos = b.__dict__.setdefault("pos", {int(g): i for i, g in enumerate(b.cols.tolist())})
        out = []
        for policy, coef, cap in quotas:
            want = {pos[j]: v for j, v in sorted(coef.items()) if j in pos}
            if want:
                out.append((policy, tuple(sorted(want.items())), cap))
        return tuple(out)

    def _set_quotas(self, b: _Block, quota_key: tuple[Any, ...]) -> None:
        rows, coefs = b.quota_rows, b.quota_coef
        active: set[str] = set()
        for policy, items, cap in quota_key:
            want = dict(items)
            active.add(policy)
            if policy not in rows:
                b.h.addRow(-INF, INF, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
                rows[policy] = b.h.getNumRow() - 1
                coefs[policy] = {}
            have = coefs[policy]
            for j in set(have) | set(want):
                v = want.get(j, 0.0)
                if have.get(j, 0.0) != v:
                    b.h.changeCoeff(rows[policy], j, v)
            coefs[policy] = want
            b.h.changeRowBounds(rows[policy], -INF, cap)
        for pid, row in rows.items():
            if pid not in active:
                b.h.changeRowBounds(row, -INF, INF)
        b.quota_key = quota_key
