"""Variants of one scenario cut into fixed groups, each simulated whole by one worker.

:func:`~supplychain.simulation.variants.run_variants` simulates every variant of a world
on one :class:`~supplychain.simulation.run.Simulator`, year by year, each re-solve of the
LP warm-started from the one before. To share many variants among worker processes, the
runs are cut into groups (:func:`split_runs`) and each group is given to
:func:`run_group`, which simulates it whole on a simulator of its own: every group keeps
the warm re-solves among its variants.

The groups depend on the runs alone, never on how many workers there are: a run's
solves then follow the same history on one process or on many, so its numbers are the
same bit for bit. They would not be if the groups followed the workers. The LP's
tie-break (:mod:`supplychain.simulation.rebalance`) makes the optimal vertex depend on
the inputs, not on where a solve starts, but the same vertex reached from another
basis is rounded differently: on the bundled scenarios (``rebalance``), a variant's
tables simulated alone or in another order differ from those of one group of every
variant by less than 1e-9 relative in most columns and by up to 5e-8 relative in a few
measures (a sourcing HHI of 8,945 points off by 5e-7); ``compare``'s shares cut into
these groups differ from one group's by at most 5e-12. ``fixed`` has no LP and does not
differ.

Cutting costs a little: each group builds its own tables and starts its LP from
scratch (``path_to_2030``, its 10 runs simulated in one process: the 4 groups of
:func:`split_runs` take 6–8 % more CPU than one group, groups of 1 take 19 % more).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from supplychain.schema.model import Scenario
from supplychain.simulation.run import Mode, RunOutput
from supplychain.simulation.toggles import by_world, resolve_toggles
from supplychain.simulation.variants import run_variants

__all__ = ["MAX_GROUPS", "MIN_GROUP", "group_sizes", "run_group", "split_runs"]

_T = TypeVar("_T")

MAX_GROUPS = 4
"""Most groups one world's runs are cut into (a power of two, so that 1, 2 or 4 workers share them evenly)."""
MIN_GROUP = 2
"""Fewest runs in a group while there is more than one (a group of one has no warm re-solve from another variant)."""


def group_sizes(n: int) -> list[int]:
    r"""Return the sizes of the groups ``n`` runs of one world are cut into.

    :math:`g = 2^{\lfloor \log_2 \min(G, \lfloor n / m \rfloor) \rfloor}` groups
    (:data:`MAX_GROUPS` :math:`G`, :data:`MIN_GROUP` :math:`m`; one when
    :math:`n < 2m`), the first :math:`n \bmod g` of them one run larger.

    Examples
    --------
    >>> group_sizes(10), group_sizes(6), group_sizes(3), group_sizes(16)
    ([3, 3, 2, 2], [3, 3], [3], [4, 4, 4, 4])
    >>> group_sizes(0)
    []
    """
    if n <= 0:
        return []
    g = 1
    while g * 2 <= min(MAX_GROUPS, n // MIN_GROUP):
        g *= 2
    return [n // g + (1 if i < n % g else 0) for i in range(g)]


def split_runs(scenario: Scenario, runs: Sequence[tuple[str | None, Mapping[str, bool] | None]]) -> list[list[int]]:
    """Cut runs into groups of one world each, by their positions.

    Runs whose toggles switch off different facilities, flows, stockpiles or offtakes
    live in different worlds (:func:`~supplychain.simulation.toggles.apply_switches`)
    and never share a group (:func:`~supplychain.simulation.toggles.by_world`); each
    world's runs, in their order, are cut into consecutive groups of :func:`group_sizes`.
    The cut depends only on ``runs``.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    runs : sequence of (variant, toggles)
        As in :func:`~supplychain.simulation.variants.run_variants`.

    Returns
    -------
    list of list of int
        Positions in ``runs``; worlds in the order of their first run.

    Raises
    ------
    ScenarioError
        Unknown toggle or variant names (here, before any simulation).
    """
    groups = []
    for positions in by_world([resolve_toggles(scenario, variant=v, overrides=t) for v, t in runs]):
        start = 0
        for size in group_sizes(len(positions)):
            groups.append(positions[start : start + size])
            start += size
    return groups


def run_group(
    scenario: Scenario,
    runs: Sequence[tuple[str | None, Mapping[str, bool] | None]],
    reduce: Callable[[int, RunOutput], _T],
    positions: Sequence[int],
    *,
    mode: Mode = "rebalance",
    options: Mapping[str, Any] | None = None,
    labels: Sequence[str] | None = None,
) -> list[_T]:
    """Simulate the runs at ``positions`` as one group and reduce each output where it was computed.

    A task for :func:`~supplychain.parallel.executors.map_in_order`
    (``functools.partial`` of everything but ``positions``): ``reduce`` keeps what the
    caller needs of each :class:`~supplychain.simulation.run.RunOutput`, so a worker
    process sends back that rather than every table of every year.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    runs : sequence of (variant, toggles)
        Every run (the group is ``positions`` of them).
    reduce : callable
        ``reduce(position, output)``, a module-level function (it must pickle).
    positions : sequence of int
        A group of :func:`split_runs`.
    mode : {"rebalance", "fixed"}
        Supply response.
    options : mapping, optional
        Keyword arguments of :class:`~supplychain.simulation.run.Simulator`.
    labels : sequence of str, optional
        Every run's label (:func:`~supplychain.simulation.variants.run_variants`).

    Returns
    -------
    list
        ``reduce(i, output of run i)`` for each ``i`` of ``positions``, in order.
    """
    outs = run_variants(scenario, [runs[i] for i in positions], mode=mode,
                        labels=None if labels is None else [labels[i] for i in positions], **(options or {}))
    return [reduce(i, out) for i, out in zip(positions, outs, strict=True)]
