"""Command-line choices checked before any simulation (s35 new-user findings N-1, N-4, N-6, N-7, N-8).

Each bad choice is refused at once: ``error: …`` on stderr, exit status 1, no traceback, with
the closest id (``supplychain.schema.references.did_you_mean``) — a typo costs no simulation,
sweep or report. The checks are one function each (``supplychain.cli.checks``), shared by the
commands. No timing is asserted: "before simulating" is shown by what is (not) printed.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from supplychain.io.atomic import atomic_write_text, check_writable

Cli = Callable[..., subprocess.CompletedProcess[str]]
BAN = "scenarios/china_full_ban_2025.yaml"
BASE = "scenarios/baseline_2024.yaml"


def refused(proc: subprocess.CompletedProcess[str], message: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.count("error:") == 1


@pytest.mark.parametrize("args", [
    ("compare", BAN, "--year", "2040", "--workers", "1"),
    ("compare", BAN, "--year", "2030", "--year", "2040", "--workers", "1"),
    ("run", BAN, "--year", "2040"),
    ("graph", BAN, "--year", "2040", "--output", "x.svg"),
])  # fmt: skip
def test_a_year_outside_the_scenario_is_refused_before_simulating(run_cli: Cli, args: tuple[str, ...]) -> None:
    proc = run_cli(*args)
    refused(proc, "error: --year 2040 is outside the scenario's years 2024–2030")
    assert "Runs (rows below" not in proc.stdout  # compare printed nothing of a simulation


@pytest.mark.parametrize("args", [
    ("run", BAN, "-k", "magnets"),
    ("compare", BAN, "--commodity", "magnets", "--workers", "1"),
    ("sweep", BASE, "--commodity", "magnets", "-n", "5", "-w", "1", "-q", "--no-cache", "--years", "2024"),
    ("graph", BAN, "-k", "magnets", "--output", "x.svg"),
])  # fmt: skip
def test_an_unknown_commodity_gets_the_closest_id(run_cli: Cli, args: tuple[str, ...]) -> None:
    proc = run_cli(*args)
    what = "commodity or element key" if args[0] == "sweep" else "commodity"  # sweep takes Dy, NdPr too (U-15)
    refused(proc, f"error: --commodity 'magnets' is not a {what} of this scenario; did you mean 'ndfeb_magnet'?")
    assert "sweep " not in proc.stdout  # the sweep's summary line: no sample was drawn


def test_an_unknown_measure_is_refused_before_the_sweep(run_cli: Cli) -> None:
    args = ("-n", "5", "-w", "1", "-q", "--no-cache", "--years", "2024")
    proc = run_cli("sweep", BASE, "--measure", "trace_share", *args)
    refused(proc, "error: --measure 'trace_share' is not a measure; did you mean 'traced_share'?")
    proc = run_cli("sweep", BASE, "--measure", "nosuch", *args)
    refused(proc, "error: --measure 'nosuch' is not a measure; the measure ids are: direct_import_share,")
    assert "sweep " not in proc.stdout


def test_the_measure_ids_checked_cover_every_metric_a_run_gives() -> None:
    """METRIC_IDS (the list --measure is checked against) holds every metric of the bundled scenarios' runs."""
    from supplychain.api import simulate
    from supplychain.io import load
    from supplychain.metrics.measures import METRIC_IDS

    for name in (BASE, "scenarios/china_controls_all_minerals.yaml"):
        sc = load(Path(__file__).resolve().parent.parent / name)
        res = simulate(sc, years=[sc.years[0]], mode="fixed")
        assert set(res.measures["metric"]) <= set(METRIC_IDS)


@pytest.mark.parametrize("args", [
    ("graph", BAN, "--year", "2030", "--output", "/proc/x.svg"),
    ("run", BAN, "--year", "2030", "--format", "json", "--output", "/proc/x/out.json"),
    ("compare", BAN, "--workers", "1", "--output", "/proc/x.csv"),
    ("sweep", BASE, "-n", "5", "-w", "1", "-q", "--no-cache", "--years", "2024", "--output", "/proc/x.csv"),
    ("report", BASE, "--workers", "1", "--output", "/proc/x"),
])  # fmt: skip
def test_an_unwritable_output_is_refused_first_and_named_as_given(run_cli: Cli, args: tuple[str, ...]) -> None:
    """N-7: `cannot write PATH: reason`, the path the user typed, never the writer's temporary name."""
    proc = run_cli(*args)
    refused(proc, f"error: cannot write {args[-1]}: ")
    assert ".tmp" not in proc.stderr
    assert "simulating" not in proc.stderr  # report: refused before its simulations


def test_the_atomic_writer_names_the_users_path_not_its_temporary_file(tmp_path: Path) -> None:
    with pytest.raises(OSError, match=r"^\[Errno 2\] cannot write /proc/x\.svg: No such file or directory$"):
        atomic_write_text("/proc/x.svg", "x")
    with pytest.raises(OSError, match=r"cannot write /proc/x\.svg: No such file or directory"):
        check_writable("/proc/x.svg")
    assert check_writable(tmp_path / "new" / "deeper" / "a.csv") == tmp_path / "new" / "deeper" / "a.csv"
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing behind and makes no folder


def test_run_commodity_keeps_only_those_rows(run_cli: Cli) -> None:
    """N-4: run -k ndfeb_magnet: the measures (and every table with a commodity column) hold magnets only."""
    proc = run_cli("run", BAN, "--mode", "fixed", "--year", "2030", "-k", "ndfeb_magnet", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert {r["commodity"] for r in doc["metrics"]} == {"ndfeb_magnet"}
    assert {r["commodity"] for r in doc["shortfall"]} == {"ndfeb_magnet"}
    proc = run_cli("run", BAN, "--mode", "fixed", "--year", "2030", "-k", "ndfeb_magnet", "-k", "ndpr_oxide",
                   "-c", "JP")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"│ ndfeb_magnet +│", proc.stdout)
    assert not re.search(r"│ (dy_oxide|tb_oxide|ndpr_metal|ree_concentrate) +│", proc.stdout)  # no other table row


def test_compare_commodity_keeps_only_those_rows(run_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    proc = run_cli("compare", BAN, "--mode", "fixed", "--workers", "1", "-k", "ndfeb_magnet", "-c", "US", "-c", "JP",
                   "--output", out)
    assert proc.returncode == 0, proc.stderr
    import pandas as pd

    assert set(pd.read_csv(out)["commodity"]) == {"ndfeb_magnet"}


@pytest.mark.parametrize("command", ["run", "validate", "compare", "sweep", "graph", "report"])
def test_help_shows_the_bundled_prefix(run_cli: Cli, command: str) -> None:
    """N-1: rich markup ate `[bundled:NAME]` from the --path help; it is escaped."""
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    assert "[bundled:NAME]" in " ".join(proc.stdout.split())


def test_help_shows_no_bool_beside_flags_and_copyable_examples(run_cli: Cli) -> None:
    """N-2: a flag shows no `<bool>` (it takes no value); at 80 columns prose is not ragged and each example is
    one command, its lines continued with `\\` (pasting it runs the whole command)."""
    import os
    import sys

    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for command in ("report", "sweep", "run"):
        proc = subprocess.run([sys.executable, "-m", "supplychain", command, "--help"], capture_output=True,
                              text=True, env=env, check=False, timeout=120)
        assert proc.returncode == 0
        assert "<bool>" not in proc.stdout
        lines = [line.rstrip() for line in proc.stdout.splitlines()]
        assert not [line for line in lines if re.fullmatch(r" \w+", line)]  # no line of one word (ragged wrap)
        examples = [i for i, line in enumerate(lines) if line.startswith("     supplychain ")]
        assert examples
        for i in examples:
            j = i
            while lines[j].endswith("\\"):
                j += 1
                assert lines[j].startswith("         "), lines[i:j + 1]
            assert lines[j + 1].strip() == "" or lines[j + 1].startswith("     supplychain"), lines[i:j + 2]
    proc = subprocess.run([sys.executable, "-m", "supplychain", "report", "--help"], capture_output=True,
                          text=True, env=env, check=False, timeout=120)
    assert re.search(r"--png +Also write", proc.stdout)


def test_a_flow_dated_before_the_base_year_is_warned_located(run_cli: Cli, tmp_path: Path) -> None:
    """N-5: last year's trade pasted into a scenario based this year is in no year's network: validate says so."""
    path = tmp_path / "flow2023.yaml"
    path.write_text("extends: [bundled:china_full_ban_2025]\nflows:\n"
                    "  au_us_old: {supplier: AU, buyer: US, commodity: ree_concentrate, year: 2023, quantity: 1000}\n",
                    encoding="utf-8")
    proc = run_cli("validate", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (f"warn {path}:3:68: flows.au_us_old.year: 2023 is outside the scenario's years 2024–2030: "
            "this flow is not used") in proc.stderr
    assert "set `year: 2024` (the base year)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_lower_case_country_code_gets_its_iso_code(run_cli: Cli, tmp_path: Path) -> None:
    """N-11: `country: in` is refused with the obvious did-you-mean."""
    path = tmp_path / "in.yaml"
    path.write_text("extends: [bundled:baseline_2024]\nscenario: {name: x, base_year: 2024}\nfacilities:\n"
                    "  f: {name: F, country: in, kind: mine, output: gallium, capacity: 3}\n", encoding="utf-8")
    proc = run_cli("validate", path)
    assert proc.returncode == 1
    assert "facilities.f.country: invalid country code 'in'\n    hint: did you mean 'IN' (India)?" in proc.stderr
