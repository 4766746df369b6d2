"""Running a sweep's samples: what it may ask of the machine, and its chunks on an executor.

A sweep keeps every sample's inputs and measure values in memory (``8`` bytes a
value; while the chunks are assembled and the quantiles taken, about three copies
of the values). :func:`check_memory` refuses a sweep whose tables would take more
than :data:`MEMORY_SHARE` of the memory available now, before anything is drawn,
with the largest number of samples that would fit.

:func:`evaluate_samples` cuts the samples into contiguous chunks and sends
``(model, chunk)`` to the executor (in process, local worker processes or Dask); the
results are put back in sample order, keyed by the measure catalogue (sorted), so the
output is identical for any executor, worker count and chunk size.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from supplychain.errors import SupplyChainError
from supplychain.parallel.executors import (
    ExecutorLike,
    chunk_bounds,
    describe_executor,
    open_executor,
    parse_executor,
)
from supplychain.parallel.progress import ProgressLike, progress_bar
from supplychain.uncertainty.models import ATTRIBUTE_COLUMNS, ChunkResult, SweepModel, empty_catalogue, stack_raised

__all__ = ["MEMORY_SHARE", "SweepTooLargeError", "available_memory", "check_memory", "evaluate_samples"]

MEMORY_SHARE: Final = 0.5
"""Largest share of the available memory a sweep's tables may take."""

VALUE_BYTES: Final = 8
"""Bytes per stored value (float64)."""


class SweepTooLargeError(SupplyChainError, ValueError):
    """A sweep's tables would not fit in memory; the message says how many samples would."""


def available_memory() -> int | None:
    """Bytes of memory available to new allocations now (Linux ``MemAvailable``), or ``None`` when unknown."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def _size(n: float) -> str:
    """Bytes in words: ``_size(3 * 2**40) == '3.0 TB'``."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024:
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PB"


def check_memory(samples: int, values_per_sample: int, *, available: int | None = None) -> None:
    """Refuse a sweep whose tables would take more than :data:`MEMORY_SHARE` of the available memory.

    Parameters
    ----------
    samples : int
        Number of samples.
    values_per_sample : int
        Values kept per sample (inputs, and three copies of the measures while
        they are assembled and summarised).
    available : int, optional
        Bytes available (default: :func:`available_memory`; no check when unknown).

    Raises
    ------
    SweepTooLargeError
        Saying how much memory it would need and how many samples fit.

    Examples
    --------
    >>> check_memory(1000, 50, available=2**30)
    >>> check_memory(10**7, 30_000, available=16 * 2**30)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    supplychain.uncertainty.scheduling.SweepTooLargeError: 10,000,000 samples of 30,000 values need about 2.2 TB ...
    """
    free = available_memory() if available is None else available
    if free is None:
        return
    per_sample = max(values_per_sample, 1) * VALUE_BYTES
    need = samples * per_sample
    budget = free * MEMORY_SHARE
    if need <= budget:
        return
    fits = int(budget // per_sample)
    msg = (f"{samples:,} samples of {values_per_sample:,} values need about {_size(need)} of memory, more than "
           f"half of the {_size(free)} available; use at most {fits:,} samples, or fewer measures "
           "(--measure, --country, --commodity, --years)")  # fmt: skip
    raise SweepTooLargeError(msg)


_MODEL_CACHE: OrderedDict[str, SweepModel] = OrderedDict()
_MODEL_CACHE_SIZE = 4
_MODEL_LOCK = threading.Lock()


def _evaluate_chunk(model_key: str, blob: bytes, inputs: pd.DataFrame) -> ChunkResult:
    """Worker entry point: unpickle the model once per worker process, evaluate a chunk."""
    with _MODEL_LOCK:  # thread pools and threaded Dask workers share the cache
        model = _MODEL_CACHE.get(model_key)
        if model is None:
            model = pickle.loads(blob)  # produced by this package's driver
            _MODEL_CACHE[model_key] = model
            while len(_MODEL_CACHE) > _MODEL_CACHE_SIZE:
                _MODEL_CACHE.popitem(last=False)
        else:
            _MODEL_CACHE.move_to_end(model_key)
    return model.evaluate(inputs)


def _ever(present: np.ndarray) -> np.ndarray:
    """Measures present in any sample (``present`` is per cell, or already per measure)."""
    return np.asarray(present.any(axis=0) if present.ndim == 2 else present, dtype=bool)


@dataclass
class _Assembled:
    catalogue: pd.DataFrame
    values: np.ndarray
    seconds: float
    failed: dict[int, str]
    raised: pd.DataFrame | None


def _assemble(parts: Sequence[ChunkResult], n: int) -> _Assembled:
    """Merge chunk results: catalogue = sorted union of keys; rows in sample order."""
    failed: dict[int, str] = {}
    for p in parts:
        failed.update(p.failed)
    raised = stack_raised([p.raised for p in parts]) if parts else None
    non_empty = [p for p in parts if len(p.catalogue)]
    if not non_empty:
        return _Assembled(empty_catalogue(), np.full((n, 0), np.nan), sum(p.seconds for p in parts), failed,
                          raised)
    keys = [c for c in non_empty[0].catalogue.columns if c not in ATTRIBUTE_COLUMNS]
    shown: list[pd.DataFrame] = [
        p.catalogue if p.present is None else p.catalogue.iloc[np.flatnonzero(_ever(p.present))] for p in non_empty
    ]
    union: pd.DataFrame = pd.concat(shown, ignore_index=True).drop_duplicates(subset=keys)
    catalogue = union.sort_values(keys, kind="mergesort").reset_index(drop=True)
    catalogue.index.name = "measure"
    index = pd.MultiIndex.from_frame(catalogue[keys])
    values = np.full((n, len(catalogue)), np.nan)
    seconds = 0.0
    for p in parts:
        seconds += p.seconds
        if not len(p.samples) or not len(p.catalogue):
            continue
        cols = np.asarray(index.get_indexer(pd.MultiIndex.from_frame(p.catalogue[keys])), dtype=np.int64)
        kept = cols >= 0
        s0 = int(p.samples[0])
        contiguous = bool(np.array_equal(p.samples, np.arange(s0, s0 + len(p.samples))))
        if contiguous and kept.all() and np.array_equal(cols, np.arange(len(catalogue))):
            values[s0 : s0 + len(p.samples)] = p.values  # the common case: same measures in every chunk
        else:
            values[np.ix_(p.samples, cols[kept])] = p.values[:, kept]
    return _Assembled(catalogue, values, seconds, dict(sorted(failed.items())), raised)


def evaluate_samples(
    model: SweepModel,
    inputs: pd.DataFrame,
    *,
    executor: ExecutorLike = None,
    workers: int = 1,
    chunk_size: int | None = None,
    progress: ProgressLike = None,
    quiet: bool = False,
    description: str = "samples",
    evaluated: Sequence[ChunkResult] = (),
) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any], pd.DataFrame | None]:
    """Evaluate a sweep model on sample rows, in chunks, on an executor.

    Parameters
    ----------
    model : SweepModel
        Turns rows into measure values (pickled once and sent to workers).
    inputs : pandas.DataFrame
        Sample rows; the index must be ``0 … n−1`` (sample numbers).
    executor, workers, chunk_size
        See :mod:`supplychain.parallel.executors`.
    progress, quiet
        See :func:`~supplychain.parallel.progress.progress_bar`.
    description : str
        Progress bar label.
    evaluated : sequence of ChunkResult
        Rows already computed (e.g. the central run), numbered ``n``, ``n + 1`` …
        after the inputs; assembled with the others. Their computing time per sample sizes
        the chunks (:func:`~supplychain.parallel.executors.chunk_bounds`).

    Returns
    -------
    catalogue : pandas.DataFrame
        One row per measure, sorted by key.
    values : numpy.ndarray
        ``(n + rows evaluated, len(catalogue))``, row ``i`` is sample ``i``.
    info : dict
        ``executor``, ``chunks``, ``compute_seconds``, ``wall_seconds`` and
        ``failed`` (sample → reason, for models with ``on_error="nan"``).
    raised : pandas.DataFrame or None
        The rows' raised outputs (:data:`~supplychain.uncertainty.models.RAISED_COLUMNS`, in sample
        order; ``None`` when the model cannot tell: :attr:`ChunkResult.raised`). ``run_sweep`` keeps
        it as ``SweepResult.raised``; ``one_at_a_time`` and ``toggle_grid`` leave it (its rows would be
        their input rows, not samples).
    """
    n = len(inputs)
    if not inputs.index.equals(pd.RangeIndex(n)):
        inputs = inputs.reset_index(drop=True)
    spec = parse_executor(executor, workers)
    ran = sum(len(p.samples) for p in evaluated)
    cost = sum(p.seconds for p in evaluated) / ran if ran else None
    bounds = chunk_bounds(n, spec.workers, chunk_size, sample_seconds=cost)
    if spec.kind == "processes" and len(bounds) <= 1:  # one chunk: starting workers would only add their start-up
        spec = parse_executor(None, 1)
    t0 = time.perf_counter()
    parts: list[ChunkResult] = []
    with progress_bar(n, description, kind=progress, quiet=quiet) as bar, open_executor(spec) as ex:
        if spec.kind == "serial":
            for start, stop in bounds:
                parts.append(model.evaluate(inputs.iloc[start:stop]))
                bar.advance(stop - start)
        else:
            blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
            key = hashlib.sha256(blob).hexdigest()[:24]
            pending: dict[Future[ChunkResult], int] = {
                ex.submit(_evaluate_chunk, key, blob, inputs.iloc[start:stop]): stop - start for start, stop in bounds
            }
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        size = pending.pop(fut)
                        parts.append(fut.result())
                        bar.advance(size)
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
    wall = time.perf_counter() - t0
    assembled = _assemble([*parts, *evaluated], n + sum(len(p.samples) for p in evaluated))
    info = {
        "executor": describe_executor(spec),
        "chunks": len(bounds),
        "compute_seconds": assembled.seconds,
        "wall_seconds": wall,
        "failed": assembled.failed,
    }
    return assembled.catalogue, assembled.values, info, assembled.raised

