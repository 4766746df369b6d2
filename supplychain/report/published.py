"""Published figures the bundled world in ``scenarios/`` must reproduce.

:data:`PUBLISHED_CHECKS` holds the checks as data, so the test suite
(``tests/test_bundled_world.py``) and the report generator
(:mod:`supplychain.report.scenario_results`) use the same list: each
:class:`Check` has an id, what is compared, the published figure and its source,
the tolerance and a function of the measures table
(:func:`supplychain.metrics.measures.compute_measures` of
``scenarios/baseline_2024.yaml`` in :data:`YEAR`, exposure to :data:`SOURCE`)
that computes the model's figure. The figures and where they were read are in
``scenarios/world/sources.yaml`` and ``shared/data/`` (USGS MCS 2025 unless stated).

Examples
--------
>>> import pandas as pd
>>> m = pd.DataFrame({"country": ["US", "US", "CN"], "commodity": ["x", "x", "x"],
...                   "metric": ["import_share", "import_share", "traced_share"],
...                   "partner": ["CN", "MY", None], "value": [0.7, 0.3, 1.0]})
>>> value(m, "US", "x", "import_share", "CN")
0.7
>>> m = pd.concat([m, pd.DataFrame({"country": ["MY"], "commodity": ["x"], "metric": ["traced_share"],
...                                 "partner": [None], "value": [0.5]})], ignore_index=True)
>>> round(traced_share_of_imports(m, "US", "x"), 4)
0.85
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pandas as pd

__all__ = [
    "BASELINE_FILE",
    "PUBLISHED_CHECKS",
    "SOURCE",
    "YEAR",
    "Check",
    "CheckResult",
    "evaluate",
    "traced_share_of_imports",
    "value",
]

BASELINE_FILE: Final = "baseline_2024.yaml"
"""The scenario file (in ``scenarios/``) the checks are computed on."""
YEAR: Final = 2024
"""The year of the measures table the checks read."""
SOURCE: Final = "CN"
"""The country exposure is measured to."""


def value(m: pd.DataFrame, country: str, commodity: str, metric: str, partner: str = "") -> float:
    """Return the single value of a metric (NaN allowed) for a country, commodity and partner.

    Parameters
    ----------
    m : pandas.DataFrame
        Measures table with ``country``, ``commodity``, ``metric``, ``partner`` and ``value``.
    country, commodity, metric : str
        The row's keys.
    partner : str, optional
        The partner country (``""`` for rows without one, the default).

    Returns
    -------
    float
        The value (may be NaN).

    Raises
    ------
    LookupError
        Not exactly one row matches.
    """
    rows = m.loc[m["country"].eq(country) & m["commodity"].eq(commodity) & m["metric"].eq(metric)
                 & m["partner"].fillna("").eq(partner)]
    if len(rows) != 1:
        msg = f"expected one {metric} row for {country} {commodity} {partner!r}, got {len(rows)}"
        raise LookupError(msg)
    return float(rows["value"].iloc[0])


def traced_share_of_imports(m: pd.DataFrame, country: str, commodity: str) -> float:
    """Compute the traced China share of a country's imports: Σ_p import_share(p) · traced_share(p's market).

    Parameters
    ----------
    m : pandas.DataFrame
        Measures table (see :func:`value`).
    country, commodity : str
        The importer and the commodity.

    Returns
    -------
    float
        The import-weighted traced share of the partners' markets (0 without imports).

    Raises
    ------
    LookupError
        A partner has no single ``traced_share`` row.
    """
    shares = m.loc[m["country"].eq(country) & m["commodity"].eq(commodity) & m["metric"].eq("import_share")]
    partners = shares["partner"].astype(str).tolist()
    weights = shares["value"].astype(float).tolist()
    return float(sum(w * value(m, p, commodity, "traced_share") for p, w in zip(partners, weights, strict=True)))


@dataclass(frozen=True)
class Check:
    """A published figure and how to compute it from the 2024 measures table.

    Attributes
    ----------
    id : str
        Short identifier (test id).
    what : str
        What is compared, in words.
    published : float
        The published figure (a share).
    source : str
        Where it was published.
    tolerance : float
        Absolute tolerance on the share.
    compute : callable
        The model's figure from the measures table.
    """

    id: str
    what: str
    published: float
    source: str
    tolerance: float
    compute: Callable[[pd.DataFrame], float]


PUBLISHED_CHECKS: tuple[Check, ...] = (
    Check("a_china_mine_share",
          "China's share of world rare-earth mine production 2024 (of the country rows, 393,950 t)",
          270_000 / 393_950, "USGS MCS 2025 (rows as published)", 1e-6,
          lambda m: value(m, "WORLD", "ree_concentrate", "top1_share")),
    Check("a_china_mine_share_rounded_total",
          "China's share of world mine production 2024, USGS rounded world total 390,000 t",
          270_000 / 390_000, "USGS MCS 2025 (270,000 / 390,000)", 0.01,
          lambda m: value(m, "WORLD", "ree_concentrate", "top1_share")),
    Check("b_us_nir_compounds",
          "US net import reliance, rare-earth compounds and metals 2024",
          0.80, "USGS MCS 2025 (80%)", 0.005,
          lambda m: value(m, "US", "ree_compounds", "net_import_reliance")),
    Check("c_us_import_share_cn", "US import share from China, compounds and metals",
          0.70, "USGS MCS 2025 import sources 2020-23", 1e-9,
          lambda m: value(m, "US", "ree_compounds", "import_share", "CN")),
    Check("c_us_import_share_my", "US import share from Malaysia, compounds and metals",
          0.13, "USGS MCS 2025 import sources 2020-23", 1e-9,
          lambda m: value(m, "US", "ree_compounds", "import_share", "MY")),
    Check("c_us_import_share_jp", "US import share from Japan, compounds and metals",
          0.06, "USGS MCS 2025 import sources 2020-23", 1e-9,
          lambda m: value(m, "US", "ree_compounds", "import_share", "JP")),
    Check("c_us_import_share_ee", "US import share from Estonia, compounds and metals",
          0.05, "USGS MCS 2025 import sources 2020-23", 1e-9,
          lambda m: value(m, "US", "ree_compounds", "import_share", "EE")),
    Check("c_us_import_share_other", "US import share from other countries, compounds and metals",
          0.06, "USGS MCS 2025 import sources 2020-23", 1e-9,
          lambda m: value(m, "US", "ree_compounds", "import_share", "ROW")),
    Check("d_jp_direct_share_cn", "Japan's first-hop China share of rare-earth imports 2024 (range 70-80%)",
          0.75, "JOGMEC ~70% (WSJ); Japanese customs H1 2024 79.6% (Metalnomist)", 0.05,
          lambda m: value(m, "JP", "ree_compounds", "direct_import_share")),
    Check("e_us_magnets_direct_share_cn", "China's share of US sintered NdFeB magnet imports (by value, Q1 2024)",
          0.835, "Rare Earth Exchanges (USD 58.4M of 69.9M)", 1e-9,
          lambda m: value(m, "US", "ndfeb_magnet", "direct_import_share")),
    Check("f_china_magnet_share", "China's share of world sintered-magnet production 2024 (model output)",
          0.94, "IEA commentary 2025-10-23 (94%), a cross-check on another basis", 0.01,
          lambda m: value(m, "WORLD", "ndfeb_magnet", "top1_share")),
    Check("g_china_gallium_share", "China's share of world primary low-purity gallium production 2024",
          0.99, "USGS MCS 2025 Gallium (99%)", 0.01,
          lambda m: value(m, "WORLD", "gallium", "top1_share")),
)
"""The published figures the bundled world must reproduce (tolerances are absolute, on shares)."""


@dataclass(frozen=True)
class CheckResult:
    """A :class:`Check` evaluated on a measures table.

    Attributes
    ----------
    check : Check
        The check.
    computed : float
        The model's figure (NaN when it cannot be computed).
    """

    check: Check
    computed: float

    @property
    def difference(self) -> float:
        """Computed minus published (NaN when not computed)."""
        return self.computed - self.check.published

    @property
    def ok(self) -> bool:
        """True when the computed figure is within the tolerance of the published one."""
        return not math.isnan(self.computed) and abs(self.difference) <= self.check.tolerance


def evaluate(measures: pd.DataFrame, checks: tuple[Check, ...] = PUBLISHED_CHECKS) -> list[CheckResult]:
    """Evaluate checks on a measures table.

    Parameters
    ----------
    measures : pandas.DataFrame
        ``compute_measures(baseline, YEAR, source=SOURCE)``.
    checks : tuple of Check, optional
        The checks (default :data:`PUBLISHED_CHECKS`).

    Returns
    -------
    list of CheckResult
        One per check, in order; a check whose row is missing is NaN (not within tolerance).
    """
    results = []
    for check in checks:
        try:
            computed = check.compute(measures)
        except LookupError:
            computed = math.nan
        results.append(CheckResult(check, computed))
    return results
