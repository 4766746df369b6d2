r"""The ``rebalance`` response: a linear programme that re-routes material.

Material is re-routed through permitted edges within capacities, yields and
quotas (docs/domain.md, "Supply response after a shock"). HiGHS (``highspy``) is
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
    * re-exports: :math:`\sum_{e \in x(m)} f_e - \sum_{e \in dom(m)} f_e - g_m \le R^0_m`
      (x(m) cross-border exports, dom(m) inflows from facilities and stock nodes,
      :math:`R^0_m` the baseline re-exports): no new transshipment of banned material, and
      no export licensed by a stock draw :math:`d_m` (a stock is national);
    * offtakes: :math:`f_e \ge L_e`; stocks: :math:`0 \le d_m \le S_m`, and in the re-solve that opens
      them the holder's exports held, :math:`f_e \le H_e` (:meth:`StockRoutes.held
      <supplychain.simulation.stocks.StockRoutes.held>`);
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
       face is kept (:func:`~supplychain.simulation.highs.keep_optimal_face`: columns with a non-zero reduced
       cost and rows with a non-zero dual fixed at their values);
    4. minimise deviation from the baseline
       :math:`\sum_{e \notin S} |f_e - f^0_e| / T_{k(e)} + \sum_m (G_m - g_m)/T_{k(m)}`
       (:math:`T_k` the baseline tonnes of commodity k, again base-free; S the edges into surplus nodes,
       material with no known use, whose change is not counted).

Levels 2 and 3 are skipped when there is nothing to minimise. Each level's
coefficients are scaled to a largest value of 1.

Tie-break: where several re-routings are equally good (two suppliers with spare
capacity at the same deviation from the baseline), any optimal vertex would do,
and which one a solver returns would depend on where it started (the previous
year, the previous variant). To make such choices depend on the inputs rather
than on the solve history, the coefficients of the last level (deviation) are
multiplied by :math:`1 + \tau\,r` with :math:`\tau` = :data:`~supplychain.simulation.levels.TIE_BREAK`
and :math:`r \in [0, 1)` the column's rank by quantities of the inputs, never by ids
(:func:`~supplychain.simulation.levels.tie_ranks`: the larger plant, then the larger baseline route, grows
first and is cut last; a hash of the id orders only columns whose keys are all equal), a tonne above the
baseline on a cross-border edge by :math:`1 + \tau(1 + r)` (:func:`~supplychain.simulation.levels.new_trade_factors`:
the fewest new tonnes of trade first, then the ranks), and HiGHS runs
with a dual feasibility tolerance of :data:`~supplychain.simulation.highs.DUAL_TOL` so that the perturbation
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
(:data:`~supplychain.simulation.highs.PRESOLVE`) and without its random cost
perturbation on the levels that carry the tie-break (:data:`~supplychain.simulation.levels.TIE_BROKEN`), which
are perturbed deterministically already; a solve from scratch starts from the
baseline flows with every facility's activity basic (:func:`~supplychain.simulation.highs.baseline_basis`), not
from HiGHS' slack basis; ``docs/performance.md`` has the timings.

Modules beside this one: :mod:`supplychain.simulation.candidates` (the edge set and the
facilities' yields), :mod:`supplychain.simulation.levels` (the levels' costs, the tie-break,
the lexicographic solve), :mod:`supplychain.simulation.highs` (what is sent to HiGHS and how a
run starts), :mod:`supplychain.simulation.fold` (the exact presolve) and
:mod:`supplychain.simulation.blocks` (the same LP solved block by block).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.errors import EngineError, SolverError
from supplychain.simulation.assembly import LPAssembly
from supplychain.simulation.candidates import EDGE_COLUMNS, candidate_edges, facility_yields
from supplychain.simulation.fixed import NetworkIndex, index_network, shortfall_frame
from supplychain.simulation.fold import Geometry
from supplychain.simulation.highs import INF, iterations, open_solve, run_highs
from supplychain.simulation.levels import (
    LevelCosts,
    contracted_factors,
    dot,
    id_hash,
    lexicographic_levels,
    new_trade_factors,
    perturbation,
    tie_factors,
    tie_ranks,
    weighted_costs,
    weighted_value,
)
from supplychain.simulation.lpdata import BALANCE_TOL, FLOW_TOL, QuotaRow, RebalanceSolution, YearInputs
from supplychain.simulation.lpinputs import YearInputBuilder
from supplychain.simulation.rationing import DEFAULT_RULE, Rationing, Rule, Without, check_rule

__all__ = [
    "BALANCE_TOL",
    "FLOW_TOL",
    "QuotaRow",
    "RebalanceModel",
    "RebalanceSolution",
    "YearInputs",
    "candidate_edges",
    "facility_yields",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
class RebalanceModel(LPAssembly, YearInputBuilder):
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
        Basis a simplex solve from scratch starts from:
        :func:`~supplychain.simulation.highs.baseline_basis` (default) or HiGHS' own slack
        basis (for comparison, ``benchmarks/bench_rebalance.py --cold-study``).
    fold : bool
        Fold single-edge facility flows into their activity in the LP HiGHS solves
        (:mod:`supplychain.simulation.fold`; default True). The optima are the same
        either way; False keeps the LP as formulated (for comparison and tests).
    allocation : str, optional
        Who goes short when supply is scarce (:mod:`supplychain.simulation.rationing`), unless
        a solve's inputs name a rule (:attr:`YearInputs.rule`). Default ``contracts_first``;
        ``objective="weighted"`` is one solve and rationing needs several, so it allows only
        ``max_delivery`` (its default).

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
        cold_start: Literal["baseline", "slack"] = "baseline",
        fold: bool = True,
        allocation: Rule | None = None,
    ) -> None:
        if objective not in ("lexicographic", "weighted"):
            msg = f"objective must be 'lexicographic' or 'weighted', not {objective!r}"
            raise ValueError(msg)
        self.objective = objective
        self.allocation: Rule = check_rule(allocation or ("max_delivery" if objective == "weighted" else DEFAULT_RULE))
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
        model_edges = pd.concat(parts, ignore_index=True)
        if model_edges["edge"].duplicated().any():
            dup = model_edges.loc[model_edges["edge"].duplicated(), "edge"].iloc[0]
            msg = f"duplicate edge id {dup!r} in the rebalance model"
            raise EngineError(msg)
        self.index: NetworkIndex = index_network(nodes, model_edges)
        self.nodes = self.index.nodes
        self.edges = model_edges
        self._edge_at = {e: i for i, e in enumerate(model_edges["edge"].astype(str).tolist())}
        self._route_at = None
        kind = self.index.kind
        self.facilities = np.flatnonzero(kind == "facility")
        self.markets = np.flatnonzero(kind == "market")
        self.uses = np.flatnonzero(kind == "use")
        node_ids = self.nodes["node"].astype(str)
        self.node_ids = node_ids.to_numpy(dtype=object)
        self.node_ids.flags.writeable = False
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
        # flows into surplus nodes: not counted in the deviation level (_level_costs)
        self._into_surplus = kind[self.index.dst] == "surplus"
        # commodity codes of edges and markets (deviation weights per commodity, _level_costs)
        codes, names = pd.factorize(np.concatenate([com, node_com[self.markets]]))
        self._edge_com = codes[: len(com)]
        self._market_com = codes[len(com) :]
        self._n_com = len(names)
        # hashes of the ids: they order only columns whose tie-break keys are all equal (_tie)
        self._edge_hash = id_hash(self.edges["edge"].astype(str).tolist())
        self._market_hash = id_hash(self.node_ids[self.markets].tolist())
        # the tie-break factors of the last keys (_tie): the keys change only with capacities and baselines
        self._tie_memo: tuple[bytes, FloatArray] | None = None
        self._quota_rows: dict[str, int] = {}
        self._quota_coef: dict[str, dict[int, float]] = {}
        self._solved = False
        self._start_basis: dict[str, Any] = {}  # optimal basis of the last solve's weighted start

    def can_make(self, capacity: FloatArray) -> dict[tuple[str, str], float]:
        r"""Return what each facility can make of each of its outputs in a year, :math:`M_{vk} = y_{vk} K_v`.

        Parameters
        ----------
        capacity : numpy.ndarray
            :math:`K_v` per model facility (:attr:`YearInputs.capacity <supplychain.simulation.lpdata.YearInputs>`).

        Returns
        -------
        dict
            Tonnes by (facility, commodity), :math:`y_{vk}` the output yields (:func:`facility_yields`).
        """
        k = dict(zip(self.node_ids[self.facilities].tolist(), np.asarray(capacity, dtype=float).tolist(), strict=True))
        y = self.yields
        out = y["role"].to_numpy() == "output"
        return {(f, c): coef * k.get(f, 0.0) for f, c, coef in zip(
            y["facility"].astype(str).to_numpy()[out].tolist(), y["commodity"].astype(str).to_numpy()[out].tolist(),
            y["coef"].to_numpy(dtype=float)[out].tolist(), strict=True)}

    def rule_of(self, inputs: YearInputs) -> Rule:
        """Return the allocation rule of a solve: its inputs' rule, else the model's (:attr:`allocation`)."""
        return check_rule(inputs.rule or self.allocation)

    def rationing(self, inputs: YearInputs) -> Rationing:
        """Return the allocation rule of a solve in HiGHS' columns (:mod:`supplychain.simulation.rationing`).

        Every use node is a user (surplus nodes are not use nodes); its demand is the year's
        :math:`D_u` (a use node without demand that year takes no part).
        """
        rule = self.rule_of(inputs)
        d = inputs.demand
        nu = len(d)
        floor = np.full(nu, np.nan)
        if rule == "contracts_first" and inputs.floor is not None:
            floor = np.minimum(np.asarray(inputs.floor, dtype=float), d)
        reserved = self._reserved_cols(inputs.reserved)
        without = tuple(Without(w.agreement, self._reserved_cols(w.reserved),
                                np.isin(self._use_country, sorted(w.parties)))
                        for w in inputs.participation) if rule == "contracts_first" else ()
        dk = np.bincount(self._use_com, weights=d, minlength=int(self._use_com.max()) + 1 if nu else 0)
        eff = np.where(dk[self._use_com] > 0, 1.0 / np.where(dk[self._use_com] > 0, dk[self._use_com], 1.0), 0.0) \
            if nu else np.zeros(0)
        return Rationing(rule=rule, short=self._short_cols, demand=np.asarray(d, dtype=np.float64), floor=floor,
                         group=self._use_group, exports=self._export_cols,
                         feeds=self._feed_cols(inputs.capacity) if rule == "home_first" else (), reserved=reserved,
                         efficiency=eff, without=without)

    def _reserved_cols(self, reserved: npt.NDArray[np.bool_] | None) -> npt.NDArray[np.int32]:
        """HiGHS columns of the above-baseline flows of the ``reserved`` cross-border edges (folded edges have none)."""
        if reserved is None:
            return np.zeros(0, dtype=np.int32)
        e = np.flatnonzero(np.asarray(reserved, dtype=bool) & self._cross)
        cols = self._fold.col_of[e + len(self.edges)]
        out: npt.NDArray[np.int32] = cols[cols >= 0].astype(np.int32)
        return out

    def crashes(self) -> bool:
        """Whether a solve from scratch starts from the baseline basis (simplex, ``cold_start="baseline"``).

        The basis is :func:`~supplychain.simulation.highs.baseline_basis`.
        """
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
        ids = self.node_ids
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
        ids = self.node_ids
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
        if j < c.uns:
            return f"stock draw at {ids[self.stock_markets[j - c.draw]]}"
        return f"unsold material at {ids[self.markets[j - c.uns]]}"

    # --------------------------------------------------------------- inputs
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

    def edge_caps(self, inputs: YearInputs) -> FloatArray:
        r"""Return each model edge's upper bound in a year, :math:`U_e`.

        :math:`U_e = (1 - b_e) f^0_e` on an edge a policy blocks by share :math:`b_e > 0`, else :math:`\infty`;
        at most :math:`f^0_e` on an edge that may not grow above its baseline (out of a node that is neither a
        market nor a facility, or into a surplus or stock node); at most :math:`H_e` on an edge ``inputs.held``
        holds (a stock holder's exports in the re-solve for its plants); never below 0.
        A commitment never overrides it (:func:`~supplychain.simulation.agreements.offtake_floors`).

        Parameters
        ----------
        inputs : YearInputs
            From :meth:`year_inputs`.

        Returns
        -------
        numpy.ndarray
            :math:`U_e` per model edge, in the order of :attr:`edges`.
        """
        f0 = inputs.baseline
        cap = np.where(inputs.blocked > 0, (1.0 - inputs.blocked) * f0, INF)
        cap = np.where(self._capped, np.minimum(cap, f0), cap)
        if inputs.held is not None:
            cap = np.minimum(cap, inputs.held)
        out: FloatArray = np.maximum(cap, 0.0)
        return out

    def _col_bounds(self, inputs: YearInputs) -> tuple[FloatArray, FloatArray]:
        """Column bounds of a year (flows split at the baseline, capacities, unrecorded supply, stocks)."""
        c, ne = self._cols, len(self.edges)
        f0 = inputs.baseline
        cap = self.edge_caps(inputs)
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
        col_hi[c.draw : c.uns] = inputs.stock
        return col_lo, col_hi

    def _lp_bounds(self, inputs: YearInputs) -> tuple[Geometry, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Return the year's bounds in HiGHS' (folded) columns and rows: geometry, column lo/hi, row lo/hi."""
        col_lo, col_hi = self._col_bounds(inputs)
        geo = self._fold.geometry(col_lo, col_hi)
        lo, hi = self._fold.bounds(col_lo, col_hi, geo)
        row_lo, row_hi = self._row_bounds(inputs)
        kept = self._fold.kept_rows
        return geo, lo, hi, row_lo[kept], row_hi[kept]

    def _level_costs(self, inputs: YearInputs) -> LevelCosts:
        """Cost vectors of the levels, each normalised to a largest coefficient of 1.

        Unmet demand weighs :math:`1/D_u` per user (shares; ``max_delivery``: :math:`1/D_k`,
        tonnes per commodity); it is the start's and the weighted objective's term, the
        lexicographic solve rations by the allocation rule instead.
        """
        c, ne = self._cols, len(self.edges)
        f0 = inputs.baseline
        # normalised weights: each level's largest coefficient is 1 (keeps reduced costs
        # well above HiGHS' dual feasibility tolerance)
        d = inputs.demand
        if self.rule_of(inputs) == "max_delivery":
            ws = self.rationing(inputs).efficiency
        else:
            ws = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
        ws_scale = float(ws.max()) if ws.size and ws.max() > 0 else 1.0
        cost1 = np.zeros(c.n)
        cost1[c.short : c.gap] = ws / ws_scale
        ns = len(self.stock_markets)
        has_stock = bool(ns and np.any(inputs.stock > 0))
        cost2 = np.zeros(c.n)
        if has_stock:
            wd = np.where(inputs.stock > 0, 1.0 / np.where(inputs.stock > 0, inputs.stock, 1.0), 0.0)
            cost2[c.draw : c.uns] = wd / wd.max()
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
        wf = np.where(self._into_surplus, 0.0, w)  # a flow into a surplus node is not counted
        cost4 = np.zeros(c.n)
        cost4[:ne] = -wf / dscale
        cost4[ne : 2 * ne] = wf / dscale
        cost4[c.gap : c.draw] = -wm / dscale
        dev_const = (float(np.sum(wf * f0)) + float(np.sum(inputs.unrecorded * wm))) / dscale
        # unsold: Σ_m u_m / T_k(m)
        unsold = np.zeros(c.n)
        unsold[c.uns :] = wm / float(wm.max()) if wm.size else 0.0
        tie = contracted_factors(self._tie(inputs), inputs.contracted)
        return LevelCosts(cost1, cost2, cost3, cost4, unsold, dev_const, ws_scale, cscale, has_stock, has_cost, tie)

    def _lp_costs(self, lv: LevelCosts, geo: Geometry) -> tuple[FloatArray, ...]:
        """Return the costs of a solve's HiGHS runs, in HiGHS' (folded) columns.

        ``objective="weighted"``: ``(weighted,)``; lexicographic: ``(shortfall, stock, cost,
        deviation with the tie-break, weighted start, unsold)``. Shared by :meth:`solve` and ``BlockRebalance``.
        """
        tie = lv.tie
        if self.objective == "weighted":
            return (self._fold.costs(weighted_costs(lv, tie), geo),)
        levels = (lv.cost1, lv.cost2, lv.cost3, lv.cost4 * tie, weighted_costs(lv, tie), lv.unsold)
        return tuple(self._fold.costs(k, geo) for k in levels)

    def _tie(self, inputs: YearInputs) -> FloatArray:
        r"""Tie-break factor per LP column of the deviation level (``docs/rebalance.md``, "Tie-break"; 1 elsewhere).

        Keyed on quantities of the year's inputs, never on ids (:func:`~supplychain.simulation.levels.tie_ranks`):
        an edge's key is (:math:`K_v` of its facility end, 0 if none; its baseline :math:`f^0_e`; its supplier's
        baseline outflow; its buyer's baseline inflow), a market's (its baseline inflow, outflow). A larger key
        is cut last and grows first; only columns with equal keys are ordered by a hash of their ids. Read-only,
        rebuilt only when the capacities or baselines change.
        """
        f0 = np.asarray(inputs.baseline, dtype=np.float64)
        cap = np.asarray(inputs.capacity, dtype=np.float64)
        memo_key = f0.tobytes() + cap.tobytes()
        if self._tie_memo is not None and self._tie_memo[0] == memo_key:
            return self._tie_memo[1]
        n_nodes, ne = len(self.node_ids), len(self.edges)
        src, dst = self.index.src, self.index.dst
        k_node = np.zeros(n_nodes)
        k_node[self.facilities] = np.nan_to_num(cap)
        k_fac = np.where(self.index.kind[src] == "facility", k_node[src], k_node[dst])
        out0 = np.bincount(src, weights=f0, minlength=n_nodes)
        in0 = np.bincount(dst, weights=f0, minlength=n_nodes)
        lo, hi = tie_ranks(np.column_stack([k_fac, f0, out0[src], in0[dst]]), self._edge_hash)
        m_lo, _ = tie_ranks(np.column_stack([in0[self.markets], out0[self.markets]]), self._market_hash)
        tie = np.ones(self._cols.n)
        tie[:ne] = tie_factors(lo)
        tie[ne : 2 * ne] = new_trade_factors(hi, self._cross)
        tie[self._cols.gap : self._cols.draw] = tie_factors(m_lo)
        tie.flags.writeable = False
        self._tie_memo = (memo_key, tie)
        return tie

    def restart(self) -> None:
        """Let the next :meth:`solve` start from scratch, as a new model's first solve does.

        The compiled LP is kept, with the rows that solves added to it (quota rows, the
        rationing's share rows, relaxed until a solve uses them again): the next solve reaches
        the optimum a new model reaches, up to round-off (the same vertex from another basis).
        """
        self._solved = False
        self._start_basis = {}

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
            if self.rule_of(inputs) != "max_delivery":
                msg = (f"objective='weighted' weighs unmet demand in one solve and cannot ration by the rule "
                       f"{self.rule_of(inputs)!r}; use objective='lexicographic' or allocation='max_delivery'")
                raise ValueError(msg)
            stage("weighted", lp_costs[0])
            x = fold.unfold(np.asarray(h.getSolution().col_value)[: fold.n_cols], geo, c.n)
            objectives["weighted"] = weighted_value(lv, x)  # without the tie-break
            objectives["stock"] = dot(cost2, x)
            objectives["cost"] = dot(cost3, x)
        else:
            x_lp = lexicographic_levels(
                h, stage, objectives, start=lp_costs[4], rationing=self.rationing(inputs), rows=self._share_rows,
                draws=lp_costs[1] if has_stock else None, cost=lp_costs[2] if has_cost else None,
                unsold=lp_costs[5], deviation=lp_costs[3], draw=self._draw_cols,
                stock=inputs.stock,
            )
            x = fold.unfold(x_lp[: fold.n_cols], geo, c.n)
        objectives["deviation"] = dot(cost4, x) + dev_const  # without the tie-break
        objectives["shortfall"] = dot(cost1, x) * ws_scale
        objectives["cost"] = objectives.get("cost", 0.0) * cscale
        objectives.pop("share", None)
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
        return shortfall_frame(self.nodes, self.uses, d, d - z, z)


Mode = Literal["fixed", "rebalance"]
