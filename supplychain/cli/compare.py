"""``supplychain compare``: named variants (or every toggle combination) side by side.

A thin layer over :func:`supplychain.api.compare`: one table of variant × headline
measure × year.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from supplychain.cli.common import (
    WEIGHTED_NOTE,
    AllocationOption,
    BlocksOption,
    ObjectiveOption,
    echo,
    fail,
    freeze_imports,
    parse_allocation,
    parse_blocks,
    parse_mode,
    parse_objective,
    print_table,
)
from supplychain.cli.options import CountryOption, PathOption

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["compare", "display_side_by_side", "side_by_side"]


def side_by_side(table: pd.DataFrame, years: list[int] | None) -> pd.DataFrame:
    """Pivot :func:`supplychain.api.compare` output: rows measure × variant, columns years.

    Rows keep the order of ``table`` (:func:`~supplychain.api.compare` puts the focus
    countries first), measures grouped, variants in their order within each.
    """
    import pandas as pd

    t = table if not years else table[table["year"].isin(years)]
    t = t.assign(measure=t["country"] + " " + t["commodity"] + " " + t["metric"])
    wide = t.pivot_table(index=["measure", "variant"], columns="year", values="value", aggfunc="first")
    order = list(dict.fromkeys(zip(t["measure"], t["variant"], strict=True)))
    measures = list(dict.fromkeys(m for m, _ in order))
    rows = sorted(order, key=lambda mv: measures.index(mv[0]))
    wide = wide.reindex(pd.MultiIndex.from_tuples(rows, names=["measure", "variant"])) if rows else wide
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def display_side_by_side(wide: pd.DataFrame) -> pd.DataFrame:
    """Format :func:`side_by_side` for print: shares as percentages, ``target:<id>`` rows as pass/fail.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"measure": ["US ndpr exposed_share", "US ndpr target:t1"], "variant": ["base"] * 2,
    ...                      "2030": [0.2549, 0.0]})
    >>> display_side_by_side(wide)["2030"].tolist()
    ['25%', 'fail']
    """
    from supplychain.report.numbers import format_cell, is_share

    out = wide.astype(object)
    measures = wide["measure"].astype(str).tolist()
    target = [m.rsplit(" ", 1)[-1].startswith("target:") for m in measures]
    share = [is_share(m) for m in measures]
    for col in [c for c in wide.columns if c not in ("measure", "variant")]:
        out[col] = [{1.0: "pass", 0.0: "fail"}.get(float(v), "–") if t else format_cell(v, share=sh)
                    for v, t, sh in zip(wide[col].tolist(), target, share, strict=True)]
    return out


def compare(
    scenario: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario file (YAML).", show_default=False)],
    variant: Annotated[
        list[str] | None, typer.Option("--variant", "-v", help="Variants to run (default: base and every variant).")
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", "-g", metavar="TOGGLE", help="Run every on/off combination of these toggles."),
    ] = None,
    year: Annotated[list[int] | None, typer.Option("--year", "-y", help="Years to show (default: all).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Country or group exposure is measured to.")] = None,
    country: CountryOption = None,
    mode: Annotated[
        str, typer.Option("--mode", help="Supply response: rebalance (the default, as in sweep) | fixed.")
    ] = "rebalance",
    allocation: AllocationOption = None,
    objective: ObjectiveOption = "lexicographic",
    blocks: BlocksOption = 1,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the long table as CSV (atomically).")
    ] = None,
    path: PathOption = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=0,
                          help="Variants simulated side by side on local worker processes (0 = one per CPU, "
                               "1 = in this process); the table is the same for any number.")
    ] = 0,
) -> None:
    """Run named variants, or every combination of chosen toggles, and print one side-by-side table.

    Rows are measure × variant (exposed share, traced share, direct import share and
    shortfall share, in per cent, of the target pairs — or, with --country, of every
    commodity those countries use — and target:<id>, pass or fail), columns are years; the focus
    countries (--country, else the targets', else the US) come first. The variants are
    cut into up to 4 groups per world, each simulated whole on one compiled model
    (warm-started LP, solved block by block: --blocks), the groups side by side on --workers
    processes.

    Example:

        supplychain compare scenarios/path_to_2030.yaml --year 2027 --year 2030 --country US
        supplychain compare scenarios/path_to_2030.yaml --grid us_japan_framework --grid asean_memoranda
        supplychain compare scenarios/path_to_2030.yaml --workers 1     # everything in this process
    """
    mode_arg = parse_mode(mode)
    objective_arg = parse_objective(objective)
    blocks_arg = parse_blocks(blocks)
    allocation_arg = parse_allocation(allocation)
    if variant and grid:
        fail("give either --variant or --grid, not both")

    from supplychain.parallel.processes import COMPARE_PRELOAD, start_worker_server

    if workers != 1 and (grid or len(variant or []) != 1):
        # unless one --variant is asked, workers are likely (api.compare groups the runs), so their server
        # imports what they run now, beside this process's imports and load; a compare whose runs make one
        # group (a scenario without variants, or 2–3 runs of one world) loses that ~1 s of CPU
        start_worker_server(COMPARE_PRELOAD)

    from supplychain.api import compare as api_compare
    from supplychain.io import load
    from supplychain.simulation.toggles import check_cli_names

    sc = load(scenario, extra_roots=path or ())
    check_cli_names(sc, variants=variant or [], grid=grid or [])

    from supplychain.io.atomic import atomic_write_text, output_path
    from supplychain.schema.countries import require_codes

    freeze_imports()
    require_codes(sc, [source] if source else [], ("--source",), origin="<cli>")
    require_codes(sc, country or [], ("--country",), origin="<cli>")
    if output is not None:
        output_path(output)  # refuse a folder or a device now, not after the simulations
    table = api_compare(sc, variants=variant or None, toggles_grid=grid or None,
                        source=source, countries=country or None, mode=mode_arg,
                        objective=objective_arg, blocks=blocks_arg, allocation=allocation_arg,
                        workers=workers)  # fmt: skip

    rule = ""
    if mode_arg == "rebalance":
        rule = f", allocation {allocation_arg or sc.response.allocation}"
        rule += f"; {WEIGHTED_NOTE}" if objective_arg == "weighted" else ""
    wide = side_by_side(table, year)
    print_table(display_side_by_side(wide), f"{sc.scenario.name} — variants side by side ({mode_arg}{rule})",
                max_rows=200, more_hint="use --year or --output", right=wide.columns[2:])  # fmt: skip
    from supplychain.simulation.uncounted import rebalance_caveat

    caveat = rebalance_caveat(sc) if mode_arg == "rebalance" else None
    if caveat:
        echo(f"{caveat} Run with --mode fixed for it.")
    if output is not None:
        atomic_write_text(output, table.to_csv(index=False))
        echo(f"wrote {output}", err=True)
