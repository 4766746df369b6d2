"""simulate / compare end to end on small scenarios, each number derived by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest
import yaml

from supplychain.api import Result, compare, simulate
from supplychain.errors import ScenarioError
from supplychain.report.exposure_falls import world_shortfall
from supplychain.schema.model import Scenario
from supplychain.simulation.run import Mode, Simulator
from supplychain.simulation.world import flow_sums

YEARS = (2024, 2025, 2026, 2027)


def world_data(**extra: Any) -> dict[str, Any]:
    """CN makes 1 000 t NdPr oxide (at capacity), AU 100 t of 300 t capacity.

    Trade every year: CN→US 600 t, AU→US 100 t, CN→JP 300 t; demand US 700, JP 300, CN 100.
    Policy: CN bans rare-earth exports to the US from 1 September 2025 (toggle ``ban``, on).
    Agreement: a CN–US truce from 2026 exempting the parties (toggle ``deal``, off).
    """
    data: dict[str, Any] = {
        "scenario": {"name": "toy", "base_year": 2024, "horizon": 2027},
        "commodities": {"ndpr_oxide": {"name": "NdPr oxide", "stage": "oxide", "family": "rare_earths",
                                       "elements": ["Nd", "Pr"], "price_usd_per_t": 60000}},
        "facilities": {
            "cn_sep": {"name": "CN separation", "country": "CN", "kind": "aggregate", "output": "ndpr_oxide",
                       "capacity": 1000, "production": dict.fromkeys(YEARS, 1000)},
            "au_sep": {"name": "AU separation", "country": "AU", "kind": "aggregate", "output": "ndpr_oxide",
                       "capacity": 300, "production": dict.fromkeys(YEARS, 100)},
        },
        "flows": {f"{k}_{y}": {"supplier": s, "buyer": b, "commodity": "ndpr_oxide", "year": y, "tonnes": t}
                  for y in YEARS
                  for k, s, b, t in (("cn_us", "CN", "US", 600), ("au_us", "AU", "US", 100),
                                     ("cn_jp", "CN", "JP", 300))},
        "demand": {c: {"country": c, "commodity": "ndpr_oxide", "year": 2024, "tonnes": t}
                   for c, t in (("US", 700), ("JP", 300), ("CN", 100))},
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "start": "2025-09-01",
                                "covers": {"families": ["rare_earths"]}, "partners": {"include": ["US"]}}},
        "agreements": {"truce": {"name": "CN–US truce", "parties": ["CN", "US"], "start": "2026-01-01",
                                 "exempt_parties": True}},
        "toggles": {"ban": {"default": True, "controls": ["cn_ban"]},
                    "deal": {"default": False, "controls": ["truce"]}},
        "variants": {"with_deal": {"toggles": {"deal": True}}},
        "targets": {"us_25": {"country": "US", "commodity": "ndpr_oxide", "max": 0.25, "by": 2026}},
    }
    data.update(extra)
    return data


def world(**extra: Any) -> Scenario:
    """The scenario of :func:`world_data`, validated."""
    return Scenario.model_validate(world_data(**extra))


def us_short(res: Result) -> dict[int, float]:
    s = res.shortfall[(res.shortfall["country"] == "US") & (res.shortfall["commodity"] == "ndpr_oxide")]
    return {int(y): round(float(v), 6) for y, v in zip(s["year"], s["shortfall"], strict=True)}


@pytest.fixture(scope="module")
def fixed() -> Result:
    return simulate(world(), mode="fixed")


@pytest.fixture(scope="module")
def rebal() -> Result:
    return simulate(world(), mode="rebalance")


def test_partial_year_ban_fixed(fixed: Result) -> None:
    # 2025: the ban is in force Sep–Dec, 4/12 of CN's 600 t = 200 t lost; 2026–27: all 600 t.
    assert us_short(fixed) == {2024: 0.0, 2025: 200.0, 2026: 600.0, 2027: 600.0}
    f = fixed.flows.set_index(["year", "edge"])
    assert f.loc[(2025, "flows.cn_us_2025"), "simulated"] == pytest.approx(400.0)
    assert f.loc[(2026, "flows.cn_us_2026"), "status"] == "blocked"
    # fixed never re-routes: no edge above its baseline
    assert (fixed.flows["simulated"] <= fixed.flows["baseline"] + 1e-9).all()


def test_full_ban_with_one_limited_alternative_rebalance(rebal: Result) -> None:
    # 2025: CN→US capped at 400 t; AU adds 200 t (100 → 300 t capacity): no shortfall.
    # 2026–27: CN→US closed; AU's 300 t is all there is: 700 − 300 = 400 t short.
    assert us_short(rebal) == {2024: 0.0, 2025: 0.0, 2026: 400.0, 2027: 400.0}
    g = rebal.gainers.set_index(["year", "supplier_country"])
    assert g.loc[(2026, "AU"), "gain"] == pytest.approx(200.0)
    assert g.loc[(2026, "AU"), "buyers"] == "US"
    u = rebal.utilisation.set_index(["year", "facility"])
    assert u.loc[(2026, "au_sep"), "utilisation"] == pytest.approx(1.0)
    # CN's freed 600 t cannot be laundered through JP (no new re-exports)
    fl = rebal.flows
    assert fl[(fl["supplier_country"] == "JP") & (fl["buyer_country"] != "JP")].empty
    assert (rebal.solver["warm"].tolist()) == [False, True, True, True]


def test_rebalance_never_worse_than_fixed(fixed: Result, rebal: Result) -> None:
    for y in YEARS:
        assert us_short(rebal)[y] <= us_short(fixed)[y]


def test_deal_restores_supply_from_its_start() -> None:
    res = simulate(world(), toggles={"deal": True}, mode="fixed")
    # truce from 2026: CN→US exempt, nothing lost in 2026–27; 2025 is before the truce.
    assert us_short(res) == {2024: 0.0, 2025: 200.0, 2026: 0.0, 2027: 0.0}
    t = res.toggles.set_index("toggle")
    assert t.loc["deal", "set_by"] == "override"
    assert t.loc["ban", "set_by"] == "default"
    att = res.attribution[res.attribution["year"] == 2026]
    assert att["exempted_by"].tolist() == ["truce"]
    assert att["blocked"].tolist() == [0.0]
    flows = res.flows.set_index(["year", "edge"])
    assert flows.loc[(2026, "flows.cn_us_2026"), "status"] == "deal"


def test_explain_attributes_the_loss_to_the_policy(fixed: Result) -> None:
    ex = fixed.explain("US", "ndpr_oxide").set_index("year")
    # 2025: 200 t of 700 t imports (28.6%) blocked by cn_ban
    assert ex.loc[2025, "policy"] == "cn_ban"
    assert ex.loc[2025, "blocked"] == pytest.approx(200.0)
    assert ex.loc[2025, "share_of_imports"] == pytest.approx(200 / 700)
    # the year's shortfall is not repeated on the policy rows (it would double count with two policies):
    # it is the final-use row of losses, 600 t in 2026 (CN's 600 t blocked, fixed keeps AU's 100 t)
    assert "shortfall" not in ex.columns
    lost = fixed.losses("US", "ndpr_oxide", 2026).set_index("counterpart")["change"]
    assert lost["final use"] == pytest.approx(-600.0)
    assert lost["CN"] == pytest.approx(-600.0)


def test_targets_per_year(rebal: Result) -> None:
    t = rebal.targets.set_index("year")
    # from 2026 the US gets only AU oxide (AU at its 300 t capacity): traced China share 0, but
    # 400 of 700 t unmet, so the exposed share (the target's default measure) is
    # (0 + 400)/700 = 57.1% > 25 %: the target fails, and says why.
    assert t.index.tolist() == [2026, 2027]
    assert t.loc[2026, "metric"] == "exposed_share"
    assert t.loc[2026, "value"] == pytest.approx(400 / 700)
    assert t.loc[2026, "status"] == "fail"
    assert t.loc[2026, "reason"] == "fails: exposed share 57% > 25% in 2026 (57% of demand unmet)"
    # named on purpose, the traced share of delivered supply passes (0 ≤ 25%), and says it is
    # hiding unmet demand
    traced = simulate(world(targets={"us_25": {"country": "US", "commodity": "ndpr_oxide", "metric": "traced_share",
                                               "max": 0.25, "by": 2026}})).targets.set_index("year")
    assert traced.loc[2026, "status"] == "pass"
    assert traced.loc[2026, "margin"] == pytest.approx(0.25)
    assert traced.loc[2026, "reason"] == ("passes on the traced share of delivered supply: 0% ≤ 25% in 2026, "
                                          "but 57% of demand unmet")
    deal = simulate(world(), variant="with_deal").targets.set_index("year")
    # with the truce CN→US is back: 600 of 700 t from China, 6/7 = 0.857 > 0.25.
    assert deal.loc[2026, "value"] == pytest.approx(600 / 700)
    assert deal.loc[2026, "status"] == "fail"
    assert deal.loc[2026, "margin"] == pytest.approx(0.25 - 600 / 700)


def test_measures_after_the_shock(rebal: Result) -> None:
    m = rebal.measures
    us = m[(m["country"] == "US") & (m["year"] == 2025)].set_index("metric")["value"]
    # 2025: CN 400 t + AU 300 t: direct and traced China share 400/700.
    assert us["traced_share"] == pytest.approx(400 / 700)
    assert us["direct_import_share"] == pytest.approx(400 / 700)
    sh = m[(m["metric"] == "shortfall_share") & (m["country"] == "US") & (m["year"] == 2026)]["value"]
    assert sh.tolist() == pytest.approx([400 / 700])
    assert set(m["variant"]) == {"base"}


def malaysia(**extra: Any) -> Scenario:
    """MY mines 200 t ore; its plant makes 50 t oxide from 100 t (2 t ore / t oxide, capacity 100 t oxide).

    MY exports 100 t ore to JP's plant (50 t oxide for JP's use) and 50 t oxide to the US.
    From 2025 a quota of 0 t on MY's ore exports (the raw-export ban).
    """
    years = (2024, 2025)
    data: dict[str, Any] = {
        "scenario": {"name": "my", "base_year": 2024, "horizon": 2025},
        "commodities": {"ore": {"name": "REE concentrate", "stage": "ore", "family": "rare_earths"},
                        "oxide": {"name": "NdPr oxide", "stage": "oxide", "family": "rare_earths"}},
        "processes": {"sep": {"inputs": {"ore": 2}, "outputs": {"oxide": 1}}},
        "facilities": {
            "my_mine": {"name": "MY mine", "country": "MY", "kind": "mine", "output": "ore", "capacity": 200,
                        "production": dict.fromkeys(years, 200)},
            "my_sep": {"name": "MY plant", "country": "MY", "kind": "separation", "process": "sep",
                       "capacity": 100, "production": dict.fromkeys(years, 50)},
            "jp_sep": {"name": "JP plant", "country": "JP", "kind": "separation", "process": "sep",
                       "capacity": 60, "production": dict.fromkeys(years, 50)},
        },
        "flows": {f"{k}_{y}": {"supplier": s, "buyer": b, "commodity": c, "year": y, "tonnes": t}
                  for y in years
                  for k, s, b, c, t in (("my_jp_ore", "MY", "JP", "ore", 100),
                                        ("my_us_oxide", "MY", "US", "oxide", 50))},
        "demand": {"us": {"country": "US", "commodity": "oxide", "year": 2024, "tonnes": 50},
                   "jp": {"country": "JP", "commodity": "oxide", "year": 2024, "tonnes": 50}},
        "policies": {"my_raw": {"type": "export_quota", "country": "MY", "start": "2025-01-01",
                                "tonnes_per_year": 0, "covers": {"stages": ["ore"]}}},
    }
    data.update(extra)
    return Scenario.model_validate(data)


def test_malaysia_raw_quota_binds_while_processed_exports_flow() -> None:
    fx = simulate(malaysia(), mode="fixed")
    rb = simulate(malaysia(), mode="rebalance")
    for res in (fx, rb):
        f = res.flows[res.flows["year"] == 2025].set_index("edge")
        assert f.loc["flows.my_jp_ore_2025", "simulated"] == pytest.approx(0.0, abs=1e-9)
        assert f.loc["flows.my_jp_ore_2025", "status"] == "blocked"
        assert f.loc["flows.my_us_oxide_2025", "simulated"] == pytest.approx(50.0)
    # fixed: JP's plant gets no ore → JP's 50 t oxide use is lost.
    assert fx.shortfall.set_index(["year", "country"]).loc[(2025, "JP"), "shortfall"] == pytest.approx(50.0)
    # rebalance: the 100 t ore stay in MY; MY's plant (50 t spare capacity) makes 50 t more oxide
    # and ships it to JP: no shortfall; MY's oxide exports rise from 50 to 100 t.
    assert rb.shortfall["shortfall"].sum() == pytest.approx(0.0, abs=1e-9)
    f = rb.flows[rb.flows["year"] == 2025].set_index("edge")
    assert f.loc["reroute.oxide.MY.JP", "simulated"] == pytest.approx(50.0)
    assert f.loc["reroute.oxide.MY.JP", "status"] == "new"
    u = rb.utilisation.set_index(["year", "facility"])
    assert u.loc[(2025, "my_sep"), "output"] == pytest.approx(100.0)
    assert rb.attribution.set_index("edge").loc["flows.my_jp_ore_2025", "policy"] == "my_raw"


def fund(toggle_default: bool = True) -> Scenario:
    """The toy world plus a US–JP fund: 1 bn USD × 0.5 / 1 M USD per t/yr = 500 t/yr in the US.

    Agreement start 2025-01-01, lead time 2 years → commissioned in 2027, no ramp-up.
    """
    w = world()
    return world(
        agreements={**{k: v.model_dump(exclude_defaults=True) for k, v in w.agreements.items()},
                    "fund": {"name": "US–JP fund", "parties": ["US", "JP"], "start": "2025-01-01",
                             "investment": {"fund_usd": 1e9, "projects": {"us_sep": {
                                 "country": "US", "kind": "aggregate", "output": "ndpr_oxide",
                                 "share_of_fund": 0.5, "capital_intensity_usd_per_tpa": 1e6,
                                 "lead_time_years": 2}}}}},
        toggles={"ban": {"default": True, "controls": ["cn_ban"]},
                 "deal": {"default": False, "controls": ["truce"]},
                 "fund": {"default": toggle_default, "controls": ["fund"]}},
    )


def test_investment_adds_capacity_exactly_in_its_commissioning_year() -> None:
    res = simulate(fund(), mode="rebalance")
    u = res.utilisation.set_index(["year", "facility"])
    assert u.loc[(2026, "fund.us_sep"), "capacity"] == 0.0
    assert u.loc[(2027, "fund.us_sep"), "capacity"] == pytest.approx(500.0)
    # 2026: 400 t short as before; 2027: the 500 t plant covers the 400 t gap.
    assert us_short(res) == {2024: 0.0, 2025: 0.0, 2026: 400.0, 2027: 0.0}
    # (how the 700 t split between the new plant and AU is a tie at level 4: any split with
    # the new plant at 400–500 t and AU at 300–200 t deviates 600 t from the baseline)
    assert 400.0 - 1e-6 <= u.loc[(2027, "fund.us_sep"), "output"] <= 500.0 + 1e-6
    assert u.loc[(2027, "fund.us_sep"), "output"] + u.loc[(2027, "au_sep"), "output"] == pytest.approx(700.0)
    off = simulate(fund(), toggles={"fund": False}, mode="rebalance")
    assert us_short(off)[2027] == 400.0
    assert off.utilisation.set_index(["year", "facility"]).loc[(2027, "fund.us_sep"), "capacity"] == 0.0


def stocked(start: str = "2026-01-01") -> Scenario:
    """The toy world, ban from 2026, and a US stock of 250 t (2024)."""
    return world(
        policies={"cn_ban": {"type": "export_ban", "country": "CN", "start": start,
                             "partners": {"include": ["US"]}}},
        stockpiles={"us_dla": {"country": "US", "commodity": "ndpr_oxide", "year": 2024, "tonnes": 250}},
    )


def test_stockpile_lasts_n_months() -> None:
    res = simulate(stocked(), mode="fixed")
    s = res.stocks.set_index("year")
    # fixed, 2026: 600 t/yr lost = 50 t a month; 250 t last 5 months → runs out in May;
    # shortfall after the stock = 600 − 250 = 350 t.
    assert s.loc[2025, "draw"] == 0.0
    assert s.loc[2026, "runs_out_after_months"] == pytest.approx(5.0)
    assert s.loc[2026, "runs_out_month"] == "2026-05"
    assert s.loc[2026, "level_end"] == 0.0
    assert us_short(res)[2026] == pytest.approx(350.0)
    rb = simulate(stocked(), mode="rebalance").stocks.set_index("year")
    # rebalance, 2026: AU adds 200 t, the gap is 400 t/yr; 250 t last 12 × 250/400 = 7.5 months → August.
    assert rb.loc[2026, "draw"] == pytest.approx(250.0)
    assert rb.loc[2026, "runs_out_after_months"] == pytest.approx(7.5)
    assert rb.loc[2026, "runs_out_month"] == "2026-08"


def test_variants_year_by_year_keep_their_own_stocks_and_results() -> None:
    """``run_many`` solves every variant of a year before the next year; each keeps its own stock.

    With the ban (2026 on), the US draws its whole 250 t stock in 2026 (rebalance: the gap is
    400 t/yr, so it lasts 7.5 months); without it, nothing is drawn and 250 t are left in 2027.
    Solved year by year, the ban-off run must not see the stock the ban run drew in the same
    year, and each run's flows are those of a run on a simulator of its own.
    """
    from supplychain.simulation.run import Simulator

    runs = [(None, None), (None, {"ban": False})]
    sim = Simulator(stocked())
    order: list[tuple[int, bool]] = []  # (year, ban on) of each solve
    one_year = sim._year_rebalance

    def recording(year: int, *args: Any) -> Any:
        order.append((year, "cn_ban" in args[2]))
        return one_year(year, *args)

    sim._year_rebalance = recording  # type: ignore[method-assign]
    both = sim.run_many(runs)
    assert order == [(y, ban) for y in YEARS for ban in (True, False)]
    st = [o.stocks.set_index("year") for o in both]
    assert st[0].loc[2026, "draw"] == pytest.approx(250.0)
    assert st[0].loc[2026, "runs_out_month"] == "2026-08"
    assert st[1].loc[2026, "draw"] == pytest.approx(0.0)
    assert st[1].loc[2027, "level_end"] == pytest.approx(250.0)
    assert [o.solver["year"].tolist() for o in both] == [list(YEARS)] * 2
    for (variant, toggles), out in zip(runs, both, strict=True):
        alone = Simulator(stocked()).run(variant=variant, toggles=toggles)
        keys = ["year", "edge"]
        got, want = (f.sort_values(keys).reset_index(drop=True) for f in (out.flows, alone.flows))
        pd.testing.assert_series_equal(got["edge"], want["edge"])
        assert got["tonnes"].to_numpy() == pytest.approx(want["tonnes"].to_numpy(), abs=1e-9)


def test_run_many_tables_carry_the_labels_given_and_the_scenario_name() -> None:
    """``run_many(labels=)``: each run's tables are under the label given (a ``compare`` grid's ``deal=on``, not
    ``run_label``'s ``custom``), solver rows included; every measure row, the shortfall rows too, names the scenario
    where it is made (``aftershock.shortfall_measures``), not patched later by ``Result.from_run``."""
    s = world()
    grid, base = Simulator(s).run_many([(None, {"deal": True}), (None, None)], labels=["deal=on", "base"])
    assert set(grid.measures["variant"]) == set(grid.solver["variant"]) == set(grid.shortfall["variant"]) == {
        "deal=on"}
    assert set(base.measures["variant"]) == {"base"}
    short = grid.measures[grid.measures["metric"] == "shortfall_share"]
    assert len(short)
    assert set(short["scenario"]) == set(grid.measures["scenario"]) == {s.scenario.name}


def test_runs_with_the_same_policies_in_force_are_simulated_once() -> None:
    """``run_many``: a variant that sets no toggle away from its default is ``base``'s simulation, labelled its own.

    ``same`` sets ``ban`` on, its default: the same policies and agreements are in force as in
    ``base`` (``cn_ban``), so each year is simulated once for both (4 years, 2 distinct runs:
    8 simulated years, not 12); ``same`` gets ``base``'s numbers under its own label and toggles,
    and no solver work of its own (0 s, 0 iterations each year).
    """
    s = world(variants={"with_deal": {"toggles": {"deal": True}}, "same": {"toggles": {"ban": True}}})
    sim = Simulator(s)
    steps: list[str] = []
    one_year = sim._step

    def counting(r: Any, *args: Any) -> Any:
        steps.append(r.label)
        return one_year(r, *args)

    sim._step = counting  # type: ignore[method-assign]
    base, same, deal = sim.run_many([(None, None), ("same", None), ("with_deal", None)])
    assert steps == ["base", "with_deal"] * len(YEARS)
    assert set(same.measures["variant"]) == {"same"}
    assert set(base.measures["variant"]) == {"base"}
    pd.testing.assert_frame_equal(same.measures.drop(columns="variant"), base.measures.drop(columns="variant"))
    pd.testing.assert_frame_equal(same.flows.drop(columns="variant"), base.flows.drop(columns="variant"))
    assert same.toggles.variant == "same"
    assert base.toggles.variant is None
    assert same.solver["variant"].tolist() == ["same"] * len(YEARS)
    assert same.solver["iterations"].tolist() == [0] * len(YEARS)
    assert same.solver["seconds"].tolist() == [0.0] * len(YEARS)
    assert base.solver["iterations"].sum() > 0
    assert deal.measures["value"].to_numpy().tolist() != base.measures["value"].to_numpy().tolist()


@pytest.mark.parametrize(("mode", "from_au"), [("rebalance", 300.0), ("fixed", 100.0)])
def test_headline_outputs_keep_what_compare_reads(mode: Mode, from_au: float) -> None:
    """``Simulator(outputs="headline")``: the measures, shortfall, targets and solver tables of ``"all"``, and the
    raised aggregates (every ``outputs`` has them), no others;
    in place of the flows their trade sums (``RunOutput.trade``), equal to ``flow_sums`` of ``"all"``'s flows.

    By hand, 2026 (the ban on CN → US in force all year, blocked share 1): blocked B = 600 t · 1 = 600 t;
    2025 (from 1 September, 4 of 12 months): 600 · 4/12 = 200 t. Into the US in 2026: 0 t from CN; from AU
    its 100 t under ``fixed`` (the pattern), 100 + 200 t spare capacity = 300 t under ``rebalance``; into
    JP 300 t from CN (not banned). No edge within a country is counted (there is none across here).
    """
    full = Simulator(world()).run(mode=mode)
    head = Simulator(world(), outputs="headline").run(mode=mode)
    for name in ("measures", "shortfall", "targets", "raised"):
        pd.testing.assert_frame_equal(getattr(head, name), getattr(full, name))
    pd.testing.assert_frame_equal(head.solver.drop(columns="seconds"), full.solver.drop(columns="seconds"))
    for name in ("flows", "utilisation", "gainers", "attribution", "stocks", "inactive", "offtakes"):
        assert len(getattr(head, name).columns) == 0
    assert min(len(full.flows), len(full.utilisation), len(full.attribution)) > 0
    assert full.trade is None
    assert head.trade is not None
    sums = flow_sums(full.flows, baseline="baseline_t", simulated="tonnes")
    pd.testing.assert_frame_equal(head.trade.blocked, sums.blocked, check_exact=True)
    pd.testing.assert_frame_equal(head.trade.inflows, sums.inflows, check_exact=True)
    blocked = head.trade.blocked.set_index("year")["blocked"]
    assert (blocked[2024], blocked[2025], blocked[2026]) == pytest.approx((0.0, 200.0, 600.0))
    into = head.trade.inflows.query("year == 2026").set_index(["country", "supplier"])["tonnes"]
    assert into.to_dict() == pytest.approx({("JP", "CN"): 300.0, ("US", "AU"): from_au, ("US", "CN"): 0.0})


def test_compare_world_and_inflow_tables_are_the_sums_of_each_variants_flows() -> None:
    """``compare``'s ``attrs["world_shortfall"]`` and ``attrs["inflows"]`` (returned by its workers beside the rows,
    ``api._Headline``) equal ``world_shortfall`` and ``flow_sums`` of each variant's :func:`simulate` tables.

    ``compare`` runs both variants as one group (warm re-solves): equal to ``simulate``'s within the
    solver's round-off (``simulation.groups``). ``with_deal`` exempts CN → US from 2026: nothing blocked then.
    """
    table = compare(world(), mode="rebalance")
    runs = [simulate(world(), variant=v, mode="rebalance") for v in (None, "with_deal")]
    blocked, inflows = flow_sums(pd.concat([r.flows for r in runs], ignore_index=True))
    world_t = world_shortfall(pd.concat([r.shortfall for r in runs], ignore_index=True), blocked)
    pd.testing.assert_frame_equal(table.attrs["world_shortfall"], world_t, rtol=1e-9, atol=1e-9)
    shown = set(table["country"])
    inflows = inflows[inflows["country"].isin(shown)].reset_index(drop=True)
    pd.testing.assert_frame_equal(table.attrs["inflows"], inflows, rtol=1e-9, atol=1e-9)
    w = table.attrs["world_shortfall"].query("year == 2026").set_index("variant")["blocked"]
    assert (w["base"], w["with_deal"]) == pytest.approx((600.0, 0.0))
    assert not table["metric"].str.startswith("_").any()  # no table travels as metric rows


@pytest.mark.parametrize("mode", ["rebalance", "fixed"])
def test_headline_and_measures_runs_assemble_no_attribution(mode: Mode, monkeypatch: pytest.MonkeyPatch) -> None:
    """The attribution table is assembled only when read: ``"all"`` reads it, ``"headline"``/``"measures"`` do not.

    ``world()`` has no stockpile, so nothing dates a stock gap (the only reader besides ``"all"``):
    the per-policy rows (``policies._attribution``) are never built, and the results are those of ``"all"``.
    """
    import supplychain.simulation.policies as policies

    built: list[int] = []
    assemble = policies._attribution

    def counting(*args: Any) -> Any:
        built.append(1)
        return assemble(*args)

    monkeypatch.setattr(policies, "_attribution", counting)
    full = Simulator(world()).run(mode=mode)
    assert built
    assert len(full.attribution) > 0
    built.clear()
    for outputs in ("headline", "measures"):
        lean = Simulator(world(), outputs=outputs).run(mode=mode)
        pd.testing.assert_frame_equal(lean.measures, full.measures)
    assert built == []


def test_compare_toggle_grid_reuses_the_model() -> None:
    table = compare(world(), toggles_grid=["deal"], years=[2026])
    assert set(table["variant"]) == {"deal=off", "deal=on"}
    short = table[table["metric"] == "shortfall_share"].set_index("variant")["value"]
    assert short["deal=off"] == pytest.approx(400 / 700)
    assert short["deal=on"] == pytest.approx(0.0)
    tgt = table[table["metric"] == "target:us_25"].set_index("variant")["value"]
    # without the deal 400/700 is unmet (exposed share 57%), with it 600/700 comes from China
    assert tgt.to_dict() == {"deal=off": 0.0, "deal=on": 0.0}
    named = compare(world(), years=[2026], mode="fixed")
    assert set(named["variant"]) == {"base", "with_deal"}


def test_result_views(rebal: Result) -> None:
    g = rebal.graph(2026)
    assert isinstance(g, nx.MultiDiGraph)
    assert g.edges["CN:ndpr_oxide", "US:ndpr_oxide", "flows.cn_us_2026"]["status"] == "blocked"
    assert g.edges["au_sep", "AU:ndpr_oxide", "supply.au_sep.ndpr_oxide"]["simulated"] == pytest.approx(300.0)
    with pytest.raises(ScenarioError, match="argument year=: year 2031 was not simulated"):
        rebal.graph(2031)
    html = rebal._repr_html_()
    for part in ("Toggles", "Headline measures", "exposed share", "peak shortfall", "Targets"):
        assert part in html
    assert "variant='base'" in repr(rebal)
    assert set(rebal.flows["status"]) <= {"normal", "blocked", "reduced", "rerouted", "deal", "new"}
    cols = ["country", "commodity", "unit", "stage", "year", "demand", "delivered", "shortfall", "shortfall_share"]
    assert set(cols) <= set(rebal.shortfall.columns)


def test_unknown_toggle_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match=r"unknown toggle 'dael'.*\n.*did you mean 'deal'"):
        simulate(world(), toggles={"dael": True})
    with pytest.raises(ScenarioError, match=r"unknown variant 'with_dael'"):
        simulate(world(), variant="with_dael")
    with pytest.raises(ScenarioError, match="argument mode=: unknown mode 'reroute'"):
        simulate(world(), mode="reroute")  # type: ignore[arg-type]


def test_simulate_and_compare_take_a_path(tmp_path: Path, rebal: Result) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(world_data(), sort_keys=False), encoding="utf-8")
    from_file = simulate(path)  # loaded and validated as by supplychain.load
    assert us_short(from_file) == us_short(rebal)
    pd.testing.assert_frame_equal(from_file.measures, rebal.measures)
    table = compare(str(path), toggles_grid=["deal"], years=[2026])
    assert set(table["variant"]) == {"deal=off", "deal=on"}
    with pytest.raises(ScenarioError, match=r"missing\.yaml"):
        simulate(tmp_path / "missing.yaml")
    with pytest.raises(TypeError, match=r"a Scenario \(supplychain.load\) or a path to a YAML file, not dict"):
        simulate(world_data())  # type: ignore[arg-type]


def test_years_before_the_base_year_are_refused() -> None:
    with pytest.raises(ScenarioError, match=r"argument years=: year 2020 is before the base year 2024"):
        simulate(world(), years=[2020])


def test_years_subset_and_empty_frames() -> None:
    res = simulate(world(), years=[2024], mode="fixed")
    assert res.years == (2024,)
    assert res.attribution.empty
    assert res.explain("US", "ndpr_oxide").empty
    assert isinstance(res.stocks, pd.DataFrame)


def test_block_by_block_solve_gives_the_same_results_on_the_bundled_world() -> None:
    # The bundled world's LP has three independent blocks (rare earths, gallium, germanium);
    # solving them separately (and on two threads) must give the monolithic model's results.
    from pathlib import Path

    import numpy as np

    from supplychain.io.load import load

    sc = load(Path(__file__).resolve().parent.parent / "scenarios" / "us_japan_framework.yaml")
    keys = ["year", "country", "commodity", "metric", "partner", "source_country"]
    runs = [simulate(sc, years=[2025, 2026], blocks=b).measures.sort_values(keys).reset_index(drop=True)
            for b in (False, True, 2)]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(runs[0][keys], other[keys])
        np.testing.assert_allclose(other["value"].astype(float), runs[0]["value"].astype(float), rtol=1e-8,
                                   atol=1e-9)
    short = runs[0].query("metric == 'shortfall_share' and year == 2025")["value"].astype(float)
    assert (short > 0).any()  # the licensing shock leaves some users short: the comparison is not trivial


# ------------------------------------------------- preferences and one-party programmes
def test_preference_surcharge_falls_on_imports_from_non_parties() -> None:
    # NdPr oxide at USD 60,000/t; a US–AU agreement with a 5 % preference: every US import from a
    # non-party (CN → US) carries 0.05 × 60,000 = 3,000 USD/t; the AU → US edge is a partner edge;
    # CN → JP (no party buys) carries nothing. A one-party (US) programme surcharges both imports.
    from supplychain.simulation.agreements import preference_surcharge

    edges = pd.DataFrame({"supplier_country": ["CN", "AU", "CN"], "buyer_country": ["US", "US", "JP"],
                          "commodity": ["ndpr_oxide"] * 3, "stage": ["oxide"] * 3})
    pair = world(agreements={"deal": {"name": "US–AU", "parties": ["US", "AU"], "start": "2025-01-01",
                                      "preference": 0.05, "covers": {"families": ["rare_earths"]}}})
    sur, partner = preference_surcharge(edges, year=2026, agreements=pair.agreements, scenario=pair)
    assert sur.tolist() == pytest.approx([3000.0, 0.0, 0.0])
    assert partner.tolist() == [False, True, False]
    # a September start weighs 4/12 of the year: 1,000 USD/t in 2025
    sept = world(agreements={"deal": {"name": "US–AU", "parties": ["US", "AU"], "start": "2025-09-01",
                                      "preference": 0.05, "covers": {"commodities": ["ndpr_oxide"]}}})
    sur, _ = preference_surcharge(edges, year=2025, agreements=sept.agreements, scenario=sept)
    assert sur.tolist() == pytest.approx([1000.0, 0.0, 0.0])
    home = world(agreements={"home": {"name": "US programme", "parties": ["US"], "start": "2025-01-01",
                                      "preference": 0.05, "covers": {"commodities": ["ndpr_oxide"]}}})
    sur, partner = preference_surcharge(edges, year=2026, agreements=home.agreements, scenario=home)
    assert sur.tolist() == pytest.approx([3000.0, 3000.0, 0.0])
    assert not partner.any()
    # without a price the surcharge would be 0: a scenario built in Python is refused as a file is
    unpriced = home.model_copy(update={"commodities": {
        k: c.model_copy(update={"price_usd_per_t": None}) for k, c in home.commodities.items()}})
    with pytest.raises(ScenarioError, match=r"'ndpr_oxide' has no price") as info:
        preference_surcharge(edges, year=2026, agreements=unpriced.agreements, scenario=unpriced)
    assert info.value.problems[0].path == ("agreements", "home", "preference")


def test_a_preference_in_force_for_a_quarter_of_the_year_moves_a_quarter_of_the_tonnes() -> None:
    # No ban. A US–AU agreement prefers partner supply by 5 % from 1 October 2025 (φ = 3/12 in
    # 2025, 1 in 2026). A full year (2026): each of CN's 600 t to the US carries 0.05 × 60,000 =
    # 3,000 USD/t, AU's supply nothing, so the cost level fills AU's spare 200 t (capacity 300,
    # baseline 100): AU→US 300 t, CN→US 400 t, CN's plant makes 800 t (nobody takes the rest).
    # 2025 is solved as two periods, Jan–Sep (3/4, no preference: the baseline) and Oct–Dec
    # (1/4, the 2026 solution), weighed: AU→US 0.75 × 100 + 0.25 × 300 = 150 t, CN→US 0.75 × 600
    # + 0.25 × 400 = 550 t, CN's plant 0.75 × 1,000 + 0.25 × 800 = 950 t: a quarter of the full
    # year's 200 t moved. (A surcharge of 3/12 × 3,000 = 750 USD/t on the whole year moved all 200 t.)
    from supplychain.graph.balance import market_balance

    deal = {"name": "US–AU", "parties": ["US", "AU"], "start": "2025-10-01", "preference": 0.05,
            "covers": {"commodities": ["ndpr_oxide"]}}
    toggles = {"ban": {"default": False, "controls": ["cn_ban"]}, "deal": {"default": True, "controls": ["pact"]}}
    res = simulate(world(agreements={"pact": deal}, toggles=toggles, variants={}), mode="rebalance")
    f = res.flows.groupby(["year", "supplier_country", "buyer_country"])[["simulated"]].sum()
    assert f.loc[(2024, "AU", "US"), "simulated"] == pytest.approx(100.0)
    assert f.loc[(2025, "AU", "US"), "simulated"] == pytest.approx(150.0)
    assert f.loc[(2025, "CN", "US"), "simulated"] == pytest.approx(550.0)
    assert f.loc[(2026, "AU", "US"), "simulated"] == pytest.approx(300.0)
    assert f.loc[(2026, "CN", "US"), "simulated"] == pytest.approx(400.0)
    u = res.utilisation.set_index(["year", "facility"])
    assert u.loc[(2025, "cn_sep"), "output"] == pytest.approx(950.0)
    # the flow reports the year's average surcharge, 3/12 × 3,000 USD/t
    cost = res.flows.set_index("edge")["cost_per_unit"]
    assert cost["flows.cn_us_2025"] == pytest.approx(750.0)
    assert cost["flows.cn_us_2026"] == pytest.approx(3000.0)
    assert us_short(res) == {2024: 0.0, 2025: 0.0, 2026: 0.0, 2027: 0.0}
    for y in YEARS:
        edges = res.tables(y)[1]
        assert market_balance(edges.assign(tonnes=edges["simulated"]))["balanced"].all(), y
    # in force the whole of 2025 (from 1 January): one period, the full year's 200 t moved as in 2026
    whole = simulate(world(agreements={"pact": {**deal, "start": "2025-01-01"}}, toggles=toggles, variants={}),
                     mode="rebalance", years=[2025])
    g = whole.flows.groupby(["supplier_country", "buyer_country"])[["simulated"]].sum()
    assert g.loc[("AU", "US"), "simulated"] == pytest.approx(300.0)
    assert g.loc[("CN", "US"), "simulated"] == pytest.approx(400.0)


def two_preferences(pairs: list[tuple[str, str]], partner: str, home_start: str,
                    pact_start: str) -> tuple[pd.DataFrame, Scenario]:
    """NdPr oxide edges (supplier, buyer country) ``pairs``, and a world with two 5 % preferences on NdPr oxide.

    ``home``: a US programme (one party) from ``home_start``; ``pact``: a US–``partner`` deal from ``pact_start``.
    """
    edges = pd.DataFrame({"supplier_country": [a for a, _ in pairs], "buyer_country": [b for _, b in pairs],
                          "commodity": ["ndpr_oxide"] * len(pairs), "stage": ["oxide"] * len(pairs)})
    cover = {"commodities": ["ndpr_oxide"]}
    w = world(agreements={
        "home": {"name": "US programme", "parties": ["US"], "start": home_start, "preference": 0.05, "covers": cover},
        "pact": {"name": f"US–{partner}", "parties": ["US", partner], "start": pact_start, "preference": 0.05,
                 "covers": cover}})
    return edges, w


def test_periods_of_two_preferences_starting_at_different_dates() -> None:
    # A US programme (one party, 5 %) from 1 July 2025 and a US–AU deal (5 %) from 1 October 2025
    # on the edges CN→US and AU→US of NdPr oxide (USD 60,000/t). Jan–Jun (1/2): nothing in force;
    # Jul–Sep (1/4): the programme surcharges both imports 3,000 USD/t; Oct–Dec (1/4): both, CN→US
    # 6,000 USD/t, AU→US 3,000 (AU is the deal's partner but not the programme's). The year's
    # average: CN→US 0.25 × 3,000 + 0.25 × 6,000 = 2,250, AU→US 0.5 × 3,000 = 1,500 USD/t.
    from supplychain.simulation.agreements import (
        preference_periods,
        preference_surcharge,
        preferences,
        year_preferences,
    )

    edges, w = two_preferences([("CN", "US"), ("AU", "US")], "AU", "2025-07-01", "2025-10-01")
    avg = preferences(edges, year=2025, agreements=w.agreements, scenario=w)
    periods = preference_periods(edges, year=2025, agreements=w.agreements, scenario=w)
    assert [(sorted(p.agreements), p.weight, p.preferences.surcharge.tolist()) for p in periods] == [
        ([], 0.5, [0.0, 0.0]), (["home"], 0.25, [3000.0, 3000.0]), (["home", "pact"], 0.25, [6000.0, 3000.0])]
    assert avg.surcharge.tolist() == pytest.approx([2250.0, 1500.0])
    assert avg.surcharge == pytest.approx(sum(p.weight * p.preferences.surcharge for p in periods))
    assert preference_surcharge(edges, year=2025, agreements=w.agreements, scenario=w)[0].tolist() == \
        pytest.approx([2250.0, 1500.0])
    assert avg.partner.tolist() == [False, True]
    periods = preference_periods(edges, year=2026, agreements=w.agreements, scenario=w)
    assert [(p.weight, p.preferences.surcharge.tolist()) for p in periods] == [(1.0, [6000.0, 3000.0])]
    # a preference on gallium reaches none of these edges: its start makes no period of its own
    g = world(agreements={"pact": w.agreements["pact"].model_dump(), "ga": {
        "name": "US–JP gallium", "parties": ["US", "JP"], "start": "2025-04-01", "preference": 0.05,
        "covers": {"commodities": ["gallium"]}}},
        commodities={**world_data()["commodities"], "gallium": {"name": "Gallium", "stage": "metal",
                                                                  "price_usd_per_t": 500000}})
    periods = preference_periods(edges, year=2025, agreements=g.agreements, scenario=g)
    assert [(sorted(p.agreements), p.weight) for p in periods] == [(["ga"], 0.75), (["ga", "pact"], 0.25)]
    # the year's average and its periods from one reading of the agreements (what the LP's year uses)
    both_avg, both_periods = year_preferences(edges, year=2025, agreements=w.agreements, scenario=w)
    again = preference_periods(edges, year=2025, agreements=w.agreements, scenario=w)
    assert both_avg.surcharge.tolist() == avg.surcharge.tolist()
    assert both_avg.partner.tolist() == avg.partner.tolist()
    assert both_avg.reserved.tolist() == avg.reserved.tolist()
    assert [(p.weight, p.agreements, p.preferences.surcharge.tolist(), p.preferences.reserved.tolist())
            for p in both_periods] == [(p.weight, p.agreements, p.preferences.surcharge.tolist(),
                                        p.preferences.reserved.tolist()) for p in again]


def test_a_preference_owes_its_parties_the_reserved_exports_without_it() -> None:
    # Edges of NdPr oxide US→JP, US→KR, JP→KR. A US programme (one party) reserves the US's exports
    # to everyone, US→JP and US→KR; a US–JP deal reserves its parties' exports to non-parties, US→KR
    # and JP→KR, and makes US→JP a partner edge. Together: US→KR and JP→KR (US→JP is the deal's).
    # The deal's counterfactual (Participation) is the programme's alone, US→JP and US→KR, owed to
    # US and JP users. Removing the programme leaves the reserved exports as they are (the deal
    # reserves US→KR too): its counterfactual would be the solve itself, so it gets none.
    from supplychain.simulation.agreements import preferences

    edges, w = two_preferences([("US", "JP"), ("US", "KR"), ("JP", "KR")], "JP", "2025-01-01", "2025-01-01")
    p = preferences(edges, year=2025, agreements=w.agreements, scenario=w)
    assert p.reserved.tolist() == [False, True, True]
    assert [(o.agreement, sorted(o.parties), o.reserved.tolist()) for o in p.without] == [
        ("pact", ["JP", "US"], [True, True, False])]
    # the programme alone: without it nothing is reserved, owed to US users
    alone = preferences(edges, year=2025, agreements={"home": w.agreements["home"]}, scenario=w)
    assert [(o.agreement, sorted(o.parties), o.reserved.tolist()) for o in alone.without] == [
        ("home", ["US"], [False, False, False])]


def test_domestic_programme_runs_its_new_plant_before_imports() -> None:
    # No ban. A US programme (one party) builds 500 t/yr of US separation from 2027 (USD 1 bn × 0.5 /
    # USD 1 M per t/yr, start 2025-01-01 + 2 years) and prefers US supply by 5 %. Imports of 700 t
    # (CN 600, AU 100) each carry 3,000 USD/t in the LP's cost level, the new plant nothing, so the
    # cost level runs the plant at its 500 t and imports only the 200 t left. Without the programme
    # the plant does not exist (capacity 0) and nothing changes from the baseline.
    programme = {"name": "US programme", "parties": ["US"], "start": "2025-01-01", "preference": 0.05,
                 "covers": {"commodities": ["ndpr_oxide"]},
                 "investment": {"fund_usd": 1e9, "projects": {"us_sep": {
                     "country": "US", "kind": "aggregate", "output": "ndpr_oxide", "share_of_fund": 0.5,
                     "capital_intensity_usd_per_tpa": 1e6, "lead_time_years": 2}}}}
    w = world(agreements={"home": programme},
              toggles={"ban": {"default": False, "controls": ["cn_ban"]},
                       "home": {"default": True, "controls": ["home"]}})
    res = simulate(w, mode="rebalance")
    u = res.utilisation.set_index(["year", "facility"])
    assert u.loc[(2026, "home.us_sep"), "output"] == 0.0
    assert u.loc[(2027, "home.us_sep"), "output"] == pytest.approx(500.0)
    f = res.flows.loc[res.flows["year"].eq(2027) & res.flows["buyer"].eq("US:ndpr_oxide")
                      & res.flows["supplier_country"].ne("US")]
    assert f["simulated"].sum() == pytest.approx(200.0)
    assert us_short(res) == {2024: 0.0, 2025: 0.0, 2026: 0.0, 2027: 0.0}
    off = simulate(w, toggles={"home": False}, mode="rebalance")
    assert off.utilisation.set_index(["year", "facility"]).loc[(2027, "home.us_sep"), "output"] == 0.0


@pytest.mark.parametrize("bought", ["plant_a", "plant_b"])
def test_a_plant_whose_output_an_offtake_buys_runs_before_an_uncontracted_one(bought: str) -> None:
    # Findings R-9: two new US plants of NdPr oxide, each 400 t/yr from 2026 (USD 1 bn × 0.4 / USD 1 M
    # per t/yr; start 2025-01-01 + 1 year), one per US programme; an offtake of the one programme buys all
    # of its plant's output (no quantity: no floor), the other programme has none. CN bans exports to
    # the US from 1 September 2025. 2026: CN→US (600 t) is closed, the US needs 600 t and its two plants
    # can make 800 t: demand is short of capacity. No user need be short, and there is no stock, cost or
    # unsold output, so the deviation level decides: a tonne from a US plant deviates by one edge (its
    # supply edge above its baseline of 0), a tonne of AU's spare capacity by two (AU's plant and AU→US),
    # so the US plants make the 600 t and AU stays at 100 t. Between the two plants the deviation is
    # tied (the same edges, yields and commodity): the contracted plant comes first, 400 t (its
    # capacity), the other makes the remaining 600 − 400 = 200 t, whichever of the two is bought.
    # (Before, the tie went to the edge-id hash, and the bought plant could stand idle.)
    # 2025: the plants do not exist yet (capacity 0); AU fills the 200 t gap as without them.
    from supplychain.graph.balance import market_balance

    def programme(project: str) -> dict[str, Any]:
        return {"name": f"US programme {project}", "parties": ["US"], "start": "2025-01-01",
                "covers": {"commodities": ["ndpr_oxide"]},
                "investment": {"fund_usd": 1e9, "projects": {project: {
                    "country": "US", "kind": "aggregate", "output": "ndpr_oxide", "share_of_fund": 0.4,
                    "capital_intensity_usd_per_tpa": 1e6, "lead_time_years": 1}}}}

    agreements = {"a": programme("plant_a"), "b": programme("plant_b")}
    owner = "a" if bought == "plant_a" else "b"
    agreements[owner]["offtakes"] = [{"supplier": bought, "buyer": "US", "commodity": "ndpr_oxide",
                                      "start_year": 2025}]
    res = simulate(world(agreements=agreements, toggles={"ban": {"default": True, "controls": ["cn_ban"]}},
                         variants={}), mode="rebalance")
    u = res.utilisation.set_index(["year", "facility"])["output"]
    other = "b.plant_b" if owner == "a" else "a.plant_a"
    for y in (2026, 2027):
        assert u[(y, f"{owner}.{bought}")] == pytest.approx(400.0)
        assert u[(y, other)] == pytest.approx(200.0)
        assert u[(y, "au_sep")] == pytest.approx(100.0)
    assert u[(2025, "au_sep")] == pytest.approx(300.0)
    assert us_short(res) == {2024: 0.0, 2025: 0.0, 2026: 0.0, 2027: 0.0}
    for y in YEARS:
        edges = res.tables(y)[1]
        assert market_balance(edges.assign(tonnes=edges["simulated"]))["balanced"].all(), y


def test_an_offtake_of_all_output_names_a_plant() -> None:
    from supplychain.schema.references import check_nodes

    deal = {"name": "US deal", "parties": ["US"], "start": "2025-01-01",
            "offtakes": [{"supplier": "AU", "buyer": "US", "commodity": "ndpr_oxide", "start_year": 2025}]}
    problems = check_nodes(world(agreements={"deal": deal}))
    assert [p.message for p in problems] == ["an offtake of all output needs a plant as supplier, not 'AU'"]
    deal["offtakes"][0]["quantity_per_year"] = 50  # a quantity from a country's market: a floor, allowed
    assert check_nodes(world(agreements={"deal": deal})) == []


def test_a_preference_size_counts_only_against_other_costs() -> None:
    # Findings R-3. No ban. A US–AU deal prefers partner supply from 2025-01-01 (whole years).
    # Without other costs the cost level is π × (60,000 USD/t × CN→US tonnes): moving a tonne of
    # CN→US to AU's spare capacity saves π × 60,000 for any π > 0, so AU fills its spare 200 t
    # (AU→US 100 → 300 t, CN→US 600 → 400 t) whether π is 0.001 or 0.5: the size is an on/off
    # priority, and validate says so. A US tariff of 2,000 USD/t on AU's supply gives the size a
    # cost to weigh against: a US tonne from AU costs 2,000, one from CN 60,000 π. π = 0.05 (3,000):
    # AU is the cheaper, as much as it can make, 300 t, CN 400 t. π = 0.02 (1,200): CN is the
    # cheaper, the US takes all 700 t from CN and AU none; CN's extra 100 t come from its 300 t to
    # Japan, which takes AU's 100 t instead (no cost on AU→JP), so no user is short.
    from supplychain.schema.references import check_preference_size

    def run(pref: float, tariff: bool) -> tuple[float, float]:
        deal = {"name": "US–AU", "parties": ["US", "AU"], "start": "2025-01-01", "preference": pref,
                "covers": {"commodities": ["ndpr_oxide"]}}
        policies = {"us_tariff": {"type": "tariff", "country": "US", "start": "2025-01-01", "usd_per_t": 2000,
                                  "partners": {"include": ["AU"]}}} if tariff else {}
        toggles = {"deal": {"default": True, "controls": ["pact"]}}
        w = world(agreements={"pact": deal}, policies=policies, toggles=toggles, variants={}, targets={})
        assert bool(check_preference_size(w)) is not tariff  # warned exactly when no cost weighs the size
        f = simulate(w, mode="rebalance", years=[2026]).flows
        g = f.groupby(["supplier_country", "buyer_country"])["simulated"].sum()
        return float(g[("AU", "US")]), float(g[("CN", "US")])

    assert run(0.001, tariff=False) == pytest.approx((300.0, 400.0))
    assert run(0.5, tariff=False) == pytest.approx((300.0, 400.0))
    assert run(0.05, tariff=True) == pytest.approx((300.0, 400.0))
    assert run(0.02, tariff=True) == pytest.approx((0.0, 700.0))


def test_toggle_table_says_what_is_not_representable() -> None:
    # An MOU with no modelled effect is "not representable"; one with an exemption is partly so.
    mou = {"name": "US–TH MOU", "parties": ["US", "TH"], "start": "2025-10-26",
           "not_representable": "non-binding, no quantities"}
    w = world(agreements={"mou": mou, "truce": {**mou, "exempt_parties": True, "not_representable": "a price floor"}},
              toggles={"ban": {"default": True, "controls": ["cn_ban"]}, "mou": {"default": True, "controls": ["mou"]},
                       "deal": {"default": False, "controls": ["truce"]}})
    t = simulate(w, mode="fixed").toggles.set_index("toggle")
    assert t.loc["mou", "note"] == "mou: not representable: non-binding, no quantities"
    assert t.loc["deal", "note"] == "truce: partly representable, left out: a price floor"
    assert t.loc["ban", "note"] == ""


@pytest.mark.parametrize("mode", ["fixed", "rebalance"])
def test_a_simulator_without_exposure_gives_the_response_alone(mode: Mode) -> None:
    # exposure=False (the report's fixed bound, capacity_limits) skips the measures of the network after
    # the response: the response's own tables are those of the full run, the measures only its
    # shortfall rows, and the target (it reads the exposed share) is not evaluated.
    full = Simulator(world(), source="CN").run(mode=mode)
    alone = Simulator(world(), source="CN", exposure=False).run(mode=mode)
    for table in ("shortfall", "utilisation", "flows", "stocks"):
        pd.testing.assert_frame_equal(getattr(alone, table), getattr(full, table))
    assert set(alone.measures["metric"]) == {"shortfall_share"}
    kept = full.measures[full.measures["metric"] == "shortfall_share"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone.measures, kept)
    assert len(full.targets) == 2  # us_25 in 2026 and 2027
    assert alone.targets.empty
    assert list(alone.targets.columns) == list(full.targets.columns)


@pytest.mark.parametrize("mode", ["fixed", "rebalance"])
def test_a_simulator_keeping_the_measures_alone_gives_the_full_runs_measures(mode: Mode) -> None:
    # outputs="measures" (a sweep's per-sample run) skips the flows, utilisation and the tables made
    # from them, not the response: with a stock drawn in 2026 (it carries between years), the measures
    # are the full run's, row for row; every other table is empty; the sweep's measure function gives
    # what simulate(...).measures gives (where the sweep keeps '' a Result has a missing value: no_value_as_na; and
    # a Result names its scenario on every row, the shortfall rows too).
    from supplychain.api import no_value_as_na
    from supplychain.uncertainty.models import SimulateMeasures

    full = Simulator(stocked(), source="CN").run(mode=mode)
    alone = Simulator(stocked(), source="CN", outputs="measures").run(mode=mode)
    assert full.stocks.set_index("year").loc[2026, "draw"] > 0
    pd.testing.assert_frame_equal(alone.measures, full.measures)
    for table in ("flows", "shortfall", "utilisation", "gainers", "targets", "attribution", "stocks", "offtakes"):
        assert getattr(alone, table).empty
    metrics = ("traced_share", "shortfall_share")
    via_api = simulate(stocked(), mode=mode, metrics=list(metrics)).measures
    sweep = no_value_as_na(SimulateMeasures(mode, source="CN", metrics=metrics)(stocked()))
    pd.testing.assert_frame_equal(sweep.drop(columns="scenario"), via_api.drop(columns="scenario"))
    assert set(via_api["scenario"]) == {stocked().scenario.name}
    with pytest.raises(ValueError, match="outputs must be"):
        Simulator(stocked(), outputs="flows")  # type: ignore[arg-type]
