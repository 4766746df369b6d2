"""Traced and origin shares on a compiled network: pure functions on arrays.

Every measure here is one linear propagation over the input shares ``a(u, v)`` of
:mod:`supplychain.engine.compile` (docs/domain.md, "Measures of exposure", items 3–4)::

    S = R + (1 − F) ∘ (Aᵀ S)                                            (*)

with ``R`` a right-hand side (one column per question), ``F`` a 0/1 mask of *fixed*
nodes whose inflows are ignored (their rows of ``Aᵀ`` zeroed: ``Ãᵀ = (I − F) Aᵀ``),
so ``(I − Ãᵀ) S = R``:

* **traced share** (item 3): ``t(v) = 1`` if ``v`` is in the source, else
  ``Σ_u a(u, v) t(u)``: ``R = F = b``, the source indicator —
  ``t = b + (1 − b) ∘ (Aᵀ t)`` (:func:`traced_share`; all countries at once:
  :func:`traced_shares`);
* **origin by primary producer** (item 4, "where it was mined"):
  ``S(v, c) = π(v)·[country(v) = c] + Σ_u a(u, v) S(u, c)``, ``π(v) = p(v)/(p(v) +
  Σ f)``, no fixed nodes (:func:`origin_shares` with ``fixed=False``);
* **origin at a processing stage** ("where it was separated"): the processing
  nodes are fixed to their own country, their inputs ignored
  (:func:`origin_shares` with ``fixed=True``);
* **stake-weighted ownership**: primary producers carry their owners' stakes
  (:func:`weighted_origin_shares`).

**How it is solved.** Nodes are in solve order (levels of the condensation, see
:mod:`supplychain.engine.compile`). For a level with no loop, its rows are final
after one sparse mat-vec with the rows above it: ``S[l] = R[l] + (1 − F[l]) ∘
(A_lᵀ S[:l])`` — no path is ever enumerated. A level holding a loop (re-exports,
recycling, toll processing) also solves ``(I − (1 − F) G) x = y`` for its internal
shares ``G``: by sparse LU (``scipy.sparse.linalg.splu``, cached per fixed mask)
when the loop is small, else by the fixed-point iteration ``x ← y + (1 − F)∘(G x)``
(monotone from below because everything is non-negative, stopped when the
geometric tail bound ``Δ_k ρ/(1 − ρ)`` is below 1e-13), falling back to LU when it
converges slowly. Many right-hand sides go through together in column blocks of
64, so the matrices are read once per block.

**Guarantees.** Results are finite and in ``[0, 1]``: deviations up to the
round-off ``1e-9`` (``1e-5`` in float32) are clipped, larger ones raise
:class:`~supplychain.errors.EngineError` naming the nodes; closed loops were
already refused when compiling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from supplychain.engine.compile import BoolArray, CompiledGraph, FloatArray, IntArray, Level, coo_to_csr
from supplychain.errors import EngineError

__all__ = [
    "CHUNK",
    "DIRECT_MAX",
    "SPARSE_MIN",
    "origin_shares",
    "solve_shares",
    "traced_share",
    "traced_shares",
    "weighted_origin_shares",
]

DIRECT_MAX = 2000
"""Loops (internal blocks of a level) up to this many nodes are solved by sparse LU, larger ones iterated.

Counted per copy of the network (:attr:`~supplychain.engine.compile.CompiledGraph.copies`): k copies side by side
are factorised together, in an order that keeps them apart (``batch``), up to ``k × DIRECT_MAX`` rows; a larger loop
is iterated over every copy at once, which makes a sample's last bits depend on its block."""
CHUNK = 64
"""Right-hand sides solved together (columns per block)."""
SPARSE_MIN = 1 << 16
"""Right-hand sides of the first level with fewer entries than this go through a dense mat-vec even when
sparse: a sparse product's fixed cost (building and converting the matrices) exceeds the dense pass there."""
_MAX_ITER = 1000
_LU_CACHE_SIZE = 256


def _roundoff(dtype: np.dtype[Any]) -> float:
    return 1e-9 if dtype == np.float64 else 1e-5


def _tol(dtype: np.dtype[Any]) -> float:
    return 1e-13 if dtype == np.float64 else 1e-6


# --------------------------------------------------------------- the sweep
def _zero_fixed(upd: FloatArray, fixed: BoolArray | None, code: IntArray | None, col0: int) -> None:
    """Zero the update of fixed rows (``fixed``: all columns; ``code``: per column)."""
    if fixed is not None and fixed.any():
        upd[fixed] = 0
    if code is not None and upd.ndim == 2:
        c = code - col0
        rows = np.flatnonzero((c >= 0) & (c < upd.shape[1]))
        if rows.size:
            upd[rows, c[rows]] = 0


def _accumulate(m: sp.csr_matrix, x: FloatArray, y: FloatArray) -> None:
    """``y += m @ x`` in place, without a temporary (scipy's CSR kernels accumulate)."""
    _accumulate_csr(m.indptr, m.indices, m.data, x, y)


def _accumulate_csr(indptr: npt.NDArray[Any], indices: npt.NDArray[Any], data: FloatArray, x: FloatArray,
                    y: FloatArray) -> None:
    """:func:`_accumulate` for a CSR matrix given by its arrays (``len(x)`` columns)."""
    from scipy.sparse import _sparsetools

    n_row, n_col = len(indptr) - 1, x.shape[0]
    if x.flags.c_contiguous and y.flags.c_contiguous and data.dtype == x.dtype == y.dtype:
        if y.ndim == 1:
            _sparsetools.csr_matvec(n_row, n_col, indptr, indices, data, x, y)
        else:
            _sparsetools.csr_matvecs(n_row, n_col, y.shape[1], indptr, indices, data, x.ravel(), y.ravel())
    else:  # pragma: no cover - every caller passes contiguous arrays of the matrix's dtype
        y += sp.csr_matrix((data, indices, indptr), shape=(n_row, n_col)) @ x


def _sparse_enough(x: FloatArray) -> bool:
    """Tell whether at most 5 % of the entries are non-zero."""
    return bool(np.count_nonzero(x) <= 0.05 * x.size)


def _sweep(cg: CompiledGraph, sol: FloatArray, fixed: BoolArray | None, code: IntArray | None, col0: int) -> None:
    """Solve (*) in place: on entry ``S = R`` in solve order, on exit the solution.

    Fixed entries keep their right-hand side: they are saved before a level's
    mat-vec accumulates into the level's rows and put back after it.
    """
    levels = cg.levels_as(sol.dtype)
    for li, lv in enumerate(levels):
        s, e = lv.start, lv.stop
        f = None if fixed is None else fixed[s:e]
        c = None if code is None else code[s:e]
        if lv.ext_csr is not None:
            block = sol[s:e]
            rows_f = None if f is None or not f.any() else np.flatnonzero(f)
            rows_c = cols_c = None
            if c is not None and sol.ndim == 2:
                cc = c - col0
                rows_c = np.flatnonzero((cc >= 0) & (cc < sol.shape[1]))
                cols_c = cc[rows_c]
            saved_f = block[rows_f].copy() if rows_f is not None else None
            saved_c = block[rows_c, cols_c].copy() if rows_c is not None and rows_c.size else None
            prev = sol[:s]
            if li == 1 and levels[0].internal is None and prev.ndim == 2 and prev.size >= SPARSE_MIN \
                    and _sparse_enough(prev):
                # the rows above are still the right-hand side (sources have no inflow): when that
                # is sparse (one origin per producer), a sparse product saves a dense pass
                block += (lv.ext @ sp.csr_matrix(prev)).toarray()
            elif lv.ext_blocks:
                for first, stop, m in lv.ext_blocks:  # supplier rows of one block stay in cache
                    _accumulate(m, sol[first:stop], block)
            else:
                _accumulate_csr(*lv.ext_csr, prev, block)
            if saved_f is not None:
                block[rows_f] = saved_f
            if saved_c is not None:
                block[rows_c, cols_c] = saved_c
        if lv.internal is not None and lv.loop_rows is not None:
            idx = lv.loop_rows
            block = sol[s:e]
            block[idx] = _solve_loop(cg, li, lv, block[idx], None if f is None else f[idx],
                                     None if c is None else c[idx], col0)


def _solve_loop(cg: CompiledGraph, li: int, lv: Level, y: FloatArray, fixed: BoolArray | None,
                code: IntArray | None, col0: int) -> FloatArray:
    """Solve ``x = y + (1 − F) ∘ (G x)`` for the internal block ``G`` of a level."""
    assert lv.internal is not None  # only called for levels with a loop
    g = lv.internal
    if g.shape[0] > DIRECT_MAX * cg.copies:  # per copy of the network (compile_batch)
        x = _iterate(g, y, fixed, code, col0)
        if x is not None:
            return x
    return _direct(cg, li, g, y, fixed, code, col0)


def _iterate(g: sp.csr_matrix, y: FloatArray, fixed: BoolArray | None, code: IntArray | None,
             col0: int) -> FloatArray | None:
    tol = _tol(y.dtype)
    x: FloatArray = y.copy()
    prev = 0.0
    for it in range(_MAX_ITER):
        z: FloatArray = g @ x
        _zero_fixed(z, fixed, code, col0)
        z += y
        delta = float(np.max(np.abs(z - x))) if z.size else 0.0
        x = z
        if delta <= tol * 1e-2:
            return x
        if prev > 0.0:
            rho = delta / prev
            if rho < 1.0 and delta * rho / (1.0 - rho) <= tol:
                return x
            if it >= 20 and rho > 0.95:
                return None
        prev = delta
    return None


def _identity_minus(g: sp.csr_matrix, keep: BoolArray | None) -> sp.csc_matrix:
    """``I − diag(keep) G`` in float64, canonical CSC without explicit zeros (``G``: canonical CSR).

    The matrix ``(sp.identity(m) - sp.diags(keep) @ G).tocsc()`` gives, entry for entry
    (``1 + (−g)`` is ``1 − g`` exactly), built from the arrays by one counting sort.
    """
    m = g.shape[0]
    rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(g.indptr))
    vals = -np.asarray(g.data, dtype=np.float64)
    if keep is not None:
        vals = vals * keep[rows]
    diag = np.arange(m, dtype=np.int64)
    # CSR of the transpose is CSC: the columns are the rows of the counting sort
    t = coo_to_csr(m, m, np.concatenate([diag, g.indices.astype(np.int64)]), np.concatenate([diag, rows]),
                    np.concatenate([np.ones(m), vals]))
    a = sp.csc_matrix((t.data, t.indices, t.indptr), shape=(m, m))
    a.sum_duplicates()
    a.eliminate_zeros()
    return a


def _lu(cg: CompiledGraph, li: int, g: sp.csr_matrix, keep: BoolArray | None) -> Any:
    from scipy.sparse.linalg import splu

    key = ("lu", li, None if keep is None else np.packbits(keep).tobytes())
    cache = cg._cache
    if key in cache:
        return cache[key]
    a = _identity_minus(g, keep)
    try:
        # copies side by side (compile_batch) keep the given order: no fill-reducing permutation mixes them, so
        # each copy's factors, and a sample's result, do not depend on the other samples of its block
        lu = splu(a, permc_spec="NATURAL" if cg.batch else "COLAMD")
    except RuntimeError as exc:  # pragma: no cover - closed loops are refused at compile time
        start = cg.levels[li].start
        rows = cg.levels[li].loop_rows
        names = ", ".join(map(str, cg.nodes[start + rows[:5]])) if rows is not None else f"level {li}"
        msg = f"the loop through {names} is singular: {exc}"
        raise EngineError(msg) from None
    if len(cache) >= _LU_CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = lu
    return lu


def _direct(cg: CompiledGraph, li: int, g: sp.csr_matrix, y: FloatArray, fixed: BoolArray | None,
            code: IntArray | None, col0: int) -> FloatArray:
    base = None if fixed is None else ~fixed
    y64 = np.asarray(y, dtype=np.float64)
    if code is None or y.ndim == 1:
        out = np.asarray(_lu(cg, li, g, base).solve(y64))
        return out.astype(y.dtype, copy=False)
    k = y.shape[1]
    c = code - col0
    in_block = (c >= 0) & (c < k)
    special = np.unique(c[in_block])
    out = np.empty_like(y64)
    default = np.setdiff1d(np.arange(k), special)
    if default.size:
        out[:, default] = _lu(cg, li, g, base).solve(np.ascontiguousarray(y64[:, default]))
    keep0 = np.ones(len(c), dtype=bool) if base is None else base
    for j in special:
        out[:, j] = _lu(cg, li, g, keep0 & (c != j)).solve(np.ascontiguousarray(y64[:, j]))
    return out.astype(y.dtype, copy=False)


def _checked(cg: CompiledGraph, sol: FloatArray, what: str) -> FloatArray:
    """Refuse NaN and values outside [0, 1] beyond round-off; clip round-off."""
    if sol.size == 0:
        return sol
    lo, hi = float(sol.min()), float(sol.max())
    eps = _roundoff(sol.dtype)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -eps or hi > 1.0 + eps:
        bad = ~np.isfinite(sol) | (sol < -eps) | (sol > 1.0 + eps)
        bad_rows = np.asarray(bad.any(axis=1)) if sol.ndim == 2 else bad
        names = ", ".join(map(str, cg.nodes[np.flatnonzero(bad_rows)[:10]]))
        msg = (f"{what} left [0, 1] (min {lo!r}, max {hi!r}) at nodes {names}; the loop through them is "
               f"ill-conditioned — check for re-exports that pass (almost) all their material back")
        raise EngineError(msg)
    if lo < 0.0 or hi > 1.0:
        np.clip(sol, 0.0, 1.0, out=sol)
    return sol


# ------------------------------------------------------------------ public API
def solve_shares(
    compiled: CompiledGraph,
    rhs: npt.ArrayLike,
    *,
    fixed: npt.ArrayLike | None = None,
    check: bool = True,
) -> FloatArray:
    """Solve ``S = R + (1 − F) ∘ (Aᵀ S)`` for any right-hand side.

    Parameters
    ----------
    compiled : CompiledGraph
        The network.
    rhs : array_like, shape (n,) or (n, k)
        ``R`` in solve order.
    fixed : array_like of bool, shape (n,), optional
        ``F``: nodes whose inflows are ignored (their value is ``R``).
    check : bool, default True
        Refuse values outside ``[0, 1]`` (clip round-off); set False for a
        right-hand side that is not a share.

    Returns
    -------
    ndarray
        ``S``, same shape and dtype (float32 or float64) as `rhs`.

    Notes
    -----
    docs/domain.md, "Measures of exposure": the traced share solves ``(I − Aᵀ) t = b``
    with the source rows fixed; this is the general form (module docstring).
    """
    r = np.asarray(rhs)
    dtype = np.float32 if r.dtype == np.float32 else np.float64
    sol: FloatArray = np.array(r, dtype=dtype, order="C", copy=True)
    if sol.shape[0] != compiled.n:
        msg = f"rhs has {sol.shape[0]} rows for {compiled.n} nodes"
        raise ValueError(msg)
    f = None if fixed is None else np.asarray(fixed, dtype=bool)
    _sweep(compiled, sol, f, None, 0)
    return _checked(compiled, sol, "a share") if check else sol


def traced_share(compiled: CompiledGraph, in_source: npt.ArrayLike) -> FloatArray:
    """Traced (upstream) share of every node from a set of source nodes.

    Parameters
    ----------
    compiled : CompiledGraph
        The network.
    in_source : array_like of bool, shape (n,)
        True for nodes in the source (e.g. located in China), in solve order
        (``compiled.nodes``).

    Returns
    -------
    ndarray of float64, shape (n,)
        ``t(v)`` in ``[0, 1]``, solve order.

    Notes
    -----
    docs/domain.md, "Measures of exposure", item 3: ``t(v) = 1`` if ``v`` is in the
    source, else ``t(v) = Σ_u a(u, v)·t(u)`` (a mine outside the source: 0) —
    ``t = b + (1 − b) ∘ (Aᵀ t)``, solved level by level (module docstring).

    Examples
    --------
    Chinese ore (100 t) and Australian ore (100 t) into a Japanese plant (60 t from
    China, 20 t from Australia), whose oxide goes to the US:

    >>> from supplychain.engine.compile import compile_arrays
    >>> ids = ["cn_mine", "au_mine", "jp_plant", "US:oxide"]
    >>> cg = compile_arrays(4, [0, 1, 2], [2, 2, 3], [60.0, 20.0, 40.0], [100.0, 100.0, 0.0, 0.0], node_ids=ids)
    >>> t = traced_share(cg, cg.nodes == "cn_mine")
    >>> dict(zip(cg.nodes, t.round(4).tolist()))
    {'cn_mine': 1.0, 'au_mine': 0.0, 'jp_plant': 0.75, 'US:oxide': 0.75}
    """
    b = np.asarray(in_source, dtype=bool).ravel()
    if len(b) != compiled.n:
        msg = f"in_source has {len(b)} entries for {compiled.n} nodes"
        raise ValueError(msg)
    sol = b.astype(np.float64)
    _sweep(compiled, sol, b, None, 0)
    return _checked(compiled, sol, "the traced share")


def traced_shares(
    compiled: CompiledGraph,
    country: npt.ArrayLike,
    n_countries: int,
    *,
    dtype: npt.DTypeLike = np.float64,
    chunk: int = CHUNK,
) -> FloatArray:
    """Traced share of every node from every country at once.

    Parameters
    ----------
    compiled : CompiledGraph
        The network.
    country : array_like of int, shape (n,)
        Country number (``0 … n_countries − 1``) of every node in solve order,
        ``-1`` for none.
    n_countries : int
        Number of countries (columns).
    dtype : float64 or float32
        Precision of the result.
    chunk : int
        Columns solved together.

    Returns
    -------
    ndarray, shape (n, n_countries)
        Column ``c`` is :func:`traced_share` with the nodes of country ``c`` as
        source.
    """
    code = np.asarray(country, dtype=np.int64).ravel()
    dt = np.dtype(dtype)
    rows = np.flatnonzero(code >= 0)

    def rhs(buf: FloatArray, j0: int, j1: int) -> None:
        sel = rows[(code[rows] >= j0) & (code[rows] < j1)]
        buf[sel, code[sel] - j0] = 1.0

    return _chunked(compiled, n_countries, dt, chunk, rhs, None, code, "the traced share")


def _chunked(cg: CompiledGraph, k: int, dt: np.dtype[Any], chunk: int, fill: Any, fixed: BoolArray | None,
             code: IntArray | None, what: str) -> FloatArray:
    """Solve (*) for `k` right-hand sides in column blocks, reusing one block buffer.

    ``fill(buf, j0, j1)`` writes the right-hand side of columns ``j0:j1`` into the
    zeroed buffer ``buf`` (``n × (j1 − j0)``, C order).
    """
    n = cg.n
    width = max(1, min(chunk, k))
    store = np.empty(n * width, dtype=dt)
    out: FloatArray | None = None
    for j0 in range(0, k, width):
        j1 = min(k, j0 + width)
        buf = store[: n * (j1 - j0)].reshape(n, j1 - j0)
        buf.fill(0.0)
        fill(buf, j0, j1)
        _sweep(cg, buf, fixed, code, j0)
        _checked(cg, buf, what)
        if k <= width:
            return buf
        if out is None:
            out = np.empty((n, k), dtype=dt)
        out[:, j0:j1] = buf
    return out if out is not None else np.zeros((n, k), dtype=dt)


def weighted_origin_shares(
    compiled: CompiledGraph,
    node: npt.ArrayLike,
    column: npt.ArrayLike,
    weight: npt.ArrayLike,
    n_columns: int,
    *,
    fixed: bool = False,
    dtype: npt.DTypeLike = np.float64,
    chunk: int = CHUNK,
) -> FloatArray:
    """Origin decomposition with weighted labels (e.g. owners' stakes).

    Parameters
    ----------
    compiled : CompiledGraph
        The network.
    node, column, weight : array_like
        Triplets: node ``node[i]`` (solve position) carries ``weight[i]`` of origin
        ``column[i]``. The weights of a node should sum to 1 (use a remainder
        column such as "unattributed").
    n_columns : int
        Number of origins (columns).
    fixed : bool, default False
        False: the labelled nodes are *primary producers* and contribute
        ``π(v)·weight`` (their primary share); True: the labelled nodes are
        fixed to ``weight`` and their inputs ignored (origin at a processing stage).
    dtype : float64 or float32
        Precision of the result.
    chunk : int
        Columns solved together.

    Returns
    -------
    ndarray, shape (n, n_columns)
        Row ``v`` is the share of ``v``'s material by origin; it sums to 1 for every
        node with an inflow whose upstream is fully labelled.
    """
    nd = np.asarray(node, dtype=np.int64).ravel()
    col = np.asarray(column, dtype=np.int64).ravel()
    wt = np.asarray(weight, dtype=np.float64).ravel()
    if not (len(nd) == len(col) == len(wt)):
        msg = "node, column and weight differ in length"
        raise ValueError(msg)
    if len(col) and (col.min() < 0 or col.max() >= n_columns):
        msg = f"column numbers must be in [0, {n_columns})"
        raise ValueError(msg)
    dt = np.dtype(dtype)
    value = wt if fixed else wt * compiled.primary_share[nd]
    fixed_mask: BoolArray | None = None
    if fixed:
        fixed_mask = np.zeros(compiled.n, dtype=bool)
        fixed_mask[nd] = True
    vals = value.astype(dt)

    def rhs(buf: FloatArray, j0: int, j1: int) -> None:
        sel = (col >= j0) & (col < j1)
        np.add.at(buf, (nd[sel], col[sel] - j0), vals[sel])

    return _chunked(compiled, n_columns, dt, chunk, rhs, fixed_mask, None, "an origin share")


def origin_shares(
    compiled: CompiledGraph,
    origin: Sequence[str | None] | npt.NDArray[Any],
    *,
    fixed: bool = False,
    columns: Sequence[str] | None = None,
    dtype: npt.DTypeLike = np.float64,
    chunk: int = CHUNK,
) -> tuple[FloatArray, npt.NDArray[np.str_]]:
    """Share of every node's material by origin (country of a chosen stage).

    Parameters
    ----------
    compiled : CompiledGraph
        The network.
    origin : sequence of str or None, length n
        Label of every node in solve order (e.g. its country) where the node is
        an origin at the chosen stage, else ``None`` or ``""``.
    fixed : bool, default False
        False: origins are primary producers (mines), contributing their primary
        share ``π(v)``; True: origin nodes are fixed to their label and their
        inputs ignored (e.g. separation plants: "where it was separated").
    columns : sequence of str, optional
        Column labels (default: the sorted distinct labels).
    dtype : float64 or float32
        Precision of the result.
    chunk : int
        Columns solved together.

    Returns
    -------
    shares : ndarray, shape (n, k)
        ``S`` of ``(I − Ãᵀ) S = B`` (docs/domain.md, "Measures of exposure", item 4),
        solve order.
    columns : ndarray of str, shape (k,)
        The origin of each column.

    Raises
    ------
    ValueError
        When a label is not among `columns`.

    Examples
    --------
    >>> from supplychain.engine.compile import compile_arrays
    >>> ids = ["cn_mine", "au_mine", "jp_plant", "US:oxide"]
    >>> cg = compile_arrays(4, [0, 1, 2], [2, 2, 3], [60.0, 20.0, 40.0], [100.0, 100.0, 0.0, 0.0], node_ids=ids)
    >>> country = {"cn_mine": "CN", "au_mine": "AU", "jp_plant": None, "US:oxide": None}
    >>> S, cols = origin_shares(cg, [country[v] for v in cg.nodes])
    >>> cols.tolist(), S[cg.positions(["US:oxide"])[0]].round(4).tolist()
    (['AU', 'CN'], [0.25, 0.75])
    """
    lab = np.asarray(origin, dtype=object).reshape(-1)
    if len(lab) != compiled.n:
        msg = f"origin has {len(lab)} labels for {compiled.n} nodes"
        raise ValueError(msg)
    text = lab.astype(str)
    mask = ~np.asarray(pd.isna(lab), dtype=bool) & (text != "") & (text != "None")
    labels = text[mask]
    cols = np.unique(labels) if columns is None else np.asarray(list(columns), dtype=str)
    number = {c: j for j, c in enumerate(cols.tolist())}
    idx = np.fromiter((number.get(c, -1) for c in labels.tolist()), dtype=np.int64, count=len(labels))
    if (idx < 0).any():
        missing = sorted(set(labels[idx < 0].tolist()))
        msg = f"origin labels not among the columns: {', '.join(missing[:10])}"
        raise ValueError(msg)
    sol = weighted_origin_shares(compiled, np.flatnonzero(mask), idx, np.ones(len(idx)), len(cols),
                               fixed=fixed, dtype=dtype, chunk=chunk)
    return sol, np.asarray(cols, dtype=str)
