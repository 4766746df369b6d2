"""Compile an edge table once into sparse arrays and a level-by-level solve plan.

docs/domain.md, "Measures of exposure": let node ``v`` have inflows ``f(u→v)`` and local
primary production ``p(v)``; the input share of supplier ``u`` is::

    a(u, v) = f(u→v) / (p(v) + Σ_u' f(u'→v))

Every exposure measure is a propagation ``S = R + (1 − F)∘(Aᵀ S)`` over these
shares (see :mod:`supplychain.engine.trace`). This module does the work that does
not depend on the question asked, once per network:

* a node index (ids in *solve order*, see below);
* the matrix of input shares. **Convention:** ``A[u, v] = a(u, v)`` (row = supplier,
  column = buyer), so column ``v`` of ``A`` holds the input shares of ``v`` and
  ``(Aᵀ t)(v) = Σ_u a(u, v) t(u)``. We store ``At = Aᵀ`` in CSR (row ``v`` lists
  ``v``'s suppliers), the layout a mat-vec ``At @ t`` wants; ``A`` is available
  as :attr:`CompiledGraph.A`;
* the strongly connected components (``scipy.sparse.csgraph``) and a topological
  order of their condensation, cut into *levels*: a level's nodes take material only
  from earlier levels or from nodes of their own strongly connected component.
  Nodes are renumbered level by level, so each level is a contiguous block of rows
  whose external suppliers all sit in the rows above it; a solve is one sparse
  mat-vec per level (plus a small linear solve for a level that holds a loop);
* the plan (solve order, levels, components) depends only on which edges exist, so it
  is kept for the last :data:`PLAN_CACHE_SIZE` structures (networks of at most
  :data:`PLAN_CACHE_EDGES` edges, keyed by their endpoints): a network compiled again
  with other tonnes reuses it (a sweep's blocks of samples go through
  :func:`~supplychain.engine.batch.compile_batch`, which keeps the plan of their structure);
* a check that no loop is closed: a strongly connected component in which every
  node takes all its material from inside the component (no primary production,
  no inflow from outside) makes ``I − Aᵀ`` singular — docs/domain.md: "a loop that
  passes 100 % of its material (a singular system) is a modelling error to report
  clearly". :func:`compile_arrays` raises :class:`~supplychain.errors.EngineError`
  naming its nodes and edges.

Mixed inputs are weighed by tonnes as stated in each edge's basis (a magnet plant
taking 90 t of NdPr metal and 10 t of Dy gets ``a = 0.9`` and ``0.1``). Zero-tonne
edges carry no share and are left out of the matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from supplychain.errors import EngineError, Problem, ScenarioError
from supplychain.memo import Memo

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class _ByPosition(Protocol[_T_co]):
    """Items read by position, ``x[i]`` (a sequence, or edge names converted only when read)."""

    def __getitem__(self, i: int, /) -> _T_co: ...

__all__ = [
    "BLOCK_ROWS",
    "PLAN_CACHE_EDGES",
    "PLAN_CACHE_SIZE",
    "SINGULAR_LEAK",
    "CompiledGraph",
    "Level",
    "compile_arrays",
    "compile_tables",
    "coo_to_csr",
]

FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BLOCK_ROWS = 16384
"""Supplier rows per cache block of a level's mat-vec (16 384 × 64 columns × 8 B = 8 MB)."""

SINGULAR_LEAK = 1e-12
"""A loop whose every node takes more than ``1 − SINGULAR_LEAK`` of its material from
inside the loop is treated as closed (singular)."""


@dataclass(frozen=True, eq=False)
class Level:
    """One level of the solve plan: rows ``start:stop`` of the solve order.

    Attributes
    ----------
    start, stop : int
        Rows of the level in solve order.
    ext_csr : tuple of (indptr, indices, data) or None
        The CSR arrays of :attr:`ext` (what the solver reads: no matrix object is built
        per level unless :attr:`ext` is asked for).
    internal : scipy.sparse.csr_matrix or None
        ``m × m``: input shares among the ``m`` rows of the level that sit on a loop
        (strongly connected components); None when the level has no loop.
    loop_rows : ndarray of int or None
        Those ``m`` rows, relative to ``start``.
    ext_blocks : tuple of (int, int, csr_matrix)
        ``ext`` cut by supplier rows into blocks of :data:`BLOCK_ROWS` (``(first,
        stop, matrix)``, the matrix's columns relative to ``first``), so that the
        supplier rows one block reads stay in cache; empty for small levels.
    """

    start: int
    stop: int
    ext_csr: tuple[npt.NDArray[Any], npt.NDArray[Any], FloatArray] | None
    internal: sp.csr_matrix | None
    loop_rows: IntArray | None = None
    ext_blocks: tuple[tuple[int, int, sp.csr_matrix], ...] = ()

    @cached_property
    def ext(self) -> sp.csr_matrix | None:
        """``(stop − start) × start``: input shares from suppliers in earlier levels (None: none)."""
        if self.ext_csr is None:
            return None
        indptr, indices, data = self.ext_csr
        return sp.csr_matrix((data, indices, indptr), shape=(self.stop - self.start, self.start), copy=False)


@dataclass(frozen=True, eq=False)
class CompiledGraph:
    """A network compiled for the exposure solvers (see module docstring).

    Every per-node array is in *solve order*: position ``i`` is node
    ``nodes[i]``; :meth:`positions` maps ids to positions.

    Attributes
    ----------
    nodes : pandas.Index
        Node ids in solve order.
    order : ndarray of int
        ``order[i]`` = index of the node at solve position ``i`` in the input.
    At : scipy.sparse.csr_matrix
        ``n × n``, ``At[v, u] = a(u, v)`` (``Aᵀ``), solve order.
    primary : ndarray
        ``p(v)``, tonnes of primary production.
    inflow : ndarray
        ``p(v) + Σ_u f(u→v)``, tonnes.
    primary_share : ndarray
        ``π(v) = p(v) / inflow(v)`` (0 where the inflow is 0).
    levels : tuple of Level
        The solve plan.
    n_edges : int
        Edges with positive tonnes that went into ``At``.
    n_loops : int
        Strongly connected components with a loop (size > 1 or a self-loop).
    copies : int
        Networks side by side that share no edge (the samples of
        :func:`~supplychain.engine.batch.compile_batch`; 1 otherwise).
    batch : bool
        Made by :func:`~supplychain.engine.batch.compile_batch`: loops are factorised in
        the given order, so the copies' factors never mix and each sample's result is the
        same whatever block it is solved in (a single network uses a fill-reducing order).
    """

    nodes: pd.Index
    order: IntArray
    At: sp.csr_matrix
    primary: FloatArray
    inflow: FloatArray
    primary_share: FloatArray
    levels: tuple[Level, ...]
    n_edges: int
    n_loops: int
    copies: int = 1
    batch: bool = False
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def A(self) -> sp.csr_matrix:  # noqa: N802  (the matrix is called A in docs/domain.md)
        """``A[u, v] = a(u, v)`` (row = supplier, column = buyer), solve order."""
        key = "A"
        if key not in self._cache:
            self._cache[key] = self.At.T.tocsr()
        out: sp.csr_matrix = self._cache[key]
        return out

    @property
    def cyclic(self) -> bool:
        """True when the network has a loop (re-exports, recycling, toll processing)."""
        return self.n_loops > 0

    def positions(self, ids: Sequence[Any] | pd.Index | npt.NDArray[Any]) -> IntArray:
        """Solve positions of node ids.

        Raises
        ------
        KeyError
            When an id is not a node.
        """
        pos = self.nodes.get_indexer(pd.Index(ids))
        if (pos < 0).any():
            missing = [str(i) for i, p in zip(ids, pos, strict=True) if p < 0]
            msg = f"not nodes of the compiled graph: {', '.join(missing[:10])}"
            raise KeyError(msg)
        return pos.astype(np.int64)

    def levels_as(self, dtype: npt.DTypeLike) -> tuple[Level, ...]:
        """Return the solve plan with its matrices cast to `dtype` (cached)."""
        dt = np.dtype(dtype)
        if dt == np.float64:
            return self.levels
        key = ("levels", dt.str)
        if key not in self._cache:
            self._cache[key] = tuple(
                Level(lv.start, lv.stop,
                      None if lv.ext_csr is None else (lv.ext_csr[0], lv.ext_csr[1], lv.ext_csr[2].astype(dt)),
                      None if lv.internal is None else lv.internal.astype(dt), lv.loop_rows,
                      tuple((a, b, m.astype(dt)) for a, b, m in lv.ext_blocks))
                for lv in self.levels
            )
        out: tuple[Level, ...] = self._cache[key]
        return out


def _csr(data: FloatArray, rows: IntArray, cols: IntArray, shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR with duplicates summed and indices sorted (canonical)."""
    m = coo_to_csr(shape[0], shape[1], rows, cols, data)
    m.sum_duplicates()
    return m


def coo_to_csr(n_row: int, n_col: int, rows: IntArray, cols: IntArray, data: npt.NDArray[Any]) -> sp.csr_matrix:
    """CSR from triplets by one counting sort, O(nnz + n); duplicates are kept (they add up in products)."""
    from scipy.sparse import _sparsetools

    nnz = len(rows)
    idx = np.int32 if max(n_row, n_col, nnz) < np.iinfo(np.int32).max else np.int64
    indptr = np.empty(n_row + 1, dtype=idx)
    indices = np.empty(nnz, dtype=idx)
    values = np.empty(nnz, dtype=data.dtype)
    _sparsetools.coo_tocsr(n_row, n_col, nnz, rows.astype(idx, copy=False), cols.astype(idx, copy=False), data,
                           indptr, indices, values)
    return sp.csr_matrix((values, indices, indptr), shape=(n_row, n_col), copy=False)


def _kahn(n: int, src: IntArray, dst: IntArray) -> IntArray:
    """Longest-path level of every node by Kahn's algorithm on arrays; -1 for nodes on or after a cycle.

    Parallel edges count once per copy on both sides, so they need no removal. Each
    round handles one whole level with a few vectorised operations (a CSR row gather
    of the frontier's out-edges, a bincount of in-degree hits), so the loop runs once
    per level, not once per node.
    """
    level = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return level
    out_adj = coo_to_csr(n, n, src, dst, np.ones(len(src), dtype=np.int8))
    indptr, indices = out_adj.indptr.astype(np.int64), out_adj.indices.astype(np.int64)
    indeg = np.bincount(indices, minlength=n).astype(np.int64)
    frontier = np.flatnonzero(indeg == 0)
    k = 0
    while frontier.size:
        level[frontier] = k
        # out-neighbours of the whole frontier: its CSR rows gathered by one index array
        first, count = indptr[frontier], indptr[frontier + 1] - indptr[frontier]
        total = int(count.sum())
        nbrs = indices[np.repeat(first - np.cumsum(count) + count, count) + np.arange(total)]
        if nbrs.size == 0:
            break
        if nbrs.size > n // 8:
            hits = np.bincount(nbrs, minlength=n)
            indeg -= hits
            touched = np.flatnonzero(hits)
        else:
            np.subtract.at(indeg, nbrs, 1)
            touched = np.unique(nbrs)
        frontier = touched[indeg[touched] == 0]
        k += 1
    return level


def compile_arrays(
    n: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    tonnes: npt.ArrayLike,
    primary: npt.ArrayLike | None = None,
    *,
    node_ids: Sequence[str] | pd.Index | None = None,
    edge_ids: _ByPosition[str] | None = None,
    edge_paths: _ByPosition[tuple[str, ...]] | None = None,
) -> CompiledGraph:
    """Compile a network given as arrays.

    Parameters
    ----------
    n : int
        Number of nodes (``0 … n−1``).
    src, dst : array_like of int
        Supplier and buyer node of every edge.
    tonnes : array_like of float
        Flow of every edge (finite, ``≥ 0``); parallel edges add up.
    primary : array_like of float, optional
        ``p(v)`` per node (default 0).
    node_ids : sequence of str, optional
        Node ids for messages and :attr:`CompiledGraph.nodes` (default: the node
        numbers themselves, as integers).
    edge_ids, edge_paths : sequence, optional
        Edge ids and the scenario key paths they came from, to name and locate
        the edges of a closed loop (read by position only: anything ``x[i]`` works).

    Returns
    -------
    CompiledGraph

    Raises
    ------
    EngineError
        On negative or non-finite tonnes, out-of-range node numbers, or a closed
        loop (module docstring); its ``__cause__`` is a
        :class:`~supplychain.errors.ScenarioError` with one located problem per
        edge of the loop when `edge_paths` are given.

    Examples
    --------
    A mine (node 0, 100 t) and an import of 50 t (node 1) into a market (node 2):

    >>> cg = compile_arrays(3, [0, 1], [2, 2], [100.0, 50.0], [100.0, 0.0, 0.0])
    >>> cg.At.toarray().round(4).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.6667, 0.3333, 0.0]]
    >>> [lv.stop for lv in cg.levels]
    [2, 3]
    """
    src_a = np.asarray(src, dtype=np.int64).ravel()
    dst_a = np.asarray(dst, dtype=np.int64).ravel()
    w = np.asarray(tonnes, dtype=np.float64).ravel()
    if not (len(src_a) == len(dst_a) == len(w)):
        msg = f"src, dst and tonnes differ in length ({len(src_a)}, {len(dst_a)}, {len(w)})"
        raise EngineError(msg)
    p = np.zeros(n) if primary is None else np.asarray(primary, dtype=np.float64).ravel().copy()
    if len(p) != n:
        msg = f"primary has {len(p)} entries for {n} nodes"
        raise EngineError(msg)
    ids = None if node_ids is None else pd.Index(list(node_ids), dtype=object)
    if ids is not None and len(ids) != n:
        msg = f"node_ids has {len(ids)} entries for {n} nodes"
        raise EngineError(msg)
    if len(w) and (src_a.min() < 0 or dst_a.min() < 0 or src_a.max() >= n or dst_a.max() >= n):
        msg = f"edge endpoints must be node numbers in [0, {n})"
        raise EngineError(msg)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        name = edge_ids[i] if edge_ids is not None else f"#{i}"
        a, b = (int(src_a[i]), int(dst_a[i])) if ids is None else (ids[int(src_a[i])], ids[int(dst_a[i])])
        msg = (f"edge {name} ({a} -> {b}) has tonnes {w[i]!r}; "
               "flows must be finite and >= 0")
        raise EngineError(msg)
    badp = ~np.isfinite(p) | (p < 0)
    if badp.any():
        i = int(np.flatnonzero(badp)[0])
        msg = f"node {i if ids is None else ids[i]} has primary production {p[i]!r}; it must be finite and >= 0"
        raise EngineError(msg)

    keep = w > 0
    edge_index = np.flatnonzero(keep)
    if len(edge_index) == len(w):  # no zero-tonne edge: no copies
        src_k, dst_k, w_k = src_a, dst_a, w
    else:
        src_k, dst_k, w_k = src_a[keep], dst_a[keep], w[keep]
    inflow = p + np.bincount(dst_k, weights=w_k, minlength=n)
    share = w_k / inflow[dst_k]

    plan = _plan(n, src_k, dst_k)
    if plan.labels is not None and plan.loop_comp is not None:
        _check_loops(ids, plan.labels, plan.loop_comp, dst_k, src_k, share, inflow, edge_index, edge_ids,
                     edge_paths)
    order = plan.order.copy()
    at = coo_to_csr(n, n, plan.pos[dst_k], plan.pos[src_k], share)
    levels = tuple(_level(at, int(s), int(e)) for s, e in zip(plan.starts, plan.stops, strict=True))

    p_sorted = p[order]
    in_sorted = inflow[order]
    pi = np.divide(p_sorted, in_sorted, out=np.zeros(n), where=in_sorted > 0)
    return CompiledGraph(
        nodes=pd.Index(order) if ids is None else pd.Index(np.asarray(ids, dtype=object)[order], dtype=object),
        order=order,
        At=at,
        primary=p_sorted,
        inflow=in_sorted,
        primary_share=pi,
        levels=levels,
        n_edges=int(keep.sum()),
        n_loops=plan.n_loops,
    )


@dataclass(frozen=True, eq=False)
class _Plan:
    """The solve plan of a network's structure: which edges exist, not their tonnes.

    ``order`` and ``pos`` (solve position of each node), the levels' row bounds
    ``starts``/``stops``, and for a network with loops its strongly connected
    components ``labels`` and which of them hold a loop (``loop_comp``).
    """

    order: IntArray
    pos: IntArray
    starts: IntArray
    stops: IntArray
    labels: IntArray | None
    loop_comp: BoolArray | None
    n_loops: int


PLAN_CACHE_SIZE = 64
"""Plans kept (least recently used dropped first) by :func:`_plan`."""
PLAN_CACHE_EDGES = 20_000
"""Only networks with at most this many edges are kept (a key holds their endpoints: ≤ 320 kB)."""
_PLANS: Memo[_Plan] = Memo(PLAN_CACHE_SIZE)


def _plan(n: int, src: IntArray, dst: IntArray) -> _Plan:
    """Return the :class:`_Plan` of the network with ``n`` nodes and edges ``src → dst`` (cached).

    Levels: Kahn's algorithm on the nodes; if it cannot place every node there are
    loops, and it runs again on the condensation (strongly connected components).
    The plan depends only on ``n`` and the edge endpoints in order, which are the
    cache key itself (compared in full, so a hit is the same structure); a sweep
    compiles the same structure with other tonnes sample after sample.
    """
    if len(src) > PLAN_CACHE_EDGES:
        return _make_plan(n, src, dst)
    return _PLANS.get((n, src.tobytes(), dst.tobytes()), lambda: _make_plan(n, src, dst))


def _make_plan(n: int, src: IntArray, dst: IntArray) -> _Plan:
    """Compute the :class:`_Plan` of a structure (:func:`_plan`)."""
    node_level = _kahn(n, src, dst)
    labels: IntArray | None = None
    loop_comp: BoolArray | None = None
    n_loops = 0
    if (node_level < 0).any():
        from scipy.sparse.csgraph import connected_components

        pattern = coo_to_csr(n, n, dst, src, np.ones(len(src)))
        pattern.sum_duplicates()  # csgraph wants canonical CSR (sorted, no duplicates)
        n_comp, comp = connected_components(pattern, directed=True, connection="strong")
        labels = comp.astype(np.int64)
        sizes = np.bincount(labels, minlength=n_comp)
        self_loop = np.zeros(n_comp, dtype=bool)
        self_loop[labels[src[src == dst]]] = True
        loop_comp = (sizes > 1) | self_loop
        n_loops = int(loop_comp.sum())
        cross = labels[src] != labels[dst]
        comp_level = _kahn(n_comp, labels[src[cross]], labels[dst[cross]])
        node_level = comp_level[labels]
        order = np.lexsort((np.arange(n), labels, node_level)).astype(np.int64)
    else:
        order = np.argsort(node_level, kind="stable").astype(np.int64)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n, dtype=np.int64)
    bounds = np.flatnonzero(np.diff(node_level[order])) + 1
    starts = np.concatenate(([0], bounds)).astype(np.int64) if n else np.array([], dtype=np.int64)
    stops = np.concatenate((bounds, [n])).astype(np.int64) if n else np.array([], dtype=np.int64)
    plan = _Plan(order, pos, starts, stops, labels, loop_comp, n_loops)
    for arr in (order, pos, starts, stops, labels, loop_comp):
        if arr is not None:
            arr.flags.writeable = False
    return plan


def _blocks(indptr: npt.NDArray[Any], indices: npt.NDArray[Any], data: FloatArray,
            s: int) -> tuple[tuple[int, int, sp.csr_matrix], ...]:
    """Cut a level's external shares (CSR arrays, ``s`` supplier columns) into blocks of supplier rows."""
    n_k = len(indptr) - 1
    if s <= 2 * BLOCK_ROWS or len(indices) == 0:
        return ()
    rows = np.repeat(np.arange(n_k, dtype=np.int64), np.diff(indptr))
    cols = indices.astype(np.int64)
    nb = (s + BLOCK_ROWS - 1) // BLOCK_ROWS
    big = coo_to_csr(nb * n_k, BLOCK_ROWS, (cols // BLOCK_ROWS) * n_k + rows, cols % BLOCK_ROWS, data)
    out = []
    for b in range(nb):
        a, z = int(big.indptr[b * n_k]), int(big.indptr[(b + 1) * n_k])
        if a == z:
            continue
        first, stop = b * BLOCK_ROWS, min(s, (b + 1) * BLOCK_ROWS)
        indptr = big.indptr[b * n_k:(b + 1) * n_k + 1] - a
        m = sp.csr_matrix((big.data[a:z], big.indices[a:z], indptr), shape=(n_k, stop - first), copy=False)
        out.append((first, stop, m))
    return tuple(out)


def _level(at: sp.csr_matrix, s: int, e: int) -> Level:
    a, b = int(at.indptr[s]), int(at.indptr[e])
    if a == b:
        return Level(s, e, None, None)
    indptr = at.indptr[s:e + 1] - a
    indices = at.indices[a:b]
    data = at.data[a:b]
    internal_mask = indices >= s
    if not internal_mask.any():
        return Level(s, e, (indptr, indices, data), None, None, _blocks(indptr, indices, data, s))
    row_of = np.repeat(np.arange(e - s), np.diff(indptr))
    ext_keep = ~internal_mask
    ext = None
    if ext_keep.any():
        m_ext = _csr(data[ext_keep], row_of[ext_keep], indices[ext_keep], (e - s, s))
        ext = (m_ext.indptr, m_ext.indices, m_ext.data)
    r_int, c_int = row_of[internal_mask], indices[internal_mask].astype(np.int64) - s
    members = np.unique(np.concatenate((r_int, c_int))).astype(np.int64)
    m = len(members)
    internal = _csr(data[internal_mask], np.searchsorted(members, r_int), np.searchsorted(members, c_int), (m, m))
    return Level(s, e, ext, internal, members, () if ext is None else _blocks(*ext, s))


def _check_loops(
    ids: pd.Index | None,
    labels: IntArray,
    loop_comp: BoolArray,
    rows: IntArray,
    cols: IntArray,
    vals: FloatArray,
    inflow: FloatArray,
    edge_index: IntArray,
    edge_ids: _ByPosition[str] | None,
    edge_paths: _ByPosition[tuple[str, ...]] | None,
) -> None:
    """Raise EngineError for a strongly connected component with no way in."""
    n = len(labels)
    inside = labels[rows] == labels[cols]
    internal_sum = np.bincount(rows[inside], weights=vals[inside], minlength=n)
    leak = np.where(inflow > 0, 1.0 - internal_sum, 1.0)
    in_loop = loop_comp[labels]
    comp_leak = np.zeros(len(loop_comp))
    np.maximum.at(comp_leak, labels[in_loop], leak[in_loop])
    closed = np.flatnonzero(loop_comp & (comp_leak <= SINGULAR_LEAK))
    if not closed.size:
        return
    messages: list[str] = []
    problems: list[Problem] = []
    for comp in closed[:5]:
        members = np.flatnonzero(labels == comp)
        names = sorted(str(i if ids is None else ids[int(i)]) for i in members)
        in_comp = (labels[cols] == comp) & (labels[rows] == comp)
        edges_here = edge_index[in_comp]
        edge_names = sorted(str(edge_ids[i]) for i in edges_here) if edge_ids is not None else []
        shown = ", ".join(names[:20]) + (f" … ({len(names)} nodes)" if len(names) > 20 else "")
        text = (f"closed loop: {shown} take all their material from each other (no primary production and no "
                f"inflow from outside the loop), so their origin is undefined")
        if edge_names:
            text += f"; edges: {', '.join(edge_names[:20])}"
        messages.append(text)
        if edge_paths is not None:
            for i in edges_here:
                path = edge_paths[i]
                problems.append(Problem("<api>", 0, 0, path, text,
                                        "give the loop an inflow from outside (production or imports) "
                                        "or remove one of its flows"))
    msg = "; ".join(messages)
    if len(closed) > 5:
        msg += f"; and {len(closed) - 5} more closed loops"
    err = EngineError(msg)
    if problems:
        raise err from ScenarioError(problems)
    raise err


class _OnDemand(Generic[_T]):
    """Items read by position: item ``i`` is ``convert(values[i])``, converted when read."""

    def __init__(self, values: npt.NDArray[Any], convert: Callable[[Any], _T]) -> None:
        self._values = values
        self._convert = convert

    def __getitem__(self, i: int) -> _T:
        return self._convert(self._values[int(i)])


def _entity_path(entity: Any) -> tuple[str, ...]:
    """Scenario key path of an edge's ``entity`` (``"flows.x"`` → ``("flows", "x")``; none without a dot)."""
    text = str(entity)
    return tuple(text.split(".", 1)) if "." in text else ()


def compile_tables(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    weight: str = "tonnes",
    primary: str = "primary",
    locate: Any = None,
) -> CompiledGraph:
    """Compile a node and an edge table (the contract of ``docs/architecture.md``).

    Parameters
    ----------
    nodes : DataFrame
        Node table; needs ``node`` and the `primary` column.
    edges : DataFrame
        Edge table; needs ``supplier``, ``buyer``, ``edge`` and the `weight` column.
    weight : str, default "tonnes"
        Edge column holding the flow.
    primary : str, default "primary"
        Node column holding primary production ``p(v)``.
    locate : callable, optional
        ``locate(path, message, hint) -> Problem`` to locate the edges of a
        closed loop in the scenario file (e.g. ``functools.partial(problem_at,
        scenario)``); default: file ``<api>``.

    Returns
    -------
    CompiledGraph
        Node ids in solve order; input order is the node table's.

    Raises
    ------
    EngineError
        As :func:`compile_arrays`; also when an edge names an unknown node.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["AU:ore", "m"], "primary": [0.0, 100.0]})
    >>> edges = pd.DataFrame({"edge": ["supply.m.ore"], "supplier": ["m"], "buyer": ["AU:ore"],
    ...                       "tonnes": [100.0], "entity": ["facilities.m"]})
    >>> list(compile_tables(nodes, edges).nodes)
    ['m', 'AU:ore']
    """
    names = [str(v) for v in nodes["node"].tolist()]
    where = {v: i for i, v in enumerate(names)}
    if len(where) != len(names):
        ids = pd.Index(names, dtype=object)
        dup = sorted(ids[ids.duplicated()].unique())
        msg = f"node ids repeat: {', '.join(dup[:10])}"
        raise EngineError(msg)
    sup = [str(v) for v in edges["supplier"].tolist()]
    buy = [str(v) for v in edges["buyer"].tolist()]
    s = np.fromiter((where.get(v, -1) for v in sup), dtype=np.int64, count=len(sup))
    d = np.fromiter((where.get(v, -1) for v in buy), dtype=np.int64, count=len(buy))
    if (s < 0).any() or (d < 0).any():
        missing = sorted({v for v, i in zip(sup, s.tolist(), strict=True) if i < 0}
                         | {v for v, i in zip(buy, d.tolist(), strict=True) if i < 0})
        msg = f"edges name nodes that are not in the node table: {', '.join(missing[:10])}"
        raise EngineError(msg)
    # names and scenario paths of edges are read only to report a closed loop: converted on demand
    edge_ids = _OnDemand(edges["edge"].to_numpy(), str) if "edge" in edges.columns else None
    paths = _OnDemand(edges["entity"].to_numpy(), _entity_path) if "entity" in edges.columns else None
    try:
        return compile_arrays(
            len(names), s, d, edges[weight].to_numpy(dtype=float),
            nodes[primary].to_numpy(dtype=float) if primary in nodes.columns else None,
            node_ids=names, edge_ids=edge_ids, edge_paths=paths,
        )
    except EngineError as err:
        cause = err.__cause__
        if locate is not None and isinstance(cause, ScenarioError):
            located = [locate(p.path, p.message, p.hint) for p in cause.problems]
            raise EngineError(str(err)) from ScenarioError(located)
        raise
