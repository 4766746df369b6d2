"""``supplychain compare``: named variants (or every toggle combination) side by side.

A thin layer over :func:`supplychain.api.compare`: one table of variant × headline
measure × year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from supplychain.cli.checks import check_ids, check_output, check_year_options
from supplychain.cli.common import (
    WEIGHTED_NOTE,
    AllocationOption,
    BlocksOption,
    ObjectiveOption,
    echo,
    fail,
    freeze_imports,
    only_commodities,
    parse_allocation,
    parse_blocks,
    parse_mode,
    parse_objective,
    print_table,
    print_warnings,
)
from supplychain.cli.options import CommodityOption, CountryOption, PathOption

if TYPE_CHECKING:
    import pandas as pd

    from supplychain.errors import Problem
    from supplychain.schema.model import Scenario, Target

__all__ = ["NA_NOTE", "block_cut", "compare", "csv_table", "display_side_by_side", "not_evaluable_lines",
           "side_by_side", "variant_legend"]


def side_by_side(table: pd.DataFrame, years: list[int] | None, variants: Sequence[str] = ()) -> pd.DataFrame:
    """Pivot :func:`supplychain.api.compare` output: rows measure × variant, columns years.

    Rows keep the order of ``table`` (:func:`~supplychain.api.compare` puts the focus
    countries first), measures grouped, variants in the order of ``variants`` within each
    (``base`` first, as run), else in their order in ``table``.
    """
    import pandas as pd

    t = table if not years else table[table["year"].isin(years)]
    t = t.assign(measure=t["country"] + " " + t["commodity"] + " " + t["metric"])
    wide = t.pivot_table(index=["measure", "variant"], columns="year", values="value", aggfunc="first")
    order = list(dict.fromkeys(zip(t["measure"], t["variant"], strict=True)))
    measures = list(dict.fromkeys(m for m, _ in order))
    rank = {v: i for i, v in enumerate(variants)}
    rows = sorted(order, key=lambda mv: (measures.index(mv[0]), rank.get(mv[1], len(rank))))
    wide = wide.reindex(pd.MultiIndex.from_tuples(rows, names=["measure", "variant"])) if rows else wide
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def _target_text(target: Target, labels: Mapping[str, str]) -> str:
    """Say what a target checks: ``target us_dy_2030: element exposure incl. unmet demand ≤ 25% by 2030``."""
    from supplychain.report.numbers import format_percent
    from supplychain.simulation.targets import target_measure

    bounds = [f"≤ {format_percent(target.max)}" if target.max is not None else "",
              f"≥ {format_percent(target.min)}" if target.min is not None else ""]
    text = f"{labels.get(target_measure(target), target.metric)} {' and '.join(b for b in bounds if b)}".strip()
    if target.max_shortfall_share is not None:
        text += f", shortfall ≤ {format_percent(target.max_shortfall_share)}"
    return f"{text} by {target.by}"


def display_side_by_side(wide: pd.DataFrame, scenario: Scenario | None = None, source: str = "",
                         assumed: Mapping[str, set[str]] | None = None) -> pd.DataFrame:  # fmt: skip
    """Format :func:`side_by_side` for print: shares as percentages, measures by name, targets with their value.

    A measure id becomes its name in every output (:data:`~supplychain.report.headline.METRIC_LABELS`;
    ``source``: the source's name). A measure row of a commodity whose import shares are a
    ranked-source split (``assumed``: :func:`assumed_pairs`) stars it as ``run`` does
    (:func:`~supplychain.report.numbers.assumed_commodity`: ``US gallium* traced China share of what arrives``).
    A ``target:<id>`` row reads what the target checks (from ``scenario``) and, in its
    years, the measure's value beside the verdict and the share of demand unmet after it
    (``19% pass (0% unmet)``, where the shortfall row is in ``wide``); before its ``by``
    year a target is not checked (``–``).

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"measure": ["US ndpr exposed_share", "US ndpr target:t1"], "variant": ["base"] * 2,
    ...                      "2030": [0.2549, 0.0]})
    >>> shown = display_side_by_side(wide, source="China")
    >>> shown["measure"].tolist(), shown["2030"].tolist()
    (['US ndpr exposure incl. unmet demand', 'US ndpr target:t1'], ['25%', 'fail'])
    >>> display_side_by_side(wide, source="China", assumed={"US": {"ndpr"}})["measure"].tolist()[0]
    'US ndpr* exposure incl. unmet demand'
    """
    from supplychain.report.headline import METRIC_LABELS, metric_labels
    from supplychain.report.numbers import format_cell, is_share
    from supplychain.simulation.targets import shortfall_metric, target_measure

    labels = dict(metric_labels(METRIC_LABELS.items(), source or "source"))
    targets = scenario.targets if scenario is not None else {}
    out = wide.astype(object)
    measures = wide["measure"].astype(str).tolist()
    variants = wide["variant"].astype(str).tolist()
    parts = [m.rsplit(" ", 1) for m in measures]
    target = [p[-1].startswith("target:") for p in parts]
    share = [is_share(m) for m in measures]
    where = {(m, v): i for i, (m, v) in enumerate(zip(measures, variants, strict=True))}

    def measured(i: int, col: str) -> str:
        tid = parts[i][-1].removeprefix("target:")
        if tid not in targets:
            return ""
        j = where.get((f"{parts[i][0]} {target_measure(targets[tid])}", variants[i]))
        return "" if j is None else format_cell(wide[col].iloc[j], share=True) + " "

    def unmet(i: int, col: str) -> str:
        """`` (31% unmet)`` after a verdict: a ban can lower the exposed share (docs/measures.md §3b)."""
        tid = parts[i][-1].removeprefix("target:")
        if tid not in targets:
            return ""
        j = where.get((f"{parts[i][0]} {shortfall_metric(target_measure(targets[tid]))}", variants[i]))
        return "" if j is None else f" ({format_cell(wide[col].iloc[j], share=True)} unmet)"

    for col in [c for c in wide.columns if c not in ("measure", "variant")]:
        verdicts = {1.0: "pass", 0.0: "fail"}
        out[col] = [(measured(i, col) + verdicts[float(v)] + unmet(i, col) if float(v) in verdicts else "–") if t
                    else format_cell(v, share=sh)
                    for i, (v, t, sh) in enumerate(zip(wide[col].tolist(), target, share, strict=True))]
    out["measure"] = [
        f"{p[0]} target {p[-1].removeprefix('target:')}: "
        f"{_target_text(targets[p[-1].removeprefix('target:')], labels)}"
        if t and p[-1].removeprefix("target:") in targets
        else f"{_starred(p[0], assumed or {})} {labels.get(p[-1], p[-1])}" if len(p) == 2 else m
        for m, p, t in zip(measures, parts, target, strict=True)]
    return out


def _starred(pair: str, assumed: Mapping[str, set[str]]) -> str:
    """``US gallium`` → ``US gallium*`` where :func:`~supplychain.report.numbers.assumed_commodity` stars it."""
    from supplychain.report.numbers import assumed_commodity

    country, _, commodity = pair.partition(" ")
    return f"{country} {assumed_commodity(country, commodity, assumed)}" if commodity else pair


def assumed_pairs(scenario: Scenario, wide: pd.DataFrame) -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """Each country's commodities with a ranked-source split, and the (country, commodity) pairs of the rows.

    :func:`~supplychain.schema.assumptions.assumed_split` for the countries of ``wide``'s
    measure rows (``"US gallium traced_share"``), the rule and footnote of ``run``
    (:func:`~supplychain.report.numbers.assumed_split_note` takes both).
    """
    from supplychain.schema.assumptions import assumed_split

    parts = [str(m).split(" ") for m in wide["measure"]]  # country, commodity (or element), measure id
    pairs = [(p[0], p[1]) for p in parts if len(p) == 3 and not p[2].startswith("target:")]
    return {c: assumed_split(scenario, c) for c in dict.fromkeys(c for c, _ in pairs)}, pairs


NA_NOTE: Final = ("n/a: a share of nothing — no imports (the direct import share), nothing arriving (traced "
                  "shares) or no demand (shortfall); docs/measures.md.")
"""The line under a comparison that shows an n/a cell."""


def not_evaluable_lines(reasons: Mapping[tuple[str, int, str], str], years: Sequence[str]) -> list[str]:
    """Say why a target row shows ``–`` in a checked year: its measure is n/a, for the reason its label gives.

    ``reasons`` is :func:`supplychain.api.compare`'s ``table.attrs["not_evaluable"]``; one line
    per target and reason, naming the runs.

    Examples
    --------
    >>> r = {("base", 2024, "target:w"): "not evaluable: net import reliance n/a in 2024, use not recorded",
    ...      ("v", 2024, "target:w"): "not evaluable: net import reliance n/a in 2024, use not recorded"}
    >>> not_evaluable_lines(r, ["2024"])
    ['target w (base, v): – not evaluable: net import reliance n/a in 2024, use not recorded']
    """
    grouped: dict[tuple[str, str], list[str]] = {}
    for (variant, year, metric), reason in reasons.items():
        if str(year) in years:
            grouped.setdefault((metric.removeprefix("target:"), reason.removeprefix("not evaluable: ")),
                               []).append(variant)
    return [f"target {tid} ({', '.join(dict.fromkeys(runs))}): – not evaluable: {why}"
            for (tid, why), runs in grouped.items()]


def block_cut(measures: Sequence[str], limit: int) -> int:
    """Rows of a side-by-side table to print: at most ``limit``, ending where a country's rows end.

    A cut inside a country's block would hide the rest of that country's measures behind
    "… more rows"; the cut falls where the country (the measure's first word) changes, else
    where a measure changes, else at ``limit``.

    Examples
    --------
    >>> block_cut(["US a", "US a", "US b", "EU a", "EU a", "EU b"], 5), block_cut(["US a", "US a", "US b"], 2)
    (3, 2)
    """
    if len(measures) <= limit:
        return len(measures)
    country = [m.split(" ", 1)[0] for m in measures]
    for same in (country, list(measures)):
        ends = [i for i in range(1, limit + 1) if same[i] != same[i - 1]]
        if ends:
            return ends[-1]
    return limit


Runs = Sequence[tuple[str, tuple[str | None, dict[str, bool] | None]]]
"""A comparison's runs as :func:`supplychain.api._compare_runs` labels them: ``(label, (variant, toggles))``."""


def _held_off(scenario: Scenario, variant: str | None, toggles: Mapping[str, bool] | None) -> list[str]:
    """Entities a run switches on that stay off, because another toggle that controls them is off.

    The run is a named ``variant`` or a grid's ``toggles`` (one of :data:`Runs`; both None: the
    base). An entity controlled by several toggles is on only when all of them are on
    (:func:`~supplychain.simulation.toggles.resolve_toggles`): a grid run ``a=off,b=on`` or
    a variant setting ``b on`` does not put in force what ``a`` also controls.
    """
    from supplychain.simulation.toggles import controlled_entities, resolve_toggles

    if variant is not None:
        state, setting = resolve_toggles(scenario, variant=variant), dict(scenario.variants[variant].toggles)
    elif toggles:
        setting = dict(toggles)
        state = resolve_toggles(scenario, overrides=setting)
    else:
        return []
    controlled = controlled_entities(scenario)
    off = set(state.inactive) | {eid for _, eid in state.switched_off}
    held = set()
    for tid, on in setting.items():
        for entity in controlled.get(tid, []) if on else []:
            if entity[1] in off:
                by = [t for t, ents in controlled.items() if entity in ents and not state.states[t]]
                held.add(f"{entity[1]} stays off ({', '.join(by)} off)")
    return sorted(held)


def variant_legend(scenario: Scenario, runs: Sequence[str], grid: Sequence[str] = (),
                   labelled: Runs | None = None) -> list[str]:
    """Say what each run of a comparison is.

    ``base`` is the scenario as written (every toggle at its default); a named variant is its
    description and the toggles it sets away from their defaults; a grid run sets the grid's
    toggles and leaves every other at its default. Which runs give the same numbers is said
    under the table, by :mod:`supplychain.report.same` (one rule for ``compare`` and the report).
    ``runs`` are labels of ``labelled`` (:data:`Runs`; default: the runs of ``grid``, else the
    variants ``runs``, as :func:`supplychain.api.compare` makes them).

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "policies": {"p": {"type": "export_ban", "country": "CN", "start": "2025-01-01"}},
    ...     "toggles": {"ban": {"default": True, "controls": ["p"]}},
    ...     "variants": {"lifted": {"description": "the ban is lifted", "toggles": {"ban": False}},
    ...                  "kept": {"toggles": {"ban": True}}}})
    >>> for line in variant_legend(s, ["base", "kept", "lifted"]):
    ...     print(line)
    base: the scenario as written, every toggle at its default
    kept: sets no toggle away from its default
    lifted: the ban is lifted; sets ban off
    """
    from supplychain.api import _compare_runs

    settings = dict(labelled if labelled is not None else _compare_runs(scenario, None if grid else runs, grid or None))
    lines = []
    for run in runs:
        if run == "base":
            what = "the scenario as written, every toggle at its default"
        elif run in scenario.variants:
            var = scenario.variants[run]
            moved = [f"{k} {'on' if on else 'off'}" for k, on in var.toggles.items()
                     if k not in scenario.toggles or bool(scenario.toggles[k].default) != on]
            sets = f"sets {', '.join(moved)}" if moved else "sets no toggle away from its default"
            what = f"{var.description}; {sets}" if var.description else sets
        else:
            what = "every other toggle at its default" if grid else ""
        held = _held_off(scenario, *settings[run])
        what += f"; but {', '.join(held)}" if held else ""
        lines.append(f"{run}: {what}")
    return lines


def csv_table(table: pd.DataFrame, *, scenario: str, mode: str, allocation: str, source: str) -> pd.DataFrame:
    """Make the ``--output`` CSV: :func:`supplychain.api.compare`'s rows, with what produced them and what ``value`` is.

    Columns ``scenario``, ``mode``, ``allocation`` (empty in ``fixed``) and ``source`` come first, so that
    the CSVs of two runs of one scenario stay apart; ``kind`` says what ``value`` holds: ``share``
    (a measure, 0–1) or ``verdict`` (a ``target:<id>`` row: 1 pass, 0 fail).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"variant": ["base"] * 2, "year": [2030] * 2, "country": ["US"] * 2,
    ...                   "commodity": ["ndpr"] * 2, "metric": ["exposed_share", "target:t1"], "value": [0.3, 1.0]})
    >>> out = csv_table(t, scenario="s.yaml", mode="fixed", allocation="", source="CN")
    >>> out[["mode", "metric", "kind"]].values.tolist()
    [['fixed', 'exposed_share', 'share'], ['fixed', 'target:t1', 'verdict']]
    """
    out = table.copy()
    kind = ["verdict" if str(m).startswith("target:") else "share" for m in out["metric"]]
    out.insert(list(out.columns).index("metric") + 1, "kind", kind)
    for i, (name, value) in enumerate((("scenario", scenario), ("mode", mode), ("allocation", allocation),
                                       ("source", source))):
        out.insert(i, name, value)
    return out


def _same_lines(sc: Scenario, table: pd.DataFrame, runs: Runs, mode: str) -> list[str]:
    """Say, under the table, which ``runs`` give the same numbers as another (:mod:`supplychain.report.same`)."""
    from supplychain.report.same import agreement_toggles, same_as, same_notes
    from supplychain.simulation.toggles import resolve_toggles

    states = {label: resolve_toggles(sc, variant=v, overrides=t).states for label, (v, t) in runs}
    groups = same_as(table, ["year", "country", "commodity", "metric"], [label for label, _ in runs], states,
                     agreement_toggles(sc))
    return same_notes(groups, mode, "numbers in this comparison")


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
    commodity: CommodityOption = None,
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

    First each run: what base and each variant set (toggles away from their defaults) and
    which runs give the same numbers in every row. Rows are measure × variant (exposure,
    traced share, the direct import share and shortfall, in per cent, of the target
    pairs — or, with --country, of every commodity those countries use — and each target:
    what it checks, then the measure's value and pass or fail), columns are years; the focus
    countries (--country, else the targets', else the US) come first. --output writes the
    long table with the measure ids, the scenario, mode, allocation and source of every
    row, and a kind column (share, or verdict: 1 pass, 0 fail). The variants are
    cut into up to 4 groups per world, each simulated whole on one compiled model
    (warm-started LP, solved block by block: --blocks), the groups side by side on --workers
    processes. Under rebalance a footnote says that the direct import, traced and exposure
    shares follow which supplier ships the tonnes, a choice the LP's tie-break settles among
    equally good ones (the shortfall does not move with it).

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

    import importlib

    from supplychain.api import _compare_runs
    from supplychain.api import compare as api_compare
    from supplychain.io import load
    from supplychain.simulation.toggles import check_cli_names

    warned: list[Problem] = []
    sc = load(scenario, extra_roots=path or (), warnings=warned)
    print_warnings(warned, scenario)
    check_cli_names(sc, variants=variant or [], grid=grid or [])

    from supplychain.io.atomic import atomic_write_text
    from supplychain.parallel.processes import COMPARE_PRELOAD, fork_workers_from_here
    from supplychain.schema.countries import require_codes

    for module in COMPARE_PRELOAD:  # what the workers run, so that each starts with it (forked from here, frozen)
        importlib.import_module(module)
    freeze_imports()
    require_codes(sc, [source] if source else [], ("--source",), origin="<cli>")
    require_codes(sc, country or [], ("--country",), origin="<cli>")
    check_year_options("--year", year or [], sc.years)
    check_ids("--commodity", commodity or [], sc.commodities, "commodity of this scenario")
    check_output(output)  # a folder, a device or a folder that cannot be written: refused now, not after
    with fork_workers_from_here():
        table = api_compare(sc, variants=variant or None, toggles_grid=grid or None,
                            source=source, countries=country or None, mode=mode_arg,
                            objective=objective_arg, blocks=blocks_arg, allocation=allocation_arg,
                            workers=workers)  # fmt: skip
    table = only_commodities(table, commodity)

    from supplychain.report.dot_style import country_name, names_of

    rule = ""
    rule_name = str(allocation_arg or sc.response.allocation) if mode_arg == "rebalance" else ""
    if mode_arg == "rebalance":
        rule = f", allocation {rule_name}"
        rule += f"; {WEIGHTED_NOTE}" if objective_arg == "weighted" else ""
    runs = list(dict.fromkeys(table["variant"].astype(str)))
    runs = [r for r in dict.fromkeys(variant) if r in runs] if variant else sorted(runs, key=lambda r: (r != "base", r))
    source_code = source or sc.scenario.source_country
    labelled = _compare_runs(sc, variant or None, grid or None)  # what api_compare ran, labelled
    echo("Runs (rows below, in this order):")
    for line in variant_legend(sc, runs, grid or (), labelled):
        echo(f"  {line}")
    last = sc.years[-1]
    for tid, tg in sc.targets.items():
        if tg.by > last:
            echo(f"  target {tid} ({tg.country} {tg.commodity}) is checked from {tg.by}, after the horizon {last}: "
                 "no row")
    wide = side_by_side(table, year, runs)
    assumed, _ = assumed_pairs(sc, wide)
    shown = display_side_by_side(wide, sc, country_name(source_code, names_of(sc)), assumed)
    cut = block_cut(wide["measure"].astype(str).tolist(), 200)
    print_table(shown, f"{sc.scenario.name} — variants side by side ({mode_arg}{rule})", max_rows=cut,
                more_hint="use --year, --country or --output", right=wide.columns[2:])  # fmt: skip
    from supplychain.report.numbers import assumed_split_note

    starred = assumed_split_note(assumed_pairs(sc, wide.iloc[:cut])[1], assumed)  # the rows printed
    if starred:
        echo(starred)
    if shown[wide.columns[2:]].isin(["n/a"]).any().any():
        echo(NA_NOTE)
    for line in not_evaluable_lines(table.attrs.get("not_evaluable", {}), [str(c) for c in wide.columns[2:]]):
        echo(line)
    for line in _same_lines(sc, table, labelled, mode_arg):
        echo(line)
    from supplychain.report.engine_notes import shares_note

    one_optimum = shares_note(table["metric"].astype(str).unique(), mode_arg, exact=objective_arg != "weighted")
    if one_optimum:
        echo(one_optimum)
    from supplychain.report.exposure_falls import exposure_falls_note
    from supplychain.schema.units import commodity_units

    world = table.attrs.get("world_shortfall")
    shown_years = {int(str(c)) for c in wide.columns[2:]}
    falls = "" if world is None else exposure_falls_note(table[table["year"].isin(shown_years)], world,
                                                         commodity_units(sc),
                                                         table.attrs.get("inflows"), source_code)
    if falls:
        echo(falls)
    from supplychain.simulation.uncounted import rebalance_caveat

    caveat = rebalance_caveat(sc) if mode_arg == "rebalance" else None
    if caveat:
        echo(f"{caveat} Run with --mode fixed for it.")
    if output is not None:
        csv = csv_table(table, scenario=str(scenario), mode=mode_arg, allocation=rule_name, source=source_code)
        atomic_write_text(output, csv.to_csv(index=False))
        echo(f"wrote {output}", err=True)
