"""Materials a policy in force covers whose loss a run cannot count: the scenario records no use of them.

A shortfall is counted against final demand (``docs/measures.md``, section 7). Where a
country imports, net, a commodity that nothing in that country uses (no final demand, no
plant's input there: :func:`unused_markets`, the rule that also makes net import reliance
"use not recorded") and a policy of another country covers it — the
critical-minerals world's US tungsten, tellurium and seven others, whose US consumption
USGS withholds — what arrives ends in the market's surplus, which no response protects: a
policy can cut it and the run reports no unmet demand. Such a commodity is *not evaluated*,
and says so, rather than missing silently from the answer. A policy's own country is not
listed for it (an export rule cuts what the country sells, not what it has).

The same world has final demand for the US alone, so the ``rebalance`` response can hand
the US every other country's unclaimed output: :func:`rebalance_caveat` is printed next
to any ``rebalance`` result of a world with one user (:func:`sole_demand_country`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from typing import TYPE_CHECKING

import numpy as np

from supplychain.schema.coverage import covered_commodities
from supplychain.schema.model import Scenario
from supplychain.simulation.calendar import never_in_force

if TYPE_CHECKING:
    import pandas as pd

    from supplychain.api import Result

__all__ = ["live_policies", "not_evaluated_lines", "rebalance_caveat", "sole_demand_country", "uncounted_uses",
           "unused_markets"]


def live_policies(scenario: Scenario, active: Set[str], first: int, last: int) -> list[str]:
    """Policies switched on (``active``) and in force at some time between the years ``first`` and ``last``.

    In force: :func:`~supplychain.simulation.calendar.never_in_force` says None (the rule of
    validation's "never in force" warning and of the sweep's inert inputs).

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "policies": {
    ...     "ban": {"type": "export_ban", "country": "CN", "start": "2025-07-01", "covers": {}},
    ...     "old": {"type": "export_ban", "country": "CN", "start": "2020-01-01", "end": "2023-12-31",
    ...             "covers": {}}}})
    >>> live_policies(s, {"ban", "old"}, 2024, 2025), live_policies(s, {"ban"}, 2024, 2024)
    (['ban'], [])
    """
    return [pid for pid in sorted(set(active) & set(scenario.policies))
            if never_in_force(scenario.policies[pid].start, scenario.policies[pid].end, first, last) is None]


def uncounted_uses(
    scenario: Scenario,
    policies: Iterable[str],
    traded: Set[tuple[str, str]],
    demanded: Set[tuple[str, str]],
    countries: Iterable[str],
) -> list[tuple[str, str, list[str]]]:
    """List ``(country, commodity, policies)`` a policy of another country covers that ``country`` imports unused.

    A policy's own country (its exporter) is left out: its export rules cut what it sells,
    not what it has.

    Parameters
    ----------
    scenario : Scenario
        The scenario (its policies and commodities).
    policies : iterable of str
        Policies in force (:func:`live_policies`).
    traded : set of (country, commodity)
        The run's markets whose net imports have no recorded use in their country
        (:func:`unused_markets`).
    demanded : set of (country, commodity)
        Final demands of the run (``Result.shortfall``'s pairs).
    countries : iterable of str
        Whose uses to check.

    Returns
    -------
    list of (str, str, list of str)
        Sorted by country and commodity; the covering policies sorted.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "commodities": {
    ...     "w": {"name": "Tungsten", "stage": "ore", "family": "w"},
    ...     "sb": {"name": "Antimony", "stage": "ore", "family": "sb"}},
    ...     "policies": {"no10": {"type": "export_licensing", "country": "CN", "start": "2025-02-04",
    ...                           "share_approved": 0, "covers": {"families": ["w", "sb"]}}}})
    >>> uncounted_uses(s, ["no10"], {("US", "w"), ("US", "sb")}, {("US", "sb")}, ["US"])
    [('US', 'w', ['no10'])]
    """
    covering: dict[str, list[str]] = {}
    for pid in sorted(policies):
        for commodity in covered_commodities(scenario.policies[pid].covers, scenario.commodities):
            covering.setdefault(commodity, []).append(pid)
    wanted = set(countries)
    out = []
    for country, commodity in sorted(traded):
        if country not in wanted or (country, commodity) in demanded:
            continue
        pids = [pid for pid in covering.get(commodity, []) if scenario.policies[pid].country != country]
        if pids:
            out.append((country, commodity, pids))
    return out


def unused_markets(tables: Callable[[int], tuple[pd.DataFrame, pd.DataFrame]],
                   years: Iterable[int]) -> set[tuple[str, str]]:
    """Markets ``(country, commodity)`` of the years whose net imports nothing in that country uses.

    The rule is the one that makes net import reliance "use not recorded"
    (:attr:`~supplychain.metrics.trade.FirstHop.unrecorded`): the scenario records final
    demand but no use of the commodity in the market's country
    (:attr:`~supplychain.metrics.trade.TradeIndex.market_use`: no final demand, no plant's
    input there), and the market's net imports :math:`I - E + R - B` are positive — what
    arrives ends in its surplus. Read from each year's tables (``tables(year)``, e.g.
    :meth:`supplychain.api.Result.tables`) at the scenario's recorded tonnes (the edges'
    ``baseline``), so a policy that cuts the imports does not take the market off the list.
    """
    from supplychain.metrics.trade import first_hop, market_sums, trade_index

    out: set[tuple[str, str]] = set()
    for year in years:
        nodes, edges = tables(year)
        index = trade_index(nodes, edges)
        sums = market_sums(index, edges["baseline"].to_numpy(dtype=np.float64))
        none = np.zeros(len(index.market_country))
        unused = first_hop(sums, sums[1], none, index.market_use).unrecorded
        out |= set(zip(index.market_country[unused].astype(str), index.market_commodity[unused].astype(str),
                       strict=True))
    return out


def not_evaluated_lines(result: Result, scenario: Scenario, years: Iterable[int],
                        countries: Iterable[str] | None = None) -> list[str]:
    """Say, per country, which materials a policy in force in a run covers but the run cannot count a loss of.

    ``run`` prints these lines under its table and the report under its shortfall table.

    Parameters
    ----------
    result : Result
        A run (its measures, shortfall, toggle state and years).
    scenario : Scenario
        Its scenario (policies, commodities).
    years : iterable of int
        Years looked at: the markets and demands of those years, and the policies in force at
        some time between the first and the last of them (:func:`live_policies`).
    countries : iterable of str, optional
        Whose uses (default: every country with a final demand in those years).

    Returns
    -------
    list of str
        One line per country with such materials (:func:`uncounted_uses`), sorted; empty when none.
    """
    wanted = set(years)
    looked = sorted(wanted & set(result.years))
    if not looked:
        return []
    live = live_policies(scenario, result.toggle_state.active, looked[0], looked[-1])  # in force in the years looked at
    if not live:  # nothing covered: no year's markets to read
        return []
    traded = unused_markets(result.tables, looked)
    sf = result.shortfall[result.shortfall["year"].isin(wanted)]
    demanded = set(zip(sf["country"].astype(str), sf["commodity"].astype(str), strict=True))
    who = list(countries) if countries is not None else sorted({c for c, _ in demanded})
    by_country: dict[str, list[str]] = {}
    for country, commodity, _pids in uncounted_uses(scenario, live, traded, demanded, who):
        by_country.setdefault(country, []).append(commodity)
    return [f"Not evaluated for {country}: {', '.join(coms)} — a policy in force covers them, but the scenario "
            "records no use of them there (no final demand, no plant's input: what arrives ends in a surplus, which no "
            "response protects), "
            "so no loss of them is counted as unmet demand."
            for country, coms in sorted(by_country.items())]


def sole_demand_country(scenario: Scenario) -> str | None:
    """Return the one country with final demand where plants elsewhere produce for no recorded user, else ``None``.

    In such a world (the critical-minerals world: USGS gives apparent consumption for the US
    alone) every other country's output that does not go to that country ends in its surplus,
    which the ``rebalance`` response does not protect as demand: it re-routes all of it to the
    one user, so that user's unmet demand under ``rebalance`` is a best case by construction
    (:func:`rebalance_caveat`).

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "commodities": {"w": {"name": "W", "stage": "ore"}},
    ...     "facilities": {"cn": {"name": "CN mine", "country": "CN", "kind": "mine", "output": "w",
    ...                           "production": {2024: {"value": 80, "assumption": "test"}}}},
    ...     "demand": {"us": {"country": "US", "commodity": "w", "year": 2024,
    ...                       "tonnes": {"value": 10, "assumption": "test"}}}})
    >>> sole_demand_country(s)
    'US'
    """
    users = {d.country for d in scenario.demand.values()}
    if len(users) != 1:
        return None
    (user,) = users
    producers = {f.country for f in scenario.facilities.values()}
    return user if producers - users else None


def rebalance_caveat(scenario: Scenario) -> str | None:
    """Return the caveat printed next to any ``rebalance`` result of a world with one user, else ``None``.

    The world's one user is :func:`sole_demand_country`'s.
    """
    user = sole_demand_country(scenario)
    if user is None:
        return None
    return (f"Caveat: only {user} has final demand in this scenario, so the rebalance response hands it every "
            "other country's output that has no recorded user (their surplus, which it does not protect as "
            f"demand): {user}'s unmet demand under rebalance is a best case by construction, not an expectation. "
            "The fixed response (the base-year pattern kept, blocked tonnes lost) is the pessimistic bound; "
            "the truth lies between.")
