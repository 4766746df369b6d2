"""supplychain: critical-mineral supply chains and exposure to China.

The pipeline, one module per stage::

    scenario YAML --io.load--> Scenario --graph.build--> edge tables / networkx view
        --engine (exposure maths, simulation)--> results (tidy DataFrames)
        --report--> tables, graph images, HTML
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
