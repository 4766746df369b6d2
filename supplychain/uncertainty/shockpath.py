"""The compiled fast path of ``mode="rebalance"``: one LP for the sweep, re-solved per sample.

"Compile the network once per sweep and only patch the numbers that vary", for the
supply response. :class:`PatchedRebalanceModel` holds, per process:

* one :class:`~supplychain.simulation.rebalance.RebalanceModel` over the union of
  the years' networks (the same model :class:`~supplychain.simulation.run.Simulator`
  builds), solved once per year at the central values to record its starting basis (the weighted optimum);
* per year, the :class:`~supplychain.uncertainty.kernel.ExposureKernel` that gives
  each sample's baseline tonnes on arrays (observed edges with the sampled numbers,
  then the allocation rules), and the mapping of its edges onto the model's;
* per year and set of active toggles, the policy effects on the model's edges
  (blocked shares, costs, quota rows, offtakes, switched-off investments), which do
  not depend on the sampled tonnes (quota caps, which do, are recomputed per sample);
* per year, :class:`~supplychain.uncertainty.shockmeasures.AfterShockMeasures`.

Per sample and year it patches the baseline into the LP's bounds
(:meth:`~supplychain.simulation.rebalance.RebalanceModel.inputs_from_arrays`),
runs the stock ledger, and re-solves **from the central solution's basis of that
year** — not from the previous sample's — so a sample's result does not depend on
which samples were solved before it: the numbers are the same for any chunking,
worker count or executor. The measures of the re-routed network are then computed
for the whole block of samples at once.

A sample whose baseline puts tonnes on an edge the model lacks (an allocation
route the central run never used) is computed by the per-sample path instead
(:class:`~supplychain.uncertainty.models.SimulateMeasures`); :func:`rebalance_model`
checks the whole path against the per-sample path before a sweep uses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from supplychain.errors import SupplyChainError
from supplychain.schema.model import Scenario
from supplychain.simulation.agreements import with_investments
from supplychain.simulation.rebalance import QuotaRow, RebalanceModel
from supplychain.simulation.run import Objective, Simulator, year_policies
from supplychain.simulation.stocks import StockLedger, StockRoutes
from supplychain.simulation.toggles import resolve_toggles
from supplychain.uncertainty.kernel import ExposureKernel
from supplychain.uncertainty.models import (
    ChunkResult,
    FunctionModel,
    MeasureFilter,
    SimulateMeasures,
    chunk_result,
)
from supplychain.uncertainty.patch import apply
from supplychain.uncertainty.sampling import SamplingSpec, central_row
from supplychain.uncertainty.shockmeasures import AfterShockMeasures
from supplychain.uncertainty.shockplan import (
    RESPONSE_SECTIONS,
    incidence,
    market_roles,
    model_positions,
    potential_edges,
    with_shortfall_rows,
)

__all__ = ["PatchedRebalanceModel"]

POLICY_CACHE = 512
"""Policy evaluations kept per process (one per year, set of active toggles and sampled response values)."""
KEEP_TOL = 1e-6
"""Tonnes above which a re-routed edge outside the year's tables is kept (``simulation.run.TOL``)."""


@dataclass(frozen=True)
class _Policies:
    """One year's policy effects on the model's edges for one set of active toggles."""

    blocked: np.ndarray
    cost: np.ndarray
    lower: np.ndarray
    override: np.ndarray
    capacity: np.ndarray
    quotas: tuple[tuple[str, np.ndarray, np.ndarray, float, float], ...]
    """Policy id, model edge positions, weights, year fraction φ, quota Q."""
    reserved: np.ndarray
    """Exports held while partners are served first (:class:`~supplychain.simulation.run.YearPolicies`)."""


@dataclass
class _Year:
    year: int
    kernel: ExposureKernel
    to_model: np.ndarray
    always: np.ndarray
    capacity: np.ndarray
    present: np.ndarray
    measures: AfterShockMeasures
    table: pd.DataFrame
    """The model's edges with the central baseline and entities (what policies are evaluated on)."""
    use_of_edge: np.ndarray
    """Per kernel edge, the model use node it feeds (−1: none)."""
    onto_model: Any = None
    """Kernel edges × model edges incidence (sparse)."""
    roles: tuple[Any, Any] = (None, None)
    """Producer and consumer incidence (kernel edges × markets, sparse; :func:`market_roles`)."""
    basis: dict[str, Any] | None = None
    """Optimal basis of the central solve's weighted start (:meth:`RebalanceModel.basis`)."""


@dataclass
class _Compiled:
    sim: Simulator
    model: RebalanceModel
    years: list[_Year]
    routes: StockRoutes
    start_levels: dict[str, float]
    entering: dict[int, dict[str, float]]
    policies: dict[tuple[int, frozenset[str], tuple[float, ...]], _Policies] = field(default_factory=dict)
    sinks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """Model edges into a use or stock node that are not demand (present only where a sample has them)."""
    roles: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=bool), np.zeros(0, dtype=bool))
    """Producer and consumer roles of the markets in the central run."""
    active: dict[tuple[bool, ...], frozenset[str]] = field(default_factory=dict)


@dataclass
class PatchedRebalanceModel:
    """Sweep model of the compiled rebalance path (module docstring).

    Parameters
    ----------
    scenario : Scenario
        The scenario the samples are drawn from.
    spec : SamplingSpec
        The sampled parameters.
    years : tuple of int
        Years simulated.
    source : str
        Source country of the exposure measures.
    toggles : tuple of (str, bool)
        Explicit toggle overrides.
    variant : str or None
        Variant applied before the overrides.
    objective : {"lexicographic", "weighted"}
        Priority handling of the LP.
    catalogue : pandas.DataFrame
        The measure rows filled, in order (normalised).
    select : MeasureFilter
        Rows kept (for samples computed by the per-sample path).
    on_error : {"raise", "nan"}
        What to do with a sample that cannot be computed.
    """

    scenario: Scenario
    spec: SamplingSpec
    years: tuple[int, ...]
    source: str
    toggles: tuple[tuple[str, bool], ...]
    variant: str | None
    objective: str
    catalogue: pd.DataFrame
    select: MeasureFilter
    on_error: str = "raise"
    _state: _Compiled | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the compiled state (HiGHS objects); each process compiles its own."""
        state = dict(self.__dict__)
        state["_state"] = None
        return state

    @property
    def description(self) -> str:
        """What the model computes."""
        return ("compiled rebalance path (LP built once, sampled baseline patched into its bounds, re-solved "
                "from the central basis; measures on arrays)")

    # ------------------------------------------------------------- compile
    def compiled(self) -> _Compiled:
        """Build (once per process) the LP, the kernels and the measures, and solve the central run."""
        if self._state is not None:
            return self._state
        from supplychain.metrics.measures import resolve_source

        objective: Objective = "weighted" if self.objective == "weighted" else "lexicographic"
        sim = Simulator(self.scenario, years=self.years, source=self.source, objective=objective)
        world = sim.world
        kernels: dict[int, tuple[ExposureKernel, frozenset[str]]] = {}
        for year in self.years:
            nodes, _ = sim.tables(year)
            universe = set(nodes["country"].astype(str)) | set(world.countries) | set(world.regions)
            src = resolve_source(world, self.source, universe)
            empty = pd.DataFrame({"metric": pd.Series([], dtype=str), "country": pd.Series([], dtype=str),
                                  "commodity": pd.Series([], dtype=str)})
            kernels[year] = (ExposureKernel.build(world, self.spec, year, src, empty), src)
        sim.potential = potential_edges(world, [sim.tables(y) for y in self.years], [k for k, _ in kernels.values()])
        model = sim.model()
        self.catalogue = with_shortfall_rows(self.catalogue, model, world, self.years, self.select)
        use_of_node = np.full(len(model.nodes), -1, dtype=np.int64)
        use_of_node[model.uses] = np.arange(len(model.uses))
        years: list[_Year] = []
        for year in self.years:
            nodes, edges = sim.tables(year)
            kernel, src = kernels[year]
            to_model = model_positions(model, kernel.edge_ids)
            always = np.zeros(len(kernel.edge_ids), dtype=bool)
            always[np.asarray(kernel.e_obs, dtype=np.int64)] = True
            always[np.asarray(kernel.e_dem, dtype=np.int64)] = True
            capcol, present = model.facility_capacity(nodes)
            cat = self.catalogue[self.catalogue["year"].eq(year)]
            buyer = np.where(to_model >= 0, model.index.dst[np.maximum(to_model, 0)], -1)
            use_of_edge = np.where(buyer >= 0, use_of_node[np.maximum(buyer, 0)], -1)
            years.append(_Year(year, kernel, to_model, always, capcol, present,
                               AfterShockMeasures.build(model, src, cat), sim.edge_table(edges), use_of_edge))
        for y in years:
            hit = np.flatnonzero(y.to_model >= 0)
            y.onto_model = incidence(list(zip(hit.tolist(), y.to_model[hit].tolist(), strict=True)),
                                      len(y.kernel.edge_ids), len(model.edges))
        markets: dict[str, int] = {}
        pairs = [market_roles(world, y.kernel, markets) for y in years]
        for y, (prod, cons) in zip(years, pairs, strict=True):
            y.roles = tuple(incidence(r, len(y.kernel.edge_ids), len(markets)) for r in (prod, cons))
        stocks = StockLedger.from_scenario(world, self.years)
        edge_buyer = model.edges["buyer"].astype(str)
        demand_edges = set().union(*(set(np.asarray(y.kernel.edge_ids)[y.kernel.e_dem]) for y in years))
        sinks = ((edge_buyer.str.endswith(":use") | edge_buyer.str.endswith(":stock"))
                 & ~model.edges["edge"].astype(str).isin(demand_edges)).to_numpy()
        self._state = _Compiled(sim, model, years, StockRoutes.of(model), stocks.levels, stocks.entering, sinks=sinks)
        # the central run: its basis per year is where every sample's solve of that year starts
        row = pd.DataFrame([central_row(self.spec)], columns=self.spec.names)
        self._solve_block(row.to_numpy(dtype=float), [str(c) for c in row.columns], record_basis=True)
        return self._state

    def _active(self, st: _Compiled, toggle_values: tuple[bool, ...], names: list[str]) -> frozenset[str]:
        if toggle_values not in st.active:
            patched = apply(self.scenario, dict(zip(names, toggle_values, strict=True))) if names else self.scenario
            st.active[toggle_values] = resolve_toggles(patched, variant=self.variant,
                                                       overrides=dict(self.toggles)).active
        return st.active[toggle_values]

    def _policies(self, st: _Compiled, y: _Year, active: frozenset[str], response: dict[str, float]) -> _Policies:
        """Policy effects of a year for the active toggles and sampled response quantities (cached)."""
        key = (y.year, active, tuple(response.values()))
        if key not in st.policies:
            from supplychain.graph.build import capacity_in_year

            model, sim = st.model, st.sim
            world = with_investments(apply(self.scenario, response)) if response else sim.world
            pol = year_policies(world, model, y.year, y.table, active)
            eff = pol.effects
            fac_ids = model.nodes["node"].astype(str).to_numpy()[model.facilities]
            capacity = y.capacity.copy()
            if response:
                for j, fid in enumerate(fac_ids.tolist()):
                    if fid in sim.investments and fid in world.facilities:
                        cap = capacity_in_year(world.facilities[fid], y.year)
                        capacity[j] = np.nan if cap is None else cap
            quotas = tuple((q.policy, model.edge_positions(list(q.edges)), np.asarray(q.weights, dtype=float),
                            float(q.in_force), float(q.tonnes_per_year)) for q in eff.quotas)
            if len(st.policies) >= POLICY_CACHE:
                st.policies.clear()
            st.policies[key] = _Policies(
                blocked=eff.edges["blocked_share"].to_numpy(dtype=float).copy(),
                cost=eff.edges["cost_per_t"].to_numpy(dtype=float) + pol.surcharge,
                lower=model.edge_values(pol.lower), override=model.facility_values(sim.switched_off(active)),
                capacity=capacity, quotas=quotas, reserved=pol.reserved,
            )
        return st.policies[key]

    # ------------------------------------------------------------- evaluate
    def evaluate(self, inputs: pd.DataFrame, *, detail: bool = False) -> ChunkResult:
        """Compute the catalogue's measures for each sample row.

        Parameters
        ----------
        inputs : pandas.DataFrame
            Sample rows.
        detail : bool
            Keep the per-cell ``present`` and ``fuzzy`` masks (to check the path).

        Returns
        -------
        ChunkResult
            Values aligned on :attr:`catalogue`.

        Raises
        ------
        SampleError
            With ``on_error="raise"``, for the first sample that cannot be computed.
        """
        t0 = time.perf_counter()
        self.compiled()
        x = inputs.to_numpy(dtype=float) if len(inputs.columns) else np.zeros((len(inputs), 0))
        columns = [str(c) for c in inputs.columns]
        values, present, fuzzy, failed, reasons, slow = self._solve_block(x, columns)
        samples = np.asarray(inputs.index, dtype=np.int64)
        if slow.any():
            self._per_sample(inputs.iloc[np.flatnonzero(slow)], values, present, fuzzy, failed, reasons, slow)
        return chunk_result(samples, self.catalogue, values, present, fuzzy, failed, reasons,
                            on_error=self.on_error, detail=detail, started=t0)

    def _per_sample(self, rows: pd.DataFrame, values: np.ndarray, present: np.ndarray, fuzzy: np.ndarray,
                    failed: np.ndarray, reasons: list[str], which: np.ndarray) -> None:
        """Fill the rows ``which`` from the per-sample path (aligned on the catalogue)."""
        func = SimulateMeasures("rebalance", self.years, self.source, self.toggles, self.variant)
        res = FunctionModel(self.scenario, func, self.select, on_error="nan").evaluate(rows)
        keys = [c for c in self.catalogue.columns if c not in ("unit", "basis")]
        mine = pd.MultiIndex.from_frame(self.catalogue[keys])
        theirs = pd.MultiIndex.from_frame(res.catalogue[keys]) if len(res.catalogue) else None
        for r, i in enumerate(np.flatnonzero(which)):
            values[i] = np.nan
            present[i] = False
            fuzzy[i] = False
            if int(rows.index[r]) in res.failed:
                failed[i] = True
                reasons[i] = res.failed[int(rows.index[r])]
                continue
            if theirs is not None:
                pos = mine.get_indexer(theirs)
                ok = (pos >= 0) & ~np.isnan(res.values[r])
                values[i, pos[ok]] = res.values[r, ok]
                present[i, pos[ok]] = True

    def _solve_block(self, x: np.ndarray, columns: list[str], *, record_basis: bool = False
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray]:
        st = self._state
        assert st is not None
        model = st.model
        n_s, ne = x.shape[0], len(model.edges)
        toggle_names = [p.name for p in self.spec if p.kind == "toggle"]
        tcols = [columns.index(n) for n in toggle_names]
        resp_names = [p.name for p in self.spec if p.kind == "quantity" and p.path[0] in RESPONSE_SECTIONS]
        rcols = [columns.index(n) for n in resp_names]
        failed = np.zeros(n_s, dtype=bool)
        slow = np.zeros(n_s, dtype=bool)
        reasons = [""] * n_s
        base = []
        in_union = np.zeros((n_s, ne), dtype=bool)  # model edges in some year's tables of the sample
        sig_p: np.ndarray | None = None
        sig_c: np.ndarray | None = None
        for y in st.years:
            tab = y.kernel.tables(y.kernel.q.matrix(x, columns))
            base.append(tab.tonnes)
            in_table = (y.always | (tab.tonnes > 0)).astype(float)
            in_union |= np.asarray(y.onto_model.T @ in_table.T).T > 0
            p_y = np.asarray(y.roles[0].T @ in_table.T).T > 0
            c_y = np.asarray(y.roles[1].T @ in_table.T).T > 0
            sig_p = p_y if sig_p is None else sig_p | p_y
            sig_c = c_y if sig_c is None else sig_c | c_y
            for i in np.flatnonzero(tab.failed & ~failed).tolist():
                reasons[i] = f"{y.year}: {tab.reasons[i]}"
            failed |= tab.failed
            lost = (y.to_model < 0) & (tab.tonnes > 0).any(axis=0)
            if lost.any():
                slow |= (tab.tonnes[:, lost] > 0).any(axis=1)
        if sig_p is not None and sig_c is not None:
            if record_basis:
                st.roles = (sig_p[0].copy(), sig_c[0].copy())
            # other producer/consumer roles → other re-routing candidates in simulate: per sample instead
            slow |= (sig_p != st.roles[0]).any(axis=1) | (sig_c != st.roles[1]).any(axis=1)
        ny, nu, nsm = len(st.years), len(model.uses), len(model.stock_markets)
        sim_t = np.zeros((ny, n_s, ne))
        draws = np.zeros((ny, n_s, nsm))
        share = np.zeros((ny, n_s, nu))
        # a use node is in a sample's network when an edge of some year's tables reaches it
        use_seen = np.zeros((n_s, nu), dtype=bool)
        for k, y in enumerate(st.years):
            into_use = y.use_of_edge >= 0
            kept = y.always[into_use] | (base[k][:, into_use] > 0)
            for col, u in enumerate(y.use_of_edge[into_use].tolist()):
                use_seen[:, u] |= kept[:, col]
        for i in range(n_s):
            if failed[i] or slow[i]:
                continue
            absent = st.sinks & ~in_union[i]
            active = self._active(st, tuple(bool(x[i, c]) for c in tcols), toggle_names)
            response = {n: float(x[i, c]) for n, c in zip(resp_names, rcols, strict=True)}
            ledger = StockLedger(dict(st.start_levels), entering=st.entering)
            try:
                for k, y in enumerate(st.years):
                    sim_t[k, i], draws[k, i], share[k, i] = self._year(st, y, base[k][i], absent, active,
                                                                       response, ledger, record_basis)
            except SupplyChainError as exc:
                failed[i] = True
                reasons[i] = f"{type(exc).__name__}: {exc}"
        ok = ~(failed | slow)
        n_cat = len(self.catalogue)
        values = np.full((n_s, n_cat), np.nan)
        present = np.zeros((n_s, n_cat), dtype=bool)
        fuzzy = np.zeros((n_s, n_cat), dtype=bool)
        cat_year = self.catalogue["year"].to_numpy()
        for k, y in enumerate(st.years):
            cols = np.flatnonzero(cat_year == y.year)
            if ok.any() and len(cols):
                v, p, z = y.measures(sim_t[k][ok], draws[k][ok], share[k][ok], use_seen[ok])
                values[np.ix_(ok, cols)], present[np.ix_(ok, cols)], fuzzy[np.ix_(ok, cols)] = v, p, z
        return values, present, fuzzy, failed, reasons, slow

    def _year(self, st: _Compiled, y: _Year, tonnes: np.ndarray, absent: np.ndarray, active: frozenset[str],
              response: dict[str, float], ledger: StockLedger, record_basis: bool
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Solve one sample's year (as ``Simulator._year_rebalance``): simulated tonnes, draws, shortfall shares."""
        model = st.model
        ne = len(model.edges)
        mapped = y.to_model >= 0
        f0 = np.zeros(ne)
        np.add.at(f0, y.to_model[mapped], tonnes[mapped])
        in_year = np.zeros(ne, dtype=bool)
        in_year[y.to_model[mapped & (y.always | (tonnes > 0))]] = True
        pol = self._policies(st, y, active, response)
        quotas = tuple(QuotaRow(pid, pos, w, phi * q + (1.0 - phi) * float(np.sum(w * f0[pos])))
                       for pid, pos, w, phi, q in pol.quotas)
        # final uses and stock builds the sample's tables do not have are not in its network
        blocked = np.where(absent, 1.0, pol.blocked) if absent.any() else pol.blocked
        inputs = model.inputs_from_arrays(f0, blocked=blocked, cost=pol.cost, lower=pol.lower, capacity=pol.capacity,
                                          present=y.present, capacity_override=pol.override,
                                          stock=np.zeros(len(model.stock_markets)), quotas=quotas)
        ledger.open(y.year)
        inputs = st.routes.limit(inputs, ledger.available())
        # the same rule as Simulator._year_rebalance (contracts_first, which needs floors, is not compiled)
        inputs = replace(inputs, rule=st.sim.allocation, reserved=pol.reserved)
        sol = model.solve(inputs, warm=True, start=None if record_basis else y.basis)
        if record_basis:
            y.basis = model.basis()
        st.routes.record(ledger, y.year, inputs, sol)
        d = inputs.demand
        share_u = np.where(d > 0, model.shortfall(inputs, sol) / np.where(d > 0, d, 1.0), 0.0)
        t = np.where(in_year | (sol.tonnes > KEEP_TOL), sol.tonnes, 0.0)
        return t, sol.stock_draw, share_u
