"""Simulate several variants of a scenario, each in the world its toggles leave.

Toggles that switch policies and agreements change only bounds and costs of one
compiled model, so every such variant shares one
:class:`~supplychain.simulation.run.Simulator` (its tables and warm-started LP).
Toggles that switch facilities, flows, stockpiles or offtakes change the world
itself (:func:`~supplychain.simulation.toggles.apply_switches`): the variants are
grouped by what they switch off and each group gets its own simulator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from supplychain.schema.model import Scenario
from supplychain.simulation.run import Mode, RunOutput, Simulator
from supplychain.simulation.toggles import apply_switches, by_world, resolve_toggles

__all__ = ["run_variants"]


def run_variants(
    scenario: Scenario,
    runs: Sequence[tuple[str | None, Mapping[str, bool] | None]],
    *,
    mode: Mode = "rebalance",
    labels: Sequence[str] | None = None,
    **options: Any,
) -> list[RunOutput]:
    """Simulate each ``(variant, toggles)`` pair, sharing a simulator among those of one world.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    runs : sequence of (variant, toggles)
        As ``variant`` and ``toggles`` of :meth:`Simulator.run`, one pair per run.
    mode : {"rebalance", "fixed"}
        Supply response.
    labels : sequence of str, optional
        Each run's label (:meth:`Simulator.run_many`; default its variant's name, ``custom`` or ``base``).
    **options
        Keyword arguments of :class:`Simulator` (``years``, ``source``, ``options``,
        ``objective``, ``blocks``).

    Returns
    -------
    list of RunOutput
        One per pair of ``runs``, in their order.

    Raises
    ------
    ScenarioError
        Unknown toggle or variant names.
    """
    states = [resolve_toggles(scenario, variant=v, overrides=t) for v, t in runs]
    out: dict[int, RunOutput] = {}
    for positions in by_world(states):
        world = apply_switches(scenario, states[positions[0]])
        outs = Simulator(world, **options).run_many([runs[i] for i in positions], mode=mode,
                                                    labels=None if labels is None else [labels[i] for i in positions])
        # toggles as resolved on the whole scenario: they say what was switched off
        out.update((i, replace(o, toggles=states[i])) for i, o in zip(positions, outs, strict=True))
    return [out[i] for i in range(len(runs))]
