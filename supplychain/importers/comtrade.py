"""UN Comtrade downloads to a scenario fragment, mirror flows reconciled.

Reads the CSV (or tab-separated ``.txt``/``.gz``) that UN Comtrade gives for
HS-classified goods, in either header layout:

* the current one (Comtrade+ web download, the ``data/v1/get`` API and
  ``comtradeapicall``): ``refYear, freqCode, period, reporterCode, reporterISO,
  reporterDesc, flowCode (M, X, RM, RX …), partnerCode, partnerISO, partnerDesc,
  partner2Code, cmdCode, customsCode, motCode, qtyUnitCode, qtyUnitAbbr, qty,
  netWgt (kg), isNetWgtEstimated, primaryValue (USD)`` and more;
* the legacy one: ``Year, Trade Flow Code (1 import, 2 export, 3 re-export,
  4 re-import), Reporter Code, Reporter ISO, Partner Code, Partner ISO,
  Commodity Code, Qty Unit Code, Qty, Netweight (kg), Trade Value (US$)`` …

Rules (``docs/trade-data.md``):

* only totals count: rows with a second partner, a mode of transport or a
  customs procedure other than the total (``0``, ``C00``) are breakdowns of a
  total row and are skipped; so are monthly rows, re-exports/re-imports and
  other flow types, each counted with its reason;
* the weight is ``netWgt`` in kg, else ``qty`` when its unit is kg (code 8);
  a weight of 0 or below (Comtrade's "not available") is no weight. A row
  without weight is value-only (flagged); one whose quantity is in another
  unit (``u``, ``l`` …) is reported with its unit;
* each importer report and its exporter mirror are reconciled by
  :func:`~supplychain.importers.reconcile.reconcile` (importer first).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Final, cast

from supplychain.importers.convert import code_lookup
from supplychain.importers.countries import CountryResolver
from supplychain.importers.fragment import Shape
from supplychain.importers.hsmap import HsMapping, Target
from supplychain.importers.reconcile import MIRROR_GAP, reconcile
from supplychain.importers.records import Report, Side, Summary
from supplychain.importers.table import Column, CsvTable, ProblemLog
from supplychain.importers.trade import TradeImport, as_paths, finish, input_files, prepare

__all__ = ["COMTRADE_COLUMNS", "FLOWS", "import_comtrade", "read_comtrade", "weight"]

COMTRADE_COLUMNS: Final = (
    Column("year", ("refYear", "Year")),
    Column("flow", ("flowCode", "Trade Flow Code")),
    Column("reporter", ("reporterCode", "Reporter Code")),
    Column("partner", ("partnerCode", "Partner Code")),
    Column("cmd", ("cmdCode", "Commodity Code")),
    Column("netwgt", ("netWgt", "Netweight (kg)")),
    Column("value", ("primaryValue", "Trade Value (US$)")),
    Column("reporter_iso", ("reporterISO", "Reporter ISO"), required=False),
    Column("reporter_name", ("reporterDesc", "Reporter"), required=False),
    Column("partner_iso", ("partnerISO", "Partner ISO"), required=False),
    Column("partner_name", ("partnerDesc", "Partner"), required=False),
    Column("partner2", ("partner2Code", "2nd Partner Code"), required=False),
    Column("customs", ("customsCode", "Customs Proc. Code"), required=False),
    Column("mot", ("motCode", "Mode of Transport Code"), required=False),
    Column("freq", ("freqCode",), required=False),
    Column("period", ("period", "Period"), required=False),
    Column("qty_unit", ("qtyUnitCode", "Qty Unit Code"), required=False),
    Column("qty_abbr", ("qtyUnitAbbr", "Qty Unit"), required=False),
    Column("qty", ("qty", "Qty"), required=False),
    Column("wgt_est", ("isNetWgtEstimated",), required=False),
    Column("qty_est", ("isQtyEstimated",), required=False),
)
"""Canonical columns and their header names in the current and the legacy layout."""

FLOWS: Final[Mapping[str, Side | str]] = {
    "M": "importer", "1": "importer", "X": "exporter", "2": "exporter",
    "RX": "reexport", "3": "reexport", "RM": "reexport", "4": "reexport",
}  # fmt: skip
"""Flow code → whose report it is (``importer``/``exporter``) or why it is skipped."""

KG_UNIT: Final = "8"
"""Comtrade's quantity unit code for kilograms."""
_TOTAL: Final = {"partner2": ("", "0"), "customs": ("", "C00", "0"), "mot": ("", "0")}
_NO_QUANTITY_UNITS: Final = ("", "-1", "1")
_TRUE: Final = frozenset({"true", "1", "yes"})
_WHAT: Final = "a UN Comtrade CSV (refYear, flowCode, reporterCode, partnerCode, cmdCode, netWgt, primaryValue ...)"
URL: Final = "https://comtradeplus.un.org"


def _field(fields: list[str], index: Mapping[str, int], column: str) -> str:
    """Return the stripped value of canonical ``column`` in this row ("" when the file has no such column)."""
    i = index.get(column)
    return fields[i].strip() if i is not None and i < len(fields) else ""


def _floats(table: CsvTable, fields: list[str], columns: tuple[str, ...]) -> list[float | None] | None:
    """Return the numbers in ``columns`` (None where empty), or None with each bad value logged."""
    out: list[float | None] = []
    ok = True
    for column in columns:
        text = _field(fields, table.index, column)
        try:
            out.append(float(text) if text else None)
        except ValueError:
            table.problem(fields, column, f"expected a number, got {text!r}", "Comtrade writes plain numbers")
            ok = False
    return out if ok else None


def weight(netwgt: float | None, qty: float | None, unit: str, abbr: str = "") -> tuple[float | None, str]:
    """Traded weight of one Comtrade row in tonnes, or the unit of a quantity that is not a weight.

    ``netWgt`` (kg) when above 0, else ``qty`` when its unit is kg (code 8) and it is
    above 0; 0 or below is Comtrade's "not available".

    Returns
    -------
    (tonnes or None, unit)
        ``unit`` names a non-weight quantity's unit (``u``), else is empty.

    Examples
    --------
    >>> weight(5_100_000.0, None, "8"), weight(0.0, 400_000.0, "8"), weight(None, 1200.0, "5", "u")
    ((5100.0, ''), (400.0, ''), (None, 'u'))
    >>> weight(None, None, "1"), weight(-1.0, None, "-1")
    ((None, ''), (None, ''))
    """
    if netwgt is not None and netwgt > 0:
        return netwgt / 1000.0, ""
    if unit == KG_UNIT and qty is not None and qty > 0:
        return qty / 1000.0, ""
    if unit in _NO_QUANTITY_UNITS or qty is None or qty <= 0:
        return None, ""
    return None, abbr or f"unit code {unit}"


def read_comtrade(
    paths: Sequence[Path],
    targets: Mapping[str, Target],
    years: Collection[int] | None,
    countries: CountryResolver,
    summary: Summary,
    log: ProblemLog,
) -> tuple[list[Report], list[tuple[str, int, str]]]:
    """Stream Comtrade files; keep the selected total rows as importer or exporter reports.

    Returns
    -------
    reports : list of Report
        ``side="importer"`` (a flow ``M``: exporter = partner) or ``"exporter"``
        (``X``: importer = partner); not yet reconciled.
    hashes : list of (name, size, sha256)
        Per file, as read.
    """
    lookup = code_lookup(targets)
    reports: list[Report] = []
    hashes = []
    skipped_hs = 0
    for n, path in enumerate(paths):
        with CsvTable(path, COMTRADE_COLUMNS, log, _WHAT) as table:
            ci, yi = table.index["cmd"], table.index["year"]
            rows = 0
            for fields in table.rows():
                rows += 1
                code = lookup.get(fields[ci].strip())
                if code is None:
                    skipped_hs += 1
                    continue
                get = partial(_field, fields, table.index)
                try:
                    year = int(fields[yi].strip())
                except ValueError:
                    table.problem(fields, "year", f"expected a year, got {fields[yi]!r}", "")
                    continue
                if years and year not in years:
                    summary.not_selected["year"] += 1
                    continue
                if get("freq") == "M" or len(get("period")) == 6:
                    summary.skip("monthly")
                    continue
                if any(get(col) not in totals for col, totals in _TOTAL.items()):
                    summary.skip("breakdown")
                    continue
                side = FLOWS.get(get("flow"), "other_flow")
                if side not in ("importer", "exporter"):
                    summary.skip(side)
                    continue
                codes = []
                for column in ("reporter", "partner"):
                    if get(column).isdigit():
                        codes.append(int(get(column)))
                    else:
                        table.problem(fields, column, f"expected a numeric country code, got {get(column)!r}", "")
                numbers = _floats(table, fields, ("netwgt", "qty", "value"))
                if len(codes) < 2 or numbers is None:
                    continue
                (reporter, partner), (netwgt, qty, value) = codes, numbers
                tonnes, unit = weight(netwgt, qty, get("qty_unit"), get("qty_abbr"))
                estimated = (get("wgt_est") if netwgt and netwgt > 0 else get("qty_est")).lower() in _TRUE
                countries.learn(reporter, iso3=get("reporter_iso"), name=get("reporter_name"))
                countries.learn(partner, iso3=get("partner_iso"), name=get("partner_name"))
                exporter, importer = (partner, reporter) if side == "importer" else (reporter, partner)
                reports.append(Report(n, table.line, year, code, exporter, importer, tonnes, value,
                                      cast(Side, side), unit, estimated and tonnes is not None))  # fmt: skip
            summary.rows_read += rows
            table.drain()
            hashes.append((path.name, table.size, table.sha256))
    if skipped_hs:
        summary.not_selected["HS code"] += skipped_hs
    summary.value_unit = "USD"
    return reports, hashes


def _source(name: str, size: int, sha256: str) -> dict[str, Any]:
    return {
        "title": f"UN Comtrade: {name}",
        "publisher": "United Nations Statistics Division (UN Comtrade)",
        "url": URL,
        "where_read": f"{name} ({size:,} bytes, sha256 {sha256})",
        "notes": ("As reported by the countries (not reconciled by UNSD): net weight in kg (or qty in kg), values in "
                  "USD, imports CIF and exports FOB. Mirror flows reconciled importer-first "
                  "(supplychain.importers.reconcile, docs/trade-data.md); converted with the HS mapping named in "
                  "the fragment's header."),
    }  # fmt: skip


def import_comtrade(
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
    prefer: Side = "importer",
    gap: float = MIRROR_GAP,
    prefix: str = "comtrade",
    remainder_to: str = "ROW",
) -> TradeImport:
    """Import UN Comtrade downloads as a scenario fragment, reconciling mirror flows.

    Parameters
    ----------
    files : path or sequence of paths
        Comtrade downloads (one or several: reporters' files are reconciled together).
    prefer : {"importer", "exporter"}
        Whose weight wins when both sides report one (default: the importer's).
    gap : float
        List pairs whose two reports differ by more than this share (default 0.5).
    hs, years, commodity, mapping, shape, exporters, importers, fold, prefix, remainder_to
        As :func:`~supplychain.importers.baci.import_baci`.

    Returns
    -------
    TradeImport

    Raises
    ------
    ScenarioError
        Unreadable files, missing columns and bad values, located file:line:column.
    ValueError
        Bad options.

    Examples
    --------
    >>> r = import_comtrade("tests/data/trade/comtrade/comtrade_284690_2024.csv", hs=["284690"])
    >>> r.table.set_index(["exporter", "importer"])["tonnes"].round(3).to_dict()[("CN", "US")]
    5100.0
    """
    if prefer not in ("importer", "exporter"):
        msg = f"--prefer must be importer or exporter, not {prefer!r}"
        raise ValueError(msg)
    run = prepare(hs=hs, years=years, commodity=commodity, mapping=mapping, shape=shape, exporters=exporters,
                  importers=importers, fold=fold, prefix=prefix, remainder_to=remainder_to)  # fmt: skip
    run.options["mirror rule"] = f"{prefer} first (gaps above {gap:.0%} listed)"
    paths = as_paths(files, "Comtrade file")
    summary, log = Summary(), ProblemLog()
    reports, hashes = read_comtrade(paths, run.targets, run.years, run.countries, summary, log)
    log.raise_if_any()
    chosen = reconcile(reports, summary, prefer=prefer, gap=gap)
    inputs = input_files(hashes, prefix, _source)
    return finish("comtrade", run, chosen, summary, inputs)
