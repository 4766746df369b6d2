"""The USGS MCS 2025 importer: every defect of the release handled, on fixtures cut from the real files.

The fixture folder ``tests/data/usgs_mcs2025`` keeps the release's layout and bytes
(BOM, CRLF); its README says which lines of which file were cut. Line numbers in
the assertions are lines of the fixture files (the header is line 1).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from supplychain.errors import ScenarioError
from supplychain.graph import build_tables
from supplychain.graph.balance import market_balance
from supplychain.importers.usgs_mcs import (
    Catalogue,
    computed_nir,
    import_usgs_mcs,
    load_catalogue,
    read_release,
    us_figures,
    world_figures,
)
from supplychain.importers.usgs_mcs.cells import parse_cell
from supplychain.importers.usgs_mcs.release import unit_factor
from supplychain.importers.usgs_mcs.table import read_table
from supplychain.io import load
from supplychain.minerals.atlas import published_nir

FIXTURE = Path(__file__).parent / "data" / "usgs_mcs2025"
WORLD = FIXTURE / "world_data" / "MCS2025_World_Data.csv"
FIXTURE_COMMODITIES = ("antimony", "gallium", "lithium", "magnesium", "beryllium")


def _subset(*ids: str) -> Catalogue:
    full = load_catalogue()
    return Catalogue(sources=full.sources, commodities={c: full.commodities[c] for c in ids},
                     minerals=tuple(m for m in full.minerals if m.commodity in ids))


@pytest.fixture(scope="module")
def release():
    files = [f"mcs2025-{s}_salient.csv" for s in ("antim", "galli", "lithium", "potas", "mgmet", "beryl", "bauxi",
                                                  "timin")]
    return read_release(FIXTURE, salient_files=files)


# ------------------------------------------------------------------ encoding, headers, rows
def test_bom_and_crlf_are_read_and_recorded():
    raw = WORLD.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    t = read_table(WORLD)
    assert t.bom
    assert t.crlf
    assert t.columns[0] == "SOURCE"  # not '\ufeffSOURCE'
    assert not any("\r" in v for r in t.rows for v in r.cells.values())


def test_stray_spaces_in_headers_are_removed():
    t = read_table(WORLD)
    assert "PROD_EST_2024" in t.columns
    assert "CAP_EST_2024" in t.columns
    assert "header 'PROD_EST_ 2024' read as 'PROD_EST_2024'" in t.fixes


def test_trailing_spaces_and_non_breaking_spaces_in_names(release):
    rows = release.world_rows("Lithium", ["Mine production, lithium content"])
    assert rows  # the file writes "Lithium " with a trailing space
    russia = [r for r in release.world if r.commodity == "Antimony" and r.country == "RU"]
    assert [r.country_name for r in russia] == ["Russia"]  # "Russia " in the file
    nbsp = next(r for r in release.world if r.line == 2)
    assert "\xa0" in WORLD.read_text(encoding="utf-8-sig").splitlines()[1]
    assert nbsp.country_name == "United States and Canada"
    assert nbsp.country is None  # a joint row, not a country: never matched to one


def test_blank_rows_are_left_out_and_repeated_headers_numbered(release):
    bauxite = release.salient["mcs2025-bauxi_salient.csv"].table
    assert [r.line for r in bauxite.rows] == [2, 3, 4, 5, 6]
    assert "6 row(s) of empty cells left out" in bauxite.fixes
    timin = release.salient["mcs2025-timin_salient.csv"].table
    assert [c for c in timin.columns if c.startswith("Price_dt")] == ["Price_dt", "Price_dt#2", "Price_dt#3",
                                                                      "Price_dt#4"]


# ------------------------------------------------------------------------------ cells
@pytest.mark.parametrize(("text", "kind", "value", "relation"), [
    ("W", "withheld", math.nan, ""),
    ("NA", "na", math.nan, ""),
    ("E", "exporter", math.nan, ""),
    ("<25", "bound", 25.0, "<"),
    (">50", "bound", 50.0, ">"),
    (">95", "bound", 95.0, ">"),
    (">90000000", "bound", 90_000_000.0, ">"),
    (">17,000,000", "bound", 17_000_000.0, ">"),
    ("<100,000", "bound", 100_000.0, "<"),
    ("1,270,000", "number", 1_270_000.0, ""),
    ("Less than ½ unit.", "negligible", math.nan, ""),
    ("xx", "text", math.nan, ""),
    ("\xa0", "blank", math.nan, ""),
])
def test_cells(text, kind, value, relation):
    c = parse_cell(text)
    assert c.kind == kind
    assert c.relation == relation
    assert (math.isnan(c.value) and math.isnan(value)) or c.value == value


def test_range_cells_in_the_world_file_are_bounds_not_numbers(release):
    niobium = next(r for r in release.world if r.commodity == "Niobium")
    rare_earths = next(r for r in release.world if r.commodity == "Rare earths")
    assert math.isnan(niobium.reserves)  # ">17,000,000": a bound is never read as a number
    assert math.isnan(rare_earths.reserves)  # ">90000000"
    row = WORLD.read_text(encoding="utf-8-sig").splitlines()
    assert '">17,000,000"' in row[niobium.line - 1]
    assert ">90000000" in row[rare_earths.line - 1]


def test_withheld_and_bounded_nir_cells_in_fig2(release):
    assert release.fig2["LITHIUM"].nir.label() == ">50"
    assert release.fig2["TELLURIUM"].nir.label() == "<25"
    assert release.fig2["ABRASIVES, fused aluminum oxide"].nir.label() == ">95"
    lithium = us_figures(release, load_catalogue().commodities["lithium"])
    assert lithium.production[2024].kind == "withheld"
    assert lithium.consumption[2024].kind == "withheld"
    nir = computed_nir(lithium)
    assert math.isnan(nir.value)
    assert nir.label == "consumption withheld (W)"


def test_net_exporter_cell(release):
    beryllium = us_figures(release, load_catalogue().commodities["beryllium"])
    assert beryllium.nir_published[2024].kind == "exporter"
    # P = 180 t shipments > C = 170 t apparent consumption: a net exporter, "E", not a negative share
    nir = computed_nir(beryllium)
    assert nir.label == "E"
    assert math.isnan(nir.value)


# ------------------------------------------------------------------------- names
def test_footnote_digits_fused_into_names(release):
    world = next(r for r in release.world if r.commodity == "Antimony" and r.country == "WORLD")
    assert world.line == 20
    assert world.footnote == "10"
    assert world.country_name == "World total (rounded)"
    garnet = release.fig2["GARNET (INDUSTRIAL)"]
    assert garnet.sources == ("ZA", "AU", "IN", "CN")  # "China3 " in the file
    assert release.fig2["ALUMINUM"].sources[-1] == "CN"
    assert "footnote 3 fused to 'China' removed" in " ".join(release.fixes["MCS2025_Fig2_Net_Import_Reliance.csv"])


@pytest.mark.parametrize(("line", "field", "expected"), [
    (39, "commodity", "Germanium"),  # "Gemanium"
    (31, "type", "Mine production, Kaolin"),  # "Mine poduction"
    (29, "type", "Mine production, gross weight, marketable chromite ore"),  # "grosss"
    (80, "type", "Mine production, ilmenite, titanium dioxide (TiO2) content"),  # "ilmentite"
    (83, "type", "Plant production, Ferrosilicon, silicon content"),  # "Ferosilicon"
])
def test_typos_are_corrected(release, line, field, expected):
    row = next(r for r in release.world if r.line == line)
    assert getattr(row, field) == expected


def test_germanium_world_rows_are_blank(release):
    rows = release.world_rows("Germanium", ["Primary and secondary refinery production"])
    assert len(rows) == 3
    assert all(r.prod_2024.kind == "blank" for r in rows)


# -------------------------------------------------------------------------- units
def test_units_thousand_tonnes_kilograms_and_the_mislabelled_titanium_rows(release):
    assert unit_factor("thousand metric tons", "t") == 1000.0
    magnesium = world_figures(release, load_catalogue().commodities["magnesium"])
    china = next(c for c in magnesium.countries if c.country == "CN")
    assert china.prod_2024.value == 950 * 1000.0  # "950", thousand metric tons
    gallium = world_figures(release, load_catalogue().commodities["gallium"])  # kept in kilograms
    assert next(c for c in gallium.countries if c.country == "CN").prod_2024.value == 750_000.0
    assert gallium.total_2024.value == 760_000.0
    titanium = next(r for r in release.world if r.line == 81)  # Australia ilmenite "400", labelled metric tons
    assert titanium.unit == "thousand metric tons"
    assert unit_factor(titanium.unit, "t") * titanium.prod_2024.value == 400_000.0
    no_unit = next(r for r in release.world if r.line == 82)  # Sierra Leone: UNIT_MEAS empty in the file
    assert no_unit.unit == "thousand metric tons"


def test_salient_units_from_column_suffixes(release):
    mg = us_figures(release, load_catalogue().commodities["magnesium"])
    assert mg.imports[2024].value == 90_000.0  # Imports_kt = 90
    gallium = us_figures(release, load_catalogue().commodities["gallium"])
    assert gallium.consumption[2024].value == 19_000.0  # Consump_kg, the catalogue's unit is kg


def test_world_totals_that_exclude_the_us(release):
    lithium = world_figures(release, load_catalogue().commodities["lithium"])
    assert lithium.excludes_us
    assert lithium.total_2024.value == 240_000.0
    assert lithium.share("CN") == pytest.approx(41_000 / 240_000)
    antimony = world_figures(release, load_catalogue().commodities["antimony"])
    assert not antimony.excludes_us


def test_magnesium_reserves_column_holds_capacity(release):
    rows = release.world_rows("Magnesium metal", ["Magnesium smelter production"])
    china = next(r for r in rows if r.country == "CN")
    assert china.cap_2024.value == 1800.0
    assert math.isnan(china.reserves)  # the file repeats capacity (1800) in RESERVES_2024
    assert "RESERVES_2024 holds smelter capacity: not read as reserves" in china.fixes


def test_potash_fig2_and_salient_disagree(release):
    cell, ref, note = published_nir(release, load_catalogue().commodities["potash"])
    assert cell.label() == "93"
    assert ref == "MCS2025_Fig2_Net_Import_Reliance.csv row 4"
    assert "mcs2025-potas_salient.csv row 6, NIR_pct says 94" in note


# ------------------------------------------------------------------------ import
def test_import_writes_fragments_that_validate_and_cite_rows(tmp_path):
    out = tmp_path / "minerals"
    result = import_usgs_mcs(FIXTURE, out, catalogue=_subset(*FIXTURE_COMMODITIES))
    assert result.fragments == tuple(f"{c}.yaml" for c in FIXTURE_COMMODITIES)
    scenario = tmp_path / "s.yaml"
    scenario.write_text("extends: [minerals/minerals.yaml]\nscenario: {name: t, base_year: 2024}\n")
    s = load(scenario, require_sources=True)
    cn = s.facilities["antimony_cn"].production[2024]
    assert cn.value == 60_000
    assert cn.source == "usgs_mcs2025_world_data"
    assert cn.note == "MCS2025_World_Data.csv row 8, PROD_EST_2024; estimated"
    assert "antimony_us" in s.facilities  # secondary smelter output 3,500 t
    assert s.demand["us_gallium"].tonnes.value == 19_000
    shares = s.imports["us_antimony_2024"].partners
    assert shares["CN"].assumption.startswith("RANKED-SOURCE SPLIT")
    assert "lithium_us" not in s.facilities  # US production withheld: listed, not invented
    coverage = (out / "coverage.md").read_text()
    assert "US production 2024 W (mcs2025-lithium_salient.csv row 6, USprod_t)" in coverage


def test_import_is_byte_for_byte_repeatable(tmp_path):
    catalogue = _subset(*FIXTURE_COMMODITIES)
    import_usgs_mcs(FIXTURE, tmp_path / "a", catalogue=catalogue)
    import_usgs_mcs(FIXTURE, tmp_path / "b", catalogue=catalogue)
    import_usgs_mcs(FIXTURE, tmp_path / "a", catalogue=catalogue)  # replaces its own earlier import
    a = {p.name: p.read_bytes() for p in sorted((tmp_path / "a").iterdir())}
    b = {p.name: p.read_bytes() for p in sorted((tmp_path / "b").iterdir())}
    assert a == b
    assert len(a) == len(FIXTURE_COMMODITIES) + 3  # + sources.yaml, minerals.yaml, coverage.md


def test_the_release_doi_is_cited_not_the_older_one_in_the_metadata(tmp_path):
    # The world-data XML links the MCS 2023 DOI and Fig3 says "MCS2024"; the importer reads neither
    # and cites the 2025 release's DOI from its own catalogue.
    import_usgs_mcs(FIXTURE, tmp_path / "m", catalogue=_subset("gallium"))
    text = (tmp_path / "m" / "sources.yaml").read_text()
    assert "https://doi.org/10.5066/P13XCP3R" in text
    assert "MCS 2023" not in text


# -------------------------------------------------------------------- bad input
def test_missing_folder_is_one_located_problem(tmp_path):
    with pytest.raises(ScenarioError, match="no such folder"):
        import_usgs_mcs(tmp_path / "nope", tmp_path / "out")


def _copy_fixture(folder: Path) -> Path:
    for f in FIXTURE.rglob("*.csv"):
        target = folder / f.relative_to(FIXTURE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.read_bytes())
    return folder


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("salient/mcs2025-galli_salient.csv", b"Imports_Metal_kg", b"Imports_Metl_kg",
     r"mcs2025-galli_salient\.csv:1:0: .*column 'Imports_Metal_kg' is missing"),
    ("world_data/MCS2025_World_Data.csv", b"Gallium ,Japan", b"Gallium ,Japn",
     r"MCS2025_World_Data\.csv:34:3: COUNTRY: unknown country name 'Japn'"),
], ids=["missing column", "unknown country"])
def test_bad_release_is_located_and_nothing_written(tmp_path, file, old, new, message):
    bad = _copy_fixture(tmp_path / "release")
    (bad / file).write_bytes((bad / file).read_bytes().replace(old, new))
    with pytest.raises(ScenarioError, match=message):
        import_usgs_mcs(bad, tmp_path / "out", catalogue=_subset("gallium"))
    assert not (tmp_path / "out").exists()


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ScenarioError, match="not an earlier import"):
        import_usgs_mcs(FIXTURE, out, catalogue=_subset("gallium"))
    assert (out / "notes.txt").read_text() == "keep me"


# ------------------------------------------------------------ unrecorded US supply
def test_us_supply_gap_is_an_import_record_split_like_the_recorded_imports(tmp_path):
    """Consumption beyond production + recorded imports - exports: a stated import record, not the allocation rule.

    Gallium (fixture salient file, the whole real file; Fig2 row 6 ranks Japan, China, Germany, Canada):

    * gap = C - (P + I - E), exports NA counted 0: 2024 19,000 - (0 + 11,000 - 0) = 8,000 kg (42.1 % of
      consumption); 2020 15,700 - 4,430 = 11,270 kg = 71.8 % of 15,700: above half, flagged LARGE GAP;
      2025 and 2026 hold 2024's 8,000 kg (demand, output and imports are 2024's there);
    * China's share, central = its recorded share, 0.85 x (1/2^2) / (1 + 1/4 + 1/9 + 1/16)
      = 0.2125 / 1.4236111 = 0.149268; range 0 to China's share of world output 2024,
      750,000 / 760,000 kg (world-data rows 33 and 38) = 0.986842;
    * the rest of the gap in the recorded proportions: JP 0.597073, DE 0.066341, CA 0.037317,
      ROW 1 - 0.85 = 0.15 (weights; they sum to 1 - 0.149268);
    * in the 2024 network China sells the US 0.149268 x (11,000 + 8,000) = 2,836.09 kg, Japan
      0.597073 x 19,000 = 11,344.39 kg, and nothing reaches the US by the allocation rule.

    Beryllium (net exporter; T5's primary source Kazakhstan, a list of one: KZ 0.85, ROW 0.15):
    2020 196 - (165 + 48 - 25) = 8 t, 2022 187 - (175 + 39 - 61) = 34 t, 2024 170 - (180 + 20 - 30) = 0:
    no record; China is not a recorded source, so its central share is 0, range up to 77 / 360 = 0.213889
    (world-data rows 23 and 28). Antimony: supply exceeds consumption in every year (2024: 3,500 + 24,757
    - 3,832 = 24,425 > 24,000 t), so no record.
    """
    out = tmp_path / "minerals"
    import_usgs_mcs(FIXTURE, out, catalogue=_subset(*FIXTURE_COMMODITIES))
    scenario = tmp_path / "s.yaml"
    scenario.write_text("extends: [minerals/minerals.yaml]\nscenario: {name: t, base_year: 2024}\n")
    s = load(scenario, require_sources=True)
    gaps = {k: v for k, v in s.imports.items() if k.endswith("_unrecorded")}
    assert sorted(k for k in gaps if k.startswith("us_gallium")) == [
        f"us_gallium_{y}_unrecorded" for y in range(2020, 2027)]
    assert sorted(k for k in gaps if k.startswith("us_beryllium")) == [
        "us_beryllium_2020_unrecorded", "us_beryllium_2021_unrecorded", "us_beryllium_2022_unrecorded",
        "us_beryllium_2023_unrecorded"]
    assert not any(k.startswith("us_antimony") for k in gaps)

    ga = gaps["us_gallium_2024_unrecorded"]
    assert ga.total.central == 19_000 - 11_000
    assert ga.total.source == "usgs_mcs2025_salient_galli"
    assert "mcs2025-galli_salient.csv row 6, Consump_kg" in ga.total.note
    assert "mcs2025-galli_salient.csv row 6, Imports_Metal_kg" in ga.total.note
    assert "LARGE GAP" not in ga.total.note
    assert gaps["us_gallium_2020_unrecorded"].total.central == 15_700 - 4_430
    assert "LARGE GAP" in gaps["us_gallium_2020_unrecorded"].total.note
    assert gaps["us_gallium_2026_unrecorded"].total.central == 8_000
    cn = ga.partners["CN"]
    assert list(ga.partners) == ["CN"]
    assert (cn.dist, cn.low) == ("triangular", 0.0)
    assert cn.central == pytest.approx(0.2125 / (1 + 1 / 4 + 1 / 9 + 1 / 16), abs=1e-6)
    assert cn.central == s.imports["us_gallium_2024"].partners["CN"].central
    assert cn.high == pytest.approx(750_000 / 760_000, abs=1e-6)
    assert cn.assumption.startswith("UNRECORDED-SUPPLY SPLIT (assumption)")
    assert {p: q.central for p, q in ga.remainder_split.items()} == pytest.approx(
        {"JP": 0.597073, "DE": 0.066341, "CA": 0.037317, "ROW": 0.15}, abs=1e-6)

    be = gaps["us_beryllium_2022_unrecorded"]
    assert (gaps["us_beryllium_2020_unrecorded"].total.central, be.total.central) == (8, 34)
    assert (be.partners["CN"].central, be.partners["CN"].high) == (0.0, pytest.approx(77 / 360, abs=1e-6))
    assert {p: q.central for p, q in be.remainder_split.items()} == pytest.approx({"KZ": 0.85, "ROW": 0.15})

    _, edges = build_tables(s, 2024)
    assert market_balance(edges)["balanced"].all()
    to_us = edges[(edges["buyer"] == "US:gallium") & (edges["kind"] == "trade")]
    assert not (to_us["entity"] == "allocation").any()
    by = to_us.groupby("supplier_country")["tonnes"].sum()
    assert by["CN"] == pytest.approx(0.149268 * 19_000, abs=0.01)  # 2,836.09 kg
    assert by["JP"] == pytest.approx(0.597073 * 19_000, abs=0.01)  # 11,344.39 kg
    assert by.sum() == pytest.approx(19_000)


def test_t5_production_needs_the_basis_of_the_earlier_years():
    # T5's columns add to 2024 only, so a catalogue entry that uses them must say what 2020-2023 hold.
    from pydantic import ValidationError

    from supplychain.importers.usgs_mcs.catalogue import SalientSpec

    fields = {"file": "x.csv", "production": ["P"], "t5_production": ["Secondary_prod"], "imports": [],
              "exports": [], "consumption": None, "nir": None, "why": "mine plus secondary"}
    with pytest.raises(ValidationError, match="why_before_t5"):
        SalientSpec(**fields)
    assert SalientSpec(**fields, why_before_t5="mine output only").why_before_t5 == "mine output only"


@pytest.mark.parametrize(("mineral", "mine_2020", "mine_2024", "secondary_2024"),
                         [("palladium", 14_600, 8_000, 45_000), ("platinum", 4_200, 2_000, 8_500)])
def test_pgm_production_says_its_basis_year_by_year(mineral, mine_2020, mine_2024, secondary_2024):
    # The bundled fragment, as the importer writes it (audit D-16). 2024 = salient USprod (mine) + T5 row
    # Secondary_prod in metric tons x 1,000 kg: palladium 8,000 + 45 t = 53,000 kg, platinum 2,000 + 8.5 t =
    # 10,500 kg; 2020-2023 are the salient mine column alone (T5 has no earlier years), and the notes say so.
    import yaml

    path = Path(__file__).parents[1] / "scenarios" / "world" / "minerals" / f"{mineral}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    prod = data["facilities"][f"{mineral}_us"]["production"]
    assert prod[2020]["value"] == mine_2020
    assert prod[2024]["value"] == mine_2024 + secondary_2024
    for y in (2020, 2021, 2022, 2023):
        assert prod[y]["note"].endswith("mine output only (secondary not given before 2024)"), y
        gap = data["imports"][f"us_{mineral}_{y}_unrecorded"]["total"]["note"]
        assert f"Production in {y} is mine output only" in gap
        assert "also holds the year's secondary output" in gap
    assert "Secondary_prod" in prod[2024]["note"]
    assert "usgs_mcs2025_t5" in prod[2024]["note"]


def test_cells_below_half_a_unit_are_counted_0_and_say_so():
    # mcs2025-coppe_salient.csv row 6 (2024): Imports_Ores_kt 'Less than ½ unit.', Imports_Refined_kt 810 kt:
    # US copper imports 2024 = 0 + 810 x 1,000 = 810,000 t, and the note names the cell counted as 0 (audit D-17).
    import yaml

    path = Path(__file__).parents[1] / "scenarios" / "world" / "minerals" / "copper.yaml"
    total = yaml.safe_load(path.read_text(encoding="utf-8"))["imports"]["us_copper_2024"]["total"]
    assert total["value"] == 810 * 1000
    assert total["note"] == ("mcs2025-coppe_salient.csv row 6, Imports_Ores_kt + Imports_Refined_kt; "
                             "Imports_Ores_kt reads 'Less than ½ unit': counted 0")


def test_a_minerals_gap_shares_are_one_tied_fact(tmp_path):
    """China's share of the US supply gap is one fact per mineral, so its years share one draw (``tie:``).

    Its range is read from the recorded sources (2020-23) and world output 2024, the same in every year:
    gallium triangular(0, 0.149268, 0.986842) in each of 2020 … 2026 (2025 and 2026 hold 2024's record),
    beryllium triangular(0, 0, 0.213889) in 2020 … 2023. A tie puts every member at its own quantile of one
    uniform u; with the same distribution in every year that is the same value, so in each sample of a sweep
    the seven gallium shares are equal (drawn apart, as on main, they differed in almost every sample), and
    each keeps its distribution: the mean over many samples tends to (0 + 0.149268 + 0.986842) / 3 = 0.378703.
    The ties are per mineral (gallium's and beryllium's are two names, so two draws).
    """
    from supplychain.importers.usgs_mcs.fragments import gap_tie
    from supplychain.uncertainty.sampling import draw, find_parameters

    out = tmp_path / "minerals"
    import_usgs_mcs(FIXTURE, out, catalogue=_subset(*FIXTURE_COMMODITIES))
    scenario = tmp_path / "s.yaml"
    scenario.write_text("extends: [minerals/minerals.yaml]\nscenario: {name: t, base_year: 2024}\n")
    warnings: list = []
    s = load(scenario, require_sources=True, warnings=warnings)
    assert not [w for w in warnings if "tie" in w.message]
    ga = [s.imports[f"us_gallium_{y}_unrecorded"].partners["CN"] for y in range(2020, 2027)]
    assert {q.tie for q in ga} == {gap_tie("gallium")} == {"us_gallium_gap_china_share"}
    be = [s.imports[f"us_beryllium_{y}_unrecorded"].partners["CN"] for y in range(2020, 2024)]
    assert {q.tie for q in be} == {"us_beryllium_gap_china_share"}
    assert "every year's share is one draw (tie: us_gallium_gap_china_share)" in (out / "gallium.yaml").read_text()

    spec = find_parameters(s)
    assert spec.ties["us_gallium_gap_china_share"] == [
        f"imports.us_gallium_{y}_unrecorded.partners.CN" for y in range(2020, 2027)]
    sample = draw(spec, 4000, seed=11)
    years = sample[[f"imports.us_gallium_{y}_unrecorded.partners.CN" for y in range(2020, 2027)]].to_numpy()
    assert (years == years[:, :1]).all()  # one draw: every year the same value in each sample
    assert years[:, 0].mean() == pytest.approx((0 + 0.149268 + 0.986842) / 3, abs=0.01)
