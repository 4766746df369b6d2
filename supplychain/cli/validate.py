"""``supplychain validate``: check scenario files and report every problem."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from supplychain.cli.common import echo, freeze_imports, print_warnings
from supplychain.cli.options import PathOption

if TYPE_CHECKING:
    from supplychain.io import FileReport
    from supplychain.schema.model import Scenario

__all__ = ["validate"]

_COUNTED = {"sources": "source", "commodities": "commodity", "processes": "process", "facilities": "facility",
            "flows": "flow", "imports": "import", "demand": "demand", "stockpiles": "stockpile", "policies": "policy",
            "agreements": "agreement", "toggles": "toggle", "variants": "variant", "targets": "target"}  # fmt: skip


def _counts(scenario: Scenario) -> str:
    parts = []
    for plural, singular in _COUNTED.items():
        n = len(getattr(scenario, plural))
        if n:
            parts.append(f"{n} {singular if n == 1 else plural}")
    return ", ".join(parts) or "no entities"


def _report(report: FileReport, *, quiet: bool, show_overrides: bool, explain: bool = False,
            verbose: bool = True) -> None:
    from supplychain.io import applied_overrides
    from supplychain.schema.coverage import coverage_lines

    if report.error is not None:
        echo(f"FAIL {report.file}: {report.error}", err=True)
    elif report.skipped:
        from supplychain.io.load import FRAGMENT

        if not quiet and (verbose or report.skipped != FRAGMENT):  # base fragments: one line at the end
            echo(f"skip {report.file}: {report.skipped}")
    elif report.scenario is not None and not quiet:
        echo(f"ok   {report.file}: {_counts(report.scenario)}")
        if show_overrides:
            for override in applied_overrides(report.scenario):
                echo(f"     override {override}")
        if explain:
            for line in coverage_lines(report.scenario):
                echo(f"     policy {line}")
    print_warnings(report.warnings, report.file)


def validate(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH",
            help="Scenario files or folders (folders: every *.yaml with a top-level `scenario:` key).",
            show_default=False,
        ),
    ],
    require_sources: Annotated[
        bool, typer.Option("--require-sources", help="Every figure must cite a `source` or state an `assumption`.")
    ] = False,
    show_overrides: Annotated[
        bool, typer.Option("--show-overrides", help="List every value a file overrides in the bases it extends.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="List what each policy covers, commodity by commodity, at what share.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print problems only.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every base fragment skipped (default: how many).")
    ] = False,
    path: PathOption = None,
) -> None:
    """Check scenario files and report every problem with file:line:column.

    Exit status 0 when every file is valid, 1 when any has a problem (a closed
    trade loop too). Files in folders without a `scenario:` section are base
    fragments: counted as skipped in one line (--verbose lists them; they are checked
    through the scenarios that extend them); named pipes and dangling links are listed as skipped. Warnings (ids that
    differ only by case or -/_) do not change the exit status.

    Example:

        supplychain validate scenarios/ --require-sources --show-overrides --explain
    """
    from supplychain.io import validate_paths

    freeze_imports()
    reports = validate_paths(paths, require_sources=require_sources, extra_roots=path or ())
    for report in reports:
        _report(report, quiet=quiet, show_overrides=show_overrides, explain=explain, verbose=verbose)
    failed = sum(1 for r in reports if not r.ok)
    if not quiet:
        from supplychain.io.load import FRAGMENT

        fragments = sum(1 for r in reports if r.skipped == FRAGMENT)
        if fragments and not verbose:
            echo(f"skip {fragments} base fragment(s) without a `scenario:` section (checked through the scenarios "
                 "that extend them; --verbose lists them)")
        skipped = sum(1 for r in reports if r.skipped)
        summary = (
            f"{len(reports)} file(s): {len(reports) - failed - skipped} valid, {failed} invalid, {skipped} skipped"
        )
        echo(summary, err=failed > 0)
    raise typer.Exit(1 if failed else 0)
