"""One year alone, or as text, to the sweep functions; values YAML cannot write (final read, s37).

``check_years`` reads ``years=2025`` as ``(2025,)`` and refuses ``"2025"`` (not a year); the
sweep functions used to re-read the raw argument after checking it (``run_sweep(years=2024)``:
TypeError, ``one_at_a_time(years="2024")``: the years 2, 0, 2, 4). ``load_text`` of a mapping
writes it as YAML: a pandas Timestamp is a ``date`` by type but not one ``yaml.safe_dump`` writes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from supplychain.errors import ScenarioError
from supplychain.io.load import load_text
from supplychain.uncertainty.montecarlo import run_sweep
from supplychain.uncertainty.sensitivity import one_at_a_time

SMALL = Path(__file__).parent / "data" / "cli" / "small.yaml"


def test_a_sweep_takes_one_year_alone() -> None:
    r = run_sweep(SMALL, samples=2, seed=1, mode="exposure", years=2024, cache=False)
    assert sorted(set(r.measures["year"])) == [2024]
    o = one_at_a_time(SMALL, mode="exposure", years=2024)
    assert o is not None


def test_a_year_as_text_is_refused_not_read_digit_by_digit() -> None:
    with pytest.raises(ScenarioError, match=r"argument years=: '2024' \(str\) is not a year"):
        one_at_a_time(SMALL, mode="exposure", years="2024")  # type: ignore[arg-type]


def test_a_mapping_yaml_cannot_write_is_a_located_error() -> None:
    with pytest.raises(ScenarioError, match=r"<dict>: cannot be written as YAML(.|\n)*hint: give plain values"):
        load_text({"scenario": {"name": "x", "base_year": 2024, "created": pd.Timestamp("2024-01-01")}})
