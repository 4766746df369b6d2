r"""Stockpiles drawn down by shortfall, year by year.

A stockpile of commodity k held by country c sits at market ``c:k``. Each
``stockpiles`` entry is one stock that enters the ledger at the start of its
``year`` — those dated at or before the first simulated year make the opening
level, a later one is added at the start of the first simulated year on or after
its date — as the releasable stock of :func:`supplychain.graph.allocate.stock_table`
(level × ``max_release_share``, ``months_of_cover`` turned into the commodity's
unit with that year's demand). Each year, with :math:`A_y` the stock entering at
its start,

.. math:: L_y = L^{end}_{y-1} + A_y, \qquad \delta_y = \min(L_y, \Delta_y), \qquad L^{end}_y = L_y - \delta_y,

where :math:`\Delta_y` is the gap the stock is asked to fill that year (the
re-routing LP's stock draw, or in the ``fixed`` response the shortfall of the
market's own final use). At annual resolution the gap is spread evenly over
the year, so when it exceeds the level the stock runs out after

.. math:: m_y = 12 \, L_y / \Delta_y \ \text{months}

(e.g. 500 t against a 1 200 t/yr gap lasts 5 months: it runs out at the end of
May, month ⌈m⌉; a level that lasts a whole number of months up to round-off, such
as 40/3 t against 80 t/yr = 2 months, runs out in that month, February, not the
next). Cover left at the end of the year is :math:`12 L^{end}_y / D_y` months,
:math:`D_y` the market's final demand of that year.

The stocks table (:data:`STOCK_COLUMNS`, ``Result.stocks``), one row per market and year:
``level_start`` (:math:`L_y`, after ``added``), ``added`` (:math:`A_y`), ``gap`` (:math:`\Delta_y`),
``draw`` (:math:`\delta_y`), ``level_end``, ``demand`` (:math:`D_y`), ``cover_end_months``
(cover left at year end — an output, not the input field ``months_of_cover``),
``runs_out_after_months`` (:math:`m_y`, ∞ when the stock lasts the year) and
``runs_out_month`` (``YYYY-MM``; ``""`` when it lasts the year, ``empty`` when nothing
was left at the start of a year with a gap); quantities in the commodity's unit (the
``unit`` column of ``Result.stocks``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from supplychain.schema.model import Scenario
    from supplychain.simulation.rebalance import RebalanceModel, RebalanceSolution, YearInputs

__all__ = ["MONTH_TOL", "STOCK_COLUMNS", "StockLedger", "StockRoutes", "months_lasting", "run_out_month"]

STOCK_COLUMNS = [
    "year",
    "market",
    "country",
    "commodity",
    "level_start",
    "added",
    "gap",
    "draw",
    "level_end",
    "demand",
    "cover_end_months",
    "runs_out_after_months",
    "runs_out_month",
]
"""Columns of the stocks table (module docstring)."""

MONTH_TOL = 1e-9
"""Months within which a run-out time counts as a whole month (floating-point round-off of 12 L / Δ)."""


def months_lasting(level: float, yearly_gap: float) -> float:
    """Months a stock lasts against an even yearly gap (∞ when it covers the year), to 10⁻⁹ month.

    Examples
    --------
    >>> months_lasting(500.0, 1200.0)
    5.0
    >>> months_lasting(40 / 3, 80.0)  # 12 × 13.333… / 80 = 2.0000000000000004 before rounding
    2.0
    >>> months_lasting(500.0, 0.0)
    inf
    """
    if yearly_gap <= 0 or level >= yearly_gap:
        return math.inf
    return round(12.0 * level / yearly_gap, 9)


def run_out_month(year: int, months: float) -> str:
    """``YYYY-MM`` of the month a stock runs out in ('' when it lasts the year, 'empty' when it has nothing).

    A stock lasting m months runs out in month ⌈m⌉ (2.5 months: in March); within
    :data:`MONTH_TOL` of a whole number it runs out at the end of that month.

    Examples
    --------
    >>> run_out_month(2026, 5.0), run_out_month(2026, 4.5), run_out_month(2026, math.inf)
    ('2026-05', '2026-05', '')
    >>> run_out_month(2026, 2.0000000000000013), run_out_month(2026, 0.01), run_out_month(2026, 0.0)
    ('2026-02', '2026-01', 'empty')
    """
    if math.isinf(months):
        return ""
    if months <= 0:
        return "empty"
    return f"{year}-{min(12, max(1, math.ceil(months - MONTH_TOL))):02d}"


@dataclass
class StockLedger:
    """Running stock levels of one simulation.

    Parameters
    ----------
    levels : mapping of str to float
        Market node id → releasable quantity at the start of the first year.
    entering : mapping of int to mapping of str to float
        Year → market → stock entering the ledger at the start of that year
        (:meth:`from_scenario`; the first year's stocks are in ``levels``).
    """

    levels: dict[str, float]
    rows: list[dict[str, Any]] = field(default_factory=list)
    entering: dict[int, dict[str, float]] = field(default_factory=dict)
    _opened: dict[str, float] = field(default_factory=dict)
    _year: int | None = None

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> StockLedger:
        """Start from :func:`~supplychain.graph.allocate.stock_table` (``market``, ``available``)."""
        if table.empty:
            return cls({})
        return cls({str(k): float(v) for k, v in table.groupby("market")["available"].sum().items()})

    @classmethod
    def from_scenario(cls, scenario: Scenario, years: Sequence[int]) -> StockLedger:
        """Every stock of the scenario, each entering at the start of the first simulated year on or after its date.

        Examples
        --------
        >>> from supplychain.schema.model import Scenario
        >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "stockpiles": {
        ...     "us": {"country": "US", "commodity": "ore", "year": 2026, "quantity": 40}}})
        >>> ledger = StockLedger.from_scenario(s, [2024, 2025, 2026])
        >>> ledger.levels, ledger.entering
        ({}, {2026: {'US:ore': 40.0}})
        """
        from supplychain.graph.allocate import stock_table

        if not scenario.stockpiles:
            return cls({})
        ordered = sorted(years)
        ledger = cls.from_table(stock_table(scenario, ordered[0]))
        for before, year in itertools.pairwise(ordered):
            table = stock_table(scenario, year, after=before)
            if not table.empty:
                grouped = table.groupby("market")["available"].sum()
                ledger.entering[year] = {str(k): float(v) for k, v in grouped.items()}
        return ledger

    def open(self, year: int) -> None:
        """Start ``year``: the stocks dated to enter then are added (once; :meth:`record` opens it too)."""
        if self._year == year:
            return
        self._year = year
        self._opened = dict(self.entering.get(year, {}))
        for market, added in self._opened.items():
            self.levels[market] = self.levels.get(market, 0.0) + added

    def available(self) -> dict[str, float]:
        """Return the current level per market."""
        return dict(self.levels)

    def record(self, year: int, gaps: Mapping[str, float], demand: Mapping[str, float]) -> dict[str, float]:
        """Draw every stock against its gap of ``year``; return the quantity drawn per market.

        Parameters
        ----------
        year : int
            The year.
        gaps : mapping
            Market → Δ, the quantity the stock is asked to cover.
        demand : mapping
            Market → D, final demand of the year (for months of cover).

        Returns
        -------
        dict of str to float
            Market → δ = min(L, Δ).
        """
        self.open(year)
        drawn: dict[str, float] = {}
        for market in sorted(self.levels):
            level = self.levels[market]
            gap = max(0.0, float(gaps.get(market, 0.0)))
            draw = min(level, gap)
            end = level - draw
            d = float(demand.get(market, 0.0))
            months = months_lasting(level, gap)
            country, _, commodity = market.partition(":")
            self.rows.append({
                "year": year,
                "market": market,
                "country": country,
                "commodity": commodity,
                "level_start": level,
                "added": self._opened.get(market, 0.0),
                "gap": gap,
                "draw": draw,
                "level_end": end,
                "demand": d,
                "cover_end_months": 12.0 * end / d if d > 0 else math.nan,
                "runs_out_after_months": months,
                "runs_out_month": run_out_month(year, months),
            })
            self.levels[market] = end
            drawn[market] = draw
        return drawn

    def table(self) -> pd.DataFrame:
        """Stocks table, one row per market and year (columns :data:`STOCK_COLUMNS`)."""
        return pd.DataFrame(self.rows, columns=STOCK_COLUMNS)


@dataclass(frozen=True)
class StockRoutes:
    """How the re-routing LP and the :class:`StockLedger` meet, on the model's arrays.

    Attributes
    ----------
    edges : numpy.ndarray
        Model edges drawing a stock node (``C:k:stock`` → ``C:k``: baseline draws).
    edge_market : tuple of str
        The market of each of them.
    markets : tuple of str
        The stock markets of the LP's stock-draw columns.
    use_market : tuple of str
        The market of each use node.
    """

    edges: np.ndarray
    edge_market: tuple[str, ...]
    markets: tuple[str, ...]
    use_market: tuple[str, ...]

    @classmethod
    def of(cls, model: RebalanceModel) -> StockRoutes:
        """Read the stock routes of a model."""
        sup = model.edges["supplier"].astype(str)
        edges = np.flatnonzero(sup.str.endswith(":stock").to_numpy())
        ids = model.node_ids
        uses = model.nodes.iloc[model.uses]
        return cls(
            edges=edges,
            edge_market=tuple(s.rsplit(":", 1)[0] for s in sup.iloc[edges]),
            markets=tuple(ids[model.stock_markets]),
            use_market=tuple(f"{c}:{k}" for c, k in zip(uses["country"].astype(str), uses["commodity"].astype(str),
                                                        strict=True)),
        )

    def _by_market(self, tonnes: np.ndarray) -> dict[str, float]:
        out: dict[str, float] = {}
        for e, m in zip(self.edges.tolist(), self.edge_market, strict=True):
            out[m] = out.get(m, 0.0) + float(tonnes[e])
        return out

    def limit(self, inputs: YearInputs, levels: Mapping[str, float]) -> YearInputs:
        r"""Return ``inputs`` with the stocks' levels applied.

        A baseline draw larger than the level left is blocked down to it (combined with
        the policies' blocked share as :math:`B + b - Bb`), and the LP may draw what is
        left beyond the baseline draws, :math:`S_m = \max(0, L_m - \text{baseline draw}_m)`.
        """
        if not levels:
            return inputs
        f0 = inputs.baseline
        blocked = np.array(inputs.blocked, dtype=float)
        for e, m in zip(self.edges.tolist(), self.edge_market, strict=True):
            t = f0[e]
            if t > 0 and m in levels and levels[m] < t:
                share = 1.0 - levels[m] / t
                blocked[e] = blocked[e] + share - blocked[e] * share
        base = self._by_market(f0)
        stock = np.array([max(0.0, levels[m] - base.get(m, 0.0)) if m in levels else 0.0 for m in self.markets])
        return replace(inputs, blocked=blocked, stock=stock)

    def record(self, ledger: StockLedger, year: int, inputs: YearInputs, sol: RebalanceSolution) -> dict[str, float]:
        """Draw the ledger's stocks by what the solve took from them; return the LP's draw per stock market.

        The gap of a stock is the LP's draw, the baseline stock edges' simulated
        tonnes and the final-use shortfall left at its market.
        """
        from supplychain.simulation.rebalance import RebalanceModel

        drawn = dict(zip(self.markets, sol.stock_draw.tolist(), strict=True))
        levels = ledger.available()
        if not levels:
            return drawn
        z = RebalanceModel.shortfall(inputs, sol)
        short: dict[str, float] = {}
        demand: dict[str, float] = {}
        for m, zi, di in zip(self.use_market, z.tolist(), inputs.demand.tolist(), strict=True):
            short[m] = short.get(m, 0.0) + zi
            demand[m] = demand.get(m, 0.0) + di
        along = self._by_market(sol.tonnes)
        gaps = {m: drawn.get(m, 0.0) + along.get(m, 0.0) + short.get(m, 0.0) for m in levels}
        ledger.record(year, gaps, demand)
        return drawn
