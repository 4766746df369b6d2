"""A harsher variant with a lower exposed share gets a note (docs/measures.md §3b; session-36 review R-7).

The tiny world (years 2024–2025, one product m in t): China's plant makes 100 t, all sold to the US
(US demand 100 t); Japan's plant makes 50 t, all sold to China (China's demand 50 t). Base: China
bans every export from 1 January 2025 (``share_blocked`` 1); variant ``no_ban`` lifts it.

By hand, 2025:

* ``no_ban``: the US gets its 100 t from China: consumed C = planned P = 100, traced t = 1,
  exposed = (100 · 1 + 0)/100 = **1.0**; nothing is unmet anywhere (world shortfall S = 0 t).
* ban, ``rebalance``: China's plant can serve China's own 50 t, which frees Japan's 50 t; the
  re-routing sends them to the US (the only short user): C = 50 (t = 0, Japan), U = 100 − 50 = 50,
  exposed = (50 · 0 + 50)/100 = **0.5**, shortfall share 0.5; world shortfall S = 50 t.
  So the harsher run (S 50 t > 0 t) shows the lower exposed share (0.5 < 1.0): the note fires.
* ban, ``fixed``: the baseline shares stay, China's 100 t to the US are blocked and Japan's 50 t
  still go to China: C = 0, exposed = (0 + 100)/100 = **1.0** = ``no_ban``'s: no note.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import supplychain as sc
from supplychain.report.exposure_falls import exposure_falls, exposure_falls_note, world_shortfall
from supplychain.simulation.world import flow_sums

TINY = """\
scenario: {name: Tiny exposure world, base_year: 2024, horizon: 2025}
commodities:
  m: {name: Magnets, stage: product, basis: t product, family: rare_earths, elements: [Nd, Pr]}
facilities:
  cn_plant: {name: China plant, country: CN, kind: aggregate, output: m, capacity: 100, utilisation: 1}
  jp_plant: {name: Japan plant, country: JP, kind: aggregate, output: m, capacity: 50, utilisation: 1}
flows:
  jp_cn: {supplier: jp_plant, buyer: CN, commodity: m, year: 2024, tonnes: 50}
  cn_us: {supplier: cn_plant, buyer: US, commodity: m, year: 2024, tonnes: 100}
demand:
  cn: {country: CN, commodity: m, year: 2024, tonnes: 50}
  us: {country: US, commodity: m, year: 2024, tonnes: 100}
policies:
  cn_ban: {type: export_ban, country: CN, covers: {families: [rare_earths]}, start: 2025-01-01, share_blocked: 1.0}
toggles:
  ban: {controls: [cn_ban], default: on}
variants:
  no_ban: {toggles: {ban: off}}
"""


def _runs(path: Path, mode: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    results = [sc.simulate(path, variant=v, mode=mode) for v in (None, "no_ban")]
    measures = pd.concat([r.measures for r in results], ignore_index=True)
    return measures, world_shortfall(pd.concat([r.shortfall for r in results], ignore_index=True))


@pytest.mark.parametrize("mode", ["rebalance", "fixed"])
def test_a_harsher_variant_with_a_lower_exposed_share_is_found_only_where_it_happens(
        write: Callable[..., Path], mode: str) -> None:
    measures, world = _runs(write("tiny.yaml", TINY), mode)
    us = measures.query("year == 2025 and country == 'US' and metric in ['exposed_share', 'shortfall_share']")
    got = {(v, k): x for v, k, x in zip(us["variant"], us["metric"], us["value"], strict=True)}
    assert got[("no_ban", "exposed_share")] == pytest.approx(1.0)
    assert world.query("year == 2025 and variant == 'no_ban'")["shortfall"].item() == pytest.approx(0.0)
    found = exposure_falls(measures, world)
    if mode == "fixed":
        assert got[("base", "exposed_share")] == pytest.approx(1.0)  # C = 0: all 100 t unmet
        assert found.empty
        assert exposure_falls_note(measures, world) == ""
        return
    assert got[("base", "exposed_share")] == pytest.approx(0.5)  # (50 · 0 + 50)/100
    assert got[("base", "shortfall_share")] == pytest.approx(0.5)
    assert world.query("year == 2025 and variant == 'base'")["shortfall"].item() == pytest.approx(50.0)
    assert len(found) == 1  # only the US, 2025; China's own use is 100 % exposed in both
    row = found.iloc[0]
    assert (row["country"], row["commodity"], int(row["year"]), row["harsher"], row["milder"]) == (
        "US", "m", 2025, "base", "no_ban")
    assert (float(row["exposed_harsher"]), float(row["exposed_milder"])) == pytest.approx((0.5, 1.0))
    assert (float(row["short_harsher"]), float(row["short_milder"])) == pytest.approx((50.0, 0.0))


def test_compare_prints_one_note_when_exposure_falls(run_cli: Callable[..., Any], write: Callable[..., Path]) -> None:
    path = write("tiny.yaml", TINY)
    out = run_cli("compare", path, "--workers", "1")
    assert out.returncode == 0, out.stderr
    notes = [line for line in out.stdout.splitlines() if line.startswith("Exposure falls where more is unmet")]
    assert notes == [
        "Exposure falls where more is unmet: US m 2025 is 50% exposed under base, where 50 t product is "
        "unmet worldwide, against 100% under no_ban (0 t product unmet). A deeper ban frees supply from outside "
        "the source that the re-routing sends to the short, so the secure share rises while what is lost counts "
        "once: compare severities on the shortfall share (docs/measures.md §3b). JP's trade into US rises by 50 t "
        "product: it replaced the blocked supply, and the response takes every supplier the policies do not block "
        "as available at no cost (docs/rebalance.md)."]  # Japan's 50 t, China's own use before, go to the US
    fixed = run_cli("compare", path, "--workers", "1", "--mode", "fixed")
    assert fixed.returncode == 0, fixed.stderr
    assert "Exposure falls" not in fixed.stdout
    year_2024 = run_cli("compare", path, "--workers", "1", "--year", "2024")  # no ban yet: nothing to say
    assert "Exposure falls" not in year_2024.stdout


def test_the_report_says_it_and_shows_the_unmet_share_beside_each_verdict(
        run_cli: Callable[..., Any], write: Callable[..., Path], tmp_path: Path) -> None:
    # the same world with a target "US m exposed <= 90 % by 2025": under the ban it passes at 50 % exposed,
    # with 50 % of demand unmet (hand: above); with no ban it fails at 100 %, 0 % unmet. The summary's targets
    # table carries the unmet share beside the value, and the headline the note.
    path = write("tiny.yaml", TINY + "targets:\n  us_m: {country: US, commodity: m, max: 0.9, by: 2025}\n")
    out = run_cli("report", path, "--output", tmp_path / "rep", "--workers", "1")
    assert out.returncode == 0, out.stderr
    summary = (tmp_path / "rep" / "summary.md").read_text(encoding="utf-8")
    assert "| target | variant | value | unmet | threshold | verdict | reason |" in summary
    assert "| us\\_m | base | 50% | 50% | ≤ 90% | PASS |" in summary
    assert "| us\\_m | no\\_ban | 100% | 0% | ≤ 90% | FAIL |" in summary
    assert summary.count("Exposure falls where more is unmet: US m 2025 is 50% exposed under base") == 1
    run = run_cli("run", path)
    assert run.returncode == 0, run.stderr
    row = next(line for line in run.stdout.splitlines() if "us_m" in line and "2025" in line)
    assert [c.strip() for c in row.split("│")[6:9]] == ["50%", "50%", "90%"]  # value, unmet, threshold


REPLACED = """\
scenario: {name: Tiny replacement world, base_year: 2024, horizon: 2025}
commodities:
  m: {name: Gallium, stage: metal, basis: t Ga, family: gallium}
facilities:
  cn_plant: {name: China plant, country: CN, kind: aggregate, output: m, capacity: 100, utilisation: 1}
  ru_plant: {name: Russia plant, country: RU, kind: aggregate, output: m, capacity: 50, utilisation: 1}
flows:
  cn_us: {supplier: cn_plant, buyer: US, commodity: m, year: 2024, tonnes: 30}
demand:
  cn: {country: CN, commodity: m, year: 2024, tonnes: 70}
  us: {country: US, commodity: m, year: 2024, tonnes: 30}
policies:
  cn_ban: {type: export_ban, country: CN, covers: {families: [gallium]}, partners: {include: [US]},
           start: 2025-01-01, share_blocked: 1.0}
toggles:
  ban: {controls: [cn_ban], default: on}
variants:
  no_ban: {toggles: {ban: off}}
"""
"""Nothing is ever unmet: China makes 100 t (70 t for its own use, 30 t to the US); Russia's 50 t have no
buyer in the data (its surplus node). Base: China bans its exports to the US from 1 January 2025.

By hand, 2025, ``rebalance``:

* ``no_ban``: the US gets its 30 t from China: traced t = 1, exposed = (30 · 1 + 0)/30 = **1.0**;
  blocked B = 0 t; world shortfall S = 0 t.
* ban: China's 30 t to the US are blocked (B = 30 · 1 = 30 t); the response cuts Russia's surplus
  and sends 30 t to the US: t = 0 (Russia), exposed = (30 · 0 + 0)/30 = **0.0**; S = 0 t.

S is 0 t in both, so the old rule (more unmet) sees no harsher run; by the blocked tonnes the ban
is harsher (30 t > 0 t) and its exposure falls (0 < 1): the note fires, and names Russia, whose
trade into the US rises by 30 − 0 = 30 t (China's falls by 30 t: never the replacement).
"""


def test_more_blocked_and_nothing_unmet_is_noted_with_the_supplier_that_replaced_the_source(
        write: Callable[..., Path]) -> None:
    path = write("replaced.yaml", REPLACED)
    results = [sc.simulate(path, variant=v, mode="rebalance") for v in (None, "no_ban")]
    measures = pd.concat([r.measures for r in results], ignore_index=True)
    shortfall = pd.concat([r.shortfall for r in results], ignore_index=True)
    blocked, inflows = flow_sums(pd.concat([r.flows for r in results], ignore_index=True))
    world = world_shortfall(shortfall, blocked)
    w25 = world.query("year == 2025").set_index("variant")
    assert (w25.loc["base", "shortfall"], w25.loc["no_ban", "shortfall"]) == pytest.approx((0.0, 0.0))
    assert (w25.loc["base", "blocked"], w25.loc["no_ban", "blocked"]) == pytest.approx((30.0, 0.0))
    assert exposure_falls(measures, world_shortfall(shortfall)).empty  # by the unmet tonnes alone: nothing
    found = exposure_falls(measures, world, inflows, "CN")
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["country"], int(row["year"]), row["harsher"], row["milder"], row["by"]) == (
        "US", 2025, "base", "no_ban", "blocked")
    assert (float(row["exposed_harsher"]), float(row["exposed_milder"])) == pytest.approx((0.0, 1.0))
    assert (row["replaced_by"], float(row["replaced"])) == ("RU", pytest.approx(30.0))
    note = exposure_falls_note(measures, world, {"m": "t Ga"}, inflows, "CN")
    assert note.startswith("Exposure falls where more is blocked: US m 2025 is 0% exposed under base, where 30 t Ga "
                           "of trade is blocked worldwide, against 100% under no_ban (0 t Ga blocked)")
    assert "RU's trade into US rises by 30 t Ga: it replaced the blocked supply" in note


def test_path_to_2030_names_russia_for_us_gallium_when_the_truce_lapses(run_cli: Callable[..., Any]) -> None:
    # status_quo: No. 46 back on the US from 2026-11-28, 2,836.092 kg/yr blocked in 2027-30 (the CN → US direct
    # imports, 0.149268 · 19,000 kg); all_deals_truce: suspended, 0 kg blocked; nothing unmet in either
    # (s37 review G-3). The US is 81.9 % exposed under status_quo against 96.8 %: Russia's unallocated 2024
    # output replaces China's 2,836 kg.
    out = run_cli("compare", "scenarios/path_to_2030.yaml", "--variant", "status_quo", "--variant", "all_deals_truce",
                  "-c", "US", "--commodity", "gallium", "--workers", "1")
    assert out.returncode == 0, out.stderr
    note = next(line for line in out.stdout.splitlines() if line.startswith("Exposure falls"))
    assert note.startswith("Exposure falls where more is blocked: US gallium 20")
    assert "82% exposed under status_quo, where 2,836 kg Ga of trade is blocked worldwide, against 97% under " \
           "all_deals_truce (0 kg Ga blocked)" in note
    assert "RU's trade into US rises by 2,836 kg Ga" in note
