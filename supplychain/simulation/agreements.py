r"""What agreements do besides lifting restrictions: investment, offtakes, preference.

* **Investment** — a fund of F USD allocated to project j with share
  :math:`\sigma_j` and capital intensity :math:`k_j` (USD per t/yr of the
  reference output) builds capacity

  .. math:: K_j = F \, \sigma_j / k_j \quad [\text{t/yr}],

  commissioned in :math:`y_c = \text{start.year} + \text{lead\_time\_years}`
  and ramped up linearly over r = ``ramp_up_years``:
  :math:`K_j(y) = 0` for :math:`y < y_c` and
  :math:`K_j(y) = K_j \min\bigl(1, (y - y_c + 1)/(r + 1)\bigr)` from :math:`y_c` on
  (so r = 0 gives full capacity in the commissioning year). The projects are
  returned as synthetic :class:`~supplychain.schema.model.Facility` entries with
  ids ``<agreement>.<project>`` so the graph builder treats them as any plant.
* **Offtake** — a committed minimum flow ``quantity_per_year`` from the supplier
  (facility, investment project, or a country's market) to the buyer's market, from
  ``start_year`` while the agreement is in force (a lower bound in the re-routing LP), at most what
  its plant can make that year (:func:`offtake_floors`).
  Without a quantity the buyer takes all of a plant's output, with no floor. Either way a plant
  whose output an offtake buys is *contracted*: where responses are equally close to the
  baseline, its output comes before that of plants with no offtake
  (:func:`~supplychain.simulation.levels.contracted_factors`).
* **Preference** — when supply is scarce, a party's extra supply serves its partners
  first (:mod:`supplychain.simulation.rationing`, ``contracts_first`` and
  ``home_first``: its exports to non-partners are *reserved*, held at their baseline
  while partners are rationed), never leaving a party's users shorter than without the
  preference (``contracts_first``: :class:`Participation`); and partner supply is cheaper
  by ``preference`` × price: in the LP's cost stage every import of a party from a non-party (of covered
  material) carries a surcharge :math:`\pi \, p_k`. A surcharge on the alternatives
  rather than a discount on partners keeps the LP from moving useless partner material
  just to earn the discount. A preference in force for part of a year (φ, the year
  fraction in force) applies at full strength in the part in force: the LP solves each
  period of the year with the preferences then in force and weighs the flows by the
  periods' lengths, :math:`f = \sum_p w_p f^{(p)}` (:func:`preference_periods`), so it
  moves φ of what a full year's preference moves. The year's average surcharge
  :math:`\pi \, p_k \, φ` is what a flow's cost reports (:func:`preferences`).
* **Partial years of the other terms** need no periods: an offtake's commitment of φ × t/yr is a lower bound
  on the year's tonnes and an exemption lifts φ of a ban's blocked share, both
  proportional to φ already.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.errors import Problem, ScenarioError
from supplychain.schema.model import Agreement, Commodity, Facility, Scenario
from supplychain.schema.references import investment_projects, unpriced_preference
from supplychain.schema.types import Quantity, whole_years
from supplychain.simulation.calendar import Interval, year_fraction, year_periods
from supplychain.simulation.policies import Coded, Membership, edge_text, matches_selector

__all__ = [
    "OFFTAKE_COLUMNS",
    "OfftakeBound",
    "Participation",
    "PreferencePeriod",
    "Preferences",
    "investment_capacity",
    "investment_facilities",
    "offtake_bounds",
    "offtake_floors",
    "offtake_table",
    "plant_can_make",
    "preference_periods",
    "preference_surcharge",
    "preferences",
    "with_investments",
    "year_preferences",
]

FloatArray = npt.NDArray[np.float64]


def investment_capacity(fund_usd: float, share_of_fund: float, capital_intensity: float) -> float:
    """Capacity bought by a fund: K = F σ / k (t/yr).

    Examples
    --------
    >>> investment_capacity(5e9, 0.2, 100_000.0)
    10000.0
    """
    if capital_intensity <= 0:
        return math.inf
    return fund_usd * share_of_fund / capital_intensity


def investment_facilities(scenario: Scenario, active: Collection[str] | None = None) -> dict[str, Facility]:
    """Synthetic facilities for the investment projects of the (active) agreements.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    active : collection of str, optional
        Ids of active agreements (default: all).

    Returns
    -------
    dict of str to Facility
        Keyed ``<agreement>.<project>``, with capacity K_j, ``commissioning_year``
        start.year + lead time, and the project's ramp-up and owners.
    """
    out: dict[str, Facility] = {}
    for aid, ag in sorted(scenario.agreements.items()):
        if ag.investment is None or (active is not None and aid not in active):
            continue
        fund = ag.investment.fund_usd.central
        for pid, proj in sorted(ag.investment.projects.items()):
            cap = investment_capacity(fund, proj.share_of_fund.central, proj.capital_intensity_usd_per_tpa.central)
            out[f"{aid}.{pid}"] = Facility(
                name=proj.name or f"{ag.name}: {pid}",
                country=proj.country,
                kind=proj.kind,
                output=proj.output,
                process=proj.process,
                owners=list(proj.owners),
                capacity=Quantity(
                    value=cap,
                    assumption=f"investment of agreement {aid}: fund × share / capital intensity",
                ),
                commissioning_year=Quantity(value=ag.start.year + whole_years(proj.lead_time_years),
                                            assumption=f"agreement {aid} start + lead time"),
                ramp_up_years=Quantity(value=whole_years(proj.ramp_up_years), assumption=f"agreement {aid} project"),
            )
    return out


def with_investments(scenario: Scenario, active: Collection[str] | None = None) -> Scenario:
    """Return the scenario with the investment projects added as facilities.

    The copy is not re-validated (synthetic ids contain a dot, which entity
    ids in files may not, so they never collide with user facilities).
    """
    extra = investment_facilities(scenario, active)
    if not extra:
        return scenario
    return scenario.model_copy(update={"facilities": {**scenario.facilities, **extra}})


@dataclass(frozen=True)
class OfftakeBound:
    """A committed minimum flow of one year."""

    agreement: str
    """Agreement id."""
    position: int
    """Index in the agreement's ``offtakes`` list."""
    supplier: str
    """Supplier node id (facility id or ``country:commodity`` market)."""
    buyer: str
    """Buyer market node id."""
    supplier_country: str
    """Country of the supplier."""
    buyer_country: str
    """Buying country."""
    commodity: str
    """Commodity id."""
    tonnes: float
    """Minimum tonnes in the year (t/yr × year fraction in force; 0 for an offtake of all output)."""
    in_force: bool = True
    """Whether the offtake is in force in some part of the year (the agreement, and from ``start_year``)."""
    id: str | None = None
    """The offtake's ``id``, when it has one."""

    @property
    def label(self) -> str:
        """The offtake's ``id``, else ``<agreement>.offtakes[<position>]``."""
        return self.id or f"{self.agreement}.offtakes[{self.position}]"

    @property
    def contracted(self) -> str | None:
        """The plant whose output the offtake buys, in force this year (its output comes first), else None."""
        return self.supplier if self.in_force and ":" not in self.supplier else None

    @property
    def edge(self) -> str:
        """Edge id of the committed route when the edge table has none."""
        return f"offtake.{self.agreement}.{self.position}"


def offtake_bounds(
    scenario: Scenario,
    year: int,
    active: Collection[str] | None = None,
) -> list[OfftakeBound]:
    """List the committed minimum flows of the active agreements in ``year``.

    The commitment is t/yr × φ, φ the year fraction of the agreement in force,
    from ``start_year`` on.
    """
    out: list[OfftakeBound] = []
    projects = investment_projects(scenario)
    for aid, ag in sorted(scenario.agreements.items()):
        if active is not None and aid not in active:
            continue
        for i, off in enumerate(ag.offtakes):
            phi = year_fraction(ag.start, ag.end, year) if year >= off.start_year else 0.0
            name = off.supplier if off.supplier in scenario.facilities else projects.get(off.supplier, off.supplier)
            fac = scenario.facilities.get(name)
            if fac is not None:
                supplier, s_country = name, fac.country
            else:
                supplier, s_country = f"{off.supplier}:{off.commodity}", off.supplier
            out.append(
                OfftakeBound(
                    agreement=aid,
                    position=i,
                    supplier=supplier,
                    buyer=f"{off.buyer}:{off.commodity}",
                    supplier_country=s_country,
                    buyer_country=off.buyer,
                    commodity=off.commodity,
                    tonnes=0.0 if off.tonnes_per_year is None else off.tonnes_per_year.central * phi,
                    in_force=phi > 0,
                    id=off.id,
                )
            )
    return out


def plant_can_make(world: Scenario, year: int, plants: Collection[tuple[str, str]]) -> dict[tuple[str, str], float]:
    r"""Return what each plant can make of a commodity in a year, :math:`M_{vk} = y_{vk} K_v`, from the scenario.

    The LP's rules read off the scenario instead of the year's tables:
    :math:`K_v` = :func:`~supplychain.simulation.candidates.plant_capacity` of the plant's capacity that year
    (:func:`~supplychain.graph.build.capacity_in_year`, NaN when unknown) and its baseline output
    (:func:`~supplychain.graph.build.facility_year`, the production the year's tables carry out of the plant);
    :math:`y_{vk}` its recipe's yield (:func:`~supplychain.simulation.candidates.recipe_yields`). It equals the
    LP's :meth:`~supplychain.simulation.rebalance.RebalanceModel.can_make` except where a run changes
    :math:`K_v` (an investment a toggle switches off: 0) or a plant's base-year edges do not carry its recipe's
    outputs in the recipe's ratios (the LP calibrates its yields on them,
    :func:`~supplychain.simulation.candidates.facility_yields`).
    Validation's offtake warning uses it (:func:`~supplychain.schema.references.check_offtake_capacity`).

    Parameters
    ----------
    world : Scenario
        The scenario with its investments' plants (:func:`with_investments`).
    year : int
        The year.
    plants : collection of (str, str)
        (facility id, commodity) pairs.

    Returns
    -------
    dict
        :math:`M_{vk}` in tonnes by (facility, commodity).

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "facilities": {"p": {"name": "P", "country": "AU", "kind": "mine", "output": "ore", "capacity": 100,
    ...                          "production": {2024: 150}}}})
    >>> plant_can_make(s, 2024, [("p", "ore"), ("p", "oxide")])
    {('p', 'ore'): 150.0, ('p', 'oxide'): 0.0}
    """
    from supplychain.graph.build import capacity_in_year, facility_year
    from supplychain.simulation.candidates import plant_capacity, recipe_yields

    out: dict[tuple[str, str], float] = {}
    for fid, commodity in plants:
        fac = world.facilities[fid]
        fy = facility_year(world, fid, year)
        cap = capacity_in_year(fac, year)
        k = float(plant_capacity(math.nan if cap is None else cap, fy.production))
        out[(fid, commodity)] = recipe_yields(fac, world.processes, fy.reference)[0].get(commodity, 0.0) * k
    return out


def offtake_floors(bounds: Sequence[OfftakeBound], can_make: Mapping[tuple[str, str], float],
                   cap: Sequence[float] | None = None) -> FloatArray:
    r"""Return each offtake's floor in the year: its commitment, capped by bans, then cut to what its plant can make.

    A ban caps a commitment first (a commitment never overrides a ban): with :math:`L_i` the commitment of
    offtake i (t/yr × year fraction in force, :attr:`OfftakeBound.tonnes`) and :math:`U_i` the upper bound of
    its edge in the re-routing LP that year (:meth:`RebalanceModel.edge_caps
    <supplychain.simulation.rebalance.RebalanceModel.edge_caps>`: :math:`(1-b_e) f^0_e` on an edge a policy
    blocks by share :math:`b_e`, else unbounded), :math:`L'_i = \min(L_i, U_i)`. An offtake then commits at
    most what its plant can make: with :math:`O_{vk}` the offtakes of commodity k from plant v,

    .. math:: \ell_i = L'_i \, \min\Bigl(1, \frac{M_{vk}}{\sum_{j \in O_{vk}} L'_j}\Bigr),
              \qquad M_{vk} = y_{vk} K_v ,

    :math:`K_v` the plant's capacity in the re-routing LP that year (capacity with commissioning and ramp-up,
    or its baseline output when larger or the capacity is unknown; 0 before commissioning) and :math:`y_{vk}`
    its yield of k per tonne of reference output: the plant's offtakes that may still deliver share what it
    can make in proportion to their commitments; a banned offtake takes no share. Without the cut a commitment
    on a plant not yet commissioned, or above a ramp-up year's capacity, makes the LP infeasible (its floor
    :math:`f_e \ge L_e` against :math:`a_v \le K_v`). An offtake from a country's market is only capped by
    bans (``docs/rebalance.md``, "Variables").

    Parameters
    ----------
    bounds : sequence of OfftakeBound
        The year's offtakes (:func:`offtake_bounds`).
    can_make : mapping
        :math:`M_{vk}` by (plant, commodity); a plant missing from it for a commodity makes none of it.
    cap : sequence of float, optional
        :math:`U_i` per bound, in order (``inf`` when nothing caps it); none by default.

    Returns
    -------
    numpy.ndarray
        :math:`\ell_i` per bound, in order.

    Examples
    --------
    >>> b = [OfftakeBound("a", 0, "p", "US:x", "AU", "US", "x", 300.0), OfftakeBound("a", 1, "p", "JP:x", "AU", "JP",
    ...      "x", 100.0), OfftakeBound("b", 0, "AU:x", "US:x", "AU", "US", "x", 50.0)]
    >>> offtake_floors(b, {("p", "x"): 200.0}).tolist()
    [150.0, 50.0, 50.0]

    A ban on the first offtake's edge leaves the plant's 200 t to the second (:math:`L' = 0, 100`):

    >>> offtake_floors(b, {("p", "x"): 200.0}, cap=[0.0, float("inf"), float("inf")]).tolist()
    [0.0, 100.0, 50.0]
    """
    committed = np.array([b.tonnes for b in bounds], dtype=np.float64)
    if cap is not None:
        committed = np.minimum(committed, np.maximum(np.asarray(cap, dtype=np.float64), 0.0))
    plant = [(b.supplier, b.commodity) if ":" not in b.supplier else None for b in bounds]
    total: dict[tuple[str, str], float] = {}
    for key, t in zip(plant, committed.tolist(), strict=True):
        if key is not None:
            total[key] = total.get(key, 0.0) + t
    share = np.array([1.0 if key is None or total[key] <= 0 else min(1.0, max(0.0, can_make.get(key, 0.0)) / total[key])
                      for key in plant], dtype=np.float64)
    out: FloatArray = committed * share
    return out


OFFTAKE_COLUMNS = ["year", "agreement", "offtake", "supplier", "buyer", "commodity", "committed_t", "blocked_t",
                   "can_make_t", "floor_t", "cut_t", "edge"]
"""Columns of :func:`offtake_table` (``Result.offtakes`` without ``edge``, under public names)."""


def offtake_table(year: int, committed: Sequence[tuple[OfftakeBound, str]],
                  can_make: Mapping[tuple[str, str], float], cap: Mapping[str, float] | None = None) -> pd.DataFrame:
    r"""Return the year's offtakes with a quantity: commitment, part a ban blocks, what the plant can make, floor, cut.

    Parameters
    ----------
    year : int
        The year.
    committed : sequence of (OfftakeBound, str)
        The offtakes with a quantity in force and the model edge each commits.
    can_make : mapping
        :math:`M_{vk}` by (plant, commodity) (:func:`offtake_floors`).
    cap : mapping, optional
        :math:`U_e` by edge id (:func:`offtake_floors`); an edge missing from it is not capped.

    Returns
    -------
    pandas.DataFrame
        :data:`OFFTAKE_COLUMNS`: ``committed_t`` :math:`L_i`, ``blocked_t`` :math:`L_i - L'_i` (the part a ban
        caps), ``can_make_t`` :math:`M_{vk}` (NaN for an offtake from a country's market), ``floor_t``
        :math:`\ell_i` (:func:`offtake_floors`) and ``cut_t`` :math:`L'_i - \ell_i`, the tonnes committed and
        not banned that the plant cannot make.
    """
    bounds = [b for b, _ in committed]
    caps = [float("inf") if cap is None else cap.get(e, float("inf")) for _, e in committed]
    floor = offtake_floors(bounds, can_make, caps)
    made = [np.nan if ":" in b.supplier else can_make.get((b.supplier, b.commodity), 0.0) for b in bounds]
    tonnes = np.array([b.tonnes for b in bounds], dtype=np.float64)
    allowed = np.minimum(tonnes, np.maximum(np.array(caps, dtype=np.float64), 0.0))
    return pd.DataFrame({
        "year": np.full(len(bounds), year, dtype=np.int64), "agreement": [b.agreement for b in bounds],
        "offtake": [b.label for b in bounds], "supplier": [b.supplier for b in bounds],
        "buyer": [b.buyer_country for b in bounds], "commodity": [b.commodity for b in bounds],
        "committed_t": tonnes, "blocked_t": tonnes - allowed, "can_make_t": np.array(made, dtype=np.float64),
        "floor_t": floor, "cut_t": allowed - floor, "edge": [e for _, e in committed]}, columns=OFFTAKE_COLUMNS)


def preference_surcharge(
    edges: pd.DataFrame,
    *,
    year: int,
    agreements: Mapping[str, Agreement],
    scenario: Scenario | None = None,
    active: Collection[str] | None = None,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Per-edge surcharge on imports from non-partners, and the partner-edge mask.

    Parameters
    ----------
    edges : pandas.DataFrame
        Edge table (``supplier_country``, ``buyer_country``, ``commodity``, ``stage``).
    year : int
        Calendar year.
    agreements : mapping
        Agreements by id.
    scenario : Scenario, optional
        For commodity prices, definitions and groups.
    active : collection of str, optional
        Active agreement ids.

    Returns
    -------
    surcharge : numpy.ndarray
        USD/t added to the edge in the LP's cost stage: Σ π p_k φ over agreements
        whose party imports covered material from a non-party (p_k = 1 only without
        a `scenario`, which keeps the ordering among suppliers).
    partner : numpy.ndarray of bool
        True for cross-border edges between parties of an agreement in force.

    Raises
    ------
    ScenarioError
        When a preference in force falls on a commodity of `scenario` without a price
        (the loader refuses such a file: ``supplychain.schema.references.check_preference_prices``).
    """
    p = preferences(edges, year=year, agreements=agreements, scenario=scenario, active=active)
    return p.surcharge, p.partner


@dataclass(frozen=True)
class Preferences:
    """What the agreements in force do to each edge of a table (:func:`preferences`).

    Attributes
    ----------
    surcharge : numpy.ndarray
        USD/t on imports of a party from a non-party (preference × price × year fraction).
    partner : numpy.ndarray of bool
        Cross-border edges between parties of an agreement in force.
    reserved : numpy.ndarray of bool
        Cross-border exports of covered material from a party of an agreement with a
        preference to a non-party: what the party's extra supply may serve only after its
        partners (:mod:`supplychain.simulation.rationing`, ``contracts_first``).
    without : tuple of Participation
        Per agreement with a preference in force whose parties it could leave worse off, the
        outcome its parties' users are owed (:class:`Participation`).
    """

    surcharge: FloatArray
    partner: npt.NDArray[np.bool_]
    reserved: npt.NDArray[np.bool_]
    without: tuple[Participation, ...] = ()


@dataclass(frozen=True)
class Participation:
    r"""A preference's participation constraint: its parties' users get at least what they get without it.

    The allocation rule is solved a first time with the reserved exports of the *other*
    agreements in force (``reserved``: as if this agreement were not in force; its exemptions,
    capacity and offtakes are bounds of the LP and stay), and every user in a party country then
    may not be shorter than there, :math:`z_u \le z^{-a}_u`
    (:mod:`supplychain.simulation.rationing`, ``docs/rebalance.md``, "A deal never leaves a party
    worse off"). Only agreements whose removal changes the reserved exports get one: otherwise
    the first solve would be the solve itself.

    Attributes
    ----------
    agreement : str
        The agreement's id.
    parties : frozenset of str
        The countries of the edge table that are its parties (groups resolved).
    reserved : numpy.ndarray of bool
        Per edge, the reserved exports of the other agreements in force.
    """

    agreement: str
    parties: frozenset[str]
    reserved: npt.NDArray[np.bool_]


def preferences(
    edges: pd.DataFrame,
    *,
    year: int,
    agreements: Mapping[str, Agreement],
    scenario: Scenario | None = None,
    active: Collection[str] | None = None,
) -> Preferences:
    """Surcharges, partner edges and reserved exports of the agreements in force (:class:`Preferences`).

    The year's average: each preference's surcharge weighs φ, its year fraction in force (what a
    flow's ``cost_per_t`` reports); the LP solves each period of the year with the surcharges at
    full strength instead (:func:`preference_periods`). Parameters are those of
    :func:`preference_surcharge`.
    """
    terms = _preference_terms(edges, year=year, agreements=agreements, scenario=scenario, active=active)
    return _combine(len(edges), [(t, t.phi) for t in terms])


@dataclass(frozen=True)
class PreferencePeriod:
    r"""A part of a year in which the same preferences are in force (:func:`preference_periods`).

    Attributes
    ----------
    weight : float
        Year fraction :math:`w_p` of the period (the periods of a year sum to 1).
    preferences : Preferences
        The surcharges at full strength, :math:`\sum_{a \in p} \pi_a p_k` over the preferences
        in force in the period, its partner edges and reserved exports.
    agreements : frozenset of str
        Ids of the agreements with a preference in force in the period (in some part of it, when
        parts of the year whose preferences act alike on every edge are one period).
    """

    weight: float
    preferences: Preferences
    agreements: frozenset[str]


def preference_periods(
    edges: pd.DataFrame,
    *,
    year: int,
    agreements: Mapping[str, Agreement],
    scenario: Scenario | None = None,
    active: Collection[str] | None = None,
) -> list[PreferencePeriod]:
    r"""Split a year into the periods in which the same preferences are in force.

    A preference is a cost in the LP, and an LP re-routes all of an edge's tonnes for any
    positive cost when an alternative is cheaper: a surcharge :math:`\pi p_k φ` on the whole
    year would move a whole year's trade for a deal in force two months. So the year is
    solved once per period p (weight :math:`w_p`, :func:`~supplychain.simulation.calendar.year_periods`)
    with the surcharges of the preferences in force in p at full strength,
    :math:`\pi p_k`, and the year's flows are :math:`f = \sum_p w_p f^{(p)}`: a preference in
    force for φ of the year moves φ of what it moves in a full year. Every period's LP has the
    year's bounds and rows, so each :math:`f^{(p)}` is feasible for the year, and so is their
    convex combination (flows close).

    Parameters are those of :func:`preference_surcharge`.

    Returns
    -------
    list of PreferencePeriod
        One period of weight 1 when no preference changes within the year (none in force, or
        each for the whole year). Parts of the year whose surcharges and reserved exports are the
        same on every edge (a preference that reaches none of `edges`) are one period: their LPs
        are the same, so one solve is enough.

    Examples
    --------
    >>> import datetime as dt
    >>> from supplychain.schema.model import Agreement
    >>> deal = Agreement(name="d", parties=["US", "AU"], start=dt.date(2025, 10, 1), preference=0.05,
    ...                  covers={"commodities": ["x"]})
    >>> e = pd.DataFrame({"supplier_country": ["CN"], "buyer_country": ["US"], "commodity": ["x"], "stage": ["ore"]})
    >>> [(p.weight, p.preferences.surcharge.tolist()) for p in preference_periods(e, year=2025, agreements={"d": deal})]
    [(0.75, [0.0]), (0.25, [0.05])]
    """
    terms = _preference_terms(edges, year=year, agreements=agreements, scenario=scenario, active=active)
    return _periods(terms, len(edges), year)


def year_preferences(
    edges: pd.DataFrame,
    *,
    year: int,
    agreements: Mapping[str, Agreement],
    scenario: Scenario | None = None,
    active: Collection[str] | None = None,
) -> tuple[Preferences, list[PreferencePeriod]]:
    """Return :func:`preferences` and :func:`preference_periods` of one year, the agreements read once for both.

    Parameters are those of :func:`preference_surcharge`.
    """
    terms = _preference_terms(edges, year=year, agreements=agreements, scenario=scenario, active=active)
    return _combine(len(edges), [(t, t.phi) for t in terms]), _periods(terms, len(edges), year)


def _periods(terms: Sequence[_Term], n: int, year: int) -> list[PreferencePeriod]:
    """Return the periods of :func:`preference_periods` from the year's agreement terms on ``n`` edges."""
    spans = {t.agreement: t.period for t in terms if t.preference}
    out: list[PreferencePeriod] = []
    for keys, w in year_periods(spans, year):
        pref = _combine(n, [(t, 1.0) for t in terms if t.agreement in keys or not t.preference])
        same = next((i for i, p in enumerate(out) if np.array_equal(p.preferences.surcharge, pref.surcharge)
                     and np.array_equal(p.preferences.reserved, pref.reserved)), None)
        if same is None:
            out.append(PreferencePeriod(w, pref, keys))
        else:
            p = out[same]
            out[same] = PreferencePeriod(p.weight + w, p.preferences, p.agreements | keys)
    return out


@dataclass(frozen=True)
class _Term:
    """What one agreement in force does to each edge, its surcharge at full strength."""

    agreement: str
    period: Interval
    phi: float
    preference: bool
    surcharge: FloatArray
    partner: npt.NDArray[np.bool_]
    reserved: npt.NDArray[np.bool_]
    parties: frozenset[str]


def _combine(n: int, terms: Sequence[tuple[_Term, float]]) -> Preferences:
    """Add up agreements' terms, each surcharge weighed by its factor; reserved exports exclude partner edges.

    Each preference's :class:`Participation` holds the reserved exports of the terms without it.
    """
    sur = np.zeros(n)
    for t, factor in terms:
        if t.preference:
            sur += t.surcharge * factor
    reserved = _reserved(n, [t for t, _ in terms])
    without = []
    for t, _ in terms:
        if t.preference:
            other = _reserved(n, [u for u, _ in terms if u is not t])
            if not np.array_equal(other, reserved):
                without.append(Participation(t.agreement, t.parties, other))
    partner = np.zeros(n, dtype=bool)
    for t, _ in terms:
        partner |= t.partner
    return Preferences(sur, partner, reserved, tuple(without))


def _reserved(n: int, terms: Sequence[_Term]) -> npt.NDArray[np.bool_]:
    """Reserved exports of some agreements' terms: their preferences' reserved, less every partner edge."""
    partner = np.zeros(n, dtype=bool)
    reserved = np.zeros(n, dtype=bool)
    for t in terms:
        partner |= t.partner
        if t.preference:
            reserved |= t.reserved
    out: npt.NDArray[np.bool_] = reserved & ~partner
    return out


def _preference_terms(
    edges: pd.DataFrame,
    *,
    year: int,
    agreements: Mapping[str, Agreement],
    scenario: Scenario | None,
    active: Collection[str] | None,
) -> list[_Term]:
    """Each active agreement in force in ``year`` on every edge, in id order (:func:`preferences`)."""
    n = len(edges)
    if n == 0:
        return []
    commodities = scenario.commodities if scenario is not None else {}
    member = Membership(scenario.groups if scenario is not None else None)
    sc, bc, com, stage = edge_text(edges, "supplier_country", "buyer_country", "commodity", "stage")
    cross = sc != bc
    sc_coded, bc_coded, com_coded = Coded(sc.tolist()), Coded(bc.tolist()), Coded(com.tolist())
    com_stage = sorted(set(zip(com.tolist(), stage.tolist(), strict=True)))
    out: list[_Term] = []
    for aid, ag in sorted(agreements.items()):
        if active is not None and aid not in active:
            continue
        phi = year_fraction(ag.start, ag.end, year)
        if phi <= 0:
            continue
        hits = {c for c, st in com_stage if matches_selector(ag.covers, c, commodities.get(c), st)}
        covered = com_coded.where(hits.__contains__)
        in_parties = partial(member.any_of, ag.parties)
        s_in = sc_coded.where(in_parties)
        b_in = bc_coded.where(in_parties)
        partner = cross & covered & s_in & b_in
        sur = np.zeros(n)
        reserved = np.zeros(n, dtype=bool)
        if ag.preference is not None:
            pref = ag.preference.central
            price = com_coded.lookup(partial(_price, commodities))
            hit = cross & covered & b_in & ~s_in
            if scenario is not None and pref and np.isnan(price[hit]).any():
                unpriced = sorted({str(k) for k in com[hit][np.isnan(price[hit])]})
                raise ScenarioError([Problem("<api>", 0, 0, ("agreements", aid, "preference"),
                                             *unpriced_preference(unpriced))])
            sur[hit] = pref * np.nan_to_num(price[hit], nan=1.0)
            reserved = cross & covered & s_in & ~b_in
        parties = frozenset(c for c in {*sc_coded.distinct, *bc_coded.distinct} if in_parties(c))
        out.append(_Term(aid, (ag.start, ag.end), phi, ag.preference is not None, sur, partner, reserved, parties))
    return out


def _price(commodities: Mapping[str, Commodity], c: str) -> float:
    """Return a commodity's price per unit, NaN when it has none."""
    cdef = commodities.get(c)
    if cdef is None or cdef.price_usd_per_t is None:
        return math.nan
    return cdef.price_usd_per_t.central
