"""Later years keep the base year's trade pattern (``supplychain.graph.pattern``).

Hand-worked: the derivation of every expected figure is in the test. Units: t.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from supplychain.api import simulate
from supplychain.graph.balance import market_balance
from supplychain.graph.build import build_tables
from supplychain.graph.pattern import ras
from supplychain.metrics.measures import compute_measures
from supplychain.schema.model import Scenario


def world(demand_growth: float = 0.0) -> Scenario:
    """Three mines, a separation plant with a direct export, an import entry and allocated trade.

    * CN mine 500 t ore → China (its separation plant takes 400 t; 100 t exported to JP).
    * AU mine 150 t → 100 t to JP (a flow), 50 t left with no named buyer (AU's surplus node).
    * JP: separation plant taking 200 t of ore; its oxide (100 t) goes half to a direct flow to the
      US and half to JP's own final use.
    * US oxide demand 120 t: 50 t from Japan's plant (a facility flow), the rest (70 t) allocated by
      the rule from China's spare oxide (CN makes 200 t of oxide and uses 100 t; the 30 t left go
      to China's surplus node).

    Every output is stated as capacity × utilisation, so later years have the same volumes; US
    oxide demand grows by ``demand_growth`` a year.
    """
    data: dict[str, Any] = {
        "scenario": {"name": "pattern", "base_year": 2024, "horizon": 2027},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}, "oxide": {"name": "Oxide", "stage": "oxide"}},
        "processes": {"sep": {"inputs": {"ore": 2}, "outputs": {"oxide": 1}}},
        "facilities": {
            "cn_mine": {"name": "CN mine", "country": "CN", "kind": "mine", "output": "ore",
                        "capacity": 500, "utilisation": 1.0},
            "au_mine": {"name": "AU mine", "country": "AU", "kind": "mine", "output": "ore",
                        "capacity": 150, "utilisation": 1.0},
            "cn_sep": {"name": "CN separation", "country": "CN", "kind": "separation", "process": "sep",
                       "capacity": 200, "utilisation": 1.0},
            "jp_sep": {"name": "JP separation", "country": "JP", "kind": "separation", "process": "sep",
                       "capacity": 100, "utilisation": 1.0},
        },
        "flows": {
            "cn_jp_ore": {"supplier": "CN", "buyer": "JP", "commodity": "ore", "year": 2024, "tonnes": 100},
            "au_jp_ore": {"supplier": "AU", "buyer": "JP", "commodity": "ore", "year": 2024, "tonnes": 100},
            "jp_us_oxide": {"supplier": "jp_sep", "buyer": "US", "commodity": "oxide", "year": 2024, "tonnes": 50},
        },
        "demand": {
            "cn_oxide": {"country": "CN", "commodity": "oxide", "year": 2024, "tonnes": 100},
            "jp_oxide": {"country": "JP", "commodity": "oxide", "year": 2024, "tonnes": 50},
            "us_oxide": {"country": "US", "commodity": "oxide", "year": 2024, "tonnes": 120,
                         "growth": demand_growth},
        },
    }
    return Scenario.model_validate(data)


def test_with_flat_volumes_every_later_year_repeats_the_base_year() -> None:
    s = world()
    base = compute_measures(s, 2024).drop(columns=["year"])
    for year in (2025, 2027):
        later = compute_measures(s, year).drop(columns=["year"])
        pd.testing.assert_frame_equal(later.reset_index(drop=True), base.reset_index(drop=True))
    # the base year's trade is carried under its own ids (the rule's allocation included)
    _, e24 = build_tables(s, 2024)
    _, e27 = build_tables(s, 2027)
    trade = ["alloc.oxide.CN.US", "flows.au_jp_ore", "flows.cn_jp_ore", "flows.jp_us_oxide"]
    for eid in trade:
        assert e27.set_index("edge").loc[eid, "tonnes"] == pytest.approx(e24.set_index("edge").loc[eid, "tonnes"])
    assert e24.set_index("edge").loc["alloc.oxide.CN.US", "tonnes"] == pytest.approx(70.0)


def test_growth_keeps_partner_shares_and_the_rest_is_allocated() -> None:
    # US oxide demand grows 50 %: 180 t in 2025.
    # * Japan's plant makes the same 100 t, so its direct flow keeps its share: 50 t to the US.
    # * The US market's deficit before market-to-market trade is 180 − 50 = 130 t; in the base year
    #   it was 70 t, all imported: it imports the same share (100 %), 130 t.
    # * China's oxide surplus before trade is 200 − 100 − 30 (its surplus node's base-year take, a
    #   buyer the data do not name) = 70 t, as in the base year, when it exported all 70 t: 70 t.
    # * RAS scales the larger side (the US's 130 t) down to the smaller (70 t): the pattern carries
    #   70 t on China's edge. The 60 t left are the rule's: China's residual after the pattern is the
    #   30 t its surplus node took; the rule allocates them to the US (the same edge id, 100 t in
    #   all) and the US stays 30 t short of its demand — a mass-balance problem the scenario must
    #   resolve (built here without the balance check).
    s = world(demand_growth=0.5)
    _, e = build_tables(s, 2025, check_balance=False)
    t = e.set_index("edge")["tonnes"]
    assert t["flows.jp_us_oxide"] == pytest.approx(50.0)
    assert t["demand.us_oxide"] == pytest.approx(180.0)
    assert t["alloc.oxide.CN.US"] == pytest.approx(100.0)  # 70 t of pattern + 30 t by the rule, one edge


def test_ras_meets_both_margins_on_a_full_pattern() -> None:
    prior = np.array([[10.0, 20.0, 5.0], [30.0, 5.0, 15.0]])
    rows = np.array([50.0, 70.0])
    cols = np.array([45.0, 40.0, 35.0])
    x = ras(prior, rows, cols)
    np.testing.assert_allclose(x.sum(axis=1), rows, rtol=1e-9)
    np.testing.assert_allclose(x.sum(axis=0), cols, rtol=1e-9)
    # biproportional: x_ij = r_i x0_ij s_j, so every 2 × 2 cross-ratio of the prior is kept
    assert (x[0, 0] * x[1, 1]) / (x[0, 1] * x[1, 0]) == pytest.approx((10 * 5) / (20 * 30))


def test_ras_never_exceeds_a_margin_it_cannot_reach() -> None:
    # the only exporter to importer 2 is exporter 1 (a zero elsewhere in column 2): importer 2 needs
    # 80 t but exporter 1 can give 50 t; every row and column stays within its margin
    prior = np.array([[10.0, 10.0], [10.0, 0.0]])
    x = ras(prior, np.array([50.0, 50.0]), np.array([20.0, 80.0]))
    assert np.all(x.sum(axis=1) <= np.array([50.0, 50.0]) + 1e-9)
    assert np.all(x.sum(axis=0) <= np.array([20.0, 80.0]) + 1e-9)
    assert x[1, 1] == 0.0


def plant(country: str, capacity: float, **extra: Any) -> dict[str, Any]:
    """A country's magnet plant (an aggregate at full utilisation) for the hand worlds below."""
    return {"name": f"{country} plant", "country": country, "kind": "aggregate", "output": "magnet",
            "capacity": capacity, "utilisation": 1.0, **extra}


def flow(supplier: str, buyer: str, tonnes: float) -> dict[str, Any]:
    """A 2024 magnet flow."""
    return {"supplier": supplier, "buyer": buyer, "commodity": "magnet", "year": 2024, "tonnes": tonnes}


def demand(country: str, tonnes: float) -> dict[str, Any]:
    """A country's 2024 magnet demand."""
    return {"country": country, "commodity": "magnet", "year": 2024, "tonnes": tonnes}


def new_plant_world(ee_capacity: float = 30) -> Scenario:
    """Two exporters, two importers, a market with output nobody names, and a plant commissioned in 2026.

    Base year 2024 (magnets, t; every plant runs at capacity × utilisation 1):

    * CN plant 100 t: 40 t to China's own use, 40 t to the EU, 20 t to the US (flows).
    * JP plant 30 t: 20 t to the EU, 10 t to the US (flows); Japan has no demand.
    * RU plant 5 t: no flow, no demand: its 5 t go to RU's surplus node.
    * EU demand 60 t, US demand 30 t: all imported, 2 : 1 from both exporters (a rank-one pattern).
    * EE plant, ``ee_capacity`` t (default 30), commissioned 2026: nothing in 2024 and 2025.
    """
    return Scenario.model_validate({
        "scenario": {"name": "new plant", "base_year": 2024, "horizon": 2027},
        "commodities": {"magnet": {"name": "Magnet", "stage": "magnet"}},
        "facilities": {"cn": plant("CN", 100), "jp": plant("JP", 30), "ru": plant("RU", 5),
                       "ee": plant("EE", ee_capacity, commissioning_year=2026)},
        "flows": {"cn_eu": flow("CN", "EU", 40), "cn_us": flow("CN", "US", 20), "jp_eu": flow("JP", "EU", 20),
                  "jp_us": flow("JP", "US", 10)},
        "demand": {"cn": demand("CN", 40), "eu": demand("EU", 60), "us": demand("US", 30)},
    })


def test_a_new_plant_sells_its_output_and_displaces_the_exporters_in_proportion() -> None:
    # 2026, surpluses before market-to-market trade (less what each surplus node took in 2024):
    #   CN 100 − 40 = 60, JP 30, RU 5 − 5 = 0, EE 30, EU −60, US −30.
    # The pattern: CN and JP exported all of their 2024 surplus, so E_CN = 60, E_JP = 30; the EU
    # and the US imported all of their deficit. EE exported nothing in 2024 (the pattern gives it
    # no share), so its 30 t are a new exporter's (step 3): sold to the markets with a deficit in
    # proportion to it, S = min(30, 60 + 30) = 30 t: EE → EU 30 × 60/90 = 20 t, EE → US 10 t.
    # The importers buy that much less on the pattern: columns EU 60 − 20 = 40, US 30 − 10 = 20.
    # Rows CN 60 + JP 30 = 90 against columns 60: the rows are scaled to 60 (× 2/3): CN 40, JP 20.
    # A rank-one prior stays rank one: x_ij = row_i × col_j / 60, so
    #   CN → EU 40 × 40/60 = 26.667, CN → US 40 × 20/60 = 13.333, JP → EU 13.333, JP → US 6.667:
    # each exporter sells a third less to each importer. What they can no longer sell: CN 20 t into
    # stock (China has demand: a stock build), JP 10 t to its surplus node; RU keeps its 5 t there.
    for mode in ("fixed", "rebalance"):
        res = simulate(new_plant_world(), years=[2024, 2026], mode=mode)
        _, f = res.tables(2026)
        t = f.set_index("edge")["simulated"]
        assert t["alloc.magnet.EE.EU"] == pytest.approx(20.0)
        assert t["alloc.magnet.EE.US"] == pytest.approx(10.0)
        assert t["flows.cn_eu"] == pytest.approx(80 / 3)
        assert t["flows.cn_us"] == pytest.approx(40 / 3)
        assert t["flows.jp_eu"] == pytest.approx(40 / 3)
        assert t["flows.jp_us"] == pytest.approx(20 / 3)
        assert t["stock.CN:magnet.build"] == pytest.approx(20.0)
        assert t["surplus.JP:magnet"] == pytest.approx(10.0)
        assert t["surplus.RU:magnet"] == pytest.approx(5.0)
        assert "surplus.EE:magnet" not in t.index or t["surplus.EE:magnet"] == pytest.approx(0.0, abs=1e-9)
        assert market_balance(f.rename(columns={"simulated": "tonnes"}))["balanced"].all()


def test_a_new_plant_beyond_the_importers_needs_sells_what_they_need() -> None:
    # EE's plant at 150 t in 2027 (capacity 150): the deficits are EU 60 + US 30 = 90 t, so EE sells
    # S = min(150, 90) = 90 t: EU 60, US 30; the pattern carries nothing (its columns are 0) and
    # CN's 60 t go into stock, JP's 30 t and EE's other 60 t to their surplus nodes.
    s = new_plant_world(ee_capacity=150)
    _, e = build_tables(s, 2027)
    t = e.set_index("edge")["tonnes"]
    assert t["alloc.magnet.EE.EU"] == pytest.approx(60.0)
    assert t["alloc.magnet.EE.US"] == pytest.approx(30.0)
    assert not {"flows.cn_eu", "flows.cn_us", "flows.jp_eu", "flows.jp_us"} & set(t.index)
    assert t["stock.CN:magnet.build"] == pytest.approx(60.0)
    assert t["surplus.JP:magnet"] == pytest.approx(30.0)
    assert t["surplus.EE:magnet"] == pytest.approx(60.0)


def test_before_the_new_plant_every_year_repeats_the_base_year() -> None:
    # 2025: the same production and demand as 2024 (EE not yet commissioned; RU's 5 t still go to
    # the buyer the data do not name): the same measures and the same edges
    s = new_plant_world()
    pd.testing.assert_frame_equal(compute_measures(s, 2025).drop(columns=["year"]).reset_index(drop=True),
                                  compute_measures(s, 2024).drop(columns=["year"]).reset_index(drop=True))
    _, e24 = build_tables(s, 2024)
    _, e25 = build_tables(s, 2025)
    pd.testing.assert_frame_equal(e25.drop(columns=["tonnes"]), e24.drop(columns=["tonnes"]))
    np.testing.assert_allclose(e25["tonnes"], e24["tonnes"], rtol=1e-12)


def test_a_pair_given_every_year_keeps_the_base_years_top_up_on_it() -> None:
    # CL and AU mine 100 t each, nobody there uses any; the US (no output) uses 50 t. The CL → US
    # flow is given for 2024 and again for 2025 (30 t), as the critical-minerals world gives its
    # import entries for every year.
    # 2024: the US's other 20 t are allocated from spare output, CL min(70, 100) = 70 t and AU
    # 100 t: CL → US 20 × 70/170 = 140/17 t, AU → US 200/17 t; the rest goes to the surplus nodes.
    # 2025: the pair CL → US is given, so its base-year rows (the flow and the allocated 140/17 t)
    # leave the pattern, and CL has no export share. Its surplus beyond what its surplus node took,
    # 100 − 30 − (70 − 140/17) = 140/17 t, is a new exporter's (step 3): the US, short 20 t, buys
    # all of it, and AU's 200/17 t are carried: 2025 repeats 2024. (Without step 3 the rule would
    # split the 140/17 t between CL and AU in proportion to their whole spare output.)
    s = given_pair_world({"US": 50})
    for year in (2024, 2025):
        _, e = build_tables(s, year)
        t = e.set_index("edge")["tonnes"]
        assert t[f"flows.cl_us_{year}"] == pytest.approx(30.0)
        assert t["alloc.ore.CL.US"] == pytest.approx(140 / 17)
        assert t["alloc.ore.AU.US"] == pytest.approx(200 / 17)


def test_an_allocated_top_up_on_a_pair_given_for_the_year_carries() -> None:
    # CL and AU mines make 100 t each, flat; the 30 t CL → US flow is given for 2024 and 2025; US demand 50 t,
    # DE 40 t. 2024: the given 30 t, and the rest of the 60 t of deficits allocated pro rata to spare output
    # (CL 70 t, AU 100 t): CL → US 20·70/170 = 8.235 t, CL → DE 40·70/170 = 16.471 t, AU → US 11.765 t,
    # AU → DE 23.529 t. 2025 has the same production and demand, so it repeats 2024 — the top-up on the given
    # pair included (it was dropped with the pair's observed flow, and RAS moved its tonnes to DE).
    s = given_pair_world({"US": 50, "DE": 40})
    trade = {}
    for y in (2024, 2025):
        _, e = build_tables(s, y)
        t = e[e["kind"] == "trade"]
        trade[y] = {str(k).replace(f"_{y}", ""): float(v) for k, v in zip(t["edge"], t["tonnes"], strict=True)}
    assert trade[2024]["alloc.ore.CL.US"] == pytest.approx(20 * 70 / 170)
    assert trade[2024]["alloc.ore.AU.DE"] == pytest.approx(40 * 100 / 170)
    assert trade[2025] == pytest.approx(trade[2024])


def given_pair_world(demand: dict[str, float]) -> Scenario:
    """CL and AU mines of 100 t of ore each, flat in 2024–2025; CL → US 30 t given for both years; ``demand``."""
    def mine(country: str) -> dict[str, Any]:
        return {"name": f"{country} mine", "country": country, "kind": "mine", "output": "ore",
                "capacity": 100, "utilisation": 1.0}

    return Scenario.model_validate({
        "scenario": {"name": "given pair", "base_year": 2024, "horizon": 2025},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}},
        "facilities": {"cl": mine("CL"), "au": mine("AU")},
        "flows": {f"cl_us_{y}": {"supplier": "CL", "buyer": "US", "commodity": "ore", "year": y, "tonnes": 30}
                  for y in (2024, 2025)},
        "demand": {c.lower(): {"country": c, "commodity": "ore", "year": 2024, "tonnes": t} for c, t in demand.items()},
    })


def own_plant_world(kr_plant: float) -> Scenario:
    """China and Japan export magnets to Korea and the US; Korea may build its own plant (review #6, R-1).

    Base year 2024 (magnets, t; every plant at capacity × utilisation 1):

    * CN plant 100 t: 10 t to China's own use, 60 t to KR, 30 t to the US (flows).
    * JP plant 10 t: all to the US (a flow); Japan has no demand and sold nothing to Korea.
    * KR demand 60 t, US demand 40 t: all imported (the US 30 : 10 from China and Japan).
    * KR plant, ``kr_plant`` t, commissioned 2026 (a non-Chinese plant with no inputs);
      a Chinese export ban from 2026 (policy ``cn_ban``).
    """
    facilities = {"cn": plant("CN", 100), "jp": plant("JP", 10)}
    if kr_plant:
        facilities["kr"] = plant("KR", kr_plant, commissioning_year=2026)
    return Scenario.model_validate({
        "scenario": {"name": "own plant", "base_year": 2024, "horizon": 2026},
        "commodities": {"magnet": {"name": "Magnet", "stage": "magnet"}},
        "facilities": facilities,
        "flows": {"cn_kr": flow("CN", "KR", 60), "cn_us": flow("CN", "US", 30), "jp_us": flow("JP", "US", 10)},
        "demand": {"cn": demand("CN", 10), "kr": demand("KR", 60), "us": demand("US", 40)},
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["magnet"]},
                                "start": "2026-01-01"}},
        "toggles": {"ban": {"controls": ["cn_ban"], "default": False}},
    })


def test_an_importers_own_plant_costs_only_its_suppliers_sales() -> None:
    # 2026 with the KR plant (20 t), surpluses before trade: CN 100 − 10 = 90, JP 10, KR 20 − 60 = −40,
    # US −40. Rows (each exporter the 2024 share of its surplus: all of it): CN 90, JP 10 = 100;
    # columns (each importer the 2024 share of its deficit: all of it): KR 40, US 40 = 80.
    # The importers' side is the smaller: it is met, the exporters' sums are caps. Each column keeps
    # its 2024 partner shares: KR 40 all from China; US 40 as 30 : 10, i.e. CN 30, JP 10. Rows: CN 70
    # ≤ 90, JP 10 ≤ 10: no cap binds. China, the only supplier of Korea, sells the 20 t less (into
    # stock); Japan, which sold nothing to Korea, loses nothing. (Scaling both rows down to 80, as
    # before review #6, gave CN 72, JP 8 and then CN → US 32, JP → US 8: the US 80 % Chinese instead of
    # 75 % because Korea built a plant.)
    _, e = build_tables(own_plant_world(20), 2026)
    t = e.set_index("edge")["tonnes"]
    assert t["flows.cn_kr"] == pytest.approx(40.0)
    assert t["flows.cn_us"] == pytest.approx(30.0)
    assert t["flows.jp_us"] == pytest.approx(10.0)
    assert t["stock.CN:magnet.build"] == pytest.approx(20.0)


@pytest.mark.parametrize("kr_plant", [5.0, 20.0, 60.0])
def test_a_new_plant_outside_the_source_never_raises_dependence_on_it(kr_plant: float) -> None:
    # Metamorphic: adding a non-Chinese plant (Korea's, any size up to its whole demand) never raises
    # any market's traced share of China, nor any shortfall under the `fixed` response to a Chinese
    # ban. Without the plant (2026): the US buys 30 : 10 (75 % Chinese), KR 60 t from China; the ban
    # leaves the US 30 t short (Japan's 10 t stay), KR 60 t. With it: KR's column falls by the plant's
    # output and only China's sales fall (test above), so the US stays 75 % Chinese and 30 t short
    # and KR is short by 60 − kr_plant (its own plant is not banned).
    def measures_and_shortfall(s: Scenario) -> tuple[pd.Series, pd.Series]:
        traced = compute_measures(s, 2026, source="CN")
        traced = traced.loc[traced["metric"].eq("traced_share")].set_index(["country", "commodity"])["value"]
        res = simulate(s, years=[2024, 2026], mode="fixed", toggles={"ban": True})
        short = res.shortfall.query("year == 2026").set_index("country")["shortfall"]
        return traced, short

    traced_0, short_0 = measures_and_shortfall(own_plant_world(0))
    traced_1, short_1 = measures_and_shortfall(own_plant_world(kr_plant))
    assert traced_0[("US", "magnet")] == pytest.approx(0.75)
    assert short_0["US"] == pytest.approx(30.0)
    for key, before in traced_0.items():
        assert traced_1[key] <= before + 1e-12, key
    for country, before in short_0.items():
        assert short_1[country] <= before + 1e-9, country
    assert short_1["KR"] == pytest.approx(60.0 - kr_plant)
