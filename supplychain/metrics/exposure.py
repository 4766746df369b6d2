r"""Exposure that counts unmet demand: what a country consumes, traced to the source, plus what it goes without.

The traced share of what *arrives* (:func:`~supplychain.engine.trace.traced_share`) is 0
when nothing from the source arrives, so on its own it reads a ban that starves a country as
"no exposure". The measures here count the tonnes a country goes without as exposed too.

For a country c and commodity k, the *consumption* edges are the flows of k into c's final
use (use nodes with a given demand) and into c's facilities (their inputs); material with
no known destination (surplus nodes), stock builds and unsold material are not consumption.
With :math:`f_e` the tonnes of consumption edge e, :math:`t(s_e)` the traced share of its
supplier node from the source, :math:`C = \sum_e f_e` the tonnes consumed and :math:`P` the
tonnes the country planned to consume — the same edges in the year's baseline, before any
shock —

.. math::

    U = \max(0, P - C), \qquad
    \text{exposed\_share} = \frac{\sum_e f_e\, t(s_e) + U}{\max(P, C)}, \qquad
    \text{secure\_share} = 1 - \text{exposed\_share}.

* With no shock (:math:`C = P`), ``exposed_share`` is the traced share of what the country
  consumes (the consumption-weighted traced share of the markets and suppliers it draws on).
* Under a full ban with nothing arriving, :math:`C = 0` and ``exposed_share`` is 1: every
  planned tonne is either from the source or not there.
* For final use, :math:`U` is the unmet demand (the shortfall after stocks). For an
  intermediate (a plant's input), :math:`U` is the fall of the country's consumption below
  its plan for any reason: an input that is not there, or a plant curtailed because another
  of its inputs is missing or its output is not bought (``docs/measures.md``).
* ``secure_share`` is the share of planned consumption that is met from outside the source.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["CONSUMING_KINDS", "consumption", "consumption_edges", "exposed_share", "exposure_shares"]

CONSUMING_KINDS = frozenset({"use", "facility"})
"""Kinds of buyer node whose inflow a country consumes (``docs/architecture.md``, node kinds)."""


def consumption_edges(edges: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Which edges deliver a country's consumption: their buyer is a use node or a facility.

    Examples
    --------
    >>> e = pd.DataFrame({"buyer": ["US:x:use", "plant", "US:x", "MY:x:surplus", "US:x:stock"]})
    >>> consumption_edges(e).tolist()
    [True, True, False, False, False]
    """
    from supplychain.graph.build import node_kind

    return np.array([node_kind(b) in CONSUMING_KINDS for b in edges["buyer"].astype(str)], dtype=bool)


def consumption(edges: pd.DataFrame) -> pd.DataFrame:
    """Tonnes consumed per buying country and commodity (:func:`consumption_edges`).

    Returns
    -------
    pandas.DataFrame
        ``country``, ``commodity``, ``tonnes``.
    """
    ce = edges.loc[consumption_edges(edges)]
    return pd.DataFrame({"country": ce["buyer_country"].astype(str).to_numpy(),
                         "commodity": ce["commodity"].astype(str).to_numpy(),
                         "tonnes": ce["tonnes"].to_numpy(dtype=float)})


def exposure_shares(
    consumed: pd.DataFrame,
    planned: pd.DataFrame | None = None,
) -> pd.DataFrame:
    r"""``exposed_share`` and ``secure_share`` per country and commodity (module docstring).

    Parameters
    ----------
    consumed : pandas.DataFrame
        One row per consumption edge after the response: ``country`` (the buyer's),
        ``commodity``, ``tonnes`` :math:`f_e` and ``traced`` :math:`t(s_e)`.
    planned : pandas.DataFrame, optional
        ``country``, ``commodity``, ``tonnes``: the baseline consumption :math:`P` (summed per
        country and commodity). Default: what is consumed (no shock).

    Returns
    -------
    pandas.DataFrame
        ``country``, ``commodity``, ``metric`` (``exposed_share`` / ``secure_share``), ``value``,
        for every country and commodity with :math:`\max(P, C) > 0`.

    Examples
    --------
    The US planned 100 t of magnets; after a ban 30 t arrive, 10 t of them traced to China:
    exposed = (10 + 70) / 100.

    >>> c = pd.DataFrame({"country": ["US", "US"], "commodity": ["mag", "mag"], "tonnes": [20.0, 10.0],
    ...                   "traced": [0.0, 1.0]})
    >>> p = pd.DataFrame({"country": ["US"], "commodity": ["mag"], "tonnes": [100.0]})
    >>> exposure_shares(c, p).set_index("metric")["value"].round(3).to_dict()
    {'exposed_share': 0.8, 'secure_share': 0.2}
    """
    from supplychain.metrics.trade import row_keys

    c_key = row_keys(consumed["country"], consumed["commodity"])
    use_plan = planned is not None and not planned.empty
    p_key = row_keys(planned["country"], planned["commodity"]) if use_plan and planned is not None else c_key[:0]
    both = np.concatenate([np.asarray(c_key, dtype=object), np.asarray(p_key, dtype=object)])
    keys, code = np.unique(both.astype(str), return_inverse=True)
    n, nc = len(keys), len(c_key)
    tonnes = consumed["tonnes"].to_numpy(dtype=float)
    cons = np.bincount(code[:nc], weights=tonnes, minlength=n)
    traced = np.bincount(code[:nc], weights=tonnes * consumed["traced"].to_numpy(dtype=float), minlength=n)
    plan = np.bincount(code[nc:], weights=planned["tonnes"].to_numpy(dtype=float), minlength=n) \
        if use_plan and planned is not None else cons
    exposed = exposed_share(traced, cons, plan)
    ok = ~np.isnan(exposed)
    split = np.array([k.split("\x1f") for k in keys[ok]], dtype=object).reshape(-1, 2)
    m = int(ok.sum())
    return pd.DataFrame({
        "country": np.tile(split[:, 0], 2),
        "commodity": np.tile(split[:, 1], 2),
        "metric": np.repeat(np.array(["exposed_share", "secure_share"], dtype=object), m),
        "value": np.concatenate([exposed[ok], 1.0 - exposed[ok]]),
    })


def exposed_share(traced: npt.ArrayLike, consumed: npt.ArrayLike, planned: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""``exposed_share`` from tonnes consumed traced to the source, consumed and planned (any leading axes).

    :math:`(\sum_e f_e t(s_e) + \max(0, P - C)) / \max(P, C)`, clipped to [0, 1]; NaN where
    :math:`\max(P, C) = 0` (module docstring).

    Examples
    --------
    >>> exposed_share([10.0, 0.0], [30.0, 0.0], [100.0, 0.0]).tolist()
    [0.8, nan]
    """
    tr, c, p = (np.asarray(x, dtype=np.float64) for x in (traced, consumed, planned))
    denom = np.maximum(p, c)
    ok = denom > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ok, (tr + np.maximum(0.0, p - c)) / np.where(ok, denom, 1.0), np.nan)
    return np.clip(out, 0.0, 1.0)
