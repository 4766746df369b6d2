"""Compile a block of samples of one network structure as one network of copies.

A sweep solves the same network with other tonnes sample after sample. Here a block
of ``k`` samples becomes one :class:`~supplychain.engine.compile.CompiledGraph` of ``k``
copies of the network side by side, sharing no edge (copy ``s`` of node ``v`` is node
``s·n + v``), which the solvers of :mod:`supplychain.engine.trace` solve as they solve
any network — one level of the copies at a time, each copy's loops as if it were alone
(:attr:`~supplychain.engine.compile.CompiledGraph.copies`).

What does not depend on the tonnes is worked out once per structure and kept (the
last :data:`LAYOUT_CACHE_SIZE` structures): the solve plan of the structure (every
edge that may carry material, :func:`supplychain.engine.compile._plan`) and where each
edge's share goes in the matrix ``Aᵀ``. A block only computes its input shares
``a(u, v) = f(u→v) / (p(v) + Σ_u' f(u'→v))`` and lays them out copy by copy inside each
level. A plan stays valid for any subset of its edges (a level's nodes still take
material only from earlier levels or from their own strongly connected component), so
a sample's zero-tonne edges stay in the matrix as zero shares, where
:func:`~supplychain.engine.compile.compile_arrays` leaves them out; a zero share adds
nothing to any sum, and the loop solve drops it (``_identity_minus``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from supplychain.engine.compile import (
    SINGULAR_LEAK,
    CompiledGraph,
    IntArray,
    Level,
    _Plan,
    _plan,
    coo_to_csr,
)
from supplychain.errors import EngineError
from supplychain.memo import Memo

__all__ = ["COPIES_CACHE_SIZE", "LAYOUT_CACHE_SIZE", "compile_batch"]

LAYOUT_CACHE_SIZE = 4
"""Structures whose layout :func:`compile_batch` keeps (least recently used dropped first).

A layout keeps the patterns of up to :data:`COPIES_CACHE_SIZE` numbers of copies, each
about 20 bytes per entry of ``Aᵀ`` (``samples × edges``: 20 MB for a block of a million)."""


@dataclass(frozen=True, eq=False)
class _Layout:
    """One copy of a structure laid out for :func:`compile_batch`.

    ``indptr`` and the edge of each entry (``edge``) are ``Aᵀ`` in CSR, solve order,
    every edge kept; each entry's supplier lies in the level starting at ``col_start``
    of ``col_size`` rows, ``col_off`` rows into it. ``loop_edge``, ``loop_node`` and
    ``loop_seg`` are the edges inside a loop, the loops' nodes sorted by component and
    where each component starts among them; ``loop_src`` and ``loop_dst`` the loop edges'
    ends among ``loop_node``; ``loop_sum`` (loop nodes × loop edges) sums
    a node's shares from inside its loop. ``copies`` keeps :func:`_copies`' patterns.
    """

    n: int
    m: int
    plan: _Plan
    indptr: IntArray
    edge: IntArray
    col_start: IntArray
    col_size: IntArray
    col_off: IntArray
    loop_edge: IntArray
    loop_src: IntArray
    loop_dst: IntArray
    loop_sum: sp.csr_matrix
    loop_node: IntArray
    loop_seg: IntArray
    copies: OrderedDict[int, _Copies] = field(default_factory=OrderedDict)


_LAYOUTS: Memo[_Layout] = Memo(LAYOUT_CACHE_SIZE)
_LAYOUTS_LOCK = threading.Lock()
"""Guards each layout's ``copies``."""


def _layout(n: int, src: IntArray, dst: IntArray) -> _Layout:
    """Return the :class:`_Layout` of a structure (cached, keyed by its endpoints)."""
    return _LAYOUTS.get((n, src.tobytes(), dst.tobytes()), lambda: _make_layout(n, src, dst))


def _make_layout(n: int, src: IntArray, dst: IntArray) -> _Layout:
    """Compute the :class:`_Layout` of a structure (:func:`_layout`)."""
    m = len(src)
    plan = _plan(n, src, dst)
    edges = coo_to_csr(n, n, plan.pos[dst], plan.pos[src], np.arange(m, dtype=np.int64))
    start = np.repeat(plan.starts, plan.stops - plan.starts)  # per solve position: its level's first row
    size = np.repeat(plan.stops - plan.starts, plan.stops - plan.starts)
    cols = edges.indices.astype(np.int64)
    if plan.labels is not None and plan.loop_comp is not None:
        lab = plan.labels
        loop_edge = np.flatnonzero((lab[src] == lab[dst]) & plan.loop_comp[lab[dst]])
        loop_node = np.flatnonzero(plan.loop_comp[lab])
        loop_node = loop_node[np.argsort(lab[loop_node], kind="stable")]
        loop_seg = np.flatnonzero(np.diff(lab[loop_node], prepend=-1))
        where = np.full(n, -1, dtype=np.int64)
        where[loop_node] = np.arange(len(loop_node))
        loop_src, loop_dst = where[src[loop_edge]], where[dst[loop_edge]]
        loop_sum = coo_to_csr(len(loop_node), len(loop_edge), loop_dst,
                              np.arange(len(loop_edge), dtype=np.int64), np.ones(len(loop_edge)))
    else:
        loop_edge = loop_node = loop_seg = loop_src = loop_dst = np.zeros(0, dtype=np.int64)
        loop_sum = sp.csr_matrix((0, 0))
    return _Layout(n, m, plan, edges.indptr.astype(np.int64), edges.data, start[cols], size[cols],
                   cols - start[cols], loop_edge, loop_src, loop_dst, loop_sum, loop_node, loop_seg)


def _check_closed(lay: _Layout, share: npt.NDArray[np.float64], inflow: npt.NDArray[np.float64]) -> None:
    """Raise EngineError when a sample closes a loop (as ``compile._check_loops`` does for one network).

    `share`: samples × ``lay.loop_edge``; `inflow`: samples × ``lay.loop_node``. A loop is
    closed when every node of it with inflow takes all of it from inside the loop. The
    structure's loops are checked for every sample at once; a sample with zero-tonne edges
    inside a loop may split it into smaller loops, which are found and checked per sample
    (its own strongly connected components among the loop's edges that carry material).
    """
    if not len(lay.loop_node):
        return
    inside = np.asarray((lay.loop_sum @ share.T).T)
    leak = np.where(inflow > 0, 1.0 - inside, 1.0)
    closed = np.maximum.reduceat(leak, lay.loop_seg, axis=1) <= SINGULAR_LEAK
    if closed.any():
        s, c = (int(i) for i in np.argwhere(closed)[0])
        stop = lay.loop_seg[c + 1] if c + 1 < len(lay.loop_seg) else len(lay.loop_node)
        _closed(s, lay.loop_node[lay.loop_seg[c]:stop])
    nl = len(lay.loop_node)
    for s in np.flatnonzero((share <= 0).any(axis=1)).tolist():
        keep = share[s] > 0
        a, b = lay.loop_src[keep], lay.loop_dst[keep]
        pattern = sp.csr_matrix((np.ones(len(a)), (a, b)), shape=(nl, nl))  # canonical: csgraph wants no duplicates
        _, piece = connected_components(pattern, directed=True, connection="strong")
        same = piece[a] == piece[b]  # an edge inside a piece: the piece is a loop
        leak_s = np.where(inflow[s] > 0, 1.0 - np.bincount(b[same], weights=share[s][keep][same], minlength=nl), 1.0)
        worst = np.full(int(piece.max()) + 1, np.inf)
        worst[np.unique(piece[a[same]])] = -np.inf
        np.maximum.at(worst, piece, leak_s)
        bad = np.flatnonzero(worst <= SINGULAR_LEAK)
        if bad.size:
            _closed(s, lay.loop_node[piece == bad[0]])


def _closed(sample: int, nodes: IntArray) -> NoReturn:
    names = ", ".join(str(v) for v in nodes[:20].tolist())
    msg = (f"closed loop in sample {sample}: nodes {names} take all their material from each other (no primary "
           f"production and no inflow from outside the loop), so their origin is undefined")
    raise EngineError(msg)


@dataclass(frozen=True, eq=False)
class _LevelCopies:
    """One level of :class:`_Copies`: rows ``start:stop``; where its shares are in ``At``'s data.

    ``ext`` is ``(indptr, indices, positions)`` of its shares from earlier levels
    (``positions``: entries of ``At``'s data; ``span`` when they are one slice);
    ``internal`` the same among ``members``, the rows on a loop (relative to ``start``).
    """

    start: int
    stop: int
    span: slice
    ext: tuple[npt.NDArray[Any], npt.NDArray[Any], Any] | None
    internal: tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]] | None = None
    members: IntArray | None = None


@dataclass(frozen=True, eq=False)
class _Copies:
    """``k`` copies of a :class:`_Layout`.

    ``At``'s CSR pattern, the tonnes behind each entry (``gather``: ``s·m + edge`` of
    copy ``s``) and its row, the solve order, the levels; the entries of the loops'
    edges and the rows of their nodes (samples × loop edges or loop nodes).
    """

    order: IntArray
    indptr: npt.NDArray[Any]
    indices: npt.NDArray[Any]
    gather: npt.NDArray[Any]
    row: npt.NDArray[Any]
    levels: tuple[_LevelCopies, ...]
    loop_entry: npt.NDArray[Any]
    loop_row: npt.NDArray[Any]


COPIES_CACHE_SIZE = 3
"""Numbers of copies whose pattern is kept per structure (a sweep's full blocks, its last block)."""


def _joined(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _copies(lay: _Layout, k: int) -> _Copies:
    """Return the pattern of `k` copies of `lay` (cached on the layout).

    Each level of the plan becomes that level's rows of copy 0, then of copy 1, …;
    copy ``c`` of the node at solve row ``r`` of level ``[start, start + size)`` sits
    at ``k·start + c·size + (r − start)``.
    """
    with _LAYOUTS_LOCK:
        hit = lay.copies.get(k)
        if hit is not None:
            lay.copies.move_to_end(k)
            return hit
    n, m, plan = lay.n, lay.m, lay.plan
    nn = k * n
    idx = np.int32 if max(nn, k * m) < np.iinfo(np.int32).max else np.int64
    copy = np.arange(k, dtype=np.int64)[:, None]
    bounds = list(zip(plan.starts.tolist(), plan.stops.tolist(), strict=True))
    order_parts, count_parts, gather_parts, index_parts = [], [], [], []
    for s, e in bounds:
        a, b = int(lay.indptr[s]), int(lay.indptr[e])
        order_parts.append((plan.order[s:e][None, :] + copy * n).ravel())
        count_parts.append(np.tile(np.diff(lay.indptr[s:e + 1]), k))
        gather_parts.append((lay.edge[a:b][None, :] + copy * m).ravel())
        index_parts.append((k * lay.col_start[a:b] + lay.col_off[a:b] + copy * lay.col_size[a:b]).ravel())
    order = _joined(order_parts)
    indptr = np.concatenate(([0], np.cumsum(_joined(count_parts)))).astype(idx)
    indices = _joined(index_parts).astype(idx)
    levels = []
    for s, e in bounds:
        ks, ke = k * s, k * e
        a, b = int(indptr[ks]), int(indptr[ke])
        ptr = (indptr[ks:ke + 1] - a).astype(idx)
        cols = indices[a:b]
        inner = cols >= ks
        if a == b:
            levels.append(_LevelCopies(ks, ke, slice(a, b), None))
        elif not inner.any():
            levels.append(_LevelCopies(ks, ke, slice(a, b), (ptr, cols, None)))
        else:  # a level with a loop: its shares from earlier levels, and those inside the level
            row = np.repeat(np.arange(ke - ks), np.diff(ptr))
            outer = ~inner
            ext = None
            if outer.any():
                e_ptr = np.concatenate(([0], np.cumsum(np.bincount(row[outer], minlength=ke - ks)))).astype(idx)
                ext = (e_ptr, cols[outer], a + np.flatnonzero(outer))
            r_int, c_int = row[inner], cols[inner].astype(np.int64) - ks
            members = np.unique(np.concatenate((r_int, c_int))).astype(np.int64)
            rows = np.searchsorted(members, r_int)
            i_ptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=len(members))))).astype(idx)
            internal = (i_ptr, np.searchsorted(members, c_int).astype(idx), a + np.flatnonzero(inner))
            levels.append(_LevelCopies(ks, ke, slice(a, b), ext, internal, members))
    gather = _joined(gather_parts).astype(idx)
    row = np.repeat(np.arange(nn, dtype=idx), np.diff(indptr))
    pos = np.empty(nn, dtype=np.int64)
    pos[order] = np.arange(nn)
    entry = np.empty(k * m, dtype=np.int64)
    entry[gather] = np.arange(len(gather))
    loop_entry = entry.reshape(k, m)[:, lay.loop_edge].astype(idx)
    loop_row = pos[lay.loop_node[None, :] + copy * n].astype(idx)
    out = _Copies(order, indptr, indices, gather, row, tuple(levels), loop_entry, loop_row)
    with _LAYOUTS_LOCK:
        lay.copies[k] = out
        while len(lay.copies) > COPIES_CACHE_SIZE:
            lay.copies.popitem(last=False)
    return out


def compile_batch(
    n: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    tonnes: npt.ArrayLike,
    primary: npt.ArrayLike | None = None,
) -> CompiledGraph:
    """Compile ``k`` samples of edge tonnes on one network structure as one network of ``k`` copies.

    Parameters
    ----------
    n : int
        Nodes of one sample's network (``0 … n−1``).
    src, dst : array_like of int, shape (edges,)
        Supplier and buyer node of every edge that may carry material in some sample.
    tonnes : array_like of float, shape (k, edges)
        Flow of every edge in each sample (finite, ``≥ 0``).
    primary : array_like of float, shape (n,) or (k, n), optional
        ``p(v)`` (default 0).

    Returns
    -------
    CompiledGraph
        ``k·n`` nodes, node ``s·n + v`` being node ``v`` of sample ``s`` (ids: those
        numbers), :attr:`~CompiledGraph.copies` ``= k``; ``n_loops`` counts the loops of
        the structure in every copy, ``n_edges`` the edges that carry material. Solved by
        :func:`~supplychain.engine.trace.traced_share` and the other solvers; a result
        in solve order ``r`` is per sample ``x = np.empty(k·n); x[cg.order] = r;
        x.reshape(k, n)``.

    Raises
    ------
    EngineError
        On shapes that do not fit, out-of-range nodes, negative or non-finite tonnes or
        primary production, or a sample that closes a loop: a strongly connected component
        of the structure, or a smaller one its zero-tonne edges leave (module docstring of
        :mod:`~supplychain.engine.compile`), as :func:`~supplychain.engine.compile.compile_arrays`
        refuses that sample alone.

    Examples
    --------
    The network of :func:`~supplychain.engine.compile.compile_arrays`' example (a
    mine, an import into a market), twice: as given, then without the import.

    >>> from supplychain.engine.trace import traced_share
    >>> cg = compile_batch(3, [0, 1], [2, 2], [[100.0, 50.0], [100.0, 0.0]], [100.0, 0.0, 0.0])
    >>> cg.copies, cg.n, cg.n_edges
    (2, 6, 3)
    >>> t = np.empty(cg.n)
    >>> t[cg.order] = traced_share(cg, np.isin(cg.nodes, [0, 3]))  # the mine is the source
    >>> t.reshape(2, 3).round(4).tolist()
    [[1.0, 0.0, 0.6667], [1.0, 0.0, 1.0]]
    """
    src_a = np.asarray(src, dtype=np.int64).ravel()
    dst_a = np.asarray(dst, dtype=np.int64).ravel()
    w = np.asarray(tonnes, dtype=np.float64)
    if w.ndim != 2 or len(src_a) != len(dst_a) or w.shape[1] != len(src_a):
        msg = f"tonnes of shape {w.shape} for {len(src_a)} suppliers and {len(dst_a)} buyers; want (samples, edges)"
        raise EngineError(msg)
    k, m = w.shape
    p = np.zeros(n) if primary is None else np.asarray(primary, dtype=np.float64)
    if p.shape not in ((n,), (k, n)):
        msg = f"primary of shape {p.shape} for {k} samples of {n} nodes"
        raise EngineError(msg)
    if m and (src_a.min() < 0 or dst_a.min() < 0 or src_a.max() >= n or dst_a.max() >= n):
        msg = f"edge endpoints must be node numbers in [0, {n})"
        raise EngineError(msg)
    if w.size and not (w.min() >= 0 and np.isfinite(w.max())):
        s, j = (int(i) for i in np.argwhere(~np.isfinite(w) | (w < 0))[0])
        msg = (f"edge #{j} ({src_a[j]} -> {dst_a[j]}) of sample {s} has tonnes {float(w[s, j])!r}; "
               "flows must be finite and >= 0")
        raise EngineError(msg)
    if p.size and not (p.min() >= 0 and np.isfinite(p.max())):
        msg = f"primary production {float(p[~np.isfinite(p) | (p < 0)][0])!r}; it must be finite and >= 0"
        raise EngineError(msg)
    lay = _layout(n, src_a, dst_a)
    cp = _copies(lay, k)
    nn = k * n
    data = w.ravel()[cp.gather]  # tonnes, then shares (in place): At's data
    # the pattern is the cache's: the returned matrices get their own copy, so editing one (eliminate_zeros)
    # cannot change the next block's
    at = sp.csr_matrix((data, cp.indices.copy(), cp.indptr.copy()), shape=(nn, nn), copy=False)
    p_sorted = (np.tile(p, k) if p.ndim == 1 else p.ravel())[cp.order]
    in_sorted = p_sorted + at @ np.ones(nn)
    den = np.where(in_sorted > 0, in_sorted, 1.0)  # a node without inflow has only zero-tonne edges
    np.divide(data, den[cp.row], out=data)
    _check_closed(lay, data[cp.loop_entry], in_sorted[cp.loop_row])
    levels = []
    for lv in cp.levels:
        if lv.internal is not None and lv.members is not None:
            ext = None if lv.ext is None else (lv.ext[0], lv.ext[1], data[lv.ext[2]])
            i_ptr, i_idx, i_pos = lv.internal
            mm = len(lv.members)
            internal = sp.csr_matrix((data[i_pos], i_idx.copy(), i_ptr.copy()), shape=(mm, mm), copy=False)
            levels.append(Level(lv.start, lv.stop, ext, internal, lv.members))
        elif lv.ext is not None:
            levels.append(Level(lv.start, lv.stop, (lv.ext[0], lv.ext[1], data[lv.span]), None))
        else:
            levels.append(Level(lv.start, lv.stop, None, None))
    return CompiledGraph(
        nodes=pd.Index(cp.order),
        order=cp.order,
        At=at,
        primary=p_sorted,
        inflow=in_sorted,
        primary_share=np.divide(p_sorted, in_sorted, out=np.zeros(nn), where=in_sorted > 0),
        levels=tuple(levels),
        n_edges=int(np.count_nonzero(data)),
        n_loops=lay.plan.n_loops * k,
        copies=k,
        batch=True,
    )
