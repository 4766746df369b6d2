"""Sums of edge tonnes per market (or any key), exactly as pandas adds them, without building frames.

The graph stage adds tonnes per market many times a year (allocation, the carried trade
pattern, the balance check). Those sums feed comparisons and the supply response's LP,
whose solution can move by more than rounding when its inputs do, so they are computed
the one way pandas' group sums compute them: in row order with Kahan's compensation
(Kahan 1965, "Further remarks on reducing truncation errors", *Comm. ACM* 8(1)).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["group_sums", "is_market", "subtract"]


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
