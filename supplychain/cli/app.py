"""The typer application: ``--version``, ``--help`` and one line per subcommand.

Subcommand modules import only :mod:`typer` at module level and the rest of
supplychain inside the command, so ``supplychain --help`` starts fast (no
pydantic, pandas, scipy or networkx). Add a subcommand with one line in
:data:`COMMANDS`; :func:`~supplychain.cli.common.guarded` gives every command the same
clean error messages (no traceback for anything the package raises on purpose).

:data:`app` has every command. The ``supplychain`` console script (:func:`main`) builds
the application with only the command it is asked for when that is its first argument
(``supplychain run …``): the other commands' modules are not imported nor their options
read by typer (~0.04 s of each ``run`` and ``compare``, ``docs/performance.md``); the
command, its options, help and errors are the same. Anything else (``--help``, ``--version``,
no argument, a misspelt command) gets every command.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import cache
from typing import Annotated, Any, Final

import typer
from typer.core import TyperOption

from supplychain import __version__
from supplychain.cli.common import guarded, install_signal_handlers
from supplychain.cli.helptext import help_text

__all__ = ["COMMANDS", "app", "main", "make_app"]

COMMANDS: Final[dict[str, tuple[str, tuple[type[BaseException], ...]]]] = {
    "validate": ("validate", ()),
    "run": ("run", ()),
    "compare": ("compare", ()),
    "schema": ("schema", ()),
    "sweep": ("sweep", (ValueError, KeyError)),
    "graph": ("graph", (ValueError,)),
    "report": ("report", (ValueError,)),
    "atlas": ("atlas", ()),
    "import": ("importers", (ValueError,)),
}
"""Each subcommand, in the order ``--help`` lists them: the module of :mod:`supplychain.cli` that holds it (the
function of the command's name; ``import``: the sub-app ``import_app``, one command per source) and the errors
besides :data:`~supplychain.cli.common.USER_ERRORS` it reports cleanly (:func:`~supplychain.cli.common.guarded`)."""


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"supplychain {__version__}")
        raise typer.Exit


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Critical-mineral supply chains: exposure to China, export bans, deals and re-routing.

    Example:

        supplychain validate scenarios/ --require-sources
    """


def _module(name: str) -> Any:
    return __import__(f"supplychain.cli.{name}", fromlist=[name])


@cache
def _import_app() -> typer.Typer:
    """Return the ``import …`` sub-app, its commands with :func:`guarded`'s errors and :func:`help_text`'s layout."""
    import_app: typer.Typer = _module("importers").import_app
    for info in import_app.registered_commands:
        if info.callback is not None:
            info.help = help_text(info.help or info.callback.__doc__)
            info.callback = guarded(info.callback, also=COMMANDS["import"][1])
    return import_app


def make_app(commands: Sequence[str] | None = None) -> typer.Typer:
    """Return the application with ``commands`` (default: every one of :data:`COMMANDS`), in :data:`COMMANDS`' order."""
    made = typer.Typer(
        name="supplychain",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    made.callback()(_root)
    for name, (module, also) in COMMANDS.items():
        if commands is not None and name not in commands:
            continue
        if name == "import":
            made.add_typer(_import_app(), name="import")
            continue
        command: Callable[..., None] = getattr(_module(module), name)
        made.command(name, help=help_text(command.__doc__))(guarded(command, also=also))
    return made


app: typer.Typer
"""The application with every command (:func:`make_app`), made when first read (module ``__getattr__``)."""


def __getattr__(name: str) -> Any:
    """:data:`app`, made when first read (so that :func:`main` imports only the command it runs)."""
    if name == "app":
        made = globals()["app"] = make_app()
        return made
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


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
    """Run the command line (the ``supplychain`` console script); SIGTERM exits as cleanly as SIGINT.

    The application holds only the command named by the first argument, when it names one (:func:`make_app`).
    """
    install_signal_handlers()
    first = sys.argv[1] if len(sys.argv) > 1 else ""
    make_app([first] if first in COMMANDS else None)(prog_name="supplychain")
