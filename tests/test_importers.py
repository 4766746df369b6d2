"""The BACI and Comtrade importers on hand-written fixtures in the published column layouts.

Fixtures (``tests/data/trade/``, numbers made up, layouts as published):

* ``baci/BACI_HS22_Y2024_V202501.csv`` — BACI's ``t,i,j,k,v,q`` with its
  ``country_codes_V202501.csv`` and ``product_codes_HS22_V202501.csv``;
* ``comtrade/comtrade_284690_2024.csv`` — the Comtrade API / Comtrade+ CSV columns,
  with importer and exporter reports of the same flows (mirror pairs);
* ``comtrade/comtrade_legacy_850511_2019.csv`` — the legacy Comtrade layout.
"""

from __future__ import annotations

import gzip
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from supplychain.errors import ScenarioError
from supplychain.importers import import_baci, import_comtrade, load_mapping
from supplychain.importers.convert import select_targets
from supplychain.importers.countries import CountryResolver, parse_fold, resolve_code
from supplychain.importers.hsmap import basis_unit, normalise_hs
from supplychain.importers.reconcile import reconcile
from supplychain.importers.records import Report, Summary
from supplychain.io import load

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "trade"
BACI = DATA / "baci" / "BACI_HS22_Y2024_V202501.csv"
COMTRADE = DATA / "comtrade" / "comtrade_284690_2024.csv"
LEGACY = DATA / "comtrade" / "comtrade_legacy_850511_2019.csv"


def _pairs(table: pd.DataFrame, column: str = "tonnes") -> dict[tuple[str, str], float]:
    grouped = table.groupby(["exporter", "importer"])[column].sum()
    return {(str(e), str(i)): float(v) for (e, i), v in grouped.items()}


def _accounted(summary: Summary) -> None:
    """Every row read has exactly one fate."""
    fates = sum(summary.not_selected.values()) + sum(summary.skipped.values()) + summary.converted
    assert summary.rows_read == fates


# --------------------------------------------------------------------- countries
@pytest.mark.parametrize(
    ("code", "iso2", "iso3", "expected", "kind"),
    [
        (490, "", "S19", "TW", "special"),  # Other Asia, nes = Taiwan in Comtrade/BACI practice
        (842, "", "", "US", "special"),  # Comtrade/BACI's USA (ISO 840)
        (699, "", "", "IN", "special"),
        (344, "", "", "HK", "iso"),  # Hong Kong is its own ISO code
        (156, "CN", "CHN", "CN", "iso"),
        (276, "", "DEU", "DE", "iso"),
        (36, "", "", "AU", "iso"),  # ISO numeric 036
        (0, "", "W00", None, "aggregate"),
        (97, "", "", None, "aggregate"),
        (810, "", "", None, "unmapped"),  # USSR
        (58, "", "", None, "unmapped"),  # Belgium-Luxembourg
        (899, "", "", None, "unmapped"),  # Areas, nes
    ],
)
def test_country_codes(code: int, iso2: str, iso3: str, expected: str | None, kind: str) -> None:
    res = resolve_code(code, iso2=iso2, iso3=iso3)
    assert (res.iso2, res.kind) == (expected, kind)


def test_fold_counts_one_country_as_another() -> None:
    resolver = CountryResolver(fold=parse_fold(["HK=CN"]))
    assert resolver(344).iso2 == "CN"
    assert resolver(156).iso2 == "CN"
    assert "counted as CN" in resolver(344).note
    with pytest.raises(ValueError, match="FROM=TO"):
        parse_fold(["HK"])
    with pytest.raises(ValueError, match="FROM=TO"):
        parse_fold(["HK=XX"])


# ------------------------------------------------------------------------ mapping
def test_shipped_mapping_bases_are_the_bundled_worlds() -> None:
    world = yaml.safe_load((REPO / "scenarios" / "world" / "commodities.yaml").read_text(encoding="utf-8"))
    mapping = load_mapping()
    for name, commodity in mapping.commodities.items():
        assert world["commodities"][name]["basis"] == commodity.basis, name
    # every factor is cited: a source or an assumption with its reasoning
    for code, entry in mapping.codes.items():
        for target in entry.targets.values():
            assert target.factor.source or (target.factor.assumption and len(target.factor.assumption) > 20), code


def test_basis_units_and_hs_codes() -> None:
    assert basis_unit("t REO") == 1.0
    assert basis_unit("kg Ga") == 1000.0
    # every unit of mass a scenario's basis may start with (schema.units.MASS_UNITS), as
    # units in one tonne: 1 t = 10^6 g = 10^-3 kt = 10^-6 Mt (one reading of a basis, shared
    # with the scenario checks; the importer refused g, kt and Mt before)
    assert basis_unit("g Ge") == 1e6
    assert basis_unit("kt ore") == 1e-3
    assert basis_unit("Mt ore") == 1e-6
    with pytest.raises(ValueError, match="unit of mass"):
        basis_unit("lb Ga")
    assert normalise_hs("2846.90") == "284690"
    with pytest.raises(ValueError, match="not an HS code"):
        normalise_hs("28469")


def test_select_targets() -> None:
    mapping = load_mapping()
    assert {k: t.commodity for k, t in select_targets(mapping, ["2846", "2805.30"]).items()} == {
        "280530": "ree_compounds", "284610": "ree_compounds", "284690": "ree_compounds"}  # fmt: skip
    picked = select_targets(mapping, ["280530"], "ndpr_metal")["280530"]
    assert (picked.commodity, picked.basis, picked.factor) == ("ndpr_metal", "t metal", 1.0)
    with pytest.raises(ValueError, match=r"HS 999999 is not in the mapping.*--mapping FILE"):
        select_targets(mapping, ["999999"])
    with pytest.raises(ValueError, match=r"HS 850511 cannot be counted as 'gallium'.*targets: ndfeb_magnet"):
        select_targets(mapping, ["850511"], "gallium")


def test_bad_mapping_file_is_located(write: Callable[[str, Any], Path]) -> None:
    path = write("map.yaml", """\
commodities:
  ndfeb_magnet: {basis: t NdFeB product}
  gallium: {basis: lb Ga}
codes:
  850511:
    description: magnets
    targets:
      ndfeb_magnet: {factor: {value: 1.0, assumption: "weight is the basis"}}
  "811292":
    description: basket
    targets:
      germanium: {factor: {value: 1.0, source: nowhere}}
      gallium: {factr: 1.0}
""")
    with pytest.raises(ScenarioError) as info:
        load_mapping(path)
    text = str(info.value)
    assert "map.yaml:3:3: commodities.gallium: basis 'lb Ga' must start with a unit of mass (t, kg, g, kt or Mt)" \
        in text
    assert "map.yaml:5:3: codes[850511]: key 850511: expected text, got the number 850511" in text
    assert "hint: quote it if you mean text: '850511'" in text
    assert "map.yaml:13:17: codes.811292.targets.gallium.factr: unknown key 'factr'" in text


def test_mapping_cross_references_are_located(write: Callable[[str, Any], Path]) -> None:
    path = write("map.yaml", """\
commodities:
  gallium: {basis: kg Ga}
codes:
  "811292":
    description: basket
    targets:
      germanium: {factor: {value: 1.0, source: nowhere}}
      gallium: {factor: {value: 0, assumption: "zero is not a factor"}}
""")
    with pytest.raises(ScenarioError) as info:
        load_mapping(path)
    text = str(info.value)
    assert "map.yaml:7:7: codes.811292.targets.germanium: commodity 'germanium' has no basis" in text
    assert "map.yaml:7:40: codes.811292.targets.germanium.factor.source: unknown source 'nowhere'" in text
    assert "map.yaml:8:17: codes.811292.targets.gallium.factor: a factor must be positive" in text


# --------------------------------------------------------------------------- BACI
def test_baci_flows_hand_worked() -> None:
    # Fixture rows for HS 2846xx and 2805.30 (t = 2024, q in t), US importer j = 842:
    #   156 CN 284690 5100 | 344 HK 300 | 458 MY 1100 | 392 JP 450 | 233 EE 400 | 490 TW 100
    #   251 FR q = NA (value-only, 700 kUSD) | 58 Belgium-Lux 5 t (no ISO code)
    #   156 CN 284610 1000 | 156 CN 280530 100 t of metal x 1.1664 (Nd2O3 / 2 Nd) = 116.64 t REO
    # flows shape, no fold: one flow per HS code and pair.
    r = import_baci(BACI, hs=["2846", "280530"], importers=["US"])
    got = {(row.hs, row.exporter): row.tonnes for row in r.table.itertuples()}
    assert got == pytest.approx({("284690", "CN"): 5100.0, ("284690", "HK"): 300.0, ("284690", "MY"): 1100.0,
                                 ("284690", "JP"): 450.0, ("284690", "EE"): 400.0, ("284690", "TW"): 100.0,
                                 ("284610", "CN"): 1000.0, ("280530", "CN"): 116.64})  # fmt: skip
    s = r.summary
    # 19 rows: 7 of other HS codes (3 magnets, 1 gallium, 2 concentrate, 1 horses); of the 12
    # selected, 2 go to Japan (not asked for), 1 is Belgium-Luxembourg (unmapped), 1 has no q.
    assert (s.rows_read, s.not_selected["HS code"], s.not_selected["country not asked for"]) == (19, 7, 2)
    assert (s.mapped, s.converted, dict(s.skipped)) == (9, 8, {"unmapped": 1, "no_quantity": 1})
    assert s.value_only == 700.0
    assert [(u.code, u.rows, u.tonnes) for u in s.unmapped.values()] == [(58, 1, 5.0)]
    assert set(s.caveats) == {"284690", "280530"}
    _accounted(s)
    assert len(r.fragment["flows"]) == 8
    flow = r.fragment["flows"]["baci_280530_cn_us_2024"]
    assert flow["quantity"]["value"] == 116.64
    assert flow["quantity"]["source"] == "baci_hs22_y2024_v202501"
    assert "2024, HS 280530, 156->842 (baci): 100 t traded x factor 1.1664 = 116.64 t REO" in flow["quantity"]["note"]
    assert "BACI_HS22_Y2024_V202501.csv" in flow["quantity"]["note"]


def test_baci_imports_shares_hand_worked() -> None:
    # With --fold HK=CN: CN = 5100 + 300 (HK) + 1000 + 116.64 = 6516.64 t REO;
    # total = 6516.64 + MY 1100 + JP 450 + EE 400 + TW 100 + 5 (code 58, no ISO: remainder) = 8571.64.
    r = import_baci(BACI, hs=["2846", "280530"], importers=["US"], shape="imports", fold=["HK=CN"])
    entry = r.fragment["imports"]["baci_us_ree_compounds_2024"]
    assert entry["total"]["value"] == pytest.approx(8571.64)
    shares = {k: v["value"] for k, v in entry["partners"].items()}
    total = 8571.64
    assert shares == pytest.approx({"CN": 6516.64 / total, "MY": 1100 / total, "JP": 450 / total,
                                    "EE": 400 / total, "TW": 100 / total}, abs=1e-9)  # fmt: skip
    assert 1 - sum(shares.values()) == pytest.approx(5 / total, abs=1e-8)
    assert entry["remainder_to"] == "ROW"
    assert r.summary.unmapped[58].in_remainder == 1
    _accounted(r.summary)


def test_imports_with_only_unmapped_exporters(write: Callable[[str, Any], Path]) -> None:
    data = write("BACI_HS22_Y2024_V202501.csv", "t,i,j,k,v,q\n2024,58,842,850511,1,4\n")
    write("country_codes_V202501.csv", BACI.with_name("country_codes_V202501.csv").read_text(encoding="utf-8"))
    entry = import_baci(data, shape="imports").fragment["imports"]["baci_us_ndfeb_magnet_2024"]
    assert entry["total"]["value"] == 4.0
    assert {k: v["value"] for k, v in entry["partners"].items()} == {"ROW": 1.0}


def test_baci_gallium_converts_to_kg() -> None:
    # HS 8112.92, 12.5 t traded -> gallium, basis kg Ga: 12.5 x 1 x 1000 = 12,500 kg.
    r = import_baci(BACI, hs=["811292"])
    assert _pairs(r.table) == {("CN", "US"): 12500.0}
    assert r.table["basis"].tolist() == ["kg Ga"]
    germanium = import_baci(BACI, hs=["811292"], commodity="germanium")
    assert _pairs(germanium.table) == {("CN", "US"): 12.5}


def test_baci_older_country_table_and_five_digit_codes(tmp_path: Path, write: Callable[[str, Any], Path]) -> None:
    # Older releases name the country columns differently; a code that lost its
    # leading zero (010121 -> 10121) is still that code.
    data = write("BACI_HS17_Y2019_V202301.csv", "t,i,j,k,v,q\n2019,490,842,10121,2.5,1.5\n2019,156,842,010121,1,NA\n")
    write("country_codes_V202301.csv", "country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,"
                                       "iso_3digit_alpha\n490,Other Asia nes,Other Asia not elsewhere specified,"
                                       "N/A,S19\n156,China,China,CN,CHN\n842,USA,USA,US,USA\n")  # fmt: skip
    mapping = write("map.yaml", """\
sources:
  studbook: {title: A studbook giving live weights, year: 2020}
commodities:
  horses: {basis: t live weight}
codes:
  "010121":
    description: horses
    targets:
      horses: {factor: {value: 1.0, source: studbook}}
""")
    r = import_baci(data, mapping=mapping)
    assert _pairs(r.table) == {("TW", "US"): 1.5}
    # the document the factor cites travels with the fragment; the conversion names it
    assert r.fragment["sources"]["studbook"] == {"title": "A studbook giving live weights", "year": 2020}
    assert r.summary.conversions["010121"].endswith("(source: studbook)")
    assert r.summary.skipped["no_quantity"] == 1
    assert any("no product table" in note for note in r.summary.notices)


def test_baci_warns_about_codes_missing_from_the_edition(write: Callable[[str, Any], Path]) -> None:
    data = write("BACI_HS22_Y2024_V202501.csv", "t,i,j,k,v,q\n2024,156,842,720299,1,1\n")
    write("country_codes_V202501.csv", BACI.with_name("country_codes_V202501.csv").read_text(encoding="utf-8"))
    write("product_codes_HS22_V202501.csv", "code,description\n850511,magnets\n")
    r = import_baci(data, hs=["720299"])
    assert "HS 720299 is not in product_codes_HS22_V202501.csv: this HS edition has no such code" in r.summary.notices


def test_baci_year_filter_and_duplicates(write: Callable[[str, Any], Path]) -> None:
    data = write("BACI_HS22_Y2024_V202501.csv", "t,i,j,k,v,q\n2024,156,842,850511,1,10\n2023,156,842,850511,1,7\n"
                                                 "2024,156,842,850511,1,10\n")  # fmt: skip
    write("country_codes_V202501.csv", BACI.with_name("country_codes_V202501.csv").read_text(encoding="utf-8"))
    r = import_baci(data, years=[2024])
    assert _pairs(r.table) == {("CN", "US"): 10.0}
    assert (r.summary.not_selected["year"], r.summary.skipped["duplicate"]) == (1, 1)
    _accounted(r.summary)


def test_same_input_same_bytes(tmp_path: Path) -> None:
    first = import_baci(BACI, hs=["850511"]).write(tmp_path / "a" / "frag.yaml")
    second = import_baci(BACI, hs=["850511"]).write(tmp_path / "b" / "frag.yaml")
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in first.parent.iterdir()) == ["frag.yaml"]  # no temporary left behind
    import hashlib

    assert hashlib.sha256(BACI.read_bytes()).hexdigest() in first.read_text(encoding="utf-8")


# ---------------------------------------------------------------------- errors
def test_missing_columns_are_all_listed(write: Callable[[str, Any], Path]) -> None:
    data = write("BACI_HS22_Y2024_V202501.csv", "t,i,j,k\n2024,156,842,850511\n")
    write("country_codes_V202501.csv", BACI.with_name("country_codes_V202501.csv").read_text(encoding="utf-8"))
    with pytest.raises(ScenarioError, match=r"2 problems found") as info:
        import_baci(data)
    text = str(info.value)
    assert ":1:1: v: missing column 'v' (header: t,i,j,k)" in text
    assert ":1:1: q: missing column 'q'" in text


def test_bad_values_are_located(write: Callable[[str, Any], Path]) -> None:
    data = write("BACI_HS22_Y2024_V202501.csv",
                 "t,i,j,k,v,q\n2024,156,842,850511,1,x\n2024,156\n2024,156,842,850511,1,-4\n")  # fmt: skip
    write("country_codes_V202501.csv", BACI.with_name("country_codes_V202501.csv").read_text(encoding="utf-8"))
    with pytest.raises(ScenarioError) as info:
        import_baci(data, hs=["850511"])
    text = str(info.value)
    # the column is the character position of the field: "2024,156,842,850511,1," is 22 characters
    assert "BACI_HS22_Y2024_V202501.csv:2:23: q: expected a number, got 'x'" in text
    assert "BACI_HS22_Y2024_V202501.csv:3:1: expected 6 fields, got 2" in text
    assert "BACI_HS22_Y2024_V202501.csv:4:23: q: a quantity cannot be negative, got -4" in text


def test_problems_are_capped_and_counted(write: Callable[[str, Any], Path]) -> None:
    rows = "".join(f"2024,156,842,850511,1,bad{n}\n" for n in range(25))
    data = write("BACI_HS22_Y2024_V202501.csv", "t,i,j,k,v,q\n" + rows)
    write("country_codes_V202501.csv", BACI.with_name("country_codes_V202501.csv").read_text(encoding="utf-8"))
    with pytest.raises(ScenarioError, match=r"\.\.\. and 5 more problem\(s\) not listed") as info:
        import_baci(data, hs=["850511"])
    assert len(info.value.problems) == 21


def test_missing_files_and_tables(tmp_path: Path, write: Callable[[str, Any], Path]) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.csv: no such file"):
        import_baci(tmp_path / "nope.csv")
    data = write("alone/BACI_HS22_Y2024_V202501.csv", "t,i,j,k,v,q\n")
    with pytest.raises(ScenarioError, match="no country table found beside the data file"):
        import_baci(data)
    empty = write("empty/BACI_HS22_Y2024_V202501.csv", "")
    write("empty/country_codes_V202501.csv", "country_code,country_iso2\n156,CN\n")
    with pytest.raises(ScenarioError, match="the file is empty"):
        import_baci(empty)


def test_option_errors() -> None:
    with pytest.raises(ValueError, match="--exporter cannot be used with --as imports"):
        import_baci(BACI, shape="imports", exporters=["CN"])
    with pytest.raises(ValueError, match="unknown: XX"):
        import_baci(BACI, importers=["XX"])
    with pytest.raises(ValueError, match="--as must be flows or imports"):
        import_baci(BACI, shape="edges")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="--prefix must start with a letter"):
        import_baci(BACI, prefix="2024")
    with pytest.raises(ValueError, match="--remainder-to must be a region code"):
        import_baci(BACI, shape="imports", remainder_to="rest")


def test_cli_errors_are_clean(run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    result = run_cli("import", "baci", tmp_path / "none.csv", "--hs", "850511")
    assert result.returncode == 1
    assert "error: 1 problem found:" in result.stderr
    assert "none.csv: no such file" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("import", "comtrade", COMTRADE, "--prefer", "both")
    assert result.returncode == 1
    assert "--prefer must be importer or exporter" in result.stderr
    assert not list(tmp_path.iterdir())


def test_cli_writes_to_stdout_and_summary_to_stderr(run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = run_cli("import", "baci", BACI, "--hs", "8505.11,811292", "--exporter", "CN")
    assert result.returncode == 0, result.stderr
    fragment = yaml.safe_load(result.stdout)
    assert sorted(fragment["flows"]) == ["baci_811292_cn_us_2024", "baci_850511_cn_de_2024", "baci_850511_cn_us_2024"]
    assert "rows read: 19" in result.stderr


# ---------------------------------------------------------------------- Comtrade
def test_mirror_reconciliation_hand_worked() -> None:
    # Hand-worked (docs/trade-data.md, "Comtrade mirror flows"), importer first:
    #   CN->US: M 5,100 t vs X 5,600 t -> 5,100 (importer); gap 500/5,600 = 8.9 % (not listed)
    #   MY->US: M 1,100 t vs X 3,000 t -> 1,100 (importer); gap 1,900/3,000 = 63.3 % (listed)
    #   JP->US: M without weight, X 450 t -> 450 (exporter)
    #   EE->US: M netWgt 0, qty 400,000 kg (unit code 8) -> 400 t
    #   TW->US: M from 490 "Other Asia, nes" 100 t;  CN->JP: M 9,000 vs X 8,800 -> 9,000
    #   CN->HK: X only, 800 t -> 800 (exporter)
    r = import_comtrade(COMTRADE, hs=["284690"])
    assert _pairs(r.table) == {("CN", "US"): 5100.0, ("MY", "US"): 1100.0, ("JP", "US"): 450.0,
                               ("EE", "US"): 400.0, ("TW", "US"): 100.0, ("CN", "JP"): 9000.0,
                               ("CN", "HK"): 800.0}  # fmt: skip
    sides = {(row.exporter, row.importer): row.side for row in r.table.itertuples()}
    assert (sides[("JP", "US")], sides[("CN", "HK")], sides[("CN", "US")]) == ("exporter", "exporter", "importer")
    s = r.summary
    assert [(g.exporter, g.importer, round(g.gap, 3)) for g in s.gaps] == [(458, 842, 0.633)]
    # 18 rows: 1 of HS 284610; the 17 others are 10 skipped (4 unused mirrors, World, a mode-of-
    # transport breakdown, a re-import, DE value-only, FR in units 'u', 899 Areas nes) + 7 converted.
    assert dict(s.skipped) == {"mirror": 4, "aggregate": 1, "breakdown": 1, "reexport": 1, "no_quantity": 1,
                               "other_unit": 1, "unmapped": 1}  # fmt: skip
    assert (s.rows_read, s.converted, s.value_only, dict(s.other_units)) == (18, 7, 650000.0, {"u": 1})
    assert [(u.code, u.name) for u in s.unmapped.values()] == [(899, "Areas, nes")]
    _accounted(s)


def test_prefer_exporter_swaps_the_sides() -> None:
    r = import_comtrade(COMTRADE, hs=["284690"], prefer="exporter")
    got = _pairs(r.table)
    assert (got[("CN", "US")], got[("MY", "US")], got[("CN", "JP")]) == (5600.0, 3000.0, 8800.0)


def test_reconcile_unit() -> None:
    s = Summary()
    m = Report(0, 2, 2024, "850511", 156, 842, None, 10.0, "importer")
    x = Report(1, 9, 2024, "850511", 156, 842, None, 12.0, "exporter")
    dup = Report(1, 10, 2024, "850511", 156, 842, 3.0, 12.0, "exporter")
    chosen = reconcile([m, x, dup], s)
    assert chosen == [m]  # neither side has a weight: the importer's value-only report stands
    assert dict(s.skipped) == {"duplicate": 1, "mirror": 1}


def test_comtrade_legacy_layout() -> None:
    # Legacy header: Trade Flow Code 1 = import, 2 = export, 3 = re-export.
    r = import_comtrade(LEGACY, hs=["850511"])
    assert _pairs(r.table) == {("CN", "US"): 6500.0, ("JP", "US"): 900.0}
    assert (r.summary.skipped["reexport"], r.summary.skipped["mirror"]) == (1, 1)


def test_comtrade_tab_separated_gzip_and_two_files(tmp_path: Path) -> None:
    lines = COMTRADE.read_text(encoding="utf-8").splitlines()
    import csv

    rows = list(csv.reader(lines))
    head, importers, exporters = rows[0], [r for r in rows[1:] if r[9] == "M"], [r for r in rows[1:] if r[9] != "M"]
    tabbed = tmp_path / "imports.txt.gz"
    with gzip.open(tabbed, "wt", encoding="utf-8") as fh:
        fh.write("\n".join("\t".join(r) for r in [head, *importers]) + "\n")
    plain = tmp_path / "exports.csv"
    with plain.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([head, *exporters])
    split = import_comtrade([tabbed, plain], hs=["284690"])
    whole = import_comtrade(COMTRADE, hs=["284690"])
    assert _pairs(split.table) == _pairs(whole.table)
    assert split.table.set_index(["exporter", "importer"])["file"].to_dict()[("CN", "HK")] == 1
    assert set(split.fragment["sources"]) == {"comtrade_imports", "comtrade_exports"}


def test_comtrade_bad_values_are_located(tmp_path: Path) -> None:
    lines = COMTRADE.read_text(encoding="utf-8").splitlines()
    bad = lines[1].replace(",842,USA,USA,M,", ",USA,USA,USA,M,")
    bad = bad.replace(",5100000,False,,False,", ",5.1e6kg,False,,False,")
    path = tmp_path / "c.csv"
    path.write_text("\n".join([lines[0], bad]) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        import_comtrade(path, hs=["284690"])
    text = str(info.value)
    # reporterCode starts after "C,A,20240101,2024,52,2024," (26 characters)
    assert "c.csv:2:27: reporterCode: expected a numeric country code, got 'USA'" in text
    assert "netWgt: expected a number, got '5.1e6kg'" in text


def test_comtrade_monthly_and_duplicate_rows(tmp_path: Path) -> None:
    lines = COMTRADE.read_text(encoding="utf-8").splitlines()
    monthly = lines[1].replace(",A,20240101,2024,52,2024,", ",M,20240301,2024,3,202403,")
    path = tmp_path / "c.csv"
    path.write_text("\n".join([lines[0], lines[1], lines[1], monthly]) + "\n", encoding="utf-8")
    r = import_comtrade(path, hs=["284690"])
    assert _pairs(r.table) == {("CN", "US"): 5100.0}
    assert dict(r.summary.skipped) == {"monthly": 1, "duplicate": 1}
    _accounted(r.summary)


# ------------------------------------------------------------- round trip
BASE = """\
regions:
  ROW: {name: Rest of world}
commodities:
  ree_compounds: {name: Rare-earth compounds and metals, stage: oxide, basis: t REO, family: rare_earths}
  ndfeb_magnet: {name: NdFeB magnets, stage: magnet, basis: t NdFeB product, family: rare_earths}
facilities:
"""


def _base(producers: dict[str, str]) -> str:
    # One producer per exporting country, with enough output for what it exports
    # (20,000 t each; the rest goes to residual use there).
    out = BASE
    for country, commodity in producers.items():
        out += (f"  {country.lower()}_{commodity}:\n    name: {country} {commodity}\n    country: {country}\n"
                f"    kind: aggregate\n    output: {commodity}\n"
                f"    production: {{2024: {{value: 20000, assumption: test producer}}}}\n")  # fmt: skip
    return out


@pytest.mark.parametrize(
    ("shape", "fold", "expected"),
    [
        # flows, no fold: CN = 5100 + 1000 + 116.64 = 6216.64 of 6216.64 + HK 300 + MY 1100
        # + JP 450 + EE 400 + TW 100 = 8566.64 (code 58 skipped: no ISO code).
        ("flows", [], 6216.64 / 8566.64),
        # imports, HK folded into CN: 6516.64 of 8571.64 (code 58's 5 t imported from ROW).
        ("imports", ["--fold", "HK=CN"], 6516.64 / 8571.64),
    ],
)
def test_round_trip_import_validate_run(
    shape: str, fold: list[str], expected: float, tmp_path: Path,
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    folder = tmp_path / "scenarios"
    (folder / "trade").mkdir(parents=True)
    (folder / "base.yaml").write_text(_base(dict.fromkeys(["CN", "HK", "MY", "JP", "EE", "TW", "ROW"],
                                                          "ree_compounds")), encoding="utf-8")  # fmt: skip
    imported = run_cli("import", "baci", BACI, "--hs", "2846", "--hs", "280530", "--importer", "US", "--as", shape,
                       *fold, "-o", folder / "trade" / "us.yaml")  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    (folder / "us_from_baci.yaml").write_text(
        "extends: [base.yaml, trade/us.yaml]\nscenario: {name: US compounds from BACI, base_year: 2024}\n",
        encoding="utf-8")  # fmt: skip
    validated = run_cli("validate", folder / "us_from_baci.yaml", "--require-sources")
    assert validated.returncode == 0, validated.stderr
    ran = run_cli("run", folder / "us_from_baci.yaml", "--mode", "fixed", "--format", "csv",
                  "-o", tmp_path / "m.csv")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    m = pd.read_csv(tmp_path / "m.csv")
    direct = m.query("country == 'US' and commodity == 'ree_compounds' and metric == 'direct_import_share'")
    assert direct["value"].tolist() == [pytest.approx(expected, rel=1e-8)]
    scenario = load(folder / "us_from_baci.yaml")
    assert all(entity.startswith("baci_") for entity in [*scenario.flows, *scenario.imports])
