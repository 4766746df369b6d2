"""Samples of one structure compiled side by side (``engine.batch.compile_batch``) and solved by the engine."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from supplychain.engine import compile_arrays, traced_share
from supplychain.engine import trace as trace_module
from supplychain.engine.batch import compile_batch
from supplychain.errors import EngineError
from supplychain.uncertainty.kernel import ExposureKernel

# the re-export loop of tests/test_trace.py as arrays: CN ore (0), AU ore (1), HK ore (2), US ore (3)
SRC = [0, 1, 2, 2]
DST = [2, 2, 0, 3]
PRIMARY = [100.0, 50.0, 0.0, 0.0]


def per_sample(n: int, src: Any, dst: Any, tonnes: Any, primary: Any, source: Any) -> np.ndarray:
    """Traced shares (samples × nodes) of a block: compiled side by side, solved once."""
    cg = compile_batch(n, src, dst, tonnes, primary)
    t = np.empty(cg.n)
    t[cg.order] = traced_share(cg, np.tile(source, len(tonnes))[cg.order])
    return t.reshape(len(tonnes), n)


def alone(n: int, src: Any, dst: Any, tonnes: Any, primary: Any, source: Any) -> np.ndarray:
    """The same sample compiled and solved on its own (compile_arrays, which drops zero-tonne edges)."""
    cg = compile_arrays(n, src, dst, tonnes, primary)
    t = np.empty(n)
    t[cg.order] = traced_share(cg, np.asarray(source)[cg.order])
    return t


def test_three_samples_of_the_reexport_loop_by_hand() -> None:
    """Australia is the source; Hong Kong takes 30 t from China and 20 t from Australia.

    Sample 0 (HK sends 10 t back to China, 20 t to the US): t(CN) = 10 t(HK)/110 and
    t(HK) = (30 t(CN) + 20)/50, so t(HK)(50 − 300/110) = 20 → t(HK) = 11/26 = t(US),
    t(CN) = 10/110 · 11/26. Sample 1 (no flow back to China: the loop is gone):
    t(CN) = 0, t(HK) = 20/50 = 0.4 = t(US). Sample 2 (nothing from Australia either):
    every share outside Australia is 0.
    """
    tonnes = [[30.0, 20.0, 10.0, 20.0], [30.0, 20.0, 0.0, 20.0], [30.0, 0.0, 0.0, 20.0]]
    source = np.array([False, True, False, False])
    t = per_sample(4, SRC, DST, tonnes, PRIMARY, source)
    assert t[0] == pytest.approx([10 / 110 * 11 / 26, 1.0, 11 / 26, 11 / 26], abs=1e-15)
    assert t[1] == pytest.approx([0.0, 1.0, 0.4, 0.4], abs=1e-15)
    assert t[2] == pytest.approx([0.0, 1.0, 0.0, 0.0], abs=0.0)
    for s in range(3):
        assert t[s] == pytest.approx(alone(4, SRC, DST, tonnes[s], PRIMARY, source), abs=1e-15)


def test_layout_copies_nodes_edges_and_loops() -> None:
    cg = compile_batch(4, SRC, DST, [[30.0, 20.0, 10.0, 20.0], [30.0, 20.0, 0.0, 20.0]], PRIMARY)
    assert (cg.copies, cg.n, cg.n_edges, cg.n_loops) == (2, 8, 7, 2)
    assert sorted(cg.nodes.tolist()) == list(range(8))
    # copy 1's edges join copy 1's nodes only: its rows of At sum to the shares of its inflows
    hk1 = cg.positions([4 + 2])[0]
    assert cg.At[hk1].toarray().sum() == pytest.approx(1.0)
    assert cg.primary_share[cg.positions([4 + 0])[0]] == pytest.approx(1.0)  # CN ore of sample 1: only mined
    assert cg.inflow[cg.positions([0])[0]] == pytest.approx(110.0)


def _random_block(rng: np.random.Generator, n: int, m: int, k: int) -> tuple[Any, ...]:
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    base = rng.uniform(0.5, 10.0, m)
    tonnes = base * rng.uniform(0.5, 1.5, (k, m))
    tonnes[rng.random((k, m)) < 0.3] = 0.0  # each sample drops other edges
    primary = rng.uniform(1.0, 5.0, (k, n))  # every node has an origin: no closed loop
    return src, dst, tonnes, primary


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_copy_is_the_sample_compiled_alone(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m, k = 40, 160, 7
    src, dst, tonnes, primary = _random_block(rng, n, m, k)
    source = rng.random(n) < 0.2
    t = per_sample(n, src, dst, tonnes, primary, source)
    for s in range(k):
        assert t[s] == pytest.approx(alone(n, src, dst, tonnes[s], primary[s], source), rel=1e-12, abs=1e-15)


def test_copies_loops_are_solved_as_each_alone_would_be(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``DIRECT_MAX`` at one copy's loop size, the k copies' loop (k times larger) is still solved by LU."""
    rng = np.random.default_rng(3)
    n, m, k = 30, 120, 6
    src, dst, tonnes, primary = _random_block(rng, n, m, k)
    source = rng.random(n) < 0.3
    expected = per_sample(n, src, dst, tonnes, primary, source)
    one = compile_batch(n, src, dst, tonnes[:1], primary[:1])
    monkeypatch.setattr(trace_module, "DIRECT_MAX", max(lv.internal.shape[0] for lv in one.levels
                                                        if lv.internal is not None))

    def no_iteration(*args: Any) -> None:
        raise AssertionError("iterated")

    monkeypatch.setattr(trace_module, "_iterate", no_iteration)
    got = per_sample(n, src, dst, tonnes, primary, source)
    assert got == pytest.approx(expected, abs=1e-15)


def test_a_sample_that_closes_a_loop_is_an_engine_error() -> None:
    """HK and SG pass 10 t to each other; in sample 1 neither gets anything from the mine (node 0)."""
    src, dst = [0, 1, 2], [1, 2, 1]
    tonnes = [[5.0, 10.0, 10.0], [0.0, 10.0, 10.0]]
    compile_batch(3, src, dst, tonnes[:1], [5.0, 0.0, 0.0])
    with pytest.raises(EngineError, match=r"closed loop in sample 1: nodes 1, 2"):
        compile_batch(3, src, dst, tonnes, [5.0, 0.0, 0.0])


def test_a_smaller_loop_left_by_zero_tonne_edges_is_found_as_compile_arrays_finds_it() -> None:
    """Edges 0→1, 1→0, 1→1 (self-loop), 2→1: nodes 0 and 1 are one loop of the structure.

    In sample 0 only 1→0 and 1→1 carry material and node 1 has no primary production, so
    node 1 takes all it gets (5 t) from itself: a closed loop of one node inside the
    structure's loop, which the whole loop (fed by node 0's 10 t) hides. Sample 1 feeds node
    1 from node 2 (4 t) and node 0 (3 t): no loop is closed.
    """
    src, dst = [0, 1, 1, 2], [1, 0, 1, 1]
    tonnes = [[0.0, 5.0, 5.0, 0.0], [3.0, 5.0, 5.0, 4.0]]
    primary = [10.0, 0.0, 7.0]
    with pytest.raises(EngineError, match=r"closed loop"):
        compile_arrays(3, src, dst, tonnes[0], primary)
    with pytest.raises(EngineError, match=r"closed loop in sample 0: nodes 1 "):
        compile_batch(3, src, dst, tonnes, primary)
    got = per_sample(3, src, dst, tonnes[1:], primary, [False, True, False])
    assert got[0] == pytest.approx(alone(3, src, dst, tonnes[1], primary, [False, True, False]), abs=1e-15)


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_a_samples_bits_do_not_depend_on_its_block(seed: int) -> None:
    """Random networks with loops: a block of k samples gives each sample the same bits as blocks of one.

    A sweep cuts its samples into chunks by worker count and size, so the promise "identical
    for any chunk size" (docs/uncertainty.md) needs each copy's loop solved alone.
    """
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(40):
        n, m, k = int(rng.integers(3, 30)), int(rng.integers(3, 90)), int(rng.integers(2, 8))
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        tonnes, primary = rng.uniform(0.1, 10, (k, m)), rng.uniform(0.1, 5, (k, n))
        source = rng.random(n) < 0.3
        try:
            block = per_sample(n, src, dst, tonnes, primary, source)
        except EngineError:
            continue
        ones = np.vstack([per_sample(n, src, dst, tonnes[i:i + 1], primary[i:i + 1], source) for i in range(k)])
        assert np.array_equal(block, ones)
        checked += compile_batch(n, src, dst, tonnes[:1], primary[:1]).n_loops > 0
    assert checked > 10  # most cases have loops: the comparison is not trivial


def test_bad_input() -> None:
    with pytest.raises(EngineError, match=r"want \(samples, edges\)"):
        compile_batch(4, SRC, DST, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(EngineError, match=r"edge #2 \(2 -> 0\) of sample 1 has tonnes -1.0"):
        compile_batch(4, SRC, DST, [[1.0] * 4, [1.0, 1.0, -1.0, 1.0]])
    with pytest.raises(EngineError, match=r"edge endpoints"):
        compile_batch(2, SRC, DST, [[1.0] * 4])
    with pytest.raises(EngineError, match=r"primary of shape \(3,\)"):
        compile_batch(4, SRC, DST, [[1.0] * 4], [1.0, 2.0, 3.0])
    with pytest.raises(EngineError, match=r"primary production nan"):
        compile_batch(4, SRC, DST, [[1.0] * 4], [1.0, np.nan, 0.0, 0.0])


def test_kernel_fails_only_the_sample_that_closes_a_loop() -> None:
    """The block does not solve; each sample is then solved alone, and sample 1 fails as per sample.

    Mines 0 (the source) and 3 sell to node 1, which passes 10 t to node 2 and back.
    Sample 0 (5 t from each mine): t2 = t1 and t1 = (5 + 10 t2)/20 → t1 = 0.5. Sample 1
    (nothing from the mines): nodes 1 and 2 close a loop. Sample 2 (5 t from mine 0,
    15 t from mine 3, nothing back from node 2): t1 = 5/20 = 0.25 = t2.
    """
    kernel: Any = SimpleNamespace(n_nodes=4, edge_src=np.array([0, 3, 1, 2]), edge_dst=np.array([1, 1, 2, 1]),
                                  source=np.array([True, False, False, False]))
    tonnes = np.array([[5.0, 5.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0], [5.0, 15.0, 10.0, 0.0]])
    primary = np.tile([5.0, 0.0, 0.0, 20.0], (3, 1))
    failed = np.zeros(3, dtype=bool)
    reasons = [""] * 3
    t = ExposureKernel.traced(kernel, tonnes, primary, failed, reasons)
    assert failed.tolist() == [False, True, False]
    assert reasons[1].startswith("EngineError: closed loop")
    assert t[0] == pytest.approx([1.0, 0.5, 0.5, 0.0], abs=1e-15)
    assert t[2] == pytest.approx([1.0, 0.25, 0.25, 0.0], abs=1e-15)
