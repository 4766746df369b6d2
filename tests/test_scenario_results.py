"""The Results tables of ``scenarios/README.md`` (``make scenario-results``) cannot go stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from supplychain.io import load
from supplychain.report.published import Baseline, load_baseline
from supplychain.report.scenario_results import (
    PUBLISHED_END,
    PUBLISHED_START,
    RESULTS_END,
    RESULTS_START,
    MarkerError,
    ScenarioOutcome,
    extract_between,
    main,
    not_representable_in_force,
    outcomes_markdown,
    published_table,
    replace_between,
    results_block,
)

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
README = SCENARIOS / "README.md"


@pytest.fixture(scope="module")
def measures() -> Baseline:
    return load_baseline(SCENARIOS)


def test_readme_published_table_is_current(measures: Baseline) -> None:
    readme = README.read_text(encoding="utf-8")
    block = extract_between(extract_between(readme, RESULTS_START, RESULTS_END), PUBLISHED_START, PUBLISHED_END)
    assert block == published_table(measures), "scenarios/README.md is stale: run `make scenario-results`"


def test_published_table_lists_every_check(measures: Baseline) -> None:
    table = published_table(measures)
    assert "| check | model figure | published | source | computed | difference | within tolerance | note |" in table
    assert "`a_china_mine_share`" in table
    assert "**no**" not in table  # a check outside its tolerance is bold, unless it states its gap:
    assert "| no, a stated gap (±100 %) |" in table  # g_china_germanium_exports (review 7, G-9)


def test_check_mode_passes_on_the_readme(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--scenarios", str(SCENARIOS)]) == 0
    assert capsys.readouterr().out == ""


def test_check_mode_fails_on_a_stale_copy(tmp_path: Path) -> None:
    readme = README.read_text(encoding="utf-8")
    stale = replace_between(readme, PUBLISHED_START, PUBLISHED_END, "| old | table |")
    copy = tmp_path / "README.md"
    copy.write_text(stale, encoding="utf-8")
    assert main(["--check", "--scenarios", str(SCENARIOS), "--readme", str(copy)]) == 1
    assert copy.read_text(encoding="utf-8") == stale  # --check writes nothing


def test_replace_between_keeps_the_outside() -> None:
    text = "# Doc\n\nintro\n\n<!-- results:start -->\nold\nlines\n<!-- results:end -->\n\n## Next\n"
    new = replace_between(text, RESULTS_START, RESULTS_END, "\nnew table\n\n")
    assert new == "# Doc\n\nintro\n\n<!-- results:start -->\nnew table\n<!-- results:end -->\n\n## Next\n"
    assert replace_between(new, RESULTS_START, RESULTS_END, "new table") == new  # idempotent
    assert extract_between(new, RESULTS_START, RESULTS_END) == "new table"


def test_replace_between_nested_markers() -> None:
    text = f"a\n{RESULTS_START}\n{RESULTS_END}\nb"
    text = replace_between(text, RESULTS_START, RESULTS_END, results_block("P1", "O1"))
    assert extract_between(text, PUBLISHED_START, PUBLISHED_END) == "P1"
    text = replace_between(text, PUBLISHED_START, PUBLISHED_END, "P2")
    assert extract_between(text, RESULTS_START, RESULTS_END) == results_block("P2", "O1")
    assert text.startswith("a\n")
    assert text.endswith("\nb")


@pytest.mark.parametrize("text", [
    "no markers",
    f"{RESULTS_END} {RESULTS_START}",
    f"{RESULTS_START} x {RESULTS_START} {RESULTS_END}",
])
def test_replace_between_rejects_bad_markers(text: str) -> None:
    with pytest.raises(MarkerError):
        replace_between(text, RESULTS_START, RESULTS_END, "x")


def _uses(*uses: tuple[str, str, str]) -> pd.DataFrame:
    """Final uses (country, commodity, stage) of 1,000 units a year in 2024 and 2030, as ``ScenarioOutcome.uses``."""
    return pd.DataFrame([{"variant": "base", "year": y, "country": c, "commodity": k, "stage": st, "demand": 1000.0}
                         for c, k, st in uses for y in (2024, 2030)])


def test_outcomes_say_not_representable_instead_of_no_effect() -> None:
    # The ASEAN memoranda carry no quantity the model can represent: in every variant where they
    # are in force the row names them, and the notes under the table say why; with them off, "—".
    scenario = load(SCENARIOS / "asean_memoranda.yaml", require_sources=True)
    assert list(not_representable_in_force(scenario, "ban_kept")) == ["us_kh_mou", "us_my_mou", "us_th_mou",
                                                                       "us_vn_mou"]
    assert not_representable_in_force(scenario, "no_memoranda") == {}
    rows = [{"year": y, "country": "US", "commodity": "ndfeb_magnet", "metric": m, "value": 0.5, "variant": v}
            for v in ["base", *scenario.variants] for y in (2024, 2030)
            for m in ("exposed_share", "traced_share", "shortfall_share")]
    text = outcomes_markdown([ScenarioOutcome("asean_memoranda.yaml", scenario, pd.DataFrame(rows),
                                              _uses(("US", "ndfeb_magnet", "magnet")))])
    lines = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    assert lines["`ban_kept`"].rstrip(" |").endswith("`us_kh_mou`, `us_my_mou`, `us_th_mou`, `us_vn_mou`")
    assert lines["`no_memoranda`"].rstrip(" |").endswith("—")
    assert "* `us_th_mou` — non-binding" in text


def test_outcomes_show_every_major_consumer_with_exposure_and_the_peak_shortfall() -> None:
    # two consumers of magnets: the US short 77 % in 2026 and 0 % by 2030 (the peak would hide
    # behind "0 % → 0 %" end points), Japan never short; China exposure 100 % for the US in 2026
    scenario = load(SCENARIOS / "china_full_ban_2025.yaml", require_sources=True)
    rows = []
    series = {("US", "shortfall_share"): {2024: 0.0, 2026: 0.77, 2030: 0.0},
              ("US", "exposed_share"): {2024: 0.96, 2026: 1.0, 2030: 0.3},
              ("US", "traced_share"): {2024: 0.96, 2026: 0.0, 2030: 0.3},
              ("JP", "shortfall_share"): {2024: 0.0, 2026: 0.0, 2030: 0.0},
              ("JP", "exposed_share"): {2024: 0.6, 2026: 0.5, 2030: 0.4},
              ("JP", "traced_share"): {2024: 0.6, 2026: 0.5, 2030: 0.4}}
    for v in ["base", *scenario.variants]:
        for (country, metric), values in series.items():
            rows += [{"variant": v, "year": y, "country": country, "commodity": "ndfeb_magnet", "metric": metric,
                      "value": x} for y, x in values.items()]
    text = outcomes_markdown([ScenarioOutcome("china_full_ban_2025.yaml", scenario, pd.DataFrame(rows),
                                              _uses(("US", "ndfeb_magnet", "magnet"),
                                                    ("JP", "ndfeb_magnet", "magnet")))])
    body = [line for line in text.splitlines() if line.startswith("| ") and "variant" not in line
            and not line.startswith("| ---")]
    us = next(line for line in body if line.startswith("| `base` | US"))
    jp = next(line for line in body if "| JP |" in line)
    cells = [c.strip() for c in us.split("|")[1:-1]]
    assert cells[:6] == ["`base`", "US", "96.0% → 30.0%", "30.0%", "77.0% in 2026", "0.0%"]
    assert [c.strip() for c in jp.split("|")[1:-1]][4] == "0.0%"
    assert "*Allocation `contracts_first`.*" in text


def test_outcome_rows_follow_the_headline_rule() -> None:
    # The rows are each country's headline use (report.headline), not a hard-coded commodity: the US uses
    # magnets (magnet stage) and compounds (oxide), so its row is its magnets; Korea uses gallium only,
    # so its row is its gallium, named beside it; Japan has no final demand, so no row. The US is the
    # focus country (no scenario target names another) and leads.
    scenario = load(SCENARIOS / "china_full_ban_2025.yaml", require_sources=True)
    values = {("US", "ndfeb_magnet"): 0.9, ("US", "ree_compounds"): 0.7, ("KR", "gallium"): 0.5}
    rows = [{"variant": v, "year": y, "country": c, "commodity": k, "metric": m, "value": x}
            for v in ["base", *scenario.variants] for y in (2024, 2030) for (c, k), x in values.items()
            for m in ("exposed_share", "traced_share", "shortfall_share")]
    uses = _uses(("KR", "gallium", "oxide"), ("US", "ree_compounds", "oxide"), ("US", "ndfeb_magnet", "magnet"))
    text = outcomes_markdown([ScenarioOutcome("china_full_ban_2025.yaml", scenario, pd.DataFrame(rows), uses)])
    base = [[c.strip() for c in line.split("|")[1:-1]] for line in text.splitlines()
            if line.startswith("| `base` |") or (line.startswith("|  |") and "base" not in line)][:2]
    assert base[0][:3] == ["`base`", "US", "90.0% → 90.0%"]
    assert base[0][6] == "70.0% → 70.0%"  # the compounds columns
    assert base[1][:3] == ["", "KR (`gallium`)", "50.0% → 50.0%"]
    assert not any("| JP |" in line for line in text.splitlines())


def test_the_uncertainty_figures_are_read_off_the_sweeps() -> None:
    # Four samples of the US magnets' traced share in 2030: 0.40, 0.60, 0.80, 0.50 (central 0.38).
    # Lead times drawn 3.0, 4.4, 4.6, 2.6 are read as whole years 3, 4, 5, 3: means 3 y (0.40 + 0.50)/2
    # = 0.45, 4 y 0.60, 5 y 0.80. Vulcan on in samples 0 and 2: (0.40 + 0.80)/2 = 0.60, off
    # (0.60 + 0.50)/2 = 0.55: a gap of 0.05. P50 of 0.4, 0.5, 0.6, 0.8 (linear) = 0.55, mean 0.575; the
    # central run lies below every sample: central_rank 0. One-at-a-time: the lead time moves the
    # magnets by 0.2 (the largest swing, as the text says), b by 1e-17 (round-off: no swing), c only
    # the compounds (by 0.01): 1 input on each, none not evaluable.
    from supplychain.report.uncertainty_prose import figures

    measures, sweep = _uncertainty_fixture()
    oat = _oat(measures, high_b=0.38 + 1e-17)
    f = figures(sweep, oat)
    assert f.inputs == 2
    assert (f.central, f.p50, f.mean, f.central_rank) == pytest.approx((0.38, 0.55, 0.575, 0.0))
    assert f.by_lead == pytest.approx({3: 0.45, 4: 0.60, 5: 0.80})
    assert f.vulcan_gap == pytest.approx(0.05)
    assert (f.moving_magnets, f.moving_compounds) == (1, 1)
    assert (f.not_evaluable_magnets, f.not_evaluable_compounds) == (0, 0)


def _uncertainty_fixture() -> tuple[pd.DataFrame, Any]:
    """The four-sample sweep of the test above (its measures and the SweepResult)."""
    import numpy as np

    from supplychain.report.uncertainty_prose import COMPOUNDS, LEAD_TIME, MAGNETS, VULCAN
    from supplychain.uncertainty.result import SweepResult

    measures = pd.DataFrame({"year": [2030, 2030], "country": ["US", "US"], "commodity": [MAGNETS, COMPOUNDS],
                             "metric": ["traced_share"] * 2, "source_country": ["CN", "CN"],
                             "unit": ["share"] * 2, "basis": ["", ""], "central": [0.38, 0.80]})
    inputs = pd.DataFrame({LEAD_TIME: [3.0, 4.4, 4.6, 2.6], VULCAN: [True, False, True, False]},
                          index=pd.RangeIndex(4, name="sample"))
    values = np.array([[0.40, 0.8], [0.60, 0.8], [0.80, 0.8], [0.50, 0.8]])
    return measures, SweepResult(inputs, measures, values, pd.DataFrame())


def _oat(measures: pd.DataFrame, *, high_b: float, high_lead: float = 0.50, lead_central: float = 2.0) -> Any:
    """One-at-a-time sweep over the lead time (0.30 → ``high_lead`` on the magnets), b and c."""
    import numpy as np

    from supplychain.report.uncertainty_prose import LEAD_TIME
    from supplychain.schema.types import Quantity
    from supplychain.uncertainty.sampling import Parameter, SamplingSpec
    from supplychain.uncertainty.sensitivity import OATResult

    lead = Quantity(value=lead_central, dist="uniform", low=2, high=5)
    spec = SamplingSpec((Parameter((LEAD_TIME,), "quantity", lead),
                         *(Parameter((n,), "quantity", Quantity(dist="uniform", low=0, high=1)) for n in "bc")))
    return OATResult(spec, [2.0, 0.0, 0.0], [5.0, 1.0, 1.0], measures.drop(columns="central"), np.array([0.38, 0.80]),
                     np.array([[0.30, 0.80], [0.38, 0.80], [0.38, 0.80]]),
                     np.array([[high_lead, 0.80], [high_b, 0.80], [0.38, 0.81]]))


def test_the_uncertainty_text_counts_a_nan_swing_as_not_evaluable() -> None:
    # As above, but b's high run has no value on the magnets (NaN): its swing is NaN, so 1 input
    # moves the magnets (the lead time) and 1 is not evaluable at one end, not "no swing"; the text says so.
    from supplychain.report.uncertainty_prose import figures, uncertainty_markdown

    measures, sweep = _uncertainty_fixture()
    f = figures(sweep, _oat(measures, high_b=float("nan")))
    assert (f.moving_magnets, f.not_evaluable_magnets, f.moving_compounds, f.not_evaluable_compounds) == (1, 1, 1, 0)
    text = uncertainty_markdown(f)
    assert "gives a swing to 1 inputs on the traced China share of US magnets (1 more not evaluable at one end" in text


def test_the_uncertainty_text_states_where_the_central_run_falls_and_checks_its_claims() -> None:
    # Central 0.38 below all four samples: central_rank 0, "falls at P0: 0.0% of the samples give a
    # lower share" (was a fixed "optimistic edge" sentence). The claims that are not figures raise when false:
    # b's swing 0.3 (0.38 → 0.68) above the lead time's 0.2 makes b the largest driver; a central lead
    # time of 3 years above the shortest sampled 2.6 breaks "delays only push later".
    from supplychain.report.uncertainty_prose import ClaimError, figures, uncertainty_markdown

    measures, sweep = _uncertainty_fixture()
    text = uncertainty_markdown(figures(sweep, _oat(measures, high_b=0.38)))
    assert "**The central run falls at P0 of the sweep: 0.0% of the samples give a lower share**" in text
    assert "optimistic" not in text
    with pytest.raises(ClaimError, match="largest one-at-a-time swing"):
        figures(sweep, _oat(measures, high_b=0.68))
    with pytest.raises(ClaimError, match="not the shortest sampled"):
        figures(sweep, _oat(measures, high_b=0.38, lead_central=3.0))


def test_the_readme_quotes_the_generated_uncertainty_figures() -> None:
    from supplychain.report.uncertainty_prose import END, START

    block = extract_between(README.read_text(encoding="utf-8"), START, END)
    assert "Generated by `make scenario-results`" in block
    assert "at the median (P5" in block


def test_the_uncertainty_text_reads_the_lead_time_s_tie_as_its_bar() -> None:
    # The lead time tied with b (tie "schedule"): the one-at-a-time sweep swings them as one input, "tie:schedule",
    # whose magnets swing 0.30 → 0.50 = 0.2 is the largest; c moves the USGS aggregate. The claim "the lead time has
    # the largest swing" is checked against the tie's bar, and the text names the tie. 2 inputs move something
    # (the tie and c): the tie counts once.
    import numpy as np

    from supplychain.report.uncertainty_prose import LEAD_TIME, figures, uncertainty_markdown
    from supplychain.schema.types import Quantity
    from supplychain.uncertainty.sampling import Parameter, SamplingSpec
    from supplychain.uncertainty.sensitivity import OATResult, oat_inputs

    measures, sweep = _uncertainty_fixture()
    tied = Quantity(value=2.0, dist="uniform", low=2, high=5, tie="schedule")
    spec = SamplingSpec((Parameter((LEAD_TIME,), "quantity", tied),
                         Parameter(("b",), "quantity", Quantity(dist="uniform", low=0, high=1, tie="schedule")),
                         Parameter(("c",), "quantity", Quantity(dist="uniform", low=0, high=1))))
    groups = oat_inputs(spec)
    assert [g.label for g in groups] == ["tie:schedule", "c"]
    oat = OATResult(spec, [2.0, 0.0, 0.0], [5.0, 1.0, 1.0], measures.drop(columns="central"), np.array([0.38, 0.80]),
                    np.array([[0.30, 0.80], [0.38, 0.80]]), np.array([[0.50, 0.80], [0.38, 0.81]]), groups=groups)
    f = figures(sweep, oat)
    assert (f.moving_magnets, f.moving_compounds, f.lead_tie) == (1, 1, "schedule")
    text = uncertainty_markdown(f)
    assert "the 10X metal line's lead time (with the rest of its tie `schedule`, drawn as one)" in text


# ------------------------------------------------------------------ target verdicts beside the sweep (review #8 U-4)
def _verdict_sweep(values: list[float], central: float) -> Any:
    """A sweep of one target, ``t``: the US exposed share of magnets in 2030 at most 25 %, over ``values``."""
    import numpy as np

    from supplychain.report.uncertainty_prose import MAGNETS
    from supplychain.uncertainty.result import SweepResult

    measures = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": [MAGNETS], "metric": ["exposed_share"],
                             "source_country": ["CN"], "unit": ["share"], "basis": [""], "central": [central]})
    targets = pd.DataFrame({"target": ["t"], "country": ["US"], "commodity": [MAGNETS], "metric": ["exposed_share"],
                            "source_country": ["CN"], "max": [0.25], "min": [float("nan")], "by": [2030],
                            "description": [""], "max_shortfall_share": [float("nan")]})
    inputs = pd.DataFrame({"a": [1.0] * len(values)}, index=pd.RangeIndex(len(values), name="sample"))
    return SweepResult(inputs, measures, np.array([[v] for v in values]), targets)


def _verdict_oat(measures: pd.DataFrame, central: float, a: tuple[float, float], b: tuple[float, float]) -> Any:
    """One-at-a-time over a (choice-like: 0.678 / central 0.92 / 1.0) and b (uniform 0–1): the measure at their ends."""
    import numpy as np

    from supplychain.schema.types import Quantity
    from supplychain.uncertainty.sampling import Parameter, SamplingSpec
    from supplychain.uncertainty.sensitivity import OATResult

    spec = SamplingSpec((Parameter(("a",), "quantity", Quantity(value=0.92, dist="uniform", low=0.678, high=1.0)),
                         Parameter(("b",), "quantity", Quantity(dist="uniform", low=0, high=1))))
    return OATResult(spec, [0.678, 0.0], [1.0, 1.0], measures.drop(columns="central"), np.array([central]),
                     np.array([[a[0]], [b[0]]]), np.array([[a[1]], [b[1]]]))


def test_a_central_fail_that_most_samples_meet_is_said_with_the_input_that_moves_it() -> None:
    # Four samples of the share: 0.17, 0.17, 0.456, 0.17 -> 3 of 4 at most 0.25: p = 0.75. The central run reads
    # 0.423 > 0.25: fails. They disagree (central fails, p >= 0.5). One at a time, a moves the share 0.456 -> 0.170
    # (swing 0.286), b 0.42 -> 0.43 (0.01): a is the driver; its low end 0.456 fails, its high end 0.170 meets it.
    from supplychain.report.uncertainty_prose import target_verdicts, verdicts_markdown

    sweep = _verdict_sweep([0.17, 0.17, 0.456, 0.17], central=0.423)
    (v,) = target_verdicts(sweep, _verdict_oat(sweep.measures, 0.423, (0.456, 0.17), (0.42, 0.43)))
    assert (v.central_met, v.probability, v.disagrees, v.driver) == (False, 0.75, True, "a")
    assert (v.input_low, v.input_central, v.input_high) == (0.678, 0.92, 1.0)
    assert (v.value_low, v.value_high) == (0.456, 0.17)
    text = verdicts_markdown((v,), samples=4)
    assert "| `t` | `exposed_share`, US ndfeb_magnet | at most 25.0% | 42.3%, fails | 75.0% |" in text
    assert ("`t`: the central run fails it at 42.3%, but 75.0% of the samples meet it. The input with the largest "
            "one-at-a-time swing on it is `a` (drawn as `uniform(0.678, 1)`): 0.678 → 45.6% (fails), central 0.92 → "
            "42.3%, 1 → 17.0% (meets it), every other input central.") in text


def test_a_central_pass_most_samples_fail_is_said_and_an_agreement_is_not() -> None:
    # Central 0.24 passes; samples 0.30, 0.26, 0.20, 0.31 -> 1 of 4 meets it: p = 0.25 < 0.5, the reverse
    # disagreement ("only 25.0%"). With samples 0.20, 0.22, 0.30, 0.10 (p = 0.75) the two agree: no sentence,
    # and no driver looked up.
    from supplychain.report.uncertainty_prose import target_verdicts, verdicts_markdown

    sweep = _verdict_sweep([0.30, 0.26, 0.20, 0.31], central=0.24)
    (v,) = target_verdicts(sweep, _verdict_oat(sweep.measures, 0.24, (0.20, 0.33), (0.24, 0.24)))
    assert (v.central_met, v.probability, v.driver) == (True, 0.25, "a")
    assert "`t`: the central run passes it at 24.0%, but only 25.0% of the samples meet it." in verdicts_markdown((v,))
    sweep = _verdict_sweep([0.20, 0.22, 0.30, 0.10], central=0.24)
    (v,) = target_verdicts(sweep, _verdict_oat(sweep.measures, 0.24, (0.20, 0.33), (0.24, 0.24)))
    assert (v.disagrees, v.driver) == (False, "")
    assert "For every target the central run's verdict is the one most samples give." in verdicts_markdown((v,))


def test_target_verdicts_refuse_two_different_central_runs() -> None:
    # The one-at-a-time central 0.40 is not the sweep's 0.423: a sentence quoting both would mix two runs.
    from supplychain.report.uncertainty_prose import ClaimError, target_verdicts

    sweep = _verdict_sweep([0.17, 0.17, 0.456, 0.17], central=0.423)
    with pytest.raises(ClaimError, match="two different central runs"):
        target_verdicts(sweep, _verdict_oat(sweep.measures, 0.40, (0.456, 0.17), (0.42, 0.43)))


# ------------------------------------------------------------------ near-threshold verdicts (review #8 U-6)
def _verdicts(*rows: tuple[str, float, bool]) -> pd.DataFrame:
    """Verdicts of target ``t`` (at most 25 %) in 2030: (variant, value, met), margin = 0.25 − value."""
    return pd.DataFrame([{"variant": v, "target": "t", "year": 2030, "value": x, "bound": "max", "threshold": 0.25,
                          "met": met, "margin": 0.25 - x, "status": "pass" if met else "fail"} for v, x, met in rows])


def test_near_threshold_verdicts_carry_their_margin() -> None:
    # 0.24 passes by 0.25 − 0.24 = 1.0 point; 0.29 fails by 4.0 points (within 5); 0.423 fails by 17.3 (left out).
    from supplychain.report.scenario_results import near_threshold, near_threshold_markdown

    v = _verdicts(("a", 0.24, True), ("b", 0.29, False), ("c", 0.423, False))
    assert near_threshold(v)["variant"].tolist() == ["a", "b"]
    text = near_threshold_markdown(v, flips={("a", "t"): (9, 47)})
    assert text == ("*Near the threshold in 2030* (a verdict within 5 percentage points of it). In `a`, `t` passes "
                    "at 24.0% against at most 25.0%, a margin of 1.0 point, and 9 of its 47 uncertain inputs (a tie "
                    "counted once), each moved alone to an end of its range, flip the verdict. In `b`, `t` fails at "
                    "29.0% against at most 25.0%, a margin of 4.0 points.")
    # two targets with the same figures in one variant are said together
    two = pd.concat([_verdicts(("a", 0.24, True)), _verdicts(("a", 0.24, True)).assign(target="u")])
    assert "In `a`, `t` and `u` pass at 24.0% against at most 25.0%, a margin of 1.0 point." in (
        near_threshold_markdown(two))
    assert near_threshold_markdown(_verdicts(("c", 0.423, False))) == ""


def test_a_near_verdict_its_margin_refutes_is_not_printed() -> None:
    # "passes" at 0.26 against at most 0.25 (margin −0.01): the text would contradict its own figures.
    from supplychain.report.scenario_results import near_threshold_markdown

    with pytest.raises(ValueError, match="does not follow"):
        near_threshold_markdown(_verdicts(("a", 0.26, True)))


def test_count_flips_counts_the_inputs_whose_end_run_turns_the_verdict() -> None:
    # Central 0.24 passes (at most 0.25). a: low 0.26 fails -> flips; b: high 0.30 -> flips; c: 0.20 / 0.245 both
    # pass -> no; d: low n/a (NaN, not evaluable, turns nothing), high 0.22 passes -> no. 2 of the 4 inputs.
    import numpy as np

    from supplychain.report.scenario_results import count_flips
    from supplychain.schema.types import Quantity
    from supplychain.uncertainty.result import TargetSpec
    from supplychain.uncertainty.sampling import Parameter, SamplingSpec
    from supplychain.uncertainty.sensitivity import OATResult

    measures = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": ["m"], "metric": ["exposed_share"],
                             "source_country": ["CN"]})
    spec = SamplingSpec(tuple(Parameter((n,), "quantity", Quantity(dist="uniform", low=0, high=1)) for n in "abcd"))
    oat = OATResult(spec, [0.0] * 4, [1.0] * 4, measures, np.array([0.24]),
                    np.array([[0.26], [0.24], [0.20], [np.nan]]), np.array([[0.24], [0.30], [0.245], [0.22]]))
    t = TargetSpec("t", "US", "m", "exposed_share", "CN", "max", 0.25, 2030)
    assert count_flips(oat, t, 2030, published=0.24) == (2, 4)
    with pytest.raises(ValueError, match="not the published"):
        count_flips(oat, t, 2030, published=0.2399)


def test_the_outcome_table_is_followed_by_its_near_threshold_verdicts() -> None:
    scenario = load(SCENARIOS / "china_full_ban_2025.yaml", require_sources=True)
    rows = [{"variant": v, "year": y, "country": "US", "commodity": "ndfeb_magnet", "metric": m, "value": 0.24}
            for v in ["base", *scenario.variants] for y in (2024, 2030)
            for m in ("exposed_share", "traced_share", "shortfall_share")]
    outcome = ScenarioOutcome("china_full_ban_2025.yaml", scenario, pd.DataFrame(rows),
                              _uses(("US", "ndfeb_magnet", "magnet")), _verdicts(("base", 0.24, True)))
    text = outcomes_markdown([outcome])
    table_end = text.rindex("| `")
    assert text.index("*Near the threshold in 2030*") > table_end
    assert "In `base`, `t` passes at 24.0% against at most 25.0%, a margin of 1.0 point." in text


# ------------------------------------------------------------------ counts of inputs (review #8 U-1)
def test_every_count_of_a_scenario_s_inputs_in_the_docs_is_the_code_s() -> None:
    # "N inputs in `X.yaml`" and "`X` (N inputs[, M of them toggles]" anywhere in the READMEs and docs/ must equal
    # len(find_parameters(load(X))) (and its toggles): a hand-typed count went stale once (81 against 82).
    import re

    from supplychain.uncertainty import find_parameters

    forms = (re.compile(r"(?P<n>\d+) inputs (?:in|of) `(?:scenarios/)?(?P<file>\w+)\.yaml`"),
             re.compile(r"`(?:scenarios/)?(?P<file>\w+)(?:\.yaml)?` "
                        r"\((?P<n>\d+) inputs(?:, (?P<t>\d+) of them toggles)?"))
    found = 0
    for doc in [README, REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for form in forms:
            for m in form.finditer(doc.read_text(encoding="utf-8")):
                spec = find_parameters(load(SCENARIOS / f"{m['file']}.yaml"))
                assert int(m["n"]) == len(spec.parameters), f"{doc.name}: {m[0]!r}"
                if m["t"]:
                    assert int(m["t"]) == sum(p.kind == "toggle" for p in spec), f"{doc.name}: {m[0]!r}"
                found += 1
    assert found  # the generated block states the count
