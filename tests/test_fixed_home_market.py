"""The ``fixed`` response keeps a banned export at home: a country is never short because it stopped exporting.

Rule (docs/rebalance.md, "`fixed`"): a seller — a market, or a plant per output commodity —
shares what it has over the edges still permitted, each buyer at most its baseline; what no
permitted buyer takes is not made (a plant is curtailed by what it can no longer sell, never
below what its permitted buyers take). Every expected number is derived here by hand.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from supplychain.simulation.fixed import propagate_fixed, shortfall_table
from supplychain.simulation.rebalance import RebalanceModel

NAN = float("nan")


def network(nodes: list[tuple[str, str, str, str, float]], edges: list[tuple[str, str, str, str, float]]
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """nodes: (id, kind, country, commodity, capacity); edges: (id, supplier, buyer, commodity, tonnes)."""
    n = pd.DataFrame(nodes, columns=["node", "kind", "country", "commodity", "capacity"])
    country = dict(zip(n["node"], n["country"], strict=True))
    e = pd.DataFrame(edges, columns=["edge", "supplier", "buyer", "commodity", "tonnes"])
    e["supplier_country"] = e["supplier"].map(country)
    e["buyer_country"] = e["buyer"].map(country)
    e["kind"] = ["use" if b.endswith(":use") else "trade" if ":" in s and ":" in b else "input" if ":" in s
                 else "supply" for s, b in zip(e["supplier"], e["buyer"], strict=True)]
    e["stage"] = "magnet"
    return n, e


def magnet_country() -> tuple[pd.DataFrame, pd.DataFrame]:
    # China mines 80 t of ore and imports 20 t from the US; its plant makes 1 t of magnets per t
    # of ore (100 t); China uses 70 t of magnets and exports 30 t to Japan.
    return network(
        [("us_mine", "facility", "US", "ore", 20.0), ("cn_mine", "facility", "CN", "ore", 80.0),
         ("US:ore", "market", "US", "ore", NAN), ("CN:ore", "market", "CN", "ore", NAN),
         ("cn_plant", "facility", "CN", "mag", 100.0), ("CN:mag", "market", "CN", "mag", NAN),
         ("JP:mag", "market", "JP", "mag", NAN), ("CN:mag:use", "use", "CN", "mag", NAN),
         ("JP:mag:use", "use", "JP", "mag", NAN)],
        [("s_us", "us_mine", "US:ore", "ore", 20.0), ("s_cn", "cn_mine", "CN:ore", "ore", 80.0),
         ("t_ore", "US:ore", "CN:ore", "ore", 20.0), ("in_ore", "CN:ore", "cn_plant", "ore", 100.0),
         ("out_mag", "cn_plant", "CN:mag", "mag", 100.0), ("u_cn", "CN:mag", "CN:mag:use", "mag", 70.0),
         ("t_mag", "CN:mag", "JP:mag", "mag", 30.0), ("u_jp", "JP:mag", "JP:mag:use", "mag", 30.0)],
    )


def test_a_country_is_not_short_of_what_it_stopped_exporting() -> None:
    # The US stops selling ore to China (t_ore blocked) and China bans its magnet exports (t_mag).
    # Forward: CN:ore gets 80 of 100 t, s = 0.8; the plant (one input) runs at 0.8 → 80 t of magnets.
    # CN:mag may still sell only to China's use (baseline 70 t): σ = min(1, 80 / (100 − 30)) = 1,
    # so China's use gets its 70 t. (Sharing the 80 t over all 100 t of baseline buyers, blocked
    # export included, gave China 0.8 × 70 = 56 t: 14 t short under its own ban.) Japan: 0 of 30 t.
    # Backward: CN:mag passes 70 of its 80 t, ρ = 7/8; the plant makes 80 × 7/8 = 70 t (curtailed by
    # the 30 t export, never below China's 70 t); it takes 80 × 7/8 = 70 t of ore; CN:ore passes 70
    # of its 80 t (the US's 20 t blocked), so China's mine makes 80 × 7/8 = 70 t.
    nodes, edges = magnet_country()
    b = edges["edge"].isin(["t_ore", "t_mag"]).to_numpy(dtype=float)
    fx = propagate_fixed(nodes, edges, b)
    f = dict(zip(edges["edge"], fx.tonnes, strict=True))
    assert f == pytest.approx({"s_us": 0.0, "s_cn": 70.0, "t_ore": 0.0, "in_ore": 70.0, "out_mag": 70.0,
                               "u_cn": 70.0, "t_mag": 0.0, "u_jp": 0.0})
    short = shortfall_table(fx.index, edges, fx.tonnes).set_index("node")["shortfall_t"]
    assert short["CN:mag:use"] == 0.0
    assert short["JP:mag:use"] == pytest.approx(30.0)
    assert not fx.unsold.any()
    # the outcome is a point of the LP: re-routing with the fixed shortfalls as floors does no worse
    m = RebalanceModel(nodes, edges)
    inp = m.year_inputs(nodes, edges, blocked={"t_ore": 1.0, "t_mag": 1.0})
    users = m.nodes["node"].astype(str).to_numpy()[m.uses]
    sol = m.solve(replace(inp, rule="contracts_first", floor=short.reindex(users).to_numpy(dtype=float)))
    z = m.shortfall_table(inp, sol).set_index("node")["shortfall_t"]
    assert z["CN:mag:use"] == pytest.approx(0.0, abs=1e-6)


def test_a_short_input_still_cuts_home_use_in_proportion_without_a_ban() -> None:
    # Only the US ore is blocked: China's magnet market gets 80 t for 100 t of permitted buyers,
    # σ = 0.8, and China's use and Japan lose alike: 70 × 0.2 = 14 t and 30 × 0.2 = 6 t short.
    nodes, edges = magnet_country()
    fx = propagate_fixed(nodes, edges, (edges["edge"] == "t_ore").to_numpy(dtype=float))
    short = shortfall_table(fx.index, edges, fx.tonnes).set_index("node")["shortfall_t"]
    assert short["CN:mag:use"] == pytest.approx(14.0)
    assert short["JP:mag:use"] == pytest.approx(6.0)


def test_a_plant_selling_abroad_directly_serves_its_home_market_first() -> None:
    # A plant takes 100 t of ore from its own market (75 t mined at home, 25 t imported) and sells
    # 40 t of its output directly to Japan and 60 t to its home market, whose use takes 60 t.
    # The import and the export to Japan are blocked. Forward: the plant runs at s = 0.75 (75 t of
    # output); its permitted buyers took 60 t in the baseline, σ = min(1, 75/60) = 1: home use gets
    # its 60 t (0.75 × 60 = 45 t before). Backward: it sells 60 of the 75 t it makes, ρ = 0.8, so it
    # makes 60 t (curtailed by the 40 t it can no longer sell) from 0.75 × 100 × 0.8 = 60 t of ore.
    nodes, edges = network(
        [("mine", "facility", "KR", "ore", 75.0), ("AU:ore", "market", "AU", "ore", NAN),
         ("KR:ore", "market", "KR", "ore", NAN), ("plant", "facility", "KR", "mag", 100.0),
         ("KR:mag", "market", "KR", "mag", NAN), ("JP:mag", "market", "JP", "mag", NAN),
         ("KR:mag:use", "use", "KR", "mag", NAN), ("JP:mag:use", "use", "JP", "mag", NAN)],
        [("s", "mine", "KR:ore", "ore", 75.0), ("imp", "AU:ore", "KR:ore", "ore", 25.0),
         ("in", "KR:ore", "plant", "ore", 100.0), ("x_jp", "plant", "JP:mag", "mag", 40.0),
         ("home", "plant", "KR:mag", "mag", 60.0), ("u_kr", "KR:mag", "KR:mag:use", "mag", 60.0),
         ("u_jp", "JP:mag", "JP:mag:use", "mag", 40.0)],
    )
    fx = propagate_fixed(nodes, edges, edges["edge"].isin(["imp", "x_jp"]).to_numpy(dtype=float))
    f = dict(zip(edges["edge"], fx.tonnes, strict=True))
    assert f == pytest.approx({"s": 60.0, "imp": 0.0, "in": 60.0, "x_jp": 0.0, "home": 60.0, "u_kr": 60.0,
                               "u_jp": 0.0})
    assert not fx.unsold.any()


def test_a_joint_product_blocked_abroad_is_unsold_not_lost() -> None:
    # A separation plant turns 100 t of ore into 20 t of NdPr (5 t sold directly to China, 15 t to
    # the US market) and 80 t of other oxides (US market, whose surplus node takes them). The plant's
    # sale to China is blocked. It still runs in full for the other oxides (ρ = max(15/20, 80/80)
    # = 1), so it makes 20 t of NdPr, sells 15 t: 5 t unsold. Inputs 100 t = outputs 15 + 5 + 80 t.
    # (Reading what it makes from the edges still open, 15 t, lost the 5 t: neither sold nor unsold.)
    nodes, edges = network(
        [("mine", "facility", "US", "ore", 100.0), ("US:ore", "market", "US", "ore", NAN),
         ("sep", "facility", "US", "ndpr", 20.0), ("CN:ndpr", "market", "CN", "ndpr", NAN),
         ("US:ndpr", "market", "US", "ndpr", NAN), ("US:other", "market", "US", "other", NAN),
         ("US:ndpr:use", "use", "US", "ndpr", NAN), ("CN:ndpr:use", "use", "CN", "ndpr", NAN),
         ("US:other:surplus", "surplus", "US", "other", NAN)],
        [("s", "mine", "US:ore", "ore", 100.0), ("in", "US:ore", "sep", "ore", 100.0),
         ("x_cn", "sep", "CN:ndpr", "ndpr", 5.0), ("o_nd", "sep", "US:ndpr", "ndpr", 15.0),
         ("o_ot", "sep", "US:other", "other", 80.0), ("u_us", "US:ndpr", "US:ndpr:use", "ndpr", 15.0),
         ("u_cn", "CN:ndpr", "CN:ndpr:use", "ndpr", 5.0), ("sur", "US:other", "US:other:surplus", "other", 80.0)],
    )
    fx = propagate_fixed(nodes, edges, (edges["edge"] == "x_cn").to_numpy(dtype=float))
    f = dict(zip(edges["edge"], fx.tonnes, strict=True))
    assert f["in"] == pytest.approx(100.0)
    assert f["o_nd"] == pytest.approx(15.0)
    assert f["o_ot"] == pytest.approx(80.0)
    unsold = dict(zip(edges["edge"], fx.unsold, strict=True))
    assert unsold["x_cn"] + unsold["o_nd"] == pytest.approx(5.0)
    assert f["in"] == pytest.approx(f["o_nd"] + f["o_ot"] + sum(unsold.values()))


def test_unrecorded_supply_within_round_off_is_none() -> None:
    # Korea's magnet market in the bundled full ban (2027): imports 168.347376 t (Estonia) and
    # 6,797.356489 t (China), final use 6,965.703865 t; the table builder's sums and scalings left
    # out − in = 9.2·10⁻⁹ t, 1.3·10⁻¹² of the sums: round-off (BALANCE_TOL: up to 10⁻⁹), not
    # unrecorded domestic supply. With both imports gone nothing reaches Korea's users: exactly
    # 0 t (9.2·10⁻⁹ t before the snap, so the shortfall printed ">99%" instead of 100%).
    imports = [168.347376, 6797.356489]
    use = sum(imports) + 9.2e-9  # what the table builder's sums left
    nodes, edges = network(
        [("EE:mag", "market", "EE", "mag", NAN), ("CN:mag", "market", "CN", "mag", NAN),
         ("KR:mag", "market", "KR", "mag", NAN), ("KR:mag:use", "use", "KR", "mag", NAN)],
        [("ee", "EE:mag", "KR:mag", "mag", imports[0]), ("cn", "CN:mag", "KR:mag", "mag", imports[1]),
         ("u", "KR:mag", "KR:mag:use", "mag", use)],
    )
    fx = propagate_fixed(nodes, edges, np.array([1.0, 1.0, 0.0]))
    assert fx.tonnes.tolist() == [0.0, 0.0, 0.0]
    # a real gap (1 t of unrecorded domestic supply) is kept: Korea's users get it
    edges.loc[2, "tonnes"] = sum(imports) + 1.0
    fx = propagate_fixed(nodes, edges, np.array([1.0, 1.0, 0.0]))
    assert fx.tonnes[2] == pytest.approx(1.0)
