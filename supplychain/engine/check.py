"""Check a scenario's network before anything is computed: not empty, balanced, no closed trade loop.

A *closed trade loop* is a group of markets and plants that takes all its
material from itself — e.g. a single flow ``US → US`` with no other inflow: the
origin of its material is undefined, so no exposure measure can be computed
(:func:`supplychain.engine.compile.compile_tables`). A market *out of balance*
in some year — a flow given for a later year that exceeds what its supplier
has, say — is what ``run`` would stop on. ``validate`` runs
:func:`network_problems` on every file and reports each loop located at the
flows that form it and each market out of balance located at its largest flow,
for every simulated year and in every world the toggles build (the default toggles' and each
variant's); ``sweep`` checks the world it runs up front, before any sample is drawn. An
empty network (no facilities, flows, imports, demand or stockpiles) is fine to
validate — a fragment — but there is nothing to simulate:
:func:`empty_network_problem` says so, located at ``scenario:``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from supplychain.engine.compile import compile_tables
from supplychain.errors import EngineError, Problem, ScenarioError
from supplychain.graph.build import BaseYear, base_year, build_tables
from supplychain.schema.model import Scenario
from supplychain.schema.references import problem_at

if TYPE_CHECKING:
    from supplychain.simulation.toggles import ToggleState

__all__ = ["NETWORK_SECTIONS", "check_network", "empty_network_problem", "network_problems", "years_text"]

NETWORK_SECTIONS = ("facilities", "flows", "imports", "demand", "stockpiles")
"""The sections whose entries become nodes and edges of the supply network."""


def empty_network_problem(scenario: Scenario) -> Problem | None:
    """Return a problem located at ``scenario:`` if the scenario has no supply network at all, else ``None``.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "Empty", "base_year": 2024}})
    >>> print(empty_network_problem(s))
    <api>: scenario: nothing to simulate: the scenario has no facilities, flows, imports, demand or stockpiles
        hint: add them, or `extends` a world that has them (docs/scenario-format.md)
    """
    if any(getattr(scenario, section) for section in NETWORK_SECTIONS):
        return None
    message = "nothing to simulate: the scenario has no facilities, flows, imports, demand or stockpiles"
    return problem_at(scenario, ("scenario",), message, "add them, or `extends` a world that has them "
                                                        "(docs/scenario-format.md)")  # fmt: skip


def network_problems(scenario: Scenario, years: Iterable[int] | None = None, *,
                     toggles: Sequence[ToggleState] | None = None) -> list[Problem]:
    """Find the closed trade loops and the markets out of balance of the baseline network in ``years``.

    Every *world* the scenario can be run in is checked: the one its default toggles
    leave and the one of each variant whose toggles switch off other facilities,
    flows, stockpiles or offtakes (:func:`~supplychain.simulation.toggles.apply_switches`;
    docs/scenario-format.md, "Toggles": switching off a facility whose output the base
    year's flows need fails that year's balance) — so a file passes only if ``run``
    and ``compare`` would not stop on it.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (its provenance locates the problems).
    years : iterable of int, optional
        Years to check (default: the scenario's years, base year to horizon).
    toggles : sequence of ToggleState, optional
        The resolved toggles of the runs to check
        (:func:`~supplychain.simulation.toggles.resolve_toggles`); default: the default
        toggles and every variant.

    Returns
    -------
    list of Problem
        One per flow of each closed loop, located at the flow (once, whatever
        the years the loop occurs in), and one per market out of balance in a
        year, located at its largest flow — the problems ``run`` would stop on
        (:func:`supplychain.graph.balance.balance_problems`). A problem found only
        in some worlds says which (``with the default toggles``, ``in variant
        `name```).

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "Loop", "base_year": 2024},
    ...     "commodities": {"ore": {"name": "Ore", "stage": "ore"}},
    ...     "flows": {"us_us": {"supplier": "US", "buyer": "US", "commodity": "ore", "year": 2024, "tonnes": 5}}})
    >>> [p.path for p in network_problems(s)]
    [('flows', 'us_us')]
    """
    yrs = list(scenario.years if years is None else years)
    worlds = _worlds(scenario, toggles)
    found: dict[tuple[object, ...], tuple[Problem, list[str]]] = {}
    for label, world in worlds:
        for p in _world_problems(scenario, world, yrs):
            key = (p.file, p.line, p.column, p.path, p.message)
            found.setdefault(key, (p, []))[1].append(label)
    everywhere = {label for label, _ in worlds}
    out = []
    for p, labels in found.values():
        if set(labels) == everywhere and "" in everywhere:
            out.append(p)
            continue
        where = " and ".join(label or "with nothing switched off" for label in labels)
        out.append(replace(p, message=f"{where}: {p.message}"))
    return out


def _worlds(scenario: Scenario, toggles: Sequence[ToggleState] | None) -> list[tuple[str, Scenario]]:
    """List the distinct worlds of ``toggles`` (default: the default toggles and each variant), labelled.

    The label is ``""`` for a world where nothing is switched off.
    """
    from supplychain.simulation.toggles import apply_switches, by_world, resolve_toggles  # the later stage, on use

    if toggles is None:
        toggles = [resolve_toggles(scenario), *(resolve_toggles(scenario, variant=v) for v in scenario.variants)]
    worlds = []
    for positions in by_world(toggles):
        state = toggles[positions[0]]  # the first state of each world names it
        label = f"in variant `{state.variant}`" if state.variant else "with the default toggles"
        off = ", ".join(f"{sec}.{eid}" for sec, eid in sorted(state.switched_off))
        worlds.append((f"{label} (switching off {off})" if off else "", apply_switches(scenario, state)))
    return worlds


def _world_problems(scenario: Scenario, world: Scenario, years: list[int]) -> list[Problem]:
    """Find the closed loops and markets out of balance of one world's baseline tables (located in ``scenario``)."""
    found: dict[tuple[object, ...], tuple[Problem, list[int]]] = {}
    locate = partial(problem_at, scenario)
    first = world.scenario.base_year
    base: BaseYear | None = None
    for year in years:
        try:
            if base is None and year > first:
                base = base_year(world)  # later years carry its trade pattern, as the simulation does
            nodes, edges = build_tables(world, year, base=base)
            compile_tables(nodes, edges, locate=locate)
        except ScenarioError as err:  # a market out of balance this year
            problems = err.problems
        except EngineError as err:
            cause = err.__cause__
            problems = cause.problems if isinstance(cause, ScenarioError) else [
                locate((), f"{year}: {err}", "check the flows of this year")]
        else:
            continue
        for p in problems:  # a market short year after year is one problem, with the later years named
            shape = re.sub(r"\d[\d.,]*", "#", p.message)  # the same message but for its years and tonnes
            found.setdefault((p.file, p.line, p.column, p.path, shape), (p, []))[1].append(year)
    out = []
    for p, yrs in found.values():
        first_year = f"in {yrs[0]}"
        if len(yrs) > 1 and first_year in p.message:
            p = replace(p, message=p.message.replace(first_year, f"{first_year} (and in {years_text(yrs[1:])})", 1))
        out.append(p)
    return out


def years_text(years: Iterable[int]) -> str:
    """Years with runs of consecutive ones joined.

    Examples
    --------
    >>> years_text([2030, 2025, 2026, 2027])
    '2025–2027, 2030'
    """
    runs: list[list[int]] = []
    for y in sorted(set(years)):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def check_network(scenario: Scenario, years: Iterable[int] | None = None, toggles: ToggleState | None = None) -> None:
    """Raise :class:`~supplychain.errors.ScenarioError` for an empty network or a problem of :func:`network_problems`.

    ``toggles`` (default: the default toggles and every variant) are those of the run to check.
    """
    empty = empty_network_problem(scenario)
    problems = [empty] if empty is not None else network_problems(
        scenario, years, toggles=None if toggles is None else [toggles])
    if problems:
        raise ScenarioError(problems)

