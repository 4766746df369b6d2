"""Element content traced through products (docs/measures.md, section 7): a hand-worked magnet chain."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from supplychain.errors import ScenarioError
from supplychain.io.load import load_text
from supplychain.metrics import compute_measures
from supplychain.metrics.elements import element_dependence, element_prices, element_shortfall, value_weighted
from supplychain.schema.model import Scenario

YEAR = 2024


def plants_of(nodes: pd.DataFrame) -> pd.DataFrame:
    """``facility, capacity, output`` from a baseline node table (capacity = production where unknown)."""
    fac = nodes.loc[nodes["kind"].eq("facility")]
    prod = fac["production"].to_numpy(dtype=float)
    cap = fac["capacity"].to_numpy(dtype=float)
    return pd.DataFrame({"facility": fac["node"].astype(str).to_numpy(),
                         "capacity": np.where(np.isfinite(cap), cap, prod), "output": prod})


def chain() -> dict[str, Any]:
    """A Japanese magnet plant on Australian NdPr metal and Chinese Dy oxide, selling to the US.

    Contents: metal NdPr 1.0; Dy oxide Dy 0.8; magnet NdPr 0.3, Dy 0.008 (t per t).
    Recipe: 0.3 t metal + 0.01 t Dy oxide per t magnet. Japan makes 1,000 t of magnets
    (300 t metal from Australia, 10 t Dy oxide from China) and ships all to the US, which
    also imports 5 t of Dy oxide from Australia.
    """
    def fac(country: str, kind: str, production: float, **extra: Any) -> dict[str, Any]:
        return {"name": f"{country} {kind}", "country": country, "kind": kind, "production": {YEAR: production},
                **extra}

    def flow(supplier: str, buyer: str, commodity: str, tonnes: float) -> dict[str, Any]:
        return {"supplier": supplier, "buyer": buyer, "commodity": commodity, "year": YEAR, "tonnes": tonnes}

    return {
        "scenario": {"name": "elements", "base_year": YEAR},
        "commodities": {
            "metal": {"name": "NdPr metal", "stage": "metal", "elements": ["Nd", "Pr"],
                      "price_usd_per_t": 60000, "content": {"NdPr": 1.0}},
            "dy": {"name": "Dy oxide", "stage": "oxide", "elements": ["Dy"], "price_usd_per_t": 200000,
                   "content": {"Dy": 0.8}},
            "magnet": {"name": "NdFeB", "stage": "magnet", "elements": ["Nd", "Pr", "Dy"],
                       "content": {"NdPr": 0.3, "Dy": 0.008}},
        },
        "processes": {"sinter": {"inputs": {"metal": 0.3, "dy": 0.01}, "outputs": {"magnet": 1.0}}},
        "facilities": {
            "au_metal": fac("AU", "metal", 300, output="metal"),
            "au_dy": fac("AU", "separation", 5, output="dy"),
            "cn_dy": fac("CN", "separation", 10, output="dy"),
            "jp_magnets": fac("JP", "magnet", 1000, process="sinter"),
        },
        "flows": {
            "au_jp": flow("au_metal", "JP", "metal", 300),
            "cn_jp": flow("cn_dy", "JP", "dy", 10),
            "au_us": flow("au_dy", "US", "dy", 5),
            "jp_us": flow("JP", "US", "magnet", 1000),
        },
        "demand": {"us_magnets": {"country": "US", "commodity": "magnet", "year": YEAR, "tonnes": 1000},
                   "us_dy": {"country": "US", "commodity": "dy", "year": YEAR, "tonnes": 5}},
    }


@pytest.fixture(scope="module")
def measures() -> pd.DataFrame:
    return compute_measures(Scenario.model_validate(chain()), YEAR)


def value(m: pd.DataFrame, country: str, commodity: str, metric: str) -> float:
    r = m.loc[m["country"].eq(country) & m["commodity"].eq(commodity) & m["metric"].eq(metric), "value"]
    assert len(r) == 1, (country, commodity, metric)
    return float(r.iloc[0])


def test_mass_weighted_traced_share_hides_the_chinese_dy(measures: pd.DataFrame) -> None:
    """By mass the plant takes 300 t Australian metal and 10 t Chinese Dy oxide: t = 10/310."""
    assert value(measures, "US", "magnet", "traced_share") == pytest.approx(10 / 310)


def test_element_dependence_follows_each_element(measures: pd.DataFrame) -> None:
    """Element flows into the plant: NdPr 300 · 1.0 = 300 t (AU), Dy 10 · 0.8 = 8 t (CN).

    NdPr: t_NdPr(plant) = 0; US final use 1,000 · 0.3 = 300 t NdPr in magnets → D_NdPr = 0.
    Dy: t_Dy(plant) = 8/8 = 1; US final use 1,000 · 0.008 = 8 t Dy in magnets (t = 1) and
    5 · 0.8 = 4 t in Australian Dy oxide (t = 0) → D_Dy = 8/12 = 2/3, E_Dy = 12 t.
    """
    assert value(measures, "US", "NdPr", "element_dependence") == pytest.approx(0.0)
    assert value(measures, "US", "NdPr", "element_use") == pytest.approx(300.0)
    assert value(measures, "US", "Dy", "element_dependence") == pytest.approx(2 / 3)
    assert value(measures, "US", "Dy", "element_use") == pytest.approx(12.0)
    row = measures.loc[measures["metric"].eq("element_dependence") & measures["country"].eq("US")].iloc[0]
    assert (row["source_country"], row["unit"]) == ("CN", "share")
    assert set(measures.loc[measures["metric"].eq("element_use"), "basis"]) == {"t NdPr contained", "t Dy contained"}


def test_value_weighted_dependence(measures: pd.DataFrame) -> None:
    """Prices per t contained: NdPr 60,000/1.0; Dy 200,000/0.8 = 250,000.

    D_V = (250,000 · 12 · 2/3) / (60,000 · 300 + 250,000 · 12) = 2.0 M / 21.0 M = 0.095238.
    """
    assert element_prices(Scenario.model_validate(chain())) == {"Dy": 250000.0, "NdPr": 60000.0}
    assert value(measures, "US", "NdPr+Dy", "element_dependence_value") == pytest.approx(2.0 / 21.0)


def test_array_functions_take_a_sample_axis() -> None:
    """Two samples: the Dy oxide 0 % and 100 % Chinese → D_Dy = 8/12 and 12/12."""
    f = np.array([[8.0, 8.0], [4.0, 4.0]])
    t = np.array([[1.0, 1.0], [0.0, 1.0]])
    dep, use = element_dependence(f, t, [0, 0], 1)
    np.testing.assert_allclose(dep, [[2 / 3, 1.0]])
    assert use.tolist() == [[12.0, 12.0]]
    dv = value_weighted(np.stack([np.zeros((1, 2)), dep], axis=1), np.stack([np.full((1, 2), 300.0), use], axis=1),
                        [60000.0, 250000.0])
    np.testing.assert_allclose(dv, [[2.0 / 21.0, 3.0 / 21.0]])


def test_element_shortfall_weighs_demand_by_content() -> None:
    """US lacks 500 of 1,000 t magnets (150 t NdPr, 4 t Dy) and none of 5 t Dy oxide (4 t Dy): Dy 4/12."""
    short = pd.DataFrame({"country": ["US", "US"], "commodity": ["magnet", "dy"],
                          "demand_t": [1000.0, 5.0], "shortfall_t": [500.0, 0.0]})
    content = {"magnet": {"NdPr": 0.3, "Dy": 0.008}, "dy": {"Dy": 0.8}}
    out = element_shortfall(short, content).set_index("commodity")["value"]
    assert out.to_dict() == pytest.approx({"Dy": 4 / 12, "NdPr": 0.5})


def test_content_keys_must_be_carried_and_targets_must_name_a_key() -> None:
    text = """
scenario: {name: bad, base_year: 2024}
commodities:
  oxide: {name: Oxide, stage: oxide, elements: [Nd], content: {NdPr: 0.85}}
targets:
  t: {country: US, commodity: Dyy, metric: element_dependence, max: 0.25, by: 2030}
"""
    with pytest.raises(ScenarioError, match=r"content key 'NdPr' names Pr, which 'oxide' does not carry") as err:
        load_text(text, file="bad.yaml")
    assert "unknown element key 'Dyy'" in str(err.value)
    assert "commodities.oxide.content.NdPr" in str(err.value)


def test_binding_input_of_a_magnet_plant() -> None:
    """Japan's plant: capacity 2,000 t of magnets (produces 1,000 t), recipe 0.3 t metal + 0.01 t Dy oxide.

    Required at capacity: metal 0.3 · 2,000 = 600 t, Dy oxide 0.01 · 2,000 = 20 t.
    Available in Japan: metal 300 + 150 (an extra Australian cargo) = 450 t → coverage 0.75;
    Dy oxide 10 t → 0.5. Dy binds: at most 0.5 · 2,000 = 1,000 t of magnets.
    """
    from supplychain.graph import build_tables
    from supplychain.metrics.inputs import binding_inputs

    s = magnet_plant_world()
    nodes, edges = build_tables(s, YEAR)
    b = binding_inputs(s, edges, plants_of(nodes)).set_index("input")
    assert b.loc["metal", "required"] == pytest.approx(600.0)
    assert b.loc["dy", "required"] == pytest.approx(20.0)
    assert b["coverage"].to_dict() == pytest.approx({"metal": 0.75, "dy": 0.5})
    assert b["binding"].to_dict() == {"metal": False, "dy": True}
    assert set(b["country"]) == {"JP"}
    assert set(b["production"]) == {1000.0}


def test_binding_input_read_on_a_simulated_year() -> None:
    """The same plant read on a simulated year (``Result.tables`` + ``Result.utilisation``).

    Without a policy the simulated year is the baseline, so the table is the one derived in
    :func:`test_binding_input_of_a_magnet_plant`: Dy oxide covers 10 / 20 = 0.5 and binds.
    """
    from supplychain.api import simulate
    from supplychain.metrics.inputs import binding_inputs

    s = magnet_plant_world()
    for mode in ("fixed", "rebalance"):
        res = simulate(s, mode=mode)
        u = res.utilisation
        b = binding_inputs(s, res.tables(YEAR)[1], u.loc[u["year"].eq(YEAR)], weight="simulated").set_index("input")
        assert b["coverage"].to_dict() == pytest.approx({"metal": 0.75, "dy": 0.5}), mode
        assert b["binding"].to_dict() == {"metal": False, "dy": True}, mode
        assert set(b["production"]) == {1000.0}, mode


def test_binding_input_counts_what_the_country_keeps_not_what_it_re_exports() -> None:
    """The plant of :func:`test_binding_input_of_a_magnet_plant` (metal 450 t arrive, 600 t needed), with
    Japan's market now sending 150 t of that metal on to Korea: 300 t stay, coverage 300 / 600 = 0.5, tied
    with Dy's 10 / 20 = 0.5 — both bind, where counting the re-exported metal gave 0.75 and Dy alone."""
    from supplychain.graph import build_tables
    from supplychain.metrics.inputs import binding_inputs

    s = magnet_plant_world()
    nodes, edges = build_tables(s, YEAR)
    extra = edges[edges["buyer"] == "JP:metal"].iloc[:1].assign(
        edge="flows.jp_kr_metal", supplier="JP:metal", buyer="KR:metal", supplier_country="JP", buyer_country="KR",
        tonnes=150.0)
    b = binding_inputs(s, pd.concat([edges, extra], ignore_index=True), plants_of(nodes)).set_index("input")
    assert b.loc["metal", "available"] == pytest.approx(300.0)
    assert b["coverage"].to_dict() == pytest.approx({"metal": 0.5, "dy": 0.5})
    assert b["binding"].to_dict() == {"metal": True, "dy": True}


def magnet_plant_world() -> Scenario:
    """:func:`chain` with Japan's magnet plant at 2,000 t and 450 t of Australian metal reaching Japan."""
    data = chain()
    data["facilities"]["jp_magnets"]["capacity"] = 2000
    data["facilities"]["au_metal"]["production"] = {YEAR: 450}
    data["flows"]["au_jp_extra"] = {"supplier": "au_metal", "buyer": "JP", "commodity": "metal", "year": YEAR,
                                    "tonnes": 150}
    return Scenario.model_validate(data)
