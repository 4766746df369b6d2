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
