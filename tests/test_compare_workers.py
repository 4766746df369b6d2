"""``compare`` on worker processes: the same table for any worker count (issue 23).

The runs are cut into groups that depend on the runs alone
(:func:`~supplychain.simulation.groups.split_runs`), each simulated whole by one worker, so
a run's LP solves follow the same history in one process or many and every number is
the same bit for bit (checked with ``check_exact``).
"""

from __future__ import annotations

import gc
import multiprocessing
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from supplychain.api import compare, simulate, simulate_many
from supplychain.errors import SupplyChainWarning
from supplychain.io import load, load_text
from supplychain.parallel.executors import map_in_order, submission_order
from supplychain.parallel.processes import (
    COMPARE_PRELOAD,
    fork_workers_from_here,
    forking_quietly,
    mp_context,
    usable_cpus,
)
from supplychain.schema.model import Scenario
from supplychain.simulation.groups import group_sizes, split_runs
from tests.conftest import PATIENCE

DATA = Path(__file__).parent / "data" / "cli"
SCENARIOS = Path(__file__).parent.parent / "scenarios"
TWO_WORLDS = """extends: [small.yaml]
facilities:
  us_ndpr: {name: New US NdPr plant, country: US, kind: aggregate, output: ndpr, capacity: 500,
            commissioning_year: 2026, utilisation: 1}
toggles:
  plant: {controls: [us_ndpr], default: off}
"""
"""The small CLI world with a plant a toggle switches on: runs with and without it live in two worlds."""


def two_worlds() -> Scenario:
    return load_text(TWO_WORLDS, base_dir=DATA)


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same rows, order, numbers (bit for bit) and solver work (its seconds aside)."""
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(a.attrs["solver"]) == list(b.attrs["solver"])
    assert {k: v["iterations"] for k, v in a.attrs["solver"].items()} == {
        k: v["iterations"] for k, v in b.attrs["solver"].items()}


def test_group_sizes_are_a_power_of_two_of_at_least_two_runs() -> None:
    # 10 runs: min(4, 10 // 2) = 4 groups, 10 = 3 + 3 + 2 + 2; 7 runs: min(4, 3) = 3 -> 2 groups (4 + 3).
    assert group_sizes(10) == [3, 3, 2, 2]
    assert group_sizes(7) == [4, 3]
    assert group_sizes(2) == [2]
    assert group_sizes(1) == [1]
    assert group_sizes(33) == [9, 8, 8, 8]
    assert all(sum(group_sizes(n)) == n for n in range(40))


def test_split_runs_keeps_worlds_apart_and_ignores_the_workers() -> None:
    sc = two_worlds()
    # china_ban × plant, the plant toggle last: its on/off alternate, so the worlds interleave
    runs = [(None, {"china_ban": b, "plant": p}) for b in (False, True) for p in (False, True)]
    assert split_runs(sc, runs) == [[0, 2], [1, 3]]
    one_world = [(None, {"china_ban": b}) for b in (False, True, False, True, True)]
    assert split_runs(sc, one_world) == [[0, 1, 2], [3, 4]]


def test_compare_is_the_same_on_two_workers_for_interleaved_worlds() -> None:
    sc = two_worlds()
    one = compare(sc, toggles_grid=["china_ban", "plant"], years=[2025, 2026], mode="rebalance", workers=1)
    two = compare(sc, toggles_grid=["china_ban", "plant"], years=[2025, 2026], mode="rebalance", workers=2)
    assert_same(one, two)
    assert list(one.attrs["solver"]) == ["china_ban=off,plant=off", "china_ban=off,plant=on",
                                         "china_ban=on,plant=off", "china_ban=on,plant=on"]


def test_compare_of_a_bundled_scenario_is_the_same_on_one_and_two_workers() -> None:
    sc = load(SCENARIOS / "us_japan_framework.yaml")
    runs = [(None, None)] + [(v, None) for v in sorted(sc.variants)]
    assert len(split_runs(sc, runs)) == 2  # base + 3 variants: two groups of two, one per worker
    one = compare(sc, source=sc.scenario.source_country, workers=1)
    two = compare(sc, source=sc.scenario.source_country, workers=2)
    assert_same(one, two)
    assert set(one["variant"]) == {"base", *sc.variants}


def two_worlds_file(folder: Path) -> Path:
    """:data:`TWO_WORLDS` as a file in ``folder``, beside the small world it extends."""
    shutil.copy(DATA / "small.yaml", folder / "small.yaml")
    path = folder / "two_worlds.yaml"
    path.write_text(TWO_WORLDS, encoding="utf-8")
    return path


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "supplychain", *map(str, args)], capture_output=True, text=True,
                          check=False)


def test_cli_workers_option_prints_and_writes_the_same(tmp_path: Path) -> None:
    common: list[str | Path] = ["compare", two_worlds_file(tmp_path), "--grid", "china_ban", "--grid", "plant",
                                "--year", "2026"]
    one = cli(*common, "--workers", "1", "--output", tmp_path / "one.csv")
    two = cli(*common, "-w", "2", "--output", tmp_path / "two.csv")
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert two.stdout == one.stdout
    assert "china_ban=on,plant=on" in one.stdout
    assert (tmp_path / "two.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert "--workers" in cli("compare", "--help").stdout


def warn_and_double(x: int) -> int:
    """A task that warns (a module-level function, so that worker processes import it by name)."""
    warnings.warn(f"item {x}", SupplyChainWarning, stacklevel=1)
    return 2 * x


@pytest.mark.parametrize("cost", [None, float])
def test_map_in_order_raises_the_workers_warnings_here_in_order(cost: Callable[[int], float] | None) -> None:
    # with cost=float the last item (the largest) is handed out first; results and warnings keep the items' order
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert map_in_order(warn_and_double, [1, 2, 3], workers=2, cost=cost) == [2, 4, 6]
    assert [(w.category, str(w.message)) for w in caught] == [(SupplyChainWarning, f"item {i}") for i in (1, 2, 3)]


def test_tasks_are_handed_out_largest_first_ties_in_order() -> None:
    assert submission_order([1.0, 5.0, 3.0, 5.0]) == [1, 3, 2, 0]
    assert submission_order([]) == []


def frozen_objects(_: int) -> int:
    """Objects in the collector's permanent generation of the process running the task (module level: it pickles)."""
    return gc.get_freeze_count()


@pytest.mark.skipif(usable_cpus() < 2 or mp_context().get_start_method() != "forkserver",
                    reason="workers are forked from a fork server only with forkserver and 2 CPUs")
def test_workers_start_with_the_preloaded_modules_frozen() -> None:
    # the fork server imports PRELOAD and, last, supplychain.parallel.frozen (gc.freeze): a worker forked from it
    # holds the package, pandas and SciPy in the permanent generation, which no collection walks (a fresh
    # interpreter, as the fork server was before: 0)
    assert all(n > 10_000 for n in map_in_order(frozen_objects, [0, 1], workers=2))


_FORKED_ONLY_WHILE_ALONE = """
import os, signal, threading
import supplychain.simulation.highs as highs
from supplychain.parallel.executors import map_in_order
from supplychain.parallel.processes import fork_workers_from_here, mp_context


def worker_state(_):  # whether the worker is this process's child, and has SIGTERM's default handler
    return os.getppid() == PARENT, signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


PARENT = os.getpid()
if __name__ == "__main__":
    seen = [mp_context().get_start_method()]
    with fork_workers_from_here():
        seen.append(mp_context().get_start_method())
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        try:
            seen.append(mp_context().get_start_method())  # another thread runs
        finally:
            stop.set()
            other.join()
        signal.signal(signal.SIGTERM, lambda *_: None)  # the command's handler (install_signal_handlers)
        seen.append(map_in_order(worker_state, [0, 1], workers=2))
        highs.MADE[0] = True  # as after a solve here
        seen.append(mp_context().get_start_method())
        highs.MADE[0] = False
    seen.append(mp_context().get_start_method())
    print(seen)
"""


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods() or usable_cpus() < 2,
                    reason="workers are forked only where the platform has fork, and made only with 2 CPUs")
def test_workers_are_forked_from_the_command_only_while_it_runs_its_main_thread_alone() -> None:
    # compare's command calls fork_workers_from_here once it has loaded everything: mp_context is then `fork`, unless
    # another thread runs here when the pool is made (a fork would copy that thread's locks): the default context.
    # The workers are the command's children, and do not keep its SIGTERM handler (the command's turns a signal into
    # SystemExit, which a worker would report as its task's error instead of ending): the default is put back. A
    # process that has made a HiGHS solver (whose threads a fork would not copy) is never forked; the request ends with
    # the command's pool: a process that ran the command in-process (a test, a notebook) makes its later pools as
    # before. Run in a fresh interpreter, as the command's process is: this one may hold threads of earlier tests
    # (Dask keeps its offload thread for good), where `fork` is rightly never chosen.
    default = mp_context().get_start_method()
    out = subprocess.run([sys.executable, "-c", _FORKED_ONLY_WHILE_ALONE], capture_output=True, text=True,
                         timeout=PATIENCE, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == repr([default, "fork", default, [(True, True)] * 2, default, default])


def test_pythons_fork_with_threads_warning_is_off_only_while_forking_from_here(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python >= 3.12 warns at a fork of a process with native threads (OpenBLAS' after NumPy's import): silenced by
    # forking_quietly in a process that asked for forked workers, that warning alone; elsewhere left as it is
    import supplychain.parallel.processes as processes

    text = "This process (pid=1) is multi-threaded, use of fork() may lead to deadlocks in the child."
    monkeypatch.setattr(processes, "_FORK_FROM_HERE", [False])
    with pytest.warns(DeprecationWarning, match="multi-threaded"), forking_quietly():
        warnings.warn(text, DeprecationWarning, stacklevel=1)
    with fork_workers_from_here(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with forking_quietly():
            warnings.warn(text, DeprecationWarning, stacklevel=1)
            warnings.warn("something else", DeprecationWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["something else"]


def test_a_compare_worker_imports_nothing_of_the_package_beyond_the_compare_preload() -> None:
    # what the command imports before forking its workers (COMPARE_PRELOAD) is all a compare's runs import, in rebalance
    # (block by block, the default) and fixed; run here in a fresh interpreter, as a worker forked from the server
    small = str(DATA / "small.yaml")
    code = (f"import sys\nfor m in {list(COMPARE_PRELOAD)!r}: __import__(m)\nbefore = set(sys.modules)\n"
            f"from supplychain.api import compare\ncompare({small!r}, mode='rebalance')\n"
            f"compare({small!r}, mode='fixed')\n"
            "print(sorted(m for m in set(sys.modules) - before if m.startswith('supplychain')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_compare_solves_block_by_block_by_default_with_one_lps_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    # the bundled world's LP is 3 independent blocks (rare earths, germanium, gallium): compare solves them one by
    # one unless blocks=False; the optima are the same, so the shares equal one LP's up to the solver's round-off
    import supplychain.simulation.blocks as blocks_module

    solves: list[int] = []
    block_solve = blocks_module.BlockRebalance.solve

    def counted(self: blocks_module.BlockRebalance, *args: object, **kwargs: object) -> object:
        solves.append(1)
        return block_solve(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(blocks_module.BlockRebalance, "solve", counted)
    sc = load(SCENARIOS / "us_japan_framework.yaml")
    by_block = compare(sc, years=[2025, 2026], workers=1)
    assert solves  # every run-year of the 4 runs
    del solves[:]
    one_lp = compare(sc, years=[2025, 2026], workers=1, blocks=False)
    assert not solves
    pd.testing.assert_frame_equal(by_block, one_lp, check_exact=False, rtol=1e-9, atol=1e-9)


def test_simulate_many_keeps_every_table_of_compares_runs_under_their_labels() -> None:
    # simulate_many runs compare's labelled runs by the same groups: its shortfall shares are compare's rows bit for
    # bit, each grid run's frames carry its label (not the simulator's "custom"), and it equals simulate per run
    sc = two_worlds()
    grid = ["china_ban", "plant"]
    many = simulate_many(sc, toggles_grid=grid, years=[2025, 2026])
    table = compare(sc, toggles_grid=grid, years=[2025, 2026], metrics=["shortfall_share"])
    assert list(many) == list(dict.fromkeys(table["variant"]))
    for label, result in many.items():
        assert result.variant == label
        assert {label} == set(result.shortfall["variant"]) == set(result.flows["variant"]) == set(
            result.measures["variant"])
        for name in ("utilisation", "gainers", "targets", "attribution", "stocks", "solver", "inactive", "offtakes"):
            frame = getattr(result, name)  # every frame simulated under the label (run_many); an empty one may lack it
            assert set(frame["variant"] if "variant" in frame.columns else ()) <= {label}, name
        rows = table[table["variant"] == label].set_index(["year", "country", "commodity"])["value"]
        mine = result.shortfall.groupby(["year", "country", "commodity"])[["shortfall", "demand"]].sum()
        assert (mine["shortfall"] / mine["demand"]).reindex(rows.index).tolist() == rows.tolist()
        one = simulate(sc, toggles=dict(x.split("=") for x in label.split(",")), years=[2025, 2026])
        pd.testing.assert_frame_equal(result.shortfall.drop(columns="variant"), one.shortfall.drop(columns="variant"),
                                      atol=1e-9)
    two = simulate_many(sc, toggles_grid=grid, years=[2025, 2026], workers=2)
    for label, result in many.items():
        pd.testing.assert_frame_equal(result.flows, two[label].flows, check_exact=True)
