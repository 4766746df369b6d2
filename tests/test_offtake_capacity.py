"""An offtake commits at most what its plant can make that year (``docs/rebalance.md``, "Variables"), by hand."""

from __future__ import annotations

from typing import Any

import pytest

from supplychain.api import simulate
from supplychain.graph.balance import market_balance
from supplychain.schema.model import Scenario
from supplychain.schema.references import check_offtake_capacity, check_warnings

YEARS = (2024, 2025, 2026, 2027)


def offtake_world(start: str = "2025-07-01") -> Scenario:
    """CN makes 1,000 t of NdPr oxide (600 t to the US, 300 t to JP, 100 t at home), AU 150 t (100 t US, 50 t KR).

    A US programme from ``start`` builds a US separation plant, USD 1 bn × 0.5 / USD 1 M per t/yr = 500 t/yr,
    commissioned one year after its start's year and ramped up over one year, and commits it to two offtakes
    from 2025: 400 t/yr to JP and 100 t/yr to KR.
    """
    data: dict[str, Any] = {
        "scenario": {"name": "offtakes", "base_year": 2024, "horizon": 2027},
        "commodities": {"ndpr_oxide": {"name": "NdPr oxide", "stage": "oxide", "family": "rare_earths",
                                       "elements": ["Nd", "Pr"], "price_usd_per_t": 60000}},
        "facilities": {
            "cn_sep": {"name": "CN separation", "country": "CN", "kind": "aggregate", "output": "ndpr_oxide",
                       "capacity": 1000, "production": dict.fromkeys(YEARS, 1000)},
            "au_sep": {"name": "AU separation", "country": "AU", "kind": "aggregate", "output": "ndpr_oxide",
                       "capacity": 300, "production": dict.fromkeys(YEARS, 150)},
        },
        "flows": {f"{k}_{y}": {"supplier": s, "buyer": b, "commodity": "ndpr_oxide", "year": y, "tonnes": t}
                  for y in YEARS
                  for k, s, b, t in (("cn_us", "CN", "US", 600), ("cn_jp", "CN", "JP", 300), ("au_us", "AU", "US", 100),
                                     ("au_kr", "AU", "KR", 50))},
        "demand": {c: {"country": c, "commodity": "ndpr_oxide", "year": 2024, "tonnes": t}
                   for c, t in (("US", 700), ("JP", 300), ("CN", 100), ("KR", 50))},
        "agreements": {"home": {
            "name": "US programme", "parties": ["US"], "start": start,
            "investment": {"fund_usd": 1e9, "projects": {"us_sep": {
                "country": "US", "kind": "aggregate", "output": "ndpr_oxide", "share_of_fund": 0.5,
                "capital_intensity_usd_per_tpa": 1e6, "lead_time_years": 1, "ramp_up_years": 1}}},
            "offtakes": [
                {"id": "to_jp", "supplier": "us_sep", "buyer": "JP", "commodity": "ndpr_oxide", "start_year": 2025,
                 "quantity_per_year": 400},
                {"id": "to_kr", "supplier": "us_sep", "buyer": "KR", "commodity": "ndpr_oxide", "start_year": 2025,
                 "quantity_per_year": 100}]}},
    }
    return Scenario.model_validate(data)


def test_an_offtake_commits_at_most_what_its_plant_can_make() -> None:
    # The plant (500 t/yr) is commissioned in 2026 (2025 + 1) at 1/(1 + 1) = 1/2 of its capacity, in full from 2027:
    # K = 0 t in 2025, 250 t in 2026, 500 t in 2027.
    # 2025, a partial year: the programme is in force from 1 July, φ = 6/12, so the offtakes commit 400 × 0.5 = 200 t
    #   and 100 × 0.5 = 50 t. The plant can make 0 t: both floors are 0 (cut 200 and 50 t). On main the floors stay
    #   200 and 50 t against a capacity of 0 and the LP is infeasible.
    # 2026, a ramp-up year: 400 + 100 = 500 t committed, 250 t can be made; the offtakes share it in proportion to
    #   their commitments, 250/500 = 1/2: 200 t to JP, 50 t to KR (cut 200 and 50 t); the plant runs at 250 t.
    # 2027: 500 t committed, 500 t can be made: nothing is cut, the plant runs at 500 t, 400 t to JP, 100 t to KR.
    res = simulate(offtake_world(), mode="rebalance")
    o = res.offtakes.set_index(["year", "offtake"])
    want = {(2025, "to_jp"): (200.0, 0.0, 0.0), (2025, "to_kr"): (50.0, 0.0, 0.0),
            (2026, "to_jp"): (400.0, 250.0, 200.0), (2026, "to_kr"): (100.0, 250.0, 50.0),
            (2027, "to_jp"): (400.0, 500.0, 400.0), (2027, "to_kr"): (100.0, 500.0, 100.0)}
    assert sorted(o.index) == sorted(want)
    for k, (committed, can_make, floor) in want.items():
        assert o.loc[k, "committed"] == pytest.approx(committed)
        assert o.loc[k, "can_make"] == pytest.approx(can_make)
        assert o.loc[k, "floor"] == pytest.approx(floor)
        assert o.loc[k, "cut"] == pytest.approx(committed - floor)
    u = res.utilisation.set_index(["year", "facility"])["output"]
    assert [u[(y, "home.us_sep")] for y in (2025, 2026, 2027)] == pytest.approx([0.0, 250.0, 500.0])
    f = res.flows.set_index(["year", "edge"])["simulated"]
    for y, jp, kr in ((2026, 200.0, 50.0), (2027, 400.0, 100.0)):
        assert f[(y, "offtake.home.0")] == pytest.approx(jp)
        assert f[(y, "offtake.home.1")] == pytest.approx(kr)
    for y in YEARS:
        edges = res.tables(y)[1]
        assert market_balance(edges.assign(tonnes=edges["simulated"]))["balanced"].all(), y
    assert simulate(offtake_world(), mode="fixed").offtakes.empty  # the fixed response has no offtakes


def test_validate_warns_of_offtakes_above_what_their_plant_can_make() -> None:
    # The plant's offtakes together against what it can make in each year they are in force (no output of its
    # own: K = its capacity): 2025, 200 + 50 = 250 t against 0 t, cut to 0 t; 2026, 400 + 100 = 500 t against
    # 250 t, cut to 250 t; 2027, 500 t against 500 t, within it.
    messages = [p.message for p in check_offtake_capacity(offtake_world())]
    assert messages == [
        f"offtake {o} of agreement home: the offtakes of us_sep commit more than it can make in 2025, 2026 "
        "(250 t committed, 0 t it can make: cut to 0 t in 2025)" for o in ("to_jp", "to_kr")]
    assert [p.message for p in check_warnings(offtake_world()) if "offtakes of us_sep" in p.message] == messages
    # From 1 January 2024 the plant is commissioned in 2025 (250 t) and full in 2026: only 2025 is over.
    assert [p.message for p in check_offtake_capacity(offtake_world(start="2024-01-01"))] == [
        f"offtake {o} of agreement home: the offtakes of us_sep commit more than it can make in 2025 "
        "(500 t committed, 250 t it can make: cut to 250 t)" for o in ("to_jp", "to_kr")]


def test_a_ban_caps_an_offtake_before_the_plant_is_shared() -> None:
    # offtake_world + a US export ban on NdPr oxide to JP from 2025. In 2026 the plant can make K = 250 t (ramp-up
    # year). The ban caps the JP offtake first: U = (1 − 1) × f0 = 0, so L' = min(400, 0) = 0 t (blocked 400 t);
    # the KR offtake is not banned, L' = 100 t. The plant's 250 t are shared among what may still be delivered,
    # 0 + 100 = 100 t ≤ 250 t: nothing is cut, KR's floor is 100 t and the plant runs at least 100 t. Sharing the
    # 250 t before the ban (as on main) gave KR 250 × 100/500 = 50 t, a floor of 200 t to JP that the ban makes 0,
    # and 200 t of capacity no offtake could use.
    data = offtake_world().model_dump(by_alias=True, exclude_unset=True)
    data["policies"] = {"us_jp": {"type": "export_ban", "country": "US", "partners": {"include": ["JP"]},
                                  "start": "2025-01-01", "covers": {"commodities": ["ndpr_oxide"]},
                                  "assumption": "a test ban"}}
    res = simulate(Scenario.model_validate(data), mode="rebalance")
    o = res.offtakes.set_index(["year", "offtake"])
    for k, (committed, blocked, floor, cut) in {(2026, "to_jp"): (400.0, 400.0, 0.0, 0.0),
                                                 (2026, "to_kr"): (100.0, 0.0, 100.0, 0.0)}.items():
        assert o.loc[k, "committed"] == pytest.approx(committed)
        assert o.loc[k, "blocked"] == pytest.approx(blocked)
        assert o.loc[k, "can_make"] == pytest.approx(250.0)
        assert o.loc[k, "floor"] == pytest.approx(floor)
        assert o.loc[k, "cut"] == pytest.approx(cut)
    f = res.flows.set_index(["year", "edge"])["simulated"]
    assert f[(2026, "offtake.home.1")] >= 100.0 - 1e-6
    assert f.get((2026, "offtake.home.0"), 0.0) == pytest.approx(0.0, abs=1e-6)


def _with_au_offtake(capacity: float | None, per_year: float) -> Scenario:
    """offtake_world with AU's plant (150 t of output every year) at ``capacity`` and an offtake au_us of it."""
    data = offtake_world().model_dump(by_alias=True, exclude_unset=True)
    if capacity is None:
        del data["facilities"]["au_sep"]["capacity"]
    else:
        data["facilities"]["au_sep"]["capacity"] = capacity
    data["agreements"]["home"]["offtakes"].append({"id": "au_us", "supplier": "au_sep", "buyer": "US",
                                                   "commodity": "ndpr_oxide", "start_year": 2025,
                                                   "quantity_per_year": per_year})
    return Scenario.model_validate(data)


def test_validate_judges_an_offtake_by_what_the_response_cuts_to() -> None:
    # F-3: offtake_world with AU's plant at capacity 100 t (it makes 150 t every year) and a third offtake of the
    # programme, 140 t/yr from au_sep to the US from 2025 (φ = 6/12 in 2025: 70 t). The LP's M = y K with
    # K = max(capacity 100, output 150) = 150 t and y = 1 (the plant's one output): 140 t ≤ 150 t, nothing is cut.
    # On main validate compared 140 t with the capacity alone (100 t) and warned for 2026 and 2027; now it uses
    # the LP's rule (plant_capacity, offtake_floors) and says nothing, as the response cuts nothing.
    s = _with_au_offtake(100, 140)
    assert not [p for p in check_offtake_capacity(s) if "au_sep" in p.message]
    o = simulate(s, mode="rebalance").offtakes.set_index(["year", "offtake"])
    for y in (2026, 2027):
        assert o.loc[(y, "au_us"), "can_make"] == pytest.approx(150.0)
        assert o.loc[(y, "au_us"), "floor"] == pytest.approx(140.0)
        assert o.loc[(y, "au_us"), "cut"] == pytest.approx(0.0)


def test_validate_warns_of_a_plant_of_unknown_capacity_as_the_response_cuts_it() -> None:
    # The same plant with no capacity and a 200 t/yr offtake: K = its output, 150 t (no spare capacity), so the
    # response cuts 200 t to 150 t in 2026 and 2027 (2025: 100 t ≤ 150 t). On main a plant of unknown capacity was
    # never reported. The warning gives what the LP's Result.offtakes gives: can_make 150 t, floor 150 t, cut 50 t.
    s = _with_au_offtake(None, 200)
    (p,) = [p for p in check_offtake_capacity(s) if "au_sep" in p.message]
    assert p.message == ("offtake au_us of agreement home: the offtakes of au_sep commit more than it can make in "
                         "2026, 2027 (200 t committed, 150 t it can make: cut to 150 t in 2026)")
    assert "Result.offtakes" in p.hint
    o = simulate(s, mode="rebalance").offtakes.set_index(["year", "offtake"])
    for y in (2026, 2027):
        assert (o.loc[(y, "au_us"), "can_make"], o.loc[(y, "au_us"), "floor"], o.loc[(y, "au_us"), "cut"]) == (
            pytest.approx(150.0), pytest.approx(150.0), pytest.approx(50.0))


@pytest.mark.parametrize("world", [offtake_world(), offtake_world(start="2024-01-01"), _with_au_offtake(100, 140),
                                   _with_au_offtake(None, 200), _with_au_offtake(120, 90)])
def test_what_validate_says_a_plant_can_make_is_the_lps(world: Scenario) -> None:
    # plant_can_make (the scenario's M_vk, validate's) against the LP's can_make of every offtake with a quantity
    # (Result.offtakes, rebalance, every year): a plant being commissioned and ramped up (us_sep: 0, 250, 500 t),
    # one whose output is above its capacity (150 t against 100 t), one of unknown capacity (150 t) and one with
    # spare capacity (120 t): one rule, the same tonnes. (No bundled scenario has an offtake with a quantity.)
    from supplychain.simulation.agreements import plant_can_make, with_investments

    o = simulate(world, mode="rebalance").offtakes
    plants = with_investments(world)
    assert len(o) > 0
    for year, sup, com, lp in zip(o["year"], o["supplier"], o["commodity"], o["can_make"], strict=True):
        assert plant_can_make(plants, int(year), [(sup, com)])[(sup, com)] == pytest.approx(lp, rel=1e-12, abs=1e-9)
