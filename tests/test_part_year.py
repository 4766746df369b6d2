"""Part-year figures are footnoted: a year in which a policy or agreement of the run starts or ends is an average.

R-10a; G-10: an agreement switched on in force for part of a year (the US-China truce from 2025-12-01) too, and a
stock's gap arises only over the months its market's cutting policy is not lifted by an agreement.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from supplychain.report.part_year import part_year_notes, variants_part_year_notes
from supplychain.schema.model import Scenario


def _scenario() -> Scenario:
    return Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "policies": {
        "ban": {"type": "export_ban", "country": "CN", "start": "2025-09-01", "covers": {}},
        "halt": {"type": "export_ban", "country": "US", "start": "2025-04-17", "covers": {}},
        "lic": {"type": "export_licensing", "country": "CN", "start": "2025-04-04", "covers": {},
                "share_approved": 0.5, "delay_months": 2},
        "short": {"type": "export_ban", "country": "CN", "start": "2025-10-09", "end": "2025-11-07", "covers": {}}}})


def test_months_in_force_by_hand() -> None:
    # ban from 1 September: September-December, 4 whole months.
    # halt from 17 April: 14 of April's 30 days + May-December 8 months = 8.47 -> "8.5".
    # licensing from 4 April: 27/30 + 8 = 8.9 months, the first 2 with no licences (delay_months).
    # short, 9 October to 7 November: 23/31 + 7/30 = 0.975 -> "1".
    # 2026: all three open-ended ones are in force all year (no note); "short" ended in 2025.
    notes = part_year_notes(_scenario(), {"ban", "halt", "lic", "short"}, [2024, 2025, 2026])
    assert notes == ["2025: ban in force 4 of 12 months, halt in force 8.5 of 12 months, lic in force 8.9 of 12 "
                     "months (the first 2 with no licences granted), short in force 1 of 12 months; annual averages"]
    assert part_year_notes(_scenario(), {"ban"}, [2026]) == []
    assert part_year_notes(_scenario(), set(), [2025]) == []  # switched off: no note


def test_a_note_held_by_some_variants_names_them() -> None:
    # each measure once per year, with the variants it holds in (all: none named; more than half: the others)
    text = variants_part_year_notes(_scenario(), [("base", {"halt"}), ("full_ban", {"halt", "ban"})], [2025])
    assert text == ("Part-year figures: 2025: ban in force 4 of 12 months (full_ban), halt in force 8.5 of 12 "
                    "months; annual averages.")
    three = [("a", {"ban"}), ("b", {"ban"}), ("c", {"halt"})]
    assert variants_part_year_notes(_scenario(), three, [2025, 2026]) == (
        "Part-year figures: 2025: ban in force 4 of 12 months (not in c), halt in force 8.5 of 12 months (c); "
        "annual averages.")


def _truce() -> Scenario:
    data = _scenario().model_dump(mode="json", exclude_none=True)
    data["agreements"] = {"truce": {"name": "Truce", "parties": ["US", "CN"], "start": "2025-12-01",
                                    "lifts": ["lic"]},
                          "later": {"name": "Later", "parties": ["US", "JP"], "start": "2026-07-01",
                                    "end": "2026-09-30"}}
    return Scenario.model_validate(data)


def test_an_agreement_in_force_for_part_of_a_year_is_noted() -> None:
    # G-10: the truce from 1 December is in force December only, 31/31 = 1 month of 2025 (it lifts lic for the
    # US then: 2025 is an average of 8 months with the licensing and 1 without). In 2026 it is in force all
    # year: no note. "later", 1 July to 30 September 2026: 3 whole months. Switched off: no note.
    s = _truce()
    assert part_year_notes(s, {"lic", "truce", "later"}, [2025, 2026]) == [
        "2025: lic in force 8.9 of 12 months (the first 2 with no licences granted), agreement truce in force 1 of 12 "
        "months; annual averages",
        "2026: agreement later in force 3 of 12 months; annual average"]
    assert part_year_notes(s, {"lic"}, [2025]) == [
        "2025: lic in force 8.9 of 12 months (the first 2 with no licences granted); annual average"]
    assert variants_part_year_notes(s, [("documented", {"lic"}), ("documented_truce", {"lic", "truce"})],
                                    [2025]) == (
        "Part-year figures: 2025: lic in force 8.9 of 12 months (the first 2 with no licences granted), agreement "
        "truce in force 1 of 12 months (documented_truce); annual averages.")


def test_a_stock_gap_arises_until_an_agreement_lifts_the_cut() -> None:
    # G-10 (stocks.shock_spans). Small world: China's 2,000 t/yr of NdPr to the US banned from 2025-09-01; a
    # truce (US, CN) lifts the ban from 2025-11-01. On the US edge the ban is in force September-October:
    # φ = 2/12, the US is short Δ = 2,000 × 2/12 = 333.3 t, all of it in those 2 months (166.7 t a month).
    # A 200 t stock lasts 200 / 166.7 = 1.2 months from 1 September: m = 8 + 12 × (2/12) × 200 / 333.3 = 9.2
    # months from 1 January -> runs out in October 2025, gap over "Sep-Oct". Before, the span was the ban's
    # own (September-December): m = 8 + 4 × 200 / 333.3 = 10.4 -> "2025-11", a month after the last tonne short.
    from supplychain.api import simulate
    from supplychain.io import load_text

    small = Path(__file__).parent / "data" / "cli"
    text = ("extends: [small.yaml]\n"
            "stockpiles:\n  us: {country: US, commodity: ndpr, year: 2025, quantity: 200}\n"
            "agreements:\n  truce: {name: Truce, parties: [US, CN], start: 2025-11-01, lifts: [cn_ban]}\n")
    for mode in ("fixed", "rebalance"):
        res = simulate(load_text(text, base_dir=small), mode=mode)
        row = res.stocks.set_index("year").loc[2025]
        assert row["gap"] == pytest.approx(2000.0 * 2 / 12)
        assert row["runs_out_after_months"] == pytest.approx(8 + 12 * (2 / 12) * 200 / (2000 * 2 / 12))
        assert row["runs_out_after_months"] == pytest.approx(9.2)
        assert row["runs_out_month"] == "2025-10"
        assert row["gap_over"] == "Sep-Oct"
        assert part_year_notes(load_text(text, base_dir=small), res.toggle_state.active, [2025]) == [
            "2025: cn_ban in force 4 of 12 months, agreement truce in force 2 of 12 months; annual averages"]


def test_run_prints_the_part_year_note(run_cli: Callable[..., CompletedProcess[str]]) -> None:
    root = Path(__file__).parents[1]
    out = run_cli("run", str(root / "scenarios" / "china_full_ban_2025.yaml"), "--variant", "full_ban",
                  "-y", "2025", "-y", "2026", "--country", "US")
    assert out.returncode == 0, out.stderr
    assert "Part-year figure, 2025: " in out.stdout
    assert "cn_ree_full_ban_2025 in force 4 of 12 months" in out.stdout
    assert "Part-year figure, 2026" not in out.stdout


def test_the_first_screen_answer_says_its_part_years_are_averages() -> None:
    # review part 2 (G-4): the first screen's "peak after 2024 (year)" is mostly 2025, a part year. One run whose
    # ban starts 2025-09-01 (4 of 12 months) gives the example; a run without a part year gives no note.
    from types import SimpleNamespace

    from supplychain.report.answers import _part_year_note

    def run(active: set[str]) -> SimpleNamespace:
        result = SimpleNamespace(toggle_state=SimpleNamespace(active=active), years=[2024, 2025, 2026],
                                 variant="full_ban")
        return SimpleNamespace(scenario=_scenario(), results=[result], name="x", file="scenarios/x.yaml")

    note = _part_year_note([run(set()), run({"ban"})])
    assert note.startswith("Part-year figures: a year in which a policy or agreement of the run starts or ends is an "
                           "annual average")
    assert "full_ban: 2025: ban in force 4 of 12 months; annual average)" in note
    assert _part_year_note([run(set())]) == ""
