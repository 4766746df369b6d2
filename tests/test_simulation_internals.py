"""Simulation internals: stock draws in the node table, simulate with a few metrics."""

from __future__ import annotations

import pandas as pd
import pytest

from supplychain.simulation.outcome import simulated_nodes


def test_a_draw_counts_once_whether_or_not_the_market_has_a_stock_node() -> None:
    # Two markets draw from stock: JP:ndpr has a stock node (row 0) that ships 30 t on its edge;
    # US:ndpr has none. JP's node: its shipped 30 t + the draw of 50 t = 80 t of primary; the US
    # gets a new stock node whose primary is its draw, 40 t — once. (Before, the index of the
    # new rows was mixed up with the table's first rows: the US draw was counted twice, 80 t,
    # and JP's row 0 lost its draw, 30 t.)
    nodes = pd.DataFrame({"node": ["JP:ndpr:stock", "JP:ndpr", "US:ndpr"], "kind": ["stock", "market", "market"],
                          "country": ["JP", "JP", "US"], "commodity": ["ndpr"] * 3, "primary": [0.0, 0.0, 0.0]})
    edges = pd.DataFrame({"supplier": ["JP:ndpr:stock"], "buyer": ["JP:ndpr"]})
    out = simulated_nodes(nodes, edges, [30.0], {"JP:ndpr": 50.0, "US:ndpr": 40.0}).set_index("node")
    assert out.loc["JP:ndpr:stock", "primary"] == pytest.approx(80.0)
    assert out.loc["US:ndpr:stock", "primary"] == pytest.approx(40.0)
    assert out.loc["US:ndpr:stock", "kind"] == "stock"
    assert len(out) == 4


def test_simulate_with_a_few_metrics_gives_the_same_rows_and_verdicts() -> None:
    # `metrics=` skips the origin decompositions and element tracing when none of their measures
    # is asked for: the rows asked for (and those the targets read, and the shortfall) are the full
    # run's rows, value for value, and the verdicts are the same.
    from pathlib import Path

    from supplychain.api import simulate
    from supplychain.io import load

    sc = load(Path(__file__).resolve().parent / "data" / "cli" / "small.yaml")
    full = simulate(sc, mode="fixed")
    part = simulate(sc, mode="fixed", metrics=["traced_share"])
    # small.yaml's one target reads the exposed share (and its shortfall beside it)
    assert set(part.measures["metric"]) == {"traced_share", "exposed_share", "shortfall_share"}
    assert "origin_share_mining" in set(full.measures["metric"])
    same = full.measures[full.measures["metric"].isin(set(part.measures["metric"]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(same, part.measures.reset_index(drop=True))
    pd.testing.assert_frame_equal(full.targets, part.targets)
