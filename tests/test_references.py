"""Cross-reference rules: one test per rule, on scenarios built in Python and loaded from YAML."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from supplychain.errors import ScenarioError
from supplychain.io import load_text
from supplychain.schema import references as ref
from supplychain.schema.model import Scenario

Build = Callable[..., dict[str, Any]]


def scenario(data: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(data)


def messages(problems: list[Any]) -> list[tuple[str, str, str]]:
    """(dotted path, message, hint) of each problem."""
    from supplychain.errors import format_path

    return [(format_path(p.path), p.message, p.hint) for p in problems]


def test_minimal_scenario_passes_every_rule(scenario_dict: Build) -> None:
    assert ref.check_references(scenario(scenario_dict())) == []


def test_problems_of_python_built_scenarios_are_api_located(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["flows"]["cn_us"]["commodity"] = "ndpr_oxyde"
    (problem,) = ref.check_references(scenario(data))
    assert (problem.file, problem.line, problem.column) == ("<api>", 0, 0)
    assert str(problem).startswith("<api>: flows.cn_us.commodity: unknown commodity 'ndpr_oxyde'")


def test_sources_at_any_depth(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["facilities"]["mine"]["capacity"]["source"] = "usgss"
    data["policies"]["cn_ban"]["source"] = "mofcom"
    data["agreements"] = {
        "deal": {
            "name": "Deal",
            "parties": ["US", "JP"],
            "start": "2025-10-28",
            "investment": {
                "fund_usd": 5e9,
                "projects": {
                    "p": {"country": "AU", "kind": "mine", "output": "concentrate", "lead_time_years": 3,
                          "share_of_fund": {"value": 0.5, "source": "jogmec"},
                          "capital_intensity_usd_per_tpa": {"value": 50000, "assumption": "typical"}},
                },
            },
        },
    }  # fmt: skip
    assert messages(ref.check_sources(scenario(data))) == [
        ("facilities.mine.capacity.source", "unknown source 'usgss'", "did you mean 'usgs'?"),
        ("policies.cn_ban.source", "unknown source 'mofcom'", "declare it under `sources:`"),
        (
            "agreements.deal.investment.projects.p.share_of_fund.source",
            "unknown source 'jogmec'",
            "declare it under `sources:`",
        ),
    ]


def test_countries_iso_or_declared(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["groups"] = {"ASEAN": {"members": ["MY", "VN", "TH", "KH"]}}
    data["facilities"]["mine"]["country"] = "UK"
    data["facilities"]["plant"]["owners"] = [{"name": "X", "country": "ASEAN", "stake": 0.5}]
    data["policies"]["cn_ban"]["partners"] = {"exclude": ["ROW", "EU"]}
    assert messages(ref.check_countries(scenario(data))) == [
        ("facilities.mine.country", "unknown country or region code 'UK'", "did you mean 'GB' (United Kingdom)?"),
        (
            "policies.cn_ban.partners.exclude[1]",
            "unknown country or region code 'EU'",
            "use an ISO 3166-1 alpha-2 code, or declare it under `regions:`",
        ),
    ]


def test_country_section_keys_and_defaults_are_checked(scenario_dict: Build) -> None:
    data = scenario_dict(regions=None)
    data["countries"] = {"XK": {"name": "Kosovo"}, "ZZ": {"name": "Nowhere"}}
    data["imports"] = {"us": {"importer": "US", "commodity": "ndpr_oxide", "year": 2024, "total": 10,
                              "partners": {"CN": 0.7}}}  # fmt: skip
    found = [m[:2] for m in messages(ref.check_countries(scenario(data)))]
    assert ("countries.ZZ", "unknown country or region code 'ZZ'") in found
    assert ("imports.us.remainder_to", "unknown country or region code 'ROW'") in found, "default ROW needs a region"


def test_code_clashes(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["regions"]["CN"] = {"name": "China again"}
    data["groups"] = {"ROW": {"members": ["US"]}}
    data["facilities"]["JP"] = {"name": "Plant", "country": "JP", "kind": "mine", "output": "concentrate"}
    assert [m[1] for m in messages(ref.check_code_clashes(scenario(data)))] == [
        "facility id 'JP' is also a country, region or group code",
        "region code 'CN' is already the ISO code of a country",
        "'ROW' is both a region and a group",
    ]


def test_group_loops(scenario_dict: Build) -> None:
    data = scenario_dict(groups={"AA": {"members": ["BB"]}, "BB": {"members": ["AA", "US"]}, "CC": {"members": ["AA"]}})
    assert [m[0] for m in messages(ref.check_groups(scenario(data)))] == ["groups.AA.members", "groups.BB.members"]


def test_commodities_everywhere(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["processes"]["separation"]["inputs"] = {"concentrat": 5}
    data["facilities"]["mine"]["output"] = "ore"
    data["policies"]["cn_ban"]["covers"] = {"commodities": ["ndpr"]}
    assert messages(ref.check_commodities(scenario(data))) == [
        ("processes.separation.inputs.concentrat", "unknown commodity 'concentrat'", "did you mean 'concentrate'?"),
        ("facilities.mine.output", "unknown commodity 'ore'", "declare it under `commodities:`"),
        # the one option 'ndpr' begins (arguments.closest, the API's rule too: s36 D-14)
        ("policies.cn_ban.covers.commodities[0]", "unknown commodity 'ndpr'", "did you mean 'ndpr_oxide'?"),
    ]


def test_processes(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["facilities"]["plant"]["process"] = "seperation"
    assert messages(ref.check_processes(scenario(data))) == [
        ("facilities.plant.process", "unknown process 'seperation'", "did you mean 'separation'?")
    ]


def test_converting_kinds_need_a_process(scenario_dict: Build) -> None:
    """N-3: a separation plant (a converting kind) with `output:` would make its output from nothing; a mine,
    recycler or aggregate may; an investment project is checked alike; the hint names the makers."""
    data = scenario_dict()
    data["facilities"]["plant"] = {"name": "Plant", "country": "CN", "kind": "separation", "output": "ndpr_oxide"}
    data["facilities"]["agg"] = {"name": "Agg", "country": "JP", "kind": "aggregate", "output": "ndpr_oxide"}
    data["facilities"]["rec"] = {"name": "Rec", "country": "JP", "kind": "recycler", "output": "ndpr_oxide"}
    data["agreements"] = {"deal": {"name": "D", "parties": ["US", "JP"], "start": 2025, "investment": {
        "fund_usd": 1e9, "projects": {"p": {"country": "US", "kind": "metal", "output": "concentrate",
                                            "share_of_fund": 1.0, "capital_intensity_usd_per_tpa": 1e5,
                                            "lead_time_years": 2}}}}}
    got = messages(ref.check_converter_kinds(scenario(data)))
    assert got == [
        ("facilities.plant.output",
         "facility plant is a separation plant with `output: ndpr_oxide` and no `process:`: it would make "
         "ndpr_oxide from nothing",
         "give `process: <id>` instead of `output:` (this scenario's processes making ndpr_oxide: separation); "
         "or use `kind: aggregate` (or `mine`) if its inputs are outside the scenario"),
        ("agreements.deal.investment.projects.p.output",
         "investment project p is a metal plant with `output: concentrate` and no `process:`: it would make "
         "concentrate from nothing",
         "give `process: <id>` instead of `output:` (no process of this scenario makes concentrate: declare one "
         "under `processes:`); or use `kind: aggregate` (or `mine`) if its inputs are outside the scenario"),
    ]
    assert ref.check_converter_kinds in ref.RULES


def test_rows_dated_where_they_are_never_used_are_warned(scenario_dict: Build) -> None:
    """N-5: a flow or import of a year outside base_year..horizon is in no year's network; a stock after the horizon
    never enters; a demand by_year figure outside is never read. A stock before the base year enters in it and a
    demand entry's own year is grown to every year: not reported."""
    data = scenario_dict()
    data["scenario"]["horizon"] = 2030
    data["flows"]["old"] = {"supplier": "mine", "buyer": "plant", "commodity": "concentrate", "year": 2023,
                            "tonnes": 1}
    data["stockpiles"] = {"late": {"country": "US", "commodity": "ndpr_oxide", "year": 2031, "tonnes": 5},
                          "early": {"country": "US", "commodity": "ndpr_oxide", "year": 2020, "tonnes": 5}}
    data["demand"] = {"d": {"country": "US", "commodity": "ndpr_oxide", "year": 2019, "tonnes": 5,
                            "by_year": {2040: 7, 2025: 6}}}
    got = messages(ref.check_dated_rows(scenario(data)))
    assert [(p, m) for p, m, _ in got] == [
        ("flows.old.year", "2023 is outside the scenario's years 2024–2030: this flow is not used"),
        ("stockpiles.late.year", "2031 is outside the scenario's years 2024–2030: this stock never enters"),
        ("demand.d.by_year[2040]", "2040 is outside the scenario's years 2024–2030: this figure is not used"),
    ]
    assert "set `year: 2024` (the base year)" in got[0][2]
    assert ref.check_dated_rows in ref.WARNINGS


def test_bundled_history_rows_are_not_warned() -> None:
    """The bundled minerals world holds 2020-23 and 2026 flows and imports for a 2024-2025 scenario on purpose."""
    from supplychain.io import load
    from supplychain.io.roots import bundled_root

    s = load(bundled_root() / "china_controls_all_minerals.yaml")
    assert any(f.year == 2020 for f in s.flows.values())
    assert ref.check_dated_rows(s) == []


def test_flow_and_offtake_nodes(scenario_dict: Build) -> None:
    data = scenario_dict(groups={"ASEAN": {"members": ["MY"]}})
    data["flows"]["mine_plant"]["buyer"] = "plnt"
    data["flows"]["cn_us"]["supplier"] = "ASEAN"
    data["agreements"] = {
        "deal": {
            "name": "D",
            "parties": ["US", "JP"],
            "start": 2025,
            "offtakes": [
                {
                    "supplier": "lynas",
                    "buyer": "US",
                    "commodity": "ndpr_oxide",
                    "tonnes_per_year": 100,
                    "start_year": 2026,
                }
            ],
        }
    }
    assert messages(ref.check_nodes(scenario(data))) == [
        ("flows.mine_plant.buyer", "unknown facility or country 'plnt'",
         "did you mean 'plant' (a facility, under `facilities:`)?"),
        ("flows.cn_us.supplier", "'ASEAN' is a group, not a node",
         "a flow runs between one facility or country and another; list one flow per member"),
        ("agreements.deal.offtakes[0].supplier", "unknown facility or country 'lynas'",
         "give a facility id, an investment project or a country/region code"),
    ]  # fmt: skip


def test_toggles_and_lifts_name_real_entities(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["toggles"]["ban"]["controls"] = ["cn_bann", "deal"]
    data["agreements"] = {"deal": {"name": "D", "parties": ["US", "JP"], "start": 2025, "lifts": ["cn_ban", "deal"]}}
    assert messages(ref.check_policy_names(scenario(data))) == [
        ("toggles.ban.controls[0]", "unknown entity 'cn_bann'", "did you mean 'cn_ban' (a policy, under `policies:`)?"),
        ("agreements.deal.lifts[1]", "unknown policy 'deal'", "declare it under `policies:`"),
    ]


def test_switches_off_names_real_entities_not_also_controlled(scenario_dict: Build) -> None:
    # review #5, R-1: a toggle's `switches_off` (entities in force only while it is off) is checked as `controls`
    # is, and an entity in both lists of one toggle would never be in force: a located error
    data = scenario_dict()
    data["agreements"] = {"deal": {"name": "D", "parties": ["US", "CN"], "start": 2025}}
    data["toggles"]["ban"]["controls"] = ["deal"]
    data["toggles"]["ban"]["switches_off"] = ["cn_bann", "deal"]
    assert messages(ref.check_policy_names(scenario(data))) == [
        ("toggles.ban.switches_off[0]", "unknown entity 'cn_bann'",
         "did you mean 'cn_ban' (a policy, under `policies:`)?"),
        ("toggles.ban.switches_off[1]", "'deal' is also in this toggle's `controls`",
         "an entity a toggle both switches on and off is never in force: keep it in one list"),
    ]  # fmt: skip
    data["toggles"]["ban"]["switches_off"] = ["cn_ban"]
    assert ref.check_policy_names(scenario(data)) == []


PROJECT = {"ru_mine": {"country": "AU", "kind": "mine", "output": "concentrate", "share_of_fund": 1,
                       "capital_intensity_usd_per_unit_pa": 1e5, "lead_time_years": 2}}


def test_hints_name_the_right_section_and_the_nearest_id_of_any_kind(scenario_dict: Build) -> None:
    # Issue 18, item 9: a toggle naming something that is no switch, and an offtake naming a near
    # miss of an investment project, get hints that name what the id is and where it is declared.
    data = scenario_dict(demand={"us_d": {"country": "US", "commodity": "ndpr_oxide", "year": 2024, "tonnes": 5}})
    data["toggles"]["ban"]["controls"] = ["us_d", "mine"]
    data["agreements"] = {"deal": {"name": "D", "parties": ["US", "JP"], "start": 2025,
                                   "investment": {"fund_usd": 1e9, "projects": PROJECT},
                                   "offtakes": [{"supplier": "ru_mien", "buyer": "US", "commodity": "concentrate",
                                                 "quantity_per_year": 10, "start_year": 2027}]}}
    problems = messages(ref.check_policy_names(scenario(data))) + messages(ref.check_nodes(scenario(data)))
    assert problems == [
        ("toggles.ban.controls[0]", "'us_d' cannot be switched",
         "'us_d' is a demand entry; a toggle switches policies, agreements, facilities, flows, stockpiles and "
         "offtakes (by their `id`)"),
        ("agreements.deal.offtakes[0].supplier", "unknown facility or country 'ru_mien'",
         "did you mean 'ru_mine' (an investment project, under `agreements.<id>.investment.projects:`)?"),
    ]  # the facility `mine` is a valid control now (item 11)


def test_offtake_may_name_an_investment_project(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["agreements"] = {"deal": {"name": "D", "parties": ["US", "JP"], "start": 2025,
                                   "investment": {"fund_usd": 1e9, "projects": PROJECT},
                                   "offtakes": [{"supplier": s, "buyer": "US", "commodity": "concentrate",
                                                 "quantity_per_year": 10, "start_year": 2027}
                                                for s in ("ru_mine", "deal.ru_mine")]}}
    assert ref.check_references(scenario(data)) == []


def test_controls_naming_two_sections_must_say_which(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["flows"]["mine"] = {**data["flows"]["cn_us"]}
    data["toggles"]["ban"]["controls"] = ["mine", "facilities.mine"]
    assert messages(ref.check_policy_names(scenario(data))) == [
        ("toggles.ban.controls[0]", "'mine' names entities in 2 sections", "write 'facilities.mine' or 'flows.mine'"),
    ]


def test_variants_name_real_toggles(scenario_dict: Build) -> None:
    data = scenario_dict(variants={"v": {"toggles": {"bann": True}}})
    assert messages(ref.check_variants(scenario(data))) == [
        ("variants.v.toggles.bann", "unknown toggle 'bann'", "did you mean 'ban'?")
    ]


def test_selector_families_and_elements(scenario_dict: Build) -> None:
    data = scenario_dict()
    data["policies"]["cn_ban"]["covers"] = {"families": ["rare_earth"], "elements": ["Dy", "Nd"]}
    assert [m[1:] for m in messages(ref.check_selectors(scenario(data)))] == [
        ("unknown commodity family 'rare_earth'", "did you mean 'rare_earths'?"),
        ("unknown element 'Dy'", "no commodity lists this element in `elements:`"),
    ]


def test_years_far_before_base_year(scenario_dict: Build) -> None:
    data = scenario_dict(demand={"d": {"country": "US", "commodity": "ndpr_oxide", "year": 2024, "tonnes": 5,
                                       "by_year": {1970: 1, 1980: 1}}})  # fmt: skip
    data["facilities"]["mine"]["production"] = {1950: 1}
    assert [m[0] for m in messages(ref.check_data_years(scenario(data)))] == [
        "demand.d.by_year[1970]",
        "facilities.mine.production[1950]",
    ]


def test_citations_only_for_written_quantities(scenario_dict: Build) -> None:
    found = [m[0] for m in messages(ref.check_citations(scenario(scenario_dict())))]
    assert found == [
        "processes.separation.inputs.concentrate",
        "processes.separation.outputs.ndpr_oxide",
        "facilities.plant.capacity",
        "flows.mine_plant.tonnes",
        "flows.cn_us.tonnes",
    ]


def test_rules_locate_problems_in_yaml() -> None:
    text = (
        "scenario: {name: T, base_year: 2024}\n"
        "commodities:\n"
        "  ore: {name: Ore, stage: ore}\n"
        "facilities:\n"
        "  m:\n"
        "    name: M\n"
        "    country: US\n"
        "    kind: mine\n"
        "    output: oer\n"
    )
    with pytest.raises(ScenarioError, match=r"s\.yaml:9:5: facilities\.m\.output: unknown commodity 'oer'") as info:
        load_text(text, file="s.yaml")
    assert info.value.problems[0].hint == "did you mean 'ore'?"


def test_did_you_mean_without_match_returns_default() -> None:
    assert ref.did_you_mean("zzz", ["capacity"], "no idea") == "no idea"


def test_a_growth_of_minus_one_is_not_carried_back_before_its_year(scenario_dict: Build) -> None:
    # Demand before its entry's year is t (1 + g)^n with n < 0: for g = -1 that is t / 0, which
    # used to end in a ZeroDivisionError traceback. From its own year on it is t, then 0.
    data = scenario_dict()
    base = data["scenario"]["base_year"]
    data["demand"] = {"us": {"country": "US", "commodity": "ndpr_oxide", "year": base + 1, "tonnes": 100,
                             "growth": {"value": 0.0, "dist": "uniform", "low": -1.0, "high": 0.1}}}
    (problem,) = ref.check_data_years(scenario(data))
    assert messages([problem]) == [(
        "demand.us.growth",
        f"a growth of -100 % a year cannot be carried back from {base + 1} to {base}: demand there would be t / 0",
        f"give the years before {base + 1} in `by_year`, or a growth above -1")]
    data["demand"]["us"]["by_year"] = {base: 120}  # the year before given: nothing is carried back
    assert ref.check_data_years(scenario(data)) == []
    data["demand"]["us"].pop("by_year")
    data["demand"]["us"]["year"] = base  # its year is the base year: nothing before it is simulated
    assert ref.check_data_years(scenario(data)) == []
