"""A sweep says in how many samples the base network raised outputs above their paths (hand-worked).

The world is ``tests/test_spare_capacity.py``'s two-stage world (China mines ore, 200 t a year, capacity
260 t, and makes magnets from it, 2 t of ore a tonne, 100 t a year, capacity 150 t; China uses 50 t of
magnets, the US 50 t in 2024, all bought from China) with the US growth sampled: g uniform on
[``low``, ``high``]. Its derivation for 2025, with the US demand ``50 (1 + g)``:

* China's surplus on the path, 100 − 50 = 50 t, is what the 2024 pattern carries to the US. With g ≤ 0 that
  covers the US (nothing short, no raise); with g > 0 the US is short ``50 g`` t of magnets.
* Then ``cn_mag`` (room 150 − 100 = 50 t) raises its output by ``min(1, 50 g / 50) × 50 = 50 g`` t, to
  ``100 + 50 g``; its ore need, ``2 (100 + 50 g)``, leaves China's ore ``100 g`` t short; ``cn_ore`` (room
  260 − 200 = 60 t) raises by ``min(1, 100 g / 60) × 60 = 100 g`` t (g ≤ 0.2 < 0.6), to ``200 + 100 g``.

So a sample raises exactly when its g > 0, two rows (2025; the base year 2024 is a record), and the
sweep's largest raise is the ore's, ``100 max(g)`` t. Both capacities are plain numbers: assumptions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import numpy as np
import pandas as pd
import pytest

from supplychain.io.cache import SweepCache
from supplychain.report.numbers import format_apart, format_number
from supplychain.schema.model import Scenario
from supplychain.uncertainty import run_sweep
from supplychain.uncertainty.models import RAISED_COLUMNS

GROWTH = "demand.us_use.growth"
SAMPLES = 40


def sampled_world(low: float, high: float) -> dict[str, Any]:
    """The two-stage world (module docstring) with the US growth uniform on [low, high], central 0."""
    return {
        "scenario": {"name": "hand", "base_year": 2024, "horizon": 2025},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}, "mag": {"name": "Magnets", "stage": "magnet"}},
        "processes": {"sinter": {"inputs": {"ore": 2}, "outputs": {"mag": 1}}},
        "facilities": {
            "cn_ore": {"name": "CN ore", "country": "CN", "kind": "aggregate", "output": "ore",
                       "production": {2024: 200, 2025: 200}, "capacity": 260},
            "cn_mag": {"name": "CN magnets", "country": "CN", "kind": "aggregate", "process": "sinter",
                       "production": {2024: 100, 2025: 100}, "capacity": 150},
        },
        "demand": {"cn_use": {"country": "CN", "commodity": "mag", "year": 2024, "tonnes": 50},
                   "us_use": {"country": "US", "commodity": "mag", "year": 2024, "tonnes": 50,
                              "growth": {"value": 0.0, "dist": "uniform", "low": low, "high": high}}},
        "flows": {"cn_us": {"supplier": "CN", "buyer": "US", "commodity": "mag", "year": 2024, "tonnes": 50}},
    }


@pytest.mark.parametrize("mode", ["fixed", "exposure"])
def test_a_sweep_counts_the_samples_whose_outputs_were_raised(mode: str) -> None:
    # fixed: simulate per sample (SimulateMeasures); exposure over 2024-2025: compute_measures per sample
    # (ExposureMeasures; the compiled path runs the base year alone). Both read raised_table.
    r = run_sweep(Scenario.model_validate(sampled_world(-0.2, 0.2)), samples=SAMPLES, seed=3, mode=mode,
                  cache=False, quiet=True)
    g = r.inputs[GROWTH].to_numpy(dtype=float)
    up = np.flatnonzero(g > 0)  # the module docstring: a sample raises exactly when g > 0
    assert 0 < len(up) < SAMPLES  # the seed draws both kinds of sample
    raised = r.raised
    assert raised is not None
    assert list(raised.columns) == list(RAISED_COLUMNS)
    assert sorted(set(raised["sample"].tolist())) == up.tolist()
    assert set(raised["year"]) == {2025}
    ore = raised[raised["facility"] == "cn_ore"].set_index("sample")
    mag = raised[raised["facility"] == "cn_mag"].set_index("sample")
    assert ore["raised"].to_numpy() == pytest.approx(200 + 100 * g[up])
    assert mag["raised"].to_numpy() == pytest.approx(100 + 50 * g[up])
    assert ore["path"].tolist() == [200.0] * len(up)
    assert ore["capacity"].tolist() == [260.0] * len(up)
    assert raised["assumed"].all()
    assert not r.info["central_raised"]  # central g = 0: the paths meet demand
    top = int(up[np.argmax(g[up])])
    note = r.raised_note()
    assert note.startswith(f"In {len(up)} of {SAMPLES} samples the base network raised output above its path")
    made, path = format_apart(200 + 100 * g[top], 200.0)  # the project's numbers: a raise under 1,000 t keeps digits
    assert (f"(CN: mag, ore; largest raise {format_number(100 * g[top])} t of ore: cn_ore in 2025, sample {top}, "
            f"{made} against a path of {path}, capacity 260, an assumption, as every capacity raised into)") in note
    assert r.caveats()[0] == note  # printed where the sweep's caveats are (CLI, README block)


def test_a_sweep_whose_samples_raise_nothing_says_nothing(run_cli: Callable[..., CompletedProcess[str]],
                                                          write: Callable[[str, Any], Path]) -> None:
    # g on [-0.2, 0]: China's 50 t surplus covers the US in every sample, no raise (module docstring).
    r = run_sweep(Scenario.model_validate(sampled_world(-0.2, 0.0)), samples=10, seed=3, mode="fixed",
                  cache=False, quiet=True)
    assert r.raised is not None
    assert r.raised.empty
    assert r.raised_note() == ""
    assert not any("raised" in line for line in r.caveats())
    quiet = run_cli("sweep", write("flat.yaml", sampled_world(-0.2, 0.0)), "-n", "10", "--mode", "fixed",
                    "--no-cache", "-q", "-w", "1")
    assert quiet.returncode == 0, quiet.stderr
    assert "raised output" not in quiet.stdout


def test_the_cli_and_the_cache_say_the_raise(run_cli: Callable[..., CompletedProcess[str]],
                                             write: Callable[[str, Any], Path], tmp_path: Path) -> None:
    path = write("grow.yaml", sampled_world(-0.2, 0.2))
    args = ("sweep", path, "-n", str(SAMPLES), "-s", "3", "--mode", "fixed", "-q", "-w", "1",
            "--cache-dir", tmp_path / "cache")
    first, again = run_cli(*args), run_cli(*args)  # the second is read from the cache
    assert first.returncode == 0, first.stderr
    g = run_sweep(Scenario.model_validate(sampled_world(-0.2, 0.2)), samples=SAMPLES, seed=3, mode="fixed",
                  cache=False, quiet=True).inputs[GROWTH]
    said = f"In {int((g > 0).sum())} of {SAMPLES} samples the base network raised output above its path"
    assert said in " ".join(first.stdout.split())
    assert "from cache" in again.stdout
    assert said in " ".join(again.stdout.split())


def test_a_custom_measure_function_leaves_the_raise_unknown() -> None:
    def tonnes(sc: Scenario) -> pd.DataFrame:
        return pd.DataFrame({"year": [2025], "metric": ["g"], "value": [sc.demand["us_use"].growth.central]})

    r = run_sweep(Scenario.model_validate(sampled_world(-0.2, 0.2)), samples=5, seed=3, model=tonnes,
                  cache=False, quiet=True)
    assert r.raised is None
    assert r.raised_note() == ""


def test_the_compiled_path_runs_the_base_year_which_raises_nothing() -> None:
    # exposure over 2024 alone: the compiled kernel (no sample is simulated); the base year is a record, never
    # raised (raised_table): known and empty, not unknown, though the samples' 2025 (g > 0) would raise.
    r = run_sweep(Scenario.model_validate(sampled_world(0.0, 0.2)), samples=5, seed=3, mode="exposure", years=[2024],
                  cache=False, quiet=True)
    assert r.info["fast_path"] == "used"
    assert r.raised is not None
    assert r.raised.empty
    assert r.raised_note() == ""


def test_a_sweep_says_when_the_central_run_raised(tmp_path: Path) -> None:
    # The central g = 0.1 > 0: the central run raises (module docstring: cn_ore to 210 t, cn_mag to 105 t).
    w = sampled_world(-0.2, 0.2)
    w["demand"]["us_use"]["growth"]["value"] = 0.1
    s = Scenario.model_validate(w)
    cache = SweepCache(tmp_path / "cache")
    first, again = (run_sweep(s, samples=2, seed=3, mode="fixed", cache=cache, quiet=True) for _ in range(2))
    assert (first.inputs[GROWTH] <= 0).all()  # the seed draws two samples that raise nothing
    assert again.info["cached"]
    for r in (first, again):  # the flag is kept in the cache with the samples' (empty) table
        assert r.info["central_raised"]
        assert r.raised is not None
        assert r.raised.empty
        assert r.raised_note() == ("No sample raised output above its path, but the central run did (docs/measures.md, "
                                   "\"Later years: spare capacity meets demand above the paths\"; supplychain run "
                                   "prints it).")
        assert r.caveats()[0] == r.raised_note()
    both = run_sweep(s, samples=SAMPLES, seed=3, mode="fixed", cache=False, quiet=True)
    g = both.inputs[GROWTH].to_numpy(dtype=float)
    assert both.info["central_raised"]
    assert both.raised_note().startswith(f"In {int((g > 0).sum())} of {SAMPLES} samples")
    assert "as every capacity raised into; the central run too): " in both.raised_note()


def test_worker_processes_give_the_same_raised_table() -> None:
    # The raised rows travel back from the workers with the samples' values: the same table as in process.
    s = Scenario.model_validate(sampled_world(-0.2, 0.2))
    one, two = (run_sweep(s, samples=SAMPLES, seed=3, mode="fixed", cache=False, quiet=True, workers=w, chunk_size=7)
                for w in (1, 2))
    assert two.info["executor"] == "2 local worker processes"
    assert one.raised is not None
    assert len(one.raised)
    assert two.raised is not None
    pd.testing.assert_frame_equal(one.raised, two.raised)
