"""supplychain: critical-mineral supply chains and exposure to China.

The pipeline, one subpackage per stage::

    scenario YAML --io.load--> Scenario --graph.build_tables--> node/edge tables
        --engine (sparse traced/origin solvers), metrics--> tidy measures
        --simulate (toggles, policies, deals, fixed | rebalance)--> Result
        --report--> tables, graph images, HTML

The public API is re-exported here and imported lazily, so ``import supplychain``
stays cheap (the command line starts fast)::

    import supplychain as sc
    world = sc.load("scenarios/path_to_2030.yaml")
    result = sc.simulate(world, toggles={"us_japan_framework": True})
    sc.compare(world)
    runs = sc.simulate_many(world)   # every variant's Result, simulated as compare does
    sc.atlas()          # every critical mineral: US import reliance and China (USGS MCS 2025)
    sc.capacity_limits(world, 2030, variant="full_ban_no_deals")   # which capacity binds a shortfall
    sc.measures(world, 2024)    # every exposure measure of the observed network in a year
    sc.sweep(world, samples=100, seed=1)   # Monte Carlo (also sc.one_at_a_time, sc.toggle_grid, sc.find_parameters)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Result", "ScenarioError", "__version__", "atlas", "capacity_limits", "compare", "find_parameters", "load",
           "load_text", "measures", "one_at_a_time", "simulate", "simulate_many", "sweep", "toggle_grid"]

if TYPE_CHECKING:
    from supplychain.api import Result, compare, measures, simulate, simulate_many
    from supplychain.errors import ScenarioError
    from supplychain.io import load, load_text
    from supplychain.minerals import atlas
    from supplychain.simulation.limits import capacity_limits
    from supplychain.uncertainty import find_parameters, one_at_a_time, toggle_grid
    from supplychain.uncertainty import run_sweep as sweep

_LAZY = {
    "load": "supplychain.io",
    "load_text": "supplychain.io",
    "simulate": "supplychain.api",
    "compare": "supplychain.api",
    "simulate_many": "supplychain.api",
    "Result": "supplychain.api",
    "ScenarioError": "supplychain.errors",
    "atlas": "supplychain.minerals",
    "capacity_limits": "supplychain.simulation.limits",
    "measures": "supplychain.api",
    "sweep": "supplychain.uncertainty:run_sweep",
    "one_at_a_time": "supplychain.uncertainty",
    "toggle_grid": "supplychain.uncertainty",
    "find_parameters": "supplychain.uncertainty",
}
"""Public name → module (``module:attribute`` where the name differs)."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, _, attr = _LAZY[name].partition(":")
        return getattr(importlib.import_module(module), attr or name)
    msg = f"module 'supplychain' has no attribute {name!r}"
    raise AttributeError(msg)
