"""Reconciling UN Comtrade's mirror flows: one quantity per exporter, importer, HS code and year.

Every flow between two reporting countries is in Comtrade twice: the importer's
report (``M``, partner = the exporter) and the exporter's report (``X``,
partner = the importer). They rarely agree. BACI (Gaulier and Zignago, CEPII
working paper 2010-23) reconciles them with a reliability weight estimated per
reporter and removes the cost of insurance and freight from import values; we
use a simpler, documented rule on *quantities*:

**importer first** — per (year, HS code, exporter, importer):

1. the importer's weight when it reports one;
2. else the exporter's weight (the mirror);
3. else no weight: the row is value-only, flagged and not converted.

``prefer="exporter"`` swaps the two sides. Importers' records are preferred
because customs check imports more closely (duties are levied on them). Weight
has no CIF/FOB gap: imports are valued CIF (with insurance and freight),
exports FOB, but both sides weigh the same goods, so no freight adjustment is
applied. Whenever both sides report a weight, the gap ``|M − X| / max(M, X)``
above ``gap`` is listed in the summary. Importers record the country of origin
and exporters the last known destination, so re-exports through a hub (goods
via Hong Kong) can make the two sides name different partners; such reports
do not meet and each stands alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from supplychain.importers.records import MirrorGap, Report, Side, Summary

__all__ = ["MIRROR_GAP", "reconcile"]

MIRROR_GAP: Final = 0.5
"""Relative gap between the two sides' weights above which a pair is listed."""


def reconcile(reports: Iterable[Report], summary: Summary, *, prefer: Side = "importer",
              gap: float = MIRROR_GAP) -> list[Report]:  # fmt: skip
    """Pick one report per flow from importer and exporter reports.

    Parameters
    ----------
    reports : iterable of Report
        Importer (``side="importer"``) and exporter (``side="exporter"``) reports.
    summary : Summary
        Counts duplicates and unused mirror reports as skipped, and collects gaps.
    prefer : {"importer", "exporter"}
        Whose weight wins when both report one.
    gap : float
        List pairs whose weights differ by more than this share of the larger.

    Returns
    -------
    list of Report
        One per (year, HS code, exporter, importer), sorted by that key.

    Examples
    --------
    The US reports 100 t imported from China, China 140 t exported to the US:
    the importer's 100 t are used, the mirror is counted as not used and the
    gap ``40 / 140 = 29 %`` stays below the 50 % listing threshold.

    >>> s = Summary()
    >>> m = Report(0, 2, 2024, "284690", 156, 842, 100.0, 5e5, "importer")
    >>> x = Report(0, 3, 2024, "284690", 156, 842, 140.0, 6e5, "exporter")
    >>> [r.tonnes for r in reconcile([x, m], s)], dict(s.skipped), s.gaps
    ([100.0], {'mirror': 1}, [])
    """
    pairs: dict[tuple[int, str, int, int], dict[str, Report]] = {}
    for r in reports:
        sides = pairs.setdefault((r.year, r.hs, r.exporter, r.importer), {})
        if r.side in sides:
            summary.skip("duplicate")
            continue
        sides[r.side] = r
    other: Side = "exporter" if prefer == "importer" else "importer"
    out = []
    for key in sorted(pairs):
        first, second = pairs[key].get(prefer), pairs[key].get(other)
        chosen: Report | None
        if first is not None and first.tonnes is not None:
            chosen = first
        elif second is not None and second.tonnes is not None:
            chosen = second
        else:
            chosen = first if first is not None else second
        assert chosen is not None  # every key holds at least one side
        if first is not None and second is not None:
            summary.skip("mirror")
            imp, exp = (first, second) if prefer == "importer" else (second, first)
            if imp.tonnes is not None and exp.tonnes is not None:
                g = MirrorGap(key[0], key[1], key[2], key[3], imp.tonnes, exp.tonnes)
                if g.gap > gap:
                    summary.gaps.append(g)
        out.append(chosen)
    return out
