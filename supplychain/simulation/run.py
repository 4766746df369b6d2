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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd

from supplychain.arguments import after_horizon, check_choice, check_years
from supplychain.engine.check import empty_network_problem
from supplychain.errors import ScenarioError, SolverError
from supplychain.schema.model import Scenario
from supplychain.schema.references import problem_at
from supplychain.schema.units import commodity_units
from supplychain.simulation.aftershock import element_exposure, measures_after_shock, shortfall_measures
from supplychain.simulation.agreements import (
    OFFTAKE_COLUMNS,
    OfftakeBound,
    Participation,
    PreferencePeriod,
    investment_facilities,
    offtake_bounds,
    offtake_table,
    preference_surcharge,
    with_investments,
    year_preferences,
)
from supplychain.simulation.fixed import FixedResult, propagate_fixed, shortfall_table
from supplychain.simulation.lpdata import RebalanceSolution, YearInputs
from supplychain.simulation.outcome import (
    FLOW_COLUMNS,
    TOL,
    TRADE_COLUMNS,
    add_release_edges,
    apply_stock_cover,
    baseline_stock_gap,
    deliver_draws,
    facility_unsold,
    flow_frame,
    gainers_table,
    limit_stock_edges,
    net_of_baseline_draw,
    simulated_nodes,
    stock_edge_draws,
    trade_frame,
    unsold_by_facility,
    utilisation,
    with_sinks,
)
from supplychain.simulation.policies import ATTRIBUTION_COLUMNS, PolicyEffects, scenario_policy_effects
from supplychain.simulation.rationing import DEFAULT_RULE, Rule, check_rule
from supplychain.simulation.rebalance import RebalanceModel, facility_yields
from supplychain.simulation.stocks import (
    StockLedger,
    StockRoutes,
    plant_gaps,
    plant_kept,
    plant_need,
    shock_spans,
    split_release,
)
from supplychain.simulation.targets import evaluate_targets, target_metrics, with_inputs
from supplychain.simulation.toggles import ToggleState, resolve_toggles, run_key, run_label
from supplychain.simulation.world import TradeSums, flow_sums

if TYPE_CHECKING:
    from supplychain.graph.build import BaseYear
    from supplychain.simulation.blocks import BlockRebalance

__all__ = [
    "FLOW_COLUMNS",
    "MEASURE_COLUMNS",
    "SHORTFALL_COLUMNS",
    "TOL",
    "Mode",
    "RunOutput",
    "Simulator",
    "YearPolicies",
    "year_policies",
]

Mode = Literal["fixed", "rebalance"]
MODES: tuple[Mode, ...] = get_args(Mode)
"""The supply responses: ``fixed`` trade patterns, or ``rebalance`` through the LP."""
Objective = Literal["lexicographic", "weighted"]
Outputs = Literal["all", "headline", "measures"]


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
    offtakes: pd.DataFrame
    nodes: Mapping[int, pd.DataFrame]
    mode: Mode
    source: str
    years: tuple[int, ...]
    allocation: str
    raised: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Aggregates whose output the base network raised above their path to meet demand
    (:func:`~supplychain.graph.spare.raised_table` over the years), with every ``outputs`` (a sweep's
    samples read it: :class:`~supplychain.uncertainty.models.SimulateMeasures`)."""
    trade: TradeSums | None = None
    """With ``outputs="headline"`` alone: :func:`~supplychain.simulation.world.flow_sums` of the run's flows
    (the tonnes blocked and each country's imports by partner, which :func:`supplychain.api.compare`'s exposure
    note reads), summed from each year's trade edges (:func:`~supplychain.simulation.outcome.trade_frame`)
    without the flows table, which is empty."""
    yields: pd.DataFrame | None = None
    """The model's yield coefficients (:func:`~supplychain.simulation.candidates.facility_yields`): which
    commodities each plant turns into which, for the feeds of ``shipped_while_short``; ``None`` with
    ``outputs="measures"``."""


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
    offtakes : tuple of (OfftakeBound, str)
        The offtakes with a quantity in force and the id of the model edge each commits
        (its floor, cut to what its plant can make, is set once the year's capacities are known:
        :func:`~supplychain.simulation.agreements.offtake_floors`).
    offtake : numpy.ndarray of bool
        Edges carrying an offtake.
    reserved : numpy.ndarray of bool
        Exports of a party with a preference to a non-partner (served after the partners;
        :class:`~supplychain.simulation.agreements.Preferences`), offtakes excepted.
    participation : tuple of Participation
        Per preference, its parties and the reserved exports without it, offtakes excepted
        (:class:`~supplychain.simulation.agreements.Participation`).
    periods : tuple of PreferencePeriod
        The parts of the year with the same preferences in force, each solved with its own
        surcharges and reserved exports (:func:`~supplychain.simulation.agreements.preference_periods`);
        ``surcharge`` and ``reserved`` above are the year's average and union.
    contracted : numpy.ndarray of bool, optional
        Edges (output and input) of the plants whose output an offtake in force buys
        (:attr:`YearInputs.contracted <supplychain.simulation.lpdata.YearInputs>`); None: none.
    """

    effects: PolicyEffects
    surcharge: np.ndarray[Any, np.dtype[np.float64]]
    partner: np.ndarray[Any, np.dtype[np.bool_]]
    offtakes: tuple[tuple[OfftakeBound, str], ...]
    offtake: np.ndarray[Any, np.dtype[np.bool_]]
    reserved: np.ndarray[Any, np.dtype[np.bool_]]
    participation: tuple[Participation, ...] = ()
    periods: tuple[PreferencePeriod, ...] = ()
    contracted: np.ndarray[Any, np.dtype[np.bool_]] | None = None

    def period_inputs(self, inputs: YearInputs) -> list[tuple[float, YearInputs]]:
        """Return the LP inputs of each period of the year with its weight (one, weight 1, when nothing changes).

        A period's costs are the policies' plus its preferences' surcharges at full strength;
        its reserved exports and participation constraints are those of its preferences
        (offtakes excepted).
        """
        if len(self.periods) <= 1:
            return [(1.0, inputs)]
        policy_cost = self.effects.edges["cost_per_t"].to_numpy(dtype=float)
        return [(p.weight, replace(inputs, cost=policy_cost + p.preferences.surcharge,
                                   reserved=p.preferences.reserved & ~self.offtake,
                                   participation=_owed(p.preferences.without, self.offtake)))
                for p in self.periods]


def _on_edges(n: int, parts: Iterable[Mapping[int, float]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Return the tonnes of ``parts`` (edge position → tonnes, one mapping per stock) summed per edge, n edges."""
    out = np.zeros(n)
    for part in parts:
        for e, t in part.items():
            out[e] += t
    return out


def _owed(without: Sequence[Participation], offtake: np.ndarray[Any, np.dtype[np.bool_]]) -> tuple[Participation, ...]:
    """Return the participation constraints with the ``offtake`` edges never reserved (as the year's reserved)."""
    return tuple(replace(w, reserved=w.reserved & ~offtake) for w in without)


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
    pref, periods = year_preferences(table, year=year, agreements=world.agreements, scenario=world, active=active)
    committed: list[tuple[OfftakeBound, str]] = []
    offtake_edges = np.zeros(len(table), dtype=bool)
    plants: set[str] = set()
    for ob in offtake_bounds(world, year, active):
        eid = model.route_edge(ob.supplier, ob.buyer, ob.commodity)
        if eid is not None and ob.tonnes > 0:
            committed.append((ob, str(eid)))
            offtake_edges[model.edge_positions([eid])[0]] = True
        if ob.contracted is not None:
            plants.add(ob.contracted)
    contracted = None
    if plants:
        contracted = (table["supplier"].isin(plants) | table["buyer"].isin(plants)).to_numpy(dtype=bool)
    return YearPolicies(eff, pref.surcharge, pref.partner, tuple(committed), offtake_edges,
                        pref.reserved & ~offtake_edges, _owed(pref.without, offtake_edges), tuple(periods), contracted)


class YearNodes(Mapping[int, pd.DataFrame]):
    """A variant's simulated node tables by year, each with the response's unsold sinks (:func:`with_sinks`).

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
            self._read[year] = with_sinks(self._nodes[year], self._unsold[year])
        return self._read[year]

    def __iter__(self) -> Iterator[int]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)


YearTables = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame,
                   dict[str, Any]]
"""One year's response: flows, shortfall, utilisation, attribution, simulated nodes and edges, offtakes, solver."""


@dataclass
class _Run:
    """One variant while its years are simulated (:meth:`Simulator.run_many`): its toggles, stocks and tables."""

    label: str
    toggles: ToggleState
    off_capacity: dict[str, float]
    ledger: StockLedger
    out: dict[str, list[pd.DataFrame]] = field(default_factory=lambda: {
        k: [] for k in ("flows", "shortfall", "util", "att", "measures", "offtakes")})
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
    capacity_scale : mapping, optional
        Year → facility id → factor on the facility's capacity :math:`K_v` in the re-routing
        LP of that year (its baseline output unchanged): "what if this plant could make 10 %
        more" (:func:`~supplychain.simulation.limits.capacity_limits`). Kept as the attribute
        ``capacity_scale``, which may be replaced between runs (with :meth:`restart`).
    exposure : bool
        Measure the network after the response (default). ``False``: the response alone, for
        callers that read only its shortfall and utilisation (the report's ``fixed`` bound,
        :func:`~supplychain.simulation.limits.capacity_limits`): the measures hold only the
        shortfall rows, and the targets, which read exposure, are an empty table.
    outputs : {"all", "headline", "measures"}
        ``"all"`` (default): every table of :class:`RunOutput`. ``"measures"``: the measures table
        alone, for a sweep, which keeps nothing else (:class:`~supplychain.uncertainty.models.SimulateMeasures`):
        the flows, utilisation and preference columns of each year and the tables assembled from them
        (flows, shortfall, utilisation, gainers, targets, attribution, stocks, solver, inactive projects,
        offtakes) are not made, and are empty tables; the response, the stocks and the measures are those
        of ``"all"``, computed by the same functions. ``"headline"``: as ``"measures"``, with the shortfall,
        targets and solver tables too, and in place of the flows their sums over the trade edges
        (:attr:`RunOutput.trade`): what :func:`supplychain.api.compare` reads of a run. Every ``outputs`` keeps
        the raised aggregates (:attr:`RunOutput.raised`), which a sweep's samples read.
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
        capacity_scale: Mapping[int, Mapping[str, float]] | None = None,
        exposure: bool = True,
        outputs: Outputs = "all",
    ) -> None:
        if outputs not in ("all", "headline", "measures"):
            msg = f"outputs must be 'all', 'headline' or 'measures', not {outputs!r}"
            raise ValueError(msg)
        self.scenario = scenario
        self.exposure = exposure
        self.outputs: Outputs = outputs
        self.capacity_scale = {int(y): dict(v) for y, v in (capacity_scale or {}).items()}
        self.metrics = None if metrics is None else with_inputs(frozenset(metrics) | target_metrics(scenario.targets))
        response = getattr(scenario, "response", None)
        default = response.allocation if response is not None else DEFAULT_RULE
        if objective == "weighted" and allocation is None:
            default = "max_delivery"  # one weighted solve cannot ration (RebalanceModel, allocation)
        self.allocation: Rule = check_rule(allocation or default)
        self.world = with_investments(scenario)
        self.investments = investment_facilities(scenario)
        empty = empty_network_problem(scenario)
        if empty is not None:  # nothing to simulate: a located error, not an empty LP
            raise ScenarioError([empty])
        # past the horizon: see tables()
        self.years = check_years(years if years is not None else scenario.years, scenario.scenario.base_year)
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
        self._yields: pd.DataFrame | None = None
        self._raised: pd.DataFrame | None = None

    # ----------------------------------------------------------- shared parts
    def tables(self, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Baseline node and edge tables of ``year`` (built once; later years carry the base year's pattern).

        A year after the scenario's horizon whose tables do not balance is one problem saying
        so (:func:`~supplychain.arguments.after_horizon`), not one per market.
        """
        if year not in self._tables:
            from supplychain.graph.build import base_tables, base_year, build_tables

            first = self.world.scenario.base_year
            if self._base is None and year == first:  # the base year's edges, built once for both
                self._base, nodes, edges = base_tables(self.world)
                self._tables[year] = (nodes, edges)
            else:
                if self._base is None and year > first:
                    self._base = base_year(self.world)
                try:
                    self._tables[year] = build_tables(self.world, year, base=self._base)
                except ScenarioError as err:
                    horizon = self.world.years[-1]
                    if year <= horizon:
                        raise
                    raise after_horizon(year, first, horizon, err) from None
        return self._tables[year]

    def raised(self) -> pd.DataFrame:
        """Return the aggregates whose output the base network raised above their path, every simulated year.

        :func:`~supplychain.graph.spare.raised_over` the years' baseline node tables: the same
        for every variant and response (the raise is part of the baseline both start from), so
        built once.
        """
        if self._raised is None:
            from supplychain.graph.spare import raised_over

            self._raised = raised_over(self.world, ((y, self.tables(y)[0]) for y in self.years))
        return self._raised

    def _measure_inputs(self) -> dict[str, Any]:
        """Return the scenario facts the measures read besides the tables (computed once)."""
        if self._inputs is None:
            from supplychain.metrics.measures import scenario_inputs

            owners = self.exposure and (self.metrics is None or "owner_share" in self.metrics)
            self._inputs = scenario_inputs(self.world, owners=owners)
        return self._inputs

    def yields(self) -> pd.DataFrame:
        """Return the facilities' yield coefficients over the union of the years' nodes (read once).

        :func:`~supplychain.simulation.candidates.facility_yields` on the base year's edges: the LP's
        coefficients (:meth:`model`) and the feeds of a run's ``shipped_while_short``, under either response.
        """
        if self._yields is None:
            all_nodes = _union([self.tables(y)[0] for y in self.years], "node", last=True)
            _base_nodes, base_edges = self.tables(self.years[0])
            self._yields = facility_yields(
                all_nodes, base_edges, facilities=self.world.facilities, processes=self.world.processes
            )
        return self._yields

    def model(self) -> RebalanceModel:
        """Return the re-routing LP over the union of the years' networks (built once)."""
        if self._model is None:
            t0 = time.perf_counter()
            all_nodes = _union([self.tables(y)[0] for y in self.years], "node", last=True)
            all_edges = _union([self.tables(y)[1] for y in reversed(self.years)], "edge")
            yields = self.yields()
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

    def restart(self) -> None:
        """Let the next run's first solve start from scratch, as a new simulator's does.

        The tables and the compiled LP are kept (:meth:`RebalanceModel.restart
        <supplychain.simulation.rebalance.RebalanceModel.restart>`); the block solver is made
        anew from the model. A run after it gives a new simulator's numbers up to the solver's
        round-off, whatever was solved before.
        """
        if self._model is not None:
            self._model.restart()
        self._blocks = None

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
        labels: Sequence[str] | None = None,
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

        Runs that put the same policies and agreements in force and switch off the same
        entities (equal :func:`~supplychain.simulation.toggles.run_key`: a variant that sets no
        toggle away from its default, and ``base``) are one simulation: everything a year reads
        of a run is this simulator's world (:func:`~supplychain.simulation.variants.run_variants`
        gives each set of switched-off entities its own), the year, its stocks (which start
        equal) and that set. It is simulated once, for the first of them; each of the others
        gets its tables under its own label and toggles, with no solver work of its own
        (``seconds`` and ``iterations`` 0 in its ``solver`` table). Runs that differ in what
        they switch off are never merged, even when a caller gives them to one simulator.

        Parameters
        ----------
        runs : sequence of (variant, toggles)
            As ``variant`` and ``toggles`` of :meth:`run`, one pair per variant.
        mode, warm
            As in :meth:`run`.
        labels : sequence of str, optional
            Each run's label, the ``variant`` column of its tables (default
            :func:`~supplychain.simulation.toggles.run_label`: the variant's name, ``custom`` or ``base``;
            :func:`supplychain.api.compare` passes a grid's ``name=on,other=off``).

        Returns
        -------
        list of RunOutput
            One per pair of ``runs``, in their order.
        """
        check_choice("mode", mode, MODES)
        if labels is None:
            labels = [run_label(variant, toggles) for variant, toggles in runs]
        states, simulated = [], {}
        for (variant, toggles), label in zip(runs, labels, strict=True):
            state = resolve_toggles(self.scenario, variant=variant, overrides=toggles)
            states.append(state)
            if run_key(state) not in simulated:  # one simulation per case (policies in force, entities off)
                simulated[run_key(state)] = _Run(label, state, self.switched_off(state.active),
                                                 StockLedger.from_scenario(self.world, self.years))
        for year in self.years:
            nodes, edges = self.tables(year)
            for r in simulated.values():
                self._step(r, year, nodes, edges, mode, warm)
        return [self._close(simulated[run_key(state)], mode, label, state) for label, state in zip(labels, states,
                                                                                                   strict=True)]

    def _step(self, r: _Run, year: int, nodes: pd.DataFrame, edges: pd.DataFrame, mode: Mode, warm: bool) -> None:
        """Simulate one year of the variant ``r`` and keep its tables (``variant`` is added in :meth:`_close`)."""
        active, label = r.toggles.active, r.label
        r.ledger.open(year)  # stocks dated this year enter now
        if mode == "rebalance":
            res = self._year_rebalance(year, nodes, edges, active, r.off_capacity, r.ledger, warm)
        else:
            res = self._year_fixed(year, nodes, edges, active, r.off_capacity, r.ledger)
        flows, short, util, att, sim_nodes, sim_edges, offtakes, stats = res
        r.years.append(year)
        if self.outputs == "all":
            r.nodes.add(year, sim_nodes, flows)
        r.out["flows"].append(flows)
        r.out["shortfall"].append(short)
        r.out["util"].append(util)
        r.out["att"].append(att)
        r.out["offtakes"].append(offtakes)
        r.solver.append({"year": year, "variant": label, "mode": mode, **stats})
        inputs = self._measure_inputs()
        rows, element_short = shortfall_measures(inputs["content"], short, year, scenario=self.world.scenario.name)
        if not self.exposure:  # the shortfall rows alone
            if len(rows):
                r.out["measures"].append(rows)
            return
        m = measures_after_shock(self.world, sim_nodes, sim_edges, year, self.source, label, planned=edges,
                                 inputs=inputs, metrics=self.metrics)
        parts = [m, rows, element_exposure(m, element_short)]
        r.out["measures"].extend(p for p in parts if len(p))

    def _close(self, r: _Run, mode: Mode, label: str, toggles: ToggleState) -> RunOutput:
        """Assemble the tables of a variant whose years are all simulated (``r``'s, as ``label`` with ``toggles``).

        ``r`` is the run simulated for every variant with the same policies and agreements in force
        (:meth:`run_many`); a variant other than the one simulated (``toggles`` not ``r``'s) did no solver work.
        """
        measures = _concat(r.out["measures"], MEASURE_COLUMNS, variant=label)
        empty = pd.DataFrame()
        out = RunOutput(measures=measures, flows=empty, shortfall=empty, utilisation=empty, gainers=empty,
                        targets=empty, attribution=empty, stocks=empty, toggles=toggles, solver=empty,
                        inactive=empty, offtakes=empty, nodes=r.nodes, mode=mode, source=self.source,
                        years=self.years, allocation=self.allocation, raised=self.raised())
        if self.outputs == "measures":
            return out
        targets = evaluate_targets(self.scenario.targets if self.exposure else {}, measures, self.years,
                                   variant=label)
        solver = pd.DataFrame(r.solver if toggles is r.toggles else
                              [{**row, "variant": label, "seconds": 0.0, "iterations": 0} for row in r.solver])
        out = replace(out, shortfall=_concat(r.out["shortfall"], SHORTFALL_COLUMNS, variant=label, years=r.years),
                      targets=targets, solver=solver)
        if self.outputs == "headline":  # each year's trade edges (trade_frame), summed for compare's exposure note
            trade = _concat(r.out["flows"], TRADE_COLUMNS, variant=label)
            return replace(out, trade=flow_sums(trade, baseline="baseline_t", simulated="tonnes"))
        flows = _concat(r.out["flows"], FLOW_COLUMNS, variant=label)
        out = replace(out, flows=flows)
        util = pd.concat(r.out["util"], ignore_index=True)
        util["variant"] = label
        return replace(
            out,
            utilisation=util,
            gainers=gainers_table(flows),
            attribution=_concat(r.out["att"], [*ATTRIBUTION_COLUMNS, "variant"], variant=label),
            stocks=r.ledger.table().assign(variant=label),
            inactive=self._inactive(util, mode),
            offtakes=_concat(r.out["offtakes"], OFFTAKE_COLUMNS, variant=label).drop(columns="edge"),
            yields=self.yields(),
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
                        ledger: StockLedger) -> tuple[PolicyEffects, FixedResult, pd.DataFrame, dict[str, float],
                                                      dict[str, float]]:
        """Run the ``fixed`` response of one year (:meth:`_propagate`).

        Returns the policies, flows, shortfall after stocks, stock released per market and its final-use part.
        """
        eff = scenario_policy_effects(self.world, edges, year, active)
        res, short, drawn, use = self._propagate(year, nodes, edges,
                                                 eff.edges["total_blocked_share"].to_numpy(dtype=float), ledger,
                                                 self._spans(year, eff, ledger, edges))
        return eff, res, short, drawn, use

    def _spans(self, year: int, effects: PolicyEffects, ledger: StockLedger,
               edges: pd.DataFrame) -> dict[str, list[tuple[float, float]]]:
        """Return the months of ``year`` each stock's gap arises in (:func:`.stocks.shock_spans`, the year's edges).

        ``effects``: the year's policies, whose attribution is read (assembled) only when there are stocks.
        """
        if not ledger.levels:
            return {}
        periods = {pid: (p.start, p.end) for pid, p in self.world.policies.items()}
        lifted = {aid: (a.start, a.end) for aid, a in self.world.agreements.items()}
        return shock_spans(sorted(ledger.levels), effects.attribution, periods, year, edges, lifted)

    def _propagate(self, year: int, nodes: pd.DataFrame, edges: pd.DataFrame, blocked: Any,
                   ledger: StockLedger, spans: Mapping[str, list[tuple[float, float]]] | None = None, *,
                   cover: bool = True) -> tuple[FixedResult, pd.DataFrame, dict[str, float], dict[str, float]]:
        r"""Propagate the fixed response from the edges' blocked shares; draw ``ledger``'s stocks (a copy: dry run).

        A stock at market ``c:k`` covers its holder's users of k (:func:`.stocks.holder_edges`): the gap is
        :math:`\Delta = b + U + \sum_v G_v`, with :math:`b` the baseline stock edges' draws, :math:`U` the
        final use's shortfall and :math:`G_v` what the stock can replace of the input of k each of the holder's
        plants lost (:func:`.stocks.plant_gaps`): offered all of it on its input edge, the response propagated
        again, what the plant keeps (:func:`.stocks.plant_kept`: it runs at its scarcest input, and its
        unsellable output is cut back). The release beyond :math:`b` is shared over them pro rata to their
        gaps (:func:`.stocks.split_release`). A plant's share arrives on its input edge and the response is
        propagated again (the offer's propagation when the shares are the whole lost inputs), so its output
        reaches its buyers; the final use's share covers the
        shortfall (:func:`~supplychain.simulation.outcome.apply_stock_cover`). Returns the result, the
        shortfall, the release per market (beyond the baseline draws) and the part of it for final use.

        ``spans``: the months each stock's gap arises in (:meth:`~supplychain.simulation.stocks.StockLedger.record`);
        ``cover``: whether the stock covers the holder's users (the floors of ``contracts_first`` are the
        shortfall before stock cover: in ``rebalance`` the stocks cover what is left after the re-routing,
        :meth:`~supplychain.simulation.stocks.StockRoutes.record`).
        """
        b = limit_stock_edges(edges, np.array(blocked, dtype=float), ledger)
        res = propagate_fixed(nodes, edges, b)
        short = shortfall_table(res.index, edges, res.tonnes)
        base = stock_edge_draws(edges)
        f0 = edges["tonnes"].to_numpy(dtype=float)
        lost = {m: g for m, level in ledger.levels.items()
                if level > 0 and (g := plant_gaps(edges, f0, res.arrived, m))} if cover else {}
        gaps, demand = _use_gaps(short)
        plants: dict[str, dict[int, float]] = {}
        into_plants: dict[str, float] = {}
        used: dict[str, float] = {}
        if lost:  # each plant is offered its whole lost input: its gap is what it keeps of it (stocks.plant_kept)
            first = res.tonnes
            offer = _on_edges(len(edges), lost.values())
            probe = propagate_fixed(nodes, edges, b, extra=offer)
            plants = {m: plant_kept(edges, first, probe.tonnes, g) for m, g in lost.items()}
            dry = net_of_baseline_draw(base, ledger.copy().record(
                year, baseline_stock_gap(base, _plus(gaps, {m: sum(g.values()) for m, g in plants.items()})), demand))
            # the plants' shares arrive on their input edges, and the response runs again
            x = _on_edges(len(edges), (split_release(dry.get(m, 0.0), gaps.get(m, 0.0), g)[1]
                                       for m, g in plants.items()))
            res = probe if np.array_equal(x, offer) else propagate_fixed(nodes, edges, b, extra=x)
            kept = {m: plant_kept(edges, first, res.tonnes, {e: float(x[e]) for e in g}) for m, g in plants.items()}
            used = {m: sum(k.values()) for m, k in kept.items()}
            into_plants = {m: sum(plant_need(t, float(x[e]), kept[m][e]) for e, t in g.items())
                           for m, g in plants.items()}
            short = shortfall_table(res.index, edges, res.tonnes)
            gaps, demand = _use_gaps(short)
        drawn = ledger.record(year, baseline_stock_gap(base, _plus(gaps, into_plants)), demand, spans,
                              baseline_stock_gap(base, _plus(gaps, used)) if used else None)
        drawn = net_of_baseline_draw(base, drawn)
        use = {m: max(0.0, d - used[m]) if m in used else d for m, d in drawn.items()}
        return res, apply_stock_cover(short, use) if cover else short, drawn, use

    def _year_fixed(
        self,
        year: int,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        active: frozenset[str],
        off_capacity: Mapping[str, float],
        ledger: StockLedger,
    ) -> YearTables:
        t0 = time.perf_counter()
        eff, res, short, drawn, use = self._fixed_response(year, nodes, edges, active, ledger)
        tonnes = deliver_draws(edges, res.tonnes, use)
        sim_edges = add_release_edges(edges.assign(tonnes=tonnes), drawn)
        sim_nodes = simulated_nodes(res.index.nodes, edges, tonnes, drawn)
        stats = {"iterations": res.iterations, "warm": False}
        if self.outputs != "all":  # no flows, utilisation, attribution or preferences (Simulator, outputs=)
            empty = pd.DataFrame()
            trade = trade_frame(year, edges, edges["tonnes"].to_numpy(dtype=float), tonnes,
                                eff.edges["total_blocked_share"].to_numpy(dtype=float)) \
                if self.outputs == "headline" else empty  # compare's exposure note: the trade edges alone
            return trade, short, empty, empty, sim_nodes, sim_edges, empty, {
                "seconds": time.perf_counter() - t0, **stats}
        _, partner = preference_surcharge(edges, year=year, agreements=self.world.agreements, scenario=self.world,
                                          active=active)
        deal = eff.edges["exempt"].to_numpy(dtype=bool) | partner
        unsold = facility_unsold(edges, res.unsold)
        flows = flow_frame(year, edges, edges["tonnes"].to_numpy(dtype=float), tonnes,
                            eff.edges["total_blocked_share"].to_numpy(dtype=float),
                            eff.edges["cost_per_t"].to_numpy(dtype=float), deal, origin="observed", unsold=unsold,
                            drawn=drawn)
        util = utilisation(year, nodes, edges, tonnes, off_capacity, unsold=unsold_by_facility(unsold))
        att = eff.attribution
        return flows, short, util, att, sim_nodes, sim_edges, pd.DataFrame(columns=OFFTAKE_COLUMNS), {
            "seconds": time.perf_counter() - t0, **stats}

    def _floors(self, year: int, nodes: pd.DataFrame, edges: pd.DataFrame, effects: PolicyEffects,
                ledger: StockLedger, pos: np.ndarray[Any, np.dtype[np.intp]]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Per use node of the model, the shortfall of the ``fixed`` response (``contracts_first``'s floors).

        ``effects``: the year's policy effects on the model's edges (the year's edges are among them, at
        ``pos``). A dry run on a copy of ``ledger``, before stock cover: the stocks cover their holders'
        final use after the re-routing (:meth:`~supplychain.simulation.stocks.StockRoutes.record`), so a
        floor that counted them would ask the LP for supply the stock then adds again. NaN for use nodes
        the year lacks.
        """
        model = self.model()
        blocked = effects.edges["total_blocked_share"].to_numpy(dtype=float)[pos]
        _, short, _, _ = self._propagate(year, nodes, edges, blocked, ledger.copy(), cover=False)
        z = dict(zip(short["node"].tolist(), short["shortfall_t"].to_numpy(dtype=float).tolist(), strict=True))
        return np.array([z.get(i, np.nan) for i in model.node_ids[model.uses].tolist()], dtype=float)

    def _unmet_offtakes(self, year: int, err: SolverError, pol: YearPolicies, inputs: YearInputs,
                        offtakes: pd.DataFrame) -> SolverError | ScenarioError:
        """Return the error to raise when the year's LP fails: the offtakes it cannot meet, else ``err`` with the year.

        An offtake's floor is cut to what its plant can make and capped by bans (:func:`offtake_floors`), not to
        the supply that can reach its buyer: a plant whose feed a ban removes, or a country's market with no
        supply, still cannot meet it. When the LP is infeasible with the floors, each offtake with a floor is
        tried alone (the year's LP with only its floor); those infeasible alone (or, when none is, all of them
        together if the LP without floors is feasible) are reported as a :class:`ScenarioError` at
        ``agreements.<id>.offtakes[i]``. Otherwise ``err``, its message prefixed with the year.
        """
        plain = SolverError(f"year {year}: {err}")
        floors = offtakes.loc[offtakes["floor_t"].to_numpy(dtype=float) > 0]
        if "infeasible" not in str(err) or floors.empty:
            return plain
        model, solver = self.model(), self._solver()

        def feasible(rows: pd.DataFrame) -> bool:
            lower: dict[str, float] = {}
            for eid, t in zip(rows["edge"].tolist(), rows["floor_t"].to_numpy(dtype=float).tolist(), strict=True):
                lower[eid] = lower.get(eid, 0.0) + t
            try:
                for _, part in pol.period_inputs(replace(inputs, lower=model.edge_values(lower))):
                    solver.solve(part, warm=False)
            except SolverError:
                return False
            return True

        if not feasible(floors.iloc[:0]):
            return plain  # infeasible without any floor: the offtakes are not the cause
        alone = [i for i in range(len(floors)) if not feasible(floors.iloc[i : i + 1])]
        culprits = floors.iloc[alone] if alone else floors
        by_label = {(b.agreement, b.label): b for b, _ in pol.offtakes}
        units = commodity_units(self.world)
        problems = []
        names = zip(culprits["agreement"].astype(str).tolist(), culprits["offtake"].astype(str).tolist(), strict=True)
        for (aid, label), floor in zip(names, culprits["floor_t"].to_numpy(dtype=float).tolist(), strict=True):
            b = by_label[(aid, label)]
            u = units.get(b.commodity, "t")
            together = "" if alone else " together with the other offtakes in force"
            message = (f"offtake {b.id or b.position} of agreement {aid} cannot be met in {year}{together}: it "
                       f"commits {floor:,.0f} {u} of {b.commodity} from {b.supplier} to {b.buyer_country}, more than "
                       "the response can deliver to it")
            hint = ("an offtake's floor is cut only to what its plant can make and capped by bans on its own route, "
                    "not to the supply that can reach the plant or market (a ban on the plant's feed, a country's "
                    "market with no supply of it): lower `quantity_per_year`, move `start_year`, or check the "
                    "policies in force on the supplier's inputs (docs/rebalance.md, \"Variables\")")
            problems.append(problem_at(self.world, ("agreements", b.agreement, "offtakes", b.position,
                                                    "tonnes_per_year"), message, hint))
        return ScenarioError(problems)

    def _year_rebalance(
        self,
        year: int,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        active: frozenset[str],
        off_capacity: Mapping[str, float],
        ledger: StockLedger,
        warm: bool,
    ) -> YearTables:
        model = self.model()
        pos = model.edge_positions(edges["edge"])
        table = model.edge_table(edges, pos)
        pol = self.year_policies(year, table, active)
        eff, sur, partner, offtake_edges = pol.effects, pol.surcharge, pol.partner, pol.offtake
        routes = self._stock_routes()
        inputs = model.year_inputs(nodes, edges, effects=eff, cost=sur, capacity=off_capacity)
        if year in self.capacity_scale:
            scale = model.facility_values(self.capacity_scale[year])
            inputs = replace(inputs, capacity=inputs.capacity * np.where(np.isnan(scale), 1.0, scale))
        off_edges = [e for _, e in pol.offtakes]
        caps = dict(zip(off_edges, model.edge_caps(inputs)[model.edge_positions(off_edges)].tolist(), strict=True))
        offtakes = offtake_table(year, pol.offtakes, model.can_make(inputs.capacity), caps)
        lower: dict[str, float] = {}
        for eid, t in zip(offtakes["edge"].tolist(), offtakes["floor_t"].to_numpy(dtype=float).tolist(), strict=True):
            lower[eid] = lower.get(eid, 0.0) + t
        inputs = replace(inputs, lower=model.edge_values(lower))
        inputs = routes.limit(inputs, ledger.available())
        floor = self._floors(year, nodes, edges, eff, ledger, pos) if self.allocation == "contracts_first" else None
        inputs = replace(inputs, rule=self.allocation, floor=floor, reserved=pol.reserved,
                         participation=pol.participation, contracted=pol.contracted)
        solver = self._solver()

        def solve(inputs: YearInputs, first: Sequence[RebalanceSolution] = (),
                  held: tuple[np.ndarray, np.ndarray] | None = None) -> list[RebalanceSolution]:
            """Solve each period of the year (``held``: the trade held at each period's ``first`` solve)."""
            try:
                return [solver.solve(part if held is None else routes.hold(part, first[i], held), warm=warm)
                        for i, (_, part) in enumerate(pol.period_inputs(inputs))]
            except SolverError as err:
                raise self._unmet_offtakes(year, err, pol, inputs, offtakes) from err

        weights = [w for w, _ in pol.period_inputs(inputs)]
        parts = solve(inputs)
        sol = RebalanceSolution.blend(list(zip(weights, parts, strict=True)))
        # a stock covers its holder's users left short after the re-routing: its plants' share in a re-solve
        # (StockRoutes.plant_release), its final use's after it (StockRoutes.record)
        opened = routes.plant_release(
            ledger, year, table, inputs, sol,
            lambda opened, held: RebalanceSolution.blend(list(zip(weights, solve(opened, parts, held), strict=True))),
        ) if ledger.levels else None
        plants: dict[str, float] = {}
        if opened is not None:
            inputs, plants, sol = opened
        draws, use = routes.record(ledger, year, inputs, sol, self._spans(year, eff, ledger, edges),
                                   plants)
        short = apply_stock_cover(model.shortfall_table(inputs, sol), use)
        deal = eff.edges["exempt"].to_numpy(dtype=bool) | partner | offtake_edges
        in_year = np.zeros(len(table), dtype=bool)
        in_year[pos] = True
        keep = in_year | (sol.tonnes > TOL)
        kept = table.loc[keep]
        ids = model.node_ids
        tonnes = deliver_draws(kept, sol.tonnes[keep], use)
        sim_edges = kept.assign(tonnes=tonnes)
        sim_nodes = simulated_nodes(model.nodes, sim_edges, sim_edges["tonnes"].to_numpy(dtype=float), draws)
        sim_edges = add_release_edges(sim_edges, draws)
        stats: dict[str, Any] = {"seconds": sol.seconds, "iterations": sol.iterations, "warm": sol.warm,
                                 "allocation": self.allocation}
        stats.update({f"objective_{k}": v for k, v in sol.objectives.items()})
        blocked = eff.edges["total_blocked_share"].to_numpy(dtype=float)[keep]
        if self.outputs != "all":  # no flows, utilisation or attribution (Simulator, outputs=)
            empty = pd.DataFrame()
            trade = trade_frame(year, kept, inputs.baseline[keep], tonnes, blocked) \
                if self.outputs == "headline" else empty  # compare's exposure note: the trade edges alone
            return trade, short, empty, empty, sim_nodes, sim_edges.drop(columns=["origin"]), offtakes, stats
        unsold = {str(m): float(u) for m, u in zip(ids[model.markets], sol.unsold, strict=True) if u > TOL}
        flows = flow_frame(year, kept, inputs.baseline[keep], tonnes, blocked, inputs.cost[keep], deal[keep],
                           unsold=unsold, drawn=draws)
        util = utilisation(year, nodes, table, sol.tonnes, off_capacity, capacity=dict(
            zip(ids[model.facilities], inputs.capacity, strict=True)))
        att = eff.attribution
        att = att.loc[(att["baseline_t"].to_numpy() > 0) | (att["exempted_by"].to_numpy() != "")].reset_index(drop=True)
        return flows, short, util, att, sim_nodes, sim_edges.drop(columns=["origin"]), offtakes, stats


# --------------------------------------------------------------- helpers
def _use_gaps(short: pd.DataFrame) -> tuple[dict[str, float], dict[str, float]]:
    """Return the final use's shortfall and demand per market of a shortfall table."""
    markets = [f"{c}:{k}" for c, k in zip(short["country"].tolist(), short["commodity"].tolist(), strict=True)]
    return (dict(zip(markets, short["shortfall_t"].to_numpy(dtype=float).tolist(), strict=True)),
            dict(zip(markets, short["demand_t"].to_numpy(dtype=float).tolist(), strict=True)))


def _plus(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
    """Per key, ``a + b`` (0 where missing)."""
    return {k: a.get(k, 0.0) + b.get(k, 0.0) for k in set(a) | set(b)}


def _union(frames: Sequence[pd.DataFrame], key: str, *, last: bool = False) -> pd.DataFrame:
    """Stack ``frames`` keeping one row per ``key`` (its first, or ``last``, occurrence), sorted by ``key``."""
    stacked = pd.concat(frames, ignore_index=True).drop_duplicates(key, keep="last" if last else "first")
    return stacked.sort_values(key).reset_index(drop=True)


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


