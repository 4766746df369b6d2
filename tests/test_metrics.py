"""Measures: NIR, concentration, JRC supply risk, the tidy table contract."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from supplychain.graph import build_tables
from supplychain.metrics import MEASURE_COLUMNS, compute_measures, hhi_wgi, jrc_supply_risk
from supplychain.metrics.concentration import group_concentration
from supplychain.metrics.measures import resolve_source, source_label
from supplychain.metrics.trade import net_import_reliance, pair_sums, trade_index, trade_summary
from supplychain.schema.model import Scenario

YEAR = 2024


def scenario(**sections: Any) -> Scenario:
    data: dict[str, Any] = {
        "scenario": {"name": "metrics", "base_year": YEAR},
        "commodities": {"ore": {"name": "REE concentrate", "stage": "ore", "basis": "t REO"}},
    }
    data.update(sections)
    return Scenario.model_validate(data)


def mine(country: str, tonnes: float, **extra: Any) -> dict[str, Any]:
    return {"name": f"{country} mine", "country": country, "kind": "mine", "output": "ore",
            "production": {YEAR: tonnes}, **extra}


def flow(supplier: str, buyer: str, tonnes: float) -> dict[str, Any]:
    return {"supplier": supplier, "buyer": buyer, "commodity": "ore", "year": YEAR, "tonnes": tonnes}


def rows(m: pd.DataFrame, country: str, metric: str) -> pd.DataFrame:
    return m.loc[m["country"].eq(country) & m["metric"].eq(metric)]


def one(m: pd.DataFrame, country: str, metric: str, partner: str = "") -> pd.Series:
    r = rows(m, country, metric)
    r = r.loc[r["partner"].eq(partner)]
    assert len(r) == 1, (country, metric, partner)
    return r.iloc[0]


# --------------------------------------------------------------------- (d) NIR
@pytest.fixture(scope="module")
def exporter() -> pd.DataFrame:
    """Australia mines 100 t and exports 40 t to Japan.

    Australia: AC = 100 + 0 − 40 = 60, net imports −40 < 0 → a net exporter, "E".
    Japan: AC = 0 + 40 − 0 = 40, NIR = 40/40 = 1.
    """
    s = scenario(facilities={"au": mine("AU", 100)}, flows={"au_jp": flow("AU", "JP", 40)})
    return compute_measures(s, YEAR)


def test_net_exporter_is_labelled_e(exporter: pd.DataFrame) -> None:
    au = one(exporter, "AU", "net_import_reliance")
    assert math.isnan(au["value"])
    assert au["label"] == "E"
    jp = one(exporter, "JP", "net_import_reliance")
    assert (jp["value"], jp["label"]) == (1.0, "")


def test_nir_counts_stock_draws() -> None:
    """The US mines 10 t, imports 30 t and draws 20 t from stock to meet 60 t of demand.

    AC = 10 + 30 − 0 + 20 = 60; NIR = (30 − 0 + 20)/60 = 5/6 (USGS: ± stock change).
    """
    s = scenario(
        facilities={"au": mine("AU", 100), "us": mine("US", 10)},
        flows={"au_us": flow("AU", "US", 30)},
        demand={"au": {"country": "AU", "commodity": "ore", "year": YEAR, "tonnes": 70},
                "us": {"country": "US", "commodity": "ore", "year": YEAR, "tonnes": 60}},
        stockpiles={"us": {"country": "US", "commodity": "ore", "year": YEAR, "tonnes": 500}},
    )
    m = compute_measures(s, YEAR)
    assert one(m, "US", "net_import_reliance")["value"] == pytest.approx(5 / 6)
    nodes, edges = build_tables(s, YEAR)
    summary = trade_summary(nodes, edges).loc[("US", "ore")]
    assert (summary["stock_draw"], summary["apparent_consumption"]) == (pytest.approx(20.0), pytest.approx(60.0))


def test_net_import_reliance_pure_function() -> None:
    s = pd.DataFrame({"production": [10.0], "imports": [30.0], "exports": [5.0], "stock_draw": [0.0],
                      "stock_build": [5.0]},
                     index=pd.MultiIndex.from_tuples([("US", "ore")], names=["country", "commodity"]))
    s["apparent_consumption"] = 10 + 30 - 5 - 5
    # (30 − 5 − 5) / 30
    assert net_import_reliance(s).loc[("US", "ore"), "value"] == pytest.approx(20 / 30)


# --------------------------------------------------------------------- (e) HHI
def test_hhi_of_three_suppliers() -> None:
    """Shares 50 %, 30 %, 20 %: HHI = 2 500 + 900 + 400 = 3 800; top-1 0.5, top-3 1.

    Shares or tonnes alike (0.5, 0.3, 0.2 gives 3 800 too); one supplier: 100² = 10 000;
    a group with nothing: 0. Five groups at once, each group's members contiguous.
    """
    values = [50, 30, 20, 0.5, 0.3, 0.2, 7.0, 0.0, 0.0, 20, 50, 30]
    h, top1, top3, total = group_concentration(values, [0, 0, 0, 1, 1, 1, 2, 3, 3, 4, 4, 4], 5)
    assert h.tolist() == pytest.approx([3800.0, 3800.0, 10_000.0, 0.0, 3800.0])
    assert (top1[4], top3[4]) == (0.5, 1.0)
    assert total.tolist() == pytest.approx([100.0, 1.0, 7.0, 0.0, 100.0])


def test_hhi_sourcing_includes_domestic_production() -> None:
    """The US mines 50 t and imports 30 t from China and 20 t from Australia.

    Sourcing shares 50/30/20 % → HHI 3 800, top-1 0.5, top-3 1. World production: China
    300 t (30 exported), Australia 100 t, US 50 t of 450 t → HHI = (300/450·100)² +
    (100/450·100)² + (50/450·100)² = 4 444.4 + 493.8 + 123.5 = 5 061.7.
    """
    s = scenario(
        facilities={"us": mine("US", 50), "cn": mine("CN", 300), "au": mine("AU", 100)},
        flows={"cn_us": flow("CN", "US", 30), "au_us": flow("AU", "US", 20)},
    )
    m = compute_measures(s, YEAR)
    assert one(m, "US", "hhi_sourcing")["value"] == pytest.approx(3800.0)
    assert one(m, "US", "hhi_sourcing")["unit"] == "points"
    assert one(m, "US", "top1_share")["value"] == pytest.approx(0.5)
    assert one(m, "US", "top3_share")["value"] == pytest.approx(1.0)
    expected_world = sum((100 * x / 450) ** 2 for x in (300, 100, 50))
    assert one(m, "WORLD", "hhi_production")["value"] == pytest.approx(expected_world)
    assert one(m, "WORLD", "top1_share")["value"] == pytest.approx(300 / 450)
    # partner shares of imports and the direct shares
    assert one(m, "US", "import_share", "CN")["value"] == pytest.approx(0.6)
    assert one(m, "US", "import_share", "AU")["value"] == pytest.approx(0.4)
    assert one(m, "US", "direct_import_share")["value"] == pytest.approx(0.6)
    assert one(m, "US", "direct_share_of_consumption")["value"] == pytest.approx(30 / 100)
    assert one(m, "US", "traced_share")["value"] == pytest.approx(0.3)


def test_world_production_leaves_out_secondary_output() -> None:
    """As above, plus a US recycler making 50 t (secondary output, e.g. refined scrap).

    The US's own sourcing counts it: domestic 50 + 50 = 100 t, China 30, Australia 20 of
    150 t → top-1 100/150 = 0.667, HHI (66.7² + 20² + 13.3²) = 4 444.4 + 400 + 177.8 = 5 022.2.
    World production is primary output only: China 300, Australia 100, US 50 t of 450 t,
    as without the recycler (HHI 5 061.7, top-1 300/450); counted, the recycler would make
    it 300/500 = 0.6.
    """
    s = scenario(
        facilities={"us": mine("US", 50), "cn": mine("CN", 300), "au": mine("AU", 100),
                    "us_scrap": {**mine("US", 50), "kind": "recycler", "name": "US scrap"}},
        flows={"cn_us": flow("CN", "US", 30), "au_us": flow("AU", "US", 20)},
    )
    m = compute_measures(s, YEAR)
    assert one(m, "US", "top1_share")["value"] == pytest.approx(100 / 150)
    assert one(m, "US", "hhi_sourcing")["value"] == pytest.approx(sum((100 * x / 150) ** 2 for x in (100, 30, 20)))
    assert one(m, "WORLD", "top1_share")["value"] == pytest.approx(300 / 450)
    world = sum((100 * x / 450) ** 2 for x in (300, 100, 50))
    assert one(m, "WORLD", "hhi_production")["value"] == pytest.approx(world)
    assert one(m, "WORLD", "top3_share")["value"] == pytest.approx(1.0)


# --------------------------------------------------------------------- JRC
def test_hhi_wgi_and_supply_risk_by_hand() -> None:
    """HHI_WGI on fractional shares, WGI ×10, t = 1 + restriction.

    Global supply: CN 0.8 (wgi 0.6 → 6, restriction 0.2 → t 1.2), AU 0.2 (wgi 0.2 → 2):
    0.64·6·1.2 + 0.04·2 = 4.608 + 0.08 = 4.688. Sourcing 50/50: 0.25·7.2 + 0.25·2 = 2.3.
    IR = 0.8, EoL-RIR 0.1, SI 1: SR = (4.688·0.4 + 2.3·0.6)·0.9 = (1.8752 + 1.38)·0.9.
    """
    wgi = {"CN": 0.6, "AU": 0.2}
    t = {"CN": 0.2}
    gs = hhi_wgi({"CN": 0.8, "AU": 0.2}, wgi, t)
    src = hhi_wgi(pd.Series({"CN": 50.0, "AU": 50.0}), wgi, t)
    assert gs == pytest.approx(4.688)
    assert src == pytest.approx(2.3)
    assert jrc_supply_risk(gs, src, 0.8, 0.1) == pytest.approx((1.8752 + 1.38) * 0.9)
    with pytest.raises(KeyError):
        hhi_wgi({"XX": 1.0}, wgi)
    with pytest.raises(ValueError, match="import_reliance"):
        jrc_supply_risk(1.0, 1.0, 1.5)


def test_supply_risk_rows_when_wgi_is_given() -> None:
    """The US mines nothing and imports 60 t from China, 40 t from Australia.

    World production CN 300 (t 1.2, WGI 6), AU 100 (WGI 2): shares 0.75 / 0.25,
    HHI_GS = 0.5625·7.2 + 0.0625·2 = 4.175. Sourcing 0.6/0.4: 0.36·7.2 + 0.16·2 = 2.912.
    IR = 1, no recycling, SI = 0.9: SR = (4.175/2 + 2.912/2)·0.9 = 3.18915.
    """
    s = scenario(
        countries={"CN": {"wgi": 0.6, "trade_restriction": 0.2}, "AU": {"wgi": 0.2}, "US": {"wgi": 0.1}},
        facilities={"cn": mine("CN", 300), "au": mine("AU", 100)},
        flows={"cn_us": flow("CN", "US", 60), "au_us": flow("AU", "US", 40)},
    )
    m = compute_measures(s, YEAR, si_sr=0.9)
    sr = one(m, "US", "supply_risk")
    assert sr["value"] == pytest.approx((4.175 / 2 + 2.912 / 2) * 0.9)
    assert sr["unit"] == "score"
    # no WGI at all: no supply-risk rows
    bare = compute_measures(scenario(facilities={"cn": mine("CN", 300)}, flows={"x": flow("CN", "US", 10)}), YEAR)
    assert not bare["metric"].eq("supply_risk").any()


def test_recycled_share_lowers_supply_risk() -> None:
    """A US recycler makes 50 t, 80 % from end-of-life scrap; the US imports 50 t.

    EoL-RIR = 0.8·50 / (50 + 50) = 0.4; the risk is (1 − 0.4) = 0.6 of the risk without it.
    """
    base: dict[str, Any] = {
        "countries": {"CN": {"wgi": 0.6}, "US": {"wgi": 0.1}},
        "flows": {"cn_us": flow("CN", "US", 50)},
    }
    rec = {"name": "Recycler", "country": "US", "kind": "recycler", "output": "ore", "production": {YEAR: 50}}
    with_rec = scenario(**base, facilities={"cn": mine("CN", 300), "rec": {**rec, "recycled_share": 0.8}})
    without = scenario(**base, facilities={"cn": mine("CN", 300), "rec": rec})
    a = one(compute_measures(with_rec, YEAR), "US", "supply_risk")["value"]
    b = one(compute_measures(without, YEAR), "US", "supply_risk")["value"]
    assert a == pytest.approx(0.6 * b)


# --------------------------------------------------------------------- the contract
def test_measures_table_contract(exporter: pd.DataFrame) -> None:
    assert tuple(exporter.columns) == MEASURE_COLUMNS
    assert set(exporter["year"]) == {YEAR}
    assert set(exporter["scenario"]) == {"metrics"}
    nan = exporter["value"].isna()
    # NaN is a net exporter's NIR ("E") or a share with no denominator: Australia imports nothing,
    # so its direct import share is undefined (n/a), not 0
    nir = exporter["metric"].eq("net_import_reliance")
    assert exporter.loc[nan & nir, "label"].eq("E").all()
    undefined = exporter.loc[nan & ~nir]
    assert list(zip(undefined["country"], undefined["metric"], strict=True)) == [("AU", "direct_import_share")]
    assert np.isfinite(exporter.loc[~nan, "value"]).all()
    shares = exporter.loc[exporter["unit"].eq("share") & ~nan, "value"]
    assert shares.between(0.0, 1.0).all()
    src_dep = exporter["metric"].isin(["direct_import_share", "direct_share_of_consumption", "traced_share"])
    assert set(exporter.loc[src_dep, "source_country"]) == {"CN"}
    assert set(exporter.loc[~src_dep, "source_country"]) == {""}
    assert set(exporter["basis"]) == {"t REO"}


def test_resolve_source_groups_regions_and_lists() -> None:
    s = scenario(
        regions={"EU": {"name": "European Union", "members": ["DE", "FR"]}},
        groups={"ASEAN": {"members": ["MY", "VN"]}, "PARTNERS": {"members": ["ASEAN", "JP"]},
                "OTHERS": {"members": ["PARTNERS"], "complement_of": "PARTNERS"}},
    )
    universe = ["CN", "MY", "VN", "JP", "US", "EU"]
    assert resolve_source(s, "PARTNERS", universe) == {"MY", "VN", "JP"}
    assert resolve_source(s, "OTHERS", universe) == {"CN", "US", "EU"}
    assert resolve_source(s, "EU") == {"EU", "DE", "FR"}
    assert resolve_source(s, ("CN", "ASEAN")) == {"CN", "MY", "VN"}
    assert resolve_source(None, "CN") == {"CN"}
    assert source_label(("MY", "CN")) == "CN+MY"


def test_default_source_is_the_scenarios_source_country() -> None:
    s = Scenario.model_validate({
        "scenario": {"name": "au-view", "base_year": YEAR, "source_country": "AU"},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}},
        "facilities": {"au": mine("AU", 100)},
        "flows": {"au_jp": flow("AU", "JP", 40)},
    })
    m = compute_measures(s, YEAR, source=None)
    assert one(m, "JP", "traced_share")["source_country"] == "AU"
    assert one(m, "JP", "traced_share")["value"] == 1.0


def test_imports_by_partner_ignores_domestic_flows() -> None:
    s = scenario(facilities={"au": mine("AU", 100)}, flows={"dom": flow("au", "AU", 10), "x": flow("AU", "JP", 5)})
    nodes, edges = build_tables(s, YEAR)
    index = trade_index(nodes, edges)
    p = index.pairs.assign(tonnes=pair_sums(index, edges["tonnes"].to_numpy(dtype=float)))
    assert p.to_dict("records") == [{"country": "JP", "commodity": "ore", "partner": "AU", "tonnes": 5.0}]


def test_supply_risk_has_no_import_reliance_where_the_use_is_not_recorded() -> None:
    """IR = 0 only for a net exporter; a market whose use is not recorded has no supply risk.

    China mines 300 t (WGI 6, t 1.2), Australia 100 t (WGI 2); the US imports 60 t from China
    and 40 t from Australia but has no final demand and no plant: its AC = 100 t is what trade
    leaves, not a use, so its net import reliance is "use not recorded" (NaN). Japan buys
    10 t from Australia for its final demand of 10 t (the scenario records final demand).

    * US: IR unknown -> no supply_risk row. Before, the NaN was read as a net exporter's IR = 0:
      SR = HHI_sourcing = 0.36·7.2 + 0.16·2 = 2.912.
    * China: production 300, exports 60: a net exporter ("E"), IR = 0; it sources only itself,
      HHI_sourcing = 1·7.2 = 7.2, so SR = 7.2·(1 − 0/2) = 7.2.
    * Japan: IR = 10/10 = 1; HHI_GS = 0.75²·7.2 + 0.25²·2 = 4.175, sourcing AU only: 1·2 = 2;
      SR = 4.175/2 + 2/2 = 3.0875.
    """
    s = scenario(
        countries={"CN": {"wgi": 0.6, "trade_restriction": 0.2}, "AU": {"wgi": 0.2}, "US": {"wgi": 0.1},
                   "JP": {"wgi": 0.1}},
        facilities={"cn": mine("CN", 300), "au": mine("AU", 100)},
        flows={"cn_us": flow("CN", "US", 60), "au_us": flow("AU", "US", 40), "au_jp": flow("AU", "JP", 10)},
        demand={"jp": {"country": "JP", "commodity": "ore", "year": YEAR, "tonnes": 10}},
    )
    m = compute_measures(s, YEAR)
    assert one(m, "US", "net_import_reliance")["label"] == "use not recorded"
    assert rows(m, "US", "supply_risk").empty
    assert one(m, "CN", "supply_risk")["value"] == pytest.approx(7.2)
    assert one(m, "JP", "supply_risk")["value"] == pytest.approx(4.175 / 2 + 2 / 2)
