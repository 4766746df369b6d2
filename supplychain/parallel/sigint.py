"""Imported last by the fork server (:data:`~supplychain.parallel.processes.PRELOAD`): Ctrl-C acts again.

:func:`~supplychain.parallel.processes.start_worker_server` starts the server with SIGINT
ignored (the setting is inherited), so that a Ctrl-C while the server imports its preload
modules does not print a ``KeyboardInterrupt`` traceback from it (finding N-9): the command
itself stops, and the server ends with it. Once the imports are done, this module gives
SIGINT back its usual handler, which the server saves for the workers it forks
(:mod:`multiprocessing.forkserver` ignores SIGINT itself from then on and restores the saved
handler in each worker). It acts only where SIGINT is ignored, so importing it elsewhere does nothing.
"""

from __future__ import annotations

import signal

__all__: list[str] = []

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
