"""The shortfall beside a ``rebalance`` headline under the other allocation rules (review 5, R-13).

The hand world is ``tests/test_allocation.py``'s exporter world: China (mine 200 t) supplied its
own users 100 t, Korea 60 t and Japan 40 t; Japan's mine (100 t, at capacity) serves Japan and sends
20 t to Korea. Demand: CN 100, JP 120, KR 80 t. China's exports are banned in 2025, so outside
China only Japan's 100 t remain for 200 t of demand. Derivations (that test): Korea is short
65.7/80 = 82.1 % under ``contracts_first`` (its fixed floor: 20·5/7 t from Japan), 100 % under
``home_first`` (Japan exports nothing while short), 50 % under ``proportional`` and
``max_delivery``; Japan 2/7 = 28.6 %, 1/6 = 16.7 %, 50 %. Every rule delivers China's own 100 t
plus Japan's 100 t: 200 t in the world.
"""

from __future__ import annotations

import pytest

from supplychain.api import simulate
from supplychain.cli.run import allocation_rule_lines, result_json
from supplychain.report.answers import country_answer
from supplychain.report.rule_range import focus_ranges, outcome, rule_outcomes, rules_text
from supplychain.report.runs import run_scenario
from tests.test_allocation import YEAR, exporter_world


def test_each_rule_is_one_simulation_of_the_same_run() -> None:
    s = exporter_world()
    own = simulate(s, years=[2024, YEAR])  # contracts_first, the default
    got = outcome(own, YEAR, "KR", "x")
    assert got is not None
    assert got.rule == "contracts_first"
    assert got.share == pytest.approx((80 - 20 * 5 / 7) / 80, abs=1e-9)
    assert got.delivered == pytest.approx(200.0, abs=1e-6)
    others = {o.rule: o for o in rule_outcomes(s, YEAR, "KR", "x", ["home_first", "proportional", "max_delivery"],
                                                toggles=own.toggle_state.states)}
    assert others["home_first"].share == pytest.approx(1.0, abs=1e-9)
    assert others["proportional"].share == pytest.approx(0.5, abs=1e-9)
    assert others["max_delivery"].share == pytest.approx(0.5, abs=1e-9)
    assert all(o.delivered == pytest.approx(200.0, abs=1e-6) for o in others.values())
    text = rules_text(got, list(others.values()))
    assert text.startswith("50% (proportional, max_delivery) to 100% (home_first) under the other allocation rules")
    assert "every rule delivers the same 200 t worldwide" in text


def test_the_report_answer_gives_the_worst_shortfall_under_the_other_rules() -> None:
    run = run_scenario(exporter_world())
    kr = country_answer([run], "KR", None, {}, ["s"])["sentence"]
    assert "Worst shortfall under the rebalance response: 82% of demand unmet in 2025" in kr
    assert "50% (proportional, max_delivery) to 100% (home_first) under the other allocation rules" in kr
    jp = country_answer([run], "JP", None, {}, ["s"])["sentence"]
    assert "29% of demand unmet in 2025" in jp
    assert "17% (home_first) to 50% (proportional, max_delivery) under the other allocation rules" in jp
    assert "every rule delivers the same 200 t worldwide" in jp


def test_run_prints_the_range_beside_the_shortfall_and_none_under_fixed() -> None:
    s = exporter_world()
    r = simulate(s, years=[2024, YEAR], allocation="home_first")
    (line,) = allocation_rule_lines(r, s, [2024, YEAR], ["JP"])
    # home_first: Japan keeps its 100 t, 20/120 short; the others 28.6 % (contracts_first) and 50 %
    assert line.startswith("Allocation rules: JP x 17% short in 2025 under home_first; 29% (contracts_first) to "
                           "50% (proportional, max_delivery) under the other allocation rules")
    assert allocation_rule_lines(simulate(s, years=[2024, YEAR], mode="fixed"), s, [2024, YEAR], ["JP"]) == []


def test_run_json_holds_the_range_of_the_line() -> None:
    """``run --format json``'s ``allocation_rules``: the figures of the line, per focus country short.

    Under ``contracts_first`` (the module's derivations): Japan 2/7 short, 1/6 under ``home_first``,
    1/2 under ``proportional`` and ``max_delivery``; Korea (80 − 20·5/7)/80, 1, 1/2, 1/2; every rule
    delivers 200 t in the world.
    """
    s = exporter_world()
    r = simulate(s, years=[2024, YEAR])
    doc = result_json(r, [2024, YEAR], rule_ranges=focus_ranges(r, s, [2024, YEAR], ["JP", "KR"]))
    got = {rec["country"]: rec for rec in doc["allocation_rules"]}
    assert set(got) == {"JP", "KR"}
    expected = {"JP": {"contracts_first": 2 / 7, "home_first": 1 / 6, "proportional": 0.5, "max_delivery": 0.5},
                "KR": {"contracts_first": (80 - 20 * 5 / 7) / 80, "home_first": 1.0, "proportional": 0.5,
                       "max_delivery": 0.5}}  # fmt: skip
    for country, rec in got.items():
        assert (rec["commodity"], rec["year"], rec["rule"], rec["unit"]) == ("x", YEAR, "contracts_first", "t")
        assert [x["rule"] for x in rec["rules"]] == ["contracts_first", "home_first", "proportional", "max_delivery"]
        assert {x["rule"]: x["shortfall_share"] for x in rec["rules"]} == pytest.approx(expected[country], abs=1e-9)
        assert all(x["delivered"] == pytest.approx(200.0, abs=1e-6) for x in rec["rules"])
        assert rec["same_total"] is True
    lines = allocation_rule_lines(r, s, [2024, YEAR], ["JP", "KR"])
    assert [f"{rec['country']} x" in line and rec["text"] in line for rec, line in
            zip(doc["allocation_rules"], lines, strict=True)] == [True, True]
    assert result_json(r, [YEAR], commodities=["y"], rule_ranges=focus_ranges(r, s, [YEAR], ["JP"]))[
        "allocation_rules"] == []
