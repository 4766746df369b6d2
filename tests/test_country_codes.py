"""Unknown country codes are errors with a did-you-mean, wherever a country is named (issue 18, item 1).

Before: ``run --source China`` reported every China share as 0 under a header saying
"exposure to China", and ``-c USA`` printed an empty table; both exited 0.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from supplychain.api import compare, simulate
from supplychain.errors import ScenarioError
from supplychain.io import load
from supplychain.metrics.measures import compute_measures
from supplychain.schema.countries import code_hint, known_codes

SMALL = Path(__file__).parent / "data" / "cli" / "small.yaml"


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "supplychain", *map(str, args)], capture_output=True, text=True,
                          check=False, timeout=300)


@pytest.mark.parametrize(("args", "option", "code", "hint"), [
    (["--source", "China"], "--source", "China", "did you mean 'CN' (China)?"),
    (["--source", "CNHk"], "--source", "CNHk", "did you mean 'CN' (China)?"),
    (["--source", "XX"], "--source", "XX", "give an ISO 3166-1 alpha-2 code such as 'CN' or 'US'"),
    (["-c", "USA"], "--country", "USA", "did you mean 'US' (United States)?"),
])  # fmt: skip
def test_run_refuses_unknown_codes_with_a_did_you_mean(args: list[str], option: str, code: str, hint: str) -> None:
    proc = cli("run", SMALL, "--year", "2026", *args)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"<cli>: {option}: unknown country, region or group code '{code}'" in proc.stderr
    assert f"hint: {hint}" in proc.stderr
    assert proc.stdout == ""  # nothing printed as if it were an answer


@pytest.mark.parametrize("command", [["compare"], ["sweep", "--mode", "exposure", "--samples", "2", "--no-cache"]])
def test_compare_and_sweep_refuse_unknown_codes(command: list[str]) -> None:
    proc = cli(*command[:1], SMALL, *command[1:], "--source", "China")
    assert proc.returncode == 1, proc.stdout
    assert "unknown country, region or group code 'China'" in proc.stderr
    assert "did you mean 'CN' (China)?" in proc.stderr
    proc = cli(*command[:1], SMALL, *command[1:], "--country", "USA")
    assert proc.returncode == 1
    assert "did you mean 'US' (United States)?" in proc.stderr


def test_report_refuses_a_country_no_scenario_knows(tmp_path: Path) -> None:
    proc = cli("report", SMALL, "--output", tmp_path / "out", "--country", "USA")
    assert proc.returncode == 1
    assert "did you mean 'US' (United States)?" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_api_arguments_are_checked() -> None:
    sc = load(SMALL)
    for call in (lambda: simulate(sc, source="China"), lambda: compute_measures(sc, 2024, source="China"),
                 lambda: compare(sc, source="China")):  # fmt: skip
        with pytest.raises(ScenarioError, match=r"argument source=: unknown country, region or group code 'China'\n"
                                                r"    hint: did you mean 'CN' \(China\)\?"):
            call()
    with pytest.raises(ScenarioError, match=r"argument countries=: unknown country, region or group code 'USA'"):
        compare(sc, countries=["USA"])


def test_sweep_api_checks_its_codes() -> None:
    from supplychain.uncertainty import run_sweep

    sc = load(SMALL)
    with pytest.raises(ScenarioError, match="did you mean 'CN'"):
        run_sweep(sc, samples=2, seed=1, mode="exposure", source="China", cache=False, quiet=True)
    with pytest.raises(ScenarioError, match="did you mean 'US'"):
        run_sweep(sc, samples=2, seed=1, mode="exposure", countries=["USA"], cache=False, quiet=True)


def test_hints_read_names_alpha3_case_and_aliases() -> None:
    known = known_codes(None, ["ASEAN"])
    assert code_hint("Germany", known) == "did you mean 'DE' (Germany)?"
    assert code_hint("JPN", known) == "did you mean 'JP' (Japan)?"
    assert code_hint("jp", known) == "did you mean 'JP' (Japan)?"
    assert code_hint("UK", known) == "did you mean 'GB' (United Kingdom)?"
    assert code_hint("Asean", known) == "did you mean 'ASEAN'?"
    assert code_hint("ZZZZ", known, "none") == "none"


def test_groups_and_regions_are_codes_too() -> None:
    sc = load(SMALL)
    assert set(compute_measures(sc, 2024, source="CN")["source_country"]) == {"", "CN"}
    with pytest.raises(ScenarioError, match="unknown country, region or group code 'ASEAN'"):
        compute_measures(sc, 2024, source="ASEAN")  # the small world declares no groups
