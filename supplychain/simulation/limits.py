r"""What limits supply: which capacity, once added, would cut a year's shortfall.

A shortfall under a ban is set by some stage of the supply chain outside the banned
country running out of capacity (in the bundled full ban, NdPr metal making outside
China). Which one is not visible from the shortfall itself: a stage can run at capacity
without binding (its output sold elsewhere) and a stage that binds can look unremarkable.
:func:`capacity_limits` answers it the way an analyst would check by hand, by re-running
the same model with more capacity:

1. solve the run (scenario, variant, toggles, allocation rule) and take, in ``year``,
   every facility outside the source country that runs at capacity
   (output :math:`\ge K_v (1 - 10^{-6})`, :math:`K_v` the re-routing LP's capacity) and
   makes a commodity from which a short commodity is made (its ancestors in the
   scenario's processes, or the commodity itself);
2. group those facilities by the commodity they make (a *stage*), and for each stage solve
   again with every one of its facilities' capacity in ``year`` raised by ``step``
   (default 10 %), then once with every stage raised together;
3. the **relief** of a stage on a short commodity k is the fall of k's unmet demand,
   summed over its users: :math:`U_k - U_k^{+}` (tonnes of k).

A stage with relief binds; one without does not, on its own — two stages that bind only
together (e.g. metal and a heavy rare earth both at their limit) each show no relief, and
the last row, every stage raised together, shows it. Relief is measured on the model, so
it is exact for the model and as good as its capacities: an assumed capacity gives an
assumed bottleneck. Only the ``rebalance`` response can use added capacity (``fixed``
keeps the trade pattern, so its relief is 0 by construction).

The capacity is raised in the LP of ``year`` only (``Simulator(capacity_scale=...)``): the
facility's :math:`K_v` times :math:`1 + \text{step}`, its baseline output and every other year
unchanged, so the fixed response (``contracts_first``'s floors) is the same. A scenario
without stockpiles carries nothing from one year to the next, so ``year`` alone is simulated;
with stockpiles (drawn in one year, gone the next) every year up to ``year`` is. The runs of
one call share a :class:`~supplychain.simulation.run.Simulator` without exposure measures (the
tables and the compiled LP are made once) and each starts its solves from scratch
(:meth:`~supplychain.simulation.run.Simulator.restart`), so a stage's relief does not depend
on the stages solved before it; it equals that of a simulator of its own up to the solver's
round-off (on the bundled scenarios' report, within 2e-11 t).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import networkx as nx
import pandas as pd

from supplychain.errors import ScenarioError
from supplychain.graph.build import capacity_in_year, nameplate_in_year
from supplychain.io.load import as_scenario
from supplychain.metrics.measures import resolve_source
from supplychain.schema.model import Scenario
from supplychain.schema.units import commodity_units
from supplychain.simulation.rationing import Rule
from supplychain.simulation.run import RunOutput, Simulator
from supplychain.simulation.toggles import apply_switches, resolve_toggles

__all__ = ["AT_CAPACITY", "COLUMNS", "TOGETHER", "capacity_is_sourced", "capacity_limits", "upstream_commodities"]

AT_CAPACITY: Final = 1e-6
"""A facility runs at capacity when its spare capacity is at most this share of it."""

ROUND_OFF: Final = 1e-9
"""Relief within this share of the unmet demand, either way, is the solver's round-off, reported as 0."""

COLUMNS: Final = ["year", "stage", "stage_unit", "facilities", "assumed", "capacity", "added", "commodity", "unit",
           "unmet", "relief", "relief_share"]
"""Columns of :func:`capacity_limits`."""
TOGETHER: Final = "every stage above together"
"""``stage`` of the last row: all stages raised at once."""


def upstream_commodities(scenario: Scenario, commodities: Sequence[str]) -> set[str]:
    """Commodities from which any of ``commodities`` is made (through the processes), and those themselves.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> sc = Scenario.model_validate({
    ...     "scenario": {"name": "x", "base_year": 2024},
    ...     "commodities": {k: {"name": k, "stage": s} for k, s in
    ...                     [("ore", "ore"), ("oxide", "oxide"), ("metal", "metal"), ("ga", "oxide")]},
    ...     "processes": {"sep": {"inputs": {"ore": 1}, "outputs": {"oxide": 1}},
    ...                   "met": {"inputs": {"oxide": 1.2}, "outputs": {"metal": 1}}}})
    >>> sorted(upstream_commodities(sc, ["metal"]))
    ['metal', 'ore', 'oxide']
    """
    g: nx.DiGraph[str] = nx.DiGraph()
    for proc in scenario.processes.values():
        g.add_edges_from((i, o) for i in proc.inputs for o in proc.outputs)
    out = set(commodities)
    for k in commodities:
        if k in g:
            out |= nx.ancestors(g, k)
    return out


def capacity_limits(
    scenario: Scenario | str | Path,
    year: int,
    *,
    variant: str | None = None,
    toggles: Mapping[str, bool] | None = None,
    allocation: Rule | None = None,
    source: str | None = None,
    step: float = 0.10,
    commodities: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Which stage's capacity limits a year's shortfall: relief per stage raised by ``step`` (module docstring).

    Parameters
    ----------
    scenario : Scenario or path
        A validated scenario, or the path of a scenario file to load.
    year : int
        The year whose shortfall is explained (one of the scenario's years).
    variant, toggles, allocation
        As :func:`supplychain.api.simulate` (the ``rebalance`` response).
    source : str, optional
        Country or group whose facilities are left out (default: the scenario's source country).
    step : float
        Capacity added to every facility of a stage, as a share of its capacity (default 0.10).
    commodities : sequence of str, optional
        Explain the shortfall of these commodities only (default: every commodity short in ``year``).

    Returns
    -------
    pandas.DataFrame
        One row per stage and short commodity made from it, stages by falling relief, then the rows of every
        stage raised together (``stage`` = :data:`TOGETHER`): ``year``, ``stage`` (commodity the
        facilities make) and ``stage_unit``, ``facilities`` (ids, comma-separated), ``assumed``
        (those of them whose capacity in the year is an assumption of the scenario, not a sourced
        figure: :func:`capacity_is_sourced`), ``capacity``
        (:math:`\sum K_v` in the year; NaN for every stage together) and ``added``
        (``step`` × capacity), ``commodity`` (short)
        and its ``unit``, ``unmet`` (:math:`U_k`, tonnes of all its users), ``relief``
        (:math:`U_k - U_k^+`) and ``relief_share`` (:math:`(U_k - U_k^+)/U_k`). Empty when
        nobody is short in ``year``.

    Raises
    ------
    ScenarioError
        ``year`` outside the scenario's years, ``step`` not positive, or an unknown variant,
        toggle, toggle state, commodity or ``allocation`` (located ``argument NAME=``, as
        :func:`supplychain.api.simulate`'s).

    Examples
    --------
    The bundled full ban: outside China, NdPr metal making binds the magnet shortfall (the
    magnet recipe takes 0.30 t metal per t magnet, so 390 t more metal make 1,300 t more magnets).

    >>> lim = capacity_limits("scenarios/china_full_ban_2025.yaml", 2030)
    >>> lim.loc[0, ["stage", "commodity"]].tolist(), lim.loc[0, ["added", "relief"]].astype(float).round(1).tolist()
    (['ndpr_metal', 'ndfeb_magnet'], [390.0, 1300.0])
    """
    from supplychain.arguments import argument_error, check_name, check_year

    scenario = as_scenario(scenario)
    check_year(year, scenario.years)
    unknown = [p for k in commodities or () if (p := check_name("commodities", k, scenario.commodities,
                                                                "commodity")) is not None]
    if unknown:
        raise ScenarioError(unknown)
    if not step > 0:
        raise argument_error("step", f"step must be a positive share of capacity, not {step!r}",
                             "give e.g. step=0.10 (capacity raised by 10 %)")
    source = source or scenario.scenario.source_country
    banned = resolve_source(scenario, source)
    run = (variant, toggles)
    years = [y for y in scenario.years if y <= year] if scenario.stockpiles else [year]
    world = apply_switches(scenario, resolve_toggles(scenario, variant=variant, overrides=toggles))
    sim = Simulator(world, years=years, source=source, allocation=allocation, exposure=False)
    base = _run(sim, run)
    unmet = _unmet(base, year)
    if commodities is not None:
        unmet = {k: v for k, v in unmet.items() if k in set(commodities)}
    if not unmet:
        return pd.DataFrame(columns=COLUMNS)
    feeds = {k: upstream_commodities(scenario, [k]) for k in unmet}  # what each short commodity is made from
    up = set().union(*feeds.values())
    util = base.utilisation
    util = util[(util["year"] == year) & util["commodity"].isin(up)]
    cap = util["capacity_t"].to_numpy(dtype=float)
    full = (cap > 0) & (util["spare_t"].to_numpy(dtype=float) <= AT_CAPACITY * cap) \
        & ~util["country"].astype(str).isin(banned).to_numpy()
    util = util[full]
    stages = {str(k): g for k, g in util.groupby("commodity", sort=True)}
    units = commodity_units(scenario)
    rows: list[dict[str, object]] = []
    for stage, g in stages.items():
        more = _run(sim, run, {year: dict.fromkeys(g["facility"], 1 + step)})
        short = {k: u for k, u in unmet.items() if stage in feeds[k]}
        rows += _rows(scenario, year, str(stage), g, step, short, _unmet(more, year), units)
    rows.sort(key=lambda r: (-float(r["relief"]), str(r["stage"]), str(r["commodity"])))  # type: ignore[arg-type]
    if len(stages) > 1:
        together = pd.concat(list(stages.values()))
        more = _run(sim, run, {year: dict.fromkeys(together["facility"], 1 + step)})
        rows += _rows(scenario, year, TOGETHER, together, step, unmet, _unmet(more, year), units)
    return pd.DataFrame(rows, columns=COLUMNS)


def _run(sim: Simulator, run: tuple[str | None, Mapping[str, bool] | None],
         scale: Mapping[int, Mapping[str, float]] | None = None) -> RunOutput:
    """Simulate ``run`` with the capacities ``scale``d, from scratch on ``sim``'s tables and compiled LP."""
    sim.capacity_scale = {int(y): dict(v) for y, v in (scale or {}).items()}
    sim.restart()  # each solve as on its own: the rows do not depend on the stages solved before
    (out,) = sim.run_many([run], mode="rebalance")
    return out


def _unmet(out: RunOutput, year: int) -> dict[str, float]:
    """Unmet demand of each commodity short in ``year``, summed over its users."""
    s = out.shortfall
    s = s[(s["year"] == year) & (s["shortfall_t"] > 0)]
    return {str(k): float(v) for k, v in s.groupby("commodity")["shortfall_t"].sum().items()}


def capacity_is_sourced(scenario: Scenario, facility: str, year: int) -> bool:
    r"""Whether the capacity the LP gives ``facility`` in ``year`` comes from a cited source.

    The LP's capacity is :math:`K_v = \max(\text{capacity}_v, \text{baseline output}_v)`: the
    nameplate in force (:func:`~supplychain.graph.build.nameplate_in_year`, after ramp-up), or
    the year's given production where there is no nameplate or the production exceeds it.
    An investment project's (``<agreement>.<project>``) is fund × share / capital intensity,
    sourced only when all three are. A figure without ``source`` is an assumption.
    """
    if facility in scenario.facilities:
        f = scenario.facilities[facility]
        nameplate, given = nameplate_in_year(f, year), f.production.get(year)
        beyond = given is not None and given.central > (capacity_in_year(f, year) or 0.0)
        q = given if nameplate is None or beyond else nameplate
        return q is not None and q.source is not None
    aid, _, pid = facility.partition(".")
    inv = scenario.agreements[aid].investment if aid in scenario.agreements else None
    if inv is None or pid not in inv.projects:
        return False
    proj = inv.projects[pid]
    return all(q.source is not None for q in (inv.fund_usd, proj.share_of_fund, proj.capital_intensity_usd_per_tpa))


def _rows(scenario: Scenario, year: int, stage: str, g: pd.DataFrame, step: float, unmet: Mapping[str, float],
          after: Mapping[str, float], units: Mapping[str, str]) -> list[dict[str, object]]:
    stage_units = sorted({units.get(str(k), "") for k in g["commodity"]})
    # tonnes of different commodities are never added: the rows of every stage together have no capacity
    capacity = float(g["capacity_t"].sum()) if g["commodity"].nunique() == 1 else float("nan")
    ids = sorted(g["facility"].astype(str))
    assumed = ", ".join(f for f in ids if not capacity_is_sourced(scenario, f, year))
    out: list[dict[str, object]] = []
    for k, u in sorted(unmet.items()):
        relief = u - after.get(k, 0.0)
        relief = relief if abs(relief) > ROUND_OFF * max(1.0, u) else 0.0  # a real negative relief is kept
        out.append({
            "year": year, "stage": stage, "stage_unit": ", ".join(stage_units),
            "facilities": ", ".join(ids), "assumed": assumed, "capacity": capacity,
            "added": step * capacity, "commodity": k, "unit": units.get(k, ""), "unmet": u,
            "relief": relief, "relief_share": relief / u,
        })
    return out
