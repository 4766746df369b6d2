r"""Who goes short: the allocation rules of the re-routing LP (``docs/rebalance.md``, "Allocation rules").

When supply is scarce, which users absorb the shortfall is a choice, not a by-product of the
solver. Each rule here is a reading an analyst can name, solved exactly by a sequence of LPs
on the re-routing model (:class:`~supplychain.simulation.rebalance.RebalanceModel`, or one
block of :class:`~supplychain.simulation.blocks.BlockRebalance`). A *user* is a use node
with given demand :math:`D_u > 0` (material with no known destination — a surplus node —
is never a user); its shortfall share is :math:`\sigma_u = z_u / D_u`.

**Max-min fair rationing** (:func:`leximin`). Users lose the same share of their demand
as far as the network allows; a user that can be served better is, as long as that does
not take from a user who is worse off. Exactly: the vector of shortfall shares, sorted
from the largest, is lexicographically smallest (*leximin*). It is found by progressive
filling: minimise :math:`t` subject to :math:`z_u \le D_u t` for every user not yet fixed
(one column :math:`t` and one *share row* per user, added to the LP on first use); the
users whose share row has a non-zero dual are at :math:`t^*` in every optimum
(complementary slackness), so their shortfall is fixed at :math:`D_u t^*`; repeat for the
others until :math:`t^* = 0`. Each round fixes at least one user (the duals of the share
rows sum to 1 on :math:`D_u`), so there are at most as many rounds as distinct shares.
The result is Pareto efficient: no tonne is left unused that could reach a user who is
short.

**The rules** (:data:`RULES`):

``contracts_first`` (default)
    Deliveries that survive the policy are contracts: every user gets at least what it
    gets under the ``fixed`` response (:math:`z_u \le z^{fixed}_u`; a first round, the
    *floors*, minimises the largest excess over them, which is 0 whenever the fixed
    outcome is a point of the LP). Freed and spare supply is then rationed max-min fair;
    where an agreement in force grants a *preference*, a party's extra supply serves its
    partners (and its own users) first: a first rationing with every export of a
    preferring party to a non-partner held at its baseline (:math:`f^{hi}_e = 0`), then
    one without; never leaving a party's users shorter than without the preference (below).
``home_first``
    A country's own output serves its own final use before it is exported: no country
    exports commodity k while its own users of k are short, beyond committed offtakes, nor
    what its own plants turn into k (its *feeds*: the metal of its magnet makers) while they
    can use it. First the *held* countries are found: users are rationed max-min fair with
    no exports closed, then with the exports of k and of the feeds of every country short so
    far closed (down to its offtakes), until no more are short (a country never short is never
    held). Users are rationed with those closed; countries whose users of k are then fully
    served open their exports again, and the rest is rationed; repeated
    until no more countries are served in full. Exports of k of countries still short stay
    closed; their feeds open once every user is bounded at its share, so what their plants
    cannot use (beyond their capacity or their other inputs) serves others, and no user ends
    shorter for it; the rounds then go on (a country those feeds serve in full exports again).
``proportional``
    Every user of a commodity loses the same share, as far as the network allows:
    max-min fair from the start, without floors or preference.
``max_delivery``
    Efficiency only: the most tonnes delivered, :math:`\min \sum_k \sum_{u \in k} z_u / D_k`
    with :math:`D_k` the total demand of commodity k (tonnes of different bases are never
    added); the users are then rationed max-min fair among the most efficient outcomes.
    An upper bound on what re-routing can deliver, not a forecast of who gets it.

**A deal never leaves a party worse off** (``contracts_first``). Serving partners first pools
the parties' users: rationed max-min fair among them, a party whose users are less short sends
its own supply to a partner's, until both are short alike — an agreement no party would sign.
So each preference in force first gets its *counterfactual*: the rule solved with the reserved
exports of the other agreements only (:class:`Without`; its exemptions, capacity and offtakes
are bounds of the LP and stay), and no user in one of its party countries may end shorter than
there, :math:`z_u \le z^{-a}_u` (the least over the agreements it is a party to; a round like
the floors' minimises the largest excess over these bounds, 0 whenever they come from one
counterfactual, a point of the LP). Partners first then applies to supply beyond that.
``home_first`` needs no such bound for this: a country exports nothing, to partners neither,
while its own users are short; and a bound taken from another solve can contradict its staged
export closures (which are hard bounds), so it gets none.

After the rule, every user's shortfall is kept (bounded at its value) while the model
minimises stock draws, cost, unsold output and deviation from the baseline, in that order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast, get_args

import numpy as np
import numpy.typing as npt

from supplychain.errors import SolverError
from supplychain.schema.model import AllocationRule as Rule
from supplychain.simulation.highs import INF, keep_optimal_face

__all__ = [
    "DEFAULT_RULE",
    "RULES",
    "SHARE_TOL",
    "Rationing",
    "Rule",
    "ShareRows",
    "Without",
    "check_rule",
    "leximin",
    "ration",
]

FloatArray = npt.NDArray[np.float64]
Int32Array = npt.NDArray[np.int32]
IntArray = npt.NDArray[np.intp]

RULES: tuple[Rule, ...] = get_args(Rule)
"""The allocation rules (``response.allocation`` of the scenario language), in the order of ``--help``."""
DEFAULT_RULE: Rule = "contracts_first"
"""The rule of ``simulate``, ``compare`` and the CLI unless a scenario's ``response:`` or the caller says otherwise."""

PREFERRING: tuple[Rule, ...] = ("contracts_first", "home_first")
"""The rules under which an agreement's preference serves partners first."""

SHARE_TOL = 1e-9
"""Shortfall shares (and duals of share rows) at most this are 0."""


def check_rule(rule: str) -> Rule:
    """Return ``rule`` if it is one of :data:`RULES`, else raise a ScenarioError (a ``ValueError``) with a did-you-mean.

    Examples
    --------
    >>> check_rule("home_first")
    'home_first'
    >>> check_rule("home")
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    argument allocation=: unknown allocation 'home'
        hint: did you mean 'home_first'?
    """
    from supplychain.arguments import check_choice

    return cast("Rule", check_choice("allocation", rule, RULES))


@dataclass(frozen=True)
class Without:
    """One preference's counterfactual in the columns of one HiGHS model (module docstring, "worse off").

    Attributes
    ----------
    agreement : str
        The agreement's id.
    reserved : numpy.ndarray
        HiGHS columns reserved by the other agreements in force (as :attr:`Rationing.reserved`).
    party : numpy.ndarray of bool
        Per user, whether it is in a party country of the agreement.
    """

    agreement: str
    reserved: Int32Array
    party: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Rationing:
    """One solve's allocation rule, in the columns of one HiGHS model (the whole LP or a block).

    Attributes
    ----------
    rule : str
        One of :data:`RULES`.
    short : numpy.ndarray
        HiGHS columns of the users' shortfalls :math:`z_u`.
    demand : numpy.ndarray
        :math:`D_u` per user.
    floor : numpy.ndarray
        Shortfall a user may not exceed (``contracts_first``: the fixed response's), NaN for none.
    group : numpy.ndarray
        Per user, the index of its (country, commodity) in :attr:`exports`.
    exports : tuple of numpy.ndarray
        Per (country, commodity): HiGHS columns of its cross-border exports (both flow columns
        of every edge), closed under ``home_first`` while its users are short (held at their
        lower bounds: committed offtakes).
    feeds : tuple of numpy.ndarray
        Per (country, commodity), as :attr:`exports`: the cross-border exports of what the
        country's own plants turn into the commodity (:func:`~supplychain.simulation.assembly.home_inputs`),
        closed with them under ``home_first`` while they can serve its users.
    reserved : numpy.ndarray
        HiGHS columns closed while partners are served first: the above-baseline flow columns
        of exports of a party with preference to a non-partner.
    efficiency : numpy.ndarray
        ``max_delivery``: :math:`1/D_k` per user.
    without : tuple of Without
        ``contracts_first``: per preference in force, its counterfactual.
    """

    rule: Rule
    short: Int32Array
    demand: FloatArray
    floor: FloatArray
    group: IntArray
    exports: tuple[Int32Array, ...] = ()
    feeds: tuple[Int32Array, ...] = ()
    reserved: Int32Array = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    efficiency: FloatArray = field(default_factory=lambda: np.zeros(0))
    without: tuple[Without, ...] = ()

    def preference_key(self) -> bytes:
        """Return the reserved exports and counterfactuals as bytes (a block's LP is the same only if they are)."""
        parts = [self.reserved.tobytes()]
        for w in self.without:
            parts += [w.agreement.encode(), w.reserved.tobytes(), w.party.tobytes()]
        return b"|".join(parts)

    def local(self, cols: IntArray) -> Rationing:
        """Return the rule restricted to the HiGHS columns ``cols`` (a block), renumbered to them."""
        pos = np.full(int(cols.max()) + 1 if cols.size else 0, -1, dtype=np.intp)
        pos[cols] = np.arange(len(cols))

        def sub(c: Int32Array) -> tuple[Int32Array, npt.NDArray[np.bool_]]:
            ok = (c < len(pos)) & (pos[np.minimum(c, max(len(pos) - 1, 0))] >= 0) if len(pos) else \
                np.zeros(len(c), dtype=bool)
            return pos[c[ok]].astype(np.int32), ok

        short, keep = sub(self.short)
        groups = np.unique(self.group[keep]) if keep.any() else np.zeros(0, dtype=np.intp)
        remap = {int(g): i for i, g in enumerate(groups.tolist())}
        exports = tuple(sub(self.exports[g])[0] for g in groups.tolist())
        feeds = tuple(sub(self.feeds[g])[0] for g in groups.tolist()) if self.feeds else ()
        reserved, _ = sub(self.reserved)
        return replace(
            self, short=short, demand=self.demand[keep], floor=self.floor[keep],
            group=np.array([remap[int(g)] for g in self.group[keep].tolist()], dtype=np.intp),
            exports=exports, feeds=feeds, reserved=reserved,
            efficiency=self.efficiency[keep] if self.efficiency.size else self.efficiency,
            without=tuple(Without(w.agreement, sub(w.reserved)[0], w.party[keep]) for w in self.without),
        )


class ShareRows:
    r"""The level column :math:`t` and one share row :math:`z_u - D_u t \le b_u` per user, in one HiGHS model.

    Added on first use (most solves have no shortfall and never need them) and kept
    between solves; :meth:`reset` relaxes them at the start of a solve, :meth:`set`
    activates the rows of some users with the year's :math:`D_u`.
    """

    def __init__(self) -> None:
        self.t = -1
        self.rows = np.zeros(0, dtype=np.int32)
        self.short = np.zeros(0, dtype=np.int32)
        self.coef = np.zeros(0)

    def ensure(self, h: Any, short: Int32Array) -> None:
        """Add the column and rows to ``h`` unless present for exactly these shortfall columns."""
        if self.t >= 0:
            if np.array_equal(self.short, short):
                return
            msg = "the users of a rebalance model changed between solves"
            raise SolverError(msg)
        n = len(short)
        h.addCol(0.0, 0.0, INF, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
        self.t = int(h.getNumCol()) - 1
        first = int(h.getNumRow())
        for j in short.tolist():
            h.addRow(-INF, INF, 2, np.array([j, self.t], dtype=np.int32), np.array([1.0, 0.0]))
        self.rows = np.arange(first, first + n, dtype=np.int32)
        self.short = short.copy()
        self.coef = np.zeros(n)

    def reset(self, h: Any) -> None:
        """Relax every share row and free :math:`t` (start of a solve)."""
        if self.t < 0:
            return
        h.changeColsBounds(1, np.array([self.t], dtype=np.int32), np.zeros(1), np.full(1, INF))
        self.relax(h)

    def relax(self, h: Any) -> None:
        """Make every share row free."""
        if self.rows.size:
            h.changeRowsBounds(self.rows.size, self.rows, np.full(self.rows.size, -INF), np.full(self.rows.size, INF))

    def set(self, h: Any, active: npt.NDArray[np.bool_], demand: FloatArray, rhs: FloatArray) -> None:
        r"""Activate the rows of the ``active`` users as :math:`z_u - D_u t \le` ``rhs``, the others free."""
        want = -demand
        for i in np.flatnonzero(active & (want != self.coef)).tolist():
            h.changeCoeff(int(self.rows[i]), self.t, float(want[i]))
            self.coef[i] = want[i]
        hi = np.where(active, rhs, INF)
        lo = np.full(len(hi), -INF)
        h.changeRowsBounds(self.rows.size, self.rows, lo, hi)


Run = Callable[[str, FloatArray], float]
_NONE: Int32Array = np.zeros(0, dtype=np.int32)


def _solution(h: Any) -> FloatArray:
    return np.asarray(h.getSolution().col_value, dtype=np.float64)


def _keep_users(h: Any, plan: Rationing, users: npt.NDArray[np.bool_], x: FloatArray) -> None:
    """Bound the shortfall of ``users`` at its current value (it may fall later, never rise)."""
    cols = plan.short[users]
    if cols.size:
        h.changeColsBounds(cols.size, cols, np.zeros(cols.size), np.maximum(x[cols], 0.0))


def _close(h: Any, cols: Int32Array) -> tuple[FloatArray, FloatArray]:
    """Hold columns at their lower bound (0, or a committed offtake); return their bounds before, to restore."""
    before: tuple[FloatArray, FloatArray] = h.col_bounds(cols)
    if cols.size:
        h.changeColsBounds(cols.size, cols, before[0], before[0])
    return before


def _restore(h: Any, cols: Int32Array, before: tuple[FloatArray, FloatArray]) -> None:
    if cols.size:
        h.changeColsBounds(cols.size, cols, before[0], before[1])


def leximin(h: Any, run: Run, rows: ShareRows, plan: Rationing, x: FloatArray, n_cols: int,
            rhs: FloatArray | None = None, *, name: str = "share") -> FloatArray:
    r"""Ration max-min fair by progressive filling (module docstring); return the new point.

    Parameters
    ----------
    h : highspy.Highs
        The LP (a :class:`~supplychain.simulation.highs.SentHighs`).
    run : callable
        ``run(level, cost)`` solves ``h`` with ``cost`` (HiGHS columns) and returns the optimum.
    rows : ShareRows
        The share rows of ``h``.
    plan : Rationing
        The users.
    x : numpy.ndarray
        The current point (HiGHS columns).
    n_cols : int
        Columns of ``h`` (the level column included).
    rhs : numpy.ndarray, optional
        :math:`b_u` (default 0: shares of demand); the floors round passes the floors.
    name : str
        Level name of the runs.

    Returns
    -------
    numpy.ndarray
        The point after the last round; every user's shortfall is then bounded at its value.
    """
    d = plan.demand
    b = np.zeros(len(d)) if rhs is None else rhs
    hi = h.col_bounds(plan.short)[1]
    active = (d > 0) & (hi > SHARE_TOL * np.maximum(1.0, d))
    cost = np.zeros(n_cols)
    cost[rows.t] = 1.0
    while active.any():
        rows.set(h, active, d, b)
        tstar = run(name, cost)
        x = _solution(h)
        if tstar <= SHARE_TOL:
            break
        y = np.asarray(h.getSolution().row_dual, dtype=np.float64)[rows.rows]
        hit = active & (np.abs(y) > SHARE_TOL)
        if not hit.any():  # degenerate duals: fix the users at the level (at least one is)
            hit = active & (x[plan.short] >= b + tstar * d - SHARE_TOL * np.maximum(1.0, d))
        if not hit.any():  # pragma: no cover - a point at the level always has a user at it
            hit = active
        _keep_users(h, plan, hit, x)
        active &= ~hit
    rows.relax(h)
    _keep_users(h, plan, np.ones(len(d), dtype=bool), x)
    return x


def _ration_open(h: Any, run: Run, rows: ShareRows, plan: Rationing, x: FloatArray, n_cols: int,
                 closed: Int32Array) -> FloatArray:
    """Ration with ``closed`` columns held; under a preference, first with the reserved exports held too."""
    if plan.reserved.size and plan.rule in PREFERRING:
        extra = np.setdiff1d(plan.reserved, closed).astype(np.int32)
        before = _close(h, extra)
        try:
            x = leximin(h, run, rows, plan, x, n_cols, name="share (partners first)")
        except SolverError:  # the reserved exports cannot be held here: ration without the preference
            rows.relax(h)
        _restore(h, extra, before)
    return leximin(h, run, rows, plan, x, n_cols)


def _home_first(h: Any, run: Run, rows: ShareRows, plan: Rationing, x: FloatArray, n_cols: int) -> FloatArray:
    """Own users first: exports closed while a country's own users of the commodity are short.

    A group holds its exports of the commodity and its feeds (:attr:`Rationing.feeds`: what its
    country's plants turn into it); one feed column can belong to several groups and is held
    while any of them is. First the held groups are found: none at first, then every group short
    after rationing with those held, repeated (the users' shortfalls free again each time) until
    no more groups are short; a group whose users are never short is never held, so its closure
    cannot starve another country's plants while a third country's users are bounded at what
    they got. Then each round rations with what is held, and the countries then served in full
    export again. When no more are, every user's shortfall is bounded at its value (leximin's
    last step) and the feeds still held open, so that what a short country's plants cannot use
    (metal beyond its magnet plants' capacity) serves others; the rounds go on, as the countries
    those feeds serve in full export again, until no more are: no user ends shorter for it, and
    the commodity itself stays home while its users are short.
    """
    groups = np.unique(plan.group).tolist()  # sorted, distinct

    def held(closed: list[int], *, feeds: bool = True) -> Int32Array:
        parts = [plan.exports[g] for g in closed] + ([plan.feeds[g] for g in closed] if feeds and plan.feeds else [])
        return np.unique(np.concatenate(parts)).astype(np.int32) if parts else _NONE

    cols = held(groups)
    original: tuple[FloatArray, FloatArray] = h.col_bounds(cols)

    def hold(keep: Int32Array) -> None:
        """Hold ``keep`` at its lower bound, the other export columns at their bounds before the rule."""
        if cols.size:
            h.changeColsBounds(cols.size, cols, original[0], np.where(np.isin(cols, keep), original[0], original[1]))

    def short_groups(x: FloatArray) -> list[int]:
        z = np.maximum(x[plan.short], 0.0)
        return sorted(set(np.unique(plan.group[z > SHARE_TOL * np.maximum(1.0, plan.demand)]).tolist()))

    # the held groups: those short when the groups short before them are held (a growing set)
    users = h.col_bounds(plan.short)
    closed_g: list[int] = []
    while True:
        x = _ration_open(h, run, rows, plan, x, n_cols, held(closed_g))
        grown = sorted(set(closed_g) | set(short_groups(x)))
        if grown == closed_g:
            break
        closed_g = grown
        hold(held(closed_g))
        _restore(h, plan.short, users)  # shortfalls free again

    feeds = bool(plan.feeds)  # feeds held (until no more countries are served in full)
    while True:
        still = sorted(set(short_groups(x)) & set(closed_g))
        if still != closed_g:
            closed_g = still  # the served countries export again; their own users keep what they got (bounded)
        elif feeds and not np.array_equal(held(closed_g, feeds=False), held(closed_g)):
            feeds = False  # every user bounded at its share: the feeds open for what their plants cannot use
        else:
            return x  # the exports of countries still short stay closed to the end of the solve
        keep = held(closed_g, feeds=feeds)
        hold(keep)
        x = _ration_open(h, run, rows, plan, x, n_cols, keep)


def _participation(h: Any, run: Run, rows: ShareRows, plan: Rationing, x: FloatArray, n_cols: int) -> FloatArray:
    r"""Bound every party's users by their counterfactual shortfall (module docstring, "worse off"); return the point.

    Each counterfactual is the rest of the rule (partners first, then leximin) solved from ``x``
    with the other agreements' reserved exports; the bounds it set are then restored, so the LP
    is as before but for the new bounds :math:`z_u \le \max(x_u, z^{-a}_u)` of the users owed
    one (:math:`x` the point after this round). A counterfactual with the reserved columns of
    ``plan`` itself (an agreement acting in another block) would be the rule itself: skipped.
    """
    same = np.sort(plan.reserved)
    owed = [w for w in plan.without if w.party.any() and not np.array_equal(np.sort(w.reserved), same)]
    if not owed or plan.rule != "contracts_first":
        return x
    watched = np.unique(np.concatenate([plan.short, plan.reserved, *(w.reserved for w in owed)])).astype(np.int32)
    before: tuple[FloatArray, FloatArray] = h.col_bounds(watched)
    d = plan.demand
    bound = np.full(len(d), np.inf)
    for w in owed:
        xc = _ration_open(h, run, rows, replace(plan, reserved=w.reserved, without=()), x, n_cols, _NONE)
        _restore(h, watched, before)
        bound[w.party] = np.minimum(bound[w.party], np.maximum(xc[plan.short[w.party]], 0.0))
    hi_before = before[1][np.searchsorted(watched, plan.short)]
    users = np.isfinite(bound)
    x = leximin(h, run, rows, plan, x, n_cols, rhs=np.where(users, bound, d), name="participation")
    cols = plan.short
    z = np.maximum(x[cols], 0.0)
    h.changeColsBounds(cols.size, cols, np.zeros(cols.size),
                       np.where(users, np.minimum(hi_before, np.maximum(z, bound)), hi_before))
    return x


def ration(h: Any, run: Run, rows: ShareRows, plan: Rationing, x: FloatArray) -> FloatArray:
    """Apply ``plan.rule`` from the point ``x``; return the new point, every user's shortfall kept.

    ``rows`` are created on ``h`` on first use. When no user is short at ``x`` every rule is
    satisfied already and nothing is solved.
    """
    d = plan.demand
    if not plan.short.size:
        return x
    z = np.maximum(x[plan.short], 0.0)
    if np.all(z <= SHARE_TOL * np.maximum(1.0, d)):
        _keep_users(h, plan, np.ones(len(d), dtype=bool), x)
        return x
    rows.ensure(h, plan.short)
    n_cols = int(h.getNumCol())
    if plan.rule == "max_delivery":
        cost = np.zeros(n_cols)
        cost[plan.short] = plan.efficiency / max(float(plan.efficiency.max()), 1e-300)
        run("delivery", cost)
        keep_optimal_face(h)
        x = _solution(h)
    if plan.rule == "contracts_first" and np.any(np.isfinite(plan.floor)):
        floor = np.where(np.isfinite(plan.floor), plan.floor, d)
        x = leximin(h, run, rows, plan, x, n_cols, rhs=floor, name="floors")
        # the floors are kept as bounds; relax the bounds leximin set to the floors themselves
        cols = plan.short
        h.changeColsBounds(cols.size, cols, np.zeros(cols.size),
                           np.maximum(np.maximum(x[cols], 0.0), np.minimum(floor, d)))
    if plan.rule == "home_first":
        return _home_first(h, run, rows, plan, x, n_cols)
    x = _participation(h, run, rows, plan, x, n_cols)
    return _ration_open(h, run, rows, plan, x, n_cols, _NONE)
