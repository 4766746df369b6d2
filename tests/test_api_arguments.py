"""The Python API's arguments (API audit s36, A-1 … A-6, A-13, A-23 … A-25): read as meant, or one located error.

A notebook user types what the command line teaches (``--toggle ban=off``), names
(``Japan``), near misses (``exposed``, ``rebalanced``) and years past the horizon; each is
either read as meant or refused as a :class:`ScenarioError` (a ``ValueError``) located
``argument NAME=`` with a did-you-mean — never silently read otherwise (``bool("off")`` is
True), silently ignored (an empty table) or a bare ``KeyError``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import supplychain as sc
from supplychain.api import Result, compare, simulate
from supplychain.errors import ScenarioError
from supplychain.schema.model import Scenario

REPO = Path(__file__).resolve().parents[1]
YEARS = (2024, 2025, 2026)


def toy_data() -> dict[str, Any]:
    """CN ships 600 t NdPr oxide to the US a year (its only supply); a CN ban from 1 September 2025, toggle ``ban``.

    Fixed response, worked by hand: with the ban on, 2025 loses the ban's 4 months of the
    600 t, 600 × 4/12 = 200 t, and 2026 all 600 t; with it off nothing is lost.
    """
    return {
        "scenario": {"name": "toy", "base_year": 2024, "horizon": 2026},
        "commodities": {"ndpr_oxide": {"name": "NdPr oxide", "stage": "oxide", "family": "rare_earths"}},
        "facilities": {"cn_sep": {"name": "CN separation", "country": "CN", "kind": "aggregate",
                                  "output": "ndpr_oxide", "capacity": 600, "production": dict.fromkeys(YEARS, 600)}},
        "flows": {f"cn_us_{y}": {"supplier": "CN", "buyer": "US", "commodity": "ndpr_oxide", "year": y,
                                 "tonnes": 600} for y in YEARS},
        "demand": {"us": {"country": "US", "commodity": "ndpr_oxide", "year": 2024, "tonnes": 600}},
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "start": "2025-09-01",
                                "covers": {"families": ["rare_earths"]}, "partners": {"include": ["US"]}}},
        "toggles": {"ban": {"default": True, "controls": ["cn_ban"]}},
        "variants": {"banned": {"toggles": {"ban": True}}, "open": {"toggles": {"ban": False}}},
    }


@pytest.fixture(scope="module")
def toy() -> Scenario:
    return Scenario.model_validate(toy_data())


@pytest.fixture(scope="module")
def banned(toy: Scenario) -> Result:
    return simulate(toy, mode="fixed")


def lost(res: Result) -> dict[int, float]:
    s = res.shortfall
    return {int(y): round(float(v), 6) for y, v in zip(s["year"], s["shortfall"], strict=True)}


# ---------------------------------------------------------------- A-1 toggle states
@pytest.mark.parametrize("off", ["off", "OFF", "no", "false", False, np.bool_(False)])
def test_a_toggle_given_off_is_off(toy: Scenario, off: object) -> None:
    res = simulate(toy, toggles={"ban": off}, mode="fixed")
    assert res.toggles.set_index("toggle").loc["ban", "state"] == "off"
    assert lost(res) == {2024: 0.0, 2025: 0.0, 2026: 0.0}  # bool("off") is True: main lost 200 and 600 t


def test_a_toggle_given_on_is_on(toy: Scenario, banned: Result) -> None:
    res = simulate(toy, toggles={"ban": "on"}, mode="fixed")
    assert lost(res) == lost(banned) == {2024: 0.0, 2025: 200.0, 2026: 600.0}


@pytest.mark.parametrize("value", ["maybe", 1, 0, None, ""])
def test_a_toggle_state_that_is_no_state_is_refused(toy: Scenario, value: object) -> None:
    with pytest.raises(ScenarioError, match=rf"argument toggles=: ban: {value!r} is not on or off\n"
                                            r"    hint: give True or False \(or 'on'/'off'"):
        simulate(toy, toggles={"ban": value}, mode="fixed")


def test_toggle_states_are_read_the_same_everywhere(toy: Scenario) -> None:
    from supplychain.simulation.limits import capacity_limits
    from supplychain.uncertainty import one_at_a_time, run_sweep, toggle_grid

    for call in (lambda: capacity_limits(toy, 2026, toggles={"ban": "maybe"}),
                 lambda: run_sweep(toy, samples=2, seed=1, toggles={"ban": "maybe"}, cache=False, quiet=True),
                 lambda: one_at_a_time(toy, toggles={"ban": "maybe"}, quiet=True),
                 lambda: toggle_grid(toy, [], fixed={"ban": "maybe"}, quiet=True)):
        with pytest.raises(ScenarioError, match=r"'maybe' is not on or off"):
            call()


# ---------------------------------------------------------------- A-2 measure names
def test_unknown_measure_names_are_refused_with_a_did_you_mean(toy: Scenario) -> None:
    from supplychain.uncertainty import run_sweep

    with pytest.raises(ScenarioError, match=r"argument metrics=: unknown measure 'exposed'\n"
                                            r"    hint: did you mean 'exposed_share'\?"):
        simulate(toy, metrics=["exposed"])
    with pytest.raises(ScenarioError, match=r"argument metrics=: unknown measure 'exposed'"):
        compare(toy, variants=["banned"], metrics=["exposed"])  # main: an empty table
    with pytest.raises(ScenarioError, match=r"argument measures=: unknown measure 'traced'"):
        run_sweep(toy, samples=2, seed=1, measures=["traced"], cache=False, quiet=True)
    assert set(simulate(toy, mode="fixed", metrics="exposed_share").measures["metric"]) >= {"exposed_share"}


# ---------------------------------------------------------------- A-3 Result queries
def test_result_queries_check_countries_and_commodities(banned: Result) -> None:
    with pytest.raises(ScenarioError, match=r"argument country=: 'United States' is no country or region of this "
                                            r"result\n    hint: did you mean 'US' \(United States\)\?"):
        banned.explain("United States", "ndpr_oxide")
    with pytest.raises(ScenarioError, match=r"argument commodity=: unknown commodity 'ndpr'\n"
                                            r"    hint: did you mean 'ndpr_oxide'\?"):
        banned.explain("US", "ndpr")
    with pytest.raises(ScenarioError, match=r"argument country=: 'usa' (?s:.)*did you mean 'US'"):
        banned.draw(2026, country="usa")
    with pytest.raises(ScenarioError, match=r"argument commodity=: unknown commodity 'oxide'"):
        banned.draw(2026, country="US", commodity="oxide")
    # a known country and commodity: the 600 t the ban blocks in 2026
    assert banned.explain("US", "ndpr_oxide").set_index("year").loc[2026, "blocked"] == pytest.approx(600.0)


# ---------------------------------------------------------------- A-4 years
def test_a_year_after_the_horizon_that_cannot_balance_is_one_problem_naming_the_horizon(toy: Scenario) -> None:
    # the toy's flows are written for 2024-2026 only: in 2030 nothing comes in to the US market while its
    # final use is still 600 t, so the market is short of 600 t (main: that problem alone, no word of the horizon)
    msg = (r"1 problem found:\nargument years=: year 2030 is after the scenario's horizon 2026, and its markets do "
           r"not balance \(1 problem; first: <api>: demand.us.tonnes: market US:ndpr_oxide is short in 2030: "
           r"outflow 600 t exceeds inflow 0 t by 600 t .*\)\n    hint: simulate years 2024–2026, or extend `horizon:`")
    with pytest.raises(ScenarioError, match=msg):
        simulate(toy, years=[2024, 2030], mode="fixed")
    with pytest.raises(ScenarioError, match=msg):
        compare(toy, years=[2030])
    # before the base year: refused before any work, as on main
    with pytest.raises(ScenarioError, match=r"argument years=: year 2020 is before the base year 2024"):
        simulate(toy, years=[2020])


# ---------------------------------------------------------------- loading
def test_load_points_yaml_text_and_dicts_to_load_text() -> None:
    with pytest.raises(ScenarioError, match=r"scenario: \{name: x, base_year: 2024\}: is YAML text, not the path "
                                            r"of a file\n    hint: load YAML text with supplychain.load_text\(text\)"):
        sc.load("scenario: {name: x, base_year: 2024}\n")
    with pytest.raises(TypeError, match=r"load_text\(d\)"):
        sc.load(toy_data())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"load_text\(d\)"):
        simulate(toy_data())  # type: ignore[arg-type]
    assert sc.load_text(toy_data()) == Scenario.model_validate(toy_data())


def test_bundled_scenarios_load_by_name_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # not the checkout: its scenarios/ is not reachable by a relative path
    world = sc.load("bundled:china_full_ban_2025")
    assert world == sc.load(REPO / "scenarios" / "china_full_ban_2025.yaml")
    from supplychain.io.load import as_scenario

    assert as_scenario("bundled:baseline_2024.yaml") == sc.load(REPO / "scenarios" / "baseline_2024.yaml")
    with pytest.raises(ScenarioError, match=r"bundled:china_ban: is not a scenario of the bundled world"):
        sc.load("bundled:china_ban")
    with pytest.raises(ScenarioError, match=r"file not found\n.*did you mean 'bundled:path_to_2030'"):
        sc.load("path_to_2030.yaml")
    with pytest.raises(ScenarioError, match=r"file not found\n.*by name: bundled:NAME"):
        sc.load("nowhere.yaml")


# ---------------------------------------------------------------- A-25 one error type
def test_argument_errors_are_one_type_with_a_did_you_mean(toy: Scenario, banned: Result) -> None:
    from supplychain.simulation.limits import capacity_limits

    cases = [
        (lambda: simulate(toy, mode="rebalanced"), r"argument mode=: unknown mode 'rebalanced'\n.*'rebalance'"),
        (lambda: compare(toy, mode="Fixed"), r"argument mode=: unknown mode 'Fixed'\n.*did you mean 'fixed'"),
        (lambda: simulate(toy, allocation="home"), r"argument allocation=: unknown allocation 'home'\n.*'home_first'"),
        (lambda: simulate(toy, variant="bannd"), r"argument variant=: unknown variant 'bannd'\n.*'banned'"),
        (lambda: compare(toy, variants=["opn"]), r"argument variants=: unknown variant 'opn'\n.*'open'"),
        (lambda: compare(toy, toggles_grid=["bna"]), r"argument toggles_grid=: unknown toggle 'bna'"),
        (lambda: banned.tables(2030), r"argument year=: year 2030 was not simulated\n.*2024–2026"),
        (lambda: banned.graph(2030), r"argument year=: year 2030 was not simulated"),
        (lambda: capacity_limits(toy, 2030), r"argument year=: year 2030 was not simulated"),
        (lambda: capacity_limits(toy, 2026, commodities=["ndpr"]),
         r"argument commodities=: unknown commodity 'ndpr'\n.*did you mean 'ndpr_oxide'"),
    ]
    for call, message in cases:
        with pytest.raises(ScenarioError, match=message):
            call()


# ---------------------------------------------------------------- A-13 equality
def test_results_compare_by_identity_and_hash(banned: Result) -> None:
    copy = pickle.loads(pickle.dumps(banned))
    assert banned == banned
    assert banned != copy  # main: ValueError (the truth value of a DataFrame is ambiguous)
    assert len({banned, copy, banned}) == 2  # main: TypeError, unhashable


# ---------------------------------------------------------------- A-23 the workbook
def test_write_workbook_takes_results(toy: Scenario, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from supplychain.report.workbook import write_workbook

    runs = [simulate(toy, variant=v, mode="fixed") for v in ("banned", "open")]
    path = write_workbook(tmp_path / "toy.xlsx", runs, ["US"], scenario=toy)
    assert "US United States" in load_workbook(path).sheetnames
    with pytest.raises(TypeError, match=r"not str: give ScenarioRuns \(supplychain.report.runs.ScenarioRun\("):
        write_workbook(tmp_path / "x.xlsx", ["banned"], ["US"])  # type: ignore[list-item]
    # a scenario of another name is a wrong value, the one error type (s36 diff review D-20; main: TypeError)
    other = Scenario.model_validate({**toy_data(), "scenario": {"name": "other", "base_year": 2024, "horizon": 2026}})
    with pytest.raises(ScenarioError, match=r"argument scenario=: scenario 'other' is none of the Results' "
                                            r"scenarios \('toy'\)"):
        write_workbook(tmp_path / "x.xlsx", runs, ["US"], scenario=other)


# ---------------------------------------------------------------- A-24 base = a variant
def test_compare_says_which_runs_are_the_same_case(toy: Scenario) -> None:
    # base: the file's default, ban on; the variant "banned" sets ban on too; "open" sets it off
    table = compare(toy, mode="fixed")
    assert table.attrs["same_toggles"] == [("base", "banned")]
    assert compare(toy, variants=["open", "banned"], mode="fixed").attrs["same_toggles"] == []


# ---------------------------------------------------------------- s36 diff review D-12, D-13: years as given
@pytest.mark.parametrize("years", ["2025", ["2025"], [2025.5], [2024, None]])
def test_years_that_are_no_years_are_refused_at_the_argument(toy: Scenario, years: object) -> None:
    # main: years="2025" and ["2025"] a bare TypeError deep in tables(); 2025.5 silently simulated as 2025
    with pytest.raises(ScenarioError, match=r"argument years=: .* is not a year\n    hint: give the year as an "
                                            r"integer, e.g. 2025"):
        simulate(toy, years=years, mode="fixed")  # type: ignore[arg-type]


def test_one_year_alone_and_numpy_years_are_read_as_years(toy: Scenario) -> None:
    # main: years=2025 a bare TypeError ('int' object is not iterable); the result's years are plain ints
    assert simulate(toy, years=2025, mode="fixed").years == (2025,)  # type: ignore[arg-type]
    r = simulate(toy, years=np.array([2026, 2025]), mode="fixed")  # type: ignore[arg-type]
    assert r.years == (2025, 2026)
    assert all(type(y) is int for y in r.years)


def test_losses_checks_its_year(banned: Result) -> None:
    # main: a year not simulated, or "2025" for 2025, gave an empty table with no word
    with pytest.raises(ScenarioError, match=r"argument year=: year 2030 was not simulated\n.*2024–2026"):
        banned.losses("US", "ndpr_oxide", 2030)
    with pytest.raises(ScenarioError, match=r"argument year=: '2025' \(str\) is not a year"):
        banned.losses("US", "ndpr_oxide", "2025")  # type: ignore[arg-type]
    # the ban's 4 months of 600 t, 200 t blocked in 2025 (toy_data), read with a NumPy year as well
    t = banned.losses("US", "ndpr_oxide", np.int64(2025))  # type: ignore[arg-type]
    assert t.set_index("counterpart").loc["CN", "blocked"] == pytest.approx(200.0)


# ---------------------------------------------------------------- D-14, D-15: one did-you-mean
def test_variant_and_toggle_names_get_the_same_hint_as_mode(toy: Scenario) -> None:
    # arguments.closest's rule everywhere: the same word in another case first. main: "known variants: …"
    with pytest.raises(ScenarioError, match=r"argument variant=: unknown variant 'BANNED'\n"
                                            r"    hint: did you mean 'banned'\?"):
        simulate(toy, variant="BANNED")
    with pytest.raises(ScenarioError, match=r"argument toggles=: unknown toggle 'BAN'\n"
                                            r"    hint: did you mean 'ban'\?"):
        simulate(toy, toggles={"BAN": False})


def test_a_mistyped_bundled_name_is_hinted_in_the_form_written() -> None:
    # main: "did you mean 'china_full_ban_2025.yaml'?" for what was typed as bundled:NAME
    with pytest.raises(ScenarioError, match=r"hint: did you mean 'bundled:china_full_ban_2025'\?"):
        sc.load("bundled:China_full_ban_2025")


# ---------------------------------------------------------------- D-18: one case, one rule
def test_two_toggles_that_leave_one_case_are_listed_as_one(toy: Scenario) -> None:
    # "ban2" controls the same policy as "ban": with either off, cn_ban is out of force, so "open" (ban off) and
    # "open2" (ban2 off) are one case (the simulator runs it once); main compared toggle states: [] listed
    data = toy_data()
    data["toggles"]["ban2"] = {"default": True, "controls": ["cn_ban"]}
    data["variants"]["open2"] = {"toggles": {"ban2": False}}
    two = Scenario.model_validate(data)
    table = compare(two, variants=["open", "open2", "banned"], mode="fixed")
    assert table.attrs["same_toggles"] == [("open", "open2")]
    lost_open = table.query("variant in ['open', 'open2']").pivot_table(index=["year", "country", "commodity",
                                                                              "metric"], columns="variant",
                                                                       values="value")
    assert (lost_open["open"] == lost_open["open2"]).all()


# ---------------------------------------------------------------- D-19: a dict from a DataFrame
def test_load_text_reads_numpy_numbers_and_locates_what_it_cannot_write() -> None:
    data = toy_data()
    data["scenario"]["base_year"] = np.int64(2024)  # main: "<dict>: cannot be written as YAML", no key
    data["facilities"]["cn_sep"]["production"] = {np.int64(y): np.float64(600) for y in YEARS}
    assert sc.load_text(data) == Scenario.model_validate(toy_data())
    data["flows"]["cn_us_2025"]["tonnes"] = {600}
    with pytest.raises(ScenarioError, match=r"<dict>: flows\.cn_us_2025\.tonnes: cannot be written as YAML: "
                                            r"\{600\} \(set\)"):
        sc.load_text(data)


def test_a_sweeps_on_error_is_checked_like_every_choice(toy: Scenario) -> None:
    # s36 diff review D-16; main: a bare ValueError "on_error must be 'raise' or 'nan'"
    from supplychain.uncertainty import run_sweep

    with pytest.raises(ScenarioError, match=r"argument on_error=: unknown on_error 'Raise'\n"
                                            r"    hint: did you mean 'raise'\?"):
        run_sweep(toy, samples=2, seed=1, on_error="Raise", cache=False, quiet=True)  # type: ignore[arg-type]
