"""``supplychain import …``: scenario fragments from downloaded data (a sub-app, one command per source).

``import_app`` is registered in :mod:`supplychain.cli.app` as ``import``; add a
source with one ``import_app.command(...)`` line below. Thin over
:mod:`supplychain.importers`; guides in ``docs/trade-data.md`` (BACI, Comtrade) and
``docs/minerals-data.md`` (USGS MCS).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supplychain.cli.common import echo, fail
from supplychain.cli.import_usgs import usgs_mcs

if TYPE_CHECKING:
    from supplychain.importers import TradeImport

__all__ = ["baci", "comtrade", "import_app", "usgs_mcs"]

import_app = typer.Typer(
    name="import",
    help="Write scenario fragments from data you downloaded (nothing is fetched).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Files = Annotated[list[Path], typer.Argument(metavar="FILE...", help="The downloaded file(s).", show_default=False)]
Hs = Annotated[list[str] | None, typer.Option(
    "--hs", metavar="CODE", help="HS code or prefix (2846, 2846.90, 284690); repeatable, commas allowed. "
                                 "Default: every code in the mapping.")]  # fmt: skip
Years = Annotated[list[int] | None, typer.Option("--year", "-y", help="Year(s) to keep; repeatable. Default: all.")]
Commodity = Annotated[str | None, typer.Option(
    "--commodity", metavar="NAME", help="Count every selected code as this commodity (one of its targets in the "
                                        "mapping). Default: each code's first target.")]  # fmt: skip
Mapping = Annotated[Path | None, typer.Option(
    "--mapping", metavar="FILE", help="Your HS mapping (YAML; start from supplychain/data/hs_map.yaml).")]
As = Annotated[str, typer.Option(
    "--as", metavar="flows|imports", help="flows: one flow per exporter and importer; imports: per importer, its "
                                          "total and partner shares.")]  # fmt: skip
Exporters = Annotated[list[str] | None, typer.Option(
    "--exporter", metavar="ISO2", help="Keep only these exporters (flows only); repeatable.")]
Importers = Annotated[list[str] | None, typer.Option("--importer", metavar="ISO2", help="Keep only these importers; "
                                                                                         "repeatable.")]  # fmt: skip
Fold = Annotated[list[str] | None, typer.Option(
    "--fold", metavar="FROM=TO", help="Count one country as another, e.g. HK=CN (as USGS does); repeatable.")]
Output = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write the fragment here (atomically). Default: standard output.")]
Prefix = Annotated[str | None, typer.Option("--prefix", help="Start of every entity id (default: the source's name).")]
Remainder = Annotated[str, typer.Option(
    "--remainder-to", metavar="REGION", help="imports: who gets what partner shares leave over (a declared region).")]


def _split(values: list[str] | None) -> list[str] | None:
    return [v.strip() for item in values for v in item.split(",") if v.strip()] if values else None


def _common(hs: list[str] | None, year: list[int] | None, commodity: str | None, mapping: Path | None, shape: str,
            exporter: list[str] | None, importer: list[str] | None, fold: list[str] | None,
            remainder_to: str) -> dict[str, Any]:  # fmt: skip
    """Return the keyword arguments both importers take, from the shared options."""
    return {"hs": _split(hs), "years": year, "commodity": commodity, "mapping": mapping, "shape": shape,
            "exporters": _split(exporter), "importers": _split(importer), "fold": _split(fold),
            "remainder_to": remainder_to}  # fmt: skip


def _emit(result: TradeImport, output: Path | None) -> None:
    for line in result.summary.lines():
        echo(line, err=True)
    if output is None:
        echo(result.text, nl=False)
    else:
        try:
            result.write(output)
        except OSError as err:
            fail(f"cannot write {output}: {err.strerror or err}")
        echo(f"wrote {output}", err=True)


def _guarded(call: Callable[[], TradeImport]) -> TradeImport:
    """Run an import; a bad file or option ends the command with the located problems, never a traceback."""
    try:
        return call()
    except (ValueError, OSError) as err:  # ScenarioError is a ValueError
        fail(str(err))


def baci(
    files: Files,
    hs: Hs = None,
    year: Years = None,
    commodity: Commodity = None,
    mapping: Mapping = None,
    shape: As = "flows",
    exporter: Exporters = None,
    importer: Importers = None,
    fold: Fold = None,
    countries: Annotated[Path | None, typer.Option(
        "--countries", metavar="FILE", help="BACI's country table (default: country_codes_V*.csv beside FILE).")
    ] = None,
    products: Annotated[Path | None, typer.Option(
        "--products", metavar="FILE", help="BACI's product table (default: product_codes_*.csv beside FILE).")] = None,
    output: Output = None,
    prefix: Prefix = None,
    remainder_to: Remainder = "ROW",
) -> None:
    r"""Import CEPII BACI data (t,i,j,k,v,q) as a scenario fragment of flows or imports.

    Prints what was read, mapped, converted and skipped (and why) to stderr.

    Example:

        supplychain import baci tests/data/trade/baci/BACI_HS22_Y2024_V202501.csv --hs 2846 \
            --importer US --as imports -o us_ree.yaml
    """
    from supplychain.importers import import_baci

    common = _common(hs, year, commodity, mapping, shape, exporter, importer, fold, remainder_to)
    result = _guarded(lambda: import_baci(files, countries=countries, products=products, prefix=prefix or "baci",
                                          **common))  # fmt: skip
    _emit(result, output)


def comtrade(
    files: Files,
    hs: Hs = None,
    year: Years = None,
    commodity: Commodity = None,
    mapping: Mapping = None,
    shape: As = "flows",
    exporter: Exporters = None,
    importer: Importers = None,
    fold: Fold = None,
    prefer: Annotated[str, typer.Option(
        "--prefer", metavar="importer|exporter", help="Whose weight wins when both sides of a flow report one.")] = \
        "importer",
    output: Output = None,
    prefix: Prefix = None,
    remainder_to: Remainder = "ROW",
) -> None:
    """Import UN Comtrade downloads (CSV, API or legacy columns) as a fragment, mirror flows reconciled.

    Each flow's weight is the importer's report, else the exporter's (--prefer exporter
    swaps them); gaps between the two are listed. Prints what was read, mapped, converted
    and skipped (and why) to stderr.

    Example:

        supplychain import comtrade TradeData.csv --hs 284690 --year 2024 -o comtrade_ree.yaml
    """
    from supplychain.importers import import_comtrade

    common = _common(hs, year, commodity, mapping, shape, exporter, importer, fold, remainder_to)
    result = _guarded(lambda: import_comtrade(files, prefer=prefer, prefix=prefix or "comtrade",  # type: ignore[arg-type]
                                              **common))  # fmt: skip
    _emit(result, output)


import_app.command("baci")(baci)
import_app.command("comtrade")(comtrade)
import_app.command("usgs-mcs")(usgs_mcs)
