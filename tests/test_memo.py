"""Results kept for their inputs (``supplychain.memo``) give what a fresh computation gives.

A sweep computes the same structures sample after sample; the kept results must be the
function's own, keyed on every input, and never changed by a caller.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from supplychain.graph import pattern
from supplychain.graph.build import base_tables, base_year, build_tables
from supplychain.io.load import load
from supplychain.memo import Memo
from supplychain.metrics import trade
from tests.conftest import REPO
from tests.test_pattern import world

allocate = importlib.import_module("supplychain.graph.allocate")  # the package exports a function of that name


def test_memo_keeps_the_last_keys_and_drops_the_least_recently_used() -> None:
    calls: list[int] = []

    def f(x: int) -> int:
        calls.append(x)
        return 10 * x

    memo = Memo[int](2)
    assert [memo.get(x, lambda x=x: f(x)) for x in (1, 2, 1, 3, 2, 1)] == [10, 20, 10, 30, 20, 10]
    # 1 and 2 kept; 1 read again (most recent), 3 drops 2; 2 drops 1; 1 is computed again
    assert calls == [1, 2, 3, 2, 1]
    assert len(memo) == 2
    memo.clear()
    assert len(memo) == 0


def test_ras_gives_the_balance_again_as_a_fresh_copy() -> None:
    # The docstring's example: scaling the second column by 2 meets every sum.
    prior, rows, cols = np.array([[60.0, 40.0], [20.0, 30.0]]), np.array([140.0, 80.0]), np.array([80.0, 140.0])
    pattern._RAS.clear()
    first = pattern.ras(prior, rows, cols)
    first[0, 0] = -1.0  # the caller's copy: the kept balance is not changed
    again = pattern.ras(prior, rows, cols)
    assert len(pattern._RAS) == 1
    np.testing.assert_allclose(again, [[60.0, 80.0], [20.0, 60.0]])
    pattern._RAS.clear()
    assert pattern.ras(prior, rows, cols).tobytes() == again.tobytes()
    # other sums: another balance (column sums 100 + 120; rows 120 + 100)
    other = pattern.ras(prior, np.array([120.0, 100.0]), np.array([100.0, 120.0]))
    assert len(pattern._RAS) == 2
    np.testing.assert_allclose(other.sum(axis=1), [120.0, 100.0])


def test_trade_index_is_kept_for_the_same_text_columns_only() -> None:
    nodes, edges = build_tables(world(), 2025)
    trade._INDEXES.clear()
    a = trade.trade_index(nodes, edges)
    b = trade.trade_index(nodes, edges.assign(tonnes=edges["tonnes"] * 2))  # tonnes are no part of the index
    assert a is b
    fresh = trade._trade_index(nodes, edges)
    for field in ("market_country", "market_commodity", "pair_country", "pair_partner", "pair_market"):
        assert getattr(a, field).tolist() == getattr(fresh, field).tolist()
    assert (a.flows != fresh.flows).nnz == 0
    # another network (an edge less): another index
    c = trade.trade_index(nodes, edges.iloc[1:].reset_index(drop=True))
    assert c is not a
    assert len(trade._INDEXES) == 2
    # a column that is not all text is never looked up: 1 and 1.0 are equal keys but different texts
    mixed = edges.assign(supplier_country=edges["supplier_country"].astype(object))
    mixed.loc[0, "supplier_country"] = 1
    assert trade.trade_index(nodes, mixed) is not trade.trade_index(nodes, mixed)


def test_market_layout_is_kept_for_the_same_markets_and_trade() -> None:
    nodes, edges = build_tables(world(), 2025)
    markets = sorted(n for n in nodes["node"].tolist() if n.count(":") == 1)
    allocate._LAYOUTS.clear()
    a = allocate.MarketLayout.of(markets, edges, [0])
    assert allocate.MarketLayout.of(markets, edges.assign(tonnes=0.0), [0]) is a
    assert allocate.MarketLayout.of(markets, edges, [1]) is not a  # another stock row's market
    trade_rows = edges["kind"] == "trade"
    exports = frozenset(zip(edges.loc[trade_rows, "commodity"], edges.loc[trade_rows, "supplier_country"],
                            edges.loc[trade_rows, "buyer_country"], strict=True))
    fresh = allocate.MarketLayout._of(markets, exports, (0,))
    for field in ("commodity", "pair_i", "pair_j", "round_trip", "stock_market"):
        assert getattr(a, field).tolist() == getattr(fresh, field).tolist()


@pytest.mark.parametrize("name", ["baseline_2024", "path_to_2030"])
def test_base_tables_are_the_base_year_and_its_tables(name: str) -> None:
    s = load(REPO / "scenarios" / f"{name}.yaml")
    base, nodes, edges = base_tables(s)
    n0, e0 = build_tables(s, s.scenario.base_year)
    pd.testing.assert_frame_equal(nodes, n0, check_exact=True)
    pd.testing.assert_frame_equal(edges, e0, check_exact=True)
    ref = base_year(s)
    assert set(base.columns) == set(ref.columns)
    for c, v in ref.columns.items():
        assert base.columns[c].tolist() == v.tolist()
    assert base.facilities == ref.facilities


def test_a_kept_result_cannot_be_changed_in_place() -> None:
    """The kept result is shared by every later caller with the same key: writing into its
    arrays would change what the next sample gets, so they are read-only (an error, not a
    wrong answer)."""
    @dataclass(frozen=True)
    class Layout:
        pos: np.ndarray
        name: str

    memo = Memo[Layout](4)
    first = memo.get("k", lambda: Layout(np.arange(3), "a"))
    with pytest.raises(ValueError, match="read-only"):
        first.pos[0] = 7
    assert memo.get("k", lambda: Layout(np.zeros(3, dtype=int), "b")).pos.tolist() == [0, 1, 2]
