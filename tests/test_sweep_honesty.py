"""What ``supplychain sweep`` claims about its samples: which inputs can act, which targets are checked.

The world is ``tests/data/cli/small.yaml`` (China 2,000 t and Malaysia 1,000 t of NdPr oxide
to the US, a Chinese export ban from September 2025; the target ``us_ndpr_25`` reads the US
share of NdPr oxide from 2030), cut or extended per test; every number is worked out by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from supplychain.cli.app import app
from supplychain.cli.sweep import SAME_LABEL, SAME_NOTE, _all_equal
from supplychain.schema.model import Scenario
from supplychain.uncertainty import run_sweep
from supplychain.uncertainty.sampling import find_parameters, inert_parameters

SMALL = Path(__file__).resolve().parent / "data" / "cli" / "small.yaml"


def small(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    for key, value in changes.items():
        data[key] = value
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def sweep_cli(*args: str | Path) -> str:
    result = CliRunner().invoke(app, ["sweep", *map(str, args), "--no-cache", "-q"])
    assert result.exit_code == 0, result.output
    return result.output


# ------------------------------------------------------------ F-C: one rule for "the years it is checked"
def test_a_target_checked_after_the_sweeps_last_year_gets_no_probability(tmp_path: Path) -> None:
    # small.yaml cut at 2025: us_ndpr_25 is checked from 2030 (`by`), a year this run never reaches.
    # Neither table may speak of 2024 or 2025 as years it is checked: no probability table, a line
    # saying why, and (rather than an empty table) the US final uses of the last year, 2025.
    # In 2025 the ban (from 1 September, 4 of 12 months) cuts a third of China's 2,000 t in `fixed`:
    # 2,000 × 4/12 = 666.7 t of 3,000 t unmet = 22 %.
    meta = small()["scenario"] | {"horizon": 2025}
    out = sweep_cli(write(tmp_path, small(scenario=meta)), "-n", "2", "--mode", "fixed")
    assert "Probability that each target is met" not in out
    assert "target us_ndpr_25 is checked from 2030; this sweep runs 2024–2025: no probability" in out
    assert "the final uses of US (no target is checked in the swept years) in 2025" in out
    body = [line for line in out.splitlines() if line.startswith("│")]
    assert body
    assert all(" 2025 " in line and " US " in line and " ndpr " in line for line in body)
    assert any("shortfall_share" in line and " 22% " in line for line in body)


def test_years_before_the_target_give_no_probability_either() -> None:
    # --years 2024-2025 on the full file: the same rule whatever narrowed the years.
    out = sweep_cli(SMALL, "-n", "2", "--mode", "fixed", "--years", "2024-2025")
    assert "Probability that each target is met" not in out
    assert "target us_ndpr_25 is checked from 2030; this sweep runs 2024–2025: no probability" in out


# ------------------------------------------------------------ F-E: inputs that cannot act, spreads of nothing
def later_world() -> dict[str, Any]:
    """small.yaml with three sampled inputs that cannot act in 2024–2030 and one that can.

    * ``later``: licensing from 2031-01-01 (after the 2030 horizon) with a sampled approval share,
      switched by ``later_on`` (sampled, p = 0.5): both inert, whatever the draws;
    * ``old``: licensing in force from 2025 with a sampled share, but its toggle ``old_on`` is off
      and has no probability: inert;
    * the flow ``my_jp_ndpr`` (900–1,000 t, U): it can act (on Japan's market).
    """
    data = small()
    data["flows"]["my_jp_ndpr"]["tonnes"] = {"value": 1000, "dist": "uniform", "low": 900, "high": 1000,
                                             "assumption": "test"}
    share = {"value": 0.8, "dist": "uniform", "low": 0.6, "high": 1.0, "assumption": "test"}
    data["policies"]["later"] = {"type": "export_licensing", "country": "CN", "covers": {"families": ["rare_earths"]},
                                 "start": "2031-01-01", "share_approved": dict(share), "assumption": "test"}
    data["policies"]["old"] = {"type": "export_licensing", "country": "CN", "covers": {"families": ["rare_earths"]},
                               "start": "2025-01-01", "share_approved": dict(share), "assumption": "test"}
    data["toggles"]["later_on"] = {"controls": ["later"], "default": True, "probability": 0.5}
    data["toggles"]["old_on"] = {"controls": ["old"], "default": False}
    return data


def test_inert_inputs_are_found_from_the_scenarios_structure() -> None:
    sc = Scenario.model_validate(later_world())
    spec = find_parameters(sc)
    assert spec.names == ["flows.my_jp_ndpr.tonnes", "policies.later.share_approved",
                          "policies.old.share_approved", "toggles.later_on"]
    inert = inert_parameters(sc, spec, years=range(2024, 2031), fixed={"china_ban": True, "old_on": False})
    assert inert == {
        "policies.later.share_approved": "policy later starts 2031-01-01, after 2030",
        "policies.old.share_approved": "policy old is switched off (toggle old_on off, not sampled)",
        "toggles.later_on": "policy later starts 2031-01-01, after 2030",
    }
    # switched on (a variant or --toggle): old can act; in mode exposure no policy acts
    assert "policies.old.share_approved" not in inert_parameters(sc, spec, years=[2030],
                                                                 fixed={"china_ban": True, "old_on": True})
    exposure = inert_parameters(sc, spec, years=[2030], fixed={"china_ban": True, "old_on": True},
                                shocks_act=False)
    assert exposure["policies.old.share_approved"] == "policies do not act on the unshocked network (mode exposure)"
    assert "flows.my_jp_ndpr.tonnes" not in exposure


def test_the_sweep_header_separates_inputs_that_can_act_and_flags_rows_without_spread(tmp_path: Path) -> None:
    # 4 inputs sampled, 3 inert (above): "1 can act in 2024–2030, 3 cannot". The US rows: only
    # the ban and the fixed flows reach them (the sampled flow goes to Japan), so every US sample
    # equals the central run (2030: 2,000 of 3,000 t unmet = 67 %) and the row is flagged
    # "all equal", its P5–P95 being no spread.
    out = sweep_cli(write(tmp_path, later_world()), "-n", "6", "--mode", "fixed", "--seed", "3",
                    "--measure", "shortfall_share", "--country", "US")
    assert "4 uncertain inputs (1 can act in 2024–2030, 3 cannot: listed below)" in out
    assert "  policies.later.share_approved: policy later starts 2031-01-01, after 2030" in out
    assert "  toggles.later_on: policy later starts 2031-01-01, after 2030" in out
    rows = [line for line in out.splitlines() if line.startswith("│") and " 2030 " in line and "shortfall" in line]
    assert len(rows) == 1
    assert " 67% " in rows[0]
    assert SAME_LABEL in rows[0]
    assert SAME_NOTE.split(":")[0] in out


def test_all_equal_is_within_round_off_and_needs_two_finite_samples() -> None:
    # The one rule of sensitivity.roundoff_equal: max − min ≤ 1e-9 · max(1, |max|, |min|).
    # column 0: 0.3 three times: equal. 1: 0.3 and 0.30000000000000004 (0.3 + 5.55e-17, the same sum
    # in another order): 5.55e-17 ≤ 1e-9 · 1, equal within round-off (was "not equal" by exact
    # equality, while the one-at-a-time sweep gave that difference no swing). 2: one finite sample
    # (nothing to compare). 3: 0.5, NaN, 0.5: equal over the finite ones. 4: 0.3 and 0.31: 0.01 > 1e-9,
    # not equal. 5: 12,000 and 12,000.000011: 1.1e-5 > 1e-9 · 12,000.000011 = 1.2e-5? no, 1.1e-5 ≤
    # 1.2e-5: equal. 6: 12,000 and 12,000.00002: 2e-5 > 1.2e-5: not equal (the bound scales with the value).
    v = np.array([[0.3, 0.3, np.nan, 0.5, 0.3, 12_000.0, 12_000.0],
                  [0.3, 0.30000000000000004, np.nan, np.nan, 0.3, 12_000.000011, 12_000.00002],
                  [0.3, 0.3, 1.0, 0.5, 0.31, 12_000.0, 12_000.0]])  # fmt: skip
    assert _all_equal(v).tolist() == [True, True, False, True, False, True, False]


def test_all_equal_and_the_swing_read_one_rule() -> None:
    # Two values of a measure are "the same" for the summary's "all equal" flag exactly when the
    # one-at-a-time swing between them is 0: 0.38 and 0.38 + 2.05e-13 (path_to_2030's largest
    # round-off swing on the US magnets) both ways; 0.38 and 0.38 + 2e-9 (> 1e-9 · 1) neither.
    from supplychain.uncertainty.sensitivity import swing

    for lo, hi, same in ((0.38, 0.38 + 2.0522e-13, True), (0.38, 0.38 + 2e-9, False)):
        assert _all_equal(np.array([[lo], [hi]])).tolist() == [same]
        assert (swing(lo, hi) == 0.0) is same


@pytest.mark.parametrize("mode", ["fixed"])
def test_the_python_result_lists_the_inert_inputs(mode: str) -> None:
    sc = Scenario.model_validate(later_world())
    r = run_sweep(sc, samples=2, seed=1, mode=mode, years=[2024], countries=["US"], cache=False, quiet=True)
    assert sorted(r.info["inert"]) == ["policies.later.share_approved", "policies.old.share_approved",
                                       "toggles.later_on"]


# ------------------------------------------------------------ F-I: element targets in mode exposure
def element_world() -> dict[str, Any]:
    """small.yaml with NdPr oxide carrying 0.85 t NdPr per t and its target on the element's exposed share."""
    data = small()
    data["commodities"]["ndpr"]["content"] = {"NdPr": 0.85}
    data["targets"] = {"us_ndpr_element": {"country": "US", "commodity": "NdPr", "metric": "element_exposed_share",
                                           "max": 0.25, "by": 2024}}
    return data


def test_the_unshocked_network_has_the_elements_exposed_share() -> None:
    # Without a shock nothing is unmet (S = 0): exposed share of NdPr = D (1 - 0) + 0 = D, the traced
    # China share of the NdPr in US final use. The US uses NdPr oxide only: 2,000 t from China
    # (Chinese ore) and 1,000 t from Malaysia (Australian ore, 0 % China): D = 2,000/3,000 = 2/3.
    from supplychain.metrics.measures import compute_measures

    m = compute_measures(Scenario.model_validate(element_world()), 2024)
    us = m[m["country"].eq("US") & m["commodity"].eq("NdPr")].set_index("metric")
    assert us.loc["element_dependence", "value"] == pytest.approx(2 / 3, rel=1e-12)
    assert us.loc["element_exposed_share", "value"] == us.loc["element_dependence", "value"]
    assert us.loc["element_exposed_share", "source_country"] == "CN"


@pytest.mark.parametrize("years", [[2024], [2024, 2025]], ids=["base year (fast path applies)", "later year"])
def test_an_element_target_gets_its_probability_in_mode_exposure(years: list[int]) -> None:
    # The exposed share of US NdPr is 2/3 (above) in every sample (no uncertain input): above the 25 %
    # target, so the probability is 0 and the central run fails too. In the base year alone the
    # compiled fast path would apply, but it computes no element rows: the sweep runs per sample
    # and says why.
    r = run_sweep(Scenario.model_validate(element_world()), samples=2, seed=1, mode="exposure", years=years,
                  cache=False, quiet=True)
    tp = r.target_probability().set_index("year")
    assert tp.loc[2024, "n"] == 2
    assert tp.loc[2024, "probability"] == 0.0
    assert bool(tp.loc[2024, "central_met"]) is False
    if years == [2024]:
        assert r.info["fast_path"].startswith("targets read element_exposed_share")


# ------------------------------------------------------------ F-F: round-off is no swing
def test_ranking_counts_round_off_as_no_swing_and_agrees_with_the_tornado() -> None:
    # Three inputs on one share (central 0.38): a moves it 0.30 → 0.50 (swing 0.2); b moves it by
    # 5.55e-17 (one unit in the last place of 0.38: sums taken in another order, path_to_2030's
    # round-off swings on the US magnets), c by 2.05e-13 (the largest round-off there): both below
    # 1e-9 × max(1, 0.38) = 1e-9, so their swing is 0, and the tornado hides them ("2 inputs with no
    # effect"), as the ranking ranks them after a.
    import pandas as pd

    from supplychain.schema.types import Quantity
    from supplychain.uncertainty.sampling import Parameter, SamplingSpec
    from supplychain.uncertainty.sensitivity import OATResult, tornado_chart

    q = Quantity(dist="uniform", low=0, high=1)
    spec = SamplingSpec(tuple(Parameter((name,), "quantity", q) for name in ("a", "b", "c")))
    measures = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": ["x"], "metric": ["traced_share"],
                             "unit": ["share"], "basis": [""]})
    c = 0.38
    oat = OATResult(spec, [0.0] * 3, [1.0] * 3, measures, np.array([c]),
                    np.array([[0.30], [c], [c]]), np.array([[0.50], [c + 5.551115123125783e-17], [c + 2.0522e-13]]))
    rank = oat.ranking(metric="traced_share")
    assert rank["parameter"].tolist() == ["a", "b", "c"]
    assert rank["swing"].tolist() == [pytest.approx(0.2, abs=1e-15), 0.0, 0.0]
    fig = tornado_chart(rank)
    assert "2 inputs with no effect not shown" in fig.axes[0].get_xlabel()


def test_a_nan_swing_is_not_evaluable_never_no_effect() -> None:
    # Four inputs on one share (central 0.38): a moves it 0.30 → 0.50 (swing 0.2); b by 5.55e-17
    # (round-off: swing 0, no effect); c's high run has no value (NaN: swing NaN) and d's low run
    # too: neither is "no effect", both are "not evaluable at one end". So 1 input moves the share,
    # 1 has no effect, 2 are not evaluable; the tornado draws a alone and says so.
    import pandas as pd

    from supplychain.schema.types import Quantity
    from supplychain.uncertainty.sampling import Parameter, SamplingSpec
    from supplychain.uncertainty.sensitivity import OATResult, tornado_chart

    q = Quantity(dist="uniform", low=0, high=1)
    spec = SamplingSpec(tuple(Parameter((name,), "quantity", q) for name in "abcd"))
    measures = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": ["x"], "metric": ["traced_share"],
                             "unit": ["share"], "basis": [""]})
    c = 0.38
    oat = OATResult(spec, [0.0] * 4, [1.0] * 4, measures, np.array([c]), np.array([[0.30], [c], [c], [np.nan]]),
                    np.array([[0.50], [c + 5.551115123125783e-17], [np.nan], [c]]))
    split = oat.moving(metric="traced_share")
    assert split.rows["parameter"].tolist() == ["a"]
    assert (split.still, split.not_evaluable) == (1, 2)
    label = tornado_chart(oat.ranking(metric="traced_share")).axes[0].get_xlabel()
    assert "1 input with no effect, 2 not evaluable at one end not shown" in label


def test_a_policy_that_ended_before_the_base_year_is_inert_and_a_toggle_of_a_facility_never_is() -> None:
    # `old` in force 2020-01-01 to 2023-06-30, before the base year 2024: its share cannot act. A sampled
    # toggle that switches `old` and the Australian mine can (the mine is in every year's network).
    data = later_world()
    data["policies"]["old"]["start"] = "2020-01-01"
    data["policies"]["old"]["end"] = "2023-06-30"
    data["toggles"]["old_on"] = {"controls": ["old", "au_mine"], "default": True, "probability": 0.9}
    sc = Scenario.model_validate(data)
    inert = inert_parameters(sc, find_parameters(sc), years=[2024, 2025], fixed={"china_ban": True})
    assert inert["policies.old.share_approved"] == "policy old ended 2023-06-30, before the base year 2024"
    assert "toggles.old_on" not in inert


def test_in_mode_exposure_agreements_cannot_act_either() -> None:
    """The unshocked network has no shortfall and no response: an agreement's preferences and
    investments (the 10X metal line's lead time, sampled 3-5 years) change nothing there, as the
    compiled path's ``kernel.INERT`` says; the header must not count them as inputs that can act."""
    from supplychain.io.load import load
    from tests.conftest import REPO

    sc = load(REPO / "scenarios" / "path_to_2030.yaml")
    spec = find_parameters(sc)
    lead = "agreements.us_dod_mp_2025.investment.projects.mp_10x_metal.lead_time_years"
    assert lead in spec.names
    assert lead not in inert_parameters(sc, spec, years=[2030], fixed={})  # it can act under a response
    exposure = inert_parameters(sc, spec, years=[2030], fixed={}, shocks_act=False)
    assert exposure[lead] == "agreements do not act on the unshocked network (mode exposure)"


# ------------------------------------------------------------ review #5, R-5 / R-3 / R-4: what the probabilities mix
def coin_world() -> dict[str, Any]:
    """small.yaml with China's ban drawn (p = 0.5), a lift of it for the US behind two toggles, and a cut range.

    * ``china_ban`` (p 0.5): on, China's 2,000 t to the US are blocked from 2025-09-01, so in 2030 the US
      gets Malaysia's 1,000 t only: traced China share 0 % (the target, read here on ``traced_share``, is
      met: ≤ 25 %); off, 2,000 / 3,000 = 67 % (not met).
    * ``us_lift`` (agreement lifting ``cn_ban`` between CN and US from 2025) is controlled by ``mou``
      (p 0.6) and ``lifted`` (p 0.2): in force only in the samples where both are drawn on; there the
      ban does not reach the US, 67 %, not met.
    * ``flows.my_jp_ndpr.tonnes`` (900–1,000 t, U, ``truncated: high``): reaches Japan only.

    So a sample meets the target exactly when the ban is on and not (mou and lifted): P(met | ban on) =
    share of the ban-on samples without both deal toggles, P(met | ban off) = 0.
    """
    data = small()
    data["flows"]["my_jp_ndpr"]["tonnes"] = {"value": 1000, "dist": "uniform", "low": 900, "high": 1000,
                                             "truncated": "high", "assumption": "test: more would not balance"}
    data["agreements"] = {"us_lift": {"name": "Lift for the US", "parties": ["CN", "US"], "start": 2025,
                                      "lifts": ["cn_ban"], "assumption": "test"}}
    data["toggles"]["china_ban"]["probability"] = 0.5
    data["targets"]["us_ndpr_25"]["metric"] = "traced_share"
    data["toggles"]["mou"] = {"controls": ["us_lift"], "default": False, "probability": 0.6}
    data["toggles"]["lifted"] = {"controls": ["us_lift"], "default": False, "probability": 0.2}
    return data


def test_target_probabilities_are_split_by_each_sampled_toggle(tmp_path: Path) -> None:
    from supplychain.io.load import load

    path = write(tmp_path, coin_world())
    r = run_sweep(load(path), samples=40, seed=5, mode="fixed", years=[2030], cache=False, quiet=True)
    ban = r.inputs["toggles.china_ban"].to_numpy(dtype=bool)
    deal = r.inputs["toggles.mou"].to_numpy(dtype=bool) & r.inputs["toggles.lifted"].to_numpy(dtype=bool)
    met = ban & ~deal  # the rule derived in coin_world
    p = r.target_probability().set_index("target").loc["us_ndpr_25"]
    assert float(p["probability"]) == pytest.approx(met.mean())
    split = r.target_probability_by_toggle().set_index("toggle")
    assert set(split.index) == {"china_ban", "mou", "lifted"}
    row = split.loc["china_ban"]
    assert float(row["p_on"]) == pytest.approx(ban.mean())
    assert float(row["p_met_on"]) == pytest.approx(met[ban].mean())
    assert float(row["p_met_off"]) == 0.0
    assert bool(row["moves"])
    # the mixture: P(met) = P(on) P(met | on) + P(off) P(met | off)
    mixture = row["p_on"] * row["p_met_on"] + (1 - row["p_on"]) * row["p_met_off"]
    assert float(p["probability"]) == pytest.approx(mixture)
    lifted = split.loc["lifted"]
    assert float(lifted["p_met_on"]) == pytest.approx(met[r.inputs["toggles.lifted"].to_numpy(dtype=bool)].mean())
    # the lift is in force where both toggles are on, not at either toggle's probability
    lift = r.info["in_force"]["us_lift"]
    assert lift["in_force"] == pytest.approx(deal.mean())
    assert lift["toggles"] == {"mou": pytest.approx(r.inputs["toggles.mou"].mean()),
                               "lifted": pytest.approx(r.inputs["toggles.lifted"].mean())}
    # the declared cut
    assert r.info["truncated"] == {"flows.my_jp_ndpr.tonnes": "high"}


def test_the_sweep_prints_the_split_the_mixture_and_the_cut(tmp_path: Path) -> None:
    out = " ".join(sweep_cli(write(tmp_path, coin_world()), "-n", "40", "--seed", "5", "--mode", "fixed",
                             "--years", "2030").split())  # rich wraps long lines: compare words
    assert "by sampled toggle: with it on and off" in out
    assert ("The percentiles and probabilities mix the parameter draws and 3 sampled on/off toggles "
            "(china_ban, lifted, mou)") in out
    assert ("Ranges cut at an engine limit, not where the evidence ends (the statistics are of the outcomes the "
            "model can compute): flows.my_jp_ndpr.tonnes: high.") in out
    assert "us_lift is in force in " in out
    assert "not at any one toggle's probability: mou on in " in out
    assert "(in force only when all are on)" in out


def test_truncated_needs_a_range() -> None:
    from supplychain.errors import ScenarioError
    from supplychain.io import load_text

    data = small()
    data["flows"]["my_jp_ndpr"]["tonnes"] = {"value": 1000, "truncated": "high", "assumption": "test"}
    with pytest.raises(ScenarioError, match="`truncated: high` on a quantity without a distribution"):
        load_text(yaml.safe_dump(data, sort_keys=False))


def test_an_entity_a_drawn_toggle_switches_off_is_in_force_when_it_is_off() -> None:
    # the Ga/Ge-like return `back` (controlled by `ret`, fixed on) is switched off by `renewed`
    # (drawn): in force in exactly the samples with `renewed` off, 3 of 5 here.
    import pandas as pd

    from supplychain.uncertainty.result import SweepResult
    from supplychain.uncertainty.sampling import in_force_shares

    data = small()
    data["policies"]["back"] = {"type": "export_ban", "country": "CN", "covers": {"families": ["rare_earths"]},
                                "partners": {"include": ["US"]}, "start": "2026-11-28", "assumption": "test"}
    data["toggles"]["ret"] = {"controls": ["back"], "default": True}
    data["toggles"]["renewed"] = {"controls": ["cn_ban"], "switches_off": ["back"], "default": False,
                                  "probability": 0.5}
    sc = Scenario.model_validate(data)
    inputs = pd.DataFrame({"toggles.renewed": [True, False, False, True, False]})
    shares = in_force_shares(sc, inputs, {"china_ban": True, "ret": True})
    assert shares["back"] == {"in_force": 0.6, "toggles": {"ret": 1.0, "renewed": 0.4}, "switches_off": ["renewed"]}
    r = SweepResult(inputs, pd.DataFrame(), np.empty((5, 0)), pd.DataFrame(), {"in_force": shares})
    assert ("back is in force in 60% of the samples, not at any one toggle's probability: ret on in 100%, renewed on "
            "in 40% (in force only while it is off); the others must be on.") in r.caveats()


def test_a_toggle_that_cannot_act_never_moves_a_target(tmp_path: Path) -> None:
    # `later_on` switches licensing from 2031 (after the 2030 horizon): inert, so whatever its on/off
    # samples happen to meet by chance (the ban's draws), it is not shown as moving the target.
    data = coin_world()
    data["policies"]["later"] = {"type": "export_licensing", "country": "CN", "covers": {"families": ["rare_earths"]},
                                 "start": "2031-01-01", "share_approved": 0.5, "assumption": "test"}
    data["toggles"]["later_on"] = {"controls": ["later"], "default": True, "probability": 0.5}
    r = run_sweep(Scenario.model_validate(data), samples=30, seed=5, mode="fixed", years=[2030], cache=False,
                  quiet=True)
    assert "toggles.later_on" in r.info["inert"]
    split = r.target_probability_by_toggle().set_index("toggle")
    assert not bool(split.loc["later_on", "moves"])
    assert bool(split.loc["china_ban", "moves"])


def test_caveats_name_only_what_can_act_in_the_swept_years() -> None:
    # Review 8, U-5: baseline_2024 swept over 2025. Two of its four sampled toggles cannot act then
    # (my_ban_lifted_for_us: its agreement us_my_raw_ban_lift starts 2026-07-01; us_cn_truce_renewed:
    # everything it switches is kept out by toggles that are off and not sampled), so they make no
    # measure two-valued: the mix sentence names the other two (asean_memoranda, us_osc_vulcan). The
    # entities several toggles switch (us_my_raw_ban_lift, cn_mofcom_no57_resumed, cn_gage_us_ban_resumed,
    # us_cn_truce_2026) start after 2025 or are kept out: none gets an "in force in N% of the samples" line.
    from supplychain.io.load import load

    baseline = SMALL.parents[3] / "scenarios" / "baseline_2024.yaml"
    r = run_sweep(load(baseline), samples=12, seed=7, mode="fixed", years=[2025],
                  countries=["US"], commodities=["gallium"], cache=False, quiet=True)
    assert {"toggles.my_ban_lifted_for_us", "toggles.us_cn_truce_renewed"} <= set(r.info["inert"])
    text = "\n".join(r.caveats())
    assert "2 sampled on/off toggles (asean_memoranda, us_osc_vulcan)" in text
    assert "my_ban_lifted_for_us" not in text
    assert "us_cn_truce_renewed" not in text
    assert "in force in" not in text
    assert r.info["in_force"] == {}


def test_an_entity_in_force_in_no_sample_gets_no_line() -> None:
    # in_force 0: the entity's toggles were never all on; a "0% of the samples" line says nothing.
    import pandas as pd

    from supplychain.uncertainty.result import SweepResult

    inputs = pd.DataFrame({"toggles.mou": [True, False], "toggles.deal": [False, True]})
    r = SweepResult(inputs, pd.DataFrame(), np.empty((2, 0)), pd.DataFrame(),
                    {"in_force": {"lift": {"in_force": 0.0, "toggles": {"mou": 0.5, "deal": 0.5},
                                           "switches_off": []}}})
    assert not any("in force in" in line for line in r.caveats())


def _licensing_world(central: float) -> dict[str, Any]:
    """small.yaml without its ban, with China licensing rare earths at an approval share of 0 or 1 (even odds)."""
    data = small()
    data["toggles"]["china_ban"]["default"] = False
    data["policies"]["lic"] = {"type": "export_licensing", "country": "CN", "covers": {"families": ["rare_earths"]},
                               "start": "2025-01-01",
                               "share_approved": {"value": central, "dist": "choice", "choices": [0.0, 1.0],
                                                  "weights": [0.5, 0.5], "assumption": "test"}}
    return data


def test_a_choice_whose_central_no_sample_draws_is_said() -> None:
    # Review 8, U-4: a `choice` input's central (here 0.5, the weighted mean of 0 and 1) is a value no
    # sample draws, so the central run is a world no sample is: caveats() names the input, its central
    # and its choices. A central that is one of the choices (1.0) gets no such line.
    r = run_sweep(Scenario.model_validate(_licensing_world(0.5)), samples=4, seed=3, mode="fixed", years=[2030],
                  cache=False, quiet=True)
    assert r.info["undrawn_centrals"] == {"policies.lic.share_approved": {"central": 0.5, "choices": [0.0, 1.0]}}
    assert set(r.inputs["policies.lic.share_approved"]) <= {0.0, 1.0}
    line = next(x for x in r.caveats() if x.startswith("The central run uses a value no sample draws"))
    assert "(policies.lic.share_approved: central 0.5, choices 0, 1)" in line
    assert "the central need not sit inside the samples" in line
    r1 = run_sweep(Scenario.model_validate(_licensing_world(1.0)), samples=4, seed=3, mode="fixed", years=[2030],
                   cache=False, quiet=True)
    assert r1.info["undrawn_centrals"] == {}
    assert not any("no sample draws" in x for x in r1.caveats())
    # a policy kept out by a toggle that is off (not sampled) cannot act: its undrawn central is not said
    off = _licensing_world(0.5)
    off["toggles"]["lic_on"] = {"controls": ["lic"], "default": False}
    r0 = run_sweep(Scenario.model_validate(off), samples=4, seed=3, mode="fixed", years=[2030], cache=False,
                   quiet=True)
    assert "policies.lic.share_approved" in r0.info["inert"]
    assert not any("no sample draws" in x for x in r0.caveats())
