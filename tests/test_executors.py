"""Sweeps give identical results on every executor, worker count and chunk size.

The local Dask cluster is started once for the module (processes, loopback only, no dashboard:
``tests.conftest.local_dask_cluster``).
The model function is a module-level pure function, so worker processes import
it from this module by name.
"""

from __future__ import annotations

import functools
import itertools
import socket
import subprocess
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from supplychain.parallel import executors
from supplychain.parallel.executors import (
    SerialExecutor,
    broken_pool_message,
    chunk_bounds,
    describe_executor,
    open_executor,
    parse_executor,
)
from supplychain.parallel.processes import usable_cpus
from supplychain.schema.model import Scenario
from supplychain.uncertainty.montecarlo import SampleError, SweepResult, run_sweep
from tests.conftest import PATIENCE, local_dask_cluster


def make_scenario() -> Scenario:
    def flow(t: Any, sup: str) -> dict[str, Any]:
        return {"supplier": sup, "buyer": "US", "commodity": "ndpr_oxide", "year": 2024, "tonnes": t}

    return Scenario.model_validate(
        {
            "scenario": {"name": "exec", "base_year": 2024, "horizon": 2026},
            "flows": {
                "cn": flow({"dist": "triangular", "low": 50, "mode": 80, "high": 120}, "CN"),
                "au": flow({"dist": "normal", "value": 20, "sd": 5, "low": 0, "high": 60}, "AU"),
                "my": flow({"dist": "uniform", "low": 0, "high": 30}, "MY"),
            },
            "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "start": "2025-01-01"}},
            "toggles": {"ban": {"controls": ["cn_ban"], "default": False, "probability": 0.4}},
        }
    )


def share_model(sc: Scenario) -> pd.DataFrame:
    """China's share of US supply per year; a ban removes 2/3 of CN tonnes from 2025."""
    rows = []
    for year in sc.years:
        cn = sc.flows["cn"].tonnes.central * (1 / 3 if year >= 2025 and sc.toggles["ban"].default else 1.0)
        total = cn + sc.flows["au"].tonnes.central + sc.flows["my"].tonnes.central
        rows.append({"year": year, "country": "US", "commodity": "ndpr_oxide", "metric": "cn_share",
                     "value": np.log1p(cn) / np.log1p(total)})  # fmt: skip
    return pd.DataFrame(rows)


def boom(sc: Scenario) -> pd.DataFrame:
    msg = "worker failure"
    raise RuntimeError(msg)


N = 600
SEED = 20251125


def sweep(**kwargs: Any) -> SweepResult:
    return run_sweep(make_scenario(), samples=N, seed=SEED, model=share_model, cache=False, quiet=True, **kwargs)


def assert_identical(a: SweepResult, b: SweepResult) -> None:
    pd.testing.assert_frame_equal(a.inputs, b.inputs)
    pd.testing.assert_frame_equal(a.measures, b.measures)
    np.testing.assert_array_equal(a.values, b.values)  # bit for bit, not approximately
    pd.testing.assert_frame_equal(a.summary(), b.summary())
    assert (a.raised is None) == (b.raised is None)  # a custom model: not known (tests/test_sweep_raised.py)
    if a.raised is not None and b.raised is not None:
        pd.testing.assert_frame_equal(a.raised, b.raised)


@pytest.fixture(scope="module")
def reference() -> SweepResult:
    return sweep(workers=1)


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    with local_dask_cluster(2) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def patient_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the sweep's connection to a scheduler and its probe :data:`~tests.conftest.PATIENCE` (a loaded machine)."""
    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", PATIENCE)
    monkeypatch.setattr(executors, "probe_dask_scheduler",
                        functools.partial(executors.probe_dask_scheduler, timeout=PATIENCE))


def test_serial_results_do_not_depend_on_chunk_size(reference: SweepResult) -> None:
    for chunk_size in (7, 250, N + 1):
        assert_identical(reference, sweep(workers=1, chunk_size=chunk_size))
    assert reference.info["executor"] == "in process (1 worker)"


def test_two_local_worker_processes_give_identical_results(reference: SweepResult) -> None:
    two = sweep(workers=2, chunk_size=50)
    assert two.info["executor"] == "2 local worker processes"
    assert two.info["chunks"] == 12  # 600 samples in chunks of 50 (the central run goes first, in this process)
    assert_identical(reference, two)


def test_any_concurrent_futures_executor_gives_identical_results(reference: SweepResult) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        assert_identical(reference, sweep(executor=pool, chunk_size=33))


@pytest.mark.usefixtures("patient_dask")
def test_dask_cluster_gives_identical_results(reference: SweepResult, dask_address: str) -> None:
    host_port = dask_address.removeprefix("tcp://")
    on_dask = sweep(executor=f"dask://{host_port}", chunk_size=64)
    assert on_dask.info["executor"] == f"Dask scheduler at {dask_address}"
    assert_identical(reference, on_dask)


def test_dask_client_object_is_accepted(reference: SweepResult, dask_address: str) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.Client(dask_address, set_as_default=False, timeout=f"{PATIENCE:g}s") as client:
        assert_identical(reference, sweep(executor=client, chunk_size=200))


def test_the_test_cluster_starts_while_port_8787_is_taken() -> None:
    # the scheduler serves HTTP even without a dashboard, on 8787 unless given a port: with 8787 taken (another
    # cluster on the machine) distributed warned "Port 8787 is already in use", an error here, and the cluster
    # failed to start (tests.conftest.local_dask_cluster now gives it 127.0.0.1, port 0: main 8903d1d)
    pytest.importorskip("distributed")
    with socket.socket() as held:
        try:
            held.bind(("127.0.0.1", 8787))
            held.listen()
        except OSError:  # taken already, by another process: the case itself
            pass
        with local_dask_cluster(1) as cluster:
            assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")


def test_the_test_cluster_starts_when_its_scratch_directory_is_slow_to_make(monkeypatch: pytest.MonkeyPatch) -> None:
    # distributed warns when making a server's scratch directory takes over 1 s of wall time (a loaded machine, a
    # stalled disk); under filterwarnings = error that failed the cluster's start: pyproject.toml ignores that one
    # warning (a timing, not a fault). The stall is stood in for by a wait before the scratch space is made.
    pytest.importorskip("distributed")
    import time

    from distributed import diskutils

    make = diskutils.WorkSpace.__init__

    def stalled(self: Any, *args: Any, **kwargs: Any) -> None:
        time.sleep(1.1)
        make(self, *args, **kwargs)

    monkeypatch.setattr(diskutils.WorkSpace, "__init__", stalled)
    with local_dask_cluster(1) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")


def test_worker_errors_reach_the_caller_with_the_sample_number() -> None:
    with pytest.raises(SampleError, match=r"sample \d+ failed: RuntimeError: worker failure"):
        run_sweep(make_scenario(), samples=40, seed=1, model=boom, cache=False, quiet=True, workers=2, chunk_size=10)


def test_unreachable_dask_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", 1.0)
    with pytest.raises(ConnectionError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        sweep(executor="dask://127.0.0.1:9")


@pytest.mark.parametrize(
    ("executor", "workers", "kind", "message"),
    [
        (None, 1, "serial", "in process (1 worker)"),
        (None, 2, "processes", "2 local worker processes"),
        ("processes", 1, "processes", "1 local worker processes"),
        ("dask://sched:8786", 1, "dask", "Dask scheduler at tcp://sched:8786"),
        ("dask://tls://sched:8786", 1, "dask", "Dask scheduler at tls://sched:8786"),
    ],
)
def test_parse_executor(executor: str | None, workers: int, kind: str, message: str) -> None:
    spec = parse_executor(executor, workers)
    assert spec.kind == kind
    assert describe_executor(spec) == message


def test_parse_executor_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="unknown executor 'mpi'"):
        parse_executor("mpi")
    with pytest.raises(ValueError, match="needs a scheduler address"):
        parse_executor("dask://")
    with pytest.raises(ValueError, match="workers must be"):
        parse_executor(None, -1)
    with pytest.raises(TypeError, match="executor must be"):
        parse_executor(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_size must be"):
        chunk_bounds(10, 1, 0)


def test_chunk_bounds_cover_every_sample_once() -> None:
    for n, workers in ((1, 1), (999, 2), (10_000, 8), (100_000, 2)):
        bounds = chunk_bounds(n, workers)
        assert bounds[0][0] == 0
        assert bounds[-1][1] == n
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    assert len(chunk_bounds(10_000, 2)) == 8  # 4 chunks per worker
    assert len(chunk_bounds(100_000, 2)) == 50  # capped at 2000 samples per chunk


def test_serial_executor_passes_exceptions_through_futures() -> None:
    with open_executor(parse_executor(None, 1)) as ex:
        assert isinstance(ex, SerialExecutor)
        fut = ex.submit(int, "x")
        with pytest.raises(ValueError, match="invalid literal"):
            fut.result()


SMALL = Path(__file__).parent / "data" / "cli" / "small.yaml"
US_JAPAN = Path(__file__).parent.parent / "scenarios" / "us_japan_framework.yaml"


_TWO_CPUS = pytest.mark.skipif(usable_cpus() < 2, reason="two worker processes need two usable CPUs")
_SWEEP_CALL = ("from supplychain.uncertainty import run_sweep\n"
               f"r = run_sweep({str(SMALL)!r}, samples=4, seed=1, mode='exposure', workers=2, chunk_size=1, "
               "cache=False, quiet=True)\n"
               "print(r.info['executor'])\n")
# base + 3 variants: two groups, so two worker processes
_COMPARE_CALL = ("from supplychain.api import compare\n"
                 f"print(len(compare({str(US_JAPAN)!r}, years=[2026], mode='fixed', workers=2)) > 0)\n")


@_TWO_CPUS
@pytest.mark.parametrize(("call", "out"), [(_SWEEP_CALL, "in process (1 worker)"), (_COMPARE_CALL, "True")],
                         ids=["sweep", "compare"])  # fmt: skip
@pytest.mark.parametrize("guard_elsewhere", [False, True], ids=["no-guard", "call-outside-guard"])
def test_a_script_without_a_main_guard_runs_in_process_with_one_warning(tmp_path: Path, call: str, out: str,
                                                                         guard_elsewhere: bool) -> None:  # fmt: skip
    """A script calling run_sweep(workers=2) or compare(workers=2) at module level, outside the guard.

    Each worker would run the script again and start the work again; the call is found
    before any worker starts and runs in the calling process: the script succeeds, stderr
    holds one warning at the script's line saying what to add, and no traceback (from
    worker processes or the script).
    """
    script = tmp_path / "noguard.py"
    guard = 'if __name__ == "__main__":\n    pass\n' if guard_elsewhere else ""
    script.write_text(call + guard, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == out
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{script}:2: SupplyChainWarning: worker processes started outside "
                                  '`if __name__ == "__main__":`')  # fmt: skip
    assert proc.stderr.count("SupplyChainWarning") == 1


@_TWO_CPUS
def test_a_script_with_the_call_under_the_guard_uses_worker_processes(tmp_path: Path) -> None:
    script = tmp_path / "guarded.py"
    body = "".join(f"    {line}\n" for line in _SWEEP_CALL.splitlines())
    script.write_text(f'if __name__ == "__main__":\n{body}', encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2 local worker processes"
    assert "Warning" not in proc.stderr


def test_broken_pool_message_with_a_guard_points_elsewhere(tmp_path: Path) -> None:
    script = tmp_path / "guarded.py"
    script.write_text('if __name__ == "__main__":\n    pass\n', encoding="utf-8")
    main = types.SimpleNamespace(__file__=str(script))
    assert broken_pool_message(main).startswith("a worker process stopped unexpectedly")


def test_chunk_bounds_size_slow_samples_by_their_cost() -> None:
    # 40 samples, 2 workers: ⌈40 / (4 · 2)⌉ = 5 a chunk, raised to the 32-sample floor when the cost is unknown
    # (chunks 0–32 and 32–40: one worker does 4/5 of the work). A sample of 0.3 s lowers the floor to
    # ⌈0.5 / 0.3⌉ = 2, so the 5-sample chunks stand: 8 of them, 4 for each worker.
    assert chunk_bounds(40, 2) == [(0, 32), (32, 40)]
    assert chunk_bounds(40, 2, sample_seconds=0.3) == [(s, s + 5) for s in range(0, 40, 5)]
    # a sample of 2 s: floor ⌈0.5 / 2⌉ = 1; 3 samples on 2 workers, ⌈3 / 8⌉ = 1 a chunk
    assert chunk_bounds(3, 2, sample_seconds=2.0) == [(0, 1), (1, 2), (2, 3)]
    # a fast sample (1 ms): ⌈0.5 / 0.001⌉ = 500, clipped to the 32-sample floor
    assert chunk_bounds(40, 2, sample_seconds=0.001) == [(0, 32), (32, 40)]


@_TWO_CPUS
def test_an_interrupted_pool_leaves_no_worker_and_no_manager_thread_running() -> None:
    # leaving the block by an exception stops the workers and joins the pool's manager thread, which reaps workers
    # too: joined before shutdown() forgot it (it sets the attribute to None), a worker the manager thread had reaped
    # but not yet marked ended was counted by multiprocessing.active_children() (9 runs in 300 of the SIGTERM test).
    # Other children and threads (the module's Dask cluster) are left out of the count.
    import multiprocessing

    started: list[Any] = []

    def interrupted() -> None:
        with open_executor(parse_executor(None, workers=2)) as ex:
            assert ex.submit(abs, -1).result(timeout=PATIENCE) == 1
            started.extend([ex._executor_manager_thread, *ex._processes.values()])  # type: ignore[attr-defined]
            raise KeyboardInterrupt

    others = set(multiprocessing.active_children())
    with pytest.raises(KeyboardInterrupt):
        interrupted()
    manager, *workers = started
    assert workers  # one a submit, as many as needed (forkserver); all at the first (fork)
    assert not manager.is_alive()
    assert set(multiprocessing.active_children()) - others == set()
    assert [w.exitcode for w in workers if w.exitcode is None] == []
