"""Sums of edge tonnes per market (or any key), exactly as pandas adds them, without building frames.

The graph stage adds tonnes per market many times a year (allocation, the carried trade
pattern, the balance check). Those sums feed comparisons and the supply response's LP,
whose solution can move by more than rounding when its inputs do, so they are computed
the one way pandas' group sums compute them: in row order with Kahan's compensation
(Kahan 1965, "Further remarks on reducing truncation errors", *Comm. ACM* 8(1)).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Groups", "group_sums", "is_market", "segments", "subtract"]


def group_sums(keys: Iterable[Hashable], values: Iterable[float]) -> dict[Any, float]:
    """Sum ``values`` per key, in order, with Kahan's compensation (the summation of pandas' group sums).

    Keys come out in order of first appearance; NaN values are skipped (a key with only NaN
    values sums to 0), as in pandas.

    Examples
    --------
    >>> group_sums(["a", "b", "a"], [1.0, 2.0, 3.0])
    {'a': 4.0, 'b': 2.0}
    >>> group_sums(["x"] * 3, [1.0, 1e100, -1e100])  # pandas' group sum gives the same
    {'x': 0.0}
    >>> group_sums(["x", "y"], [float("nan"), 2.0])
    {'x': 0.0, 'y': 2.0}
    """
    groups: dict[Any, list[float]] = {}
    for k, v in zip(keys, values, strict=True):
        groups.setdefault(k, []).append(v)
    return {k: _kahan(vs) for k, vs in groups.items()}


def _kahan(values: list[float]) -> float:
    """Sum in order with Kahan's compensation, NaN skipped; an infinite value leaves no compensation (as pandas)."""
    s = c = 0.0
    for v in values:
        if v != v:  # NaN: skipped
            continue
        y = v - c
        t = s + y
        c = t - s - y
        if c != c:  # an infinite value: no compensation (NaN), as pandas
            c = 0.0
        s = t
    return s


def subtract(a: Mapping[Any, float], b: Mapping[Any, float]) -> dict[Any, float]:
    """Return ``a − b`` over the union of keys, sorted (a missing key is 0, as ``Series.sub(fill_value=0)``).

    Examples
    --------
    >>> subtract({"b": 5.0, "a": 1.0}, {"a": 2.0, "c": 1.0})
    {'a': -1.0, 'b': 5.0, 'c': -1.0}
    """
    return {k: a.get(k, 0.0) - b.get(k, 0.0) for k in sorted(set(a) | set(b))}


def is_market(nodes: Sequence[Any] | npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Whether each node id is a market (``"{country}:{commodity}"``: exactly one ``:``).

    Examples
    --------
    >>> is_market(["mine", "AU:ore", "AU:ore:use"]).tolist()
    [False, True, False]
    """
    return np.array([str(v).count(":") == 1 for v in nodes], dtype=bool)


def segments(sorted_keys: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Start of each run of equal keys and the key of each run (for ``reduceat``)."""
    if not len(sorted_keys):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_keys)) + 1)).astype(np.int64)
    return starts, np.asarray(sorted_keys[starts], dtype=np.int64)


@dataclass(frozen=True)
class Groups:
    """Sums (or minima) of item columns into groups (``group[i] = -1``: item in no group).

    Each row of a ``(samples, items)`` array is reduced on its own, so a result does not
    depend on how many rows are reduced at once (a sweep's results do not depend on its
    chunking).

    Examples
    --------
    >>> g = Groups.of(np.array([1, -1, 1, 0]), 3)
    >>> g.sum(np.array([[1.0, 2.0, 3.0, 4.0]])).tolist()
    [[4.0, 4.0, 0.0]]
    >>> g.min(np.array([[1.0, 2.0, 3.0, 4.0]])).tolist()
    [[4.0, 1.0, inf]]
    """

    order: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int64]
    targets: npt.NDArray[np.int64]
    n: int

    @classmethod
    def of(cls, group: npt.ArrayLike, n: int) -> Groups:
        """Prepare the reductions into ``n`` groups of items whose group is ``group`` (−1: none)."""
        g = np.asarray(group, dtype=np.int64)
        keep = np.flatnonzero(g >= 0)
        order = keep[np.argsort(g[keep], kind="stable")]
        starts, targets = segments(g[order])
        return cls(order, starts, targets, n)

    def sum(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Sum the item columns of ``x`` (samples × items) into the group columns (samples × ``n``; 0 if empty)."""
        out = np.zeros((x.shape[0], self.n))
        if len(self.order):
            out[:, self.targets] = np.add.reduceat(x[:, self.order], self.starts, axis=1)
        return out

    def min(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Smallest item column of ``x`` per group (samples × ``n``; ``inf`` if empty)."""
        out = np.full((x.shape[0], self.n), np.inf)
        if len(self.order):
            out[:, self.targets] = np.minimum.reduceat(x[:, self.order], self.starts, axis=1)
        return out
