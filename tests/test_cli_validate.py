"""The command line: exit codes, messages on stderr, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from supplychain import __version__

Run = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[[str, Any], Path]

DATA = Path(__file__).parent / "data" / "minimal"
VALID = "scenario: {name: T, base_year: 2024}\ncommodities:\n  ore: {name: Ore, stage: ore}\n"


def assert_clean_failure(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_valid_folder_prints_ok_lines_with_counts(run_cli: Run) -> None:
    result = run_cli("validate", DATA, "--require-sources")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    counts = "1 source, 2 commodities, 1 process, 2 facilities, 2 flows, 1 demand, 1 policy, 1 toggle, 1 target"
    assert lines[0] == f"ok   {DATA / 'base.yaml'}: {counts}"
    assert lines[-1] == "2 file(s): 2 valid, 0 invalid, 0 skipped"


def test_show_overrides(run_cli: Run) -> None:
    result = run_cli("validate", DATA / "child.yaml", "--show-overrides")
    assert result.returncode == 0, result.stderr
    assert "     override facilities.mountain_pass.capacity: set by " in result.stdout
    assert "child.yaml:8 (overrides " in result.stdout


def test_explain_reads_shares_as_every_other_table(run_cli: Run) -> None:
    # cn_ban covers the rare-earths family: both rare-earth commodities of the minimal world, whole.
    # Shares read as report.numbers.format_percent writes them everywhere else: "100%", not "100 %".
    result = run_cli("validate", DATA / "base.yaml", "--explain")
    assert result.returncode == 0, result.stderr
    line = "     policy cn_ban (export_ban by CN from 2025-09-01): ndpr_oxide 100%, ree_concentrate 100%"
    assert line in result.stdout.splitlines()
    assert " %" not in result.stdout


def test_quiet_prints_nothing_when_valid(run_cli: Run) -> None:
    result = run_cli("validate", DATA, "-q")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_invalid_file_lists_problems_with_locations(run_cli: Run, write: Write) -> None:
    bad = write("bad.yaml", VALID + "facilities:\n  m: {name: M, country: US, kind: mine, output: ore, capacty: 1}\n")
    result = run_cli("validate", bad)
    assert_clean_failure(result, f"FAIL {bad}: 1 problem found:", f"{bad}:5:54: facilities.m.capacty: unknown key")
    assert "did you mean 'capacity'?" in result.stderr


def test_folder_skips_fragments_but_named_fragment_fails(run_cli: Run, write: Write, tmp_path: Path) -> None:
    write("base.yaml", "commodities:\n  ore: {name: Ore, stage: ore}\n")
    write("child.yaml", "extends: [base.yaml]\nscenario: {name: C, base_year: 2024}\n")
    result = run_cli("validate", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "skip 1 base fragment(s) without a `scenario:` section" in result.stdout  # one line, not one per file
    assert "base.yaml" not in result.stdout
    verbose = run_cli("validate", tmp_path, "--verbose")
    assert "base.yaml: no `scenario:` section" in verbose.stdout
    named = run_cli("validate", tmp_path / "base.yaml")
    assert_clean_failure(named, "missing required key 'scenario'")


def test_all_files_reported_and_exit_one_if_any_fails(run_cli: Run, write: Write, tmp_path: Path) -> None:
    write("a.yaml", VALID)
    write("b.yaml", VALID.replace("stage: ore", "stage: ores"))
    result = run_cli("validate", tmp_path)
    assert_clean_failure(result, "b.yaml:3:", "2 file(s): 1 valid, 1 invalid, 0 skipped")
    assert "ok   " in result.stdout


def test_missing_path_and_empty_folder(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli("validate", tmp_path / "nope.yaml", tmp_path / "empty")
    assert_clean_failure(result, "file not found", "no .yaml files in this folder")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"   \n# only a comment\n", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (b"\xff\xfe s\x00c\x00", "file is UTF-16 text"),
        (b"- just\n- a list\n", "top level must be a mapping"),
        (b"a: " + b"[" * 200 + b"]" * 200 + b"\n", "nested deeper than"),
        (b"scenario:\n  name: x\n    base_year: 2024\n", "mapping values are not allowed"),
        (b"a: &x 1\nb: *x\n", "anchors and aliases are not supported"),
        (b"a: !!python/object:os.system ls\n", "tags are not allowed"),
    ],
    ids=["empty", "comment-only", "png", "utf16", "list", "deep", "indent", "alias", "tag"],
)
def test_hostile_files(run_cli: Run, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    assert_clean_failure(run_cli("validate", path), message)


def test_huge_file_is_refused_without_reading_it(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(51 * 1024 * 1024)  # sparse: takes no disk space
    assert_clean_failure(run_cli("validate", path), "file is larger than 50 MB")


def test_special_file_is_refused(run_cli: Run, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert_clean_failure(run_cli("validate", fifo), "not a regular file")


def test_version_and_help_examples(run_cli: Run) -> None:
    version = run_cli("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"supplychain {__version__}")
    for command in ([], ["validate"], ["schema"]):
        result = run_cli(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Example:" in result.stdout
        assert "supplychain " in result.stdout.split("Example:")[1]


def test_usage_error_is_not_a_traceback(run_cli: Run) -> None:
    result = run_cli("validate", "--no-such-option")
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr


def test_schema_command_writes_the_committed_schema(run_cli: Run, tmp_path: Path) -> None:
    printed = run_cli("schema")
    assert printed.returncode == 0, printed.stderr
    schema = json.loads(printed.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    out = tmp_path / "s.json"
    written = run_cli("schema", "--output", out)
    assert written.returncode == 0, written.stderr
    assert out.read_text(encoding="utf-8") == printed.stdout


def test_schema_to_unwritable_place(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert_clean_failure(run_cli("schema", "-o", tmp_path / "file" / "dir.json"), "Not a directory")
    assert_clean_failure(run_cli("schema", "-o", tmp_path), "is a folder; give a file name")


LATER_YEAR = """\
scenario: {name: Later, base_year: 2024, horizon: 2026}
commodities:
  ore: {name: Ore, stage: ore}
  ga: {name: Gallium, stage: metal, basis: kg Ga}
facilities:
  au_mine: {name: AU mine, country: AU, kind: mine, output: ore, capacity: 150, utilisation: 1.0}
  cn_ga: {name: CN gallium, country: CN, kind: aggregate, output: ga, capacity: 1000, utilisation: 1.0}
flows:
  au_jp: {supplier: AU, buyer: JP, commodity: ore, year: 2024, quantity: 100}
  au_jp_26: {supplier: AU, buyer: JP, commodity: ore, year: 2026, quantity: 400}
  cn_jp_ga_26: {supplier: CN, buyer: JP, commodity: ga, year: 2026, quantity: 1500}
demand:
  jp: {country: JP, commodity: ore, year: 2024, quantity: 100}
  jp_ga: {country: JP, commodity: ga, year: 2024, quantity: 1000}
"""


def test_validate_reports_a_later_year_that_run_would_stop_on(run_cli: Run, write: Write) -> None:
    # 2024 balances (the 2024 flows carry into 2025 as the base year's pattern); in 2026 the
    # flows given for that year send 400 t of ore out of a mine making 150 t and 1,500 kg of
    # gallium out of a plant making 1,000 kg: run stops there, so validate must fail the file,
    # located at each flow, with the quantity in its commodity's unit.
    path = write("later.yaml", LATER_YEAR)
    result = run_cli("validate", path)
    assert_clean_failure(result, f"FAIL {path}: 2 problems found:")
    ore = "flows.au_jp_26.quantity: market AU:ore is short in 2026: outflow 400 t exceeds inflow 150 t"
    gallium = ("flows.cn_jp_ga_26.quantity: market CN:ga is short in 2026: outflow 1,500 kg Ga exceeds inflow "
               "1,000 kg Ga")
    assert ore in result.stderr
    assert gallium in result.stderr
    run = run_cli("run", path)
    assert run.returncode == 1
    assert "market AU:ore is short in 2026" in run.stderr


def test_balance_message_reads_numbers_in_plain_digits(run_cli: Run, write: Write) -> None:
    # docs/outputs.md "How numbers read": never scientific notation. A 2026 flow of 1e9 kg of gallium out of
    # a plant making 1,000 kg: outflow 1,000,000,000 exceeds inflow 1,000 by 1e9 - 1,000 = 999,999,000 kg
    # (main printed "outflow 1e+09 kg Ga exceeds inflow 1000 kg Ga by 1e+09 kg Ga").
    path = write("huge.yaml", LATER_YEAR.replace("quantity: 1500}", "quantity: 1000000000}"))
    result = run_cli("validate", path)
    assert_clean_failure(result, f"FAIL {path}: 2 problems found:")
    assert ("market CN:ga is short in 2026: outflow 1,000,000,000 kg Ga exceeds inflow 1,000 kg Ga by 999,999,000 kg Ga"
            " (in: domestic output 1,000 kg Ga; out: trade 1,000,000,000 kg Ga)") in result.stderr
    assert "(largest: flows.cn_jp_ga_26 (1,000,000,000 kg Ga))" in result.stderr
    assert "e+" not in result.stderr
