"""The node table after the response: what a stock draw adds to a stock node's primary production."""

from __future__ import annotations

import pandas as pd
import pytest

from supplychain.simulation.run import _sim_nodes


def test_a_draw_counts_once_whether_or_not_the_market_has_a_stock_node() -> None:
    # Two markets draw from stock: JP:ndpr has a stock node (row 0) that ships 30 t on its edge;
    # US:ndpr has none. JP's node: its shipped 30 t + the draw of 50 t = 80 t of primary; the US
    # gets a new stock node whose primary is its draw, 40 t — once. (Before, the index of the
    # new rows was mixed up with the table's first rows: the US draw was counted twice, 80 t,
    # and JP's row 0 lost its draw, 30 t.)
    nodes = pd.DataFrame({"node": ["JP:ndpr:stock", "JP:ndpr", "US:ndpr"], "kind": ["stock", "market", "market"],
                          "country": ["JP", "JP", "US"], "commodity": ["ndpr"] * 3, "primary": [0.0, 0.0, 0.0]})
    edges = pd.DataFrame({"supplier": ["JP:ndpr:stock"], "buyer": ["JP:ndpr"]})
    out = _sim_nodes(nodes, edges, [30.0], {"JP:ndpr": 50.0, "US:ndpr": 40.0}).set_index("node")
    assert out.loc["JP:ndpr:stock", "primary"] == pytest.approx(80.0)
    assert out.loc["US:ndpr:stock", "primary"] == pytest.approx(40.0)
    assert out.loc["US:ndpr:stock", "kind"] == "stock"
    assert len(out) == 4
