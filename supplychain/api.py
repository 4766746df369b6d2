"""The public Python API: ``load``, ``simulate``, ``compare`` and the ``Result`` object.

Notebooks and the command line use the same functions::

    import supplychain.api as sc
    world = sc.load("scenarios/us_japan.yaml")
    res = sc.simulate(world, toggles={"china_ree_ban": True}, mode="rebalance")
    res.shortfall            # quantity (in each commodity's unit) and share of demand not met, per year
    res.explain("US", "ndpr_oxide")   # tonnes each policy blocked on US imports
    res.losses("US", "ndpr_oxide")    # lost from whom: every source and use, with its change and cause
    sc.compare(world, toggles_grid=["us_japan_deal", "malaysia_mou"])
    runs = sc.simulate_many(world)   # compare's runs, every table kept: {label: Result}
    res.measure("exposed_share", "US", "ndpr_oxide")   # one measure, a Series by year
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd

from supplychain.arguments import argument_error, argument_problem, check_choice, check_metrics, check_name, check_year
from supplychain.errors import ScenarioError
from supplychain.io.load import as_scenario
from supplychain.metrics.exposure import shortfall_share
from supplychain.report.exposure_falls import world_shortfall
from supplychain.schema.countries import code_hint, require_codes
from supplychain.schema.model import Scenario
from supplychain.schema.units import commodity_units
from supplychain.simulation.rationing import Rule
from supplychain.simulation.run import MODES, Mode, Objective, RunOutput
from supplychain.simulation.shipped import feeds_table, shipped_while_short
from supplychain.simulation.tables import public_table
from supplychain.simulation.toggles import ToggleState, resolve_toggles, run_key, run_label, same_runs
from supplychain.simulation.variants import run_variants
from supplychain.simulation.world import INFLOW_COLUMNS, world_balance

if TYPE_CHECKING:
    import networkx as nx

    from supplychain.report.notebook import Picture

__all__ = ["Result", "compare", "focus_countries", "load", "measures", "same_toggles", "simulate", "simulate_many"]

_T = TypeVar("_T")

COMPARE_METRICS = ("exposed_share", "traced_share", "direct_import_share", "shortfall_share",
                    "element_exposed_share", "element_dependence", "element_shortfall_share")
"""Measures :func:`compare` reports per variant and year (element rows name the element key in ``commodity``)."""


def load(path: str | Path) -> Scenario:
    """Load and validate a scenario file (see :func:`supplychain.io.load.load`)."""
    from supplychain.io.load import load as _load

    return _load(path)


def measures(scenario: Scenario | str | Path, year: int, *, source: str | Sequence[str] | None = "CN") -> pd.DataFrame:
    """Every exposure measure of the scenario's network as observed in ``year``, no shock (a tidy DataFrame).

    One row per country, commodity, metric (and ``partner`` for per-partner metrics; missing, NaN,
    otherwise): ``year``, ``country``, ``commodity``, ``stage``, ``metric``, ``partner``, ``value``,
    ``label``, ``unit``, ``basis``, ``source_country`` … (docs/measures.md;
    :func:`supplychain.metrics.measures.compute_measures`, whose ``''`` for "no value" in ``stage``,
    ``partner``, ``label`` and ``source_country`` reads NaN here: :func:`no_value_as_na`). Element
    measures put the element key (``NdPr``, ``Dy`` …) in ``commodity``. :func:`simulate` gives the
    same measures after a shock.

    Parameters
    ----------
    scenario : Scenario or path
        A loaded scenario or the path of its file.
    year : int
        Year of the network.
    source : str, sequence of str or None
        Country (or countries) exposure is measured to.
    """
    from supplychain.metrics import compute_measures

    return no_value_as_na(compute_measures(as_scenario(scenario), year, source=source))


@dataclass(frozen=True, eq=False)
class Result:
    """What one simulation produced, as tidy tables.

    Two results are equal only when they are the same object (``==`` is identity, and a
    result is hashable): the frames inside stay mutable, so compare them with
    ``DataFrame.equals`` when that is the question.

    Every quantity is in its commodity's unit (``kg Ga`` for gallium, ``t REO`` for
    rare-earth oxides …): the tables of quantities carry a ``unit`` column, the
    commodity's basis, right after ``commodity``, and never add rows of different
    units. Column names are unit-neutral (``demand``, not ``demand_t``; the mapping
    from the solver's working names is ``supplychain.simulation.tables.PUBLIC_NAMES``).
    One exception: in :attr:`measures` (values that are shares, ratios, points), ``unit``
    is the measure's scale (``share``, ``ratio``, ``points``, ``t``) and ``basis`` the
    commodity's unit, what a share is a share of; join measures to a table of quantities
    on ``basis`` = ``unit`` (``docs/outputs.md``, "Names to know").

    Attributes
    ----------
    scenario : str
        Scenario name (``scenario.name``, a sentence). Only :attr:`measures` repeats it in a
        column; the other frames carry ``variant`` alone, so frames of two scenarios'
        results concatenated need ``.assign(scenario=…)`` to be told apart.
    variant : str
        ``base``, a variant name, or ``custom`` (explicit toggles); a :func:`simulate_many` grid run's
        ``name=on,other=off``.
    mode : {"rebalance", "fixed"}
        Supply response.
    allocation : str
        Who goes short when supply is scarce (``rebalance``; :mod:`supplychain.simulation.rationing`).
    source : str
        Country (or group) exposure is measured to.
    years : tuple of int
        Simulated years.
    measures : pandas.DataFrame
        Tidy exposure measures after the shock (``year``, ``country``, ``commodity``,
        ``stage``, ``metric``, ``value``, ``unit``, ``basis``, ``source_country``,
        ``partner``, ``label``, ``variant``), including ``shortfall_share``. "No value" is
        missing (NaN), never ``''``: ``partner`` on a country's own measures (only per-partner
        measures such as ``import_share`` name one), ``label`` unless the value needs one (``E``:
        net exporter; ``use not recorded``), ``source_country`` on measures not of exposure to a
        source, ``stage`` on element rows (:data:`NO_VALUE_COLUMNS`). The element measures
        (``element_*``) put the element key (``NdPr``, ``Dy``, ``Tb``, ``NdPr+Dy+Tb``) in
        ``commodity``, their ``stage`` missing: filter ``commodity`` on the scenario's
        commodities (or ``stage.notna()``) to keep commodities only. One measure by year:
        :meth:`measure`.
    flows : pandas.DataFrame
        One row per edge and year (docs/architecture.md, "Edge table"); every market closes
        (in = out). Columns:

        * ``year``; ``edge`` (id: ``imports.<id>.<partner>``, ``flows.<id>``, ``alloc.<commodity>.<from>.<to>``,
          ``supply.<facility>.<commodity>``, ``input.<facility>.<commodity>``, ``demand.<id>``,
          ``surplus.<market>``, ``stockpiles.<id>``, ``stock.<market>.build``, ``reroute.<commodity>.<from>.<to>``,
          ``unsold.<…>``, ``stockpiles.release.<market>``); ``entity`` (the scenario entity it came from,
          ``section.id``, or a rule: ``allocation``, ``surplus``, ``stock_build``, ``reroute``,
          ``response.unsold``, ``stock_release``);
        * ``supplier``, ``buyer`` (node ids: a facility id, a market ``CC:commodity``, a use node
          ``CC:commodity:use``, ``…:surplus``, ``…:stock``, ``…:unsold``), ``supplier_country``,
          ``buyer_country``, ``commodity``, ``unit`` (the commodity's), ``stage``;
        * ``kind``: ``trade`` (between countries, or a plant's direct delivery: observed, allocated
          and ``reroute.*`` edges), ``supply`` (plant → its country's market), ``input`` (market → plant),
          ``use`` (market → final demand), ``surplus`` (material with no known destination),
          ``stock`` (draw or build), ``unsold`` (made, taken by nobody); group trade by
          country with ``kind == "trade"``, or plant supply and final use mix in;
        * ``origin``: ``observed`` (the scenario's network), ``completion`` (a plant's missing
          supply/input edge), ``offtake``, ``reroute`` (a candidate route the response may open,
          ``rebalance`` only), ``response`` (``unsold`` and stock-release rows);
        * ``baseline``, ``simulated`` quantity, ``change`` (their difference; a flow within 10⁻⁶
          of its baseline is the solver's round-off and reported as the baseline, ``simulation.run.TOL``),
          ``blocked_share`` (share of the edge policies block), ``cost_per_unit`` (tax or tariff);
        * ``status``: ``normal``, ``blocked`` (a policy cut it to nothing), ``reduced``, ``rerouted``
          (above its baseline), ``new`` (no baseline), ``deal`` (an agreement exempted, committed or
          favoured it), ``unsold``, ``stock`` (release beyond the baseline)
          (:func:`~supplychain.simulation.outcome.flow_status`); ``variant``.

        Who lost what from whom, with causes: :meth:`losses`.
    shortfall : pandas.DataFrame
        ``country``, ``commodity``, ``unit``, ``stage``, ``year``, ``demand``, ``delivered``,
        ``shortfall``, ``shortfall_share`` per final-use node.
    utilisation : pandas.DataFrame
        ``capacity``, ``baseline`` and simulated ``output``, ``spare`` capacity, ``curtailed`` and
        ``unsold`` output of every facility.
    gainers : pandas.DataFrame
        Suppliers whose exports grew, per year, ``supplier_country`` and ``commodity``: ``baseline``,
        ``simulated``, ``gain`` and ``buyers`` (the buyer countries whose flows grew, comma-joined:
        ``"EU,KR,ROW"``; the flows themselves are :attr:`flows`).
    targets : pandas.DataFrame
        Each target per year from its ``by`` year (:data:`~supplychain.simulation.targets.TARGET_COLUMNS`):
        ``target``, ``year``, ``country``, ``commodity``, ``metric``, ``source_country``, ``value``,
        ``bound`` (``max``: a ceiling, ``min``: a floor), ``threshold``, ``met`` (True/False; None when
        the measure is n/a or absent: never met), ``margin`` (threshold less value for a ceiling),
        ``status`` (the verdict as text: ``pass``, ``fail``, ``fail (shortfall)``, ``n/a``, ``no data``),
        ``shortfall_share``, ``reason``, ``variant``. The same two words everywhere: :func:`compare`'s
        ``target:<id>`` rows carry ``met`` as 1/0 (NaN: n/a), a sweep's ``target_probability()`` has
        ``bound`` and ``central_met``, ``toggle_grid(...).target_table()`` has ``met``.
    attribution : pandas.DataFrame
        Per edge and policy: blocked share and quantity (``baseline``, ``blocked``), cost per unit, exemptions
        (``exempted_by``: the agreements, comma-joined; NaN where none exempts).
    stocks : pandas.DataFrame
        Per stock market and year: ``level_start``, ``added`` (stock entering that year),
        ``releasable`` (what may be released that year), ``gap``, ``gap_over`` (the months the
        gap is spread over: ``year`` or e.g. ``Sep-Dec``), ``draw``, ``level_end``, ``demand``,
        ``cover_end_months`` (cover left at the end of the year), ``runs_out_after_months`` and
        ``runs_out_month`` (:mod:`supplychain.simulation.stocks`).
    toggles : pandas.DataFrame
        Resolved toggle states and which layer set each.
    solver : pandas.DataFrame
        Per year: seconds, simplex iterations, warm start, objective of each level.
    inactive : pandas.DataFrame
        Investment projects with ``capacity`` that the ``fixed`` response leaves idle (it keeps
        the baseline's trade pattern, which a new plant has no part in), per year; empty
        under ``rebalance``.
    offtakes : pandas.DataFrame
        Per year, each offtake with a quantity in force (``rebalance``; ``fixed`` has no offtakes):
        ``agreement``, ``offtake``, ``supplier``, ``buyer``, ``commodity``, ``unit``, ``committed``
        (quantity × year fraction in force), ``blocked`` (the part a ban on its route caps), ``can_make``
        (what its plant can make of the commodity that year; NaN for a country's market), ``floor`` (the
        commitment less ``blocked``, cut to its share of that) and ``cut`` (the part not banned that the plant
        cannot make): an offtake commits at most what its plant can make (``docs/rebalance.md``, "Variables").
    raised : pandas.DataFrame
        Country aggregates whose output the base network raised above their path after the base
        year, to meet demand the paths leave short (:mod:`supplychain.graph.spare`), per year:
        ``facility``, ``country``, ``commodity``, ``unit``, ``path`` (the given output), ``raised``
        (the output both responses start from), ``capacity`` and ``assumed`` (the capacity figure
        has no source); the same for every variant and response of a scenario; empty when no output
        was raised.
    """

    scenario: str
    variant: str
    mode: Mode
    allocation: str
    source: str
    years: tuple[int, ...]
    measures: pd.DataFrame
    flows: pd.DataFrame
    shortfall: pd.DataFrame
    utilisation: pd.DataFrame
    gainers: pd.DataFrame
    targets: pd.DataFrame
    attribution: pd.DataFrame
    stocks: pd.DataFrame
    toggles: pd.DataFrame
    solver: pd.DataFrame
    inactive: pd.DataFrame
    offtakes: pd.DataFrame
    raised: pd.DataFrame
    toggle_state: ToggleState = field(repr=False)
    _nodes: Mapping[int, pd.DataFrame] = field(repr=False, default_factory=dict)
    _yields: pd.DataFrame | None = field(repr=False, default=None)

    @classmethod
    def from_run(cls, scenario: Scenario, out: RunOutput, variant: str) -> Result:
        """Wrap a :class:`~supplychain.simulation.run.RunOutput`: public column names, each row's unit."""
        units = commodity_units(scenario)
        measures = lighter(no_value_as_na(public_measures(out.measures, units)))

        def public(name: str, table: pd.DataFrame) -> pd.DataFrame:
            return lighter(public_table(name, table, units))

        return cls(
            scenario=scenario.scenario.name, variant=variant, mode=out.mode, allocation=out.allocation,
            source=out.source, years=out.years,
            measures=measures, flows=public("flows", out.flows), shortfall=public("shortfall", out.shortfall),
            utilisation=public("utilisation", out.utilisation), gainers=public("gainers", out.gainers),
            targets=out.targets, attribution=no_value_as_na(public("attribution", out.attribution)),
            stocks=public("stocks", out.stocks), toggles=out.toggles.table(), solver=out.solver,
            inactive=public("inactive", out.inactive), offtakes=public("offtakes", out.offtakes),
            raised=public("raised", out.raised), toggle_state=out.toggles, _nodes=out.nodes, _yields=out.yields,
        )

    def graph(self, year: int) -> nx.MultiDiGraph:
        """Return the simulated network of ``year`` as a ``networkx.MultiDiGraph``.

        Edges carry the flow table's columns: ``simulated`` and ``baseline`` (in the
        edge's ``unit``) and ``status``; keyed by edge id.

        Raises
        ------
        ScenarioError
            ``year`` was not simulated.
        """
        from supplychain.graph.nxview import to_networkx

        nodes, f = self.tables(year)
        ends = set(f["supplier"]) | set(f["buyer"])
        nodes = nodes[nodes["node"].isin(ends) | (nodes["kind"] != "stock")]
        return to_networkx(nodes, f)

    def tables(self, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return the simulated node and edge tables of ``year``.

        The edges are the flow table's rows of the year: ``baseline`` and ``simulated`` in
        the edge's ``unit`` (functions written for the baseline tables of
        :func:`~supplychain.graph.build_tables` read them with ``weight="simulated"``, e.g.
        :func:`~supplychain.metrics.inputs.binding_inputs`).

        Raises
        ------
        ScenarioError
            ``year`` was not simulated (a ``ValueError``, with the years that were).
        """
        check_year(year, self.years)
        f = self.flows[self.flows["year"] == year].drop(columns=["year", "variant"]).reset_index(drop=True)
        return self._nodes[year], f

    def explain(self, country: str, commodity: str) -> pd.DataFrame:
        """Tonnes policies blocked on a country's direct imports of a commodity, by policy and year.

        Only the blocked part of the country's cross-border import edges: not its own plants
        curtailed because their inputs were blocked upstream, nor imports that fell without a
        block (supplier short, re-allocated), nor changes in its exports, so the rows need not add
        up to the country's shortfall. Every source with its whole change and cause is :meth:`losses`; the
        shortfall itself is :attr:`shortfall`.

        Parameters
        ----------
        country : str
            Importing country (code: ``JP``).
        commodity : str
            Commodity id.

        Returns
        -------
        pandas.DataFrame
            ``year``, ``policy``, ``policy_type``, ``imposed_by``, ``unit``, ``baseline`` (imports
            on the affected edges), ``blocked``, ``share_of_imports`` (of all the
            country's baseline imports of the commodity) and ``exempted_by``; one row per
            policy and year, so ``blocked`` sums across rows.

        Raises
        ------
        ScenarioError
            ``country`` or ``commodity`` is not one of the result's (with a did-you-mean:
            ``Japan`` → ``JP``, ``magnets`` → ``ndfeb_magnet``).
        """
        self.check_country(country)
        self.check_commodity(commodity)
        a = self.attribution
        a = a[(a["buyer_country"] == country) & (a["commodity"] == commodity)]
        cols = ["year", "policy", "policy_type", "imposed_by", "unit", "baseline", "blocked", "share_of_imports",
                "exempted_by"]
        if a.empty:
            return pd.DataFrame(columns=cols)
        g = a.groupby(["year", "policy", "policy_type", "imposed_by", "unit"], sort=True).agg(
            baseline=("baseline", "sum"), blocked=("blocked", "sum"),
            exempted_by=("exempted_by", lambda s: ",".join(sorted({x for v in s if isinstance(v, str)
                                                                 for x in v.split(",") if x})) or np.nan),
        ).reset_index()
        fl = self.flows
        imp = fl[(fl["buyer_country"] == country) & (fl["commodity"] == commodity)
                 & (fl["supplier_country"] != fl["buyer_country"])].groupby("year")["baseline"].sum()
        g["share_of_imports"] = g["blocked"] / g["year"].map(imp).where(lambda s: s > 0)
        return g[cols].sort_values(["year", "blocked"], ascending=[True, False]).reset_index(drop=True)

    def losses(self, country: str, commodity: str, year: int | None = None) -> pd.DataFrame:
        r"""Lost from whom: each source (and use) of a country's supply of a commodity, with its change and cause.

        One row per supplier country, per plant of the country (``domestic``) and stock draw
        (``side`` ``supply``), and per use: ``final use``, the country's ``plants``, each export
        destination, stock built, surplus, unsold (``side`` ``use``), each with ``baseline``,
        ``simulated``, ``change``, the tonnes policies ``blocked`` and the ``cause`` (a policy id,
        ``upstream input`` for a plant curtailed because an input was cut, ``supplier short``,
        ``re-allocated``, ``re-routed``, ``deal``, ``shortfall`` …: :data:`supplychain.simulation.losses.CAUSES`).
        Per year the supply rows' changes add up to the change in the country's delivered supply,
        which equals the use rows' changes:

        .. math::

            \sum_{\text{supply}} \Delta = \Delta\,\text{final use} + \Delta\,\text{plant inputs}
            + \Delta\,\text{exports} + \Delta\,\text{stock built} + \Delta\,\text{surplus} + \Delta\,\text{unsold},

        where :math:`\Delta\,\text{final use}` is minus the country's shortfall (:attr:`shortfall`):
        a short country that re-exports more lost less from its sources than its users did
        (:func:`supplychain.simulation.losses.supply_losses`).

        Parameters
        ----------
        country : str
            Country code.
        commodity : str
            Commodity id.
        year : int, optional
            One of the simulated years (default every simulated year).

        Returns
        -------
        pandas.DataFrame
            ``year``, ``country``, ``commodity``, ``unit``, ``side``, ``counterpart``, ``facility``,
            ``baseline``, ``simulated``, ``change``, ``blocked``, ``cause``; biggest loss first per side.

        Raises
        ------
        ScenarioError
            An unknown country or commodity, or a ``year`` that was not simulated or is no year
            (``"2025"``), each located ``argument NAME=`` (:mod:`supplychain.arguments`).

        Examples
        --------
        >>> import supplychain as sc                                                   # doctest: +SKIP
        >>> r = sc.simulate("scenarios/china_full_ban_2025.yaml", variant="full_ban")  # doctest: +SKIP
        >>> r.losses("US", "ndfeb_magnet", 2030).groupby("side")["change"].sum()       # doctest: +SKIP
        """
        from supplychain.simulation.losses import supply_losses

        self.check_country(country)
        self.check_commodity(commodity)
        if year is not None:
            year = check_year(year, self.years)
        return supply_losses(self.flows, self.attribution, country, commodity, year)

    def measure(self, metric: str, country: str, commodity: str, partner: str | None = None) -> pd.Series:
        """Return one measure per simulated year: a Series indexed by ``year``.

        The row of :attr:`measures` for each year with this ``metric``, ``country`` and
        ``commodity`` (an element key — ``NdPr``, ``Dy`` — for the element measures), and
        ``partner`` (missing, NaN, by default: the country's own measure, not a per-partner one).
        A year without the measure is absent; a share of nothing is NaN (``docs/outputs.md``).

        Parameters
        ----------
        metric : str
            A measure of ``docs/measures.md`` (``exposed_share``, ``shortfall_share`` …).
        country : str
            Country code.
        commodity : str
            Commodity id, or element key for the ``element_*`` measures.
        partner : str, optional
            The partner of a per-partner measure (``import_share`` of ``CN`` …).

        Returns
        -------
        pandas.Series
            ``value`` by ``year``, named ``metric``.

        Raises
        ------
        ScenarioError
            An unknown measure, country, or commodity of the result's measures (did-you-mean),
            or a per-partner measure asked for without ``partner``.

        Examples
        --------
        >>> import supplychain as sc                                                   # doctest: +SKIP
        >>> r = sc.simulate("scenarios/china_full_ban_2025.yaml", variant="full_ban")  # doctest: +SKIP
        >>> r.measure("exposed_share", "US", "ndfeb_magnet").loc[2030]                 # doctest: +SKIP
        """
        check_metrics([metric], "metric")
        self.check_country(country)
        m = self.measures
        problem = check_name("commodity", commodity, frozenset(str(c) for c in m["commodity"].unique()),
                             "commodity or element")
        if problem is not None:
            raise ScenarioError([problem])
        pair = m[(m["metric"] == metric) & (m["country"] == country) & (m["commodity"] == commodity)]
        partners = sorted(str(x) for x in pair["partner"].dropna().unique())
        if partner is not None and (problem := check_name("partner", partner, frozenset(partners), "partner")):
            raise ScenarioError([problem])
        rows = pair[pair["partner"].isna()] if partner is None else pair[pair["partner"] == partner]
        if partner is None and partners and (rows.empty or rows["year"].duplicated().any()):
            raise argument_error("partner", f"{metric} of {country} {commodity} has one row per partner and year",
                                 f"give partner=, one of {', '.join(partners)}")
        return pd.Series(rows["value"].to_numpy(), index=pd.Index(rows["year"].to_numpy(), name="year"), name=metric)

    def check_country(self, code: str, argument: str = "country") -> None:
        """Raise a :class:`ScenarioError` unless ``code`` is a country (or region) of this result's tables.

        The hint reads the common mistakes as :func:`~supplychain.schema.countries.code_hint`
        does for ``compare(countries=…)``: a name (``Japan`` → ``JP``), an alpha-3 code, lower case.
        """
        known = self._countries
        if code in known:
            return
        listed = ", ".join(sorted(known))
        hint = code_hint(str(code), known, f"the countries and regions of this result: {listed}")
        raise argument_error(argument, f"{code!r} is no country or region of this result", hint)

    def check_commodity(self, commodity: str, argument: str = "commodity") -> None:
        """Raise a :class:`ScenarioError` unless ``commodity`` is a commodity of this result (with a did-you-mean)."""
        problem = check_name(argument, commodity, self._commodities, "commodity")
        if problem is not None:
            raise ScenarioError([problem])

    @cached_property
    def _countries(self) -> frozenset[str]:
        """Every country and region in the flows, shortfall and utilisation tables."""
        f, s, u = self.flows, self.shortfall, self.utilisation
        cols = [f.get("supplier_country"), f.get("buyer_country"), s.get("country"), u.get("country")]
        return frozenset(str(c) for col in cols if col is not None for c in col.unique())

    @cached_property
    def _commodities(self) -> frozenset[str]:
        """Every commodity in the flows and shortfall tables."""
        cols = [self.flows.get("commodity"), self.shortfall.get("commodity")]
        return frozenset(str(c) for col in cols if col is not None for c in col.unique())

    def shipped_while_short(self) -> pd.DataFrame:
        """List the exports of a commodity, or of its feeds, from a country in a year its own users of it are short.

        Per year, country, commodity, destination and flow status: the tonnes shipped, with
        the country's demand, shortfall and shortfall share
        (:func:`supplychain.simulation.shipped.shipped_while_short`); a row of a feed (what the
        country's plants running that year turn into the short commodity,
        :func:`~supplychain.simulation.shipped.feeds_table`) names the short commodity in ``feed_of``.
        It says why a country can be short and a net exporter in the same year, and where those tonnes went.
        """
        return self._shipped.copy()

    @cached_property
    def _shipped(self) -> pd.DataFrame:
        """:meth:`shipped_while_short`, worked out once (the report reads it per answer, section and sheet)."""
        feeds = feeds_table(self._yields, self.utilisation) if self._yields is not None else None
        return shipped_while_short(self.flows, self.shortfall, feeds)

    def world_balance(self) -> pd.DataFrame:
        r"""Return the world's balance of each commodity with users, per year: demand, delivered, shortfall.

        :func:`supplychain.simulation.world.world_balance` of :attr:`shortfall`: per ``variant``,
        ``year`` and ``commodity`` (with its ``unit``), :math:`D = \sum_u D_u`, what reaches the
        users :math:`S = \sum_u (D_u - z_u)`, :math:`Z = D - S` and :math:`Z / D`. Under ``rebalance``
        with any rule but ``home_first``, :math:`Z > 0` is the world's shortage under the run's bans
        and capacities, and where the users draw only on the commodity's own supply the rule decides
        who bears it, not its size; under ``fixed`` (and ``home_first``) :math:`Z` is what the users
        lack, part of which may be supply the kept pattern strands (docs/outputs.md, "World balance").
        """
        return world_balance(self.shortfall)

    def summary(self) -> pd.DataFrame:
        """Total shortfall per year, country and commodity with any (rows with shortfall only), in its unit."""
        s = self.shortfall
        s = s[s["shortfall"] > 0]
        return s.groupby(["year", "country", "commodity", "unit"], sort=True)[["demand", "shortfall"]].sum().assign(
            shortfall_share=lambda d: shortfall_share(d["shortfall"], d["demand"])).reset_index()

    def draw(self, year: int | None = None, *, country: str | None = None,
             commodity: str | Sequence[str] | None = None, baseline: bool = False, max_nodes: int = 60) -> Picture:
        """Draw one simulated year's network, shown inline in a notebook (the report's pictures).

        Nodes are coloured by the traced share of :attr:`source`, line width grows with
        the quantity; flows the response changed are marked against the baseline
        (blocked dashed blue, deal and new flows green), unless ``baseline``.

        Parameters
        ----------
        year : int, optional
            Year to draw (default: the last simulated year).
        country : str, optional
            Keep this country's nodes unfolded and, without ``commodity``, draw the
            chains of every commodity it has final demand of; with one ``commodity``,
            draw only what ends in the country's use of it (the report's chain picture).
        commodity : str or sequence of str, optional
            Draw only this commodity's chain (upstream and downstream of it).
        baseline : bool
            Draw the network before any policy or deal instead of the changes.
        max_nodes : int
            Fold plants and small flows beyond this many nodes.

        Returns
        -------
        supplychain.report.notebook.Picture
            Displayed as SVG by Jupyter; ``.save("net.svg")`` (or ``.png``, ``.dot``) writes it.

        Raises
        ------
        ScenarioError
            ``year`` was not simulated, ``country`` or ``commodity`` is not one of the result's
            (with a did-you-mean, as :meth:`explain`), or ``country`` has no final demand and no
            ``commodity`` is given.
        ValueError
            ``country`` has no use (or pool) of ``commodity``.
        """
        from supplychain.report.notebook import draw

        return draw(self, year, country=country, commodity=commodity, baseline=baseline, max_nodes=max_nodes)

    def _repr_html_(self) -> str:
        from supplychain.report.notebook import result_html

        return result_html(self)

    def __repr__(self) -> str:
        n_short = int((self.shortfall["shortfall"] > 0).sum()) if not self.shortfall.empty else 0
        return (f"Result(scenario={self.scenario!r}, variant={self.variant!r}, mode={self.mode!r}, "
                f"allocation={self.allocation!r}, "
                f"years={self.years[0]}–{self.years[-1]}, flows={len(self.flows)}, "
                f"shortfall_rows={n_short}, targets={len(self.targets)})")


def public_measures(measures: pd.DataFrame, units: Mapping[str, str]) -> pd.DataFrame:
    """Return a run's measures as :attr:`Result.measures` has them: ``shortfall_share`` on its commodity's basis.

    ``units``: each commodity's unit (:func:`~supplychain.schema.units.commodity_units`; ``t`` when absent).
    A sweep's per-sample measures (:class:`~supplychain.uncertainty.models.SimulateMeasures`) go through here too.
    """
    if measures.empty:
        return measures
    short = np.flatnonzero(measures["metric"].to_numpy() == "shortfall_share")  # a share of demand
    basis = measures["basis"].to_numpy(dtype=object, copy=True)
    basis[short] = [units.get(str(c), "t") for c in measures["commodity"].to_numpy()[short].tolist()]
    return measures.assign(basis=basis)


NO_VALUE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "measures": ("stage", "partner", "label", "source_country"),
    "attribution": ("exempted_by",),
}
"""Columns of :class:`Result`'s frames where "no value" is missing (NaN), not the empty string the run's tables keep:
a measure without a partner, label, source or stage (an element's), an edge no agreement exempts."""


def no_value_as_na(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with the empty strings of its :data:`NO_VALUE_COLUMNS` as NaN (missing).

    The run's tables keep ``''`` (the engine compares strings); a notebook reads "no value"
    as missing — ``isna()``, ``dropna``, an empty cell in CSV, ``null`` in JSON — and a
    ``pivot_table`` or ``groupby`` leaves such rows out of per-partner groups rather than
    mixing them in. Only the listed columns change, in whichever of them ``table`` has.

    Examples
    --------
    >>> t = pd.DataFrame({"metric": ["import_share", "exposed_share"], "partner": ["CN", ""], "label": ["", "E"]})
    >>> no_value_as_na(t).isna().sum().tolist()
    [0, 1, 1]
    """
    names = {c for cols in NO_VALUE_COLUMNS.values() for c in cols if c in table.columns}
    if not names or table.empty:
        return table
    change = {}
    for c in sorted(names):
        values = table[c].to_numpy(dtype=object, copy=True)
        values[values == ""] = np.nan  # one NaN object for every missing cell (Series.mask makes one per cell)
        change[c] = values
    return table.assign(**change)


def lighter(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with one string object per distinct value of each text column (values and dtypes kept).

    A run's text columns hold a separate ``str`` for each cell; pointing the cells of one value
    at one object keeps every value, ``object`` dtype and behaviour and drops the copies. On
    ``path_to_2030``'s ``full_ban_all_deals`` (7 December 2026) a :class:`Result`'s frames hold
    3.1 MB of objects (measures 2.4 MB) before and 1.6 MB (1.1 MB) after, and the Result pickles
    to 1.02 MB rather than 1.75 MB (pickle writes a shared object once: joblib, Dask and worker
    processes send less). ``DataFrame.memory_usage(deep=True)`` hardly sees it: it counts a string
    once per cell (10.6 MB for the frames before, 10.0 MB after). Not ``category``: with pandas 2 a
    ``groupby``/``pivot_table`` over a categorical column warns unless given ``observed=``, and
    ``fillna("")`` on one fails unless ``''`` is a category — in a notebook as in the report's code.

    Examples
    --------
    >>> t = pd.DataFrame({"country": ["".join(["U", "S"]) for _ in range(3)], "value": [1.0, 2.0, 3.0]})
    >>> t["country"].iloc[0] is t["country"].iloc[1]
    False
    >>> out = lighter(t)
    >>> out["country"].iloc[0] is out["country"].iloc[1], out.equals(t)
    (True, True)
    """
    change: dict[str, Any] = {}
    for name in table.columns:
        col = table[name]
        if col.dtype != object or pd.api.types.infer_dtype(col, skipna=True) not in ("string", "empty"):
            continue
        codes, uniques = pd.factorize(col)
        if not len(uniques):  # every value missing: nothing to share
            continue
        values = np.asarray(uniques, dtype=object).take(np.maximum(codes, 0))
        missing = codes < 0
        if missing.any():
            values[missing] = col.to_numpy(dtype=object)[missing]
        change[name] = values
    return table.assign(**change) if change else table


def simulate(
    scenario: Scenario | str | Path,
    *,
    years: Sequence[int] | None = None,
    source: str | None = None,
    toggles: Mapping[str, bool] | None = None,
    variant: str | None = None,
    mode: Mode = "rebalance",
    options: Mapping[str, Any] | None = None,
    objective: Objective = "lexicographic",
    blocks: bool | int = False,
    allocation: Rule | None = None,
    metrics: Sequence[str] | None = None,
) -> Result:
    """Simulate a scenario year by year, base year to horizon.

    Parameters
    ----------
    scenario : Scenario or path
        A validated scenario (:func:`load`), or the path of a scenario file to load.
    years : sequence of int, optional
        Years to simulate (default: ``scenario.years``).
    source : str, optional
        Country or group exposure is measured to (default: the scenario's
        ``scenario.source_country``, as ``run`` and ``sweep`` take it).
    toggles : mapping of str to bool, optional
        Toggle overrides; they win over the variant and the file defaults. ``True``/``False``,
        or ``"on"``/``"off"`` as on the command line (anything else is an error, never read
        as Python's truthiness: :func:`~supplychain.simulation.toggles.toggle_flag`).
    variant : str, optional
        A named variant of the scenario.
    mode : {"rebalance", "fixed"}
        ``rebalance`` re-routes through a linear programme (HiGHS); ``fixed`` keeps
        trade patterns and loses blocked tonnes.
    options : mapping, optional
        HiGHS options for the LP.
    objective : {"lexicographic", "weighted"}
        ``lexicographic`` (default): one solve per priority level, exact;
        ``weighted``: one solve with weights 1 : 10⁻² : 10⁻³ : 10⁻⁴ on the
        normalised levels, faster to re-solve warm (see ``docs/rebalance.md``).
    blocks : bool or int
        Solve the LP one independent block (commodity chain) at a time
        (:class:`~supplychain.simulation.blocks.BlockRebalance`; same optima, faster
        on networks of many unlinked chains); an int > 1 also solves blocks on that
        many threads. Default off.
    allocation : {"contracts_first", "home_first", "proportional", "max_delivery"}, optional
        Who goes short when supply is scarce (``docs/rebalance.md``, "Allocation rules");
        default the scenario's ``response.allocation`` (``contracts_first`` unless it says otherwise).
    metrics : sequence of str, optional
        Compute only these measures, and those the scenario's targets read (default: every
        measure; the shortfall rows are always there). Faster when only a few are needed
        (a sweep keeps a few): the origin decompositions and the element tracing are skipped
        unless one of their measures is asked for. The numbers are the same. Each name must
        be a measure of ``docs/measures.md``
        (:data:`~supplychain.metrics.measures.METRIC_IDS`; a typo is an error with a did-you-mean).

    Returns
    -------
    Result

    Raises
    ------
    ScenarioError
        A wrong argument, located ``argument NAME=``: unknown toggle, variant, measure,
        ``mode`` or ``allocation`` names, a toggle state that is no on/off, a ``source`` that is
        no country, region or group of the scenario (each with a did-you-mean hint: ``China`` →
        ``CN``), ``years`` before the base year, or after the horizon where the scenario's
        markets do not balance (one problem naming ``horizon:``,
        :func:`~supplychain.arguments.after_horizon`); or nothing to simulate (no facilities,
        flows, imports, demand or stockpiles).
    SolverError
        The LP is infeasible (naming the conflicting constraints) or HiGHS fails.
    """
    scenario, source, metrics = _checked_call(scenario, mode=mode, source=source, metrics=metrics)
    (out,) = run_variants(scenario, [(variant, toggles)], mode=mode, years=years, source=source, options=options,
                          objective=objective, blocks=blocks, allocation=allocation, metrics=metrics)
    return Result.from_run(scenario, out, run_label(variant, toggles))


def _checked_call(scenario: Scenario | str | Path, *, mode: Mode, source: str | None, metrics: Sequence[str] | None
                  ) -> tuple[Scenario, str, tuple[str, ...] | None]:
    """Check :func:`simulate`'s, :func:`compare`'s and :func:`simulate_many`'s shared arguments, in this order.

    ``mode`` a known mode, ``metrics`` known (:func:`check_metrics`), the scenario loaded
    (:func:`~supplychain.io.load.as_scenario`), ``source`` (default the scenario's) a known code.
    Returns the scenario, the source and the checked metrics.
    """
    check_choice("mode", mode, MODES)
    checked = check_metrics(metrics)
    scenario = as_scenario(scenario)
    source = source or scenario.scenario.source_country
    require_codes(scenario, [source], ("source",))
    return scenario, source, checked


def _grid(scenario: Scenario, names: Sequence[str]) -> list[tuple[str, dict[str, bool]]]:
    unknown = [n for n in names if n not in scenario.toggles]
    if unknown:
        from supplychain.simulation.toggles import _unknown

        raise ScenarioError([_unknown(n, scenario.toggles, "toggle", ("toggles_grid", n)) for n in unknown])
    out = []
    for states in itertools.product((False, True), repeat=len(names)):
        setting = dict(zip(names, states, strict=True))
        label = ",".join(f"{n}={'on' if v else 'off'}" for n, v in setting.items())
        out.append((label, setting))
    return out


def _compare_runs(
    scenario: Scenario, variants: Sequence[str] | None = None, toggles_grid: Sequence[str] | None = None,
) -> list[tuple[str, tuple[str | None, dict[str, bool] | None]]]:
    """Return the runs :func:`compare` simulates, labelled, as ``(label, (variant, toggles))``.

    Every on/off combination of ``toggles_grid`` when it is given, else ``variants``
    (default: ``base`` plus every variant of the scenario); ``base`` is the variant ``None``.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "toggles": {"deal": {"default": False, "controls": ["cn_ban"]}},
    ...     "variants": {"v": {"toggles": {"deal": True}}}})
    >>> _compare_runs(s)
    [('base', (None, None)), ('v', ('v', None))]
    >>> _compare_runs(s, toggles_grid=["deal"])
    [('deal=off', (None, {'deal': False})), ('deal=on', (None, {'deal': True}))]
    """
    if toggles_grid is not None:
        return [(label, (None, setting)) for label, setting in _grid(scenario, toggles_grid)]
    names = list(variants) if variants is not None else ["base", *sorted(scenario.variants)]
    problems = [p for v in names if v != "base"
                and (p := check_name("variants", v, scenario.variants, "variant")) is not None]
    if problems:
        raise ScenarioError(problems)
    return [(v, (None if v == "base" else v, None)) for v in names]


class _Headline(NamedTuple):
    """What :func:`compare` keeps of one run, computed where the run was simulated (:func:`_headline_rows`).

    Each table's ``variant`` is the run's label (the run was simulated under it).
    """

    rows: pd.DataFrame
    """The table's rows: ``variant``, ``year``, ``country``, ``commodity``, ``metric``, ``value``, ``reason`` (an
    n/a target's reason, else empty)."""
    world: pd.DataFrame
    """Per ``variant``, ``year`` and ``commodity``: the world's ``shortfall`` and the tonnes ``blocked``
    (:func:`~supplychain.report.exposure_falls.world_shortfall`; NaN for a commodity without trade)."""
    inflows: pd.DataFrame
    """Each table country's simulated imports by partner: :data:`~supplychain.simulation.world.INFLOW_COLUMNS`
    (:func:`~supplychain.simulation.world.flow_sums`)."""
    solver: dict[str, float | int]
    """``{"seconds", "iterations"}`` summed over the years."""


def _headline_rows(
    position: int,
    out: RunOutput,
    *,
    metrics: Sequence[str],
    pairs: set[tuple[str, str]],
    focus: Sequence[str],
    countries: bool,
) -> _Headline:
    """:func:`compare`'s rows of one run, the world's and inflow tables of its exposure note, and the solver's work.

    Parameters
    ----------
    position : int
        The run's position (unused: each table carries the run's label).
    out : RunOutput
        The run (``Simulator(outputs="headline")``: its trade sums in :attr:`RunOutput.trade`).
    metrics
        The measures to keep.
    pairs : set of (str, str)
        The targets' (country, commodity) pairs.
    focus : sequence of str
        Focus countries (:func:`focus_countries`).
    countries : bool
        Whether the focus was asked for (then every pair of a focus country with final
        demand or an element key is kept, and only the focus countries' targets).

    Returns
    -------
    _Headline
        The rows, the world and inflow tables (the inflows of the countries of the rows alone: the note's),
        and the solver's work.
    """
    m = out.measures
    m = m[m["metric"].isin(list(metrics))]
    demand = {(c, k) for c, k in zip(out.shortfall["country"], out.shortfall["commodity"], strict=True)}
    demand |= {(c, k) for c, k, x in zip(m["country"], m["commodity"], m["metric"], strict=True)
               if x.startswith("element_")}
    keep = {(c, k) for c, k in demand | pairs if c in focus} if countries else pairs or demand
    m = m[np.array([k in keep for k in zip(m["country"], m["commodity"], strict=True)], dtype=bool)]
    rows = m[["variant", "year", "country", "commodity", "metric", "value"]].assign(reason="")
    t = out.targets
    if not t.empty:
        t = t[t["country"].isin(focus)] if countries else t
        rows = pd.concat([rows, pd.DataFrame({
            "variant": t["variant"], "year": t["year"], "country": t["country"], "commodity": t["commodity"],
            "metric": "target:" + t["target"].astype(str),
            "value": t["met"].map({True: 1.0, False: 0.0}).astype(float),
            "reason": t["reason"].where(t["status"] == "n/a", "").astype(str),
        })], ignore_index=True)
    world = world_shortfall(public_table("shortfall", out.shortfall, {}), None if out.trade is None
                            else out.trade.blocked)  # the note's S and B per year and commodity, one implementation
    if out.trade is None or out.trade.blocked.empty:
        inflows = pd.DataFrame(columns=INFLOW_COLUMNS)
    else:
        inflows = out.trade.inflows
        inflows = inflows[inflows["country"].isin({c for c, _ in keep})].reset_index(drop=True)  # the note's
    work = out.solver
    return _Headline(rows, world, inflows, {
        "seconds": float(work["seconds"].sum()) if "seconds" in work.columns else 0.0,
        "iterations": int(work["iterations"].sum()) if "iterations" in work.columns else 0,
    })


def focus_countries(scenario: Scenario, countries: Sequence[str] | None = None) -> list[str]:
    """Countries a table puts first: those asked for (groups and regions as their members), else the targets', else US.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    countries : sequence of str, optional
        Country, region or group codes (checked: an unknown code is an error with a did-you-mean).

    Returns
    -------
    list of str
        Country codes in the order given (a group's members sorted), else the targets'
        countries sorted, else ``["US"]`` (the question the tool was built for).

    Raises
    ------
    ScenarioError
        An unknown code.
    """
    from supplychain.metrics.measures import resolve_source
    from supplychain.report.headline import default_focus

    if not countries:
        return default_focus(t.country for t in scenario.targets.values())
    require_codes(scenario, countries, ("countries",))
    universe = set(scenario.countries) | {f.country for f in scenario.facilities.values()} | {
        d.country for d in scenario.demand.values()}
    out: list[str] = []
    for c in countries:
        members = sorted(resolve_source(scenario, c, universe)) if c in scenario.groups else [c]
        out += [m for m in members if m not in out]
    return out


def compare(
    scenario: Scenario | str | Path,
    variants: Sequence[str] | None = None,
    *,
    toggles_grid: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
    countries: Sequence[str] | None = None,
    mode: Mode = "rebalance",
    metrics: Sequence[str] = COMPARE_METRICS,
    options: Mapping[str, Any] | None = None,
    objective: Objective = "lexicographic",
    blocks: bool | int = True,
    allocation: Rule | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Headline measures of several variants side by side, re-using the compiled model.

    The runs are cut into a few groups that depend on the runs alone
    (:func:`~supplychain.simulation.groups.split_runs`: up to 4 per world, of at least 2
    runs). Each group is simulated whole, by one worker process when ``workers`` ≠ 1
    (:func:`~supplychain.parallel.executors.map_in_order`, the groups with the most runs to
    simulate handed out first), year by year (every variant
    of a year, then the next year: :meth:`~supplychain.simulation.run.Simulator.run_many`),
    each variant with its own stocks, so each re-solve starts from the same year with other
    toggles; each variant's results are those of :func:`simulate` for it, up to the
    solver's round-off (the same vertex reached from another basis; the bundled scenarios'
    shares within 5e-12: :mod:`~supplychain.simulation.groups`). The table is the same, bit
    for bit, for any ``workers``. Variants whose toggles switch off
    different facilities, flows, stockpiles or offtakes are simulated in their own worlds
    (:func:`~supplychain.simulation.variants.run_variants`).

    Parameters
    ----------
    scenario : Scenario or path
        The scenario (:func:`load`), or the path of a scenario file to load.
    variants : sequence of str, optional
        Named variants to run (default: ``base`` plus every variant of the scenario).
    toggles_grid : sequence of str, optional
        Toggle names; every on/off combination is run (2ⁿ runs), labelled
        ``name=on,other=off``. Exclusive with ``variants``.
    years, source, mode, options, objective, allocation
        As in :func:`simulate`.
    blocks : bool or int, default True
        As in :func:`simulate`, but on by default: a group re-solves each year for each of
        its variants, and a block (commodity chain) that a variant leaves unchanged is not
        solved again, nor rationed round by round with the others' users
        (:class:`~supplychain.simulation.blocks.BlockRebalance`; the same optima, shares
        within 1e-11 of one LP's on the bundled scenarios; ``path_to_2030`` about 10 % less
        CPU). ``False``: one LP.
    countries : sequence of str, optional
        Focus: only these countries (codes, or groups and regions of the scenario),
        every commodity they have final demand of, in the order given; default: the
        pairs of the scenario's targets, else every pair with final demand, the
        targets' countries (else the US) first.
    metrics : sequence of str
        Measures to report (default :data:`COMPARE_METRICS`: the exposed, traced, direct
        import and shortfall shares, and the element measures).
    workers : int, default 1
        Local worker processes sharing the groups: 1 = in this process, 0 = one per
        usable CPU, never more than the groups. A script that uses more than one must
        start under ``if __name__ == "__main__":`` (each worker imports it again; without
        the guard, the groups run in this process, with a
        :class:`~supplychain.errors.SupplyChainWarning` at the script's line).

    Returns
    -------
    pandas.DataFrame
        A tidy table: ``variant``, ``year``, ``country``, ``commodity``, ``metric``,
        ``value`` (a share) — for the (country, commodity) pairs chosen (``countries``;
        without targets, every pair with final demand and every country × element key
        with an ``element_dependence``) — plus one ``target:<id>`` row per target and year
        (``value``: the target's ``met`` as 1 met, 0 not; NaN n/a). Rows are sorted by variant,
        year, focus countries first, commodity, metric. The solver's work is in ``table.attrs["solver"]``: per
        variant, ``seconds`` and simplex ``iterations`` summed over its years (empty
        under ``fixed``; 0 for a variant with the same policies and agreements in force as
        an earlier one of its group, which is simulated once:
        :meth:`~supplychain.simulation.run.Simulator.run_many`). A target row whose measure is n/a
        (status ``n/a``: value NaN) has its reason, read from the measure's label (a net exporter "E", "use not
        recorded" …: :func:`~supplychain.simulation.targets.verdict_reason`), in
        ``table.attrs["not_evaluable"]``, keyed ``(variant, year, "target:<id>")``. Runs whose
        toggles put the same policies and agreements in force and switch off the same
        entities — ``base`` (the file's defaults) and the variant that repeats them, e.g.
        ``framework`` in ``us_japan_framework.yaml`` — are listed in
        ``table.attrs["same_toggles"]`` as tuples of labels (:func:`same_toggles`): their
        numbers are the same case. The world's shortfall per variant, year and commodity
        (``shortfall``, summed over countries, in the commodity's unit) and the tonnes the policies
        blocked (``blocked``) are in ``table.attrs["world_shortfall"]``: by them
        :mod:`supplychain.report.exposure_falls` decides which variant is harsher (the note
        ``supplychain compare`` prints under its table); ``table.attrs["inflows"]`` holds each
        country's simulated imports by partner (``variant``, ``year``, ``country``, ``commodity``,
        ``supplier``, ``tonnes``), by which the note names the supplier that replaced blocked supply.

    Raises
    ------
    ScenarioError
        Both ``variants`` and ``toggles_grid`` given, unknown variant, toggle, measure,
        ``mode`` or ``allocation`` names, years as :func:`simulate` refuses them, or an unknown
        country code in ``source`` or ``countries`` (each with a did-you-mean; as :func:`simulate`).
    RuntimeError
        Worker processes that stopped unexpectedly
        (:func:`~supplychain.parallel.executors.broken_pool_message`).
    """
    scenario, source, checked, labelled = _labelled_runs(scenario, variants, toggles_grid, mode=mode, source=source,
                                                         metrics=metrics, twice="run compare twice")
    metrics = checked or ()
    focus = focus_countries(scenario, countries)
    labels = [label for label, _run in labelled]
    headline = partial(_headline_rows, metrics=tuple(metrics),
                       pairs={(t.country, t.commodity) for t in scenario.targets.values()}, focus=focus,
                       countries=bool(countries))
    done, states = _run_grouped(scenario, labelled, headline, mode=mode, workers=workers, options={
        "years": years, "source": source, "options": options, "objective": objective, "blocks": blocks,
        "allocation": allocation, "metrics": tuple(metrics), "outputs": "headline"})
    solver = {label: part.solver for label, part in zip(labels, done, strict=True)}
    table = pd.concat([part.rows for part in done], ignore_index=True)
    world = _stacked([part.world for part in done], ["variant", "year", "commodity", "shortfall", "blocked"])
    inflows = _stacked([part.inflows for part in done], INFLOW_COLUMNS)
    rank = {c: i for i, c in enumerate(focus)}
    table = table.assign(_focus=table["country"].map(rank).fillna(len(rank)))
    table = table.sort_values(["variant", "year", "_focus", "country", "commodity", "metric"], kind="stable").drop(
        columns="_focus").reset_index(drop=True)
    na = table[table["reason"] != ""]
    reasons = {(str(v), int(y), str(k)): str(r)
               for v, y, k, r in zip(na["variant"], na["year"], na["metric"], na["reason"], strict=True)}
    table = table.drop(columns="reason")
    table.attrs["solver"] = solver
    table.attrs["not_evaluable"] = reasons
    table.attrs["same_toggles"] = _same_cases(labels, states)
    table.attrs["world_shortfall"] = world
    table.attrs["inflows"] = inflows
    return table


def _stacked(frames: Sequence[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Stack one table per run (each with its run's label as ``variant``) in ``columns``, runs without rows skipped."""
    parts = [f for f in frames if len(f)]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _labelled_runs(
    scenario: Scenario | str | Path,
    variants: Sequence[str] | None,
    toggles_grid: Sequence[str] | None,
    *,
    mode: Mode,
    source: str | None,
    metrics: Sequence[str] | None,
    twice: str,
) -> tuple[Scenario, str, tuple[str, ...] | None, list[tuple[str, tuple[str | None, dict[str, bool] | None]]]]:
    """Check :func:`compare`'s and :func:`simulate_many`'s arguments; return the scenario, source, metrics, runs.

    ``variants`` or ``toggles_grid`` (not both; ``twice`` is the hint), then the arguments every
    simulation checks (:func:`_checked_call`), then the labelled runs (:func:`_compare_runs`).
    """
    if variants is not None and toggles_grid is not None:
        raise ScenarioError([argument_problem("variants", "give either variants or toggles_grid, not both", twice)])
    scenario, source, checked = _checked_call(scenario, mode=mode, source=source, metrics=metrics)
    return scenario, source, checked, _compare_runs(scenario, variants, toggles_grid)


def _run_grouped(
    scenario: Scenario,
    labelled: Sequence[tuple[str, tuple[str | None, dict[str, bool] | None]]],
    reduce: Callable[[int, RunOutput], _T],
    *,
    mode: Mode,
    workers: int,
    options: Mapping[str, Any],
) -> tuple[list[_T], list[ToggleState]]:
    """Simulate labelled runs in :func:`~supplychain.simulation.groups.split_runs` groups; ``reduce`` each output.

    The one way :func:`compare` and :func:`simulate_many` run several variants: each group on one
    compiled model (:func:`~supplychain.simulation.groups.run_group`), on ``workers`` processes
    (:func:`~supplychain.parallel.executors.map_in_order`, the groups with the most distinct cases
    first), each run's tables under its label (``variant``). Returns ``reduce(i, output of run i)`` for
    every run in order, and the runs' resolved toggles.
    """
    from supplychain.parallel.executors import map_in_order
    from supplychain.simulation.groups import run_group, split_runs

    runs = [run for _label, run in labelled]
    task = partial(run_group, scenario, runs, reduce, mode=mode, options=options,
                   labels=[label for label, _run in labelled])  # a grid's run comes out named, not "custom"
    groups = split_runs(scenario, runs)
    # a group's work: its runs that are distinct cases (each simulated once, run_key); largest first
    states = [resolve_toggles(scenario, variant=v, overrides=t) for v, t in runs]
    outs = map_in_order(task, groups, workers, cost=lambda g: len({run_key(states[i]) for i in g}))
    done = {i: part for positions, parts in zip(groups, outs, strict=True)
            for i, part in zip(positions, parts, strict=True)}
    return [done[i] for i in range(len(runs))], states


def _result_of(position: int, out: RunOutput, *, scenario: Scenario, labels: Sequence[str]) -> Result:
    """:func:`simulate_many`'s reduce: the :class:`Result` of one run, simulated under ``labels[position]``."""
    return Result.from_run(scenario, out, labels[position])


def simulate_many(
    scenario: Scenario | str | Path,
    variants: Sequence[str] | None = None,
    *,
    toggles_grid: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
    mode: Mode = "rebalance",
    options: Mapping[str, Any] | None = None,
    objective: Objective = "lexicographic",
    blocks: bool | int = True,
    allocation: Rule | None = None,
    metrics: Sequence[str] | None = None,
    workers: int = 1,
) -> dict[str, Result]:
    """Simulate several variants as :func:`compare` does, keeping every table: one :class:`Result` per run.

    The runs are those of :func:`compare` (``base`` plus every variant, the named ``variants``, or
    every on/off combination of ``toggles_grid``), simulated by the same grouped runs on one compiled
    model (:func:`~supplychain.simulation.groups.split_runs`), so it costs about what :func:`compare`
    does rather than one :func:`simulate` per variant; each result is :func:`simulate`'s for that
    variant up to the solver's round-off (:mod:`~supplychain.simulation.groups`). Quantities side by
    side — shortfall tonnes, flows, plant output — are a concatenation, since every frame carries
    its run's label in ``variant``::

        runs = sc.simulate_many(world, ["licensing_only", "framework"])
        short = pd.concat([r.shortfall for r in runs.values()], ignore_index=True)
        short.pivot_table(index=["country", "commodity", "year"], columns="variant", values="shortfall")

    Parameters
    ----------
    scenario : Scenario or path
        The scenario (:func:`load`), or the path (or ``bundled:NAME``) of a scenario file.
    variants, toggles_grid, workers
        As in :func:`compare`.
    years, source, mode, options, objective, allocation, metrics
        As in :func:`simulate`.
    blocks : bool or int, default True
        As in :func:`compare`.

    Returns
    -------
    dict of str to Result
        Keyed by run label in :func:`compare`'s order (``base`` first, then the variants
        sorted; a grid's ``name=on,other=off``); ``Result.variant`` and each frame's ``variant``
        column are that label.

    Raises
    ------
    ScenarioError
        As :func:`compare`.
    """
    scenario, source, metrics, labelled = _labelled_runs(scenario, variants, toggles_grid, mode=mode, source=source,
                                                         metrics=metrics, twice="call simulate_many twice")
    results, _states = _run_grouped(
        scenario, labelled, partial(_result_of, scenario=scenario, labels=[label for label, _run in labelled]),
        mode=mode, workers=workers,
        options={"years": years, "source": source, "options": options, "objective": objective, "blocks": blocks,
                 "allocation": allocation, "metrics": metrics})
    return {label: r for (label, _run), r in zip(labelled, results, strict=True)}


def same_toggles(scenario: Scenario, labelled: Sequence[tuple[str, tuple[str | None, Mapping[str, bool] | None]]]
                 ) -> list[tuple[str, ...]]:
    """Return the groups of runs that are one case (hence the same numbers), by label.

    One case: the same policies and agreements in force and the same entities switched off
    (:func:`~supplychain.simulation.toggles.same_runs`, the rule by which
    :meth:`~supplychain.simulation.run.Simulator.run_many` simulates them once), whatever
    the toggle states that led there. ``base`` is the file's defaults, which often are one
    named variant's toggles (a scenario file written for its main case); :func:`compare`
    runs both, and a reader of its table should know that two columns are one case.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "start": "2025-01-01",
    ...                             "covers": {"families": ["rare_earths"]}}},
    ...     "toggles": {"deal": {"default": True, "controls": ["cn_ban"]}},
    ...     "variants": {"deal_on": {"toggles": {"deal": True}}, "deal_off": {"toggles": {"deal": False}}}})
    >>> same_toggles(s, _compare_runs(s))
    [('base', 'deal_on')]
    """
    states = [resolve_toggles(scenario, variant=variant, overrides=toggles) for _, (variant, toggles) in labelled]
    return _same_cases([label for label, _run in labelled], states)


def _same_cases(labels: Sequence[str], states: Sequence[ToggleState]) -> list[tuple[str, ...]]:
    """:func:`same_toggles` of resolved toggles: the labels of each group of two or more equal run keys."""
    return [tuple(labels[i] for i in g) for g in same_runs(states) if len(g) > 1]
