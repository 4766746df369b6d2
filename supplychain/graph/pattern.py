r"""Trade after the base year: the base year's pattern, scaled to each year's volumes.

Trade data are observed for the base year. For a later year only production, capacity
and demand change; without a rule for trade, every year after the base year would be
allocated afresh (:mod:`supplychain.graph.allocate`) and the trend from the base year
would mix that change of method with real change. Instead, a later year keeps the
base year's **trade pattern** (``docs/measures.md``, "Later years"):

1. **Direct flows of facilities** (a plant's flow to a foreign market or plant) keep
   their share of the plant's output (or input): tonnes :math:`x^0_e \, O_v(y) / O_v(y_0)`
   for a supplying facility v, :math:`x^0_e \, I_v(y) / I_v(y_0)` for a buying one
   (the smaller of the two when both ends are facilities).
2. **Trade between markets** keeps each importer's partner shares and each exporter's
   destination shares as far as the year's volumes allow: the base year's matrix
   :math:`X^0` (exporter × importer, per commodity) is balanced biproportionally (RAS,
   :func:`ras`) to the year's exports :math:`E_m` and imports :math:`I_m`. With
   :math:`r_m` a market's surplus before trade (output + direct inflows − final use −
   plants' inputs − direct outflows − what its surplus node and stock build took in the
   base year: buyers the data do not name keep buying what they bought),
   :math:`T_m = \min(E^0_m, I^0_m)` its base-year re-exports and superscript 0 the base
   year,

   .. math::

       E_m = T_m + \max(0, r_m)\,\frac{E^0_m - T_m}{r^0_m}, \qquad
       I_m = T_m + \max(0, -r_m)\,\frac{I^0_m - T_m}{-r^0_m}

   (the fraction is 0 where the base year had no such surplus or deficit): a market
   exports the same share of its surplus and imports the same share of its deficit as in
   the base year (the rest of a deficit came from its stock).
   Where the world's exports and imports differ, the smaller side is met and the larger
   side's sums are upper bounds (:func:`ras` with ``capped``): when an importer's imports
   fall, the exporters that sold to it sell less, not every exporter in proportion.
3. **A new exporter sells its surplus first** (:func:`new_exports`). A market to which the
   pattern gives no export share (:math:`E^0_m = T_m` or :math:`r^0_m \le 0`: it had nothing
   of its own to export in the base year) but which has a surplus in the year — new capacity,
   :math:`U_m = \min(r_m, O_m) > 0` with :math:`O_m` its own output — sells it to the markets
   with a deficit :math:`D_j = -r_j > 0`, in proportion to both,
   :math:`x_{m \to j} = S\,(U_m / \sum U)(D_j / \sum D)` with :math:`S = \min(\sum U, \sum D)`,
   before step 2 (edges ``alloc.<commodity>.<m>.<j>``,
   entity ``allocation``, marked ``allocated``). An importer then takes that much less on the
   pattern (its column :math:`I_j` falls by its purchase, to no less than :math:`T_j`), so
   the base year's exporters lose sales in proportion to the pattern, as when an importer's
   own new plant replaces imports; what they can no longer sell goes by the allocation rules
   to a market still short, else into their stock or surplus node. The production paths
   say how much each market makes, not who buys it: a plant built after the base year is
   taken to be built for buyers, and the base year's exporters to be the ones that sell less.
   A market whose base-year exports all lie on pairs given for the year, none topped up
   by the allocation, is such a market too.
4. What no pattern covers otherwise — a new importer, or volumes beyond what the pattern
   can carry — is left to the allocation rules (``alloc.*`` edges, marked ``allocated``).

A pair of endpoints with a flow given for the year itself keeps that flow instead of
the pattern's observed one; an allocated top-up on the pair (``alloc.*``) carries with the
pattern as on any other pair. Carried edges keep their base-year edge id and entity (``flows.…``,
``imports.…``, ``alloc.…``), so a result can be traced to the observation it scales;
their ``allocated`` flag is the base year's. With the same production and demand as the
base year, every later year reproduces the base year's trade exactly: a market's surplus
beyond what its surplus node took is then its base-year exports, so there is no new exporter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from supplychain.graph.allocate import ATOL
from supplychain.graph.build import Columns, _EdgeRows, concat_edges
from supplychain.graph.sums import group_sums, is_market, subtract
from supplychain.memo import Memo

__all__ = ["RAS_MEMO_SIZE", "RAS_TOL", "carry_pattern", "new_exports", "ras"]

FloatArray = npt.NDArray[np.float64]

RAS_TOL = 1e-10
"""Relative tolerance of the biproportional balance (:func:`ras`)."""
RAS_MEMO_SIZE = 256
"""Balances :func:`ras` keeps (a sweep's years × commodities)."""
_RAS: Memo[FloatArray] = Memo(RAS_MEMO_SIZE)


def ras(prior: FloatArray, rows: FloatArray, cols: FloatArray, *, tol: float = RAS_TOL,
        max_iter: int = 1000, capped: bool = False) -> FloatArray:
    r"""Scale a non-negative matrix biproportionally to row and column sums (RAS, iterative proportional fitting).

    Finds :math:`X = \operatorname{diag}(r)\, X^0 \operatorname{diag}(s)` with row sums ``rows``
    and column sums ``cols`` (Bacharach 1970, *Biproportional Matrices and Input-Output Change*;
    Miller & Blair 2009, *Input-Output Analysis*, ch. 7). Zeros of the prior stay zero. The
    totals of ``rows`` and ``cols`` must be equal. When the zeros make the sums unreachable,
    the iteration stops after ``max_iter`` passes (or at a pass that leaves :math:`X` exactly as it
    was: every later pass would too) and the result is scaled down so that no row or column
    exceeds its sum (what is left is for the caller to place).

    With ``capped``, the totals may differ: the side with the smaller total is met exactly (as far
    as the zeros allow) and the other side's sums are upper bounds, each of its lines scaled down
    only where it would exceed its sum (iterative proportional fitting with one side's margins as
    inequalities). Each line of the exact side keeps its shares of the prior except where a
    capped line binds, so a line of the larger side that has no entry in a line of the smaller
    side that fell loses nothing to it (``docs/measures.md``, "Later years", step 2).

    Parameters
    ----------
    prior : numpy.ndarray
        :math:`X^0`, shape (rows, cols), non-negative.
    rows, cols : numpy.ndarray
        Target row and column sums.
    tol : float
        Largest relative difference of a sum from its target.
    max_iter : int
        Largest number of row-and-column passes.
    capped : bool
        Take the larger total's sums as upper bounds (above); without it the totals must be equal.

    Returns
    -------
    numpy.ndarray
        :math:`X`, row sums ≤ ``rows`` and column sums ≤ ``cols``.

    Notes
    -----
    The last :data:`RAS_MEMO_SIZE` results are kept, keyed on the inputs themselves
    (:class:`~supplychain.memo.Memo`): a sweep balances the same matrix to the same sums in
    every sample for a commodity no sampled quantity touches.

    Examples
    --------
    Two exporters, two importers; the second importer needs twice as much (140 t instead of
    70 t), the first exporter sells 40 t more. Scaling the second column by 2 meets every sum:

    >>> x = ras(np.array([[60.0, 40.0], [20.0, 30.0]]), np.array([140.0, 80.0]), np.array([80.0, 140.0]))
    >>> np.round(x, 6).tolist()
    [[60.0, 80.0], [20.0, 60.0]]

    Capped: the first importer's purchases fall from 60 t to 40 t (its own new plant), the
    exporters' sums stay at what they could sell (90 t and 10 t). Imports are met exactly in the
    base year's partner shares; only the first exporter, the one that sold to the first
    importer, sells less (70 t of its 90 t):

    >>> x = ras(np.array([[60.0, 30.0], [0.0, 10.0]]), np.array([90.0, 10.0]), np.array([40.0, 40.0]), capped=True)
    >>> np.round(x, 6).tolist()
    [[40.0, 30.0], [0.0, 10.0]]
    """
    x = np.array(prior, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.float64)
    cols = np.asarray(cols, dtype=np.float64)
    if x.size == 0:
        return x
    key = (x.shape, x.tobytes(), rows.tobytes(), cols.tobytes(), tol, max_iter, capped)
    if capped and rows.sum() < cols.sum():  # the rows are exact, the columns caps: fit the transpose
        return _RAS.get(key, lambda: np.ascontiguousarray(_ras(x.T.copy(), cols, rows, tol, max_iter, True).T)).copy()
    return _RAS.get(key, lambda: _ras(x, rows, cols, tol, max_iter, capped)).copy()


def _ras(x: FloatArray, rows: FloatArray, cols: FloatArray, tol: float, max_iter: int,
         capped: bool = False) -> FloatArray:
    """Run the iteration of :func:`ras` on ``x`` (a copy of the prior, scaled in place); ``capped``: rows are caps."""
    within = tol * np.maximum(rows, 1e-300)
    n_rows, n_cols = x.shape
    add, every = np.add.reduce, np.logical_and.reduce
    rs = add(x, axis=1)
    for i in range(max_iter):
        before = x.copy() if i % 16 == 15 else None  # every 16th pass: is X a fixed point?
        f = np.divide(rows, rs, out=np.zeros(n_rows), where=rs > 0)
        x *= (np.minimum(f, 1.0) if capped else f)[:, None]
        cs = add(x, axis=0)
        x *= np.divide(cols, cs, out=np.zeros(n_cols), where=cs > 0)[None, :]
        rs = add(x, axis=1)
        if every((rs - rows <= within) if capped else (np.abs(rs - rows) <= within)):
            break
        if before is not None and every(x == before, axis=None):
            break  # a fixed point: every further pass would give the same X
    rs = x.sum(axis=1)
    over = np.divide(rows, rs, out=np.ones_like(rs), where=rs > rows)
    x *= np.minimum(1.0, over)[:, None]
    cs = x.sum(axis=0)
    over_c = np.divide(cols, cs, out=np.ones_like(cs), where=cs > cols)
    x *= np.minimum(1.0, over_c)[None, :]
    return x


def carry_pattern(
    base: Columns,
    observed: Columns,
    demand: Columns,
    output_ratio: Mapping[tuple[str, str], float],
    input_ratio: Mapping[tuple[str, str], float],
) -> Columns:
    """Return a later year's observed edges with the base year's trade pattern carried over (module docstring).

    Parameters
    ----------
    base : Columns
        The base year's edge table (trade edges: ``kind == "trade"``) as edge columns
        (:data:`~supplychain.graph.build.Columns`).
    observed : Columns
        The year's observed edges (supply, input, and any trade given for the year), as edge columns.
    demand : Columns
        The year's given demand (:func:`~supplychain.graph.allocate.demand_columns`).
    output_ratio, input_ratio : mapping
        (facility, commodity) → the facility's output (input) of the commodity in the year
        over the base year's.

    Returns
    -------
    Columns
        ``observed`` with the carried trade edges added after its rows and each facility's supply
        (input) edge reduced by its carried direct flows.
    """
    b_kind, b_tonnes = base["kind"], base["tonnes"]
    rows = np.flatnonzero((b_kind == "trade") & (b_tonnes > 0))  # the base year's trade: its rows in `base`
    if rows.size == 0:
        return observed
    o_kind, o_sup, o_buy, o_com = observed["kind"], observed["supplier"], observed["buyer"], observed["commodity"]
    ot = o_kind == "trade"
    given = set(zip(o_sup[ot].tolist(), o_buy[ot].tolist(), o_com[ot].tolist(), strict=True))
    sup, buy, com, ton = base["supplier"][rows], base["buyer"][rows], base["commodity"][rows], b_tonnes[rows]
    if given:  # a pair given for the year replaces its observed base-year flow; an allocated top-up on it carries
        fresh = np.fromiter((k not in given for k in zip(sup.tolist(), buy.tolist(), com.tolist(), strict=True)),
                            dtype=bool, count=len(sup)) | base["allocated"][rows].astype(bool)
        rows, sup, buy, com, ton = rows[fresh], sup[fresh], buy[fresh], com[fresh], ton[fresh]
    s_mkt = is_market(sup)
    b_mkt = is_market(buy)
    obs_t = observed["tonnes"].copy()
    pieces: list[npt.NDArray[np.intp]] = []
    tonnes = ton.copy()
    new_sales = _EdgeRows()  # step 3: new exporters' sales

    # 1. direct flows of facilities: their share of the facility's output (input)
    direct = np.flatnonzero(~(s_mkt & b_mkt))
    if direct.size:
        for i in direct.tolist():
            ratio = 1.0
            if ":" not in sup[i]:
                ratio = min(ratio, float(output_ratio.get((sup[i], com[i]), 0.0)))
            if ":" not in buy[i]:
                ratio = min(ratio, float(input_ratio.get((buy[i], com[i]), 0.0)))
            tonnes[i] = ton[i] * ratio
        direct = direct[tonnes[direct] > 0]
        pieces.append(direct)
        o_edge = observed["edge"]
        for ends, kind in ((sup, "supply"), (buy, "input")):
            fac = [i for i in direct.tolist() if ":" not in ends[i]]
            sent = group_sums([(ends[i], com[i]) for i in fac], tonnes[fac].tolist())
            for (f, k), t in sorted(sent.items()):
                for j in np.flatnonzero((o_edge == f"{kind}.{f}.{k}") & (o_kind == kind)).tolist():
                    obs_t[j] = max(0.0, obs_t[j] - t)

    # 2. trade between markets: RAS to the year's exports and imports
    mm = np.flatnonzero(s_mkt & b_mkt)
    if mm.size:
        # what the base year's surplus nodes and stock builds took is a use the data do not name: kept
        b_sup, b_buy = base["supplier"], base["buyer"]
        sink = (b_kind == "surplus") | np.fromiter((b.endswith(":stock") for b in b_buy.tolist()), dtype=bool,
                                                   count=len(b_buy))
        carried = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.intp)
        r = _surplus_before_trade(np.concatenate([o_sup, sup[carried]]), np.concatenate([o_buy, buy[carried]]),
                                  np.concatenate([obs_t, tonnes[carried]]))
        unnamed = group_sums(b_sup[sink].tolist(), b_tonnes[sink].tolist())
        if len(demand["market"]):
            r = subtract(r, group_sums(demand["market"].tolist(), demand["tonnes"].tolist()))
        r = subtract(r, unnamed)
        # the base year's surplus before the same trade (pairs given for the year count as observed)
        keep = (b_kind != "surplus") & (b_kind != "stock") & (b_kind != "use")
        keep[rows[mm]] = False
        r0 = _surplus_before_trade(b_sup[keep], b_buy[keep], b_tonnes[keep])
        use = b_kind == "use"
        r0 = subtract(subtract(r0, group_sums(b_sup[use].tolist(), b_tonnes[use].tolist())), unnamed)
        made = o_kind == "supply"  # a market's own output this year: all a new exporter can sell
        output = group_sums(o_buy[made].tolist(), obs_t[made].tolist())
        by_commodity: dict[str, dict[str, float]] = {}  # each commodity's markets (in the order of r)
        for m, v in r.items():
            by_commodity.setdefault(m.split(":", 1)[1], {})[m] = v
        for commodity in sorted(set(com[mm].tolist())):
            part = mm[com[mm] == commodity]
            tonnes[part], sold = _balance(sup[part], buy[part], ton[part], r, r0, by_commodity.get(commodity, {}),
                                          output)
            pieces.append(part[tonnes[part] > 0])
            stage = str(base["stage"][rows[part[0]]])
            for (seller, importer), t in sold.items():
                (s_country, _), (b_country, _) = seller.split(":", 1), importer.split(":", 1)
                new_sales.add(f"alloc.{commodity}.{s_country}.{b_country}", "allocation", seller, importer,
                              s_country, b_country, commodity, stage, t, "trade", True)
    obs = {**observed, "tonnes": obs_t}
    if not pieces:
        return obs
    carried = np.concatenate(pieces)
    out = {c: v[rows[carried]] for c, v in base.items()}
    out["tonnes"] = tonnes[carried]
    return concat_edges(obs, out, new_sales.columns())


def _surplus_before_trade(sup: npt.NDArray[Any], buy: npt.NDArray[Any], tonnes: FloatArray) -> dict[str, float]:
    """Inflow − outflow of every market over the edges ``sup → buy`` (the caller leaves out market-to-market trade)."""
    into, out = is_market(buy), is_market(sup)
    return subtract(group_sums(buy[into].tolist(), tonnes[into].tolist()),
                    group_sums(sup[out].tolist(), tonnes[out].tolist()))


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _codes(ids: list[str]) -> tuple[list[str], npt.NDArray[np.intp]]:
    """Return the distinct ids, sorted, and each id's position among them (``numpy.unique`` with ``return_inverse``)."""
    distinct = sorted(set(ids))
    pos = {m: i for i, m in enumerate(distinct)}
    return distinct, np.array([pos[m] for m in ids], dtype=np.intp)


def _balance(sup: npt.NDArray[Any], buy: npt.NDArray[Any], tonnes: FloatArray, r: Mapping[str, float],
             r0: Mapping[str, float], markets: Mapping[str, float],
             output: Mapping[str, float]) -> tuple[FloatArray, dict[tuple[str, str], float]]:
    """RAS one commodity's market-to-market pattern edges to the year's margins (module docstring, steps 2 and 3).

    ``r`` and ``r0``: each market's surplus before trade in the year and in the base year;
    ``markets``: the entries of ``r`` of the commodity's markets; ``output``: each market's own
    output in the year (a new exporter sells no more than it makes: tonnes a given flow brought
    in are not new capacity). Returns the edges' tonnes in the year
    (0 for an edge the balance drops) and the new exporters' sales, (seller, importer) → tonnes
    (:func:`new_exports`).
    """
    exporters, si = _codes(sup.tolist())
    importers, bi = _codes(buy.tolist())
    prior = np.zeros((len(exporters), len(importers)))
    np.add.at(prior, (si, bi), tonnes)
    nz = np.nonzero(prior)
    e0 = group_sums([exporters[i] for i in nz[0].tolist()], prior[nz].tolist())
    i0 = group_sums([importers[j] for j in nz[1].tolist()], prior[nz].tolist())
    t = {m: min(e0.get(m, 0.0), i0.get(m, 0.0)) for m in set(e0) | set(i0)}
    shares = {m: _share(e0[m] - t[m], r0.get(m, 0.0)) for m in exporters}
    rows = np.array([t[m] + max(0.0, r.get(m, 0.0)) * shares[m] for m in exporters])
    own = np.array([max(0.0, -r.get(m, 0.0)) * _share(i0[m] - t[m], -r0.get(m, 0.0)) for m in importers])
    sold = new_exports({m: min(v, output.get(m, 0.0)) for m, v in markets.items() if shares.get(m, 0.0) == 0.0},
                       {m: -v for m, v in markets.items()})
    bought = group_sums([b for _, b in sold], list(sold.values()))
    cols = np.array([t[m] for m in importers]) + np.maximum(0.0, own - [bought.get(m, 0.0) for m in importers])
    if min(rows.sum(), cols.sum()) <= 0:
        return np.zeros(len(tonnes)), sold
    x = ras(prior, rows, cols, capped=True)  # the smaller side met, the larger side's sums are caps
    v = prior[si, bi]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(v > 0, x[si, bi] / np.where(v > 0, v, 1.0), 0.0)
    return np.asarray(tonnes * factor, dtype=float), sold


def new_exports(surplus: Mapping[str, float], deficit: Mapping[str, float]) -> dict[tuple[str, str], float]:
    r"""Sell new exporters' surplus to the markets with a deficit, in proportion to both (module docstring, step 3).

    With :math:`U_m` the surplus of a market the base year's pattern gives no export share
    and :math:`D_j` the deficit of a market, both before trade in the year, the new exporters sell
    :math:`S = \min(\sum U, \sum D)`:

    .. math:: x_{m \to j} = S \, \frac{U_m}{\sum_{m'} U_{m'}} \, \frac{D_j}{\sum_{j'} D_{j'}}

    Only values above ``ATOL`` (:math:`10^{-6}` t: round-off) count on either side.

    Parameters
    ----------
    surplus : mapping
        Market → :math:`U_m`, for the markets of one commodity that the pattern gives no export
        share.
    deficit : mapping
        Market → :math:`D_j`.

    Returns
    -------
    dict
        (seller, buyer) → tonnes, sorted.

    Examples
    --------
    A new plant's 30 t against deficits of 60 t and 20 t: the buyers take 30 × 60/80 = 22.5 t
    and 30 × 20/80 = 7.5 t of it.

    >>> new_exports({"EE:magnet": 30.0, "CN:magnet": -5.0}, {"EU:magnet": 60.0, "US:magnet": 20.0})
    {('EE:magnet', 'EU:magnet'): 22.5, ('EE:magnet', 'US:magnet'): 7.5}
    """
    sellers = {m: u for m, u in sorted(surplus.items()) if u > ATOL}
    buyers = {m: d for m, d in sorted(deficit.items()) if d > ATOL}
    u_sum, d_sum = sum(sellers.values()), sum(buyers.values())
    if not sellers or not buyers:
        return {}
    sale = min(u_sum, d_sum)
    return {(m, j): sale * (u / u_sum) * (d / d_sum) for m, u in sellers.items() for j, d in buyers.items()}
