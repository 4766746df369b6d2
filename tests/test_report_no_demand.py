"""A report on a scenario without final demand (trade only, no ``demand:``) is written with what exists.

Hand-worked world (one commodity, 2024): Australia mines 5,000 t and sends 1,000 t to Malaysia,
which mines 2,000 t and sends 1,000 t to the US. Nobody has a final use, so no result has a
shortfall row (nor a target): before, ``supplychain report`` failed with
``error: Invalid column index 0`` (the workbook's Shortfall table got a frame without columns and
asked openpyxl for column 0). Now every file is written: ``shortfall.csv`` and ``targets.csv``
with their headers and no row, the workbook's Shortfall table with its headers over one
``(none)`` row, and the page and summary say the focus country has no final demand.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pandas as pd
from openpyxl import load_workbook

from tests.conftest import au_conc_world

WORLD = au_conc_world("Trade only", """  my_mine:
    {name: MY mine, country: MY, kind: mine, output: conc,
     capacity: {value: 2000, assumption: illustrative}, utilisation: {value: 1, assumption: illustrative}}
flows:
  au_my: {supplier: AU, buyer: MY, commodity: conc, year: 2024, tonnes: {value: 1000, assumption: illustrative}}
  my_us: {supplier: MY, buyer: US, commodity: conc, year: 2024, tonnes: {value: 1000, assumption: illustrative}}
""")

SHORTFALL_HEADER = ["scenario", "year", "country", "commodity", "unit", "stage", "node", "demand", "delivered",
                    "shortfall", "shortfall_share", "variant", "response"]
"""``Result.shortfall``'s columns (with ``variant``), the ``response`` and the ``scenario`` slug first."""


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_report_without_final_demand(run_cli: Callable[..., CompletedProcess[str]], write: Callable[..., Path],
                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_cli("report", write("trade_only.yaml", WORLD), "--output", out, "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert _rows(out / "shortfall.csv") == [SHORTFALL_HEADER]  # the header, no row
    targets = _rows(out / "targets.csv")
    assert len(targets) == 1
    assert targets[0][:2] == ["scenario", "target"]
    assert {"year", "country", "status", "variant"} <= set(targets[0])
    # measures.csv holds the measures of the focus country's final uses: none, its header only
    assert _rows(out / "measures.csv")[1:] == []
    # the flows exist and are written as ever: the two trade flows of 2024
    flows = pd.read_csv(out / "flows.csv.gz")
    trade = flows[flows["kind"] == "trade"]
    assert sorted(zip(trade["supplier_country"], trade["buyer_country"], trade["simulated"], strict=True)) == [
        ("AU", "MY", 1000.0), ("MY", "US", 1000.0)]
    wb = load_workbook(out / "tables.xlsx")
    sheet = wb["Shortfall"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["scenario", "variant", "response", "year", "country", "commodity", "stage", "unit",
                       "demand (unit)", "delivered (unit)", "shortfall (unit)", "shortfall (% of demand)"]
    assert rows[1][0] == "(none)"
    assert set(rows[1][1:]) == {None}
    assert sheet.tables["Shortfall"].ref == "A1:L2"
    assert "US has no final demand in these scenarios." in [
        c.value for row in wb["US United States"].iter_rows() for c in row]
    assert "United States has no final demand in the scenarios reported." in (out / "summary.md").read_text(
        encoding="utf-8")
    assert (out / "index.html").is_file()
