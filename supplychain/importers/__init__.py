"""Scenario fragments from data researchers already have: CEPII BACI, UN Comtrade, USGS MCS.

:func:`import_baci` and :func:`import_comtrade` read the files a user downloaded
(nothing is fetched), keep the HS codes of the mapping (:func:`load_mapping`;
the shipped ``supplychain/data/hs_map.yaml`` or the user's own), map country
codes to ISO 3166, convert traded weight to each commodity's basis and return a
:class:`TradeImport`: a tidy table, a summary of what was read, mapped,
converted and skipped (and why), and a scenario fragment of ``flows`` or
``imports`` that a scenario ``extends``. Guide: ``docs/trade-data.md``.

Modules, by stage: :mod:`.table` (streaming CSV, located problems),
:mod:`.baci` / :mod:`.comtrade` (readers), :mod:`.reconcile` (Comtrade mirror
flows), :mod:`.countries` (codes → ISO), :mod:`.hsmap` (the HS mapping),
:mod:`.convert` (selection, conversion, aggregation), :mod:`.fragment` (YAML
out), :mod:`.trade` (the steps both importers share).

:mod:`supplychain.importers.usgs_mcs` imports the USGS Mineral Commodity Summaries 2025
data release (``supplychain import usgs-mcs``; guide in ``docs/minerals-data.md``).
"""

from supplychain.importers.baci import import_baci
from supplychain.importers.comtrade import import_comtrade
from supplychain.importers.hsmap import SHIPPED_MAPPING, HsMapping, load_mapping
from supplychain.importers.records import Summary
from supplychain.importers.trade import TradeImport

__all__ = ["SHIPPED_MAPPING", "HsMapping", "Summary", "TradeImport", "import_baci", "import_comtrade", "load_mapping"]
