"""Results of pure functions kept for their last inputs: what a sweep computes again sample after sample.

A sweep simulates every sample from scratch, and much of a sample's work has the same
inputs as the last sample's: a network's structure (which edges exist, its text columns)
changes far less often than its tonnes, and a commodity whose inputs no sampled quantity
touches gives the same numbers in every sample. :class:`Memo` keeps a pure function's
results keyed on its inputs themselves (compared in full, never a digest or a guess), so a
hit is the result the function would give.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np
from scipy import sparse

__all__ = ["Memo", "read_only"]

_V = TypeVar("_V")
_T = TypeVar("_T")


class Memo(Generic[_V]):
    """The results of the last ``size`` keys (least recently used dropped first); thread-safe.

    The key must hold every input of the result (equal keys: equal results). The results are
    shared between callers, so the arrays they hold are made read-only (:func:`read_only`, which
    says what it covers): a caller that writes into one gets an error, not a wrong answer in the
    next sample.

    Examples
    --------
    >>> calls = []
    >>> memo = Memo[int](2)
    >>> def square(x):
    ...     calls.append(x)
    ...     return x * x
    >>> [memo.get(x, lambda: square(x)) for x in (3, 3, 4, 5, 3)]
    [9, 9, 16, 25, 9]
    >>> calls  # 3 was computed again after 4 and 5 took its place
    [3, 4, 5, 3]
    >>> kept = Memo[np.ndarray](1).get("k", lambda: np.zeros(2))
    >>> kept[0] = 1.0
    Traceback (most recent call last):
    ...
    ValueError: assignment destination is read-only
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], _V]) -> _V:
        """Return the result kept for ``key``, else ``compute()`` (then kept)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = read_only(compute())
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Drop every kept result."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def read_only(value: _T) -> _T:
    """Mark the arrays ``value`` holds read-only, and return ``value`` (the same object).

    Covered: numpy arrays, SciPy sparse matrices and arrays (their ``data``, ``indices``,
    ``indptr``), and these inside dataclass fields, tuples, lists and dict values, at any depth.
    Not covered: what an object computes later (a ``functools.cached_property`` filled after
    the result was kept) and other mutable objects; those are shared as they are.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> m = read_only((np.zeros(2), sp.csr_matrix(np.eye(2))))
    >>> m[0].flags.writeable, m[1].data.flags.writeable
    (False, False)
    """
    _freeze(value, set())
    return value


def _freeze(value: object, seen: set[int]) -> None:
    """Mark the arrays of ``value`` read-only (:func:`read_only`), each object once."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif sparse.issparse(value):
        for name in ("data", "indices", "indptr"):
            part = getattr(value, name, None)
            if isinstance(part, np.ndarray):
                part.flags.writeable = False
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _freeze(getattr(value, f.name), seen)
    elif isinstance(value, tuple | list):
        for item in value:
            _freeze(item, seen)
    elif isinstance(value, dict):
        for item in value.values():
            _freeze(item, seen)
