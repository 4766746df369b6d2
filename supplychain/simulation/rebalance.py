r"""The ``rebalance`` response: a linear programme that re-routes material.

Material is re-routed through permitted edges within capacities, yields and
quotas (DOMAIN.md, "Supply response after a shock"). HiGHS (``highspy``) is
the solver; the model is assembled once, in arrays (one CSC matrix passed with
``passModel``), and re-solved warm for every year and variant by changing
bounds, costs and a few coefficients. ``docs/rebalance.md`` has the full
formulation; in short:

Variables
    :math:`f_e = f^{lo}_e + f^{hi}_e \ge 0` flow on every edge (observed edges,
    completion edges of facilities, and candidate trade edges from every
    producing market to every consuming market of the same commodity), split at
    the baseline :math:`f^0_e` so that :math:`|f_e - f^0_e| = (f^0_e - f^{lo}_e) + f^{hi}_e`;
    :math:`a_v` activity of facility v (t of reference output);
    :math:`z_u` shortfall at use node u; :math:`g_m` unrecorded supply of market
    m; :math:`d_m` stock draw at market m.

Constraints
    * market balance: :math:`\sum_{in(m)} f + g_m + d_m - \sum_{out(m)} f \ge 0`
      (material is not created; surplus may stay in the pool);
    * yields: :math:`\sum_{out_k(v)} f = y_{vk}\, a_v` for each output k and
      :math:`\sum_{in_k(v)} f = c_{vk}\, a_v` for each input k;
    * capacity: :math:`0 \le a_v \le K_v`;
    * demand: :math:`\sum_{in(u)} f + z_u = D_u`;
    * blocked edges: :math:`f_e \le (1 - B_e)\, f^0_e` when :math:`B_e > 0`;
    * export quotas: :math:`\sum_{e \in E_q} w_e f_e \le \text{cap}_q`;
    * re-exports: :math:`\sum_{e \in x(m)} f_e - \sum_{e \in dom(m)} f_e - g_m - d_m \le R^0_m`
      (x(m) cross-border exports, dom(m) inflows from facilities and stocks,
      :math:`R^0_m` the baseline re-exports): no new transshipment of banned material;
    * offtakes: :math:`f_e \ge L_e`; stocks: :math:`0 \le d_m \le S_m`;
      unrecorded supply: :math:`0 \le g_m \le \max(0, \sum_{out} f^0 - \sum_{in} f^0)`.

Objective, lexicographic (one solve per level, the optimum of a level kept in the
next), started from the optimum of the weighted objective below, which is usually
optimal for every level already; a level that is then settled — value 0 with
non-negative costs, e.g. no shortfall at all — is not solved:

    1. minimise unmet demand :math:`\sum_u z_u / D_u` (shares, so tonnes on
       different bases are never added); afterwards each :math:`z_u` is bounded
       by its optimum;
    2. minimise stock draws :math:`\sum_m d_m / S_m` (strategic stocks last);
    3. minimise cost :math:`\sum_e c_e f_e` (export taxes, tariffs, and the
       preference surcharge on imports from outside an agreement); its optimal
       face is kept (:func:`keep_optimal_face`: columns with a non-zero reduced
       cost and rows with a non-zero dual fixed at their values);
    4. minimise deviation from the baseline
       :math:`\sum_e |f_e - f^0_e| / T_{k(e)} + \sum_m (G_m - g_m)/T_{k(m)}`
       (:math:`T_k` the baseline tonnes of commodity k, again base-free).

Levels 2 and 3 are skipped when there is nothing to minimise. Each level's
coefficients are scaled to a largest value of 1.

Tie-break: where several re-routings are equally good (two suppliers with spare
capacity at the same deviation from the baseline), any optimal vertex would do,
and which one a solver returns would depend on where it started (the previous
year, the previous variant). To make such choices depend on the inputs rather
than on the solve history, the coefficients of the last level (deviation) are
multiplied by :math:`1 + \tau\,h(\text{id})` with :math:`\tau` = :data:`TIE_BREAK`
and :math:`h \in [0, 1)` a fixed hash of the edge or market id, and HiGHS runs
with a dual feasibility tolerance of :data:`DUAL_TOL` so that the perturbation
still counts for high-tonnage commodities (small normalised weights). Levels 1–3
are not perturbed (a perturbation there would trade real shortfall or cost for
the tie-break). The reported deviation is that of the unperturbed level.

``objective="weighted"`` solves once with weights 1 : 10⁻² : 10⁻³ : 10⁻⁴ on the
four normalised levels. Its costs never change between solves, so the last basis
stays dual feasible and warm re-solves are cheap; the priority is exact only
while a unit of a lower level cannot buy back 10⁻² of the level above. The
lexicographic solve's start is the same LP, warm-started the same way, and has no
such caveat: the levels after it restore the exact priority.

HiGHS holds the LP with every single-edge facility's flows folded into its
activity (:mod:`supplychain.simulation.fold`: the yield rows and flow columns of such
facilities replaced by piecewise-linear activity columns, an exact presolve); the
model's own columns and rows are the ones above. HiGHS runs without presolve
(:data:`PRESOLVE`) and without its random cost
perturbation on the levels that carry the tie-break (:data:`TIE_BROKEN`), which
are perturbed deterministically already; a solve from scratch starts from the
baseline flows with every facility's activity basic (:func:`baseline_basis`), not
from HiGHS' slack basis; ``docs/performance.md`` has the timings.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from supplychain.errors import EngineError, SolverError
from supplychain.schema.model import Facility, Process
from supplychain.simulation.fixed import NetworkIndex, index_network, shortfall_frame
from supplychain.simulation.fold import Fold, Geometry
from supplychain.simulation.policies import PolicyEffects

__all__ = [
    "RebalanceModel",
    "RebalanceSolution",
    "YearInputs",
    "candidate_edges",
    "facility_yields",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
INF = highspy.kHighsInf
_HIGHS: Any = highspy  # highspy's stubs lack parts of the Highs API used here


def _quiet_highs(options: Mapping[str, Any] | None = None) -> Any:
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

    # ----------------------------------------------------------- whole vectors
    def set_col_bounds(self, lo: FloatArray, hi: FloatArray) -> None:
        """Set every column's bounds, sending only those that changed."""
        j = np.flatnonzero((lo != self._col_lo) | (hi != self._col_hi)).astype(np.int32)
        if j.size:
            self.changeColsBounds(j.size, j, lo[j], hi[j])

    def set_row_bounds(self, lo: FloatArray, hi: FloatArray) -> None:
        """Set the bounds of the first ``len(lo)`` rows, sending only those that changed."""
        n = len(lo)
        i = np.flatnonzero((lo != self._row_lo[:n]) | (hi != self._row_hi[:n])).astype(np.int32)
        if i.size:
            self.changeRowsBounds(i.size, i, lo[i], hi[i])

    def set_costs(self, cost: FloatArray) -> None:
        """Set every column's cost, sending only those that changed."""
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
    or, with ``crash`` None, HiGHS' slack basis. Shared by :meth:`RebalanceModel.solve` and
    every block of ``BlockRebalance``; the return value is ``run_highs``' ``warm``.
    """
    if warm:
        if level in stored:
            h.setBasis(stored[level])
        return True
    if crash is not None:
        h.setBasis(baseline_basis(cost, col_hi, h.getNumRow(), *crash))
        return True
    return False


def iterations(h: Any) -> int:
    """Return the simplex, interior-point and crossover iterations of ``h``'s last run."""
    info = h.getInfo()
    return int(info.simplex_iteration_count) + int(info.ipm_iteration_count) + int(info.crossover_iteration_count)


def run_highs(h: Any, *, warm: bool, cold_solver: str | None, solver: str, perturb: float = 1.0) -> Any:
    """Run HiGHS and return the model status.

    ``perturb`` is HiGHS' ``dual_simplex_cost_perturbation_multiplier`` for this run
    (1: HiGHS' default random cost perturbation, 0: none; :func:`perturbation`).
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


WEIGHTS = (1.0, 1e-2, 1e-3, 1e-4)
"""Weights of the four levels in the single ``weighted`` objective (each level normalised to max coefficient 1)."""

DUAL_TOL = 1e-10
"""HiGHS ``dual_feasibility_tolerance`` (default 10⁻⁷): small enough for the tie-break of high-tonnage commodities."""

PRESOLVE = "off"
"""HiGHS ``presolve``: off, 10-20 % faster from HiGHS' slack basis on a commodity chain's LP
(docs/performance.md). Simplex solves start from a basis (:func:`baseline_basis` or the last optimum),
for which HiGHS skips presolve anyway, so it matters for ``cold_solver="ipm"``;
``options={"presolve": "on"}`` restores it."""

TIE_BREAK = 1e-3
"""Relative spread of the deterministic tie-break of the deviation level (module docstring)."""

PERTURB = "dual_simplex_cost_perturbation_multiplier"
"""HiGHS option scaling its random cost perturbation in dual simplex (default 1)."""

TIE_BROKEN = frozenset({"weighted", "start", "deviation"})
"""Levels whose costs carry the deterministic tie-break, solved without HiGHS' cost perturbation."""


def perturbation(level: str, options: Mapping[str, Any]) -> float:
    """Return HiGHS' cost perturbation multiplier for ``level`` (:data:`TIE_BROKEN` levels: 0, others: 1).

    An explicit ``dual_simplex_cost_perturbation_multiplier`` in ``options`` wins.
    """
    if PERTURB in options:
        return float(options[PERTURB])
    return 0.0 if level in TIE_BROKEN else 1.0


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


FLOW_TOL = 1e-9
"""Edge flows up to this many tonnes are round-off of the LP solution and reported as 0."""

SETTLED_TOL = 1e-12
"""A level whose (normalised) value is at most this at the current point is optimal there (:func:`settled`)."""


def settled(cost: FloatArray, x: FloatArray) -> bool:
    r"""Whether a level is optimal at the feasible point ``x`` without solving it.

    Every column of the LP is non-negative, so a level with costs :math:`c \ge 0` has
    optimum :math:`\ge 0`; at :math:`c^\top x = 0` (up to :data:`SETTLED_TOL`) ``x`` attains it.
    This is the usual case after the weighted start: no shortfall, no stock draw, no
    costed flow.
    """
    return bool(np.all(cost >= 0.0)) and _dot(cost, x) <= SETTLED_TOL


def weighted_costs(lv: _LevelCosts, tie: FloatArray) -> FloatArray:
    """Return the LP costs of ``objective="weighted"`` (:data:`WEIGHTS`, tie-break on level 4).

    The weights are divided by the last one (10⁴ : 10² : 10 : 1): the same optimum, but the
    deviation level's reduced costs keep their own scale, so HiGHS resolves them to its dual
    feasibility tolerance exactly as in a solve of that level alone (and the lexicographic
    solve may skip that level after a settled start, see :meth:`RebalanceModel.solve`).
    """
    w = [wk / WEIGHTS[3] for wk in WEIGHTS]
    out: FloatArray = w[0] * lv.cost1 + w[1] * lv.cost2 + w[2] * lv.cost3 + w[3] * lv.cost4 * tie
    return out


def lexicographic_levels(h: Any, run: Callable[[str, FloatArray], float], values: dict[str, float], *,
                         start: FloatArray, shortfall: FloatArray, draws: FloatArray | None, cost: FloatArray | None,
                         deviation: FloatArray, short: npt.NDArray[np.int32], draw: npt.NDArray[np.int32],
                         stock: FloatArray) -> FloatArray:
    """Solve the lexicographic levels on ``h`` from the weighted start (``docs/rebalance.md``, "Weighted start").

    Shared by :meth:`RebalanceModel.solve` and each block of ``BlockRebalance``.

    Parameters
    ----------
    h : highspy.Highs
        The LP (the whole model, or one block).
    run : callable
        ``run(level, cost)`` solves one level with these costs on ``h`` and stores its
        optimum in ``values``.
    values : dict
        Level name → optimum; a settled level's value is written here, the start's removed.
    start, shortfall, draws, cost, deviation : numpy.ndarray
        Costs in ``h``'s columns: the weighted start and levels 1-4 (``draws`` None: no
        stocks; ``cost`` None: no costs; ``deviation`` with the tie-break).
    short, draw : numpy.ndarray
        ``h``'s shortfall and stock-draw columns.
    stock : numpy.ndarray
        The cap of each stock-draw column.

    Returns
    -------
    numpy.ndarray
        The optimal column values in ``h``'s columns (read from HiGHS once per run:
        each read copies every column, ~3 ms for 63,000 columns).
    """
    run("start", start)
    values.pop("start")
    x = np.asarray(h.getSolution().col_value)
    ran = False  # has a level been solved since the start?

    def level(name: str, costs: FloatArray) -> bool:
        """Solve a level unless it is settled at the current point; return whether it was solved."""
        nonlocal x, ran
        if settled(costs, x):
            values[name] = _dot(costs, x)
            return False
        run(name, costs)
        x = np.asarray(h.getSolution().col_value)
        ran = True
        return True

    def keep(cols: npt.NDArray[np.int32], hi: FloatArray) -> None:
        if cols.size:
            h.changeColsBounds(cols.size, cols, np.zeros(cols.size), hi)

    # 1. unmet demand: each shortfall kept at its optimum (the current vertex satisfies this exactly)
    level("shortfall", shortfall)
    keep(short, np.maximum(x[short], 0.0))
    # 2. stock draws, each kept at its optimum
    if draws is not None:
        level("stock", draws)
        keep(draw, np.minimum(stock, np.maximum(x[draw], 0.0)))
    # 3. cost: its optimal face kept
    if cost is not None:
        if level("cost", cost):
            keep_optimal_face(h)
        else:  # settled at 0: its optimal face is every costed flow at 0
            js = np.flatnonzero(cost > 0).astype(np.int32)
            h.changeColsBounds(js.size, js, x[js], x[js])
    # 4. deviation from the baseline. When levels 1-3 were all settled at the start, the
    # start's dual solution certifies this level too: on the columns left free its costs
    # are exactly the level's (weighted_costs), so it is skipped.
    if ran:
        run("deviation", deviation)
        x = np.asarray(h.getSolution().col_value)
    return x


BALANCE_TOL = 1e-9
"""Differences of baseline sums up to this share of the sums are round-off (:func:`_beyond_round_off`)."""


def _beyond_round_off(diff: npt.NDArray[Any], scale: npt.NDArray[Any]) -> FloatArray:
    """Return ``max(0, diff)``, with differences up to :data:`BALANCE_TOL` × ``scale`` as 0.

    A market whose baseline inflows and outflows balance gets ``out − in`` of a few
    10⁻¹⁴ t from floating-point sums; as a bound (unrecorded supply, re-exports) that
    is a column HiGHS warns about ("excessively small bounds") and a spurious flow.
    """
    out: FloatArray = np.where(diff > BALANCE_TOL * scale, diff, 0.0).astype(np.float64)
    return out


def tie_factors(ids: Sequence[str]) -> FloatArray:
    r"""Return :math:`1 + \tau h(\text{id})` per id (:data:`TIE_BREAK`; :math:`h` from CRC-32, stable across runs)."""
    h = np.array([zlib.crc32(str(i).encode()) for i in ids], dtype=np.float64) / 2.0**32
    return 1.0 + TIE_BREAK * h


def _dot(a: FloatArray, b: FloatArray) -> float:
    """Return ``a @ b`` computed without BLAS.

    A BLAS dot product of this length runs on OpenBLAS's worker threads, which then
    busy-wait for the next call and keep a CPU busy while the blocks are solved
    (measured at 10k nodes, 50 blocks: 40 warm solves took 4.3 s on one thread, with 8.2 s of
    CPU, and 4.8 s on two threads; without BLAS 4.2 s with 4.1 s of CPU, and 3.0 s on two).
    """
    return float(np.sum(a * b))


EDGE_COLUMNS = ["edge", "supplier", "buyer", "supplier_country", "buyer_country", "commodity", "stage", "kind"]


# ------------------------------------------------------------------- yields
def facility_yields(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    facilities: Mapping[str, Facility] | None = None,
    processes: Mapping[str, Process] | None = None,
) -> pd.DataFrame:
    r"""Input and output coefficients per tonne of each facility's reference output.

    Parameters
    ----------
    nodes : pandas.DataFrame
        Node table; facility rows give the reference output in ``commodity``.
    edges : pandas.DataFrame
        Base-year edge table.
    facilities, processes : mapping, optional
        Scenario entities, for facilities without base-year output.

    Returns
    -------
    pandas.DataFrame
        ``facility``, ``commodity``, ``role`` (``input`` | ``output``), ``coef``.

    Notes
    -----
    Calibration: a facility with base-year output of its reference commodity r
    gets the observed ratios, :math:`y_k = \sum_{out_k} f^0 / \sum_{out_r} f^0`
    and :math:`c_k = \sum_{in_k} f^0 / \sum_{out_r} f^0`, so the baseline is a
    feasible point of the LP (and the ``fixed`` response, which scales observed
    flows, is one too). Other facilities use their process:
    :math:`c_k = \text{inputs}_k / \text{outputs}_r`, :math:`y_k = \text{outputs}_k / \text{outputs}_r`;
    a mine makes one tonne of its output per tonne of activity. Commodities seen
    on a facility's edges but not in its recipe get coefficient 0 (the edge is
    closed).
    """
    facilities = facilities or {}
    processes = processes or {}
    fac = nodes[nodes["kind"].astype(str) == "facility"]
    ref = dict(zip(fac["node"].astype(str), fac["commodity"].astype(str), strict=True))
    t = edges["tonnes"].to_numpy(dtype=float)
    sup = edges["supplier"].astype(str).to_numpy()
    buy = edges["buyer"].astype(str).to_numpy()
    com = edges["commodity"].astype(str).to_numpy()
    out_df = pd.DataFrame({"facility": sup, "commodity": com, "t": t})
    out_df = out_df[out_df["facility"].isin(ref)]
    in_df = pd.DataFrame({"facility": buy, "commodity": com, "t": t})
    in_df = in_df[in_df["facility"].isin(ref)]
    outs = out_df.groupby(["facility", "commodity"], sort=True)["t"].sum()
    ins = in_df.groupby(["facility", "commodity"], sort=True)["t"].sum()
    ref_out = {f: float(outs.get((f, r), 0.0)) for f, r in ref.items()}
    rows: list[tuple[str, str, str, float]] = []
    seen: set[tuple[str, str, str]] = set()

    def add(f: str, k: str, role: str, coef: float) -> None:
        if (f, k, role) not in seen:
            seen.add((f, k, role))
            rows.append((f, k, role, coef))

    calibrated = {f for f, v in ref_out.items() if v > 0}
    out_items: list[tuple[str, str, float]] = [
        (str(f), str(k), float(v)) for (f, k), v in zip(outs.index.tolist(), outs.to_numpy(), strict=True)
    ]
    in_items: list[tuple[str, str, float]] = [
        (str(f), str(k), float(v)) for (f, k), v in zip(ins.index.tolist(), ins.to_numpy(), strict=True)
    ]
    for f, k, v in out_items:
        if f in calibrated:
            add(f, k, "output", v / ref_out[f])
    for f, k, v in in_items:
        if f in calibrated:
            add(f, k, "input", v / ref_out[f])
    for f, r in sorted(ref.items()):
        if f in calibrated:
            continue
        ent = facilities.get(f)
        proc = processes.get(ent.process) if ent is not None and ent.process is not None else None
        if proc is not None:
            r = proc.reference_output
            base = proc.outputs[r].central
            for k, q in proc.outputs.items():
                add(f, k, "output", q.central / base)
            for k, q in proc.inputs.items():
                add(f, k, "input", q.central / base)
        else:
            add(f, ent.output if ent is not None and ent.output is not None else r, "output", 1.0)
    for f, k, _ in out_items:
        add(f, k, "output", 0.0)
    for f, k, _ in in_items:
        add(f, k, "input", 0.0)
    return pd.DataFrame(rows, columns=["facility", "commodity", "role", "coef"])


# --------------------------------------------------------------- candidates
def _commodity_stage(nodes: pd.DataFrame, edges: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    if "stage" in edges:
        for c, s in zip(edges["commodity"].astype(str), edges["stage"].astype(str), strict=True):
            out.setdefault(c, s)
    if "stage" in nodes:
        for c, s in zip(nodes["commodity"].astype(str), nodes["stage"].astype(str), strict=True):
            out.setdefault(c, s)
    return out


def role_masks(
    supplier: pd.Series, buyer: pd.Series, supplier_country: pd.Series, buyer_country: pd.Series
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which edges make a market a *producer* or a *consumer* for the re-routing candidates.

    A market (an id with ``:`` that is not a use node) produces when a facility
    supplies it or it exports across a border, and consumes when it imports across a
    border or feeds a use node or a facility.

    Returns
    -------
    tuple of numpy.ndarray of bool
        Per edge: its buyer produces, its supplier produces, its buyer consumes, its
        supplier consumes.
    """
    s = supplier.astype(str)
    b = buyer.astype(str)
    s_mkt = (s.str.contains(":") & ~s.str.endswith(":use")).to_numpy()
    b_mkt = (b.str.contains(":") & ~b.str.endswith(":use")).to_numpy()
    cross = (supplier_country.astype(str) != buyer_country.astype(str)).to_numpy()
    s_fac = (~s.str.contains(":")).to_numpy()
    b_fac = (~b.str.contains(":")).to_numpy()
    b_use = b.str.endswith(":use").to_numpy()
    return b_mkt & s_fac, s_mkt & cross, b_mkt & cross, s_mkt & (b_use | b_fac)


def candidate_edges(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    yields: pd.DataFrame,
    *,
    reroute: bool = True,
    offtakes: Sequence[tuple[str, str, str, str, str, str]] = (),
) -> pd.DataFrame:
    """Edges the LP may use besides the observed ones.

    Parameters
    ----------
    nodes, edges : pandas.DataFrame
        Node and (union) edge tables.
    yields : pandas.DataFrame
        From :func:`facility_yields`.
    reroute : bool
        Add trade candidates (else only completion and offtake edges).
    offtakes : sequence of tuple
        ``(edge id, supplier, buyer, supplier_country, buyer_country, commodity)``
        committed routes to add when missing.

    Returns
    -------
    pandas.DataFrame
        New edges with the edge-table columns, ``kind`` ``supply``/``input``/``trade``
        and ``origin`` ``completion``/``reroute``/``offtake``.

    Notes
    -----
    * completion: a facility gets ``supply.<f>.<k>`` to its country's market for
      every output k and ``input.<f>.<k>`` from it for every input it has no edge for;
    * re-routing: for each commodity, every *producing* market (fed by a facility,
      or exporting in the baseline) → every *consuming* market (importing, or
      feeding a use node or a facility) in another country, ``reroute.<k>.<from>.<to>``.
    """
    stage = _commodity_stage(nodes, edges)
    fac = nodes[nodes["kind"].astype(str) == "facility"]
    country = dict(zip(fac["node"].astype(str), fac["country"].astype(str), strict=True))
    sup = edges["supplier"].astype(str)
    buy = edges["buyer"].astype(str)
    com = edges["commodity"].astype(str)
    have_out = set(zip(sup, com, strict=True))
    have_in = set(zip(buy, com, strict=True))
    new: list[dict[str, Any]] = []
    for f, k, role in zip(yields["facility"], yields["commodity"], yields["role"], strict=True):
        c = country.get(f, "")
        market = f"{c}:{k}"
        if role == "output" and (f, k) not in have_out:
            new.append({"edge": f"supply.{f}.{k}", "supplier": f, "buyer": market, "supplier_country": c,
                        "buyer_country": c, "commodity": k, "kind": "supply", "origin": "completion"})
        elif role == "input" and (f, k) not in have_in:
            new.append({"edge": f"input.{f}.{k}", "supplier": market, "buyer": f, "supplier_country": c,
                        "buyer_country": c, "commodity": k, "kind": "input", "origin": "completion"})
    comp = pd.DataFrame(new, columns=[*EDGE_COLUMNS, "origin"])
    allx = pd.concat([edges.assign(origin="observed"), comp], ignore_index=True)
    pairs = set(
        zip(allx["supplier"].astype(str), allx["buyer"].astype(str), allx["commodity"].astype(str), strict=True)
    )
    extra: list[dict[str, Any]] = []
    for eid, s, b, sc, bc, k in offtakes:
        if (s, b, k) not in pairs:
            pairs.add((s, b, k))
            extra.append({"edge": eid, "supplier": s, "buyer": b, "supplier_country": sc, "buyer_country": bc,
                          "commodity": k, "kind": "trade", "origin": "offtake"})
    if reroute:
        s_all = allx["supplier"].astype(str)
        b_all = allx["buyer"].astype(str)
        prod_b, prod_s, cons_b, cons_s = role_masks(s_all, b_all, allx["supplier_country"], allx["buyer_country"])
        producers = pd.concat([b_all[prod_b], s_all[prod_s]]).drop_duplicates()
        consumers = pd.concat([b_all[cons_b], s_all[cons_s]]).drop_duplicates()
        p = pd.DataFrame({"supplier": producers.to_numpy()})
        q = pd.DataFrame({"buyer": consumers.to_numpy()})
        for df, col, cc in ((p, "supplier", "supplier_country"), (q, "buyer", "buyer_country")):
            parts = df[col].str.split(":", n=1, expand=True)
            df[cc] = parts[0] if len(df) else pd.Series(dtype=str)
            df["commodity"] = parts[1] if len(df) else pd.Series(dtype=str)
        cand = p.merge(q, on="commodity")
        cand = cand[cand["supplier_country"] != cand["buyer_country"]]
        key = pd.Series(list(zip(cand["supplier"], cand["buyer"], cand["commodity"], strict=True)), dtype=object)
        cand = cand[~key.isin(pairs).to_numpy()]
        cand = cand.assign(
            edge="reroute." + cand["commodity"] + "." + cand["supplier_country"] + "." + cand["buyer_country"],
            kind="trade",
            origin="reroute",
        )
        extra.extend(cand.to_dict("records"))  # type: ignore[arg-type]
    out = pd.concat([comp, pd.DataFrame(extra, columns=[*EDGE_COLUMNS, "origin"])], ignore_index=True)
    out["stage"] = out["commodity"].map(stage).fillna("")
    return out[[*EDGE_COLUMNS, "origin"]].reset_index(drop=True)


# ------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class QuotaRow:
    """One export quota of a year, aligned to model edges."""

    policy: str
    """Policy id."""
    edges: IntArray
    """Model edge positions covered."""
    weights: FloatArray
    """Coefficient per covered edge."""
    cap: float
    """Right-hand side."""


@dataclass(frozen=True)
class YearInputs:
    """Everything that changes between solves, aligned to the model's arrays.

    Attributes
    ----------
    baseline : numpy.ndarray
        :math:`f^0_e` per model edge (0 for candidates).
    blocked : numpy.ndarray
        :math:`B_e` per model edge (bans and licensing; quotas are rows).
    cost : numpy.ndarray
        :math:`c_e` USD/t per model edge.
    lower : numpy.ndarray
        :math:`L_e` committed minimum per model edge.
    capacity : numpy.ndarray
        :math:`K_v` per model facility.
    demand : numpy.ndarray
        :math:`D_u` per use node.
    unrecorded : numpy.ndarray
        :math:`G_m` per market.
    stock : numpy.ndarray
        :math:`S_m` per stock market.
    reexport : numpy.ndarray
        :math:`R^0_m` per re-export row: baseline cross-border exports of the market
        beyond its baseline domestic-origin inflow.
    quotas : tuple of QuotaRow
        Export quotas in force.
    """

    baseline: FloatArray
    blocked: FloatArray
    cost: FloatArray
    lower: FloatArray
    capacity: FloatArray
    demand: FloatArray
    unrecorded: FloatArray
    stock: FloatArray
    reexport: FloatArray
    quotas: tuple[QuotaRow, ...] = ()


@dataclass(frozen=True)
class RebalanceSolution:
    """Optimal re-routing of one year.

    Attributes
    ----------
    tonnes : numpy.ndarray
        :math:`f_e` per model edge.
    activity : numpy.ndarray
        :math:`a_v` per model facility.
    shortfall : numpy.ndarray
        :math:`z_u` per use node.
    stock_draw : numpy.ndarray
        :math:`d_m` per stock market.
    unrecorded : numpy.ndarray
        :math:`g_m` per market.
    objectives : dict
        Optimal value of each solved level (``shortfall``, ``stock``, ``cost``, ``deviation``).
    iterations : int
        Simplex iterations over all levels.
    seconds : float
        Wall time of the solves.
    warm : bool
        Whether the solve started from the previous basis.
    """

    tonnes: FloatArray
    activity: FloatArray
    shortfall: FloatArray
    stock_draw: FloatArray
    unrecorded: FloatArray
    objectives: dict[str, float]
    iterations: int
    seconds: float
    warm: bool

    @classmethod
    def from_columns(cls, x: FloatArray, c: _Cols, ne: int, *, objectives: dict[str, float], iterations: int,
                     seconds: float, warm: bool) -> RebalanceSolution:
        """Read the solution out of the LP's column vector (layout :class:`_Cols`, ``ne`` model edges).

        Edge tonnes are the sum of the two deviation columns of each edge; round-off below
        :data:`FLOW_TOL` tonnes (and below zero) is set to 0, so that an edge the optimum
        leaves empty is not reported as a 10⁻¹³ t supplier.
        """
        f = x[:ne] + x[ne : 2 * ne]
        return cls(
            tonnes=np.where(f > FLOW_TOL, f, 0.0),
            activity=x[c.act : c.short].copy(),
            shortfall=np.maximum(x[c.short : c.gap], 0.0),
            stock_draw=x[c.draw :].copy(),
            unrecorded=x[c.gap : c.draw].copy(),
            objectives=objectives,
            iterations=iterations,
            seconds=seconds,
            warm=warm,
        )


# -------------------------------------------------------------------- model
@dataclass
class _Cols:
    f_lo: int
    f_hi: int
    act: int
    short: int
    gap: int
    draw: int
    n: int


@dataclass
class _Rows:
    market: int
    yld: int
    demand: int
    reexport: int
    n: int


@dataclass
class _LevelCosts:
    cost1: FloatArray
    cost2: FloatArray
    cost3: FloatArray
    cost4: FloatArray
    dev_const: float
    ws_scale: float
    cscale: float
    has_stock: bool
    has_cost: bool


class RebalanceModel:
    """The re-routing LP of one network structure, re-solved for years and variants.

    Parameters
    ----------
    nodes : pandas.DataFrame
        Node table (union over the years to solve).
    edges : pandas.DataFrame
        Edge table (union over the years; ``tonnes`` of the base year used to
        calibrate yields).
    yields : pandas.DataFrame, optional
        From :func:`facility_yields` (default: computed from ``edges``).
    stocks : collection of str, optional
        Market node ids holding a stockpile.
    offtakes : sequence of tuple, optional
        Committed routes (see :func:`candidate_edges`).
    reroute : bool
        Allow candidate trade edges (default True).
    transshipment : bool
        Allow a market to re-export more than in the baseline (default False: a
        market's cross-border exports may exceed its domestic output, stock draws
        and unrecorded supply only by its baseline re-exports, so a ban cannot be
        circumvented by laundering the banned material through a third country).
    options : mapping, optional
        HiGHS options (e.g. ``{"time_limit": 60}``).
    objective : {"lexicographic", "weighted"}
        Priority handling (module docstring).
    cold_solver : str
        HiGHS ``solver`` for the first level of a solve from scratch (default
        ``"choose"``: HiGHS' dual simplex; ``"ipm"``: interior point + crossover, which
        was the faster before the tie-break, ``docs/performance.md``); warm levels use simplex.
    cold_start : {"baseline", "slack"}
        Basis a simplex solve from scratch starts from: :func:`baseline_basis` (default) or
        HiGHS' own slack basis (for comparison, ``benchmarks/bench_rebalance.py --cold-study``).
    extra_edges : pandas.DataFrame, optional
        Edges to include that play no part in choosing the candidates (``origin``
        ``"potential"``): routes a sweep's samples may have in their baseline.
    fold : bool
        Fold single-edge facility flows into their activity in the LP HiGHS solves
        (:mod:`supplychain.simulation.fold`; default True). The optima are the same
        either way; False keeps the LP as formulated (for comparison and tests).

    Attributes
    ----------
    edges : pandas.DataFrame
        Model edges: observed plus candidates, with ``origin``.
    nodes : pandas.DataFrame
        Model nodes (completed with markets the candidates need).
    facilities, uses, markets, stock_markets : numpy.ndarray
        Node positions of each variable group.

    Examples
    --------
    One supplier country blocked, another with spare capacity:

    >>> nodes = pd.DataFrame({"node": ["cn_mine", "au_mine", "CN:x", "AU:x", "US:x", "US:x:use"],
    ...     "kind": ["facility", "facility", "market", "market", "market", "use"],
    ...     "country": ["CN", "AU", "CN", "AU", "US", "US"], "commodity": ["x"] * 6,
    ...     "capacity": [100.0, 60.0, np.nan, np.nan, np.nan, np.nan]})
    >>> edges = pd.DataFrame({"edge": ["s_cn", "s_au", "t_cn", "t_au", "use"],
    ...     "supplier": ["cn_mine", "au_mine", "CN:x", "AU:x", "US:x"],
    ...     "buyer": ["CN:x", "AU:x", "US:x", "US:x", "US:x:use"],
    ...     "supplier_country": ["CN", "AU", "CN", "AU", "US"], "buyer_country": ["CN", "AU", "US", "US", "US"],
    ...     "commodity": ["x"] * 5, "stage": ["ore"] * 5, "kind": ["supply", "supply", "trade", "trade", "use"],
    ...     "tonnes": [80.0, 20.0, 80.0, 20.0, 100.0]})
    >>> m = RebalanceModel(nodes, edges)
    >>> inp = m.year_inputs(nodes, edges, blocked={"t_cn": 1.0})
    >>> round(float(m.solve(inp).shortfall.sum()), 6)  # 100 − AU capacity 60
    40.0
    """

    def __init__(
        self,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        yields: pd.DataFrame | None = None,
        *,
        stocks: Collection[str] = (),
        offtakes: Sequence[tuple[str, str, str, str, str, str]] = (),
        reroute: bool = True,
        transshipment: bool = False,
        options: Mapping[str, Any] | None = None,
        objective: Literal["lexicographic", "weighted"] = "lexicographic",
        cold_solver: str = "choose",
        extra_edges: pd.DataFrame | None = None,
        cold_start: Literal["baseline", "slack"] = "baseline",
        fold: bool = True,
    ) -> None:
        t0 = time.perf_counter()
        if objective not in ("lexicographic", "weighted"):
            msg = f"objective must be 'lexicographic' or 'weighted', not {objective!r}"
            raise ValueError(msg)
        self.objective = objective
        self.cold_solver = cold_solver
        if cold_start not in ("baseline", "slack"):
            msg = f"cold_start must be 'baseline' or 'slack', not {cold_start!r}"
            raise ValueError(msg)
        self.cold_start = cold_start
        edges = edges.reset_index(drop=True)
        if "stage" not in edges:
            edges = edges.assign(stage="")
        self.yields = yields if yields is not None else facility_yields(nodes, edges)
        cand = candidate_edges(nodes, edges, self.yields, reroute=reroute, offtakes=offtakes)
        parts = [edges[EDGE_COLUMNS].assign(origin="observed"), cand]
        if extra_edges is not None and len(extra_edges):
            parts.append(extra_edges[EDGE_COLUMNS].assign(origin="potential"))
        model_edges = pd.concat(parts, ignore_index=True)
        if model_edges["edge"].duplicated().any():
            dup = model_edges.loc[model_edges["edge"].duplicated(), "edge"].iloc[0]
            msg = f"duplicate edge id {dup!r} in the rebalance model"
            raise EngineError(msg)
        self.index: NetworkIndex = index_network(nodes, model_edges)
        self.nodes = self.index.nodes
        self.edges = model_edges
        self._edge_pos = pd.Index(model_edges["edge"].astype(str))
        kind = self.index.kind
        self.facilities = np.flatnonzero(kind == "facility")
        self.markets = np.flatnonzero(kind == "market")
        self.uses = np.flatnonzero(kind == "use")
        node_ids = self.nodes["node"].astype(str)
        self._node_pos = pd.Index(node_ids)
        stock_pos = self._node_pos.get_indexer(pd.Index(list(stocks)))
        self.stock_markets = np.asarray(sorted({int(p) for p in stock_pos if p >= 0}), dtype=np.intp)
        self._options = dict(options or {})
        self.transshipment = transshipment
        self._build(fold_flows=fold)
        src = self.index.src
        com = self.edges["commodity"].astype(str).to_numpy()
        node_com = self.nodes["commodity"].astype(str).to_numpy()
        self._is_ref_out = (kind[src] == "facility") & (com == node_com[src])
        # commodity codes of edges and markets (deviation weights per commodity, _level_costs)
        codes, names = pd.factorize(np.concatenate([com, node_com[self.markets]]))
        self._edge_com = codes[: len(com)]
        self._market_com = codes[len(com) :]
        self._n_com = len(names)
        node_names = self.nodes["node"].astype(str).to_numpy()
        self._tie_edge = tie_factors(self.edges["edge"].astype(str).tolist())
        self._tie_market = tie_factors(node_names[self.markets].tolist())
        tie = np.ones(self._cols.n)
        tie[: len(self.edges)] = self._tie_edge
        tie[len(self.edges) : 2 * len(self.edges)] = self._tie_edge
        tie[self._cols.gap : self._cols.draw] = self._tie_market
        tie.flags.writeable = False
        self._tie_cols: FloatArray = tie  # per LP column, the same for every solve (_tie)
        self._quota_rows: dict[str, int] = {}
        self._quota_coef: dict[str, dict[int, float]] = {}
        self._solved = False
        self._start_basis: dict[str, Any] = {}  # optimal basis of the last solve's weighted start
        self.build_seconds = time.perf_counter() - t0

    # ---------------------------------------------------------------- build
    def _build(self, *, fold_flows: bool) -> None:
        """Assemble the LP and pass it to HiGHS, folded first (:mod:`supplychain.simulation.fold`) if ``fold_flows``."""
        ne = len(self.edges)
        nf, nu, nm, ns = len(self.facilities), len(self.uses), len(self.markets), len(self.stock_markets)
        c = _Cols(f_lo=0, f_hi=ne, act=2 * ne, short=2 * ne + nf, gap=2 * ne + nf + nu, draw=2 * ne + nf + nu + nm, n=0)
        c.n = c.draw + ns
        n_nodes = self.index.n
        # rows: markets, yields, demand, re-export limits
        market_row = np.full(n_nodes, -1, dtype=np.intp)
        market_row[self.markets] = np.arange(nm)
        y = self.yields
        fac_ids = self.nodes["node"].astype(str).to_numpy()
        fac_pos = pd.Index(fac_ids[self.facilities])
        y = y[y["facility"].isin(fac_pos)].reset_index(drop=True)
        self.yields = y
        ykey = pd.Index(
            list(zip(y["facility"].astype(str), y["commodity"].astype(str), y["role"].astype(str), strict=True))
        )
        src, dst = self.index.src, self.index.dst
        kind = self.index.kind
        # re-export limit rows: markets with cross-border outflows (unless transshipment is allowed)
        cross_out = (kind[src] == "market") & (
            self.edges["supplier_country"].astype(str).to_numpy() != self.edges["buyer_country"].astype(str).to_numpy()
        )
        rex_nodes = np.unique(src[cross_out]) if not self.transshipment else np.zeros(0, dtype=np.intp)
        self.reexport_markets = rex_nodes.astype(np.intp)
        nx_ = len(rex_nodes)
        base = nm + len(y) + nu
        r = _Rows(market=0, yld=nm, demand=nm + len(y), reexport=base, n=base + nx_)
        use_row = np.full(n_nodes, -1, dtype=np.intp)
        use_row[self.uses] = r.demand + np.arange(nu)
        com = self.edges["commodity"].astype(str).to_numpy()
        rows_l: list[IntArray] = []
        cols_l: list[IntArray] = []
        vals_l: list[FloatArray] = []
        eidx = np.arange(ne, dtype=np.intp)

        def put(rr: IntArray, cc: IntArray, vv: FloatArray) -> None:
            rows_l.append(rr)
            cols_l.append(cc)
            vals_l.append(vv)

        # edge out of a market: −1 on its balance; into a market: +1
        m = kind[src] == "market"
        put(market_row[src[m]], eidx[m], -np.ones(m.sum()))
        m = kind[dst] == "market"
        put(market_row[dst[m]], eidx[m], np.ones(m.sum()))
        m = kind[dst] == "use"
        put(use_row[dst[m]], eidx[m], np.ones(m.sum()))
        # sources without a balance row (stock nodes) supply at most their baseline
        self._capped_source = ~np.isin(kind[src], ["market", "facility"])
        if np.any(kind[src] == "use"):
            bad = self.edges["edge"].iloc[int(np.flatnonzero(kind[src] == "use")[0])]
            msg = f"edge {bad!r} leaves a use node; use nodes are sinks"
            raise EngineError(msg)
        for side, role, sign in ((src, "output", 1.0), (dst, "input", 1.0)):
            m = kind[side] == "facility"
            keys = list(zip(fac_ids[side[m]], com[m], [role] * int(m.sum()), strict=True))
            rowpos = ykey.get_indexer(pd.Index(keys)) if keys else np.zeros(0, dtype=np.intp)
            if np.any(rowpos < 0):
                e = self.edges["edge"].iloc[int(eidx[m][rowpos < 0][0])]
                msg = f"edge {e!r}: its facility has no {role} coefficient for this commodity"
                raise EngineError(msg)
            put(r.yld + rowpos.astype(np.intp), eidx[m], np.full(int(m.sum()), sign))
        # activity: − coef on each yield row of its facility
        act_of = pd.Index(fac_ids[self.facilities]).get_indexer(pd.Index(y["facility"].astype(str)))
        put(r.yld + np.arange(len(y), dtype=np.intp), c.act + act_of.astype(np.intp), -y["coef"].to_numpy(dtype=float))
        # start of a solve from scratch (baseline_basis): each facility's activity basic in its first
        # output yield row with a non-zero coefficient
        out_rows = np.flatnonzero((y["role"].to_numpy() == "output") & (y["coef"].to_numpy(dtype=float) != 0))
        _, first = np.unique(act_of[out_rows], return_index=True)
        self._crash = ((c.act + act_of[out_rows[first]]).astype(np.intp), (r.yld + out_rows[first]).astype(np.intp))
        # shortfall, unrecorded supply, stock draw
        put(use_row[self.uses], c.short + np.arange(nu, dtype=np.intp), np.ones(nu))
        put(market_row[self.markets], c.gap + np.arange(nm, dtype=np.intp), np.ones(nm))
        put(market_row[self.stock_markets], c.draw + np.arange(ns, dtype=np.intp), np.ones(ns))
        # re-export limit: cross-border exports − domestic-origin inflow − g − d ≤ R⁰
        rex_row = np.full(n_nodes, -1, dtype=np.intp)
        rex_row[rex_nodes] = r.reexport + np.arange(nx_)
        self._rex_row = rex_row
        m = cross_out & (rex_row[src] >= 0)
        put(rex_row[src[m]], eidx[m], np.ones(int(m.sum())))
        dom = ~np.isin(kind[src], ["market", "use"]) & (kind[dst] == "market") & (rex_row[dst] >= 0)
        put(rex_row[dst[dom]], eidx[dom], -np.ones(int(dom.sum())))
        mk = rex_row[self.markets] >= 0
        put(rex_row[self.markets[mk]], c.gap + np.flatnonzero(mk).astype(np.intp), -np.ones(int(mk.sum())))
        sk = rex_row[self.stock_markets] >= 0
        put(rex_row[self.stock_markets[sk]], c.draw + np.flatnonzero(sk).astype(np.intp), -np.ones(int(sk.sum())))
        self._cross_out = cross_out
        self._dom_in = ~np.isin(kind[src], ["market", "use"]) & (kind[dst] == "market")
        rr = np.concatenate(rows_l)
        cc = np.concatenate(cols_l)
        vv = np.concatenate(vals_l)
        # f_hi duplicates the f_lo column entries
        edge_ent = cc < ne
        rr = np.concatenate([rr, rr[edge_ent]])
        vv = np.concatenate([vv, vv[edge_ent]])
        cc = np.concatenate([cc, cc[edge_ent] + ne])
        a = sp.csc_matrix((vv, (rr, cc)), shape=(r.n, c.n))
        a.sum_duplicates()
        a.sort_indices()
        self._cols, self._rows = c, r
        fold = Fold.of(a, ne, (c.act + np.arange(nf)).astype(np.intp), (r.yld, r.demand), enabled=fold_flows)
        self._fold = fold
        # the LP as HiGHS holds it (folded; base rows, quota rows are added on first use); used by blocks.py
        self._matrix = fold.matrix
        # HiGHS columns of the shortfall and stock-draw variables (lexicographic levels)
        self._short_cols = fold.col_of[c.short : c.gap].astype(np.int32)
        self._draw_cols = fold.col_of[c.draw : c.n].astype(np.int32)
        # baseline_basis pairs of the facilities HiGHS still has activity columns and yield rows for
        keep = fold.col_of[self._crash[0]] >= 0
        self._crash = (fold.col_of[self._crash[0][keep]], fold.row_of[self._crash[1][keep]])
        self._market_row = market_row
        self._ykey = ykey
        n_col, n_row = fold.n_cols, len(fold.kept_rows)
        lp = highspy.HighsLp()
        lp.num_col_ = n_col
        lp.num_row_ = n_row
        lp.col_cost_ = np.zeros(n_col)
        lp.col_lower_ = np.zeros(n_col)
        lp.col_upper_ = np.full(n_col, INF)
        row_lo = np.zeros(r.n)
        row_hi = np.zeros(r.n)
        row_hi[: nm] = INF  # market balance ≥ 0
        row_lo[r.reexport :] = -INF
        row_hi[r.reexport :] = INF
        lp.row_lower_ = row_lo[fold.kept_rows]
        lp.row_upper_ = row_hi[fold.kept_rows]
        a = fold.matrix
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        h: Any = _quiet_highs(self._options)
        status = h.passModel(lp)
        if status != highspy.HighsStatus.kOk:
            msg = f"HiGHS rejected the rebalance model: {status}"
            raise SolverError(msg)
        self._h = SentHighs(h, lp)
        self._row_hi_base = row_hi

    def crashes(self) -> bool:
        """Whether a solve from scratch starts from :func:`baseline_basis` (simplex, ``cold_start="baseline"``)."""
        return self.cold_start == "baseline" and self.cold_solver in ("choose", "simplex")

    # ------------------------------------------------------------- naming
    def row_name(self, i: int) -> str:
        """Constraint group and member of HiGHS row ``i`` (e.g. ``market balance at US:ndpr_oxide``)."""
        kept = self._fold.kept_rows
        if i >= len(kept):
            for pid, row in self._quota_rows.items():
                if row == i:
                    return f"export quota {pid}"
            return f"row {i}"
        i = int(kept[i])
        r = self._rows
        ids = self.nodes["node"].astype(str).to_numpy()
        if i < r.yld:
            return f"market balance at {ids[self.markets[i]]}"
        if i < r.demand:
            f, k, role = self._ykey[i - r.yld]
            return f"yield ({role} {k}) at {f}"
        if i < r.reexport:
            return f"demand at {ids[self.uses[i - r.demand]]}"
        return f"re-export limit at {ids[self.reexport_markets[i - r.reexport]]}"

    def col_name(self, j: int) -> str:
        """Variable group and member of HiGHS column ``j``."""
        c = self._cols
        ids = self.nodes["node"].astype(str).to_numpy()
        ne = len(self.edges)
        fold = self._fold
        if j >= len(fold.kept_cols):
            act = int(fold.act[fold.segment_facility(j)])
            return f"capacity of {ids[self.facilities[act - c.act]]} (with its flows)"
        j = int(fold.kept_cols[j])
        if j < c.act:
            what = "flow (up to baseline)" if j < ne else "flow (above baseline)"
            return f"{what} on edge {self.edges['edge'].iloc[j % ne]}"
        if j < c.short:
            return f"capacity of {ids[self.facilities[j - c.act]]}"
        if j < c.gap:
            return f"shortfall at {ids[self.uses[j - c.short]]}"
        if j < c.draw:
            return f"unrecorded supply of {ids[self.markets[j - c.gap]]}"
        return f"stock draw at {ids[self.stock_markets[j - c.draw]]}"

    # --------------------------------------------------------------- inputs
    def _position(self, edge_id: str) -> int:
        pos = self.edge_positions([edge_id])[0]
        if pos < 0:
            msg = f"edge {edge_id!r} is not in the rebalance model"
            raise EngineError(msg)
        return int(pos)

    def edge_positions(self, edge_ids: Sequence[str] | pd.Series) -> IntArray:
        """Model positions of edge ids (−1 when not in the model)."""
        return np.asarray(self._edge_pos.get_indexer(pd.Index([str(e) for e in edge_ids])), dtype=np.intp)

    def edge_table(self, edges: pd.DataFrame) -> pd.DataFrame:
        """Model edges with the year's baseline ``tonnes`` (0 for candidates and absent edges)."""
        t = np.zeros(len(self.edges))
        pos = self.edge_positions(edges["edge"])
        ok = pos >= 0
        t[pos[ok]] = edges["tonnes"].to_numpy(dtype=float)[ok]
        return self.edges.assign(tonnes=t)

    def year_inputs(
        self,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        *,
        effects: PolicyEffects | None = None,
        blocked: Mapping[str, float] | None = None,
        cost: FloatArray | None = None,
        lower: Mapping[str, float] | None = None,
        stock: Mapping[str, float] | None = None,
        capacity: Mapping[str, float] | None = None,
    ) -> YearInputs:
        r"""Align one year's tables and policy effects to the model.

        Parameters
        ----------
        nodes, edges : pandas.DataFrame
            The year's node and edge tables (edges missing from the model are an error).
        effects : PolicyEffects, optional
            Policies applied to :meth:`edge_table` of this year (model edge order).
        blocked : mapping, optional
            Extra blocked shares by edge id (combined with ``effects`` as layers).
        cost : numpy.ndarray, optional
            Extra cost per model edge (USD/t), e.g. preference surcharges.
        lower : mapping, optional
            Committed minimum tonnes by edge id.
        stock : mapping, optional
            Stock available for release by market node id.
        capacity : mapping, optional
            Capacity overrides by facility id (e.g. 0 for a switched-off investment).

        Returns
        -------
        YearInputs

        Notes
        -----
        Capacity :math:`K_v = \max(\text{capacity}_v, \text{baseline output}_v)`; an unknown
        (NaN) capacity means no spare capacity (:math:`K_v` = baseline output).
        Facilities absent from the year's node table have :math:`K_v = 0`.
        """
        ne = len(self.edges)
        pos = self.edge_positions(edges["edge"])
        if np.any(pos < 0):
            missing = edges["edge"].iloc[int(np.flatnonzero(pos < 0)[0])]
            msg = f"edge {missing!r} of the year is not in the rebalance model; build it from the union of the years"
            raise EngineError(msg)
        f0 = np.zeros(ne)
        f0[pos] = edges["tonnes"].to_numpy(dtype=float)
        b = np.zeros(ne)
        c = np.zeros(ne)
        quotas: list[QuotaRow] = []
        if effects is not None:
            if len(effects.edges) != ne:
                msg = "policy effects must be computed on RebalanceModel.edge_table(edges)"
                raise EngineError(msg)
            b = effects.edges["blocked_share"].to_numpy(dtype=float).copy()
            c = effects.edges["cost_per_t"].to_numpy(dtype=float).copy()
            for q in effects.quotas:
                qp = self.edge_positions(list(q.edges))
                quotas.append(QuotaRow(q.policy, qp, np.asarray(q.weights, dtype=float), q.cap_t))
        for eid, share in (blocked or {}).items():
            p = self._position(eid)
            b[p] = b[p] + share - b[p] * share
        if cost is not None:
            c = c + cost
        lo = self.edge_values(lower or {})
        ids = self.nodes["node"].astype(str).to_numpy()
        capcol, present = self.facility_capacity(nodes)
        override = self.facility_values(capacity or {})
        s = np.zeros(len(self.stock_markets))
        if stock:
            for i, mid in enumerate(ids[self.stock_markets]):
                s[i] = float(stock.get(mid, 0.0))
        return self.inputs_from_arrays(f0, blocked=b, cost=c, lower=lo, capacity=capcol, present=present,
                                       capacity_override=override, stock=s, quotas=tuple(quotas))

    def edge_values(self, by_edge: Mapping[str, float]) -> FloatArray:
        """Return tonnes by edge id as an array over the model's edges (0 elsewhere; an unknown id is an error)."""
        out = np.zeros(len(self.edges))
        for eid, t in by_edge.items():
            out[self._position(eid)] += t
        return out

    def facility_values(self, by_facility: Mapping[str, float]) -> FloatArray:
        """Return values by facility id as an array over the model's facilities (NaN elsewhere)."""
        fac_ids = self.nodes["node"].astype(str).to_numpy()[self.facilities]
        out = np.full(len(fac_ids), np.nan)
        for fid, v in by_facility.items():
            out[fac_ids == fid] = v
        return out

    def facility_capacity(self, nodes: pd.DataFrame) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Return a year's ``capacity`` column per model facility (NaN: unknown) and which facilities it has.

        Parameters
        ----------
        nodes : pandas.DataFrame
            The year's node table.
        """
        fac_ids = self.nodes["node"].astype(str).to_numpy()[self.facilities]
        yn = nodes.set_index(nodes["node"].astype(str))
        present = np.asarray(pd.Index(fac_ids).isin(yn.index), dtype=bool)
        if "capacity" not in yn:
            return np.full(len(fac_ids), np.nan), present
        return yn["capacity"].reindex(fac_ids).to_numpy(dtype=float), present

    def inputs_from_arrays(
        self,
        baseline: FloatArray,
        *,
        blocked: FloatArray,
        cost: FloatArray,
        lower: FloatArray,
        capacity: FloatArray,
        present: npt.NDArray[np.bool_],
        capacity_override: FloatArray,
        stock: FloatArray,
        quotas: tuple[QuotaRow, ...] = (),
    ) -> YearInputs:
        r"""Derive a year's inputs from arrays already aligned to the model (:meth:`year_inputs` without pandas).

        Parameters
        ----------
        baseline : numpy.ndarray
            :math:`f^0_e` per model edge.
        blocked, cost, lower : numpy.ndarray
            :math:`B_e`, :math:`c_e`, :math:`L_e` per model edge.
        capacity : numpy.ndarray
            The year's capacity column per model facility (NaN: unknown).
        present : numpy.ndarray of bool
            Whether each model facility exists in the year.
        capacity_override : numpy.ndarray
            Capacity that replaces :math:`K_v` (NaN: none), e.g. 0 for a switched-off investment.
        stock : numpy.ndarray
            :math:`S_m` per stock market.
        quotas : tuple of QuotaRow
            Export quotas in force.

        Returns
        -------
        YearInputs
            With :math:`K_v = \max(\text{capacity}_v, \text{baseline output}_v)`, demand
            :math:`D_u` = baseline inflow of each use node, unrecorded supply
            :math:`G_m = \max(0, \text{out}^0_m - \text{in}^0_m)` and re-export limits (differences
            up to :data:`BALANCE_TOL` of the sums are round-off, taken as 0).
        """
        f0 = baseline
        n = self.index.n
        src, dst = self.index.src, self.index.dst
        out0 = np.bincount(src, weights=f0, minlength=n)
        in0 = np.bincount(dst, weights=f0, minlength=n)
        # capacity of facilities: reference-output tonnes
        ref_out = np.bincount(src[self._is_ref_out], weights=f0[self._is_ref_out], minlength=n)[self.facilities]
        k = np.where(np.isnan(capacity), ref_out, np.maximum(np.nan_to_num(capacity), ref_out))
        k = np.where(present | (ref_out > 0), k, 0.0)
        k = np.where(np.isnan(capacity_override), k, capacity_override)
        demand = in0[self.uses]
        unrec_all = _beyond_round_off(out0 - in0, np.maximum(out0, in0))
        unrec = unrec_all[self.markets]
        exp0 = np.bincount(src[self._cross_out], weights=f0[self._cross_out], minlength=n)
        dom0 = np.bincount(dst[self._dom_in], weights=f0[self._dom_in], minlength=n)
        rex = _beyond_round_off(exp0 - dom0 - unrec_all, np.maximum(exp0, dom0))[self.reexport_markets]
        return YearInputs(
            baseline=f0, blocked=blocked, cost=cost, lower=lower, capacity=k, demand=demand.astype(np.float64),
            unrecorded=unrec, stock=stock, reexport=rex, quotas=quotas,
        )

    # ---------------------------------------------------------------- solve
    def _set_quota(self, q: QuotaRow | None, pid: str) -> None:
        h = self._h
        if pid not in self._quota_rows:
            h.addRow(-INF, INF, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
            self._quota_rows[pid] = h.getNumRow() - 1
            self._quota_coef[pid] = {}
        row = self._quota_rows[pid]
        want = self._quota_lp_coef(q) if q is not None else {}
        have = self._quota_coef[pid]
        for j in set(have) | set(want):
            v = want.get(j, 0.0)
            if have.get(j, 0.0) != v:
                h.changeCoeff(row, j, v)
        self._quota_coef[pid] = want
        if q is None:
            h.changeRowBounds(row, -INF, INF)
        else:
            h.changeRowBounds(row, -INF, q.cap)

    def _quota_lp_coef(self, q: QuotaRow) -> dict[int, float]:
        """Return a quota row's coefficients on HiGHS' (folded) columns.

        On the model's columns the row weighs both flow columns of each covered edge;
        :meth:`Fold.coefficients <supplychain.simulation.fold.Fold.coefficients>` maps them.
        """
        want: dict[int, float] = {}
        ne = len(self.edges)
        for e, w in zip(q.edges.tolist(), q.weights.tolist(), strict=True):
            if e >= 0:
                want[e] = want.get(e, 0.0) + w
                want[e + ne] = want[e]
        return self._fold.coefficients(want)

    def _run(self, level: str, warm: bool, cold_solver: str | None = None) -> float:
        h = self._h
        status = run_highs(h, warm=warm, cold_solver=cold_solver, solver=self._options.get("solver", "choose"),
                           perturb=perturbation(level, self._options))
        if status == highspy.HighsModelStatus.kOptimal:
            return float(h.getInfo().objective_function_value)
        text = h.modelStatusToString(status)
        if level == "start":  # the weighted start has the constraints of level 1: report it as level 1
            level = "shortfall"
        if status == highspy.HighsModelStatus.kInfeasible:
            msg = f"rebalance LP infeasible at level {level!r}: {self._explain_infeasible()}"
        elif status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            msg = f"rebalance LP {text.lower()} at level {level!r}; check the yields (material created from nothing)"
        else:
            msg = f"HiGHS stopped at level {level!r} with status {text!r}; no solution is reported"
        raise SolverError(msg)

    def _explain_infeasible(self) -> str:
        """Name the constraint groups of an irreducible infeasible subset (HiGHS ``getIis``)."""
        h = self._h
        try:
            h.setOptionValue("iis_strategy", 6)  # from the whole LP (2) + reduce to an irreducible set (4)
            status, iis = h.getIis()
            rows = sorted({int(i) for i in iis.row_index_})
            cols = sorted({int(j) for j in iis.col_index_})
        except Exception:  # pragma: no cover - IIS is best effort
            return "no irreducible infeasible subset available"
        if status != highspy.HighsStatus.kOk or not (rows or cols):
            return "no irreducible infeasible subset available"
        parts = [self.row_name(i) for i in rows]
        ne = len(self.edges)
        kept = self._fold.kept_cols
        names = []
        for j in cols:
            full = int(kept[j]) if j < len(kept) else -1
            name = f"flow on edge {self.edges['edge'].iloc[full % ne]}" if 0 <= full < 2 * ne else self.col_name(j)
            if name not in names:
                names.append(name)
        parts += [f"bounds of {n}" for n in names]
        shown = parts[:12]
        tail = f" and {len(parts) - len(shown)} more" if len(parts) > len(shown) else ""
        return "conflicting constraints: " + "; ".join(shown) + tail

    def _row_bounds(self, inputs: YearInputs) -> tuple[FloatArray, FloatArray]:
        """Bounds of the base rows for ``inputs`` (market balance ≥ 0, yields = 0, demand, re-export limits)."""
        r = self._rows
        lo = np.zeros(r.n)
        hi = self._row_hi_base.copy()
        nu = len(self.uses)
        lo[r.demand : r.demand + nu] = inputs.demand
        hi[r.demand : r.demand + nu] = inputs.demand
        lo[r.reexport : r.n] = -INF
        hi[r.reexport : r.n] = inputs.reexport
        return lo, hi

    def _col_bounds(self, inputs: YearInputs) -> tuple[FloatArray, FloatArray]:
        """Column bounds of a year (flows split at the baseline, capacities, unrecorded supply, stocks)."""
        c, ne = self._cols, len(self.edges)
        f0 = inputs.baseline
        cap = np.where(inputs.blocked > 0, (1.0 - inputs.blocked) * f0, INF)
        cap = np.where(self._capped_source, np.minimum(cap, f0), cap)
        cap = np.maximum(cap, 0.0)
        lo_ub = np.minimum(f0, cap)
        hi_ub = np.where(np.isinf(cap), INF, cap - lo_ub)
        need = np.minimum(inputs.lower, cap)  # a commitment never overrides a ban
        lo_lb = np.minimum(need, lo_ub)
        hi_lb = np.maximum(0.0, need - lo_ub)
        col_lo = np.zeros(c.n)
        col_hi = np.full(c.n, INF)
        col_lo[:ne], col_hi[:ne] = lo_lb, lo_ub
        col_lo[ne : 2 * ne], col_hi[ne : 2 * ne] = hi_lb, hi_ub
        col_hi[c.act : c.short] = inputs.capacity
        col_hi[c.gap : c.draw] = inputs.unrecorded
        col_hi[c.draw :] = inputs.stock
        return col_lo, col_hi

    def _lp_bounds(self, inputs: YearInputs) -> tuple[Geometry, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Return the year's bounds in HiGHS' (folded) columns and rows: geometry, column lo/hi, row lo/hi."""
        col_lo, col_hi = self._col_bounds(inputs)
        geo = self._fold.geometry(col_lo, col_hi)
        lo, hi = self._fold.bounds(col_lo, col_hi, geo)
        row_lo, row_hi = self._row_bounds(inputs)
        kept = self._fold.kept_rows
        return geo, lo, hi, row_lo[kept], row_hi[kept]

    def _level_costs(self, inputs: YearInputs) -> _LevelCosts:
        """Cost vectors of the four levels, each normalised to a largest coefficient of 1."""
        c, ne = self._cols, len(self.edges)
        f0 = inputs.baseline
        # normalised weights: each level's largest coefficient is 1 (keeps reduced costs
        # well above HiGHS' dual feasibility tolerance)
        d = inputs.demand
        ws = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
        ws_scale = float(ws.max()) if ws.size and ws.max() > 0 else 1.0
        cost1 = np.zeros(c.n)
        cost1[c.short : c.gap] = ws / ws_scale
        ns = len(self.stock_markets)
        has_stock = bool(ns and np.any(inputs.stock > 0))
        cost2 = np.zeros(c.n)
        if has_stock:
            wd = np.where(inputs.stock > 0, 1.0 / np.where(inputs.stock > 0, inputs.stock, 1.0), 0.0)
            cost2[c.draw :] = wd / wd.max()
        has_cost = bool(np.any(inputs.cost != 0))
        cost3 = np.zeros(c.n)
        cscale = float(np.abs(inputs.cost).max()) if has_cost else 1.0
        cost3[:ne] = inputs.cost / cscale
        cost3[ne : 2 * ne] = inputs.cost / cscale
        tk_by = np.bincount(self._edge_com, weights=f0, minlength=self._n_com)
        tk = tk_by[self._edge_com]
        w = 1.0 / np.where(tk > 0, tk, 1.0)
        tm = tk_by[self._market_com]
        wm = 1.0 / np.where(tm > 0, tm, 1.0)
        dscale = float(max(w.max() if w.size else 1.0, wm.max() if wm.size else 1.0))
        cost4 = np.zeros(c.n)
        cost4[:ne] = -w / dscale
        cost4[ne : 2 * ne] = w / dscale
        cost4[c.gap : c.draw] = -wm / dscale
        dev_const = (float(np.sum(w * f0)) + float(np.sum(inputs.unrecorded * wm))) / dscale
        return _LevelCosts(cost1, cost2, cost3, cost4, dev_const, ws_scale, cscale, has_stock, has_cost)

    def _lp_costs(self, lv: _LevelCosts, geo: Geometry) -> tuple[FloatArray, ...]:
        """Return the costs of a solve's HiGHS runs, in HiGHS' (folded) columns.

        ``objective="weighted"``: ``(weighted,)``; lexicographic: ``(shortfall, stock, cost,
        deviation with the tie-break, weighted start)``. Shared by :meth:`solve` and ``BlockRebalance``.
        """
        tie = self._tie()
        if self.objective == "weighted":
            return (self._fold.costs(weighted_costs(lv, tie), geo),)
        levels = (lv.cost1, lv.cost2, lv.cost3, lv.cost4 * tie, weighted_costs(lv, tie))
        return tuple(self._fold.costs(k, geo) for k in levels)

    def _tie(self) -> FloatArray:
        """Tie-break factor per LP column of the deviation level (module docstring; 1 elsewhere).

        The same for every solve: built once, read-only.
        """
        return self._tie_cols

    def basis(self) -> dict[str, Any]:
        """Return the optimal basis of the last solve's first run, to start a later solve from.

        A mapping of that run's name (``"weighted"``; ``"start"`` for the lexicographic
        objective, whose levels start from the weighted optimum) → ``highspy.HighsBasis``
        (see :meth:`solve`, ``start``).
        """
        return dict(self._start_basis)

    def solve(self, inputs: YearInputs, *, warm: bool = True, start: Any = None) -> RebalanceSolution:
        """Solve the re-routing LP for one year (lexicographic levels, or one weighted solve).

        Parameters
        ----------
        inputs : YearInputs
            From :meth:`year_inputs`.
        warm : bool
            Start from the basis of the previous solve (default); ``False``
            clears it and solves from scratch.
        start : mapping of str to highspy.HighsBasis, optional
            Start from this basis (from :meth:`basis`) instead of the previous solve's:
            the result then does not depend on what was solved before, which keeps
            sweeps reproducible whatever the order of their samples.

        Returns
        -------
        RebalanceSolution

        Raises
        ------
        SolverError
            Infeasible (the message names the conflicting constraint groups, e.g.
            ``market balance at US:ndpr_oxide``), unbounded, or any other
            non-optimal HiGHS status. A zero solution is never returned silently.
        """
        t0 = time.perf_counter()
        h = self._h
        c, ne = self._cols, len(self.edges)
        warm_used = warm and self._solved
        if not warm_used:
            h.clearSolver()
        fold = self._fold
        geo, col_lo, col_hi, row_lo, row_hi = self._lp_bounds(inputs)
        h.set_col_bounds(col_lo, col_hi)  # also undoes the last solve's optimal face and kept levels
        h.set_row_bounds(row_lo, row_hi)
        active = {q.policy for q in inputs.quotas}
        for q in inputs.quotas:
            self._set_quota(q, q.policy)
        for pid in list(self._quota_rows):
            if pid not in active:
                self._set_quota(None, pid)
        bases = self._start_basis
        if start is not None:
            h.clearSolver()  # nothing of earlier solves but this basis: the same result in any process
            bases = dict(start)
            warm_used = True
        crash = self._crash if self.crashes() else None
        self._start_basis = {}
        it0 = 0
        objectives: dict[str, float] = {}

        def stage(level: str, cost_vec: FloatArray) -> float:
            """Solve one level; ``cost_vec`` in HiGHS' columns."""
            nonlocal it0
            h.set_costs(cost_vec)
            opening = not self._start_basis  # the solve's first run: the weighted objective
            cold = self.cold_solver if opening and not warm_used and self.cold_solver != "choose" else None
            from_basis = open_solve(h, level, cost_vec, col_hi, bases, warm=warm_used, crash=crash) if opening \
                else warm_used
            z = self._run(level, from_basis, cold)
            if opening:
                self._start_basis[level] = h.getBasis()
            it0 += iterations(h)
            objectives[level] = z
            return z

        lv = self._level_costs(inputs)
        cost1, cost2, cost3, cost4 = lv.cost1, lv.cost2, lv.cost3, lv.cost4
        ws_scale, cscale, dev_const = lv.ws_scale, lv.cscale, lv.dev_const
        has_stock, has_cost = lv.has_stock, lv.has_cost

        lp_costs = self._lp_costs(lv, geo)
        if self.objective == "weighted":
            weights = WEIGHTS
            stage("weighted", lp_costs[0])
            x = fold.unfold(np.asarray(h.getSolution().col_value), geo, c.n)
            plain = weights[0] * cost1 + weights[1] * cost2 + weights[2] * cost3 + weights[3] * cost4
            objectives["weighted"] = _dot(plain, x)  # without the tie-break
            objectives["shortfall"] = _dot(cost1, x)
            objectives["stock"] = _dot(cost2, x)
            objectives["cost"] = _dot(cost3, x)
            objectives["deviation"] = _dot(cost4, x) + dev_const
        else:
            x_lp = lexicographic_levels(
                h, stage, objectives, start=lp_costs[4], shortfall=lp_costs[0],
                draws=lp_costs[1] if has_stock else None, cost=lp_costs[2] if has_cost else None,
                deviation=lp_costs[3], short=self._short_cols, draw=self._draw_cols, stock=inputs.stock,
            )
            x = fold.unfold(x_lp, geo, c.n)
            objectives["deviation"] = _dot(cost4, x) + dev_const  # without the tie-break
        objectives["shortfall"] *= ws_scale
        objectives["cost"] = objectives.get("cost", 0.0) * cscale
        self._solved = True
        return RebalanceSolution.from_columns(x, c, ne, objectives=objectives, iterations=it0,
                                              seconds=time.perf_counter() - t0, warm=warm_used)

    @staticmethod
    def shortfall(inputs: YearInputs, sol: RebalanceSolution) -> FloatArray:
        """Return the shortfall per use node, round-off below 10⁻⁹ of demand as 0 and at most the demand."""
        d = inputs.demand
        z = np.where(sol.shortfall < 1e-9 * np.maximum(1.0, d), 0.0, sol.shortfall)
        return np.minimum(z, d)

    def shortfall_table(self, inputs: YearInputs, sol: RebalanceSolution) -> pd.DataFrame:
        """Demand, delivered and shortfall per use node (same columns as the fixed response)."""
        d = inputs.demand
        z = self.shortfall(inputs, sol)
        return shortfall_frame(self.nodes.iloc[self.uses], d, d - z, z)


Mode = Literal["fixed", "rebalance"]
