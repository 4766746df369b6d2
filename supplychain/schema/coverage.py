r"""What share of a commodity's flows a ``covers:`` selector covers.

A policy (or agreement) covers material through a :class:`~supplychain.schema.model.Selector`
whose axes combine with AND: ``commodities``, ``families``, ``stages`` and ``elements``.
A commodity passing every axis is covered at a share :math:`c_k \in [0, 1]`:

* :math:`c_k` = ``coverage[k]`` when the selector declares one for the commodity;
* else 1 when no element list is given, or when the commodity carries only listed
  elements (``dy_oxide`` under ``elements: [Dy, Tb]``);
* else — the commodity carries a listed element *and* others, as NdFeB magnets carry
  Nd, Pr, Fe and B besides Dy and Tb — it is covered only at a declared share: an
  element list does not tell what part of a mixed aggregate an export-control list
  reaches, so the share must be written down (sourced, or an assumption).
  :func:`undeclared` lists such commodities; ``supplychain validate`` reports them
  and :func:`coverage_share` counts them as 0 (not covered) until a share is given.

A policy's blocked share on an edge of commodity *k* is then :math:`c_k \, b`
(its other effects — taxes, quota weights — likewise), so a control of Sm, Gd, Tb,
Dy, Lu, Sc and Y blocks only the part of a lanthanum/cerium-dominated oxide
aggregate that those elements make up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from supplychain.schema.model import Commodity, Scenario, Selector

__all__ = ["coverage_lines", "coverage_share", "covered_commodities", "matches", "undeclared"]


def matches(sel: Selector, commodity_id: str, commodity: Commodity | None, stage: str | None = None) -> bool:
    """Tell whether a commodity passes every axis of the selector (share aside).

    Parameters
    ----------
    sel : Selector
        What a policy or agreement covers; empty lists do not restrict.
    commodity_id : str
        The commodity.
    commodity : Commodity or None
        Its definition (family, elements, stage); ``None`` when unknown.
    stage : str, optional
        Stage to use when ``commodity`` is unknown (an edge table's ``stage``).

    Examples
    --------
    >>> dy = Commodity(name="Dy oxide", stage="oxide", family="rare_earths", elements=["Dy"])
    >>> matches(Selector(elements=["Dy", "Tb"]), "dy_oxide", dy)
    True
    >>> matches(Selector(families=["rare_earths"], stages=["metal"]), "dy_oxide", dy)
    False
    """
    if sel.commodities and commodity_id not in sel.commodities:
        return False
    st = commodity.stage if commodity is not None else stage
    if sel.stages and st not in sel.stages:
        return False
    if sel.families and (commodity is None or commodity.family not in sel.families):
        return False
    return not (sel.elements and (commodity is None or not set(sel.elements) & set(commodity.elements)))


def _partial(sel: Selector, commodity: Commodity | None) -> bool:
    """Whether an element list reaches only part of the commodity (it carries unlisted elements too)."""
    return bool(sel.elements) and commodity is not None and not set(commodity.elements) <= set(sel.elements)


def coverage_share(sel: Selector, commodity_id: str, commodity: Commodity | None, stage: str | None = None) -> float:
    """Share of the commodity's flows the selector covers (module docstring).

    Examples
    --------
    >>> magnet = Commodity(name="NdFeB", stage="magnet", elements=["Nd", "Pr", "Dy", "Tb", "Fe", "B"])
    >>> dy = Commodity(name="Dy oxide", stage="oxide", elements=["Dy"])
    >>> sel = Selector(elements=["Dy", "Tb"])
    >>> coverage_share(sel, "dy_oxide", dy), coverage_share(sel, "magnet", magnet)
    (1.0, 0.0)
    >>> coverage_share(Selector(elements=["Dy", "Tb"], coverage={"magnet": 0.4}), "magnet", magnet)
    0.4
    """
    if not matches(sel, commodity_id, commodity, stage):
        return 0.0
    declared = sel.coverage.get(commodity_id)
    if declared is not None:
        return declared.central
    return 0.0 if _partial(sel, commodity) else 1.0


def undeclared(sel: Selector, commodities: Mapping[str, Commodity]) -> list[str]:
    """Commodities an element list reaches only in part and whose share the selector does not declare.

    Examples
    --------
    >>> magnet = Commodity(name="NdFeB", stage="magnet", elements=["Nd", "Dy"])
    >>> undeclared(Selector(elements=["Dy"]), {"magnet": magnet})
    ['magnet']
    """
    return sorted(k for k, c in commodities.items()
                  if matches(sel, k, c) and _partial(sel, c) and k not in sel.coverage)


def covered_commodities(sel: Selector, commodities: Mapping[str, Commodity]) -> dict[str, float]:
    """Commodity id → covered share, for every commodity covered at a share above 0 (sorted by id).

    Examples
    --------
    >>> ore = Commodity(name="Ore", stage="ore", family="rare_earths")
    >>> ga = Commodity(name="Gallium", stage="oxide", family="gallium", basis="kg Ga")
    >>> covered_commodities(Selector(families=["rare_earths"]), {"ore": ore, "ga": ga})
    {'ore': 1.0}
    """
    shares = {k: coverage_share(sel, k, c) for k, c in sorted(commodities.items())}
    return {k: v for k, v in shares.items() if v > 0}


def _share_text(sel: Selector, commodity: str, share: float) -> str:
    """Say a covered commodity and its share as tables do (:func:`~supplychain.report.numbers.format_percent`).

    Examples
    --------
    >>> _share_text(Selector(families=["rare_earths"]), "ore", 1.0), _share_text(Selector(), "dy", 0.004)
    ('ore 100%', 'dy <1%')
    """
    from supplychain.report.numbers import format_percent

    declared = sel.coverage.get(commodity)
    text = f"{commodity} {format_percent(share)}"
    if declared is None:
        return text
    why = declared.source if declared.source else ("assumption" if declared.assumption else "uncited")
    return f"{text} [{why}]"


def coverage_lines(scenario: Scenario, policies: Iterable[str] | None = None) -> list[str]:
    """One line per policy: what it covers and at what share (``validate --explain``, ``run``'s header).

    A declared share shows where it comes from, ``[<source id>]`` or ``[assumption]``.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "commodities": {
    ...     "dy": {"name": "Dy oxide", "stage": "oxide", "elements": ["Dy"]},
    ...     "magnet": {"name": "NdFeB", "stage": "magnet", "elements": ["Nd", "Dy"]}},
    ...     "policies": {"no18": {"type": "export_licensing", "country": "CN", "start": "2025-04-04",
    ...         "share_approved": 0.75, "covers": {"elements": ["Dy"], "coverage": {
    ...             "magnet": {"value": 0.3, "assumption": "grades with Dy"}}}}}})
    >>> coverage_lines(s)
    ['no18 (export_licensing by CN from 2025-04-04): dy 100%, magnet 30% [assumption]']
    """
    wanted = set(policies) if policies is not None else None
    lines = []
    for pid, pol in sorted(scenario.policies.items()):
        if wanted is not None and pid not in wanted:
            continue
        shares = covered_commodities(pol.covers, scenario.commodities)
        period = f"from {pol.start.isoformat()}" + (f" to {pol.end.isoformat()}" if pol.end else "")
        what = ", ".join(_share_text(pol.covers, k, v) for k, v in shares.items()) or "nothing"
        lines.append(f"{pid} ({pol.type} by {pol.country} {period}): {what}")
    return lines
