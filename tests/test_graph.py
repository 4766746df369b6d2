"""Graph tables: facilities over time, trade expansion, allocation, mass balance, networkx view."""

from __future__ import annotations

import copy
import math
import random
from typing import Any

import networkx as nx
import pandas as pd
import pytest

from supplychain.errors import ScenarioError
from supplychain.graph import (
    EDGE_COLUMNS,
    NODE_COLUMNS,
    build_tables,
    capacity_in_year,
    demand_in_year,
    facility_year,
    to_networkx,
)
from supplychain.graph.balance import market_balance
from supplychain.schema.model import Demand, Facility, Scenario

YEAR = 2024


def scenario(**sections: Any) -> Scenario:
    """A scenario with ore → oxide → metal commodities and a separation process, plus `sections`."""
    data: dict[str, Any] = {
        "scenario": {"name": "test", "base_year": YEAR},
        "regions": {"ROW": {"name": "Rest of world"}},
        "commodities": {
            "ore": {"name": "REE concentrate", "stage": "ore", "basis": "t REO"},
            "oxide": {"name": "NdPr oxide", "stage": "oxide", "basis": "t REO"},
            "metal": {"name": "NdPr metal", "stage": "metal", "basis": "t metal"},
            "slag": {"name": "Slag", "stage": "oxide", "basis": "t"},
        },
        "processes": {
            "sep": {"inputs": {"ore": 2}, "outputs": {"oxide": 1}},
            "sep_coproduct": {"inputs": {"ore": 2}, "outputs": {"oxide": 1, "slag": 0.5}, "reference": "oxide"},
            "reduce": {"inputs": {"oxide": 1.2}, "outputs": {"metal": 1}},
        },
    }
    data.update(sections)
    return Scenario.model_validate(data)


def mine(country: str, tonnes: float, **extra: Any) -> dict[str, Any]:
    return {"name": f"{country} mine", "country": country, "kind": "mine", "output": "ore",
            "production": {YEAR: tonnes}, **extra}


def plant(country: str, tonnes: float, process: str = "sep", kind: str = "separation") -> dict[str, Any]:
    return {"name": f"{country} plant", "country": country, "kind": kind, "process": process,
            "production": {YEAR: tonnes}}


def flow(supplier: str, buyer: str, tonnes: float, commodity: str = "ore") -> dict[str, Any]:
    return {"supplier": supplier, "buyer": buyer, "commodity": commodity, "year": YEAR, "tonnes": tonnes}


def edge(edges: pd.DataFrame, edge_id: str) -> pd.Series:
    rows = edges.loc[edges["edge"].eq(edge_id)]
    assert len(rows) == 1, f"{edge_id} not in {list(edges['edge'])}"
    return rows.iloc[0]


# ------------------------------------------------------------------ capacity
def _facility(**kw: Any) -> Facility:
    return Facility.model_validate({"name": "F", "country": "US", "kind": "separation", "process": "sep", **kw})


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        # no capacity at all: unknown in every year
        ({}, {2020: None, 2030: None}),
        # nameplate, operating before the base year
        ({"capacity": 1000}, {2020: 1000.0, 2030: 1000.0}),
        # commissioned 2026, ramp-up over 3 years: 1/4, 2/4, 3/4, then full
        ({"capacity": 1000, "commissioning_year": 2026, "ramp_up_years": 3},
         {2025: 0.0, 2026: 250.0, 2027: 500.0, 2028: 750.0, 2029: 1000.0, 2035: 1000.0}),
        # expansion step in 2027, closure in 2030
        ({"capacity": 1000, "capacity_changes": [{"year": 2027, "capacity": 1500}], "closure_year": 2030},
         {2026: 1000.0, 2027: 1500.0, 2029: 1500.0, 2030: 0.0}),
        # a step gives capacity to a facility declared without one
        ({"capacity_changes": [{"year": 2028, "capacity": 400}]}, {2027: None, 2028: 400.0}),
    ],
)
def test_capacity_in_year(kw: dict[str, Any], expected: dict[int, float | None]) -> None:
    f = _facility(**kw)
    assert {y: capacity_in_year(f, y) for y in expected} == expected


def test_production_given_then_capacity_times_utilisation_then_zero() -> None:
    s = scenario(facilities={
        "given": {**plant("JP", 30), "capacity": 100, "utilisation": 0.5},
        "derived": {"name": "D", "country": "JP", "kind": "separation", "process": "sep", "capacity": 100,
                    "utilisation": 0.8},
        "unknown": {"name": "U", "country": "JP", "kind": "separation", "process": "sep", "capacity": 100},
    })
    given, derived, unknown = (facility_year(s, f, YEAR) for f in ("given", "derived", "unknown"))
    assert (given.production, given.how) == (30.0, "production")
    assert given.path == ("facilities", "given", "production", 2024)
    assert (derived.production, derived.how) == (80.0, "capacity x utilisation")
    assert (unknown.production, unknown.how) == (0.0, "unknown")
    # converters: activity = 30 / 1 → 60 t of ore in; 80 → 160 t
    assert given.inputs == {"ore": 60.0}
    assert derived.inputs == {"ore": 160.0}


def test_zero_production_facility_is_still_a_node() -> None:
    s = scenario(facilities={"idle": {"name": "Idle", "country": "US", "kind": "separation", "process": "sep"}})
    nodes, edges = build_tables(s, YEAR)
    assert "idle" in set(nodes["node"])
    assert edge(edges, "supply.idle.oxide")["tonnes"] == 0.0
    assert edge(edges, "input.idle.ore")["tonnes"] == 0.0


def test_demand_growth_and_by_year() -> None:
    d = Demand.model_validate({"country": "US", "commodity": "oxide", "year": 2024, "tonnes": 1000,
                               "growth": 0.05, "by_year": {2027: 2000}})
    assert demand_in_year(d, 2024) == 1000.0
    assert demand_in_year(d, 2026) == pytest.approx(1000 * 1.05**2)
    assert demand_in_year(d, 2027) == 2000.0  # by_year wins over growth
    assert demand_in_year(d, 2023) == pytest.approx(1000 / 1.05)  # back-cast with the same rate


# --------------------------------------------------------------- the tables
def test_contract_columns_and_node_kinds() -> None:
    s = scenario(facilities={"au": mine("AU", 100), "jp": plant("JP", 30)}, flows={"au_jp": flow("AU", "JP", 60)})
    nodes, edges = build_tables(s, YEAR)
    assert tuple(nodes.columns) == NODE_COLUMNS
    assert tuple(edges.columns) == EDGE_COLUMNS
    kinds = dict(zip(nodes["node"], nodes["kind"], strict=True))
    assert kinds == {"au": "facility", "jp": "facility", "AU:ore": "market", "JP:ore": "market",
                     "JP:oxide": "market", "AU:ore:surplus": "surplus",
                     "JP:oxide:surplus": "surplus"}
    assert list(nodes["node"]) == sorted(nodes["node"])
    assert list(edges["edge"]) == sorted(edges["edge"])
    au = nodes.set_index("node").loc["au"]
    assert (au["primary"], au["production"], au["stage"], au["basis"]) == (100.0, 100.0, "ore", "t REO")
    assert nodes.set_index("node").loc["jp", "primary"] == 0.0  # converters have no primary production
    e = edge(edges, "input.jp.ore")
    assert (e["supplier"], e["buyer"], e["tonnes"], e["kind"], e["entity"]) == ("JP:ore", "jp", 60.0, "input",
                                                                                 "facilities.jp")


def test_converter_with_coproduct_supplies_every_output() -> None:
    # activity = 30 t oxide / 1 = 30 → slag 30 × 0.5 = 15 t, ore in 30 × 2 = 60 t
    s = scenario(facilities={"au": mine("AU", 60), "au_sep": plant("AU", 30, "sep_coproduct")})
    _, edges = build_tables(s, YEAR)
    assert edge(edges, "supply.au_sep.oxide")["tonnes"] == 30.0
    assert edge(edges, "supply.au_sep.slag")["tonnes"] == 15.0
    assert edge(edges, "input.au_sep.ore")["tonnes"] == 60.0


def test_imports_expand_per_partner_with_remainder_to_row() -> None:
    # 1 000 t: CN 70 %, MY 13 % → CN 700, MY 130 and the remaining 17 % (170 t) to ROW
    s = scenario(
        facilities={"cn": mine("CN", 2000), "my": mine("MY", 500), "row": mine("ROW", 500)},
        imports={"us": {"importer": "US", "commodity": "ore", "year": YEAR, "total": 1000,
                        "partners": {"CN": 0.7, "MY": 0.13}}},
    )
    _, edges = build_tables(s, YEAR)
    got = {e: edge(edges, e)["tonnes"] for e in ("imports.us.CN", "imports.us.MY", "imports.us.ROW")}
    assert got == pytest.approx({"imports.us.CN": 700.0, "imports.us.MY": 130.0, "imports.us.ROW": 170.0})
    assert edge(edges, "imports.us.ROW")["supplier"] == "ROW:ore"  # a region is a country here
    assert set(edges.loc[edges["edge"].str.startswith("imports."), "entity"]) == {"imports.us"}


def test_import_remainder_to_a_listed_partner_adds_to_its_share() -> None:
    # 1 000 t: CN 70 %, ROW 10 %, remainder_to ROW → ROW gets 10 % + the remaining 20 % = 300 t
    s = scenario(
        facilities={"cn": mine("CN", 2000), "row": mine("ROW", 500)},
        imports={"us": {"importer": "US", "commodity": "ore", "year": YEAR, "total": 1000,
                        "partners": {"CN": 0.7, "ROW": 0.1}}},
    )
    _, edges = build_tables(s, YEAR)
    assert edge(edges, "imports.us.CN")["tonnes"] == pytest.approx(700.0)
    assert edge(edges, "imports.us.ROW")["tonnes"] == pytest.approx(300.0)
    assert int(edges["edge"].eq("imports.us.ROW").sum()) == 1  # one edge, not a partner row and a remainder row


def test_import_remainder_split_by_weights() -> None:
    # 1 000 t: CN 40 %; the remaining 60 % (600 t) split by the weights JP 0.6, MY 0.2, ROW 0.2
    # (normalised by their sum 1.0): JP 360, MY 120, ROW 120. Weights of a recorded split
    # JP 0.3, MY 0.1, ROW 0.1 (sum 0.5) give the same: 600 x 0.3 / 0.5 = 360.
    for w in ({"JP": 0.6, "MY": 0.2, "ROW": 0.2}, {"JP": 0.3, "MY": 0.1, "ROW": 0.1}):
        s = scenario(
            facilities={"cn": mine("CN", 2000), "jp": mine("JP", 500), "my": mine("MY", 500), "row": mine("ROW", 500)},
            imports={"us": {"importer": "US", "commodity": "ore", "year": YEAR, "total": 1000,
                            "partners": {"CN": 0.4}, "remainder_split": w}},
        )
        _, edges = build_tables(s, YEAR)
        got = {e.removeprefix("imports.us."): t for e, t in zip(edges["edge"], edges["tonnes"], strict=True)
               if e.startswith("imports.us.")}
        assert got == pytest.approx({"CN": 400.0, "JP": 360.0, "MY": 120.0, "ROW": 120.0})


@pytest.mark.parametrize(("extra", "message"), [
    ({"remainder_to": "ROW"}, "not both"),
    ({"partners": {"CN": 0.4, "JP": 0.1}}, "in both `partners` and `remainder_split`"),
    ({"remainder_split": {"JP": 0.0}}, "sum to 0"),
])
def test_import_remainder_split_is_refused_when_ambiguous(extra: dict[str, Any], message: str) -> None:
    imp = {"importer": "US", "commodity": "ore", "year": YEAR, "total": 1000, "partners": {"CN": 0.4},
           "remainder_split": {"JP": 0.5}, **extra}
    with pytest.raises(Exception, match=message):
        scenario(imports={"us": imp})


def test_flow_from_a_facility_bypasses_its_home_market() -> None:
    # the AU mine ships 40 t straight to Malaysia: only 60 t reach the AU market
    s = scenario(facilities={"au": mine("AU", 100)}, flows={"direct": flow("au", "MY", 40)})
    _, edges = build_tables(s, YEAR)
    assert edge(edges, "supply.au.ore")["tonnes"] == 60.0
    d = edge(edges, "flows.direct")
    assert (d["supplier"], d["buyer"], d["supplier_country"], d["buyer_country"]) == ("au", "MY:ore", "AU", "MY")


def test_groups_are_not_nodes() -> None:
    s = scenario(groups={"ASEAN": {"members": ["MY", "VN"]}}, facilities={"my": mine("MY", 10)})
    nodes, _ = build_tables(s, YEAR)
    assert not any(nodes["country"].eq("ASEAN"))


# --------------------------------------------------------------- allocation
def test_allocation_of_a_deficit_pro_rata_to_producers_spare_output() -> None:
    """Japan's plant needs 60 t of ore; no ore trade into Japan is observed.

    Spare output: China 150 t (all of its output), Australia 50 − 40 (to Malaysia) = 10 t,
    160 t in all. Japan's 60 t are split 150/160 and 10/160: 56.25 t from China and
    3.75 t from Australia. Malaysia's market (40 t in, 40 t used) balances already.
    """
    s = scenario(
        facilities={"cn": mine("CN", 150), "au": mine("AU", 50), "jp": plant("JP", 30), "my": plant("MY", 20)},
        flows={"au_my": flow("AU", "MY", 40)},
    )
    _, edges = build_tables(s, YEAR)
    cn_jp, au_jp = edge(edges, "alloc.ore.CN.JP"), edge(edges, "alloc.ore.AU.JP")
    assert cn_jp["tonnes"] == pytest.approx(56.25)
    assert au_jp["tonnes"] == pytest.approx(3.75)
    assert (cn_jp["entity"], bool(cn_jp["allocated"]), cn_jp["kind"]) == ("allocation", True, "trade")
    assert not edges["edge"].str.contains(r"alloc\.ore\..*\.MY").any()
    # what is left over has no known destination (surplus): China 150 − 56.25, Australia 10 − 3.75
    assert edge(edges, "surplus.CN:ore")["tonnes"] == pytest.approx(93.75)
    assert edge(edges, "surplus.AU:ore")["tonnes"] == pytest.approx(6.25)
    assert (edge(edges, "surplus.CN:ore")["entity"], edge(edges, "surplus.CN:ore")["kind"]) == ("surplus", "surplus")
    assert market_balance(edges)["balanced"].all()


def test_producers_spare_output_comes_before_reexports() -> None:
    """A market with spare material but no production supplies others only as a last resort.

    Japan imports 100 t from Australia and uses 20 t; the US needs 30 t. Australia's
    spare output is 200 − 100 = 100 t, so the US gets its 30 t from Australia, none
    from Japan's 80 t surplus (which goes to its surplus node: no known destination).
    """
    s = scenario(
        facilities={"au": mine("AU", 200), "jp": plant("JP", 10)},
        flows={"au_jp": flow("AU", "JP", 100)},
        demand={"us": {"country": "US", "commodity": "ore", "year": YEAR, "tonnes": 30}},
    )
    _, edges = build_tables(s, YEAR)
    assert edge(edges, "alloc.ore.AU.US")["tonnes"] == pytest.approx(30.0)
    assert not edges["edge"].str.startswith("alloc.ore.JP").any()
    assert edge(edges, "surplus.JP:ore")["tonnes"] == pytest.approx(80.0)
    assert not edge(edges, "demand.us")["allocated"]


def test_reexport_allocated_when_producers_have_nothing_to_spare() -> None:
    """Australia exports all its 100 t to Japan, which uses 20 t; the US needs 30 t.

    No producer has spare output, so the US deficit is taken from Japan's 80 t surplus.
    """
    s = scenario(
        facilities={"au": mine("AU", 100), "jp": plant("JP", 10)},
        flows={"au_jp": flow("AU", "JP", 100)},
        demand={"us": {"country": "US", "commodity": "ore", "year": YEAR, "tonnes": 30}},
    )
    _, edges = build_tables(s, YEAR)
    assert edge(edges, "alloc.ore.JP.US")["tonnes"] == pytest.approx(30.0)
    assert edge(edges, "surplus.JP:ore")["tonnes"] == pytest.approx(50.0)


def test_spare_output_first_then_stock_draw() -> None:
    """Deficits are met from spare output first, then from stock.

    Australia mines 100 t, uses 70 t (given demand) and exports 30 t to the US. The US
    mines 10 t and needs 60 t: deficit 60 − 10 − 30 = 20 t. Canada mines 50 t and needs
    40 t: its 10 t of spare output are allocated to the US. The remaining 10 t are drawn
    from the US stockpile (100 t, at most half releasable).
    """
    s = scenario(
        facilities={"au": mine("AU", 100), "us": mine("US", 10), "ca": mine("CA", 50)},
        flows={"au_us": flow("AU", "US", 30)},
        demand={
            "au": {"country": "AU", "commodity": "ore", "year": YEAR, "tonnes": 70},
            "us": {"country": "US", "commodity": "ore", "year": YEAR, "tonnes": 60},
            "ca": {"country": "CA", "commodity": "ore", "year": YEAR, "tonnes": 40},
        },
        stockpiles={"us_ndpr": {"country": "US", "commodity": "ore", "year": 2023, "tonnes": 100,
                                "max_release_share": 0.5}},
    )
    nodes, edges = build_tables(s, YEAR)
    assert edge(edges, "alloc.ore.CA.US")["tonnes"] == pytest.approx(10.0)
    draw = edge(edges, "stockpiles.us_ndpr")
    assert (draw["supplier"], draw["buyer"], draw["kind"]) == ("US:ore:stock", "US:ore", "stock")
    assert draw["tonnes"] == pytest.approx(10.0)
    assert nodes.set_index("node").loc["US:ore:stock", "primary"] == pytest.approx(10.0)
    assert market_balance(edges)["balanced"].all()


def test_surplus_with_given_demand_goes_into_stock() -> None:
    """Australia mines 100 t and needs 70 t; nobody is short, so 30 t are stock build."""
    s = scenario(facilities={"au": mine("AU", 100)},
                 demand={"au": {"country": "AU", "commodity": "ore", "year": YEAR, "tonnes": 70}})
    _, edges = build_tables(s, YEAR)
    build = edge(edges, "stock.AU:ore.build")
    assert (build["buyer"], build["tonnes"], build["entity"]) == ("AU:ore:stock", 30.0, "stock_build")
    assert edge(edges, "demand.au")["tonnes"] == 70.0
    assert not edges["edge"].eq("surplus.AU:ore").any()


def test_months_of_cover_stock_uses_that_years_demand() -> None:
    # 6 months of a 60 t demand = 30 t; the 50 t deficit draws all 30 t and 20 t stay short
    s = scenario(
        demand={"us": {"country": "US", "commodity": "ore", "year": YEAR, "tonnes": 60}},
        facilities={"us": mine("US", 10)},
        stockpiles={"s": {"country": "US", "commodity": "ore", "year": YEAR, "months_of_cover": 6}},
    )
    _nodes, edges = build_tables(s, YEAR, check_balance=False)
    assert edge(edges, "stockpiles.s")["tonnes"] == pytest.approx(30.0)
    assert market_balance(edges).loc["US:ore", "gap"] == pytest.approx(-20.0)


def test_the_rules_on_a_sample_axis_worked_by_hand() -> None:
    """Steps 2–5 for three samples at once (close_markets), each as it is alone.

    One commodity, markets AU, DE, JP, US (in that order); the US exports to DE (observed).

    * Sample 0. AU produces 100 t and sends out 60 t: r = +40, spare min(40, 100) = 40.
      DE takes 50 t and uses 10 t: r = +40 but it produces nothing. JP needs 30 t
      (r = −30). The US produces 60 t, sends 50 t to DE and uses 60 t: r = −50.
      3a: D = 80, S = 40, λ = 1/2: AU → JP 30 · ½ = 15, AU → US 50 · ½ = 25; AU has 0 left.
      3b: JP (−15) takes from DE's 40 t: 15 t (λ = min(1, 40/15) = 1); the US (−25) may not
      take from DE, which it exports to (no round trip).
      4: the US draws min(25, 20 + 60) = 25 from its two stock rows, 25 · 20/80 = 6.25 and
      25 · 60/80 = 18.75. 5: DE has 40 − 15 = 25 t left; nobody is short.
    * Sample 1. AU produces and receives 200 t: spare 140 ≥ 80, λ = 1: AU → JP 30, AU → US 50,
      AU keeps 140 − 80 = 60, DE keeps 40; no step 3b, no draw.
    * Sample 2. Sample 0 with 2 t + 6 t of stock: the US draws 2 and 6 and is 25 − 8 = 17 t short.
    """
    import numpy as np

    from supplychain.graph.allocate import MarketLayout, close_markets

    markets = ["AU:ore", "DE:ore", "JP:ore", "US:ore"]
    observed = pd.DataFrame({"kind": ["trade"], "commodity": ["ore"], "supplier_country": ["US"],
                             "buyer_country": ["DE"]})
    layout = MarketLayout.of(markets, observed, [3, 3])  # both stock rows in US:ore
    inflow = np.array([[100.0, 50.0, 0.0, 60.0], [200.0, 50.0, 0.0, 60.0], [100.0, 50.0, 0.0, 60.0]])
    outflow = np.array([[60.0, 10.0, 30.0, 110.0]] * 3)
    produced = np.array([[100.0, 0.0, 0.0, 60.0], [200.0, 0.0, 0.0, 60.0], [100.0, 0.0, 0.0, 60.0]])
    available = np.array([[20.0, 60.0], [20.0, 60.0], [2.0, 6.0]])
    closed = close_markets(inflow, outflow, produced, available, layout)

    def trade(s: int) -> dict[tuple[str, str], float]:
        return {(markets[j], markets[i]): float(x) for i, j, x in
                zip(layout.pair_i, layout.pair_j, closed.trade[s], strict=True) if x != 0.0}

    assert trade(0) == {("AU:ore", "JP:ore"): 15.0, ("AU:ore", "US:ore"): 25.0, ("DE:ore", "JP:ore"): 15.0}
    assert closed.draw[0].tolist() == [6.25, 18.75]
    assert closed.left[0].tolist() == [0.0, 25.0, 0.0, 0.0]
    assert trade(1) == {("AU:ore", "JP:ore"): 30.0, ("AU:ore", "US:ore"): 50.0}
    assert closed.draw[1].tolist() == [0.0, 0.0]
    assert closed.left[1].tolist() == [60.0, 40.0, 0.0, 0.0]
    assert trade(2) == trade(0)
    assert closed.draw[2].tolist() == [2.0, 6.0]
    assert closed.short.tolist() == [[False] * 4, [False] * 4, [False, False, False, True]]
    # a run is a sweep of one sample: each sample alone gives the same numbers, bit for bit
    for s in range(3):
        one = close_markets(inflow[s:s + 1], outflow[s:s + 1], produced[s:s + 1], available[s:s + 1], layout)
        for got, alone in ((closed.trade, one.trade), (closed.draw, one.draw), (closed.left, one.left)):
            np.testing.assert_array_equal(got[s], alone[0])


def test_closing_edges_are_read_by_their_named_positions() -> None:
    """Sample 0 of the test above, laid out as closing edges (MarketClosing): each part by its name.

    The 12 candidate pairs (4 markets, every ordered pair but the round trip DE → US), then the
    US's two stock rows (``stockpiles.a`` 6.25 t, ``stockpiles.b`` 18.75 t), then one surplus
    edge per market (DE's 25 t: to its surplus node, DE has no given demand; the US has demand,
    so its surplus edge is its stock build). ``tonnes`` puts ``Closure.draw`` at
    :attr:`~MarketClosing.draws` and :meth:`~MarketClosing.edges` lays the stock edges there,
    so a reader of the draws (the compiled sweep) takes them by that name, not by counting.
    """
    import numpy as np

    from supplychain.graph.allocate import MarketClosing, MarketLayout, close_markets

    markets = ["AU:ore", "DE:ore", "JP:ore", "US:ore"]
    observed = pd.DataFrame({"kind": ["trade"], "commodity": ["ore"], "supplier_country": ["US"],
                             "buyer_country": ["DE"]})
    layout = MarketLayout.of(markets, observed, [3, 3])
    closing = MarketClosing(markets, layout, np.array([0, 1]), ("stockpiles.a", "stockpiles.b"),
                            np.array([False, False, True, True]))
    closed = close_markets(np.array([[100.0, 50.0, 0.0, 60.0]]), np.array([[60.0, 10.0, 30.0, 110.0]]),
                           np.array([[100.0, 0.0, 0.0, 60.0]]), np.array([[20.0, 60.0]]), layout)
    tonnes = closing.tonnes(closed)[0]
    edges = pd.DataFrame(closing.edges(tonnes))
    n_pair = len(layout.pair_i)
    assert (closing.pairs, closing.draws, closing.surplus) == (slice(0, n_pair), slice(n_pair, n_pair + 2),
                                                               slice(n_pair + 2, n_pair + 6))
    assert closing.size == len(edges) == n_pair + 2 + 4
    draws = edges.iloc[closing.draws]
    assert draws["edge"].tolist() == ["stockpiles.a", "stockpiles.b"]
    assert draws["kind"].tolist() == ["stock", "stock"]
    assert draws["tonnes"].tolist() == [6.25, 18.75]
    assert (edges.iloc[closing.pairs]["kind"] == "trade").all()
    surplus = edges.iloc[closing.surplus]
    assert surplus["edge"].tolist() == ["surplus.AU:ore", "surplus.DE:ore", "stock.JP:ore.build", "stock.US:ore.build"]
    assert surplus["tonnes"].tolist() == [0.0, 25.0, 0.0, 0.0]


def test_no_reexport_back_to_a_market_the_deficit_market_exports_to() -> None:
    """The US exports 50 t to Japan and is then short; Japan's surplus is not sent back.

    Australia mines 100 t and exports all of it to Japan (no spare output); the US mines
    40 t, exports 50 t to Japan and needs 20 t: deficit 30 t, and no producer has spare
    output (step 3a gives nothing). Japan takes 150 t and sends out 30 t (20 t to Germany,
    10 t into its plant): 120 t surplus, but the US exports to Japan, so none of it goes
    back. Germany takes 20 t and uses 5 t: 15 t surplus, all of it to the US (step 3b,
    λ = min(1, 15/30)), which stays 15 t short.
    """
    s = scenario(
        facilities={"au": mine("AU", 100), "us": mine("US", 40), "jp": plant("JP", 5)},
        flows={"au_jp": flow("AU", "JP", 100), "us_jp": flow("US", "JP", 50), "jp_de": flow("JP", "DE", 20)},
        demand={"us": {"country": "US", "commodity": "ore", "year": YEAR, "tonnes": 20},
                "de": {"country": "DE", "commodity": "ore", "year": YEAR, "tonnes": 5}},
    )
    _, edges = build_tables(s, YEAR, check_balance=False)
    assert not edges["edge"].eq("alloc.ore.JP.US").any()
    assert edge(edges, "alloc.ore.DE.US")["tonnes"] == pytest.approx(15.0)
    assert market_balance(edges).loc["US:ore", "gap"] == pytest.approx(-15.0)


# --------------------------------------------------------------- mass balance
def test_exports_above_production_are_located_at_the_flow() -> None:
    """Australia mines 100 t but exports 150 t; nothing anywhere can cover 50 t."""
    s = scenario(facilities={"au": mine("AU", 100)}, flows={"au_jp": flow("AU", "JP", 150)})
    with pytest.raises(ScenarioError, match=r"market AU:ore is short in 2024") as info:
        build_tables(s, YEAR)
    (p,) = info.value.problems
    assert p.path == ("flows", "au_jp", "tonnes")
    assert "outflow 150 t REO exceeds inflow 100 t REO by 50 t REO" in p.message
    assert "add supply of ore to AU" in p.hint
    assert "flows.au_jp (150 t REO)" in p.hint


def test_a_sub_tonne_gap_reads_in_both_totals() -> None:
    """Review s33 F16: Australia mines 12,345.6 t and exports 12,345.9 t, 0.3 t short (tolerance ~0.012 t).

    To five figures both totals read "12,346", contradicting "by 0.3 t"; one decimal tells them
    apart: outflow 12,345.9, inflow 12,345.6. The facility's own check says the same of its flow.
    """
    s = scenario(facilities={"au": mine("AU", 12345.6)}, flows={"au_jp": flow("AU", "JP", 12345.9)})
    with pytest.raises(ScenarioError, match=r"market AU:ore is short in 2024") as info:
        build_tables(s, YEAR)
    (p,) = info.value.problems
    assert "outflow 12,345.9 t REO exceeds inflow 12,345.6 t REO by 0.3 t REO" in p.message
    s = scenario(facilities={"au": mine("AU", 12345.6)}, flows={"big": flow("au", "JP", 12345.9)})
    with pytest.raises(ScenarioError) as info:
        build_tables(s, YEAR)
    assert any("makes 12,345.6 t REO of ore in 2024 (production), but flows out of it total 12,345.9 t REO" in m
               for m in (p.message for p in info.value.problems))


def test_facility_inputs_without_any_supply_are_located_at_its_production() -> None:
    s = scenario(facilities={"jp": plant("JP", 30)})
    with pytest.raises(ScenarioError, match=r"JP:ore is short") as info:
        build_tables(s, YEAR)
    (p,) = info.value.problems
    assert p.path == ("facilities", "jp", "production", 2024)
    assert "by 60 t" in p.message


def test_flow_out_of_a_facility_above_its_output() -> None:
    s = scenario(facilities={"au": mine("AU", 100)}, flows={"big": flow("au", "JP", 130)})
    with pytest.raises(ScenarioError) as info:
        build_tables(s, YEAR)
    messages = [p.message for p in info.value.problems]
    assert any("facility 'au' makes 100 t REO of ore in 2024 (production), but flows out of it total 130 t REO" in m
               for m in messages)
    assert {p.path for p in info.value.problems} == {("flows", "big", "tonnes")}


def test_check_balance_false_returns_the_unbalanced_tables() -> None:
    s = scenario(facilities={"au": mine("AU", 100)}, flows={"au_jp": flow("AU", "JP", 150)})
    _, edges = build_tables(s, YEAR, check_balance=False)
    assert market_balance(edges).loc["AU:ore", "gap"] == pytest.approx(-50.0)


def test_balance_problem_is_located_in_the_yaml_file() -> None:
    from supplychain.io.load import load_text

    text = """\
scenario: {name: unbalanced, base_year: 2024}
commodities:
  ore: {name: Ore, stage: ore}
facilities:
  au: {name: AU mine, country: AU, kind: mine, output: ore, production: {2024: 100}}
flows:
  au_jp:
    supplier: AU
    buyer: JP
    commodity: ore
    year: 2024
    tonnes: 150
"""
    s = load_text(text, file="unbalanced.yaml")
    with pytest.raises(ScenarioError, match=r"unbalanced\.yaml:12:\d+: flows\.au_jp\.tonnes: market AU:ore"):
        build_tables(s, YEAR)


# --------------------------------------------------------------- determinism
def _shuffled(data: dict[str, Any], seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key not in ("scenario",):
            items = list(value.items())
            rng.shuffle(items)
            out[key] = dict(items)
        else:
            out[key] = copy.deepcopy(value)
    return out


def test_tables_do_not_depend_on_the_order_of_entities() -> None:
    base = scenario(
        facilities={"cn": mine("CN", 150), "au": mine("AU", 50), "jp": plant("JP", 30), "my": plant("MY", 20)},
        flows={"au_my": flow("AU", "MY", 40), "jp_us": flow("JP", "US", 20, "oxide")},
        imports={"us": {"importer": "US", "commodity": "oxide", "year": YEAR, "total": 10, "partners": {"MY": 1.0}}},
    )
    expected = build_tables(base, YEAR)
    data = base.model_dump(exclude_unset=True)
    for seed in range(5):
        other = Scenario.model_validate(_shuffled(data, seed))
        got = build_tables(other, YEAR)
        pd.testing.assert_frame_equal(got[0], expected[0])
        pd.testing.assert_frame_equal(got[1], expected[1])


# --------------------------------------------------------------- networkx view
def test_networkx_view_keys_edges_by_id_and_carries_every_column() -> None:
    s = scenario(facilities={"au": mine("AU", 100), "jp": plant("JP", 30)}, flows={"au_jp": flow("AU", "JP", 60)})
    nodes, edges = build_tables(s, YEAR)
    g = to_networkx(nodes, edges)
    assert isinstance(g, nx.MultiDiGraph)
    assert list(g.nodes) == sorted(nodes["node"])
    assert g.number_of_edges() == len(edges)
    data = g.edges["AU:ore", "JP:ore", "flows.au_jp"]
    assert set(data) == set(EDGE_COLUMNS) - {"supplier", "buyer"}
    assert data["tonnes"] == 60.0
    assert data["kind"] == "trade"
    assert data["entity"] == "flows.au_jp"
    au = g.nodes["au"]
    assert set(au) == set(NODE_COLUMNS) - {"node"}
    assert au["kind"] == "facility"
    assert au["primary"] == 100.0
    assert math.isnan(g.nodes["AU:ore"]["capacity"])


def test_networkx_view_refuses_unknown_nodes() -> None:
    nodes = pd.DataFrame({"node": ["a"]})
    edges = pd.DataFrame({"edge": ["e"], "supplier": ["a"], "buyer": ["b"]})
    with pytest.raises(ValueError, match="not in the node table: b"):
        to_networkx(nodes, edges)
