"""How local worker processes start, free of the package's heavy imports.

Worker processes are started with the ``forkserver`` method where the platform has it
(``spawn`` elsewhere): safe with threads in the parent (a Dask client, a Jupyter kernel),
and the fork server imports the package once (:data:`PRELOAD`) so that each worker forked
from it starts with the package loaded, and frozen (:func:`gc.freeze`: no garbage collection
in a worker walks it again). :mod:`supplychain.parallel.executors` starts its pools with
:func:`mp_context`; a command that will likely use workers (``report`` and ``sweep`` with
``--workers`` other than 1) calls :func:`start_worker_server` before its own imports, so that
the server's imports run beside them instead of delaying the first worker. This module
imports only the standard library, so calling it costs nothing before the package is loaded.

A command whose process has imported what its workers run, and holds no thread of its own,
may have them forked from itself instead (:func:`fork_workers_from_here`; ``compare``): no
fork server imports the package a second time (~0.9 s of CPU on ``compare path_to_2030``,
6.4 → 5.4 s of CPU over all its processes), and the workers start with the scenario and
every module already loaded and frozen.

Each worker process runs the main script again (as ``__mp_main__``) before it takes any
work. A script that starts workers from its module-level code outside
``if __name__ == "__main__":`` would start them again in every worker, which
:mod:`multiprocessing` refuses; :func:`unguarded_main_line` finds that case before a
pool is made, and :func:`importing_main_again` tells a worker that is running the script again.
"""

from __future__ import annotations

import ast
import inspect
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Final

__all__ = ["COMPARE_PRELOAD", "PRELOAD", "fork_workers_from_here", "forking_quietly", "hold_exit",
           "importing_main_again", "mp_context", "start_worker_server", "unguarded_main_line", "usable_cpus"]

PRELOAD: Final = ("supplychain.uncertainty.montecarlo", "supplychain.api", "supplychain.parallel.frozen",
                  "supplychain.parallel.sigint")
"""Modules the fork server imports once for every worker (a sweep's and a simulation's), in order; the last but one
freezes them (:mod:`supplychain.parallel.frozen`: no garbage collection in a worker walks them), the last gives
SIGINT back the handler it had before :func:`start_worker_server` (:mod:`supplychain.parallel.sigint`)."""
COMPARE_PRELOAD: Final = (
    "supplychain.api", "supplychain.metrics.measures", "supplychain.simulation.groups", "supplychain.simulation.blocks",
    "supplychain.graph.pattern", "supplychain.graph.layout", "supplychain.report.headline",
    "supplychain.report.exposure_falls", "supplychain.parallel.executors", "supplychain.parallel.frozen",
    "supplychain.parallel.sigint",
)
"""What a ``compare`` worker imports (:func:`~supplychain.simulation.groups.run_group` and what it imports when
computing), none of the sweep's: the command imports them before its workers are forked from it
(:func:`fork_workers_from_here`), so that no worker imports a module of its own."""

_FORK_FROM_HERE: list[bool] = [False]
"""Whether this process is within :func:`fork_workers_from_here`."""

_FORKING: list[tuple[int, Iterable[int]] | None] = [None]
"""While :func:`forking_quietly` forks workers from here: this process's id and the signal mask it had before.

A forked worker starts with a copy of it (:func:`_worker_forked_from_here`)."""

_HELD_EXIT: list[BaseException] = []
"""What a signal's handler raised while this process was forking, kept for the end of it (:func:`hold_exit`)."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one), at least 1."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(len(affinity(0)), 1)
    return os.cpu_count() or 1


@contextmanager
def fork_workers_from_here() -> Iterator[None]:
    """Within, this process's local worker processes are forked from it (``fork``), not from a fork server.

    For a command-line process (``compare``) that enters it once the package, the scenario and
    what its workers run are loaded (and frozen: :func:`~supplychain.cli.common.freeze_imports`),
    around the work that makes its pool. :func:`mp_context` then returns the ``fork`` context
    where the platform has it, as long as this process runs no other Python thread and has made
    no HiGHS solver when a pool is made (else ``forkserver``, as outside); on leaving, pools are
    made as before, so a process that runs the command in-process (a test, a notebook) and
    solves LPs afterwards never forks them from itself.

    Why forking is safe there: the process runs only its main thread, and has not solved an
    LP (HiGHS' threads start with a solve, in the workers;
    :data:`supplychain.simulation.highs.MADE` says whether this process made a solver) nor used
    Dask; the native threads it
    holds after importing NumPy, SciPy and pandas (OpenBLAS' pools and pyarrow's jemalloc
    background thread) are made fork-safe by their libraries (``pthread_atfork`` handlers stop
    or lock them and the child starts them again); :mod:`multiprocessing` flushes the standard
    streams before it forks and :class:`~concurrent.futures.ProcessPoolExecutor` forks every
    worker before it starts its own threads. A worker forked within :func:`forking_quietly` gets
    SIGTERM's default action back and ignores SIGINT as it is forked (:func:`_worker_forked_from_here`),
    and every worker gets SIGTERM's again in the pool's initializer
    (:func:`supplychain.parallel.executors._exit_with_driver`), so that stopping a pool still ends its workers.
    No script is run again in a forked worker (the unguarded-script case does not arise).
    """
    before = _FORK_FROM_HERE[0]
    _FORK_FROM_HERE[0] = True
    try:
        yield
    finally:
        _FORK_FROM_HERE[0] = before


def _made_a_solver() -> bool:
    """Whether this process has made a HiGHS solver (whose threads a fork would not copy)."""
    highs = sys.modules.get("supplychain.simulation.highs")
    return bool(highs is not None and highs.MADE[0])


def _forks_here() -> bool:
    """Whether a pool made now forks its workers from this process (:func:`mp_context` returns ``fork``).

    Within :func:`fork_workers_from_here`, where the platform has ``fork``, while this process runs
    its main thread alone and has made no HiGHS solver.
    """
    return (_FORK_FROM_HERE[0] and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1 and not _made_a_solver())  # fmt: skip


def _pool_forks_here(pool: object | None) -> bool:
    """Whether ``pool``'s workers are forked from this process (by :func:`_forks_here` when ``pool`` is ``None``).

    Asked within :func:`fork_workers_from_here` only (:func:`forking_quietly`). A
    :class:`~concurrent.futures.ProcessPoolExecutor` keeps the context it was made with (``_mp_context``:
    no public handle); any other executor (serial, Dask) forks nothing from here.
    """
    if pool is None:
        return _forks_here()
    context = getattr(pool, "_mp_context", None)
    return context is not None and context.get_start_method() == "fork"


@contextmanager
def forking_quietly(pool: object | None = None) -> Iterator[None]:
    """Within :func:`fork_workers_from_here`: fork workers without a warning and without losing a SIGTERM or a Ctrl-C.

    Around the submissions that make a pool fork its workers (a no-op outside
    :func:`fork_workers_from_here`):

    * Python's warning at a fork of a process with native threads is off (``DeprecationWarning``,
      Python 3.12 and later: at every fork once NumPy, SciPy and pandas are imported; their threads
      are fork-safe, :func:`fork_workers_from_here`). Only that warning.
    * SIGINT and SIGTERM are not lost. ``os.fork()`` runs the functions registered with
      :func:`os.register_at_fork` (:mod:`logging`'s lock), where an exception a signal's handler
      raises (Python's ``KeyboardInterrupt``; the command's ``SystemExit``,
      :func:`supplychain.cli.common.install_signal_handlers`) is printed as ignored and the command
      runs on to exit 0. So this thread blocks both, what a handler raises meanwhile (another thread
      may take the signal) is kept (:func:`hold_exit`; SIGINT's handler, if Python's, is
      :func:`_interrupt` within) and raised at the block's end, where the pool knows its workers and
      stops them (:func:`~supplychain.parallel.executors.open_executor`). A worker gets SIGTERM's
      default action and SIGINT ignored before it unblocks them (:func:`_worker_forked_from_here`).

      Only when ``pool``'s context is ``fork`` (without ``pool``: a pool made now would fork,
      :func:`_forks_here`) and the platform has :func:`signal.pthread_sigmask`: a fork server or a
      spawned worker started with a signal blocked would keep it blocked, and so would every worker
      forked from that server. Elsewhere only the warning is off.

    Parameters
    ----------
    pool : concurrent.futures.Executor, optional
        The pool the block submits to.
    """
    if not _FORK_FROM_HERE[0]:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"This process \(pid=\d+\) is multi-threaded, use of fork\(\)",
                                category=DeprecationWarning)
        if not (hasattr(signal, "pthread_sigmask") and _pool_forks_here(pool)):
            yield
            return
        with _signals_held():
            yield


_HELD_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
"""The signals :func:`forking_quietly` blocks while this process forks its workers (a Ctrl-C, a ``kill``)."""


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM blocked on this thread, and what their handlers raise kept (:func:`hold_exit`) to the end.

    SIGINT's handler, if Python's (:func:`signal.default_int_handler`, which would raise at once), is
    :func:`_interrupt` within.
    """
    before = signal.pthread_sigmask(signal.SIG_BLOCK, ())  # the mask as it is
    handler = None
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
        if (signal.getsignal(signal.SIGINT) is signal.default_int_handler
                and threading.current_thread() is threading.main_thread()):  # fmt: skip
            handler = signal.signal(signal.SIGINT, _interrupt)
        _FORKING[0] = (os.getpid(), before)
        yield
    finally:
        # undone in turn, each step even if a handler raises in one before it (Python runs handlers between
        # bytecodes, whichever thread took the signal): the mask restored, then SIGINT's handler. Both are
        # registered while _FORKING is set, when the handlers keep what they raise (hold_exit)
        with ExitStack() as undo:
            if handler is not None:
                undo.callback(signal.signal, signal.SIGINT, handler)
            undo.callback(signal.pthread_sigmask, signal.SIG_SETMASK, before)  # a pending signal is handled here
            _FORKING[0] = None  # from here the handlers raise at once
            held = _HELD_EXIT[:1]
            _HELD_EXIT.clear()
        if held:
            raise held[0]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGINT's handler within :func:`forking_quietly`: Python's ``KeyboardInterrupt``, kept for the block's end."""
    interrupt = KeyboardInterrupt()
    if not hold_exit(interrupt):
        raise interrupt


def hold_exit(exc: BaseException) -> bool:
    """Keep what a signal's handler raises while this process forks its workers; say whether it was kept.

    Called by the command line's SIGTERM handler (:func:`supplychain.cli.common.install_signal_handlers`)
    and by SIGINT's within the forking (:func:`_interrupt`): within :func:`forking_quietly` in this
    process (not in a worker forked from it, which has a copy of the state), the first exception kept is
    raised at the block's end instead of inside an at-fork function, where it would be lost.

    Parameters
    ----------
    exc : BaseException
        What the handler raises: ``SystemExit(128 + signal number)``, ``KeyboardInterrupt()``.

    Returns
    -------
    bool
        ``True`` if it was kept for later; ``False``: raise it now.
    """
    forking = _FORKING[0]
    if forking is None or forking[0] != os.getpid():
        return False
    _HELD_EXIT.append(exc)
    return True


def _worker_forked_from_here() -> None:
    """In a worker just forked within :func:`forking_quietly`: SIGTERM's default action, SIGINT ignored, then its mask.

    Registered with :func:`os.register_at_fork` (``after_in_child``); it acts only in a child of a
    process that was forking its workers, which starts with SIGINT and SIGTERM blocked: a SIGTERM sent
    meanwhile waits, and ends the worker here; a SIGINT (a Ctrl-C reaches the command's whole process
    group) is dropped, the command stopping its pool (before, an idle worker printed its
    ``KeyboardInterrupt`` traceback, and one raised here was printed as ignored).
    """
    forking = _FORKING[0]
    if forking is None:
        return
    _FORKING[0] = None
    _HELD_EXIT.clear()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, forking[1])


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_worker_forked_from_here)


def mp_context() -> Any:
    """Return the :mod:`multiprocessing` context local worker processes start with (``forkserver``, else ``spawn``).

    ``fork`` within :func:`fork_workers_from_here`, when this process runs its main thread alone and has
    made no HiGHS solver.
    """
    if _forks_here():
        return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")


def start_worker_server(preload: Sequence[str] = PRELOAD) -> None:
    """Start the fork server now, importing ``preload`` (default :data:`PRELOAD`) beside the caller's work.

    The first pool then forks its workers at once instead of waiting ~1 s of CPU for the
    server's imports. If no worker is started after all, the server ends with this process,
    having cost that CPU time. A no-op without ``forkserver`` and with one usable CPU (where
    no pool is made: :func:`~supplychain.parallel.executors.parse_executor`). The server keeps
    the modules it started with for the life of this process (pools made later by
    :func:`mp_context` use it as it is): a command that knows its workers' work passes
    their modules (:data:`COMPARE_PRELOAD`). The server starts with SIGINT ignored until its
    imports are done (:mod:`supplychain.parallel.sigint`): a Ctrl-C then prints no traceback from it.
    """
    if usable_cpus() > 1 and mp_context().get_start_method() == "forkserver":
        import signal
        import threading
        from multiprocessing import forkserver

        forkserver.set_forkserver_preload(list(preload))
        if threading.current_thread() is not threading.main_thread():
            forkserver.ensure_running()
            return
        # the server starts with SIGINT ignored (inherited): a Ctrl-C while it imports the preload modules stops
        # the command, not the server with a traceback; its last preload module gives SIGINT back its handler
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            forkserver.ensure_running()
        finally:
            signal.signal(signal.SIGINT, previous)


def importing_main_again() -> bool:
    """Whether this is a worker process running the main script again (as ``__mp_main__``).

    :mod:`multiprocessing` aliases ``__mp_main__`` to ``__main__`` in every process; a worker
    that starts runs the script as a module of that name, before it knows its parent process.
    """
    running = sys.modules.get("__mp_main__")
    return getattr(running, "__name__", None) == "__mp_main__" and multiprocessing.parent_process() is None


def _is_main_test(test: ast.expr) -> bool:
    """Whether ``test`` reads ``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))  # fmt: skip


def unguarded_main_line() -> tuple[str, int] | None:
    """Return the script and line whose module-level code is calling, when it is outside the ``__main__`` guard.

    Worker processes run the main script again; a call that starts them from the script's
    module-level code (directly, or through functions it calls) outside a top-level
    ``if __name__ == "__main__":`` block would run again in every worker. The stack is
    walked up to the frame of the ``__main__`` module's own code; its current line is looked
    up in the script's syntax tree.

    Returns
    -------
    (str, int) or None
        The script's path and the module-level line running the call; ``None`` when the
        call is under the guard, not made from a script's module-level code (an interactive
        session, a notebook, ``python -c``, a thread), inside a worker process, or the
        script cannot be read.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not isinstance(path, str) or importing_main_again():
        return None
    frame = inspect.currentframe()
    while frame is not None and not (frame.f_code.co_name == "<module>" and frame.f_globals is vars(main)):
        frame = frame.f_back
    if frame is None:
        return None
    line = frame.f_lineno
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if (isinstance(node, ast.If) and _is_main_test(node.test)
                and node.body[0].lineno <= line <= (node.body[-1].end_lineno or line)):  # fmt: skip
            return None
    return path, line
