"""The ``supplychain`` command line, a thin layer over the Python API.

One module per subcommand; :mod:`supplychain.cli.app` registers them.
"""

from supplychain.cli.app import app, main

__all__ = ["app", "main"]
