"""The typer application: ``--version``, ``--help`` and one line per subcommand.

Subcommand modules import only :mod:`typer` at module level and the rest of
supplychain inside the command, so ``supplychain --help`` starts fast (no
pydantic, pandas, scipy or networkx). Add a subcommand with one registration
line below; :func:`~supplychain.cli.common.guarded` gives every command the same
clean error messages (no traceback for anything the package raises on purpose).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperOption

from supplychain import __version__
from supplychain.cli.common import guarded, install_signal_handlers
from supplychain.cli.helptext import help_text
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


def _command(name: str, command: Callable[..., None], also: tuple[type[BaseException], ...] = ()) -> None:
    """Register ``command`` as ``name`` with :func:`guarded`'s clean errors and :func:`help_text`'s layout."""
    app.command(name, help=help_text(command.__doc__))(guarded(command, also=also))


def _module(name: str) -> Any:
    return __import__(f"supplychain.cli.{name}", fromlist=[name])


_command("validate", validate)
_command("run", _module("run").run)
_command("compare", _module("compare").compare)
_command("schema", schema)
_command("sweep", sweep, also=(ValueError, KeyError))
_command("graph", _module("graph").graph, also=(ValueError,))
_command("report", _module("report").report, also=(ValueError,))
_command("atlas", _module("atlas").atlas)
for _info in import_app.registered_commands:  # `import …` commands: the same clean errors and layout
    if _info.callback is not None:
        _info.help = help_text(_info.help or _info.callback.__doc__)
        _info.callback = guarded(_info.callback, also=(ValueError,))
app.add_typer(import_app, name="import")


def _flag_type(original: Callable[[TyperOption, Any], str | None]) -> Callable[[TyperOption, Any], str | None]:
    """Show no ``<bool>`` beside a flag (``--png``, ``--help``: they take no value) and ``<int>`` for ``<list[int]>``.

    typer 0.29 prints an option's type in ``--help``; ``--png <bool>`` reads as ``--png true``.
    """

    def display(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        shown = original(self, ctx)
        if shown is not None and shown.startswith("<list[") and shown.endswith("]>"):
            return f"<{shown[6:-2]}>"  # repeatable options say so in their help
        return shown

    return display


if hasattr(TyperOption, "display_type_rich"):
    TyperOption.display_type_rich = _flag_type(TyperOption.display_type_rich)  # type: ignore[method-assign,assignment]


def main() -> None:
    """Run the command line (the ``supplychain`` console script); SIGTERM exits as cleanly as SIGINT."""
    install_signal_handlers()
    app(prog_name="supplychain")
