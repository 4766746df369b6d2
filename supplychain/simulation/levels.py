r"""The objective of the re-routing LP, level by level (``docs/rebalance.md``, "Objective, in priority order").

The levels' costs (:class:`LevelCosts`, built by
:meth:`RebalanceModel._level_costs <supplychain.simulation.rebalance.RebalanceModel._level_costs>`),
their weighted sum (:func:`weighted_costs`, :data:`WEIGHTS`), the deterministic tie-break of
the deviation level (:func:`tie_factors`, :data:`TIE_BREAK`; a tonne of new cross-border trade weighs more,
:func:`new_trade_factors`, :data:`NEW_TRADE`, so among responses equally close to the baseline the one opening
the fewest new tonnes of trade wins and cross-hauls go; a plant whose output an offtake buys comes first,
:func:`contracted_factors`, :data:`CONTRACTED`) and the lexicographic solve from
the weighted start (:func:`lexicographic_levels`, :func:`settled`), shared by the model and
every block of :class:`~supplychain.simulation.blocks.BlockRebalance`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from supplychain.simulation.highs import PERTURB, keep_optimal_face
from supplychain.simulation.rationing import Rationing, ShareRows, ration

__all__ = [
    "CONTRACTED",
    "NEW_TRADE",
    "SETTLED_TOL",
    "TIE_BREAK",
    "TIE_BROKEN",
    "WEIGHTS",
    "LevelCosts",
    "contracted_factors",
    "dot",
    "id_hash",
    "lexicographic_levels",
    "new_trade_factors",
    "perturbation",
    "settled",
    "tie_factors",
    "tie_ranks",
    "weighted_costs",
    "weighted_value",
]

FloatArray = npt.NDArray[np.float64]


WEIGHTS = (1.0, 1e-2, 1e-3, 1e-4, 1e-5)
"""Weights of the levels (unmet demand, stock draws, cost, unsold output, deviation) in the single ``weighted``
objective and the lexicographic solve's start (each level normalised to a largest coefficient of 1)."""

TIE_BREAK = 1e-3
"""Relative spread of the deterministic tie-break of the deviation level (:mod:`supplychain.simulation.rebalance`,
"Tie-break"; ``docs/rebalance.md``)."""

NEW_TRADE = 1.0
"""Extra deviation weight, in units of :data:`TIE_BREAK`, of a tonne above the baseline on a cross-border edge
(:func:`new_trade_factors`): at least the hash's whole spread, so among responses equally close to the baseline
the one that opens fewer new tonnes of trade wins whatever the hashes."""

CONTRACTED = 2.0
"""Deviation weight taken off a tonne of a contracted plant's flows above the baseline (and added to one below it), in
units of :data:`TIE_BREAK` (:func:`contracted_factors`): more than the hash's and the new-trade rule's spread together,
so among responses equally close to the baseline the contracted plant's output comes first whatever the hashes."""

TIE_BROKEN = frozenset({"weighted", "start", "deviation"})
"""Levels whose costs carry the deterministic tie-break, solved without HiGHS' cost perturbation."""


def perturbation(level: str, options: Mapping[str, Any]) -> float:
    """Return HiGHS' cost perturbation multiplier for ``level`` (:data:`TIE_BROKEN` levels: 0, others: 1).

    An explicit ``dual_simplex_cost_perturbation_multiplier`` in ``options`` wins.
    """
    if PERTURB in options:
        return float(options[PERTURB])
    return 0.0 if level in TIE_BROKEN else 1.0


@dataclass
class LevelCosts:
    r"""The four levels' costs of one solve, in the model's columns, each scaled to a largest coefficient of 1.

    Attributes
    ----------
    cost1, cost2, cost3, cost4 : numpy.ndarray
        Unmet demand (:math:`1/D_u` on each shortfall column), stock draws (:math:`1/S_m`),
        cost (taxes, tariffs, surcharges on both flow columns of an edge) and deviation from
        the baseline (:math:`\mp 1/T_k` on the flow columns below / above the baseline, 0 on edges into
        surplus nodes, :math:`-1/T_k` on unrecorded supply).
    dev_const : float
        The deviation level's constant (:math:`\sum_{e \notin S} f^0_e/T_{k(e)} + \sum_m G_m/T_k`, S the edges
        into surplus nodes, which the deviation does not count; scaled as ``cost4``): the deviation is
        ``cost4 @ x + dev_const``.
    ws_scale, cscale : float
        The scales divided out of ``cost1`` and ``cost3`` (their reported values are multiplied back).
    has_stock, has_cost : bool
        Whether levels 2 and 3 have anything to minimise (else they are skipped).
    tie : numpy.ndarray
        The deviation level's tie-break factor per column (:func:`tie_factors`, :func:`new_trade_factors`,
        :func:`contracted_factors`; 1 on the columns the level does not cost).
    """

    cost1: FloatArray
    cost2: FloatArray
    cost3: FloatArray
    cost4: FloatArray
    unsold: FloatArray
    dev_const: float
    ws_scale: float
    cscale: float
    has_stock: bool
    has_cost: bool
    tie: FloatArray


SETTLED_TOL = 1e-12
"""A level whose (normalised) value is at most this at the current point is optimal there (:func:`settled`)."""


def settled(cost: FloatArray, x: FloatArray) -> bool:
    r"""Whether a level is optimal at the feasible point ``x`` without solving it.

    Every column of the LP is non-negative, so a level with costs :math:`c \ge 0` has
    optimum :math:`\ge 0`; at :math:`c^\top x = 0` (up to :data:`SETTLED_TOL`) ``x`` attains it.
    This is the usual case after the weighted start: no shortfall, no stock draw, no
    costed flow.
    """
    return bool(np.all(cost >= 0.0)) and dot(cost, x) <= SETTLED_TOL


def weighted_costs(lv: LevelCosts, tie: FloatArray) -> FloatArray:
    """Return the LP costs of ``objective="weighted"`` (:data:`WEIGHTS`, tie-break on level 4).

    The weights are divided by the last one (10⁵ : 10³ : 10² : 10 : 1): the same optimum, but the
    deviation level's reduced costs keep their own scale, so HiGHS resolves them to its dual
    feasibility tolerance exactly as in a solve of that level alone (and the lexicographic
    solve may skip that level after a settled start, see
    :meth:`~supplychain.simulation.rebalance.RebalanceModel.solve`).
    """
    w = [wk / WEIGHTS[-1] for wk in WEIGHTS]
    out: FloatArray = w[0] * lv.cost1 + w[1] * lv.cost2 + w[2] * lv.cost3 + w[3] * lv.unsold + w[4] * lv.cost4 * tie
    return out


def weighted_value(lv: LevelCosts, x: FloatArray) -> float:
    """Return the ``weighted`` objective at ``x`` as reported: :data:`WEIGHTS` on the levels, without the tie-break."""
    w = WEIGHTS
    return dot(w[0] * lv.cost1 + w[1] * lv.cost2 + w[2] * lv.cost3 + w[3] * lv.unsold + w[4] * lv.cost4, x)


def lexicographic_levels(h: Any, run: Callable[[str, FloatArray], float], values: dict[str, float], *,
                         start: FloatArray, rationing: Rationing, rows: ShareRows, draws: FloatArray | None,
                         cost: FloatArray | None, unsold: FloatArray, deviation: FloatArray,
                         draw: npt.NDArray[np.int32], stock: FloatArray) -> FloatArray:
    """Solve the lexicographic levels on ``h`` from the weighted start (``docs/rebalance.md``, "Weighted start").

    Shared by :meth:`~supplychain.simulation.rebalance.RebalanceModel.solve` and each block of
    :class:`~supplychain.simulation.blocks.BlockRebalance`.

    Parameters
    ----------
    h : highspy.Highs
        The LP (the whole model, or one block).
    run : callable
        ``run(level, cost)`` solves one level with these costs on ``h`` and stores its
        optimum in ``values``.
    values : dict
        Level name → optimum; a settled level's value is written here, the start's removed.
    start, draws, cost, unsold, deviation : numpy.ndarray
        Costs in ``h``'s columns: the weighted start and the levels after the rationing
        (``draws`` None: no stocks; ``cost`` None: no costs; ``deviation`` with the tie-break).
    rationing : Rationing
        Who goes short: the users and the allocation rule (:func:`~supplychain.simulation.rationing.ration`).
    rows : ShareRows
        ``h``'s share rows (added on first use).
    draw : numpy.ndarray
        ``h``'s stock-draw columns.
    stock : numpy.ndarray
        The cap of each stock-draw column.

    Returns
    -------
    numpy.ndarray
        The optimal column values in ``h``'s columns (read from HiGHS once per run:
        each read copies every column, ~3 ms for 63,000 columns); the rationing's level
        column, when present, is the last.
    """
    rows.reset(h)
    run("start", start)
    values.pop("start")
    x = np.asarray(h.getSolution().col_value)
    ran = False  # has a level been solved since the start?
    n = len(start)

    def pad(c: FloatArray) -> FloatArray:
        return c if len(x) == len(c) else np.concatenate([c, np.zeros(len(x) - len(c))])

    def level(name: str, costs: FloatArray) -> bool:
        """Solve a level unless it is settled at the current point; return whether it was solved."""
        nonlocal x, ran
        if settled(costs, x[:n]):
            values[name] = dot(costs, x[:n])
            return False
        run(name, pad(costs))
        x = np.asarray(h.getSolution().col_value)
        ran = True
        return True

    def keep(cols: npt.NDArray[np.int32], hi: FloatArray) -> None:
        if cols.size:
            h.changeColsBounds(cols.size, cols, np.zeros(cols.size), hi)

    # 1. unmet demand: rationed by the allocation rule, each user's shortfall kept at its value
    x_before = x
    x = ration(h, run, rows, rationing, x)
    ran = ran or x is not x_before
    # 2. stock draws, each kept at its optimum
    if draws is not None:
        level("stock", draws)
        keep(draw, np.minimum(stock, np.maximum(x[draw], 0.0)))
    # 3. cost: its optimal face kept
    if cost is not None:
        if level("cost", cost):
            keep_optimal_face(h)
        else:  # settled at 0: its optimal face is every costed flow at 0
            js = np.flatnonzero(cost > 0).astype(np.int32)
            h.changeColsBounds(js.size, js, x[js], x[js])
    # 4. unsold material: its optimal face kept (settled at 0: every unsold column at 0)
    if level("unsold", unsold):
        keep_optimal_face(h)
    else:
        js = np.flatnonzero(unsold > 0).astype(np.int32)
        h.changeColsBounds(js.size, js, x[js], x[js])
    # 5. deviation from the baseline. When the levels above were all settled at the start, the
    # start's dual solution certifies this level too: on the columns left free its costs are
    # exactly the level's (weighted_costs), so it is skipped.
    if ran:
        run("deviation", pad(deviation))
        x = np.asarray(h.getSolution().col_value)
    return x


def id_hash(ids: Sequence[str]) -> FloatArray:
    r"""Return :math:`h(\text{id}) \in [0, 1)` per id, from CRC-32 (stable across runs and processes).

    Only orders columns whose tie-break keys are equal (:func:`tie_ranks`): the spelling of an id decides
    nothing that a quantity of the scenario can decide.
    """
    return np.array([zlib.crc32(str(i).encode()) for i in ids], dtype=np.float64) / 2.0**32


def tie_ranks(keys: FloatArray, h: FloatArray) -> tuple[FloatArray, FloatArray]:
    r"""Return the tie-break positions :math:`(r^{lo}, r^{hi})`, each in :math:`[0, 1)`, of columns with these keys.

    The rows of ``keys`` are ranked lexicographically (first key column first), equal rows sharing a rank
    :math:`\rho \in \{0, \dots, R-1\}` (:math:`R` distinct rows); then

    .. math:: r^{lo} = (\rho + \tfrac12 h)/R, \qquad r^{hi} = (R - 1 - \rho + \tfrac12 h)/R,

    with :math:`h` = :func:`id_hash` of the column's id. A larger key gets a larger :math:`r^{lo}` (the factor
    of a tonne kept up to the baseline, :math:`1 + \tau r^{lo}`: it is cut last) and a smaller :math:`r^{hi}`
    (the factor of a tonne above the baseline, :math:`1 + \tau r^{hi}`: it grows first). Distinct keys are
    at least :math:`\tfrac1{2R}` apart whatever the hashes, so the hash orders only columns whose keys are
    all equal (``docs/rebalance.md``, "Tie-break"). The ranks depend on the keys' order, not their spelling
    or the columns' order, so renaming or reordering the scenario's entities moves no column's rank.

    Parameters
    ----------
    keys : numpy.ndarray
        One row per column, shape (n, k); NaN is ranked as 0.
    h : numpy.ndarray
        :func:`id_hash` of the columns' ids (edge or market ids), for exact ties only.
    """
    h = np.asarray(h, dtype=np.float64)
    n = len(h)
    if n == 0:
        return h.copy(), h.copy()
    k = np.nan_to_num(np.asarray(keys, dtype=np.float64).reshape(n, -1))
    order = np.lexsort(k.T[::-1])  # by the first key column, then the next, ...
    ks = k[order]
    new = np.ones(n, dtype=bool)
    new[1:] = np.any(ks[1:] != ks[:-1], axis=1)
    rank = np.empty(n)
    rank[order] = np.cumsum(new) - 1.0
    n_rank = float(new.sum())
    lo: FloatArray = (rank + 0.5 * h) / n_rank
    hi: FloatArray = (n_rank - 1.0 - rank + 0.5 * h) / n_rank
    return lo, hi


def tie_factors(r: FloatArray) -> FloatArray:
    r"""Return :math:`1 + \tau r` per column (:data:`TIE_BREAK`; :math:`r` from :func:`tie_ranks`)."""
    out: FloatArray = 1.0 + TIE_BREAK * np.asarray(r, dtype=np.float64)
    return out


def new_trade_factors(r_hi: FloatArray, cross: npt.NDArray[np.bool_]) -> FloatArray:
    r"""Return the deviation level's factors on the flow columns above the baseline, :math:`f^{hi}_e`.

    :math:`1 + \tau\,(r^{hi}_e + \nu\,[e \text{ crosses a border}])`, with :math:`\tau` =
    :data:`TIE_BREAK`, :math:`r^{hi}` from :func:`tie_ranks` and :math:`\nu` = :data:`NEW_TRADE` = 1.

    Every other deviation column's factor is :math:`1 + \tau r \in [1, 1 + \tau)`; a tonne of new
    cross-border trade weighs :math:`[1 + \tau, 1 + 2\tau)`, so it is dearer than any tonne that is
    not, whatever the keys. Where the deviation :math:`\sum_e |f_e - f^0_e| / T_k` is tied, the response
    opening the fewest new tonnes of cross-border trade wins (``docs/rebalance.md``, "Tie-break"). That
    removes cross-hauls: keeping a baseline flow A→B of x t while B→A carries x + y t above its baseline
    deviates by x + y, exactly as much as cutting A→B by x and carrying only y on B→A, but opens x t
    more of new trade. Like the ranks, it can trade at most a share :math:`2\tau` of the deviation.

    Parameters
    ----------
    r_hi : numpy.ndarray
        :math:`r^{hi}` per edge (:func:`tie_ranks`).
    cross : numpy.ndarray of bool
        Whether each edge crosses a border (supplier and buyer countries differ).
    """
    out: FloatArray = tie_factors(r_hi) + TIE_BREAK * NEW_TRADE * np.asarray(cross, dtype=np.float64)
    return out


def contracted_factors(tie: FloatArray, contracted: npt.NDArray[np.bool_] | None) -> FloatArray:
    r"""Return the tie-break factors with a contracted plant's flows first (``docs/rebalance.md``, "Tie-break").

    A plant is *contracted* in a year when an offtake in force buys its output
    (:class:`~supplychain.simulation.agreements.OfftakeBound`); its flows are its output and input edges.
    On those edges the factor of the column above the baseline, :math:`f^{hi}_e`, is lowered and that of the
    column below it, :math:`f^{lo}_e` (cost :math:`-w_e`), raised by :math:`\kappa\tau`, :math:`\kappa` =
    :data:`CONTRACTED` = 2:

    .. math:: t^{hi}_e = 1 + \tau\,(h_e + \nu\,[\text{cross}_e] - \kappa), \qquad t^{lo}_e = 1 + \tau\,(h_e + \kappa).

    A tonne more on a contracted plant's flow then weighs less than its deviation (factor below 1, the
    new-trade term included), a tonne more on any other flow at least its deviation (factor 1 or more); a tonne
    less of it weighs at least :math:`1 + 2\tau` times, on any other flow less than :math:`1 + \tau`. So among
    responses equally close to the baseline the contracted plant makes the most it can sell, whatever the
    hashes. It is a tie-break, not a floor: it never trades unmet demand, stock, cost or unsold output
    (levels 1-4), and like the other tie-breaks it can trade only a share of order :math:`\tau` of the
    deviation. The factors stay positive (:math:`\tau \ll 1`), so the costs stay convex in a folded plant's
    activity (:mod:`supplychain.simulation.fold`).

    Parameters
    ----------
    tie : numpy.ndarray
        The factors per LP column, the model's edges' :math:`f^{lo}` columns first, then their :math:`f^{hi}`
        columns (:meth:`RebalanceModel._tie <supplychain.simulation.rebalance.RebalanceModel._tie>`).
    contracted : numpy.ndarray of bool, optional
        Per model edge, whether it is a flow of a contracted plant; None: none is.
    """
    if contracted is None or not contracted.any():
        return tie
    ne = len(contracted)
    out = tie.copy()
    out[:ne][contracted] += TIE_BREAK * CONTRACTED
    out[ne : 2 * ne][contracted] -= TIE_BREAK * CONTRACTED
    return out


def dot(a: FloatArray, b: FloatArray) -> float:
    """Return ``a @ b`` computed without BLAS.

    A BLAS dot product of this length runs on OpenBLAS's worker threads, which then
    busy-wait for the next call and keep a CPU busy while the blocks are solved
    (measured at 10k nodes, 50 blocks: 40 warm solves took 4.3 s on one thread, with 8.2 s of
    CPU, and 4.8 s on two threads; without BLAS 4.2 s with 4.1 s of CPU, and 3.0 s on two).
    """
    return float(np.sum(a * b))


