"""Where the samples of a sweep are computed: in process, local worker processes, or Dask.

Every executor is used through the :class:`concurrent.futures.Executor`
interface (``submit`` + futures), so the sweep driver has one code path:

============================  ==============================================================
``executor=``                  what runs the chunks
============================  ==============================================================
``None`` and ``workers=1``     this process, one chunk after the other (no start-up cost)
``None`` and ``workers=N``     ``N`` local processes (:class:`~concurrent.futures.ProcessPoolExecutor`;
                               ``workers=0`` means one per CPU)
``"processes"``                the same, explicitly
``"dask://HOST:PORT"``         a running Dask scheduler, via ``distributed.Client(address).get_executor()``
a ``distributed.Client``       that client's executor (not closed afterwards)
a ``concurrent.futures``       used as is (not shut down afterwards)
executor object
============================  ==============================================================

Dask is an optional dependency (``pip install 'supplychain[dask]'``) and is
imported only when asked for.

Local processes are started with the ``forkserver`` method where the platform
has it (``spawn`` elsewhere): safe with threads in the parent (a Dask client,
a Jupyter kernel), and the fork server imports the package once so later
workers start quickly (:mod:`supplychain.parallel.processes`). More workers than the CPUs this process may use
(:func:`~supplychain.parallel.processes.usable_cpus`) only compete for them:
the count is capped, with a warning. An interrupted sweep (an exception, Ctrl-C,
or SIGTERM on the command line) terminates the worker processes it started
instead of waiting for them; a sweep killed outright (SIGKILL) cannot, so each
worker watches the process that started it and exits within
:data:`DRIVER_POLL` seconds of its end.

Before a Dask client is made, the address is probed (:func:`probe_dask_scheduler`):
a refused port, a silent service or one that answers with something other than a
Dask greeting is a :class:`ConnectionError` within :data:`DASK_PROBE_TIMEOUT`
seconds, never a long wait or a huge allocation.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import struct
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from supplychain.errors import SupplyChainWarning
from supplychain.parallel.processes import (
    forking_quietly,
    importing_main_again,
    mp_context,
    unguarded_main_line,
    usable_cpus,
)

__all__ = [
    "DASK_SCHEME",
    "ExecutorLike",
    "ExecutorSpec",
    "SerialExecutor",
    "broken_pool_message",
    "chunk_bounds",
    "describe_executor",
    "map_in_order",
    "open_executor",
    "parse_executor",
    "probe_dask_scheduler",
    "submission_order",
]

DASK_SCHEME = "dask://"
"""Prefix of a Dask scheduler address on the command line."""

ExecutorLike = str | Executor | Any | None
"""What ``executor=`` accepts (``Any`` covers a ``distributed.Client``)."""

_P = ParamSpec("_P")
_T = TypeVar("_T")
_R = TypeVar("_R")

MIN_CHUNK = 32
"""Smallest chunk sent to a worker when a sample's cost is not known (amortises pickling and scheduling)."""
MIN_CHUNK_SECONDS = 0.5
"""Smallest chunk, in computing time, when a sample's cost is known: slow samples go a few at a time."""
MAX_CHUNK = 2000
"""Largest chunk (keeps progress updates and load balance reasonable)."""
CHUNKS_PER_WORKER = 4
"""Target chunks per worker, so a slow chunk does not leave the others idle."""
DASK_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a Dask scheduler before giving up."""
DRIVER_POLL = 1.0
"""Seconds between a local worker's checks that the process that started it still runs."""
DASK_PROBE_TIMEOUT = 5.0
"""Seconds :func:`probe_dask_scheduler` waits to connect, then for the scheduler's greeting."""
DASK_MAX_GREETING = 1 << 20
"""Largest first message (bytes) taken for a Dask scheduler's greeting (a real one is a few hundred)."""


class SerialExecutor(Executor):
    """Run each submitted call at once in this process (an executor without workers).

    Examples
    --------
    >>> with SerialExecutor() as ex:
    ...     ex.submit(pow, 2, 5).result()
    32
    """

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        """Call ``fn(*args, **kwargs)`` now and return a finished future."""
        future: Future[_T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed ``executor=`` value.

    Attributes
    ----------
    kind : {"serial", "processes", "dask", "object"}
        What to start.
    workers : int
        Worker processes for ``processes`` (resolved from ``workers=0``).
    address : str
        Scheduler address for ``dask`` (``tcp://HOST:PORT``).
    obj : object
        A user-supplied executor or Dask client.
    """

    kind: str
    workers: int = 1
    address: str = ""
    obj: Any = None


def parse_executor(executor: ExecutorLike = None, workers: int = 1) -> ExecutorSpec:
    """Interpret ``executor=`` and ``workers=``.

    Parameters
    ----------
    executor : None, str, Executor or distributed.Client
        See the module docstring.
    workers : int
        Local worker processes (0 = one per CPU); ignored for Dask. More than
        :func:`~supplychain.parallel.processes.usable_cpus` is capped to it, with a
        :class:`~supplychain.errors.SupplyChainWarning`. Called from a script's
        module-level code outside ``if __name__ == "__main__":``
        (:func:`~supplychain.parallel.processes.unguarded_main_line`), where each worker would run
        the script again, local workers are not started: the work runs in this process,
        with a :class:`~supplychain.errors.SupplyChainWarning` at the script's line.

    Returns
    -------
    ExecutorSpec
        What :func:`open_executor` will start.

    Raises
    ------
    ValueError
        For a negative worker count or an unknown executor string.

    Examples
    --------
    >>> parse_executor("dask://10.0.0.5:8786").address
    'tcp://10.0.0.5:8786'
    >>> parse_executor(None, workers=1).kind
    'serial'
    """
    if workers < 0:
        msg = f"workers must be ≥ 0 (0 = one per CPU), got {workers}"
        raise ValueError(msg)
    cpus = usable_cpus()
    n = workers or cpus
    if executor is None or executor in ("local", "processes", "serial"):
        if n > cpus and executor != "serial":
            warnings.warn(f"{n} worker processes asked for, but this machine lets the sweep use {cpus} CPU(s); "
                          f"using {cpus}", SupplyChainWarning, stacklevel=2)  # fmt: skip
            n = cpus
        if executor == "serial" or (executor is None and n == 1):
            return ExecutorSpec("serial", 1)
        where = unguarded_main_line()
        if where is not None:  # said at the script's line, where the guard is to be added
            warnings.warn_explicit('worker processes started outside `if __name__ == "__main__":` would each run '
                                   f"the script again, so the work runs in this process; put the code that starts "
                                   f"it under that guard to use {n} worker processes", SupplyChainWarning,
                                   where[0], where[1], module="__main__")  # fmt: skip
            return ExecutorSpec("serial", 1)
        return ExecutorSpec("processes", n)
    if isinstance(executor, str):
        text = executor.strip()
        if text.startswith(DASK_SCHEME):
            rest = text[len(DASK_SCHEME) :]
            if not rest or ":" not in rest:
                msg = f"a Dask executor needs a scheduler address such as dask://HOST:8786, got {executor!r}"
                raise ValueError(msg)
            address = rest if "://" in rest else f"tcp://{rest}"
            return ExecutorSpec("dask", n, address=address)
        msg = (
            f"unknown executor {executor!r}; use 'processes' (local worker processes, see --workers) "
            "or dask://HOST:PORT (a running Dask scheduler)"
        )
        raise ValueError(msg)
    if isinstance(executor, Executor):
        return ExecutorSpec("object", n, obj=executor)
    if hasattr(executor, "get_executor"):  # a distributed.Client
        return ExecutorSpec("object", n, obj=executor.get_executor(pure=False))
    msg = (
        "executor must be None, a string, a concurrent.futures.Executor or a dask Client, "
        f"not {type(executor).__name__}"
    )
    raise TypeError(msg)


def describe_executor(spec: ExecutorSpec) -> str:
    """One-line description for logs and the CLI.

    Examples
    --------
    >>> describe_executor(ExecutorSpec("processes", 2))
    '2 local worker processes'
    """
    if spec.kind == "serial":
        return "in process (1 worker)"
    if spec.kind == "processes":
        return f"{spec.workers} local worker processes"
    if spec.kind == "dask":
        return f"Dask scheduler at {spec.address}"
    return f"executor {type(spec.obj).__name__}"


def broken_pool_message(main: Any = None) -> str:
    """Say why local worker processes stopped and what to add.

    Each worker imports the main script again; a script that calls a sweep (or ``compare`` on
    workers) at module level without ``if __name__ == "__main__":`` starts it again inside every worker, which
    :mod:`multiprocessing` refuses: the pool breaks. The message names the script. (A call
    from the script's own module-level code is found before the pool is made and runs in
    process instead: :func:`parse_executor`; this is what is left, e.g. a call from a thread.)
    """
    module = main if main is not None else sys.modules.get("__main__")
    path = getattr(module, "__file__", None)
    guard = ('put the code that starts the worker processes (run_sweep, compare, …) under '
             '`if __name__ == "__main__":` (each worker process imports the script again)')
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError:
            text = ""
        if "__main__" not in text:
            return f"the worker processes stopped while starting: in {path}, {guard}; or run with workers=1"
    return (f"a worker process stopped unexpectedly (BrokenProcessPool): if the work is started from a script, "
            f"{guard}; it may also have run out of memory — try fewer workers")


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        msg = (
            "the Dask executor needs the optional dependency dask[distributed]; "
            "install it with: pip install 'supplychain[dask]'"
        )
        raise ImportError(msg) from exc
    return distributed


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def probe_dask_scheduler(address: str, timeout: float = DASK_PROBE_TIMEOUT) -> None:
    """Check that a Dask scheduler answers at a ``tcp://HOST:PORT`` address, quickly.

    A Dask scheduler greets every new connection with a short message framed by
    its length (8 bytes, little-endian). The probe connects, waits up to
    ``timeout`` seconds for those 8 bytes and checks that they announce a short
    message. Other schemes (``tls://``, ``ucx://``) are left to ``distributed``.

    Raises
    ------
    ConnectionError
        The port is closed or unreachable, the service says nothing within
        ``timeout`` seconds or closes the connection, or it answers with
        something that is not a Dask message (an HTTP or SSH server, say).
    """
    scheme, _, rest = address.partition("://")
    if scheme != "tcp":
        return
    host, _, port_text = rest.rpartition(":")
    host = host.strip("[]")
    try:
        port = int(port_text)
        sock = socket.create_connection((host, port), timeout=timeout)
    except (OSError, ValueError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        msg = f"cannot reach the Dask scheduler at {address}: {reason}"
        raise ConnectionError(msg) from exc
    with sock:
        sock.settimeout(timeout)
        try:
            head = _read_exactly(sock, 8)
        except TimeoutError:
            head = None
        except OSError as exc:
            msg = f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}"
            raise ConnectionError(msg) from exc
    if head is None:
        msg = (f"the service at {address} sent nothing within {timeout:g} s; it is not a Dask scheduler "
               "(check the address and port: the scheduler's default port is 8786)")  # fmt: skip
        raise ConnectionError(msg)
    size = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
    if not 0 < size <= DASK_MAX_GREETING:
        msg = (f"the service at {address} is not a Dask scheduler (it answered with something that is not a "
               "Dask message); check the address and port: the scheduler's default port is 8786")  # fmt: skip
        raise ConnectionError(msg)


def _exit_with_driver(driver: int) -> None:
    """Worker initializer: end this worker soon after the sweep that started it is gone (killed with SIGKILL).

    It also gives SIGTERM its default action and unblocks it, so that a pool stopped by
    :func:`_stop_workers` ends its workers: a worker forked from the command line's process
    (:func:`~supplychain.parallel.processes.fork_workers_from_here`) has this done already as it is
    forked within :func:`~supplychain.parallel.processes.forking_quietly`, but one forked outside it
    would hold a copy of the command's handler (a task failing with ``SystemExit`` instead of its
    worker ending), and one started by a process or fork server that had SIGTERM blocked would
    ignore the signal. Both calls are no-ops where nothing is amiss.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})

    def watch() -> None:
        while True:
            time.sleep(DRIVER_POLL)
            try:
                os.kill(driver, 0)
            except ProcessLookupError:
                os._exit(1)  # nobody will read our results; do not finish the chunk
            except OSError:  # e.g. no permission: it still exists
                continue

    threading.Thread(target=watch, name="supplychain-driver-watch", daemon=True).start()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and terminate the pool's worker processes (an interrupted sweep)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # no public handle before Python 3.14
    manager = getattr(pool, "_executor_manager_thread", None)  # taken before shutdown(), which forgets it
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():  # pragma: no cover - a worker that ignores SIGTERM
            proc.kill()
            proc.join(timeout=5)
    # the pool's manager thread closes its wake-up pipe as it ends and joins the workers too (a worker it reaps
    # is still counted as running by a join here until it has recorded the exit status); joined here, before the
    # interpreter's exit wakes every pool it knows of, so that no wake-up is written to a pipe being closed (an
    # "Exception ignored ... Bad file descriptor" traceback at exit) and no worker is left uncounted as ended
    if manager is not None:
        manager.join(timeout=5)


@contextmanager
def open_executor(spec: ExecutorSpec) -> Iterator[Executor]:
    """Start the executor described by ``spec`` and close what was started here.

    Parameters
    ----------
    spec : ExecutorSpec
        From :func:`parse_executor`.

    Yields
    ------
    concurrent.futures.Executor
        Ready to ``submit``.

    Raises
    ------
    ImportError
        When a Dask executor is asked for and ``distributed`` is not installed.
    ConnectionError
        When the Dask scheduler cannot be reached, or the address is not a Dask
        scheduler (:func:`probe_dask_scheduler`).

    Notes
    -----
    Leaving the block normally waits for the local workers to finish; leaving it
    by an exception (including ``KeyboardInterrupt`` and the ``SystemExit`` the
    command line raises on SIGTERM) terminates them at once.
    """
    if spec.kind == "serial":
        with SerialExecutor() as ex:
            yield ex
        return
    if spec.kind == "processes":
        if importing_main_again():
            # a worker running a script that lacks the guard (:func:`parse_executor` missed it): the worker stops
            # quietly, without leaving the pool's semaphores behind, and its pool breaks with broken_pool_message
            raise SystemExit(1)
        pool = ProcessPoolExecutor(max_workers=spec.workers, mp_context=mp_context(),
                                   initializer=_exit_with_driver, initargs=(os.getpid(),))  # fmt: skip
        try:
            yield pool
        except BrokenProcessPool as exc:
            _stop_workers(pool)
            raise RuntimeError(broken_pool_message()) from exc
        except BaseException:
            _stop_workers(pool)
            raise
        pool.shutdown(wait=True)
        return
    if spec.kind == "dask":
        distributed = _import_distributed()
        probe_dask_scheduler(spec.address)
        try:
            client = distributed.Client(spec.address, timeout=f"{DASK_CONNECT_TIMEOUT}s", set_as_default=False)
        except OSError as exc:
            msg = f"cannot reach the Dask scheduler at {spec.address}: {exc}"
            raise ConnectionError(msg) from exc
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
        return
    yield spec.obj


def chunk_bounds(n: int, workers: int, chunk_size: int | None = None, *,
                 sample_seconds: float | None = None) -> list[tuple[int, int]]:  # fmt: skip
    r"""Split ``range(n)`` into contiguous chunks.

    Parameters
    ----------
    n : int
        Number of samples.
    workers : int
        Workers that will share them.
    chunk_size : int, optional
        Samples per chunk; default :math:`\lceil n / (4 w) \rceil` clipped to
        :math:`[m, 2000]`, large enough to amortise sending the model and small enough to
        balance: the floor :math:`m` is :data:`MIN_CHUNK` samples, or, when a sample's cost
        :math:`t` is known, :math:`\lceil 0.5\,\mathrm{s} / t \rceil` clipped to
        :math:`[1, 32]`: the floor of a simulated sample of 0.3 s is 2, so 40 such samples
        on two workers go in 8 chunks of 5 instead of one chunk of 32 and one of 8.
    sample_seconds : float, optional
        Computing time of one sample (e.g. the sweep's central run), :math:`t`.

    Returns
    -------
    list of (start, stop)
        Half-open ranges covering ``0 … n−1`` in order.

    Examples
    --------
    >>> chunk_bounds(10, 1, chunk_size=4)
    [(0, 4), (4, 8), (8, 10)]
    >>> chunk_bounds(0, 2)
    []
    >>> len(chunk_bounds(40, 2)), len(chunk_bounds(40, 2, sample_seconds=0.3))
    (2, 8)
    """
    if n <= 0:
        return []
    if chunk_size is None:
        floor = MIN_CHUNK
        if sample_seconds is not None and sample_seconds > 0.0:
            floor = max(1, min(MIN_CHUNK, math.ceil(MIN_CHUNK_SECONDS / sample_seconds)))
        size = math.ceil(n / (CHUNKS_PER_WORKER * max(workers, 1)))
        size = max(floor, min(MAX_CHUNK, size))
    else:
        if chunk_size < 1:
            msg = f"chunk_size must be ≥ 1, got {chunk_size}"
            raise ValueError(msg)
        size = chunk_size
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def _warnings_recorded(fn: Callable[[_T], _R], item: _T) -> tuple[_R, list[tuple[type[Warning], str]]]:
    """``fn(item)`` in a worker process, with every warning it raised (category and text) instead of printed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(item)
    return result, [(w.category, str(w.message)) for w in caught]


def submission_order(costs: Sequence[float]) -> list[int]:
    """Positions of tasks by falling estimated cost, ties in their order (:func:`map_in_order`'s ``cost``).

    Examples
    --------
    >>> submission_order([2.0, 7.0, 2.0, 4.0])
    [1, 3, 0, 2]
    """
    return sorted(range(len(costs)), key=lambda i: -costs[i])


def map_in_order(fn: Callable[[_T], _R], items: Sequence[_T], workers: int = 1, *,
                 cost: Callable[[_T], float] | None = None) -> list[_R]:
    """Apply ``fn`` to every item, on local worker processes when ``workers`` ≠ 1, results in order.

    For a few large independent tasks (the scenarios of a report, the groups of variants
    of ``compare``); a sweep's many small samples go through chunks instead
    (:func:`chunk_bounds`). ``fn`` and the items must pickle (a module-level function,
    :func:`functools.partial` of one). Warnings a task raises in a worker process are
    raised again here, task by task in order, as the same category with the same text.
    Leaving early (an exception in a task, Ctrl-C) stops the workers as
    :func:`open_executor` does; worker processes that stop unexpectedly are a
    :class:`RuntimeError` (:func:`broken_pool_message`); from a script without
    ``if __name__ == "__main__":`` the tasks run in this process (:func:`parse_executor`).

    Parameters
    ----------
    fn : callable
        Applied to each item.
    items : sequence
        The tasks.
    workers : int, default 1
        Worker processes: 1 = in this process, 0 = one per usable CPU
        (:func:`~supplychain.parallel.processes.usable_cpus`); never more than ``len(items)``.
    cost : callable, optional
        An estimate of each task's work: on workers, tasks are handed out largest first (ties
        in order), so that the longest does not start last while the other workers wait
        (the longest-processing-time rule). Results, and warnings, stay in the order of ``items``.

    Returns
    -------
    list
        ``[fn(item) for item in items]``.

    Examples
    --------
    >>> map_in_order(abs, [-2, 3, -1])
    [2, 3, 1]
    >>> map_in_order(abs, [-2, 3, -1], cost=abs)
    [2, 3, 1]
    """
    n = min(workers or usable_cpus(), len(items))
    spec = parse_executor(None, workers=max(n, 1))
    if spec.kind == "serial":
        return [fn(item) for item in items]
    order = range(len(items)) if cost is None else submission_order([cost(item) for item in items])
    with open_executor(spec) as ex:
        with forking_quietly(ex):  # a pool forks its workers at the first submission
            futures = {i: ex.submit(_warnings_recorded, fn, items[i]) for i in order}
        done = [futures[i].result() for i in range(len(items))]
    for _, caught in done:
        for category, message in caught:
            warnings.warn(message, category, stacklevel=2)
    return [result for result, _ in done]
