"""Importers: public data sets turned into sourced scenario fragments.

* :mod:`supplychain.importers.usgs_mcs` — USGS Mineral Commodity Summaries 2025
  data release (``supplychain import usgs-mcs``).
"""
