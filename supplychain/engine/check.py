"""Check a scenario's network before anything is computed: not empty, balanced, no closed trade loop.

A *closed trade loop* is a group of markets and plants that takes all its
material from itself — e.g. a single flow ``US → US`` with no other inflow: the
origin of its material is undefined, so no exposure measure can be computed
(:func:`supplychain.engine.compile.compile_tables`). A market *out of balance*
in some year — a flow given for a later year that exceeds what its supplier
has, say — is what ``run`` would stop on. ``validate`` runs
:func:`network_problems` on every file and reports each loop located at the
flows that form it and each market out of balance located at its largest flow,
for every simulated year; ``sweep`` checks up front, before any sample is drawn. An
empty network (no facilities, flows, imports, demand or stockpiles) is fine to
validate — a fragment — but there is nothing to simulate:
:func:`empty_network_problem` says so, located at ``scenario:``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from supplychain.engine.compile import compile_tables
from supplychain.errors import EngineError, Problem, ScenarioError
from supplychain.graph.build import BaseYear, base_year, build_tables
from supplychain.schema.model import Scenario
from supplychain.schema.references import problem_at

__all__ = ["NETWORK_SECTIONS", "check_network", "empty_network_problem", "network_problems"]

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


def network_problems(scenario: Scenario, years: Iterable[int] | None = None) -> list[Problem]:
    """Find the closed trade loops and the markets out of balance of the baseline network in ``years``.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (its provenance locates the problems).
    years : iterable of int, optional
        Years to check (default: the scenario's years, base year to horizon).

    Returns
    -------
    list of Problem
        One per flow of each closed loop, located at the flow (once, whatever
        the years the loop occurs in), and one per market out of balance in a
        year, located at its largest flow — the problems ``run`` would stop on
        (:func:`supplychain.graph.balance.balance_problems`).

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "Loop", "base_year": 2024},
    ...     "commodities": {"ore": {"name": "Ore", "stage": "ore"}},
    ...     "flows": {"us_us": {"supplier": "US", "buyer": "US", "commodity": "ore", "year": 2024, "tonnes": 5}}})
    >>> [p.path for p in network_problems(s)]
    [('flows', 'us_us')]
    """
    found: dict[tuple[object, ...], Problem] = {}
    locate = partial(problem_at, scenario)
    first = scenario.scenario.base_year
    base: BaseYear | None = None
    for year in scenario.years if years is None else years:
        try:
            if base is None and year > first:
                base = base_year(scenario)  # later years carry its trade pattern, as the simulation does
            nodes, edges = build_tables(scenario, year, base=base)
            compile_tables(nodes, edges, locate=locate)
        except ScenarioError as err:  # a market out of balance this year
            problems = err.problems
        except EngineError as err:
            cause = err.__cause__
            problems = cause.problems if isinstance(cause, ScenarioError) else [
                locate((), f"{year}: {err}", "check the flows of this year")]
        else:
            continue
        for p in problems:
            found.setdefault((p.file, p.line, p.column, p.path, p.message), p)
    return list(found.values())


def check_network(scenario: Scenario, years: Iterable[int] | None = None) -> None:
    """Raise :class:`~supplychain.errors.ScenarioError` for an empty network or a closed trade loop."""
    empty = empty_network_problem(scenario)
    problems = [empty] if empty is not None else network_problems(scenario, years)
    if problems:
        raise ScenarioError(problems)

