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

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.metrics.trade import AC_RTOL, distinct_keys

__all__ = ["CONSUMING_KINDS", "consumption", "consumption_edges", "exposed_share", "exposure_arrays",
           "exposure_shares", "shortfall_share"]

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

    buyers = [str(b) for b in edges["buyer"].tolist()]
    return np.fromiter((node_kind(b) in CONSUMING_KINDS for b in buyers), dtype=bool, count=len(buyers))


def consumption(edges: pd.DataFrame) -> pd.DataFrame:
    """Tonnes consumed per buying country and commodity (:func:`consumption_edges`).

    Returns
    -------
    pandas.DataFrame
        ``country``, ``commodity``, ``tonnes``.
    """
    ce = consumption_edges(edges)
    return pd.DataFrame({"country": edges["buyer_country"].to_numpy()[ce].astype(str).astype(object),
                         "commodity": edges["commodity"].to_numpy()[ce].astype(str).astype(object),
                         "tonnes": edges["tonnes"].to_numpy(dtype=float)[ce]}, copy=False)


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
    country, commodity, exposed = exposure_arrays(consumed["country"].to_numpy(), consumed["commodity"].to_numpy(),
                                                  consumed["tonnes"].to_numpy(dtype=float),
                                                  consumed["traced"].to_numpy(dtype=float), planned)
    m = len(exposed)
    return pd.DataFrame({
        "country": np.tile(country, 2),
        "commodity": np.tile(commodity, 2),
        "metric": np.repeat(np.array(["exposed_share", "secure_share"], dtype=object), m),
        "value": np.concatenate([exposed, 1.0 - exposed]),
    })


def exposure_arrays(
    country: npt.ArrayLike,
    commodity: npt.ArrayLike,
    tonnes: npt.ArrayLike,
    traced: npt.ArrayLike,
    planned: pd.DataFrame | None = None,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[np.float64]]:
    r"""``exposed_share`` per country and commodity from the consumption edges' arrays.

    :func:`exposure_shares` on arrays: ``country, commodity, tonnes, traced`` per
    consumption edge, and the planned consumption (``country, commodity, tonnes``;
    None or empty: what is consumed).

    Returns
    -------
    country, commodity : numpy.ndarray of object (str)
        Every country and commodity with :math:`\max(P, C) > 0`, sorted.
    exposed : numpy.ndarray
        Their ``exposed_share`` (``secure_share`` is ``1 - exposed``).
    """
    plan_rows = planned if planned is not None and not planned.empty else None
    p_country = np.asarray([] if plan_rows is None else plan_rows["country"].to_numpy(), dtype=object)
    p_commodity = np.asarray([] if plan_rows is None else plan_rows["commodity"].to_numpy(), dtype=object)
    first, (code, p_code) = distinct_keys([country, p_country], [commodity, p_commodity])
    n = len(first)
    t = np.asarray(tonnes, dtype=np.float64)
    cons = np.bincount(code, weights=t, minlength=n)
    tr = np.bincount(code, weights=t * np.asarray(traced, dtype=np.float64), minlength=n)
    plan = cons if plan_rows is None else \
        np.bincount(p_code, weights=plan_rows["tonnes"].to_numpy(dtype=np.float64), minlength=n)
    exposed = exposed_share(tr, cons, plan)
    ok = ~np.isnan(exposed)
    texts = [np.concatenate([np.asarray(a, dtype=object), b]).astype(str)[first[ok]].astype(object)
             for a, b in ((country, p_country), (commodity, p_commodity))]
    return texts[0], texts[1], exposed[ok]


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


def shortfall_share(shortfall: npt.ArrayLike, demand: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""Share of demand left unmet, :math:`S = \mathrm{shortfall} / \mathrm{demand}`; NaN (``n/a``) without demand.

    The one implementation of ``shortfall_share``, per final-use node (the shortfall table of
    both supply responses) and for sums over nodes (a country's commodity in a year). Where the
    demand is zero up to round-off (:data:`~supplychain.metrics.trade.AC_RTOL` of at least 1 t:
    the round-off of the first-hop shares) nothing was asked for: the share of it left unmet is
    undefined, NaN and printed ``n/a`` — not 0 %, which would read "demand met"
    (``docs/measures.md``, "A share of nothing is n/a").

    Parameters
    ----------
    shortfall, demand : array_like
        Tonnes (any unit, both the same) short and asked for; any shape, broadcast together.

    Returns
    -------
    numpy.ndarray of float
        The share, NaN where there is no demand.

    Examples
    --------
    The US asks for 9,530 t of magnets and lacks 4,165 t; a use without demand in the year:

    >>> shortfall_share([4165.0, 0.0], [9530.0, 0.0]).round(4).tolist()
    [0.437, nan]
    """
    s, d = np.asarray(shortfall, dtype=np.float64), np.asarray(demand, dtype=np.float64)
    asked = d > AC_RTOL
    with np.errstate(divide="ignore", invalid="ignore"):
        out: npt.NDArray[np.float64] = np.where(asked, s / np.where(asked, d, 1.0), np.nan)
    return out
