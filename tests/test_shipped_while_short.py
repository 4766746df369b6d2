"""Shipped while short: where a short country's own supply goes, on hand-worked worlds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from supplychain.api import simulate
from supplychain.cli.run import response_tables, result_json
from supplychain.report.answers import SHIPPED_MARK, country_answer
from supplychain.report.dot_style import names_of
from supplychain.report.html import write_report
from supplychain.report.markdown import summary_markdown
from supplychain.report.runs import run_scenario
from supplychain.schema.model import Scenario
from supplychain.simulation.shipped import SHIPPED_COLUMNS, feeds_table, shipped_while_short
from tests.test_allocation import YEAR, chain_world, exporter_world, world


def _shipped(s: Scenario, **kw: Any) -> pd.DataFrame:
    r = simulate(s, years=[2024, YEAR], **kw)
    got = r.shipped_while_short()
    return got[got["year"] == YEAR].reset_index(drop=True)


def spare_world(deal: bool) -> Scenario:
    # The CN mine (250 t) exports 50 t to the US, 100 t
    # to JP and 100 t to KR. The US mine makes 50 t for US use and could make 150 t (100 t spare).
    # Demand: US 100, JP 100, KR 100. China's exports are banned.
    agreements = {"us_jp": {"name": "US-Japan deal", "parties": ["US", "JP"], "covers": {"commodities": ["x"]},
                            "start": "2024-01-01", "preference": 0.05}} if deal else None
    return world({"CN": (250, 250), "US": (50, 150)}, {"US": 100, "JP": 100, "KR": 100},
                 {"cn_us": ("CN", "US", 50), "cn_jp": ("CN", "JP", 100), "cn_kr": ("CN", "KR", 100)},
                 agreements=agreements,
                 toggles={"ban": {"controls": ["cn_ban"], "default": True},
                          **({"deal": {"controls": ["us_jp"], "default": True}} if deal else {})})


def test_the_table_sums_cross_border_flows_of_a_short_country_per_destination_and_status() -> None:
    # US: 40 t of 100 t short in 2030. It ships 10 + 5 t to JP (two edges, one status), 3 t to KR
    # as a new route, and 70 t to its own users (not cross-border). JP is short too but ships
    # nothing; KR ships 2 t to the US but is not short. 2031: the US is not short (no rows).
    flows = pd.DataFrame({
        "variant": "v", "year": [2030, 2030, 2030, 2030, 2030, 2031],
        "supplier_country": ["US", "US", "US", "US", "KR", "US"],
        "buyer_country": ["JP", "JP", "KR", "US", "US", "JP"],
        "commodity": "x", "simulated": [10.0, 5.0, 3.0, 70.0, 2.0, 9.0],
        "status": ["deal", "deal", "new", "normal", "normal", "deal"],
    })
    short = pd.DataFrame({
        "variant": "v", "year": [2030, 2030, 2030, 2031], "country": ["US", "US", "JP", "US"], "commodity": "x",
        "unit": "t", "demand": [60.0, 40.0, 50.0, 100.0], "shortfall": [30.0, 10.0, 5.0, 0.0],
    })
    got = shipped_while_short(flows, short)
    assert list(got.columns) == ["variant", *SHIPPED_COLUMNS]
    assert got[["country", "destination", "status"]].values.tolist() == [["US", "JP", "deal"], ["US", "KR", "new"]]
    assert got["shipped"].tolist() == pytest.approx([15.0, 3.0])
    # two use nodes of the US: demand 60 + 40 = 100, shortfall 30 + 10 = 40 → 40 %
    assert got["shortfall"].tolist() == pytest.approx([40.0, 40.0])
    assert got["shortfall_share"].tolist() == pytest.approx([0.4, 0.4])


def test_nothing_short_or_nothing_shipped_gives_an_empty_table_with_the_columns() -> None:
    got = shipped_while_short(pd.DataFrame(), pd.DataFrame())
    assert got.empty
    assert list(got.columns) == list(SHIPPED_COLUMNS)


def test_fixed_keeps_a_short_exporters_buyers_on_their_share() -> None:
    # tests/test_allocation.py's exporter world: JP's market has its own 100 t of the 140 t it had
    # (China's 40 t are banned), so under fixed it passes 5/7 to each buyer: KR gets 20·5/7 =
    # 14.29 t (status reduced) while JP's own users get 120·5/7 = 85.7 t, short 2/7.
    got = _shipped(exporter_world(), mode="fixed")
    jp = got[got["country"] == "JP"]
    assert jp[["destination", "status"]].values.tolist() == [["KR", "reduced"]]
    assert jp["shipped"].iloc[0] == pytest.approx(20 * 5 / 7)
    assert jp["shortfall_share"].iloc[0] == pytest.approx(2 / 7)
    # contracts_first: nothing is freed or spare, so the fixed outcome stands (test_allocation.py)
    got = _shipped(exporter_world(), allocation="contracts_first").query("country == 'JP'")
    assert got[["destination", "shipped"]].values.tolist() == [["KR", pytest.approx(20 * 5 / 7)]]
    # home_first: JP keeps its own 100 t (short 20/120) and exports nothing
    assert _shipped(exporter_world(), allocation="home_first").query("country == 'JP'").empty


def test_spare_capacity_goes_abroad_max_min_fair_and_to_partners_under_a_deal() -> None:
    # contracts_first, no deal: the US keeps its 50 t (its fixed outcome, a floor); its 100 t of
    # spare capacity are rationed max-min fair: 150 t for 300 t of demand, every user 50 % short,
    # so the US ships 50 t to JP and 50 t to KR, on new routes, while 50 % short itself.
    got = _shipped(spare_world(deal=False)).query("country == 'US'")
    assert dict(zip(got["destination"], got["shipped"], strict=True)) == pytest.approx({"JP": 50.0, "KR": 50.0})
    assert set(got["status"]) == {"new"}
    assert got["shortfall_share"].iloc[0] == pytest.approx(0.5)
    # with a US–JP preference the US's extra supply serves its partner first (nothing to KR): the
    # 150 t go to US and JP users, 200 t of demand, 25 % short each: the US ships 75 t to JP.
    got = _shipped(spare_world(deal=True)).query("country == 'US'")
    assert got[["destination", "status"]].values.tolist() == [["JP", "deal"]]
    assert got["shipped"].iloc[0] == pytest.approx(75.0)
    assert got["shortfall_share"].iloc[0] == pytest.approx(0.25)
    # home_first: the US serves its own 100 t first and exports only what is left: not short, no row
    assert _shipped(spare_world(deal=True), allocation="home_first").query("country == 'US'").empty


def test_the_report_says_where_a_short_countrys_supply_went_and_why(tmp_path: Path) -> None:
    # spare_world with the deal on (base) and off (variant no_deal), reported for the US: the
    # section's table has one row (US · Magnets) and, per variant, the figures worked out above.
    s = Scenario.model_validate({**spare_world(deal=True).model_dump(exclude_none=True),
                                 "variants": {"no_deal": {"toggles": {"deal": False}}}})
    out = write_report(run_scenario(s), tmp_path / "r", countries=("US",))
    md = (out / "summary.md").read_text(encoding="utf-8")
    section = md[md.index("### Shipped abroad while short"):]
    row = next(line for line in section.splitlines() if line.startswith("| United States"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:] == ["25% short in 2025; 75 t to Japan (deal)",
                         "50% short in 2025; 100 t shipped: Japan 50 t (new), South Korea 50 t (new)"]
    assert "contracts\\_first rule" in section  # the note names the rule that decided it
    assert 'id="sc-hand-shipped"' in (out / "index.html").read_text(encoding="utf-8")
    book = load_workbook(out / "tables.xlsx", read_only=True)  # read-only keeps the file open: close it
    rows = list(book["Shipped while short"].iter_rows(values_only=True))
    book.close()
    assert rows[0] == ("scenario", "variant", "year", "country", "commodity", "unit", "shortfall (% of demand)", "to",
                       "status", "shipped (unit)", "feed of (short commodity)")
    got = sorted((r[1], r[7], r[8], round(float(r[9]), 6)) for r in rows[1:])  # type: ignore[arg-type]
    assert got == [("base", "JP", "deal", 75.0), ("no_deal", "JP", "new", 50.0), ("no_deal", "KR", "new", 50.0)]


def test_the_answer_marks_a_shortfall_while_the_country_ships_abroad(tmp_path: Path) -> None:
    # the same report's answer for the US: its 2025 shortfall cells (peak and horizon; 2024 has
    # no shortfall) carry the mark, with the figures of the section's table as their note
    s = Scenario.model_validate({**spare_world(deal=True).model_dump(exclude_none=True),
                                 "variants": {"no_deal": {"toggles": {"deal": False}}}})
    answer = country_answer([run_scenario(s)], "US", None, names_of(s), ["hand"])
    assert answer["shipped"] is True
    base = answer["rows"][0]["cells"][-3:]  # shortfall share: 2024, peak (year), 2025
    assert [c["mark"] for c in base] == ["", SHIPPED_MARK, SHIPPED_MARK]
    assert base[2]["note"] == "25% short in 2025; 75 t to Japan (deal)"
    md = summary_markdown({"title": "t", "generator": "g", "answers": [answer], "overview": {"rows": []},
                           "scenarios": []})
    assert f"25% (2025) {SHIPPED_MARK}" in md
    assert f"{SHIPPED_MARK} short while part of its own supply" in md


def test_run_prints_and_writes_the_shipped_rows() -> None:
    # `supplychain run` shows the table among the response tables and writes it in its JSON
    r = simulate(spare_world(deal=True), years=[2024, YEAR])
    shown = response_tables(r, [YEAR], ["US"])["shipped"]
    assert shown[["country", "destination", "status"]].values.tolist() == [["US", "JP", "deal"]]
    assert shown["shipped"].tolist() == pytest.approx([75.0])
    doc = result_json(r, [YEAR])
    assert [(d["country"], d["destination"], d["shipped"]) for d in doc["shipped_while_short"]] == [
        ("US", "JP", pytest.approx(75.0))]


def metal_world() -> Scenario:
    """test_allocation's reopened-feeds world: JP makes 300 t of metal m, its magnet plant turns 100 t of it into
    magnets x, the US magnet plant (200 t) lives on the other 200 t of JP metal and sells 100 t of magnets to KR;
    China's 100 t of magnets to JP are banned from 2025. Demand: JP 200, US 100, KR 100 t of magnets."""
    return chain_world((("CN", "metal", 100), ("CN", "mag", 100), ("JP", "metal", 300), ("JP", "mag", 100),
                        ("US", "mag", 200)), {"JP": 200, "US": 100, "KR": 100},
                       {"jp_us": ("JP", "US", "m", 200), "us_kr": ("US", "KR", "x", 100),
                        "cn_jp": ("CN", "JP", "x", 100)})


def test_the_metal_a_country_short_of_magnets_exports_is_shipped_while_short() -> None:
    # Metal is a feed of JP's magnets: JP's magnet plant (capacity 100 t in 2025) turns it into them.
    # fixed: JP's magnet plant makes its 100 t, China's 100 t are blocked: JP is 100/200 = 50 % short of
    # magnets, exports no magnet (no row of x) but still ships its 200 t of metal to the US (the US
    # plant keeps its share of JP's unchanged 300 t): one row, commodity m, feed_of x, with x's share.
    got = _shipped(metal_world(), mode="fixed")
    assert got[["country", "commodity", "feed_of", "unit", "destination", "status"]].values.tolist() == [
        ["JP", "m", "x", "t", "US", "normal"]]
    assert got["shipped"].tolist() == pytest.approx([200.0])
    assert (got["demand"].iloc[0], got["shortfall"].iloc[0]) == pytest.approx((200.0, 100.0))
    assert got["shortfall_share"].iloc[0] == pytest.approx(0.5)
    # home_first (test_allocation: JP 200/3 t short, 1/3): JP's plant can use 100 t of its metal, so the other
    # 200 t still go to the US while JP is short: the same row, at JP's 1/3.
    got = _shipped(metal_world(), allocation="home_first")
    assert got[["country", "commodity", "feed_of", "destination"]].values.tolist() == [["JP", "m", "x", "US"]]
    assert got["shipped"].tolist() == pytest.approx([200.0])
    assert got["shortfall_share"].iloc[0] == pytest.approx(1 / 3)
    # proportional: 300 t of magnets can be made (JP 100, US 200) for 400 t of demand: every user 25 % short.
    # JP needs 150 t: its own 100 t + 50 t from the US; KR gets 75 t, the US keeps 75 t. JP still ships its
    # 200 t of metal (feed row at 25 %); the US, 25 % short, ships magnets itself: rows of x with no feed_of,
    # 75 t to KR (reduced from 100) and 50 t to JP (a new route). The US's metal imports are not exports.
    got = _shipped(metal_world(), allocation="proportional")
    assert got[["country", "commodity", "feed_of", "destination", "status"]].values.tolist() == [
        ["JP", "m", "x", "US", "normal"], ["US", "x", "", "KR", "reduced"], ["US", "x", "", "JP", "new"]]
    assert got["shipped"].tolist() == pytest.approx([200.0, 75.0, 50.0], abs=1e-6)
    assert got["shortfall_share"].tolist() == pytest.approx([0.25] * 3, abs=1e-9)


def test_a_plant_that_cannot_run_feeds_nothing() -> None:
    # feeds are read from the plants with capacity that year (assembly.year_feeds): JP, 50 t of 100 t short of
    # magnets, ships 40 t of metal to the US. With its magnet plant at 80 t capacity the metal is a feed (a
    # row, feed_of x, at 50 %); with the plant at capacity 0 (not commissioned) it turns nothing into magnets
    # and the metal is no feed of them: no row.
    yields = pd.DataFrame({"facility": ["jp_mag", "jp_mag"], "commodity": ["x", "m"], "role": ["output", "input"],
                           "coef": 1.0})
    flows = pd.DataFrame({"year": [2030], "supplier_country": ["JP"], "buyer_country": ["US"], "commodity": ["m"],
                          "unit": ["t"], "simulated": [40.0], "status": ["normal"]})
    short = pd.DataFrame({"year": [2030], "country": ["JP"], "commodity": ["x"], "unit": ["t"], "demand": [100.0],
                          "shortfall": [50.0]})

    def util(capacity: float) -> pd.DataFrame:
        return pd.DataFrame({"year": [2030], "facility": ["jp_mag"], "country": ["JP"], "capacity": [capacity]})

    got = shipped_while_short(flows, short, feeds_table(yields, util(80.0)))
    assert got[["country", "commodity", "feed_of", "destination", "shipped", "shortfall_share"]].values.tolist() == [
        ["JP", "m", "x", "US", 40.0, 0.5]]
    assert shipped_while_short(flows, short, feeds_table(yields, util(0.0))).empty
    assert shipped_while_short(flows, short).empty  # without feeds: the short commodity's own exports only


def test_a_shortfall_within_the_lps_round_off_is_not_short() -> None:
    # 2·10⁻⁶ t short of 5,000 t is round-off (≤ 10⁻⁶ of demand, as flow_status reads tonnes):
    # no row, though 500 t go abroad; 0.01 t short (2·10⁻⁶ of demand) is short
    flows = pd.DataFrame({"year": [2030], "supplier_country": ["US"], "buyer_country": ["JP"],
                          "commodity": ["x"], "simulated": [500.0], "status": ["normal"]})
    for gap, rows in ((2e-6, 0), (0.01, 1)):
        short = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": ["x"], "unit": ["t"],
                              "demand": [5000.0], "shortfall": [gap]})
        assert len(shipped_while_short(flows, short)) == rows, gap
