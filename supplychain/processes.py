"""How local worker processes start, free of the package's heavy imports.

Worker processes are started with the ``forkserver`` method where the platform has it
(``spawn`` elsewhere): safe with threads in the parent (a Dask client, a Jupyter kernel),
and the fork server imports the package once (:data:`PRELOAD`) so that each worker forked
from it starts with the package loaded. :mod:`supplychain.uncertainty.executors` starts
its pools with :func:`mp_context`; a command that knows early that it will use workers
calls :func:`start_worker_server` first, so that the server's imports run beside its own
instead of delaying the first worker. This module imports only the standard library, so
calling it costs nothing before the package is loaded.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any, Final

__all__ = ["PRELOAD", "mp_context", "start_worker_server", "usable_cpus"]

PRELOAD: Final = ("supplychain.uncertainty.montecarlo", "supplychain.api")
"""Modules the fork server imports once for every worker (a sweep's and a simulation's)."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one), at least 1."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(len(affinity(0)), 1)
    return os.cpu_count() or 1


def mp_context() -> Any:
    """Return the :mod:`multiprocessing` context local worker processes start with (``forkserver``, else ``spawn``)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")


def start_worker_server() -> None:
    """Start the fork server now, importing :data:`PRELOAD` beside the caller's work.

    The first pool then forks its workers at once instead of waiting ~0.75 s of CPU for the
    server's imports. If no worker is started after all, the server ends with this process,
    having cost that CPU time. A no-op without ``forkserver`` and with one usable CPU (where
    no pool is made: :func:`~supplychain.uncertainty.executors.parse_executor`).
    """
    if usable_cpus() > 1 and mp_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
