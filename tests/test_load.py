"""Loading scenarios: every bad-input class is reported, located, with a fix."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from supplychain.errors import ScenarioError
from supplychain.io import applied_overrides, load, load_text, problem_at
from supplychain.schema.model import Scenario

DATA = Path(__file__).parent / "data" / "minimal"

Write = Callable[[str, Any], Path]

HEAD = "scenario: {name: Test, base_year: 2024}\n"
MINE = "{name: Mine, country: US, kind: mine, output: ore}"
COMMODITIES = "commodities:\n  ore: {name: Ore, stage: ore}\n"


def problems_of(text: str, **kwargs: Any) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_text(text, file="s.yaml", **kwargs)
    return info.value


# ------------------------------------------------------------------ valid input
def test_minimal_child_composes_base_and_overrides() -> None:
    scenario = load(DATA / "child.yaml", require_sources=True)
    assert scenario.scenario.name == "Minimal child"
    assert scenario.scenario.base_year == 2024  # inherited
    capacity = scenario.facilities["mountain_pass"].capacity
    assert capacity is not None
    assert capacity.value == 50000
    assert capacity.source is None, "a new figure must not keep the old figure's source"
    assert scenario.toggles["china_ban"].default is True
    assert scenario.extends == ["base.yaml"]


def test_applied_overrides_name_both_files() -> None:
    overrides = {o.path: o for o in applied_overrides(load(DATA / "child.yaml"))}
    capacity = overrides[("facilities", "mountain_pass", "capacity")]
    assert capacity.new.file.endswith("child.yaml")
    assert capacity.new.line == 8
    assert capacity.old.file.endswith("base.yaml")
    assert capacity.old.line == 45
    assert "child.yaml:8 (overrides " in str(capacity)


def test_scenario_built_in_python_has_no_overrides_and_api_location(scenario_dict: Callable[..., Any]) -> None:
    scenario = Scenario.model_validate(scenario_dict())
    assert applied_overrides(scenario) == []
    problem = problem_at(scenario, ("flows", "cn_us", "tonnes"), "unbalanced", "check it")
    assert (problem.file, problem.line, problem.column) == ("<api>", 0, 0)


def test_problem_at_locates_loaded_paths_in_the_providing_file() -> None:
    scenario = load(DATA / "child.yaml")
    stake = problem_at(scenario, ("facilities", "mountain_pass", "owners", 0, "stake"), "x")
    assert stake.file.endswith("base.yaml")
    assert stake.line == 44
    deep = problem_at(scenario, ("facilities", "mountain_pass", "capacity", "value", "more"), "x")
    assert deep.file.endswith("child.yaml")
    assert deep.line == 8


def test_loaded_equals_python_built(scenario_dict: Callable[..., Any]) -> None:
    data = scenario_dict()
    assert load_text(yaml.safe_dump(data, sort_keys=False)) == Scenario.model_validate(data)


def test_no_stays_a_string_and_is_norway(scenario_dict: Callable[..., Any]) -> None:
    text = HEAD + COMMODITIES + "facilities:\n  m: {name: Mine, country: NO, kind: mine, output: ore}\n"
    assert load_text(text).facilities["m"].country == "NO"


def test_on_in_boolean_field_is_true_but_text_in_string_field() -> None:
    text = (
        "scenario: {name: on, base_year: 2024}\n"
        "policies:\n  p: {type: export_ban, country: CN, start: 2025, name: off}\n"
        "toggles:\n  t: {controls: [p], default: on}\n"
        "variants:\n  v: {toggles: {t: no}}\n"
    )
    scenario = load_text(text)
    assert scenario.scenario.name == "on"
    assert scenario.policies["p"].name == "off"
    assert scenario.toggles["t"].default is True
    assert scenario.variants["v"].toggles == {"t": False}


def test_dates_accept_year_month_and_year() -> None:
    text = HEAD + "policies:\n  p: {type: export_ban, country: CN, start: 2025-09, end: 2026}\n"
    policy = load_text(text).policies["p"]
    assert (policy.start.isoformat(), str(policy.end)) == ("2025-09-01", "2026-01-01")


def test_quoted_year_keys_are_years() -> None:
    text = HEAD + COMMODITIES + "facilities:\n  m:\n    name: M\n    country: US\n    kind: mine\n    output: ore\n"
    text += "    production: {'2024': 5, 2025: 6}\n"
    production = load_text(text).facilities["m"].production
    assert {year: q.value for year, q in production.items()} == {2024: 5, 2025: 6}


# -------------------------------------------------------------- bad input, one each
def test_unknown_key_with_did_you_mean() -> None:
    text = HEAD + COMMODITIES + "facilities:\n  m: {name: M, country: US, kind: mine, output: ore, capacty: 5}\n"
    with pytest.raises(ScenarioError, match=r"s\.yaml:5:54: facilities\.m\.capacty: unknown key 'capacty'") as info:
        load_text(text, file="s.yaml")
    assert "did you mean 'capacity'?" in str(info.value)


def test_target_year_for_by_is_named_as_by() -> None:
    """A target's year is `by:`; `year:` (the word every dated entry uses) is spelt too unlike `by` for the
    spelling match, so the target's key synonyms name it: located at the key, with its key path."""
    text = HEAD + "targets:\n  t:\n    country: US\n    commodity: ore\n    max: 0.25\n    year: 2030\n"
    error = problems_of(text)
    problems = {p.message: p for p in error.problems}
    unknown = problems["unknown key 'year'"]
    assert (unknown.file, unknown.line, unknown.column, unknown.path) == ("s.yaml", 7, 5, ("targets", "t", "year"))
    assert unknown.hint == "did you mean 'by'?"
    assert "s.yaml:7:5: targets.t.year: unknown key 'year'\n    hint: did you mean 'by'?" in str(error)
    # the synonym belongs to targets: elsewhere an unknown `year` still gets the list of allowed keys
    other = problems_of(HEAD + "commodities:\n  c: {name: C, stage: ore, year: 2030}\n").problems[0]
    assert other.message == "unknown key 'year'"
    assert other.hint.startswith("allowed keys: ")


def test_unknown_top_level_section_suggests_section() -> None:
    with pytest.raises(ScenarioError, match=r"s\.yaml:2:1: .*unknown key 'facility'.*\n.*did you mean 'facilities'"):
        load_text(HEAD + "facility: {}\n", file="s.yaml")


def test_missing_key_is_named_at_its_entity() -> None:
    text = HEAD + COMMODITIES + "facilities:\n  m: {country: US, kind: mine, output: ore}\n"
    with pytest.raises(ScenarioError, match=r"s\.yaml:5:3: facilities\.m\.name: missing required key 'name'"):
        load_text(text, file="s.yaml")


def test_negative_tonnes() -> None:
    text = HEAD + COMMODITIES + "flows:\n  f: {supplier: US, buyer: CN, commodity: ore, year: 2024, tonnes: -5}\n"
    with pytest.raises(ScenarioError, match=r"s\.yaml:5:60: flows\.f\.tonnes: a quantity of material must be in"):
        load_text(text, file="s.yaml")


def test_too_short_assumption_says_how_short() -> None:
    # An `assumption` needs at least 3 characters (schema min_length=3): "x" is 1 character, so the message
    # says so — main said "must not be empty" about text that is not empty. An empty name is still "empty".
    text = HEAD + COMMODITIES + ("flows:\n  f: {supplier: US, buyer: CN, commodity: ore, year: 2024,"
                                 " tonnes: {value: 5, assumption: x}}\n")
    err = problems_of(text)
    assert "flows.f.tonnes.assumption: is too short: at least 3 characters, got 1 ('x')" in str(err)
    assert "must not be empty" not in str(err)
    empty = problems_of(HEAD + "commodities:\n  ore: {name: '', stage: ore}\n")
    assert "commodities.ore.name: must not be empty" in str(empty)


def test_nan_is_refused() -> None:
    text = HEAD + COMMODITIES + "flows:\n  f: {supplier: US, buyer: CN, commodity: ore, year: 2024, tonnes: .nan}\n"
    with pytest.raises(ScenarioError, match=r"s\.yaml:5:\d+: .*NaN and infinity are not allowed"):
        load_text(text, file="s.yaml")


def test_share_above_one() -> None:
    text = HEAD + "policies:\n  p: {type: export_ban, country: CN, start: 2025, share_blocked: 1.5}\n"
    with pytest.raises(ScenarioError, match=r"s\.yaml:3:\d+: policies\.p\.share_blocked: a share must be in \[0, 1\]"):
        load_text(text, file="s.yaml")


def test_stakes_summing_above_one() -> None:
    owners = "[{name: A, country: CN, stake: 0.7}, {name: B, country: US, stake: 0.5}]"
    text = (
        HEAD + COMMODITIES + f"facilities:\n  m: {{name: M, country: US, kind: mine, output: ore, owners: {owners}}}\n"
    )
    with pytest.raises(ScenarioError, match=r"s\.yaml:5:3: facilities\.m: owner stakes sum to 1\.2, above 1"):
        load_text(text, file="s.yaml")


def test_invalid_date() -> None:
    text = HEAD + "policies:\n  p: {type: export_ban, country: CN, start: 2025-02-30}\n"
    with pytest.raises(ScenarioError, match=r"s\.yaml:3:38: policies\.p\.start: invalid date '2025-02-30'"):
        load_text(text, file="s.yaml")


def test_over_long_integer() -> None:
    text = (
        HEAD + COMMODITIES + "flows:\n  f: {supplier: US, buyer: CN, commodity: ore, year: 2024, tonnes: 1" + "0" * 40
    )
    with pytest.raises(ScenarioError, match=r"s\.yaml:5:\d+: .*integer too long"):
        load_text(text + "}\n", file="s.yaml")


def test_duplicate_key_names_both_lines() -> None:
    text = HEAD + COMMODITIES + "facilities:\n  m:\n    name: A\n    country: US\n    name: B\n"
    with pytest.raises(ScenarioError, match=r"s\.yaml:8:5: .*duplicate key 'name' \(first defined at line 6\)"):
        load_text(text, file="s.yaml")


def test_unknown_policy_type_is_one_clean_problem() -> None:
    error = problems_of(HEAD + "policies:\n  p: {type: export_bann, country: CN, start: 2025}\n")
    assert len(error.problems) == 1
    message = str(error.problems[0])
    assert "unknown type 'export_bann'; expected one of: export_ban, export_licensing" in message
    assert "did you mean 'export_ban'?" in message


def test_missing_policy_type_lists_options() -> None:
    error = problems_of(HEAD + "policies:\n  p: {country: CN, start: 2025}\n")
    assert [p.message for p in error.problems] == [
        "missing key 'type' (one of: export_ban, export_licensing, export_quota, export_tax, import_ban, tariff)"
    ]


def test_wrong_field_inside_tagged_policy_suggests_its_fields() -> None:
    error = problems_of(HEAD + "policies:\n  p: {type: export_licensing, country: CN, start: 2025, share_aproved: 1}\n")
    hints = {p.message: p.hint for p in error.problems}
    assert hints["unknown key 'share_aproved'"] == "did you mean 'share_approved'?"


def test_literal_lists_allowed_values() -> None:
    error = problems_of(HEAD + "commodities:\n  c: {name: C, stage: oxyde}\n")
    problem = error.problems[0]
    assert problem.message == "'oxyde' is not allowed; expected one of: ore, oxide, metal, magnet, product"
    assert problem.hint == "did you mean 'oxide'?"


def test_quoted_number_suggests_removing_quotes() -> None:
    error = problems_of("scenario: {name: T, base_year: '2024'}\n")
    assert error.problems[0].hint == "remove the quotes around the number"


def test_invalid_id() -> None:
    error = problems_of(HEAD + "commodities:\n  2nd ore: {name: C, stage: ore}\n")
    assert error.problems[0].message == "invalid id '2nd ore'"


def test_null_entity_without_base() -> None:
    error = problems_of(HEAD + "commodities:\n  c: null\n")
    assert error.problems[0].message == "expected a mapping, got null"


def test_three_errors_give_three_problems() -> None:
    text = (
        "scenario: {name: T, base_year: 2024, horizon: 2030}\n"
        "commodities:\n"
        "  c: {name: C, stage: metl}\n"
        "facilities:\n"
        "  m: {name: M, country: US, kind: mine, output: c, capacty: 5}\n"
        "flows:\n"
        "  f: {supplier: US, buyer: CN, commodity: c, year: 2024, tonnes: -1}\n"
    )
    error = problems_of(text)
    assert [(p.line, p.path[-1]) for p in error.problems] == [(3, "stage"), (5, "capacty"), (7, "tonnes")]
    assert str(error).startswith("3 problems found:")


def test_reference_problems_are_all_reported_together() -> None:
    text = (
        HEAD + COMMODITIES + "facilities:\n  m: {name: M, country: XX, kind: mine, output: ore}\n"
        "flows:\n  f: {supplier: m, buyer: nowhere, commodity: ore, year: 2024, tonnes: {value: 1, source: usgs}}\n"
        "policies:\n  p: {type: export_ban, country: CN, start: 2025}\n"
        "toggles:\n  t: {controls: [q]}\n"
    )
    error = problems_of(text)
    messages = [p.message for p in error.problems]
    assert messages == [
        "unknown country or region code 'XX'",
        "unknown facility or country 'nowhere'",
        "unknown source 'usgs'",
        "unknown entity 'q'",
    ]


def test_require_sources_flags_bare_numbers_only_when_asked() -> None:
    text = HEAD + COMMODITIES + "flows:\n  f: {supplier: US, buyer: CN, commodity: ore, year: 2024, tonnes: 5}\n"
    assert load_text(text).flows["f"].tonnes.value == 5
    error = problems_of(text, require_sources=True)
    assert [str(p).splitlines()[0] for p in error.problems] == [
        "s.yaml:5:60: flows.f.tonnes: uncited figure: no `source` or `assumption`"
    ]


def test_require_sources_ignores_defaults() -> None:
    text = HEAD + "policies:\n  p: {type: export_ban, country: CN, start: 2025}\n"
    assert "share_blocked" not in load_text(text, require_sources=True).policies["p"].model_fields_set


# --------------------------------------------------------------------- extends
def test_error_inside_extended_file_names_that_file(write: Write) -> None:
    write("base.yaml", HEAD + COMMODITIES + "facilities:\n  m: {name: M, country: US, kind: min, output: ore}\n")
    child = write("child.yaml", "extends: [base.yaml]\nscenario: {name: Child}\n")
    with pytest.raises(ScenarioError, match=r"base\.yaml:5:\d+: facilities\.m\.kind: 'min' is not allowed") as info:
        load(child)
    assert all(p.file.endswith("base.yaml") for p in info.value.problems)


def test_problems_in_several_bases_are_reported_together(write: Write) -> None:
    write("a.yaml", "scenario: {name: [unclosed\n")
    write("b.yaml", "scenario: {name: B, name: Again}\n")
    child = write("child.yaml", "extends: [a.yaml, b.yaml, c.yaml]\n")
    with pytest.raises(ScenarioError, match="3 problems found") as info:
        load(child)
    error = info.value
    assert [Path(p.file).name for p in error.problems] == ["a.yaml", "b.yaml", "child.yaml"]
    assert "base file 'c.yaml' not found" in error.problems[-1].message


def test_later_base_overrides_earlier_and_file_overrides_all(write: Write) -> None:
    write("a.yaml", HEAD + COMMODITIES)
    write("b.yaml", "commodities:\n  ore: {name: Ore B, basis: t}\n")
    child = write("c.yaml", "extends: [a.yaml, b.yaml]\ncommodities:\n  ore: {basis: t REO}\n")
    ore = load(child).commodities["ore"]
    assert (ore.name, ore.basis) == ("Ore B", "t REO")
    overrides = [(o.path, Path(o.new.file).name, Path(o.old.file).name) for o in applied_overrides(load(child))]
    assert overrides == [
        (("commodities", "ore", "name"), "b.yaml", "a.yaml"),
        (("commodities", "ore", "basis"), "c.yaml", "b.yaml"),
    ]


def test_null_deletes_inherited_entity_and_lists_replace(write: Write) -> None:
    write("base.yaml", HEAD + COMMODITIES + "  metal: {name: Metal, stage: metal, elements: [Nd, Pr]}\n")
    child = write("child.yaml", "extends: [base.yaml]\ncommodities:\n  ore: null\n  metal: {elements: [Dy]}\n")
    scenario = load(child)
    assert list(scenario.commodities) == ["metal"]
    assert scenario.commodities["metal"].elements == ["Dy"]
    actions = {o.path: o.action for o in applied_overrides(scenario)}
    assert actions == {("commodities", "ore"): "delete", ("commodities", "metal", "elements"): "replace"}


def test_diamond_is_not_a_cycle(write: Write) -> None:
    write("root.yaml", HEAD + COMMODITIES)
    write("left.yaml", "extends: [root.yaml]\n")
    write("right.yaml", "extends: [root.yaml]\n")
    child = write("child.yaml", "extends: [left.yaml, right.yaml]\n")
    assert load(child).scenario.name == "Test"


def test_diamond_applies_the_shared_base_once(write: Write) -> None:
    write("root.yaml", HEAD + COMMODITIES)
    write("left.yaml", "extends: [root.yaml]\ncommodities:\n  ore: {name: Left ore}\n")
    write("right.yaml", "extends: [root.yaml]\nscenario: {name: Right}\n")
    child = write("child.yaml", "extends: [left.yaml, right.yaml]\n")
    scenario = load(child)
    assert scenario.commodities["ore"].name == "Left ore", "right must not re-impose root over left"
    overrides = [(o.path, Path(o.new.file).name, Path(o.old.file).name) for o in applied_overrides(scenario)]
    assert overrides == [
        (("commodities", "ore", "name"), "left.yaml", "root.yaml"),
        (("scenario", "name"), "right.yaml", "root.yaml"),
    ]
    assert [Path(f).name for f in scenario._provenance.files] == ["child.yaml", "root.yaml", "left.yaml", "right.yaml"]


def test_a_base_listed_after_its_dependent_does_not_undo_it(write: Write) -> None:
    write("a.yaml", HEAD + COMMODITIES)
    write("b.yaml", "extends: [a.yaml]\ncommodities:\n  ore: {name: B ore}\n")
    child = write("child.yaml", "extends: [b.yaml, a.yaml]\n")
    assert load(child).commodities["ore"].name == "B ore"


def test_extends_chain_depth_is_limited(write: Write) -> None:
    for i in range(40):
        write(f"f{i}.yaml", f"extends: [f{i + 1}.yaml]\n")
    write("f40.yaml", HEAD)
    with pytest.raises(ScenarioError, match="extends chain is deeper than 32 files"):
        load(write("top.yaml", "extends: [f0.yaml]\n"))


def test_extends_cycle_shows_the_chain(write: Write) -> None:
    a = write("cyc/a.yaml", "extends: [b.yaml]\n" + HEAD)
    write("cyc/b.yaml", "extends: [a.yaml]\n")
    chain = re.escape(f"extends cycle: {a} → {a.parent / 'b.yaml'} → {a}")
    with pytest.raises(ScenarioError, match=rf"b\.yaml:1:\d+: extends\[0\]: {chain}"):
        load(a)


def test_self_extension_is_a_cycle(write: Write) -> None:
    a = write("a.yaml", "extends: [a.yaml]\n" + HEAD)
    with pytest.raises(ScenarioError, match=r"extends cycle: .*a\.yaml → .*a\.yaml"):
        load(a)


def test_extends_escaping_the_folder_tree(write: Write) -> None:
    write("outside.yaml", HEAD)
    child = write("tree/scenarios/child.yaml", "extends: [../../outside.yaml]\n" + HEAD)
    with pytest.raises(ScenarioError, match=r"child\.yaml:1:\d+: extends\[0\]: .*escapes the scenario folder tree"):
        load(child)


def test_extends_one_level_up_is_allowed(write: Write) -> None:
    write("tree/base/world.yaml", HEAD + COMMODITIES)
    child = write("tree/variants/child.yaml", "extends: [../base/world.yaml]\n")
    assert "ore" in load(child).commodities


def test_extends_absolute_path_refused(write: Write, tmp_path: Path) -> None:
    base = write("base.yaml", HEAD)
    child = write("child.yaml", f"extends: ['{base}', '~/x.yaml']\n")
    with pytest.raises(ScenarioError, match="2 problems found") as info:
        load(child)
    error = info.value
    assert [p.message.split(" is")[0] for p in error.problems] == [
        f"absolute path '{base}'",
        "absolute path '~/x.yaml'",
    ]


def test_extends_symlink_leaving_the_tree_is_refused(write: Write, tmp_path: Path) -> None:
    outside = write("outside/secret.yaml", HEAD)
    link = tmp_path / "tree" / "a" / "link.yaml"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    child = write("tree/a/child.yaml", "extends: [link.yaml]\n")
    with pytest.raises(ScenarioError, match="escapes the scenario folder tree"):
        load(child)


def test_missing_base_suggests_a_near_name(write: Write) -> None:
    write("world.yaml", HEAD)
    child = write("child.yaml", "extends: [wrold.yaml]\n")
    with pytest.raises(ScenarioError, match=r"base file 'wrold\.yaml' not found\n    hint: did you mean 'world\.yaml'"):
        load(child)


def test_extends_must_be_a_list_of_paths(write: Write) -> None:
    child = write("child.yaml", "extends: base.yaml\n" + HEAD)
    with pytest.raises(ScenarioError, match="extends must be a list of file paths"):
        load(child)


def test_extends_in_text_needs_a_base_dir(write: Write, tmp_path: Path) -> None:
    write("base.yaml", HEAD)
    with pytest.raises(ScenarioError, match="extends needs the folder of the file"):
        load_text("extends: [base.yaml]\n")
    assert load_text("extends: [base.yaml]\n", base_dir=tmp_path).scenario.name == "Test"


def test_load_reports_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        load(tmp_path / "nope.yaml")
