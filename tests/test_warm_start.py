"""Warm-started re-solves give the same optima as solves from scratch.

HiGHS has had warm-start bugs (ERGO-Code/HiGHS #3194, #3294): a re-solve after
changed bounds or costs returning a wrong "optimal" basis. The re-routing LP is
built once and re-solved warm for every year and variant, so here many random
variants are solved both ways and every lexicographic level's optimum compared
(relative tolerance 1e-7).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplychain.simulation.rebalance import QuotaRow, RebalanceModel, YearInputs


def random_network(rng: np.random.Generator, n_countries: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ore mines → separation plants (2 t ore per t oxide) → oxide trade → oxide and ore use."""
    nodes: list[dict[str, object]] = []
    edges: list[dict[str, object]] = []

    def node(nid: str, kind: str, c: str, k: str, cap: float = np.nan) -> None:
        nodes.append({"node": nid, "kind": kind, "country": c, "commodity": k, "capacity": cap})

    def edge(eid: str, s: str, b: str, sc: str, bc: str, k: str, t: float, kind: str) -> None:
        edges.append({"edge": eid, "supplier": s, "buyer": b, "supplier_country": sc, "buyer_country": bc,
                      "commodity": k, "stage": k, "tonnes": t, "kind": kind})

    countries = [f"K{i:02d}" for i in range(n_countries)]
    oxide_out: dict[str, float] = {}
    for c in countries:
        node(f"{c}:ore", "market", c, "ore")
        node(f"{c}:oxide", "market", c, "oxide")
        node(f"{c}:oxide:use", "use", c, "oxide")
        ore = float(rng.integers(0, 3)) * float(rng.uniform(50, 200))
        if ore > 0:
            node(f"mine_{c}", "facility", c, "ore", ore * rng.uniform(1.0, 1.5))
            edge(f"s_{c}", f"mine_{c}", f"{c}:ore", c, c, "ore", ore, "supply")
            ox = ore / 2
            node(f"sep_{c}", "facility", c, "oxide", ox * rng.uniform(1.0, 1.6))
            edge(f"in_{c}", f"{c}:ore", f"sep_{c}", c, c, "ore", ore, "input")
            edge(f"o_{c}", f"sep_{c}", f"{c}:oxide", c, c, "oxide", ox, "supply")
            oxide_out[c] = ox
    inflow = {c: oxide_out.get(c, 0.0) for c in countries}
    for s in sorted(oxide_out):
        left = oxide_out[s]
        for b in rng.choice(countries, size=3, replace=False):
            if b == s:
                continue
            t = round(left * rng.uniform(0.1, 0.4), 3)
            left -= t
            inflow[s] -= t
            inflow[b] += t
            edge(f"t_{s}_{b}", f"{s}:oxide", f"{b}:oxide", s, str(b), "oxide", t, "trade")
    for c in countries:
        if inflow[c] > 0:
            edge(f"u_{c}", f"{c}:oxide", f"{c}:oxide:use", c, c, "oxide", inflow[c], "use")
    return pd.DataFrame(nodes), pd.DataFrame(edges)


def random_variant(rng: np.random.Generator, m: RebalanceModel, base: YearInputs) -> YearInputs:
    trade = np.flatnonzero(((m.edges["kind"] == "trade") & (m.edges["origin"] == "observed")).to_numpy())
    blocked = np.zeros(len(m.edges))
    hit = rng.choice(trade, size=max(1, len(trade) // 3), replace=False)
    blocked[hit] = rng.choice([0.25, 0.5, 1.0], size=len(hit))
    cost = np.where(rng.random(len(m.edges)) < 0.2, rng.uniform(0, 1000, len(m.edges)), 0.0)
    cap = base.capacity * rng.uniform(0.7, 1.3, len(base.capacity))
    demand = base.demand * rng.uniform(0.9, 1.2, len(base.demand))
    quotas: tuple[QuotaRow, ...] = ()
    if rng.random() < 0.5:
        q = rng.choice(trade, size=3, replace=False)
        quotas = (QuotaRow("q", q.astype(np.intp), np.ones(3), float(rng.uniform(0, 50))),)
    return replace(base, blocked=blocked, cost=cost, capacity=np.maximum(cap, base.capacity * 0.5),
                   demand=demand, quotas=quotas)


@pytest.mark.parametrize("objective", ["lexicographic", "weighted"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_warm_and_cold_optima_agree(seed: int, objective: Any) -> None:
    rng = np.random.default_rng(seed)
    nodes, edges = random_network(rng)
    warm_model = RebalanceModel(nodes, edges, objective=objective)
    cold_model = RebalanceModel(nodes, edges, objective=objective)
    base = warm_model.year_inputs(nodes, edges)
    first = warm_model.solve(base)  # no basis yet: a cold start
    assert not first.warm
    warm_used = 0
    for _ in range(20):
        inp = random_variant(rng, warm_model, base)
        w = warm_model.solve(inp, warm=True)
        c = cold_model.solve(inp, warm=False)
        warm_used += w.warm
        assert not c.warm
        assert set(w.objectives) == set(c.objectives)
        # the optimum of every level (weighted: of the single objective) is the same
        levels = ["weighted"] if objective == "weighted" else list(c.objectives)
        for level in levels:
            assert w.objectives[level] == pytest.approx(c.objectives[level], rel=1e-7, abs=1e-9), level
    assert warm_used == 20


def test_cold_solve_is_repeatable_and_warm_needs_fewer_iterations() -> None:
    # the weighted objective keeps the same costs between solves, so the last basis stays
    # dual feasible and a small change is repaired in a few dual simplex iterations
    rng = np.random.default_rng(7)
    nodes, edges = random_network(rng, n_countries=30)
    m = RebalanceModel(nodes, edges, objective="weighted")
    base = m.year_inputs(nodes, edges)
    m.solve(base)
    v = random_variant(rng, m, base)
    cold = m.solve(v, warm=False)
    again = m.solve(v, warm=False)
    assert again.objectives == pytest.approx(cold.objectives, rel=1e-9)
    # a small change re-solved from the last basis: same optimum, no more simplex work than from scratch
    v2 = replace(v, demand=v.demand * 1.01)
    warm = m.solve(v2, warm=True)
    cold2 = m.solve(v2, warm=False)
    assert warm.objectives["weighted"] == pytest.approx(cold2.objectives["weighted"], rel=1e-7)
    assert warm.iterations < cold2.iterations



def test_lexicographic_solve_starts_from_the_weighted_optimum() -> None:
    # A lexicographic solve first solves the weighted objective from the last weighted
    # optimum (its costs never change, so that basis stays dual feasible), then solves
    # each level from there (docs/rebalance.md, "Weighted start"). Re-solving the same
    # inputs warm, the start is already optimal (no iteration) and the levels repeat the
    # first solve's path from the same vertex: the same optimum in fewer iterations.
    rng = np.random.default_rng(11)
    nodes, edges = random_network(rng, n_countries=30)
    m = RebalanceModel(nodes, edges)
    base = m.year_inputs(nodes, edges)
    v = random_variant(rng, m, base)
    first = m.solve(v, warm=False)
    assert first.iterations > 0
    assert set(m.basis()) == {"start"}
    again = m.solve(v, warm=True)
    assert again.warm
    assert again.iterations < first.iterations
    assert again.objectives == pytest.approx(first.objectives, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(again.tonnes, first.tonnes, rtol=1e-7, atol=1e-9)
    # the weighted start alone: a re-solve from its stored optimum takes no iteration
    w = RebalanceModel(nodes, edges, objective="weighted")
    w.solve(v, warm=False)
    assert set(w.basis()) == {"weighted"}
    assert w.solve(v, warm=True).iterations == 0
    # the stored basis is a starting point independent of what was solved in between
    bases = m.basis()
    m.solve(random_variant(rng, m, base), warm=True)
    restarted = m.solve(v, start=bases)
    assert restarted.iterations < first.iterations  # the start is free again
    assert restarted.objectives == pytest.approx(first.objectives, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(restarted.tonnes, first.tonnes, rtol=1e-7, atol=1e-9)


def test_optimal_face_keeps_a_level_exactly_and_leaves_its_ties_free() -> None:
    # keep_optimal_face fixes what complementary slackness fixes, nothing more. Two columns
    # x1, x2 in [0, 1] with x1 + x2 = 1 (row r):
    #
    # (a) level min x1 with x2 <= 0.5: optimum x1 = 0.5 (x2 at its upper bound 0.5). Duals:
    #     y_r = 1 (x1 basic: d1 = 1 - y_r = 0), d2 = 0 - y_r = -1 != 0, so x2 is fixed at 0.5.
    #     A next level max x1 would reach x1 = 1 (x2 = 0, level 1 worse by 0.5) without the
    #     face; with it x1 stays 0.5, the level-1 optimum exactly.
    # (b) level min x1 + x2 (every feasible point optimal): y_r = 1, d1 = d2 = 0, nothing is
    #     fixed, so a next level min x1 - x2 is free to pick x1 = 0, x2 = 1 (objective -1).
    import highspy

    from supplychain.simulation.highs import keep_optimal_face, quiet_highs

    def lp(x2_upper: float) -> Any:
        h = quiet_highs()
        h.passModel(_two_column_lp(x2_upper))
        return h

    h = lp(0.5)
    h.changeColsCost(2, np.array([0, 1], dtype=np.int32), np.array([1.0, 0.0]))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().objective_function_value == pytest.approx(0.5)
    keep_optimal_face(h)
    h.changeColsCost(2, np.array([0, 1], dtype=np.int32), np.array([-1.0, 0.0]))
    h.run()
    assert list(h.getSolution().col_value) == pytest.approx([0.5, 0.5])

    h = lp(1.0)
    h.changeColsCost(2, np.array([0, 1], dtype=np.int32), np.array([1.0, 1.0]))
    h.run()
    keep_optimal_face(h)
    h.changeColsCost(2, np.array([0, 1], dtype=np.int32), np.array([1.0, -1.0]))
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(-1.0)
    assert list(h.getSolution().col_value) == pytest.approx([0.0, 1.0])


def _two_column_lp(x2_upper: float) -> Any:
    """``x1 + x2 = 1``, ``0 <= x1 <= 1``, ``0 <= x2 <= x2_upper``, zero costs."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2, 1
    lp.col_cost_ = np.zeros(2)
    lp.col_lower_ = np.zeros(2)
    lp.col_upper_ = np.array([1.0, x2_upper])
    lp.row_lower_ = np.ones(1)
    lp.row_upper_ = np.ones(1)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array([0, 1, 2], dtype=np.int32)
    lp.a_matrix_.index_ = np.array([0, 0], dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(2)
    return lp


def test_highs_cost_perturbation_is_off_only_where_the_tie_break_perturbs() -> None:
    from supplychain.simulation.highs import PERTURB
    from supplychain.simulation.levels import perturbation

    assert [perturbation(level, {}) for level in ("weighted", "start", "deviation")] == [0.0, 0.0, 0.0]
    assert [perturbation(level, {}) for level in ("shortfall", "stock", "cost")] == [1.0, 1.0, 1.0]
    assert perturbation("deviation", {PERTURB: 0.5}) == 0.5  # an explicit option wins


# ------------------------------------------------ block-diagonal decomposition
def _tagged(nodes: pd.DataFrame, edges: pd.DataFrame, tag: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same network for commodities ``ore<tag>``/``oxide<tag>``: an independent chain."""

    def ren(s: pd.Series) -> pd.Series:
        return (s.str.replace("ore", f"ore{tag}").str.replace("oxide", f"oxide{tag}")
                .str.replace("mine_", f"mine{tag}_").str.replace("sep_", f"sep{tag}_"))

    nodes = nodes.assign(node=ren(nodes["node"]), commodity=nodes["commodity"] + tag)
    edges = edges.assign(supplier=ren(edges["supplier"]), buyer=ren(edges["buyer"]), edge=tag + "." + edges["edge"],
                         commodity=edges["commodity"] + tag, stage=edges["commodity"] + tag)
    return nodes, edges


@pytest.mark.parametrize("objective", ["lexicographic", "weighted"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_block_solve_matches_the_monolithic_optimum(seed: int, objective: Any) -> None:
    from supplychain.simulation.blocks import BlockRebalance

    rng = np.random.default_rng(seed)
    parts = [_tagged(*random_network(rng), t) for t in ("a", "b", "c")]
    nodes = pd.concat([p[0] for p in parts], ignore_index=True)
    edges = pd.concat([p[1] for p in parts], ignore_index=True)
    mono = RebalanceModel(nodes, edges, objective=objective)
    blocks = BlockRebalance(RebalanceModel(nodes, edges, objective=objective), min_cols=1)
    # three chains, and within each chain countries without trade are components of their own
    assert blocks.n_components >= 3
    assert len(blocks.blocks) == blocks.n_components
    base = mono.year_inputs(nodes, edges)
    fell_back = 0
    for i in range(12):
        inp = random_variant(rng, mono, base)
        m = mono.solve(inp)
        b = blocks.solve(inp, warm=i % 4 != 0)
        fell_back += bool(inp.quotas) and blocks._links_blocks(inp)
        assert set(b.objectives) == set(m.objectives)
        for level in m.objectives:
            # the cost level's optimal face is fixed exactly (no slack the monolithic model could
            # spend in one chain and the blocks per chain), so every level agrees to round-off
            rel = 1e-7
            assert b.objectives[level] == pytest.approx(m.objectives[level], rel=rel, abs=1e-9), level
        # the stitched point is feasible for the whole model: same shortfall, flows within their caps
        assert b.shortfall.sum() == pytest.approx(m.shortfall.sum(), rel=1e-7, abs=1e-6)
        cap = np.where(inp.blocked > 0, (1 - inp.blocked) * inp.baseline, np.inf)
        assert np.all(b.tonnes <= cap + 1e-6)
    # random quotas cover trade edges of all three chains: those variants are solved monolithically
    assert fell_back >= 1


def test_a_level_is_settled_only_by_non_negative_costs_at_value_zero() -> None:
    # Every LP column is >= 0, so costs c >= 0 give a level optimum >= 0, attained where c.x = 0.
    from supplychain.simulation.levels import settled

    x = np.array([0.0, 2.0, 3.0])
    assert settled(np.array([1.0, 0.0, 0.0]), x)  # the only costed column is at 0
    assert not settled(np.array([1.0, 1e-3, 0.0]), x)  # value 2e-3 > 0: solve it
    assert not settled(np.array([0.0, -1.0, 0.0]), np.zeros(3))  # a negative cost could go below 0


def _small_highs() -> Any:
    """A 3-row, 5-column LP in a fresh ``Highs`` (coefficients 1; bounds and costs 0)."""
    import highspy

    from supplychain.simulation.highs import INF, quiet_highs

    h = quiet_highs()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 5, 3
    lp.col_cost_ = np.zeros(5)
    lp.col_lower_ = np.zeros(5)
    lp.col_upper_ = np.full(5, INF)
    lp.row_lower_ = np.zeros(3)
    lp.row_upper_ = np.full(3, INF)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(6, dtype=np.int32)
    lp.a_matrix_.index_ = np.array([0, 1, 2, 0, 1], dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(5)
    h.passModel(lp)
    return h


_values = st.lists(st.sampled_from([0.0, 1.0, 2.5, 7.0]), min_size=5, max_size=5)
_widths = st.lists(st.sampled_from([0.0, 1.0, np.inf]), min_size=5, max_size=5)  # inf: the initial upper bounds
_ops = st.tuples(st.sampled_from(["cols", "rows", "costs", "some cols", "some rows", "one row", "add row"]),
                 _values, _widths)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ops, min_size=1, max_size=12))
def test_sent_highs_holds_what_highs_holds(ops: list[tuple[str, list[float], list[float]]]) -> None:
    # SentHighs sends only the entries that differ from its record of the model; whatever the mix of
    # whole-vector sets and direct change* calls (optimal face, kept levels, quota rows), HiGHS' LP
    # must equal the LP obtained by applying every call in full (the reference arrays below).
    from supplychain.simulation.highs import INF, SentHighs

    h = SentHighs(_small_highs())
    col_lo, col_hi, cost = np.zeros(5), np.full(5, INF), np.zeros(5)
    row_lo, row_hi = np.zeros(3), np.full(3, INF)
    for op, a, b in ops:
        lo, up = np.array(a), np.array(a) + np.array(b)  # lo <= up
        nr = len(row_lo)
        if op == "cols":
            h.set_col_bounds(lo, up)
            col_lo, col_hi = lo, up
        elif op == "rows":
            h.set_row_bounds(lo[:3], up[:3])  # the base rows only, as the models do
            row_lo[:3], row_hi[:3] = lo[:3], up[:3]
        elif op == "costs":
            h.set_costs(lo)
            cost = lo
        elif op == "some cols":
            idx = np.array([1, 3], dtype=np.int32)
            h.changeColsBounds(2, idx, lo[idx], up[idx])
            col_lo, col_hi = col_lo.copy(), col_hi.copy()
            col_lo[idx], col_hi[idx] = lo[idx], up[idx]
            h.changeColsCost(2, idx, up[idx])
            cost = cost.copy()
            cost[idx] = up[idx]
        elif op == "some rows":
            idx = np.array([0, nr - 1], dtype=np.int32)
            h.changeRowsBounds(2, idx, lo[:2], up[:2])
            row_lo[idx], row_hi[idx] = lo[:2], up[:2]
        elif op == "one row":
            h.changeRowBounds(nr - 1, float(lo[0]), float(up[0]))
            row_lo[nr - 1], row_hi[nr - 1] = lo[0], up[0]
        else:
            h.addRow(float(lo[0]), float(up[0]), 2, np.array([0, 4], dtype=np.int32), np.ones(2))
            row_lo, row_hi = np.append(row_lo, lo[0]), np.append(row_hi, up[0])
        lp = h.getLp()
        np.testing.assert_array_equal(np.array(lp.col_lower_), col_lo)
        np.testing.assert_array_equal(np.array(lp.col_upper_), col_hi)
        np.testing.assert_array_equal(np.array(lp.col_cost_), cost)
        np.testing.assert_array_equal(np.array(lp.row_lower_), row_lo)
        np.testing.assert_array_equal(np.array(lp.row_upper_), row_hi)


def test_sent_highs_sends_only_what_changed() -> None:
    from supplychain.simulation.highs import SentHighs

    calls: list[tuple[str, list[int]]] = []

    class Spy:
        def __init__(self, h: Any) -> None:
            self.h = h

        def __getattr__(self, name: str) -> Any:
            fn = getattr(self.h, name)
            if not name.startswith("change"):
                return fn

            def spy(n: int, idx: Any, *rest: Any) -> Any:
                calls.append((name, [int(i) for i in idx]))
                return fn(n, idx, *rest)

            return spy

    h = SentHighs(Spy(_small_highs()))
    lo, hi = np.zeros(5), np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    h.set_col_bounds(lo, hi)
    assert calls == [("changeColsBounds", [0, 1, 2, 3, 4])]  # every upper bound was +inf
    calls.clear()
    h.set_col_bounds(lo, hi)
    h.set_costs(np.zeros(5))
    h.set_row_bounds(np.zeros(3), np.full(3, np.inf))
    assert calls == []  # nothing changed: nothing sent
    hi2 = hi.copy()
    hi2[3] = 9.0
    h.set_col_bounds(lo, hi2)
    assert calls == [("changeColsBounds", [3])]


@pytest.mark.parametrize("objective", ["lexicographic", "weighted"])
def test_a_solve_from_scratch_at_the_baseline_makes_no_iteration(objective: Any) -> None:
    # Unfolded LP (fold=False), baseline_basis: every facility's activity a_v is basic in one of its output
    # yield rows, every other row's slack basic, f_lo at its upper bound f0 (negative cost), every other
    # column at 0. Derivation for the unshocked year: the basic a_v take their baseline output / yield, and
    # since each plant of random_network turns 2 t of ore into 1 t of oxide in the baseline, its input row
    # holds too; market balances are in0 - out0 + G >= 0 and demands are met by f0: primal feasible.
    # Activities cost nothing, so every row dual is 0 and each column's reduced cost is its own cost, of the
    # sign its bound wants: dual feasible. So the start is optimal and HiGHS makes no iteration, for the
    # model and for the blocks. From HiGHS' slack basis (cold_start="slack") it makes 14, one per facility.
    # Folded LP (the default): every facility of random_network has one edge per yield row, so HiGHS has no
    # yield rows and no activity to make basic; its segments below the baseline (negative cost) sit at
    # their upper bound, the breakpoint a_v = baseline, and the slack basis is that same optimal start:
    # 0 iterations from either start.
    from supplychain.simulation.blocks import BlockRebalance

    nodes, edges = random_network(np.random.default_rng(3))
    for fold, slack_its in ((False, 14), (True, 0)):
        m = RebalanceModel(nodes, edges, reroute=False, objective=objective, fold=fold)
        assert m._fold.n_folded == (14 if fold else 0)
        base = m.year_inputs(nodes, edges)
        for solver in (m, BlockRebalance(m)):
            sol = solver.solve(base, warm=False)
            assert sol.iterations == 0
            assert sol.objectives["shortfall"] == 0.0
            np.testing.assert_allclose(sol.tonnes[: len(base.baseline)], base.baseline, rtol=0, atol=1e-9)
        slack = RebalanceModel(nodes, edges, reroute=False, objective=objective, cold_start="slack", fold=fold)
        for solver in (slack, BlockRebalance(slack)):
            sol = solver.solve(base, warm=False)
            assert sol.iterations == slack_its
            np.testing.assert_allclose(sol.tonnes[: len(base.baseline)], base.baseline, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="cold_start"):
        RebalanceModel(nodes, edges, cold_start="crash")  # type: ignore[arg-type]


def test_a_stored_basis_starts_a_later_solve_after_a_quota_row_was_added() -> None:
    """``solve(start=basis)`` starts from that basis, also after the model gained a quota row.

    Variant A (no quota) is solved from scratch and its optimal basis kept; variant B adds the
    model's quota row; A solved again from its kept basis: that basis, with the new row (free
    when no quota is in force) basic, is optimal at once — no simplex iteration, the same
    optimum. HiGHS refuses a basis of the wrong size, so without ``with_rows`` this solve
    would start from scratch (as many iterations as A's first solve).
    """
    rng = np.random.default_rng(11)
    nodes, edges = random_network(rng, n_countries=20)
    m = RebalanceModel(nodes, edges, objective="weighted")
    base = m.year_inputs(nodes, edges)
    a = replace(random_variant(rng, m, base), quotas=())
    trade = np.flatnonzero((m.edges["kind"] == "trade").to_numpy())[:3].astype(np.intp)
    b = replace(random_variant(rng, m, base), quotas=(QuotaRow("q", trade, np.ones(3), 10.0),))
    first = m.solve(a, warm=False)
    assert first.iterations > 0
    kept = m.basis()
    rows = m._h.getNumRow()
    m.solve(b)
    assert m._h.getNumRow() == rows + 1
    again = m.solve(a, start=kept)
    assert again.iterations == 0
    assert again.objectives["weighted"] == pytest.approx(first.objectives["weighted"], rel=1e-9)

