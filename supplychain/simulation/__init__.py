"""Simulation: policies per year, toggles, deals and investments, fixed and rebalance responses.

The stages of one simulated year::

    toggles ──▶ active policies/agreements                      (toggles.py)
    graph tables (+ investment capacity) ──▶ blocked shares, costs, quotas
                                                                (policies.py, agreements.py, calendar.py)
        ──▶ fixed propagation | re-routing LP ──▶ flows, shortfall (fixed.py, rebalance.py:
                                                                 candidates.py, levels.py, highs.py,
                                                                 fold.py, blocks.py)
        ──▶ stocks, measures after the shock, targets           (stocks.py, targets.py)

:class:`~supplychain.simulation.run.Simulator` runs them for every year, base year to
horizon; :func:`supplychain.api.simulate` and :func:`supplychain.api.compare` are
the public entry points. The LP formulation is in ``docs/rebalance.md``.
"""

from __future__ import annotations

from supplychain.simulation.calendar import year_fraction
from supplychain.simulation.fixed import FixedResult, propagate_fixed
from supplychain.simulation.policies import PolicyEffects, apply_policies
from supplychain.simulation.rebalance import RebalanceModel, RebalanceSolution, YearInputs
from supplychain.simulation.run import Simulator
from supplychain.simulation.toggles import ToggleState, parse_toggle_args, resolve_toggles

__all__ = [
    "FixedResult",
    "PolicyEffects",
    "RebalanceModel",
    "RebalanceSolution",
    "Simulator",
    "ToggleState",
    "YearInputs",
    "apply_policies",
    "parse_toggle_args",
    "propagate_fixed",
    "resolve_toggles",
    "year_fraction",
]
