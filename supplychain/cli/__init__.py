"""The ``supplychain`` command line, a thin layer over the Python API.

One module per subcommand; :mod:`supplychain.cli.app` registers them. ``app`` (every command) is made
when first read: the console script (:func:`main`) makes the application of the command it runs.
"""

from typing import Any

from supplychain.cli.app import main

__all__ = ["app", "main"]

globals().pop("app")  # the submodule, bound by the import above: ``supplychain.cli.app`` reads as the application


def __getattr__(name: str) -> Any:
    """``app``: :data:`supplychain.cli.app.app`, the application with every command."""
    if name == "app":
        from supplychain.cli.app import app

        globals()["app"] = app
        return app
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
