"""The rebalance benchmark's cold-start study runs, and every HiGHS setting reaches the same optimum.

Timing is not asserted (speed lives in ``benchmarks/``); what ``docs/performance.md``
reads from the study besides times — iterations and the edge flows an optimum moves —
must come from optimal solves of the same shocks, whatever the setting.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_rebalance import COLD_SETTINGS, cold_study


def test_cold_study_settings_agree_on_the_optimum(capsys: pytest.CaptureFixture[str]) -> None:
    table = cold_study(300, "weighted")
    capsys.readouterr()
    assert list(table["setting"].unique()) == [label for label, *_ in COLD_SETTINGS]
    # the same shocks for every setting: shock k has one optimum
    for _, same in table.groupby("shock"):
        assert same["objective"].to_numpy() == pytest.approx(same["objective"].iloc[0], rel=1e-7)
        assert same["banned_edges_with_flow"].nunique() == 1
    assert (table["banned_edges_with_flow"] > 0).all()
    # every ban moves at least the banned flows (they drop to zero)
    assert (table["edges_moved"] >= table["banned_edges_with_flow"]).all()
    assert (table["iterations"] > 0).all()
