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
        "once: compare severities on the shortfall share (docs/measures.md §3b)."]
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
