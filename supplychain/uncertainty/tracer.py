"""Traced share of many samples at once on one network structure (:class:`BatchTracer`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from supplychain.errors import EngineError
from supplychain.graph.sums import segments

__all__ = ["BATCH_CELLS", "TRACE_MAX_ITER", "TRACE_TOL", "BatchTracer", "segments"]

TRACE_TOL = 1e-15
"""Convergence of the loop iteration of :class:`BatchTracer` (absolute, on shares in [0, 1])."""
TRACE_MAX_ITER = 5000
"""Loop iterations before a sample's loop is solved exactly (sparse LU)."""
BATCH_CELLS = 4_000_000
"""Largest ``samples × edges`` block solved at once (bounds the memory of a chunk)."""


@dataclass(frozen=True)
class _Step:
    """One level of the solve plan of :class:`BatchTracer` (edge ranges in plan order)."""

    ext: slice
    ext_starts: np.ndarray
    ext_nodes: np.ndarray
    internal: slice
    int_starts: np.ndarray
    int_nodes: np.ndarray


@dataclass(frozen=True)
class BatchTracer:
    r"""Traced share for many samples of edge tonnes on one network structure.

    docs/domain.md, "Measures of exposure", item 3: with input shares
    :math:`a(u, v) = f(u→v) / (p(v) + \sum_{u'} f(u'→v))`,

    .. math:: t(v) = b(v) + (1 - b(v)) \sum_u a(u, v)\, t(u),

    the same equation :func:`supplychain.engine.trace.traced_share` solves, here
    for a block of samples at once (one row per sample). The structure (strongly
    connected components and their levels, as in :mod:`supplychain.engine.compile`)
    is worked out once from every edge that can carry material; per sample only
    the tonnes change. Levels without a loop are final after one pass; a level
    with a loop iterates ``x ← y + (1 − b) ∘ (G x)`` per sample until its own
    change is below :data:`TRACE_TOL` (so a sample's result never depends on the
    other samples of its block), and solves the loop exactly with sparse LU if
    that takes more than :data:`TRACE_MAX_ITER` passes.

    Sums over edges use :func:`numpy.add.reduceat` on edges sorted by buyer, so
    each sample's arithmetic is the same whatever block it is computed in: results
    are identical for any chunking and any executor.

    Attributes
    ----------
    n : int
        Number of nodes.
    src, dst : numpy.ndarray
        Supplier and buyer node of every edge, in plan order.
    perm : numpy.ndarray
        Plan position → input edge index.
    in_perm, in_starts, in_nodes : numpy.ndarray
        Edges sorted by buyer and the segment starts / buyer of each segment (for inflows).
    steps : tuple
        The levels, upstream first.
    """

    n: int
    src: np.ndarray
    dst: np.ndarray
    perm: np.ndarray
    in_perm: np.ndarray
    in_starts: np.ndarray
    in_nodes: np.ndarray
    steps: tuple[_Step, ...]

    @classmethod
    def build(cls, n: int, src: Sequence[int] | np.ndarray, dst: Sequence[int] | np.ndarray) -> BatchTracer:
        """Work out the solve plan of a network structure.

        Parameters
        ----------
        n : int
            Number of nodes.
        src, dst : array_like of int
            Supplier and buyer of every edge that may carry material in some sample.

        Returns
        -------
        BatchTracer
            The plan.
        """
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        src_a = np.asarray(src, dtype=np.int64)
        dst_a = np.asarray(dst, dtype=np.int64)
        m = csr_matrix((np.ones(len(src_a)), (src_a, dst_a)), shape=(n, n))
        n_comp, labels = connected_components(m, directed=True, connection="strong")
        cs, cd = labels[src_a], labels[dst_a]
        cross = cs != cd
        level = np.zeros(n_comp, dtype=np.int64)
        for _ in range(n_comp + 1):  # longest-path levels of the condensation (a DAG)
            new = level.copy()
            np.maximum.at(new, cd[cross], level[cs[cross]] + 1)
            if np.array_equal(new, level):
                break
            level = new
        node_level = level[labels]
        internal = ~cross
        order = np.lexsort((dst_a, internal, node_level[dst_a]))
        p_src, p_dst, p_int, p_lev = src_a[order], dst_a[order], internal[order], node_level[dst_a][order]
        steps = []
        for lev in np.unique(p_lev):
            lo, hi = np.searchsorted(p_lev, [lev, lev + 1])
            mid = lo + int(np.searchsorted(p_int[lo:hi], True))
            ext_starts, ext_nodes = segments(p_dst[lo:mid])
            int_starts, int_nodes = segments(p_dst[mid:hi])
            steps.append(_Step(slice(lo, mid), ext_starts, ext_nodes, slice(mid, hi), int_starts, int_nodes))
        in_perm = np.argsort(dst_a, kind="stable")
        in_starts, in_nodes = segments(dst_a[in_perm])
        return cls(n, p_src, p_dst, order, in_perm, in_starts, in_nodes, tuple(steps))

    def solve(self, tonnes: np.ndarray, primary: np.ndarray, source: np.ndarray) -> np.ndarray:
        """Traced shares of every node for every sample.

        Parameters
        ----------
        tonnes : numpy.ndarray, shape (samples, edges)
            Edge tonnes in the input edge order given to :meth:`build`.
        primary : numpy.ndarray, shape (nodes,) or (samples, nodes)
            Primary production ``p(v)``.
        source : numpy.ndarray of bool, shape (nodes,)
            ``b``: nodes in the source.

        Returns
        -------
        numpy.ndarray, shape (samples, nodes)
            ``t``; rows are samples.
        """
        tonnes = np.atleast_2d(np.asarray(tonnes, dtype=float))
        n_s = tonnes.shape[0]
        step = max(1, BATCH_CELLS // max(tonnes.shape[1], 1))
        if n_s > step:
            prim = np.asarray(primary, dtype=float)
            parts = [
                self.solve(tonnes[i : i + step], prim if prim.ndim == 1 else prim[i : i + step], source)
                for i in range(0, n_s, step)
            ]
            return np.vstack(parts)
        b = np.asarray(source, dtype=bool)
        keep = (~b).astype(float)
        inflow = np.array(np.broadcast_to(np.asarray(primary, dtype=float), (n_s, self.n)))
        if len(self.in_perm):
            inflow[:, self.in_nodes] += np.add.reduceat(tonnes[:, self.in_perm], self.in_starts, axis=1)
        f = tonnes[:, self.perm]
        denom = inflow[:, self.dst]
        a = np.divide(f, denom, out=np.zeros_like(f), where=denom > 0)
        t = np.array(np.broadcast_to(b.astype(float), (n_s, self.n)))
        for st in self.steps:
            if len(st.ext_nodes):
                contrib = a[:, st.ext] * t[:, self.src[st.ext]]
                t[:, st.ext_nodes] += keep[st.ext_nodes] * np.add.reduceat(contrib, st.ext_starts, axis=1)
            if len(st.int_nodes):
                self._loop(st, a, t, keep)
        np.clip(t, 0.0, 1.0, out=t)
        return t

    def _loop(self, st: _Step, a: np.ndarray, t: np.ndarray, keep: np.ndarray) -> None:
        """Solve a level's loop ``x = y + (1 − b) ∘ (G x)`` in place; each sample stops when it has converged."""
        nodes = st.int_nodes
        pos = np.full(self.n, -1, dtype=np.int64)
        pos[nodes] = np.arange(len(nodes))
        src = pos[self.src[st.internal]]
        if (src < 0).any():  # pragma: no cover - a loop's suppliers are in the loop
            msg = "internal error: a loop edge leaves its strongly connected component"
            raise EngineError(msg)
        y = t[:, nodes]
        k = keep[nodes]
        a_int = a[:, st.internal]
        x = y.copy()
        active = np.ones(t.shape[0], dtype=bool)
        for _ in range(TRACE_MAX_ITER):
            new = y + k * np.add.reduceat(a_int * x[:, src], st.int_starts, axis=1)
            delta = np.max(np.abs(new - x), axis=1)
            x = np.where(active[:, None], new, x)  # a converged sample keeps its value
            active &= delta > TRACE_TOL
            if not active.any():
                t[:, nodes] = x
                return
        t[:, nodes] = x
        self._exact_loop(st, a_int, t, y, k, np.flatnonzero(active))

    def _exact_loop(
        self, st: _Step, a_int: np.ndarray, t: np.ndarray, y: np.ndarray, k: np.ndarray, rows: np.ndarray
    ) -> None:
        from scipy.sparse import csc_matrix, identity
        from scipy.sparse.linalg import spsolve

        nodes = st.int_nodes
        pos = np.full(self.n, -1, dtype=np.int64)
        pos[nodes] = np.arange(len(nodes))
        r = pos[self.dst[st.internal]]
        c = pos[self.src[st.internal]]
        for i in rows:
            g = csc_matrix((a_int[i] * k[r], (r, c)), shape=(len(nodes), len(nodes)))
            x = spsolve((identity(len(nodes), format="csc") - g).tocsc(), y[i])
            if not np.all(np.isfinite(x)):
                msg = f"the loop through nodes {list(nodes[:5])} is closed (singular) in this sample"
                raise EngineError(msg)
            t[i, nodes] = x
