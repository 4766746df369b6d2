"""Toggles switch any entity: facilities, flows, offtakes, stockpiles (issue 18, item 11).

A switched-off facility, flow, stockpile or offtake is not in that run's world: a run
with it switched off equals a run of the scenario written without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from supplychain.api import compare, simulate
from supplychain.io import load_text
from supplychain.schema.model import Scenario
from supplychain.simulation.toggles import apply_switches, resolve_toggles

DATA = Path(__file__).parent / "data" / "cli"
PLANT = ("  us_ndpr: {name: New US NdPr plant, country: US, kind: aggregate, output: ndpr, capacity: 500,"
         " commissioning_year: 2026, utilisation: 1}\n")


def small(extra: str = "", toggles: str = "") -> Scenario:
    """The small CLI world (China's ban from 2025-09-01) with extra sections and toggles."""
    text = "extends: [small.yaml]\n" + extra
    if toggles:
        text += "toggles:\n" + toggles
    return load_text(text, base_dir=DATA)


def short(res: Any, country: str = "US") -> dict[int, float]:
    s = res.shortfall[res.shortfall["country"] == country]
    return {int(y): float(v) for y, v in zip(s["year"], s["shortfall"], strict=True)}


@pytest.mark.parametrize("mode", ["fixed", "rebalance"])
def test_a_new_plant_with_a_commissioning_year_switches_on_and_off(mode: str) -> None:
    with_toggle = small("facilities:\n" + PLANT, "  plant: {controls: [us_ndpr], default: off}\n")
    without_plant = small()
    with_plant = small("facilities:\n" + PLANT)
    off = simulate(with_toggle, mode=mode)  # type: ignore[arg-type]
    on = simulate(with_toggle, toggles={"plant": True}, mode=mode)  # type: ignore[arg-type]
    assert short(off) == pytest.approx(short(simulate(without_plant, mode=mode)))  # type: ignore[arg-type]
    assert short(on) == pytest.approx(short(simulate(with_plant, mode=mode)))  # type: ignore[arg-type]
    assert short(on)[2026] < short(off)[2026]
    assert short(on)[2025] == pytest.approx(short(off)[2025])  # before it is commissioned
    assert "us_ndpr" not in set(off.utilisation["facility"])
    assert off.toggle_state.switched_off == frozenset({("facilities", "us_ndpr")})


def test_flows_and_stockpiles_switch_off() -> None:
    stock = "stockpiles:\n  us_stock: {country: US, commodity: ndpr, year: 2026, quantity: 300}\n"
    sc = small(stock, "  stock: {controls: [us_stock], default: off}\n  mine: {controls: [flows.au_my_conc]}\n")
    assert simulate(sc, mode="fixed").stocks.empty
    on = simulate(sc, toggles={"stock": True}, mode="fixed")
    assert on.stocks.set_index("year").loc[2026, "draw"] == pytest.approx(300.0)
    state = resolve_toggles(sc, overrides={"mine": False})
    assert "au_my_conc" not in apply_switches(sc, state).flows
    assert "au_my_conc" in apply_switches(sc, resolve_toggles(sc)).flows


def deal(offtakes: str) -> Scenario:
    return small(
        "agreements:\n  deal:\n    name: D\n    parties: [US, AU]\n    start: 2025-01-01\n"
        "    investment:\n      fund_usd: 1.0e9\n      projects:\n        au_ndpr:\n          country: AU\n"
        "          kind: aggregate\n          output: ndpr\n          share_of_fund: 1.0\n"
        "          capital_intensity_usd_per_unit_pa: 1.0e6\n          lead_time_years: 1\n"
        "    offtakes:\n" + offtakes,
        "  offtake: {controls: [au_offtake]}\n",
    )


def test_an_offtake_may_name_an_investment_project_and_be_switched() -> None:
    # The fund builds 1e9 / 1e6 = 1,000 t/yr of NdPr oxide in Australia from 2026 (lead time 1 year);
    # the offtake commits 400 t/yr of it to the US from 2026: the LP must deliver at least that.
    sc = deal("      - {id: au_offtake, supplier: au_ndpr, buyer: US, commodity: ndpr, quantity_per_year: 400,"
              " start_year: 2026}\n")
    res = simulate(sc, mode="rebalance")
    f = res.flows[(res.flows["year"] == 2026) & (res.flows["supplier"] == "deal.au_ndpr")]
    assert f["simulated"].sum() >= 400.0 - 1e-6
    off = resolve_toggles(sc, overrides={"offtake": False})
    assert apply_switches(sc, off).agreements["deal"].offtakes == []


def test_compare_runs_variants_that_switch_different_worlds() -> None:
    sc = small("facilities:\n" + PLANT + "variants:\n  with_plant: {toggles: {plant: on}}\n",
               "  plant: {controls: [us_ndpr], default: off}\n")
    table = compare(sc, mode="fixed", years=[2026])
    got = table[(table["metric"] == "shortfall_share") & (table["country"] == "US")].set_index("variant")["value"]
    for variant in ("base", "with_plant"):
        alone = simulate(sc, variant=None if variant == "base" else variant, mode="fixed")
        m = alone.measures
        want = m[(m["metric"] == "shortfall_share") & (m["country"] == "US") & (m["year"] == 2026)]["value"]
        assert got[variant] == pytest.approx(float(want.iloc[0]))
    assert got["with_plant"] < got["base"]


def test_sweeps_simulate_each_sample_in_its_own_world() -> None:
    from supplychain.uncertainty import run_sweep

    sc = small("facilities:\n" + PLANT, "  plant: {controls: [us_ndpr], default: off, probability: 0.5}\n")
    r = run_sweep(sc, samples=12, seed=3, mode="exposure", years=[2026], countries=["US"], cache=False, quiet=True)
    assert "own world" in r.info["fast_path"]
    direct = r.measure(metric="direct_share_of_consumption", country="US", commodity="ndpr", year=2026)
    plant_on = r.inputs["toggles.plant"].astype(bool).to_numpy()
    assert plant_on.any()
    assert (~plant_on).any()
    values = pd.Series(direct.to_numpy())
    # with the plant the US makes 500 t of its own: China's share of its consumption is lower, in every sample
    assert values[plant_on].nunique() == 1
    assert values[~plant_on].nunique() == 1
    assert values[plant_on].iloc[0] < values[~plant_on].iloc[0]
