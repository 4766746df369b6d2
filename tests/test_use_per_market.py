"""Whether a market's use is recorded is decided per market, not per commodity (session 33, finding F5).

Net import reliance :math:`(I - E + R - B) / AC` reads :math:`AC` as a consumption. Where the
scenario records final demand but no use of the commodity in the market's COUNTRY (no final
demand there, no plant's input there), :math:`AC` is only the surplus trade leaves, and the
ratio is "use not recorded" (``metrics.trade.UNRECORDED_USE``). Before, the use was decided per
commodity (any use anywhere): in the critical-minerals world, whose only demand country is the
US, ROW kept 15 finite NIRs against its residual (antimony, beryllium … 100 %).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from supplychain.api import simulate
from supplychain.io import load, load_text
from supplychain.metrics.trade import UNRECORDED_USE, trade_index
from supplychain.simulation.uncounted import not_evaluated_lines, unused_markets

# Australia mines 100 t of ore (2024); it sends 40 t to Japan and 30 t to Korea (observed flows).
# Japan has final demand of 40 t; Korea has none, and no plant: its 30 t end in its surplus.
# * Japan: P = 0, I = 40, E = 0 -> AC = 40, NIR = 40 / 40 = 1 (its use is recorded: its demand).
# * Korea: P = 0, I = 30, E = 0 -> AC = 30, net imports 30 > 0, but nothing in Korea uses the ore:
#   AC is a residual, NIR is not computed (NaN, label "use not recorded"). Per commodity (before) the
#   ore was "used" (Japan's demand), and Korea read NIR = 30 / 30 = 1.
# * Australia: P = 100, E = 70 -> net imports -70 < 0: a net exporter ("E"), whatever its use.
# An Australian export ban from 2024-06-01 covers the ore: Korea's 30 t are cut into a surplus no
# response protects, so for Korea the ore is "not evaluated"; Japan's loss is counted (its demand).
WORLD = """
scenario: {name: Two buyers, base_year: 2024, horizon: 2024, source_country: AU}
commodities:
  ore: {name: Ore, stage: ore, family: ore}
facilities:
  au_mine:
    {name: AU mine, country: AU, kind: mine, output: ore,
     capacity: {value: 100, assumption: illustrative}, utilisation: {value: 1, assumption: illustrative}}
flows:
  au_jp: {supplier: AU, buyer: JP, commodity: ore, year: 2024, tonnes: {value: 40, assumption: illustrative}}
  au_kr: {supplier: AU, buyer: KR, commodity: ore, year: 2024, tonnes: {value: 30, assumption: illustrative}}
demand:
  jp: {country: JP, commodity: ore, year: 2024, tonnes: {value: 40, assumption: illustrative}}
policies:
  au_ban: {type: export_ban, country: AU, start: 2024-06-01, covers: {families: [ore]}}
"""
KR_TARGET = "targets:\n  kr_nir: {country: KR, commodity: ore, metric: net_import_reliance, max: 0.5, by: 2024}\n"
"""A target on Korea's net import reliance (n/a: use not recorded)."""


def _nir(r, country: str) -> tuple[float, str]:
    """The NIR's value and label ('' where it has none: missing in a Result's measures)."""
    m = r.measures
    row = m[(m["metric"] == "net_import_reliance") & (m["country"] == country) & (m["commodity"] == "ore")]
    assert len(row) == 1
    label = row["label"].iloc[0]
    return float(row["value"].iloc[0]), "" if pd.isna(label) else str(label)


def test_a_country_that_only_trades_has_no_reliance_computed() -> None:
    r = simulate(load_text(WORLD), mode="fixed")
    assert _nir(r, "JP") == (1.0, "")
    value, label = _nir(r, "KR")
    assert math.isnan(value)
    assert label == UNRECORDED_USE
    value, label = _nir(r, "AU")
    assert math.isnan(value)
    assert label == "E"
    index = trade_index(*r.tables(2024))
    use = dict(zip(index.market_country.astype(str), index.market_use.tolist(), strict=True))
    assert use == {"AU": False, "JP": True, "KR": False}


def test_only_the_country_that_only_trades_is_not_evaluated() -> None:
    s = load_text(WORLD)
    r = simulate(s, mode="fixed")
    # AU has no use either, but it is a net exporter: nothing arrives there to end in a surplus.
    assert unused_markets(r.tables, [2024]) == {("KR", "ore")}
    assert not_evaluated_lines(r, s, [2024], ["JP"]) == []
    (line,) = not_evaluated_lines(r, s, [2024], ["KR"])
    assert line.startswith("Not evaluated for KR: ore — a policy in force covers them")


def test_a_scenario_without_final_demand_keeps_every_reliance() -> None:
    # Trade only (USGS's apparent consumption is the consumption): Korea's NIR is 30 / 30 = 1.
    s = load_text(WORLD.split("demand:")[0] + "policies:" + WORLD.split("policies:")[1])
    r = simulate(s, mode="fixed")
    assert _nir(r, "KR") == (1.0, "")
    assert bool(np.all(trade_index(*r.tables(2024)).market_use))


def test_not_evaluated_reads_the_policies_in_force_in_the_years_looked_at() -> None:
    # The minerals world runs 2024-2025; China's No. 10 list (cn_no10_2025), the only policy covering US
    # tellurium and tungsten (no US use recorded), starts 2025-02-04. Looking at 2024 alone, no policy in force
    # covers them: nothing is "not evaluated" (before, the run's years 2024-2025 decided "in force", and the
    # line named them for 2024). Looking at 2025, they are listed.
    path = Path(__file__).resolve().parent.parent / "scenarios" / "china_controls_all_minerals.yaml"
    s = load(path)
    r = simulate(s, mode="fixed")
    assert r.years == (2024, 2025)
    assert not_evaluated_lines(r, s, [2024], ["US"]) == []
    (line,) = not_evaluated_lines(r, s, [2025], ["US"])
    assert "tellurium" in line
    assert "tungsten" in line


def test_the_controls_table_lists_a_mineral_only_in_years_a_policy_covers_it() -> None:
    # The same rule per row: cn_no10_2025 starts 2025-02-04, so the 2024 rows have no "not evaluated" tellurium
    # or tungsten (before, a policy in force at any time of the run listed them in 2024 too); 2025's have them.
    from supplychain.minerals import controls_table

    path = Path(__file__).resolve().parent.parent / "scenarios" / "china_controls_all_minerals.yaml"
    t = controls_table(path, variants=["base"], years=[2024, 2025], modes=["fixed"])
    listed = t.loc[t["note"].str.startswith("not evaluated"), ["year", "commodity"]]
    assert set(listed.loc[listed["year"] == 2024, "commodity"]) == set()
    assert {"tellurium", "tungsten"} <= set(listed.loc[listed["year"] == 2025, "commodity"])


def test_a_target_on_a_withheld_minerals_reliance_says_use_not_recorded() -> None:
    # The minerals world records no US use of tungsten (USGS withholds US consumption: no US demand), so its US
    # net import reliance is n/a with label "use not recorded" (docs/measures.md, section 2). A target on it,
    # through evaluate_targets on the run's measures, is not evaluable and says that reason, not "a share of
    # nothing" (AC is positive) nor "a net exporter" (net imports are positive).
    from supplychain.schema.model import Target
    from supplychain.simulation.targets import evaluate_targets

    path = Path(__file__).resolve().parent.parent / "scenarios" / "china_controls_all_minerals.yaml"
    r = simulate(load(path), mode="fixed", years=[2024])
    t = {"w": Target(country="US", commodity="tungsten", metric="net_import_reliance", max=0.5, by=2024)}
    row = evaluate_targets(t, r.measures, [2024]).iloc[0]
    assert row["status"] == "n/a"
    assert row["met"] is None
    assert row["reason"] == "not evaluable: net import reliance n/a in 2024, use not recorded"


def test_a_run_target_on_a_market_without_use_says_use_not_recorded() -> None:
    # Korea (above): NIR n/a, "use not recorded"; a run's own target on it says so (before: NIR 100 % > 50 %, fails).
    world = WORLD + KR_TARGET
    t = simulate(load_text(world), mode="fixed").targets.set_index("target")
    assert t.loc["kr_nir", "status"] == "n/a"
    assert t.loc["kr_nir", "reason"] == "not evaluable: net import reliance n/a in 2024, use not recorded"


def test_compare_says_why_a_target_row_is_not_evaluable(tmp_path: Path) -> None:
    # compare's target row shows "–" where its measure is n/a (as before its `by` year); a line under the table
    # gives the reason the target's verdict read from the measure's label: Korea's NIR, "use not recorded".
    from supplychain.api import compare

    world = WORLD + KR_TARGET
    table = compare(load_text(world), mode="fixed", countries=["KR"])
    reason = "not evaluable: net import reliance n/a in 2024, use not recorded"
    assert table.attrs["not_evaluable"] == {("base", 2024, "target:kr_nir"): reason}
    assert "reason" not in table.columns
    path = tmp_path / "two_buyers.yaml"
    path.write_text(world)
    out = subprocess.run([sys.executable, "-m", "supplychain", "compare", str(path), "--mode", "fixed",
                          "--country", "KR"], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert f"target kr_nir (base): – {reason}" in text


def test_the_sweep_names_use_not_recorded_beside_a_reliance_target_n_a(tmp_path: Path) -> None:
    # Korea's NIR is n/a in every sample (no use recorded there): the targets' table counts them in n_na and the
    # line under it names that reason beside "a share of nothing".
    path = tmp_path / "two_buyers.yaml"
    path.write_text(WORLD + KR_TARGET)
    out = subprocess.run([sys.executable, "-m", "supplychain", "sweep", str(path), "--samples", "4", "--workers", "1",
                          "--mode", "fixed"], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "n_na: samples whose measure is n/a (a share of nothing" in text
    assert "A net import reliance is also n/a where the scenario records no use of the commodity in that" in text
