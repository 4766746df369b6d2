"""Figures of one commodity, read from a release with the catalogue, each citing file and row.

* :func:`world_figures` — production by country 2023 and 2024 (and capacity
  where given), in the catalogue's unit, with the world-total row;
* :func:`us_figures` — US production, imports, exports, apparent consumption and
  published net import reliance 2020–2024 from the salient file (plus T5's
  secondary output where the catalogue asks for it);
* :func:`computed_nir` — net import reliance recomputed from those figures with
  :func:`supplychain.metrics.trade.net_import_reliance` (one implementation of the
  formula);
* :func:`import_sources` — Fig2's ranked US import sources 2020–23 and the shares
  used for them: a chapter's printed percentages where the catalogue has them,
  else the ranked-list split of :func:`ranked_split` (an assumption);
* :func:`supply_gap` — US consumption a year's recorded supply leaves uncovered,
  ``C − (P + I − E)``, and :func:`gap_china_share`, the central value and range of
  China's share of it (the fragments write it as an import record split like the
  recorded imports, rather than leave it to the engine's allocation rule).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from supplychain.errors import Problem, ScenarioError
from supplychain.importers.usgs_mcs.catalogue import CommoditySpec
from supplychain.importers.usgs_mcs.cells import Cell, CellKind
from supplychain.importers.usgs_mcs.names import country_code
from supplychain.importers.usgs_mcs.release import T5, Release, SalientFile, WorldRow, unit_factor
from supplychain.metrics.trade import net_import_reliance
from supplychain.schema.assumptions import ASSUMED_SPLIT

__all__ = [
    "ASSUMED_SPLIT",
    "LARGE_GAP_SHARE",
    "RANKED_EXPONENT",
    "RANKED_LISTED_SHARE",
    "YEARS",
    "Figure",
    "ImportSources",
    "Ref",
    "SupplyGap",
    "USFigures",
    "WorldFigures",
    "computed_nir",
    "gap_china_share",
    "import_sources",
    "plain_number",
    "ranked_split",
    "supply_gap",
    "us_figures",
    "world_figures",
]

YEARS = (2020, 2021, 2022, 2023, 2024)
"""Years of the salient-statistics tables."""

RANKED_LISTED_SHARE = 0.85
"""Assumed share of US imports that the ranked countries of Fig2 supply together (the rest: ``ROW``).

The one chapter with printed shares at hand (rare earths: China 70, Malaysia 13,
Japan 6, Estonia 5, other 6 %) gives 94 % for its four listed countries; 85 % is a
round value below it, because lists of other commodities are often longer-tailed.
An assumption, not a fit."""

RANKED_EXPONENT = 2.0
"""Shares of the ranked countries fall as ``1 / rank ** RANKED_EXPONENT`` (an assumption)."""


def plain_number(x: float) -> str:
    """Write a figure of the release in plain digits with thousands separators.

    Six significant figures below a million; every integer digit above (1,234,567).

    The digits of ``f"{x:,.6g}"`` without its scientific notation, which a note an analyst reads
    must never hold (``docs/outputs.md``: "never scientific notation"): 1,660,000, not 1.66e+06.

    Examples
    --------
    >>> [plain_number(x) for x in (1.66e6, 7.2e7, 1076000.0, 678000.0, 1234.56, 12.5, 0.25, 0.0, -1.5e6)]
    ['1,660,000', '72,000,000', '1,076,000', '678,000', '1,234.56', '12.5', '0.25', '0', '-1,500,000']
    """
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    decimals = max(0, 5 - math.floor(math.log10(abs(float(f"{x:.6g}")))))
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

@dataclass(frozen=True)
class Ref:
    """Where a figure was read: file, line and column."""

    file: str
    line: int
    column: str

    def cite(self) -> str:
        """``file row N, column`` (the form written into scenario notes).

        Examples
        --------
        >>> Ref("mcs2025-cobal_salient.csv", 6, "Imports_t").cite()
        'mcs2025-cobal_salient.csv row 6, Imports_t'
        """
        return f"{self.file} row {self.line}, {self.column}"


_PRECEDENCE: tuple[CellKind, ...] = ("exporter", "withheld", "na", "text", "bound", "blank")


@dataclass(frozen=True)
class Figure:
    """A figure: its value in the catalogue's unit (NaN unless ``kind == 'number'``), kind and where read.

    A sum of several cells is a number only when every cell is a number
    (``Less than ½ unit`` counts as 0); otherwise it takes the kind of its most
    telling cell: net exporter, withheld, not available, text, a bound, blank.
    """

    value: float
    kind: CellKind
    refs: tuple[Ref, ...] = ()
    label: str = ""
    relation: str = ""
    negligible: tuple[Ref, ...] = ()
    """Cells of a number that read ``Less than ½ unit`` and were counted as 0."""

    @property
    def known(self) -> bool:
        """A plain number."""
        return self.kind == "number"

    def cite(self) -> str:
        """Every cell it was read from."""
        if not self.refs:
            return "no column in the file (0)"
        head = self.refs[0]
        cols = " + ".join(r.column for r in self.refs)
        lines = sorted({r.line for r in self.refs})
        files = sorted({r.file for r in self.refs})
        if len(files) == 1 and len(lines) == 1:
            return f"{head.file} row {head.line}, {cols}"
        return "; ".join(r.cite() for r in self.refs)

    def text(self) -> str:
        """How it reads in a table: the number or its flag."""
        if self.known:
            return plain_number(self.value)
        return self.label or self.kind

    @staticmethod
    def total(cells: list[tuple[Cell, float, Ref]]) -> Figure:
        """Sum cells (each with its unit factor and reference); the rules in the class docstring.

        Examples
        --------
        >>> from supplychain.importers.usgs_mcs.cells import parse_cell
        >>> r = Ref("f.csv", 2, "c")
        >>> Figure.total([(parse_cell("1,200"), 1000.0, r), (parse_cell("5"), 1000.0, r)]).value
        1205000.0
        >>> Figure.total([(parse_cell("1"), 1.0, r), (parse_cell("W"), 1.0, r)]).kind
        'withheld'
        >>> Figure.total([]).value
        0.0
        """
        refs = tuple(r for _, _, r in cells)
        kinds = [c.kind for c, _, _ in cells]
        for kind in _PRECEDENCE:
            if kind in kinds:
                cell, factor, _ = next(x for x in cells if x[0].kind == kind)
                value = cell.value * factor if kind == "bound" else math.nan
                return Figure(value, kind, refs, cell.label(), cell.relation)
        value = sum((0.0 if c.kind == "negligible" else c.value * f for c, f, _ in cells), 0.0)
        return Figure(value, "number", refs, negligible=tuple(r for c, _, r in cells if c.kind == "negligible"))


# ------------------------------------------------------------------- world data
@dataclass(frozen=True)
class CountryOutput:
    """One country's production of a commodity (rows of several types added)."""

    country: str
    name: str
    prod_2023: Figure
    prod_2024: Figure
    capacity: Figure
    rows: tuple[WorldRow, ...]


@dataclass(frozen=True)
class WorldFigures:
    """World production of one commodity by country."""

    countries: tuple[CountryOutput, ...]
    """Countries in file order, ``ROW`` for other countries; the US included when it has a row."""
    total_2023: Figure
    total_2024: Figure
    excludes_us: bool
    """The world total excludes US production (USGS's note)."""
    notes: tuple[str, ...] = ()

    def share(self, country: str, year: int = 2024) -> float:
        """Return a country's share of the published world total.

        NaN when the country's figure or the world total is not a number (boron's
        rows, in different forms, have no total and are not added here either).
        """
        total = self.total_2024 if year == 2024 else self.total_2023
        if not total.known or total.value <= 0:
            return math.nan
        row = next((c for c in self.countries if c.country == country), None)
        if row is None:
            return 0.0
        value = row.prod_2024 if year == 2024 else row.prod_2023
        return value.value / total.value if value.known else math.nan


def _world_cell(row: WorldRow, cell: Cell, column: str, unit: str, file: str) -> tuple[Cell, float, Ref]:
    factor = unit_factor(row.unit, unit)
    if factor is None:
        raise ScenarioError([Problem(file, row.line, 5, ("UNIT_MEAS",), f"unit {row.unit!r} is not a mass",
                                     "the catalogue can only read figures in tonnes or kilograms")])
    return cell, factor, Ref(file, row.line, column)


def world_figures(release: Release, spec: CommoditySpec) -> WorldFigures:
    """Production by country of a catalogue commodity.

    Raises
    ------
    ScenarioError
        No rows for the commodity and types, or a row's country is unknown.
    """
    assert spec.world is not None
    file = release.world_table.name
    rows = release.world_rows(spec.world.commodity, spec.world.types)
    problems = [release.world_table.problem(r.line, "COUNTRY", f"unknown country name {r.country_name!r}",
                                            "add it to supplychain.importers.usgs_mcs.names")
                for r in rows if r.country is None]
    if not rows:
        problems.append(Problem(str(release.world_table.path), 0, 0, (), f"no rows for {spec.world.commodity!r} "
                                f"of type {spec.world.types}", "check the catalogue's world: entry"))
    if problems:
        raise ScenarioError(problems)
    by_country: dict[str, list[WorldRow]] = {}
    for r in rows:
        by_country.setdefault(str(r.country), []).append(r)
    countries = []
    for code, group in by_country.items():
        if code == "WORLD":
            continue
        fig = {col: Figure.total([_world_cell(r, getattr(r, attr), col, spec.unit, file) for r in group])
               for col, attr in (("PROD_2023", "prod_2023"), ("PROD_EST_2024", "prod_2024"),
                                 ("CAP_EST_2024", "cap_2024"))}
        countries.append(CountryOutput(code, group[0].country_name, fig["PROD_2023"], fig["PROD_EST_2024"],
                                       fig["CAP_EST_2024"], tuple(group)))
    world = by_country.get("WORLD", [])
    t23 = Figure.total([_world_cell(r, r.prod_2023, "PROD_2023", spec.unit, file) for r in world])
    t24 = Figure.total([_world_cell(r, r.prod_2024, "PROD_EST_2024", spec.unit, file) for r in world])
    if not world:
        t23 = t24 = Figure(math.nan, "blank")
    notes = tuple(f for r in rows for f in r.fixes)
    return WorldFigures(tuple(countries), t23, t24, any(r.excludes_us for r in world), notes)


# --------------------------------------------------------------------- salient
@dataclass(frozen=True)
class USFigures:
    """US salient figures of one commodity by year (in the catalogue's unit)."""

    production: dict[int, Figure]
    imports: dict[int, Figure]
    exports: dict[int, Figure]
    consumption: dict[int, Figure]
    nir_published: dict[int, Figure]
    """Net import reliance as printed in the salient file (percent)."""


def _column(sf: SalientFile, year: int, column: str, unit: str) -> tuple[Cell, float, Ref]:
    row = sf.years.get(year)
    return sf.cell(year, column), sf.factor(column, unit), Ref(sf.table.name, row.line if row else 0, column)


def _t5_cell(release: Release, spec: CommoditySpec, column: str) -> tuple[Cell, float, Ref]:
    row = release.t5.get(spec.t5 or "")
    factor = 1.0 if spec.unit == "t" else 1e3  # T5 is in metric tons
    name = T5.rsplit("/", 1)[-1]
    if row is None:
        raise ScenarioError([Problem(str(release.t5_table.path), 0, 0, (), f"no T5 row {spec.t5!r}",
                                     "check the catalogue's t5: name")])
    return row.cell(column), factor, Ref(name, row.line, column)


def us_figures(release: Release, spec: CommoditySpec) -> USFigures:
    """US figures 2020–2024 of a catalogue commodity.

    Raises
    ------
    ScenarioError
        The salient file is missing or lacks a column the catalogue names.
    """
    s = spec.salient
    assert s is not None
    sf = release.salient.get(s.file)
    if sf is None:
        raise ScenarioError([Problem(str(release.root / "salient" / s.file), 0, 0, (), "salient file missing",
                                     "the catalogue names it; check the release folder")])
    named = [*s.production, *s.imports, *s.exports, *(c for c in (s.consumption, s.nir) if c)]
    missing = [c for c in named if c not in sf.table.columns]
    if missing:
        raise ScenarioError([sf.table.problem(1, "", f"column {c!r} is missing", "fix the catalogue")
                             for c in missing])

    def series(columns: Sequence[str], extra: Sequence[str] = ()) -> dict[int, Figure]:
        out = {}
        for y in YEARS:
            cells = [_column(sf, y, c, spec.unit) for c in columns]
            if y == 2024:
                cells += [_t5_cell(release, spec, c) for c in extra]
            out[y] = Figure.total(cells)
        return out

    def single(column: str | None) -> dict[int, Figure]:
        if column is None:
            return {y: Figure(math.nan, "blank") for y in YEARS}
        return {y: Figure.total([_column(sf, y, column, spec.unit)]) for y in YEARS}

    nir = {y: Figure.total([(sf.cell(y, s.nir), 1.0, _column(sf, y, s.nir, spec.unit)[2])]) if s.nir
           else Figure(math.nan, "blank") for y in YEARS}
    return USFigures(series(s.production, list(s.t5_production)), series(s.imports), series(s.exports),
                     single(s.consumption), nir)


@dataclass(frozen=True)
class ComputedNIR:
    """Net import reliance recomputed from salient figures."""

    value: float
    """Share in [0, 1]; NaN for a net exporter or when not computable."""
    label: str
    """``"E"`` for a net exporter, ``""`` for a value, else why it cannot be computed."""
    method: str
    """Which formula the available figures allowed."""
    stock_change: float = math.nan
    """Implied stock change ``C − (P + I − E)`` (drawn > 0)."""
    estimate: bool = False
    """True when US production is withheld or not available and ``(I − E) / C`` takes the unknown stock
    change as 0: the value then depends on a figure USGS does not publish and is no precise number."""


def computed_nir(us: USFigures, year: int = 2024) -> ComputedNIR:
    """Recompute USGS's net import reliance of a year from the salient figures.

    With apparent consumption ``C`` and production ``P`` published, the stock
    change is implied as ``ΔS = C − (P + I − E)`` and
    :func:`~supplychain.metrics.trade.net_import_reliance` gives
    ``(I − E + ΔS) / C = (C − P) / C``. When ``P`` is withheld or not available
    but ``I`` and ``E`` are published, ``(I − E) / C`` is used (stock change
    unknown, taken as 0). Without ``C`` nothing is computed.

    Examples
    --------
    Cobalt 2024 (MCS 2025): P = 2,000 t secondary, I = 11,000, E = 4,500, C = 8,500:

    >>> f = lambda v: Figure(float(v), "number")
    >>> us = USFigures({2024: f(2000)}, {2024: f(11000)}, {2024: f(4500)}, {2024: f(8500)}, {})
    >>> r = computed_nir(us); round(r.value, 4), r.method
    (0.7647, '(C - P) / C')
    """
    p, i, e, c = (us.production[year], us.imports[year], us.exports[year], us.consumption[year])
    if not c.known or c.value <= 0:
        why = {"withheld": "consumption withheld (W)", "na": "consumption not available (NA)",
               "bound": f"consumption given only as {c.label}"}.get(c.kind, "no consumption in the file")
        return ComputedNIR(math.nan, why, "not computed")
    exports = e.value if e.known else 0.0
    if p.known:
        imports = i.value if i.known else c.value - p.value + exports
        production, method = p.value, "(C - P) / C"
    elif i.known:
        imports, production = i.value, c.value - i.value + exports
        method = f"(I - E) / C (production {p.label or p.kind}; stock change taken as 0)"
    else:
        return ComputedNIR(math.nan, "production and imports not both known", "not computed")
    delta = c.value - (production + imports - exports)
    summary = pd.DataFrame({"production": [production], "imports": [imports], "exports": [exports],
                            "stock_draw": [max(delta, 0.0)], "stock_build": [max(-delta, 0.0)],
                            "apparent_consumption": [c.value]},
                           index=pd.MultiIndex.from_tuples([("US", "x")], names=["country", "commodity"]))
    row = net_import_reliance(summary).iloc[0]
    return ComputedNIR(float(row["value"]), str(row["label"]), method, delta, estimate=not p.known)


# -------------------------------------------------------------- import sources
def ranked_split(codes: tuple[str, ...], listed: float = RANKED_LISTED_SHARE) -> dict[str, float]:
    """Shares for a ranked list of import sources without printed percentages (an assumption).

    ``share(r) = L · r**-RANKED_EXPONENT / Σ_k k**-RANKED_EXPONENT`` with ``L`` the share
    the listed countries supply together (`listed`: :data:`RANKED_LISTED_SHARE` unless a
    source gives it, as the germanium chapter's ">94 %" does); the rest of the imports
    come from ``ROW``.

    Examples
    --------
    >>> {k: round(v, 3) for k, v in ranked_split(("CN", "DE")).items()}
    {'CN': 0.68, 'DE': 0.17}
    >>> round(sum(ranked_split(("A", "B", "C", "D")).values()), 6)
    0.85
    >>> {k: round(v, 4) for k, v in ranked_split(("BE", "CA"), listed=0.94).items()}
    {'BE': 0.752, 'CA': 0.188}
    """
    weights = [(r + 1) ** -RANKED_EXPONENT for r in range(len(codes))]
    total = sum(weights)
    return {c: listed * w / total for c, w in zip(codes, weights, strict=True)}


@dataclass(frozen=True)
class ImportSources:
    """US import sources 2020–23 of a commodity and the shares used for them."""

    ranked: tuple[str, ...]
    """ISO codes in descending order of import share (Fig2; T5's primary source when not in Fig2)."""
    ref: Ref | None
    names: tuple[str, ...] = ()
    """The countries as printed."""
    shares: dict[str, float] = field(default_factory=dict)
    """Partner → share of US imports (the rest ``ROW``)."""
    sourced: bool = False
    """Shares printed in a chapter (True) or the ranked-list assumption (False)."""
    note: str = ""

    def rank(self, country: str) -> int | None:
        """Return the 1-based place of a country in the ranked list (None when not listed)."""
        return self.ranked.index(country) + 1 if country in self.ranked else None


def import_sources(release: Release, spec: CommoditySpec) -> ImportSources:
    """Ranked US import sources of a commodity and their shares (chapter percentages or :func:`ranked_split`).

    Fig2's list where the commodity is in it, else T5's primary import source (a
    list of one), else none.
    """
    row = release.fig2.get(spec.fig2 or "")
    t5 = release.t5.get(spec.t5 or "")
    if row is not None:
        ref = Ref(release.fig2_table.name, row.line, "Major_Import_Sources_2020_2023")
        ranked, names, what = row.sources, row.source_names, "Fig2 lists"
    elif t5 is not None and country_code(t5.text("Primary_import_source")) not in (None, "WORLD", "ROW"):
        name = t5.text("Primary_import_source")
        ref = Ref(release.t5_table.name, t5.line, "Primary_import_source")
        ranked, names, what = (str(country_code(name)),), (name,), "T5 names (primary source only)"
    else:
        return ImportSources((), None, note="not in Fig2 or T5")
    if spec.chapter_shares is not None:
        ch = spec.chapter_shares
        return ImportSources(ranked, ref, names, dict(ch.shares), True, f"{ch.where} ({ch.source})")
    note = (f"{ASSUMED_SPLIT} (assumption): {what} {', '.join(names)} in descending order of import share "
            f"without percentages; shares 1/rank^{RANKED_EXPONENT:g} of {RANKED_LISTED_SHARE:.0%} together, "
            "the rest ROW")
    return ImportSources(ranked, ref, names, ranked_split(ranked), False, note)


# ------------------------------------------------------------ unrecorded supply
LARGE_GAP_SHARE = 0.5
"""A supply gap above this share of US consumption is flagged ``LARGE GAP`` in the record's note.

A gap that size is more than the data can be said to describe: the record still closes it
(the allocation rule would close it otherwise, with a less visible assumption), but every
output that reads the note can see that most of the year's use has no recorded origin."""


@dataclass(frozen=True)
class SupplyGap:
    """US consumption of a year that the recorded supply does not cover (:func:`supply_gap`)."""

    year: int
    value: float
    """``C − (P + I − E)`` (> 0), in the catalogue's unit."""
    consumption: Figure
    production: Figure
    """The production figure; counted only where ``production_counted``."""
    imports: Figure
    exports: Figure
    production_counted: bool
    """US production is a number and the fragment models it (a US facility)."""

    @property
    def share(self) -> float:
        """The gap as a share of consumption, ``gap / C``."""
        return self.value / self.consumption.value

    @property
    def large(self) -> bool:
        """More than :data:`LARGE_GAP_SHARE` of consumption."""
        return self.share > LARGE_GAP_SHARE


def supply_gap(us: USFigures, year: int, *, production_modelled: bool) -> SupplyGap | None:
    """US consumption that production and recorded trade leave uncovered in a year.

    ``gap = C − (P + I − E)`` with ``C`` apparent (or reported) consumption, ``P`` US production,
    ``I`` recorded imports and ``E`` exports, every one a figure of the salient file as the
    fragment writes it: ``I`` and ``E`` count 0 where they are not a number (the fragment has
    no flow for them), ``P`` counts 0 where the fragment has no US facility
    (`production_modelled` False: 2024 output withheld, not available or 0). What the gap
    is, no figure of the release says: USGS's implied stock change (the ``ΔS`` of
    :func:`computed_nir`), forms outside the recorded import series, withheld production.

    Parameters
    ----------
    us : USFigures
        The commodity's US figures.
    year : int
        One of :data:`YEARS`.
    production_modelled : bool
        The fragment has a US facility (its production counts where it is a number).

    Returns
    -------
    SupplyGap or None
        ``None`` when ``C`` is not a number, when the gap is not positive (more
        than ``1e-9 C``; a surplus is the engine's to place), or when ``P`` would
        count but is not a number (the model's output that year is not this figure).

    Examples
    --------
    Gallium 2024 (MCS 2025): no primary output, imports of metal 11,000 kg, exports NA,
    consumption 19,000 kg: 19,000 − (0 + 11,000 − 0) = 8,000 kg, 42 % of consumption.

    >>> f = lambda v: Figure(float(v), "number")
    >>> us = USFigures({2024: f(0)}, {2024: f(11000)}, {2024: Figure(math.nan, "na")}, {2024: f(19000)}, {})
    >>> g = supply_gap(us, 2024, production_modelled=False); g.value, round(g.share, 4), g.large
    (8000.0, 0.4211, False)
    """
    c, p, i, e = us.consumption[year], us.production[year], us.imports[year], us.exports[year]
    if not c.known or c.value <= 0:
        return None
    if production_modelled and not p.known:
        return None
    counted = production_modelled and p.known
    value = c.value - ((p.value if counted else 0.0) + (i.value if i.known else 0.0)
                       - (e.value if e.known else 0.0))
    if value <= 1e-9 * c.value:
        return None
    return SupplyGap(year, value, c, p, i, e, counted)


def gap_china_share(sources: ImportSources, world: WorldFigures) -> tuple[float, float]:
    """Central value and upper bound of China's share of a US supply gap (lower bound 0).

    ``s`` = China's share of the recorded imports (0 when the recorded split does not
    list China): the gap is taken to come from where the recorded imports come from;
    ``w`` = China's share of world production 2024 (:meth:`WorldFigures.share`, the
    published total; 0 when China has no row or the share is not a number): the gap
    follows world output, roughly what the engine's allocation rule (pro rata to the
    producers' spare output) gave it. The range is ``[0, max(s, w)]``, 0 being a gap
    that is wholly non-Chinese (stock draws, non-Chinese material outside the record).

    Examples
    --------
    Gallium: China second of four ranked sources (0.149268), 750,000 of the 760,000 kg
    world total (0.986842):

    >>> sources = ImportSources(("JP", "CN", "DE", "CA"), None, shares=ranked_split(("JP", "CN", "DE", "CA")))
    >>> world = WorldFigures((CountryOutput("CN", "China", Figure(0, "blank"), Figure(750000.0, "number"),
    ...                                     Figure(0, "blank"), ()),), Figure(0, "blank"),
    ...                      Figure(760000.0, "number"), False)
    >>> [round(x, 6) for x in gap_china_share(sources, world)]
    [0.149268, 0.986842]
    """
    central = sources.shares.get("CN", 0.0)
    world_share = world.share("CN")
    high = max(central, world_share if math.isfinite(world_share) else 0.0)
    return central, high
