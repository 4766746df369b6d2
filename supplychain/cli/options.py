"""Options several subcommands share (only :mod:`typer` at module level, so ``--help`` stays fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["CommodityOption", "CountryOption", "PathOption"]

PathOption = Annotated[
    list[Path] | None,
    typer.Option("--path", metavar="DIR", show_default=False,
                 help="Also allow `extends` bases inside DIR (repeatable; also $SUPPLYCHAIN_PATH). "
                      "`extends: \\[bundled:NAME]` reaches the bundled world from anywhere."),
]
"""``--path DIR``: an extra allowed root for ``extends`` (:mod:`supplychain.io.roots`)."""

CountryOption = Annotated[
    list[str] | None,
    typer.Option("--country", "-c", metavar="CODE",
                 help="Focus countries (ISO codes, or groups/regions of the scenario), shown first; repeatable."),
]
"""``--country CODE``: focus countries of ``compare`` and ``report`` (checked, with a did-you-mean)."""

CommodityOption = Annotated[
    list[str] | None,
    typer.Option("--commodity", "-k", metavar="ID",
                 help="Only these commodities' rows (ids of the scenario, checked); repeatable."),
]
"""``--commodity ID``: the commodities ``run`` and ``compare`` show (checked before simulating, with a did-you-mean)."""
