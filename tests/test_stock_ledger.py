"""Stocks enter at the start of their year; run-out months are read with a tolerance (issue 18, items 2-3)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from supplychain.api import simulate
from supplychain.io import load_text
from supplychain.schema.model import Scenario
from supplychain.simulation.stocks import STOCK_COLUMNS, StockLedger, months_lasting, run_out_month

DATA = Path(__file__).parent / "data" / "cli"
DOCS = Path(__file__).resolve().parent.parent / "docs"


def small_with_stock(year: int, quantity: float = 40.0) -> Scenario:
    """The small CLI world (China's ban from 2025-09-01) plus a US NdPr stock dated ``year``."""
    text = (f"extends: [small.yaml]\nstockpiles:\n  us_new: {{country: US, commodity: ndpr, year: {year}, "
            f"quantity: {quantity}}}\n")
    return load_text(text, base_dir=DATA)


def test_a_stock_dated_after_the_first_year_enters_then() -> None:
    # Fixed response, 2026: China's 2,000 t/yr to the US (the base year's pattern carried to later
    # years) are blocked all year and nothing is re-routed, so the US is 2,000 t short without the
    # stock. The 40 t stock dated 2026 enters at the start of 2026 and covers 40 t of it: 1,960 t
    # short. It lasts 12 × 40 / 2,000 = 0.24 months: it runs out in January.
    base = simulate(Scenario.model_validate(small_with_stock(2026).model_dump(exclude={"stockpiles"})), mode="fixed")
    res = simulate(small_with_stock(2026), mode="fixed")
    short = res.shortfall.set_index(["year", "country"])["shortfall"]
    before = base.shortfall.set_index(["year", "country"])["shortfall"]
    assert before.loc[(2026, "US")] == pytest.approx(2000.0)
    assert short.loc[(2026, "US")] == pytest.approx(1960.0)
    st = res.stocks.set_index("year")
    assert list(st.index) == [2026, 2027, 2028, 2029, 2030]  # not in the ledger before its year
    row = st.loc[2026]
    assert (row["added"], row["level_start"], row["draw"], row["level_end"]) == (40.0, 40.0, 40.0, 0.0)
    assert row["runs_out_after_months"] == pytest.approx(0.24)
    assert row["runs_out_month"] == "2026-01"
    assert row["unit"] == "t REO"
    assert st.loc[2027, "added"] == 0.0


def test_a_later_stock_adds_to_an_earlier_one() -> None:
    # Rebalance, small world: a 100 t stock held from 2024 and 40 t more from 2027 — the 2027 level
    # starts at what 2026 left plus 40 t.
    text = ("extends: [small.yaml]\nstockpiles:\n"
            "  old: {country: US, commodity: ndpr, year: 2024, quantity: 100}\n"
            "  new: {country: US, commodity: ndpr, year: 2027, quantity: 40}\n")
    st = simulate(load_text(text, base_dir=DATA), mode="fixed").stocks.set_index("year")
    assert st.loc[2024, "level_start"] == 100.0
    assert st.loc[2027, "level_start"] == pytest.approx(st.loc[2026, "level_end"] + 40.0)
    assert st.loc[2027, "added"] == 40.0


def test_ledger_opens_each_year_once() -> None:
    ledger = StockLedger({}, entering={2026: {"US:x": 40.0}})
    ledger.open(2026)
    ledger.open(2026)
    assert ledger.available() == {"US:x": 40.0}
    ledger.record(2026, {"US:x": 10.0}, {"US:x": 120.0})
    assert ledger.available() == {"US:x": 30.0}
    # cover left at year end: 12 × 30 / 120 = 3 months
    assert ledger.table().loc[0, "cover_end_months"] == pytest.approx(3.0)


def test_run_out_month_has_a_tolerance() -> None:
    # 13.33 t left against a 6.67 t/month gap (80 t/yr) last 2 months: the stock runs out in
    # February. A level one float above 40/3 (what a chain of draws leaves) gives 12 L / 80 just
    # above 2 (2.0000000000000004), which ceil() read as March.
    level = math.nextafter(40 / 3, math.inf)
    assert 12.0 * level / 80.0 > 2.0
    assert months_lasting(level, 80.0) == 2.0
    assert run_out_month(2026, 12.0 * level / 80.0) == "2026-02"
    assert run_out_month(2026, 2.0000000000000013) == "2026-02"
    assert run_out_month(2026, 2.01) == "2026-03"
    ledger = StockLedger({"US:x": level})
    ledger.record(2026, {"US:x": 80.0}, {"US:x": 80.0})
    row = ledger.table().iloc[0]
    assert (row["runs_out_after_months"], row["runs_out_month"]) == (2.0, "2026-02")
    assert math.isinf(months_lasting(80.0, 80.0))


def test_output_columns_are_not_the_input_field_and_are_documented() -> None:
    # `months_of_cover` is the input field (a level); the output is cover left at year end.
    assert "months_of_cover" not in STOCK_COLUMNS
    assert "cover_end_months" in STOCK_COLUMNS
    text = (DOCS / "scenario-format.md").read_text(encoding="utf-8")
    block = text.split("<!-- stocks:begin -->")[1].split("<!-- stocks:end -->")[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", block, re.MULTILINE)
    assert documented == [*STOCK_COLUMNS, "unit", "variant"]
