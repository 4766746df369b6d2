"""Headings, captions and picture labels name the run's source country, not China whatever it is.

Every bundled scenario measures exposure to CN, so the labels once said "China" as a constant.
A world whose source is Japan (``scenario.source_country: JP``) and that has no Chinese actor
at all must not print "China" anywhere in the report, the notebook view or the pictures; a
CN world measured to Japan (``simulate(source="JP")``) names Japan in every heading.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from supplychain.api import Result, simulate
from supplychain.io import load_text
from supplychain.report.answers import country_answer
from supplychain.report.dot_style import names_of
from supplychain.report.headline import source_name
from supplychain.report.html import write_report
from supplychain.report.notebook import headline_table, result_html
from supplychain.report.runs import ScenarioRun, run_scenario

SMALL_CN = Path(__file__).parent / "data" / "cli" / "small.yaml"

# The small CLI world (tests/data/cli/small.yaml) with Japan in China's place and Korea in Japan's:
# Japan mines and separates, exports 2,000 t NdPr oxide to the US and bans its exports from
# 2025-09-01; Malaysia separates Australian concentrate for the US (1,000 t) and Korea (1,000 t).
# No actor, name or text in it is Chinese.
JP_WORLD = """
scenario:
  name: Small world measured to Japan
  question: Does a Japanese export ban leave US NdPr oxide short?
  base_year: 2024
  horizon: 2026
  source_country: JP
commodities:
  conc: {name: Rare-earth concentrate, stage: ore, basis: t REO, family: rare_earths, elements: [Nd, Pr]}
  ndpr: {name: NdPr oxide, stage: oxide, basis: t REO, family: rare_earths, elements: [Nd, Pr]}
processes:
  sep:
    inputs: {conc: {value: 5, assumption: "illustrative: 20 % NdPr in concentrate"}}
    outputs: {ndpr: {value: 1, assumption: "reference output"}}
facilities:
  jp_mine:
    {name: Northern mines, country: JP, kind: aggregate, output: conc,
     capacity: {value: 50000, assumption: illustrative}, utilisation: {value: 1, assumption: illustrative}}
  au_mine:
    {name: Australian mine, country: AU, kind: mine, output: conc,
     capacity: {value: 10000, assumption: illustrative}, utilisation: {value: 1, assumption: illustrative}}
  jp_sep:
    {name: Coastal separation, country: JP, kind: aggregate, process: sep,
     capacity: {value: 10000, assumption: illustrative}, utilisation: {value: 1, assumption: illustrative}}
  my_sep:
    {name: Malaysian separation, country: MY, kind: separation, process: sep,
     capacity: {value: 2000, assumption: illustrative}, utilisation: {value: 1, assumption: illustrative}}
flows:
  au_my_conc:
    {supplier: au_mine, buyer: my_sep, commodity: conc, year: 2024,
     tonnes: {value: 10000, assumption: illustrative}}
  jp_us_ndpr:
    {supplier: JP, buyer: US, commodity: ndpr, year: 2024,
     tonnes: {value: 2000, assumption: illustrative}}
  my_us_ndpr:
    {supplier: MY, buyer: US, commodity: ndpr, year: 2024,
     tonnes: {value: 1000, assumption: illustrative}}
  my_kr_ndpr:
    {supplier: MY, buyer: KR, commodity: ndpr, year: 2024,
     tonnes: {value: 1000, assumption: illustrative}}
demand:
  us: {country: US, commodity: ndpr, year: 2024, tonnes: {value: 3000, assumption: illustrative}}
  kr: {country: KR, commodity: ndpr, year: 2024, tonnes: {value: 1000, assumption: illustrative}}
  jp: {country: JP, commodity: ndpr, year: 2024, tonnes: {value: 8000, assumption: illustrative}}
policies:
  jp_ban:
    {type: export_ban, name: Japan bans rare-earth exports, country: JP, covers: {families: [rare_earths]},
     start: 2025-09-01, assumption: hypothetical full ban}
toggles:
  jp_ban_on: {description: "Japan's export ban is in force", controls: [jp_ban], default: on}
variants:
  no_ban: {description: The ban is lifted, toggles: {jp_ban_on: off}}
targets:
  us_ndpr_25:
    {description: "Traced Japan share of US NdPr oxide at most 25 % by 2026", country: US, commodity: ndpr,
     max: 0.25, by: 2026}
"""


@pytest.fixture(scope="module")
def jp_run() -> ScenarioRun:
    sc = load_text(JP_WORLD, "jp_world.yaml")
    return run_scenario(sc, mode="fixed", file="jp_world.yaml")


def test_the_source_is_named_from_the_scenario_then_its_common_name() -> None:
    sc = load_text(JP_WORLD.replace("targets:", "countries:\n  JP: {name: Nippon}\ntargets:"), "named.yaml")
    assert source_name(["JP"], names_of(sc)) == "Nippon"
    assert source_name(["JP"]) == "Japan"  # not named by the scenario: the common name
    assert source_name(["XQ"]) == "XQ"  # no such country: the code


def test_a_japan_source_world_report_never_says_china(jp_run: ScenarioRun, tmp_path: Path) -> None:
    result = jp_run.results[0]
    assert result.source == "JP"
    out = write_report([jp_run], tmp_path / "report")
    texts = {p.name: p.read_text(encoding="utf-8") for p in [out / "index.html", out / "summary.md",
                                                              out / "results.json"]}  # fmt: skip
    texts |= {p.name: p.read_text(encoding="utf-8") for p in (out / "images").glob("*.svg")}
    assert len(texts) > 3  # the pictures and charts are there
    leaks = {name: text[max(text.find("China") - 60, 0):text.find("China") + 20]
             for name, text in texts.items() if "China" in text}  # fmt: skip
    assert not leaks
    page = texts["index.html"]
    assert "<title>Critical-mineral supply chains: exposure to Japan</title>" in page
    assert "processed in Japan at any upstream stage" in page
    assert "traced Japan share of what arrives" in page  # the answer's and the section's heading
    assert "traced Japan share" in page
    assert "direct import share from Japan" in page
    # US NdPr oxide in 2024: 2,000 of 3,000 t from Japan (its own mines, 100 % Japanese), 1,000 t from
    # Malaysia (Australian concentrate, 0 %): exposure 2/3
    assert "exposed to Japan in 2024" in page
    assert "United States · NdPr oxide: 67% exposed to Japan in 2024." in texts["summary.md"]
    network = next(text for name, text in texts.items() if "chain-baseline" in name)
    assert "Fill: traced Japan share" in network
    assert "100% Japan" in network


def test_notebook_view_and_drawing_name_the_source(jp_run: ScenarioRun) -> None:
    result = jp_run.results[0]
    table = headline_table(result)
    assert "traced Japan share 2024" in table.columns
    html = result_html(result)
    assert "traced to Japan" in html
    assert "China" not in html
    svg = result.draw(2024, baseline=True).svg()
    assert "traced Japan share" in svg
    assert "China" not in svg


def test_a_china_world_measured_to_japan_names_japan_in_its_headings() -> None:
    sc = load_text(SMALL_CN.read_text(encoding="utf-8"), "small.yaml")
    result: Result = simulate(sc, mode="fixed", source="JP")
    assert result.source == "JP"
    view = country_answer([ScenarioRun(sc, (result,))], "US", None, names_of(sc), ["small"])
    assert view["metrics"][1] == "traced Japan share of what arrives"
    assert view["source"] == "Japan"
    # the US takes nothing from Japan: 2,000 t from China, 1,000 t from Malaysia (Australian ore)
    assert view["sentence"].startswith("United States · NdPr oxide: 0% exposed to Japan in 2024.")
    assert not any("China" in m for m in view["metrics"])


def test_the_default_source_of_simulate_is_the_scenarios() -> None:
    sc = load_text(JP_WORLD, "jp_world.yaml")
    assert simulate(sc, mode="fixed", years=[2024]).source == "JP"
    cn = load_text(SMALL_CN.read_text(encoding="utf-8"), "small.yaml")
    base = simulate(cn, mode="fixed", years=[2024])
    assert base.source == "CN"
    view = country_answer([ScenarioRun(cn, (base,))], "US", None, names_of(cn), ["small"])
    assert view["metrics"][1] == "traced China share of what arrives"  # the bundled CN worlds still say China
