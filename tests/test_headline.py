"""One headline rule (supplychain.report.headline) and the five outputs that follow it.

The notebook, the workbook, the report's answers, ``supplychain run`` and the README's
outcome tables used to pick their first rows by five drifted rules (alphabetical
commodities, every country, the shortfall table's order, a hard-coded commodity); these
tests pin the one rule by hand-worked cases and check that every output shows the same
first row, with the same numbers, for the same run.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from supplychain.api import Result, simulate
from supplychain.cli.run import headline_table as run_table
from supplychain.io import load
from supplychain.report.answers import country_answer
from supplychain.report.dot_style import names_of
from supplychain.report.headline import default_focus, headline_measures, headline_pairs, ranked_uses
from supplychain.report.notebook import headline_table as notebook_table
from supplychain.report.numbers import format_percent
from supplychain.report.runs import ScenarioRun
from supplychain.report.scenario_results import ScenarioOutcome, _headlines
from supplychain.report.workbook import write_workbook

PATH_2030 = Path(__file__).resolve().parents[1] / "scenarios" / "path_to_2030.yaml"


def _uses(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["country", "commodity", "stage", "demand"])


# ------------------------------------------------------------------ the rule, by hand
def test_the_use_furthest_down_the_chain_comes_first_whatever_its_size() -> None:
    # STAGES = ore, oxide, metal, magnet, product: the magnet (stage 3) outranks the 20,000 t oxide
    # (stage 1) although its demand is smaller; the metal (2) comes between them.
    uses = _uses(("US", "oxide_a", "oxide", 20_000.0), ("US", "magnet", "magnet", 500.0),
                 ("US", "metal", "metal", 10.0))
    assert ranked_uses(uses, "US") == ["magnet", "metal", "oxide_a"]
    assert headline_pairs(uses, ["US"]) == [("US", "magnet")]


def test_the_largest_demand_then_the_id_break_ties_within_a_stage() -> None:
    # two oxides: b's largest demand in any row (900, 2030) beats a's (800); c ties with b on 900
    # and comes after it by id. Zero demand is no use at all.
    uses = [_uses(("JP", "ox_a", "oxide", 800.0), ("JP", "ox_c", "oxide", 900.0)),
            _uses(("JP", "ox_b", "oxide", 100.0), ("JP", "ox_b", "oxide", 900.0), ("JP", "ox_z", "oxide", 0.0))]
    assert ranked_uses(uses, "JP") == ["ox_b", "ox_c", "ox_a"]


def test_focus_countries_and_a_commodity_asked_for() -> None:
    uses = _uses(("US", "magnet", "magnet", 5.0), ("US", "oxide", "oxide", 50.0), ("JP", "oxide", "oxide", 9.0))
    assert default_focus([]) == ["US"]
    assert default_focus(["US", "JP", "US"]) == ["JP", "US"]  # the targets' countries, sorted
    assert default_focus(["US"], ["KR", "JP"]) == ["KR", "JP"]  # asked for: in the order given
    # KR has no final demand: no headline row
    assert headline_pairs(uses, ["US", "KR", "JP"]) == [("US", "magnet"), ("JP", "oxide")]
    # every use, headline first; an asked commodity leads even where the country does not use it
    assert headline_pairs(uses, ["US"], every_use=True) == [("US", "magnet"), ("US", "oxide")]
    assert headline_pairs(uses, ["US", "JP"], "oxide") == [("US", "oxide"), ("JP", "oxide")]
    assert headline_pairs(uses, ["JP"], "magnet", every_use=True) == [("JP", "magnet"), ("JP", "oxide")]


def test_headline_measures_are_the_countrys_own_for_the_runs_source() -> None:
    m = pd.DataFrame({"country": ["US"] * 5 + ["JP"],
                      "metric": ["exposed_share", "traced_share", "traced_share", "shortfall_share", "hhi_sourcing",
                                 "exposed_share"],
                      "partner": [None, "MY", None, None, None, None],
                      "source_country": ["CN", "CN", "RU", None, None, "CN"],
                      "value": [0.9, 0.1, 0.2, 0.05, 0.4, 0.7]})
    # the per-partner row, the other source's row, a non-headline metric and (asked) JP are left out
    assert headline_measures(m, "CN", countries=["US"])["value"].tolist() == [0.9, 0.05]


# ------------------------------------------------------------------ the five outputs agree
@pytest.fixture(scope="module")
def result() -> Result:
    return simulate(load(PATH_2030))


def test_every_output_leads_with_the_same_row_and_numbers(result: Result, tmp_path: Path) -> None:
    # path_to_2030: every target is the US's, so the US is the only focus country. It has final demand
    # of ree_compounds (oxide stage), germanium and gallium (metal) and NdFeB magnets (magnet stage):
    # magnets come first everywhere; at the metal stage germanium (30 t Ge) before gallium
    # (19,000 kg Ga = 19 t: demand compared in tonnes), then the oxide stage. Before the one rule the notebook
    # and the workbook led with gallium (alphabetical / the shortfall table's order) and `run` with China's magnets.
    sc = load(PATH_2030)
    y0, y1 = result.years[0], result.years[-1]
    expected = ("US", "ndfeb_magnet")
    m = headline_measures(result.measures, result.source, countries=["US"]).set_index(["commodity", "metric", "year"])
    exposed_y1 = float(m.loc[("ndfeb_magnet", "exposed_share", y1), "value"])

    nb = notebook_table(result)
    assert tuple(nb.iloc[0][["country", "commodity"]]) == expected
    assert list(nb["commodity"]) == ["ndfeb_magnet", "germanium", "gallium", "ree_compounds"]
    assert nb.iloc[0][f"exposed share {y1}"] == format_percent(exposed_y1)

    cli = run_table(result, [y0, y1], ["US"])
    assert tuple(cli.iloc[0][["country", "commodity"]]) == expected
    assert list(cli["year"][:2]) == [y0, y1]  # the headline pair's years before the next use
    assert cli.iloc[1]["exposed_share"] == pytest.approx(exposed_y1)

    run = ScenarioRun(sc, (result,), str(PATH_2030))
    answer = country_answer([run], "US", None, names_of(sc), ["path"])
    assert answer["commodity_id"] == "ndfeb_magnet"
    horizon = answer["rows"][0]["cells"][2]  # exposure: base year, peak, horizon
    assert horizon["text"] == format_percent(exposed_y1)
    # a use never short in any run is said so, not credited to the first run that ties at 0
    zero = [o["shortfall"] for o in answer["others"] if o["shortfall"].startswith("0% ")]
    assert zero
    assert set(zero) == {"0% (in every run)"}

    ws = openpyxl.load_workbook(write_workbook(tmp_path / "t.xlsx", [run]))["US United States"]
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[:3] == ("commodity", "unit", "measure"))
    first = rows[head + 1]
    assert first[0] == names_of(sc)["ndfeb_magnet"]
    assert first[2] == "exposure incl. unmet demand"  # the one name (METRIC_LABELS), as in the report and compare
    assert first[3 + result.years.index(y1)] == pytest.approx(exposed_y1)

    outcome = ScenarioOutcome(PATH_2030.name, sc, pd.DataFrame(), result.shortfall)
    assert _headlines([outcome])[0] == expected


# ------------------------------------------------------------------ the scenario sections of the report
SMALL = Path(__file__).resolve().parent / "data" / "cli" / "small.yaml"


def test_a_section_without_targets_follows_the_one_rule_and_leads_with_exposure() -> None:
    # small.yaml without its target: final demand of NdPr oxide by US (3,000 t), JP (1,000 t) and
    # CN (8,000 t). No target anywhere, so the focus is the US and its one use is the section's
    # headline pair; the old fallback took the largest demands outside China (US, then JP).
    # The rows of the pair are the one headline's measures first (exposed, traced, shortfall),
    # then the first-hop ones.
    from supplychain.io import load_text
    from supplychain.report.headline import metric_labels
    from supplychain.report.runs import _focus_pairs
    from supplychain.report.tables import SECTION_METRICS, _concat, _headline

    text = SMALL.read_text(encoding="utf-8")
    sc = load_text(text[: text.index("targets:")], "no_targets.yaml")
    run = ScenarioRun(sc, (simulate(sc, mode="fixed"),))
    assert _focus_pairs(run) == ([("US", "ndpr")], False)
    view = _headline(run, _concat(run.results, "measures"), 2024, 2030, names_of(sc), [("US", "ndpr")])
    labels = [row["metric"] for row in view["rows"]]
    assert labels == [label for _, label in metric_labels(SECTION_METRICS, "China")]
    assert labels[:3] == ["exposure incl. unmet demand", "traced China share of what arrives",
                          "shortfall (share of demand)"]
    # 2030 under the ban (fixed): 2,000 of 3,000 t unmet, MY's 1,000 t are 0 % China → exposed 2/3
    assert view["rows"][0]["cells"][0]["text"].endswith("→ 67%")


def test_report_commodity_leads_the_workbook_as_it_leads_the_page(result: Result, tmp_path: Path) -> None:
    # `report --commodity ree_compounds`: the page's answer is about US compounds; the workbook's US
    # sheet used to ignore the option and lead with magnets.
    from supplychain.report.html import write_report

    sc = load(PATH_2030)
    out = write_report([ScenarioRun(sc, (result,), str(PATH_2030))], tmp_path / "r", commodity="ree_compounds")
    rows = list(openpyxl.load_workbook(out / "tables.xlsx")["US United States"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[:3] == ("commodity", "unit", "measure"))
    assert rows[head + 1][0] == names_of(sc)["ree_compounds"]


def test_other_uses_name_the_first_run_at_the_highest_value_and_count_the_others() -> None:
    # Three runs (scenario a: variants v1, v2; scenario b: v1). Ga exposure peaks at 0.9 in a/v1 (2026)
    # and b/v1 (2027), 0.5 in a/v2: a/v1 is named, b/v1 counted. Ga is never short: 0 "in every run".
    # Ge exposure peaks at 0.7 in a/v2 alone.
    from types import SimpleNamespace

    from supplychain.report.answers import _others

    def frame(ga: list[float], ge: list[float]) -> pd.DataFrame:
        rows = [(k, m, y, v) for k, vals in (("ga", ga), ("ge", ge)) for y, v in zip((2026, 2027), vals, strict=True)
                for m in ("exposed_share",)]
        rows += [("ga", "shortfall_share", y, 0.0) for y in (2026, 2027)]
        return pd.DataFrame(rows, columns=["commodity", "metric", "year", "value"])

    runs = [SimpleNamespace(file="a.yaml", results=(SimpleNamespace(variant="v1"), SimpleNamespace(variant="v2")),
                            fixed_shortfall=None),
            SimpleNamespace(file="b.yaml", results=(SimpleNamespace(variant="v1"),), fixed_shortfall=None)]
    own = [[frame([0.9, 0.2], [0.1, 0.1]), frame([0.5, 0.5], [0.1, 0.7])], [frame([0.1, 0.9], [0.3, 0.3])]]
    lines = {line["commodity"]: line for line in _others(runs, own, ["ga", "ge"], {})}
    assert lines["ga"]["exposed"] == "90% (a, v1, 2026; 1 more run)"
    assert lines["ga"]["shortfall"] == "0% (in every run)"
    assert lines["ge"]["exposed"] == "70% (a, v2, 2027)"
    assert lines["ge"]["shortfall"] == "–"


def test_a_value_every_run_reaches_is_credited_to_no_run() -> None:
    # review 4, R-10(c): a base-year value the same in every run (97 % in 2024 in all three) read
    # "97% (a, v1, 2024; 2 more runs)", credited to the first run; it reads "97% in 2024 (every run)".
    # Ge: 70 % in every run but in different years (2024, 2025, 2024): the first run is named.
    from types import SimpleNamespace

    from supplychain.report.answers import _others

    def frame(ga: list[float], ge: list[float]) -> pd.DataFrame:
        rows = [(k, "exposed_share", y, v) for k, vals in (("ga", ga), ("ge", ge))
                for y, v in zip((2024, 2025), vals, strict=True)]
        return pd.DataFrame(rows, columns=["commodity", "metric", "year", "value"])

    runs = [SimpleNamespace(file="a.yaml", results=(SimpleNamespace(variant="v1"), SimpleNamespace(variant="v2")),
                            fixed_shortfall=None),
            SimpleNamespace(file="b.yaml", results=(SimpleNamespace(variant="v1"),), fixed_shortfall=None)]
    own = [[frame([0.97, 0.5], [0.7, 0.1]), frame([0.97, 0.2], [0.1, 0.7])], [frame([0.97, 0.9], [0.7, 0.7])]]
    lines = {line["commodity"]: line for line in _others(runs, own, ["ga", "ge"], {})}
    assert lines["ga"]["exposed"] == "97% in 2024 (every run)"
    assert lines["ge"]["exposed"] == "70% (a, v1, 2024; 2 more runs)"  # reached in different years: first named
