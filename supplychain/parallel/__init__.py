"""Where work runs: worker processes, executors and progress bars, for sweeps, ``compare`` and reports.

* :mod:`~supplychain.parallel.processes` — how local worker processes start (a fork server
  with the package preloaded), importable before the package so a command can start it early;
* :mod:`~supplychain.parallel.executors` — in process, local worker processes or a Dask
  cluster behind one :class:`concurrent.futures.Executor` interface, and
  :func:`~supplychain.parallel.executors.map_in_order` for a few large tasks (a report's
  scenarios, ``compare``'s groups of variants);
* :mod:`~supplychain.parallel.progress` — progress bars (rich in a terminal, tqdm in a notebook).

Nothing is imported here, so that ``supplychain.parallel.processes`` stays free of the
package's heavy imports.
"""
