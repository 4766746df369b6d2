"""Five analyst mistakes in a deal/policy file (review #3, R-8): each is reported, all in one pass.

The world of :data:`tests.conftest.MINIMAL` has nodes for US (the mine, 2024 demand-side buyer of
``cn_us``), CN (the plant, supplier of ``cn_us``) and nothing else; its years are 2024-2030.
``NZ`` is a valid ISO code with no node there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from supplychain.errors import ScenarioError, format_path
from supplychain.io import load_text
from supplychain.schema import references as ref
from supplychain.schema.model import Scenario

Build = Callable[..., dict[str, Any]]

# One file, five mistakes: a misspelt key (exempt_partys), a share above 1 (1.4), an unknown code
# (KOR), a partner with no node (NZ) and a start after the horizon (2052).
DEAL = """\
scenario: {name: deal, base_year: 2024, horizon: 2030}
commodities:
  ndpr_oxide: {name: NdPr oxide, stage: oxide, basis: t REO, family: rare_earths, elements: [Nd, Pr]}
facilities:
  plant: {name: Plant, country: CN, kind: aggregate, output: ndpr_oxide, capacity: 100, production: {2024: 80}}
flows:
  cn_us: {supplier: plant, buyer: US, commodity: ndpr_oxide, year: 2024, tonnes: 50}
agreements:
  us_kr_deal:
    name: US-Korea deal
    parties: [US, KOR]
    start: 2052-01-01
    exempt_partys: true
    offtakes:
      - {supplier: plant, buyer: NZ, commodity: ndpr_oxide, tonnes_per_year: 10, start_year: 2026}
policies:
  cn_kr_licence:
    type: export_licensing
    country: CN
    partners: {include: [US]}
    start: 2026-01-01
    share_approved: 1.4
toggles:
  deal: {controls: [us_kr_deal, cn_kr_licence], default: on}
"""


def messages(problems: list[Any]) -> list[tuple[str, str]]:
    return [(format_path(p.path), p.message) for p in problems]


def test_schema_and_reference_problems_come_in_one_pass() -> None:
    # The schema refuses `exempt_partys` (line 13) and `share_approved: 1.4` (line 22). Before, the
    # reference rules ran only on a file the schema accepted, so `KOR` (line 11) and the offtake to
    # NZ (line 15) showed on a second pass. Now the refused keys are removed from a copy and the rest
    # is checked: 4 problems at once. The policy loses a required key (`share_approved`), so it is
    # removed whole, and the toggle that controls it is not reported as naming an unknown entity.
    with pytest.raises(ScenarioError) as info:
        load_text(DEAL, file="deal.yaml")
    found = [(p.line, format_path(p.path), p.message) for p in info.value.problems]
    assert found == [
        (11, "agreements.us_kr_deal.parties[1]", "unknown country or region code 'KOR'"),
        (13, "agreements.us_kr_deal.exempt_partys", "unknown key 'exempt_partys'"),
        (15, "agreements.us_kr_deal.offtakes[0].buyer",
         "'NZ' is a valid code but no market or facility of this world: an offtake of agreement us_kr_deal "
         "covers nothing there"),
        (22, "policies.cn_kr_licence.share_approved", "a share must be in [0, 1]; got 1.4"),
    ]
    assert info.value.problems[0].hint == "did you mean 'KR' (Korea, Republic of)?"


def test_a_required_key_refused_drops_its_entity_without_echoes() -> None:
    # `start: 2026-13-01` is refused; `start` is required, so the policy goes; the variant's unknown
    # toggle is still reported in the same pass, the toggle naming the removed policy is not.
    text = DEAL.replace("exempt_partys: true", "exempt_parties: true").replace("KOR", "KR").replace(
        "buyer: NZ", "buyer: US").replace("share_approved: 1.4", "share_approved: 0.4").replace(
        "start: 2026-01-01", "start: 2026-13-01") + "variants:\n  v: {toggles: {dael: off}}\n"
    with pytest.raises(ScenarioError) as info:
        load_text(text, file="deal.yaml")
    assert [(format_path(p.path), p.message.split(":")[0]) for p in info.value.problems] == [
        ("policies.cn_kr_licence.start", "invalid date '2026-13-01'"),
        ("variants.v.toggles.dael", "unknown toggle 'dael'"),
    ]


@pytest.mark.parametrize("typo", ["polices:\n  x: {type: export_ban, country: CN, start: 2026-01-01}\n",
                                  "scenario_notes: hi\n"])
def test_a_misspelt_section_does_not_hide_the_reference_problems(typo: str) -> None:
    # DEAL with its schema mistakes fixed keeps one reference problem, KOR (line 11). An unknown
    # top-level key (a misspelt `policies:`, or a section the format does not have) is a schema
    # problem at a path of length 1; before, the rest was not checked at all and KOR showed only on
    # a second pass. Nothing refers to an unknown section, so it is dropped from the copy: 2 problems.
    text = DEAL.replace("exempt_partys", "exempt_parties").replace("buyer: NZ", "buyer: US").replace(
        "share_approved: 1.4", "share_approved: 0.4") + typo
    with pytest.raises(ScenarioError) as info:
        load_text(text, file="deal.yaml")
    key = typo.split(":")[0]
    assert [(p.line, format_path(p.path), p.message) for p in info.value.problems] == [
        (11, "agreements.us_kr_deal.parties[1]", "unknown country or region code 'KOR'"),
        (25, key, f"unknown key '{key}'"),
    ]


def test_a_policy_partner_with_no_node_is_an_error(scenario_dict: Build) -> None:
    # MINIMAL's nodes: US (the mine's country, buyer of cn_us), CN (the plant's country, supplier of
    # cn_us). ROW is declared but names no node. NZ is ISO. Excluding NZ changes nothing: not reported.
    data = scenario_dict()
    data["policies"]["cn_ban"]["partners"] = {"include": ["NZ", "US"], "exclude": ["JP"]}
    found = messages(ref.check_world_parties(Scenario.model_validate(data), None))
    assert found == [
        ("policies.cn_ban.partners.include[0]",
         "'NZ' is a valid code but no market or facility of this world: policy cn_ban covers nothing there"),
    ]
    assert ref.world_codes(Scenario.model_validate(data)) == {"US", "CN"}


def test_an_agreement_party_with_no_node_is_a_warning_unless_declared(scenario_dict: Build) -> None:
    # A deal with a country outside the world is legitimate (bundled us_kh_mou: Cambodia is inside
    # ROW, said in its not_representable), so it is a warning, and none when the agreement says it.
    data = scenario_dict(agreements={"us_nz": {"name": "US-NZ", "parties": ["US", "NZ"], "start": "2026-01-01"}})
    s = Scenario.model_validate(data)
    assert ref.check_references(s) == []
    assert [m for _, m in messages(ref.check_warnings(s))] == [
        "'NZ' is a valid code but no market or facility of this world: agreement us_nz reaches nothing there "
        "(its preference and exemptions act on nodes)"]
    data["agreements"]["us_nz"]["not_representable"] = "New Zealand is inside ROW"
    assert ref.check_warnings(Scenario.model_validate(data)) == []


def test_dates_outside_the_years_are_warned_with_the_years(scenario_dict: Build) -> None:
    # Years 2024-2030. Never in force: an agreement starting 2052, its offtake from 2060, a policy that
    # ended 2023-06-30. In force from the base year on (the bundled 2023 gallium controls): a policy
    # from 2019; in force in 2030 only: a policy from 2030-12-01. Neither of the last two is reported.
    data = scenario_dict(agreements={"late": {
        "name": "Late", "parties": ["US", "CN"], "start": "2052-01-01",
        "offtakes": [{"supplier": "plant", "buyer": "US", "commodity": "ndpr_oxide", "tonnes_per_year": 10,
                      "start_year": 2060}]}})
    data["policies"]["cn_ban"]["start"] = "2019-01-01"
    data["policies"]["old"] = {"type": "export_ban", "country": "CN", "start": "2020-01-01", "end": "2023-06-30"}
    data["policies"]["december"] = {"type": "export_ban", "country": "CN", "start": "2030-12-01"}
    found = messages(ref.check_years_in_force(Scenario.model_validate(data), None))
    assert found == [
        ("policies.old.end", "policy old is never in force in 2024–2030: it ended in 2023, before the base year"),
        ("agreements.late.start",
         "agreement late is never in force in 2024–2030: it starts in 2052, after the horizon"),
        ("agreements.late.offtakes[0].start_year",
         "offtake 0 of agreement late is never in force in 2024–2030: it starts in 2060, after the horizon"),
    ]
    assert ref.check_references(Scenario.model_validate(data)) == []


def test_an_offtake_from_after_its_agreement_ends_is_warned(scenario_dict: Build) -> None:
    # Agreement `short` is in force 2024-01-01 .. 2027-12-31. offtake_bounds commits
    # t/yr x phi, phi = year_fraction(2024-01-01, 2027-12-31, y) for y >= start_year, else 0:
    #   offtake 0 from 2029: y < 2029 -> 0; y in 2029-2030 -> phi = 0 (after the end) -> 0 t in every year;
    #   offtake 1 from 2027: y = 2027 -> phi = 12/12 -> 10 t; in force, not reported.
    # Both start inside 2024-2030, so the horizon check alone let offtake 0 pass silently.
    from supplychain.simulation.agreements import offtake_bounds

    offtake = {"supplier": "plant", "buyer": "US", "commodity": "ndpr_oxide", "tonnes_per_year": 10}
    data = scenario_dict(agreements={"short": {
        "name": "Short", "parties": ["US", "CN"], "start": "2024-01-01", "end": "2027-12-31",
        "offtakes": [{**offtake, "start_year": 2029}, {**offtake, "start_year": 2027}]}})
    s = Scenario.model_validate(data)
    tonnes = {y: [b.tonnes for b in offtake_bounds(s, y)] for y in s.years}
    assert all(t[0] == 0 for t in tonnes.values())
    assert tonnes[2027][1] == 10
    assert messages(ref.check_years_in_force(s, None)) == [
        ("agreements.short.offtakes[0].start_year",
         "offtake 0 of agreement short is never in force: it starts in 2029, after its agreement ends (2027-12-31)"),
    ]


def test_in_force_is_one_rule_for_validate_the_sweep_and_the_run(scenario_dict: Build) -> None:
    # Years 2024-2030 (base year 2024). A policy is in force in some year y when phi(y) > 0:
    #   from 2030-12-01: phi(2030) = 1/12 -> in force;  from 2031-01-01: phi = 0 in every year -> never;
    #   2020-01-01 .. 2024-01-01: phi(2024) = (1/31)/12 > 0 -> in force;  .. 2023-12-31: never.
    # validate warns about exactly the two "never", the sweep calls exactly their inputs inert,
    # and the run counts the other two (and cn_ban, from 2025-09-01) as policies in force.
    from supplychain.simulation.uncounted import live_policies
    from supplychain.uncertainty.sampling import find_parameters, inert_parameters

    share = {"dist": "uniform", "low": 0.2, "high": 0.8}
    data = scenario_dict()
    for pid, start, end in (("dec", "2030-12-01", None), ("late", "2031-01-01", None),
                            ("jan1", "2020-01-01", "2024-01-01"), ("gone", "2020-01-01", "2023-12-31")):
        data["policies"][pid] = {"type": "export_licensing", "country": "CN", "start": start, "end": end,
                                 "share_approved": share}
    s = Scenario.model_validate(data)
    warned = sorted(format_path(p.path).split(".")[1] for p in ref.check_years_in_force(s, None))
    inert = sorted(name.split(".")[1] for name in inert_parameters(s, find_parameters(s), years=s.years, fixed={}))
    assert warned == inert == ["gone", "late"]
    assert live_policies(s, set(s.policies), 2024, 2030) == ["cn_ban", "dec", "jan1"]


def test_validate_cli_lists_every_problem_and_warns(run_cli: Callable[..., Any], write: Callable[..., Path]) -> None:
    # all five mistakes in one pass: four errors, and the start after the horizon as a warning
    bad = run_cli("validate", write("deal.yaml", DEAL))
    assert bad.returncode == 1
    assert "4 problems found" in bad.stderr
    assert "warn " in bad.stderr
    assert "it starts in 2052, after the horizon" in bad.stderr
    fixed = DEAL.replace("exempt_partys", "exempt_parties").replace("KOR", "KR").replace(
        "buyer: NZ", "buyer: US").replace("share_approved: 1.4", "share_approved: 0.4")
    ok = run_cli("validate", write("fixed.yaml", fixed))
    assert ok.returncode == 0, ok.stderr
    assert ("agreements.us_kr_deal.start: agreement us_kr_deal is never in force in 2024–2030: it starts in 2052, "
            "after the horizon") in ok.stderr
    assert "hint: the scenario's years are 2024–2030 (base_year to horizon)" in ok.stderr


def test_an_agreement_that_ends_before_it_starts_is_an_error() -> None:
    # 2029-01-01 to 2027-12-31 is an empty span: refused where it is written, as a policy's is (not a warning that
    # it "starts after its agreement ends", as if it had an agreement of its own)
    text = ("scenario: {name: x, base_year: 2024, horizon: 2030}\n"
            "agreements:\n  bad: {name: Bad, parties: [US, JP], start: 2029-01-01, end: 2027-12-31}\n")
    with pytest.raises(ScenarioError) as err:
        load_text(text)
    assert "end 2027-12-31 is before start 2029-01-01" in str(err.value)


def test_every_command_prints_the_load_warnings(run_cli: Callable[..., Any], write: Callable[..., Path],
                                                tmp_path: Path) -> None:
    # The small command-line world (years 2024-2030) with a policy from 2052: valid, one warning (never in
    # force, after the horizon). validate prints it as "warn file:line:col: ...", its hint below; run,
    # compare, report, sweep and graph print the same two lines on stderr, once, and no traceback (before,
    # only validate printed them; then run, compare and report, not sweep and graph).
    small = (Path(__file__).parent / "data" / "cli" / "small.yaml").read_text(encoding="utf-8")
    late = "  late: {type: export_ban, country: CN, covers: {families: [rare_earths]}, start: 2052-01-01}\n"
    path = write("late.yaml", small.replace("toggles:\n", late + "toggles:\n", 1))
    checked = run_cli("validate", path)
    assert checked.returncode == 0, checked.stderr
    warned = [line for line in checked.stderr.splitlines() if line.startswith(("warn ", "    hint:"))]
    assert len(warned) == 2
    assert warned[0].endswith("policies.late.start: policy late is never in force in 2024–2030: it starts in 2052, "
                              "after the horizon")
    for args in (("run", path), ("compare", path, "--workers", "1"),
                 ("report", path, "--output", tmp_path / "out", "--workers", "1"),
                 ("sweep", path, "--samples", "4", "--workers", "1", "--no-cache"),
                 ("graph", path, "--output", tmp_path / "g.dot")):
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
        assert [line for line in proc.stderr.splitlines() if line.startswith(("warn ", "    hint:"))] == warned, args
        assert "Traceback" not in proc.stderr


def test_an_offtake_never_in_force_is_inert_in_the_sweep_as_validate_warns(scenario_dict: Build) -> None:
    # Years 2024-2030. Agreement `short` is in force 2024-01-01 .. 2027-12-31, so it is no inert input;
    # offtake_bounds commits t/yr x phi(y) in the years y >= start_year, phi the agreement's year fraction:
    #   offtake 0 from 2029: phi(2029) = phi(2030) = 0 (after the end) -> 0 t in every year: never in force;
    #   offtake 1 from 2027: phi(2027) = 12/12 -> committed: in force;
    # agreement `open` (from 2024, open-ended), offtake `far` from 2031: after the last year 2030: never.
    # validate warns of exactly offtakes 0 and `far`; the sweep called neither's sampled tonnes inert (it
    # read the agreement only) and now lists exactly those two, with the same rule and its reason.
    from supplychain.uncertainty.sampling import find_parameters, inert_parameters

    tonnes = {"value": 10, "dist": "uniform", "low": 5, "high": 15}
    offtake = {"supplier": "plant", "buyer": "US", "commodity": "ndpr_oxide", "tonnes_per_year": tonnes}
    data = scenario_dict(agreements={
        "short": {"name": "Short", "parties": ["US", "CN"], "start": "2024-01-01", "end": "2027-12-31",
                  "offtakes": [{**offtake, "start_year": 2029}, {**offtake, "start_year": 2027}]},
        "open": {"name": "Open", "parties": ["US", "CN"], "start": "2024-01-01",
                 "offtakes": [{**offtake, "id": "far", "start_year": 2031}]}})
    s = Scenario.model_validate(data)
    warned = sorted(format_path(p.path).rsplit(".", 1)[0] for p in ref.check_years_in_force(s, None))
    assert warned == ["agreements.open.offtakes[0]", "agreements.short.offtakes[0]"]
    inert = inert_parameters(s, find_parameters(s), years=s.years, fixed={})
    assert sorted(inert) == ["agreements.open.offtakes[0].tonnes_per_year",
                             "agreements.short.offtakes[0].tonnes_per_year"]
    assert inert["agreements.short.offtakes[0].tonnes_per_year"] == (
        "offtake 0 of agreement short starts 2029-01-01, after its agreement ends 2027-12-31")
    assert inert["agreements.open.offtakes[0].tonnes_per_year"] == (
        "offtake far of agreement open starts 2031-01-01, after 2030")


def test_a_shared_worlds_dated_measures_are_not_warned_and_its_warnings_name_the_scenario(
        run_cli: Callable[..., Any], write: Callable[..., Path]) -> None:  # fmt: skip
    # G-6. A world fragment (the small command-line world without its scenario section) holds a measure from
    # 2052 and one that ended in 2020, and an agreement with New Zealand, which has no node there. A scenario
    # extends it (years 2024-2030) and writes one policy of its own from 2052. The world's two dated measures
    # lie outside the scenario's years by the world's data, not by a slip in the scenario: not warned (before,
    # both were, at the world file's lines, naming no scenario). The scenario's own late policy is warned at
    # its own line, as before; the world's party warning is still printed, its scenario named first.
    small = (Path(__file__).parent / "data" / "cli" / "small.yaml").read_text(encoding="utf-8")
    head, rest = small.split("scenario:\n", 1)
    body = rest.split("commodities:\n", 1)[1]
    dated = ("  late: {type: export_ban, country: CN, covers: {families: [rare_earths]}, start: 2052-01-01}\n"
             "  old: {type: export_ban, country: CN, covers: {families: [rare_earths]}, start: 2020-01-01,\n"
             "        end: 2020-12-31}\n")
    world = head + "commodities:\n" + body.replace("toggles:\n", dated + "toggles:\n", 1).replace(
        "variants:\n", "agreements:\n  us_nz: {name: US-NZ, parties: [US, NZ], start: 2026-01-01}\nvariants:\n", 1)
    write("world/small_world.yaml", world)
    scenario = write("dated.yaml", "extends: [world/small_world.yaml]\n"
                                   "scenario: {name: Dated, base_year: 2024, horizon: 2030}\n"
                                   "policies:\n"
                                   "  mine_late: {type: export_ban, country: CN, covers: {families: [rare_earths]},\n"
                                   "              start: 2052-01-01}\n")
    checked = run_cli("validate", scenario)
    assert checked.returncode == 0, checked.stderr
    warned = [line for line in checked.stderr.splitlines() if line.startswith("warn ")]
    assert len(warned) == 2, checked.stderr
    assert warned[0].startswith(f"warn {scenario}:") or warned[1].startswith(f"warn {scenario}:")
    own = next(line for line in warned if line.startswith(f"warn {scenario}:"))
    assert own.endswith("policies.mine_late.start: policy mine_late is never in force in 2024–2030: it starts in "
                        "2052, after the horizon")
    shared = next(line for line in warned if line != own)
    assert shared.startswith(f"warn [{scenario}] {scenario.parent / 'world' / 'small_world.yaml'}:")
    assert "'NZ' is a valid code but no market or facility of this world" in shared
    assert "late is never" not in checked.stderr.replace("mine_late is never", "")
    assert "old is never" not in checked.stderr
    compared = run_cli("compare", scenario, "--workers", "1")
    assert compared.returncode == 0, compared.stderr
    assert [line for line in compared.stderr.splitlines() if line.startswith("warn ")] == warned


def test_a_world_files_dated_measures_are_warned_once_for_the_world_file_itself(
        run_cli: Callable[..., Any], write: Callable[..., Path], tmp_path: Path) -> None:  # fmt: skip
    # G-6's other half. The world fragment of the test above holds `late` (from 2052: a mistyped 2025, say), `old`
    # (2020 only) and `soon` (from 2027). Two scenarios extend it: `dated` (2024-2030, with its own late policy)
    # and `short` (2024-2025). Validating the folder reads every world measure once against the years of the
    # scenarios validated together, 2024-2030: `late` starts after every horizon and `old` ended before every base
    # year: each warned once, at its line of the world file (start, end), naming no scenario; `soon` is in force in
    # 2027-2030 (dated's years; short leaves it out by its own): not warned. The scenario's own late policy is
    # warned as before, by its scenario alone.
    small = (Path(__file__).parent / "data" / "cli" / "small.yaml").read_text(encoding="utf-8")
    head, rest = small.split("scenario:\n", 1)
    body = rest.split("commodities:\n", 1)[1]
    dated = ("  late: {type: export_ban, country: CN, covers: {families: [rare_earths]}, start: 2052-01-01}\n"
             "  old: {type: export_ban, country: CN, covers: {families: [rare_earths]}, start: 2020-01-01,\n"
             "        end: 2020-12-31}\n"
             "  soon: {type: export_ban, country: CN, covers: {families: [rare_earths]}, start: 2027-01-01}\n")
    world = write("world/small_world.yaml",
                  head + "commodities:\n" + body.replace("toggles:\n", dated + "toggles:\n", 1))
    lines = world.read_text(encoding="utf-8").splitlines()
    late = next(i for i, line in enumerate(lines, 1) if line.startswith("  late:"))
    late_at = f"{world}:{late}:{lines[late - 1].index('start:') + 1}"
    old_at = f"{world}:{late + 2}:{lines[late + 1].index('end:') + 1}"
    own = write("dated.yaml", "extends: [world/small_world.yaml]\n"
                              "scenario: {name: Dated, base_year: 2024, horizon: 2030}\n"
                              "policies:\n"
                              "  mine_late: {type: export_ban, country: CN, covers: {families: [rare_earths]},\n"
                              "              start: 2052-01-01}\n")
    write("short.yaml", "extends: [world/small_world.yaml]\nscenario: {name: Short, base_year: 2024, horizon: 2025}\n")
    checked = run_cli("validate", tmp_path)
    assert checked.returncode == 0, checked.stderr
    warned = [line for line in checked.stderr.splitlines() if line.startswith("warn ")]
    assert warned == [
        f"warn {own}:5:15: policies.mine_late.start: policy mine_late is never in force in 2024–2030: it starts in "
        "2052, after the horizon",
        f"warn {late_at}: policies.late.start: policy late is never in force in the years of the scenarios validated "
        "(2024–2030): it starts in 2052, after every horizon",
        f"warn {old_at}: policies.old.end: policy old is never in force in the years of the scenarios validated "
        "(2024–2030): it ended in 2020, before every base year",
    ], checked.stderr
    assert "soon" not in checked.stderr
    # a scenario alone (its world file not validated with it) warns only of its own measures, as before
    alone = run_cli("validate", own)
    assert [line for line in alone.stderr.splitlines() if line.startswith("warn ")] == warned[:1]


def test_a_bare_year_end_is_warned_where_written(run_cli: Callable[..., Any], write: Callable[..., Path]) -> None:
    # `end: 2027` is 1 January 2027 (a bare year, supplychain.schema.types.Date), and `end` is the last day in
    # force (closed span): the ban is in force on one day of 2027, at month resolution 1/31 of January's 1/12:
    # year_fraction = 1/(12 x 31) = 1/372, not the whole year the author meant. validate warns located at the
    # `end` value (line 5, column 6), with the hint. The same date written out (2027-01-01), a
    # year's end (2027-12-31) and a bare-year `start` (from 1 January: what it says) are not warned about; an
    # agreement's bare-year `end`, quoted or not, is (line 9, at its quote).
    from supplychain.simulation.calendar import year_fraction

    text = ("scenario: {name: x, base_year: 2024, horizon: 2030}\n"
            "policies:\n"
            "  ban:\n"
            "    {type: export_ban, country: CN, start: 2025,\n"
            "     end: 2027}\n"
            "  ban2: {type: export_ban, country: CN, start: 2025-01-01, end: 2027-01-01}\n"
            "  ban3: {type: export_ban, country: CN, start: 2025-01-01, end: 2027-12-31}\n"
            "agreements:\n"
            "  deal: {name: Deal, parties: [US, JP], start: 2025-01-01, end: '2028'}\n")
    scenario = load_text(text)
    assert year_fraction(scenario.policies["ban"].start, scenario.policies["ban"].end, 2027) == pytest.approx(1 / 372)
    checked = run_cli("validate", write("bare.yaml", text))
    assert checked.returncode == 0, checked.stderr
    lines = checked.stderr.splitlines()  # also: the agreement's parties have no node in this world (a warning)
    warned = [x for i, line in enumerate(lines) if "`end: " in line for x in (line, lines[i + 1])]
    assert len(warned) == 4
    assert warned[1] == "    hint: write 2027-12-31 for the whole year, or 2026-12-31 to end before it"
    assert warned[3] == "    hint: write 2028-12-31 for the whole year, or 2027-12-31 to end before it"
    assert warned[0].endswith(":5:6: policies.ban.end: `end: 2027` keeps policy ban in force on 1 January 2027 only "
                              "(a bare year is 1 January; `end` is the last day)")
    assert warned[2].endswith(":9:60: agreements.deal.end: `end: 2028` keeps agreement deal in force on 1 January "
                              "2028 only (a bare year is 1 January; `end` is the last day)")
