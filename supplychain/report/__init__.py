"""Reports people would rather look at: network pictures, charts, an HTML page, Markdown.

=====================================  ===================================================
module                                 what it does
=====================================  ===================================================
:mod:`supplychain.report.dot`          :func:`to_dot` (Graphviz picture of one year's
                                       network, coloured by traced China share; diff view
                                       of a variant against the baseline) and
                                       :func:`render` (``.svg``/``.png``/``.dot``)
:mod:`supplychain.report.escape`       escaping of user text for DOT and HTML-like labels
:mod:`supplychain.report.charts`       matplotlib charts: China share by year with the
                                       target, shortfall, capacity additions
:mod:`supplychain.report.html`         :func:`run_scenario` and :func:`write_report`
                                       (self-contained ``index.html``, tables, images)
:mod:`supplychain.report.markdown`     ``summary.md`` for pasting into documents
=====================================  ===================================================

The names below are imported on first use, so ``import supplychain.report`` is cheap.

Examples
--------
>>> from supplychain.report import to_dot
>>> callable(to_dot)
True
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ScenarioRun",
    "render",
    "run_scenario",
    "to_dot",
    "write_report",
]

_WHERE = {
    "ScenarioRun": "supplychain.report.html",
    "render": "supplychain.report.dot",
    "run_scenario": "supplychain.report.html",
    "to_dot": "supplychain.report.dot",
    "write_report": "supplychain.report.html",
}


def __getattr__(name: str) -> Any:
    """Import the public names lazily (PEP 562)."""
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    msg = f"module 'supplychain.report' has no attribute {name!r}"
    raise AttributeError(msg)
