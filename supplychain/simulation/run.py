"""Run a simulation: every year from the base year to the horizon, one variant at a time.

One year of one variant (module :mod:`supplychain.simulation` for the stages)::

    graph tables (with investment capacity) ─▶ policies (blocked shares, costs, quotas)
        ─▶ fixed propagation | rebalance LP ─▶ flows, shortfall, stock draws
        ─▶ measures after the shock (engine on the adjusted tables) ─▶ targets

A :class:`Simulator` keeps what does not depend on toggles — the graph tables of
each year and the compiled re-routing LP — so that every variant of
:func:`supplychain.api.compare` re-uses them (the LP is re-solved warm).
:meth:`Simulator.run_many` runs the variants year by year, so that each solve starts
from the same year with other toggles.

The investment projects of *every* agreement are part of the network from the
start (as synthetic facilities ``<agreement>.<project>``); a switched-off
agreement's projects get capacity 0. So the LP's structure is the same for all
variants and only bounds and costs change.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from supplychain.engine.check import empty_network_problem
from supplychain.errors import Problem, ScenarioError
from supplychain.graph.sums import group_sums
from supplychain.schema.model import Scenario
from supplychain.simulation.agreements import (
    investment_facilities,
    offtake_bounds,
    preference_surcharge,
    preferences,
    with_investments,
)
from supplychain.simulation.fixed import FixedResult, propagate_fixed, shortfall_table
from supplychain.simulation.policies import ATTRIBUTION_COLUMNS, PolicyEffects, scenario_policy_effects
from supplychain.simulation.rationing import DEFAULT_RULE, Rule, check_rule
from supplychain.simulation.rebalance import RebalanceModel, facility_yields
from supplychain.simulation.stocks import StockLedger, StockRoutes
from supplychain.simulation.targets import evaluate_targets, target_metrics
from supplychain.simulation.toggles import ToggleState, resolve_toggles

if TYPE_CHECKING:
    from supplychain.graph.build import BaseYear
    from supplychain.simulation.blocks import BlockRebalance

__all__ = [
    "FLOW_COLUMNS",
    "MEASURE_COLUMNS",
    "SHORTFALL_COLUMNS",
    "Mode",
    "RunOutput",
    "Simulator",
    "YearPolicies",
    "flow_status",
    "year_policies",
]

Mode = Literal["fixed", "rebalance"]
Objective = Literal["lexicographic", "weighted"]

FLOW_COLUMNS = [
    "year", "edge", "entity", "supplier", "buyer", "supplier_country", "buyer_country", "commodity", "stage",
    "kind", "origin", "baseline_t", "tonnes", "change_t", "blocked_share", "cost_per_t", "status", "variant",
]
"""Columns of ``Result.flows``.

Besides the network's edges, every tonne the response leaves somewhere has a row, so that the
flows of every market close (in = out): ``kind`` ``unsold`` (material made that no buyer takes,
to ``<country>:<commodity>:unsold``; entity ``response.unsold``) and ``stock`` release rows
(``stockpiles.release.<market>``, entity ``stock_release``: stock drawn beyond the baseline)."""

SHORTFALL_COLUMNS = [
    "year", "country", "commodity", "stage", "node", "demand_t", "delivered_t", "shortfall_t", "shortfall_share",
    "variant",
]
"""Columns of ``Result.shortfall``."""

MEASURE_COLUMNS = [
    "year", "country", "commodity", "stage", "metric", "partner", "value", "label", "unit", "basis",
    "source_country", "scenario", "variant",
]
"""Columns of ``Result.measures`` (docs/architecture.md, measures table)."""

TOL = 1e-6
"""Tonnes (and share of the baseline) below which a flow, a change or a draw is none: the LP's round-off.

A flow within this of zero is zero (``rebalance.FLOW_TOL``); one within this share of its baseline
tonnes (and within this many t) is reported as the baseline, with ``change_t`` 0 and status
``normal`` (:func:`flow_status`). HiGHS' primal feasibility tolerance is 10⁻⁷: measured
differences were 2.4·10⁻¹¹ t on a 600 t edge and 4.1·10⁻⁸ t on a 10.13 t edge."""


def flow_status(
    baseline: np.ndarray[Any, np.dtype[np.float64]],
    tonnes: np.ndarray[Any, np.dtype[np.float64]],
    blocked: np.ndarray[Any, np.dtype[np.float64]],
    deal: np.ndarray[Any, np.dtype[np.bool_]],
) -> np.ndarray[Any, np.dtype[np.object_]]:
    """Status of each edge after the response.

    ``blocked``: a baseline flow that a policy cut to nothing; ``new``: a flow
    on an edge without baseline tonnes; ``deal``: a flow an agreement exempted,
    committed or favoured; ``reduced`` / ``rerouted``: less / more than the
    baseline (re-routed material arriving on an existing edge); else ``normal``.
    Tolerance: 10⁻⁶ relative (and 10⁻⁶ t).

    Examples
    --------
    >>> flow_status(np.array([10.0, 10.0, 0.0, 10.0, 10.0]), np.array([0.0, 5.0, 3.0, 12.0, 10.0]),
    ...             np.array([1.0, 0.0, 0.0, 0.0, 0.0]), np.zeros(5, dtype=bool)).tolist()
    ['blocked', 'reduced', 'new', 'rerouted', 'normal']
    """
    tol = TOL * np.maximum(1.0, baseline)
    out = np.full(len(baseline), "normal", dtype=object)
    out[tonnes > baseline + tol] = "rerouted"
    out[tonnes < baseline - tol] = "reduced"
    out[deal & (tonnes > tol)] = "deal"
    out[(baseline <= tol) & (tonnes > tol)] = "new"
    out[deal & (tonnes > tol) & (baseline <= tol)] = "deal"
    out[(baseline > tol) & (blocked > 0) & (tonnes <= tol)] = "blocked"
    return out


@dataclass(frozen=True)
class RunOutput:
    """Tables of one simulated variant (what :class:`~supplychain.api.Result` wraps)."""

    measures: pd.DataFrame
    flows: pd.DataFrame
    shortfall: pd.DataFrame
    utilisation: pd.DataFrame
    gainers: pd.DataFrame
    targets: pd.DataFrame
    attribution: pd.DataFrame
    stocks: pd.DataFrame
    toggles: ToggleState
    solver: pd.DataFrame
    inactive: pd.DataFrame
    nodes: Mapping[int, pd.DataFrame]
    mode: Mode
    source: str
    years: tuple[int, ...]
    allocation: str


@dataclass(frozen=True)
class YearPolicies:
    """What the toggled policies and agreements do to the model's edges in one year.

    Attributes
    ----------
    effects : PolicyEffects
        Blocked shares, costs, quotas and attribution (:func:`scenario_policy_effects`).
    surcharge : numpy.ndarray
        Preference surcharge per model edge (USD/t).
    partner : numpy.ndarray of bool
        Edges between agreement partners with a preference.
    lower : dict
        Committed offtake tonnes by edge id.
    offtake : numpy.ndarray of bool
        Edges carrying an offtake.
    reserved : numpy.ndarray of bool
        Exports of a party with a preference to a non-partner (served after the partners;
        :class:`~supplychain.simulation.agreements.Preferences`), offtakes excepted.
    """

    effects: PolicyEffects
    surcharge: np.ndarray[Any, np.dtype[np.float64]]
    partner: np.ndarray[Any, np.dtype[np.bool_]]
    lower: dict[str, float]
    offtake: np.ndarray[Any, np.dtype[np.bool_]]
    reserved: np.ndarray[Any, np.dtype[np.bool_]]


def year_policies(world: Scenario, model: RebalanceModel, year: int, table: pd.DataFrame,
                  active: frozenset[str]) -> YearPolicies:
    """Policies, preferences and offtakes of one year on ``model``'s edges.

    Parameters
    ----------
    world : Scenario
        The scenario with its investment facilities (:func:`with_investments`).
    model : RebalanceModel
        The re-routing LP.
    year : int
        The year.
    table : pandas.DataFrame
        ``model``'s edges with the year's baseline tonnes and entities (:meth:`Simulator.edge_table`).
    active : frozenset of str
        Active policies and agreements.

    Returns
    -------
    YearPolicies
    """
    eff: PolicyEffects = scenario_policy_effects(world, table, year, active)
    pref = preferences(table, year=year, agreements=world.agreements, scenario=world, active=active)
    lower: dict[str, float] = {}
    offtake_edges = np.zeros(len(table), dtype=bool)
    for ob in offtake_bounds(world, year, active):
        eid = model.route_edge(ob.supplier, ob.buyer, ob.commodity)
        if eid is not None and ob.tonnes > 0:
            lower[eid] = lower.get(eid, 0.0) + ob.tonnes
            offtake_edges[model.edge_positions([eid])[0]] = True
    return YearPolicies(eff, pref.surcharge, pref.partner, lower, offtake_edges, pref.reserved & ~offtake_edges)


class YearNodes(Mapping[int, pd.DataFrame]):
    """A variant's simulated node tables by year, each with the response's unsold sinks (:func:`_with_sinks`).

    The sinks are added when a year's table is first read (a sweep reads none), from the
    year's unsold flow rows kept by :meth:`add`.
    """

    def __init__(self, nodes: dict[int, pd.DataFrame], unsold: dict[int, list[tuple[Any, Any, Any]]]) -> None:
        self._nodes = nodes
        self._unsold = unsold
        self._read: dict[int, pd.DataFrame] = {}

    def add(self, year: int, nodes: pd.DataFrame, flows: pd.DataFrame) -> None:
        """Keep ``year``'s node table and the unsold rows of its flows."""
        self._nodes[year] = nodes
        at = np.flatnonzero(flows["kind"].to_numpy() == "unsold")
        self._unsold[year] = list(zip(*(flows[c].to_numpy()[at].tolist() for c in ("buyer", "buyer_country",
                                                                                    "commodity")), strict=True))

    def __getitem__(self, year: int) -> pd.DataFrame:
        if year not in self._read:
            self._read[year] = _with_sinks(self._nodes[year], self._unsold[year])
        return self._read[year]

    def __iter__(self) -> Iterator[int]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)


@dataclass
class _Run:
    """One variant while its years are simulated (:meth:`Simulator.run_many`): its toggles, stocks and tables."""

    label: str
    toggles: ToggleState
    off_capacity: dict[str, float]
    ledger: StockLedger
    out: dict[str, list[pd.DataFrame]] = field(default_factory=lambda: {
        k: [] for k in ("flows", "shortfall", "util", "att", "measures")})
    years: list[int] = field(default_factory=list)
    solver: list[dict[str, Any]] = field(default_factory=list)
    nodes: YearNodes = field(default_factory=lambda: YearNodes({}, {}))


class Simulator:
    """Years and variants of one scenario, sharing graph tables and the compiled LP.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    years : sequence of int, optional
        Years to simulate (default: base year to horizon).
    source : str
        Country (or group) whose exposure is measured.
    options : mapping, optional
        HiGHS options for the re-routing LP.
    reroute : bool
        Allow new trade routes in ``rebalance`` (default True).
    objective : {"lexicographic", "weighted"}
        Priority handling of the LP (:class:`~supplychain.simulation.rebalance.RebalanceModel`).
    blocks : bool or int
        Solve the LP block by block (:class:`~supplychain.simulation.blocks.BlockRebalance`);
        an int > 1 is the number of solver threads.
    allocation : str, optional
        Who goes short when supply is scarce (:mod:`supplychain.simulation.rationing`):
        default the scenario's ``response.allocation``, else ``contracts_first``.
    metrics : collection of str, optional
        Compute only these measures (default every one), and what the scenario's targets
        read (:func:`~supplychain.simulation.targets.target_metrics`); the shortfall rows
        are always there. A sweep keeping a few measures skips the origin decompositions
        and element tracing it would throw away.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        years: Sequence[int] | None = None,
        source: str = "CN",
        options: Mapping[str, Any] | None = None,
        reroute: bool = True,
        objective: Objective = "lexicographic",
        blocks: bool | int = False,
        allocation: Rule | None = None,
        metrics: Collection[str] | None = None,
    ) -> None:
        self.scenario = scenario
        self.metrics = None if metrics is None else frozenset(metrics) | target_metrics(scenario.targets)
        response = getattr(scenario, "response", None)
        default = response.allocation if response is not None else DEFAULT_RULE
        if objective == "weighted" and allocation is None:
            default = "max_delivery"  # one weighted solve cannot ration (RebalanceModel, allocation)
        self.allocation: Rule = check_rule(allocation or default)
        self.world = with_investments(scenario)
        self.investments = investment_facilities(scenario)
        self.years: tuple[int, ...] = tuple(sorted(years)) if years is not None else tuple(scenario.years)
        empty = empty_network_problem(scenario)
        if empty is not None:  # nothing to simulate: a located error, not an empty LP
            raise ScenarioError([empty])
        if not self.years:
            raise ScenarioError([Problem("<api>", 0, 0, ("years",), "no years to simulate",
                                         "pass years=[...] or set scenario.base_year/horizon")])
        outside = [y for y in self.years if y < scenario.scenario.base_year]
        if outside:
            raise ScenarioError([Problem("<api>", 0, 0, ("years",),
                                         f"year {outside[0]} is before the base year {scenario.scenario.base_year}",
                                         "simulate years from the base year on")])
        self.source = source
        self.options = dict(options or {})
        self.reroute = reroute
        self.objective: Objective = objective
        self._tables: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}
        self._base: BaseYear | None = None
        self._model: RebalanceModel | None = None
        self.blocks = blocks
        self._blocks: BlockRebalance | None = None
        self.timings: dict[str, float] = {}
        self._inputs: dict[str, Any] | None = None
        self._routes: StockRoutes | None = None

    # ----------------------------------------------------------- shared parts
    def tables(self, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Baseline node and edge tables of ``year`` (built once; later years carry the base year's pattern)."""
        if year not in self._tables:
            from supplychain.graph.build import base_year, build_tables

            if self._base is None and year > self.world.scenario.base_year:
                self._base = base_year(self.world)
            self._tables[year] = build_tables(self.world, year, base=self._base)
        return self._tables[year]

    def _measure_inputs(self) -> dict[str, Any]:
        """Return the scenario facts the measures read besides the tables (computed once)."""
        if self._inputs is None:
            from supplychain.metrics.measures import scenario_inputs

            self._inputs = scenario_inputs(self.world)
        return self._inputs

    def model(self) -> RebalanceModel:
        """Return the re-routing LP over the union of the years' networks (built once)."""
        if self._model is None:
            t0 = time.perf_counter()
            all_nodes = _union([self.tables(y)[0] for y in self.years], "node", last=True)
            all_edges = _union([self.tables(y)[1] for y in reversed(self.years)], "edge")
            _base_nodes, base_edges = self.tables(self.years[0])
            yields = facility_yields(
                all_nodes, base_edges, facilities=self.world.facilities, processes=self.world.processes
            )
            offtakes = []
            for y in self.years:
                for ob in offtake_bounds(self.world, y):
                    offtakes.append(
                        (ob.edge, ob.supplier, ob.buyer, ob.supplier_country, ob.buyer_country, ob.commodity)
                    )
            stocks = {f"{sp.country}:{sp.commodity}" for sp in self.world.stockpiles.values()}
            self._model = RebalanceModel(
                all_nodes, all_edges, yields, stocks=stocks, offtakes=list(dict.fromkeys(offtakes)),
                reroute=self.reroute, options=self.options, objective=self.objective, allocation=self.allocation,
            )
            self.timings["build_model_s"] = time.perf_counter() - t0
        return self._model

    def _solver(self) -> RebalanceModel | BlockRebalance:
        """Return the monolithic model, or the block-by-block solver over it (``blocks``)."""
        if not self.blocks:
            return self.model()
        if self._blocks is None:
            from supplychain.simulation.blocks import BlockRebalance

            threads = int(self.blocks) if not isinstance(self.blocks, bool) else 1
            self._blocks = BlockRebalance(self.model(), threads=threads)
        return self._blocks

    # ------------------------------------------------------------------- run
    def run(
        self,
        *,
        toggles: Mapping[str, bool] | None = None,
        variant: str | None = None,
        mode: Mode = "rebalance",
        warm: bool = True,
    ) -> RunOutput:
        """Simulate every year of one variant.

        Parameters
        ----------
        toggles : mapping of str to bool, optional
            Explicit toggle overrides.
        variant : str, optional
            A variant of the scenario.
        mode : {"rebalance", "fixed"}
            Supply response.
        warm : bool
            Warm-start the LP from the previous solve.

        Returns
        -------
        RunOutput
        """
        return self.run_many([(variant, toggles)], mode=mode, warm=warm)[0]

    def run_many(
        self,
        runs: Sequence[tuple[str | None, Mapping[str, bool] | None]],
        *,
        mode: Mode = "rebalance",
        warm: bool = True,
    ) -> list[RunOutput]:
        """Simulate several variants, year by year: every variant of a year, then the next year.

        Each variant keeps its own stocks, so its results are those of :meth:`run` alone;
        only the order of the LP's solves differs. Each solve then starts from the one
        before, which is the same year with other toggles (within a year) or the year
        before (the year's first variant), where :meth:`run` after :meth:`run` starts a
        variant's first year from the last variant's last year and every later year from
        its own previous year. With :class:`~supplychain.simulation.blocks.BlockRebalance`,
        a block that a variant's toggles do not touch keeps its solution
        (measured in the LP tuning history, ``git log -p docs/performance.md``).

        Parameters
        ----------
        runs : sequence of (variant, toggles)
            As ``variant`` and ``toggles`` of :meth:`run`, one pair per variant.
        mode, warm
            As in :meth:`run`.

        Returns
        -------
        list of RunOutput
            One per pair of ``runs``, in their order.
        """
        if mode not in ("fixed", "rebalance"):
            msg = f"mode must be 'fixed' or 'rebalance', not {mode!r}"
            raise ValueError(msg)
        states = []
        for variant, toggles in runs:
            state = resolve_toggles(self.scenario, variant=variant, overrides=toggles)
            label = variant if variant is not None else ("custom" if toggles else "base")
            states.append(_Run(label, state, self.switched_off(state.active),
                               StockLedger.from_scenario(self.world, self.years)))
        for year in self.years:
            nodes, edges = self.tables(year)
            for r in states:
                self._step(r, year, nodes, edges, mode, warm)
        return [self._close(r, mode) for r in states]

    def _step(self, r: _Run, year: int, nodes: pd.DataFrame, edges: pd.DataFrame, mode: Mode, warm: bool) -> None:
        """Simulate one year of the variant ``r`` and keep its tables (``variant`` is added in :meth:`_close`)."""
        active, label = r.toggles.active, r.label
        r.ledger.open(year)  # stocks dated this year enter now
        if mode == "rebalance":
            res = self._year_rebalance(year, nodes, edges, active, r.off_capacity, r.ledger, warm)
        else:
            res = self._year_fixed(year, nodes, edges, active, r.off_capacity, r.ledger)
        flows, short, util, att, sim_nodes, sim_edges, stats = res
        r.nodes.add(year, sim_nodes, flows)
        r.years.append(year)
        r.out["flows"].append(flows)
        r.out["shortfall"].append(short)
        r.out["util"].append(util)
        r.out["att"].append(att)
        r.solver.append({"year": year, "variant": label, "mode": mode, **stats})
        inputs = self._measure_inputs()
        m = measures_after_shock(self.world, sim_nodes, sim_edges, year, self.source, label, planned=edges,
                                 inputs=inputs, metrics=self.metrics)
        rows, element_short = _shortfall_measures(inputs["content"], short, year)
        parts = [m, rows, _element_exposure(m, element_short)]
        r.out["measures"].extend(p for p in parts if len(p))

    def _close(self, r: _Run, mode: Mode) -> RunOutput:
        """Assemble the tables of a variant whose years are all simulated."""
        label = r.label
        measures = _concat(r.out["measures"], MEASURE_COLUMNS, variant=label)
        flows = _concat(r.out["flows"], FLOW_COLUMNS, variant=label)
        targets = evaluate_targets(self.scenario.targets, measures, self.years, variant=label)
        util = pd.concat(r.out["util"], ignore_index=True)
        util["variant"] = label
        return RunOutput(
            measures=measures,
            flows=flows,
            shortfall=_concat(r.out["shortfall"], SHORTFALL_COLUMNS, variant=label, years=r.years),
            utilisation=util,
            gainers=gainers_table(flows),
            targets=targets,
            attribution=_concat(r.out["att"], [*ATTRIBUTION_COLUMNS, "variant"], variant=label),
            stocks=r.ledger.table().assign(variant=label),
            toggles=r.toggles,
            solver=pd.DataFrame(r.solver),
            inactive=self._inactive(util, mode),
            nodes=r.nodes,
            mode=mode,
            source=self.source,
            years=self.years,
            allocation=self.allocation,
        )

    def _stock_routes(self) -> StockRoutes:
        """Return the stock routes of the model (read once)."""
        if self._routes is None:
            self._routes = StockRoutes.of(self.model())
        return self._routes

    def _inactive(self, util: pd.DataFrame, mode: Mode) -> pd.DataFrame:
        """Investment projects with capacity that the ``fixed`` response leaves idle, per year.

        ``fixed`` keeps the baseline's trade pattern and a new plant has none, so its capacity is
        not used (``docs/rebalance.md``, "What is not modelled"); ``rebalance`` uses it.
        """
        cols = ["year", "variant", "facility", "country", "commodity", "capacity_t", "reason"]
        if mode != "fixed" or util.empty:
            return pd.DataFrame(columns=cols)
        cap = util["capacity_t"].to_numpy(dtype=float)
        at = [i for i, f in enumerate(util["facility"].tolist()) if f in self.investments and cap[i] > TOL]
        reason = ("investment project: the fixed response keeps the baseline's trade pattern, which a new plant "
                  "has no part in; use --mode rebalance")
        return pd.DataFrame({**{c: util[c].to_numpy()[at] for c in cols[:-1]},
                             "reason": np.full(len(at), reason, dtype=object)})

    def switched_off(self, active: frozenset[str]) -> dict[str, float]:
        """Return capacity 0 for the investment facilities of agreements not in ``active``."""
        return {fid: 0.0 for fid in self.investments if fid.split(".", 1)[0] not in active}

    def year_policies(self, year: int, table: pd.DataFrame, active: frozenset[str]) -> YearPolicies:
        """Policies, preferences and offtakes of one year on the model's edges (:meth:`edge_table`)."""
        return year_policies(self.world, self.model(), year, table, active)

    # ------------------------------------------------------------ one year
    def _fixed_response(self, year: int, nodes: pd.DataFrame, edges: pd.DataFrame, active: frozenset[str],
                        ledger: StockLedger) -> tuple[PolicyEffects, FixedResult, pd.DataFrame, dict[str, float]]:
        """Run the ``fixed`` response of one year: policies, flows, shortfall after stocks, stock drawn per market."""
        eff = scenario_policy_effects(self.world, edges, year, active)
        res, short, drawn = self._propagate(year, nodes, edges, eff.edges["total_blocked_share"].to_numpy(dtype=float),
                                            ledger)
        return eff, res, short, drawn

    def _propagate(self, year: int, nodes: pd.DataFrame, edges: pd.DataFrame, blocked: Any,
                   ledger: StockLedger) -> tuple[FixedResult, pd.DataFrame, dict[str, float]]:
        """Propagate the fixed response from the edges' blocked shares; draw ``ledger``'s stocks (a copy: dry run)."""
        b = _limit_stock_edges(edges, np.array(blocked, dtype=float), ledger)
        res = propagate_fixed(nodes, edges, b)
        short = shortfall_table(res.index, edges, res.tonnes)
        # stocks cover the final use of their own market (nothing is re-routed)
        markets = [f"{c}:{k}" for c, k in zip(short["country"].tolist(), short["commodity"].tolist(), strict=True)]
        gaps = dict(zip(markets, short["shortfall_t"].to_numpy(dtype=float).tolist(), strict=True))
        demand = dict(zip(markets, short["demand_t"].to_numpy(dtype=float).tolist(), strict=True))
        base = _stock_edge_draws(edges)
        drawn = ledger.record(year, _baseline_stock_gap(base, gaps), demand)
        drawn = _net_of_baseline_draw(base, drawn)
        return res, _apply_stock_cover(short, drawn), drawn

    def _year_fixed(
        self,
        year: int,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        active: frozenset[str],
        off_capacity: Mapping[str, float],
        ledger: StockLedger,
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        t0 = time.perf_counter()
        eff, res, short, drawn = self._fixed_response(year, nodes, edges, active, ledger)
        _, partner = preference_surcharge(edges, year=year, agreements=self.world.agreements, scenario=self.world,
                                          active=active)
        deal = eff.edges["exempt"].to_numpy(dtype=bool) | partner
        tonnes = _deliver_draws(edges, res.tonnes, drawn)
        unsold = _facility_unsold(edges, res.unsold)
        flows = _flow_frame(year, edges, edges["tonnes"].to_numpy(dtype=float), tonnes,
                            eff.edges["total_blocked_share"].to_numpy(dtype=float),
                            eff.edges["cost_per_t"].to_numpy(dtype=float), deal, origin="observed", unsold=unsold,
                            drawn=drawn)
        sim_edges = _add_release_edges(edges.assign(tonnes=tonnes), drawn)
        sim_nodes = _sim_nodes(res.index.nodes, edges, tonnes, drawn)
        util = _utilisation(year, nodes, edges, tonnes, off_capacity, unsold=_unsold_by_facility(unsold))
        att = eff.attribution
        return flows, short, util, att, sim_nodes, sim_edges, {
            "seconds": time.perf_counter() - t0, "iterations": res.iterations, "warm": False,
        }

    def _floors(self, year: int, nodes: pd.DataFrame, edges: pd.DataFrame, effects: PolicyEffects,
                ledger: StockLedger, pos: np.ndarray[Any, np.dtype[np.intp]]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Per use node of the model, the shortfall of the ``fixed`` response (``contracts_first``'s floors).

        ``effects``: the year's policy effects on the model's edges (the year's edges are among them, at
        ``pos``). A dry run: the stocks are drawn on a copy of ``ledger``. NaN for use nodes the year lacks.
        """
        model = self.model()
        blocked = effects.edges["total_blocked_share"].to_numpy(dtype=float)[pos]
        _, short, _ = self._propagate(year, nodes, edges, blocked, StockLedger(dict(ledger.levels)))
        z = dict(zip(short["node"].tolist(), short["shortfall_t"].to_numpy(dtype=float).tolist(), strict=True))
        return np.array([z.get(i, np.nan) for i in model.node_ids[model.uses].tolist()], dtype=float)

    def _year_rebalance(
        self,
        year: int,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        active: frozenset[str],
        off_capacity: Mapping[str, float],
        ledger: StockLedger,
        warm: bool,
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        model = self.model()
        pos = model.edge_positions(edges["edge"])
        table = model.edge_table(edges, pos)
        pol = self.year_policies(year, table, active)
        eff, sur, partner, lower, offtake_edges = pol.effects, pol.surcharge, pol.partner, pol.lower, pol.offtake
        routes = self._stock_routes()
        inputs = model.year_inputs(nodes, edges, effects=eff, cost=sur, lower=lower, capacity=off_capacity)
        inputs = routes.limit(inputs, ledger.available())
        floor = self._floors(year, nodes, edges, eff, ledger, pos) if self.allocation == "contracts_first" else None
        inputs = replace(inputs, rule=self.allocation, floor=floor, reserved=pol.reserved)
        sol = self._solver().solve(inputs, warm=warm)
        short = model.shortfall_table(inputs, sol)
        draws = routes.record(ledger, year, inputs, sol)
        deal = eff.edges["exempt"].to_numpy(dtype=bool) | partner | offtake_edges
        in_year = np.zeros(len(table), dtype=bool)
        in_year[pos] = True
        keep = in_year | (sol.tonnes > TOL)
        kept = table.loc[keep]
        ids = model.node_ids
        unsold = {str(m): float(u) for m, u in zip(ids[model.markets], sol.unsold, strict=True) if u > TOL}
        flows = _flow_frame(year, kept, inputs.baseline[keep], sol.tonnes[keep],
                            eff.edges["total_blocked_share"].to_numpy(dtype=float)[keep], inputs.cost[keep], deal[keep],
                            unsold=unsold, drawn=draws)
        sim_edges = kept.assign(tonnes=sol.tonnes[keep])
        sim_nodes = _sim_nodes(model.nodes, sim_edges, sim_edges["tonnes"].to_numpy(dtype=float), draws)
        sim_edges = _add_release_edges(sim_edges, draws)
        util = _utilisation(year, nodes, table, sol.tonnes, off_capacity, capacity=dict(
            zip(ids[model.facilities], inputs.capacity, strict=True)))
        att = eff.attribution
        att = att.loc[(att["baseline_t"].to_numpy() > 0) | (att["exempted_by"].to_numpy() != "")].reset_index(drop=True)
        stats: dict[str, Any] = {"seconds": sol.seconds, "iterations": sol.iterations, "warm": sol.warm,
                                 "allocation": self.allocation}
        stats.update({f"objective_{k}": v for k, v in sol.objectives.items()})
        return flows, short, util, att, sim_nodes, sim_edges.drop(columns=["origin"]), stats


# --------------------------------------------------------------- helpers
def _union(frames: Sequence[pd.DataFrame], key: str, *, last: bool = False) -> pd.DataFrame:
    """Stack ``frames`` keeping one row per ``key`` (its first, or ``last``, occurrence), sorted by ``key``."""
    stacked = pd.concat(frames, ignore_index=True)
    at: dict[Any, int] = {}
    for i, k in enumerate(stacked[key].tolist()):
        if last or k not in at:
            at[k] = i
    return stacked.take([at[k] for k in sorted(at)]).reset_index(drop=True)


def _concat(frames: list[pd.DataFrame], columns: list[str], *, variant: str | None = None,
            years: Sequence[int] | None = None) -> pd.DataFrame:
    """Stack the non-empty ``frames``: ``columns`` first (those present), then the others in order of appearance.

    ``variant``: a column of that label added to every row; ``years``: one year per frame, a ``year``
    column. With no rows at all, an empty table of ``columns``.
    """
    keep = [i for i, f in enumerate(frames) if not f.empty]
    if not keep:
        return pd.DataFrame(columns=columns)
    df = pd.concat([frames[i] for i in keep], ignore_index=True)
    if years is not None:
        df["year"] = np.repeat(np.array([years[i] for i in keep], dtype=np.int64), [len(frames[i]) for i in keep])
    if variant is not None:
        df["variant"] = variant
    order = [c for c in columns if c in df.columns] + [c for c in df.columns if c not in columns]
    return df if order == list(df.columns) else df[order]


def _flow_frame(year: int, table: pd.DataFrame, baseline: Any, tonnes: Any, blocked: Any, cost: Any,
                deal: Any, *, origin: str | None = None, unsold: Mapping[Any, float] | None = None,
                drawn: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Flow rows of the edges of ``table``, then those of :func:`_response_rows` (:data:`FLOW_COLUMNS` but ``variant``).

    ``origin``: one origin for every edge row (default the table's ``origin``, else ``observed``).
    """
    n = len(table)
    base = np.asarray(baseline, dtype=float)
    t = np.asarray(tonnes, dtype=float)
    t = np.where(np.abs(t - base) <= TOL * np.maximum(1.0, base), base, t)  # the LP's round-off
    b = np.asarray(blocked, dtype=float)

    def text(col: str, default: str) -> np.ndarray[Any, np.dtype[Any]]:
        return table[col].to_numpy() if col in table else np.full(n, default, dtype=object)

    cols: dict[str, Any] = {
        "year": np.full(n, year, dtype=np.int64),
        "edge": table["edge"].astype(str).to_numpy(),
        "entity": table["entity"].astype(str).to_numpy() if "entity" in table else table["origin"].to_numpy(),
        "supplier": table["supplier"].to_numpy(),
        "buyer": table["buyer"].to_numpy(),
        "supplier_country": table["supplier_country"].to_numpy(),
        "buyer_country": table["buyer_country"].to_numpy(),
        "commodity": table["commodity"].to_numpy(),
        "stage": text("stage", ""),
        "kind": table["kind"].to_numpy(),
        "origin": np.full(n, origin, dtype=object) if origin is not None else text("origin", "observed"),
        "baseline_t": base,
        "tonnes": t,
        "change_t": t - base,
        "blocked_share": b,
        "cost_per_t": np.asarray(cost, dtype=float),
        "status": flow_status(base, t, b, np.asarray(deal, dtype=bool)),
    }
    extra = _response_rows(year, unsold or {}, drawn or {})
    if extra:
        cols = {c: np.concatenate([cols[c], extra[c]]) for c in cols}
    return pd.DataFrame(cols)


def _stock_edge_draws(edges: pd.DataFrame) -> dict[str, float]:
    """Tonnes drawn per market on baseline stock edges (``C:k:stock`` → ``C:k``)."""
    sup = edges["supplier"].astype(str).tolist()
    at = [i for i, x in enumerate(sup) if x.endswith(":stock")]
    if not at:
        return {}
    t = edges["tonnes"].to_numpy(dtype=float)[at].tolist()
    return group_sums([sup[i].rsplit(":", 1)[0] for i in at], t)


def _limit_stock_edges(edges: pd.DataFrame, b: np.ndarray[Any, np.dtype[np.float64]],
                       ledger: StockLedger) -> np.ndarray[Any, np.dtype[np.float64]]:
    levels = ledger.levels
    if not levels:
        return b
    tonnes = edges["tonnes"].to_numpy(dtype=float)
    for i, s in enumerate(edges["supplier"].astype(str).tolist()):
        if not s.endswith(":stock"):
            continue
        m = s.rsplit(":", 1)[0]
        t = float(tonnes[i])
        if t > 0 and m in levels and levels[m] < t:
            b[i] = b[i] + (1.0 - levels[m] / t) - b[i] * (1.0 - levels[m] / t)
    return b


def _baseline_stock_gap(base: Mapping[str, float], gaps: Mapping[str, float]) -> dict[str, float]:
    """Gap a stock must fill in the fixed response: its baseline draw plus the final-use shortfall.

    ``base``: the baseline draws per market (:func:`_stock_edge_draws`).
    """
    return {m: base.get(m, 0.0) + gaps.get(m, 0.0) for m in set(base) | set(gaps)}


def _net_of_baseline_draw(base: Mapping[str, float], drawn: Mapping[str, float]) -> dict[str, float]:
    return {m: max(0.0, d - base.get(m, 0.0)) for m, d in drawn.items()}


def _apply_stock_cover(short: pd.DataFrame, drawn: Mapping[str, float]) -> pd.DataFrame:
    if not drawn:
        return short
    keys = [f"{c}:{k}" for c, k in zip(short["country"].astype(str).tolist(), short["commodity"].astype(str).tolist(),
                                       strict=True)]
    cover = np.array([drawn.get(k, np.nan) for k in keys], dtype=float)
    gap = short["shortfall_t"].to_numpy(dtype=float)
    cover = np.minimum(np.where(np.isnan(cover), 0.0, cover), gap)
    d = short["demand_t"].to_numpy(dtype=float)
    left = gap - cover
    return short.assign(delivered_t=short["delivered_t"].to_numpy(dtype=float) + cover, shortfall_t=left,
                        shortfall_share=np.where(d > 0, left / np.where(d > 0, d, 1), 0))


def _sim_nodes(nodes: pd.DataFrame, edges: pd.DataFrame, tonnes: Any, draws: Mapping[str, float]) -> pd.DataFrame:
    """Node table after the response: primary production = simulated output of primary producers."""
    primary = nodes["primary"].to_numpy(dtype=float) if "primary" in nodes else np.zeros(len(nodes))
    primary = np.where(np.isnan(primary), 0.0, primary)
    t = np.asarray(tonnes, dtype=float)
    out = group_sums(edges["supplier"].astype(str).tolist(), t.tolist())
    ids = nodes["node"].astype(str).tolist()
    kind = nodes["kind"].astype(str).to_numpy()
    into = set(edges["buyer"].astype(str).to_numpy()[t > 0].tolist())
    primary_fac = (kind == "facility") & np.array([i not in into and (p > 0 or "." in i)
                                                   for i, p in zip(ids, primary.tolist(), strict=True)], dtype=bool)
    sel = np.flatnonzero(primary_fac | (kind == "stock"))
    primary[sel] = _lookup(out, [ids[i] for i in sel.tolist()])
    release = [m for m, d in draws.items() if d > TOL]
    at = {node: i for i, node in enumerate(ids)}
    for m in release:  # a stock node that is there adds the draw to its primary
        if f"{m}:stock" in at:
            primary[at[f"{m}:stock"]] += draws[m]
    nodes = nodes.assign(primary=primary)
    new = [m for m in release if f"{m}:stock" not in at]
    if new:  # a draw from a market without a stock node: the node, with the draw as its primary
        extra = pd.DataFrame({
            "node": [f"{m}:stock" for m in new], "kind": "stock",
            "country": [m.split(":")[0] for m in new], "commodity": [m.split(":")[1] for m in new],
            "primary": [draws[m] for m in new],
        })
        nodes = pd.concat([nodes, extra], ignore_index=True)
    return nodes.reset_index(drop=True)


def _deliver_draws(edges: pd.DataFrame, tonnes: Any, drawn: Mapping[str, float]) -> np.ndarray[Any, np.dtype[Any]]:
    """Add what the ``fixed`` response draws from a market's stock to that market's final-use edges.

    The stock covers its own market's final use (:meth:`Simulator._fixed_response`); the draw is
    split over the market's use edges by their shortfall, so each use edge carries what its use
    node gets.
    """
    t = np.array(tonnes, dtype=float)
    if not drawn:
        return t
    sup = edges["supplier"].astype(str).to_numpy()
    is_use = edges["buyer"].astype(str).str.endswith(":use").to_numpy()
    gap = np.maximum(0.0, edges["tonnes"].to_numpy(dtype=float) - t)
    for m, d in drawn.items():
        sel = np.flatnonzero(is_use & (sup == m))
        g = gap[sel]
        if d > TOL and sel.size and g.sum() > 0:
            t[sel] += np.minimum(g, d * g / g.sum())
    return t


def _facility_unsold(edges: pd.DataFrame, unsold: Any) -> dict[tuple[str, str, str], float]:
    """Unsold output of the ``fixed`` response per (facility, country, commodity) (:func:`curtail`)."""
    u = np.asarray(unsold, dtype=float)
    at = np.flatnonzero(u > TOL)
    out: dict[tuple[str, str, str], float] = {}
    if not at.size:
        return out
    cols = [edges[c].to_numpy()[at].tolist() for c in ("supplier", "supplier_country", "commodity")]
    for s, c, k, x in zip(*cols, u[at].tolist(), strict=True):
        key = (str(s), str(c), str(k))
        out[key] = out.get(key, 0.0) + x
    return out


def _unsold_by_facility(unsold: Mapping[tuple[str, str, str], float]) -> dict[str, float]:
    """Sum :func:`_facility_unsold` per facility."""
    out: dict[str, float] = {}
    for (f, _, _), t in unsold.items():
        out[f] = out.get(f, 0.0) + t
    return out


def _response_rows(year: int, unsold: Mapping[Any, float], drawn: Mapping[str, float]) -> dict[str, Any]:
    """Flow rows of what the response leaves: unsold material and stock released beyond the baseline.

    ``unsold`` is keyed by market id (the LP: a market's unsold column) or by
    (facility, country, commodity) (``fixed``: output no buyer takes). With them every
    market's flows close.
    """
    rows = []
    for key, t in sorted(unsold.items(), key=lambda kv: str(kv[0])):
        if t <= TOL:
            continue
        if isinstance(key, tuple):
            supplier, country, commodity = key
        else:
            supplier, (country, commodity) = key, key.split(":", 1)
        rows.append({"edge": f"unsold.{supplier}.{commodity}" if isinstance(key, tuple) else f"unsold.{key}",
                     "entity": "response.unsold", "supplier": supplier, "buyer": f"{country}:{commodity}:unsold",
                     "supplier_country": country, "buyer_country": country, "commodity": commodity,
                     "kind": "unsold", "tonnes": t, "status": "unsold"})
    for m, d in sorted(drawn.items()):
        if d <= TOL:
            continue
        country, commodity = m.split(":", 1)
        rows.append({"edge": f"stockpiles.release.{m}", "entity": "stock_release", "supplier": f"{m}:stock",
                     "buyer": m, "supplier_country": country, "buyer_country": country, "commodity": commodity,
                     "kind": "stock", "tonnes": d, "status": "stock"})
    if not rows:
        return {}
    n = len(rows)
    tonnes = np.array([r["tonnes"] for r in rows], dtype=float)
    fill: dict[str, Any] = {"year": np.full(n, year, dtype=np.int64), "stage": np.full(n, "", dtype=object),
                            "origin": np.full(n, "response", dtype=object), "baseline_t": np.zeros(n),
                            "tonnes": tonnes, "change_t": tonnes.copy(), "blocked_share": np.zeros(n),
                            "cost_per_t": np.zeros(n)}
    return {c: fill[c] if c in fill else np.array([r[c] for r in rows], dtype=object) for c in FLOW_COLUMNS[:-1]}


def _with_sinks(nodes: pd.DataFrame, unsold: Sequence[tuple[Any, Any, Any]]) -> pd.DataFrame:
    """Add the response's unsold sinks (``<market>:unsold``, kind ``unsold``) to a year's node table.

    ``unsold``: (buyer, buyer country, commodity) of the year's unsold flow rows.
    """
    if not unsold:
        return nodes
    known = set(nodes["node"].tolist())
    first: dict[Any, tuple[Any, Any]] = {}
    for b, c, k in unsold:
        if b not in first and b not in known:
            first[b] = (c, k)
    if not first:
        return nodes
    extra = pd.DataFrame({"node": list(first), "kind": "unsold", "country": [c for c, _ in first.values()],
                          "commodity": [k for _, k in first.values()], "primary": 0.0})
    return pd.concat([nodes, extra], ignore_index=True)


def _add_release_edges(edges: pd.DataFrame, draws: Mapping[str, float]) -> pd.DataFrame:
    rows = [
        {"edge": f"stockpiles.release.{m}", "entity": "stock_release", "supplier": f"{m}:stock", "buyer": m,
         "supplier_country": m.split(":")[0], "buyer_country": m.split(":")[0], "commodity": m.split(":")[1],
         "stage": "", "tonnes": d, "kind": "stock", "origin": "stock"}
        for m, d in sorted(draws.items()) if d > TOL
    ]
    if not rows:
        return edges
    return pd.concat([edges, pd.DataFrame(rows)], ignore_index=True)


def _lookup(sums: Mapping[str, float], ids: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``sums[i]`` for each id, 0 where missing or NaN (``ids.map(sums).fillna(0)``)."""
    v = np.array([sums.get(i, np.nan) for i in ids], dtype=float)
    return np.where(np.isnan(v), 0.0, v)


def _utilisation(year: int, nodes: pd.DataFrame, edges: pd.DataFrame, tonnes: Any,
                 off_capacity: Mapping[str, float], capacity: Mapping[str, float] | None = None,
                 unsold: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Capacity, output and its change per facility: ``curtailed_t`` = baseline − output where it fell.

    ``output_t`` is the reference output shipped; ``unsold_t`` what the facility made beyond
    that (``fixed``: joint products nobody takes; the LP reports unsold material at markets).
    """
    at = np.flatnonzero(nodes["kind"].astype(str).to_numpy() == "facility")

    def col(name: str) -> list[str]:
        return [str(x) for x in nodes[name].to_numpy()[at].tolist()]

    ids = col("node")
    fcom = col("commodity")
    t = np.asarray(tonnes, dtype=float)
    ref = dict(zip(ids, fcom, strict=True))
    sup = edges["supplier"].astype(str).tolist()
    is_ref = [i for i, (s, c) in enumerate(zip(sup, edges["commodity"].astype(str).tolist(), strict=True))
              if ref.get(s) == c]
    ref_sup = [sup[i] for i in is_ref]
    out = group_sums(ref_sup, t[is_ref].tolist())
    out0 = group_sums(ref_sup, edges["tonnes"].to_numpy(dtype=float)[is_ref].tolist())
    cap = nodes["capacity"].to_numpy(dtype=float)[at] if "capacity" in nodes else np.full(len(at), np.nan)
    if capacity is not None:
        cap = np.array([capacity.get(i, c) for i, c in zip(ids, cap.tolist(), strict=True)], dtype=float)
    if off_capacity:
        cap = np.array([off_capacity.get(i, c) for i, c in zip(ids, cap.tolist(), strict=True)], dtype=float)
    o = _lookup(out, ids)
    o0 = _lookup(out0, ids)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(cap > 0, o / cap, np.nan)
    return pd.DataFrame({
        "year": year, "facility": np.array(ids, dtype=object), "country": np.array(col("country"), dtype=object),
        "commodity": np.array(fcom, dtype=object),
        "facility_kind": np.array(col("facility_kind"), dtype=object) if "facility_kind" in nodes else "",
        "capacity_t": cap, "baseline_t": o0, "output_t": o, "utilisation": u,
        "spare_t": np.where(np.isnan(cap), np.nan, np.maximum(0.0, cap - o)),
        "curtailed_t": np.where(o0 - o > TOL * np.maximum(1.0, o0), o0 - o, 0.0),
        "unsold_t": _lookup(dict(unsold or {}), ids),
    })


def gainers_table(flows: pd.DataFrame) -> pd.DataFrame:
    """Suppliers whose cross-border deliveries grew, per year, variant, country and commodity.

    Per key (year, variant, supplier country, commodity) of the cross-border flows, summed as pandas'
    group sums (:func:`~supplychain.graph.sums.group_sums`): ``gain_t`` = Σ ``tonnes`` − Σ ``baseline_t``,
    kept where it exceeds 10⁻⁶ × max(1, Σ ``baseline_t``).

    Returns
    -------
    pandas.DataFrame
        ``year``, ``variant``, ``supplier_country``, ``commodity``, ``baseline_t``, ``tonnes``,
        ``gain_t`` (> 0), ``buyers`` (countries receiving more), largest gain first.
    """
    cols = ["year", "variant", "supplier_country", "commodity", "baseline_t", "tonnes", "gain_t", "buyers"]
    if flows.empty:
        return pd.DataFrame(columns=cols)
    sc = flows["supplier_country"].to_numpy()
    tr = np.flatnonzero(sc != flows["buyer_country"].to_numpy())
    keys = list(zip(*(flows[c].to_numpy()[tr].tolist() for c in cols[:4]), strict=True))
    base = group_sums(keys, flows["baseline_t"].to_numpy(dtype=float)[tr].tolist())
    tonnes = group_sums(keys, flows["tonnes"].to_numpy(dtype=float)[tr].tolist())
    up: dict[Any, set[str]] = {}
    buyer = flows["buyer_country"].to_numpy()[tr].tolist()
    for k, b, c in zip(keys, buyer, flows["change_t"].to_numpy(dtype=float)[tr].tolist(), strict=True):
        if c > TOL:
            up.setdefault(k, set()).add(str(b))
    rows = []
    for k in sorted(base):
        gain = tonnes[k] - base[k]
        if gain > TOL * max(1.0, base[k]):
            rows.append((k, base[k], tonnes[k], gain, ",".join(sorted(up.get(k, ())))))
    rows.sort(key=lambda r: (r[0][0], -r[3]))
    return pd.DataFrame({
        "year": np.array([r[0][0] for r in rows], dtype=flows["year"].to_numpy().dtype),
        "variant": np.array([r[0][1] for r in rows], dtype=object),
        "supplier_country": np.array([r[0][2] for r in rows], dtype=object),
        "commodity": np.array([r[0][3] for r in rows], dtype=object),
        "baseline_t": np.array([r[1] for r in rows], dtype=float),
        "tonnes": np.array([r[2] for r in rows], dtype=float),
        "gain_t": np.array([r[3] for r in rows], dtype=float),
        "buyers": np.array([r[4] for r in rows], dtype=object if rows else float),  # empty: as pandas makes it
    })


def _shortfall_measures(content: Mapping[str, Mapping[str, float]] | None, short: pd.DataFrame,
                        year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measure rows of a year's shortfall: ``shortfall_share`` per use node, then ``element_shortfall_share``.

    The element rows are per country and element key (``metrics.elements.element_shortfall``; ``content``:
    the scenario's element contents, :func:`~supplychain.metrics.elements.element_content`). Returns the
    rows and the element shortfall table (``country``, ``commodity`` = element key, ``value``).
    """
    from supplychain.metrics.elements import element_shortfall

    e = element_shortfall(short, content) if content and len(short) else pd.DataFrame(
        columns=["country", "commodity", "value"])
    n, k = len(short), len(e)
    key = e["commodity"].to_numpy(dtype=object)

    def both(mine: Any, element: Any) -> np.ndarray[Any, np.dtype[Any]]:
        return np.concatenate([mine, element])

    rows = pd.DataFrame({
        "year": np.full(n + k, year, dtype=np.int64),
        "country": both(short["country"].to_numpy(), e["country"].to_numpy(dtype=object)),
        "commodity": both(short["commodity"].to_numpy(), key),
        "stage": both(short["stage"].to_numpy(), np.full(k, "", dtype=object)),
        "metric": np.array(["shortfall_share"] * n + ["element_shortfall_share"] * k, dtype=object),
        "value": both(short["shortfall_share"].to_numpy(dtype=float), e["value"].to_numpy(dtype=float)),
        "unit": "share",
        "basis": np.array(["t of demand"] * n + [f"t {c} contained in demand" for c in key.tolist()], dtype=object),
        "source_country": "", "partner": "", "label": "", "scenario": "",
    })
    return rows, e


def _element_exposure(m: pd.DataFrame, short: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``element_exposed_share`` (``metrics.elements.element_exposure``) of a year.

    ``m``: the year's measures (its ``element_dependence`` rows); ``short``: its element shortfall
    per country and element key (:func:`_shortfall_measures`).
    """
    from supplychain.metrics.elements import element_exposure

    if m.empty:
        return m
    dep: pd.DataFrame = m.loc[m["metric"].to_numpy() == "element_dependence"]
    if dep.empty:
        return dep
    by_key: dict[tuple[Any, Any], float] = {}
    if len(short):
        by_key = dict(zip(zip(short["country"].tolist(), short["commodity"].tolist(), strict=True),
                          short["value"].to_numpy(dtype=float).tolist(), strict=True))
    gap = np.array([by_key.get(k, 0.0) for k in zip(dep["country"].tolist(), dep["commodity"].tolist(),
                                                      strict=True)], dtype=float)
    return dep.assign(metric="element_exposed_share",
                      value=element_exposure(dep["value"].to_numpy(dtype=float), np.where(np.isnan(gap), 0.0, gap)))


def measures_after_shock(scenario: Scenario, nodes: pd.DataFrame, edges: pd.DataFrame, year: int,
                         source: str, variant: str = "", planned: pd.DataFrame | None = None,
                         inputs: Mapping[str, Any] | None = None,
                         metrics: Collection[str] | None = None) -> pd.DataFrame:
    """Exposure measures of the adjusted network of one year.

    The simulated edge table (tonnes after the response) and node table (primary
    production of mines and stock releases after the response) go through the
    exposure engine unchanged: :func:`supplychain.metrics.measures.measures_from_tables`.
    ``planned``: the year's baseline edge table, whose consumption is what ``exposed_share``
    counts unmet demand against (:mod:`supplychain.metrics.exposure`). ``inputs``: the scenario's
    :func:`~supplychain.metrics.measures.scenario_inputs`, when already at hand. ``metrics``: only
    these (default every one; ``measures_from_tables``).
    """
    from functools import partial

    from supplychain.engine import compile_tables
    from supplychain.metrics.exposure import consumption
    from supplychain.metrics.measures import measures_from_tables, resolve_source, scenario_inputs, source_label
    from supplychain.schema.references import problem_at

    nodes = _complete_nodes(scenario, nodes)
    edges = edges.loc[edges["tonnes"] > 0].reset_index(drop=True)
    universe = set(nodes["country"].astype(str)) | set(scenario.countries) | set(scenario.regions)
    src = resolve_source(scenario, source, universe)
    cg = compile_tables(nodes, edges, locate=partial(problem_at, scenario))
    return measures_from_tables(
        nodes, edges, year=year, source=src, source_name=source_label(source),
        scenario_name=scenario.scenario.name, variant=variant, compiled=cg,
        **(inputs if inputs is not None else scenario_inputs(scenario)),
        planned=consumption(planned) if planned is not None else None, metrics=metrics,
    )


def _complete_nodes(scenario: Scenario, nodes: pd.DataFrame) -> pd.DataFrame:
    """Fill the node-table columns the metrics read for nodes the LP added.

    The first row of each node; ``stage`` (when missing or empty) and ``basis`` (when
    missing) from the node's commodity, else ``""`` and ``"t"``; ``primary`` and
    ``production`` as floats, 0 when missing; ``capacity`` NaN when the column is absent;
    ``facility``, ``facility_kind`` and ``name`` as text, ``""`` when missing.
    """
    first = ~nodes["node"].duplicated().to_numpy()
    cols: dict[str, Any] = {c: nodes[c].to_numpy()[first] for c in nodes.columns}
    n = int(first.sum())
    com = [str(c) for c in cols["commodity"].tolist()]

    def filled(name: str, given: Any, default: dict[str, Any], missing: str) -> Any:
        known = [default.get(c) for c in com]
        if name in cols:
            known = [v if g else k for v, g, k in zip(cols[name].tolist(), given, known, strict=True)]
        out = np.array(known, dtype=object)
        out[pd.isna(out)] = missing
        return out

    has_stage = ~pd.isna(cols["stage"]) & (cols["stage"] != "") if "stage" in cols else np.zeros(n, dtype=bool)
    has_basis = ~pd.isna(cols["basis"]) if "basis" in cols else np.zeros(n, dtype=bool)
    cols["stage"] = filled("stage", has_stage, {k: c.stage for k, c in scenario.commodities.items()}, "")
    cols["basis"] = filled("basis", has_basis, {k: c.basis for k, c in scenario.commodities.items()}, "t")
    for col, fill in (("primary", 0.0), ("production", 0.0), ("capacity", float("nan"))):
        if col not in cols:
            cols[col] = np.full(n, fill)
        elif col != "capacity":
            values = np.asarray(cols[col], dtype=float)
            cols[col] = np.where(np.isnan(values), fill, values)
    for col in ("facility", "facility_kind", "name"):
        texts = np.asarray(cols[col], dtype=object) if col in cols else np.full(n, "", dtype=object)
        cols[col] = np.array(["" if na else str(v) for v, na in zip(texts.tolist(), pd.isna(texts).tolist(),
                                                                     strict=True)], dtype=object)
    return pd.DataFrame(cols, copy=False)
