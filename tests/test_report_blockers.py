"""A ``fixed`` shortfall names the measures of countries other than the source in force in its run (review 4, R-4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplychain.io import load
from supplychain.report.blockers import other_blockers
from supplychain.report.dot_style import names_of
from supplychain.report.html import ScenarioRun, run_scenario
from supplychain.report.tables import _concat, _shortfall_table, worst_shortfall_text

# China's plant runs on 80 t of its own ore (its mine could make 100 t) and 20 t bought from the US
# (5 t ore per t oxide: 20 t of oxide); it sells 10 t to China's users and 10 t to Japan. China's
# gallium mine sells 10 t to the US; Japan's (20 t capacity) makes 10 t for Japan. From 2025 the US
# stops its ore sales to China (a US measure, not China's); China bans gallium exports to the US.
# Under `fixed` nothing is re-routed: the plant gets 80 of its 100 t of ore and makes 16 t, shared
# pro rata over its two buyers (8 t each): Japan is short 2 of 10 t (20 %), and so is China,
# although no Chinese measure touches oxide; the US is short all 10 t of gallium (100 %), by China's
# own ban. Under `rebalance` China mines 20 t more and Japan makes the US's gallium: nobody is short,
# so both fixed figures are shown. The oxide ones carry the US halt (20 t of ore blocked a year),
# the gallium one does not: the halt is named beside the oxide rows only.
SCENARIO = """
scenario: {name: Halt test, base_year: 2024, horizon: 2025}
commodities:
  ore: {name: REE ore, stage: ore, basis: t REO, family: rare_earths}
  oxide: {name: REE oxide, stage: oxide, basis: t REO, family: rare_earths}
  gallium: {name: Gallium, stage: metal, basis: t, family: gallium}
processes:
  sep: {inputs: {ore: 5.0}, outputs: {oxide: 1.0}}
facilities:
  cn_mine: {name: CN mine, country: CN, kind: mine,
    output: ore, capacity: 100, production: {2024: 80}, utilisation: 0.8}
  us_mine: {name: US mine, country: US, kind: mine,
    output: ore, capacity: 20, production: {2024: 20}, utilisation: 1.0}
  cn_sep: {name: CN plant, country: CN, kind: separation,
    process: sep, capacity: 20, production: {2024: 20}, utilisation: 1.0}
  cn_ga: {name: CN gallium, country: CN, kind: mine,
    output: gallium, capacity: 10, production: {2024: 10}, utilisation: 1.0}
  jp_ga: {name: JP gallium, country: JP, kind: mine,
    output: gallium, capacity: 20, production: {2024: 10}, utilisation: 0.5}
flows:
  us_cn: {supplier: US, buyer: CN, commodity: ore, year: 2024, tonnes: 20}
  cn_jp: {supplier: CN, buyer: JP, commodity: oxide, year: 2024, tonnes: 10}
  cn_us_ga: {supplier: CN, buyer: US, commodity: gallium, year: 2024, tonnes: 10}
demand:
  cn: {country: CN, commodity: oxide, year: 2024, tonnes: 10}
  jp: {country: JP, commodity: oxide, year: 2024, tonnes: 10}
  us: {country: US, commodity: gallium, year: 2024, tonnes: 10}
  jp_ga: {country: JP, commodity: gallium, year: 2024, tonnes: 10}
policies:
  us_halt: {type: export_ban, country: US, covers: {commodities: [ore]}, partners: {include: [CN]}, start: 2025-01-01}
  cn_ga_ban: {type: export_ban, country: CN, covers: {commodities: [gallium]}, partners: {include: [US]},
              start: 2025-01-01}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> ScenarioRun:
    path = tmp_path_factory.mktemp("halt") / "halt.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return run_scenario(load(path), file=str(path))


def test_other_blockers_name_the_us_halt_not_chinas_ban(run: ScenarioRun) -> None:
    (result,) = run.results
    found = other_blockers(result, run.scenario, names_of(run.scenario))
    assert found == [("us_halt", "US", "us_halt (United States; up to 20 t REO of REE ore a year)")]
    assert other_blockers(result, run.scenario, {}, ["gallium"]) == []  # another family: not named
    assert [p for p, _, _ in other_blockers(result, run.scenario, {}, ["oxide"])] == ["us_halt"]


def test_fixed_figures_say_which_other_measures_they_carry(run: ScenarioRun) -> None:
    names = names_of(run.scenario)
    fixed = run.fixed_shortfall
    assert fixed is not None
    jp = fixed[(fixed["country"] == "JP") & (fixed["commodity"] == "oxide") & (fixed["year"] == 2025)]
    assert float(jp["shortfall_share"].iloc[0]) == pytest.approx(0.2)  # 10 - 10 x 16/20 = 2 t of 10
    table = _shortfall_table(run, _concat(run.results, "shortfall"), names)
    cells = {row["what"]: row["cells"][0] for row in table["rows"]}
    oxide = [c for what, c in cells.items() if "REE oxide" in what]
    gallium = [c for what, c in cells.items() if "Gallium" in what]
    assert oxide
    assert oxide == ["none; fixed: 20% in 2025 (2.0 t REO in all) (with US measures in force)"] * 2
    assert gallium == ["none; fixed: 100% in 2025 (10 t in all)"]
    assert "us_halt (United States; up to 20 t REO of REE ore a year)" in table["note"]
    assert "a cut to China's own imports reaches every buyer of its products pro rata" in table["note"]
    worst = worst_shortfall_text(run, _concat(run.results, "shortfall"), run.results[0].variant, names)
    # the run's worst fixed bound is the US's gallium (100 %, China's ban): the US halt blocks REE ore, another
    # family, so the sentence names no other measure
    assert worst == "none; fixed: 100% (United States · Gallium, 2025)"


def test_a_fixed_cut_reaches_every_buyer_of_the_plant_pro_rata(run: ScenarioRun) -> None:
    # The rule the blockers exist for (docs/rebalance.md, "`fixed`: patterns stay, losses propagate"): China's
    # plant gets 80 of its 100 t of ore, makes 80 / 5 = 16 of 20 t, and each buyer gets 10 x 16/20 = 8 t,
    # China's own users as Japan: both 2 of 10 t short (20 %), in 2025 only; the US 10 of 10 t of gallium.
    # Under rebalance nobody is short (China mines 20 t more; Japan's idle 10 t of gallium go to the US).
    fixed = run.fixed_shortfall
    assert fixed is not None
    rows = zip(fixed["country"], fixed["commodity"], fixed["year"], fixed["shortfall_share"], strict=True)
    got = {(str(c), str(k)): float(x) for c, k, y, x in rows if y == 2025 and x > 0}
    assert got == pytest.approx({("CN", "oxide"): 0.2, ("JP", "oxide"): 0.2, ("US", "gallium"): 1.0})
    assert float(run.results[0].shortfall["shortfall"].sum()) == pytest.approx(0.0, abs=1e-6)


# G-5: the same world, but the US sells China only 2 t of ore (China's mine 98 t): the halt blocks 2 t a year,
# China's plant makes 100/5 -> 98/5 = 19.6 t under fixed, each buyer gets 9.8 of 10 t, 2 % short, less than the
# 5-point gap (RESPONSE_GAP), so no oxide row is shown. The table has the gallium row only, whose cell names no
# other measure (another family), and so the note names none either: before, it named the halt from the run's
# unfiltered list ("us_halt (United States; up to 2 t REO of REE ore a year)") under a gallium-only table.
SMALL_HALT = (SCENARIO.replace("production: {2024: 80}, utilisation: 0.8", "production: {2024: 98}, utilisation: 0.98")
              .replace("capacity: 20, production: {2024: 20}, utilisation: 1.0}\n  cn_sep",
                       "capacity: 20, production: {2024: 2}, utilisation: 0.1}\n  cn_sep")
              .replace("us_cn: {supplier: US, buyer: CN, commodity: ore, year: 2024, tonnes: 20}",
                       "us_cn: {supplier: US, buyer: CN, commodity: ore, year: 2024, tonnes: 2}"))


def test_the_note_names_only_the_measures_its_cells_carry(tmp_path: Path) -> None:
    assert SMALL_HALT.count("98") == 2  # the three edits took
    assert "tonnes: 2}" in SMALL_HALT
    assert "{2024: 2}" in SMALL_HALT
    path = tmp_path / "small_halt.yaml"
    path.write_text(SMALL_HALT, encoding="utf-8")
    small = run_scenario(load(path), file=str(path))
    names = names_of(small.scenario)
    (result,) = small.results
    assert [p for p, _, _ in other_blockers(result, small.scenario, names)] == ["us_halt"]  # in force, 2 t a year
    fixed = small.fixed_shortfall
    assert fixed is not None
    oxide = fixed[(fixed["commodity"] == "oxide") & (fixed["year"] == 2025)]
    assert sorted(oxide["shortfall_share"]) == pytest.approx([0.02, 0.02])  # 0.2 t of 10 t each
    table = _shortfall_table(small, _concat(small.results, "shortfall"), names)
    assert [(row["what"], row["cells"]) for row in table["rows"]] == [
        ("United States · Gallium", ["none; fixed: 100% in 2025 (10 t in all)"])]
    assert "fixed:" in table["note"]  # the fixed rule is explained ...
    assert "us_halt" not in table["note"]  # ... but no measure that no cell carries is named
    assert "countries other than China" not in table["note"]


def test_the_answer_sentence_names_them_beside_its_fixed_bound(run: ScenarioRun) -> None:
    from supplychain.report.answers import country_answer

    view = country_answer([run], "JP", "oxide", names_of(run.scenario), ["s"])
    assert "Under the fixed response" in view["sentence"]
    assert "20% unmet in 2025 (halt, base) (with US measures in force)." in view["sentence"]


def test_the_overview_gives_the_focus_commodity_fixed_bound_too(run: ScenarioRun) -> None:
    # review 4, R-10(d): the variant's largest fixed bound is the US's gallium (100 %); the section's
    # focus commodity is the oxide, whose own fixed bound (20 %, China and Japan, by the US halt) the
    # overview used to drop. Both are said, each with the other countries' measures its run carries.
    names = names_of(run.scenario)
    text = worst_shortfall_text(run, _concat(run.results, "shortfall"), run.results[0].variant, names, "oxide")
    assert text == ("none; fixed: 100% (United States · Gallium, 2025); fixed, REE oxide: 20% (China, Japan · "
                    "REE oxide, 2025) (with US measures in force)")
    assert worst_shortfall_text(run, _concat(run.results, "shortfall"), "base", names, "gallium") == (
        "none; fixed: 100% (United States · Gallium, 2025)")
