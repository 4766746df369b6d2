"""What the sweep's printed summary table says (review 8, U-12, U-13, U-15).

Summary rows are built by hand (a :class:`SweepResult` with chosen values) or swept over
``tests/data/cli/small.yaml`` (China 2,000 t and Malaysia 1,000 t of NdPr oxide to the US; a Chinese
export ban from September 2025).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from supplychain.cli.app import app
from supplychain.cli.sweep import CENTRAL_AT, SAME_COLUMN, SAME_LABEL, _hidden_spread_note, _summary_table
from supplychain.report.numbers import display_frame
from supplychain.uncertainty.result import SweepResult

STATS = ["central", "mean", "p5", "p50", "p95"]


def one_measure(values: list[float], central: float, metric: str = "direct_import_share") -> SweepResult:
    measures = pd.DataFrame({"year": [2024], "country": ["US"], "commodity": ["ndfeb_magnet"], "metric": [metric],
                             "source_country": ["CN"], "partner": [""], "unit": ["share"], "central": [central]})
    return SweepResult(pd.DataFrame(index=pd.RangeIndex(len(values), name="sample")), measures,
                       np.array(values, dtype=float)[:, None], pd.DataFrame())


def test_an_all_equal_row_prints_one_value_in_every_statistic() -> None:
    # US magnets' direct import share in 2024 is exactly 0.835 (baseline_2024); the samples differ in the
    # 16th digit: 0.835 − 1.1e-16 (the float below 0.835) and 0.835. Their mean, 0.83499999…, rounds to
    # 83 % while P5/P50/P95 at 0.835 round to 84 %: a row that reads p5 > mean. All equal within round-off
    # (max − min ≤ 1e-9), so every statistic prints P50, and the central 0.835, equal to it, sits at P50.
    below = np.nextafter(0.835, 0.0)
    r = one_measure([below, below, below, 0.835], 0.835)
    assert f"{100 * r.summary()['mean'].iloc[0]:.0f}" == "83"  # what was printed before
    table = _summary_table(r)
    assert table[SAME_COLUMN].iloc[0] == SAME_LABEL
    shown = display_frame(table[STATS], shares=STATS).iloc[0].tolist()
    assert len(set(shown)) == 1, shown
    assert table[CENTRAL_AT].iloc[0] == "P50"
    assert r.summary()["mean"].iloc[0] < 0.835  # the Python API keeps the exact values


def test_a_row_with_a_spread_keeps_its_statistics() -> None:
    r = one_measure([0.1, 0.2, 0.3], 0.2)
    table = _summary_table(r)
    assert table[SAME_COLUMN].iloc[0] == ""
    assert table["mean"].iloc[0] == r.summary()["mean"].iloc[0]


def test_central_at_p0_on_a_spread_the_table_hides_gets_a_note() -> None:
    # the fixed sweep's US ree_compounds exposed share: central 0.716302, every sample above it. Here 19
    # samples at 0.716303 and one at 0.7181: P5 (position 0.05 × 19 = 0.95) is 0.716303, P95 (position 18.05)
    # 0.716303 + 0.05 × 0.001797 = 0.716393: central, P5 and P95 all print "72%", central_at P0. The note gives
    # central and P5 with the decimals that tell them apart: 71.6302 % against 71.6303 % (format_apart).
    r = one_measure([0.716303] * 19 + [0.7181], 0.716302, metric="exposed_share")
    table = _summary_table(r)
    assert table[CENTRAL_AT].iloc[0] == "P0"
    note = _hidden_spread_note(table)
    assert "central 71.6302%, P5 71.6303%" in note
    # a visible spread: no note
    assert _hidden_spread_note(_summary_table(one_measure([0.70, 0.75, 0.80], 0.60, metric="exposed_share"))) == ""


# ---------------------------------------------------------------- U-13 / U-15: the command line
SMALL = Path(__file__).resolve().parent / "data" / "cli" / "small.yaml"


def element_world(tmp_path: Path) -> Path:
    """small.yaml with NdPr contents (concentrate 0.2 t per t, as the 5:1 separation; oxide 1) and the ban drawn."""
    data: dict[str, Any] = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["commodities"]["conc"]["content"] = {"NdPr": {"value": 0.2, "assumption": "test: 5 t make 1 t of oxide"}}
    data["commodities"]["ndpr"]["content"] = {"NdPr": {"value": 1.0, "assumption": "test: the oxide is NdPr"}}
    data["toggles"]["china_ban"]["probability"] = 0.5
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def sweep_cli(*args: str | Path, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["sweep", *map(str, args), "--no-cache", "-q", "-w", "1"])
    assert result.exit_code == code, result.output
    return " ".join(result.output.split())  # rich wraps long lines: compare words


def test_the_header_names_the_variant_the_fixed_toggles_and_the_source(tmp_path: Path) -> None:
    out = sweep_cli(element_world(tmp_path), "-n", "2", "--years", "2030", "--variant", "no_ban",
                    "-t", "china_ban=on", "--source", "CN", "-m", "traced_share", "--country", "US")
    assert "sweep 'Small test world', variant no_ban, toggles fixed china_ban=on, source CN: 2 samples" in out
    plain = sweep_cli(element_world(tmp_path), "-n", "2", "--years", "2030", "-m", "traced_share")
    assert "sweep 'Small test world': 2 samples" in plain


def test_measure_country_and_commodity_restrict_the_printed_table(tmp_path: Path) -> None:
    # the target us_ndpr_25 reads the US exposed share (and its shortfall): swept always, but printed only in
    # the targets' table. Traced share of US NdPr oxide in 2030: 2/3 with the ban off, 0 with it on
    # (tests/test_sensitivity_oat.py); seed 3 draws both states in 8 samples, so no row is all equal and
    # the `samples` column, blank, is not printed.
    out = sweep_cli(element_world(tmp_path), "-n", "8", "--seed", "3", "--years", "2030", "-m", "traced_share",
                    "--country", "US", "--commodity", "ndpr")
    assert "│ 2030 │ US │ ndpr │ traced_share │" in out
    assert "exposed_share" not in out
    assert "shortfall_share" not in out
    assert "┃ n ┃" in out
    assert "all equal" not in out
    assert "samples ┃" not in out
    assert "us_ndpr_25" in out  # the targets' table still reads its measure


def test_a_tornado_of_an_element_key(tmp_path: Path) -> None:
    # Review 8, U-15: element measures carry the element key (NdPr) in `commodity`; --commodity takes it.
    # US NdPr in 2030: ban off, 2/3 traced and nothing unmet; on, nothing traced and 2/3 unmet: exposed 2/3
    # either way.
    svg = tmp_path / "t.svg"
    out = sweep_cli(element_world(tmp_path), "-n", "2", "--years", "2030", "--country", "US", "--commodity", "NdPr",
                    "-m", "element_exposed_share", "--tornado", svg)
    assert svg.exists()
    assert "│ 2030 │ US │ NdPr │ element_exposed_share │ 67% │ 67% │ 67% │ 67% │ 67% │" in out


@pytest.mark.parametrize(("args", "says"), [
    (["-m", "element_exposed_share", "--commodity", "ndpr"], "element_exposed_share is per element key"),
    (["-m", "traced_share", "--commodity", "NdPr"], "'NdPr' is an element key; traced_share is per commodity"),
    (["--mode", "exposure", "-m", "shortfall_share", "--commodity", "ndpr"], "(nothing was swept)"),
])
def test_a_tornado_selection_that_matches_nothing_fails_before_the_sweep(tmp_path: Path, args: list[str],
                                                                         says: str) -> None:
    out = sweep_cli(element_world(tmp_path), "-n", "2", "--years", "2030", "--country", "US", *args,
                    "--tornado", tmp_path / "t.svg", code=1)
    assert says in out
    assert "sweep 'Small test world'" not in out  # no Monte Carlo ran
    assert not (tmp_path / "t.svg").exists()


def test_an_element_exposed_share_asked_alone_is_computed() -> None:
    # simulate(metrics=["element_exposed_share"]) in a world without an element target: the measure is made
    # from element_dependence, which must be computed with it. Central run (ban on) in 2030: US NdPr traced
    # 0, unmet (3,000 − 1,000) / 3,000 = 2/3, exposed 2/3.
    import supplychain as sc

    data: dict[str, Any] = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["commodities"]["conc"]["content"] = {"NdPr": {"value": 0.2, "assumption": "test: 5 t make 1 t of oxide"}}
    data["commodities"]["ndpr"]["content"] = {"NdPr": {"value": 1.0, "assumption": "test: the oxide is NdPr"}}
    from supplychain.schema.model import Scenario

    m = sc.simulate(Scenario.model_validate(data), mode="rebalance", metrics=["element_exposed_share"]).measures
    row = m[(m["metric"] == "element_exposed_share") & (m["country"] == "US") & (m["year"] == 2030)]
    assert row["value"].tolist() == pytest.approx([2 / 3])
