"""Policies, toggles and the calendar, each against a hand-worked example."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from supplychain.errors import ScenarioError
from supplychain.schema.model import Scenario
from supplychain.simulation.calendar import months_in_force, year_fraction, year_periods
from supplychain.simulation.policies import apply_policies, scenario_policy_effects
from supplychain.simulation.toggles import parse_toggle_args, resolve_toggles

COMMODITIES: dict[str, Any] = {
    "ndpr_oxide": {"name": "NdPr oxide", "stage": "oxide", "family": "rare_earths", "elements": ["Nd", "Pr"],
                   "price_usd_per_t": 60000},
    "dy_oxide": {"name": "Dy oxide", "stage": "oxide", "family": "rare_earths", "elements": ["Dy"]},
    "ree_conc": {"name": "REE concentrate", "stage": "ore", "family": "rare_earths"},
    "gallium": {"name": "Gallium", "stage": "metal", "family": "gallium"},
}


def scenario(**sections: Any) -> Scenario:
    data: dict[str, Any] = {"scenario": {"name": "test", "base_year": 2024, "horizon": 2027},
                            "commodities": COMMODITIES}
    data.update(sections)
    return Scenario.model_validate(data)


def edges(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    """Trade edges market → market: (supplier country, buyer country, commodity, tonnes)."""
    return pd.DataFrame({
        "edge": [f"{s}_{b}_{c}" for s, b, c, _ in rows],
        "supplier": [f"{s}:{c}" for s, b, c, _ in rows],
        "buyer": [f"{b}:{c}" for s, b, c, _ in rows],
        "supplier_country": [s for s, _, _, _ in rows],
        "buyer_country": [b for _, b, _, _ in rows],
        "commodity": [c for _, _, c, _ in rows],
        "stage": [COMMODITIES[c]["stage"] for _, _, c, _ in rows],
        "tonnes": [t for _, _, _, t in rows],
        "kind": ["trade"] * len(rows),
    })


def blocked(effects: Any) -> dict[str, float]:
    return dict(zip(effects.edges["edge"], effects.edges["total_blocked_share"], strict=True))


# ------------------------------------------------------------------ calendar
def test_ban_from_first_september_weighs_four_twelfths_exactly() -> None:
    # September..December are 4 whole months: 4/12.
    assert year_fraction(dt.date(2025, 9, 1), None, 2025) == 4 / 12
    assert year_fraction(dt.date(2025, 9, 1), None, 2026) == 1.0
    assert year_fraction(dt.date(2025, 9, 1), None, 2024) == 0.0


def test_partial_months_count_by_days_and_end_is_inclusive() -> None:
    # 16–30 April is 15 of 30 days (0.5 month); May–June whole: 2.5 months.
    assert months_in_force(dt.date(2025, 4, 16), dt.date(2025, 6, 30), 2025) == pytest.approx(2.5)
    # one day, 31 December: 1/31 of a month.
    assert months_in_force(dt.date(2025, 12, 31), dt.date(2025, 12, 31), 2025) == pytest.approx(1 / 31)
    # a measure ending 2025-03-31 counts 3 months in 2025 and none in 2026.
    assert year_fraction(dt.date(2024, 6, 1), dt.date(2025, 3, 31), 2025) == 3 / 12
    assert year_fraction(dt.date(2024, 6, 1), dt.date(2025, 3, 31), 2026) == 0.0



def test_a_year_splits_into_the_periods_with_the_same_measures_in_force() -> None:
    # a: 1 March 2025 to 30 September 2025; b: from 1 July 2025; c: all of 2025 (from 2024).
    # Cuts at 1 Mar, 1 Jul, 1 Oct: Jan–Feb {c} 2/12, Mar–Jun {a, c} 4/12, Jul–Sep {a, b, c} 3/12,
    # Oct–Dec {b, c} 3/12. The weights sum to 1 and a's periods to its year fraction 7/12.
    spans = {"a": (dt.date(2025, 3, 1), dt.date(2025, 9, 30)), "b": (dt.date(2025, 7, 1), None),
             "c": (dt.date(2024, 1, 1), None)}
    got = {"".join(sorted(k)): w for k, w in year_periods(spans, 2025)}
    assert got == pytest.approx({"c": 2 / 12, "ac": 4 / 12, "abc": 3 / 12, "bc": 3 / 12})
    assert sum(w for k, w in got.items() if "a" in k) == pytest.approx(year_fraction(*spans["a"], 2025))
    # two separate pieces with the same set are one period: a (Mar–Sep) is out in Jan–Feb and Oct–Dec
    got = {"".join(sorted(k)): w for k, w in year_periods({"a": spans["a"]}, 2025)}
    assert got == pytest.approx({"": 5 / 12, "a": 7 / 12})
    # nothing changes within 2026: one period of weight 1 (a ended, b and c in force all year)
    assert year_periods(spans, 2026) == [(frozenset({"b", "c"}), 1.0)]
    assert year_periods({}, 2026) == [(frozenset(), 1.0)]


# ------------------------------------------------------------------ bans
def test_export_ban_blocks_covered_destinations_pro_rata_in_first_year() -> None:
    sc = scenario(policies={"cn_ban": {
        "type": "export_ban", "country": "CN", "start": "2025-09-01",
        "covers": {"families": ["rare_earths"]}, "partners": {"include": ["US"]},
    }})
    e = edges(("CN", "US", "ndpr_oxide", 1200), ("CN", "JP", "ndpr_oxide", 600),
              ("CN", "US", "gallium", 10), ("AU", "US", "ndpr_oxide", 300))
    eff = scenario_policy_effects(sc, e, 2025)
    b = blocked(eff)
    # Only CN→US rare earths: 1 × 4/12; JP not a destination, gallium not covered, AU not the imposer.
    assert b == {"CN_US_ndpr_oxide": 4 / 12, "CN_JP_ndpr_oxide": 0.0, "CN_US_gallium": 0.0, "AU_US_ndpr_oxide": 0.0}
    att = eff.attribution
    assert list(att["policy"]) == ["cn_ban"]
    assert att["blocked_tonnes"].iloc[0] == pytest.approx(1200 * 4 / 12)  # 400 t
    assert blocked(scenario_policy_effects(sc, e, 2026))["CN_US_ndpr_oxide"] == 1.0


def test_destinations_all_except_a_group_and_element_selector() -> None:
    sc = scenario(
        groups={"FRIENDS": {"members": ["JP"]}},
        policies={"dy_ban": {
            "type": "export_ban", "country": "CN", "start": "2025-01-01", "share_blocked": 0.5,
            "covers": {"elements": ["Dy", "Tb"]}, "partners": {"exclude": ["FRIENDS"]},
        }},
    )
    e = edges(("CN", "US", "dy_oxide", 100), ("CN", "JP", "dy_oxide", 100), ("CN", "US", "ndpr_oxide", 100))
    b = blocked(scenario_policy_effects(sc, e, 2025))
    # half of Dy to everyone but JP; NdPr carries no Dy/Tb.
    assert b == {"CN_US_dy_oxide": 0.5, "CN_JP_dy_oxide": 0.0, "CN_US_ndpr_oxide": 0.0}


def test_licensing_delay_fully_blocked_then_share_approved() -> None:
    sc = scenario(policies={"lic": {
        "type": "export_licensing", "country": "CN", "start": "2025-04-01",
        "share_approved": 0.5, "delay_months": 2, "covers": {"commodities": ["dy_oxide"]},
    }})
    e = edges(("CN", "US", "dy_oxide", 120))
    eff = scenario_policy_effects(sc, e, 2025)
    # April–May (2 months) nothing flows; June–December (7 months) half is refused:
    # b = 2/12 + 0.5 × 7/12 = 5.5/12.
    assert blocked(eff)["CN_US_dy_oxide"] == pytest.approx(5.5 / 12)
    assert eff.attribution["blocked_tonnes"].iloc[0] == pytest.approx(120 * 5.5 / 12)  # 55 t
    # 2026: no delay any more, only the refused half: 0.5.
    assert blocked(scenario_policy_effects(sc, e, 2026))["CN_US_dy_oxide"] == pytest.approx(0.5)


def test_licensing_delay_is_a_quantity_a_sweep_samples() -> None:
    # review #4 R-3: the delay carries much of a licensing year's loss, so a sweep must be able to vary it.
    from supplychain.uncertainty.sampling import apply, find_parameters

    sc = scenario(policies={"lic": {
        "type": "export_licensing", "country": "CN", "start": "2025-04-01", "share_approved": 0.5,
        "delay_months": {"value": 2, "dist": "triangular", "low": 1, "mode": 2, "high": 3, "assumption": "test"},
        "covers": {"commodities": ["dy_oxide"]},
    }})
    assert "policies.lic.delay_months" in find_parameters(sc).names
    e = edges(("CN", "US", "dy_oxide", 120))
    # central 2 months: b = 2/12 + 0.5 x 7/12 = 5.5/12, as above
    assert blocked(scenario_policy_effects(sc, e, 2025))["CN_US_dy_oxide"] == pytest.approx(5.5 / 12)
    # a sample of 3 months: April-June stopped, July-December half refused: b = 3/12 + 0.5 x 6/12 = 6/12
    late = apply(sc, {"policies.lic.delay_months": 3.0})
    assert blocked(scenario_policy_effects(late, e, 2025))["CN_US_dy_oxide"] == pytest.approx(6 / 12)


def test_licensing_catch_up_releases_the_held_volume_in_the_same_year() -> None:
    """Review #5 R-9: a licence's delay holds shipments that ship once licences arrive (``catch_up``).

    Licence from 2025-04-01, delay d = 2 months (April-May held), approval a = 0.5, catch-up u = 0.6;
    a 120 t/yr edge (10 t a month). Held in April-May: 2 months = 20 t; 60 % of it (12 t) ships from June.
    June-December: 7 months at a = 0.5 refuse 35 t. Lost: 20 − 12 + 35 = 43 t of 120:
    b = (1 − u) · 2/12 + (1 − a) · 7/12 = (0.8 + 3.5)/12 = 4.3/12 = 0.358333.
    Without catch-up (u = 0) b = 5.5/12 (the test above): the catch-up gives back u · φ(D) = 0.6 · 2/12 = 1.2/12.
    """
    pol = {"type": "export_licensing", "country": "CN", "start": "2025-04-01", "share_approved": 0.5,
           "delay_months": 2, "catch_up": 0.6, "covers": {"commodities": ["dy_oxide"]}}
    e = edges(("CN", "US", "dy_oxide", 120))
    eff = scenario_policy_effects(scenario(policies={"lic": pol}), e, 2025)
    assert blocked(eff)["CN_US_dy_oxide"] == pytest.approx(4.3 / 12)
    assert eff.attribution["blocked_tonnes"].iloc[0] == pytest.approx(43.0)
    # 2026: no delay, nothing held, nothing to release: b = 1 − a = 0.5, as without catch-up
    assert blocked(scenario_policy_effects(scenario(policies={"lic": pol}), e, 2026))["CN_US_dy_oxide"] == 0.5
    # a delay that runs into the next year: from 2025-11-01, d = 3 (Nov-Jan held, licences from 1 Feb 2026).
    # 2025: Nov-Dec held, nothing released in 2025: b = 2/12. 2026: January held, released in 2026 at u:
    # b = (1 − 0.6) · 1/12 + 0.5 · 11/12 = (0.4 + 5.5)/12 = 5.9/12.
    late = {**pol, "start": "2025-11-01", "delay_months": 3}
    assert blocked(scenario_policy_effects(scenario(policies={"lic": late}), e, 2025))["CN_US_dy_oxide"] == \
        pytest.approx(2 / 12)
    assert blocked(scenario_policy_effects(scenario(policies={"lic": late}), e, 2026))["CN_US_dy_oxide"] == \
        pytest.approx(5.9 / 12)


def test_licensing_ships_a_share_during_the_delay_and_releases_after_a_lag() -> None:
    """Session 36: part of the covered flow ships during the delay (``shipped_during_delay`` s), and the volume the
    delay held starts to ship ``release_lag_months`` ℓ after the licences.

    The licence above (from 2025-04-01, d = 2, a = 0.5, u = 0.6) with s = 0.1, ℓ = 1; a 120 t/yr edge (10 t a
    month). April-May: 20 t would flow, 10 % ships (2 t), 18 t held; 60 % of the held (10.8 t) ships from July
    (licences 1 June + 1 month). June-December: 7 months at a = 0.5 refuse 35 t. Lost 18 − 10.8 + 35 = 42.2 t:
    b = (1 − s)(1 − u) · 2/12 + (1 − a) · 7/12 = (0.9 · 0.4 · 2 + 3.5)/12 = 4.22/12 = 0.351667.
    The lag moves the release within the year, not its size. A lag that carries the release into 2026
    (ℓ = 7: from 2026-01-01) releases nothing in 2025: b = 0.9 · 2/12 + 3.5/12 = 5.3/12.
    """
    pol = {"type": "export_licensing", "country": "CN", "start": "2025-04-01", "share_approved": 0.5,
           "delay_months": 2, "catch_up": 0.6, "shipped_during_delay": 0.1, "release_lag_months": 1,
           "covers": {"commodities": ["dy_oxide"]}}
    e = edges(("CN", "US", "dy_oxide", 120))
    eff = scenario_policy_effects(scenario(policies={"lic": pol}), e, 2025)
    assert blocked(eff)["CN_US_dy_oxide"] == pytest.approx(4.22 / 12)
    assert eff.attribution["blocked_tonnes"].iloc[0] == pytest.approx(42.2)
    assert blocked(scenario_policy_effects(scenario(policies={"lic": {**pol, "release_lag_months": 0}}), e,
                                           2025))["CN_US_dy_oxide"] == pytest.approx(4.22 / 12)
    into_2026 = scenario(policies={"lic": {**pol, "release_lag_months": 7}})
    assert blocked(scenario_policy_effects(into_2026, e, 2025))["CN_US_dy_oxide"] == pytest.approx(5.3 / 12)
    # 2026: no delay, nothing held: b = 1 − a = 0.5
    assert blocked(scenario_policy_effects(into_2026, e, 2026))["CN_US_dy_oxide"] == pytest.approx(0.5)


def test_import_ban_applies_to_origins() -> None:
    sc = scenario(policies={"us_imp": {
        "type": "import_ban", "country": "US", "start": "2025-01-01", "partners": {"include": ["CN"]},
    }})
    e = edges(("CN", "US", "gallium", 10), ("CN", "JP", "gallium", 10), ("JP", "US", "gallium", 10))
    assert blocked(scenario_policy_effects(sc, e, 2025)) == {
        "CN_US_gallium": 1.0, "CN_JP_gallium": 0.0, "JP_US_gallium": 0.0,
    }


# ------------------------------------------------------------------ agreements
def test_agreement_exempts_parties_from_its_start() -> None:
    sc = scenario(
        policies={"jp_ban": {"type": "export_ban", "country": "JP", "start": "2025-01-01"}},
        agreements={"us_jp": {"name": "US–Japan framework", "parties": ["US", "JP"],
                              "start": "2025-07-01", "exempt_parties": True}},
    )
    e = edges(("JP", "US", "ndpr_oxide", 100), ("JP", "DE", "ndpr_oxide", 100))
    eff = scenario_policy_effects(sc, e, 2025)
    # JP→US banned January–June only (6/12); JP→DE the whole year.
    assert blocked(eff) == {"JP_US_ndpr_oxide": 0.5, "JP_DE_ndpr_oxide": 1.0}
    row = eff.attribution.set_index("edge").loc["JP_US_ndpr_oxide"]
    assert row["exempted_by"] == "us_jp"
    assert row["exempted_share"] == pytest.approx(0.5)
    assert blocked(scenario_policy_effects(sc, e, 2026))["JP_US_ndpr_oxide"] == 0.0
    # switched off, the agreement exempts nothing
    off = scenario_policy_effects(sc, e, 2026, active={"jp_ban"})
    assert blocked(off)["JP_US_ndpr_oxide"] == 1.0


def test_lifts_only_listed_policies_and_only_imposed_by_a_party() -> None:
    sc = scenario(
        policies={
            "my_raw": {"type": "export_ban", "country": "MY", "start": "2024-01-01", "covers": {"stages": ["ore"]}},
            "my_tax": {"type": "export_tax", "country": "MY", "start": "2024-01-01", "usd_per_t": 100},
            "cn_ban": {"type": "export_ban", "country": "CN", "start": "2024-01-01"},
        },
        agreements={"us_my": {"name": "US–Malaysia MoU", "parties": ["US", "MY"], "start": "2024-01-01",
                              "lifts": ["my_raw", "cn_ban"]}},
    )
    e = edges(("MY", "US", "ree_conc", 50), ("CN", "US", "ree_conc", 50))
    eff = scenario_policy_effects(sc, e, 2025)
    # my_raw lifted between US and MY; cn_ban is listed but CN is no party: stays.
    assert blocked(eff) == {"MY_US_ree_conc": 0.0, "CN_US_ree_conc": 1.0}
    # my_tax is not listed: still costs 100 USD/t.
    assert eff.edges.set_index("edge").loc["MY_US_ree_conc", "cost_per_t"] == 100.0


def test_tariff_and_export_tax_costs_per_tonne() -> None:
    sc = scenario(policies={
        "us_tariff": {"type": "tariff", "country": "US", "start": "2025-07-01", "rate": 0.25,
                      "partners": {"include": ["CN"]}},
        "cn_tax": {"type": "export_tax", "country": "CN", "start": "2025-01-01", "usd_per_t": 1000},
    })
    e = edges(("CN", "US", "ndpr_oxide", 10))
    eff = scenario_policy_effects(sc, e, 2025)
    # tariff 0.25 × 60 000 USD/t for half the year = 7 500; tax 1 000 all year.
    assert eff.edges["cost_per_t"].iloc[0] == pytest.approx(7500 + 1000)
    assert eff.edges["total_blocked_share"].iloc[0] == 0.0
    att = eff.attribution.set_index("policy")
    assert att.loc["us_tariff", "cost_per_t"] == pytest.approx(7500)


def test_ad_valorem_rate_needs_a_price() -> None:
    sc = scenario(policies={"t": {"type": "tariff", "country": "US", "start": "2025-01-01", "rate": 0.1}})
    with pytest.raises(ScenarioError, match=r"policies\.t\.rate: ad-valorem rate on commodity 'gallium'"):
        scenario_policy_effects(sc, edges(("CN", "US", "gallium", 1)), 2025)


# ------------------------------------------------------------------ quotas
def test_export_quota_caps_raw_exports_and_cuts_pro_rata() -> None:
    sc = scenario(policies={"my_quota": {
        "type": "export_quota", "country": "MY", "start": "2025-01-01", "tonnes_per_year": 30,
        "covers": {"stages": ["ore"]},
    }})
    e = edges(("MY", "US", "ree_conc", 60), ("MY", "JP", "ree_conc", 40), ("MY", "US", "ndpr_oxide", 100))
    eff = scenario_policy_effects(sc, e, 2025)
    (q,) = eff.quotas
    assert q.cap_t == 30.0
    assert set(q.edges) == {"MY_US_ree_conc", "MY_JP_ree_conc"}
    # 100 t of raw exports squeezed into 30: each raw edge keeps 30 %; processed oxide flows freely.
    assert blocked(eff) == pytest.approx({"MY_US_ree_conc": 0.7, "MY_JP_ree_conc": 0.7, "MY_US_ndpr_oxide": 0.0})
    assert eff.attribution["blocked_tonnes"].sum() == pytest.approx(70.0)


def test_quota_in_force_for_part_of_the_year() -> None:
    sc = scenario(policies={"q": {"type": "export_quota", "country": "MY", "start": "2025-10-01",
                                  "tonnes_per_year": 0}})
    eff = scenario_policy_effects(sc, edges(("MY", "US", "ree_conc", 120)), 2025)
    # cap = φQ + (1 − φ)·baseline = 0 + 9/12 × 120 = 90 → 25 % blocked.
    assert eff.quotas[0].cap_t == pytest.approx(90.0)
    assert blocked(eff)["MY_US_ree_conc"] == pytest.approx(0.25)


def test_layers_combine_and_attribution_adds_up() -> None:
    sc = scenario(policies={
        "ban": {"type": "export_ban", "country": "CN", "start": "2025-01-01", "share_blocked": 0.5},
        "imp": {"type": "import_ban", "country": "US", "start": "2025-01-01", "share_blocked": 0.5},
    })
    eff = scenario_policy_effects(sc, edges(("CN", "US", "gallium", 100)), 2025)
    # 1 − (1 − 0.5)(1 − 0.5) = 0.75 → 75 t, split 37.5 / 37.5 by equal shares.
    assert blocked(eff)["CN_US_gallium"] == pytest.approx(0.75)
    assert eff.attribution["blocked_tonnes"].tolist() == pytest.approx([37.5, 37.5])


def test_no_policies_gives_empty_typed_attribution() -> None:
    eff = apply_policies(edges(("CN", "US", "gallium", 1)), year=2025, policies={})
    assert eff.attribution.empty
    assert eff.attribution["blocked_tonnes"].dtype == np.float64
    assert eff.edges["total_blocked_share"].tolist() == [0.0]


# ------------------------------------------------------------------ toggles
def toggle_scenario() -> Scenario:
    return scenario(
        policies={
            "cn_ban": {"type": "export_ban", "country": "CN", "start": "2025-09-01"},
            "my_raw": {"type": "export_ban", "country": "MY", "start": "2024-01-01"},
            "always": {"type": "export_ban", "country": "RU", "start": "2024-01-01"},
        },
        agreements={"us_jp": {"name": "deal", "parties": ["US", "JP"], "start": "2025-10-28"}},
        toggles={
            "china_ban": {"default": True, "controls": ["cn_ban"]},
            "us_japan_deal": {"default": False, "controls": ["us_jp"]},
            "malaysia": {"default": True, "controls": ["my_raw"]},
        },
        variants={"deal": {"toggles": {"us_japan_deal": True, "malaysia": False}}},
    )


def test_toggle_precedence_default_variant_override() -> None:
    st = resolve_toggles(toggle_scenario(), variant="deal", overrides={"malaysia": True})
    assert st.states == {"china_ban": True, "us_japan_deal": True, "malaysia": True}
    assert st.set_by == {"china_ban": "default", "us_japan_deal": "variant:deal", "malaysia": "override"}
    assert st.active == {"cn_ban", "my_raw", "always", "us_jp"}
    table = st.table()
    assert table.set_index("toggle").loc["us_japan_deal", "set_by"] == "variant:deal"


def test_uncontrolled_entities_are_always_on() -> None:
    st = resolve_toggles(toggle_scenario(), overrides={"china_ban": False})
    assert "always" in st.active
    assert "cn_ban" in st.inactive


def test_unknown_toggle_and_variant_names_suggest_the_closest() -> None:
    with pytest.raises(ScenarioError, match=r"unknown toggle 'china_bann'.*\n.*did you mean 'china_ban'"):
        resolve_toggles(toggle_scenario(), overrides={"china_bann": True})
    with pytest.raises(ScenarioError, match=r"2 problems found") as err:
        resolve_toggles(toggle_scenario(), variant="dael", overrides={"xyz": True})
    assert "did you mean 'deal'" in str(err.value)


def test_parse_cli_toggles() -> None:
    assert parse_toggle_args(["a=on", "b=off", "c=yes"]) == {"a": True, "b": False, "c": True}
    with pytest.raises(ScenarioError, match=r"malformed toggle 'nothing'"):
        parse_toggle_args(["nothing"])
    with pytest.raises(ScenarioError, match=r"expected on/off"):
        parse_toggle_args(["a=maybe"])
