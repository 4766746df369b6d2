"""What the sweep's printed summary table says (review 8, U-12, U-13, U-15).

Summary rows are built by hand (a :class:`SweepResult` with chosen values) or swept over
``tests/data/cli/small.yaml`` (China 2,000 t and Malaysia 1,000 t of NdPr oxide to the US; a Chinese
export ban from September 2025).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
