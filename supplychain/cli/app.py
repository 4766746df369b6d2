"""The typer application: ``--version``, ``--help`` and one line per subcommand.

Subcommand modules import only :mod:`typer` at module level and the rest of
supplychain inside the command, so ``supplychain --help`` starts fast (no
pydantic, pandas, scipy or networkx). Add a subcommand with one registration
line below; :func:`~supplychain.cli.common.guarded` gives every command the same
clean error messages (no traceback for anything the package raises on purpose).
"""

from __future__ import annotations

from typing import Annotated

import typer

from supplychain import __version__
from supplychain.cli.common import guarded, install_signal_handlers
from supplychain.cli.importers import import_app
from supplychain.cli.schema import schema
from supplychain.cli.sweep import sweep
from supplychain.cli.validate import validate

__all__ = ["app", "main"]

app = typer.Typer(
    name="supplychain",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"supplychain {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Critical-mineral supply chains: exposure to China, export bans, deals and re-routing.

    Example:

        supplychain validate scenarios/ --require-sources
    """


app.command("validate")(guarded(validate))
app.command("run")(guarded(__import__("supplychain.cli.run", fromlist=["run"]).run))
app.command("compare")(guarded(__import__("supplychain.cli.compare", fromlist=["compare"]).compare))
app.command("schema")(guarded(schema))
app.command("sweep")(guarded(sweep, also=(ValueError, KeyError)))
app.command("graph")(guarded(__import__("supplychain.cli.graph", fromlist=["graph"]).graph, also=(ValueError,)))
app.command("report")(guarded(__import__("supplychain.cli.report", fromlist=["report"]).report, also=(ValueError,)))
app.command("atlas")(guarded(__import__("supplychain.cli.atlas", fromlist=["atlas"]).atlas))
for _info in import_app.registered_commands:  # `import …` commands: the same clean errors
    if _info.callback is not None:
        _info.callback = guarded(_info.callback, also=(ValueError,))
app.add_typer(import_app, name="import")


def main() -> None:
    """Run the command line (the ``supplychain`` console script); SIGTERM exits as cleanly as SIGINT."""
    install_signal_handlers()
    app(prog_name="supplychain")
