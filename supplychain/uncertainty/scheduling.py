"""Chunk scheduling: evaluate a sweep model on sample rows, in chunks, on an executor.

The samples are cut into contiguous chunks and ``(model, chunk)`` is sent to the
executor (in process, local worker processes or Dask); the results are put back
in sample order, keyed by the measure catalogue (sorted), so the output is
identical for any executor, worker count and chunk size.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from supplychain.uncertainty.executors import (
    ExecutorLike,
    chunk_bounds,
    describe_executor,
    open_executor,
    parse_executor,
)
from supplychain.uncertainty.models import ATTRIBUTE_COLUMNS, ChunkResult, SweepModel, empty_catalogue
from supplychain.uncertainty.progress import ProgressLike, progress_bar

__all__ = ["evaluate_samples"]

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


def _assemble(parts: Sequence[ChunkResult], n: int) -> _Assembled:
    """Merge chunk results: catalogue = sorted union of keys; rows in sample order."""
    failed: dict[int, str] = {}
    for p in parts:
        failed.update(p.failed)
    non_empty = [p for p in parts if len(p.catalogue)]
    if not non_empty:
        return _Assembled(empty_catalogue(), np.full((n, 0), np.nan), sum(p.seconds for p in parts), failed)
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
    return _Assembled(catalogue, values, seconds, dict(sorted(failed.items())))


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
) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any]]:
    """Evaluate a sweep model on sample rows, in chunks, on an executor.

    Parameters
    ----------
    model : SweepModel
        Turns rows into measure values (pickled once and sent to workers).
    inputs : pandas.DataFrame
        Sample rows; the index must be ``0 … n−1`` (sample numbers).
    executor, workers, chunk_size
        See :mod:`supplychain.uncertainty.executors`.
    progress, quiet
        See :func:`~supplychain.uncertainty.progress.progress_bar`.
    description : str
        Progress bar label.
    evaluated : sequence of ChunkResult
        Rows already computed (e.g. the central run), numbered ``n``, ``n + 1`` …
        after the inputs; assembled with the others.

    Returns
    -------
    catalogue : pandas.DataFrame
        One row per measure, sorted by key.
    values : numpy.ndarray
        ``(n + rows evaluated, len(catalogue))``, row ``i`` is sample ``i``.
    info : dict
        ``executor``, ``chunks``, ``compute_seconds``, ``wall_seconds`` and
        ``failed`` (sample → reason, for models with ``on_error="nan"``).
    """
    n = len(inputs)
    if not inputs.index.equals(pd.RangeIndex(n)):
        inputs = inputs.reset_index(drop=True)
    spec = parse_executor(executor, workers)
    bounds = chunk_bounds(n, spec.workers, chunk_size)
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
    return assembled.catalogue, assembled.values, info

