"""The bundled world's gallium and germanium: every US figure comes from the copied USGS rows.

``scenarios/world/data/usgs_mcs2025_ga_ge_us.csv`` copies, with file, line and column,
the MCS 2025 data-release cells the two chains use (US imports and their ranked
sources, US consumption, world capacities). These tests check each copied cell against
the byte-exact release in ``supplychain/data/usgs_mcs2025/`` and each scenario figure
against the copy.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from supplychain.graph.build import capacity_in_year
from supplychain.graph.layout import year_layout
from supplychain.importers.usgs_mcs.figures import RANKED_LISTED_SHARE, ranked_split
from supplychain.io import load
from supplychain.schema.model import Scenario
from supplychain.uncertainty import run_sweep

REPO = Path(__file__).resolve().parent.parent
COPY = REPO / "scenarios" / "world" / "data" / "usgs_mcs2025_ga_ge_us.csv"
RELEASE = REPO / "supplychain" / "data" / "usgs_mcs2025"
EU_MEMBERS = {"BE", "DE"}
"""Import partners that are members of the world's EU region node."""


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load(REPO / "scenarios" / "baseline_2024.yaml", require_sources=True)


@pytest.fixture(scope="module")
def copy() -> pd.DataFrame:
    return pd.read_csv(COPY, dtype={"line": str, "as_read": str}, keep_default_na=False, na_values={"value": [""]})


def _release_cell(file: str, line: int, column: str) -> str:
    """The cell of a release file at a 1-based line (the header is line 1), as printed."""
    path = next(RELEASE.rglob(file))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[line - 1][rows[0].index(column)].strip()


def _ranks(copy: pd.DataFrame, commodity: str) -> tuple[str, ...]:
    r = copy[(copy["commodity"] == commodity) & (copy["figure"].str.startswith("US import source rank"))]
    return tuple(r.sort_values("value")["country"])


def _one(copy: pd.DataFrame, commodity: str, column: str, period: str, country: str = "US") -> float:
    r = copy[(copy["commodity"] == commodity) & (copy["column"] == column) & (copy["period"] == period)
             & (copy["country"] == country)]
    assert len(r) == 1, (commodity, column, period, country)
    return float(r["value"].iloc[0])


def test_every_copied_release_cell_is_as_printed(copy: pd.DataFrame, baseline: Scenario) -> None:
    in_release = copy[copy["file"].str.endswith(".csv")]
    assert len(in_release) >= 25
    for row in in_release.itertuples():
        assert _release_cell(str(row.file), int(row.line), str(row.column)) == row.as_read, row
        if row.unit != "rank" and row.as_read not in ("NA", ">50"):
            assert float(row.as_read) == row.value, row
    # ranks: the country's place in the printed list
    names = {"JP": "Japan", "CN": "China", "DE": "Germany", "CA": "Canada", "BE": "Belgium"}
    for row in copy[copy["unit"] == "rank"].itertuples():
        assert str(row.as_read).split(", ")[int(row.value) - 1] == names[str(row.country)], row
    assert set(copy["source"]) <= set(baseline.sources), set(copy["source"]) - set(baseline.sources)


@pytest.mark.parametrize(("commodity", "imports", "scale"), [
    ("gallium", "us_gallium_2024", 1.0),        # kg Ga in the world as in the release
    ("germanium", "us_germanium_2024", 1e-3),   # kg Ge in the release, t Ge in the world
])
def test_us_imports_follow_the_ranked_sources(copy: pd.DataFrame, baseline: Scenario, commodity: str,
                                              imports: str, scale: float) -> None:
    imp = baseline.imports[imports]
    assert (imp.importer, imp.commodity, imp.year, imp.remainder_to) == ("US", commodity, 2024, "ROW")
    # total: the salient file's 2024 imports (germanium: metal + dioxide in Ge content)
    columns = ["Imports_Metal_kg"] + (["Imports_GeO2_kg"] if commodity == "germanium" else [])
    assert imp.total.central == pytest.approx(scale * sum(_one(copy, commodity, c, "2024") for c in columns))
    # shares: the ranked split of Fig2's list, of 85 % (no share given) or of the chapter's ">94 %" (germanium)
    given = copy[(copy["commodity"] == commodity) & (copy["unit"] == "share")]
    listed = float(given["value"].iloc[0]) if len(given) else RANKED_LISTED_SHARE
    expected: dict[str, float] = {}
    for code, share in ranked_split(_ranks(copy, commodity), listed=listed).items():
        key = "EU" if code in EU_MEMBERS else code
        expected[key] = expected.get(key, 0.0) + share
    assert {p: q.central for p, q in imp.partners.items()} == pytest.approx(expected, abs=1e-6)
    assert all(q.assumption and q.assumption.startswith("RANKED-SOURCE SPLIT") for q in imp.partners.values())


def test_china_is_third_of_the_us_germanium_sources_not_the_bulk(baseline: Scenario) -> None:
    # USGS ranks China third (Belgium, Canada, China, Germany): 0.94 / 9 / (1 + 1/4 + 1/9 + 1/16) = 7.34 %
    partners = baseline.imports["us_germanium_2024"].partners
    assert partners["CN"].central == pytest.approx(0.94 / 9 / (1 + 1 / 4 + 1 / 9 + 1 / 16), abs=1e-6)
    assert partners["CN"].central < partners["CA"].central < partners["EU"].central


@pytest.mark.parametrize(("facility", "commodity", "country"), [
    ("cn_gallium", "gallium", "CN"), ("jp_gallium", "gallium", "JP"),
    ("kr_gallium", "gallium", "KR"), ("ru_gallium", "gallium", "RU"),
    ("cn_germanium", "germanium", "CN"), ("ca_germanium", "germanium", "CA"),
    ("ru_germanium", "germanium", "RU"), ("eu_germanium", "germanium", "EU"),
])
def test_capacities_are_usgs_and_output_the_observed_level(copy: pd.DataFrame, baseline: Scenario, facility: str,
                                                          commodity: str, country: str) -> None:
    # the copy's units are the world's: kg Ga for gallium, t Ge for germanium (OFR Table 1.14)
    f = baseline.facilities[facility]
    cap = copy[(copy["commodity"] == commodity) & (copy["country"] == country)
               & copy["figure"].str.contains("capacity")]
    assert len(cap) == 1
    usgs = float(cap["value"].iloc[0])
    observed = f.production[2024].central
    assert capacity_in_year(f, 2024) == capacity_in_year(f, 2030) == pytest.approx(usgs)
    assert f.capacity is not None
    assert f.capacity.source is not None
    # output stays the observed level in later years: capacity x utilisation; the idle part is spare
    assert f.utilisation is not None
    assert usgs * f.utilisation.central == pytest.approx(observed, rel=1e-6)
    assert observed < usgs
    # output is the copy's production row (germanium: OFR 2024-1057 Table 1.14, 2022, its own source id)
    prod = copy[(copy["commodity"] == commodity) & (copy["country"] == country)
                & copy["figure"].str.startswith("primary production") & ~copy["figure"].str.contains("capacity")]
    assert len(prod) == 1
    assert observed == pytest.approx(float(prod["value"].iloc[0]))
    if commodity == "germanium":  # a 2022 table, cited under its own id (not the MCS 2025 chapter's)
        assert f.production[2024].source == prod["source"].iloc[0] == cap["source"].iloc[0] == "usgs_ofr2024_1057"


def test_us_germanium_consumption_is_usgs_latest_estimate(copy: pd.DataFrame, baseline: Scenario) -> None:
    demand = baseline.demand["us_germanium"]
    # 30,000 kg in 2020 and 2021, NA 2022-2024: the latest estimate (2021) held for 2024, in t
    assert demand.tonnes.central == pytest.approx(_one(copy, "germanium", "Consump_g", "2021") / 1000)
    assert copy[(copy["column"] == "Consump_g") & (copy["period"] == "2024")]["as_read"].tolist() == ["NA"]
    assert demand.tonnes.source == "usgs_mcs2025_salient_germa"
    # exports and the computed secondary residual: 30 - (33 - 7.32) = 4.32 t
    exports = baseline.flows["us_row_germanium_2024"].tonnes.central
    assert exports == pytest.approx((_one(copy, "germanium", "Exports_Metal_kg", "2024")
                                     + _one(copy, "germanium", "Exports_GeO2_kg", "2024")) / 1000)
    secondary = baseline.facilities["us_germanium_secondary"].production[2024].central
    imports = baseline.imports["us_germanium_2024"].total.central
    assert secondary == pytest.approx(demand.tonnes.central - (imports - exports))


def test_us_gallium_consumption_and_stage(copy: pd.DataFrame, baseline: Scenario) -> None:
    assert baseline.demand["us_gallium"].tonnes.central == _one(copy, "gallium", "Consump_kg", "2024")
    # low-purity primary gallium is a metal (as in the critical-minerals world), not an oxide
    assert baseline.commodities["gallium"].stage == "metal"


def test_us_gallium_gap_is_split_like_the_recorded_imports(copy: pd.DataFrame, baseline: Scenario) -> None:
    # the 8,000 kg consumed beyond the recorded metal imports (19,000 - 11,000) get China's
    # sampled share s, and the rest (1 - s) x 8,000 kg is split over JP, EU, CA, ROW in the
    # recorded split's proportions: at the central s = 0.149268 each partner has its recorded
    # share (JP 8,000 x 0.597073 = 4,776.6 kg); at s = 0.99 JP has 80 x 0.597073 / 0.850732 = 56.1 kg
    gap = baseline.imports["us_gallium_2024_unrecorded"]
    recorded = baseline.imports["us_gallium_2024"]
    assert gap.total.central == _one(copy, "gallium", "Consump_kg", "2024") - _one(copy, "gallium",
                                                                                  "Imports_Metal_kg", "2024")
    cn = gap.partners["CN"]
    assert list(gap.partners) == ["CN"]
    assert cn.central == recorded.partners["CN"].central
    # one upper-bound rule with the importer (minerals/gallium.yaml): China's 2024 primary output over the
    # rounded world total, 750,000 / 760,000 kg = 0.986842 (audit D-18; was the chapter's rounded 0.99)
    assert (cn.dist, cn.low) == ("triangular", 0.0)
    assert cn.high == pytest.approx(750_000 / 760_000, abs=1e-6)
    rest = {p: q.central for p, q in recorded.partners.items() if p != "CN"}
    rest["ROW"] = 1 - sum(q.central for q in recorded.partners.values())
    assert {p: q.central for p, q in gap.remainder_split.items()} == pytest.approx(rest, abs=1e-6)

    lay = year_layout(baseline, 2024)
    rows = {str(e): i for i, e in enumerate(lay.edges["edge"]) if str(e).startswith("imports.us_gallium_2024_unr")}
    q = np.tile(lay.central, (3, 1))
    q[1, lay.paths.index(("imports", "us_gallium_2024_unrecorded", "partners", "CN"))] = 0.99
    q[2, lay.paths.index(("imports", "us_gallium_2024_unrecorded", "partners", "CN"))] = 0.0
    tonnes = lay.evaluate(q).tonnes[:, list(rows.values())]
    got = [dict(zip((e.rsplit(".", 1)[1] for e in rows), t.tolist(), strict=True)) for t in tonnes]
    assert got[0]["JP"] == pytest.approx(8000 * 0.597073, abs=0.01)
    assert got[0]["CN"] == pytest.approx(8000 * 0.149268, abs=0.01)
    assert got[1]["CN"] == pytest.approx(7920.0)
    assert got[1]["JP"] == pytest.approx(80 * 0.597073 / 0.850732, abs=0.01)
    assert got[2]["CN"] == 0.0
    assert got[2]["JP"] == pytest.approx(8000 * 0.597073 / 0.850732, abs=0.01)
    assert [sum(g.values()) for g in got] == pytest.approx([8000.0] * 3)


def test_sampled_china_share_of_the_gallium_gap_in_a_sweep(baseline: Scenario) -> None:
    # exposure sweep of the import records only: the compiled path (which evaluates the
    # remainder split on a block of samples) equals the per-sample path, and the US direct
    # China share of gallium in 2024 is (recorded 11,000 x 0.149268 + 8,000 s) / 19,000
    kw: dict[str, Any] = {"samples": 12, "seed": 3, "mode": "exposure", "years": [2024], "countries": ["US"],
                          "commodities": ["gallium"], "parameters": ["imports.*"], "cache": False, "quiet": True}
    fast, slow = run_sweep(baseline, fast=True, **kw), run_sweep(baseline, fast=False, **kw)
    assert fast.info["fast_path"] == "used"
    np.testing.assert_allclose(np.asarray(fast.values, float), np.asarray(slow.values, float), atol=1e-12)
    s = fast.inputs["imports.us_gallium_2024_unrecorded.partners.CN"].to_numpy()
    assert s.min() < 0.149268 < s.max()
    col = fast.measures.reset_index(drop=True).index[fast.measures["metric"].to_numpy() == "direct_import_share"][0]
    np.testing.assert_allclose(np.asarray(fast.values, float)[:, col], (11000 * 0.149268 + 8000 * s) / 19000,
                               atol=1e-6)


# ------------------------------------------------------------------ review 7: idle capacity, traced share (G-6, G-2)
def _gallium_capacity_rows(copy: pd.DataFrame) -> pd.DataFrame:
    return copy[(copy["commodity"] == "gallium") & copy["figure"].str.startswith("primary production capacity")]


def test_gallium_capacities_are_every_usgs_row_and_sum_to_the_world_total(copy: pd.DataFrame,
                                                                           baseline: Scenario) -> None:
    # One rule for idle capacity (G-6): every 2024 capacity of MCS2025_World_Data.csv lines 371-375 is in the
    # world, "Other Countries" (line 375: DE, HU, KZ, UA) as a ROW aggregate with no output. Their sum,
    # 1,000,000 + 10,000 + 16,000 + 10,000 + 88,000 = 1,124,000 kg, rounds (two significant figures) to
    # USGS's "World total (rounded)" of line 376, 1,100,000 kg.
    rows = _gallium_capacity_rows(copy)
    countries = rows.loc[rows["country"] != "WORLD"].set_index("country")["value"]
    world = float(rows.loc[rows["country"] == "WORLD", "value"].iloc[0])
    gallium = {fid: f for fid, f in baseline.facilities.items() if f.output == "gallium"}
    by_country = {f.country: capacity_in_year(f, 2024) for f in gallium.values()}
    assert by_country == pytest.approx(countries.to_dict())
    total = sum(by_country.values())
    assert total == pytest.approx(1_124_000)
    assert float(f"{total:.2g}") == pytest.approx(world) == 1_100_000
    other = baseline.facilities["row_gallium_other"]
    assert other.production[2024].central == 0.0
    assert other.capacity is not None
    assert "line 375" in (other.capacity.note or "")


def _ban_all_destinations(tmp_path: Path) -> Path:
    path = tmp_path / "full_gage_ban.yaml"
    path.write_text(
        "extends: [bundled:baseline_2024]\n"
        "scenario: {name: full Ga/Ge ban, base_year: 2024, horizon: 2026}\n"
        "policies:\n"
        "  full_gage_ban:\n"
        "    type: export_ban\n"
        "    name: China stops all Ga/Ge exports (test stress)\n"
        "    country: CN\n"
        "    covers: {families: [gallium]}\n"
        "    start: 2025-01-01\n"
        "    source: mofcom_no46_2024\n", encoding="utf-8")
    return path


def test_full_gallium_ban_rebalance_shortfall_is_one_minus_non_chinese_capacity_over_demand(tmp_path: Path) -> None:
    # Hand-worked (G-6): China exports nothing from 2025; the rebalance response runs every non-Chinese plant
    # at capacity (JP 10,000 + KR 16,000 + RU 10,000 + Other Countries 88,000 = 124,000 kg) against the demand
    # outside China (US 19,000 + JP 60,000 + KR 15,000 + EU 20,000 + ROW 30,000 = 144,000 kg), and the max-min
    # rule leaves every buyer equally short: 1 - 124,000 / 144,000 = 0.138889. Without line 375 (main before
    # review 7) it was 1 - 36,000 / 144,000 = 0.75.
    from supplychain.api import simulate

    r = simulate(_ban_all_destinations(tmp_path), mode="rebalance")
    s = r.shortfall
    got = s.loc[s["year"].eq(2026) & s["commodity"].eq("gallium") & ~s["country"].eq("CN")]
    assert set(got["country"]) == {"US", "JP", "KR", "EU", "ROW"}
    np.testing.assert_allclose(got["shortfall_share"], 1 - 124_000 / 144_000, atol=1e-6)


def _us_gallium_traced(path: Path | str) -> float:
    from supplychain.api import simulate

    m = simulate(path, mode="fixed").measures
    row = m.loc[m["year"].eq(2024) & m["country"].eq("US") & m["commodity"].eq("gallium")
                & m["metric"].eq("traced_share") & (m["partner"].isna() | m["partner"].eq(""))]
    return float(row["value"].iloc[0])


def test_us_gallium_traced_share_depends_on_japans_demand(tmp_path: Path) -> None:
    # G-2: the US traced China share of gallium (96.8 %) is China's share of primary output passed through
    # importers: Japan's re-exports to the US carry Japan's mix of its own 3,000 kg and Chinese metal, so
    # with no Japanese demand of its own Japan's mix is less Chinese and the US share falls.
    path = tmp_path / "jp_zero.yaml"
    path.write_text("extends: [bundled:baseline_2024]\nscenario: {name: no Japanese gallium use, base_year: 2024}\n"
                    "demand:\n  jp_gallium:\n    country: JP\n    commodity: gallium\n    year: 2024\n"
                    "    quantity: {value: 0, assumption: test}\n", encoding="utf-8")
    central = _us_gallium_traced(REPO / "scenarios" / "baseline_2024.yaml")
    assert central == pytest.approx(0.968316, abs=1e-6)
    assert _us_gallium_traced(path) < central - 0.05


def test_traced_gallium_share_of_a_market_without_output_is_chinas_share_of_its_supply(baseline: Scenario) -> None:
    # G-2: the EU has no gallium output, so its traced China share is the Chinese part of what flows in
    # (China t = 1, Russia t = 0; any flow from a third market carries that market's share): with inflows
    # only from CN and RU, t(EU) = CN -> EU / (CN -> EU + RU -> EU).
    from supplychain.graph import build_tables
    from supplychain.metrics.measures import compute_measures

    _, edges = build_tables(baseline, 2024)
    into = edges.loc[edges["buyer"].eq("EU:gallium")]
    assert set(into["supplier"]) == {"CN:gallium", "RU:gallium"}
    cn = float(into.loc[into["supplier"].eq("CN:gallium"), "tonnes"].sum())
    m = compute_measures(baseline, 2024, source="CN")
    t_eu = m.loc[m["country"].eq("EU") & m["commodity"].eq("gallium") & m["metric"].eq("traced_share")
                 & (m["partner"].isna() | m["partner"].eq("")), "value"]
    assert float(t_eu.iloc[0]) == pytest.approx(cn / float(into["tonnes"].sum()), abs=1e-12)


def test_no46_is_stated_and_modelled_as_direct_exports_only() -> None:
    # G-4: the record gives No. 46 "extraterritorial (transshipment) reach"; the world models China's own
    # exports to the US only and says so in the policies and the toggles (printed by the report). Hand-worked:
    # with the ban back for a full year (path_to_2030 status_quo, 2027, fixed) the US loses exactly its direct
    # imports from China, 11,000 x 0.149268 + 8,000 x 0.149268 = 2,836.09 kg of 19,000 kg = 0.149268 (the
    # direct share), although 96.8 % of its gallium traces to China.
    from supplychain.api import simulate

    sc = load(REPO / "scenarios" / "path_to_2030.yaml", require_sources=True)
    for pid in ("cn_gage_us_ban_2024", "cn_gage_us_ban_resumed"):
        p = sc.policies[pid]
        assert p.partners.include == ["US"]
        assert "direct exports to the US only" in (p.assumption or "")
        assert "transshipment" in (p.assumption or "")
    for tid in ("cn_gage_us_ban", "cn_gage_us_ban_return"):
        assert "direct exports only" in (sc.toggles[tid].description or "")
    s = simulate(sc, variant="status_quo", mode="fixed").shortfall
    us = s.loc[s["year"].eq(2027) & s["country"].eq("US") & s["commodity"].eq("gallium")]
    assert float(us["shortfall"].sum()) == pytest.approx(19_000 * 0.149268, abs=0.01)
    assert float(us["shortfall_share"].iloc[0]) == pytest.approx(0.149268, abs=1e-6)
