"""HiGHS plumbing of the re-routing LP: the solver object, what is sent to it, how a run starts.

Shared by :class:`~supplychain.simulation.rebalance.RebalanceModel` and every block of
:class:`~supplychain.simulation.blocks.BlockRebalance`: a quiet ``Highs`` with the model's
settings (:func:`quiet_highs`, :data:`DUAL_TOL`, :data:`PRESOLVE`), a record of the bounds
and costs HiGHS holds so that only changes are sent (:class:`SentHighs`), the starting basis
of a solve from scratch (:func:`baseline_basis`, :func:`open_solve`), a run with its retry
(:func:`run_highs`) and the optimal face of a level (:func:`keep_optimal_face`).
``docs/rebalance.md`` ("Solving, warm starts, errors") explains each choice and
``docs/performance.md`` has the timings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

__all__ = [
    "DUAL_TOL",
    "FACE_TOL",
    "INF",
    "PERTURB",
    "PRESOLVE",
    "SentHighs",
    "baseline_basis",
    "iterations",
    "keep_optimal_face",
    "open_solve",
    "quiet_highs",
    "run_highs",
    "with_rows",
]


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


INF = highspy.kHighsInf
_HIGHS: Any = highspy  # highspy's stubs lack parts of the Highs API used here


MADE: list[bool] = [False]
"""Whether this process has made a HiGHS solver (:func:`quiet_highs`): a process that has is not forked
(:func:`supplychain.parallel.processes.mp_context`)."""


def quiet_highs(options: Mapping[str, Any] | None = None) -> Any:
    """Make a ``Highs`` object without letting its construction print, with the model's options.

    highspy prints its licence banner on standard output when a solver object is
    made, before any option can be set; that would corrupt ``run --format json``.
    The banner is sent to /dev/null by redirecting file descriptor 1 for the call.
    Output is off, the dual feasibility tolerance is :data:`DUAL_TOL`, presolve is off
    (:data:`PRESOLVE`), then ``options`` (HiGHS option name → value) are applied.
    """
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with Path(os.devnull).open("wb") as null:
            os.dup2(null.fileno(), 1)
            h = _HIGHS.Highs()
            MADE[0] = True
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("dual_feasibility_tolerance", DUAL_TOL)
    h.setOptionValue("presolve", PRESOLVE)
    for k, v in (options or {}).items():
        h.setOptionValue(k, v)
    return h


class SentHighs:
    """A ``Highs`` object that remembers the bounds and costs sent to it and re-sends only changes.

    HiGHS' ``changeColsBounds`` and ``changeColsCost`` cost time in proportion to the
    columns passed, changed or not: ~7 ms and ~3 ms for the 65,000 columns of one
    commodity chain, as long as ~150 simplex iterations (``docs/performance.md``),
    while a warm re-solve usually changes a few thousand.
    :meth:`set_col_bounds`, :meth:`set_row_bounds` and :meth:`set_costs` take whole
    vectors and send the entries that differ from what HiGHS holds. Every other call
    is passed through; the ``change*`` calls made directly (optimal face, levels kept)
    are recorded, so the record always equals HiGHS' model. Values are compared
    exactly, so the LP is the same as when every entry is sent. ``lp``: the
    ``HighsLp`` passed to ``passModel``, whose bounds and costs start the record
    (default: read back from HiGHS).
    """

    def __init__(self, h: Any, lp: Any = None) -> None:
        self.h = h
        nc, nr = int(h.getNumCol()), int(h.getNumRow())
        if lp is None:  # a copy of HiGHS' model, matrix included; the HighsLp given to passModel avoids it
            lp = h.getLp()
        self._col_lo = np.array(lp.col_lower_, dtype=np.float64).reshape(nc)
        self._col_hi = np.array(lp.col_upper_, dtype=np.float64).reshape(nc)
        self._row_lo = np.array(lp.row_lower_, dtype=np.float64).reshape(nr)
        self._row_hi = np.array(lp.row_upper_, dtype=np.float64).reshape(nr)
        self._cost = np.array(lp.col_cost_, dtype=np.float64).reshape(nc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.h, name)

    # ------------------------------------------------- recorded pass-through calls
    def changeColsBounds(self, n: int, idx: Any, lo: Any, hi: Any) -> Any:  # noqa: N802 - HiGHS' name
        """``Highs.changeColsBounds``, recorded."""
        self._col_lo[idx], self._col_hi[idx] = lo, hi
        return self.h.changeColsBounds(n, idx, lo, hi)

    def changeRowsBounds(self, n: int, idx: Any, lo: Any, hi: Any) -> Any:  # noqa: N802 - HiGHS' name
        """``Highs.changeRowsBounds``, recorded."""
        self._row_lo[idx], self._row_hi[idx] = lo, hi
        return self.h.changeRowsBounds(n, idx, lo, hi)

    def changeRowBounds(self, i: int, lo: float, hi: float) -> Any:  # noqa: N802 - HiGHS' name
        """``Highs.changeRowBounds``, recorded."""
        self._row_lo[i], self._row_hi[i] = lo, hi
        return self.h.changeRowBounds(i, lo, hi)

    def changeColsCost(self, n: int, idx: Any, cost: Any) -> Any:  # noqa: N802 - HiGHS' name
        """``Highs.changeColsCost``, recorded."""
        self._cost[idx] = cost
        return self.h.changeColsCost(n, idx, cost)

    def addRow(self, lo: float, hi: float, n: int, idx: Any, val: Any) -> Any:  # noqa: N802 - HiGHS' name
        """``Highs.addRow``, recorded."""
        self._row_lo = np.append(self._row_lo, lo)
        self._row_hi = np.append(self._row_hi, hi)
        return self.h.addRow(lo, hi, n, idx, val)

    def addCol(self, cost: float, lo: float, hi: float, n: int, idx: Any, val: Any) -> Any:  # noqa: N802
        """``Highs.addCol``, recorded."""
        self._col_lo = np.append(self._col_lo, lo)
        self._col_hi = np.append(self._col_hi, hi)
        self._cost = np.append(self._cost, cost)
        return self.h.addCol(cost, lo, hi, n, idx, val)

    def col_bounds(self, idx: Any) -> tuple[FloatArray, FloatArray]:
        """Return the bounds HiGHS holds for columns ``idx`` (from the record)."""
        return self._col_lo[idx].copy(), self._col_hi[idx].copy()

    # ----------------------------------------------------------- whole vectors
    def set_col_bounds(self, lo: FloatArray, hi: FloatArray) -> None:
        """Set the bounds of the first ``len(lo)`` columns, sending only those that changed."""
        n = len(lo)
        j = np.flatnonzero((lo != self._col_lo[:n]) | (hi != self._col_hi[:n])).astype(np.int32)
        if j.size:
            self.changeColsBounds(j.size, j, lo[j], hi[j])

    def set_row_bounds(self, lo: FloatArray, hi: FloatArray) -> None:
        """Set the bounds of the first ``len(lo)`` rows, sending only those that changed."""
        n = len(lo)
        i = np.flatnonzero((lo != self._row_lo[:n]) | (hi != self._row_hi[:n])).astype(np.int32)
        if i.size:
            self.changeRowsBounds(i.size, i, lo[i], hi[i])

    def set_costs(self, cost: FloatArray) -> None:
        """Set every column's cost, sending only those that changed; columns beyond ``len(cost)`` cost 0."""
        if len(cost) < len(self._cost):
            cost = np.concatenate([cost, np.zeros(len(self._cost) - len(cost))])
        j = np.flatnonzero(cost != self._cost).astype(np.int32)
        if j.size:
            self.changeColsCost(j.size, j, cost[j])


_STATUS = (highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kBasic, highspy.HighsBasisStatus.kUpper)


def baseline_basis(cost: FloatArray, col_hi: FloatArray, n_rows: int, basic_cols: IntArray, basic_rows: IntArray
                   ) -> Any:
    r"""Return a starting basis at the baseline flows for a solve from scratch.

    HiGHS' own start is the slack basis: every row's slack basic, every column at a
    bound; dual simplex then puts every :math:`f^{lo}_e` at its upper bound
    :math:`f^0_e` (its cost is negative), i.e. the baseline flows, and each facility's
    activity at 0. Every yield row :math:`\sum_{out_k(v)} f = y_{vk} a_v` is then
    violated by the baseline output, and dual simplex spends a pivot per facility
    bringing :math:`a_v` into the basis before it repairs the shock. Here each
    facility's activity is basic in place of the slack of one of its output yield rows
    (``basic_cols[i]`` in row ``basic_rows[i]``): the basis stays triangular in those
    columns, so it is non-singular; all row duals stay 0 (activities cost nothing), so it
    is dual feasible exactly when the slack basis is; and :math:`a_v` takes its
    baseline value, which satisfies the facility's yield rows whenever its baseline
    inputs and outputs match its yields. Non-basic columns sit at the bound their
    ``cost`` prefers (upper where the cost is negative and the bound finite).
    """
    cs = np.where((cost < 0) & np.isfinite(col_hi), 2, 0)
    cs[basic_cols] = 1
    rs = np.ones(n_rows, dtype=np.intp)
    rs[basic_rows] = 0
    b = highspy.HighsBasis()
    b.col_status = [_STATUS[v] for v in cs.tolist()]
    b.row_status = [_STATUS[v] for v in rs.tolist()]
    b.valid = True
    return b


def open_solve(h: Any, level: str, cost: FloatArray, col_hi: FloatArray, stored: Mapping[str, Any], *,
               warm: bool, crash: tuple[IntArray, IntArray] | None) -> bool:
    """Give the first run of a solve its starting basis; return whether it starts from one.

    Warm: the stored optimal basis of ``level`` from the last solve (the weighted objective,
    whose costs never change, so it stays dual feasible), else HiGHS' own last basis. From
    scratch: :func:`baseline_basis` with ``crash`` = (activity columns, their yield rows),
    or, with ``crash`` None, HiGHS' slack basis. Shared by
    :meth:`~supplychain.simulation.rebalance.RebalanceModel.solve` and every block of
    :class:`~supplychain.simulation.blocks.BlockRebalance`; the return value is
    :func:`run_highs`' ``warm``.
    """
    if warm:
        if level in stored:
            h.setBasis(with_rows(stored[level], h.getNumRow(), h.getNumCol()))
        return True
    if crash is not None:
        n = len(cost)
        h.setBasis(with_rows(baseline_basis(cost, col_hi[:n], h.getNumRow(), *crash), h.getNumRow(), h.getNumCol()))
        return True
    return False


def with_rows(basis: Any, n_rows: int, n_cols: int | None = None) -> Any:
    """Return ``basis`` for an LP with ``n_rows`` rows (and ``n_cols`` columns) added since it was taken.

    Rows added since (quota rows, the rationing's share rows) are basic, columns added since
    (the rationing's level column) non-basic at their lower bound: a row added with its
    slack basic and a column added non-basic keep a basis non-singular, so a stored basis
    stays a valid start (HiGHS rejects a basis of the wrong size; after ``clearSolver``
    that would mean a start from scratch).
    """
    rows = basis.row_status  # each read of a status list copies it out of HiGHS: read once
    missing = n_rows - len(rows)
    cols = basis.col_status if n_cols is not None else None
    extra = (n_cols - len(cols)) if n_cols is not None and cols is not None else 0
    if missing <= 0 and extra <= 0:
        return basis
    out = highspy.HighsBasis()
    out.valid = True
    out.col_status = [*(cols if cols is not None else basis.col_status),
                      *([highspy.HighsBasisStatus.kLower] * max(0, extra))]
    out.row_status = [*rows, *([highspy.HighsBasisStatus.kBasic] * max(0, missing))]
    return out


def iterations(h: Any) -> int:
    """Return the simplex, interior-point and crossover iterations of ``h``'s last run."""
    info = h.getInfo()
    return int(info.simplex_iteration_count) + int(info.ipm_iteration_count) + int(info.crossover_iteration_count)


def run_highs(h: Any, *, warm: bool, cold_solver: str | None, solver: str, perturb: float = 1.0) -> Any:
    """Run HiGHS and return the model status.

    ``perturb`` is HiGHS' ``dual_simplex_cost_perturbation_multiplier`` for this run
    (1: HiGHS' default random cost perturbation, 0: none; :func:`~supplychain.simulation.levels.perturbation`).
    ``cold_solver`` (e.g. ``"ipm"``: interior point + crossover, a basis for the warm
    re-solves after it) is used for this run only, then ``solver`` is set back. A warm
    run that ends non-optimal is retried once from scratch (guard against warm-start
    failures such as HiGHS #3194 and #3294).
    """
    h.setOptionValue(PERTURB, perturb)
    if cold_solver is not None:
        h.setOptionValue("solver", cold_solver)
        try:
            h.run()
        finally:
            h.setOptionValue("solver", solver)
    else:
        h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal and warm:
        h.clearSolver()
        h.run()
        status = h.getModelStatus()
    return status


DUAL_TOL = 1e-10
"""HiGHS ``dual_feasibility_tolerance`` (default 10⁻⁷): small enough for the tie-break of high-tonnage commodities."""

PRESOLVE = "off"
"""HiGHS ``presolve``: off, 10-20 % faster from HiGHS' slack basis on a commodity chain's LP
(docs/performance.md). Simplex solves start from a basis (:func:`baseline_basis` or the last optimum),
for which HiGHS skips presolve anyway, so it matters for ``cold_solver="ipm"``;
``options={"presolve": "on"}`` restores it."""

PERTURB = "dual_simplex_cost_perturbation_multiplier"
"""HiGHS option scaling its random cost perturbation in dual simplex (default 1)."""

FACE_TOL = 1e-9
"""Reduced costs and duals above this (levels are scaled to a largest coefficient of 1) count as non-zero."""


def keep_optimal_face(h: Any) -> None:
    r"""Restrict the LP in ``h`` to the optimal face of the level just solved.

    With the optimal row duals :math:`y` and reduced costs :math:`d_j = c_j - a_j^\top y`,
    complementary slackness says that a feasible :math:`x` is optimal for the level
    if and only if every column with :math:`d_j \ne 0` stays at its bound and every
    row with :math:`y_i \ne 0` stays active; so those columns and rows are fixed at
    their current values (``|·| >`` :data:`FACE_TOL`). Exact, unlike a bound on the
    level's objective row, and the row's coefficients need not be rewritten when the
    costs change. The current basis stays valid (only non-basic columns and rows are
    fixed); the next solve's bounds undo the fixing.
    """
    sol = h.getSolution()
    d = np.asarray(sol.col_dual)
    cols = np.flatnonzero(np.abs(d) > FACE_TOL).astype(np.int32)
    if cols.size:
        x = np.asarray(sol.col_value)[cols]
        h.changeColsBounds(cols.size, cols, x, x)
    y = np.asarray(sol.row_dual)
    rows = np.flatnonzero(np.abs(y) > FACE_TOL).astype(np.int32)
    if rows.size:
        ax = np.asarray(sol.row_value)[rows]
        h.changeRowsBounds(rows.size, rows, ax, ax)


