"""What the readers produce (reported quantities) and what a run counts (its summary).

A :class:`Report` is one bilateral quantity as a file states it: BACI's
reconciled flow, or one side of a Comtrade mirror pair (the importer's or the
exporter's report). The :class:`Summary` counts every row read into exactly one
fate — not selected, skipped for a reason, or converted — and keeps the lists a
user must see: unmapped countries, value-only rows, mirror gaps, basket caveats.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["REASONS", "MirrorGap", "Report", "Summary", "Unmapped"]

Side = Literal["baci", "importer", "exporter"]

REASONS: Final = {
    "aggregate": "an aggregate (World, EU) at one end",
    "unmapped": "a country code with no ISO 3166 code (listed below)",
    "self": "the same country at both ends (after --fold)",
    "no_quantity": "no quantity (value only)",
    "other_unit": "quantity in a unit other than weight",
    "duplicate": "the same flow again (same year, HS code and countries)",
    "mirror": "mirror report not used (the other side's report was)",
    "reexport": "re-export or re-import (not a first-hop flow)",
    "other_flow": "another flow type (in-transit, processing)",
    "breakdown": "a breakdown row (mode of transport, customs procedure or second partner)",
    "monthly": "a monthly row (annual data expected)",
}
"""Why a selected row was skipped, by key."""


@dataclass(frozen=True, slots=True)
class Report:
    """One bilateral quantity as a file reports it.

    Attributes
    ----------
    file : int
        Index of the input file.
    line : int
        Line in that file.
    year : int
        Year of the flow.
    hs : str
        Six-digit HS code.
    exporter, importer : int
        Country codes as in the file (UN M49 trade codes).
    tonnes : float or None
        Traded weight in tonnes, None when the row has none in a unit of weight.
    value : float or None
        Trade value as reported (BACI: thousand USD; Comtrade: USD).
    side : {"baci", "importer", "exporter"}
        Who reported it: BACI (already reconciled), the importing or the exporting country.
    unit : str
        The unit of a quantity that is not a weight (Comtrade), else empty.
    estimated : bool
        Comtrade flags the weight as estimated.
    """

    file: int
    line: int
    year: int
    hs: str
    exporter: int
    importer: int
    tonnes: float | None
    value: float | None
    side: Side = "baci"
    unit: str = ""
    estimated: bool = False


@dataclass
class Unmapped:
    """A country code without ISO code: how many rows and tonnes it took with it.

    ``in_remainder`` of those rows were kept in an importer's total (``imports``
    shape: the exporter is unknown, so its tonnes go to ``remainder_to``).
    """

    code: int
    name: str
    rows: int = 0
    tonnes: float = 0.0
    in_remainder: int = 0


@dataclass(frozen=True)
class MirrorGap:
    """A pair whose importer and exporter reports differ by more than the reporting threshold."""

    year: int
    hs: str
    exporter: int
    importer: int
    importer_t: float
    exporter_t: float

    @property
    def gap(self) -> float:
        """``|M − X| / max(M, X)``."""
        return abs(self.importer_t - self.exporter_t) / max(self.importer_t, self.exporter_t)


@dataclass
class Summary:
    """Counts and lists of one import run (every row read has exactly one fate).

    ``rows_read = Σ not_selected + Σ skipped + converted``; ``mapped`` counts the
    selected rows whose HS code and countries resolved (some of them are then
    skipped for want of a quantity).
    """

    rows_read: int = 0
    not_selected: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    mapped: int = 0
    converted: int = 0
    entries: int = 0
    value_only: float = 0.0
    value_unit: str = ""
    other_units: Counter[str] = field(default_factory=Counter)
    estimated: int = 0
    sides: Counter[str] = field(default_factory=Counter)
    unmapped: dict[int, Unmapped] = field(default_factory=dict)
    gaps: list[MirrorGap] = field(default_factory=list)
    caveats: dict[str, str] = field(default_factory=dict)
    conversions: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    def skip(self, reason: str, rows: int = 1) -> None:
        """Count ``rows`` skipped for ``reason`` (a key of :data:`REASONS`)."""
        self.skipped[reason] += rows

    def lines(self, gap_limit: int = 10) -> list[str]:
        """Return the summary as text lines (printed by the CLI, written into the fragment's header)."""
        out = [f"rows read: {self.rows_read:,}"]
        for what, n in sorted(self.not_selected.items()):
            out.append(f"  not selected ({what}): {n:,}")
        out.append(f"  mapped (HS code and countries resolved): {self.mapped:,}")
        out.append(f"  converted to the commodity's basis: {self.converted:,}")
        if self.sides:
            out.append("    reported by: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.sides.items())))
        if self.estimated:
            out.append(f"    of which with a weight the source flags as estimated: {self.estimated:,}")
        total = sum(self.skipped.values())
        out.append(f"  skipped: {total:,}")
        for key, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"    {n:,} {REASONS.get(key, key)}")
        if self.value_only:
            out.append(f"  value of the value-only rows: {self.value_only:,.6g} {self.value_unit} "
                       "(flagged, not converted)")
        for unit, n in sorted(self.other_units.items()):
            out.append(f"  quantity in '{unit}' only: {n:,} rows (not a weight; not converted)")
        out.append(f"entries written: {self.entries:,}")
        for code, conversion in sorted(self.conversions.items()):
            out.append(f"HS {code}: {conversion}")
        for code, caveat in sorted(self.caveats.items()):
            out.append(f"caveat HS {code}: {caveat}")
        out += [f"note: {text}" for text in self.notices]
        if self.unmapped:
            out.append("unmapped countries (no ISO 3166 code):")
            for u in sorted(self.unmapped.values(), key=lambda u: (-u.rows, u.code)):
                kept = f", {u.in_remainder:,} of them in importers' remainder" if u.in_remainder else ""
                out.append(f"  {u.code} {u.name}: {u.rows:,} rows, {u.tonnes:,.6g} t{kept}")
        if self.gaps:
            ranked = sorted(self.gaps, key=lambda g: (-g.gap, g.year, g.hs, g.exporter, g.importer))
            out.append(f"mirror gaps above the threshold: {len(ranked):,} pairs (largest first)")
            for g in ranked[:gap_limit]:
                out.append(f"  {g.year} HS {g.hs} {g.exporter} -> {g.importer}: importer reports {g.importer_t:,.6g} t,"
                           f" exporter {g.exporter_t:,.6g} t ({g.gap:.0%} apart)")
        return out
