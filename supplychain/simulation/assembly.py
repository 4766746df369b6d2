"""Assemble the re-routing LP in arrays and pass it to HiGHS (one CSC matrix, ``passModel``).

The columns, rows and bounds of the formulation in :mod:`supplychain.simulation.rebalance`
(``docs/rebalance.md``), folded first by :mod:`supplychain.simulation.fold`; and the users'
groups the allocation rules ration over (:mod:`supplychain.simulation.rationing`).
:class:`LPAssembly` is a part of :class:`~supplychain.simulation.rebalance.RebalanceModel`.
"""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from supplychain.errors import EngineError, SolverError
from supplychain.simulation.fold import Fold
from supplychain.simulation.highs import INF, SentHighs, quiet_highs
from supplychain.simulation.lpdata import ModelStructure, _Cols, _Rows
from supplychain.simulation.rationing import ShareRows

__all__ = ["LPAssembly", "home_inputs", "year_feeds"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class LPAssembly(ModelStructure):
    """The LP's assembly (a part of :class:`~supplychain.simulation.rebalance.RebalanceModel`)."""

    transshipment: bool
    _options: dict[str, Any]
    yields: pd.DataFrame

    def _build(self, *, fold_flows: bool) -> None:
        """Assemble the LP and pass it to HiGHS, folded first (:mod:`supplychain.simulation.fold`) if ``fold_flows``."""
        ne = len(self.edges)
        nf, nu, nm, ns = len(self.facilities), len(self.uses), len(self.markets), len(self.stock_markets)
        c = _Cols(f_lo=0, f_hi=ne, act=2 * ne, short=2 * ne + nf, gap=2 * ne + nf + nu, draw=2 * ne + nf + nu + nm,
                  uns=2 * ne + nf + nu + nm + ns, n=0)
        c.n = c.uns + nm
        n_nodes = self.index.n
        # rows: markets, yields, demand, re-export limits
        market_row = np.full(n_nodes, -1, dtype=np.intp)
        market_row[self.markets] = np.arange(nm)
        y = self.yields
        fac_ids = self.nodes["node"].astype(str).to_numpy()
        fac_pos = pd.Index(fac_ids[self.facilities])
        y = y[y["facility"].isin(fac_pos)].reset_index(drop=True)
        self.yields = y
        ykey = pd.Index(
            list(zip(y["facility"].astype(str), y["commodity"].astype(str), y["role"].astype(str), strict=True))
        )
        src, dst = self.index.src, self.index.dst
        kind = self.index.kind
        # re-export limit rows: markets with cross-border outflows (unless transshipment is allowed)
        cross_out = (kind[src] == "market") & (
            self.edges["supplier_country"].astype(str).to_numpy() != self.edges["buyer_country"].astype(str).to_numpy()
        )
        rex_nodes = np.unique(src[cross_out]) if not self.transshipment else np.zeros(0, dtype=np.intp)
        self.reexport_markets = rex_nodes.astype(np.intp)
        nx_ = len(rex_nodes)
        base = nm + len(y) + nu
        r = _Rows(market=0, yld=nm, demand=nm + len(y), reexport=base, n=base + nx_)
        use_row = np.full(n_nodes, -1, dtype=np.intp)
        use_row[self.uses] = r.demand + np.arange(nu)
        com = self.edges["commodity"].astype(str).to_numpy()
        rows_l: list[IntArray] = []
        cols_l: list[IntArray] = []
        vals_l: list[FloatArray] = []
        eidx = np.arange(ne, dtype=np.intp)

        def put(rr: IntArray, cc: IntArray, vv: FloatArray) -> None:
            rows_l.append(rr)
            cols_l.append(cc)
            vals_l.append(vv)

        # edge out of a market: −1 on its balance; into a market: +1
        m = kind[src] == "market"
        put(market_row[src[m]], eidx[m], -np.ones(m.sum()))
        m = kind[dst] == "market"
        put(market_row[dst[m]], eidx[m], np.ones(m.sum()))
        m = kind[dst] == "use"
        put(use_row[dst[m]], eidx[m], np.ones(m.sum()))
        # sources without a balance row (stock nodes) supply at most their baseline, and sinks other
        # than demand (surplus: no known destination; stock builds) take at most theirs: material
        # nobody buys is unsold (a market's surplus), never hidden in a sink
        self._capped = ~np.isin(kind[src], ["market", "facility"]) | np.isin(kind[dst], ["surplus", "stock"])
        if np.any(kind[src] == "use"):
            bad = self.edges["edge"].iloc[int(np.flatnonzero(kind[src] == "use")[0])]
            msg = f"edge {bad!r} leaves a use node; use nodes are sinks"
            raise EngineError(msg)
        for side, role, sign in ((src, "output", 1.0), (dst, "input", 1.0)):
            m = kind[side] == "facility"
            keys = list(zip(fac_ids[side[m]], com[m], [role] * int(m.sum()), strict=True))
            rowpos = ykey.get_indexer(pd.Index(keys)) if keys else np.zeros(0, dtype=np.intp)
            if np.any(rowpos < 0):
                e = self.edges["edge"].iloc[int(eidx[m][rowpos < 0][0])]
                msg = f"edge {e!r}: its facility has no {role} coefficient for this commodity"
                raise EngineError(msg)
            put(r.yld + rowpos.astype(np.intp), eidx[m], np.full(int(m.sum()), sign))
        # activity: − coef on each yield row of its facility
        act_of = pd.Index(fac_ids[self.facilities]).get_indexer(pd.Index(y["facility"].astype(str)))
        put(r.yld + np.arange(len(y), dtype=np.intp), c.act + act_of.astype(np.intp), -y["coef"].to_numpy(dtype=float))
        # start of a solve from scratch (baseline_basis): each facility's activity basic in its first
        # output yield row with a non-zero coefficient
        out_rows = np.flatnonzero((y["role"].to_numpy() == "output") & (y["coef"].to_numpy(dtype=float) != 0))
        _, first = np.unique(act_of[out_rows], return_index=True)
        self._crash = ((c.act + act_of[out_rows[first]]).astype(np.intp), (r.yld + out_rows[first]).astype(np.intp))
        # shortfall, unrecorded supply, stock draw
        put(use_row[self.uses], c.short + np.arange(nu, dtype=np.intp), np.ones(nu))
        put(market_row[self.markets], c.gap + np.arange(nm, dtype=np.intp), np.ones(nm))
        put(market_row[self.stock_markets], c.draw + np.arange(ns, dtype=np.intp), np.ones(ns))
        # unsold material of each market: what its balance row leaves over (in + g + d − out − u = 0)
        put(market_row[self.markets], c.uns + np.arange(nm, dtype=np.intp), -np.ones(nm))
        # re-export limit: cross-border exports − domestic-origin inflow − g ≤ R⁰
        rex_row = np.full(n_nodes, -1, dtype=np.intp)
        rex_row[rex_nodes] = r.reexport + np.arange(nx_)
        m = cross_out & (rex_row[src] >= 0)
        put(rex_row[src[m]], eidx[m], np.ones(int(m.sum())))
        dom = ~np.isin(kind[src], ["market", "use"]) & (kind[dst] == "market") & (rex_row[dst] >= 0)
        put(rex_row[dst[dom]], eidx[dom], -np.ones(int(dom.sum())))
        mk = rex_row[self.markets] >= 0
        put(rex_row[self.markets[mk]], c.gap + np.flatnonzero(mk).astype(np.intp), -np.ones(int(mk.sum())))
        # (a stock draw is not domestic supply here: it licenses no exports, StockRoutes.plant_release)
        self._cross_out = cross_out
        self._dom_in = ~np.isin(kind[src], ["market", "use"]) & (kind[dst] == "market")
        rr = np.concatenate(rows_l)
        cc = np.concatenate(cols_l)
        vv = np.concatenate(vals_l)
        # f_hi duplicates the f_lo column entries
        edge_ent = cc < ne
        rr = np.concatenate([rr, rr[edge_ent]])
        vv = np.concatenate([vv, vv[edge_ent]])
        cc = np.concatenate([cc, cc[edge_ent] + ne])
        a = sp.csc_matrix((vv, (rr, cc)), shape=(r.n, c.n))
        a.sum_duplicates()
        a.sort_indices()
        self._cols, self._rows = c, r
        # cross-border edges stay columns of their own: the allocation rules bound them one by one
        sc, bc = self.edges["supplier_country"].astype(str), self.edges["buyer_country"].astype(str)
        cross = (sc != bc).to_numpy()
        fold = Fold.of(a, ne, (c.act + np.arange(nf)).astype(np.intp), (r.yld, r.demand), enabled=fold_flows,
                       keep=cross)
        self._fold = fold
        # the LP as HiGHS holds it (folded; base rows, quota rows are added on first use); used by blocks.py
        self._matrix = fold.matrix
        # HiGHS columns of the shortfall and stock-draw variables (lexicographic levels)
        self._short_cols = fold.col_of[c.short : c.gap].astype(np.int32)
        self._draw_cols = fold.col_of[c.draw : c.uns].astype(np.int32)
        # baseline_basis pairs of the facilities HiGHS still has activity columns and yield rows for
        keep = fold.col_of[self._crash[0]] >= 0
        self._crash = (fold.col_of[self._crash[0][keep]], fold.row_of[self._crash[1][keep]])
        self._ykey = ykey
        self._rationing_groups(cross)
        self._share_rows = ShareRows()
        n_col, n_row = fold.n_cols, len(fold.kept_rows)
        lp = highspy.HighsLp()
        lp.num_col_ = n_col
        lp.num_row_ = n_row
        lp.col_cost_ = np.zeros(n_col)
        lp.col_lower_ = np.zeros(n_col)
        lp.col_upper_ = np.full(n_col, INF)
        row_lo = np.zeros(r.n)
        row_hi = np.zeros(r.n)
        row_hi[: nm] = 0.0  # market balance = 0 (with its unsold column)
        row_lo[r.reexport :] = -INF
        row_hi[r.reexport :] = INF
        lp.row_lower_ = row_lo[fold.kept_rows]
        lp.row_upper_ = row_hi[fold.kept_rows]
        a = fold.matrix
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        h: Any = quiet_highs(self._options)
        status = h.passModel(lp)
        if status != highspy.HighsStatus.kOk:
            msg = f"HiGHS rejected the rebalance model: {status}"
            raise SolverError(msg)
        self._h = SentHighs(h, lp)
        self._row_hi_base = row_hi

    def _rationing_groups(self, cross: npt.NDArray[np.bool_]) -> None:
        r"""Group the users by (country, commodity) and find each group's exports in HiGHS' columns.

        Used by the allocation rules (:meth:`rationing`): ``home_first`` closes a group's
        exports while its users are short: c's cross-border exports of k, and of every commodity
        c's own plants turn into k (its *feeds*, :func:`home_inputs`) while they can serve them: a
        country that keeps its magnets home keeps the metal its magnet makers need too.
        """
        uses = self.nodes.iloc[self.uses]
        ukey = uses["country"].astype(str) + "|" + uses["commodity"].astype(str)
        codes, groups = pd.factorize(ukey)
        self._use_group = np.asarray(codes, dtype=np.intp)
        self._use_country = uses["country"].astype(str).to_numpy()
        self._use_com = np.asarray(pd.factorize(uses["commodity"].astype(str))[0], dtype=np.intp)
        self._group_keys = [tuple(str(key).split("|", 1)) for key in groups]
        self._export_supplier = self.edges["supplier_country"].astype(str).to_numpy()
        self._export_commodity = self.edges["commodity"].astype(str).to_numpy()
        self._cross = cross
        self._export_cols = tuple(self._exports_of(country, [k]) for country, k in self._group_keys)

    def _exports_of(self, country: str, commodities: list[str]) -> npt.NDArray[np.int32]:
        """HiGHS columns (both flow columns) of ``country``'s cross-border exports of ``commodities``."""
        mine = np.flatnonzero(self._cross & (self._export_supplier == country)
                              & np.isin(self._export_commodity, commodities))
        ne = len(self.edges)
        cols = np.concatenate([self._fold.col_of[mine], self._fold.col_of[mine + ne]])
        return cols[cols >= 0].astype(np.int32)

    def plant_country(self) -> dict[str, str]:
        """Return facility node id → its country, in the model's facility order (that of a year's capacities)."""
        fac = self.nodes.iloc[self.facilities]
        return dict(zip(fac["node"].astype(str), fac["country"].astype(str), strict=True))

    def _feed_cols(self, capacity: FloatArray) -> tuple[npt.NDArray[np.int32], ...]:
        """Per user group (c, k), the export columns of c's feeds of k (:func:`home_inputs`) in a year.

        Only the plants that can run that year (capacity :math:`K_v > 0`) count: a plant not yet
        commissioned turns nothing into k, so it keeps nothing home.
        """
        upstream = year_feeds(self.yields, self.plant_country(), capacity)
        return tuple(self._exports_of(country, sorted(upstream.get((country, k), ())))
                     for country, k in self._group_keys)


def year_feeds(yields: pd.DataFrame, plant_country: dict[str, str],
               capacity: Any) -> dict[tuple[str, str], frozenset[str]]:  # fmt: skip
    """:func:`home_inputs` over the plants that can run in a year (capacity :math:`K_v > 0`).

    ``plant_country``: facility id → country, in the order of ``capacity`` (:math:`K_v` per model
    facility). A plant not yet commissioned turns nothing into its outputs, so it keeps nothing home
    (``home_first``'s feeds) and a stock drawn for its holder's plants holds no trade for it.
    """
    running = {f: c for (f, c), k in zip(plant_country.items(), np.asarray(capacity, dtype=float).tolist(),
                                         strict=True) if k > 0}
    return home_inputs(yields, running)


def home_inputs(yields: pd.DataFrame, country_of: dict[str, str]) -> dict[tuple[str, str], frozenset[str]]:
    r"""Return, per (country c, commodity k), the commodities c's own plants turn into k, at any depth.

    :math:`U(c, k)` is the least set with :math:`j \in U(c, k)` whenever a facility of c has k
    (or a member of :math:`U(c, k)`) among its outputs and j among its inputs: the inputs of c's
    plants making k, the inputs of c's plants making those, and so on.

    Parameters
    ----------
    yields : pandas.DataFrame
        ``facility``, ``commodity``, ``role`` (``input`` | ``output``), one row per coefficient.
    country_of : dict
        Facility id → country code.

    Returns
    -------
    dict
        ``(c, k)`` → frozenset of input commodities; pairs with none are absent.

    Examples
    --------
    >>> y = pd.DataFrame({"facility": ["mag", "mag", "met", "met"], "commodity": ["x", "m", "m", "o"],
    ...                   "role": ["output", "input", "output", "input"]})
    >>> sorted(home_inputs(y, {"mag": "JP", "met": "JP"})[("JP", "x")])
    ['m', 'o']
    """
    direct: dict[tuple[str, str], set[str]] = {}
    inputs: dict[str, set[str]] = {}
    outputs: dict[str, set[str]] = {}
    for f, k, role in zip(yields["facility"].astype(str), yields["commodity"].astype(str),
                          yields["role"].astype(str), strict=True):
        (outputs if role == "output" else inputs).setdefault(f, set()).add(k)
    for f, outs in outputs.items():
        if f in country_of:
            for k in outs:
                direct.setdefault((country_of[f], k), set()).update(inputs.get(f, ()))
    closed: dict[tuple[str, str], frozenset[str]] = {}
    for (c, k), first in direct.items():
        seen, todo = set(), list(first)
        while todo:
            j = todo.pop()
            if j not in seen and j != k:
                seen.add(j)
                todo.extend(direct.get((c, j), ()))
        if seen:
            closed[(c, k)] = frozenset(seen)
    return closed

