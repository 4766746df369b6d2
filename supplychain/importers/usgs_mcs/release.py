"""The USGS MCS 2025 data release read into records, every defect undone and located.

A release folder holds (paths relative to it; the layout of the ScienceBase
zips)::

    world_data/MCS2025_World_Data.csv
    industry_trends/MCS2025_Fig2_Net_Import_Reliance.csv
    industry_trends/MCS2025_T5_Critical_Minerals_Salient.csv
    salient/mcs2025-<commodity>_salient.csv     (one per commodity)

:func:`read_release` reads them into :class:`Release`: world rows with ISO codes
and values in tonnes or kilograms, salient files by year, Fig2's net import
reliance and ranked import sources, T5's rows. Every record keeps the file and the
line it came from. Defects handled here (each tested on a fixture cut from the
real files, ``tests/data/usgs_mcs2025/``):

* byte-order mark, CRLF, non-breaking and stray spaces, repeated headers, rows of
  empty cells (:mod:`~supplychain.importers.usgs_mcs.table`);
* ``W``, ``NA``, ``E``, ``<25``, ``>50``, ``>95``, ``">90000000"`` cells
  (:mod:`~supplychain.importers.usgs_mcs.cells`);
* typos and footnote digits fused into names (:mod:`~supplychain.importers.usgs_mcs.names`);
* units: ``thousand metric tons`` and ``kilograms`` converted to the catalogue's
  unit; the titanium-concentrate rows that say ``metric tons`` but hold thousand
  metric tons (:data:`UNIT_FIXES`); salient columns by their suffix (``_kt``,
  ``_t``, ``_kg``, ``_g``);
* world totals that exclude the US (:attr:`WorldRow.excludes_us`);
* magnesium metal's ``RESERVES_2024`` column that holds capacity
  (:attr:`WorldRow.reserves` is NaN there, with a note).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from supplychain.errors import Problem, ScenarioError
from supplychain.importers.usgs_mcs.cells import Cell, clean_text, parse_cell
from supplychain.importers.usgs_mcs.names import country_code, fix_typos, split_footnote, split_qualifier
from supplychain.importers.usgs_mcs.table import Row, Table, read_table
from supplychain.schema.references import did_you_mean

__all__ = [
    "FIG2",
    "SALIENT_DIR",
    "T5",
    "UNIT_FIXES",
    "WORLD",
    "Fig2Row",
    "Release",
    "SalientFile",
    "WorldRow",
    "column_unit",
    "read_release",
    "unit_factor",
]

WORLD = "world_data/MCS2025_World_Data.csv"
"""Path of the world-data file inside a release folder."""
FIG2 = "industry_trends/MCS2025_Fig2_Net_Import_Reliance.csv"
"""Path of Fig2 (net import reliance 2024, major import sources 2020–23)."""
T5 = "industry_trends/MCS2025_T5_Critical_Minerals_Salient.csv"
"""Path of T5 (salient figures of the 2022 critical minerals)."""
SALIENT_DIR = "salient"
"""Folder of the per-commodity salient-statistics files."""

UNIT_FIXES: dict[str, str] = {"Titanium Mineral Concentrates": "thousand metric tons"}
"""World-data commodities whose ``UNIT_MEAS`` is wrong, and the unit their figures are in."""

_TONNES = {"metric tons": 1.0, "metric dry tons": 1.0, "thousand metric tons": 1e3,
           "thousand metric dry tons": 1e3, "million metric tons": 1e6, "kilograms": 1e-3}
_SUFFIX = {"kt": 1e3, "t": 1.0, "kg": 1e-3, "g": 1e-6}


def unit_factor(unit: str, target: str) -> float | None:
    """Factor that turns a figure in ``unit`` into ``target`` (``"t"`` or ``"kg"``).

    Returns
    -------
    float or None
        None for units that are not masses (carats, cubic metres).

    Examples
    --------
    >>> unit_factor("thousand metric tons", "t"), unit_factor("kilograms", "kg"), unit_factor("metric tons", "kg")
    (1000.0, 1.0, 1000.0)
    >>> unit_factor("million carats", "t") is None
    True
    """
    tonnes = _TONNES.get(clean_text(unit).lower())
    if tonnes is None:
        return None
    return tonnes if target == "t" else tonnes * 1e3


def column_unit(column: str) -> str | None:
    """Return the mass unit a salient column is in, from its suffix (``Imports_kt`` → ``"kt"``).

    Examples
    --------
    >>> column_unit("Imports_Metal_kg"), column_unit("Consump_Apparent_kt"), column_unit("NIR_pct")
    ('kg', 'kt', None)
    """
    suffix = column.rsplit("_", 1)[-1]
    return suffix if suffix in _SUFFIX else None


def _to(unit: str, target: str) -> float:
    return _SUFFIX[unit] / (1.0 if target == "t" else 1e-3)


@dataclass(frozen=True)
class WorldRow:
    """One row of the world-data file.

    Attributes
    ----------
    line : int
        Line in the file.
    commodity, type : str
        Typos corrected, spaces trimmed.
    country_name : str
        As printed (footnote digits removed).
    country : str or None
        ISO code, ``ROW`` for other countries, ``WORLD`` for a world total, None
        when unknown.
    footnote, qualifier : str
        Footnote digits fused to the name; a parenthesised qualifier.
    unit : str
        The unit the figures are in (after :data:`UNIT_FIXES`).
    prod_2023, prod_2024, cap_2024 : Cell
        Production 2023, 2024 (estimated) and capacity 2024.
    reserves : float
        Reserves 2024 (NaN when not a number, or when the column holds capacity).
    notes : str
        ``PROD_NOTES``.
    fixes : tuple of str
        Repairs made to this row.
    """

    line: int
    commodity: str
    type: str
    country_name: str
    country: str | None
    footnote: str
    qualifier: str
    unit: str
    prod_2023: Cell
    prod_2024: Cell
    cap_2024: Cell
    reserves: float
    notes: str
    fixes: tuple[str, ...] = ()

    @property
    def excludes_us(self) -> bool:
        """A world-total row whose note says it excludes US production."""
        return self.country == "WORLD" and "excludes u.s." in self.notes.lower()


@dataclass(frozen=True)
class Fig2Row:
    """One commodity of Fig2."""

    line: int
    order: int
    commodity: str
    nir: Cell
    sources: tuple[str, ...]
    """ISO codes in descending order of import share."""
    source_names: tuple[str, ...]
    """The names as printed (footnote digits removed)."""
    notes: str
    fixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SalientFile:
    """One salient-statistics file: its table and its rows by year."""

    table: Table
    years: dict[int, Row]

    def cell(self, year: int, column: str) -> Cell:
        """Return the cell of a column in a year (blank when the year is missing)."""
        row = self.years.get(year)
        return row.cell(column) if row else parse_cell("")

    def factor(self, column: str, target: str) -> float:
        """Factor that turns the column's figures into ``target`` (1 when it has no unit suffix)."""
        unit = column_unit(column)
        return _to(unit, target) if unit else 1.0


@dataclass(frozen=True)
class Release:
    """A whole release folder, read."""

    root: Path
    world: tuple[WorldRow, ...]
    world_table: Table
    fig2: dict[str, Fig2Row]
    fig2_table: Table
    t5: dict[str, Row]
    t5_table: Table
    salient: dict[str, SalientFile]
    fixes: dict[str, list[str]] = field(default_factory=dict)

    def world_rows(self, commodity: str, types: list[str]) -> list[WorldRow]:
        """Rows of a commodity and any of the given types, in file order."""
        wanted = {fix_typos(t).rstrip(".").strip() for t in types}
        return [r for r in self.world if r.commodity == commodity and r.type in wanted]


def _world_row(row: Row) -> WorldRow:
    fixes: list[str] = []
    raw_commodity = row.text("COMMODITY")
    commodity = fix_typos(raw_commodity)
    raw_type = row.text("TYPE")
    rtype = fix_typos(raw_type).rstrip(".").strip()
    for old, new in ((raw_commodity, commodity), (raw_type.rstrip("."), rtype)):
        if old != new:
            fixes.append(f"{old!r} read as {new!r}")
    name, footnote = split_footnote(row.text("COUNTRY"))
    if footnote:
        fixes.append(f"footnote {footnote} fused to {name!r} removed")
    base, qualifier = split_qualifier(name)
    code = country_code(name)  # None is reported when a catalogue row needs it (figures.world_figures)
    unit = row.text("UNIT_MEAS")
    if commodity in UNIT_FIXES and unit != UNIT_FIXES[commodity]:
        fixes.append(f"unit {unit!r} read as {UNIT_FIXES[commodity]!r} (the figures are thousand metric tons)")
        unit = UNIT_FIXES[commodity]
    reserves = row.cell("RESERVES_2024")
    if commodity == "Magnesium metal":
        fixes.append("RESERVES_2024 holds smelter capacity: not read as reserves")
        reserves_value = math.nan
    else:
        reserves_value = reserves.value if reserves.is_number else math.nan
    return WorldRow(
        line=row.line, commodity=commodity, type=rtype, country_name=base if not qualifier else name,
        country=code, footnote=footnote, qualifier=qualifier, unit=unit,
        prod_2023=row.cell("PROD_2023"), prod_2024=row.cell("PROD_EST_2024"), cap_2024=row.cell("CAP_EST_2024"),
        reserves=reserves_value, notes=row.text("PROD_NOTES"), fixes=tuple(fixes),
    )


def _fig2_row(table: Table, row: Row) -> tuple[Fig2Row, list[Problem]]:
    problems: list[Problem] = []
    codes: list[str] = []
    names: list[str] = []
    fixes: list[str] = []
    for part in row.text("Major_Import_Sources_2020_2023").split(","):
        if not clean_text(part):
            continue
        name, footnote = split_footnote(part)
        if footnote:
            fixes.append(f"footnote {footnote} fused to {name!r} removed")
        code = country_code(name)
        if code is None:
            problems.append(table.problem(row.line, "Major_Import_Sources_2020_2023",
                                          f"unknown country name {name!r}", "add it to names.py"))
            continue
        codes.append(code)
        names.append(name)
    order = row.cell("Import_Share_Order")
    record = Fig2Row(row.line, int(order.value) if order.is_number else 0, row.text("Commodity"),
                     row.cell("Net_Import_Reliance_pct_2024"), tuple(codes), tuple(names), row.text("Notes"),
                     tuple(fixes))
    return record, problems


def _require(table: Table, columns: list[str]) -> list[Problem]:
    return [
        table.problem(1, "", f"column {c!r} is missing", did_you_mean(c, table.columns, "check the file's header"))
        for c in columns if c not in table.columns
    ]


def _read(root: Path, rel: str, problems: list[Problem]) -> Table | None:
    try:
        return read_table(root / rel)
    except ScenarioError as err:
        problems.extend(err.problems)
        return None


def read_release(root: str | Path, salient_files: list[str] | None = None) -> Release:
    """Read a release folder.

    Parameters
    ----------
    root : str or Path
        The folder (layout in the module docstring).
    salient_files : list of str, optional
        Salient file names to read (default: every ``*_salient.csv`` there).

    Returns
    -------
    Release

    Raises
    ------
    ScenarioError
        Every missing file, missing column and unknown country name, located.
    """
    root = Path(root)
    if not root.is_dir():
        raise ScenarioError([Problem(str(root), 0, 0, (), "no such folder",
                                     "give the folder of the release (world_data/, industry_trends/, salient/)")])
    problems: list[Problem] = []
    world_t = _read(root, WORLD, problems)
    fig2_t = _read(root, FIG2, problems)
    t5_t = _read(root, T5, problems)
    if salient_files is None:
        salient_files = sorted(p.name for p in (root / SALIENT_DIR).glob("*_salient.csv"))
    salient: dict[str, SalientFile] = {}
    for name in salient_files:
        t = _read(root, f"{SALIENT_DIR}/{name}", problems)
        if t is None:
            continue
        problems += _require(t, ["Year"])
        years = {int(r.cell("Year").value): r for r in t.rows if r.cell("Year").is_number}
        salient[name] = SalientFile(t, years)
    if world_t is None or fig2_t is None or t5_t is None:
        raise ScenarioError(problems)
    problems += _require(world_t, ["COMMODITY", "COUNTRY", "TYPE", "UNIT_MEAS", "PROD_2023", "PROD_EST_2024"])
    problems += _require(fig2_t, ["Commodity", "Net_Import_Reliance_pct_2024", "Major_Import_Sources_2020_2023"])
    problems += _require(t5_t, ["Critical_mineral"])
    if problems:
        raise ScenarioError(problems)
    world: list[WorldRow] = []
    fixes: dict[str, list[str]] = {}
    for row in world_t.rows:
        record = _world_row(row)
        world.append(record)
        fixes.setdefault(world_t.name, []).extend(f"line {row.line}: {f}" for f in record.fixes)
    fig2: dict[str, Fig2Row] = {}
    for row in fig2_t.rows:
        rec, found = _fig2_row(fig2_t, row)
        fig2[rec.commodity] = rec
        problems += found
        fixes.setdefault(fig2_t.name, []).extend(f"line {row.line}: {f}" for f in rec.fixes)
    t5 = {row.text("Critical_mineral"): row for row in t5_t.rows}
    for t in (world_t, fig2_t, t5_t, *(s.table for s in salient.values())):
        fixes.setdefault(t.name, [])[:0] = [
            *(["UTF-8 byte-order mark removed"] if t.bom else []),
            *(["CRLF line endings read"] if t.crlf else []),
            *t.fixes,
        ]
    if problems:
        raise ScenarioError(problems)
    return Release(root, tuple(world), world_t, fig2, fig2_t, t5, t5_t, salient, fixes)
