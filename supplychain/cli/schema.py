"""``supplychain schema``: print or write the JSON Schema of scenario files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from supplychain.cli.common import echo

__all__ = ["schema"]


def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the schema to this file instead of printing it.", show_default=False
        ),
    ] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of scenario files, for editors and CI.

    The committed copy lives in schema/scenario.schema.json; regenerate it after
    changing the scenario language.

    Example:

        supplychain schema --output schema/scenario.schema.json
    """
    from supplychain.io.atomic import atomic_write
    from supplychain.schema.jsonschema import scenario_json_schema_text

    text = scenario_json_schema_text()
    if output is None:
        typer.echo(text, nl=False)
        return
    atomic_write(output, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"))
    echo(f"wrote {output}", err=True)
