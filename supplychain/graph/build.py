"""Node and edge tables of the supply graph for one year.

This module turns a validated :class:`~supplychain.schema.model.Scenario` into the
two tables every later stage reads (contract in ``docs/architecture.md``, section
"Contracts between stages"). The graph follows docs/domain.md, "The material graph":

* a **facility node** per facility (mine, plant, recycler, country aggregate);
* a **market node** ``"{country}:{commodity}"`` per country and commodity: the
  country's pool of that material — domestic output and imports flow in, exports,
  facility inputs and final use flow out;
* a **use node** ``"{country}:{commodity}:use"``: final consumption of a given
  demand (a sink the supply response protects);
* a **surplus node** ``"{country}:{commodity}:surplus"``: material whose destination
  the data do not give (a sink that is not demand: the response may cut it);
* a **stock node** ``"{country}:{commodity}:stock"``: stock drawn or built in the
  year (only where :mod:`supplychain.graph.allocate` needs one).

Edges are material flows in tonnes of the commodity's basis (docs/domain.md: "a material
flow from a supplier node to a buyer node in a year"). Every edge keeps the id of
the entity it came from, so a number in a result can always be traced back to a
line of the scenario. Tables are sorted by id: results never depend on the order
in which the YAML lists entities.

How facility production is found for a year (:func:`facility_year`):

1. ``production[year]`` when given;
2. else ``capacity_in_year × utilisation`` when both are known
   (:func:`capacity_in_year`: commissioning, linear ramp-up, capacity steps, closure);
3. else 0 t — the facility is still a node, so the network stays visible.

A converter's *activity* is its reference output divided by that output's process
coefficient; it supplies ``activity × coefficient`` of every output to its country's
market and draws ``activity × coefficient`` of every input from it. Trade comes from
``flows`` (supplier/buyer a facility id or a country/region code meaning that
country's market of the flow's commodity) and ``imports`` (one edge per partner,
``total × share``; the remainder to ``remainder_to``: :func:`import_split`). A flow to or
from a facility bypasses the facility's home market: the facility's own supply (or input)
edge is reduced by the direct flow (:func:`net_of_direct`). These formulas and demand growth
(:func:`grown`) take arrays: a year's layout (:mod:`supplychain.graph.layout`) calls them on
the central values for a run, on a block of samples for the compiled exposure sweep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.errors import KeyPath, Problem, ScenarioError
from supplychain.graph.sums import group_sums, is_market
from supplychain.schema.model import Demand, Facility, Scenario
from supplychain.schema.types import Quantity

__all__ = [
    "EDGE_COLUMNS",
    "NODE_COLUMNS",
    "BaseYear",
    "Columns",
    "FacilityYear",
    "base_tables",
    "base_year",
    "build_tables",
    "capacity_in_year",
    "concat_edges",
    "demand_in_year",
    "edge_columns",
    "edge_frame",
    "facility_year",
    "grown",
    "import_split",
    "market_id",
    "nameplate_at",
    "nameplate_in_year",
    "net_of_direct",
    "node_kind",
    "ramp_share",
    "remainder_part",
    "sort_edges",
    "stock_id",
    "surplus_id",
    "use_id",
]

NODE_COLUMNS: tuple[str, ...] = (
    "node",
    "kind",
    "country",
    "commodity",
    "stage",
    "facility",
    "facility_kind",
    "name",
    "primary",
    "capacity",
    "production",
    "basis",
)
"""Columns of the node table, in order (see ``docs/architecture.md``)."""

EDGE_COLUMNS: tuple[str, ...] = (
    "edge",
    "entity",
    "supplier",
    "buyer",
    "supplier_country",
    "buyer_country",
    "commodity",
    "stage",
    "tonnes",
    "kind",
    "allocated",
)
"""Columns of the edge table, in order (see ``docs/architecture.md``)."""


def market_id(country: str, commodity: str) -> str:
    """Id of the market node of a country and commodity.

    Examples
    --------
    >>> market_id("US", "ndpr_oxide")
    'US:ndpr_oxide'
    """
    return f"{country}:{commodity}"


def use_id(country: str, commodity: str) -> str:
    """Id of the final-use node of a country and commodity.

    Examples
    --------
    >>> use_id("US", "ndpr_oxide")
    'US:ndpr_oxide:use'
    """
    return f"{country}:{commodity}:use"


def surplus_id(country: str, commodity: str) -> str:
    """Id of the surplus node of a country and commodity: material with no known destination.

    Examples
    --------
    >>> surplus_id("MY", "dy_oxide")
    'MY:dy_oxide:surplus'
    """
    return f"{country}:{commodity}:surplus"


def node_kind(node: str) -> str:
    """Kind of a node from its id: ``market``, ``use``, ``surplus``, ``stock`` or ``facility``.

    Facility ids cannot contain ``:``; a market is ``country:commodity``; sinks and
    stocks add a third part (:func:`use_id`, :func:`surplus_id`, :func:`stock_id`).

    Examples
    --------
    >>> [node_kind(n) for n in ("mp", "US:ore", "US:ore:use", "MY:ore:surplus", "JP:ore:stock")]
    ['facility', 'market', 'use', 'surplus', 'stock']
    """
    parts = node.count(":")
    if parts == 0:
        return "facility"
    if parts == 1:
        return "market"
    return node.rsplit(":", 1)[1]


def stock_id(country: str, commodity: str) -> str:
    """Id of the stock node of a country and commodity.

    Examples
    --------
    >>> stock_id("JP", "dy_oxide")
    'JP:dy_oxide:stock'
    """
    return f"{country}:{commodity}:stock"


# ------------------------------------------------------------------ facilities
def capacity_in_year(facility: Facility, year: int) -> float | None:
    """Capacity of a facility in a year, tonnes of its reference output.

    Parameters
    ----------
    facility : Facility
        The facility.
    year : int
        Calendar year.

    Returns
    -------
    float or None
        ``None`` when no capacity is known for that year.

    Notes
    -----
    docs/domain.md, "The material graph": *capacity per year (with commissioning year and
    ramp-up)*. The rule, in order:

    * before ``commissioning_year`` and from ``closure_year`` on: 0;
    * the nameplate is ``capacity``, replaced by the latest ``capacity_changes``
      step whose ``year`` is at most `year` (steps apply at once, no ramp);
    * linear ramp-up of ``R = ramp_up_years`` years after commissioning in year
      ``c``: the nameplate times ``min(1, (year - c + 1) / (R + 1))`` — so the
      commissioning year runs at ``1/(R+1)`` and full capacity is reached ``R``
      years later (``R = 0``: full capacity at once).

    Examples
    --------
    >>> f = Facility.model_validate({"name": "New plant", "country": "US", "kind": "separation",
    ...     "process": "sep", "capacity": 900, "commissioning_year": 2026, "ramp_up_years": 2})
    >>> [capacity_in_year(f, y) for y in (2025, 2026, 2027, 2028, 2029)]
    [0.0, 300.0, 600.0, 900.0, 900.0]
    """
    share = ramp_share(facility, year)
    if share == 0.0:
        return 0.0
    nameplate = nameplate_in_year(facility, year)
    if nameplate is None:
        return None
    return float(nameplate.central * share)


def nameplate_in_year(facility: Facility, year: int) -> Quantity | None:
    """Return the nameplate in force in a year: ``capacity``, replaced by the latest ``capacity_changes`` step by then.

    The quantity itself, so its provenance (``source`` or ``assumption``) can be read;
    :func:`capacity_in_year` applies commissioning, ramp-up and closure to it. ``None`` when
    no capacity is given.

    Examples
    --------
    >>> f = Facility.model_validate({"name": "Mine", "country": "AU", "kind": "mine", "output": "ore",
    ...     "capacity": 100, "capacity_changes": [{"year": 2026, "capacity": 150}]})
    >>> [nameplate_in_year(f, y).central for y in (2025, 2026)]
    [100.0, 150.0]
    """
    found = nameplate_at(facility, year)
    return found[1] if found is not None else None


def nameplate_at(facility: Facility, year: int) -> tuple[tuple[str | int, ...], Quantity] | None:
    """Return the nameplate in force in a year (:func:`nameplate_in_year`) and its key path below the facility."""
    found: tuple[tuple[str | int, ...], Quantity] | None = (("capacity",), facility.capacity) \
        if facility.capacity is not None else None  # fmt: skip
    for i, step in sorted(enumerate(facility.capacity_changes), key=lambda s: s[1].year):
        if step.year <= year:
            found = (("capacity_changes", i, "capacity"), step.capacity)
    return found


def ramp_share(facility: Facility, year: int) -> float:
    """Share of the nameplate a facility can run at in a year (commissioning, ramp-up, closure).

    Parameters
    ----------
    facility : Facility
        The facility; ``commissioning_year`` and ``ramp_up_years`` may be quantities
        (sampled in Monte Carlo), read as whole years
        (:attr:`~supplychain.schema.model.Facility.commissioning`, ``ramp_years``).
    year : int
        Calendar year.

    Returns
    -------
    float
        0 before commissioning and from ``closure_year`` on; ``min(1, (year - c + 1) / (R + 1))``
        from commissioning ``c`` on with ramp-up ``R`` (see :func:`capacity_in_year`); 1 for a
        facility operating before the base year.

    Examples
    --------
    >>> f = Facility.model_validate({"name": "P", "country": "US", "kind": "magnet", "process": "sinter",
    ...     "commissioning_year": {"value": 2028, "dist": "choice", "choices": [2028, 2029]}, "ramp_up_years": 1})
    >>> [ramp_share(f, y) for y in (2027, 2028, 2029)]
    [0.0, 0.5, 1.0]
    """
    if facility.closure_year is not None and year >= facility.closure_year:
        return 0.0
    c = facility.commissioning
    if c is None:
        return 1.0
    if year < c:
        return 0.0
    return min(1.0, (year - c + 1) / (facility.ramp_years + 1))


@dataclass(frozen=True)
class FacilityYear:
    """What a facility produces and consumes in one year (tonnes).

    Attributes
    ----------
    facility : str
        Facility id.
    country : str
        Where it is.
    reference : str
        Commodity its capacity and production are stated in.
    production : float
        Tonnes of the reference output.
    capacity : float or None
        Capacity in the year (:func:`capacity_in_year`), ``None`` when unknown.
    how : str
        ``"production"`` (given), ``"capacity x utilisation"`` or ``"unknown"`` (0 t).
    path : tuple
        Key path of the figure the production came from (to locate problems).
    outputs, inputs : dict
        Commodity -> tonnes in the year (``activity × coefficient``).
    primary : bool
        True for a producer without tracked inputs (a mine, or a process with no
        inputs): its output is primary production ``p(v)`` in docs/domain.md's notation.
    problems : list of Problem
        Problems found while working this out (e.g. a zero reference coefficient).
    """

    facility: str
    country: str
    reference: str
    production: float
    capacity: float | None
    how: str
    path: KeyPath
    outputs: dict[str, float]
    inputs: dict[str, float]
    primary: bool
    problems: list[Problem] = field(default_factory=list)


def facility_year(scenario: Scenario, facility_id: str, year: int) -> FacilityYear:
    """Production, outputs and inputs of one facility in one year.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    facility_id : str
        Id in ``scenario.facilities``.
    year : int
        Calendar year.

    Returns
    -------
    FacilityYear

    Notes
    -----
    Production is ``production[year]`` if given, else ``capacity(year) ×
    utilisation`` if both are known, else 0 (module docstring). For a converter,
    ``activity = production / c_ref`` with ``c_ref`` the process coefficient of the
    reference output; outputs and inputs are ``activity × coefficient``.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "processes": {"sep": {"inputs": {"ore": 2}, "outputs": {"oxide": 1}}},
    ...     "facilities": {"p": {"name": "P", "country": "JP", "kind": "separation",
    ...                          "process": "sep", "production": {2024: 30}}}})
    >>> fy = facility_year(s, "p", 2024)
    >>> fy.outputs, fy.inputs
    ({'oxide': 30.0}, {'ore': 60.0})
    """
    from supplychain.graph.layout import facility_at_central

    return facility_at_central(scenario, facility_id, year)


def demand_in_year(demand: Demand, year: int) -> float:
    """Compute the final consumption of one demand entry in a year.

    Notes
    -----
    ``by_year[year]`` when given; else ``tonnes × (1 + growth)^(year − demand.year)``
    (docs/domain.md, "Demand": consumption by country, commodity and year, with growth).
    Years before ``demand.year`` are back-cast with the same growth rate.

    Examples
    --------
    >>> d = Demand.model_validate({"country": "US", "commodity": "ndpr_oxide", "year": 2024,
    ...                            "tonnes": 100, "growth": 0.1, "by_year": {2030: 500}})
    >>> round(demand_in_year(d, 2026), 6), demand_in_year(d, 2030)
    (121.0, 500.0)
    """
    from supplychain.graph.layout import demand_at_central

    return demand_at_central("", demand, year)


Numbers = TypeVar("Numbers", float, npt.NDArray[np.float64])
"""Scalars (one run) or arrays (a block of samples): the formulas below take either."""


def grown(tonnes: Numbers, growth: Numbers, years: Numbers) -> Numbers:
    r"""Return demand grown over a number of years, :math:`t \, (1 + g)^{n}`.

    The one formula of demand growth (docs/domain.md, "Demand"), called by a year's layout
    (:meth:`~supplychain.graph.layout.YearLayout.evaluate`: the central values for a run, a
    block of samples for the compiled exposure sweep) and :func:`demand_in_year`.

    Parameters
    ----------
    tonnes : float or numpy.ndarray
        Demand :math:`t` in the entry's year.
    growth : float or numpy.ndarray
        Growth rate :math:`g` a year.
    years : float or numpy.ndarray
        Years :math:`n` from the entry's year (negative: back-cast); broadcast against the others.

    Examples
    --------
    >>> round(float(grown(100.0, 0.1, 2.0)), 6)
    121.0
    >>> grown(np.array([[100.0, 50.0]]), np.array([[0.1, 0.0]]), np.array([0.0, 3.0])).tolist()
    [[100.0, 50.0]]
    """
    factor = np.asarray(_POW(1.0 + growth, years), dtype=np.float64)
    out: Numbers = tonnes * factor  # type: ignore[assignment]  # a float times a 0-d array is a numpy float
    return out


_POW = np.frompyfunc(math.pow, 2, 1)
"""The C library's ``pow`` elementwise (as Python's ``**``; numpy's own ``power`` may differ in the last bit)."""


# ------------------------------------------------------------------ the tables
Columns = dict[str, npt.NDArray[Any]]
"""A table as one array per column (text as objects): the graph stage's working form of its tables.

The edge table is one (:data:`EDGE_COLUMNS`, ``tonnes`` float64, ``allocated`` bool) until
:func:`build_tables` returns it as a frame (:func:`edge_frame`); a few hundred rows pass
through every step of a year, so the steps work on arrays, not on small frames.
"""

_EDGE_DTYPES = {c: np.dtype("float64") if c == "tonnes" else np.dtype("bool") if c == "allocated"
                else np.dtype("object") for c in EDGE_COLUMNS}


def edge_columns(edges: pd.DataFrame) -> Columns:
    """Return an edge table's contract columns as arrays in the contract's dtypes (:data:`Columns`)."""
    return {c: edges[c].to_numpy(dtype=_EDGE_DTYPES[c]) for c in EDGE_COLUMNS}


def edge_frame(edges: Columns) -> pd.DataFrame:
    """Return edge columns (:data:`Columns`) as an edge table, columns :data:`EDGE_COLUMNS`."""
    return pd.DataFrame({c: edges[c] for c in EDGE_COLUMNS})


def concat_edges(*parts: Columns) -> Columns:
    """Return the rows of edge columns one after another."""
    return {c: np.concatenate([p[c] for p in parts]) for c in EDGE_COLUMNS}


def sort_edges(edges: Columns) -> Columns:
    """Return edge columns sorted by ``edge`` (stable: rows of one id keep their order)."""
    order = np.argsort(edges["edge"], kind="stable")
    return {c: v[order] for c, v in edges.items()}


class _EdgeRows:
    """Edges collected one at a time as rows, turned into edge columns by :meth:`columns`."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str, str, str, str, float, str, bool]] = []

    def add(self, edge: str, entity: str, supplier: str, buyer: str, s_country: str, b_country: str,
            commodity: str, stage: str, tonnes: float, kind: str, allocated: bool = False) -> None:
        self.rows.append((edge, entity, supplier, buyer, s_country, b_country, commodity, stage, float(tonnes), kind,
                          allocated))

    def columns(self) -> Columns:
        """Return the rows so far as edge columns, in the order they were added."""
        values = zip(*self.rows, strict=True) if self.rows else ([] for _ in EDGE_COLUMNS)
        return {c: np.array(v, dtype=_EDGE_DTYPES[c]) for c, v in zip(EDGE_COLUMNS, values, strict=True)}


def _stage(scenario: Scenario, commodity: str) -> str:
    c = scenario.commodities.get(commodity)
    return c.stage if c is not None else ""


def net_of_direct(made: npt.NDArray[np.float64],
                  sent: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    r"""Return a facility's supply (input) edge net of its direct flows, and where those flows are too large.

    A flow from (to) a facility bypasses its home market (module docstring): of the
    :math:`g` tonnes the facility makes (uses), :math:`\max(0, g - f)` go to (come from) the
    market, with :math:`f` the tonnes of its direct flows; the flows are *over* when
    :math:`f > g (1 + 10^{-6}) + 10^{-6}` (a problem in a run, a failed sample in a sweep).
    The one formula: a year's layout calls it for its facilities
    (:meth:`~supplychain.graph.layout.YearLayout.evaluate`: one sample for a run, a block for the sweep).

    Parameters
    ----------
    made : numpy.ndarray
        :math:`g`, tonnes made (used) of the commodity.
    sent : numpy.ndarray
        :math:`f`, tonnes of the direct flows, shaped as `made`.

    Returns
    -------
    net : numpy.ndarray
        :math:`\max(0, g - f)`.
    over : numpy.ndarray of bool
        :math:`f > g (1 + 10^{-6}) + 10^{-6}`.

    Examples
    --------
    >>> net, over = net_of_direct(np.array([100.0, 100.0, 100.0]), np.array([40.0, 100.00005, 101.0]))
    >>> [round(x, 6) for x in net.tolist()], over.tolist()
    ([60.0, 0.0, 0.0], [False, False, True])
    """
    net: npt.NDArray[np.float64] = np.maximum(0.0, made - sent)
    over: npt.NDArray[np.bool_] = sent > made * (1 + 1e-6) + 1e-6
    return net, over


def import_split(total: npt.NDArray[np.float64], shares: npt.NDArray[np.float64],
                 listed: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    r"""Split an import entry's total over its partners: :math:`T s_p` to each, :math:`T r` to ``remainder_to``.

    With total :math:`T` and listed shares :math:`s_p`, the remainder share is
    :math:`r = \max(0, 1 - \sum_p s_p)`, dropped (:math:`r = 0`, no edge) when
    :math:`r T \le 10^{-9} \max(T, 1)`: shares that add up to 1 within round-off leave
    nothing to ``remainder_to``. The one formula: a year's layout calls it for its import rows
    (:meth:`~supplychain.graph.layout.YearLayout.evaluate`: one sample for a run, a block for the sweep).

    Parameters
    ----------
    total : numpy.ndarray
        :math:`T`, broadcast against `shares`.
    shares : numpy.ndarray
        :math:`s_p`.
    listed : numpy.ndarray
        :math:`\sum_p s_p` (summed by the caller, over its layout of the partners), shaped as `total`.

    Returns
    -------
    to_partner : numpy.ndarray
        :math:`T s_p`, shaped as `shares`.
    to_rest : numpy.ndarray
        :math:`T r`, shaped as `total` (0 when dropped).

    Examples
    --------
    >>> to_p, to_r = import_split(np.array(100.0), np.array([0.5, 0.3]), np.array(0.8))
    >>> to_p.tolist(), round(float(to_r), 9)
    ([50.0, 30.0], 20.0)
    >>> float(import_split(np.array(100.0), np.array([0.5, 0.5 - 1e-12]), np.array(1.0 - 1e-12))[1])
    0.0
    """
    rest = np.maximum(0.0, 1.0 - listed)
    rest = np.where(rest * total > 1e-9 * np.maximum(total, 1.0), rest, 0.0)
    to_partner: npt.NDArray[np.float64] = total * shares
    to_rest: npt.NDArray[np.float64] = total * rest
    return to_partner, to_rest


def remainder_part(to_rest: npt.NDArray[np.float64], weight: npt.NDArray[np.float64],
                   weight_sum: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    r"""Split an import entry's remainder :math:`T r` over its partners: :math:`T r \, w_q / \sum_{q'} w_{q'}`.

    ``remainder_to`` is one partner of weight 1 (all of :math:`T r`); ``remainder_split``
    gives the weights :math:`w_q`, e.g. the shares of a recorded split, so that a sampled share
    of a listed partner leaves the others their proportions. The sum of the weights is 0 only
    where a sample draws every weight at 0: the remainder then has no partner and is 0.

    Parameters
    ----------
    to_rest : numpy.ndarray
        :math:`T r` (:func:`import_split`), per remainder row.
    weight, weight_sum : numpy.ndarray
        :math:`w_q` and :math:`\sum_{q'} w_{q'}` over the entry's remainder partners, shaped as `to_rest`.

    Examples
    --------
    >>> remainder_part(np.array([20.0, 20.0]), np.array([0.6, 0.2]), np.array([0.8, 0.8])).tolist()
    [15.0, 5.0]
    >>> remainder_part(np.array([20.0]), np.array([1.0]), np.array([1.0])).tolist()
    [20.0]
    """
    positive = weight_sum > 0
    part: npt.NDArray[np.float64] = np.where(positive, to_rest * weight / np.where(positive, weight_sum, 1.0), 0.0)
    return part


def _node_table(scenario: Scenario, edges: Columns, fac: dict[str, FacilityYear],
                stock_draws: dict[str, float]) -> pd.DataFrame:
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    about: dict[str, tuple[str, str, str]] = {}  # commodity → stage, name, basis (looked up once each)

    def commodity(c: str) -> tuple[str, str, str]:
        if c not in about:
            info = scenario.commodities.get(c)
            about[c] = (info.stage, info.name, info.basis) if info is not None else ("", c, "t")
        return about[c]

    for fid, fy in fac.items():
        f = scenario.facilities[fid]
        stage, _, basis = commodity(fy.reference)
        add((fid, "facility", fy.country, fy.reference, stage, fid, f.kind, f.name,
             fy.production if fy.primary else 0.0, fy.capacity if fy.capacity is not None else math.nan,
             fy.production, basis))
    ids: set[str] = set(edges["supplier"].tolist()).union(edges["buyer"].tolist()) - set(fac)
    suffixes = {"market": "", "use": " use", "surplus": " surplus", "stock": " stock"}
    for node in sorted(ids):
        parts = node.split(":")
        country, com = parts[0], parts[1] if len(parts) > 1 else ""
        kind = "market" if len(parts) == 2 else parts[2] if len(parts) == 3 else "unknown"
        stage, name, basis = commodity(com)
        add((node, kind, country, com, stage, "", "", f"{country} {name}{suffixes.get(kind, '')}",
             stock_draws.get(node, 0.0) if kind == "stock" else 0.0, math.nan, 0.0, basis))
    floats = {"primary", "capacity", "production"}
    values = zip(*rows, strict=True) if rows else ([] for _ in NODE_COLUMNS)
    arrays = {c: np.array(v, dtype=np.float64 if c in floats else object)
              for c, v in zip(NODE_COLUMNS, values, strict=True)}
    order = np.argsort(arrays["node"], kind="stable")
    return pd.DataFrame({c: v[order] for c, v in arrays.items()})


@dataclass(frozen=True)
class BaseYear:
    """What a later year carries over from the base year: its edges and its facilities' output and input.

    Built once per scenario by :func:`base_year` and passed to :func:`build_tables` for every
    later year (:mod:`supplychain.graph.pattern`).
    """

    columns: Columns
    """The base year's edge table as edge columns (:data:`Columns`)."""
    facilities: dict[str, FacilityYear]
    """The base year's facilities."""


def base_year(scenario: Scenario) -> BaseYear:
    """Build the base year's edges once, as :func:`build_tables` carries them to later years."""
    edges, fac, _ = _year_edges(scenario, scenario.scenario.base_year, None)
    return BaseYear(edges, fac)


def base_tables(scenario: Scenario, *, check_balance: bool = True) -> tuple[BaseYear, pd.DataFrame, pd.DataFrame]:
    """Return the base year's :class:`BaseYear` and its node and edge tables, its edges built once.

    What :func:`base_year` and :func:`build_tables` of the base year give, for a caller that
    needs both (a simulation from the base year on).

    Raises
    ------
    ScenarioError
        As :func:`build_tables`.
    """
    year = scenario.scenario.base_year
    edges, fac, problems = _year_edges(scenario, year, None)
    nodes, table = _finish_tables(scenario, year, edges, fac, problems, check_balance=check_balance)
    return BaseYear(edges, fac), nodes, table


def _ratios(now: dict[str, FacilityYear], then: dict[str, FacilityYear]) -> tuple[dict[tuple[str, str], float],
                                                                              dict[tuple[str, str], float]]:
    """(facility, commodity) → output (input) in the year over the base year's (facilities in both)."""
    out: dict[tuple[str, str], float] = {}
    inp: dict[tuple[str, str], float] = {}
    for fid, fy in now.items():
        before = then.get(fid)
        if before is None:
            continue
        for k, t in fy.outputs.items():
            b = before.outputs.get(k, 0.0)
            if b > 0:
                out[(fid, k)] = t / b
        for k, t in fy.inputs.items():
            b = before.inputs.get(k, 0.0)
            if b > 0:
                inp[(fid, k)] = t / b
    return out, inp


def _merge_duplicates(edges: Columns) -> Columns:
    """Sum the tonnes of edges that share an id (the first row's other columns kept); ``edges`` sorted by id."""
    ids = edges["edge"]
    tonnes = group_sums(ids.tolist(), edges["tonnes"].tolist())
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    out = {c: v[first] for c, v in edges.items()}
    out["tonnes"] = np.array([tonnes[e] for e in out["edge"].tolist()], dtype=np.float64)
    return out


def _year_edges(scenario: Scenario, year: int, base: BaseYear | None) -> tuple[Columns, dict[str, FacilityYear],
                                                                               list[Problem]]:
    """Edge columns of a year (:func:`build_tables`, before the node table and the balance check).

    After the base year, spare capacity meets what the year's paths leave short
    (:func:`supplychain.graph.spare.meet_deficits`).
    """
    if year <= scenario.scenario.base_year:
        return _closed_edges(scenario, year, None)
    from supplychain.graph.spare import meet_deficits

    carried = base if base is not None else base_year(scenario)
    return meet_deficits(scenario, year, lambda world: _closed_edges(world, year, carried))


def _closed_edges(scenario: Scenario, year: int, base: BaseYear | None) -> tuple[Columns, dict[str, FacilityYear],
                                                                                 list[Problem]]:
    """Return a year's observed edges (after the base year: its pattern carried) closed by the allocation rules."""
    from supplychain.graph.allocate import allocate_columns
    from supplychain.graph.layout import central_tables, year_layout
    from supplychain.graph.pattern import carry_pattern

    observed, fac, problems, demand, stocks = central_tables(scenario, year_layout(scenario, year))
    if base is not None:
        out_ratio, in_ratio = _ratios(fac, base.facilities)
        observed = carry_pattern(base.columns, observed, demand, out_ratio, in_ratio)
    edges = allocate_columns(observed, demand, stocks, stage_of=lambda c: _stage(scenario, c))
    ids = edges["edge"]
    if np.any(ids[1:] == ids[:-1]):  # the rule topped up a pair the base year's allocation carried over
        edges = _merge_duplicates(edges)
    return edges, fac, problems


def build_tables(scenario: Scenario, year: int, *, check_balance: bool = True,
                 base: BaseYear | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge tables of the supply graph in one year, with baseline flows.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    year : int
        Calendar year.
    check_balance : bool, default True
        Raise when a market is out of balance after allocation (see
        :func:`supplychain.graph.balance.balance_problems`) or a flow takes more
        out of a facility than it makes. With ``False`` the (unbalanced) tables
        are returned as they are.
    base : BaseYear, optional
        The base year's tables (:func:`base_year`), for a later year: its trade pattern is
        carried over (:mod:`supplychain.graph.pattern`). Built here when not given.

    Returns
    -------
    nodes : DataFrame
        One row per node, columns :data:`NODE_COLUMNS`, sorted by ``node``.
    edges : DataFrame
        One row per edge, columns :data:`EDGE_COLUMNS`, sorted by ``edge``.

    Raises
    ------
    ScenarioError
        With one located :class:`~supplychain.errors.Problem` per unbalanced market
        or over-drawn facility, when `check_balance` is true.

    Notes
    -----
    Observed edges (module docstring); after the base year, the base year's trade pattern
    scaled to the year's volumes (:func:`supplychain.graph.pattern.carry_pattern`); then
    final use, allocation of unobserved trade and stock changes
    (:func:`supplychain.graph.allocate.allocate`), then the mass balance of every market
    (:mod:`supplychain.graph.balance`). Groups are not nodes; region codes such as ``ROW``
    are countries here.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "toy", "base_year": 2024},
    ...     "commodities": {"ore": {"name": "Ore", "stage": "ore"}},
    ...     "facilities": {"m": {"name": "Mine", "country": "AU", "kind": "mine", "output": "ore",
    ...                          "production": {2024: 100}}},
    ...     "flows": {"au_jp": {"supplier": "AU", "buyer": "JP", "commodity": "ore", "year": 2024,
    ...                         "tonnes": 40}}})
    >>> nodes, edges = build_tables(s, 2024)
    >>> list(nodes["node"])
    ['AU:ore', 'AU:ore:surplus', 'JP:ore', 'JP:ore:surplus', 'm']
    >>> print(edges[["edge", "supplier", "buyer", "tonnes"]].to_string(index=False))
              edge supplier          buyer  tonnes
       flows.au_jp   AU:ore         JP:ore    40.0
      supply.m.ore        m         AU:ore   100.0
    surplus.AU:ore   AU:ore AU:ore:surplus    60.0
    surplus.JP:ore   JP:ore JP:ore:surplus    40.0
    """
    edges, fac, problems = _year_edges(scenario, year, base)
    return _finish_tables(scenario, year, edges, fac, problems, check_balance=check_balance)


def _finish_tables(scenario: Scenario, year: int, edges: Columns, fac: dict[str, FacilityYear],
                   problems: list[Problem], *, check_balance: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge tables of a year's edge columns, its balance checked (:func:`build_tables`)."""
    from supplychain.graph.balance import balance_problems

    draws = (edges["kind"] == "stock") & is_market(edges["buyer"])
    stock_draws = group_sums(edges["supplier"][draws].tolist(), edges["tonnes"][draws].tolist())
    nodes = _node_table(scenario, edges, fac, {str(k): float(v) for k, v in stock_draws.items()})
    table = edge_frame(edges)
    if check_balance:
        problems = problems + balance_problems(scenario, year, nodes, table, facilities=fac)
        if problems:
            raise ScenarioError(problems)
    return nodes, table
