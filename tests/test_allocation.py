"""Who goes short: the allocation rules of the rebalance response, on hand-worked networks.

Each test builds a one-commodity world (mines, country markets, final demand, flows observed
in the base year), bans China's exports from the start of the simulated year, and checks the
shortfall of every user under each rule against the derivation written in the test
(``docs/rebalance.md``, "Allocation rules"). Units: t.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplychain.api import simulate
from supplychain.graph.build import node_kind
from supplychain.schema.model import Scenario

YEAR = 2025  # the simulated year; the base year is 2024 with the same network


def world(mines: dict[str, tuple[float, float]], demand: dict[str, float], flows: dict[str, tuple[str, str, float]],
          *, ban: bool = True, agreements: dict[str, Any] | None = None, **extra: Any) -> Scenario:
    """A one-commodity world: ``mines`` country → (output, capacity); ``demand`` country → t; base-year ``flows``.

    Every mine's output is stated for both years; the flows of 2024 carry to 2025 (the base year's
    pattern). China's full export ban starts on 2025-01-01 (toggle ``ban``).
    """
    data: dict[str, Any] = {
        "scenario": {"name": "hand", "base_year": 2024, "horizon": YEAR},
        "regions": {"ROW": {"name": "Rest of world"}},
        "commodities": {"x": {"name": "Magnets", "stage": "magnet", "family": "rare_earths",
                              "price_usd_per_t": 50000}},  # a deal's preference is a share of it
        "facilities": {
            f"{c.lower()}_mine": {"name": f"{c} mine", "country": c, "kind": "mine", "output": "x",
                                  "production": {2024: out, YEAR: out}, "capacity": cap}
            for c, (out, cap) in mines.items()
        },
        "demand": {f"{c.lower()}_use": {"country": c, "commodity": "x", "year": 2024, "tonnes": t}
                   for c, t in demand.items()},
        "flows": {fid: {"supplier": s, "buyer": b, "commodity": "x", "year": 2024, "tonnes": t}
                  for fid, (s, b, t) in flows.items()},
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["x"]},
                                "start": "2025-01-01"}},
        "toggles": {"ban": {"controls": ["cn_ban"], "default": ban}},
        **({"agreements": agreements} if agreements else {}),
        **extra,
    }
    return Scenario.model_validate(data)


def shortfall(s: Scenario, **kw: Any) -> dict[str, float]:
    """Shortfall share per country in the simulated year."""
    r = simulate(s, years=[2024, YEAR], **kw)
    sf = r.shortfall[r.shortfall["year"] == YEAR].set_index("country")["shortfall_share"]
    return {str(k): float(v) for k, v in sf.items()}


def test_two_importers_of_one_spare_supplier_lose_the_same_share() -> None:
    # CN mine 800 t → CN use 200, US 300, JP 300. AU mine 100 t (capacity 300) → US 50, JP 50.
    # US and JP demand 350 t each. China's exports are banned.
    # fixed: US and JP keep only AU's 50 t: 300/350 = 85.7 % short each (the floors).
    # Outside China 300 t can be mined (AU at capacity) for 700 t of demand; rationed max-min
    # fair, each gets 150 t: 200/350 = 57.1 % short. The old Σ z/D objective left the split to
    # the simplex vertex (any split of AU's 200 t extra was optimal).
    s = world({"CN": (800, 800), "AU": (100, 300)}, {"CN": 200, "US": 350, "JP": 350},
              {"cn_us": ("CN", "US", 300), "cn_jp": ("CN", "JP", 300), "au_us": ("AU", "US", 50),
               "au_jp": ("AU", "JP", 50)})
    fixed = shortfall(s, mode="fixed")
    assert fixed["US"] == pytest.approx(300 / 350)
    assert fixed["JP"] == pytest.approx(300 / 350)
    for rule in ("contracts_first", "proportional", "max_delivery", "home_first"):
        got = shortfall(s, allocation=rule)
        assert got["US"] == pytest.approx(200 / 350, abs=1e-9), rule
        assert got["JP"] == pytest.approx(200 / 350, abs=1e-9), rule
        assert got["CN"] == pytest.approx(0.0, abs=1e-9), rule


def exporter_world() -> Scenario:
    # CN mine 200 t → CN use 100, KR 60, JP 40. JP mine 100 t (at capacity) → Japan's market, which
    # also imports 40 t from China and sends 20 t to KR. Demand: JP 120, KR 80. China's exports
    # are banned: outside China only JP's 100 t remain, for 200 t of demand.
    return world({"CN": (200, 200), "JP": (100, 100)}, {"CN": 100, "JP": 120, "KR": 80},
                 {"cn_kr": ("CN", "KR", 60), "cn_jp": ("CN", "JP", 40), "jp_kr": ("JP", "KR", 20)})


def test_an_exporter_with_its_own_demand_under_each_rule() -> None:
    s = exporter_world()
    fixed = shortfall(s, mode="fixed")
    # fixed: Japan's market gets its own 100 t of the 140 t it had (5/7) and passes that share on
    # to each buyer: JP's use gets 120·5/7 = 85.7 t (short 2/7 = 28.6 %), KR gets 20·5/7 = 14.3 t
    # from Japan and nothing from China (short 65.7/80 = 82.1 %)
    assert fixed["JP"] == pytest.approx(2 / 7)
    assert fixed["KR"] == pytest.approx((80 - 20 * 5 / 7) / 80)
    # contracts_first: no user worse off than fixed; no supply is freed or spare (JP's mine runs
    # at capacity and every tonne of it is still delivered), so the outcome is fixed's
    got = shortfall(s, allocation="contracts_first")
    assert got["JP"] == pytest.approx(2 / 7, abs=1e-9)
    assert got["KR"] == pytest.approx((80 - 20 * 5 / 7) / 80, abs=1e-9)
    # home_first: JP's own users first: JP keeps all 100 t (short 20/120), exports nothing
    got = shortfall(s, allocation="home_first")
    assert got["JP"] == pytest.approx(20 / 120, abs=1e-9)
    assert got["KR"] == pytest.approx(1.0, abs=1e-9)
    # proportional and max_delivery: 100 t for 200 t of demand, 50 % each (every split delivers
    # 100 t, so the most-delivery rule breaks the tie max-min fair too)
    for rule in ("proportional", "max_delivery"):
        got = shortfall(s, allocation=rule)
        assert got["JP"] == pytest.approx(0.5, abs=1e-9), rule
        assert got["KR"] == pytest.approx(0.5, abs=1e-9), rule


def test_home_first_exports_nothing_while_its_own_use_is_short() -> None:
    r = simulate(exporter_world(), years=[2024, YEAR], allocation="home_first")
    f = r.flows[(r.flows["year"] == YEAR) & (r.flows["supplier_country"] == "JP")
                & (r.flows["buyer_country"] != "JP") & (r.flows["kind"] == "trade")]
    assert f["simulated"].sum() == pytest.approx(0.0, abs=1e-9)


def metal_world(jp_metal_2025: float, jp_use: float, cn_magnets: float) -> Scenario:
    """Two stages: metal m (1 t per t of magnet x) and magnets x, in JP, the US and China.

    CN metal plant 200 + cn_magnets t → 100 t each to JP and the US, the rest to its own magnet plant,
    which sends ``cn_magnets`` t of magnets to JP. JP makes 100 t of metal in 2024 and
    ``jp_metal_2025`` t in 2025 (capacity the same); its magnet plant can make 200 t, the US's 200 t.
    Demand: JP ``jp_use`` t of magnets, the US 100 t. China bans both commodities from 2025.
    """
    cn = 200 + cn_magnets
    fac: dict[str, Any] = {
        "cn_metal": {"name": "CN metal", "country": "CN", "kind": "aggregate", "output": "m",
                     "production": {2024: cn, YEAR: cn}, "capacity": cn},
        "jp_metal": {"name": "JP metal", "country": "JP", "kind": "aggregate", "output": "m",
                     "production": {2024: 100, YEAR: jp_metal_2025}, "capacity": max(100, jp_metal_2025)},
        "jp_mag": {"name": "JP magnets", "country": "JP", "kind": "magnet", "process": "mag",
                   "production": {2024: 200, YEAR: 200}, "capacity": 200},
        "us_mag": {"name": "US magnets", "country": "US", "kind": "magnet", "process": "mag",
                   "production": {2024: 100, YEAR: 100}, "capacity": 200},
    }
    flows: dict[str, Any] = {
        "cn_jp": {"supplier": "CN", "buyer": "JP", "commodity": "m", "year": 2024, "tonnes": 100},
        "cn_us": {"supplier": "CN", "buyer": "US", "commodity": "m", "year": 2024, "tonnes": 100},
    }
    if cn_magnets:
        fac["cn_mag"] = {"name": "CN magnets", "country": "CN", "kind": "magnet", "process": "mag",
                         "production": {2024: cn_magnets, YEAR: cn_magnets}, "capacity": cn_magnets}
        flows["cn_jp_x"] = {"supplier": "CN", "buyer": "JP", "commodity": "x", "year": 2024, "tonnes": cn_magnets}
    return Scenario.model_validate({
        "scenario": {"name": "hand", "base_year": 2024, "horizon": YEAR},
        "commodities": {"m": {"name": "Metal", "stage": "metal", "family": "rare_earths"},
                        "x": {"name": "Magnets", "stage": "magnet", "family": "rare_earths"}},
        "processes": {"mag": {"inputs": {"m": 1}, "outputs": {"x": 1}}},
        "facilities": fac,
        "demand": {"jp_use": {"country": "JP", "commodity": "x", "year": 2024, "tonnes": jp_use},
                   "us_use": {"country": "US", "commodity": "x", "year": 2024, "tonnes": 100}},
        "flows": flows,
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["m", "x"]},
                                "start": "2025-01-01"}},
        "toggles": {"ban": {"controls": ["cn_ban"], "default": True}},
    })


def test_home_first_keeps_the_metal_its_own_magnet_makers_need() -> None:
    # JP's 100 t of metal are all that is left outside China, for 200 t (JP) + 100 t (US) of magnets.
    # Max-min fair over magnet users (proportional) makes 100 t of magnets for 300 t of demand: both
    # 2/3 short, JP shipping 100/3 t of its metal to the US magnet plant while its own users are short.
    # home_first: JP's magnet users are short, so JP's exports of magnets AND of the metal its own
    # magnet plant turns into magnets stay home: JP makes 100 t of magnets (short 100/200 = 50 %),
    # the US gets nothing (100 %). (Before, only magnet exports were closed and JP ended 2/3 short.)
    s = metal_world(100, 200, 0)
    got = shortfall(s, allocation="proportional")
    assert got["JP"] == pytest.approx(2 / 3, abs=1e-9)
    assert got["US"] == pytest.approx(2 / 3, abs=1e-9)
    r = simulate(s, years=[2024, YEAR], allocation="home_first")
    got = r.shortfall[r.shortfall["year"] == YEAR].set_index("country")["shortfall_share"]
    assert got["JP"] == pytest.approx(0.5, abs=1e-9)
    assert got["US"] == pytest.approx(1.0, abs=1e-9)
    f = r.flows[(r.flows["year"] == YEAR) & (r.flows["supplier_country"] == "JP") & (r.flows["buyer_country"] != "JP")]
    assert f["simulated"].sum() == pytest.approx(0.0, abs=1e-9)


def test_home_first_lets_metal_its_own_plants_cannot_use_go_abroad() -> None:
    # JP makes 300 t of metal in 2025, but its magnet plant makes at most 200 t for 250 t of demand:
    # JP is short (50/250 = 20 %) whatever it keeps. Holding its metal exports while it is short would
    # strand 100 t and leave the US (no metal of its own) 100 % short; the held feeds open once every
    # user is bounded at its share: JP's 100 t spare metal make the US's 100 t (short 0), JP still 20 %,
    # and no magnets leave a short country (the US is not short; JP ships none).
    r = simulate(metal_world(300, 250, 50), years=[2024, YEAR], allocation="home_first")
    got = r.shortfall[r.shortfall["year"] == YEAR].set_index("country")["shortfall_share"]
    assert got["JP"] == pytest.approx(50 / 250, abs=1e-9)
    assert got["US"] == pytest.approx(0.0, abs=1e-9)
    f = r.flows[(r.flows["year"] == YEAR) & (r.flows["supplier_country"] != r.flows["buyer_country"])
                & (r.flows["simulated"] > 1e-9)]
    assert f[["supplier_country", "buyer_country", "commodity"]].values.tolist() == [["JP", "US", "m"]]
    assert f["simulated"].sum() == pytest.approx(100.0, abs=1e-6)


def chain_world(plants: tuple[tuple[str, str, float], ...], demand: dict[str, float],
                flows: dict[str, tuple[str, str, str, float]], extra: dict[str, Any] | None = None) -> Scenario:
    """Metal m (1 t per t of magnet x) and magnets x: ``plants`` (country, "metal" | "mag", t/yr at capacity in
    both years), ``demand`` country → t of magnets, base-year ``flows`` id → (supplier, buyer, commodity, t),
    ``extra`` more facilities. China bans both commodities from 2025.
    """
    fac: dict[str, Any] = {
        f"{c.lower()}_{k}": {"name": f"{c} {k}", "country": c, "kind": "metal" if k == "metal" else "magnet",
                             **({"output": "m"} if k == "metal" else {"process": "mag"}),
                             "production": {2024: t, YEAR: t}, "capacity": t}
        for c, k, t in plants
    }
    return Scenario.model_validate({
        "scenario": {"name": "hand", "base_year": 2024, "horizon": YEAR},
        "commodities": {"m": {"name": "Metal", "stage": "metal", "family": "rare_earths"},
                        "x": {"name": "Magnets", "stage": "magnet", "family": "rare_earths"}},
        "processes": {"mag": {"inputs": {"m": 1}, "outputs": {"x": 1}}},
        "facilities": {**fac, **(extra or {})},
        "demand": {f"{c.lower()}_use": {"country": c, "commodity": "x", "year": 2024, "tonnes": t}
                   for c, t in demand.items()},
        "flows": {fid: {"supplier": a, "buyer": b, "commodity": k, "year": 2024, "tonnes": t}
                  for fid, (a, b, k, t) in flows.items()},
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["m", "x"]},
                                "start": "2025-01-01"}},
    })


def test_home_first_reopens_exports_of_a_country_its_neighbours_feeds_serve_in_full() -> None:
    # JP makes 300 t of metal: its magnet plant can use 100 t (JP's 200 t of demand stays 100 t short
    # whatever it keeps), the US magnet plant (200 t) lives on the other 200 t, and the US sells 100 t of
    # magnets to KR. China's 100 t of magnets to JP are banned. Held feeds strand JP's 200 t and leave the US
    # unserved; once they open (every user bounded), the US is served in full and must export again: its
    # plant's 200 t serve its own 100 t, and JP (its own 100 t made, bounded at 100 t short) and KR share
    # the other 100 t max-min fair. With a t to JP and 100 - a to KR: JP short 100 - a of 200, KR short a
    # of 100; (100 - a)/200 = a/100 gives a = 100/3: JP 200/3 t short, KR 100/3 t (both 1/3), the US none.
    # (Had the US's magnet exports stayed closed, JP and KR would stay 100 t short each.)
    s = chain_world((("CN", "metal", 100), ("CN", "mag", 100), ("JP", "metal", 300), ("JP", "mag", 100),
                     ("US", "mag", 200)), {"JP": 200, "US": 100, "KR": 100},
                    {"jp_us": ("JP", "US", "m", 200), "us_kr": ("US", "KR", "x", 100), "cn_jp": ("CN", "JP", "x", 100)})
    r = simulate(s, years=[2024, YEAR], allocation="home_first")
    got = r.shortfall[r.shortfall["year"] == YEAR].set_index("country")["shortfall"]
    assert got["JP"] == pytest.approx(200 / 3, abs=1e-6)
    assert got["KR"] == pytest.approx(100 / 3, abs=1e-6)
    assert got["US"] == pytest.approx(0.0, abs=1e-6)


def dy_world(japan: str) -> Scenario:
    """NdPr oxide, Dy oxide and magnets (1 t NdPr + 0.1 t Dy per t); Japan's 600 t of NdPr from ``japan``
    (``"separator"``: its own plant; ``"stock"``: a 1,000 t stockpile). China bans NdPr to Japan and all Dy
    from 2025 (the s36 stocks helper's reproducer).
    """
    def plant(c: str, out: str, t: float, kind: str = "aggregate") -> dict[str, Any]:
        return {"name": f"{c} {out}", "country": c, "kind": kind, "capacity": t, "utilisation": 1.0,
                **({"process": "mag"} if kind == "magnet" else {"output": out})}

    ree = {"stage": "oxide", "basis": "t REO", "family": "rare_earths"}
    fac = {"cn_sep": plant("CN", "ndpr", 1600), "cn_dy": plant("CN", "dy", 100), "au_dy": plant("AU", "dy", 60),
           "jp_mag": plant("JP", "magnet", 600, "magnet"), "kr_mag": plant("KR", "magnet", 600, "magnet")}
    flows = {"cn_jp": ("CN", "JP", "ndpr", 600), "cn_kr": ("CN", "KR", "ndpr", 600), "au_jp": ("au_dy", "JP", "dy", 30),
             "au_kr": ("au_dy", "KR", "dy", 30), "cn_jp_dy": ("CN", "JP", "dy", 30), "cn_kr_dy": ("CN", "KR", "dy", 30)}
    extra: dict[str, Any] = {}
    if japan == "separator":
        fac["jp_sep"] = plant("JP", "ndpr", 600)
        flows["jpsep"] = ("jp_sep", "JP", "ndpr", 600)
    else:
        extra["stockpiles"] = {"jogmec": {"country": "JP", "commodity": "ndpr", "year": YEAR, "quantity": 1000}}
    return Scenario.model_validate({
        "scenario": {"name": "Dy pull", "base_year": 2024, "horizon": YEAR},
        "commodities": {"ndpr": {"name": "NdPr oxide", "elements": ["Nd", "Pr"], **ree},
                        "dy": {"name": "Dy oxide", "elements": ["Dy"], **ree},
                        "magnet": {"name": "NdFeB magnet", "stage": "magnet", "basis": "t product",
                                   "family": "rare_earths", "elements": ["Nd", "Pr", "Dy"]}},
        "processes": {"mag": {"inputs": {"ndpr": 1, "dy": 0.1}, "outputs": {"magnet": 1}}},
        "facilities": fac,
        "flows": {fid: {"supplier": a, "buyer": b, "commodity": k, "year": 2025 if fid == "jpsep" else 2024,
                        "tonnes": t} for fid, (a, b, k, t) in flows.items()},
        "demand": {"cn": {"country": "CN", "commodity": "ndpr", "year": 2024, "tonnes": 400},
                   "cnd": {"country": "CN", "commodity": "dy", "year": 2024, "tonnes": 40},
                   "jp": {"country": "JP", "commodity": "magnet", "year": 2024, "tonnes": 600},
                   "kr": {"country": "KR", "commodity": "magnet", "year": 2024, "tonnes": 600}},
        "policies": {"ban_jp": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["ndpr"]},
                                "partners": {"include": ["JP"]}, "start": "2025-01-01"},
                     "ban_dy": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["dy"]},
                                "start": "2025-01-01"}},
        **extra,
    })


@pytest.mark.parametrize("japan", ["separator", "stock"])
def test_home_first_holds_no_exports_of_a_country_whose_users_are_never_short(japan: str) -> None:
    # 2025: outside China only Australia's 60 t of Dy are left (China bans all Dy), enough for 60/0.1 = 600 t
    # of magnets of the 1,200 t JP and KR need. NdPr is not short: JP has its own 600 t (its separator, or its
    # stock), KR its 600 t from China (the ban on NdPr covers JP only). China's users are served in full
    # (400 t of its 1,600 t NdPr, 40 t of its 100 t Dy), so under home_first China's exports are never held:
    # KR's NdPr arrives and its plant can use Dy. JP and KR are short of magnets, so each holds its magnet
    # exports and its feeds (NdPr, Dy: what its magnet plant turns into magnets); AU has no users and its
    # 60 t are rationed max-min fair: a t to JP, 60 - a to KR, JP short 600 - 10a, KR short 10a; equal at
    # a = 30: 300 t short each (50 %, as proportional), KR keeps its 30 t of Australian Dy and makes 300 t
    # of magnets, and no Dy crosses between them. With the stock JP draws only the 300 t its 30 t of Dy
    # can use (the least stock drawn). (Before: China's NdPr exports were held in the first round, KR made
    # nothing, JP was served in full with all 60 t and kept that bound: KR re-exported its 30 t of Dy to
    # JP and ended 600 t short, JP 0.)
    r = simulate(dy_world(japan), years=[YEAR], allocation="home_first")
    got = r.shortfall.set_index("node")["shortfall"]
    assert got["JP:magnet:use"] == pytest.approx(300.0, abs=1e-6)
    assert got["KR:magnet:use"] == pytest.approx(300.0, abs=1e-6)
    assert got["CN:ndpr:use"] == pytest.approx(0.0, abs=1e-6)
    assert got["CN:dy:use"] == pytest.approx(0.0, abs=1e-6)
    f = {(a, b): t for a, b, t in r.flows[["supplier", "buyer", "simulated"]].itertuples(index=False)}
    assert f[("KR:dy", "kr_mag")] == pytest.approx(30.0, abs=1e-6)
    assert f[("kr_mag", "KR:magnet")] == pytest.approx(300.0, abs=1e-6)
    cross = r.flows[(r.flows["supplier_country"].isin(["JP", "KR"])) & (r.flows["buyer_country"].isin(["JP", "KR"]))
                    & (r.flows["supplier_country"] != r.flows["buyer_country"])]
    assert cross["simulated"].sum() == pytest.approx(0.0, abs=1e-6)
    if japan == "stock":
        assert r.stocks["draw"].sum() == pytest.approx(300.0, abs=1e-6)


def test_home_first_feeds_count_only_plants_running_that_year() -> None:
    # JP's 200 t of metal feed the US magnet plant (200 t: 100 t for US use, 100 t to KR); China's 100 t of
    # magnets to JP are banned. A JP magnet plant planned for 2030 turns nothing into magnets in 2025, so it
    # keeps no metal home: 2025 is the same with and without it (US served, JP and KR share the US's other
    # 100 t: 50 t short each).
    def world(planned: bool) -> Scenario:
        extra = {"jp_mag": {"name": "JP magnets (planned)", "country": "JP", "kind": "magnet", "process": "mag",
                            "capacity": 100, "commissioning_year": 2030, "utilisation": 1.0}} if planned else None
        return chain_world((("CN", "metal", 100), ("CN", "mag", 100), ("JP", "metal", 200), ("US", "mag", 200)),
                           {"JP": 100, "US": 100, "KR": 100},
                           {"jp_us": ("JP", "US", "m", 200), "cn_jp": ("CN", "JP", "x", 100),
                            "us_kr": ("US", "KR", "x", 100)}, extra)

    for planned in (False, True):
        r = simulate(world(planned), years=[2024, YEAR], allocation="home_first")
        got = r.shortfall[r.shortfall["year"] == YEAR].set_index("country")["shortfall"]
        assert got["JP"] == pytest.approx(50.0, abs=1e-6), planned
        assert got["KR"] == pytest.approx(50.0, abs=1e-6), planned
        assert got["US"] == pytest.approx(0.0, abs=1e-6), planned


def hub_world() -> Scenario:
    # CN mine 300 t → CN use 100, US 100, KR 100. US mine 100 t (at capacity) → the US market, which
    # also imports China's 100 t and sends 50 t on to KR. AU mine: makes nothing in the base year but
    # can make 30 t. Demand: US 150, KR 150. China's exports are banned: outside China 130 t for 300 t.
    return world({"CN": (300, 300), "US": (100, 100), "AU": (0, 30)}, {"CN": 100, "US": 150, "KR": 150},
                 {"cn_us": ("CN", "US", 100), "cn_kr": ("CN", "KR", 100), "us_kr": ("US", "KR", 50)})


def test_a_country_held_at_its_fixed_floor_goes_on_exporting_to_a_shorter_one() -> None:
    # docs/rebalance.md, "Allocation rules": under contracts_first a country's users are guaranteed
    # their fixed deliveries, not first call on the supply in their country (the US's 688 t of
    # compounds to Japan in china_full_ban_2025 full_ban, 2030, on a small network).
    s = hub_world()
    # fixed: the US market keeps its own 100 t of the 200 t it had (σ = 1/2) and passes half on to
    # each buyer: US use 75 t (short 75/150 = 50 %), KR 25 t from the US (short 125/150 = 83.3 %)
    fixed = shortfall(s, mode="fixed")
    assert fixed["US"] == pytest.approx(0.5)
    assert fixed["KR"] == pytest.approx(125 / 150)
    # contracts_first: floors z_US <= 75, z_KR <= 125; 170 t unmet in all (300 - 130). Max-min fair
    # alone would leave both 170/300 = 56.7 % short (z_US = 85 > 75), so the US's floor binds: the
    # US keeps its 75 t (50 %), KR gets the other 55 t (short 95/150 = 63.3 %) - through the US.
    # Routes (level 5): with a = AU -> US, AU -> KR = 30 - a and US -> KR = 100 + a - 75 = 25 + a,
    # the deviation |a| + |30 - a| + |25 + a - 50| = 30 + |a - 25| is least at a = 25: the US ships
    # KR its baseline 50 t while its own users are 50 % short, and AU sends KR the last 5 t.
    r = simulate(s, years=[2024, YEAR], allocation="contracts_first")
    got = r.shortfall[r.shortfall["year"] == YEAR].set_index("country")["shortfall_share"]
    assert got["US"] == pytest.approx(0.5, abs=1e-9)
    assert got["KR"] == pytest.approx(95 / 150, abs=1e-9)
    flows = r.flows[r.flows["year"] == YEAR].set_index("edge")["simulated"]
    assert flows["flows.us_kr"] == pytest.approx(50.0, abs=1e-6)
    assert flows["reroute.x.AU.US"] == pytest.approx(25.0, abs=1e-6)
    assert flows["reroute.x.AU.KR"] == pytest.approx(5.0, abs=1e-6)
    shipped = r.shipped_while_short()
    assert shipped[["country", "destination", "shipped"]].values.tolist() == [["US", "KR", pytest.approx(50.0)]]
    # home_first: the US's exports close while its users are short: it keeps its 100 t (short
    # 50/150 = 33.3 %) and AU's 30 t go to KR, the shorter (short 120/150 = 80 %)
    got = shortfall(s, allocation="home_first")
    assert got["US"] == pytest.approx(50 / 150, abs=1e-9)
    assert got["KR"] == pytest.approx(120 / 150, abs=1e-9)
    # proportional (no floors): 130 t for 300 t, both 56.7 % short
    got = shortfall(s, allocation="proportional")
    assert got["US"] == pytest.approx(170 / 300, abs=1e-9)
    assert got["KR"] == pytest.approx(170 / 300, abs=1e-9)


def preference_world(deal: bool) -> Scenario:
    # CN mine 300 t → CN use 100, US 100, JP 100. AU mine: produces nothing but can make 100 t
    # (spare capacity). China's exports are banned: only AU's 100 t for US and JP (100 t each).
    agreements = {"us_au": {"name": "US-Australia deal", "parties": ["US", "AU"], "covers": {"commodities": ["x"]},
                            "start": "2024-01-01", "preference": 0.05}} if deal else None
    return world({"CN": (300, 300), "AU": (0, 100)}, {"CN": 100, "US": 100, "JP": 100},
                 {"cn_us": ("CN", "US", 100), "cn_jp": ("CN", "JP", 100)}, agreements=agreements,
                 toggles={"ban": {"controls": ["cn_ban"], "default": True},
                          **({"deal": {"controls": ["us_au"], "default": True}} if deal else {})})


def test_a_deal_with_a_preference_changes_who_gets_scarce_supply() -> None:
    # Without the deal AU's 100 t are rationed max-min fair: 50 t each, both 50 % short.
    got = shortfall(preference_world(deal=False))
    assert got["US"] == pytest.approx(0.5, abs=1e-9)
    assert got["JP"] == pytest.approx(0.5, abs=1e-9)
    # With a US-AU deal granting a preference, AU's extra supply serves its partner first: the US
    # gets all 100 t it needs (0 % short), Japan what is left (nothing: 100 % short).
    got = shortfall(preference_world(deal=True))
    assert got["US"] == pytest.approx(0.0, abs=1e-9)
    assert got["JP"] == pytest.approx(1.0, abs=1e-9)
    # proportional ignores preferences: 50 % each again
    got = shortfall(preference_world(deal=True), allocation="proportional")
    assert got["US"] == pytest.approx(0.5, abs=1e-9)
    assert got["JP"] == pytest.approx(0.5, abs=1e-9)


def partners_world() -> Scenario:
    # CN mine 400 t → CN use 100, US 120, JP 60, KR 100. The US mine makes nothing in the base year
    # but can make 130 t (new capacity, like MP's 10X plant); JP's mine makes its 40 t (at capacity).
    # Demand: US 120, JP 100, KR 100. China's exports are banned: outside China 130 + 40 = 170 t
    # for 320 t. Two agreements, each behind a toggle: `us_prog`, a US-only programme whose
    # preference keeps US supply for US users first (as the DoD-MP deal), and `us_jp`, a US-Japan
    # deal with a preference (partners first).
    pref = {"covers": {"commodities": ["x"]}, "start": "2024-01-01", "preference": 0.05}
    agreements = {"us_prog": {"name": "US programme", "parties": ["US"], **pref},
                  "us_jp": {"name": "US-Japan deal", "parties": ["US", "JP"], **pref}}
    return world({"CN": (400, 400), "US": (0, 130), "JP": (40, 40)}, {"CN": 100, "US": 120, "JP": 100, "KR": 100},
                 {"cn_us": ("CN", "US", 120), "cn_jp": ("CN", "JP", 60), "cn_kr": ("CN", "KR", 100)},
                 agreements=agreements,
                 toggles={"ban": {"controls": ["cn_ban"], "default": True},
                          "prog": {"controls": ["us_prog"], "default": True},
                          "deal": {"controls": ["us_jp"], "default": True}})


def test_a_deal_never_leaves_a_party_shorter_than_without_it() -> None:
    s = partners_world()
    # fixed: the US gets nothing (100 % short), Japan its own 40 t (60 %), Korea nothing: the
    # floors of contracts_first, which bind none of the outcomes below.
    # Without the US-Japan deal: the US programme holds US exports while the users are rationed,
    # so the US mine serves US users first: 120 t, 0 % short. Japan keeps its 40 t (its floor;
    # 60 % short); the US's 10 t beyond its own use then go where the share is worst, Korea
    # (90 % short).
    got = shortfall(s, toggles={"deal": False})
    assert got["US"] == pytest.approx(0.0, abs=1e-9)
    assert got["JP"] == pytest.approx(0.6, abs=1e-9)
    assert got["KR"] == pytest.approx(0.9, abs=1e-9)
    # With the deal, partners first pooled the two parties: 170 t for 220 t of US and Japanese
    # demand, max-min fair 50/220 = 22.7 % short each, the US sending 130 - 92.7 = 37.3 t to Japan
    # while its own users went short. The deal owes each party what it gets without it (US 0 t
    # short, Japan 60 t): the US keeps 120 t, and partners first applies to the 10 t beyond
    # that, which now go to Japan (50 t, 50 % short) instead of Korea (100 % short).
    got = shortfall(s)
    assert got["US"] == pytest.approx(0.0, abs=1e-9)
    assert got["JP"] == pytest.approx(0.5, abs=1e-9)
    assert got["KR"] == pytest.approx(1.0, abs=1e-9)
    r = simulate(s, years=[2024, YEAR])
    f = r.flows[(r.flows["year"] == YEAR) & (r.flows["supplier_country"] == "US") & (r.flows["buyer_country"] == "JP")]
    assert f["simulated"].sum() == pytest.approx(10.0, abs=1e-6)
    # Where pooling leaves neither party worse off it stays. Without the US programme, the US
    # has no home preference: without the deal all 170 t are rationed max-min fair over the
    # 320 t (150/320 = 46.9 % short each, Japan above its floor); with it the parties pool the
    # 170 t for their 220 t (22.7 % each, Korea 100 %), better for both than 46.9 %.
    got = shortfall(s, toggles={"prog": False, "deal": False})
    assert got["US"] == pytest.approx(150 / 320, abs=1e-9)
    assert got["JP"] == pytest.approx(150 / 320, abs=1e-9)
    got = shortfall(s, toggles={"prog": False})
    assert got["US"] == pytest.approx(50 / 220, abs=1e-9)
    assert got["JP"] == pytest.approx(50 / 220, abs=1e-9)
    assert got["KR"] == pytest.approx(1.0, abs=1e-9)


def test_a_plant_that_cannot_sell_is_curtailed_and_reported() -> None:
    # CN mine 100 t → CN use 40, US 60. China's exports are banned: 60 t find no buyer.
    s = world({"CN": (100, 100)}, {"CN": 40, "US": 60}, {"cn_us": ("CN", "US", 60)})
    for mode in ("fixed", "rebalance"):
        r = simulate(s, years=[2024, YEAR], mode=mode)
        u = r.utilisation.set_index(["year", "facility"])
        # the mine makes only what China's own use takes: 40 t, 60 t curtailed
        assert u.loc[(YEAR, "cn_mine"), "output"] == pytest.approx(40.0), mode
        assert u.loc[(YEAR, "cn_mine"), "curtailed"] == pytest.approx(60.0), mode
        # production-based measures use actual output: China is the world's only producer either way
        m = r.measures
        top = m[(m["year"] == YEAR) & (m["country"] == "WORLD") & (m["metric"] == "top1_share")]
        assert float(top["value"].iloc[0]) == pytest.approx(1.0)
        flows = r.flows[r.flows["year"] == YEAR]
        assert flows.loc[flows["edge"] == "supply.cn_mine.x", "simulated"].iloc[0] == pytest.approx(40.0)


def test_joint_output_nobody_buys_is_reported_unsold() -> None:
    # A separation plant in China makes 1 t of NdPr oxide and 4 t of other oxides per 5 t of ore
    # (its only yields). The NdPr goes to China's own use (20 t); the other oxides (80 t) were
    # all exported to Japan. With China's exports banned, the plant still runs for the NdPr, so
    # 80 t of other oxides are made that nobody buys: reported as unsold in both responses.
    data = {
        "scenario": {"name": "joint", "base_year": 2024, "horizon": YEAR},
        "commodities": {"ore": {"name": "Ore", "stage": "ore", "family": "rare_earths"},
                        "ndpr": {"name": "NdPr", "stage": "oxide", "family": "rare_earths"},
                        "other": {"name": "Other oxides", "stage": "oxide", "family": "rare_earths"}},
        "processes": {"sep": {"inputs": {"ore": 5}, "outputs": {"ndpr": 1, "other": 4}, "reference": "ndpr"}},
        "facilities": {
            "mine": {"name": "Mine", "country": "CN", "kind": "mine", "output": "ore",
                     "production": {2024: 100, YEAR: 100}, "capacity": 100},
            "sep": {"name": "Separation", "country": "CN", "kind": "separation", "process": "sep",
                    "production": {2024: 20, YEAR: 20}, "capacity": 20},
        },
        "demand": {"cn_ndpr": {"country": "CN", "commodity": "ndpr", "year": 2024, "tonnes": 20}},
        "flows": {"cn_jp": {"supplier": "CN", "buyer": "JP", "commodity": "other", "year": 2024, "tonnes": 80}},
        "policies": {"ban": {"type": "export_ban", "country": "CN", "covers": {"families": ["rare_earths"]},
                             "start": "2025-01-01"}},
    }
    s = Scenario.model_validate(data)
    for mode in ("fixed", "rebalance"):
        r = simulate(s, years=[2024, YEAR], mode=mode)
        f = r.flows[(r.flows["year"] == YEAR) & (r.flows["kind"] == "unsold")]
        assert f["commodity"].tolist() == ["other"], mode
        assert f["simulated"].sum() == pytest.approx(80.0), mode
        sf = r.shortfall[r.shortfall["year"] == YEAR]
        assert sf["shortfall"].sum() == pytest.approx(0.0, abs=1e-9), mode
        assert _open_markets(r.flows) == [], mode


def _blended_years(s: Scenario) -> set[int]:
    """Years in which a preference starts or ends within the year: solved per period and blended.

    The periods' solutions need not share a direction: in ``path_to_2030.yaml``, 2025, Japan sells the US
    compounds before the US–Japan framework is in force and the US sells Japan compounds after
    (``docs/rebalance.md``, "A preference in force for part of a year"), so the year's flows run both ways.
    """
    years = set()
    for a in s.agreements.values():
        if a.preference is None:
            continue
        if (a.start.month, a.start.day) != (1, 1):
            years.add(a.start.year)
        if a.end is not None and (a.end.month, a.end.day) != (12, 31):
            years.add(a.end.year)
    return years


def _open_markets(flows: pd.DataFrame, tol: float = 1e-6) -> list[tuple[Any, ...]]:
    """Markets whose reported flows do not close: inflow ≠ outflow (unsold and stock rows included)."""
    bad = []
    for (year, variant), f in flows.groupby(["year", "variant"]):
        inn = f.groupby("buyer")["simulated"].sum()
        out = f.groupby("supplier")["simulated"].sum()
        for node in sorted(set(inn.index) | set(out.index)):
            if node_kind(str(node)) != "market":
                continue
            i, o = float(inn.get(node, 0.0)), float(out.get(node, 0.0))
            if abs(i - o) > tol * max(1.0, i, o):
                bad.append((year, variant, node, i, o))
    return bad


def cross_hauls(flows: pd.DataFrame, tol: float = 1e-3) -> pd.DataFrame:
    """Cross-hauls: countries A, B trading one commodity both ways beyond what they did in the baseline.

    Per year and commodity, the cross-border flows from A to B (all edges) and from B to A overlap by
    ``min(A→B, B→A)`` t; a cross-haul is an overlap above the baseline's by more than ``tol`` t (tonnes
    that cross a border twice for nothing). Columns ``year``, ``commodity``, ``a``, ``b``, ``excess``.
    """
    f = flows[(flows["supplier_country"] != flows["buyer_country"]) & (flows["supplier_country"] != "")
              & (flows["buyer_country"] != "")]
    g = f.groupby(["year", "commodity", "supplier_country", "buyer_country"])[["baseline", "simulated"]].sum()
    back = g.rename_axis(["year", "commodity", "buyer_country", "supplier_country"]).reorder_levels(g.index.names)
    both = g.join(back, rsuffix="_back", how="inner").reset_index()
    both = both[both["supplier_country"] < both["buyer_country"]]
    excess = (np.minimum(both["simulated"], both["simulated_back"])
              - np.minimum(both["baseline"], both["baseline_back"]))
    out = both.assign(excess=excess)[excess > tol]
    return out.rename(columns={"supplier_country": "a", "buyer_country": "b"})[
        ["year", "commodity", "a", "b", "excess"]].reset_index(drop=True)


def test_residual_destinations_are_surplus_not_demand() -> None:
    # JP's demand of 100 t is met by 60 t from China and 40 t from Australia; AU's mine makes
    # 100 t, and the 60 t not exported have no known destination (AU's surplus node: no demand
    # is given for Australia). China's exports are banned.
    # fixed: Japan keeps AU's 40 t (short 60 t); the surplus keeps its 60 t.
    # rebalance: the surplus is not demand, so it is not protected: AU's 60 t go to Japan, which
    # is then fully served; the surplus node gets nothing. (Protected as demand, as before, the
    # surplus would have been a 60 t "user" competing with Japan.)
    data = {
        "scenario": {"name": "surplus", "base_year": 2024, "horizon": YEAR},
        "commodities": {"x": {"name": "Ore", "stage": "ore"}},
        "facilities": {
            "au_mine": {"name": "AU mine", "country": "AU", "kind": "mine", "output": "x",
                        "production": {2024: 100, YEAR: 100}, "capacity": 100},
            "cn_mine": {"name": "CN mine", "country": "CN", "kind": "mine", "output": "x",
                        "production": {2024: 60, YEAR: 60}, "capacity": 60},
        },
        "demand": {"jp_use": {"country": "JP", "commodity": "x", "year": 2024, "tonnes": 100}},
        "flows": {"au_jp": {"supplier": "AU", "buyer": "JP", "commodity": "x", "year": 2024, "tonnes": 40},
                  "cn_jp": {"supplier": "CN", "buyer": "JP", "commodity": "x", "year": 2024, "tonnes": 60}},
        "policies": {"ban": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["x"]},
                             "start": "2025-01-01"}},
    }
    s = Scenario.model_validate(data)
    for mode, jp_short, surplus in (("fixed", 60.0, 60.0), ("rebalance", 0.0, 0.0)):
        r = simulate(s, years=[2024, YEAR], mode=mode)
        assert list(r.shortfall["node"].unique()) == ["JP:x:use"]  # a surplus node is not a user
        sf = r.shortfall.set_index(["year", "node"])
        assert sf.loc[(YEAR, "JP:x:use"), "shortfall"] == pytest.approx(jp_short, abs=1e-9), mode
        f = r.flows[r.flows["year"] == YEAR].set_index("edge")["simulated"]
        assert f["surplus.AU:x"] == pytest.approx(surplus, abs=1e-9), mode
        assert r.flows.loc[r.flows["edge"] == "surplus.AU:x", "kind"].iloc[0] == "surplus"


def test_results_do_not_depend_on_the_order_of_the_yaml() -> None:
    s = exporter_world()
    data = s.model_dump(mode="json", exclude_none=True)
    shuffled = {k: (dict(reversed(list(v.items()))) if isinstance(v, dict) else v) for k, v in reversed(data.items())}
    s2 = Scenario.model_validate(shuffled)
    for rule in ("contracts_first", "home_first", "proportional", "max_delivery"):
        a = simulate(s, years=[2024, YEAR], allocation=rule)
        b = simulate(s2, years=[2024, YEAR], allocation=rule)
        pd.testing.assert_frame_equal(a.shortfall, b.shortfall)
        np.testing.assert_allclose(a.flows.sort_values("edge")["simulated"].to_numpy(),
                                   b.flows.sort_values("edge")["simulated"].to_numpy(), atol=1e-9)


def test_fixed_response_reports_new_projects_as_inactive() -> None:
    # A deal funds a mine in Australia (USD 10 m at USD 100,000 per t/yr: 100 t/yr, commissioned in
    # 2025). The fixed response keeps the baseline's trade pattern, which the new mine has no part
    # in: it says so (Result.inactive) instead of silently leaving "with/without the mine" equal;
    # the rebalance response uses the mine and lists nothing.
    agreements = {"deal": {"name": "Deal", "parties": ["US", "AU"], "covers": {"commodities": ["x"]},
                           "start": "2024-01-01",
                           "investment": {"fund_usd": 1e7, "projects": {"mine": {
                               "country": "AU", "kind": "mine", "output": "x", "share_of_fund": 1.0,
                               "capital_intensity_usd_per_tpa": 1e5, "lead_time_years": 1}}}}}
    s = world({"CN": (300, 300)}, {"CN": 100, "US": 200}, {"cn_us": ("CN", "US", 200)}, agreements=agreements)
    fixed = simulate(s, years=[2024, YEAR], mode="fixed")
    idle = fixed.inactive[fixed.inactive["year"] == YEAR]
    assert idle["facility"].tolist() == ["deal.mine"]
    assert idle["capacity"].tolist() == pytest.approx([100.0])
    assert "fixed response" in idle["reason"].iloc[0]
    reb = simulate(s, years=[2024, YEAR])
    assert reb.inactive.empty
    u = reb.utilisation.set_index(["year", "facility"])
    assert u.loc[(YEAR, "deal.mine"), "output"] == pytest.approx(100.0)


BUNDLED = sorted(p for p in (Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_run_accounts_for_every_tonne(path: Path) -> None:
    # every market of every year, variant and mode closes: inflow (trade, supply, stock released)
    # = outflow (trade, inputs, use, surplus, stock built, unsold), to 1e-6 t; and under the
    # default rule no user is worse off than under fixed
    from supplychain.io.load import load
    from supplychain.simulation.run import Simulator

    s = load(path)
    runs: list[tuple[str | None, dict[str, bool] | None]] = [(None, None), *((v, None) for v in sorted(s.variants))]
    out = {mode: Simulator(s).run_many(runs, mode=mode) for mode in ("fixed", "rebalance")}
    for mode, results in out.items():
        for (variant, _), r in zip(runs, results, strict=True):
            flows = r.flows.rename(columns={"tonnes": "simulated"})  # the run's working table
            assert _open_markets(flows.assign(variant=str(variant))) == [], (mode, variant)
            if mode == "rebalance":  # no cross-haul, except in a year blended from periods (below)
                hauls = cross_hauls(flows.rename(columns={"baseline_t": "baseline"}))
                hauls = hauls[~hauls["year"].isin(_blended_years(s))]
                assert hauls.empty, (variant, hauls.to_string())
    for f, rb in zip(out["fixed"], out["rebalance"], strict=True):
        key = ["year", "node"]
        both = f.shortfall.merge(rb.shortfall, on=key, suffixes=("_fixed", "_rebalance"))
        worse = both[both["shortfall_t_rebalance"] > both["shortfall_t_fixed"] + 1e-6 * both["demand_t_fixed"]
                     + 1e-6]
        assert worse.empty, worse[[*key, "shortfall_t_fixed", "shortfall_t_rebalance"]].to_string()


@pytest.mark.slow
def test_home_first_on_the_bundled_full_ban_exports_no_magnets_while_short() -> None:
    # --allocation home_first on the article's full ban, with and without the deals: in no year does a
    # country export NdFeB magnets while its own magnet users are short
    from supplychain.io.load import load
    from supplychain.simulation.run import Simulator

    s = load(Path(__file__).resolve().parent.parent / "scenarios" / "path_to_2030.yaml")
    variants = ["full_ban_no_deals", "full_ban_all_deals"]
    for variant, out in zip(variants, Simulator(s, allocation="home_first").run_many([(v, None) for v in variants]),
                            strict=True):
        assert out.allocation == "home_first"
        sf = out.shortfall[out.shortfall["commodity"] == "ndfeb_magnet"]
        short = sf[sf["shortfall_share"] > 1e-9][["year", "country"]]
        assert not short.empty, variant  # the ban leaves someone short: the property is not vacuous
        f = out.flows
        exports = f[(f["commodity"] == "ndfeb_magnet") & (f["kind"] == "trade")
                    & (f["supplier_country"] != f["buyer_country"]) & (f["tonnes"] > 1e-6)]
        both = exports.merge(short, left_on=["year", "supplier_country"], right_on=["year", "country"])
        assert both.empty, both[["year", "supplier_country", "buyer_country", "tonnes"]].to_string()


# ------------------------------------------------------------ properties on random worlds
@st.composite
def random_world(draw: st.DrawFn) -> Scenario:
    """A balanced one-commodity world: 3–5 countries, some mining, each with demand; China bans its exports.

    Each producer's output covers its own country's demand first; the rest is shipped to other
    countries' deficits in a random order (flows of the base year), and what is left has no named
    buyer (a surplus node). Capacities are at or above output (spare capacity to re-route).
    """
    countries = ["CN", "US", "JP", "KR", "AU"][: draw(st.integers(3, 5))]
    mines: dict[str, tuple[float, float]] = {}
    for c in countries:
        if c == "CN" or draw(st.booleans()):
            out = float(draw(st.integers(10, 200)))
            mines[c] = (out, out + float(draw(st.integers(0, 100))))
    demand = {c: float(draw(st.integers(5, 150))) for c in countries}
    left = {c: mines.get(c, (0.0, 0.0))[0] - demand[c] for c in countries}  # > 0 spare, < 0 deficit
    flows: dict[str, tuple[str, str, float]] = {}
    order = draw(st.permutations(countries))
    for b in order:
        for s in order:
            if s == b or left[b] >= -1e-9 or left[s] <= 1e-9:
                continue
            t = min(left[s], -left[b])
            flows[f"{s.lower()}_{b.lower()}"] = (s, b, t)
            left[s] -= t
            left[b] += t
    for c in countries:  # a deficit no producer could fill: that demand is not in the world
        if left[c] < -1e-9:
            demand[c] += left[c]
    demand = {c: d for c, d in demand.items() if d > 1e-9}
    return world(mines, demand, flows)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=random_world())
def test_rules_keep_their_promises_on_random_worlds(s: Scenario) -> None:
    fixed = simulate(s, years=[2024, YEAR], mode="fixed")
    assert _open_markets(fixed.flows) == []
    fshort = fixed.shortfall.set_index(["year", "node"])["shortfall"]
    out = {rule: simulate(s, years=[2024, YEAR], allocation=rule) for rule in
           ("contracts_first", "home_first", "proportional", "max_delivery")}
    for rule, r in out.items():
        assert _open_markets(r.flows) == [], rule
    # contracts_first: no user worse off than fixed (so no more shortfall in total either)
    cf = out["contracts_first"].shortfall.set_index(["year", "node"])["shortfall"]
    assert (cf <= fshort.reindex(cf.index) + 1e-6).all()
    assert cf.sum() <= fshort.sum() + 1e-6
    # max_delivery: the least shortfall in tonnes (one commodity), so never more than fixed's
    md = out["max_delivery"].shortfall
    assert md["shortfall"].sum() <= fixed.shortfall["shortfall"].sum() + 1e-6
    # home_first: no country exports while its own users are short
    hf = out["home_first"]
    short = hf.shortfall[hf.shortfall["shortfall_share"] > 1e-9][["year", "country"]]
    f = hf.flows
    exports = f[(f["kind"] == "trade") & (f["supplier_country"] != f["buyer_country"]) & (f["simulated"] > 1e-6)]
    assert exports.merge(short, left_on=["year", "supplier_country"], right_on=["year", "country"]).empty
    # proportional: every short user loses the same share (one pool: every producer outside China can
    # reach every user, China's own output serves only China)
    pr = out["proportional"].shortfall
    shares = pr.loc[(pr["year"] == YEAR) & (pr["shortfall_share"] > 1e-9), "shortfall_share"]
    if len(shares) > 1:
        assert shares.max() - shares.min() < 1e-6


def test_the_command_line_offers_every_rule() -> None:
    """``cli.common.ALLOCATIONS`` is a copy (``--help`` must not import numpy); it names the rules in order."""
    from supplychain.cli.common import ALLOCATIONS
    from supplychain.simulation.rationing import RULES

    assert ALLOCATIONS == RULES
