"""Units of measure of commodities: every quantity is in its commodity's unit.

A commodity's ``basis`` names what its quantities count, unit first: ``t REO``
(tonnes of rare-earth-oxide equivalent), ``kg Ga`` (kilograms of contained
gallium), ``t`` (tonnes of product). The first word is the unit of mass, one of
:data:`MASS_UNITS`; the rest says what is weighed. Every quantity of material in a
scenario — flows, demand, stocks, capacities, quotas, offtakes — is in the unit of
the commodity it is about, and every table that reports one carries a ``unit``
column holding the commodity's basis, so that 612,103 kg of gallium is never
printed as tonnes. Quantities on different bases are never added.

Keys of the scenario language that name tonnes (``tonnes``, ``tonnes_per_year``,
``price_usd_per_t`` …) have unit-neutral names (``quantity``, ``quantity_per_year``,
``price_usd_per_unit`` …): a ``t``-named key is still read for a commodity measured
in tonnes and refused for any other (``supplychain.schema.references.check_units``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from supplychain.schema.model import Scenario

__all__ = ["MASS_UNITS", "TONNES_PER", "basis_unit", "commodity_units"]

TONNES_PER: Final = {"t": 1.0, "kg": 1e-3, "g": 1e-6, "kt": 1e3, "Mt": 1e6}
"""Tonnes in one unit of each of :data:`MASS_UNITS`."""
MASS_UNITS: Final = tuple(TONNES_PER)
"""Units of mass a basis may start with (tonnes, kilograms, grams, thousand and million tonnes)."""


def basis_unit(basis: str) -> str:
    """Return the unit of mass a basis starts with.

    Parameters
    ----------
    basis : str
        A commodity's basis, e.g. ``"t REO"`` or ``"kg Ga"``.

    Returns
    -------
    str
        One of :data:`MASS_UNITS`.

    Raises
    ------
    ValueError
        When the first word is not a unit of :data:`MASS_UNITS`.

    Examples
    --------
    >>> basis_unit("t REO"), basis_unit("kg Ga"), basis_unit("t")
    ('t', 'kg', 't')
    >>> basis_unit("REO")
    Traceback (most recent call last):
    ...
    ValueError: basis 'REO' must start with a unit of mass (t, kg, g, kt or Mt), e.g. 't REO' or 'kg Ga'
    """
    first = basis.split(maxsplit=1)[0] if basis.strip() else ""
    if first not in MASS_UNITS:
        units = ", ".join(MASS_UNITS[:-1]) + f" or {MASS_UNITS[-1]}"
        msg = f"basis {basis!r} must start with a unit of mass ({units}), e.g. 't REO' or 'kg Ga'"
        raise ValueError(msg)
    return first


def commodity_units(scenario: Scenario, default: str = "t") -> Mapping[str, str]:
    """Commodity id → its basis, the ``unit`` column of every table of quantities.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "commodities": {
    ...     "ga": {"name": "Gallium", "stage": "oxide", "basis": "kg Ga"}, "ore": {"name": "Ore", "stage": "ore"}}})
    >>> dict(commodity_units(s))
    {'ga': 'kg Ga', 'ore': 't'}
    """
    return {k: c.basis or default for k, c in scenario.commodities.items()}
