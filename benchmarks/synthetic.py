"""Synthetic layered supply networks for benchmarking the exposure engine.

A network is emitted directly as arrays (and, on request, as node/edge tables) with
numpy — no YAML, no scenario — so that a million nodes take a second to make:

* ``n_stages`` stages of equal size (ore → … → product); stage 0 nodes are primary
  producers (``primary > 0``, no inflows), and a few later nodes (``later_primary``)
  have some local production too;
* every node of a later stage draws from suppliers so that the network has
  ``suppliers_per_node × n_nodes`` edges in all (about 19 per buyer with 6 stages);
  a supplier is a random node of the previous stage, or — with probability
  ``reexport_share`` — a random other node of the *same* stage (a re-export), which
  closes loops inside a stage;
* every node sits in one of ``n_countries`` countries drawn from a Zipf-like law
  (country 0 is the largest producer, the "China" of the benchmark);
* tonnes are log-normal.

Example::

    from benchmarks.synthetic import layered_network
    net = layered_network(100_000, reexport_share=0.1, seed=1)
    net.src, net.dst, net.tonnes, net.primary, net.country
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["SyntheticNetwork", "layered_network"]


@dataclass(frozen=True)
class SyntheticNetwork:
    """A layered network as arrays (node numbers ``0 … n_nodes − 1``)."""

    n_nodes: int
    src: npt.NDArray[np.int64]
    dst: npt.NDArray[np.int64]
    tonnes: npt.NDArray[np.float64]
    primary: npt.NDArray[np.float64]
    country: npt.NDArray[np.int64]
    stage: npt.NDArray[np.int64]
    n_countries: int

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.src)

    def node_table(self) -> pd.DataFrame:
        """Node table with string ids ``n<i>`` and country codes ``C<k>`` (contract columns used by the engine)."""
        ids = np.char.add("n", np.arange(self.n_nodes).astype(str))
        return pd.DataFrame({"node": ids, "country": np.char.add("C", self.country.astype(str)),
                             "stage": self.stage, "primary": self.primary})

    def edge_table(self) -> pd.DataFrame:
        """Edge table with string node ids (``supplier``, ``buyer``, ``tonnes``, ``edge``)."""
        ids = np.char.add("n", np.arange(self.n_nodes).astype(str))
        return pd.DataFrame({"edge": np.char.add("e", np.arange(self.n_edges).astype(str)),
                             "supplier": ids[self.src], "buyer": ids[self.dst], "tonnes": self.tonnes})


def layered_network(
    n_nodes: int = 100_000,
    *,
    n_stages: int = 6,
    suppliers_per_node: float = 16.0,
    reexport_share: float = 0.0,
    n_countries: int = 250,
    later_primary: float = 0.05,
    seed: int = 0,
) -> SyntheticNetwork:
    """Make a layered network (module docstring).

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    n_stages : int
        Number of stages (stage 0 = primary producers).
    suppliers_per_node : float
        Edges per node over the whole network.
    reexport_share : float
        Share of edges drawn inside a stage (0 = acyclic).
    n_countries : int
        Number of countries.
    later_primary : float
        Share of later-stage nodes with some local primary production.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SyntheticNetwork
    """
    rng = np.random.default_rng(seed)
    stage = (np.arange(n_nodes, dtype=np.int64) * n_stages) // n_nodes
    bounds = np.searchsorted(stage, np.arange(n_stages + 1))
    first_buyer = int(bounds[1])
    n_edges = round(suppliers_per_node * n_nodes)
    dst = np.sort(rng.integers(first_buyer, n_nodes, n_edges, dtype=np.int64))
    s_dst = stage[dst]
    lo_prev, hi_prev = bounds[s_dst - 1], bounds[s_dst]
    src = lo_prev + (rng.random(n_edges) * (hi_prev - lo_prev)).astype(np.int64)
    if reexport_share > 0:
        re = rng.random(n_edges) < reexport_share
        lo_same, hi_same = bounds[s_dst[re]], bounds[s_dst[re] + 1]
        cand = lo_same + (rng.random(int(re.sum())) * (hi_same - lo_same)).astype(np.int64)
        cand = np.where(cand == dst[re], np.where(cand + 1 < hi_same, cand + 1, lo_same), cand)
        src[re] = cand
    tonnes = rng.lognormal(0.0, 1.0, n_edges)
    weights = 1.0 / np.arange(1, n_countries + 1) ** 1.1
    country = rng.choice(n_countries, size=n_nodes, p=weights / weights.sum()).astype(np.int64)
    primary = np.zeros(n_nodes)
    primary[:first_buyer] = rng.lognormal(0.0, 1.0, first_buyer) * suppliers_per_node
    later = np.flatnonzero((stage > 0) & (rng.random(n_nodes) < later_primary))
    primary[later] = rng.lognormal(0.0, 1.0, len(later))
    return SyntheticNetwork(n_nodes, src, dst, tonnes, primary, country, stage, n_countries)
