r"""Stockpiles drawn down by shortfall, year by year.

A stockpile of commodity k held by country c sits at market ``c:k``. Each
``stockpiles`` entry is one stock that enters the ledger at the start of its
``year`` — those dated at or before the first simulated year make the opening
level, a later one is added at the start of the first simulated year on or after
its date — at its whole level (:func:`supplychain.graph.allocate.stock_table`,
``months_of_cover`` turned into the commodity's unit with that year's demand).
Each year, with :math:`A_y` the stock entering at its start and :math:`s` the
release share (``max_release_share``, "the largest share of the stock that may be
released in one year", 1 when not given; :func:`~supplychain.graph.allocate.releasable`),

.. math:: L_y = L^{end}_{y-1} + A_y, \qquad R_y = s \, L_y, \qquad
          \delta_y = \min(L_y, \Delta_y, R_y), \qquad L^{end}_y = L_y - \delta_y,

where :math:`\Delta_y` is the gap the stock is asked to fill that year. A stock is
national and covers its holder's own users of the commodity (:func:`holder_edges`): the
final use of its market and the holder's plants of the next stage that take it as an input,
one rule for both, :math:`\Delta = b + U + \sum_v G_v` — :math:`b` the baseline stock edges'
draws, :math:`U` the final use left short, :math:`G_v` what the stock can replace of the input
plant v lost (:func:`plant_gaps`): offered all of its lost input, what the plant keeps of it
(:func:`plant_kept`; ``fixed``: the propagation runs again with the offer, the plant running
at its scarcest input and its unsellable output cut back; ``rebalance``: a re-solve with the LP's
draw open up to the offer, :meth:`StockRoutes.plant_release`, with the holder's trade held at the
first solve's, :meth:`StockRoutes.held`) — what it could use with its other inputs as they can be
had and its output as it can be sold, one rule for both responses. The release beyond :math:`b`
is shared over them pro rata to their gaps (:func:`split_release`); a plant's share is fed to it
and its output reaches its buyers (``fixed``: the propagation runs again with it; ``rebalance``: a
re-solve). A plant that keeps less of its share than offered could use no more: its gap is then
what it kept, in both responses (:func:`plant_need`), for the draw and the run-out month alike. A
plant offered less than it can use (a 200 t release against a plant that lost 600 t of oxide and,
with half its Dy, can use 300 t) takes all of it, and its gap is the 300 t, not the 600 t lost:
the release lasts 12 × 200 / 300 = 8 months, not 4. A stock of
an intermediate (Japan's oxide stock for its magnet makers) thus works like one of a final
product. A 6,000 t stock with :math:`s = 0.5` against gaps of 3,210.6 t and 9,372 t releases 3,000 t,
then 1,500 t of the 3,000 t left, and keeps 1,500 t. Several stocks of one market keep
their own levels and shares (:class:`StockLedger`): :math:`R_y = \sum_i s_i L_{i,y}`.

When the gap exceeds the year's release, the release runs out within the year. The gap
arises over the months the policies causing it are in force (:func:`shock_spans`: the
policies nearest the holder's users that cut a flow feeding them — its imports, its plants'
inputs, else the first step up the chain where a policy cuts one — and the union of their
periods within the year, less on each edge the periods of the agreements lifting the policy
there: :math:`12\varphi` months from month :math:`a`), evenly over
them; so the release lasts

.. math:: m_y = a + 12 \varphi \, R_y / \Delta_y \ \text{months from 1 January}

(a ban from 1 September, :math:`a = 8`, :math:`\varphi = 4/12`: 2,502 t against a
3,210.6 t gap last 3.1 months from September, to early December; with a licensing
regime also in force from April, the union runs from April; an Australian concentrate ban
from September that idles the Malaysian plant feeding Japan dates Japan's oxide gap
September–December). Where no policy cuts any flow up the chain (a gap from demand growth
alone) the gap is spread evenly over the whole year, :math:`m_y = 12 R_y / \Delta_y`
(e.g. 500 t against a 1 200 t/yr gap lasts 5 months: it runs out at the end of May, month
⌈m⌉; a level that lasts a whole number of months up to round-off, such as 40/3 t against 80 t/yr = 2 months, runs out
in that month, February, not the next). With :math:`s < 1` it is the year's release
that runs out, not the stock (``level_end`` > 0). Cover left at the end of the year is
:math:`12 L^{end}_y / D_y` months, :math:`D_y` the market's final demand of that year.

The stocks table (:data:`STOCK_COLUMNS`, ``Result.stocks``), one row per market and year:
``level_start`` (:math:`L_y`, after ``added``), ``added`` (:math:`A_y`), ``releasable``
(:math:`R_y`), ``gap`` (:math:`\Delta_y`), ``gap_over`` (the months the gap is spread over:
``year``, or e.g. ``Sep-Dec``), ``draw`` (:math:`\delta_y`), ``level_end``, ``demand``
(:math:`D_y`), ``cover_end_months`` (cover left at year end — an output, not the input field
``months_of_cover``), ``runs_out_after_months`` (:math:`m_y`, ∞ when the release lasts the year) and
``runs_out_month`` (``YYYY-MM``; ``""`` when it lasts the year, ``empty`` when nothing
was left at the start of a year with a gap); quantities in the commodity's unit (the
``unit`` column of ``Result.stocks``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplychain.graph.allocate import releasable
from supplychain.simulation.assembly import year_feeds

if TYPE_CHECKING:
    from supplychain.schema.model import Scenario
    from supplychain.simulation.calendar import Interval
    from supplychain.simulation.rebalance import RebalanceModel, RebalanceSolution, YearInputs

__all__ = ["MONTH_TOL", "STOCK_COLUMNS", "StockLedger", "StockRoutes", "feeding_edges", "holder_edges",
           "months_lasting", "plant_gaps", "plant_kept", "plant_need",
           "run_out_month", "shock_spans", "spans_label", "split_release"]

STOCK_COLUMNS = [
    "year",
    "market",
    "country",
    "commodity",
    "level_start",
    "added",
    "releasable",
    "gap",
    "gap_over",
    "draw",
    "level_end",
    "demand",
    "cover_end_months",
    "runs_out_after_months",
    "runs_out_month",
]
"""Columns of the stocks table (module docstring)."""

MONTH_TOL = 1e-9
"""Months within which a run-out time counts as a whole month (floating-point round-off of 12 L / Δ)."""

USED_TOL = 1e-7
"""Relative margin (of a plant's offer, at least 1 t) within which it counts as having taken all of it
(:func:`plant_need`: an LP draw within the solver's feasibility tolerance of its bound is at the bound)."""


def months_lasting(level: float, yearly_gap: float, spans: Sequence[tuple[float, float]] = ()) -> float:
    r"""Months from 1 January after which a stock runs out against a year's gap (∞ when it covers it), to 10⁻⁹ month.

    The gap :math:`\Delta` arises evenly over the months of `spans` (months counted from 1 January,
    :func:`~supplychain.simulation.calendar.month_spans`; the whole year when none), :math:`12\varphi`
    months in all: :math:`\Delta / (12 \varphi)` a month. A level :math:`L` then lasts
    :math:`12 \varphi L / \Delta` months of them, counted from the first span's start; for one span
    starting at :math:`a`, :math:`m = a + 12 \varphi L / \Delta` (the whole year:
    :math:`m = 12 L / \Delta`).

    Examples
    --------
    >>> months_lasting(500.0, 1200.0)
    5.0
    >>> months_lasting(40 / 3, 80.0)  # 12 × 13.333… / 80 = 2.0000000000000004 before rounding
    2.0
    >>> months_lasting(500.0, 0.0)
    inf

    A ban from 1 September (spans ``[(8, 12)]``): a 2,502 t stock against a 3,210.6 t gap, all of it
    arising September–December at 802.65 t a month, lasts 3.117 months from 1 September:

    >>> round(months_lasting(2502.0, 3210.6, [(8.0, 12.0)]), 3)
    11.117
    >>> months_lasting(250.0, 400.0, [(0.0, 2.0), (6.0, 8.0)])  # 100 t a month in Jan–Feb and Jul–Aug
    6.5
    """
    if yearly_gap <= 0 or level >= yearly_gap:
        return math.inf
    spans = [(a, b) for a, b in spans if b > a] or [(0.0, 12.0)]
    need = level / yearly_gap * sum(b - a for a, b in spans)  # months of the spans the level lasts
    for a, b in spans:
        if need <= b - a:
            return round(a + need, 9)
        need -= b - a
    return round(spans[-1][1], 9)  # round-off only: level < gap


def spans_label(spans: Sequence[tuple[float, float]]) -> str:
    """``year`` (the gap spread over the whole year), or the months it is spread over.

    Whole months by name (``Sep-Dec``: months 8 to 12 counted from 1 January); a span starting or
    ending within a month as months from 1 January (``months 3.5-12``).

    Examples
    --------
    >>> spans_label([]), spans_label([(8.0, 12.0)]), spans_label([(0.0, 12.0)])
    ('year', 'Sep-Dec', 'year')
    >>> spans_label([(2.5, 5.0), (9.0, 10.0)])
    'months 2.5-5, Oct'
    """
    if not spans or (len(spans) == 1 and spans[0][0] <= 0.0 and spans[0][1] >= 12.0):
        return "year"
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    parts = []
    for a, b in spans:
        if a == int(a) and b == int(b):
            first, last = names[int(a)], names[int(b) - 1]
            parts.append(first if first == last else f"{first}-{last}")
        else:
            parts.append(f"months {a:g}-{b:g}")
    return ", ".join(parts)


def holder_edges(edges: pd.DataFrame, market: str) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Positions of the edges that deliver a stock's commodity to its holder's own users: the stock's consumers.

    For the stock at market ``c:k``: the edges into its final use (``c:k:use``) and the edges of
    commodity k into facilities of country c (the holder's plants of the next stage, whichever
    market or supplier they buy from). A stock covers what these edges would have carried but did
    not (:func:`holder_gaps`).

    Examples
    --------
    >>> e = pd.DataFrame({"supplier": ["JP:m", "JP:m", "CN:m", "JP:m", "JP:m"],
    ...                   "buyer": ["JP:m:use", "jp_plant", "cn_plant", "US:m", "jp_plant"],
    ...                   "buyer_country": ["JP", "JP", "CN", "US", "JP"], "commodity": ["m", "m", "m", "m", "dy"]})
    >>> holder_edges(e, "JP:m").tolist()
    [0, 1]
    """
    from supplychain.graph.build import node_kind, use_id

    country, _, commodity = market.partition(":")
    buyer = [str(b) for b in edges["buyer"].tolist()]
    com = [str(k) for k in edges["commodity"].tolist()]
    bc = [str(c) for c in edges["buyer_country"].tolist()]
    use = use_id(country, commodity)
    at = [i for i, (b, k, c) in enumerate(zip(buyer, com, bc, strict=True))
          if b == use or (k == commodity and c == country and node_kind(b) == "facility")]
    return np.asarray(at, dtype=np.intp)


def plant_gaps(edges: pd.DataFrame, baseline: Any, arrived: Any, market: str) -> dict[int, float]:
    r"""Return the input of the stock's commodity each of a stock holder's plants lost: what it is offered first.

    For the stock at market ``c:k`` and each facility v of country c with inputs of k
    (:func:`holder_edges`), with :math:`F_{vk}` its baseline input of k and :math:`A_{vk}` what arrived
    (``arrived`` summed over its edges of k: ``fixed``, the forward flows,
    :attr:`~supplychain.simulation.fixed.FixedResult.arrived`; ``rebalance``, the LP's flows),

    .. math:: G^{lost}_v = \max(0,\ F_{vk} - A_{vk}).

    Not every lost tonne can be used: a plant short of another input too, or whose output cannot all be
    sold, uses less. Its gap is what it keeps when offered all of :math:`G^{lost}_v` (:func:`plant_kept`:
    ``fixed``, the propagation run again with the offer on its input, the plant running at its scarcest
    input, :func:`~supplychain.simulation.fixed.propagate_fixed`; ``rebalance``, the LP's re-solve with its
    draw open up to the offer, :meth:`StockRoutes.plant_release`) — one rule for both responses.

    Returns
    -------
    dict of int to float
        Edge position → :math:`G^{lost}_v` > 0, on one edge of k into each plant: the one from the holder's
        market ``c:k`` when the plant has it, else its k edge with the largest baseline (where the
        release is delivered).

    Examples
    --------
    A Japanese magnet plant (NdPr 100 t, Dy 10 t at baseline) received 40 t of NdPr and 8 t of Dy: it lost 60 t
    of NdPr (of which, with Dy at 80 %, it can use 40 t: :func:`plant_kept`).

    >>> e = pd.DataFrame({"supplier": ["JP:ndpr", "JP:dy", "JP:ndpr"], "buyer": ["jp_mag", "jp_mag", "JP:ndpr:use"],
    ...                   "buyer_country": ["JP"] * 3, "commodity": ["ndpr", "dy", "ndpr"]})
    >>> plant_gaps(e, [100.0, 10.0, 5.0], [40.0, 8.0, 5.0], "JP:ndpr")
    {0: 60.0}
    """
    from supplychain.graph.build import node_kind

    f0 = np.asarray(baseline, dtype=float)
    got = np.asarray(arrived, dtype=float)
    buyer = [str(b) for b in edges["buyer"].tolist()]
    sup = [str(x) for x in edges["supplier"].tolist()]
    own: dict[str, list[int]] = {}
    for i in holder_edges(edges, market).tolist():
        if node_kind(buyer[i]) == "facility":
            own.setdefault(buyer[i], []).append(i)
    out: dict[int, float] = {}
    for v in sorted(own):
        at = own[v]
        gap = float(f0[at].sum()) - float(got[at].sum())
        if gap > 0:
            first = [i for i in at if sup[i] == market] or sorted(at, key=lambda i: -float(f0[i]))
            out[first[0]] = gap
    return out


def plant_kept(edges: pd.DataFrame, before: Any, after: Any, offered: Mapping[int, float]) -> dict[int, float]:
    r"""Return what each of a stock holder's plants kept of the stock's commodity it was offered.

    Plant v, offered :math:`x_v` of commodity k on its edge e (:func:`plant_gaps`' edge), took
    :math:`\sum_{e' \in in_k(v)} f_{e'}` of k before the offer and :math:`f'_{e'}` after it (all its edges of
    k: the offer may displace what it took elsewhere); it kept

    .. math:: u_v = \min\bigl(x_v,\ \max(0,\ \textstyle\sum_{e' \in in_k(v)} (f'_{e'} - f_{e'}))\bigr),

    what it could use of the offer with its other inputs as they can be had and its output as it can be
    sold. One reading in both responses, of their own flows: ``fixed``, the propagation's taken tonnes (a
    plant runs at its scarcest input, :func:`~supplychain.simulation.fixed.propagate_fixed`, and its
    unsellable output is cut back, :func:`~supplychain.simulation.fixed.curtail`); ``rebalance``, the LP's
    flows before and after the re-solve that opens the stock's draw (:meth:`StockRoutes.plant_release`).
    Offered its whole lost input, the plant keeps its gap; offered its share of a release, what it used of it
    (:func:`plant_need`).

    Examples
    --------
    The plant of :func:`plant_gaps` (NdPr 100 t, Dy 10 t, 8 t of Dy arrived) takes 40 t of NdPr; offered its
    60 t lost, it runs at 80 % and takes 80 t: it kept 40 t. Offered 30 t, it takes 70 t: it kept all 30 t.

    >>> e = pd.DataFrame({"buyer": ["jp_mag", "jp_mag"], "commodity": ["ndpr", "dy"]})
    >>> plant_kept(e, [40.0, 4.0], [80.0, 8.0], {0: 60.0}), plant_kept(e, [40.0, 4.0], [70.0, 7.0], {0: 30.0})
    ({0: 40.0}, {0: 30.0})
    """
    f1 = np.asarray(before, dtype=float)
    f2 = np.asarray(after, dtype=float)
    buyer = edges["buyer"].astype(str).to_numpy()
    com = edges["commodity"].astype(str).to_numpy()
    out: dict[int, float] = {}
    for e, x in offered.items():
        group = (buyer == buyer[e]) & (com == com[e])
        out[e] = min(float(x), max(0.0, float(f2[group].sum()) - float(f1[group].sum())))
    return out


def plant_need(gap: float, offered: float, used: float) -> float:
    r"""Return a holder's plant's part of a stock's gap once it was offered part of the release.

    A plant offered :math:`x` of a stock's release (its share, :func:`split_release`) against its gap
    :math:`G` (what it kept of its whole lost input, :func:`plant_kept`; so :math:`x \le G`) kept
    :math:`u \le x` of it (``fixed``: what reached its input once unsellable output was cut back,
    :func:`plant_kept`; ``rebalance``: the re-solve's own draw). Taking less than offered, :math:`u < x`,
    shows it could use no more: its gap is :math:`u`; taking all of it, it can use up to :math:`G`:

    .. math:: G' = u \ \text{if}\ u < x, \qquad G' = G \ \text{otherwise}.

    One rule in both modes for the gap that dates a stock's running out (:meth:`StockLedger.record`):
    a release the plant could not use neither is drawn nor makes the stock run out sooner.

    Examples
    --------
    A plant offered 500 t uses 300 t: its gap is 300 t. A plant whose whole 500 t share was used against
    a 600 t gap (600 t it could use) still lacks 100 t: its gap stays 600 t.

    >>> plant_need(600.0, 500.0, 300.0), plant_need(600.0, 500.0, 500.0)
    (300.0, 600.0)
    """
    return used if used < offered - USED_TOL * max(1.0, offered) else gap


def split_release(release: float, use_gap: float, plants: Mapping[int, float]) -> tuple[float, dict[int, float]]:
    r"""Share a stock's release over its holder's users pro rata to their gaps.

    The release beyond the baseline draws, :math:`r = \max(0, \delta - b)`, covers the final use's gap
    :math:`U` and each plant's :math:`G_v` (:func:`plant_kept`) alike: the final use gets
    :math:`r\,U / (U + \sum_v G_v)`, plant v :math:`r\,G_v / (U + \sum_v G_v)` (all of each gap when
    :math:`r` covers them, since :math:`\delta \le b + U + \sum_v G_v`).

    Examples
    --------
    >>> split_release(60.0, 40.0, {3: 80.0})
    (20.0, {3: 40.0})
    """
    total = use_gap + sum(plants.values())
    if total <= 0 or release <= 0:
        return 0.0, {}
    part = min(1.0, release / total)
    return use_gap * part, {e: g * part for e, g in plants.items()}


def feeding_edges(edges: pd.DataFrame, market: str) -> list[set[str]]:
    """Ids of the edges upstream of a stock's consumers (:func:`holder_edges`), nearest first, one set per step.

    Step 0: the consumer edges and the market's own inflows (its imports); step n + 1: the edges into the
    suppliers of step n not met before (a plant's inputs, the market feeding it, the mines feeding that),
    and so on up the chain: the flows whose cut can leave the holder's users short.

    Examples
    --------
    >>> e = pd.DataFrame({"edge": ["use", "imp", "sep_out", "conc", "other"],
    ...                   "supplier": ["JP:o", "MY:o", "my_sep", "au_mine", "CN:o"],
    ...                   "buyer": ["JP:o:use", "JP:o", "MY:o", "my_sep", "US:o"],
    ...                   "buyer_country": ["JP", "JP", "MY", "MY", "US"], "commodity": ["o", "o", "o", "c", "o"]})
    >>> [sorted(step) for step in feeding_edges(e, "JP:o")]
    [['imp', 'use'], ['sep_out'], ['conc']]
    """
    ids = [str(x) for x in edges["edge"].tolist()]
    sup = [str(x) for x in edges["supplier"].tolist()]
    into: dict[str, list[int]] = {}
    for i, b in enumerate(str(x) for x in edges["buyer"].tolist()):
        into.setdefault(b, []).append(i)
    step = sorted(set(holder_edges(edges, market).tolist()) | set(into.get(market, ())))
    seen = set(step)
    out = []
    while step:
        out.append({ids[i] for i in step})
        step = sorted({j for i in step for j in into.get(sup[i], ()) if j not in seen})
        seen.update(step)
    return out


def shock_spans(markets: Iterable[str], attribution: pd.DataFrame, periods: Mapping[str, Interval],
                year: int, edges: pd.DataFrame,
                lifted: Mapping[str, Interval] | None = None) -> dict[str, list[tuple[float, float]]]:
    """For each market, the months of ``year`` in which the policies that cut the flows feeding it are in force.

    A policy cuts a flow when it blocks a share of an edge with baseline tonnes (``blocked_share > 0``
    in the year's ``attribution``). The policies taken to cause a stock's gap are those cutting the
    flows nearest its holder's users (:func:`feeding_edges`, step by step): the market's own imports
    and its holder's plants' inputs, or, when no policy cuts those, the first step further up the chain
    where one does (an Australian concentrate ban that idles a Malaysian separation plant cuts Japan's
    oxide imports from Malaysia). The spans are the union of those policies' periods within the year
    (:func:`~supplychain.simulation.calendar.month_spans`), less, on each edge, the periods of the
    agreements that lift the policy there (the row's ``exempted_by``, their periods in ``lifted``):
    No. 18 from 4 April cuts the US's imports until the truce lifts it on 1 December, so the US gap
    of 2025 arises April–November, not April–December. A market no policy cuts anywhere up its
    chain has none: its gap (from demand growth) is spread over the year. Nearest first, because a
    policy further up (a ban already in force upstream) reaches the market only through the nearer
    flows, which the nearer policy cuts too; a gap with causes at several steps is dated by the nearest.

    Parameters
    ----------
    markets : iterable of str
        Market ids ``"{country}:{commodity}"`` (the stocks' markets).
    attribution : DataFrame
        The year's attribution (``edge``, ``policy``, ``baseline_t``, ``blocked_share``;
        :class:`~supplychain.simulation.policies.PolicyEffects`).
    periods : mapping of str to Interval
        Policy id → its ``(start, end)``.
    year : int
        The year.
    edges : DataFrame
        The year's edges (``edge``, ``supplier``, ``buyer``, ``buyer_country``, ``commodity``).
    lifted : mapping of str to Interval, optional
        Agreement id → its ``(start, end)``: the agreements an ``exempted_by`` may name.

    Examples
    --------
    An Australian concentrate ban from September cuts Japan's oxide through Malaysia; a Chinese ban
    in force all year cuts only the US:

    >>> import datetime as dt
    >>> e = pd.DataFrame({"edge": ["imp", "sep_out", "conc", "cn_us"],
    ...                   "supplier": ["MY:o", "my_sep", "au_mine", "CN:o"],
    ...                   "buyer": ["JP:o", "MY:o", "my_sep", "US:o"],
    ...                   "buyer_country": ["JP", "MY", "MY", "US"], "commodity": ["o", "o", "c", "o"]})
    >>> att = pd.DataFrame({"edge": ["conc", "cn_us"], "policy": ["au_ban", "cn_ban"], "baseline_t": [10.0, 5.0],
    ...                     "blocked_share": [1 / 3, 1.0]})
    >>> periods = {"au_ban": (dt.date(2025, 9, 1), None), "cn_ban": (dt.date(2020, 1, 1), None)}
    >>> shock_spans(["JP:o", "US:o", "KR:o"], att, periods, 2025, e)
    {'JP:o': [(8.0, 12.0)], 'US:o': [(0.0, 12.0)]}

    A truce lifting China's ban for the US from 1 December (the US edge's ``exempted_by``):

    >>> att["exempted_by"] = ["", "truce"]
    >>> shock_spans(["US:o"], att, periods, 2025, e, {"truce": (dt.date(2025, 12, 1), None)})
    {'US:o': [(0.0, 11.0)]}
    """
    from supplychain.simulation.calendar import month_spans, subtract

    if attribution.empty:
        return {}
    cut = attribution.loc[(attribution["blocked_share"].to_numpy(dtype=float) > 0)
                          & (attribution["baseline_t"].to_numpy(dtype=float) > 0)]
    lifts = (cut["exempted_by"].fillna("").astype(str).tolist() if "exempted_by" in cut.columns
             else [""] * len(cut))  # fmt: skip
    by_edge: dict[str, set[tuple[str, str]]] = {}  # edge -> (policy, the agreements lifting it there)
    for e, p, x in zip(cut["edge"].astype(str).tolist(), cut["policy"].astype(str).tolist(), lifts, strict=True):
        by_edge.setdefault(e, set()).add((p, x))
    out: dict[str, list[tuple[float, float]]] = {}
    if not by_edge:
        return out
    holes = lifted or {}
    for market in markets:
        cuts: set[tuple[str, str]] = set()
        for step in feeding_edges(edges, market):
            cuts = {c for e in step for c in by_edge.get(e, ())}
            if cuts:
                break
        spans = month_spans([piece for p, x in sorted(cuts) if p in periods
                             for piece in subtract(periods[p], [holes[a] for a in x.split(",") if a in holes], year)],
                            year)  # fmt: skip
        if spans:
            out[market] = spans
    return out


def run_out_month(year: int, months: float) -> str:
    """``YYYY-MM`` of the month a stock runs out in ('' when it lasts the year, 'empty' when it has nothing).

    A stock lasting m months runs out in month ⌈m⌉ (2.5 months: in March); within
    :data:`MONTH_TOL` of a whole number it runs out at the end of that month.

    Examples
    --------
    >>> run_out_month(2026, 5.0), run_out_month(2026, 4.5), run_out_month(2026, math.inf)
    ('2026-05', '2026-05', '')
    >>> run_out_month(2026, 2.0000000000000013), run_out_month(2026, 0.01), run_out_month(2026, 0.0)
    ('2026-02', '2026-01', 'empty')
    """
    if math.isinf(months):
        return ""
    if months <= 0:
        return "empty"
    return f"{year}-{min(12, max(1, math.ceil(months - MONTH_TOL))):02d}"


@dataclass
class StockLedger:
    r"""Running stock levels of one simulation, each stock with its own level and release share.

    Several stocks of one market are drawn as one, each keeping its own ledger: the market may
    release :math:`R = \sum_i s_i L_i` in a year (each stock's own cap,
    :func:`~supplychain.graph.allocate.releasable`), and a draw :math:`\delta \le R` is taken
    from the stocks pro rata to their caps, :math:`\delta_i = \delta \, R_i / R \le R_i`
    (exact: any draw up to :math:`R` respects every stock's cap). Two stocks, 6,000 t at
    :math:`s = 0.5` and 2,000 t at :math:`s = 1`, against large gaps release 5,000 t
    (3,000 + 2,000), then 1,500 t (half of the 3,000 t left of the first), then 750 t; one
    stock at their level-weighted share, :math:`s = 0.625`, would release 1,875 t in the
    second year.

    Parameters
    ----------
    levels : mapping of str to float
        Market node id → level :math:`L` (the whole stock) at the start of the first year.
    shares : mapping of str to float, optional
        Market → release share :math:`s` of that level (``max_release_share``; 1 where not given).
    entering : mapping of int to mapping of str to float
        Year → market → level entering the ledger at the start of that year
        (:meth:`from_scenario`; the first year's stocks are in ``levels``).
    entering_shares : mapping of int to mapping of str to float, optional
        Year → market → release share of the stock entering then (1 where not given).
    parts : mapping of str to list of [level, share], optional
        Market → its stocks, each ``[L_i, s_i]`` (:meth:`from_scenario`: one per ``stockpiles``
        entry); by default one stock per market of ``levels`` and ``shares``.
    entering_parts : mapping of int to mapping of str to list of (level, share), optional
        Year → market → the stocks entering then (default: one of ``entering``, ``entering_shares``).
    """

    levels: dict[str, float]
    shares: dict[str, float] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    entering: dict[int, dict[str, float]] = field(default_factory=dict)
    entering_shares: dict[int, dict[str, float]] = field(default_factory=dict)
    parts: dict[str, list[list[float]]] = field(default_factory=dict)
    entering_parts: dict[int, dict[str, list[tuple[float, float]]]] = field(default_factory=dict)
    _opened: dict[str, float] = field(default_factory=dict)
    _year: int | None = None

    def __post_init__(self) -> None:
        for market, level in self.levels.items():
            self.parts.setdefault(market, [[float(level), self.shares.get(market, 1.0)]])
        self.levels = {m: sum(lv for lv, _ in ps) for m, ps in self.parts.items()}

    @staticmethod
    def _by_market(table: pd.DataFrame) -> dict[str, list[tuple[float, float]]]:
        """Return the stocks ``(level, share)`` per market of a :func:`~supplychain.graph.allocate.stock_table`."""
        out: dict[str, list[tuple[float, float]]] = {}
        for m, lv, s in zip(table["market"].tolist(), table["level"].to_numpy(dtype=float).tolist(),
                            table["share"].to_numpy(dtype=float).tolist(), strict=True):
            out.setdefault(str(m), []).append((lv, s))
        return out

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> StockLedger:
        """Start from :func:`~supplychain.graph.allocate.stock_table` (``market``, ``level``, ``share``)."""
        if table.empty:
            return cls({})
        parts = {m: [[lv, s] for lv, s in ps] for m, ps in cls._by_market(table).items()}
        return cls({m: sum(lv for lv, _ in ps) for m, ps in parts.items()}, parts=parts)

    @classmethod
    def from_scenario(cls, scenario: Scenario, years: Sequence[int]) -> StockLedger:
        """Every stock of the scenario, each entering at the start of the first simulated year on or after its date.

        Examples
        --------
        >>> from supplychain.schema.model import Scenario
        >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "stockpiles": {
        ...     "us": {"country": "US", "commodity": "ore", "year": 2026, "quantity": 40, "max_release_share": 0.5}}})
        >>> ledger = StockLedger.from_scenario(s, [2024, 2025, 2026])
        >>> ledger.levels, ledger.entering, ledger.entering_parts
        ({}, {2026: {'US:ore': 40.0}}, {2026: {'US:ore': [(40.0, 0.5)]}})
        """
        from supplychain.graph.allocate import stock_table

        if not scenario.stockpiles:
            return cls({})
        ordered = sorted(years)
        ledger = cls.from_table(stock_table(scenario, ordered[0]))
        for before, year in itertools.pairwise(ordered):
            table = stock_table(scenario, year, after=before)
            if not table.empty:
                parts = cls._by_market(table)
                ledger.entering_parts[year] = parts
                ledger.entering[year] = {m: sum(lv for lv, _ in ps) for m, ps in parts.items()}
        return ledger

    def copy(self) -> StockLedger:
        """Return a ledger at the same levels and shares, without rows (a dry run's)."""
        return StockLedger(dict(self.levels), dict(self.shares), entering=self.entering,
                           entering_shares=self.entering_shares,
                           parts={m: [list(p) for p in ps] for m, ps in self.parts.items()},
                           entering_parts=self.entering_parts, _opened=dict(self._opened), _year=self._year)

    def open(self, year: int) -> None:
        """Start ``year``: the stocks dated to enter then are added (once; :meth:`record` opens it too)."""
        if self._year == year:
            return
        self._year = year
        self._opened = dict(self.entering.get(year, {}))
        shares = self.entering_shares.get(year, {})
        entering = self.entering_parts.get(year) or {m: [(a, shares.get(m, 1.0))] for m, a in self._opened.items()}
        for market, stocks in entering.items():
            self.parts.setdefault(market, []).extend([float(lv), float(s)] for lv, s in stocks)
            self.levels[market] = sum(lv for lv, _ in self.parts[market])
            self._opened[market] = sum(lv for lv, _ in stocks)

    def share(self, market: str) -> float:
        r"""Release share of a market's stocks this year, :math:`R / L` (1 when it has none or is empty)."""
        level = self.levels.get(market, 0.0)
        return self.cap(market) / level if level > 0 else 1.0

    def cap(self, market: str) -> float:
        r"""Most a market's stocks may release this year, :math:`R = \sum_i s_i L_i`."""
        return sum(float(releasable(lv, s)) for lv, s in self.parts.get(market, ()))

    def available(self) -> dict[str, float]:
        r"""Return what each market's stock may release this year, :math:`R = \sum_i s_i L_i` (the year's cap)."""
        return {m: self.cap(m) for m in self.levels}

    def _take(self, market: str, draw: float) -> None:
        """Take ``draw`` from the market's stocks pro rata to their caps :math:`R_i` (class docstring)."""
        caps = [float(releasable(lv, s)) for lv, s in self.parts[market]]
        total = sum(caps)
        for part, c in zip(self.parts[market], caps, strict=True):
            part[0] = max(0.0, part[0] - draw * c / total) if total > 0 else part[0]
        self.levels[market] = sum(lv for lv, _ in self.parts[market])

    def record(self, year: int, gaps: Mapping[str, float], demand: Mapping[str, float],
               spans: Mapping[str, Sequence[tuple[float, float]]] | None = None,
               taken: Mapping[str, float] | None = None) -> dict[str, float]:
        """Draw every stock against its gap of ``year``; return the quantity drawn per market.

        Parameters
        ----------
        year : int
            The year.
        gaps : mapping
            Market → Δ, the quantity the stock is asked to cover.
        demand : mapping
            Market → D, final demand of the year (for months of cover).
        spans : mapping, optional
            Market → the months of the year over which its gap arises (:func:`shock_spans`);
            a market without spans has its gap spread over the whole year.
        taken : mapping, optional
            Market → T, what its users took of the release (the baseline draws and the final use's gap
            plus what the holder's plants kept of their shares: the re-routing LP's own draw,
            :meth:`StockRoutes.record`; the extra input the plants used in ``fixed``,
            :meth:`~supplychain.simulation.run.Simulator._propagate`); the draw is at most T. (Their gaps,
            for the run-out month and the row's ``gap``, are the plants' :func:`plant_need`.)

        Returns
        -------
        dict of str to float
            Market → δ = min(L, Δ, R, T), R = Σ s_i L_i.
        """
        self.open(year)
        drawn: dict[str, float] = {}
        spans = spans or {}
        for market in sorted(self.levels):
            level = self.levels[market]
            cap = min(level, self.cap(market))
            gap = max(0.0, float(gaps.get(market, 0.0)))
            draw = min(cap, gap, max(0.0, float(taken.get(market, gap))) if taken is not None else gap)
            d = float(demand.get(market, 0.0))
            over = tuple(spans.get(market, ()))
            months = months_lasting(cap, gap, over)
            self._take(market, draw)
            end = self.levels[market]
            country, _, commodity = market.partition(":")
            self.rows.append({
                "year": year,
                "market": market,
                "country": country,
                "commodity": commodity,
                "level_start": level,
                "added": self._opened.get(market, 0.0),
                "releasable": cap,
                "gap": gap,
                "gap_over": spans_label(over),
                "draw": draw,
                "level_end": end,
                "demand": d,
                "cover_end_months": 12.0 * end / d if d > 0 else math.nan,
                "runs_out_after_months": months,
                "runs_out_month": run_out_month(year, months),
            })
            drawn[market] = draw
        return drawn

    def table(self) -> pd.DataFrame:
        """Stocks table, one row per market and year (columns :data:`STOCK_COLUMNS`)."""
        return pd.DataFrame(self.rows, columns=STOCK_COLUMNS)


@dataclass(frozen=True)
class StockRoutes:
    """How the re-routing LP and the :class:`StockLedger` meet, on the model's arrays.

    Attributes
    ----------
    edges : numpy.ndarray
        Model edges drawing a stock node (``C:k:stock`` → ``C:k``: baseline draws).
    edge_market : tuple of str
        The market of each of them.
    markets : tuple of str
        The stock markets of the LP's stock-draw columns.
    use_market : tuple of str
        The market of each use node.
    exports : pandas.DataFrame
        Per model edge: ``country`` (the supplier's), ``buyer_country``, ``commodity``.
    yields : pandas.DataFrame
        The model's yield coefficients (``facility``, ``commodity``, ``role``; :func:`.assembly.home_inputs`).
    plant_country : dict of str to str
        Facility node id → its country, in the model's facility order.
    """

    edges: np.ndarray
    edge_market: tuple[str, ...]
    markets: tuple[str, ...]
    use_market: tuple[str, ...]
    exports: pd.DataFrame
    yields: pd.DataFrame
    plant_country: dict[str, str]

    @classmethod
    def of(cls, model: RebalanceModel) -> StockRoutes:
        """Read the stock routes of a model."""
        sup = model.edges["supplier"].astype(str)
        edges = np.flatnonzero(sup.str.endswith(":stock").to_numpy())
        ids = model.node_ids
        uses = model.nodes.iloc[model.uses]
        return cls(
            edges=edges,
            edge_market=tuple(s.rsplit(":", 1)[0] for s in sup.iloc[edges]),
            markets=tuple(ids[model.stock_markets]),
            use_market=tuple(f"{c}:{k}" for c, k in zip(uses["country"].astype(str), uses["commodity"].astype(str),
                                                        strict=True)),
            exports=pd.DataFrame({
                "country": model.edges["supplier_country"].astype(str).to_numpy(),
                "buyer_country": model.edges["buyer_country"].astype(str).to_numpy(),
                "commodity": model.edges["commodity"].astype(str).to_numpy()}),
            yields=model.yields,
            plant_country=model.plant_country(),
        )

    def _by_market(self, tonnes: np.ndarray) -> dict[str, float]:
        out: dict[str, float] = {}
        for e, m in zip(self.edges.tolist(), self.edge_market, strict=True):
            out[m] = out.get(m, 0.0) + float(tonnes[e])
        return out

    def limit(self, inputs: YearInputs, levels: Mapping[str, float]) -> YearInputs:
        r"""Return ``inputs`` with the stocks' levels applied.

        ``levels``: what each stock may release in the year, :math:`R_m = s_m L_m`
        (:meth:`StockLedger.available`). A baseline draw larger than that is blocked down to it
        (combined with the policies' blocked share as :math:`B + b - Bb`). The LP's own stock
        draw is closed, :math:`S_m = 0`: a stock is national, it covers its holder's own users
        after the re-routing (:meth:`record`; its plants' share in a re-solve, :meth:`plant_release`),
        so no stock tonne crosses a border. (Drawn as
        supply of the LP, :math:`0 \le d_m \le S_m`, it joined the market's pool and the
        re-routing carried it to whoever was short that year, worldwide: a 15,000 t US stock
        drained in one year, 11,537 t of it shipped abroad.)
        """
        if not levels:
            return inputs
        f0 = inputs.baseline
        blocked = np.array(inputs.blocked, dtype=float)
        for e, m in zip(self.edges.tolist(), self.edge_market, strict=True):
            t = f0[e]
            if t > 0 and m in levels and levels[m] < t:
                share = 1.0 - levels[m] / t
                blocked[e] = blocked[e] + share - blocked[e] * share
        return replace(inputs, blocked=blocked, stock=np.zeros(len(self.markets)))

    def _gaps(self, ledger: StockLedger, inputs: YearInputs,
              sol: RebalanceSolution) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        """Per stock market: the baseline stock edges' tonnes, the final use left short, and the final demand."""
        from supplychain.simulation.rebalance import RebalanceModel

        z = RebalanceModel.shortfall(inputs, sol)
        short: dict[str, float] = {}
        demand: dict[str, float] = {}
        for m, zi, di in zip(self.use_market, z.tolist(), inputs.demand.tolist(), strict=True):
            short[m] = short.get(m, 0.0) + zi
            demand[m] = demand.get(m, 0.0) + di
        return self._by_market(sol.tonnes), short, demand

    def plant_release(self, ledger: StockLedger, year: int, table: pd.DataFrame, inputs: YearInputs,
                      sol: RebalanceSolution, solve: Callable[[YearInputs, tuple[np.ndarray, np.ndarray]],
                                                             RebalanceSolution],
                      ) -> tuple[YearInputs, dict[str, float], RebalanceSolution] | None:
        r"""Open each stock's share for its holder's plants to the LP; None when no holder's plant is short.

        Returns ``inputs`` with the LP's draw bounds set, :math:`\sum_v G_v` per market (the plants'
        part of the gap, :meth:`record`) and the re-solve's solution. ``solve(inputs, held)`` solves the
        year with the holders' trade :meth:`held` at ``sol``'s flows (:meth:`hold`).

        After a solve, the holder's plants of a stock at market :math:`m` = ``c:k`` lost
        :math:`G^{lost}_v = \max(0, F_{vk} - f_{vk})` of their baseline input of k (:func:`plant_gaps`).
        The LP's inputs all scale with a plant's activity, so its flows cannot tell which input was short:
        the plants are offered all of it, :math:`0 \le d_m \le \sum_v G^{lost}_v`, in a first re-solve, and
        each plant's gap is what it took of it, :math:`G_v = u_v` (:func:`plant_kept`; as in ``fixed``: a
        plant short of another input, or whose output nobody lacks, takes only what it can turn into supply
        that lowers unmet demand — stage 2 of the objective minimises draws). The stock's gap is
        :math:`\Delta_m = b_m + z_m + \sum_v G_v` (as :meth:`record`), a dry run of the ledger draws
        :math:`\delta_m`, and the plants' share of its release (:func:`split_release`), :math:`x_m \le
        \sum_v G_v`, becomes the bound of the LP's own draw, :math:`0 \le d_m \le x_m`, for the re-solve
        that counts (the first one's when :math:`x_m = \sum_v G^{lost}_v` for every market: the same
        problem). The draw joins the holder's market, whose re-export row does not count it as domestic
        supply, so it licenses no exports (:mod:`~supplychain.simulation.assembly`); nor may it free the
        holder's own output for export, or its imports for others: in both re-solves the holder's
        cross-border trade in k, and in what its plants turn into k, is held at the first solve's
        (:meth:`held`).
        """
        lost = {m: g for m in self.markets if ledger.levels.get(m, 0.0) > 0
                if (g := plant_gaps(table, inputs.baseline, sol.tonnes, m))}
        if not lost:
            return None
        offer = np.array([sum(lost.get(m, {}).values()) for m in self.markets], dtype=float)
        probe = solve(replace(inputs, stock=offer), self.held(lost, inputs.capacity))
        plants = {m: plant_kept(table, sol.tonnes, probe.tonnes, g) for m, g in lost.items()}
        along, short, demand = self._gaps(ledger, inputs, sol)
        gaps = {m: along.get(m, 0.0) + short.get(m, 0.0) + sum(plants.get(m, {}).values()) for m in ledger.levels}
        dry = ledger.copy().record(year, gaps, demand)
        x = {m: sum(split_release(max(0.0, dry[m] - along.get(m, 0.0)), short.get(m, 0.0), g)[1].values())
             for m, g in plants.items()}
        if not any(v > 0 for v in x.values()):
            return None
        bounds = np.array([x.get(m, 0.0) for m in self.markets], dtype=float)
        opened = replace(inputs, stock=bounds)
        final = probe if np.array_equal(bounds, offer) else solve(
            opened, self.held([m for m, v in x.items() if v > 0], inputs.capacity))
        return opened, {m: sum(g.values()) for m, g in plants.items()}, final

    def held(self, markets: Iterable[str], capacity: Any) -> tuple[np.ndarray, np.ndarray]:
        r"""Return the trade a stock opened for its holder's plants leaves as it was: (exports, imports) per edge.

        A stock at market :math:`m = c\!:\!k` drawn for c's plants replaces, at home, k the plants got
        from c's own supply or imports. Were c's trade free in the re-solve, that k (or the inputs of c's
        plants making k, :func:`~supplychain.simulation.assembly.home_inputs`, among plants with
        capacity :math:`K_v > 0` that year) would go abroad in its place, or be left abroad: the stock
        would cross the border by substitution (a 1,000 t US NdPr-metal stock in the full ban: 86 of the
        324 t drawn for US magnet plants in 2026 left the US as metal). So c's cross-border exports of
        those commodities are held at most, and its cross-border imports of them at least, at the first
        solve's flows (:meth:`hold`): the stock frees none of those commodities for other countries (the
        holder exports no more of them and imports no less than without it); they gain only the extra
        output of the holder's plants. The holder's trade in its plants'
        other inputs (Dy for a magnet plant whose NdPr the stock replaces) is not held: plants the stock
        makes able to run may take them from abroad, as they would with NdPr of their own.

        Parameters
        ----------
        markets : iterable of str
            The stock markets opened (``c:k``).
        capacity : numpy.ndarray
            :math:`K_v` per model facility of the year.

        Returns
        -------
        tuple of numpy.ndarray of bool
            Per model edge: a holder's export to hold, a holder's import to hold.
        """
        feeds = year_feeds(self.yields, self.plant_country, capacity)
        ex = self.exports
        cross = (ex["country"] != ex["buyer_country"]).to_numpy()
        out = np.zeros(len(ex), dtype=bool)
        into = np.zeros(len(ex), dtype=bool)
        for m in markets:
            c, _, k = m.partition(":")
            of = cross & ex["commodity"].isin({k, *feeds.get((c, k), ())}).to_numpy()
            out |= of & (ex["country"] == c).to_numpy()
            into |= of & (ex["buyer_country"] == c).to_numpy()
        return out, into

    @staticmethod
    def hold(inputs: YearInputs, first: RebalanceSolution, held: tuple[np.ndarray, np.ndarray]) -> YearInputs:
        r"""Return ``inputs`` with the holders' trade :meth:`held` at a first solve's flows :math:`f^{(1)}_e`.

        Exports :math:`f_e \le H_e = f^{(1)}_e`; imports :math:`f_e \ge f^{(1)}_e` (less a relative
        :data:`USED_TOL`, the solver's round-off; at most the edge's cap). Applied per period of the year,
        each with its own first solve, so that the first solve stays a feasible point of the re-solve.
        """
        out, into = held
        f1 = np.asarray(first.tonnes, dtype=float)
        lower = np.asarray(inputs.lower, dtype=float)
        floor = np.maximum(0.0, f1 - USED_TOL * np.maximum(1.0, f1))
        return replace(inputs, held=np.where(out, f1, np.inf), lower=np.where(into, np.maximum(lower, floor), lower))

    def record(self, ledger: StockLedger, year: int, inputs: YearInputs, sol: RebalanceSolution,
               spans: Mapping[str, Sequence[tuple[float, float]]] | None = None,
               plants: Mapping[str, float] | None = None) -> tuple[dict[str, float], dict[str, float]]:
        r"""Draw the ledger's stocks against their holders' users left short; return the release and its final-use part.

        The gap of the stock at market :math:`m` is its holder's own unmet final use after the
        re-routing, :math:`z_m = \sum_{u \in use(m)} z_u` (the market's final demand not met by
        other supply), plus the baseline stock edges' simulated tonnes :math:`b_m`; the ledger
        draws :math:`\delta_m = \min(L_m, s L_m, b_m + z_m)` (:meth:`StockLedger.record`), and the
        release beyond the baseline draws, :math:`\max(0, \delta_m - b_m)`, is returned: it covers
        the holder's users (:func:`~supplychain.simulation.outcome.apply_stock_cover`), the rest of
        the stock stays for the next year. A stock whose holder's plants were short had its plants'
        share open to a re-solve (:meth:`plant_release`): the plants' part of the gap, :math:`\sum_v G_v`
        (``plants``), is added to it, :math:`\Delta_m = b_m + z_m + \sum_v G_v` as in ``fixed``, or
        :math:`d_m` when the LP drew less than its bound :math:`x_m` (:func:`plant_need`); the draw is
        at most what the users took, :math:`b_m + z_m + d_m` with :math:`d_m` the LP's own draw, and the
        final use's part of the release is :math:`\max(0, \delta_m - b_m - d_m)` (:math:`d_m` already
        reached the plants in the LP's flows). ``spans`` as in :meth:`StockLedger.record`.
        """
        if not ledger.levels:
            return {}, {}
        along, short, demand = self._gaps(ledger, inputs, sol)
        caps = inputs.stock.tolist()
        lp = {m: float(d) for m, d, cap in zip(self.markets, sol.stock_draw.tolist(), caps, strict=True) if cap > 0}
        plants = {m: plant_need(g, caps[self.markets.index(m)], lp.get(m, 0.0)) if m in lp else g
                  for m, g in (plants or {}).items()}
        gaps = {m: along.get(m, 0.0) + short.get(m, 0.0) + plants.get(m, 0.0) for m in ledger.levels}
        taken = {m: along.get(m, 0.0) + short.get(m, 0.0) + lp[m] for m in lp}
        drawn = ledger.record(year, gaps, demand, spans, taken)
        release = {m: max(0.0, d - along.get(m, 0.0)) for m, d in drawn.items()}
        return release, {m: max(0.0, r - lp.get(m, 0.0)) for m, r in release.items()}
