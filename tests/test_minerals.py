"""The critical-minerals atlas, its headline counts, the generated world and the controls scenario.

Figures are those of the bundled copy of the USGS MCS 2025 data release
(``supplychain/data/usgs_mcs2025``); hand-worked cases write their derivation out.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from supplychain.api import simulate
from supplychain.importers.usgs_mcs import (
    computed_nir,
    import_usgs_mcs,
    load_catalogue,
    read_release,
    us_figures,
)
from supplychain.importers.usgs_mcs.figures import ASSUMED_SPLIT
from supplychain.importers.usgs_mcs.fragments import GAP_SPLIT
from supplychain.io import load
from supplychain.minerals import (
    atlas,
    atlas_html,
    atlas_markdown,
    bundled_release,
    controls_summary,
    controls_table,
    display_table,
    headline,
    headline_lines,
    sort_atlas,
)
from supplychain.minerals.chart import chart_rows, save_ranked_chart
from supplychain.minerals.headline import USGS_FULLY, USGS_MORE_THAN_HALF
from supplychain.simulation.calendar import months_in_force

REPO = Path(__file__).resolve().parent.parent
WORLD = REPO / "scenarios" / "world" / "minerals"
CONTROLS = REPO / "scenarios" / "china_controls_all_minerals.yaml"


@pytest.fixture(scope="module")
def release():
    files = sorted({s.salient.file for s in load_catalogue().commodities.values() if s.salient})
    return read_release(bundled_release(), salient_files=files)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return atlas()


# ---------------------------------------------------------- net import reliance
def test_hand_worked_nir_cobalt(release):
    """Cobalt 2024 (mcs2025-cobal_salient.csv row 6).

    P = secondary 2,000 t (US mine output leaves as concentrate and is not in apparent consumption),
    I = 11,000 t, E = 4,500 t, C = 8,500 t (apparent consumption).
    Stock change implied: ΔS = C − (P + I − E) = 8,500 − (2,000 + 11,000 − 4,500) = 0.
    NIR = (I − E + ΔS) / C = 6,500 / 8,500 = 0.764706 — USGS prints 76.
    """
    nir = computed_nir(us_figures(release, load_catalogue().commodities["cobalt"]))
    assert nir.value == pytest.approx(6_500 / 8_500)
    assert nir.stock_change == pytest.approx(0.0)
    assert round(nir.value * 100) == 76


def test_hand_worked_nir_antimony(release):
    """Antimony 2024 (mcs2025-antim_salient.csv row 6).

    P = mine 0 + secondary smelter 3,500 = 3,500 t (primary smelter output, W, refines imports);
    I = ore 310 + oxide 20,000 + unwrought 4,100 + articles 330 + scrap 17 = 24,757 t;
    E = 0 + 2,200 + 1,500 + 79 + 53 = 3,832 t; C = 24,000 t.
    ΔS = 24,000 − (3,500 + 24,757 − 3,832) = −425 t (stock built).
    NIR = (24,757 − 3,832 − 425) / 24,000 = 20,500 / 24,000 = 0.854167 — USGS prints 85.
    """
    nir = computed_nir(us_figures(release, load_catalogue().commodities["antimony"]))
    assert nir.stock_change == pytest.approx(-425.0)
    assert nir.value == pytest.approx(20_500 / 24_000)
    assert nir.method == "(C - P) / C"


def test_nir_without_published_production_uses_net_imports(release):
    """Titanium sponge 2024: P withheld; I = 40,000 t, E = 90 t, C = 40,000 t → (40,000 − 90) / 40,000."""
    nir = computed_nir(us_figures(release, load_catalogue().commodities["titanium"]))
    assert nir.value == pytest.approx(39_910 / 40_000)
    assert nir.method.startswith("(I - E) / C (production W")


# ------------------------------------------------------------------ the atlas
def test_atlas_has_every_listed_mineral(table):
    assert len(table) == 60
    assert (table["list"] == "2022").sum() == 50
    assert set(table.loc[table["usgs_commodity"] == "rare_earths", "mineral"]) == {
        "cerium", "dysprosium", "erbium", "europium", "gadolinium", "holmium", "lanthanum", "lutetium",
        "neodymium", "praseodymium", "samarium", "terbium", "thulium", "ytterbium"}


def test_china_shares_and_ranks(table):
    t = table.set_index("mineral")
    assert t.at["gallium", "china_world_share"] == pytest.approx(750_000 / 760_000)
    assert t.at["neodymium", "china_world_share"] == pytest.approx(270_000 / 390_000)
    assert t.at["lithium", "china_world_share"] == pytest.approx(41_000 / 240_000)
    assert "excludes US" in t.at["lithium", "china_world_note"]
    assert t.at["antimony", "china_import_rank"] == 1
    assert t.at["gallium", "china_import_rank"] == 2
    assert pd.isna(t.at["indium", "china_import_rank"])
    assert t.at["neodymium", "china_import_share"] == pytest.approx(0.70)
    assert t.at["neodymium", "china_import_share_basis"] == "chapter"
    assert t.at["antimony", "china_import_share_basis"] == "assumption: ranked split"


def test_published_nir_comes_from_t5_then_fig2(table):
    t = table.set_index("mineral")
    assert t.at["aluminum", "nir_published"] == ">75"  # T5 gives aluminum as bauxite
    assert t.at["aluminum", "nir_published_from"] == "MCS2025_T5_Critical_Minerals_Salient.csv row 2"
    assert t.at["copper", "nir_published"] == "45"  # not in T5: Fig2
    assert "says 94" in t.at["potash", "notes"]


def test_sorting(table):
    by_nir = sort_atlas(table, "nir")
    values = by_nir["nir_computed"].fillna(by_nir["nir_published_value"])
    assert values.dropna().is_monotonic_decreasing
    assert by_nir["china_world_share"].notna().any()
    with pytest.raises(ValueError, match="unknown sort key 'size'"):
        sort_atlas(table, "size")


# ------------------------------------------------------------------ headline
def test_counts_equal_the_published_ones(table):
    h = headline(table)
    assert h.listed == 50
    assert h.fully_published == USGS_FULLY.value == 12
    assert h.more_than_half_published - h.fully_published == USGS_MORE_THAN_HALF.value == 28
    fully = set(table.loc[(table["list"] == "2022") & (table["nir_class_published"] == "100%"), "mineral"])
    assert fully == {"arsenic", "cesium", "fluorspar", "gallium", "graphite", "indium", "manganese", "niobium",
                     "rubidium", "scandium", "tantalum", "yttrium"}


def test_recomputed_counts_and_their_differences_explained(table):
    """Recomputed where the figures allow: fluorspar and yttrium lack US production (NA), so (I − E) / C with no
    stock change gives 98.8 % and 93.4 %, not 100 %; titanium sponge's production is withheld and (I − E) / C
    gives 99.8 %, which rounds to 100 % where USGS prints '>95'. Net: 12 − 2 + 1 = 11 fully reliant."""
    h = headline(table)
    assert h.fully == 11
    assert h.more_than_half == h.more_than_half_published == 40
    assert [d.split(":")[0] for d in h.differences] == ["Fluorspar", "Titanium", "Yttrium"]
    assert all("production NA" in d or "production W" in d for d in h.differences)
    assert h.unknown == ("hafnium", "iridium", "rhodium", "ruthenium")


def test_headline_says_which_claim_the_data_supports(table):
    lines = headline_lines(headline(table))
    assert "'of 50 minerals officially rated critical, 30 are imported entirely': NOT supported" in lines[2]
    assert "about 80 % of its strategic metals': supported" in lines[3]
    assert "40 of 50 = 80%" in lines[3]


# ---------------------------------------------------------- chart and render
def test_chart_one_bar_per_usgs_commodity(table, tmp_path):
    rows = chart_rows(table)
    assert (rows["label"] == "Rare earths (14 lanthanides) [mine]").sum() == 1
    assert rows["value"].is_monotonic_decreasing
    assert not rows.set_index("commodity").at["tungsten", "recomputed"]  # withheld: published bound drawn
    svg = save_ranked_chart(table, tmp_path / "atlas.svg").read_text()
    assert svg.lstrip().startswith("<?xml")
    assert save_ranked_chart(table, tmp_path / "atlas.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        save_ranked_chart(table, tmp_path / "atlas.pdf")


def test_render_marks_assumed_shares(table):
    shown = display_table(table).set_index("mineral")
    assert shown.at["Antimony", "China's rank in US imports"] == "1 (59.7%*)"
    assert shown.at["Rare earths (14 lanthanides)", "China's rank in US imports"] == "1 (70.0%)"
    md = atlas_markdown(table)
    assert md.startswith("## Critical minerals: US import reliance and China (USGS MCS 2025)")
    assert "RANKED-SOURCE SPLIT" in md
    html = atlas_html(table)
    assert html.startswith('<section class="atlas">')
    assert "<svg" in html
    assert "http" not in html.split("<svg", 1)[0]  # no external resources before the inline chart


def test_cli_atlas(run_cli, tmp_path):
    out = run_cli("atlas", "--sort", "nir", "--chart", tmp_path / "a.svg", "--output", tmp_path / "a.csv")
    assert out.returncode == 0, out.stderr
    assert "fully import-reliant in 2024 for 11 and more than half for 40" in out.stdout
    assert pd.read_csv(tmp_path / "a.csv").shape == (60, 26)
    bad = run_cli("atlas", "--sort", "size")
    assert bad.returncode == 1
    assert "--sort must be one of" in bad.stderr


# ------------------------------------------------------------ generated world
def test_bundled_world_is_a_fresh_import(tmp_path):
    result = import_usgs_mcs(bundled_release(), tmp_path / "minerals")
    fresh = {p.name: p.read_bytes() for p in (tmp_path / "minerals").iterdir()}
    committed = {p.name: p.read_bytes() for p in WORLD.iterdir()}
    assert fresh == committed, "scenarios/world/minerals is stale: run `supplychain import usgs-mcs " \
        "supplychain/data/usgs_mcs2025 --output scenarios/world/minerals`"
    assert len(result.fragments) == 37


def test_generated_notes_write_amounts_in_plain_digits():
    """Review s33 F17: the gap notes read "consumption 1.66e+06 t" (``f"{x:,.6g}"``); plain digits now.

    Copper 2020 (mcs2025-coppe_salient.csv row 2, kt × 1,000 = t): consumption 1,660 kt, production
    1,076 kt, recorded imports 678 kt, exports 424 kt: gap = 1,660 − (1,076 + 678 − 424) = 330 kt.
    The world total 2024 in the header (72 Mt of aluminium) was "7.2e+07" the same way.
    (test_bundled_world_is_a_fresh_import keeps these files the importer's output.)
    """
    copper = (WORLD / "copper.yaml").read_text(encoding="utf-8")
    assert ("computed: consumption 1,660,000 t (mcs2025-coppe_salient.csv row 2, Consump_Apparent_kt) less "
            "production 1,076,000 t") in copper
    assert "= 330,000 t, 19.9% of consumption" in copper  # 330 / 1,660 = 19.88 %
    assert "world total 2024 72,000,000." in (WORLD / "aluminum.yaml").read_text(encoding="utf-8")
    for path in WORLD.glob("*.yaml"):
        assert not re.search(r"\de[+-]\d", path.read_text(encoding="utf-8")), path.name


@pytest.mark.parametrize("fragment", sorted(p.name for p in WORLD.glob("*.yaml")
                                            if p.name not in ("minerals.yaml", "sources.yaml")))
def test_every_generated_fragment_validates(fragment, tmp_path):
    for name in ("sources.yaml", fragment):
        (tmp_path / name).write_bytes((WORLD / name).read_bytes())
    scenario = tmp_path / "one.yaml"
    scenario.write_text(f"extends: [sources.yaml, {fragment}]\n"
                        "scenario: {name: one, base_year: 2024}\nregions: {ROW: {name: rest of the world}}\n")
    s = load(scenario, require_sources=True)
    assert len(s.commodities) == 1
    for iid, imp in s.imports.items():
        # recorded imports: a chapter's percentages or the ranked split; a supply gap's record: its own split
        flag = GAP_SPLIT if iid.endswith("_unrecorded") else ASSUMED_SPLIT
        for share in [*imp.partners.values(), *imp.remainder_split.values()]:
            assert share.source is not None or share.assumption.startswith(flag)


def test_withheld_figures_are_listed_not_invented():
    coverage = (WORLD / "coverage.md").read_text()
    assert "US production 2024 W (mcs2025-tungs_salient.csv row 6, USprod_Mine_t + USprod_Secondary_t)" in coverage
    assert "| 2022 | Cesium | — | no production or trade figures" in coverage
    tungsten = load(CONTROLS)
    assert "tungsten_us" not in tungsten.facilities
    assert "us_tungsten" not in tungsten.demand


# ------------------------------------------------------- controls scenario
@pytest.fixture(scope="module")
def controls() -> pd.DataFrame:
    return controls_table(CONTROLS, variants=["base", "no_controls"])


def test_controls_scenario_runs_in_both_modes(controls):
    assert set(controls["mode"]) == {"fixed", "rebalance"}
    assert set(controls["year"]) == {2024, 2025}
    none = controls[controls["variant"] == "no_controls"]
    assert (none["shortfall"].abs() < 1e-6).all()  # the 2024 pattern held, nothing blocked
    base = controls[controls["variant"] == "base"]
    short = base[(base["year"] == 2025) & (base["shortfall_share"] > 1e-9)]
    # tungsten: the US has no given demand (its consumption is withheld), so what it imports goes to its
    # surplus node, which is not demand: a ban cuts that surplus and leaves no user short
    assert {"antimony", "bismuth", "gallium", "rare_earths"} <= set(short["commodity"])
    assert "tungsten" not in set(short["commodity"])
    fixed = controls_summary(controls, 2025)
    fixed = fixed[fixed["note"] == ""]  # tellurium and tungsten: not evaluated (tests/test_withheld_minerals.py)
    assert (fixed["shortfall_share_rebalance"] <= fixed["shortfall_share_fixed"] + 1e-9).all()


def test_base_year_is_the_observed_year(controls):
    """2024 is observed: a measure in force during it (Nos. 33 and 46 of 2024) is in its figures, not applied again.

    So the base variant (controls on) and ``no_controls`` read the same 2024 in both responses, row by row,
    with no shortfall; the measures act from 2025-01-01 (world/china_controls_minerals.yaml, header).
    """
    cols = ["mode", "commodity", "demand", "shortfall", "direct_import_share", "traced_share"]
    y = controls[(controls["year"] == 2024) & (controls["note"] == "")]  # without the not-evaluated rows
    base = y[y["variant"] == "base"][cols].reset_index(drop=True)
    none = y[y["variant"] == "no_controls"][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(base, none)
    assert (base["shortfall"].abs() < 1e-6).all()
    s = load(CONTROLS)
    assert {p.start for k, p in s.policies.items()
            if k in ("cn_no33_2024_antimony", "cn_no46_2024_us_ban")} == {dt.date(2025, 1, 1)}


def test_gallium_shortfall_hand_worked(controls):
    """Gallium, fixed response, documented controls (No. 46 clause 2: no gallium to the US).

    2024, China's deliveries to the US: imports 11,000 kg, China's share 0.149268 (rank 2 of 4,
    RANKED-SOURCE SPLIT) → 1,641.95 kg direct. US demand 19,000 kg, no US output, exports NA → a gap of
    8,000 kg, written as the import record us_gallium_2024_unrecorded with China's share at its central
    value, the recorded 0.149268 → 1,194.14 kg (before that record the allocation rule gave China
    7,904.93 kg of it, pro rata to the producers' spare output); together 19,000 × 0.149268 = 2,836.09 kg.
    No shortfall in 2024 (the observed year: the ban of 2024-12-03 is in its figures).
    In 2025 China's deliveries to the US, B, are the baseline tonnes of its two edges that year (the 2025
    import records hold 2024's, and 2025's production and demand are 2024's, so B = 2,836.09 kg again);
    the ban is modelled from 2025-01-01 to 2025-11-08: 10 + 8/30 months, φ = 10.266667 / 12 = 0.855556; the
    US has no other use to share the loss, so shortfall = φ B = 2,426.43 kg, 12.77 % of 19,000 kg (was
    8,167.89 kg, 43.0 %, with the allocated gap).
    """
    s = load(CONTROLS)
    total = s.imports["us_gallium_2024"].total.central
    share = s.imports["us_gallium_2024"].partners["CN"].central
    gap = s.imports["us_gallium_2024_unrecorded"]
    assert gap.total.central == s.demand["us_gallium"].tonnes.central - total == 8000
    assert gap.partners["CN"].central == share
    direct = (total + gap.total.central) * share
    assert direct == pytest.approx(2836.09, abs=0.01)
    run = simulate(s, mode="fixed", years=[2024, 2025])
    f = run.flows
    cn_us = f[(f["commodity"] == "gallium") & (f["supplier_country"] == "CN") & (f["buyer_country"] == "US")]
    assert cn_us[cn_us["year"] == 2024]["baseline"].sum() == pytest.approx(direct, rel=1e-9)
    assert not (f[(f["commodity"] == "gallium") & (f["buyer_country"] == "US")]["entity"] == "allocation").any()
    phi = months_in_force(dt.date(2025, 1, 1), dt.date(2025, 11, 8), 2025) / 12
    assert phi == pytest.approx((10 + 8 / 30) / 12)
    expected = phi * cn_us[cn_us["year"] == 2025]["baseline"].sum()
    row = controls[(controls["mode"] == "fixed") & (controls["variant"] == "base")
                   & (controls["commodity"] == "gallium")].set_index("year")
    assert float(row.at[2024, "shortfall"]) == pytest.approx(0.0, abs=1e-6)
    assert float(row.at[2025, "shortfall"]) == pytest.approx(expected, rel=1e-6)
    assert cn_us[cn_us["year"] == 2025]["baseline"].sum() == pytest.approx(direct, rel=1e-9)
    assert expected == pytest.approx(0.855556 * 2836.09, abs=0.1)  # 2,426.43 kg, test_cli_atlas_controls_section
    rebalance = controls[(controls["mode"] == "rebalance") & (controls["variant"] == "base")
                         & (controls["year"] == 2025) & (controls["commodity"] == "gallium")]
    assert math.isclose(float(rebalance["shortfall"].iloc[0]), 0.0, abs_tol=1e-6)  # China's spare capacity


def test_no57_reaches_the_rare_earth_aggregate_at_its_declared_share():
    """No. 57 (Ho, Er, Tm, Eu, Yb) blocks only its declared 1 % of the 16-element aggregate; No. 58 all graphite.

    Both return 2026-11-10 (toggle cn_suspensions_end) as licences approving 75 % after a 2-month delay, so
    licences flow from 2027-01-10: in 2027 the delay is 9 of January's 31 days, d = (9/31)/12 = 0.0241935,
    and the blocked share of a covered flow is d × 1 + (1 − d) × (1 − 0.75) = 0.2681452. On China's rare-earth
    export to the US it is 0.01 × 0.2681452 = 0.0026815 (before the coverage share: 0.268, a 20.9 % US
    shortfall); on its graphite export to the US the whole 0.2681452.
    """
    s = load(CONTROLS)
    no57 = s.policies["cn_no57_2025_resumed"]
    share = no57.covers.coverage["rare_earths"].central
    assert share == pytest.approx(0.01)
    d = (9 / 31) / 12
    blocked = d + (1 - d) * (1 - 0.75)
    assert blocked == pytest.approx(0.2681452, abs=1e-7)
    run = simulate(s, variant="no_controls", toggles={"cn_suspensions_end": True}, mode="fixed", years=[2027])
    f = run.flows
    cn_us = f[(f["supplier_country"] == "CN") & (f["buyer_country"] == "US") & (f["kind"] == "trade")]
    by = cn_us.groupby("commodity")["blocked_share"]
    assert by.min()["rare_earths"] == pytest.approx(share * blocked, rel=1e-9)
    assert by.max()["rare_earths"] == pytest.approx(share * blocked, rel=1e-9)
    assert by.min()["graphite"] == pytest.approx(blocked, rel=1e-9)  # its direct and allocated edges alike
    assert by.max()["graphite"] == pytest.approx(blocked, rel=1e-9)
    short = run.shortfall
    us = short[(short["country"] == "US") & (short["commodity"] == "rare_earths")]
    assert 0 < float(us["shortfall_share"].iloc[0]) < share * blocked  # at most the blocked part of China's share


def test_traced_share_prefers_the_rare_earth_chain_and_marks_assumed_splits():
    t = atlas(scenarios=[CONTROLS, REPO / "scenarios" / "baseline_2024.yaml"]).set_index("mineral")
    assert t.at["neodymium", "traced_from"] == "baseline_2024.yaml: ree_compounds 2024"  # the chain, not one stage
    # not in the minerals world; US imports split by USGS's ranked sources in the rare-earth world too
    assert t.at["germanium", "traced_from"] == "baseline_2024.yaml: germanium 2024; RANKED-SOURCE SPLIT assumed"
    assert t.at["gallium", "traced_from"].endswith("gallium 2024; RANKED-SOURCE SPLIT assumed")
    assert t.at["gallium", "traced_share"] > t.at["gallium", "china_import_share"]  # re-exports from Japan count
    assert math.isnan(t.at["cesium", "traced_share"])


def test_cli_atlas_controls_section(run_cli, tmp_path):
    out = run_cli("atlas", "--controls", CONTROLS, "--output", tmp_path / "a.md")
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "a.md").read_text()
    assert "**China's export controls across all critical minerals, variant base, 2025" in text
    # gallium, 2025: the fixed response's shortfall (2,426.43 kg of 19,000 kg, the 2024 pattern carried to
    # 2025 with the ban in force 10 + 8/30 months) against none when re-routed
    controls = text.split("**China's export controls", 1)[1]  # the atlas table above has a Gallium row too
    row = next(line for line in controls.splitlines() if line.startswith("| Gallium |"))
    fixed = controls_table(CONTROLS, variants=["base"])
    g = fixed[(fixed["mode"] == "fixed") & (fixed["year"] == 2025) & (fixed["commodity"] == "gallium")]
    assert row.startswith(f"| Gallium | {100 * float(g['shortfall_share'].iloc[0]):.1f}% | 0% |")
    bad = run_cli("atlas", "--controls", CONTROLS, "--toggle", "nope=on")
    assert bad.returncode == 1
    assert "unknown toggle 'nope'" in bad.stderr
