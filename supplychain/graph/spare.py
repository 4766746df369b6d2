r"""Spare capacity meets what a later year's paths leave short: the base network's supply response to demand.

A year's base network (:func:`~supplychain.graph.build.build_tables`) fixes every facility's
output before it closes the markets. After the base year a *given* output (``production``
for the year) is a projected path, not a record; where the year's demand is more than the
paths and the allocation rules can supply (a sampled demand above the rate the paths were
computed for, docs/uncertainty.md), the producers whose path stays below their capacity
raise their output to meet it, as a market short of a good draws on spare capacity
(docs/domain.md, "The material graph": capacity, production, utilisation). The rule, for a
year :math:`y` after the base year (:func:`meet_deficits`):

1. Close the markets (the allocation rules of :mod:`supplychain.graph.allocate`). For each
   commodity :math:`k`, :math:`D_k` is the sum of the deficits left over, the markets whose
   outflow exceeds their inflow beyond the balance tolerance
   (:func:`~supplychain.graph.allocate.tolerance`).
2. The *spare producers* of :math:`k` are the country aggregates (``kind: aggregate``) with a
   ``production`` figure for :math:`y`, making :math:`k`, whose capacity in :math:`y`,
   :math:`K_v` (:func:`~supplychain.graph.build.capacity_in_year`), exceeds that figure
   :math:`p_v`. With :math:`c_v = O_{vk} / p_v` the tonnes of :math:`k` per tonne of reference
   output and :math:`h_v = (K_v - p_v)\,c_v` the room in tonnes of :math:`k`, each raises its
   output of :math:`k` by its share of the deficit, pro rata to room, at most its room:

   .. math::

       p'_v = p_v + \min\!\left(1, \frac{D_k}{\sum_u h_u}\right) \frac{h_v}{c_v}

   (a facility short of room for several commodities — co-products — takes the largest raise).
   Its inputs rise with its output (its recipe), so an upstream market may now be short.
   Only aggregates respond: an aggregate stands for a country's industry of a stage, whose
   path the data compute as the balancing item (China's magnet, metal, separation and mine
   paths: the world's needs less the others' supply); a named plant's path is its operator's
   plan, tied to its own feed (Lynas Malaysia to Mt Weld through Kalgoorlie), and stays as given.
3. Rebuild the year with the raised outputs and repeat, until no market is short, no spare
   producer of a short commodity has room left, or :data:`MAX_PASSES` passes.

What is still short then is reported as before (:mod:`supplychain.graph.balance`): the world
has no more capacity for it. The base year keeps its recorded outputs (no raise). A scenario
whose years balance is not changed (no deficit, no raise): the rule only acts where the data
would otherwise leave a market short.

A raise is said, not only shown in the tables: :func:`raised_table` lists each aggregate whose
year's output is above its path (path, raised output, capacity, whether that capacity is an
assumption), :attr:`Result.raised <supplychain.api.Result>`, ``run``'s line and the report's
sentence (:func:`supplychain.report.engine_notes.raised_note`); a sweep keeps each sample's
(:attr:`SweepResult.raised <supplychain.uncertainty.result.SweepResult>`) and says in how many
samples (:func:`supplychain.report.engine_notes.sweep_raised_note`). The capacities the rule raises
into are as good as their figures: the bundled world's China aggregates (magnets 330,000 t
NdFeB product, metal 100,000 t, separation 120,000 t NdPr oxide, mining 450,000 t REO,
``scenarios/world/``) are derived capacities (assumptions) with no source: each is computed as the
room the sampled 7 %/yr extreme needs, rounded up to 10,000 t
(``tests/test_bundled_world.py::china_capacities``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from supplychain.errors import Problem
from supplychain.graph.allocate import market_flow_sums, tolerance
from supplychain.graph.build import Columns, FacilityYear, capacity_in_year, nameplate_in_year
from supplychain.schema.model import Scenario
from supplychain.schema.types import Quantity

__all__ = ["MAX_PASSES", "RAISED_COLUMNS", "RAISED_TOL", "deficits", "meet_deficits", "raised_outputs", "raised_over",
           "raised_table"]

MAX_PASSES = 12
"""Most rebuilds of a year (one per stage a raise travels up, with room for the pattern's re-spreading)."""

RAISED_COLUMNS: tuple[str, ...] = ("year", "facility", "country", "commodity", "path_t", "raised_t", "capacity_t",
                                   "assumed")
"""Columns of :func:`raised_table` (``Result.raised`` names them ``path``, ``raised``, ``capacity``)."""

RAISED_TOL = 1e-9
"""An output counts as raised when it exceeds its path by more than this share of the path (at least 1 unit)."""

YearEdges = tuple[Columns, dict[str, FacilityYear], list[Problem]]
_NO_RAISE = pd.DataFrame([], columns=list(RAISED_COLUMNS))


def deficits(edges: Columns) -> dict[str, float]:
    r"""Commodity → tonnes the year's markets are short after the allocation rules, :math:`D_k`.

    Examples
    --------
    >>> e = {"edge": np.array(["a", "b"]), "supplier": np.array(["m", "AU:ore"]),
    ...      "buyer": np.array(["AU:ore", "JP:ore"]), "tonnes": np.array([100.0, 150.0]),
    ...      "kind": np.array(["supply", "trade"])}
    >>> deficits(e)
    {'ore': 50.0}
    """
    markets, inflow, outflow, _ = market_flow_sums(edges)
    gap = inflow - outflow
    out: dict[str, float] = {}
    for i in np.flatnonzero(gap < -tolerance(inflow, outflow)).tolist():
        commodity = markets[i].split(":", 1)[1]
        out[commodity] = out.get(commodity, 0.0) - float(gap[i])
    return out


def raised_outputs(scenario: Scenario, year: int, facilities: dict[str, FacilityYear],
                   short: dict[str, float]) -> dict[str, float]:
    r"""Facility → its raised output :math:`p'_v` (tonnes of reference output), step 2 of the module's rule.

    Only facilities whose output rises are returned.

    Examples
    --------
    Two spare producers of magnets, room 30 t and 10 t; 20 t short: each covers half its room.

    >>> def fy(fid, p):
    ...     return FacilityYear(fid, "CN", "mag", p, None, "production", (), {"mag": p}, {}, True)
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "facilities": {f: {"name": f, "country": "CN", "kind": "aggregate", "output": "mag",
    ...                        "production": {2025: 100}, "capacity": cap} for f, cap in (("a", 130), ("b", 110))}})
    >>> raised_outputs(s, 2025, {"a": fy("a", 100.0), "b": fy("b", 100.0)}, {"mag": 20.0})
    {'a': 115.0, 'b': 105.0}
    """
    new: dict[str, float] = {}
    for commodity, short_t in sorted(short.items()):
        spare: list[tuple[str, float, float, float]] = []  # facility, p_v, c_v, h_v
        for fid, fy in sorted(facilities.items()):
            f = scenario.facilities.get(fid)
            made = fy.outputs.get(commodity, 0.0)
            if f is None or f.kind != "aggregate" or year not in f.production or made <= 0 or fy.production <= 0:
                continue
            cap = capacity_in_year(f, year)
            if cap is None or cap <= fy.production:
                continue
            per = made / fy.production
            spare.append((fid, fy.production, per, (cap - fy.production) * per))
        room = sum(h for *_, h in spare)
        if room <= 0:
            continue
        share = min(1.0, short_t / room)
        for fid, p, per, h in spare:
            new[fid] = max(new.get(fid, p), p + share * h / per)
    return {fid: p for fid, p in new.items() if p > facilities[fid].production}


def _with_outputs(scenario: Scenario, year: int, outputs: dict[str, float]) -> Scenario:
    """Return the scenario with the facilities' ``production`` of ``year`` set to the raised outputs."""
    facilities = dict(scenario.facilities)
    for fid, p in outputs.items():
        f = facilities[fid]
        given = f.production[year]
        q = Quantity(value=p, assumption=f"raised from {given.central:.6g} t to meet demand the year's paths leave "
                                         "short, within capacity (supplychain.graph.spare)")
        facilities[fid] = f.model_copy(update={"production": {**f.production, year: q}})
    return scenario.model_copy(update={"facilities": facilities})


def meet_deficits(scenario: Scenario, year: int, build: Callable[[Scenario], YearEdges]) -> YearEdges:
    """Return the year's closed edges after spare producers have met what is short (the module's rule).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    year : int
        A year after the base year (the base year keeps its recorded outputs: pass it to ``build`` alone).
    build : callable
        Scenario → the year's closed edge columns, facility years and facility problems
        (``supplychain.graph.build._closed_edges`` for the year).

    Returns
    -------
    tuple
        As ``build`` returns, of the scenario with the raised outputs (unchanged when nothing is short).
    """
    world = scenario
    edges, fac, problems = build(world)
    for _ in range(MAX_PASSES):
        short = deficits(edges)
        up = raised_outputs(world, year, fac, short) if short else {}
        if not up:
            break
        world = _with_outputs(world, year, up)
        edges, fac, problems = build(world)
    return edges, fac, problems


def raised_table(scenario: Scenario, year: int, nodes: pd.DataFrame) -> pd.DataFrame:
    r"""List the aggregates whose output in ``year``'s base network is above their path: the module's raise.

    An aggregate :math:`v` (``kind: aggregate``, a ``production`` figure :math:`p_v` for ``year``,
    a year after the base year) is raised when its node's ``production`` :math:`p'_v` (what
    :func:`meet_deficits` left) exceeds the path, :math:`p'_v > p_v + \epsilon \max(1, p_v)`
    (:math:`\epsilon` = :data:`RAISED_TOL`).

    Parameters
    ----------
    scenario : Scenario
        The scenario the tables were built from.
    year : int
        The year of ``nodes``.
    nodes : pandas.DataFrame
        The year's node table (:func:`~supplychain.graph.build.build_tables`: ``node``, ``kind``,
        ``country``, ``commodity``, ``production``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RAISED_COLUMNS`: ``path_t`` :math:`p_v`, ``raised_t`` :math:`p'_v`,
        ``capacity_t`` :math:`K_v` (:func:`~supplychain.graph.build.capacity_in_year`), all in
        tonnes of the reference output ``commodity``; ``assumed`` is true when the capacity
        figure in force has no ``source`` (an assumption). Largest raise first.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "facilities": {"a": {"name": "A", "country": "CN", "kind": "aggregate", "output": "mag",
    ...                          "production": {2024: 90, 2025: 100},
    ...                          "capacity": {"value": 150, "assumption": "headroom"}}}})
    >>> n = pd.DataFrame({"node": ["a"], "kind": ["facility"], "country": ["CN"], "commodity": ["mag"],
    ...                   "production": [110.0]})
    >>> raised_table(s, 2025, n).values.tolist()
    [[2025, 'a', 'CN', 'mag', 100.0, 110.0, 150.0, True]]
    >>> len(raised_table(s, 2024, n.assign(production=[95.0])))  # the base year is a record: never raised
    0
    """
    rows: list[tuple[object, ...]] = []
    later = year > scenario.scenario.base_year
    aggregates = [fid for fid, f in scenario.facilities.items()
                  if later and f.kind == "aggregate" and year in f.production]
    if aggregates:  # only they can be raised: their nodes are looked up, not every node read (per sample)
        at = pd.Index(nodes["node"]).get_indexer(aggregates).tolist()
        kind, country, commodity, made = (nodes[c].to_numpy() for c in ("kind", "country", "commodity", "production"))
        for i, fid in sorted((i, fid) for i, fid in zip(at, aggregates, strict=True) if i >= 0):  # in node order
            f = scenario.facilities[fid]
            path = f.production[year].central
            if kind[i] != "facility" or not float(made[i]) > path + RAISED_TOL * max(1.0, abs(path)):
                continue
            nameplate = nameplate_in_year(f, year)
            capacity = capacity_in_year(f, year)
            rows.append((year, fid, str(country[i]), str(commodity[i]), float(path), float(made[i]),
                         float(capacity) if capacity is not None else float("nan"),
                         nameplate is None or nameplate.source is None))
    if not rows:  # the common case (a sweep asks per sample and year): a copy, not a frame built anew
        return _NO_RAISE.copy()
    out = pd.DataFrame(rows, columns=list(RAISED_COLUMNS))
    order = (out["raised_t"] - out["path_t"]).sort_values(ascending=False, kind="stable").index
    return out.loc[order].reset_index(drop=True)


def raised_over(scenario: Scenario, nodes: Iterable[tuple[int, pd.DataFrame]]) -> pd.DataFrame:
    """List the raised aggregates of several years: :func:`raised_table` of each, in the years' order.

    ``nodes`` gives each year and its node table (built by the caller, who reads them for more than
    this: a run's year tables, a sweep sample's measures). Columns :data:`RAISED_COLUMNS`; no row
    when no year raised any output. The one list behind ``Result.raised`` and a sweep sample's
    raised rows.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "facilities": {"a": {"name": "A", "country": "CN", "kind": "aggregate", "output": "mag",
    ...                          "production": {2024: 90, 2025: 100, 2026: 100}, "capacity": 150}}})
    >>> n = pd.DataFrame({"node": ["a"], "kind": ["facility"], "country": ["CN"], "commodity": ["mag"],
    ...                   "production": [110.0]})
    >>> raised_over(s, [(2024, n), (2025, n), (2026, n.assign(production=[100.0]))]).values.tolist()
    [[2025, 'a', 'CN', 'mag', 100.0, 110.0, 150.0, True]]
    >>> list(raised_over(s, [(2024, n)]).columns) == list(RAISED_COLUMNS)
    True
    """
    frames = [t for year, table in nodes if len(t := raised_table(scenario, year, table))]
    return pd.concat(frames, ignore_index=True) if frames else _NO_RAISE.copy()
