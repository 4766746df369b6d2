"""Simulation: policies per year, toggles, deals and investments, fixed and rebalance responses.

The stages of one simulated year::

    toggles ──▶ active policies/agreements
    graph tables (+ investment capacity) ──▶ policies.apply_policies ──▶ blocked shares, costs, quotas
        ──▶ fixed.propagate  |  rebalance.RebalanceModel.solve  ──▶ flows, shortfall
        ──▶ stocks, measures after the shock, targets

:func:`supplychain.api.simulate` runs them for every year, base year to horizon.
"""

from __future__ import annotations

from supplychain.simulate.calendar import year_fraction
from supplychain.simulate.policies import PolicyEffects, apply_policies
from supplychain.simulate.toggles import ToggleState, resolve_toggles

__all__ = ["PolicyEffects", "ToggleState", "apply_policies", "resolve_toggles", "year_fraction"]
