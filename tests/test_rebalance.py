"""The re-routing LP and the fixed response on hand-built tables.

Every expected number is derived in the test from the data, by hand.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplychain.errors import SolverError
from supplychain.simulation.fixed import propagate_fixed, shortfall_table
from supplychain.simulation.rebalance import RebalanceModel, candidate_edges, facility_yields


def table(nodes: list[tuple[str, str, str, str, float]], edges: list[tuple[str, str, str, float, str]]
          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """nodes: (id, kind, country, commodity, capacity); edges: (id, supplier, buyer, tonnes, kind)."""
    n = pd.DataFrame(nodes, columns=["node", "kind", "country", "commodity", "capacity"])
    country = dict(zip(n["node"], n["country"], strict=True))
    commodity = dict(zip(n["node"], n["commodity"], strict=True))
    e = pd.DataFrame(edges, columns=["edge", "supplier", "buyer", "tonnes", "kind"])
    e["supplier_country"] = e["supplier"].map(country)
    e["buyer_country"] = e["buyer"].map(country)
    # the commodity of an edge is that of its market end
    e["commodity"] = [commodity[b] if ":" in b else commodity[s] for s, b in zip(e["supplier"], e["buyer"],
                                                                               strict=True)]
    e["stage"] = "oxide"
    return n, e


NAN = float("nan")


def one_commodity() -> tuple[pd.DataFrame, pd.DataFrame]:
    # CN mine 800 t (cap 800) → CN market → US 600 t, CN use 200 t;
    # AU mine 100 t of 300 t capacity → AU market → US 100 t. US demand 700 t.
    return table(
        [("cn_mine", "facility", "CN", "x", 800.0), ("au_mine", "facility", "AU", "x", 300.0),
         ("CN:x", "market", "CN", "x", NAN), ("AU:x", "market", "AU", "x", NAN), ("US:x", "market", "US", "x", NAN),
         ("CN:x:use", "use", "CN", "x", NAN), ("US:x:use", "use", "US", "x", NAN)],
        [("s_cn", "cn_mine", "CN:x", 800, "supply"), ("s_au", "au_mine", "AU:x", 100, "supply"),
         ("t_cn_us", "CN:x", "US:x", 600, "trade"), ("t_au_us", "AU:x", "US:x", 100, "trade"),
         ("u_cn", "CN:x", "CN:x:use", 200, "use"), ("u_us", "US:x", "US:x:use", 700, "use")],
    )


def test_full_ban_with_one_limited_alternative() -> None:
    nodes, edges = one_commodity()
    m = RebalanceModel(nodes, edges)
    sol = m.solve(m.year_inputs(nodes, edges, blocked={"t_cn_us": 1.0}))
    short = m.shortfall_table(m.year_inputs(nodes, edges, blocked={"t_cn_us": 1.0}), sol).set_index("node")
    # US loses the 600 t from CN; AU can raise output from 100 to its 300 t capacity:
    # shortfall = demand 700 − AU capacity 300 = 400 t (57 % of demand). CN keeps its own 200 t.
    assert short.loc["US:x:use", "shortfall_t"] == pytest.approx(400.0)
    assert short.loc["US:x:use", "shortfall_share"] == pytest.approx(400 / 700)
    assert short.loc["CN:x:use", "shortfall_t"] == pytest.approx(0.0)
    f = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
    assert f["t_cn_us"] == 0.0
    assert f["t_au_us"] == pytest.approx(300.0)
    # the fixed response loses all 600 t: it never re-routes
    fx = propagate_fixed(nodes, edges, (edges["edge"] == "t_cn_us").to_numpy(dtype=float))
    fshort = shortfall_table(fx.index, edges, fx.tonnes).set_index("node")
    assert fshort.loc["US:x:use", "shortfall_t"] == pytest.approx(600.0)
    assert np.all(fx.tonnes <= edges["tonnes"].to_numpy() + 1e-9)


def test_partial_block_caps_the_edge_and_the_rest_stays_at_baseline() -> None:
    nodes, edges = one_commodity()
    m = RebalanceModel(nodes, edges)
    inp = m.year_inputs(nodes, edges, blocked={"t_cn_us": 1 / 3})
    sol = m.solve(inp)
    f = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
    # CN→US capped at (1 − 1/3) × 600 = 400 t; AU fills the 200 t gap exactly (100 → 300 t).
    assert f["t_cn_us"] == pytest.approx(400.0)
    assert f["t_au_us"] == pytest.approx(300.0)
    assert sol.shortfall.sum() == pytest.approx(0.0)
    # level 4 keeps CN's unused 200 t at home instead of inventing trade: CN use stays 200.
    assert f["u_cn"] == pytest.approx(200.0)
    # the only re-routing candidates are new producing → consuming market pairs (AU→CN here)
    assert set(m.edges.loc[m.edges["origin"] == "reroute", "edge"]) == {"reroute.x.AU.CN"}


def converter_chain() -> tuple[pd.DataFrame, pd.DataFrame]:
    # magnets: 1 t magnet from 0.3 t NdPr + 0.03 t Dy (JP plant, 100 t magnet/yr, capacity 150);
    # inputs come from CN (NdPr 30 t, Dy 3 t); JP market sells magnets to JP use.
    return table(
        [("cn_ndpr", "facility", "CN", "ndpr", NAN), ("cn_dy", "facility", "CN", "dy", NAN),
         ("au_dy", "facility", "AU", "dy", 1.2),
         ("CN:ndpr", "market", "CN", "ndpr", NAN), ("CN:dy", "market", "CN", "dy", NAN),
         ("AU:dy", "market", "AU", "dy", NAN), ("JP:ndpr", "market", "JP", "ndpr", NAN),
         ("JP:dy", "market", "JP", "dy", NAN), ("jp_magnet", "facility", "JP", "magnet", 150.0),
         ("JP:magnet", "market", "JP", "magnet", NAN), ("JP:magnet:use", "use", "JP", "magnet", NAN),
         ("AU:dy:use", "use", "AU", "dy", NAN)],
        [("s_ndpr", "cn_ndpr", "CN:ndpr", 30, "supply"), ("s_dy", "cn_dy", "CN:dy", 3, "supply"),
         ("s_au_dy", "au_dy", "AU:dy", 1, "supply"), ("u_au_dy", "AU:dy", "AU:dy:use", 1, "use"),
         ("t_ndpr", "CN:ndpr", "JP:ndpr", 30, "trade"), ("t_dy", "CN:dy", "JP:dy", 3, "trade"),
         ("in_ndpr", "JP:ndpr", "jp_magnet", 30, "input"), ("in_dy", "JP:dy", "jp_magnet", 3, "input"),
         ("out_mag", "jp_magnet", "JP:magnet", 100, "supply"), ("u_mag", "JP:magnet", "JP:magnet:use", 100, "use")],
    )


def test_yields_calibrated_from_the_baseline() -> None:
    nodes, edges = converter_chain()
    y = facility_yields(nodes, edges).set_index(["facility", "commodity", "role"])["coef"]
    # 30 t NdPr and 3 t Dy per 100 t of magnets: 0.3 and 0.03 per tonne of reference output.
    assert y[("jp_magnet", "ndpr", "input")] == pytest.approx(0.3)
    assert y[("jp_magnet", "dy", "input")] == pytest.approx(0.03)
    assert y[("jp_magnet", "magnet", "output")] == 1.0


def test_leontief_in_fixed_and_yields_in_the_lp() -> None:
    nodes, edges = converter_chain()
    ban_dy = (edges["edge"] == "t_dy").to_numpy(dtype=float) * 0.5
    # fixed: half the Dy arrives → the magnet plant runs at min(1, 0.5) = 50 % → 50 t magnets
    # (proportional scaling would give (30 + 1.5)/33 = 95 %; Leontief is the stated choice).
    fx = propagate_fixed(nodes, edges, ban_dy)
    f = dict(zip(edges["edge"], fx.tonnes, strict=True))
    assert f["out_mag"] == pytest.approx(50.0)
    assert f["in_ndpr"] == pytest.approx(15.0)
    # rebalance: CN→JP Dy capped at 1.5 t. AU may export at most its own output (capacity 1.2 t;
    # no re-export of Chinese Dy), and buys Chinese Dy for its own use instead (CN→AU is open).
    # Dy in JP = 1.5 + 1.2 = 2.7 t → magnets = 2.7 / 0.03 = 90 t; shortfall 10 t of 100.
    m = RebalanceModel(nodes, edges)
    inp = m.year_inputs(nodes, edges, blocked={"t_dy": 0.5})
    sol = m.solve(inp)
    short = m.shortfall_table(inp, sol).set_index("node")
    assert short.loc["JP:magnet:use", "shortfall_t"] == pytest.approx(100 - 2.7 / 0.03)
    assert short.loc["AU:dy:use", "shortfall_t"] == pytest.approx(0.0)
    f = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
    assert f["reroute.dy.AU.JP"] == pytest.approx(1.2)
    assert f["reroute.dy.CN.AU"] == pytest.approx(1.0)
    # with transshipment allowed the ban is circumvented through AU: no shortfall
    m2 = RebalanceModel(nodes, edges, transshipment=True)
    sol2 = m2.solve(m2.year_inputs(nodes, edges, blocked={"t_dy": 0.5}))
    assert sol2.shortfall.sum() == pytest.approx(0.0)


def test_cost_level_prefers_the_untaxed_supplier() -> None:
    # two alternatives with spare capacity, one taxed: the LP takes the untaxed one.
    nodes, edges = table(
        [("a", "facility", "AU", "x", 200.0), ("b", "facility", "BR", "x", 200.0), ("c", "facility", "CN", "x", 100.0),
         ("AU:x", "market", "AU", "x", NAN), ("BR:x", "market", "BR", "x", NAN), ("CN:x", "market", "CN", "x", NAN),
         ("US:x", "market", "US", "x", NAN), ("US:x:use", "use", "US", "x", NAN),
         ("AU:x:use", "use", "AU", "x", NAN), ("BR:x:use", "use", "BR", "x", NAN)],
        [("sa", "a", "AU:x", 100, "supply"), ("sb", "b", "BR:x", 100, "supply"), ("sc", "c", "CN:x", 100, "supply"),
         ("ta", "AU:x", "US:x", 0.001, "trade"), ("tb", "BR:x", "US:x", 0.001, "trade"),
         ("tc", "CN:x", "US:x", 100, "trade"), ("ua", "AU:x", "AU:x:use", 99.999, "use"),
         ("ub", "BR:x", "BR:x:use", 99.999, "use"), ("uu", "US:x", "US:x:use", 100.002, "use")],
    )
    m = RebalanceModel(nodes, edges)
    cost = np.zeros(len(m.edges))
    cost[m.edge_positions(["tb"])] = 500.0  # tariff on Brazilian supply
    sol = m.solve(m.year_inputs(nodes, edges, blocked={"tc": 1.0}, cost=cost))
    f = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
    # US needs 100.002 t without CN. Level 1 is met either way (AU and BR have 100 t spare each);
    # level 3 (cost) moves even the taxed 0.001 t baseline to AU: cost 0.
    assert f["ta"] == pytest.approx(100.002)
    assert f["tb"] == pytest.approx(0.0, abs=1e-8)  # the cost level's optimal face is kept (reduced cost 500 > 0)
    assert sol.objectives["cost"] == pytest.approx(0.0, abs=1e-9)
    # without the tariff every split of the 100 t gap deviates 100 t from the baseline (a tie
    # at level 4); neither supplier drops below its baseline
    sol0 = m.solve(m.year_inputs(nodes, edges, blocked={"tc": 1.0}))
    f0 = dict(zip(m.edges["edge"], sol0.tonnes, strict=True))
    assert f0["ta"] + f0["tb"] == pytest.approx(100.002)
    assert min(f0["ta"], f0["tb"]) >= 0.001 - 1e-9


def test_stock_draw_only_after_rerouting_and_within_the_stock() -> None:
    nodes, edges = one_commodity()
    m = RebalanceModel(nodes, edges, stocks=["US:x"])
    inp = m.year_inputs(nodes, edges, blocked={"t_cn_us": 1.0}, stock={"US:x": 150.0})
    sol = m.solve(inp)
    # AU gives 200 t more; the stock covers 150 of the remaining 400 t: shortfall 250 t.
    assert sol.stock_draw.tolist() == pytest.approx([150.0])
    assert sol.shortfall.sum() == pytest.approx(250.0)
    # with the ban lifted the stock is not touched (level 2 minimises draws)
    sol2 = m.solve(m.year_inputs(nodes, edges, stock={"US:x": 150.0}))
    assert sol2.stock_draw.tolist() == pytest.approx([0.0])


def test_quota_row_binds_and_is_released() -> None:
    from supplychain.simulation.rebalance import QuotaRow

    nodes, edges = one_commodity()
    m = RebalanceModel(nodes, edges)
    inp = m.year_inputs(nodes, edges)
    # a quota of 50 t on all AU exports (to the US and the candidate route to CN)
    quota = QuotaRow("au_quota", m.edge_positions(["t_au_us", "reroute.x.AU.CN"]), np.ones(2), 50.0)
    from dataclasses import replace

    sol = m.solve(replace(inp, quotas=(quota,)))
    f = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
    # AU may export 50 t, CN's mine makes at most 800 t: 850 t reach the 900 t of demand
    # (CN 200, US 700). The default rule without floors rations max-min fair: both users lose
    # the same share, 50/900 = 5.56 %: CN 11.11 t, US 38.89 t short.
    assert f["t_au_us"] == pytest.approx(50.0)
    short = m.shortfall_table(replace(inp, quotas=(quota,)), sol).set_index("node")["shortfall_t"]
    assert short.to_dict() == pytest.approx({"CN:x:use": 200 * 50 / 900, "US:x:use": 700 * 50 / 900})
    sol2 = m.solve(inp)  # quota not in force any more: the row is relaxed
    assert sol2.shortfall.sum() == pytest.approx(0.0)


def test_infeasible_commitment_names_the_constraint_group() -> None:
    nodes, edges = one_commodity()
    # an offtake of 500 t from AU (capacity 300 t) cannot be met: the AU market cannot balance
    m = RebalanceModel(nodes, edges, transshipment=True)
    with pytest.raises(SolverError, match=r"infeasible at level 'shortfall'.*market balance at AU:x") as err:
        m.solve(m.year_inputs(nodes, edges, lower={"t_au_us": 500.0}))
    assert "bounds of capacity of au_mine" in str(err.value)
    # with re-export limits the same conflict may be stated at the AU market's export row
    m2 = RebalanceModel(nodes, edges)
    with pytest.raises(SolverError, match=r"(market balance|re-export limit) at AU:x"):
        m2.solve(m2.year_inputs(nodes, edges, lower={"t_au_us": 500.0}))


def test_solver_failure_is_an_error_never_a_zero() -> None:
    nodes, edges = one_commodity()
    m = RebalanceModel(nodes, edges, options={"time_limit": 0.0})
    with pytest.raises(SolverError, match=r"HiGHS stopped at level '\w+' with status 'Time limit reached'"):
        m.solve(m.year_inputs(nodes, edges, blocked={"t_cn_us": 1.0}))


def test_candidate_edges_complete_new_facilities() -> None:
    nodes, edges = one_commodity()
    nodes = pd.concat([nodes, pd.DataFrame([("us_new", "facility", "US", "x", 50.0)], columns=nodes.columns)])
    y = facility_yields(nodes, edges)
    cand = candidate_edges(nodes, edges, y).set_index("edge")
    # the new US facility gets a supply edge to its country's market
    assert cand.loc["supply.us_new.x", "buyer"] == "US:x"
    m = RebalanceModel(nodes, edges, y)
    sol = m.solve(m.year_inputs(nodes, edges, blocked={"t_cn_us": 1.0}))
    # 400 t short without it, 50 t of new capacity: 350 t.
    assert sol.shortfall.sum() == pytest.approx(350.0)


# ------------------------------------------------------------ property
@st.composite
def networks(draw: Any) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Random 1–2 stage networks: mines → markets → trade → use, optionally a converter."""
    n_c = draw(st.integers(2, 5))
    countries = [f"C{i}" for i in range(n_c)]
    nodes: list[tuple[str, str, str, str, float]] = []
    edges: list[tuple[str, str, str, float, str]] = []
    for c in countries:
        nodes.append((f"{c}:x", "market", c, "x", NAN))
        nodes.append((f"{c}:x:use", "use", c, "x", NAN))
    supply = {}
    for c in countries:
        if draw(st.booleans()):
            out = draw(st.integers(10, 200))
            cap = out + draw(st.integers(0, 100))
            nodes.append((f"m_{c}", "facility", c, "x", float(cap)))
            edges.append((f"s_{c}", f"m_{c}", f"{c}:x", float(out), "supply"))
            supply[c] = float(out)
    if not supply:
        c = countries[0]
        nodes.append((f"m_{c}", "facility", c, "x", 100.0))
        edges.append((f"s_{c}", f"m_{c}", f"{c}:x", 100.0, "supply"))
        supply[c] = 100.0
    avail = dict(supply)
    inflow = {c: supply.get(c, 0.0) for c in countries}
    for s in sorted(supply):
        for b in countries:
            if b != s and draw(st.booleans()):
                t = round(avail[s] * draw(st.floats(0.1, 0.6)), 3)
                avail[s] -= t
                inflow[b] += t
                inflow[s] -= t
                edges.append((f"t_{s}_{b}", f"{s}:x", f"{b}:x", t, "trade"))
    conv = draw(st.booleans())
    for c in countries:
        use = inflow[c]
        if conv and c == countries[-1] and use > 1:
            half = round(use / 2, 3)
            nodes += [("conv", "facility", c, "y", 2 * half), (f"{c}:y", "market", c, "y", NAN),
                      (f"{c}:y:use", "use", c, "y", NAN)]
            edges += [("in_conv", f"{c}:x", "conv", half, "input"), ("out_conv", "conv", f"{c}:y", half / 2, "supply"),
                      ("u_y", f"{c}:y", f"{c}:y:use", half / 2, "use")]
            use -= half
        if use > 0:
            edges.append((f"u_{c}", f"{c}:x", f"{c}:x:use", round(use, 6), "use"))
    n, e = table(nodes, edges)
    trade = (e["kind"] == "trade").to_numpy()
    b = np.zeros(len(e))
    b[trade] = [draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])) for _ in range(int(trade.sum()))]
    return n, e, b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_rebalance_never_does_worse_than_fixed(net: tuple[pd.DataFrame, pd.DataFrame, np.ndarray]) -> None:
    """The fixed outcome is a feasible point of the LP, so re-routing can only help.

    ``contracts_first`` with the fixed shortfalls as floors (what a run passes): no user is
    shorter than under ``fixed``. ``max_delivery``: no more tonnes short in total than under
    ``fixed`` (level 1 minimises Σ z_u / D_k, one commodity here). Without floors a rule
    promises neither: ``proportional`` shares a shortage evenly, so a user the fixed outcome
    spared can lose (C0 mines 10 t, C2 10 t; a 25 % block on C0's exports leaves C1 15 % and
    C2 5 % short under ``fixed``, both 10.7 % under ``proportional``).
    """
    nodes, edges, b = net
    fx = propagate_fixed(nodes, edges, b)
    # fixed never re-routes: no edge carries more than its baseline
    assert np.all(fx.tonnes <= edges["tonnes"].to_numpy() * (1 + 1e-12) + 1e-12)
    fshort = shortfall_table(fx.index, edges, fx.tonnes).set_index("node")["shortfall_t"]
    m = RebalanceModel(nodes, edges)
    inp = m.year_inputs(nodes, edges, blocked=dict(zip(edges["edge"], b, strict=True)))
    users = m.nodes["node"].astype(str).to_numpy()[m.uses]
    floor = fshort.reindex(users).to_numpy(dtype=float)
    contracts = m.shortfall_table(inp, m.solve(replace(inp, rule="contracts_first", floor=floor)))
    z = contracts.set_index("node")["shortfall_t"]
    assert (z >= -1e-9).all()
    assert (z <= fshort.reindex(z.index).fillna(0.0) + 1e-6).all(), "a user is shorter than under fixed"
    most = m.shortfall_table(inp, m.solve(replace(inp, rule="max_delivery"))).set_index("node")["shortfall_t"]
    com = nodes.set_index("node")["commodity"]
    uses = edges[edges["kind"] == "use"]
    demand_k = uses.groupby(uses["buyer"].map(com))["tonnes"].sum()  # D_k: the commodity's total demand

    def level_1(z: pd.Series) -> float:
        return float((z / z.index.map(com).map(demand_k).to_numpy()).fillna(0.0).sum())

    assert level_1(most) <= level_1(fshort) + 1e-9
    assert (most >= -1e-9).all()


# ------------------------------------------------ block solve: re-use and threads
def three_chains() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``one_commodity`` three times over, for commodities xa, xb, xc (sizes ×1, ×2, ×3): three blocks."""
    nodes: list[tuple[str, str, str, str, float]] = []
    edges: list[tuple[str, str, str, float, str]] = []
    for i, t in enumerate("abc"):
        k, f = f"x{t}", float(i + 1)
        nodes += [(f"cn_mine{t}", "facility", "CN", k, 800.0 * f), (f"au_mine{t}", "facility", "AU", k, 300.0 * f),
                  (f"CN:{k}", "market", "CN", k, NAN), (f"AU:{k}", "market", "AU", k, NAN),
                  (f"US:{k}", "market", "US", k, NAN), (f"CN:{k}:use", "use", "CN", k, NAN),
                  (f"US:{k}:use", "use", "US", k, NAN)]
        edges += [(f"s_cn{t}", f"cn_mine{t}", f"CN:{k}", 800 * f, "supply"),
                  (f"s_au{t}", f"au_mine{t}", f"AU:{k}", 100 * f, "supply"),
                  (f"t_cn_us{t}", f"CN:{k}", f"US:{k}", 600 * f, "trade"),
                  (f"t_au_us{t}", f"AU:{k}", f"US:{k}", 100 * f, "trade"),
                  (f"u_cn{t}", f"CN:{k}", f"CN:{k}:use", 200 * f, "use"),
                  (f"u_us{t}", f"US:{k}", f"US:{k}:use", 700 * f, "use")]
    return table(nodes, edges)


def _same_optima(got: Any, want: Any) -> None:
    assert set(got.objectives) == set(want.objectives)
    for level, v in want.objectives.items():
        assert got.objectives[level] == pytest.approx(v, rel=1e-9, abs=1e-9), level
    assert got.shortfall == pytest.approx(want.shortfall, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("objective", ["lexicographic", "weighted"])
def test_block_solve_keeps_unchanged_blocks_and_matches_the_monolithic_optimum(objective: Any) -> None:
    from dataclasses import replace

    from supplychain.simulation.blocks import BlockRebalance

    nodes, edges = three_chains()
    mono = RebalanceModel(nodes, edges, objective=objective)
    blocks = BlockRebalance(RebalanceModel(nodes, edges, objective=objective), min_cols=1)
    assert len(blocks.blocks) == 3
    cost = np.zeros(len(mono.edges))
    cost[mono.edge_positions(["t_au_usb"])] = 50.0  # a cost level, in chain b
    base = mono.year_inputs(nodes, edges, cost=cost)
    steps = [
        (base, False, 3),
        (base, True, 0),  # nothing changed: every block keeps its solution
        (mono.year_inputs(nodes, edges, cost=cost, blocked={"t_cn_usa": 1.0}), True, 1),  # a ban in chain a only
        (mono.year_inputs(nodes, edges, cost=cost, blocked={"t_cn_usa": 1.0, "t_cn_usc": 0.5}), True, 1),
        (mono.year_inputs(nodes, edges, cost=cost, blocked={"t_cn_usa": 1.0, "t_cn_usc": 0.5}), False, 3),
    ]
    for inp, warm, redone in steps:
        want = mono.solve(inp, warm=False)
        got = blocks.solve(inp, warm=warm)
        assert blocks.last_solved == redone
        _same_optima(got, want)
    # chain a without its CN exports: 600 t short of 700 t at US:xa, AU has 200 t spare (300 − 100)
    assert got.shortfall[list(mono.nodes["node"].iloc[mono.uses]).index("US:xa:use")] == pytest.approx(400.0)
    # demand of one chain changes every block's normalised shortfall weight: all re-solved, still exact
    inp = replace(steps[-1][0], demand=steps[-1][0].demand * np.where(np.arange(len(mono.uses)) == 0, 1.1, 1.0))
    _same_optima(blocks.solve(inp, warm=True), mono.solve(inp, warm=False))
    assert blocks.last_solved == 3


def test_block_solve_reuse_follows_a_quota_inside_one_block() -> None:
    from dataclasses import replace

    from supplychain.simulation.blocks import BlockRebalance
    from supplychain.simulation.rebalance import QuotaRow

    nodes, edges = three_chains()
    mono = RebalanceModel(nodes, edges)
    blocks = BlockRebalance(RebalanceModel(nodes, edges), min_cols=1)
    base = mono.year_inputs(nodes, edges, blocked={"t_cn_usb": 1.0})
    q = mono.edge_positions(["t_au_usb"])
    for cap, redone in ((1000.0, 3), (250.0, 1), (250.0, 0), (1000.0, 1)):
        inp = replace(base, quotas=(QuotaRow("quota_b", q, np.ones(1), cap),))
        want = mono.solve(inp, warm=False)
        got = blocks.solve(inp)
        assert blocks.last_solved == redone
        _same_optima(got, want)
    # without the quota row the block is re-solved (its row released) and chain b gets AU's spare 400 t
    got = blocks.solve(base)
    assert blocks.last_solved == 1
    _same_optima(got, mono.solve(base, warm=False))


@pytest.mark.parametrize("objective", ["lexicographic", "weighted"])
def test_block_solve_on_two_threads_gives_the_same_solution(objective: Any) -> None:
    from supplychain.simulation.blocks import BlockRebalance

    nodes, edges = three_chains()
    mono = RebalanceModel(nodes, edges, objective=objective)
    one = BlockRebalance(RebalanceModel(nodes, edges, objective=objective), min_cols=1)
    two = BlockRebalance(RebalanceModel(nodes, edges, objective=objective), min_cols=1, threads=2)
    try:
        for blocked in ({}, {"t_cn_usa": 1.0, "t_cn_usb": 0.5}, {"t_au_usc": 1.0, "t_cn_usc": 1.0}):
            inp = mono.year_inputs(nodes, edges, blocked=blocked)
            a, b = one.solve(inp), two.solve(inp)
            # blocks are summed in block order whatever the threads: bit for bit the same
            assert a.objectives == b.objectives
            np.testing.assert_array_equal(a.tonnes, b.tonnes)
            _same_optima(b, mono.solve(inp, warm=False))
    finally:
        two.close()


def test_flow_round_off_is_reported_as_zero() -> None:
    # An edge the optimum leaves empty can come back as ~1e-13 t from the LP, or as a few
    # 1e-8 t (within HiGHS' primal tolerance 1e-7; 3.3e-8 t measured on path_to_2030); the
    # measures would then count its supplier (share 1 of 1e-8 t). Flows up to FLOW_TOL
    # (1e-6 t, a gram) are round-off and set to 0; real flows (here 1e-5 t) are kept.
    from supplychain.simulation.lpdata import FLOW_TOL, RebalanceSolution, _Cols

    c = _Cols(f_lo=0, f_hi=4, act=8, short=8, gap=8, draw=8, uns=8, n=8)
    x = np.array([4.8e-13, 1e-5, 5.0, 3.3e-8, -1e-14, 0.0, 0.0, 0.0])  # f_lo of 4 edges, then f_hi
    sol = RebalanceSolution.from_columns(x, c, 4, objectives={}, iterations=0, seconds=0.0, warm=False)
    assert FLOW_TOL == 1e-6
    assert list(sol.tonnes) == [0.0, 1e-5, 5.0, 0.0]


def test_lexicographic_restores_the_priority_the_weighted_start_gives_up() -> None:
    # The lexicographic solve starts from the weighted optimum; where the weights get the
    # priority wrong, the rationing after the start must put it right.
    # US needs 1,000,000 t, all from CN; AU (a small user of 1 t) could raise output to
    # 1,000,001 t. CN's exports are banned.
    # The start weighs unmet demand as shares (weights 1e5 : 1e3 : 1e2 : 10 : 1 on normalised
    # levels, docs/rebalance.md): shortfall is normalised by the largest 1/D (AU's 1/1), so a
    # tonne short at US costs 1e5 * (1/1e6) / 1 = 0.1, while a tonne re-routed moves the AU
    # mine's supply and the AU->US edge, deviation ~2 (tie-break +-0.1 %). The start leaves the
    # US 1,000,000 t short; the rationing (max-min fair) re-routes all of it: shortfall 0, AU
    # supplies 1,000,001 t.
    # The weighted objective (allocation max_delivery) weighs a tonne short as 1/D_k, the
    # commodity's total demand: normalised, 1e5 per tonne against ~2 of deviation, so it
    # re-routes too.
    nodes, edges = table(
        [("cn_mine", "facility", "CN", "x", 1e6), ("au_mine", "facility", "AU", "x", 1e6 + 1),
         ("CN:x", "market", "CN", "x", NAN), ("AU:x", "market", "AU", "x", NAN), ("US:x", "market", "US", "x", NAN),
         ("AU:x:use", "use", "AU", "x", NAN), ("US:x:use", "use", "US", "x", NAN)],
        [("s_cn", "cn_mine", "CN:x", 1e6, "supply"), ("s_au", "au_mine", "AU:x", 1, "supply"),
         ("t_cn_us", "CN:x", "US:x", 1e6, "trade"), ("u_au", "AU:x", "AU:x:use", 1, "use"),
         ("u_us", "US:x", "US:x:use", 1e6, "use")],
    )
    for objective, us_short, au_supply in (("weighted", 0.0, 1e6 + 1), ("lexicographic", 0.0, 1e6 + 1)):
        m = RebalanceModel(nodes, edges, objective=objective)
        inp = m.year_inputs(nodes, edges, blocked={"t_cn_us": 1.0})
        sol = m.solve(inp)
        if objective == "lexicographic":  # the start left the US short: the rationing ran
            assert sol.iterations > 0
        short = m.shortfall_table(inp, sol).set_index("node")
        f = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
        assert short.loc["US:x:use", "shortfall_t"] == pytest.approx(us_short, abs=1e-6), objective
        assert f["s_au"] == pytest.approx(au_supply), objective
        assert short.loc["AU:x:use", "shortfall_t"] == pytest.approx(0.0, abs=1e-9), objective
        # block by block, the same (the settled/solved decisions are taken per block)
        from supplychain.simulation.blocks import BlockRebalance

        sb = BlockRebalance(RebalanceModel(nodes, edges, objective=objective), min_cols=1).solve(inp)
        np.testing.assert_allclose(sb.tonnes, sol.tonnes, rtol=1e-9, atol=1e-6)


def test_no_cross_haul_where_the_deviation_is_tied(monkeypatch: pytest.MonkeyPatch) -> None:
    # JP mine 60 t (at capacity) and CN's 160 t feed JP's market: 200 t to JP use, 20 t on to the US
    # (e_jp_us). The US mine (100 t, at capacity) and those 20 t feed US use (120 t). CN's exports are
    # banned (the observed edge and its re-routing candidate to the US).
    # Left: 60 + 100 = 160 t for 200 + 120 = 320 t of demand. Proportional rationing: every user
    # gets 160/320 = 50 %, JP 100 t, US 60 t. JP makes 60 t, so 40 t net must go from the US to JP,
    # over the candidate reroute.x.US.JP. Two ways, equally close to the baseline (deviation, t):
    #   X, a cross-haul: keep e_jp_us at 20, send 60 to JP:   |0| + 60      = 60
    #   Y:               cut e_jp_us to 0, send 40 to JP:     |−20| + 40    = 60
    # (every other edge moves alike: the uses −100 and −60, CN's edges −160). The ranks alone
    # (1 + τr on every column, levels.tie_ranks) pick X when r_hi(reroute.x.US.JP) < r_lo(e_jp_us):
    # X − Y = 20τ(r_hi − r_lo). With a tonne of new cross-border trade weighing τ more (NEW_TRADE),
    # X − Y = 20τ(1 + r_hi − r_lo) > 0: Y, whatever the ranks. The ranks are set here to the case where
    # they alone would keep the cross-haul (r_hi = 0 on the candidate, r_lo = 0.99 on e_jp_us).
    from supplychain.simulation import rebalance as rb
    from supplychain.simulation.levels import tie_ranks

    ids: list[str] = []  # the model's edge ids, filled once it is built

    def adverse(keys: Any, h: Any) -> tuple[Any, Any]:
        lo, hi = tie_ranks(keys, h)
        if len(lo) == len(ids):  # the edges' ranks (not the markets')
            lo[ids.index("e_jp_us")] = 0.99
            hi[ids.index("reroute.x.US.JP")] = 0.0
        return lo, hi

    monkeypatch.setattr(rb, "tie_ranks", adverse)

    nodes, edges = table(
        [("jp_mine", "facility", "JP", "x", 60.0), ("us_mine", "facility", "US", "x", 100.0),
         ("cn_mine", "facility", "CN", "x", 160.0),
         ("JP:x", "market", "JP", "x", NAN), ("US:x", "market", "US", "x", NAN), ("CN:x", "market", "CN", "x", NAN),
         ("JP:x:use", "use", "JP", "x", NAN), ("US:x:use", "use", "US", "x", NAN)],
        [("s_jp", "jp_mine", "JP:x", 60, "supply"), ("s_us", "us_mine", "US:x", 100, "supply"),
         ("s_cn", "cn_mine", "CN:x", 160, "supply"), ("t_cn_jp", "CN:x", "JP:x", 160, "trade"),
         ("e_jp_us", "JP:x", "US:x", 20, "trade"),
         ("u_jp", "JP:x", "JP:x:use", 200, "use"), ("u_us", "US:x", "US:x:use", 120, "use")],
    )
    m = RebalanceModel(nodes, edges, allocation="proportional")
    ids.extend(m.edges["edge"].astype(str))
    inp = m.year_inputs(nodes, edges, blocked={"t_cn_jp": 1.0, "reroute.x.CN.US": 1.0})
    sol = m.solve(inp)
    flow = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
    assert flow["e_jp_us"] == pytest.approx(0.0, abs=1e-6)
    assert flow["reroute.x.US.JP"] == pytest.approx(40.0)
    short = m.shortfall_table(inp, sol).set_index("node")["shortfall_t"]
    assert short["JP:x:use"] == pytest.approx(100.0)
    assert short["US:x:use"] == pytest.approx(60.0)
    # the deviation is reported without the tie-break, in tonnes here (one commodity): the uses 100 + 60,
    # CN's edges 160 + 160, and Y's 20 + 40 = 540 t (X's would be 540 t too)
    assert sol.objectives["deviation"] == pytest.approx(540.0)


def test_a_joint_product_nobody_else_takes_displaces_a_home_plant_that_can_stop() -> None:
    # AU's plant makes y for AU's users (100 t, at capacity) and, jointly, 50 t of x (0.5 t per t
    # of y), all sold to CN in the baseline. The US plant makes 60 t of x (capacity 60): 40 t to
    # US use, 20 t to the US surplus (no known destination: not demand, at most its baseline 20 t).
    # CN, which has no users of x of its own (its imports go to its surplus), stops importing x (the
    # edge and the re-routing candidate from the US are blocked).
    # Level 1: AU's users need all 100 t of y, so AU's plant runs in full and makes 50 t of x.
    # Level 4 (unsold, Σ_m u_m / T_k): those 50 t are unsold at AU unless a buyer takes them. The US
    # market takes them (a new route AU→US) if the US plant makes 50 t less, which is not unsold
    # but curtailed, and curtailed output does not count: unsold 0 t against 50 t. So the US plant
    # makes 10 t, and the US market gets 50 + 10 = 60 t: 40 t to its users, 20 t to its surplus.
    # This is the rule, not a tie: material made anyway (a joint product) is sold before a plant
    # that can stop runs. (Counting curtailed output like unsold would not help: a plant that stops
    # also stops its suppliers, so a stopped chain would count at every stage, more than the same
    # tonnes made and left unsold at the last one, and making for nobody would win.)
    nodes, edges = table(
        [("au_plant", "facility", "AU", "y", 100.0), ("us_plant", "facility", "US", "x", 60.0),
         ("AU:y", "market", "AU", "y", NAN), ("AU:x", "market", "AU", "x", NAN), ("US:x", "market", "US", "x", NAN),
         ("CN:x", "market", "CN", "x", NAN),
         ("AU:y:use", "use", "AU", "y", NAN), ("US:x:use", "use", "US", "x", NAN),
         ("CN:x:surplus", "surplus", "CN", "x", NAN), ("US:x:surplus", "surplus", "US", "x", NAN)],
        [("s_au_y", "au_plant", "AU:y", 100, "supply"), ("s_au_x", "au_plant", "AU:x", 50, "supply"),
         ("s_us", "us_plant", "US:x", 60, "supply"), ("t_au_cn", "AU:x", "CN:x", 50, "trade"),
         ("u_au", "AU:y", "AU:y:use", 100, "use"), ("u_us", "US:x", "US:x:use", 40, "use"),
         ("surplus.CN:x", "CN:x", "CN:x:surplus", 50, "surplus"),
         ("surplus.US:x", "US:x", "US:x:surplus", 20, "surplus")],
    )
    m = RebalanceModel(nodes, edges)
    inp = m.year_inputs(nodes, edges, blocked={"t_au_cn": 1.0, "reroute.x.US.CN": 1.0})
    sol = m.solve(inp)
    flow = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
    assert flow["s_au_x"] == pytest.approx(50.0)
    assert flow["reroute.x.AU.US"] == pytest.approx(50.0)
    assert flow["s_us"] == pytest.approx(10.0)
    assert flow["surplus.US:x"] == pytest.approx(20.0)
    assert flow["u_us"] == pytest.approx(40.0)
    assert float(sol.unsold.sum()) == pytest.approx(0.0, abs=1e-9)
