"""The folded LP (``supplychain.simulation.fold``) has the optima of the LP as formulated.

A hand-worked fold of one separation plant (segments, slopes, bounds, unfolding), the
cases that must not be folded, and a property test: on random networks and random
years that ban, cost, cap and commit the facilities' own edges, with breakpoints that
no longer coincide, the folded and unfolded models reach the same optimum at every
level, and the folded model's flows are feasible in the unfolded LP.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from supplychain.errors import EngineError, SolverError
from supplychain.simulation.fold import Fold
from supplychain.simulation.rebalance import QuotaRow, RebalanceModel, RebalanceSolution, YearInputs
from tests.test_warm_start import random_network, random_variant

INF = np.inf


def plant_matrix() -> sp.csc_matrix:
    """One separation plant: 2 t ore in, 1 t NdPr oxide (reference) and 0.1 t Dy oxide out per unit.

    Columns: f_lo of edges e0 (ore in), e1 (NdPr out), e2 (Dy out) = 0, 1, 2; f_hi = 3, 4, 5;
    activity a = 6; a shortfall column 7. Rows 0-2: the yield rows f_e - y_e a = 0 (y = 2, 1, 0.1);
    rows 3-5: the ore, NdPr and Dy market balances (-f_e0, +f_e1, +f_e2), row 5 also holding column 7.
    """
    rows = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 5]
    cols = [0, 3, 6, 1, 4, 6, 2, 5, 6, 0, 3, 1, 4, 2, 5, 7]
    vals = [1, 1, -2, 1, 1, -1, 1, 1, -0.1, -1, -1, 1, 1, 1, 1, 1]
    return sp.csc_matrix((np.array(vals, dtype=float), (rows, cols)), shape=(6, 8))


def plant(enabled: bool = True) -> Fold:
    """:func:`plant_matrix` folded."""
    return Fold.of(plant_matrix(), 3, np.array([6], dtype=np.intp), (0, 3), enabled=enabled)


def test_a_plant_folds_into_segments_worked_by_hand() -> None:
    fold = plant()
    # 1 facility, 3 edges: its 7 columns and 3 yield rows become 4 segment columns; column 7 and rows 3-5 stay
    assert fold.n_folded == 1
    assert fold.kept_cols.tolist() == [7]
    assert fold.kept_rows.tolist() == [3, 4, 5]
    assert fold.seg_ptr.tolist() == [1, 5]
    # each segment carries y_e times the edge's other coefficients: ore -2, NdPr +1, Dy +0.1
    dense = fold.matrix.toarray()
    np.testing.assert_allclose(dense[:, 0], [0, 0, 1])
    for j in range(1, 5):
        np.testing.assert_allclose(dense[:, j], [-2, 1, 0.1])

    # A year with half the NdPr edge banned: f_lo upper bounds (ore 200, NdPr 50, Dy 10), f_hi upper bounds
    # (ore inf, NdPr 0, Dy inf), capacity 150. Breakpoints u_lo / y: ore 100, NdPr 50, Dy 100; the
    # activity's cap is min(150, inf, (50 + 0) / 1, inf) = 50, so sorted and clipped the boundaries are
    # 0 | 50 50 50 | 50: one segment of 50, three of length 0.
    col_lo = np.zeros(8)
    col_hi = np.array([200, 50, 10, INF, 0, INF, 150, INF], dtype=float)
    geo = fold.geometry(col_lo, col_hi)
    assert geo.amax.tolist() == [50.0]
    np.testing.assert_allclose(geo.length, [50, 0, 0, 0])
    lo, hi = fold.bounds(col_lo, col_hi, geo)
    np.testing.assert_allclose(lo, [0, 0, 0, 0, 0])
    np.testing.assert_allclose(hi, [INF, 50, 0, 0, 0])
    # Deviation costs -w below the breakpoint, +w above, w = 1, 2, 3 (ore, NdPr, Dy). Slopes: below every
    # breakpoint 2(-1) + 1(-2) + 0.1(-3) = -4.3; above NdPr's -4.3 + 1(2 + 2) = -0.3; above ore's too
    # -0.3 + 2(1 + 1) = 3.7; above all three 3.7 + 0.1(3 + 3) = 4.3 (non-decreasing: convex).
    cost = np.array([-1, -2, -3, 1, 2, 3, 0, 5], dtype=float)
    np.testing.assert_allclose(fold.costs(cost, geo), [5, -4.3, -0.3, 3.7, 4.3])
    # unfolding a = 50: ore 100 t, NdPr 50 t, Dy 5 t, all below their breakpoints (f_lo)
    full = fold.unfold(np.array([7.0, 50, 0, 0, 0]), geo, 8)
    np.testing.assert_allclose(full, [100, 50, 5, 0, 0, 0, 50, 7])

    # Without the ban (NdPr f_lo ≤ 100, f_hi unbounded): breakpoints 100, 100, 100, cap 150 → segments of
    # 100, 0, 0, 50. An offtake of 12 t Dy (f_lo ≥ 10, f_hi ≥ 2) needs a ≥ 12 / 0.1 = 120, filled in
    # order: 100 on the first segment, 20 on the last.
    col_hi = np.array([200, 100, 10, INF, INF, INF, 150, INF], dtype=float)
    col_lo = np.array([0, 0, 10, 0, 0, 2, 0, 0], dtype=float)
    geo = fold.geometry(col_lo, col_hi)
    np.testing.assert_allclose(geo.length, [100, 0, 0, 50])
    lo, hi = fold.bounds(col_lo, col_hi, geo)
    np.testing.assert_allclose(lo, [0, 100, 0, 0, 20])
    # at a = 130 the Dy flow is 13 t: 10 up to its baseline, 3 above
    full = fold.unfold(np.array([0.0, 100, 0, 0, 30]), geo, 8)
    np.testing.assert_allclose(full[[2, 5, 6]], [10, 3, 130])
    # an offtake beyond the capacity (16 t Dy needs a = 160 > 150): inconsistent bounds, HiGHS says infeasible
    col_lo[5] = 6.0
    geo = fold.geometry(col_lo, col_hi)
    lo, hi = fold.bounds(col_lo, col_hi, geo)
    assert lo[1] == 160.0
    assert hi[1] == 150.0

    # a quota on the NdPr edge (both its flow columns weighed 1) weighs every segment y = 1; on Dy 0.1
    assert fold.coefficients({1: 1.0, 4: 1.0}) == {1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0}
    assert fold.coefficients({2: 1.0, 5: 1.0, 7: 2.0}) == pytest.approx({0: 2.0, 1: 0.1, 2: 0.1, 3: 0.1, 4: 0.1})
    with pytest.raises(EngineError, match="weighs an edge's two flow columns differently"):
        fold.coefficients({1: 1.0, 4: 2.0})
    # costs that fall above the baseline would not be convex in the activity: refused, not folded wrongly
    with pytest.raises(EngineError, match="not exact"):
        fold.costs(np.array([1, 0, 0, -1, 0, 0, 0, 0], dtype=float), geo)


def test_facilities_that_do_not_qualify_are_left_unfolded() -> None:
    # the plant with a second NdPr edge (edge 3: columns 3 and 7; activity 8) in its NdPr yield row:
    # that row holds two edges, so the plant keeps its rows and columns
    rows = [0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2]
    cols = [0, 4, 8, 1, 5, 3, 7, 8, 2, 6, 8]
    vals = [1, 1, -2, 1, 1, 1, 1, -1, 1, 1, -0.1]
    a = sp.csc_matrix((np.array(vals, dtype=float), (rows, cols)), shape=(3, 9))
    fold = Fold.of(a, 4, np.array([8], dtype=np.intp), (0, 3))
    assert fold.n_folded == 0
    assert fold.kept_cols.tolist() == list(range(9))
    # a facility → facility edge (edge 0 in the output row of activity 4 and the input row of activity 5)
    rows = [0, 0, 0, 1, 1, 1]
    cols = [0, 2, 4, 0, 2, 5]
    vals = [1, 1, -1, 1, 1, -1]
    a = sp.csc_matrix((np.array(vals, dtype=float), (rows, cols)), shape=(2, 6))
    assert Fold.of(a, 2, np.array([4, 5], dtype=np.intp), (0, 2)).n_folded == 0
    # fold=False folds nothing: HiGHS gets the matrix as it is
    off = plant(enabled=False)
    assert off.n_folded == 0
    assert (off.matrix != plant_matrix()).nnz == 0


def _shake_facility_edges(rng: np.random.Generator, m: RebalanceModel, inp: YearInputs) -> YearInputs:
    """Ban, cost, re-baseline and commit the facilities' own edges (the folded ones)."""
    kind = m.edges["kind"].to_numpy()
    own = np.flatnonzero(np.isin(kind, ["supply", "input"]))
    blocked = inp.blocked.copy()
    hit = rng.choice(own, size=max(1, len(own) // 4), replace=False)
    blocked[hit] = rng.choice([0.2, 0.5, 1.0], size=len(hit))
    # a later year's baseline: a plant's input and output no longer match its yields, so its
    # edges' breakpoints differ
    baseline = inp.baseline.copy()
    baseline[own] *= rng.uniform(0.7, 1.3, len(own))
    lower = inp.lower.copy()
    pick = rng.choice(own, size=2, replace=False)
    lower[pick] = baseline[pick] * rng.uniform(0.0, 0.6, 2)
    cost = inp.cost.copy()
    cost[own] += np.where(rng.random(len(own)) < 0.3, rng.uniform(0, 500, len(own)), 0.0)
    quotas = inp.quotas
    if rng.random() < 0.5:
        q = rng.choice(own, size=3, replace=False)
        quotas = (*quotas, QuotaRow("own", q.astype(np.intp), np.ones(3), float(rng.uniform(50, 300))))
    return replace(inp, blocked=blocked, baseline=baseline, lower=lower, cost=cost, quotas=quotas)


def _full_columns(m: RebalanceModel, inp: YearInputs, sol: RebalanceSolution) -> np.ndarray:
    """The model's column vector of a solution (flows split at their f_lo upper bound)."""
    c, ne = m._cols, len(m.edges)
    _, col_hi = m._col_bounds(inp)
    x = np.zeros(c.n)
    x[:ne] = np.minimum(sol.tonnes, col_hi[:ne])
    x[ne : 2 * ne] = sol.tonnes - x[:ne]
    x[c.act : c.short] = sol.activity
    x[c.short : c.gap] = sol.shortfall
    x[c.gap : c.draw] = sol.unrecorded
    x[c.draw : c.uns] = sol.stock_draw
    x[c.uns :] = sol.unsold
    return x


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), objective=st.sampled_from(["lexicographic", "weighted"]))
def test_folded_and_unfolded_models_reach_the_same_optimum(seed: int, objective: Any) -> None:
    rng = np.random.default_rng(seed)
    nodes, edges = random_network(rng)
    folded = RebalanceModel(nodes, edges, objective=objective)
    plain = RebalanceModel(nodes, edges, objective=objective, fold=False)
    assert folded._fold.n_folded > 0
    assert plain._fold.n_folded == 0
    # every plant's yield rows are gone from HiGHS' LP, and two flow columns per folded edge
    assert folded._h.getNumRow() < plain._h.getNumRow()
    base = folded.year_inputs(nodes, edges)
    for _ in range(4):
        inp = _shake_facility_edges(rng, folded, random_variant(rng, folded, base))
        try:
            want = plain.solve(inp)
        except SolverError:  # a commitment the network cannot carry: the folded LP must say so too
            with pytest.raises(SolverError, match="infeasible"):
                folded.solve(inp)
            continue
        got = folded.solve(inp)
        assert set(got.objectives) == set(want.objectives)
        for level, v in want.objectives.items():
            assert got.objectives[level] == pytest.approx(v, rel=1e-7, abs=1e-9), level
        # the folded model's flows satisfy every row and bound of the unfolded LP
        x = _full_columns(plain, inp, got)
        col_lo, col_hi = plain._col_bounds(inp)
        assert np.all(x >= col_lo - 1e-7)
        assert np.all(x <= col_hi + 1e-7)
        row_lo, row_hi = plain._row_bounds(inp)
        ax = plain._matrix @ x
        scale = 1e-7 * np.maximum(1.0, np.abs(ax))
        assert np.all(ax >= row_lo - scale)
        assert np.all(ax <= row_hi + scale)
        for q in inp.quotas:
            e = q.edges[q.edges >= 0]
            assert float(np.sum(q.weights[q.edges >= 0] * got.tonnes[e])) <= q.cap + 1e-6


def test_an_offtake_beyond_a_folded_plant_capacity_is_reported_infeasible() -> None:
    # random_network's plants are folded; committing one plant's output edge to 20x its baseline (its
    # capacity is at most 1.6x) cannot be met by the plant (f_e = a_v <= K_v), so the LP is infeasible,
    # named as such, never a silent zero
    rng = np.random.default_rng(5)
    nodes, edges = random_network(rng)
    m = RebalanceModel(nodes, edges)
    base = m.year_inputs(nodes, edges)
    out = int(np.flatnonzero((m.edges["kind"] == "supply").to_numpy() & (base.baseline > 0))[0])
    lower = base.lower.copy()
    lower[out] = 20 * base.baseline[out]
    with pytest.raises(SolverError, match=r"infeasible at level 'shortfall'.*capacity of"):
        m.solve(replace(base, lower=lower))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from([0.0, 1.0, 2.5, 7.0])), max_size=40))
def test_breakpoints_are_sorted_within_each_facility_as_lexsort_does(slots: list[tuple[int, float]]) -> None:
    # _sorted_within sorts only the facilities whose breakpoints descend somewhere; the order must be
    # numpy's stable lexsort by (facility, breakpoint) whatever the input
    from supplychain.simulation.fold import _sorted_within

    slots = sorted(slots, key=lambda s: s[0])  # slots come grouped by facility
    group = np.array([s[0] for s in slots], dtype=np.intp)
    key = np.array([s[1] for s in slots], dtype=float)
    np.testing.assert_array_equal(_sorted_within(key, group), np.lexsort((key, group)))
