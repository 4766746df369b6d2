"""The atlas says what each number measures: the commodity, the stage of world output, unlisted China,
estimated reliance, and the columns and notes that need a scenario or have no data.

Figures are read from the bundled USGS MCS 2025 release (``supplychain/data/usgs_mcs2025``): "World_Data
line N" is line N of ``world_data/MCS2025_World_Data.csv`` (the header is line 1); the salient files are
``salient/mcs2025-<x>_salient.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from supplychain.minerals import atlas, atlas_html, atlas_markdown, display_table
from supplychain.minerals.atlas import commodity_names, output_stage
from supplychain.minerals.chart import chart_rows
from supplychain.minerals.render import controls_display, display_notes
from supplychain.report.published import PUBLISHED_CHECKS

REPO = Path(__file__).resolve().parent.parent
CHINA = "China % of world (stage)"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return atlas()


@pytest.fixture(scope="module")
def shown(table: pd.DataFrame) -> pd.DataFrame:
    return display_table(table).set_index("mineral")


# ------------------------------------------------------------------ 1. aluminum is bauxite
def test_aluminum_is_shown_as_bauxite_with_the_metal_share_beside_it(table, shown):
    """The 2022 list's aluminum is measured as bauxite (T5 row 2): China's share is of bauxite mine output,
    World_Data line 116 (China, 93,000 kt) over line 132 (world total, rounded, 450,000 kt, 'Excludes U.S.
    production') = 20.67 %. Aluminum metal, smelter production: line 37 (China, 43,000 kt) over line 45 (world
    total 72,000 kt) = 59.72 %."""
    t = table.set_index("mineral")
    assert t.at["aluminum", "usgs_commodity"] == "bauxite"
    assert t.at["aluminum", "usgs_name"] == "Bauxite (mine production, dry weight)"
    assert t.at["aluminum", "china_world_share"] == pytest.approx(93_000 / 450_000)
    assert "aluminum metal, smelter output: China 59.7%" in t.at["aluminum", "china_world_note"]
    assert f"{43_000 / 72_000:.1%}" == "59.7%"
    assert shown.at["Aluminum (as bauxite)", CHINA] == "20.7% (mine, ex-US)"
    notes = display_notes(table)
    assert any(n.startswith("Aluminum (as bauxite): the list's Aluminum is measured as Bauxite") and "59.7%" in n
               for n in notes)
    assert "Aluminum (as bauxite) [mine, ex-US]" in set(chart_rows(table)["label"])
    md = atlas_markdown(table)
    assert "| Aluminum (as bauxite) | 2022 |" in md
    assert "aluminum metal, smelter output: China 59.7%" in md


# ------------------------------------------------------------------ 2. the stage of world output
def test_every_world_share_names_its_stage(table, shown):
    """Copper's share is of refinery output (World_Data line 302, China 12,000 kt, over line 316, 27,000 kt =
    44.44 %); nickel's of mine output (line 728, 120,000 t, over line 734, 3,700,000 t = 3.24 %); gallium's of
    primary (low-purity metal) production; titanium's of sponge metal."""
    t = table.set_index("mineral")
    assert t.at["copper", "china_world_share"] == pytest.approx(12_000 / 27_000)
    assert t.at["copper", "china_world_stage"] == "refinery"
    assert t.at["copper", "china_world_series"] == "Refinery production, copper"
    assert t.at["nickel", "china_world_share"] == pytest.approx(120_000 / 3_700_000)
    assert t.at["nickel", "china_world_stage"] == "mine"
    assert t.at["gallium", "china_world_stage"] == "primary metal"
    assert t.at["titanium", "china_world_stage"] == "sponge metal"
    assert shown.at["Copper", CHINA] == "44.4% (refinery)"
    assert shown.at["Nickel", CHINA] == "3.2% (mine)"
    # every row with a world share names a stage, in the table, the chart and the CSV columns
    with_share = table[table["china_world_share"].notna()]
    assert (with_share["china_world_stage"] != "").all()
    assert all("(" in shown.at[n, CHINA] for n in shown.index if shown.at[n, CHINA] != "—")
    labels = set(chart_rows(table)["label"])
    assert {"Copper [refinery]", "Nickel [mine]", "Gallium [primary metal]"} <= labels
    assert "| Copper | 2025 | 42.2% | 45 | 44.4% (refinery) |" in atlas_markdown(table)


def test_output_stage_reads_the_series_names():
    assert output_stage(["Mine production, cobalt content, estimated", "Mine production, estimated"]) == "mine"
    assert output_stage(["Smelter production, aluminum"]) == "smelter"
    assert output_stage(["Magnesium smelter production"]) == "smelter"
    assert output_stage(["Plant production, Ferrosilicon, silicon content", "Plant production, silicon metal"]) \
        == "plant"
    assert output_stage(["Primary and secondary refinery production"]) == "refinery"
    assert output_stage(["Sponge Metal Production"]) == "sponge metal"


# ------------------------------------------------------------------ 3. China not listed
def test_china_not_listed_is_not_a_zero_share(table, shown):
    """Cobalt's world rows (World_Data lines 265–278) list no China: Chinese mine output, if any, is inside
    'Other countries' (line 277, 6,200 t). Its share is unknown, not 0 %; the same for chromium, niobium,
    palladium and platinum."""
    t = table.set_index("mineral")
    unlisted = set(t.index[t["china_listed"].eq(False)])
    assert unlisted == {"chromium", "cobalt", "niobium", "palladium", "platinum"}
    assert math.isnan(t.at["cobalt", "china_world_share"])
    assert "not listed" in t.at["cobalt", "china_world_note"]
    assert shown.at["Cobalt", CHINA] == "n/l (mine)"
    assert not any(v.startswith("0%") for v in shown[CHINA])
    assert any(n.startswith("n/l: not listed") for n in display_notes(table))
    rows = chart_rows(table).set_index("commodity")
    assert rows.at["cobalt", "label"] == "Cobalt [mine, China n/l]"
    assert math.isnan(rows.at["cobalt", "china"])  # no dot drawn
    assert t.at["nickel", "china_listed"] is True  # listed (line 728) and small, 3.2 %


# ------------------------------------------------------------------ 4. withheld production
def test_reliance_resting_on_a_withheld_figure_is_marked_an_estimate(table, shown):
    """Titanium sponge 2024 (mcs2025-titan_salient.csv row 6): production W, imports 40,000 t, exports 90 t,
    apparent consumption 40,000 t; (I − E) / C = 39,910 / 40,000 = 99.775 % with the stock change taken as 0.
    USGS publishes '>95'. Fluorspar (mcs2025-fluor_salient.csv row 6): production NA, imports 440 kt, exports
    15, consumption 430: 425 / 430 = 98.84 %."""
    t = table.set_index("mineral")
    assert t.at["titanium", "nir_computed"] == pytest.approx(39_910 / 40_000)
    assert t.at["fluorspar", "nir_computed"] == pytest.approx(425 / 430)
    estimated = set(t.index[t["nir_computed_estimate"]])
    assert estimated == {"fluorspar", "titanium", "yttrium"}
    assert shown.at["Titanium", "NIR recomputed"] == "≈100%†"
    assert shown.at["Titanium", "NIR published"] == ">95"
    assert shown.at["Fluorspar", "NIR recomputed"] == "≈99%†"
    assert shown.at["Cobalt", "NIR recomputed"] == "76.5%"  # production published: a figure, no mark
    assert any(n.startswith("≈ … †: US production withheld (W) or not available (NA)") for n in display_notes(table))
    assert chart_rows(table).set_index("commodity").at["titanium", "label"].startswith("Titanium†")


# ------------------------------------------------------------------ 5. cosmetic
def test_traced_column_only_with_a_scenario(table):
    assert "traced China share" not in display_table(table).columns
    assert any("needs a scenario" in n for n in display_notes(table))
    traced = atlas(scenarios=[REPO / "scenarios" / "baseline_2024.yaml"])
    assert "traced China share" in display_table(traced).columns
    assert not any("needs a scenario" in n for n in display_notes(traced))
    assert "needs a scenario" in atlas_html(table, chart=False)


def test_fuels_say_why_they_are_blank(shown):
    for name in ("Metallurgical coal", "Uranium"):
        assert shown.at[name, "note"] == "not in the Mineral Commodity Summaries (a fuel)"


def test_controls_table_uses_the_atlas_names():
    summary = pd.DataFrame({"commodity": ["rare_earths", "gallium", "bauxite", "molybdenum", "ree_compounds"],
                            "shortfall_share_fixed": [0.1, 0.2, 0.0, 0.0, 0.0]})
    assert controls_display(summary)["mineral"].tolist() == [
        "Rare earths (14 lanthanides)", "Gallium", "Aluminum (as bauxite)",
        "Molybdenum (mine production, molybdenum content)", "ree_compounds"]
    assert commodity_names()["graphite"] == "Graphite (natural)"


def test_gallium_share_one_rule_in_atlas_and_published_check(table):
    """One rule: China's row over USGS's published (rounded) world total. Gallium: World_Data line 371 (China,
    750,000 kg) over line 376 (world total, rounded, 760,000 kg) = 98.68 %; the sum of the country rows would
    be 762,000 kg (98.43 %), which is the model's world. The published check quotes the same 98.7 %."""
    share = float(table.set_index("mineral").at["gallium", "china_world_share"])
    assert share == pytest.approx(750_000 / 760_000)
    check = next(c for c in PUBLISHED_CHECKS if c.id == "g_china_gallium_share")
    assert check.published == pytest.approx(share)
    assert f"{share:.1%}" == "98.7%"
