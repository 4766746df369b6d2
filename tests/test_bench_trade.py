"""The trade benchmark's synthetic files are in the real layouts: both importers read them, every row accounted for.

Timing is not asserted (speed lives in ``benchmarks/bench_trade_import.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from supplychain.importers import import_baci, import_comtrade

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_trade_import import write_baci, write_comtrade


def test_synthetic_files_import(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    baci = import_baci(write_baci(tmp_path, 100_000, rng, chunk=40_000))
    comtrade = import_comtrade(write_comtrade(tmp_path, 5_000, rng, chunk=2_000))
    for result, rows in ((baci, 100_000), (comtrade, 5_000)):
        s = result.summary
        assert s.rows_read == rows
        assert s.rows_read == sum(s.not_selected.values()) + sum(s.skipped.values()) + s.converted
        assert s.converted > 0
        assert s.entries == len(result.table)  # flows: one entry per row of the table
    # 5 % of BACI quantities are NA (~7 of ~140 selected rows): counted as value-only, never dropped silently
    assert baci.summary.skipped["no_quantity"] > 0
    assert baci.summary.value_only > 0
