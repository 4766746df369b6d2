r"""Fold single-edge facility flows into the facility's activity: an exact presolve of the rebalance LP.

A facility :math:`v` whose every yield row (one per input or output commodity) holds
exactly one edge :math:`e` ties that edge's flow to its activity,

.. math::  f^{lo}_e + f^{hi}_e = y_e\,a_v ,

so the edge's two flow columns and the yield row carry no freedom of their own. For
such a facility (most of them: a plant's supply edge to its country's market and its
input edge from it) the rows and columns

.. math::  \{a_v\} \cup \{f^{lo}_e, f^{hi}_e : e \in E_v\},\qquad \{\text{yield rows of } v\}

are replaced by :math:`|E_v| + 1` *segment* columns :math:`s_{v,0}, \dots, s_{v,|E_v|}`
with :math:`a_v = \sum_j s_{v,j}`. What the eliminated columns contributed becomes a
function of :math:`a_v` alone:

* **matrix**: every other row holding :math:`f_e` (market balance, re-export limit)
  gets :math:`y_e` times that coefficient on each segment column, added to the
  activity's own coefficients;
* **bounds**: :math:`f_e \le u^{lo}_e + u^{hi}_e` and :math:`f_e \ge l^{lo}_e + l^{hi}_e`
  become :math:`A^{min}_v \le a_v \le A^{max}_v`;
* **costs**: edge :math:`e` costs :math:`c^{lo}_e` per tonne up to its breakpoint
  :math:`u^{lo}_e` (the baseline, or less under a ban) and :math:`c^{hi}_e` above it, so
  as a function of :math:`a_v` the cost is piecewise linear with breakpoints
  :math:`b_e = u^{lo}_e / y_e`. Segment :math:`j` spans the interval between the
  :math:`j`-th and :math:`(j+1)`-th smallest breakpoint (clipped to
  :math:`[0, A^{max}_v]`) and costs

  .. math::  c^{seg}_j = c_{a_v} + \sum_{e:\,b_e \le B_j} y_e\,c^{hi}_e + \sum_{e:\,b_e > B_j} y_e\,c^{lo}_e .

Every level's costs have :math:`c^{lo}_e \le c^{hi}_e` (the deviation level pays
:math:`-w_e` below the baseline and :math:`+w_e` above it; the other levels pay the
same on both), so the slopes do not decrease from one segment to the next: the
function is convex, a minimum fills the segments in order, and the folded LP has the
same optimal value as the full one at every level, with the same flows (unfolded by
:math:`f_e = y_e a_v`, split at :math:`u^{lo}_e`). A lower bound :math:`A^{min}_v`
(an offtake on the edge) is set on the segments in the same order, which is no loss
for the same reason.

Why: at the issue's density (a 2,000-node commodity chain) the yield rows are two
thirds of the LP's rows; without them the dual simplex makes ~45 % fewer iterations
from scratch and ~25 % fewer warm (``docs/performance.md``). HiGHS' own presolve does
not remove them (each row has three columns, not two) and is off anyway when a
starting basis is given.

Facilities are not folded when one of their yield rows holds no edge or several,
when an edge also sits in another facility's yield row (facility → facility), or
when a yield coefficient is not positive; their rows and columns stay as they are.

Example::

    fold = Fold.of(matrix, cols, rows, n_edges)
    geo = fold.geometry(col_lo, col_hi)          # per solve: breakpoints, segment lengths
    lo, hi = fold.bounds(col_lo, col_hi, geo)    # in HiGHS' columns
    cost = fold.costs(level_costs, geo)
    x_full = fold.unfold(x, geo)                 # back to the model's columns
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from supplychain.errors import EngineError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Fold", "Geometry"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def _sorted_within(key: FloatArray, group: IntArray) -> IntArray:
    """Return the slot order sorting ``key`` within each run of equal ``group`` (runs contiguous, stable).

    Only the groups whose slots are out of order are sorted: breakpoints usually coincide
    (a facility's baseline matches its yields) or already ascend, and a full ``lexsort``
    of every slot costs ~12 ms per 100,000 slots per solve.
    """
    order = np.arange(len(key), dtype=np.intp)
    descent = (key[1:] < key[:-1]) & (group[1:] == group[:-1])
    if not descent.any():
        return order
    idx = np.flatnonzero(np.isin(group, group[1:][descent]))
    order[idx] = idx[np.lexsort((key[idx], group[idx]))]
    return order


@dataclass(frozen=True)
class Geometry:
    """Segments of the folded facilities for one set of column bounds (:meth:`Fold.geometry`).

    Attributes
    ----------
    order : numpy.ndarray
        Folded edge slots (positions in :attr:`Fold.edge`) sorted by facility, then breakpoint.
    start, length : numpy.ndarray
        Per segment column: where it starts on the activity axis and its length (∞ for the last
        segment of an uncapped facility).
    amin, amax : numpy.ndarray
        Per folded facility: the activity's lower and upper bound.
    lo_cap : numpy.ndarray
        Per folded edge slot: :math:`u^{lo}_e`, where its flow is split into the two flow columns.
    """

    order: IntArray
    start: FloatArray
    length: FloatArray
    amin: FloatArray
    amax: FloatArray
    lo_cap: FloatArray


@dataclass(frozen=True)
class Fold:
    """The map between the model's LP columns/rows and HiGHS' (folded) ones (module docstring).

    Attributes
    ----------
    matrix : scipy.sparse.csc_matrix
        The folded constraint matrix, as HiGHS holds it.
    col_of : numpy.ndarray
        Model column → HiGHS column (−1 for a folded flow or activity column).
    row_of : numpy.ndarray
        Model row → HiGHS row (−1 for a folded yield row).
    kept_cols, kept_rows : numpy.ndarray
        HiGHS' first ``len(kept_cols)`` columns are these model columns; its rows are ``kept_rows``.
    act : numpy.ndarray
        Model activity column of each folded facility.
    seg_ptr : numpy.ndarray
        Folded facility ``i`` has HiGHS columns ``seg_ptr[i] … seg_ptr[i + 1] − 1`` (its segments).
    edge, edge_fac, edge_y : numpy.ndarray
        Per folded edge slot (sorted by facility): the edge's model position, its facility
        (index into ``act``) and its yield coefficient :math:`y_e`.
    edge_slot : numpy.ndarray
        Per model edge: its folded slot (−1 when the edge is not folded).
    n_edges : int
        Edges of the model (``f_lo`` columns are ``0 … n_edges − 1``, ``f_hi`` the next ``n_edges``).
    """

    matrix: sp.csc_matrix
    col_of: IntArray
    row_of: IntArray
    kept_cols: IntArray
    kept_rows: IntArray
    act: IntArray
    seg_ptr: IntArray
    edge: IntArray
    edge_fac: IntArray
    edge_y: FloatArray
    edge_slot: IntArray
    n_edges: int

    # ------------------------------------------------------------ build
    @classmethod
    def of(cls, a: sp.csc_matrix, n_edges: int, act_cols: IntArray, yield_rows: tuple[int, int],
           enabled: bool = True, keep: npt.NDArray[np.bool_] | None = None) -> Fold:
        """Fold every facility that qualifies (module docstring) out of the model's matrix ``a``.

        Parameters
        ----------
        a : scipy.sparse.csc_matrix
            The model's base constraint matrix (columns: ``f_lo``, ``f_hi`` per edge, then the rest).
        n_edges : int
            Number of edges.
        act_cols : numpy.ndarray
            Activity column of each facility.
        yield_rows : tuple of int
            ``(first, stop)``: the yield rows are ``first … stop − 1``.
        enabled : bool
            False: fold nothing (HiGHS gets the model's LP as it is).
        keep : numpy.ndarray of bool, optional
            Edges whose flow columns HiGHS must hold as columns (their facilities are not
            folded): the cross-border edges, which the allocation rules bound one by one
            (:mod:`supplychain.simulation.rationing`).
        """
        n_rows, n_cols = a.shape
        ne = n_edges
        y0, y1 = yield_rows
        folded_rows = np.zeros(0, dtype=np.intp)
        fac_act = np.zeros(0, dtype=np.intp)
        slot_edge = np.zeros(0, dtype=np.intp)
        slot_fac = np.zeros(0, dtype=np.intp)
        slot_y = np.zeros(0)
        if enabled and y1 > y0 and len(act_cols):
            ar = sp.csr_matrix(a[y0:y1])
            coo = ar.tocoo()
            row, col, val = coo.row.astype(np.intp), coo.col.astype(np.intp), coo.data
            nyr = y1 - y0
            is_lo = col < ne
            is_act = np.isin(col, act_cols)
            n_lo = np.bincount(row[is_lo], minlength=nyr)
            n_all = np.bincount(row, minlength=nyr)
            act_of_row = np.full(nyr, -1, dtype=np.intp)
            act_of_row[row[is_act]] = col[is_act]
            coef_of_row = np.zeros(nyr)
            coef_of_row[row[is_act]] = -val[is_act]
            edge_of_row = np.full(nyr, -1, dtype=np.intp)
            edge_of_row[row[is_lo]] = col[is_lo]
            # a row qualifies with exactly one edge (its f_lo and f_hi) and the activity, y > 0
            ok_row = (n_lo == 1) & (n_all == 3) & (act_of_row >= 0) & (coef_of_row > 0)
            # an edge in two yield rows (facility → facility) ties two activities: not folded
            e_rows = np.bincount(edge_of_row[edge_of_row >= 0], minlength=ne)
            ok_row &= (edge_of_row >= 0) & (e_rows[np.maximum(edge_of_row, 0)] == 1)
            if keep is not None:
                ok_row &= ~keep[np.maximum(edge_of_row, 0)]
            # a facility is folded when every one of its yield rows qualifies
            has_row = act_of_row >= 0
            bad = np.zeros(n_cols, dtype=bool)
            bad[act_of_row[has_row & ~ok_row]] = True
            rows_f = np.flatnonzero(has_row & ~bad[np.maximum(act_of_row, 0)])
            if rows_f.size:
                fac_act, fac_idx = np.unique(act_of_row[rows_f], return_inverse=True)
                order = np.argsort(fac_idx, kind="stable")
                rows_f = rows_f[order]
                slot_fac = fac_idx[order].astype(np.intp)
                slot_edge = edge_of_row[rows_f]
                slot_y = coef_of_row[rows_f]
                folded_rows = (rows_f + y0).astype(np.intp)
        nf = len(fac_act)
        per_fac = np.bincount(slot_fac, minlength=nf) if nf else np.zeros(0, dtype=np.intp)
        drop_col = np.zeros(n_cols, dtype=bool)
        drop_col[slot_edge] = True
        drop_col[slot_edge + ne] = True
        drop_col[fac_act] = True
        kept_cols = np.flatnonzero(~drop_col).astype(np.intp)
        drop_row = np.zeros(n_rows, dtype=bool)
        drop_row[folded_rows] = True
        kept_rows = np.flatnonzero(~drop_row).astype(np.intp)
        col_of = np.full(n_cols, -1, dtype=np.intp)
        col_of[kept_cols] = np.arange(len(kept_cols))
        row_of = np.full(n_rows, -1, dtype=np.intp)
        row_of[kept_rows] = np.arange(len(kept_rows))
        seg_ptr = len(kept_cols) + np.concatenate([[0], np.cumsum(per_fac + 1)]).astype(np.intp)
        # the activity's column on the kept rows, plus y_e × each folded edge's f_lo column
        ak = sp.csc_matrix(a[kept_rows])
        src_cols = np.concatenate([fac_act, slot_edge])
        src_fac = np.concatenate([np.arange(nf), slot_fac])
        src_w = np.concatenate([np.ones(nf), slot_y])
        mix = sp.csc_matrix((src_w, (src_cols, src_fac)), shape=(n_cols, nf))
        per_activity = sp.csc_matrix(ak @ mix)  # kept rows × folded facilities
        seg_fac = np.repeat(np.arange(nf), per_fac + 1)
        segments = sp.csc_matrix(per_activity[:, seg_fac]) if nf else sp.csc_matrix((len(kept_rows), 0))
        m = sp.hstack([ak[:, kept_cols], segments], format="csc")
        m.sum_duplicates()
        m.eliminate_zeros()
        m.sort_indices()
        edge_slot = np.full(ne, -1, dtype=np.intp)
        edge_slot[slot_edge] = np.arange(len(slot_edge))
        return cls(matrix=m, col_of=col_of, row_of=row_of, kept_cols=kept_cols, kept_rows=kept_rows,
                   act=fac_act.astype(np.intp), seg_ptr=seg_ptr, edge=slot_edge.astype(np.intp),
                   edge_fac=slot_fac.astype(np.intp), edge_y=slot_y.astype(np.float64), edge_slot=edge_slot,
                   n_edges=ne)

    @property
    def n_cols(self) -> int:
        """Columns of the folded LP."""
        return int(self.matrix.shape[1])

    @property
    def n_folded(self) -> int:
        """Facilities folded."""
        return len(self.act)

    def segment_facility(self, j: int) -> int:
        """Return the folded facility (index into :attr:`act`) whose segment is HiGHS column ``j`` (−1: none)."""
        if j < self.seg_ptr[0]:
            return -1
        return int(np.searchsorted(self.seg_ptr, j, side="right") - 1)

    # ------------------------------------------------------- per solve
    def geometry(self, col_lo: FloatArray, col_hi: FloatArray) -> Geometry:
        """Breakpoints and segments of every folded facility for the model's column bounds."""
        ne, e, y, fac = self.n_edges, self.edge, self.edge_y, self.edge_fac
        lo_cap = col_hi[e]
        top = (col_hi[e] + col_hi[e + ne]) / y
        bottom = (col_lo[e] + col_lo[e + ne]) / y
        amax = col_hi[self.act].copy()
        np.minimum.at(amax, fac, top)
        amin = col_lo[self.act].copy()
        np.maximum.at(amin, fac, bottom)
        brk = lo_cap / y
        order = _sorted_within(brk, fac)
        # segment boundaries per facility: 0, its sorted breakpoints (clipped), its amax
        cap_of = amax[fac[order]]
        inner = np.minimum(np.maximum(brk[order], 0.0), cap_of)
        n_seg = self.seg_ptr[1:] - self.seg_ptr[:-1]
        first = (self.seg_ptr[:-1] - self.seg_ptr[0]).astype(np.intp)
        bounds_lo = np.empty(int(n_seg.sum()))
        bounds_hi = np.empty(int(n_seg.sum()))
        # segment j of facility i: [B_j, B_{j+1}] with B_0 = 0, B_1..B_m = inner, B_{m+1} = amax
        seg_slot = np.ones(len(bounds_lo), dtype=bool)
        seg_slot[first] = False  # segment 0 starts at 0
        bounds_lo[first] = 0.0
        bounds_lo[seg_slot] = inner
        last = first + n_seg - 1
        is_last = np.zeros(len(bounds_hi), dtype=bool)
        is_last[last] = True
        bounds_hi[~is_last] = inner
        bounds_hi[last] = amax
        length = np.maximum(bounds_hi - bounds_lo, 0.0)  # ∞ for the last segment of an uncapped facility
        return Geometry(order=order, start=bounds_lo, length=length, amin=amin, amax=amax, lo_cap=lo_cap)

    def bounds(self, col_lo: FloatArray, col_hi: FloatArray, geo: Geometry) -> tuple[FloatArray, FloatArray]:
        """HiGHS column bounds: the kept columns' own, then each segment's ``[lower, length]``.

        A segment's lower bound fills the activity's lower bound :math:`A^{min}` in segment
        order. Where :math:`A^{min} > A^{max}` (an offtake above a facility's capacity) the
        first segment gets the inconsistent bounds ``[A^{min}, A^{max}]``, so HiGHS reports
        the LP infeasible as the full LP would be.
        """
        lo = np.concatenate([col_lo[self.kept_cols], np.zeros(len(geo.length))])
        hi = np.concatenate([col_hi[self.kept_cols], geo.length])
        if self.n_folded:
            n_seg = self.seg_ptr[1:] - self.seg_ptr[:-1]
            need = np.repeat(geo.amin, n_seg)
            seg_lo = np.clip(need - geo.start, 0.0, geo.length)
            k = len(self.kept_cols)
            lo[k:] = seg_lo
            bad = geo.amin > geo.amax
            if np.any(bad):
                first = self.seg_ptr[:-1][bad]
                lo[first] = geo.amin[bad]
                hi[first] = geo.amax[bad]
        return lo, hi

    def costs(self, cost: FloatArray, geo: Geometry) -> FloatArray:
        """HiGHS column costs: the kept columns' own, then each segment's slope (module docstring).

        Raises
        ------
        EngineError
            A folded edge costs less above its breakpoint than below it (the cost would not
            be convex in the activity and the folded LP would not be exact).
        """
        ne = self.n_edges
        out = np.empty(self.n_cols)
        k = len(self.kept_cols)
        out[:k] = cost[self.kept_cols]
        if not self.n_folded:
            return out
        e = self.edge[geo.order]
        c_lo = cost[e] * self.edge_y[geo.order]
        c_hi = cost[e + ne] * self.edge_y[geo.order]
        if np.any(c_hi < c_lo - 1e-15 * np.maximum(1.0, np.abs(c_lo))):
            msg = "a folded edge costs less above its baseline than below it; the fold is not exact"
            raise EngineError(msg)
        fac = self.edge_fac[geo.order]
        nf = self.n_folded
        n_seg = self.seg_ptr[1:] - self.seg_ptr[:-1]
        # slope of segment j = c_act + Σ_{sorted k < j} c_hi + Σ_{k ≥ j} c_lo
        all_lo = np.bincount(fac, weights=c_lo, minlength=nf)
        delta = np.cumsum(c_hi - c_lo)
        fac_start = np.concatenate([[0], np.cumsum(n_seg - 1)])[:-1]  # first slot of each facility
        base = np.concatenate([[0.0], delta])[fac_start]
        seg = np.empty(int(n_seg.sum()))
        first = (self.seg_ptr[:-1] - self.seg_ptr[0]).astype(np.intp)
        seg[first] = 0.0
        rest = np.ones(len(seg), dtype=bool)
        rest[first] = False
        seg[rest] = delta - base[fac]
        seg += np.repeat(cost[self.act] + all_lo, n_seg)
        out[k:] = seg
        return out

    def unfold(self, x: FloatArray, geo: Geometry, n_model_cols: int) -> FloatArray:
        """Return the model's columns from HiGHS' solution ``x``.

        Activities are the sums of their segments; a folded edge's flow is :math:`y_e a_v`,
        split into its two flow columns at :math:`u^{lo}_e`.
        """
        ne = self.n_edges
        full = np.zeros(n_model_cols)
        k = len(self.kept_cols)
        full[self.kept_cols] = x[:k]
        if not self.n_folded:
            return full
        n_seg = self.seg_ptr[1:] - self.seg_ptr[:-1]
        seg_fac = np.repeat(np.arange(self.n_folded), n_seg)
        a = np.bincount(seg_fac, weights=x[k:], minlength=self.n_folded)
        full[self.act] = a
        f = self.edge_y * a[self.edge_fac]
        f_lo = np.minimum(f, geo.lo_cap)
        full[self.edge] = f_lo
        full[self.edge + ne] = np.maximum(f - f_lo, 0.0)
        return full

    def coefficients(self, coef: Mapping[int, float]) -> dict[int, float]:
        """Map a row's coefficients on the model's columns to HiGHS' columns.

        Only rows that treat the two flow columns of an edge alike (a quota on the edge's
        flow) can be mapped: each folded edge's coefficient goes to every segment of its
        facility times :math:`y_e`.
        """
        out: dict[int, float] = {}
        ne = self.n_edges
        for j, v in coef.items():
            pos = int(self.col_of[j])
            if pos >= 0:
                out[pos] = out.get(pos, 0.0) + v
                continue
            if j >= 2 * ne:  # a dropped column past the flows is a folded facility's activity
                fac, w = int(np.searchsorted(self.act, j)), v
            else:
                if j >= ne:  # the f_hi twin of an f_lo coefficient, counted with it
                    if coef.get(j - ne, 0.0) != v:
                        msg = "a row weighs an edge's two flow columns differently; it cannot be folded"
                        raise EngineError(msg)
                    continue
                slot = int(self.edge_slot[j])
                fac, w = int(self.edge_fac[slot]), v * float(self.edge_y[slot])
            for s in range(int(self.seg_ptr[fac]), int(self.seg_ptr[fac + 1])):
                out[s] = out.get(s, 0.0) + w
        return out
