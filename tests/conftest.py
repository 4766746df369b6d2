"""Shared fixtures: a minimal valid scenario, YAML writers and a CLI runner."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
"""Root of the repository (where ``scenarios/`` and ``schema/`` live)."""

PATIENCE = 600.0
"""Seconds a test waits for a condition (workers up, a process gone) before it fails: generous, because the
machine may be loaded (2 CPUs shared by several test suites); the condition is what a test waits on, never a
fixed time, and no duration is asserted."""


def wait_until(condition: Callable[[], bool], timeout: float = PATIENCE, poll: float = 0.05) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


@contextmanager
def local_dask_cluster(n_workers: int) -> Iterator[Any]:
    """A Dask ``LocalCluster`` on loopback only (127.0.0.1, ports chosen by the system: 0), no worker dashboards.

    The scheduler always serves HTTP (``dashboard_address=None`` means its default port, 8787, and a
    warning, an error here, when another cluster holds it): it is given a system-chosen loopback port.

    Its connection timeouts are :data:`PATIENCE` and it is handed over once its ``n_workers`` worker
    processes have joined (``wait_for_workers``): worker processes start slowly on a loaded machine.
    """
    distributed = pytest.importorskip("distributed")
    import dask

    patience = f"{PATIENCE:g}s"
    with dask.config.set({"distributed.comm.timeouts.connect": patience, "distributed.comm.timeouts.tcp": patience}), \
            distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     scheduler_port=0, dashboard_address="127.0.0.1:0", worker_dashboard_address=None,
                                     silence_logs=40) as cluster:  # fmt: skip
        cluster.wait_for_workers(n_workers, timeout=PATIENCE)
        yield cluster

MINIMAL: dict[str, Any] = {
    "scenario": {"name": "Minimal", "base_year": 2024, "horizon": 2030},
    "sources": {"usgs": {"title": "Mineral Commodity Summaries 2025", "publisher": "USGS", "year": 2025}},
    "regions": {"ROW": {"name": "Rest of world"}},
    "commodities": {
        "concentrate": {
            "name": "REE concentrate",
            "stage": "ore",
            "basis": "t REO",
            "family": "rare_earths",
            "elements": ["Nd", "Pr"],
        },
        "ndpr_oxide": {
            "name": "NdPr oxide",
            "stage": "oxide",
            "basis": "t REO",
            "family": "rare_earths",
            "elements": ["Nd", "Pr"],
        },
    },
    "processes": {"separation": {"inputs": {"concentrate": 5.0}, "outputs": {"ndpr_oxide": 1.0}}},
    "facilities": {
        "mine": {
            "name": "Mine",
            "country": "US",
            "kind": "mine",
            "output": "concentrate",
            "capacity": {"value": 45000, "source": "usgs"},
        },
        "plant": {"name": "Plant", "country": "CN", "kind": "separation", "process": "separation", "capacity": 60000},
    },
    "flows": {
        "mine_plant": {"supplier": "mine", "buyer": "plant", "commodity": "concentrate", "year": 2024, "tonnes": 40000},
        "cn_us": {"supplier": "CN", "buyer": "US", "commodity": "ndpr_oxide", "year": 2024, "tonnes": 2000},
    },
    "policies": {
        "cn_ban": {
            "type": "export_ban",
            "country": "CN",
            "covers": {"families": ["rare_earths"]},
            "start": "2025-09-01",
        },
    },
    "toggles": {"ban": {"controls": ["cn_ban"], "default": False}},
}
"""A small valid scenario; tests copy it and break one thing."""


_AU_CONC: str = """commodities:
  conc: {name: Concentrate, stage: ore, basis: t REO}
facilities:
  au_mine:
    {name: AU mine, country: AU, kind: mine, output: conc,
     capacity: {value: 5000, assumption: illustrative}, utilisation: {value: 1, assumption: illustrative}}
"""


def au_conc_world(name: str, more: str) -> str:
    """A one-commodity 2024 world measured to Australia, whose mine makes 5,000 t of concentrate, plus ``more``.

    ``more`` goes on after the ``au_mine`` facility: further facilities (indented two spaces),
    then ``flows``, ``demand`` and so on. The head of tests/test_nir_na_reason.py's transit
    hub and tests/test_sweep_net_exporters.py's net exporters (review s33 F2: written twice).
    """
    return f"scenario: {{name: {name}, base_year: 2024, horizon: 2024, source_country: AU}}\n{_AU_CONC}{more}"


def minimal_scenario(**sections: Any) -> dict[str, Any]:
    """Return a deep copy of :data:`MINIMAL` with whole sections replaced (``None`` drops one)."""
    data = copy.deepcopy(MINIMAL)
    for name, value in sections.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


@pytest.fixture
def scenario_dict() -> Callable[..., dict[str, Any]]:
    """Build a minimal valid scenario dict; keyword arguments replace sections."""
    return minimal_scenario


def to_yaml(data: Any) -> str:
    """Dump plain data to YAML the way a user would write it (block style, keys in order)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, Any], Path]:
    """Write YAML text (a str) or plain data (dumped) to ``tmp_path/name``; return the path."""

    def _write(name: str, content: Any) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else to_yaml(content), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m supplychain ARGS`` from the repository root; never raises on exit codes."""

    def _run(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "supplychain", *map(str, args)]
        return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120, check=False)

    return _run
