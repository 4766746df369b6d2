"""The deviation level does not count flows into surplus nodes (``docs/rebalance.md``, level 5), derived by hand."""

from __future__ import annotations

from typing import Any

import pytest

from supplychain.api import simulate
from supplychain.graph.balance import market_balance
from supplychain.schema.model import Scenario

YEARS = (2024, 2025)


def surplus_world() -> Scenario:
    """JP uses 200 t of oxide: 100 t from CN's plant, 100 t from AU's plant (a direct flow); CN bans exports in 2025.

    AU's plant (capacity 200 t, makes 100 t) takes 2 t of ore per t of oxide from AU's mine (capacity 2,500 t,
    makes 2,000 t), which sells the other 1,800 t of ore to JP's users. KR's plant makes 50 t of oxide that no one
    buys (KR has no users of it): they go to KR's surplus node.
    """
    data: dict[str, Any] = {
        "scenario": {"name": "surplus", "base_year": 2024, "horizon": 2025},
        "commodities": {
            "ore": {"name": "Ore", "stage": "ore", "family": "rare_earths"},
            "oxide": {"name": "Oxide", "stage": "oxide", "family": "rare_earths"},
        },
        "processes": {"sep": {"inputs": {"ore": 2}, "outputs": {"oxide": 1}}},
        "facilities": {
            "au_mine": {"name": "AU mine", "country": "AU", "kind": "mine", "output": "ore", "capacity": 2500,
                        "production": dict.fromkeys(YEARS, 2000)},
            "au_sep": {"name": "AU separation", "country": "AU", "kind": "separation", "process": "sep",
                       "capacity": 200, "production": dict.fromkeys(YEARS, 100)},
            "cn_sep": {"name": "CN separation", "country": "CN", "kind": "aggregate", "output": "oxide",
                       "capacity": 100, "production": dict.fromkeys(YEARS, 100)},
            "kr_sep": {"name": "KR separation", "country": "KR", "kind": "aggregate", "output": "oxide",
                       "capacity": 50, "production": dict.fromkeys(YEARS, 50)},
        },
        "flows": {f"{k}_{y}": {"supplier": s, "buyer": b, "commodity": c, "year": y, "tonnes": t}
                  for y in YEARS
                  for k, s, b, c, t in (("au_jp", "au_sep", "JP", "oxide", 100), ("cn_jp", "CN", "JP", "oxide", 100),
                                        ("ore_jp", "AU", "JP", "ore", 1800))},
        "demand": {"jp_oxide": {"country": "JP", "commodity": "oxide", "year": 2024, "tonnes": 200},
                   "jp_ore": {"country": "JP", "commodity": "ore", "year": 2024, "tonnes": 1800}},
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "start": "2025-01-01",
                                "covers": {"families": ["rare_earths"]}}},
    }
    return Scenario.model_validate(data)


def test_material_with_no_known_destination_is_used_before_a_plant_makes_more() -> None:
    # 2025: CN's 100 t to JP are blocked; CN has no other buyer, so its plant stops (both responses
    # below share that). JP's users need 100 t more; nobody need be short: AU's plant has 100 t spare,
    # KR's surplus holds 50 t. Unmet demand, stock, cost and unsold are 0 either way: the deviation
    # Σ_e |f_e − f⁰_e| / T_k decides, T_oxide = 100 + 100 (CN's supply and CN→JP) + 100 (AU→JP) + 50 + 50
    # (KR's supply and its surplus edge) + 200 (JP's use) = 600 t, T_ore = 2,000 (mine) + 200 (AU's plant's
    # input) + 1,800 (AU→JP) + 1,800 (JP's use) = 5,800 t. Per tonne of oxide to JP:
    #   from AU's plant: its edge to JP +1 t of oxide, its ore input +2 t and the mine +2 t of ore:
    #     1/600 + 4/5,800 = 0.002356;
    #   from KR's surplus: KR→JP +1 t (a new route) and KR's surplus edge −1 t:
    #     counted (main): 2/600 = 0.003333 > 0.002356: AU's plant makes all 100 t and KR's 50 t stay in its surplus;
    #     not counted (the rule): 1/600 = 0.001667 < 0.002356: KR's 50 t go to JP first, AU's plant makes the other
    #     50 t (150 t, its mine 2,100 t of ore).
    # A tonne that nobody uses is sent to a user before a plant (and its mine) makes a new one.
    res = simulate(surplus_world(), mode="rebalance")
    f = res.flows[res.flows["year"] == 2025].set_index("edge")["simulated"]
    u = res.utilisation[res.utilisation["year"] == 2025].set_index("facility")["output"]
    assert f.get("reroute.oxide.KR.JP", 0.0) == pytest.approx(50.0)  # main: 0 (the route is not used)
    assert f["surplus.KR:oxide"] == pytest.approx(0.0, abs=1e-6)
    assert u["au_sep"] == pytest.approx(150.0)  # main: 200
    assert u["au_mine"] == pytest.approx(2100.0)
    assert u["kr_sep"] == pytest.approx(50.0)
    assert u["cn_sep"] == pytest.approx(0.0, abs=1e-6)
    short = res.shortfall[res.shortfall["year"] == 2025]
    assert short["shortfall"].abs().max() == pytest.approx(0.0, abs=1e-6)
    for y in YEARS:
        edges = res.tables(y)[1]
        assert market_balance(edges.assign(tonnes=edges["simulated"]))["balanced"].all(), y
