"""Part-year figures are footnoted: a year in which a policy of the run starts or ends is an annual average (R-10a)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

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
    text = variants_part_year_notes(_scenario(), [("base", {"halt"}), ("full_ban", {"halt", "ban"})], [2025])
    assert text == ("Part-year figures: 2025: halt in force 8.5 of 12 months; annual average (base); "
                    "2025: ban in force 4 of 12 months, halt in force 8.5 of 12 months; annual averages (full_ban).")


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
    assert note.startswith("Part-year figures: a year in which a policy of the run starts or ends is an annual average")
    assert "full_ban: 2025: ban in force 4 of 12 months; annual average)" in note
    assert _part_year_note([run(set())]) == ""
