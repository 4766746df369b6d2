"""``compare`` output an analyst can quote (review #3, R-4): runs described, twins named, labels, CSV provenance.

tests/data/cli/small.yaml: China's ban (toggle ``china_ban``, default on) from 2025-09-01; variant
``no_ban`` sets it off; target ``us_ndpr_25``: US ndpr exposed share ≤ 25 % by 2030.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from supplychain.cli.compare import variant_legend
from supplychain.io import load_text

REPO = Path(__file__).resolve().parent.parent
SMALL = REPO / "tests" / "data" / "cli" / "small.yaml"


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "supplychain", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, check=False, timeout=600)


def test_compare_describes_runs_labels_measures_and_records_mode(tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    proc = cli("compare", SMALL, "--year", "2030", "--mode", "fixed", "--output", out)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    # base described, the variant by its description and the toggle it moves; base listed first
    assert "  base: the scenario as written, every toggle at its default\n" in text
    assert "  no_ban: The ban is lifted; sets china_ban off\n" in text
    assert text.index("│ base") < text.index("│ no_ban")
    # ids become labels (the source is named), the target says what it checks and shows its value
    assert "US ndpr traced China share of what arrives" in text
    assert "exposed_share" not in text
    assert "US ndpr target us_ndpr_25: exposure incl. unmet demand ≤ 25% by 2030" in text
    # the CSV keeps the ids and says which scenario, response, source and kind of value each row is
    csv = pd.read_csv(out)
    assert list(csv.columns) == ["scenario", "mode", "allocation", "source", "variant", "year", "country",
                                 "commodity", "metric", "kind", "value"]
    assert set(csv["mode"]) == {"fixed"}
    assert set(csv["source"]) == {"CN"}
    assert csv["allocation"].isna().all()
    assert set(csv.loc[csv["metric"].str.startswith("target:"), "kind"]) == {"verdict"}
    assert set(csv.loc[~csv["metric"].str.startswith("target:"), "kind"]) == {"share"}
    # the printed target cell is the measure's value and the verdict: exposed share of base, 2030
    base = csv[(csv["variant"] == "base") & (csv["year"] == 2030)].set_index("metric")["value"]
    shown = f"{round(100 * base['exposed_share'])}% {'pass' if base['target:us_ndpr_25'] == 1 else 'fail'}"
    assert shown in text


def test_legend_says_what_each_run_is() -> None:
    # base is the scenario as written; a variant is its description and the toggles it moves away from their
    # defaults ("kept" sets ban on, its default: it moves none). Which runs give the same numbers is said under
    # the table by supplychain.report.same (tests/test_deal_scenarios.py), not here.
    s = load_text("scenario: {name: x, base_year: 2024}\npolicies:\n  p: {type: export_ban, country: CN, start: 2025}\n"
                  "toggles:\n  ban: {controls: [p], default: on}\n"
                  "variants:\n  kept: {toggles: {ban: on}}\n  lifted: {description: lifted, toggles: {ban: off}}\n")
    assert variant_legend(s, ["base", "kept", "lifted"]) == [
        "base: the scenario as written, every toggle at its default",
        "kept: sets no toggle away from its default",
        "lifted: lifted; sets ban off",
    ]


def test_legend_says_what_a_run_switches_on_stays_off() -> None:
    # lift is controlled by both toggles a and b: on only when both are on. The grid run a=off,b=on
    # does not put it in force (b's label reads as the lift), and the legend says so; a=on,b=on does.
    s = load_text("scenario: {name: x, base_year: 2024}\n"
                  "policies:\n  lift: {type: export_ban, country: CN, start: 2025}\n"
                  "toggles:\n  a: {controls: [lift], default: off}\n  b: {controls: [lift], default: off}\n")
    runs = ["a=off,b=on", "a=on,b=on"]
    assert variant_legend(s, runs, ["a", "b"]) == [
        "a=off,b=on: every other toggle at its default; but lift stays off (a off)",
        "a=on,b=on: every other toggle at its default",
    ]


def test_a_target_after_the_horizon_is_said_not_silently_absent(tmp_path: Path) -> None:
    # horizon 2030; the target is checked from 2035: it has no row in any year, and a line says why
    path = tmp_path / "late.yaml"
    path.write_text(SMALL.read_text(encoding="utf-8").replace("max: 0.25, by: 2030", "max: 0.25, by: 2035"),
                    encoding="utf-8")
    proc = cli("compare", path, "--year", "2030", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "target us_ndpr_25 (US ndpr) is checked from 2035, after the horizon 2030: no row" in proc.stdout
    assert "target us_ndpr_25:" not in proc.stdout


def test_a_target_on_an_aliased_metric_reads_its_measure_everywhere() -> None:
    # `metric: direct_share` is an alias of direct_import_share (TARGET_METRIC_ALIASES). Measures of
    # US ndpr in 2030: direct import share 0.4, exposed share 0.9. The target max 0.5 reads the
    # direct import share: 0.4 <= 0.5 -> pass (not the exposed share's 0.9 -> fail). The run's verdict,
    # the sweep's TargetSpec and compare's cell must all read the 0.4 row: compare prints "40% pass"
    # and names the measure by the direct import share's label, not the raw id "direct_share".
    from supplychain.cli.compare import display_side_by_side
    from supplychain.report.headline import METRIC_LABELS, metric_labels
    from supplychain.simulation.targets import evaluate_targets
    from supplychain.uncertainty.result import target_specs, targets_table

    s = load_text(SMALL.read_text(encoding="utf-8").replace(
        "max: 0.25, by: 2030}", "metric: direct_share, max: 0.5, by: 2030}"))
    measures = pd.DataFrame({"year": 2030, "country": "US", "commodity": "ndpr", "source_country": "CN",
                             "metric": ["direct_import_share", "exposed_share"], "value": [0.4, 0.9]})
    verdict = evaluate_targets(s.targets, measures, [2030])
    assert verdict[["value", "status"]].values.tolist() == [[0.4, "pass"]]
    spec = target_specs(targets_table(s))[0]
    assert spec.locate(measures.assign(partner=""), 2030) == 0
    rows = ["US ndpr direct_import_share", "US ndpr exposed_share", "US ndpr target:us_ndpr_25"]
    wide = pd.DataFrame({"measure": rows, "variant": ["base"] * 3, "2030": [0.4, 0.9, 1.0]})
    shown = display_side_by_side(wide, s, source="China")
    label = dict(metric_labels(METRIC_LABELS.items(), "China"))["direct_import_share"]
    assert shown["2030"].tolist()[-1] == "40% pass"
    assert shown["measure"].tolist()[-1] == f"US ndpr target us_ndpr_25: {label} ≤ 50% by 2030"


def test_compare_names_measures_as_the_report_does() -> None:
    """Review s33 F15: compare called the direct import share "China share of its imports (first hop)", the
    report and workbook "direct import share from China". One table (METRIC_LABELS) now: a row of 0.5 prints
    "US ndpr direct import share from China" and 50%, the label the report's section rows carry."""
    from supplychain.cli.compare import display_side_by_side
    from supplychain.report.headline import metric_labels
    from supplychain.report.tables import SECTION_METRICS
    from supplychain.report.workbook import REPORTED_METRICS

    wide = pd.DataFrame({"measure": ["US ndpr direct_import_share", "US ndpr exposed_share"],
                         "variant": ["base", "base"], "2030": [0.5, 0.25]})
    shown = display_side_by_side(wide, source="China")
    assert shown["measure"].tolist() == ["US ndpr direct import share from China",
                                         "US ndpr exposure incl. unmet demand"]
    assert shown["2030"].tolist() == ["50%", "25%"]
    report = dict(metric_labels(SECTION_METRICS, "China"))
    workbook = dict(metric_labels(REPORTED_METRICS, "China"))
    assert report["direct_import_share"] == workbook["direct_import_share"] == "direct import share from China"
    assert report["exposed_share"] == workbook["exposed_share"] == "exposure incl. unmet demand"


def test_an_element_measure_is_named_as_its_commodity_measure() -> None:
    """Review 5, R-8: one ``compare`` table said "US Dy element traced to China (share of what arrives)" and
    "US gallium traced China share of what arrives" for the same measure on an element and a commodity. Each
    element measure is now its commodity measure's name after "element " (METRIC_LABELS, the one source)."""
    from supplychain.cli.compare import display_side_by_side
    from supplychain.report.headline import METRIC_LABELS

    for element, commodity in (("element_dependence", "traced_share"), ("element_exposed_share", "exposed_share"),
                               ("element_shortfall_share", "shortfall_share")):
        assert METRIC_LABELS[element] == f"element {METRIC_LABELS[commodity]}"
    wide = pd.DataFrame({"measure": ["US Dy element_dependence", "US gallium traced_share"], "variant": "base",
                         "2030": [0.0, 0.97]})
    assert display_side_by_side(wide, source="China")["measure"].tolist() == [
        "US Dy element traced China share of what arrives", "US gallium traced China share of what arrives"]


def test_compare_stars_a_ranked_source_split_as_run_does() -> None:
    """Review 5, R-8: ``run`` printed "gallium*" and the ranked-source footnote, ``compare`` the same shares bare.
    Both now star a commodity whose import shares are a ranked-source split (report.numbers.assumed_commodity)
    and print the one footnote naming the pairs shown (report.numbers.assumed_split_note). In the bundled
    full-ban world, US gallium and germanium shares are split by rank (USGS MCS 2025), magnets are not."""
    from supplychain.cli.compare import assumed_pairs, display_side_by_side
    from supplychain.cli.run import _assumed_split_note, _star_assumed
    from supplychain.io import load
    from supplychain.report.numbers import ASSUMED_NOTE, assumed_split_note

    sc = load(REPO / "scenarios" / "china_full_ban_2025.yaml")
    wide = pd.DataFrame({"measure": ["US gallium traced_share", "US ndfeb_magnet traced_share",
                                     "US Dy element_dependence", "US ndpr target:us_x"],
                         "variant": "base", "2030": [0.97, 0.0, 0.0, 1.0]})
    assumed, pairs = assumed_pairs(sc, wide)
    assert pairs == [("US", "gallium"), ("US", "ndfeb_magnet"), ("US", "Dy")]
    shown = display_side_by_side(wide, source="China", assumed=assumed)["measure"].tolist()
    assert shown[:3] == ["US gallium* traced China share of what arrives",
                         "US ndfeb_magnet traced China share of what arrives",
                         "US Dy element traced China share of what arrives"]
    note = assumed_split_note(pairs, assumed)
    assert note == f"* {ASSUMED_NOTE} (US: gallium)."
    # run's table of the same pairs: the same star and the same footnote
    table = pd.DataFrame({"country": ["US", "US"], "commodity": ["gallium", "ndfeb_magnet"]})
    assert _star_assumed(table, assumed)["commodity"].tolist() == ["gallium*", "ndfeb_magnet"]
    assert _assumed_split_note(table, assumed) == note
