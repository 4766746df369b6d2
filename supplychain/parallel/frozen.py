"""Imported last by the fork server (:data:`~supplychain.parallel.processes.PRELOAD`): freezes what it imported.

:func:`gc.freeze` moves every object alive now (the preloaded modules: pandas, SciPy, pydantic,
the package) to the collector's permanent generation, so that no full collection, in the fork
server or in a worker forked from it, walks them again, as
:func:`~supplychain.cli.common.freeze_imports` does for a command's own process. In a worker the
first full collection came before its first task and walked them all (~0.06 s of CPU per worker
on ``compare scenarios/path_to_2030.yaml``), and wrote to every object's header, copying the
pages the fork had shared. Importing this module anywhere else freezes that process's objects
the same way, harmlessly.
"""

from __future__ import annotations

import gc

__all__: list[str] = []

gc.freeze()
