"""CEPII BACI: bilateral trade by HS code, reconciled from UN Comtrade, to a scenario fragment.

A BACI release (https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37)
is a zip of one CSV per year, ``BACI_HS22_Y2024_V202501.csv``, with the columns

====  =====================================================
``t``  year
``i``  exporter (UN M49 trade code, see its country table)
``j``  importer
``k``  HS six-digit product code
``v``  value, thousand current USD (FOB)
``q``  quantity, metric tons (empty or ``NA`` when unknown)
====  =====================================================

and two tables: ``country_codes_V202501.csv`` (``country_code, country_name,
country_iso2, country_iso3``; older releases have ``country_name_abbreviation,
country_name_full, iso_2digit_alpha, iso_3digit_alpha``) and
``product_codes_HS22_V202501.csv`` (``code, description``). Both are found beside
the data file, or given with ``countries=`` / ``products=``. BACI has already
reconciled the mirror flows (Gaulier and Zignago 2010, CEPII working paper 2010-23),
so each row is one flow.

The data file is streamed row by row: memory holds only the selected rows.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from supplychain.errors import Problem, ScenarioError
from supplychain.importers.convert import code_lookup
from supplychain.importers.countries import CountryResolver
from supplychain.importers.fragment import Shape
from supplychain.importers.hsmap import HsMapping, Target
from supplychain.importers.records import Report, Summary
from supplychain.importers.table import Column, CsvTable, ProblemLog, read_small_table
from supplychain.importers.trade import TradeImport, as_paths, finish, input_files, prepare

__all__ = ["BACI_COLUMNS", "COUNTRY_COLUMNS", "PRODUCT_COLUMNS", "import_baci", "read_baci"]

BACI_COLUMNS: Final = tuple(Column(c, (c,)) for c in "tijkvq")
"""The data file's columns."""

COUNTRY_COLUMNS: Final = (
    Column("code", ("country_code",)),
    Column("name", ("country_name", "country_name_full", "country_name_abbreviation"), required=False),
    Column("iso2", ("country_iso2", "iso_2digit_alpha"), required=False),
    Column("iso3", ("country_iso3", "iso_3digit_alpha"), required=False),
)
"""The country table's columns (current and older names)."""

PRODUCT_COLUMNS: Final = (Column("code", ("code",)), Column("description", ("description",), required=False))
"""The product table's columns."""

URL: Final = "https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37"
_NAME = re.compile(r"BACI_(?P<hs>HS\d\d)_Y(?P<year>\d{4})_V(?P<version>(?P<release>\d{4})\d\d)", re.IGNORECASE)
_MISSING: Final = frozenset({"", "NA"})
_WHAT: Final = "a BACI data file with the columns t,i,j,k,v,q"


def _beside(data: Path, pattern: str, version: str | None) -> Path | None:
    """Find the table next to ``data``: the one of the same release, else the only one there."""
    found = sorted(data.parent.glob(pattern))
    same = [p for p in found if version and f"V{version}" in p.name]
    if len(same) == 1:
        return same[0]
    return found[0] if len(found) == 1 else None


def _lookup_table(data: Path, given: str | Path | None, pattern: str) -> Path | None:
    """Return the table given, else the one beside ``data``; None when there is none."""
    if given is not None:
        return Path(given)
    match = _NAME.search(data.name)
    return _beside(data, pattern, match["version"] if match else None)


def _learn_countries(path: Path, countries: CountryResolver) -> None:
    for row in read_small_table(path, COUNTRY_COLUMNS, "BACI's country table (country_code, country_iso3 ...)"):
        try:
            code = int(row["code"])
        except ValueError:
            continue
        countries.learn(code, iso2=row.get("iso2", ""), iso3=row.get("iso3", ""), name=row.get("name", ""))


def _number(table: CsvTable, fields: list[str], column: str, kind: type[int] | type[float]) -> Any:
    text = fields[table.index[column]].strip()
    try:
        return kind(text)
    except ValueError:
        table.problem(fields, column, f"expected {'a whole number' if kind is int else 'a number'}, got {text!r}",
                      "BACI writes plain numbers; is this a BACI data file?")
        return None


def read_baci(
    paths: Sequence[Path],
    targets: Mapping[str, Target],
    years: Collection[int] | None,
    summary: Summary,
    log: ProblemLog,
) -> tuple[list[Report], list[tuple[str, int, str]]]:
    """Stream BACI data files and keep the rows of the selected HS codes and years.

    Returns
    -------
    reports : list of Report
        One per selected row (``side="baci"``); a repeated (year, exporter,
        importer, HS code) is skipped as a duplicate.
    hashes : list of (name, size, sha256)
        Per file, as read.
    """
    lookup = code_lookup(targets)
    year_text = {str(y) for y in years} if years else None
    seen: set[tuple[int, int, int, str]] = set()
    reports: list[Report] = []
    hashes = []
    skipped_hs = skipped_year = 0
    for n, path in enumerate(paths):
        with CsvTable(path, BACI_COLUMNS, log, _WHAT) as table:
            ti, ki, qi = (table.index[c] for c in "tkq")
            rows = 0
            for fields in table.rows():
                rows += 1
                code = lookup.get(fields[ki])
                if code is None:
                    skipped_hs += 1
                    continue
                if year_text is not None and fields[ti].strip() not in year_text:
                    skipped_year += 1
                    continue
                year, exporter, importer = (_number(table, fields, c, int) for c in "tij")
                value = _number(table, fields, "v", float)
                q = fields[qi].strip()
                tonnes = None if q in _MISSING else _number(table, fields, "q", float)
                if None in (year, exporter, importer, value) or (q not in _MISSING and tonnes is None):
                    continue
                if tonnes is not None and tonnes < 0:
                    table.problem(fields, "q", f"a quantity cannot be negative, got {q}", "")
                    continue
                if (year, exporter, importer, code) in seen:
                    summary.skip("duplicate")
                    continue
                seen.add((year, exporter, importer, code))
                reports.append(Report(n, table.line, year, code, exporter, importer, tonnes, value))
            summary.rows_read += rows
            table.drain()
            hashes.append((path.name, table.size, table.sha256))
    if skipped_hs:
        summary.not_selected["HS code"] += skipped_hs
    if skipped_year:
        summary.not_selected["year"] += skipped_year
    summary.value_unit = "thousand USD"
    return reports, hashes


def _source(name: str, size: int, sha256: str, tables: str) -> dict[str, Any]:
    match = _NAME.search(name)
    title = f"CEPII BACI {match['hs'].upper()} V{match['version']}: {name}" if match else f"CEPII BACI: {name}"
    entry: dict[str, Any] = {"title": title, "publisher": "CEPII"}
    if match:
        entry["year"] = int(match["release"])
    entry["url"] = URL
    entry["where_read"] = f"{name} ({size:,} bytes, sha256 {sha256}); {tables}"
    entry["notes"] = ("Bilateral flows reconciled by CEPII from UN Comtrade's mirror reports (Gaulier and Zignago "
                      "2010, CEPII working paper 2010-23); v in thousand current USD (FOB), q in metric tons. "
                      "Converted to commodity bases with the HS mapping named in the fragment's header.")
    return entry


def import_baci(
    files: str | Path | Sequence[str | Path],
    *,
    hs: Sequence[str] | None = None,
    years: Collection[int] | None = None,
    commodity: str | None = None,
    mapping: str | Path | HsMapping | None = None,
    shape: Shape = "flows",
    exporters: Collection[str] | None = None,
    importers: Collection[str] | None = None,
    fold: Mapping[str, str] | Sequence[str] | None = None,
    countries: str | Path | None = None,
    products: str | Path | None = None,
    prefix: str = "baci",
    remainder_to: str = "ROW",
) -> TradeImport:
    """Import BACI data files as a scenario fragment of ``flows`` or ``imports``.

    Parameters
    ----------
    files : path or sequence of paths
        BACI data files (one per year; ``.csv`` or ``.csv.gz``).
    hs : sequence of str, optional
        HS codes or prefixes to import (default: every code in the mapping).
    years : collection of int, optional
        Years to keep (default: all).
    commodity : str, optional
        Count every selected code as this commodity (default: each code's first target).
    mapping : path or HsMapping, optional
        HS mapping (default: the shipped ``supplychain/data/hs_map.yaml``).
    shape : {"flows", "imports"}
        One flow per exporter–importer pair, or per importer a total with partner shares.
    exporters, importers : collection of str, optional
        ISO alpha-2 codes to keep (``exporters`` only with ``flows``).
    fold : mapping or sequence of "FROM=TO", optional
        Count one country as another (``["HK=CN"]``).
    countries, products : path, optional
        BACI's country and product tables (default: found beside the first data file).
    prefix : str
        Start of every entity id.
    remainder_to : str
        ``imports``: who gets what the shares leave over (a region declared in the scenario).

    Returns
    -------
    TradeImport
        Table, summary, fragment and its YAML text (``.write(path)`` writes it atomically).

    Raises
    ------
    ScenarioError
        Unreadable files, missing columns and bad values, every one located file:line:column.
    ValueError
        Bad options (unknown HS code, commodity or country code).

    Examples
    --------
    >>> r = import_baci("tests/data/trade/baci/BACI_HS22_Y2024_V202501.csv", hs=["850511"], importers=["US"])
    >>> r.table[["exporter", "importer", "tonnes"]].to_dict("records")
    [{'exporter': 'CN', 'importer': 'US', 'tonnes': 8530.0}, {'exporter': 'JP', 'importer': 'US', 'tonnes': 1000.0}]
    """
    run = prepare(hs=hs, years=years, commodity=commodity, mapping=mapping, shape=shape, exporters=exporters,
                  importers=importers, fold=fold, prefix=prefix, remainder_to=remainder_to)  # fmt: skip
    paths = as_paths(files, "BACI data file")
    country_table = _lookup_table(paths[0], countries, "country_codes_V*.csv")
    if country_table is None:
        raise ScenarioError([Problem(str(paths[0]), 0, 0, (), "no country table found beside the data file",
                                     "BACI ships it in the same zip (country_codes_V202501.csv); "
                                     "give it with --countries FILE")])  # fmt: skip
    _learn_countries(country_table, run.countries)
    product_table = _lookup_table(paths[0], products, "product_codes_*.csv")
    summary = Summary()
    if product_table is None:
        summary.notices.append("no product table beside the data file: HS codes not checked against the edition")
    else:
        known = {r["code"].zfill(6) for r in read_small_table(product_table, PRODUCT_COLUMNS, "BACI's product table")}
        summary.notices += [f"HS {code} is not in {product_table.name}: this HS edition has no such code"
                            for code in run.targets if code not in known]  # fmt: skip
    log = ProblemLog()
    reports, hashes = read_baci(paths, run.targets, run.years, summary, log)
    log.raise_if_any()
    tables = f"country table {country_table.name}" + (f", product table {product_table.name}" if product_table else "")
    inputs = input_files(hashes, prefix, lambda name, size, sha: _source(name, size, sha, tables))
    return finish("baci", run, reports, summary, inputs)

