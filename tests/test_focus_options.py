"""Country and year focus: ``compare --country``, ``report --country`` and ``--year`` (issue 18, item 12)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from supplychain.api import compare
from supplychain.io import load

REPO = Path(__file__).resolve().parent.parent
SMALL = REPO / "tests" / "data" / "cli" / "small.yaml"


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "supplychain", *map(str, args)], capture_output=True, text=True,
                          check=False, timeout=600)


def countries_in_order(stdout: str) -> list[str]:
    return list(re.findall(r"^│ ([A-Z]{2,5}) \w+ \w+", stdout, re.MULTILINE))


def test_compare_country_keeps_and_orders_the_focus_countries() -> None:
    proc = cli("compare", SMALL, "--year", "2026", "--country", "JP", "--country", "US")
    assert proc.returncode == 0, proc.stderr
    shown = countries_in_order(proc.stdout)
    assert set(shown) == {"JP", "US"}
    assert shown == sorted(shown, key=["JP", "US"].index)  # JP first, as asked
    table = compare(load(SMALL), countries=["US", "JP"], years=[2026])
    assert list(dict.fromkeys(table[table["variant"] == "base"]["country"])) == ["US", "JP"]


def test_compare_puts_the_us_first_without_targets_or_country() -> None:
    # the baseline has no targets: every country with final demand is shown, the US first, not
    # after an alphabetical run of AU, CN, EU, JP, KR … that the table cut off before reaching it
    proc = cli("compare", REPO / "scenarios" / "baseline_2024.yaml", "--mode", "fixed", "--year", "2024")
    assert proc.returncode == 0, proc.stderr
    shown = countries_in_order(proc.stdout)
    assert shown[0] == "US"
    assert len(set(shown)) > 3


def test_report_country_and_year(tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = cli("report", SMALL, "--output", out, "--mode", "fixed", "--country", "JP", "--year", "2026")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    (section,) = doc["scenarios"]
    assert section["focus_year"] == 2026
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "### Headline measures (2024 → 2026)" in summary
    assert "| Japan · NdPr oxide | exposure incl. unmet demand |" in summary
    assert "| United States · NdPr oxide | exposure incl. unmet demand |" not in summary
    default = tmp_path / "default"
    assert cli("report", SMALL, "--output", default, "--mode", "fixed").returncode == 0
    assert json.loads((default / "results.json").read_text(encoding="utf-8"))["scenarios"][0]["focus_year"] == 2030
    assert "| United States · NdPr oxide | exposure incl. unmet demand |" in (default / "summary.md").read_text("utf-8")
    bad = cli("report", SMALL, "--output", tmp_path / "bad", "--year", "2040")
    assert bad.returncode == 1
    assert "--year 2040 is outside the years of every scenario given" in bad.stderr
