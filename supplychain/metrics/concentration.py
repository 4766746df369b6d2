"""Concentration: Herfindahl–Hirschman index and top-k shares.

docs/domain.md, "Measures of exposure", item 5: the Herfindahl–Hirschman index of
supplier shares, on *percentage* shares (0–10 000), and the top-1 / top-3 share,

    HHI = Σ_i (100 · s_i)²,   s_i = x_i / Σ_j x_j,

for world production of a stage (per commodity, by producing country) and for a
country's sourcing (its supply by partner: domestic production counted as the
country itself, plus imports by partner).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "group_concentration",
]


def group_concentration(values: npt.ArrayLike, group: npt.ArrayLike, n_groups: int) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """HHI, top-1 and top-3 share and total of every group of quantities (any leading axes).

    With a group's shares ``s_i = x_i / Σ_j x_j``: ``HHI = Σ_i (100 · s_i)²`` (0–10 000,
    10 000 for a single supplier) and the top-k share the sum of its k largest ``s_i``;
    every group at once.

    Parameters
    ----------
    values : array_like, shape (..., n)
        Non-negative quantities (e.g. tonnes per partner; a leading sample axis allowed).
    group : array_like of int, shape (n,)
        Group of each quantity, ascending (each group's members contiguous).
    n_groups : int
        Number of groups.

    Returns
    -------
    hhi, top1, top3, total : numpy.ndarray, shape (..., n_groups)
        0 where a group's total is not positive.

    Examples
    --------
    >>> h, t1, t3, tot = group_concentration([50.0, 30.0, 20.0, 5.0], [0, 0, 0, 1], 2)
    >>> h.tolist(), t1.tolist(), t3.tolist(), tot.tolist()
    ([3800.0, 10000.0], [0.5, 1.0], [1.0, 1.0], [100.0, 5.0])
    """
    x = np.asarray(values, dtype=np.float64)
    g = np.asarray(group, dtype=np.int64)
    size = np.bincount(g, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    width = int(size.max()) if size.size else 0
    slot = np.arange(width)
    valid = slot[None, :] < size[:, None]
    padded = np.where(valid, x[..., np.where(valid, start[:, None] + slot[None, :], 0)], 0.0)
    total = padded.sum(axis=-1)
    ok = total > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(ok[..., None], padded / np.where(ok, total, 1.0)[..., None], 0.0)
    ranked = -np.sort(-shares, axis=-1)
    h = np.minimum(10_000.0, np.sum((100.0 * shares) ** 2, axis=-1))
    top1 = np.minimum(1.0, ranked[..., :1].sum(axis=-1))
    top3 = np.minimum(1.0, ranked[..., :3].sum(axis=-1))
    return h, top1, top3, total
