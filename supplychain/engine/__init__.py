"""The exposure engine: compiled sparse arrays and the traced/origin solvers.

* :func:`compile_tables` / :func:`compile_arrays` (:mod:`~supplychain.engine.compile`)
  — the edge table compiled once into ``scipy.sparse`` CSR and a level-by-level
  solve plan; closed loops are refused; :func:`compile_batch`
  (:mod:`~supplychain.engine.batch`) — a block of samples of one structure as copies
  side by side, for the solvers below (a sweep's traced share);
* :func:`traced_share`, :func:`traced_shares`, :func:`origin_shares`,
  :func:`weighted_origin_shares`, :func:`solve_shares`
  (:mod:`~supplychain.engine.trace`) — pure functions on those arrays.

scipy is imported with this package (not with :mod:`supplychain`).
"""

from __future__ import annotations

from supplychain.engine.batch import compile_batch
from supplychain.engine.compile import CompiledGraph, Level, compile_arrays, compile_tables
from supplychain.engine.trace import (
    origin_shares,
    solve_shares,
    traced_share,
    traced_shares,
    weighted_origin_shares,
)

__all__ = [
    "CompiledGraph",
    "Level",
    "compile_arrays",
    "compile_batch",
    "compile_tables",
    "origin_shares",
    "solve_shares",
    "traced_share",
    "traced_shares",
    "weighted_origin_shares",
]
