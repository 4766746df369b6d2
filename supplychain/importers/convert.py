"""From reported quantities to flows on the commodity's basis.

Two steps, shared by both importers:

* :func:`select_targets` — which HS codes to import and what each becomes (the
  mapping's default target, or ``--commodity``);
* :func:`aggregate` — resolve both countries, skip what cannot be counted (with
  its reason), convert weights and sum per (year, HS code, exporter, importer).

Conversion (``docs/trade-data.md``): ``tonnes = traded t × factor × unit``, with
``factor`` from the mapping (content per tonne traded) and ``unit`` from the
commodity's basis (1 for ``t …``, 1000 for ``kg …``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import pandas as pd

from supplychain.importers.countries import CountryResolver
from supplychain.importers.hsmap import HsMapping, Target, normalise_hs
from supplychain.importers.records import Report, Summary, Unmapped

__all__ = ["TABLE_COLUMNS", "UNKNOWN", "aggregate", "code_lookup", "select_targets"]

UNKNOWN: Final = ""
"""Exporter of rows whose exporter has no ISO code, kept for an importer's total (``imports`` shape)."""

TABLE_COLUMNS: Final = ("year", "hs", "commodity", "basis", "exporter", "importer", "traded_t", "factor", "unit",
                        "tonnes", "value", "rows", "file", "codes", "side")  # fmt: skip
"""Columns of the table :func:`aggregate` returns (one row per year, HS code, exporter, importer)."""


def select_targets(
    mapping: HsMapping, hs: Sequence[str] | None = None, commodity: str | None = None
) -> dict[str, Target]:
    """Resolve the HS codes to import, each to its commodity.

    Parameters
    ----------
    mapping : HsMapping
        The mapping file.
    hs : sequence of str, optional
        Codes or prefixes (2, 4 or 6 digits, dots allowed; ``"2846"`` is every mapped
        2846 code). Default: every code of the mapping.
    commodity : str, optional
        Count every selected code as this commodity (default: each code's first target).

    Returns
    -------
    dict
        Six-digit code → :class:`~supplychain.importers.hsmap.Target`, sorted by code.

    Raises
    ------
    ValueError
        A code that is no HS code or not in the mapping, or a commodity a
        selected code cannot be counted as (the message says how to fix it).

    Examples
    --------
    >>> from supplychain.importers.hsmap import load_mapping
    >>> {k: t.commodity for k, t in select_targets(load_mapping(), ["2846"]).items()}
    {'284610': 'ree_compounds', '284690': 'ree_compounds'}
    """
    wanted = [normalise_hs(h) for h in hs] if hs else list(mapping.codes)
    codes: list[str] = []
    for prefix in wanted:
        hits = [c for c in mapping.codes if c.startswith(prefix)]
        if not hits:
            msg = (f"HS {prefix} is not in the mapping (mapped: {', '.join(mapping.codes)}); "
                   "add it to your own mapping file and pass --mapping FILE")  # fmt: skip
            raise ValueError(msg)
        codes.extend(c for c in hits if c not in codes)
    out = {}
    for code in sorted(codes):
        targets = mapping.codes[code].targets
        if commodity is not None and commodity not in targets:
            msg = (f"HS {code} cannot be counted as {commodity!r} (its targets: {', '.join(targets)}); "
                   f"add `{commodity}` under codes.{code}.targets in your mapping file, or leave --commodity out")
            raise ValueError(msg)
        out[code] = mapping.target(code, commodity)
    return out


def code_lookup(codes: Iterable[str]) -> dict[str, str]:
    """Map each code as a file may write it to the six-digit code: a code that lost its leading zero too.

    Examples
    --------
    >>> code_lookup(["010121", "850511"])
    {'010121': '010121', '850511': '850511', '10121': '010121'}
    """
    codes = list(codes)
    return {code: code for code in codes} | {code[1:]: code for code in codes if code.startswith("0")}


@dataclass
class _Cell:
    traded_t: float = 0.0
    value: float = 0.0
    rows: int = 0
    files: set[int] = field(default_factory=set)
    codes: set[tuple[int, int]] = field(default_factory=set)
    sides: set[str] = field(default_factory=set)


def aggregate(
    reports: Iterable[Report],
    targets: dict[str, Target],
    countries: CountryResolver,
    summary: Summary,
    *,
    exporters: Collection[str] | None = None,
    importers: Collection[str] | None = None,
    keep_unknown_exporter: bool = False,
) -> pd.DataFrame:
    """Resolve, filter, convert and sum reports into one row per year, HS code, exporter and importer.

    Every report gets one fate, counted in ``summary``: skipped (an aggregate or
    unmapped country, the same country at both ends, no quantity or one in
    another unit), not selected (``exporters`` / ``importers``), or converted.

    Parameters
    ----------
    reports : iterable of Report
        Already selected by HS code and year (the readers do that).
    targets : dict
        HS code → target (:func:`select_targets`).
    countries : CountryResolver
        Code → ISO alpha-2 (with ``--fold``).
    summary : Summary
        Updated in place.
    exporters, importers : collection of str, optional
        Keep only these ISO codes (after folding).
    keep_unknown_exporter : bool
        Keep rows whose exporter has no ISO code (exporter :data:`UNKNOWN`) when the
        importer has one: an ``imports`` entry counts them in its total, and
        ``remainder_to`` receives them. Otherwise they are skipped.

    Returns
    -------
    DataFrame
        :data:`TABLE_COLUMNS`, sorted by year, HS code, exporter, importer;
        ``tonnes = traded_t × factor × unit`` on the commodity's basis.
    """
    cells: dict[tuple[int, str, str, str], _Cell] = {}
    for r in reports:
        exp, imp = countries(r.exporter), countries(r.importer)
        if exp.kind == "aggregate" or imp.kind == "aggregate":
            summary.skip("aggregate")
            continue
        exporter = exp.iso2
        if imp.iso2 is None or (exporter is None and not keep_unknown_exporter):
            for code, res in ((r.exporter, exp), (r.importer, imp)):
                if res.iso2 is None:
                    _unmapped(summary, countries, code, r.tonnes, remainder=False)
            summary.skip("unmapped")
            continue
        if exporter is None:
            _unmapped(summary, countries, r.exporter, r.tonnes, remainder=True)
            exporter = UNKNOWN
        if exporter == imp.iso2:
            summary.skip("self")
            continue
        unasked = exporters is not None and exporter not in exporters
        if unasked or (importers is not None and imp.iso2 not in importers):
            summary.not_selected["country not asked for"] += 1
            continue
        summary.mapped += 1
        if r.tonnes is None:
            summary.skip("other_unit" if r.unit else "no_quantity")
            if r.unit:
                summary.other_units[r.unit] += 1
            elif r.value is not None:
                summary.value_only += r.value
            continue
        summary.converted += 1
        summary.sides[r.side] += 1
        summary.estimated += r.estimated
        cell = cells.setdefault((r.year, r.hs, exporter, imp.iso2), _Cell())
        cell.traded_t += r.tonnes
        cell.value += r.value or 0.0
        cell.rows += 1
        cell.files.add(r.file)
        cell.codes.add((r.exporter, r.importer))
        cell.sides.add(r.side)
    records = []
    for key in sorted(cells):
        cell, target = cells[key], targets[key[1]]
        tonnes = cell.traded_t * target.factor * target.unit
        codes = " ".join(f"{e}->{i}" for e, i in sorted(cell.codes))
        records.append((*key[:2], target.commodity, target.basis, *key[2:], cell.traded_t, target.factor,
                        target.unit, tonnes, cell.value, cell.rows, min(cell.files), codes,
                        "+".join(sorted(cell.sides))))  # fmt: skip
    return pd.DataFrame.from_records(records, columns=list(TABLE_COLUMNS))


def _unmapped(
    summary: Summary, countries: CountryResolver, code: int, tonnes: float | None, *, remainder: bool
) -> None:
    entry = summary.unmapped.setdefault(code, Unmapped(code, countries.name(code)))
    entry.rows += 1
    entry.tonnes += tonnes or 0.0
    entry.in_remainder += remainder
