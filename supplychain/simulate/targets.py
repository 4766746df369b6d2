"""Targets checked per year against the measures.

A target such as "traced China share of US NdPr oxide ≤ 25 % by 2030" is
evaluated in every simulated year from ``by`` on (DOMAIN.md, "Policies and
deals"): the measure's value, the threshold, pass/fail and the margin, positive
when passing (``max − value`` for a ceiling, ``value − min`` for a floor).
A year without the measure is reported with ``status`` ``"no data"``, never
as a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from supplychain.schema.model import Target

__all__ = ["TARGET_COLUMNS", "evaluate_targets"]

TARGET_COLUMNS = [
    "target",
    "year",
    "country",
    "commodity",
    "metric",
    "source_country",
    "value",
    "bound",
    "threshold",
    "passed",
    "margin",
    "status",
    "variant",
]
"""Columns of the targets table."""


def evaluate_targets(
    targets: Mapping[str, Target],
    measures: pd.DataFrame,
    years: Iterable[int],
    *,
    variant: str | None = None,
) -> pd.DataFrame:
    """Evaluate each target in each year from its ``by`` year on.

    Parameters
    ----------
    targets : mapping of str to Target
        Targets by id.
    measures : pandas.DataFrame
        Tidy measures (``year``, ``country``, ``commodity``, ``metric``, ``value``,
        optionally ``source_country``).
    years : iterable of int
        Simulated years.
    variant : str, optional
        Variant label copied to every row.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TARGET_COLUMNS`; ``passed`` is True/False, or None with
        ``status`` "no data".

    Examples
    --------
    >>> t = Target(country="US", commodity="ndpr_oxide", max=0.25, by=2030)
    >>> m = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": ["ndpr_oxide"],
    ...                   "metric": ["traced_share"], "source_country": ["CN"], "value": [0.4]})
    >>> r = evaluate_targets({"t": t}, m, [2029, 2030]).iloc[0]
    >>> bool(r["passed"]), round(float(r["margin"]), 2), r["status"]
    (False, -0.15, 'fail')
    """
    rows: list[dict[str, Any]] = []
    years = sorted(years)
    aliases = {"direct_share": "direct_import_share"}
    has_src = "source_country" in measures.columns
    for tid, t in sorted(targets.items()):
        sel = (measures["country"] == t.country) & (measures["commodity"] == t.commodity) & (
            measures["metric"] == aliases.get(t.metric, t.metric)
        )
        if has_src and t.metric != "shortfall_share":
            sel &= measures["source_country"].fillna(t.source_country) == t.source_country
        m = measures.loc[sel]
        bound, threshold = ("max", t.max) if t.max is not None else ("min", t.min)
        assert threshold is not None
        for y in years:
            if y < t.by:
                continue
            vals = m.loc[m["year"] == y, "value"].to_numpy(dtype=float)
            vals = vals[np.isfinite(vals)]
            if vals.size == 0:
                value, passed, margin, status = np.nan, None, np.nan, "no data"
            else:
                value = float(vals.max() if bound == "max" else vals.min())
                margin = threshold - value if bound == "max" else value - threshold
                passed = bool(margin >= -1e-12)
                status = "pass" if passed else "fail"
            rows.append({
                "target": tid, "year": y, "country": t.country, "commodity": t.commodity, "metric": t.metric,
                "source_country": t.source_country, "value": value, "bound": bound, "threshold": threshold,
                "passed": passed, "margin": margin, "status": status, "variant": variant,
            })
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)
