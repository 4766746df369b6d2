"""The rebalance benchmark's cold-start study runs, and every HiGHS setting reaches the same optimum.

Timing is not asserted (speed lives in ``benchmarks/``); what ``docs/performance.md``
reads from the study besides times — iterations and the edge flows an optimum moves —
must come from optimal solves of the same shocks, whatever the setting.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_rebalance import COLD_SETTINGS, cold_study


def test_cold_study_settings_agree_on_the_optimum(capsys: pytest.CaptureFixture[str]) -> None:
    table = cold_study(300, "weighted")
    capsys.readouterr()
    assert list(table["setting"].unique()) == [label for label, *_ in COLD_SETTINGS]
    # the same shocks for every setting: shock k has one optimum
    for _, same in table.groupby("shock"):
        assert same["objective"].to_numpy() == pytest.approx(same["objective"].iloc[0], rel=1e-7)
        assert same["banned_edges_with_flow"].nunique() == 1
    assert (table["banned_edges_with_flow"] > 0).all()
    # every ban moves at least the banned flows (they drop to zero)
    assert (table["edges_moved"] >= table["banned_edges_with_flow"]).all()
    assert (table["iterations"] > 0).all()


def test_lift_one_ban_lifts_exactly_one_country_and_relaxes_the_lp() -> None:
    """The benchmark's *toggle* variant: one banned exporter's edges reopen, nothing else changes.

    With the other bans, the costs and the demands as they were, the lifted LP is a
    relaxation of the banned one (only upper bounds rise, the objective is the same), so its
    optimal value cannot be larger.
    """
    import numpy as np
    from bench_rebalance import lift_one_ban, prepare

    _nodes, _edges, model, shocks, *_ = prepare(600, 2, "weighted", 2)
    sup = model.edges["supplier_country"].to_numpy()
    s = shocks[0]
    lifted = lift_one_ban(np.random.default_rng(0), model, s)
    reopened = (s.blocked > 0) & (lifted.blocked == 0)
    assert reopened.any()
    assert len(np.unique(sup[reopened])) == 1
    country = sup[reopened][0]
    assert not (lifted.blocked[sup == country] > 0).any()
    unchanged = sup != country
    assert np.array_equal(lifted.blocked[unchanged], s.blocked[unchanged])
    assert np.array_equal(lifted.cost, s.cost)
    assert np.array_equal(lifted.demand, s.demand)
    model.solve(s, warm=False)
    banned = model._h.getInfo().objective_function_value  # the LP's own objective, tie-break included
    model.solve(lifted, warm=False)
    assert model._h.getInfo().objective_function_value <= banned + 1e-9 * abs(banned)


def test_next_year_is_the_grown_pattern_under_the_same_shock() -> None:
    """The benchmark's *next year*: the shock's bans and costs on a pattern grown by 2 %.

    As in every simulated year, demand is the pattern's inflow of each use node, so it
    grows with the pattern (D_u → 1.02·D_u) and a balanced pattern stays balanced; the
    capacities are never below the grown output. ``demand_only`` (the benchmark's next
    year before 26 November 2026) grows demand alone: D_u is then 2 % above the inflow.
    """
    import numpy as np
    from bench_rebalance import GROWTH, demand_only, grown_year, next_year, prepare

    nodes, edges, model, shocks, *_ = prepare(600, 2, "weighted", 2)
    s = shocks[0]
    nxt = next_year(s, grown_year(model, nodes, edges))
    assert np.array_equal(nxt.blocked, s.blocked)
    assert np.array_equal(nxt.cost, s.cost)
    assert nxt.baseline == pytest.approx(s.baseline * (1 + GROWTH), rel=1e-12)
    assert nxt.demand == pytest.approx(s.demand * (1 + GROWTH), rel=1e-12)
    idx = model.index
    inflow = np.bincount(idx.dst, weights=nxt.baseline, minlength=idx.n)[model.uses]
    assert nxt.demand == pytest.approx(inflow, rel=1e-12)
    assert (nxt.capacity >= s.capacity - 1e-9).all()
    harder = demand_only(s)
    assert np.array_equal(harder.baseline, s.baseline)
    assert harder.demand == pytest.approx(np.bincount(idx.dst, weights=s.baseline, minlength=idx.n)[model.uses]
                                          * (1 + GROWTH), rel=1e-12)
    # both are solvable re-routings of the same ban
    for inp in (nxt, harder):
        assert np.isfinite(model.solve(inp, warm=True).objectives["shortfall"])
