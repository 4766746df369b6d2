"""What limits supply: relief of each full stage outside the source, on hand-worked two-stage worlds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook

from supplychain.report.dot_style import names_of
from supplychain.report.html import write_report
from supplychain.report.limits import limits_table
from supplychain.report.runs import run_scenario
from supplychain.schema.model import Scenario
from supplychain.simulation.limits import TOGETHER, capacity_limits
from supplychain.simulation.run import RunOutput, Simulator

YEAR = 2025


def two_stage(br_spare: bool) -> Scenario:
    """Ore is smelted into metal (2 t ore per t metal); metal is used. China's exports of both are banned in 2025.

    CN: a mine of 1,000 t ore feeds a smelter of 400 t metal (capacity 500) that ships 300 t to the
    US and keeps 100 t. AU mines 300 t ore (at capacity): 200 t to Japan's smelter (100 t metal, at
    capacity) and 100 t to users of ore in Korea. Demand for metal: US 300 t, JP 100 t, CN 100 t; for
    ore: KR 100 t. With ``br_spare`` a Brazilian mine can make 100 t ore and makes none. Only Japan's
    smelter capacity cites a source; the others are assumptions.
    """
    def years(t: float) -> dict[int, float]:
        return {2024: t, YEAR: t}

    facilities: dict[str, Any] = {
        "cn_mine": {"name": "CN mine", "country": "CN", "kind": "mine", "output": "ore",
                    "production": years(1000), "capacity": 1000},
        "cn_smelter": {"name": "CN smelter", "country": "CN", "kind": "metal", "process": "smelt",
                       "production": years(400), "capacity": 500},
        "au_mine": {"name": "AU mine", "country": "AU", "kind": "mine", "output": "ore",
                    "production": years(300), "capacity": 300},
        "jp_smelter": {"name": "JP smelter", "country": "JP", "kind": "metal", "process": "smelt",
                       "production": years(100), "capacity": {"value": 100, "source": "jp_report"}},
    }
    if br_spare:
        facilities["br_mine"] = {"name": "BR mine", "country": "BR", "kind": "mine", "output": "ore",
                                 "production": years(0), "capacity": 100}
    flows = {"cn_us": ("cn_smelter", "US", "metal", 300), "au_jp": ("au_mine", "jp_smelter", "ore", 200),
             "au_kr": ("au_mine", "KR", "ore", 100)}
    demand = {"US": ("metal", 300), "JP": ("metal", 100), "CN": ("metal", 100), "KR": ("ore", 100)}
    data: dict[str, Any] = {
        "scenario": {"name": "two stages", "base_year": 2024, "horizon": YEAR},
        "sources": {"jp_report": {"title": "JP smelter annual report"}},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}, "metal": {"name": "Metal", "stage": "metal"}},
        "processes": {"smelt": {"inputs": {"ore": 2}, "outputs": {"metal": 1}}},
        "facilities": facilities,
        "demand": {f"{c.lower()}_use": {"country": c, "commodity": k, "year": 2024, "tonnes": t}
                   for c, (k, t) in demand.items()},
        "flows": {fid: {"supplier": s, "buyer": b, "commodity": k, "year": 2024, "tonnes": t}
                  for fid, (s, b, k, t) in flows.items()},
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["ore", "metal"]},
                                "start": f"{YEAR}-01-01"}},
    }
    return Scenario.model_validate(data)


def test_the_smelter_binds_and_the_full_mine_does_not() -> None:
    # Under the ban China's 300 t to the US stop; outside China only Japan's smelter makes metal, and
    # under contracts_first its 100 t stay with Japan's users: the US is 300 t short. Japan's smelter
    # and the AU mine run full (BR's mine is idle, not full; China's own are never tested).
    # +10 % on the smelter: 110 t metal from 220 t ore, the extra 20 t from BR's spare mine (AU's 100 t
    # to Korea are Korea's contract) → 10 t more reach the US. +10 % on the AU mine (330 t): no smelter
    # can take the ore → no relief, although the mine runs full.
    got = capacity_limits(two_stage(br_spare=True), YEAR)
    alone = got[got["stage"] != TOGETHER].set_index("stage")
    assert set(alone.index) == {"metal", "ore"}
    assert alone.loc["metal", "facilities"] == "jp_smelter"
    assert alone.loc["metal", "assumed"] == ""  # its capacity cites jp_report
    assert alone.loc["ore", "assumed"] == "au_mine"
    assert alone.loc["metal", "capacity"] == pytest.approx(100.0)
    assert alone.loc["metal", "added"] == pytest.approx(10.0)
    assert alone.loc["metal", "unmet"] == pytest.approx(300.0)
    assert alone.loc["metal", "relief"] == pytest.approx(10.0)
    assert alone.loc["metal", "relief_share"] == pytest.approx(10 / 300)
    assert alone.loc["ore", "facilities"] == "au_mine"
    assert alone.loc["ore", "relief"] == 0.0
    assert got["stage"].tolist()[0] == "metal"  # the binding stage first
    assert got.loc[got["stage"] == TOGETHER, "relief"].tolist() == pytest.approx([10.0])


def test_two_stages_that_bind_only_together_show_it_in_the_last_row() -> None:
    # Without BR's mine, +10 % on the smelter alone finds no ore (AU is full and its 100 t to Korea
    # are Korea's contract); +10 % on the mine alone (330 t) finds no smelter. Together: 110 t metal
    # from 220 t ore → 10 t less unmet.
    got = capacity_limits(two_stage(br_spare=False), YEAR).set_index("stage")
    assert got.loc["metal", "relief"] == 0.0
    assert got.loc["ore", "relief"] == 0.0
    assert got.loc[TOGETHER, "relief"] == pytest.approx(10.0)
    assert got.loc[TOGETHER, "facilities"] == "au_mine, jp_smelter"
    assert np.isnan(got.loc[TOGETHER, "capacity"])  # 300 t ore and 100 t metal are not added
    # the report says so in a row of its own
    run = run_scenario(two_stage(br_spare=False))
    view = limits_table(run, YEAR, names_of(run.scenario))
    assert [r["stage"] for r in view["rows"]] == ["every stage at capacity, together"]
    assert view["rows"][0]["relief"] == "Metal: unmet cut by 10 t (3% of 300 t)"


def test_nobody_short_gives_no_rows_and_bad_arguments_are_errors() -> None:
    s = two_stage(br_spare=True)
    assert capacity_limits(s, 2024).empty  # the ban starts in 2025
    assert capacity_limits(s, YEAR, commodities=["ore"]).empty  # nobody is short of ore
    with pytest.raises(ValueError, match="year 2031"):
        capacity_limits(s, 2031)
    with pytest.raises(ValueError, match="positive share"):
        capacity_limits(s, YEAR, step=0.0)


def test_the_report_lists_the_binding_stage_and_the_full_ones_without_relief(tmp_path: Path) -> None:
    run = run_scenario(two_stage(br_spare=True))
    write_report([run], tmp_path)
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert f"### What limits supply ({YEAR})" in text
    row = next(line for line in text.splitlines() if line.startswith("| base | Metal"))
    assert "| jp\\_smelter |" in row  # sourced: no *
    assert "Metal: unmet cut by 10 t (3% of 300 t)" in row
    assert row.rstrip().endswith("| Ore (au\\_mine\\*) |")  # the full mine, without relief on its own; assumed
    assert "What limits supply" in (tmp_path / "index.html").read_text(encoding="utf-8")
    sheet = load_workbook(tmp_path / "tables.xlsx")["What limits supply"]
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert first["scenario"] == "two stages"
    assert (first["stage +10%"], first["plants at capacity"], first["less unmet"]) == ("metal", "jp_smelter", 10)


def test_limits_csv_has_its_header_when_nobody_is_short(tmp_path: Path) -> None:
    # The same world with the ban's year left out: nobody is short, no section table, an empty limits.csv.
    data = two_stage(br_spare=True).model_dump(exclude_none=True)
    data["scenario"]["horizon"] = 2024
    write_report([run_scenario(Scenario.model_validate(data))], tmp_path)
    assert (tmp_path / "limits.csv").read_text(encoding="utf-8").splitlines() == [
        "scenario,variant,year,stage,stage_unit,facilities,assumed,capacity,added,commodity,unit,unmet,relief,"
        "relief_share"]
    assert "What limits supply" not in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_a_stage_is_paired_only_with_the_short_commodities_made_from_it() -> None:
    # The bundled full ban, 2030: magnets and the USGS compounds aggregate are short. Magnets are made
    # from metal, oxide, concentrate …; the compounds pools from other_reo. No magnet stage is paired with
    # the compounds' shortfall, and no pool with the magnets'.
    got = capacity_limits("scenarios/china_full_ban_2025.yaml", 2030)
    alone = got[got["stage"] != TOGETHER]
    pairs = set(zip(alone["stage"], alone["commodity"], strict=True))
    assert ("ndpr_metal", "ndfeb_magnet") in pairs
    assert ("ree_compounds", "ree_compounds") in pairs
    assert ("ndfeb_magnet", "ree_compounds") not in pairs
    assert ("ree_compounds", "ndfeb_magnet") not in pairs


def test_a_capacity_is_sourced_when_the_figure_the_lp_uses_cites_a_source() -> None:
    from supplychain.simulation.limits import capacity_is_sourced

    # The LP's capacity is max(nameplate after ramp-up, the year's output). "a": an assumed nameplate of 100 t,
    # a sourced output of 120 t in 2025 → the LP uses the output: sourced; in 2024 (output 90 t) the
    # nameplate: assumed. "b": a sourced nameplate stepped to an assumed 150 t from 2025.
    s = Scenario.model_validate({
        "scenario": {"name": "provenance", "base_year": 2024, "horizon": 2025},
        "sources": {"rep": {"title": "Annual report"}},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}},
        "facilities": {
            "a": {"name": "A", "country": "AU", "kind": "mine", "output": "ore",
                  "capacity": {"value": 100, "assumption": "sized to its market"},
                  "production": {2024: {"value": 90, "source": "rep"}, 2025: {"value": 120, "source": "rep"}}},
            "b": {"name": "B", "country": "BR", "kind": "mine", "output": "ore", "production": {2024: 50},
                  "capacity": {"value": 100, "source": "rep"},
                  "capacity_changes": [{"year": 2025, "capacity": {"value": 150, "assumption": "expansion"}}]},
        },
    })
    assert not capacity_is_sourced(s, "a", 2024)
    assert capacity_is_sourced(s, "a", 2025)
    assert capacity_is_sourced(s, "b", 2024)
    assert not capacity_is_sourced(s, "b", 2025)


def _unmet_metal(out: RunOutput) -> float:
    s = out.shortfall
    return float(s.loc[(s["year"] == YEAR) & (s["commodity"] == "metal"), "shortfall_t"].sum())


def test_a_shared_simulator_keeps_no_capacity_or_basis_of_the_run_before() -> None:
    # capacity_limits solves every stage on one simulator: after a run with Japan's smelter at +10 %
    # (US 290 t short: test above), a run with the scale taken away is the base run again (300 t short),
    # not the scaled one, and a scaled run after it is 290 t again, as on simulators of their own.
    s = two_stage(br_spare=True)
    scale = {YEAR: {"jp_smelter": 1.1}}
    sim = Simulator(s, years=[YEAR], source="CN", exposure=False)
    got = []
    for sc in (scale, {}, scale):
        sim.capacity_scale = sc
        sim.restart()
        got.append(_unmet_metal(sim.run()))
    alone = [_unmet_metal(Simulator(s, years=[YEAR], source="CN", capacity_scale=sc).run()) for sc in (scale, {})]
    assert got == pytest.approx([290.0, 300.0, 290.0])
    assert got == pytest.approx([alone[0], alone[1], alone[0]], rel=1e-12)


def test_relief_on_a_shared_simulator_is_that_of_a_simulator_per_stage() -> None:
    # The bundled full ban, 2030 (with rationing rows in its LP): each stage's unmet demand equals a
    # separate simulation with that stage's plants at +10 %, up to the solver's round-off.
    from supplychain.io.load import load
    from supplychain.simulation.variants import run_variants

    s = load("scenarios/china_full_ban_2025.yaml")
    got = capacity_limits(s, 2030)
    assert not got[got["stage"] != TOGETHER].empty  # the full ban has full stages outside China to re-solve
    for stage, part in got[got["stage"] != TOGETHER].groupby("stage"):
        scale = {2030: dict.fromkeys(str(part["facilities"].iloc[0]).split(", "), 1.1)}
        (out,) = run_variants(s, [(None, None)], years=[2030], source="CN", capacity_scale=scale)
        short = out.shortfall[out.shortfall["shortfall_t"] > 0].groupby("commodity")["shortfall_t"].sum()
        for _, row in part.iterrows():
            after = float(short.get(row["commodity"], 0.0))
            relief = row["unmet"] - after
            assert row["relief"] == pytest.approx(relief if abs(relief) > 1e-9 * row["unmet"] else 0.0,
                                                  rel=1e-9, abs=1e-6), (stage, row["commodity"])
