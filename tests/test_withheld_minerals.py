"""Minerals whose US consumption USGS withholds: no simulated reliance, no silent absence, no uncaveated zero.

Review #3 findings R-6 (simulated US net import reliance against USGS's published
bounds), R-5 (controls result lists every mineral a policy in force covers) and R-13
(the rebalance response of a world where only the US has demand). Hand-worked cases
write their derivation out.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from supplychain.api import simulate
from supplychain.importers.usgs_mcs import load_catalogue, read_release
from supplychain.io import load
from supplychain.metrics.measures import compute_measures
from supplychain.metrics.trade import UNRECORDED_USE, first_hop
from supplychain.minerals import bundled_release
from supplychain.minerals.atlas import published_nir
from supplychain.schema.model import Scenario
from supplychain.simulation.uncounted import not_evaluated_lines, uncounted_uses

REPO = Path(__file__).resolve().parent.parent
CONTROLS = REPO / "scenarios" / "china_controls_all_minerals.yaml"
WITHHELD = ("barite", "bauxite", "lead", "lithium", "magnesium", "silicon", "tellurium", "tungsten", "zirconium")
"""US minerals of the world without US demand: USGS gives no number for US consumption (W, a bound, or none)."""


# ---------------------------------------------------------------- the rule
def test_reliance_without_recorded_use_is_not_computed_hand_worked():
    """Tellurium 2024 as the minerals world has it (mcs2025-tellu_salient.csv row 6).

    US production W (no US facility), imports I = 7 t, exports E = 4 t, consumption W (no
    US demand). Apparent consumption AC = P + I - E = 0 + 7 - 4 = 3 t: the residual that
    goes to the market's surplus, not a use. The old reliance (I - E) / AC = 3 / 3 = 100 %
    against USGS's "<25". With the use not recorded it is NaN, label "use not recorded".
    Canada, producing 27 t and exporting 4.18 t (rank-1 share 0.597 of 7 t) with no
    recorded use either, stays a net exporter ("E"): net imports -4.18 < 0, whatever the use.
    """
    ca_exports = 7 * 0.597073
    # FLOWS order: production, imports, exports, stock drawn, stock built; markets CA, US
    sums = np.array([[27.0, 0.0], [0.0, 7.0], [ca_exports, 4.0], [0.0, 0.0], [0.0, 0.0]])
    imports, from_cn = np.array([0.0, 7.0]), np.array([0.0, 0.0])
    before = first_hop(sums, imports, from_cn)
    assert before.net_import_reliance[1] == pytest.approx(1.0)  # 3 / 3: what main printed
    after = first_hop(sums, imports, from_cn, np.array([False, False]))
    assert math.isnan(after.net_import_reliance[1])
    assert bool(after.unrecorded[1])
    assert math.isnan(after.direct_share_of_consumption[1])
    assert bool(after.exporter[0])
    assert not bool(after.unrecorded[0])
    # with a recorded use the same sums give the old ratio
    assert first_hop(sums, imports, from_cn, np.array([True, True])).net_import_reliance[1] == pytest.approx(1.0)


def test_reliance_without_net_imports_stays_zero():
    """A producer with no trade and no recorded use: NIR = (I - E) / AC = 0 / P = 0 for any use, so kept."""
    sums = np.array([[50.0], [0.0], [0.0], [0.0], [0.0]])
    h = first_hop(sums, np.zeros(1), np.zeros(1), np.array([False]))
    assert h.net_import_reliance.tolist() == [0.0]
    assert not bool(h.unrecorded[0])


def _ore_world(with_metal_demand: bool) -> Scenario:
    """Australia mines 100 t of ore and ships 40 t to Japan; optionally Japan mines 10 t of metal and uses it."""
    doc: dict = {
        "scenario": {"name": "t", "base_year": 2024},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}, "metal": {"name": "Metal", "stage": "metal"}},
        "facilities": {"au_mine": {"name": "AU mine", "country": "AU", "kind": "mine", "output": "ore",
                                   "production": {2024: {"value": 100, "assumption": "test"}}}},
        "flows": {"au_jp": {"supplier": "AU", "buyer": "JP", "commodity": "ore", "year": 2024,
                            "quantity": {"value": 40, "assumption": "test"}}},
    }
    if with_metal_demand:
        doc["facilities"]["jp_metal"] = {"name": "JP metal", "country": "JP", "kind": "mine", "output": "metal",
                                         "production": {2024: {"value": 10, "assumption": "test"}}}
        doc["demand"] = {"jp_metal": {"country": "JP", "commodity": "metal", "year": 2024,
                                      "tonnes": {"value": 10, "assumption": "test"}}}
    return Scenario.model_validate(doc)


def test_measures_label_the_unrecorded_use():
    """Japan's ore: AC = 0 + 40 - 0 = 40 t, net imports 40 t.

    In a scenario of trade and production only (no use of anything recorded) the 40 t are
    USGS's apparent consumption and NIR = 40 / 40 = 1, as before. Once the scenario records a
    use (Japan's 10 t of metal) but none of ore, the 40 t are only what trade leaves: n/a,
    label "use not recorded" (the minerals world's tungsten: US demand for 28 other minerals,
    none for tungsten).
    """
    def jp_nir(with_metal_demand: bool) -> tuple[float, str]:
        m = compute_measures(_ore_world(with_metal_demand), 2024, source="AU")
        row = m[(m["metric"] == "net_import_reliance") & (m["country"] == "JP") & (m["commodity"] == "ore")]
        assert len(row) == 1
        return float(row["value"].iloc[0]), str(row["label"].iloc[0])

    assert jp_nir(False) == (1.0, "")
    value, label = jp_nir(True)
    assert math.isnan(value)
    assert label == UNRECORDED_USE


# ------------------------------------------------------- against USGS's figures
@pytest.fixture(scope="module")
def published() -> dict[str, str]:
    """Published US NIR 2024 per world commodity (T5, else Fig2, else the salient file), as printed."""
    cat = load_catalogue()
    files = sorted({s.salient.file for s in cat.commodities.values() if s.salient})
    release = read_release(bundled_release(), salient_files=files)
    out = {}
    for cid, spec in cat.commodities.items():
        cell, _ref, _note = published_nir(release, spec)
        if cell is not None:
            out[cid] = cell.label()
    return out


STOCK_CHANGE_POINTS = 3.0
"""Largest gap (percentage points) allowed against a published number: the salient files give no
stock change, so the model's (C - P) / C differs by it (copper 42.2 vs 45, docs/minerals-data.md)."""


def test_simulated_us_reliance_within_the_published_bound_or_not_computed(published):
    """Every modelled mineral's simulated 2024 US NIR agrees with USGS, or is n/a with a reason.

    Published "<25" / ">75" bounds the value; a number agrees within :data:`STOCK_CHANGE_POINTS`;
    "E" only with "E". Where USGS withholds US consumption the world has no US demand, and the
    reliance is n/a ("use not recorded") - on main tellurium, zirconium and silicon read 100 %
    against "<25", "<25" and "<50", and magnesium 42.4 % against ">75".
    """
    m = compute_measures(load(CONTROLS), 2024, source="CN")
    m = m[(m["metric"] == "net_import_reliance") & (m["country"] == "US")]
    assert len(m) >= 35
    bad = []
    for row in m.to_dict("records"):
        cid, value, label = str(row["commodity"]), float(row["value"]), str(row["label"] or "")
        pub = published.get(cid)
        if pub is None:
            continue
        if math.isnan(value):
            ok = label == UNRECORDED_USE or (label == "E" and pub == "E")
        elif pub.startswith(("<", ">")):
            bound = float(pub[1:])
            ok = value * 100 <= bound if pub[0] == "<" else value * 100 >= bound
        elif pub == "E":
            ok = False
        else:
            ok = abs(value * 100 - float(pub)) <= STOCK_CHANGE_POINTS
        if not ok:
            bad.append((cid, value, label, pub))
    assert not bad, bad
    unrecorded = set(m.loc[m["label"] == UNRECORDED_USE, "commodity"])
    assert unrecorded == set(WITHHELD)


# ------------------------------------------------ covered minerals are listed
def test_controls_table_lists_every_covered_mineral_without_us_demand():
    """China's No. 10 list (cn_no10_2025) covers bismuth, indium, molybdenum, tellurium and tungsten.

    The US has demand for the first three in the world, none for tellurium and tungsten
    (USGS: US consumption W, so the importer writes no demand). On main the two had no row
    at all; now each has one per mode and year, with no demand or shortfall (NaN: a loss of
    the surplus they end in is no shortfall) and the atlas's reason.
    """
    from supplychain.minerals import controls_summary, controls_table

    t = controls_table(CONTROLS, variants=["base"], years=[2024, 2025])
    covered = {"bismuth", "indium", "molybdenum", "tellurium", "tungsten"}
    for mode in ("fixed", "rebalance"):
        rows = t[(t["mode"] == mode) & (t["year"] == 2025)].set_index("commodity")
        assert covered <= set(rows.index)
        for k in ("tellurium", "tungsten"):
            assert rows.at[k, "note"] == "not evaluated: US consumption withheld (W) in USGS's release"
            assert math.isnan(float(rows.at[k, "shortfall_share"]))
            assert math.isnan(float(rows.at[k, "demand"]))
        assert (rows.loc[["bismuth", "indium", "molybdenum"], "note"] == "").all()
    s = controls_summary(t, 2025).set_index("commodity")
    assert s.at["tungsten", "note"].startswith("not evaluated")
    assert list(s.index[-2:]) == ["tellurium", "tungsten"]  # not evaluated: after every share


def test_run_names_the_covered_minerals_it_cannot_evaluate(run_cli):
    """`run`'s table has US rows only for final demands; the line under it names tellurium and tungsten."""
    out = run_cli("run", str(CONTROLS), "--year", "2025", "--country", "US", "--mode", "fixed").stdout
    assert "Not evaluated for US: tellurium, tungsten — a policy in force covers them" in " ".join(out.split())


def test_report_shortfall_note_names_the_covered_minerals_it_cannot_evaluate():
    """The report's shortfall section (summary.md and the page) carries the same line as `run` (one implementation)."""
    from supplychain.report.runs import ScenarioRun
    from supplychain.report.tables import _shortfall_table

    sc = load(CONTROLS)
    run = ScenarioRun(sc, (simulate(sc, mode="fixed"),))
    note = _shortfall_table(run, run.results[0].shortfall.assign(variant="base"), {})["note"]
    assert "Not evaluated for US: tellurium, tungsten — a policy in force covers them" in note


# ------------------------------------- a world with one user, under rebalance
def _one_user_world() -> Scenario:
    """The US uses 10 t of ore a year; China mines 8 t and ships them to the US; Australia mines 5 t, no user.

    2024 (observed): the US gets China's 8 t and, by the allocation rule (deficit pro rata to
    exporters' surplus), 2 t of Australia's; Australia's other 3 t go to its surplus.
    2025: China bans exports to the US for the whole year.
    """
    return Scenario.model_validate({
        "scenario": {"name": "one user", "base_year": 2024, "horizon": 2025},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}},
        "facilities": {
            "cn_mine": {"name": "CN mine", "country": "CN", "kind": "mine", "output": "ore",
                        "production": {y: {"value": 8, "assumption": "test"} for y in (2024, 2025)}},
            "au_mine": {"name": "AU mine", "country": "AU", "kind": "mine", "output": "ore",
                        "production": {y: {"value": 5, "assumption": "test"} for y in (2024, 2025)}},
        },
        "flows": {f"cn_us_{y}": {"supplier": "CN", "buyer": "US", "commodity": "ore", "year": y,
                                 "quantity": {"value": 8, "assumption": "test"}} for y in (2024, 2025)},
        "demand": {"us": {"country": "US", "commodity": "ore", "year": 2024, "tonnes": {"value": 10,
                                                                                       "assumption": "test"}}},
        "policies": {"ban": {"type": "export_ban", "country": "CN", "partners": {"include": ["US"]},
                             "start": "2025-01-01", "assumption": "test"}},
    })


def test_one_user_world_rebalance_is_a_best_case_by_construction():
    """Fixed: the 2024 pattern kept, China's 8 t lost -> 8 / 10 = 80 % short.

    Rebalance: Australia's 3 t of surplus (5 - 2 already shipped) have no recorded user, so
    the LP hands them to the US -> 10 - 2 - 3 = 5 t short, 50 %. Had Australia a demand of its
    own for those 3 t, they would not be free: the 50 % rests on the world having one user,
    which :func:`rebalance_caveat` names.
    """
    from supplychain.simulation.uncounted import rebalance_caveat, sole_demand_country

    sc = _one_user_world()
    short = {}
    for mode in ("fixed", "rebalance"):
        s = simulate(sc, mode=mode).shortfall
        row = s[(s["year"] == 2025) & (s["country"] == "US")]
        short[mode] = float(row["shortfall_share"].iloc[0])
    assert short["fixed"] == pytest.approx(0.8)
    assert short["rebalance"] == pytest.approx(0.5)
    assert sole_demand_country(sc) == "US"
    assert "only US has final demand" in (rebalance_caveat(sc) or "")
    assert rebalance_caveat(load(REPO / "scenarios" / "path_to_2030.yaml")) is None  # many users: no caveat


def test_run_never_prints_no_unmet_demand_without_the_caveat(run_cli):
    """`cn_us_ban_all` on, default (rebalance) response: 0 % short; the caveat and the fixed bound follow.

    Fixed response, 2025 (China's exports to the US stop on 2025-07-01): antimony 14,352 t of
    24,000 t short, 60 % — printed under the rebalance run, as on `--mode fixed`.
    """
    out = " ".join(run_cli("run", str(CONTROLS), "-t", "cn_us_ban_all=on", "--year", "2025",
                           "--country", "US").stdout.split())
    assert "no unmet demand in 2025 under the rebalance response (see the caveat)" in out
    assert "Caveat: only US has final demand in this scenario" in out
    assert "Unmet demand under the fixed response (the pessimistic bound" in out
    assert "14,352" in out
    plain = " ".join(run_cli("run", str(REPO / "scenarios" / "baseline_2024.yaml")).stdout.split())
    assert "Caveat: only" not in plain


# --------------------------------------- shares on the ranked-source assumption
def test_traced_shares_on_the_ranked_split_are_starred_to_the_whole_percent():
    """Graphite: Fig2 ranks China first of the US's sources and gives no percentages, so China's share of
    US imports is the assumption 1/1^2 of 85 % over (1 + 1/4 + 1/9 + 1/16) = 59.7 %, and the traced share
    built on it (0.750) reads "75%*", as the atlas stars it; rare earths use the chapter's printed
    percentages (China 70 %), so their traced share keeps its decimal and no star.
    """
    from supplychain.minerals import controls_summary, controls_table
    from supplychain.minerals.render import controls_display

    t = controls_table(CONTROLS, variants=["base"], years=[2024, 2025])
    shown = controls_display(controls_summary(t, 2025)).set_index("mineral")
    assert shown.at["Graphite (natural)", "traced China share, fixed"] == "75%*"
    assert shown.at["Rare earths (14 lanthanides)", "traced China share, fixed"] == "77.5%"
    assert bool(t.loc[t["commodity"] == "graphite", "assumed_split"].all())
    assert not bool(t.loc[t["commodity"] == "rare_earths", "assumed_split"].any())


def test_a_starred_share_reads_one_way_in_the_controls_table_run_and_the_report():
    """Review s33: a traced share of 0.996 on a ranked-source split read "100%*" in the controls table
    (``f"{v:.0%}*"``) but ">99%" in run's table and the report's cells (``format_percent``: 0.995 <= v < 1
    is ">99%", so that a share short of all is never printed as all). One rule now: ``format_percent``,
    then the mark. Hand-worked: 0.996 -> ">99%*"; 0.75 -> "75%*"; 1.0 -> "100%*"; an unstarred 0.996 keeps
    the table's one decimal ("99.6%"); NaN reads "—".
    """
    import pandas as pd

    from supplychain.minerals.render import controls_display
    from supplychain.report.answers import _cell
    from supplychain.report.numbers import ASSUMED_MARK, format_percent

    summary = pd.DataFrame({"commodity": ["graphite", "tungsten", "gallium", "rare_earths"],
                            "traced_share_fixed": [0.996, 0.75, 1.0, 0.996],
                            "traced_share_rebalance": [math.nan, 0.75, 1.0, 0.996],
                            "assumed_split": [True, True, True, False]})
    shown = controls_display(summary)["traced China share, fixed"].tolist()
    assert shown == [">99%*", "75%*", "100%*", "99.6%"]
    assert controls_display(summary)["traced China share, rebalance"].tolist()[0] == "—"
    assert shown[0] == format_percent(0.996) + ASSUMED_MARK  # run's cell under "graphite*"
    assert _cell("traced_share", 0.996, None, 0.0)["text"] + ASSUMED_MARK == shown[0]  # the report's cell


def test_run_and_report_star_the_assumed_split(run_cli, tmp_path):
    """`run` marks the commodity ("graphite*") and says why; the report's answer marks its cells."""
    out = " ".join(run_cli("run", str(CONTROLS), "--year", "2025", "--country", "US").stdout.split())
    assert "graphite*" in out
    assert "rare_earths*" not in out
    assert "* import shares assumed from a ranked list of sources (RANKED-SOURCE SPLIT" in out
    from supplychain.report.answers import ASSUMED_MARK, country_answer
    from supplychain.report.runs import ScenarioRun

    sc = load(CONTROLS)
    run = ScenarioRun(sc, (simulate(sc, mode="fixed"),))
    view = country_answer([run], "US", "graphite", {}, ["s"])
    assert view["assumed"]
    assert {c["mark"] for c in view["rows"][0]["cells"][:6]} == {ASSUMED_MARK}  # exposure and traced cells


def test_one_footnote_for_the_assumed_split_in_every_output(run_cli):
    """Review s33 F8: run, the report (Markdown and HTML) and the controls table each worded the footnote;
    now one ASSUMED_NOTE. run names after it, in brackets, the US commodities on a ranked-source split
    (graphite among them, rare earths not: chapter percentages); the controls footnote shows only when a
    SHARE is starred ("75%*"), not when a note or a name ends in '*'."""
    import pandas as pd

    from supplychain.minerals.render import CONTROLS_STAR_NOTE, starred
    from supplychain.report.answers import ASSUMED_NOTE, country_answer
    from supplychain.report.markdown import _answer
    from supplychain.report.runs import ScenarioRun

    note = ("import shares assumed from a ranked list of sources (RANKED-SOURCE SPLIT, no percentages published): "
            "every share built on them is an order of magnitude, read to the whole percent")
    assert note == ASSUMED_NOTE
    out = " ".join(run_cli("run", str(CONTROLS), "--year", "2025", "--country", "US").stdout.split())
    named = out.split(f"* {note} (US: ")[1].split(").")[0].split(", ")
    assert "graphite" in named
    assert "rare_earths" not in named
    assert f"* {note}." == CONTROLS_STAR_NOTE
    sc = load(CONTROLS)
    view = country_answer([ScenarioRun(sc, (simulate(sc, mode="fixed"),))], "US", "graphite", {}, ["s"])
    assert view["assumed_note"] == f"* {note}."
    assert f"* {note}." in " ".join(_answer(view))  # the Markdown report's answer
    assert starred(pd.DataFrame({"traced": ["75%*", "77.5%"]}))
    assert not starred(pd.DataFrame({"traced": ["77.5%"], "note": ["not evaluated: see *"]}))


def test_not_evaluated_leaves_out_a_policy_own_country_and_used_commodities() -> None:
    # China's export rule covers w: it cuts what China sells, not what China has, so China's own w market is not
    # "not evaluated"; the US trades w with no recorded use of it, so the US's is.
    s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
                                 "commodities": {"w": {"name": "W", "stage": "ore", "family": "w"}},
                                 "policies": {"ban": {"type": "export_ban", "country": "CN", "start": "2025-01-01",
                                                      "covers": {"families": ["w"]}}}})
    assert uncounted_uses(s, ["ban"], {("CN", "w"), ("US", "w")}, set(), ["CN", "US"]) == [("US", "w", ["ban"])]


def test_the_rare_earth_world_has_nothing_not_evaluated() -> None:
    # Every commodity China's rules cover in the rare-earth world is used there: oxides and metal by plants,
    # magnets, compounds, gallium and germanium by final demand. Before, China's own oxides, gallium and
    # germanium (no Chinese final demand of them) were listed as "not evaluated for CN".
    r = simulate(REPO / "scenarios" / "asean_memoranda.yaml", mode="fixed", years=[2024, 2025])
    assert not_evaluated_lines(r, load(REPO / "scenarios" / "asean_memoranda.yaml"), r.years) == []
