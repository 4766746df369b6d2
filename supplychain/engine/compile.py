"""Compile an edge table once into sparse arrays and a level-by-level solve plan.

DOMAIN.md, "Measures of exposure": let node ``v`` have inflows ``f(u→v)`` and local
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
* a check that no loop is closed: a strongly connected component in which every
  node takes all its material from inside the component (no primary production,
  no inflow from outside) makes ``I − Aᵀ`` singular — DOMAIN.md: "a loop that
  passes 100 % of its material (a singular system) is a modelling error to report
  clearly". :func:`compile_arrays` raises :class:`~supplychain.errors.EngineError`
  naming its nodes and edges.

Mixed inputs are weighed by tonnes as stated in each edge's basis (a magnet plant
taking 90 t of NdPr metal and 10 t of Dy gets ``a = 0.9`` and ``0.1``). Zero-tonne
edges carry no share and are left out of the matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from supplychain.errors import EngineError, Problem, ScenarioError

__all__ = [
    "SINGULAR_LEAK",
    "CompiledGraph",
    "Level",
    "compile_arrays",
    "compile_tables",
]

FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

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
    ext : scipy.sparse.csr_matrix or None
        ``(stop − start) × start``: input shares from suppliers in earlier levels.
    internal : scipy.sparse.csr_matrix or None
        ``(stop − start) × (stop − start)``: input shares from inside the level
        (only where a strongly connected component, i.e. a loop, sits in it).
    """

    start: int
    stop: int
    ext: sp.csr_matrix | None
    internal: sp.csr_matrix | None


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
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def A(self) -> sp.csr_matrix:  # noqa: N802  (the matrix is called A in DOMAIN.md)
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

    def positions(self, ids: Sequence[str] | pd.Index | npt.NDArray[Any]) -> IntArray:
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
                      None if lv.ext is None else lv.ext.astype(dt),
                      None if lv.internal is None else lv.internal.astype(dt))
                for lv in self.levels
            )
        out: tuple[Level, ...] = self._cache[key]
        return out


def _csr(data: FloatArray, rows: IntArray, cols: IntArray, shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR with duplicates summed and indices sorted (canonical)."""
    m = sp.csr_matrix((data, (rows, cols)), shape=shape)
    m.sum_duplicates()
    return m


def _kahn_levels(n_comp: int, comp_src: IntArray, comp_dst: IntArray) -> IntArray:
    """Longest-path level of every component of a DAG (Kahn's algorithm on arrays)."""
    level = np.full(n_comp, -1, dtype=np.int64)
    if n_comp == 0:
        return level
    out_adj = sp.csr_matrix((np.ones(len(comp_src), dtype=np.int8), (comp_src, comp_dst)), shape=(n_comp, n_comp))
    out_adj.sum_duplicates()
    indeg = np.bincount(out_adj.indices, minlength=n_comp).astype(np.int64)
    indptr, indices = out_adj.indptr, out_adj.indices
    frontier = np.flatnonzero(indeg == 0)
    k = 0
    while frontier.size:
        level[frontier] = k
        starts, ends = indptr[frontier], indptr[frontier + 1]
        counts = ends - starts
        total = int(counts.sum())
        if total == 0:
            break
        # gather the out-neighbours of the frontier without a Python loop
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        nbrs = indices[np.arange(total) + offsets]
        np.subtract.at(indeg, nbrs, 1)
        cand = nbrs[indeg[nbrs] == 0]
        frontier = np.unique(cand)
        k += 1
    if (level < 0).any():  # pragma: no cover - the condensation of a digraph is acyclic
        msg = "internal error: the condensation of the network is not acyclic"
        raise EngineError(msg)
    return level


def compile_arrays(
    n: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    tonnes: npt.ArrayLike,
    primary: npt.ArrayLike | None = None,
    *,
    node_ids: Sequence[str] | pd.Index | None = None,
    edge_ids: Sequence[str] | None = None,
    edge_paths: Sequence[tuple[str, ...]] | None = None,
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
        Node ids (default ``"0" … "n−1"``), for messages and :attr:`CompiledGraph.nodes`.
    edge_ids, edge_paths : sequence, optional
        Edge ids and the scenario key paths they came from, to name and locate
        the edges of a closed loop.

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
    ids = pd.Index([str(i) for i in range(n)] if node_ids is None else list(node_ids), dtype=object)
    if len(ids) != n:
        msg = f"node_ids has {len(ids)} entries for {n} nodes"
        raise EngineError(msg)
    if len(w) and (src_a.min() < 0 or dst_a.min() < 0 or src_a.max() >= n or dst_a.max() >= n):
        msg = f"edge endpoints must be node numbers in [0, {n})"
        raise EngineError(msg)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        name = edge_ids[i] if edge_ids is not None else f"#{i}"
        msg = (f"edge {name} ({ids[int(src_a[i])]} -> {ids[int(dst_a[i])]}) has tonnes {w[i]!r}; "
               "flows must be finite and >= 0")
        raise EngineError(msg)
    badp = ~np.isfinite(p) | (p < 0)
    if badp.any():
        i = int(np.flatnonzero(badp)[0])
        msg = f"node {ids[i]} has primary production {p[i]!r}; it must be finite and >= 0"
        raise EngineError(msg)

    keep = w > 0
    edge_index = np.flatnonzero(keep)
    src_k, dst_k, w_k = src_a[keep], dst_a[keep], w[keep]
    inflow = p + np.bincount(dst_k, weights=w_k, minlength=n)
    share = w_k / inflow[dst_k]

    # strongly connected components on the (original-order) matrix
    from scipy.sparse.csgraph import connected_components

    m_orig = _csr(share, dst_k, src_k, (n, n))
    n_comp, labels = connected_components(m_orig, directed=True, connection="strong")
    labels = labels.astype(np.int64)
    sizes = np.bincount(labels, minlength=n_comp)
    self_loop = np.zeros(n_comp, dtype=bool)
    diag = m_orig.diagonal()
    self_loop[labels[diag > 0]] = True
    loop_comp = (sizes > 1) | self_loop
    n_loops = int(loop_comp.sum())

    coo = m_orig.tocoo()
    rows, cols, vals = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    if n_loops:
        _check_loops(ids, labels, loop_comp, rows, cols, vals, inflow, src_k, dst_k, edge_index, edge_ids,
                     edge_paths)

    # levels of the condensation; solve order = (level, component, input index)
    cross = labels[rows] != labels[cols]
    comp_level = _kahn_levels(n_comp, labels[cols[cross]], labels[rows[cross]])
    node_level = comp_level[labels]
    order = np.lexsort((np.arange(n), labels, node_level)) if n_loops else np.argsort(node_level, kind="stable")
    order = order.astype(np.int64)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n, dtype=np.int64)

    at = _csr(vals, pos[rows], pos[cols], (n, n))
    lv_sorted = node_level[order]
    bounds = np.flatnonzero(np.diff(lv_sorted)) + 1 if n else np.array([], dtype=np.int64)
    starts = np.concatenate(([0], bounds)).astype(np.int64) if n else np.array([], dtype=np.int64)
    stops = np.concatenate((bounds, [n])).astype(np.int64) if n else np.array([], dtype=np.int64)
    levels = tuple(_level(at, int(s), int(e)) for s, e in zip(starts, stops, strict=True))

    p_sorted = p[order]
    in_sorted = inflow[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = np.where(in_sorted > 0, p_sorted / np.where(in_sorted > 0, in_sorted, 1.0), 0.0)
    return CompiledGraph(
        nodes=pd.Index(ids[order], dtype=object),
        order=order,
        At=at,
        primary=p_sorted,
        inflow=in_sorted,
        primary_share=pi,
        levels=levels,
        n_edges=int(keep.sum()),
        n_loops=n_loops,
    )


def _level(at: sp.csr_matrix, s: int, e: int) -> Level:
    a, b = int(at.indptr[s]), int(at.indptr[e])
    if a == b:
        return Level(s, e, None, None)
    indptr = at.indptr[s:e + 1] - a
    indices = at.indices[a:b]
    data = at.data[a:b]
    internal_mask = indices >= s
    if not internal_mask.any():
        ext = sp.csr_matrix((data, indices, indptr), shape=(e - s, s), copy=False)
        return Level(s, e, ext, None)
    row_of = np.repeat(np.arange(e - s), np.diff(indptr))
    ext_keep = ~internal_mask
    ext = None
    if ext_keep.any():
        ext = _csr(data[ext_keep], row_of[ext_keep], indices[ext_keep], (e - s, s))
    internal = _csr(data[internal_mask], row_of[internal_mask], indices[internal_mask] - s, (e - s, e - s))
    return Level(s, e, ext, internal)


def _check_loops(
    ids: pd.Index,
    labels: IntArray,
    loop_comp: BoolArray,
    rows: IntArray,
    cols: IntArray,
    vals: FloatArray,
    inflow: FloatArray,
    src_k: IntArray,
    dst_k: IntArray,
    edge_index: IntArray,
    edge_ids: Sequence[str] | None,
    edge_paths: Sequence[tuple[str, ...]] | None,
) -> None:
    """Raise EngineError for a strongly connected component with no way in."""
    n = len(ids)
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
        names = sorted(str(ids[int(i)]) for i in members)
        in_comp = (labels[src_k] == comp) & (labels[dst_k] == comp)
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
    ids = pd.Index(nodes["node"].astype(str), dtype=object)
    if ids.has_duplicates:
        dup = sorted(ids[ids.duplicated()].unique())
        msg = f"node ids repeat: {', '.join(dup[:10])}"
        raise EngineError(msg)
    s = ids.get_indexer(pd.Index(edges["supplier"].astype(str)))
    d = ids.get_indexer(pd.Index(edges["buyer"].astype(str)))
    if (s < 0).any() or (d < 0).any():
        missing = sorted(set(edges["supplier"].astype(str)[s < 0]) | set(edges["buyer"].astype(str)[d < 0]))
        msg = f"edges name nodes that are not in the node table: {', '.join(missing[:10])}"
        raise EngineError(msg)
    edge_ids = [str(e) for e in edges["edge"]] if "edge" in edges.columns else None
    paths: list[tuple[str, ...]] | None = None
    if "entity" in edges.columns:
        paths = [tuple(str(e).split(".", 1)) if "." in str(e) else () for e in edges["entity"]]
    try:
        return compile_arrays(
            len(ids), s, d, edges[weight].to_numpy(dtype=float),
            nodes[primary].to_numpy(dtype=float) if primary in nodes.columns else None,
            node_ids=ids, edge_ids=edge_ids, edge_paths=paths,
        )
    except EngineError as err:
        cause = err.__cause__
        if locate is not None and isinstance(cause, ScenarioError):
            located = [locate(p.path, p.message, p.hint) for p in cause.problems]
            raise EngineError(str(err)) from ScenarioError(located)
        raise
