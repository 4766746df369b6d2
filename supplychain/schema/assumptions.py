"""What a scenario's records say they assume: the ranked-source split of import shares.

The USGS importer (:mod:`supplychain.importers.usgs_mcs`) writes, for a commodity whose
import sources are published as a ranked list without percentages, import shares split
by rank and an ``assumption`` on each partner's share that starts with
:data:`ASSUMED_SPLIT`. That text is the flag every output reads (:func:`assumed_split`);
this module holds it without the importer, so that ``supplychain run`` reads it without
importing the importer package (docs/performance.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from supplychain.schema.model import Scenario

__all__ = ["ASSUMED_SPLIT", "assumed_split"]

ASSUMED_SPLIT: Final = "RANKED-SOURCE SPLIT"
"""How every assumption on ranked import sources starts (outputs search for it)."""


def assumed_split(scenario: Scenario, country: str = "US") -> set[str]:
    """Commodities whose import shares of ``country`` are a ranked-source split (an assumption) in a scenario.

    A commodity is in the set when one of ``country``'s import records of it has a partner
    share whose ``assumption`` starts with :data:`ASSUMED_SPLIT`.

    The one rule for the shares built on them (direct import share, traced share, exposure): each
    output marks them ``*`` (:data:`~supplychain.report.numbers.ASSUMED_MARK`), reads them to the
    whole percent (:func:`~supplychain.report.numbers.format_percent`, then the mark:
    :func:`~supplychain.report.numbers.assumed_percent`) and prints the one footnote
    :data:`~supplychain.report.numbers.ASSUMED_NOTE`: an order of magnitude (docs/minerals-data.md,
    "Ranked sources, not shares").

    * ``supplychain run`` stars the row's commodity (``graphite*``): it stands for every share
      of the row, which the table prints to the whole percent (``format_percent``).
    * The report stars the exposure and traced cells (its answer table shows no direct import
      share), whole percents as every share on the page.
    * The atlas's ``--controls`` table stars the traced share and reads it to the whole
      percent (``75%*``; its other shares keep one decimal). Its direct import share is not shown.
    """
    return {imp.commodity for imp in scenario.imports.values() if imp.importer == country
            and any((q.assumption or "").startswith(ASSUMED_SPLIT) for q in imp.partners.values())}
