"""The report's Excel workbook and trimmed measures table (issue 19, item 5)."""

from __future__ import annotations

import gzip
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from supplychain.cli.app import app
from supplychain.io import load
from supplychain.report.runs import ScenarioRun, focus_of, run_scenario
from supplychain.report.workbook import ELEMENT_METRICS, REPORTED_METRICS, reported_measures, write_workbook

SMALL = Path(__file__).parent / "data" / "cli" / "small.yaml"


@pytest.fixture(scope="module")
def run() -> ScenarioRun:
    return run_scenario(load(SMALL), mode="rebalance")


@pytest.fixture(scope="module")
def book(run: ScenarioRun, tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = write_workbook(tmp_path_factory.mktemp("wb") / "tables.xlsx", [run])
    return openpyxl.load_workbook(path)


def _block(ws: openpyxl.worksheet.worksheet.Worksheet, variant: str) -> dict[tuple[str, str], dict[int, object]]:
    """The rows of one variant's block: (commodity, measure) → {year: cell}."""
    rows = list(ws.iter_rows(values_only=False))
    start = next(i for i, r in enumerate(rows) if isinstance(r[0].value, str) and f"variant {variant} (" in r[0].value)
    header = [c.value for c in rows[start + 1]]
    years = {j: y for j, y in enumerate(header) if isinstance(y, int)}
    out: dict[tuple[str, str], dict[int, object]] = {}
    for r in rows[start + 2:]:
        if r[0].value is None:
            break
        out[(r[0].value, r[2].value)] = {y: r[j] for j, y in years.items()}
    return out


def test_sheets_one_per_focus_country_then_tables(book: openpyxl.Workbook) -> None:
    # the scenario's only target is on the US, so the US is the focus country
    assert book.sheetnames == ["US United States", "Shortfall", "Flows", "Shipped while short", "Targets", "About"]
    assert set(book["Shortfall"].tables) == {"Shortfall"}
    assert set(book["Flows"].tables) == {"Flows"}


def test_country_sheet_hand_worked_traced_share(book: openpyxl.Workbook) -> None:
    ws = book["US United States"]
    block = _block(ws, "base")
    # 2024, before the ban (from 2025-09-01): the US takes 2,000 t NdPr oxide from China's separation
    # (fed by Chinese mines only) and 1,000 t from Malaysia (fed by Australian concentrate only):
    # traced China share = 2,000 / (2,000 + 1,000) = 2/3.
    traced = block[("NdPr oxide", "traced China share of what arrives")][2024]
    assert traced.value == pytest.approx(2 / 3)
    assert traced.number_format == "0.0%"
    demand = block[("NdPr oxide", "demand (t REO)")][2024]
    assert demand.value == pytest.approx(3000)  # the scenario's US demand
    assert demand.number_format == "#,##0"
    # every measure of the report is a row, for every year of the scenario
    assert {m for _, m in block} >= {text.format(source="China") for _, text in REPORTED_METRICS}
    assert sorted(block[("NdPr oxide", "demand (t REO)")]) == list(range(2024, 2031))


def test_country_sheet_has_a_block_per_variant_matching_the_results(run: ScenarioRun,
                                                                      book: openpyxl.Workbook) -> None:
    ws = book["US United States"]
    for result in run.results:
        block = _block(ws, result.variant)
        s = result.shortfall
        s = s[(s["country"] == "US") & (s["commodity"] == "ndpr")].set_index("year")
        cells = block[("NdPr oxide", "shortfall (share of demand)")]
        for year, cell in cells.items():
            assert cell.value == pytest.approx(float(s.at[year, "shortfall_share"]), abs=1e-6)
            assert cell.number_format == "0.0%"


def test_shortfall_and_flows_are_excel_tables_with_units_in_headers(run: ScenarioRun,
                                                                      book: openpyxl.Workbook) -> None:
    ws = book["Shortfall"]
    header = [c.value for c in ws[1]]
    assert header == ["scenario", "variant", "response", "year", "country", "commodity", "stage", "unit",
                      "demand (unit)", "delivered (unit)", "shortfall (unit)", "shortfall (% of demand)"]
    assert ws.tables["Shortfall"].ref == f"A1:L{ws.max_row}"
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]
    base = run.results[0].shortfall
    want = base[(base["country"] == "US") & (base["year"] == 2030)].iloc[0]
    got = next(r for r in rows if r["variant"] == "base" and r["response"] == run.results[0].mode
               and r["country"] == "US" and r["year"] == 2030)
    assert got["shortfall (unit)"] == pytest.approx(float(want["shortfall"]))
    assert got["unit"] == "t REO"
    assert ws.cell(2, header.index("shortfall (% of demand)") + 1).number_format == "0.0%"
    assert ws.cell(2, header.index("demand (unit)") + 1).number_format == "#,##0"
    flows = book["Flows"]
    fh = [c.value for c in flows[1]]
    assert "change (unit)" in fh
    assert "status" in fh
    rows = list(flows.iter_rows(min_row=2, values_only=True))
    assert all("US" in (r[fh.index("from")], r[fh.index("to")]) for r in rows)  # the focus country's flows
    statuses = {r[fh.index("status")] for r in rows}
    assert statuses
    assert "normal" not in statuses  # only what the response changed
    assert "blocked" in statuses  # the ban blocks China's exports to the US


def test_focus_of_prefers_asked_countries_then_targets(run: ScenarioRun) -> None:
    assert focus_of([run]) == ["US"]
    assert focus_of([run], ["JP", "US"]) == ["JP", "US"]


def test_reported_measures_keep_the_report_rows_only(run: ScenarioRun) -> None:
    r = run.results[0]
    kept = reported_measures(r.measures, r.shortfall)
    assert 0 < len(kept) < len(r.measures)
    assert set(kept["metric"]) <= {m for m, _ in REPORTED_METRICS} | set(ELEMENT_METRICS)
    assert (kept["partner"].fillna("") == "").all()
    used = {("US", "ndpr"), ("JP", "ndpr"), ("CN", "ndpr")}
    assert set(zip(kept["country"], kept["commodity"], strict=True)) <= used | {
        (c, k) for c, k, m in zip(kept["country"], kept["commodity"], kept["metric"], strict=True)
        if m in ELEMENT_METRICS}


def test_report_writes_the_workbook_and_trims_measures(tmp_path: Path) -> None:
    out = tmp_path / "report"
    res = CliRunner().invoke(app, ["report", str(SMALL), "--output", str(out), "--country", "JP",
                                   "--full-measures"])
    assert res.exit_code == 0, res.output
    book = openpyxl.load_workbook(out / "tables.xlsx")
    assert book.sheetnames[0] == "JP Japan"
    trimmed = pd.read_csv(out / "measures.csv")
    with gzip.open(out / "measures_full.csv.gz", "rt", encoding="utf-8") as fh:
        full = pd.read_csv(fh)
    assert len(trimmed) < len(full)
    assert set(trimmed["country"]) == {"JP"}  # the focus country (--country JP), as on the page
    assert set(trimmed["metric"]) < set(full["metric"])
    # the trimmed rows are the full table's rows, not recomputed
    key = ["scenario", "variant", "year", "country", "commodity", "metric"]
    both = trimmed.merge(full[full["partner"].isna()], on=key, suffixes=("", "_full"))
    assert len(both) == len(trimmed)
    assert (both["value"].fillna(-1) == both["value_full"].fillna(-1)).all()
    plain = tmp_path / "plain"
    assert CliRunner().invoke(app, ["report", str(SMALL), "--output", str(plain)]).exit_code == 0
    assert not (plain / "measures_full.csv.gz").exists()
    assert (plain / "tables.xlsx").exists()


def test_hostile_text_is_neither_a_formula_nor_a_control_sequence(run: ScenarioRun, tmp_path: Path) -> None:
    from dataclasses import replace

    evil = "=HYPERLINK(\"http://x\")\x1b[2J\u202e"
    hostile = ScenarioRun(None, tuple(replace(r, scenario=evil) for r in run.results))
    book = openpyxl.load_workbook(write_workbook(tmp_path / "t.xlsx", [hostile]))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert cells
    assert all(c.data_type != "f" for c in cells), "no formulas"
    assert not any("\x1b" in c.value or "\u202e" in c.value for c in cells), "no control or bidi characters"
    names = [c.value for c in book["Shortfall"]["A"][1:]]
    assert names
    assert all(n.startswith("'=HYPERLINK") for n in names)


def test_targets_sheet_gives_every_verdict_with_its_margin_in_points(run: ScenarioRun,
                                                                     book: openpyxl.Workbook) -> None:
    # the small world's one target (traced China share of US NdPr oxide <= 25 % by 2030), every year it is
    # checked: the value, the verdict and the margin 25 % - value in percentage points (×100, "0.0 pt")
    rows = list(book["Targets"].iter_rows(values_only=True))
    head = rows[0]
    got = [dict(zip(head, r, strict=True)) for r in rows[1:]]
    want = run.results[0].targets
    base = [g for g in got if g["variant"] == "base"]
    assert [g["year"] for g in base] == want["year"].tolist()
    for g, (_, w) in zip(base, want.iterrows(), strict=True):
        assert g["value (%)"] == pytest.approx(w["value"])
        assert g["margin (percentage points)"] == pytest.approx((0.25 - w["value"]) * 100)
        assert g["verdict"] == w["status"]
    assert book["Targets"].cell(2, 13).number_format == '0.0" pt"'


def test_country_sheet_has_the_elements_inside_what_it_uses(tmp_path: Path) -> None:
    # tests/test_elements.py's chain: the US uses 1,000 t of Japanese magnets (Dy 0.008 t/t, from Chinese
    # Dy oxide) and 5 t of Australian Dy oxide (Dy 0.8): Dy in US final use 8 + 4 = 12 t, 8 t traced to
    # China: 2/3; its NdPr (300 t) is Australian: 0. These rows are what an element target reads.
    from supplychain.schema.model import Scenario
    from tests.test_elements import chain

    run = run_scenario(Scenario.model_validate(chain()))
    ws = openpyxl.load_workbook(write_workbook(tmp_path / "t.xlsx", [run], ["US"]))["US United States"]
    rows = {(r[0], r[2]): r[3] for r in ws.iter_rows(values_only=True) if r[0] and str(r[0]).endswith(" contained")}
    assert rows[("Dy contained", "element traced China share of what arrives")] == pytest.approx(2 / 3)
    assert rows[("NdPr contained", "element traced China share of what arrives")] == pytest.approx(0.0)
    assert ("Dy contained", "element exposure incl. unmet demand") in rows


def _decimals_shown(number_format: str) -> tuple[int, int] | None:
    """Read an Excel number format: (decimals, scale) of its number, or None for ``General`` (no rounding).

    ``#,##0.000`` → (3, 1); ``0.00%`` → (2, 100); ``0.0" pt"`` → (1, 1); ``0`` → (0, 1). Quoted text is not part
    of the number (a ``%`` inside quotes would not scale it).
    """
    import re

    if number_format == "General":
        return None
    bare = re.sub(r'"[^"]*"', "", number_format)
    digits = re.search(r"[#0,]*0(?:\.(0+))?", bare)
    assert digits is not None, number_format
    return len(digits.group(1) or ""), 100 if "%" in bare else 1


def shown_as_zero(value: float, number_format: str) -> bool:
    """Whether Excel shows ``value`` under ``number_format`` as 0 (0, 0.0, 0.00%, -0.0 pt …)."""
    read = _decimals_shown(number_format)
    if read is None:
        return False
    decimals, scale = read
    return round(abs(value) * scale, decimals) == 0


def test_the_zero_check_reads_formats_as_excel_does() -> None:
    # the check of the next test, on the formats of main's workbook: #,##0 shows 0.386 t as "0", 0.0% a share of
    # 0.0003 as "0.0%", 0.0" pt" a margin of 0.004 pt as "0.0 pt"; with a decimal more each shows.
    assert shown_as_zero(0.386, "#,##0")
    assert not shown_as_zero(0.386, "#,##0.0")
    assert shown_as_zero(0.0003, "0.0%")
    assert not shown_as_zero(0.0003, "0.00%")
    assert shown_as_zero(-0.004, '0.0" pt"')
    assert not shown_as_zero(-0.004, '0.000" pt"')
    assert not shown_as_zero(2024, "0")
    assert not shown_as_zero(1e-9, "General")


def _tiny_world() -> str:
    """tests/data/cli/small.yaml with every capacity and tonnage divided by 10,000 (shares unchanged).

    Ratios (the separation process's 5 : 1, utilisation 1) are not tonnages and stay. The US then demands
    3,000 / 10,000 = 0.3 t of NdPr oxide, takes 0.2 t from China and 0.1 t from Malaysia: every quantity
    of the workbook is below 1 t of its unit.
    """
    import re

    text = SMALL.read_text(encoding="utf-8")
    return re.sub(r"((?:tonnes|capacity): \{value: )(\d+)", lambda m: f"{m[1]}{int(m[2]) / 10_000:g}", text)


def test_no_cell_that_is_not_zero_reads_zero(tmp_path: Path) -> None:
    # Analyst review #8, U-14: the Flows sheet formatted every tonnage #,##0, so the small world's tonnes
    # (0.2 t of NdPr oxide from China to the US blocked from 2025-09-01: a change of -0.2 t … ) read 0; shares
    # carried 0.0% whatever their size. Every number cell of every sheet, for both responses: a value that is
    # not round-off (|x| > 1e-6, the ROUND_OFF written as 0) reads at least its first significant digit.
    from supplychain.io import load_text

    world = load_text(_tiny_world())
    assert world.demand["us"].tonnes.value == pytest.approx(0.3)
    for mode in ("rebalance", "fixed"):
        book = openpyxl.load_workbook(write_workbook(tmp_path / f"{mode}.xlsx", [run_scenario(world, mode=mode)]))
        numbers = [(ws.title, c) for ws in book.worksheets for row in ws.iter_rows() for c in row
                   if isinstance(c.value, int | float) and not isinstance(c.value, bool)]
        flows = [c.value for title, c in numbers if title == "Flows" and isinstance(c.value, float)]  # not years
        assert flows
        assert all(abs(v) < 1 for v in flows)
        zero = [(title, c.coordinate, c.value, c.number_format) for title, c in numbers
                if abs(c.value) > 1e-6 and shown_as_zero(c.value, c.number_format)]
        assert zero == [], zero
