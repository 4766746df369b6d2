"""Runs to report on: :func:`run_scenario`, :class:`ScenarioRun`, and which pairs and year a run is about.

:func:`run_all` simulates several scenarios side by side on worker processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from supplychain.errors import SupplyChainError
from supplychain.report.headline import default_focus, headline_pairs

if TYPE_CHECKING:
    from supplychain.api import Result
    from supplychain.schema.model import Scenario
    from supplychain.simulation.rationing import Rule
    from supplychain.simulation.run import Mode



class ReportError(SupplyChainError, RuntimeError):
    """The report cannot be written (output folder in the way, nothing to report)."""


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario and its simulated variants: what one report section shows.

    Attributes
    ----------
    scenario : Scenario or None
        The validated scenario (for its summary, sources, toggles and targets);
        ``None`` when only results are at hand.
    results : tuple of Result
        One :class:`~supplychain.api.Result` per variant, the base run first.
    file : str or None
        Scenario file, shown in the summary.
    fixed_shortfall : DataFrame or None
        When ``results`` are of the ``rebalance`` response: the ``fixed`` response's shortfall
        of the same runs (the ``shortfall`` table of :class:`~supplychain.api.Result`, with its
        ``variant``), so the report can say how far the best case is from the pessimistic
        bound; ``None`` when not simulated.
    """

    scenario: Scenario | None
    results: tuple[Result, ...]
    file: str | None = None
    fixed_shortfall: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        """Scenario name."""
        if self.scenario is not None:
            return self.scenario.scenario.name
        return self.results[0].scenario if self.results else "scenario"


def shortfall_by_response(run: ScenarioRun) -> pd.DataFrame:
    """Return every final use of a run under each supply response it was simulated with: a ``response`` column.

    The rows of the reported response (each result's ``shortfall`` table, with its ``variant``;
    ``response`` is the result's ``mode``) come first, then, when the run carries it, the
    ``fixed`` response's shortfall of the same variants (:attr:`ScenarioRun.fixed_shortfall`,
    ``response`` ``"fixed"``): the bound the page quotes beside ``rebalance`` ("fixed: 43%"), in
    the report's ``shortfall.csv`` and the workbook's Shortfall sheet. Rows of different
    responses describe the same demand twice: never add them up.

    Returns
    -------
    pandas.DataFrame
        The columns of :attr:`Result.shortfall <supplychain.api.Result.shortfall>` (with its
        ``variant``), then ``response``; no rows but those columns when no result has rows (no final
        demand), so ``shortfall.csv`` keeps its header.
    """
    every = [r.shortfall.assign(variant=r.variant, response=r.mode) for r in run.results]
    frames = [f for f in every if not f.empty]
    if run.fixed_shortfall is not None and not run.fixed_shortfall.empty:
        frames.append(run.fixed_shortfall.assign(response="fixed"))
    if not frames:
        return every[0].iloc[:0] if every else pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def run_scenario(
    scenario: Scenario,
    *,
    mode: Mode = "rebalance",
    variants: Sequence[str] | None = None,
    file: str | None = None,
    allocation: Rule | None = None,
) -> ScenarioRun:
    """Simulate the base run and every variant of a scenario for the report.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    mode : {"rebalance", "fixed"}
        Supply response.
    variants : sequence of str, optional
        Variants to run after the base run (default: every variant, in the file's order).
    file : str, optional
        The scenario's file, for the summary.
    allocation : str, optional
        Who goes short under ``rebalance`` (default: the scenario's ``response.allocation``).

    Returns
    -------
    ScenarioRun
        With, for ``rebalance``, the ``fixed`` response's shortfall of the same runs.
    """
    from supplychain.api import Result
    from supplychain.schema.units import commodity_units
    from supplychain.simulation.tables import public_table
    from supplychain.simulation.variants import run_variants

    names = list(variants) if variants is not None else list(scenario.variants)
    runs = [(None, None), *((v, None) for v in names)]
    source = scenario.scenario.source_country
    outs = run_variants(scenario, runs, mode=mode, source=source, allocation=allocation)
    labels = ["base", *names]
    results = [Result.from_run(scenario, out, label) for label, out in zip(labels, outs, strict=True)]
    fixed = None
    if mode == "rebalance":  # the pessimistic bound beside the best case (no LP: cheap)
        units = commodity_units(scenario)
        bound = run_variants(scenario, runs, mode="fixed", source=source, exposure=False)
        fixed = pd.concat([public_table("shortfall", out.shortfall, units).assign(variant=label)
                           for label, out in zip(labels, bound, strict=True)], ignore_index=True)  # fmt: skip
    return ScenarioRun(scenario, tuple(results), file, fixed)


def _run_task(task: tuple[Scenario, str | None, Mode, Rule | None]) -> ScenarioRun:
    """:func:`run_scenario` of one tuple (a task of :func:`~supplychain.parallel.executors.map_in_order`)."""
    scenario, file, mode, allocation = task
    return run_scenario(scenario, mode=mode, file=file, allocation=allocation)


def run_all(
    scenarios: Sequence[tuple[Scenario, str | None]],
    *,
    mode: Mode = "rebalance",
    allocation: Rule | None = None,
    workers: int = 0,
) -> list[ScenarioRun]:
    """Simulate several scenarios for one report, on worker processes when there are several.

    Scenarios are independent, so they run side by side on ``workers`` local processes
    (:func:`~supplychain.parallel.executors.map_in_order`, the executors ``sweep``
    uses); the numbers are those of :func:`run_scenario` in one process (each scenario is
    simulated whole by one worker), the largest first (:func:`simulated_years`). Warnings
    raised in a worker are raised again here.

    Parameters
    ----------
    scenarios : sequence of (Scenario, str or None)
        Validated scenarios and their files.
    mode, allocation
        As :func:`run_scenario`.
    workers : int, default 0
        Worker processes: 0 = one per CPU; at most one per scenario; 1 simulates in this process.

    Returns
    -------
    list of ScenarioRun
        In the order given.
    """
    from supplychain.parallel.executors import map_in_order

    return map_in_order(_run_task, [(sc, file, mode, allocation) for sc, file in scenarios], workers,
                        cost=lambda task: simulated_years(task[0]))


def simulated_years(scenario: Scenario) -> int:
    """Variant-years a report simulates of ``scenario`` (base run and variants × years): the estimate of its work.

    Each is a year of one variant (``rebalance``, its ``fixed`` bound, and any re-solve of
    What limits supply); :func:`run_all` hands out the largest first, the report's sections
    by the same count of a run already made (:func:`run_years`).
    """
    return (1 + len(scenario.variants)) * len(scenario.years)


def run_years(run: ScenarioRun) -> int:
    """Variant-years a scenario's run simulated (its results × their years): :func:`simulated_years` of a made run."""
    return len(run.results) * len(run.results[0].years) if run.results else 0


def focus_of(runs: Sequence[ScenarioRun], countries: Sequence[str] = ()) -> list[str]:
    """Return the focus countries: those asked for (groups as their members), else the targets' countries, else US.

    Examples
    --------
    >>> focus_of([], ["JP", "US", "JP"])
    ['JP', 'US']
    >>> focus_of([])
    ['US']
    """
    from supplychain.api import focus_countries

    out: list[str] = []
    if countries:
        for run in runs:
            if run.scenario is not None:
                from supplychain.schema.countries import known_codes

                known = known_codes(run.scenario)
                out += [c for c in focus_countries(run.scenario, [c for c in countries if c in known])
                        if c not in out]
        return out or list(dict.fromkeys(countries))
    named = {t.country for run in runs if run.scenario is not None for t in run.scenario.targets.values()}
    return default_focus(named)


def _runs(results: Any) -> list[ScenarioRun]:
    """Normalise what :func:`write_report` accepts into a list of runs."""
    from supplychain.api import Result

    items = [results] if isinstance(results, ScenarioRun | Result) else list(results)
    runs: list[ScenarioRun] = []
    loose: dict[str, list[Result]] = {}
    for item in items:
        if isinstance(item, ScenarioRun):
            runs.append(item)
        elif isinstance(item, Result):
            loose.setdefault(item.scenario, []).append(item)
        elif isinstance(item, Sequence) and item and all(isinstance(r, Result) for r in item):
            runs.append(ScenarioRun(None, tuple(item)))
        else:
            msg = f"cannot report on a {type(item).__name__}: give ScenarioRun or Result objects"
            raise TypeError(msg)
    runs.extend(ScenarioRun(None, tuple(rs)) for rs in loose.values())
    if not runs or any(not r.results for r in runs):
        msg = "nothing to report: no simulated results"
        raise ReportError(msg)
    return runs


def _focus_year(run: ScenarioRun, year: int | None = None) -> int:
    """Return the year a section is about: ``year`` (within the run's years), else the targets' ``by``, else the end."""
    years = run.results[0].years
    if year is not None:
        return min(max(year, years[0]), years[-1])
    if run.scenario is not None and run.scenario.targets:
        by = max(t.by for t in run.scenario.targets.values())
        return min(max(by, years[0]), years[-1])
    return years[-1]


def _target_pairs(run: ScenarioRun) -> list[tuple[str, str]]:
    """(country, commodity) pairs of the scenario's targets on a commodity (not an element key), sorted."""
    if run.scenario is None:
        return []
    return sorted({(t.country, t.commodity) for t in run.scenario.targets.values()
                   if t.commodity in run.scenario.commodities})


def _focus_pairs(run: ScenarioRun, fallback: Sequence[tuple[str, str]] = (),
                 countries: Sequence[str] = ()) -> tuple[list[tuple[str, str]], bool]:
    """(country, commodity) pairs the headline is about, and whether they come from targets.

    With ``countries`` (``report --country``): every commodity those countries have
    final demand of, in the order of ``countries``. Else the scenario's own targets'
    pairs; else ``fallback`` (the other scenarios' target pairs, so that the overview
    compares like with like) where this scenario has them; else the focus countries'
    (``fallback``'s countries, else US) first three uses by the one headline rule
    (:func:`~supplychain.report.headline.headline_pairs`); only when they have none here,
    the three largest final demands outside the source country (China's exposure to China
    says nothing).
    """
    if countries:
        if run.scenario is not None:  # groups and regions stand for their members
            from supplychain.api import focus_countries
            from supplychain.schema.countries import known_codes

            known = known_codes(run.scenario)
            countries = focus_countries(run.scenario, [c for c in countries if c in known])
        sh = run.results[0].shortfall
        used = sh[sh["demand"] > 0] if not sh.empty else sh
        have = sorted(set(zip(used["country"].astype(str), used["commodity"].astype(str), strict=True)))
        pairs = [(c, k) for c in countries for cc, k in have if cc == c]
        return pairs, bool(pairs) and set(pairs) <= set(_target_pairs(run))
    own = _target_pairs(run)
    if own:
        return own, True
    sh = run.results[0].shortfall
    if sh.empty:
        return [], False
    present = set(zip(sh["country"].astype(str), sh["commodity"].astype(str), strict=True))
    shared = [p for p in fallback if p in present]
    if shared:
        return shared, True
    ruled = headline_pairs(sh, default_focus(c for c, _ in fallback), every_use=True)[:3]
    if ruled:
        return ruled, False
    from supplychain.metrics.measures import resolve_source

    source = resolve_source(run.scenario, run.results[0].source, sh["country"].astype(str).unique())
    sh = sh[~sh["country"].astype(str).isin(source)]  # the source's exposure to itself says nothing
    dem = sh.groupby(["country", "commodity"])["demand"].max().sort_values(ascending=False, kind="stable")
    return [(str(c), str(k)) for c, k in dem.index[:3]], False


