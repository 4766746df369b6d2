"""Stockpiles an analyst can publish (s34 review findings R-1, R-2, R-8).

R-1: ``max_release_share`` caps each year's draw at s × the level at the year's start; the ledger keeps the
whole stock. R-8: under ``rebalance`` a stock covers its holder's own final use left short after re-routing,
never anyone else's; the rest carries to the next year. R-2: the run-out month spreads the gap over the months
the policies cutting the market's imports are in force, not over the whole year.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from supplychain.api import simulate
from supplychain.io import load_text
from supplychain.schema.model import Scenario
from supplychain.simulation.stocks import StockLedger, months_lasting

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SMALL = Path(__file__).parent / "data" / "cli"
YEARS = [2024, 2025, 2026]


def full_ban(stock: str = "") -> Scenario:
    """The bundled full-ban scenario, plus a US magnet stock entry (YAML mapping body) when given."""
    text = "extends: [china_full_ban_2025.yaml]\n"
    if stock:
        text += f"stockpiles:\n  us_magnet_reserve: {{country: US, commodity: ndfeb_magnet, year: 2025, {stock}}}\n"
    return load_text(text, base_dir=SCENARIOS)


def us_magnets(res: object, column: str = "shortfall") -> pd.Series:
    sf = res.shortfall  # type: ignore[attr-defined]
    sel = sf[(sf["country"] == "US") & (sf["commodity"] == "ndfeb_magnet")]
    return sel.set_index("year")[column]


def test_release_share_caps_each_year_and_the_ledger_keeps_the_whole_stock() -> None:
    # Fixed response, full ban from 2025-09-01. Without a stock the US magnet market is short
    # g25 (3,210.6 t in 2025) and g26 (about 9,372 t in 2026; read from the run below). A 6,000 t stock with s = 0.5:
    #   2025: L = 6,000, R = 0.5 × 6,000 = 3,000, δ = min(6,000, 3,210.6, 3,000) = 3,000, left 3,000;
    #   2026: L = 3,000, R = 0.5 × 3,000 = 1,500, δ = min(3,000, 9,371.7, 1,500) = 1,500, left 1,500.
    # US shortfall: 2025 3,210.6 − 3,000 = 210.6 t; 2026 9,371.7 − 1,500 = 7,871.7 t.
    # (main applied s once to the level: the ledger held 3,000 t, all drawn in 2025, nothing after.)
    base = us_magnets(simulate(full_ban(), variant="full_ban", mode="fixed", years=YEARS))
    g25, g26 = base.loc[2025], base.loc[2026]
    # the derivation's premise, not the bundled data's digits: both gaps exceed the year's releasable amount
    assert g25 > 3000.0
    assert g26 > 1500.0
    res = simulate(full_ban("quantity: 6000, max_release_share: 0.5"), variant="full_ban", mode="fixed",
                   years=YEARS)
    st = res.stocks.set_index("year")
    assert st.loc[2025, "level_start"] == 6000.0
    assert st.loc[2025, "added"] == 6000.0
    assert st.loc[2025, "releasable"] == 3000.0
    assert st.loc[2025, "draw"] == pytest.approx(min(6000.0, g25, 3000.0))
    assert st.loc[2026, "level_start"] == pytest.approx(3000.0)
    assert st.loc[2026, "releasable"] == pytest.approx(1500.0)
    assert st.loc[2026, "draw"] == pytest.approx(min(3000.0, g26, 1500.0))
    assert st.loc[2026, "level_end"] == pytest.approx(1500.0)
    short = us_magnets(res)
    assert short.loc[2025] == pytest.approx(g25 - 3000.0)
    assert short.loc[2026] == pytest.approx(g26 - 1500.0)


def test_rebalance_stock_covers_its_holder_only_and_carries_the_rest() -> None:
    # Rebalance (contracts_first), full ban, a 15,000 t US magnet stock. Without a stock the US is short
    # z25 (2,841.2 t in 2025) and z26 (about 9,204 t in 2026; read from the run below) after re-routing.
    # The stock covers the US's own
    # final use left short: 2025 δ = min(15,000, z25) = z25, 15,000 − z25 = 12,158.8 t carried; 2026
    # δ = min(12,158.8, z26) = z26: the US is short 0 in both years instead of z26 in 2026. Nobody else's
    # shortfall moves and no more US magnets leave the US than without the stock (main drew all
    # 15,000 t in 2025 and shipped 11,537 t of it to the EU, Korea and ROW; the US 2026 shortfall was z26).
    none = simulate(full_ban(), variant="full_ban", mode="rebalance", years=YEARS)
    res = simulate(full_ban("quantity: 15000"), variant="full_ban", mode="rebalance", years=YEARS)
    z = us_magnets(none)
    # the derivation's premise, not the bundled data's digits: the two gaps together fit in the stock
    assert z.loc[2025] > 0.0
    assert z.loc[2025] + z.loc[2026] < 15000.0
    st = res.stocks.set_index("year")
    assert st.loc[2025, "draw"] == pytest.approx(z.loc[2025], rel=1e-6)
    assert st.loc[2025, "level_end"] == pytest.approx(15000.0 - z.loc[2025], rel=1e-6)
    assert st.loc[2026, "draw"] == pytest.approx(z.loc[2026], rel=1e-6)
    short = us_magnets(res)
    assert short.loc[2025] == pytest.approx(0.0, abs=1e-6)
    assert short.loc[2026] == pytest.approx(0.0, abs=1e-6)
    assert short.loc[2026] < z.loc[2026]
    key = ["year", "country", "commodity"]
    others = [s[s["country"] != "US"].set_index(key)["shortfall"] for s in (none.shortfall, res.shortfall)]
    pd.testing.assert_series_equal(others[0], others[1], rtol=1e-6, atol=1e-6)

    def exported(r: object) -> pd.Series:
        fl = r.flows  # type: ignore[attr-defined]
        out = fl[(fl["supplier_country"] == "US") & (fl["buyer_country"] != "US") & (fl["commodity"] == "ndfeb_magnet")]
        return out.groupby("year")["simulated"].sum().reindex(YEARS, fill_value=0.0)

    pd.testing.assert_series_equal(exported(none), exported(res), rtol=1e-6, atol=1e-6)


def test_run_out_month_counts_from_the_shock() -> None:
    # Small world, fixed response: China's 2,000 t/yr of NdPr to the US is banned from 2025-09-01
    # (φ = 4/12), so the US is short Δ = 2,000 × 4/12 = 666.7 t in 2025, all of it September–December:
    # 666.7 / 4 = 166.7 t a month. A 450 t stock lasts 450 / 166.7 = 2.7 months from 1 September:
    # m = 8 + 12 × (4/12) × 450 / 666.7 = 10.7 months from 1 January -> runs out in November 2025.
    # Spread over the whole year (main) it read 12 × 450 / 666.7 = 8.1 -> "2025-09", five days after
    # the ban began.
    text = "extends: [small.yaml]\nstockpiles:\n  us: {country: US, commodity: ndpr, year: 2025, quantity: 450}\n"
    for mode in ("fixed", "rebalance"):
        row = simulate(load_text(text, base_dir=SMALL), mode=mode).stocks.set_index("year").loc[2025]
        assert row["gap"] == pytest.approx(2000.0 * 4 / 12)
        assert row["runs_out_after_months"] == pytest.approx(8 + 12 * (4 / 12) * 450 / (2000 * 4 / 12))
        assert row["runs_out_month"] == "2025-11"
        assert row["gap_over"] == "Sep-Dec"


def test_full_ban_three_month_stock_runs_out_in_december() -> None:
    # The reviewer's case: 3 months of cover = 3/12 × 10,008.0 = 2,502.0 t against the 2025 gap of
    # 3,207.1 t arising September–December (801.78 t a month; 3,210.6 t before the later-year trade pattern
    # took an importer's fall out of its own suppliers' sales alone, s36 R-1): 2,502.0 / 801.78 = 3.121 months
    # from 1 September, m = 11.121 -> early December, not "2025-10".
    res = simulate(full_ban("months_of_cover: 3"), variant="full_ban", mode="fixed", years=YEARS)
    row = res.stocks.set_index("year").loc[2025]
    assert row["runs_out_after_months"] == pytest.approx(8 + 4 * row["level_start"] / row["gap"])
    assert row["runs_out_after_months"] == pytest.approx(11.121, abs=1e-3)
    assert row["runs_out_month"] == "2025-12"
    assert row["gap_over"] == "Sep-Dec"


def test_months_lasting_over_spans_and_no_policy_means_even() -> None:
    # 100 t a month in Jan–Feb and Jul–Aug (400 t over 4 months): 150 t = 1.5 months of the spans,
    # January and half of February -> 1.5.
    assert months_lasting(150.0, 400.0, [(0.0, 2.0), (6.0, 8.0)]) == 1.5
    # 250 t: Jan–Feb (200 t) and half of July -> 6.5
    assert months_lasting(250.0, 400.0, [(0.0, 2.0), (6.0, 8.0)]) == 6.5
    # no spans (no policy cuts the market): even over the year, 12 × 150 / 400 = 4.5
    assert months_lasting(150.0, 400.0) == 4.5


def test_stocks_of_one_market_keep_their_own_release_caps() -> None:
    # G-12. Two stocks of US:x, A = 6,000 t at s = 0.5 and B = 2,000 t at s = 1, gaps of 10,000 t a year
    # (larger than any release). Each stock keeps its own level and cap R_i = s_i L_i; the market releases
    # R = R_A + R_B, taken from each pro rata to R_i (so each draws exactly its cap when R is drawn):
    #   2026: R = 0.5 x 6,000 + 1 x 2,000 = 5,000 -> A 3,000 left, B 0 left, level 3,000
    #   2027: R = 0.5 x 3,000 + 0 = 1,500           -> A 1,500 left
    #   2028: R = 0.5 x 1,500 = 750                 -> A 750 left
    # (one stock at the level-weighted share s = (3,000 + 2,000) / 8,000 = 0.625 would release 0.625 x 3,000
    # = 1,875 t in 2027: 375 t beyond A's cap.)
    ledger = StockLedger({"US:x": 6000.0}, {"US:x": 0.5}, entering={2026: {"US:x": 2000.0}},
                         entering_shares={2026: {"US:x": 1.0}})
    draws = [ledger.record(y, {"US:x": 10000.0}, {"US:x": 12000.0})["US:x"] for y in (2026, 2027, 2028)]
    assert draws == [pytest.approx(5000.0), pytest.approx(1500.0), pytest.approx(750.0)]
    assert ledger.levels["US:x"] == pytest.approx(750.0)
    rows = ledger.table()
    assert rows["level_start"].tolist() == [pytest.approx(8000.0), pytest.approx(3000.0), pytest.approx(1500.0)]
    assert rows["added"].tolist() == [2000.0, 0.0, 0.0]


def test_a_draw_below_the_cap_is_taken_pro_rata_to_the_stocks_caps() -> None:
    # The same two stocks, both held at the start; a 2,500 t gap in 2026 (< R = 5,000): A gives
    # 2,500 x 3,000 / 5,000 = 1,500 (4,500 left), B 2,500 x 2,000 / 5,000 = 1,000 (1,000 left).
    # 2027, gap 10,000: R = 0.5 x 4,500 + 1 x 1,000 = 3,250, level 5,500 -> 2,250 left (all of it A's).
    ledger = StockLedger({}, parts={"US:x": [[6000.0, 0.5], [2000.0, 1.0]]})
    assert ledger.record(2026, {"US:x": 2500.0}, {})["US:x"] == pytest.approx(2500.0)
    assert ledger.parts["US:x"] == [[pytest.approx(4500.0), 0.5], [pytest.approx(1000.0), 1.0]]
    assert ledger.record(2027, {"US:x": 10000.0}, {})["US:x"] == pytest.approx(3250.0)
    assert ledger.levels["US:x"] == pytest.approx(2250.0)


def test_run_out_month_spreads_a_gap_cut_upstream_over_the_policy_months() -> None:
    # G-7. The small test world plus an Australian concentrate export ban from 1 September 2025 and a 200 t
    # Japanese NdPr oxide stock. Japan imports all its NdPr (1,000 t) from Malaysia, whose separation plant
    # runs on 10,000 t of Australian concentrate; no policy blocks Japan's imports, the cut is upstream.
    # 2025: the ban blocks 4/12 of the concentrate edge, so Malaysia makes 2,000 x 8/12 = 1,333.3 t, shared
    # pro rata over its two 1,000 t buyers: Japan gets 666.7 t, gap 333.3 t, all of it Sep-Dec
    # (83.3 t a month). The 200 t last 200 / 83.3 = 2.4 months from 1 September: m = 8 + 4 x 200 / 333.3
    # = 10.4 -> "2025-11" (spread over the year it read 12 x 200 / 333.3 = 7.2 -> "2025-08", before the ban).
    text = """extends: [small.yaml]
policies:
  au_ban: {type: export_ban, name: AU bans concentrate exports, country: AU, covers: {commodities: [conc]},
           start: 2025-09-01, assumption: test}
stockpiles:
  jp: {country: JP, commodity: ndpr, year: 2025, quantity: 200}
"""
    sc = load_text(text, base_dir=SMALL)
    for mode in ("fixed", "rebalance"):
        row = simulate(sc, mode=mode, years=[2024, 2025]).stocks.set_index("year").loc[2025]
        assert row["gap"] == pytest.approx(1000.0 / 3.0), mode
        assert row["gap_over"] == "Sep-Dec", mode
        assert row["runs_out_after_months"] == pytest.approx(10.4), mode
        assert row["runs_out_month"] == "2025-11", mode
