"""One number format for the command line, the report, Markdown and notebooks (issue 19, item 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from supplychain.cli.app import app
from supplychain.report.dot_style import format_share
from supplychain.report.markdown import md_escape
from supplychain.report.numbers import (
    NET_EXPORTER,
    ROUND_OFF,
    display_frame,
    format_cell,
    format_number,
    format_percent,
    measure_text,
)
from supplychain.simulation.run import TOL

DATA = Path(__file__).parent / "data" / "cli"
SCI = re.compile(r"\d[eE][+-]?\d")


@pytest.mark.parametrize(("value", "text"), [
    (1.819e-12, "0"),       # spare capacity left by the solver's round-off
    (-3e-9, "0"),
    (4e4, "40,000"),        # run's table showed 4e+04
    (2.145e4, "21,450"),    # and 2.145e+04
    (1_234_567.8, "1,234,568"),
    (999.4, "999.4"),
    (24.76, "24.76"),
    (2.0444, "2.044"),
    (0.6039, "0.6039"),
    (0.000123, "0.000123"),
    (3, "3"),
    (2030, "2030"),         # an int (a year) gets no separator
    (float("nan"), "–"),
    (None, "–"),
    (pd.NA, "–"),           # a nullable column's missing value (sweep's central_met)
])
def test_format_number(value: float | None, text: str) -> None:
    assert format_number(value) == text


def test_round_off_is_the_solvers_tolerance() -> None:
    assert ROUND_OFF == TOL


@pytest.mark.parametrize(("value", "text"), [
    (0.8657, "87%"), (0.2549, "25%"), (1.819e-12, "0%"), (0.004, "<1%"), (0.996, ">99%"), (1.0, "100%"),
    (float("nan"), "n/a"), ("x", "n/a"),
])
def test_format_percent_is_the_reports_share_format(value: object, text: str) -> None:
    assert format_percent(value) == text
    if isinstance(value, float) and abs(value) >= ROUND_OFF:
        assert format_percent(value) == format_share(value)  # one rule for the report and the CLI


def test_net_exporter_is_spelled_out() -> None:
    assert measure_text(float("nan"), "E") == NET_EXPORTER == "net exporter"
    assert measure_text(0.5, None) == "50%"
    assert format_cell(0.5, share=True) == "50%"
    assert format_cell(0.5) == "0.5"


def test_display_frame_formats_by_column() -> None:
    df = pd.DataFrame({"year": [2030, 2030], "spare": [1.819e-12, 2.145e4], "utilisation": [0.8, 1.0],
                       "shortfall_share": [0.8657, float("nan")]})
    assert display_frame(df).to_dict("list") == {"year": ["2030", "2030"], "spare": ["0", "21,450"],
                                                 "utilisation": ["80%", "100%"], "shortfall_share": ["87%", "n/a"]}


def test_display_frame_formats_a_long_table_by_row() -> None:
    df = pd.DataFrame({"metric": ["traced_share", "element_use"], "p5": [0.25, 2500.0], "n": [10, 10]})
    out = display_frame(df, share_rows=[m.endswith("share") for m in df["metric"]])
    assert out.to_dict("list") == {"metric": ["traced_share", "element_use"], "p5": ["25%", "2,500"],
                                   "n": ["10", "10"]}


def test_markdown_has_no_html_entities() -> None:
    assert md_escape(">99%") == ">99%"
    assert md_escape("<1%") == "<1%"
    assert md_escape("<b>x</b>") == "\\<b>x\\</b>"  # cannot become a tag
    assert md_escape("AT&T &amp;") == "AT\\&T \\&amp;"  # cannot become an entity
    assert "&gt;" not in md_escape("a > b")
    assert "&lt;" not in md_escape("a < b")


@pytest.fixture(scope="module")
def run_table() -> str:
    result = CliRunner().invoke(app, ["run", str(DATA / "small.yaml"), "--year", "2024", "--year", "2030"])
    assert result.exit_code == 0, result.output
    return result.output


def test_run_prints_percentages_and_plain_numbers(run_table: str) -> None:
    assert not SCI.search(run_table), "no scientific notation"
    rows = [line for line in run_table.splitlines() if line.startswith("│ 2030")]
    assert rows
    assert any("%" in r for r in rows)
    assert not re.search(r"│\s+0\.\d+\s+│", rows[0]), "no fractions in the headline table"


def test_compare_prints_percentages_and_verdicts() -> None:
    result = CliRunner().invoke(app, ["compare", str(DATA / "small.yaml"), "--year", "2030"])
    assert result.exit_code == 0, result.output
    assert not SCI.search(result.output)
    body = [line for line in result.output.splitlines() if line.startswith("│")]
    shares = [line for line in body if "share" in line or "exposure" in line]
    assert shares
    assert all(re.search(r"\d+%|<1%|>99%|–", line) for line in shares)
    targets = [line for line in body if " target " in line]
    assert targets
    assert all(re.search(r"pass|fail|–", line) for line in targets)
