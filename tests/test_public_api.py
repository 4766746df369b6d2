"""The names ``import supplychain as sc`` offers: every one resolves, the sweep functions are the package's own."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import supplychain as sc
from supplychain.io.load import load
from supplychain.metrics import compute_measures

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_resolves_and_is_in_the_readme() -> None:
    import supplychain.uncertainty as unc

    for name in sc.__all__:
        assert getattr(sc, name) is not None, name
    assert sc.sweep is unc.run_sweep
    assert (sc.one_at_a_time, sc.toggle_grid, sc.find_parameters) == (
        unc.one_at_a_time, unc.toggle_grid, unc.find_parameters)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\nimport supplychain as sc\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    for name in ("measures", "sweep", "one_at_a_time", "toggle_grid", "find_parameters", "simulate", "compare",
                 "simulate_many"):
        assert f"sc.{name}(" in block.group(1), name


def test_measures_is_compute_measures_of_the_loaded_file_no_value_missing() -> None:
    # the engine's '' for "no value" (no partner, label, source or stage) is NaN in the public frame, nothing else moves
    path = ROOT / "scenarios" / "baseline_2024.yaml"
    mine, engine = sc.measures(path, 2024), compute_measures(load(path), 2024, source="CN")
    for col in ("stage", "partner", "label", "source_country"):
        assert (engine[col] == "").any()
        assert mine[col].isna().tolist() == (engine[col] == "").tolist()
        assert not (mine[col] == "").any()
    assert mine.fillna(dict.fromkeys(("stage", "partner", "label", "source_country"), "")).equals(engine)


def test_import_stays_lazy() -> None:
    code = "import sys, supplychain; print(any(m.startswith('supplychain.uncertainty') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
