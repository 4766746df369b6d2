r"""A year's observed, demand and stock rows as formulas of the scenario's quantities, evaluated on arrays.

The one walk of a scenario's sections for a year (docs/architecture.md, "graph"): every
observed edge (``flows``, ``imports``, facility supply and input edges), given-demand row
and stock row gets its metadata and the *slots* of the quantities that give its tonnes
(a slot is a column of a values matrix, named by the quantity's key path; its central
value is the run's). :meth:`YearLayout.evaluate` computes the tonnes with the one
implementation of each formula, on a ``(samples, slots)`` matrix:

* a flow: its ``tonnes``;
* a facility: production :math:`(a \, k) \, b` (:func:`produced`: ``production[year]``, or
  nameplate × ramp-up share × utilisation), tonnes of commodity :math:`c` made or used
  :math:`p / c_{ref} \times c_c` (:func:`made`), net of the facility's direct flows
  (:func:`~supplychain.graph.build.net_of_direct`);
* an import: total × partner share, the remainder to ``remainder_to`` or split over
  ``remainder_split`` by its weights (:func:`~supplychain.graph.build.import_split`,
  :func:`~supplychain.graph.build.remainder_part`);
* given demand: ``by_year``, else grown (:func:`~supplychain.graph.build.grown`);
* a stockpile: its level (:func:`~supplychain.graph.allocate.stock_level`) and what it may release in
  the year (:func:`~supplychain.graph.allocate.releasable`).

A run evaluates the layout on the central values (one sample:
:func:`central_tables`, :func:`~supplychain.graph.allocate.demand_columns`,
:func:`~supplychain.graph.allocate.stock_columns`); the compiled exposure sweep
(:mod:`supplychain.uncertainty.kernel`) on a block of samples. Which rows exist is
decided on the central values (an import's remainder row exists when the central shares
leave a remainder).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from supplychain.errors import KeyPath, Problem, format_path
from supplychain.graph.allocate import releasable, stock_level
from supplychain.graph.build import (
    Columns,
    FacilityYear,
    Numbers,
    _EdgeRows,
    _stage,
    capacity_in_year,
    grown,
    import_split,
    market_id,
    nameplate_at,
    net_of_direct,
    ramp_share,
    remainder_part,
)
from supplychain.graph.sums import Groups
from supplychain.report.numbers import format_apart, format_number
from supplychain.schema.references import problem_at
from supplychain.schema.types import Quantity
from supplychain.schema.units import commodity_units

if TYPE_CHECKING:
    from supplychain.schema.model import Demand, Scenario

__all__ = ["ONE", "ZERO", "Slots", "Values", "YearLayout", "central_tables", "demand_at_central",
           "facility_at_central", "made", "produced", "year_layout"]

ONE, ZERO = 0, 1
"""Slots of the constants 1 and 0 (every :class:`Slots` starts with them)."""
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class Slots:
    """The quantities a layout reads: key path and central value per slot (a column of the values matrix)."""

    def __init__(self) -> None:
        self.paths: list[KeyPath] = [("1",), ("0",)]
        self.central: list[float] = [1.0, 0.0]
        self._pos: dict[KeyPath, int] = {}

    def __call__(self, path: KeyPath, q: Quantity | None, default: float = 0.0) -> int:
        """Slot of the quantity at ``path`` (its central value; ``default`` when absent)."""
        if path not in self._pos:
            self._pos[path] = len(self.paths)
            self.paths.append(path)
            self.central.append(q.central if q is not None else default)
        return self._pos[path]


def produced(a: Numbers, scale: Numbers, b: Numbers) -> Numbers:
    r"""Return a facility's production, :math:`(a \, k) \, b`.

    ``production[year]`` is :math:`a` (:math:`k = b = 1`); capacity × utilisation is the
    nameplate :math:`a` times the ramp-up share :math:`k`
    (:func:`~supplychain.graph.build.ramp_share`) times utilisation :math:`b`; unknown is 0.
    """
    out: Numbers = a * scale * b
    return out


def made(production: Numbers, ref: Numbers, coefficient: Numbers) -> Numbers:
    """Return tonnes of a commodity a facility makes or uses: activity :math:`p / c_{ref}` times its coefficient."""
    out: Numbers = production / ref * coefficient
    return out


class _Facility(NamedTuple):
    """One facility's formula: production = :func:`produced` of slots ``a``, ``b`` and ``scale``."""

    facility: str
    country: str
    reference: str
    capacity: float | None
    how: str
    path: KeyPath
    a: int
    b: int
    scale: float
    ref: float
    outputs: dict[str, float]
    inputs: dict[str, float]
    primary: bool
    problems: list[Problem]


def _facility(scenario: Scenario, fid: str, year: int, slots: Slots) -> _Facility:
    """Lay out one facility: the formula of its production, outputs and inputs (``graph.build`` docstring)."""
    f = scenario.facilities[fid]
    base: KeyPath = ("facilities", fid)
    problems: list[Problem] = []
    cap = capacity_in_year(f, year)
    a, b, scale = ONE, ONE, 0.0
    if year in f.production:
        how, path = "production", (*base, "production", year)
        a, scale = slots(path, f.production[year]), 1.0
    elif cap is not None and f.utilisation is not None:
        how, path = "capacity x utilisation", (*base, "utilisation")
        share = ramp_share(f, year)
        nameplate = nameplate_at(f, year)
        if share != 0.0 and nameplate is not None:
            a, scale = slots((*base, *nameplate[0]), nameplate[1]), share
        b = slots(path, f.utilisation)
    else:
        how, path = "unknown", base
    if f.output is not None:
        return _Facility(fid, f.country, f.output, cap, how, path, a, b, scale, 1.0, {f.output: 1.0}, {}, True,
                         problems)
    assert f.process is not None  # the Facility validator guarantees output or process
    process = scenario.processes.get(f.process)
    if process is None:
        problems.append(problem_at(scenario, (*base, "process"), f"process {f.process!r} is not declared",
                                   "declare it under `processes`"))
        return _Facility(fid, f.country, f.process, cap, how, path, a, b, scale, 1.0, {}, {}, False, problems)
    ref_name = process.reference_output
    c_ref = process.outputs[ref_name].central
    if c_ref <= 0:
        problems.append(problem_at(
            scenario, ("processes", f.process, "outputs", ref_name),
            f"reference output {ref_name!r} of process {f.process!r} has coefficient {c_ref:g}; "
            f"facility {fid!r} cannot be sized from it",
            "give the reference output a positive coefficient or choose another `reference`"))
        c_ref = math.inf  # activity 0: the facility makes and uses nothing
    return _Facility(fid, f.country, ref_name, cap, how, path, a, b, scale, c_ref,
                     {c: q.central for c, q in sorted(process.outputs.items())},
                     {c: q.central for c, q in sorted(process.inputs.items())}, not process.inputs, problems)


def facility_at_central(scenario: Scenario, fid: str, year: int) -> FacilityYear:
    """One facility's :class:`~supplychain.graph.build.FacilityYear` at the central values."""
    slots = Slots()
    fx = _facility(scenario, fid, year, slots)
    return _facility_year(fx, float(produced(slots.central[fx.a], fx.scale, slots.central[fx.b])))


def _facility_year(fx: _Facility, production: float) -> FacilityYear:
    return FacilityYear(fx.facility, fx.country, fx.reference, production, fx.capacity, fx.how, fx.path,
                        {c: made(production, fx.ref, k) for c, k in fx.outputs.items()},
                        {c: made(production, fx.ref, k) for c, k in fx.inputs.items()}, fx.primary, fx.problems)


def _demand_terms(did: str, d: Demand, year: int, slots: Slots) -> tuple[int, int, float]:
    """Slots of tonnes and growth, and years grown: ``by_year[year]``, else ``tonnes × (1 + growth)^(year − year₀)``."""
    if year in d.by_year:
        return slots(("demand", did, "by_year", year), d.by_year[year]), ZERO, 0.0
    return (slots(("demand", did, "tonnes"), d.tonnes), slots(("demand", did, "growth"), d.growth, 0.0),
            float(year - d.year))


def demand_at_central(did: str, d: Demand, year: int) -> float:
    """One demand entry's tonnes at the central values (:func:`~supplychain.graph.build.demand_in_year`)."""
    slots = Slots()
    t, g, n = _demand_terms(did, d, year, slots)
    return float(grown(slots.central[t], slots.central[g], n))


@dataclass(frozen=True)
class Values:
    """A layout evaluated on a values matrix (:meth:`YearLayout.evaluate`), one row per sample.

    Attributes
    ----------
    tonnes : numpy.ndarray, shape (S, E)
        Tonnes of each observed edge.
    production : numpy.ndarray, shape (S, F)
        Production of each facility of ``YearLayout.fac_rows``.
    made : numpy.ndarray, shape (S, P)
        Tonnes each facility supply/input row makes or uses, before its direct flows.
    over : numpy.ndarray of bool, shape (S, P)
        Where the direct flows exceed it (:func:`~supplychain.graph.build.net_of_direct`).
    demand : numpy.ndarray, shape (S, D)
        Given demand of each demand row.
    available : numpy.ndarray, shape (S, R)
        Releasable stock of each stock row.
    """

    tonnes: F64
    production: F64
    made: F64
    over: npt.NDArray[np.bool_]
    demand: F64
    available: F64


@dataclass(frozen=True)
class YearLayout:
    """The rows of a year's observed edges, given demand and stock, and the slots that give their tonnes.

    Attributes
    ----------
    year : int
        The year.
    paths, central : tuple and numpy.ndarray
        Key path and central value of each slot (slots :data:`ONE` and :data:`ZERO` are constants).
    edges : Columns
        The observed edges sorted by ``edge``, every column but ``tonnes``.
    facilities, fac_rows : list and numpy.ndarray
        Each facility's formula (sorted by id); those evaluated (all but in :meth:`varying`).
    pair_row, pair_fac, pair_coef, pair_ref : numpy.ndarray
        Per facility supply/input row: its edge row, its facility (position in ``fac_rows``),
        coefficient and reference coefficient.
    pair_kind : list of tuple
        Per facility supply/input row: commodity, outgoing, and the flows that bypass the market (flow rows).
    flow_out, flow_in : numpy.ndarray
        Per flow (``flow_row`` order): the pair its tonnes are taken from / added to (−1: none).
    flow_row, flow_slot : numpy.ndarray
        Per flow of the year: its edge row and the slot of its tonnes.
    imp_row, imp_total, imp_share, imp_rest, imp_weight, imp_listed, imp_resting : numpy.ndarray and Groups
        Per import row: edge row, total and share slots (:data:`ZERO` on a remainder row),
        whether it takes part of the remainder and the slot of its weight there (:data:`ONE` for
        ``remainder_to``, :data:`ZERO` on a listed partner's row), and the listed partner rows and the
        remainder rows grouped by import entry (``imp_entry``: each row's entry).
    demand, stocks : Columns
        Demand rows (``entity, market, country, commodity``) and stock rows (the same).
    dem_slot, dem_growth, dem_years : numpy.ndarray
        Per demand row, :func:`_demand_terms`.
    st_level, st_months, st_share, st_in_months : numpy.ndarray
        Per stock row: slots of the level in tonnes and in months, of the release share,
        whether it is in months.
    st_dem, st_market : Groups and numpy.ndarray
        Demand rows summed per market holding stock, and each stock row's market there.
    problems : list of Problem
        Problems of the layout itself (flows of a commodity a facility does not make or use,
        unusable processes); flows larger than a facility's output are found on the
        evaluated numbers (:func:`central_tables`).
    """

    year: int
    paths: tuple[KeyPath, ...]
    central: F64
    edges: Columns
    facilities: list[_Facility]
    fac_rows: I64
    pair_row: I64
    pair_fac: I64
    pair_coef: F64
    pair_ref: F64
    pair_kind: list[tuple[str, bool, list[int]]]
    flow_out: I64
    flow_in: I64
    flow_row: I64
    flow_slot: I64
    flow_ids: list[str]
    imp_row: I64
    imp_total: I64
    imp_share: I64
    imp_rest: npt.NDArray[np.bool_]
    imp_weight: I64
    imp_entry: I64
    imp_listed: Groups
    imp_resting: Groups
    demand: Columns
    dem_slot: I64
    dem_growth: I64
    dem_years: F64
    stocks: Columns
    st_level: I64
    st_months: I64
    st_share: I64
    st_in_months: npt.NDArray[np.bool_]
    st_dem: Groups
    st_market: I64
    problems: list[Problem]

    @cached_property
    def _direct(self) -> tuple[Groups, Groups, I64, I64, F64]:
        """Flows into the pairs they leave / enter; each facility's slots and scale."""
        fx = [self.facilities[i] for i in self.fac_rows.tolist()]
        return (Groups.of(self.flow_out, len(self.pair_fac)), Groups.of(self.flow_in, len(self.pair_fac)),
                np.array([f.a for f in fx], dtype=np.int64), np.array([f.b for f in fx], dtype=np.int64),
                np.array([f.scale for f in fx], dtype=np.float64))

    def varying(self, slots: I64) -> YearLayout:
        """Return the layout with only the facilities and facility supply/input rows that read one of ``slots``.

        A facility reads its production slots; its supply/input rows also read the tonnes of
        the direct flows that leave or enter them. The other rows keep the tonnes of ``base``
        in :meth:`evaluate` (a sweep evaluates only what its samples change).
        """
        v = np.zeros(len(self.paths), dtype=bool)
        v[slots] = True
        _, _, a, b, _ = self._direct
        need = v[a] | v[b]
        keep = need[self.pair_fac]
        flow_v = v[self.flow_slot]
        for to in (self.flow_out, self.flow_in):
            keep[to[flow_v & (to >= 0)]] = True
        rows = np.flatnonzero(keep)
        need[self.pair_fac[rows]] = True
        new = np.full(len(keep) + 1, -1, dtype=np.int64)  # new[-1] = −1: a flow of no pair
        new[rows] = np.arange(len(rows))
        return replace(self, fac_rows=self.fac_rows[need], pair_row=self.pair_row[rows],
                       pair_fac=(np.cumsum(need) - 1)[self.pair_fac[rows]],
                       pair_coef=self.pair_coef[rows], pair_ref=self.pair_ref[rows],
                       pair_kind=[self.pair_kind[r] for r in rows.tolist()], flow_out=new[self.flow_out],
                       flow_in=new[self.flow_in])

    def evaluate(self, q: F64, base: F64 | None = None) -> Values:
        """Evaluate every row on a values matrix ``q`` (samples × slots; :attr:`central` as one row for a run).

        Rows the layout does not compute (:meth:`varying`) keep their tonnes in ``base``.
        """
        n_s = q.shape[0]
        tonnes = np.zeros((n_s, len(self.edges["edge"])))
        if base is not None:
            tonnes[:] = base
        flows = q[:, self.flow_slot]
        tonnes[:, self.flow_row] = flows
        direct_out, direct_in, a, b, scale = self._direct
        production = produced(q[:, a], scale, q[:, b])
        gross = made(production[:, self.pair_fac], self.pair_ref, self.pair_coef)
        net, over = net_of_direct(gross, direct_out.sum(flows) + direct_in.sum(flows))
        tonnes[:, self.pair_row] = net
        share = q[:, self.imp_share]
        to_partner, to_rest = import_split(q[:, self.imp_total], share, self.imp_listed.sum(share)[:, self.imp_entry])
        weight = q[:, self.imp_weight]
        tonnes[:, self.imp_row] = to_partner + remainder_part(to_rest, weight,
                                                              self.imp_resting.sum(weight)[:, self.imp_entry])
        demand = grown(q[:, self.dem_slot], q[:, self.dem_growth], self.dem_years)
        available = self.available(q, self.st_dem.sum(demand)[:, self.st_market])
        return Values(tonnes, production, gross, over, demand, available)

    def level(self, q: F64, demand: F64) -> F64:
        """Return the level of each stock row when it enters (:func:`~supplychain.graph.allocate.stock_level`)."""
        return stock_level(q[:, self.st_level], q[:, self.st_months], demand, self.st_in_months)

    def available(self, q: F64, demand: F64) -> F64:
        """Return what each stock row may release in the year (:func:`~supplychain.graph.allocate.releasable`)."""
        return releasable(self.level(q, demand), q[:, self.st_share])

    def central_facilities(self, values: Values) -> dict[str, FacilityYear]:
        """Each facility's :class:`~supplychain.graph.build.FacilityYear` from the first row of ``values``."""
        prod = values.production[0].tolist()
        fac = [self.facilities[i] for i in self.fac_rows.tolist()]
        return {fx.facility: _facility_year(fx, p) for fx, p in zip(fac, prod, strict=True)}


def year_layout(scenario: Scenario, year: int, *, observed: bool = True, after: int | None = None) -> YearLayout:
    """Lay out a year's observed edges (none when not ``observed``), given demand and stock rows.

    Stock entries dated after ``after`` only, when given (:func:`~supplychain.graph.allocate.stock_table`).
    """
    slots = Slots()
    rows = _EdgeRows()
    problems: list[Problem] = []
    fac = [_facility(scenario, fid, year, slots) for fid in sorted(scenario.facilities)] if observed else []
    by_id = {fx.facility: fx for fx in fac}
    for fx in fac:
        problems.extend(fx.problems)

    # flows; those to/from facilities bypass the facility's home market
    direct: dict[tuple[str, str, bool], list[int]] = defaultdict(list)
    flow_ids: list[str] = []
    flow_slot: list[int] = []

    def endpoint(ref: str, commodity: str) -> tuple[str, str]:
        return (ref, by_id[ref].country) if ref in by_id else (market_id(ref, commodity), ref)

    for fid in sorted(scenario.flows) if observed else []:
        flow = scenario.flows[fid]
        if flow.year != year:
            continue
        (sup, s_country), (buy, b_country) = endpoint(flow.supplier, flow.commodity), endpoint(flow.buyer,
                                                                                               flow.commodity)
        rows.add(f"flows.{fid}", f"flows.{fid}", sup, buy, s_country, b_country, flow.commodity,
                 _stage(scenario, flow.commodity), 0.0, "trade")
        for ref, outgoing, key, verb in ((flow.supplier, True, "supplier", "produce"),
                                         (flow.buyer, False, "buyer", "use")):
            if ref not in by_id:
                continue
            have = by_id[ref].outputs if outgoing else by_id[ref].inputs
            if flow.commodity not in have:
                noun, side = ("outputs", "send the flow from") if outgoing else ("inputs", "deliver the flow to")
                problems.append(problem_at(
                    scenario, ("flows", fid, key),
                    f"facility {ref!r} does not {verb} {flow.commodity!r} (its {noun}: {', '.join(have) or 'none'})",
                    f"{side} the country's market: use {by_id[ref].country!r} as {key}"))
            direct[(ref, flow.commodity, outgoing)].append(len(flow_ids))
        flow_ids.append(fid)
        flow_slot.append(slots(("flows", fid, "tonnes"), flow.tonnes))

    # every facility's supply and input edges; the direct flows that leave or enter them
    pair_fac: list[int] = []
    pair_edge: list[int] = []
    pair_coef: list[float] = []
    pair_ref: list[float] = []
    pair_kind: list[tuple[str, bool, list[int]]] = []
    d_out, d_in = np.full(len(flow_ids), -1, dtype=np.int64), np.full(len(flow_ids), -1, dtype=np.int64)
    stage_of = {c: _stage(scenario, c) for c in scenario.commodities}
    for n, fx in enumerate(fac):
        fid, country = fx.facility, fx.country
        for outgoing, coefs in ((True, fx.outputs), (False, fx.inputs)):
            kind = "supply" if outgoing else "input"
            for commodity, coef in coefs.items():
                market = market_id(country, commodity)
                supplier, buyer = (fid, market) if outgoing else (market, fid)
                flows = direct.get((fid, commodity, outgoing), [])
                if flows:
                    (d_out if outgoing else d_in)[flows] = len(pair_fac)
                pair_edge.append(len(rows.rows))
                rows.add(f"{kind}.{fid}.{commodity}", f"facilities.{fid}", supplier, buyer, country, country, commodity,
                         stage_of.get(commodity, ""), 0.0, kind)
                pair_fac.append(n)
                pair_coef.append(coef)
                pair_ref.append(fx.ref)
                pair_kind.append((commodity, outgoing, flows))

    # imports: total × share per partner, the remainder to remainder_to (weight 1) or split by remainder_split
    imp_edge, imp_total, imp_share, imp_weight, imp_entry, listed, resting = [], [], [], [], [], [], []
    entries = sorted(iid for iid, imp in scenario.imports.items() if imp.year == year) if observed else []
    for e, iid in enumerate(entries):
        imp = scenario.imports[iid]
        total = slots(("imports", iid, "total"), imp.total)
        stage, buyer = _stage(scenario, imp.commodity), market_id(imp.importer, imp.commodity)
        shares = {p: slots(("imports", iid, "partners", p), imp.partners[p]) for p in sorted(imp.partners)}
        weights = ({p: slots(("imports", iid, "remainder_split", p), q) for p, q in sorted(imp.remainder_split.items())}
                   or {imp.remainder_to: ONE})
        _, rest = import_split(np.asarray(slots.central[total]), np.array([slots.central[s] for s in shares.values()]),
                               np.asarray(sum(slots.central[s] for s in shares.values())))
        for p in sorted(set(shares) | (set(weights) if rest > 0 else set())):
            imp_edge.append(len(rows.rows))
            rows.add(f"imports.{iid}.{p}", f"imports.{iid}", market_id(p, imp.commodity), buyer, p, imp.importer,
                     imp.commodity, stage, 0.0, "trade")
            imp_total.append(total)
            imp_share.append(shares.get(p, ZERO))
            imp_weight.append(weights.get(p, ZERO))
            imp_entry.append(e)
            listed.append(e if p in shares else -1)
            resting.append(e if p in weights else -1)

    cols = rows.columns()
    order = np.argsort(cols["edge"], kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))

    # given demand and stock (a stock row's level in months reads its market's demand)
    dem_items = sorted(scenario.demand.items())
    terms = [_demand_terms(did, d, year, slots) for did, d in dem_items]
    dem_market = [market_id(d.country, d.commodity) for _, d in dem_items]
    held = [(sid, sp) for sid, sp in sorted(scenario.stockpiles.items())
            if sp.year <= year and (after is None or sp.year > after)]
    st_market = [market_id(sp.country, sp.commodity) for _, sp in held]
    st_markets = {m: i for i, m in enumerate(sorted(set(st_market)))}

    def ints(values: list[int]) -> I64:
        return np.array(values, dtype=np.int64)

    st_level = ints([slots(("stockpiles", sid, "tonnes"), sp.tonnes) if sp.tonnes is not None else ZERO
                     for sid, sp in held])
    st_months = ints([slots(("stockpiles", sid, "months_of_cover"), sp.months_of_cover)
                      if sp.months_of_cover is not None else ZERO for sid, sp in held])
    st_share = ints([slots(("stockpiles", sid, "max_release_share"), sp.max_release_share, 1.0) for sid, sp in held])

    def text(values: list[str]) -> npt.NDArray[np.object_]:
        return np.array(values, dtype=object)

    return YearLayout(
        year=year, paths=tuple(slots.paths), central=np.array(slots.central, dtype=np.float64),
        edges={c: v[order] for c, v in cols.items() if c != "tonnes"}, facilities=fac,
        fac_rows=np.arange(len(fac), dtype=np.int64),
        pair_row=position[ints(pair_edge)], pair_fac=ints(pair_fac), pair_coef=np.array(pair_coef, dtype=np.float64),
        pair_ref=np.array(pair_ref, dtype=np.float64), pair_kind=pair_kind,
        flow_out=d_out, flow_in=d_in,
        flow_row=position[:len(flow_ids)], flow_slot=ints(flow_slot), flow_ids=flow_ids,
        imp_row=position[ints(imp_edge)], imp_total=ints(imp_total), imp_share=ints(imp_share),
        imp_rest=ints(resting) >= 0, imp_weight=ints(imp_weight), imp_entry=ints(imp_entry),
        imp_listed=Groups.of(ints(listed), len(entries)), imp_resting=Groups.of(ints(resting), len(entries)),
        demand={"entity": text([f"demand.{did}" for did, _ in dem_items]), "market": text(dem_market),
                "country": text([d.country for _, d in dem_items]),
                "commodity": text([d.commodity for _, d in dem_items])},
        dem_slot=ints([t for t, _, _ in terms]), dem_growth=ints([g for _, g, _ in terms]),
        dem_years=np.array([n for _, _, n in terms], dtype=np.float64),
        stocks={"entity": text([f"stockpiles.{sid}" for sid, _ in held]), "market": text(st_market),
                "country": text([sp.country for _, sp in held]), "commodity": text([sp.commodity for _, sp in held])},
        st_level=st_level, st_months=st_months, st_share=st_share,
        st_in_months=np.array([sp.tonnes is None for _, sp in held], dtype=bool),
        st_dem=Groups.of(ints([st_markets.get(m, -1) for m in dem_market]), len(st_markets)),
        st_market=ints([st_markets[m] for m in st_market]), problems=problems,
    )


def central_tables(scenario: Scenario, lay: YearLayout) -> tuple[Columns, dict[str, FacilityYear], list[Problem],
                                                                 Columns, Columns]:
    """Evaluate a layout on its central values: what a run builds a year from.

    Returns
    -------
    observed : Columns
        The observed edges: ``supply``, ``input`` and ``trade`` from ``flows`` and ``imports``, sorted by ``edge``.
    facilities : dict
        Facility id -> :class:`~supplychain.graph.build.FacilityYear`.
    problems : list of Problem
        The layout's problems, then every facility whose direct flows exceed what it makes or uses.
    demand, stocks : Columns
        :func:`~supplychain.graph.allocate.demand_columns` and :func:`~supplychain.graph.allocate.stock_columns`.
    """
    values = lay.evaluate(lay.central[None])
    fac = lay.central_facilities(values)
    problems = list(lay.problems)
    flows = values.tonnes[0, lay.flow_row].tolist()
    for p in np.flatnonzero(values.over[0]).tolist():
        commodity, outgoing, direct = lay.pair_kind[p]
        fy = fac[lay.facilities[lay.fac_rows[lay.pair_fac[p]]].facility]
        problems.append(_flow_problem(scenario, lay.year, fy, commodity, float(values.made[0, p]),
                                      [(lay.flow_ids[i], flows[i]) for i in direct], outgoing=outgoing))
    observed = {**lay.edges, "tonnes": values.tonnes[0]}
    return (observed, fac, problems, {**lay.demand, "tonnes": values.demand[0]},
            {**lay.stocks, "available": values.available[0]})


def _flow_problem(scenario: Scenario, year: int, fy: FacilityYear, commodity: str, tonnes: float,
                  flows: list[tuple[str, float]], *, outgoing: bool) -> Problem:
    """Direct flows out of (into) a facility larger than what it makes (uses), located at the largest flow."""
    total = sum(t for _, t in flows)
    biggest = max(flows, key=lambda ft: (ft[1], ft[0]))[0]
    verb, noun = ("makes", "out of") if outgoing else ("uses", "into")
    unit = commodity_units(scenario).get(commodity, "t")
    ids = ", ".join(f"flows.{fid} ({format_number(t)} {unit})" for fid, t in flows)
    made, flowing = format_apart(tonnes, total)  # read different when they differ
    msg = (f"facility {fy.facility!r} {verb} {made} {unit} of {commodity} in {year} "
           f"({fy.how}), but flows {noun} it total {flowing} {unit}: {ids}")
    hint = (f"lower the flows, or raise the facility's production (key {format_path(fy.path)})" if outgoing
            else f"lower the flows, or raise the facility's production so that it uses them "
                 f"(key {format_path(fy.path)})")
    return problem_at(scenario, ("flows", biggest, "tonnes"), msg, hint)
