"""The public tables of a run: unit-neutral column names and each row's unit.

Quantities are in their commodity's unit (``kg Ga`` for gallium, ``t REO`` for
rare-earth oxides, :mod:`supplychain.schema.units`), so the tables of
:class:`~supplychain.api.Result` name quantity columns without a unit and carry a
``unit`` column (the commodity's basis) right after ``commodity``. The solver's
working tables (:class:`~supplychain.simulation.run.RunOutput`) keep their
internal names; :data:`PUBLIC_NAMES` is the one place that maps them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

__all__ = ["PUBLIC_NAMES", "public_table"]

PUBLIC_NAMES: Final[dict[str, dict[str, str]]] = {
    "flows": {"baseline_t": "baseline", "tonnes": "simulated", "change_t": "change", "cost_per_t": "cost_per_unit"},
    "shortfall": {"demand_t": "demand", "delivered_t": "delivered", "shortfall_t": "shortfall"},
    "utilisation": {"capacity_t": "capacity", "baseline_t": "baseline", "output_t": "output", "spare_t": "spare",
                    "curtailed_t": "curtailed", "unsold_t": "unsold"},
    "gainers": {"baseline_t": "baseline", "tonnes": "simulated", "gain_t": "gain"},
    "attribution": {"baseline_t": "baseline", "blocked_tonnes": "blocked", "cost_per_t": "cost_per_unit"},
    "stocks": {},
    "inactive": {"capacity_t": "capacity"},
    "raised": {"path_t": "path", "raised_t": "raised", "capacity_t": "capacity"},
    "offtakes": {"committed_t": "committed", "blocked_t": "blocked",
                 "can_make_t": "can_make", "floor_t": "floor", "cut_t": "cut"},
}
"""Per table of a run: internal column → public (unit-neutral) column."""


def public_table(name: str, table: pd.DataFrame, units: Mapping[str, str]) -> pd.DataFrame:
    """Rename a run table's quantity columns (:data:`PUBLIC_NAMES`) and add its ``unit`` column.

    Parameters
    ----------
    name : str
        Key of :data:`PUBLIC_NAMES`.
    table : pandas.DataFrame
        The table, with a ``commodity`` column.
    units : mapping
        Commodity → basis (:func:`~supplychain.schema.units.commodity_units`); ``t`` when unknown.

    Returns
    -------
    pandas.DataFrame
        The table's columns under their public names (not copies: the same arrays), plus ``unit``.

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2024], "country": ["US"], "commodity": ["gallium"], "demand_t": [20000.0],
    ...                   "delivered_t": [0.0], "shortfall_t": [20000.0]})
    >>> public_table("shortfall", t, {"gallium": "kg Ga"}).columns.tolist()
    ['year', 'country', 'commodity', 'unit', 'demand', 'delivered', 'shortfall']
    """
    names = PUBLIC_NAMES[name]
    out = table.copy(deep=False)  # a view of the run's columns (renaming a large table would copy them)
    out.columns = pd.Index([names.get(c, c) for c in table.columns], dtype=object)
    if "commodity" not in out.columns or "unit" in out.columns:
        return out
    unit = np.array([units.get(c, "t") for c in out["commodity"].astype(str).tolist()], dtype=object)
    out.insert(list(out.columns).index("commodity") + 1, "unit", unit)
    return out
