"""What a solve of the re-routing LP takes and gives: a year's inputs aligned to the model, the solution.

:class:`YearInputs` (everything that changes between solves), :class:`QuotaRow` (one
export quota), :class:`RebalanceSolution` (flows, activities, shortfall, unsold material,
stock draws and the levels' optima), the LP's column and row blocks and the round-off
tolerances. The model is :class:`supplychain.simulation.rebalance.RebalanceModel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.simulation.agreements import Participation
from supplychain.simulation.fixed import BALANCE_TOL, NetworkIndex
from supplychain.simulation.rationing import Rule

__all__ = ["BALANCE_TOL", "FLOW_TOL", "ModelStructure", "QuotaRow", "RebalanceSolution", "YearInputs"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
FLOW_TOL = 1e-6
"""Edge flows up to this many tonnes are round-off of the LP solution and reported as 0.

HiGHS keeps a solution feasible to its primal tolerance (10⁻⁷), so an idle edge may carry
a few 10⁻⁸ t, more or less depending on where the simplex started: measured 3.3·10⁻⁸ t out
of a switched-off investment in ``path_to_2030`` 2030 when the variant's year followed
another variant's. Left in, such a flow gives a market with no material measures of its
own (an HHI of 10,000 on 10⁻⁸ t) and makes the tables depend on the order of the solves.
The same threshold as a flow's status (:data:`supplychain.simulation.run.TOL`)."""

# ------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class QuotaRow:
    """One export quota of a year, aligned to model edges."""

    policy: str
    """Policy id."""
    edges: IntArray
    """Model edge positions covered."""
    weights: FloatArray
    """Coefficient per covered edge."""
    cap: float
    """Right-hand side."""


@dataclass(frozen=True)
class YearInputs:
    """Everything that changes between solves, aligned to the model's arrays.

    Attributes
    ----------
    baseline : numpy.ndarray
        :math:`f^0_e` per model edge (0 for candidates).
    blocked : numpy.ndarray
        :math:`B_e` per model edge (bans and licensing; quotas are rows).
    cost : numpy.ndarray
        :math:`c_e` USD/t per model edge.
    lower : numpy.ndarray
        :math:`L_e` committed minimum per model edge.
    capacity : numpy.ndarray
        :math:`K_v` per model facility.
    demand : numpy.ndarray
        :math:`D_u` per use node.
    unrecorded : numpy.ndarray
        :math:`G_m` per market.
    stock : numpy.ndarray
        :math:`S_m` per stock market.
    reexport : numpy.ndarray
        :math:`R^0_m` per re-export row: baseline cross-border exports of the market
        beyond its baseline domestic-origin inflow.
    quotas : tuple of QuotaRow
        Export quotas in force.
    rule : str, optional
        The allocation rule (:mod:`supplychain.simulation.rationing`); None: the model's.
    floor : numpy.ndarray, optional
        Per use node, the shortfall it may not exceed (``contracts_first``: the ``fixed``
        response's; NaN: none). None: no floors.
    reserved : numpy.ndarray of bool, optional
        Per model edge: an export of a party with a preference to a non-partner, held at
        its baseline while partners are served first.
    participation : tuple of Participation
        The preferences' participation constraints (:class:`~supplychain.simulation.agreements.Participation`):
        per agreement, the reserved exports (per model edge) without it and its parties.
    contracted : numpy.ndarray of bool, optional
        Per model edge: a flow (output or input) of a plant whose output an offtake in force buys; its output
        comes first among responses equally close to the baseline
        (:func:`~supplychain.simulation.levels.contracted_factors`). None: no plant is contracted.
    held : numpy.ndarray, optional
        :math:`H_e` per model edge, a ceiling on its flow (∞ where none): in the re-solve that opens a stock
        for its holder's plants, the holder's exports held at the first solve's
        (:meth:`~supplychain.simulation.stocks.StockRoutes.plant_release`). None: no edge is held.
    """

    baseline: FloatArray
    blocked: FloatArray
    cost: FloatArray
    lower: FloatArray
    capacity: FloatArray
    demand: FloatArray
    unrecorded: FloatArray
    stock: FloatArray
    reexport: FloatArray
    quotas: tuple[QuotaRow, ...] = ()
    rule: Rule | None = None
    floor: FloatArray | None = None
    reserved: npt.NDArray[np.bool_] | None = None
    participation: tuple[Participation, ...] = ()
    contracted: npt.NDArray[np.bool_] | None = None
    held: FloatArray | None = None


@dataclass(frozen=True)
class RebalanceSolution:
    """Optimal re-routing of one year.

    Attributes
    ----------
    tonnes : numpy.ndarray
        :math:`f_e` per model edge.
    activity : numpy.ndarray
        :math:`a_v` per model facility.
    shortfall : numpy.ndarray
        :math:`z_u` per use node.
    stock_draw : numpy.ndarray
        :math:`d_m` per stock market.
    unrecorded : numpy.ndarray
        :math:`g_m` per market.
    unsold : numpy.ndarray
        Unsold material per market: the surplus of its balance row (in + unrecorded + draw − out).
    objectives : dict
        Optimal value of each solved level (``shortfall``, ``stock``, ``cost``, ``deviation``).
    iterations : int
        Simplex iterations over all levels.
    seconds : float
        Wall time of the solves.
    warm : bool
        Whether the solve started from the previous basis.
    """

    tonnes: FloatArray
    activity: FloatArray
    shortfall: FloatArray
    stock_draw: FloatArray
    unrecorded: FloatArray
    unsold: FloatArray
    objectives: dict[str, float]
    iterations: int
    seconds: float
    warm: bool

    @classmethod
    def from_columns(cls, x: FloatArray, c: _Cols, ne: int, *, objectives: dict[str, float], iterations: int,
                     seconds: float, warm: bool) -> RebalanceSolution:
        """Read the solution out of the LP's column vector (layout :class:`_Cols`, ``ne`` model edges).

        Edge tonnes are the sum of the two deviation columns of each edge; round-off below
        :data:`FLOW_TOL` tonnes (and below zero) is set to 0, so that an edge the optimum
        leaves empty is not reported as a 10⁻⁸ t supplier; so is unsold material.
        """
        f = x[:ne] + x[ne : 2 * ne]
        u = x[c.uns : c.n]
        return cls(
            tonnes=np.where(f > FLOW_TOL, f, 0.0),
            activity=x[c.act : c.short].copy(),
            shortfall=np.maximum(x[c.short : c.gap], 0.0),
            stock_draw=x[c.draw : c.uns].copy(),
            unrecorded=x[c.gap : c.draw].copy(),
            unsold=np.where(u > FLOW_TOL, u, 0.0),
            objectives=objectives,
            iterations=iterations,
            seconds=seconds,
            warm=warm,
        )

    @classmethod
    def blend(cls, parts: Sequence[tuple[float, RebalanceSolution]]) -> RebalanceSolution:
        r"""Weigh the solutions of the periods of one year: :math:`x = \sum_p w_p x^{(p)}`.

        Every period's solution is a feasible point of the year's LP: the same bounds and rows,
        with other costs and, under ``contracts_first``/``home_first``, its own reserved
        exports held, which only adds constraints. So is a convex combination (weights summing
        to 1): flows still close. Objectives are weighed alike (each level is linear in the columns);
        iterations and seconds are added up; warm only if every solve was. Flows and
        unsold material below :data:`FLOW_TOL` are round-off, as in :meth:`from_columns`.

        Examples
        --------
        >>> one = RebalanceSolution(np.array([100.0]), np.zeros(1), np.zeros(1), np.zeros(0), np.zeros(0),
        ...                         np.zeros(0), {"cost": 0.0}, 3, 0.1, True)
        >>> two = RebalanceSolution(np.array([300.0]), np.zeros(1), np.zeros(1), np.zeros(0), np.zeros(0),
        ...                         np.zeros(0), {"cost": 8.0}, 2, 0.1, False)
        >>> b = RebalanceSolution.blend([(0.75, one), (0.25, two)])
        >>> b.tonnes.tolist(), b.objectives, b.iterations, b.warm
        ([150.0], {'cost': 2.0}, 5, False)
        """
        if len(parts) == 1 and parts[0][0] == 1.0:
            return parts[0][1]

        def mix(field: str) -> FloatArray:
            out: FloatArray = np.zeros_like(getattr(parts[0][1], field), dtype=np.float64)
            for w, s in parts:
                out += w * getattr(s, field)
            return out

        f, u = mix("tonnes"), mix("unsold")
        names = dict.fromkeys(k for _, s in parts for k in s.objectives)
        return cls(
            tonnes=np.where(f > FLOW_TOL, f, 0.0),
            activity=mix("activity"),
            shortfall=mix("shortfall"),
            stock_draw=mix("stock_draw"),
            unrecorded=mix("unrecorded"),
            unsold=np.where(u > FLOW_TOL, u, 0.0),
            objectives={k: sum(w * s.objectives.get(k, 0.0) for w, s in parts) for k in names},
            iterations=sum(s.iterations for _, s in parts),
            seconds=sum(s.seconds for _, s in parts),
            warm=all(s.warm for _, s in parts),
        )


@dataclass
class _Cols:
    f_lo: int
    f_hi: int
    act: int
    short: int
    gap: int
    draw: int
    uns: int
    n: int


@dataclass
class _Rows:
    market: int
    yld: int
    demand: int
    reexport: int
    n: int


class ModelStructure:
    """What the parts of :class:`~supplychain.simulation.rebalance.RebalanceModel` share: its network.

    Attributes
    ----------
    edges, nodes : pandas.DataFrame
        The model's edges (observed and candidates) and nodes.
    index : NetworkIndex
        Node positions of the edges' ends and the nodes' kinds.
    facilities, markets, uses, stock_markets : numpy.ndarray of int
        Node positions of each kind (markets with a stockpile for ``stock_markets``).
    """

    edges: pd.DataFrame
    nodes: pd.DataFrame
    index: NetworkIndex
    facilities: IntArray
    markets: IntArray
    uses: IntArray
    stock_markets: IntArray
