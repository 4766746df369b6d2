"""Cross-reference rules of the scenario language, one small function each.

A :class:`~supplychain.schema.model.Scenario` that passed pydantic validation is
well-formed entity by entity; these rules check that entities fit together: every
``source:`` is declared, every country code is ISO or declared, every commodity,
process, facility, policy and toggle named exists. Each rule returns a list of
:class:`~supplychain.errors.Problem` (empty when all is well), located with
:func:`problem_at` and carrying a did-you-mean hint where one helps.
:func:`check_references` runs them all. :func:`check_warnings` runs the rules
in :data:`WARNINGS`: what is allowed but probably not meant (``validate`` prints
them; they do not make a file invalid).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from typing import get_origin as typing_origin

from pydantic import BaseModel

from supplychain.arguments import closest
from supplychain.errors import KeyPath, Problem, format_path, sort_problems
from supplychain.schema.countries import code_hint
from supplychain.schema.coverage import covered_commodities, matches, undeclared
from supplychain.schema.model import (
    SWITCHABLE,
    Agreement,
    Commodity,
    Demand,
    Destinations,
    ExportBan,
    ExportLicensing,
    ExportQuota,
    ExportTax,
    Facility,
    Flow,
    Group,
    ImportBan,
    ImportSources,
    InvestmentProject,
    Offtake,
    Owner,
    Process,
    Region,
    Scenario,
    ScenarioMeta,
    Selector,
    Stockpile,
    Target,
    Tariff,
    Toggle,
)
from supplychain.schema.types import ISO_COUNTRIES, Quantity, t_named_keys

__all__ = [
    "CONVERTING_KINDS",
    "ELEMENT_TOLERANCE",
    "RULES",
    "WARNINGS",
    "DatedVerdict",
    "check_agreement_parties",
    "check_bare_year_ends",
    "check_citations",
    "check_code_clashes",
    "check_commodities",
    "check_contents",
    "check_converter_kinds",
    "check_countries",
    "check_coverage",
    "check_data_years",
    "check_dated_rows",
    "check_element_balance",
    "check_groups",
    "check_lookalike_ids",
    "check_nodes",
    "check_offtake_capacity",
    "check_policy_names",
    "check_preference_prices",
    "check_preference_size",
    "check_processes",
    "check_references",
    "check_selectors",
    "check_sources",
    "check_tie_members",
    "check_ties",
    "check_units",
    "check_variants",
    "check_warnings",
    "check_world_parties",
    "check_years_in_force",
    "dated_verdicts",
    "did_you_mean",
    "element_balance",
    "element_keys",
    "entity_kinds",
    "investment_projects",
    "nearest",
    "problem_at",
    "shared_years_in_force",
    "switchable_entities",
    "tie_members",
    "unpriced_preference",
    "world_codes",
]

Nodes = Sequence[tuple[KeyPath, Any]]
"""Every node of a scenario with its key path (:func:`walk`), shared by the rules of one check."""
Rule = Callable[[Scenario, Nodes | None], list[Problem]]
"""A rule: the scenario and, optionally, its :func:`walk` (walked once per check, not once per rule)."""

_COUNTRY_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {
    ScenarioMeta: ("source_country",),
    Region: ("members",),
    Group: ("members", "complement_of"),
    Owner: ("country",),
    Facility: ("country",),
    ImportSources: ("importer", "partners", "remainder_to", "remainder_split"),
    Demand: ("country",),
    Stockpile: ("country",),
    Destinations: ("include", "exclude"),
    Offtake: ("buyer",),
    InvestmentProject: ("country",),
    Agreement: ("parties",),
    Target: ("country", "source_country"),
    **dict.fromkeys((ExportBan, ExportLicensing, ExportQuota, ExportTax, Tariff, ImportBan), ("country",)),
}
_COMMODITY_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {
    Facility: ("output",),
    Process: ("inputs", "outputs"),
    Flow: ("commodity",),
    ImportSources: ("commodity",),
    Demand: ("commodity",),
    Stockpile: ("commodity",),
    Offtake: ("commodity",),
    Target: ("commodity",),
    InvestmentProject: ("output",),
    Selector: ("commodities", "coverage"),
}
_PROCESS_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {Facility: ("process",), InvestmentProject: ("process",)}
_YEARS_BEFORE_BASE = 50


class _Locates(Protocol):
    def locate(self, path: KeyPath) -> tuple[str, int, int]: ...


def problem_at(scenario: Scenario, path: KeyPath, message: str, hint: str = "") -> Problem:
    """Locate a :class:`Problem` at a key path of a scenario.

    Parameters
    ----------
    scenario : Scenario
        A scenario from :func:`supplychain.io.load` (located in its files) or
        built in Python (file ``<api>``, line 0).
    path : tuple of str or int
        Key path, e.g. ``("flows", "cn_us", "tonnes")``; the mark of its
        longest known prefix is used.
    message, hint : str
        What is wrong and how to fix it.

    Returns
    -------
    Problem

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}})
    >>> print(problem_at(s, ("flows", "f1"), "unbalanced", "check the tonnes"))
    <api>: flows.f1: unbalanced
        hint: check the tonnes
    """
    provenance: _Locates | None = scenario._provenance
    if provenance is None:
        return Problem("<api>", 0, 0, path, message, hint)
    path = _as_written(getattr(provenance, "marks", {}), path)
    file, line, column = provenance.locate(path)
    return Problem(file, line, column, path, message, hint)


def _renamed_keys() -> dict[str, str]:
    """Unit-neutral key ↔ older tonnes-named key, both ways (``quantity`` ↔ ``tonnes`` …)."""
    from supplychain.schema import model

    pairs: dict[str, str] = {}
    for name in model.__all__:
        cls = getattr(model, name)
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            for old, new in t_named_keys(cls).items():
                pairs[old], pairs[new] = new, old
    return pairs


_RENAMED: dict[str, str] = _renamed_keys()


def _as_written(marks: Any, path: KeyPath) -> KeyPath:
    """`path` with each renamed key spelled as the file wrote it (``tonnes`` where a file says ``quantity``)."""
    if not marks:
        return path
    out: list[str | int] = []
    for part in path:
        if isinstance(part, str) and part in _RENAMED and (*out, part) not in marks and (
                *out, _RENAMED[part]) in marks:
            part = _RENAMED[part]
        out.append(part)
    return tuple(out)


def did_you_mean(
    word: str, options: Iterable[str], default: str = "", synonyms: Mapping[str, str] | None = None
) -> str:
    """Suggest the closest option as ``did you mean 'x'?``, or return `default`.

    `synonyms` maps a word to the option it means where the two are not spelt alike
    (a target's ``year`` for ``by``, :attr:`~supplychain.schema.types.StrictModel.key_synonyms`);
    it is read first, and only for an option that is offered. Otherwise the option is
    :func:`supplychain.arguments.closest`'s (the same word in another case, the one option
    it begins, the closest spelling): one rule for every did-you-mean, a scenario's keys and
    ids, a variant or toggle name, an API argument or a command-line option.

    Examples
    --------
    >>> did_you_mean("capacty", ["capacity", "country"])
    "did you mean 'capacity'?"
    >>> did_you_mean("year", ["by", "country"], synonyms={"year": "by"})
    "did you mean 'by'?"
    >>> did_you_mean("FULL_BAN", ["full_ban", "no_ban", "base"])
    "did you mean 'full_ban'?"
    """
    options = sorted(set(options))
    meant = (synonyms or {}).get(word)
    if meant in options:
        return f"did you mean '{meant}'?"
    near = closest(word, options)
    return f"did you mean '{near}'?" if near is not None else default


_KIND_SECTION = {
    "policy": "policies", "agreement": "agreements", "facility": "facilities", "flow": "flows",
    "stockpile": "stockpiles", "offtake": "agreements.<id>.offtakes", "investment project":
        "agreements.<id>.investment.projects", "demand entry": "demand", "import record": "imports",
    "commodity": "commodities", "process": "processes", "toggle": "toggles", "variant": "variants",
    "target": "targets", "source": "sources", "region": "regions", "group": "groups",
}  # fmt: skip


def entity_kinds(scenario: Scenario) -> dict[str, list[str]]:
    """Every id of the scenario with the kinds of entity that use it (``{'mp_10x': ['facility']}``).

    Offtakes appear by their ``id``, investment projects both as ``<project>`` and
    ``<agreement>.<project>`` (their facility id in results).
    """
    kinds: dict[str, list[str]] = {}

    def add(ids: Iterable[str], kind: str) -> None:
        for i in ids:
            kinds.setdefault(i, []).append(kind)

    for section, kind in (("policies", "policy"), ("agreements", "agreement"), ("facilities", "facility"),
                          ("flows", "flow"), ("stockpiles", "stockpile"), ("demand", "demand entry"),
                          ("imports", "import record"), ("commodities", "commodity"), ("processes", "process"),
                          ("toggles", "toggle"), ("variants", "variant"), ("targets", "target"),
                          ("sources", "source"), ("regions", "region"), ("groups", "group")):  # fmt: skip
        add(getattr(scenario, section), kind)
    add((o.id for a in scenario.agreements.values() for o in a.offtakes if o.id), "offtake")
    for bare, full in investment_projects(scenario).items():
        add([bare] if bare == full else [bare, full], "investment project")
    return kinds


def nearest(word: str, kinds: dict[str, list[str]], default: str) -> str:
    """Hint naming the closest id of any kind (:func:`did_you_mean`'s rule) and where it is declared, or `default`.

    Examples
    --------
    >>> nearest("mp10x", {"mp_10x": ["facility"], "cn_ban": ["policy"]}, "none")
    "did you mean 'mp_10x' (a facility, under `facilities:`)?"
    """
    close = closest(word, kinds)
    if close is None:
        return default
    kind = kinds[close][0]
    section = _KIND_SECTION.get(kind, "")
    where = f", under `{section}:`" if section else ""
    article = "an" if kind[0] in "aeiou" else "a"
    return f"did you mean '{close}' ({article} {kind}{where})?"


def investment_projects(scenario: Scenario) -> dict[str, str]:
    """Offtake supplier names of investment projects → their facility id ``<agreement>.<project>``.

    A project is named ``<agreement>.<project>`` or, where no other agreement has a
    project of that id, ``<project>`` alone.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "agreements": {"deal": {
    ...     "name": "D", "parties": ["US", "JP"], "start": 2025, "investment": {"fund_usd": 1e9, "projects": {
    ...         "au_mine": {"country": "AU", "kind": "mine", "output": "ore", "share_of_fund": 1,
    ...                     "capital_intensity_usd_per_unit_pa": 1e5, "lead_time_years": 2}}}}}})
    >>> investment_projects(s)
    {'au_mine': 'deal.au_mine', 'deal.au_mine': 'deal.au_mine'}
    """
    full = {f"{aid}.{pid}": pid for aid, ag in sorted(scenario.agreements.items()) if ag.investment
            for pid in ag.investment.projects}
    count: dict[str, int] = {}
    for pid in full.values():
        count[pid] = count.get(pid, 0) + 1
    out = {pid: f for f, pid in full.items() if count[pid] == 1}
    out.update({f: f for f in full})
    return dict(sorted(out.items()))


def switchable_entities(scenario: Scenario) -> dict[str, list[tuple[str, str]]]:
    """Every name a toggle's ``controls`` may use → the ``(section, id)`` entities it stands for.

    A bare id names every switchable entity of that id; ``section.id`` names one.
    """
    out: dict[str, list[tuple[str, str]]] = {}
    for section in SWITCHABLE:
        if section == "offtakes":
            ids = [o.id for a in scenario.agreements.values() for o in a.offtakes if o.id]
        else:
            ids = list(getattr(scenario, section))
        for i in ids:
            out.setdefault(i, []).append((section, i))
            out[f"{section}.{i}"] = [(section, i)]
    return out


# ----------------------------------------------------------------------- walking
def _walk(obj: Any, path: KeyPath = (), *, only_set: bool = False) -> Iterator[tuple[KeyPath, Any]]:
    """Every node below `obj` with its key path (fields in declaration order)."""
    stack: list[tuple[KeyPath, Any]] = [(path, obj)]
    while stack:
        here, node = stack.pop()
        yield here, node
        children: list[tuple[KeyPath, Any]] = []
        if isinstance(node, BaseModel):
            names = [n for n in type(node).model_fields if not only_set or n in node.model_fields_set]
            children = [((*here, n), getattr(node, n)) for n in names]
        elif isinstance(node, dict):
            children = [((*here, k), v) for k, v in node.items()]
        elif isinstance(node, list):
            children = [((*here, i), v) for i, v in enumerate(node)]
        stack.extend(reversed(children))


def walk(scenario: Scenario) -> list[tuple[KeyPath, Any]]:
    """Every node of `scenario` with its key path, once (fields in declaration order; :data:`Nodes`)."""
    return list(_walk(scenario))


def _refs(nodes: Nodes, table: dict[type[BaseModel], tuple[str, ...]]) -> Iterator[tuple[KeyPath, str]]:
    """``(path, id)`` of every reference held by the fields listed in `table`."""
    for path, node in nodes:
        for name in table.get(type(node), ()):
            value = getattr(node, name)
            here = (*path, name)
            if isinstance(value, str):
                yield here, value
            elif isinstance(value, list):
                yield from (((*here, i), v) for i, v in enumerate(value))
            elif isinstance(value, dict):
                yield from (((*here, k), k) for k in value)


def _missing(
    scenario: Scenario, refs: Iterable[tuple[KeyPath, str]], known: Iterable[str], what: str, section: str
) -> list[Problem]:
    """Problems for refs not in `known`; `section` is where to declare them (or a whole hint)."""
    known_set = set(known)
    hint_default = section if " " in section else f"declare it under `{section}:`"
    return [
        problem_at(scenario, path, f"unknown {what} '{ref}'", did_you_mean(ref, known_set, hint_default))
        for path, ref in refs
        if ref not in known_set
    ]


def _codes(scenario: Scenario) -> set[str]:
    return set(ISO_COUNTRIES) | set(scenario.regions) | set(scenario.groups)


# ------------------------------------------------------------------------- rules
def check_sources(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Every ``source:`` (of a quantity at any depth, a policy, a target …) is declared."""
    refs = [(p, v) for p, v in nodes or walk(scenario) if p and p[-1] == "source" and isinstance(v, str)]
    return _missing(scenario, refs, scenario.sources, "source", "sources")


def check_countries(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Country codes are ISO 3166-1 alpha-2 or a declared region or group."""
    known = _codes(scenario)
    refs = [*_refs(nodes or walk(scenario), _COUNTRY_FIELDS), *((("countries", c), c) for c in scenario.countries)]
    default = "use an ISO 3166-1 alpha-2 code, or declare it under `regions:`"
    return [problem_at(scenario, path, f"unknown country or region code '{code}'", code_hint(code, known, default))
            for path, code in refs if code not in known]


def world_codes(scenario: Scenario) -> set[str]:
    """Country and region codes that name a node of the world (a market, a facility's country, an import party).

    A code is in the world when the graph (:mod:`supplychain.graph.build`) gives it a node:
    it is the country of a facility, of a demand entry, of a stockpile or of an agreement's
    investment project (a new facility), a supplier or buyer of a flow that is not a
    facility, or an importer, partner or remainder of an ``imports`` entry. Any other valid
    code (ISO or declared) has no market, so a policy, offtake or agreement naming it covers nothing.
    """
    codes = {f.country for f in scenario.facilities.values()}
    codes |= {d.country for d in scenario.demand.values()} | {s.country for s in scenario.stockpiles.values()}
    codes |= {n for fl in scenario.flows.values() for n in (fl.supplier, fl.buyer) if n not in scenario.facilities}
    for imp in scenario.imports.values():
        codes |= {imp.importer, imp.remainder_to, *imp.partners, *imp.remainder_split}
    for agreement in scenario.agreements.values():
        if agreement.investment is not None:
            codes |= {p.country for p in agreement.investment.projects.values()}
    return codes


def _absent(scenario: Scenario, refs: Iterable[tuple[KeyPath, str, str]], consequence: str) -> list[Problem]:
    """Problems for the valid, non-group codes of `refs` (path, code, entity) that name no node of the world."""
    world = world_codes(scenario)
    known = _codes(scenario)
    present = ", ".join(sorted(c for c in world if c in ISO_COUNTRIES or c in scenario.regions))
    hint = f"the world's countries and regions are {present}; add the country (a demand, flow or facility) or remove it"
    return [problem_at(scenario, path, f"'{code}' is a valid code but no market or facility of this world: "
                                       f"{what} {consequence}", hint)
            for path, code, what in refs if code in known and code not in scenario.groups and code not in world]


def check_world_parties(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Report a policy's included partner or an offtake's buyer that is not in the world (an error).

    A valid code with no node (:func:`world_codes`; e.g. ``NZ`` in a world of US, CN, JP …)
    makes the entity cover nothing: a policy ``partners: {include: [NZ]}`` licenses no
    edge, an offtake to ``NZ`` has no buyer. That is an error: the run would otherwise list
    the policy as in force while it acts on nothing. Groups are not checked (a group may list
    members the world does not model), nor ``exclude`` (excluding a country that is not there
    changes nothing), nor the policy's own ``country`` (the exporter: a policy-only scenario
    is a common test fixture). An agreement's parties are a warning (:func:`check_agreement_parties`).
    """
    refs: list[tuple[KeyPath, str, str]] = []
    for pid, pol in scenario.policies.items():
        refs += [(("policies", pid, "partners", "include", i), c, f"policy {pid}")
                 for i, c in enumerate(pol.partners.include or [])]
    for aid, agr in scenario.agreements.items():
        refs += [(("agreements", aid, "offtakes", i, "buyer"), o.buyer, f"an offtake of agreement {aid}")
                 for i, o in enumerate(agr.offtakes)]
    return _absent(scenario, refs, "covers nothing there")


def check_agreement_parties(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Report an agreement's party with no node in the world (a warning), unless its ``not_representable`` says so.

    A deal with a country the world does not model is legitimate (the bundled US-Cambodia
    trade agreement: Cambodia is inside ``ROW``, which its ``not_representable`` says), but
    its preference and exemptions reach nothing in that country; an agreement without a
    ``not_representable`` note gets the warning, so that a deal written for ``NZ`` does not
    pass silently.
    """
    refs = [(("agreements", aid, "parties", i), c, f"agreement {aid}")
            for aid, agr in scenario.agreements.items() if agr.not_representable is None
            for i, c in enumerate(agr.parties)]
    return _absent(scenario, refs, "reaches nothing there (its preference and exemptions act on nodes)")

def check_code_clashes(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Region and group codes are not ISO codes; regions, groups and facilities do not share ids."""
    problems = []
    codes = set(ISO_COUNTRIES) | set(scenario.regions) | set(scenario.groups)
    for fid in scenario.facilities:
        if fid in codes:
            message = f"facility id '{fid}' is also a country, region or group code"
            problems.append(problem_at(scenario, ("facilities", fid), message, "rename the facility"))
    for section, declared in (("regions", list(scenario.regions)), ("groups", list(scenario.groups))):
        for code in declared:
            if code in ISO_COUNTRIES:
                message = f"{section[:-1]} code '{code}' is already the ISO code of a country"
                problems.append(problem_at(scenario, (section, code), message, "choose another code"))
    for code in sorted(set(scenario.regions) & set(scenario.groups)):
        hint = "rename the group"
        problems.append(problem_at(scenario, ("groups", code), f"'{code}' is both a region and a group", hint))
    return problems


def check_groups(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Check that no group contains itself, directly or through other groups."""
    problems = []
    for code in scenario.groups:
        seen: set[str] = set()
        todo = [code]
        while todo:
            for member in scenario.groups[todo.pop()].members:
                if member == code:
                    hint = "a group cannot be a member of itself"
                    problems.append(problem_at(scenario, ("groups", code, "members"), "group membership loops", hint))
                    todo = []
                    break
                if member in scenario.groups and member not in seen:
                    seen.add(member)
                    todo.append(member)
    return problems


ELEMENT_METRICS = frozenset({"element_dependence", "element_exposed_share"})
"""Target metrics whose ``commodity`` is an element key (``NdPr``), not a commodity id."""


def _element_target(scenario: Scenario, path: KeyPath) -> bool:
    """Tell whether a path is the ``commodity`` of a target on an element metric (an element key)."""
    return (len(path) == 3 and path[0] == "targets" and path[2] == "commodity"
            and scenario.targets[str(path[1])].metric in ELEMENT_METRICS)


def check_commodities(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Every commodity named (facility output, process inputs/outputs, flows …) exists."""
    refs = [(p, r) for p, r in _refs(nodes or walk(scenario), _COMMODITY_FIELDS) if not _element_target(scenario, p)]
    return _missing(scenario, refs, scenario.commodities, "commodity", "commodities")


def element_keys(scenario: Scenario) -> set[str]:
    """Return the element keys declared under the commodities' ``content`` (``Dy``, ``NdPr``, ``Tb``).

    They name the element measures' ``commodity`` (``element_exposed_share`` of ``Dy``) and an element
    target's ``commodity``.
    """
    return {key for com in scenario.commodities.values() for key in com.content}


def check_contents(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Content keys are made of elements the commodity carries; element targets name a declared key.

    A key such as ``NdPr`` is read as the symbols ``Nd`` and ``Pr``; each must be in the
    commodity's ``elements``. A target on an element metric (``element_exposed_share``,
    ``element_dependence``) names in ``commodity`` a key declared in some commodity's ``content``.
    """
    problems = []
    keys = element_keys(scenario)
    for cid, com in scenario.commodities.items():
        for key in com.content:
            missing = [e for e in re.findall(r"[A-Z][a-z]?", key) if e not in com.elements]
            if missing:
                message = f"content key '{key}' names {', '.join(missing)}, which '{cid}' does not carry"
                hint = f"add {', '.join(missing)} to `elements:` or fix the key"
                problems.append(problem_at(scenario, ("commodities", cid, "content", key), message, hint))
    refs = [(("targets", tid, "commodity"), t.commodity) for tid, t in scenario.targets.items()
            if t.metric in ELEMENT_METRICS]
    hint = "name an element key declared under a commodity's `content:` (e.g. NdPr)"
    problems += _missing(scenario, refs, keys, "element key", hint)
    return problems


def check_processes(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Every ``process:`` of a facility or investment project exists."""
    refs = _refs(nodes or walk(scenario), _PROCESS_FIELDS)
    return _missing(scenario, refs, scenario.processes, "process", "processes")


CONVERTING_KINDS = ("separation", "refinery", "metal", "magnet", "manufacturer")
"""Facility kinds that turn inputs into their output: they need a ``process:`` (``mine``, ``recycler`` and
``aggregate`` may be primary producers with ``output:``)."""


def check_converter_kinds(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Report a facility or investment project of a converting kind that gives ``output:``, not ``process:``.

    A plant with ``output:`` is a primary producer: its output comes from no input
    (:func:`~supplychain.graph.build.build` gives it no input edge). A magnet plant written
    so makes magnets from nothing, even under a ban on every input it would need. A
    converting kind (:data:`CONVERTING_KINDS`) with ``output:`` is therefore an error; the
    hint names the scenario's processes that make that output.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "facilities": {"p": {"name": "P", "country": "IN", "kind": "magnet", "output": "magnet"}}})
    >>> print(check_converter_kinds(s)[0].message)
    facility p is a magnet plant with `output: magnet` and no `process:`: it would make magnet from nothing
    """
    entities: list[tuple[KeyPath, str, str, str | None]] = [
        (("facilities", fid), "facility", f.kind, f.output) for fid, f in scenario.facilities.items()]
    for aid, ag in scenario.agreements.items():
        if ag.investment is not None:
            entities += [(("agreements", aid, "investment", "projects", pid), "investment project", p.kind, p.output)
                         for pid, p in ag.investment.projects.items()]
    problems = []
    for path, what, kind, output in entities:
        if kind not in CONVERTING_KINDS or output is None:
            continue
        makers = sorted(pid for pid, p in scenario.processes.items() if output in p.outputs)
        ids = (f"this scenario's processes making {output}: {', '.join(makers)}" if makers
               else f"no process of this scenario makes {output}: declare one under `processes:`")
        message = (f"{what} {path[-1]} is a {kind} plant with `output: {output}` and no `process:`: "
                   f"it would make {output} from nothing")
        hint = (f"give `process: <id>` instead of `output:` ({ids}); or use `kind: aggregate` (or `mine`) if its "
                "inputs are outside the scenario")
        problems.append(problem_at(scenario, (*path, "output"), message, hint))
    return problems


def check_nodes(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Flow and offtake endpoints are a facility id or a country/region code (not a group).

    An offtake's supplier may also be an investment project of an agreement
    (:func:`investment_projects`). An unknown name gets the nearest id of any kind. An offtake
    without a quantity (all the supplier's output) names a plant, not a country.
    """
    known = set(ISO_COUNTRIES) | set(scenario.regions) | set(scenario.facilities)
    projects = investment_projects(scenario)
    ends: list[tuple[KeyPath, str, bool]] = []
    for path, node in nodes or walk(scenario):
        if isinstance(node, Flow | Offtake):
            ends.append(((*path, "supplier"), node.supplier, isinstance(node, Offtake)))
        if isinstance(node, Flow):
            ends.append(((*path, "buyer"), node.buyer, False))
    kinds = entity_kinds(scenario)
    problems = []
    for path, node, offtake in ends:
        if node in scenario.groups:
            hint = "a flow runs between one facility or country and another; list one flow per member"
            problems.append(problem_at(scenario, path, f"'{node}' is a group, not a node", hint))
        elif node in known or (offtake and node in projects):
            continue
        elif node in kinds:
            what = " or ".join(kinds[node])
            allowed = "a facility, an investment project" if offtake else "a facility"
            hint = f"'{node}' is a {what}; an endpoint is {allowed} or a country/region code"
            problems.append(problem_at(scenario, path, f"'{node}' is not a facility or country", hint))
        else:
            default = ("give a facility id, an investment project or a country/region code" if offtake
                       else "give a facility id or a country/region code")
            where = {k: v for k, v in kinds.items() if k not in ISO_COUNTRIES}
            problems.append(problem_at(scenario, path, f"unknown facility or country '{node}'",
                                       nearest(node, where, default)))
    for path, node in nodes or walk(scenario):
        if isinstance(node, Offtake) and node.tonnes_per_year is None and (
                node.supplier in ISO_COUNTRIES or node.supplier in scenario.regions):
            msg = f"an offtake of all output needs a plant as supplier, not '{node.supplier}'"
            hint = "name the facility or investment project whose output is bought, or give `quantity_per_year`"
            problems.append(problem_at(scenario, (*path, "supplier"), msg, hint))
    return problems


def check_policy_names(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Toggles control (or switch off) real entities unambiguously; agreements lift real policies; unique offtakes."""
    switchable = switchable_entities(scenario)
    kinds = entity_kinds(scenario)
    problems = []
    for t, tog in scenario.toggles.items():
        refs = [("controls", i, c) for i, c in enumerate(tog.controls)]
        refs += [("switches_off", i, c) for i, c in enumerate(tog.switches_off)]
        for field, i, c in refs:
            path: KeyPath = ("toggles", t, field, i)
            found = switchable.get(c, [])
            if field == "switches_off" and c in tog.controls:
                hint = "an entity a toggle both switches on and off is never in force: keep it in one list"
                problems.append(problem_at(scenario, path, f"'{c}' is also in this toggle's `controls`", hint))
                continue
            if len(found) > 1:
                options = " or ".join(f"'{sec}.{eid}'" for sec, eid in found)
                problems.append(problem_at(scenario, path, f"'{c}' names entities in {len(found)} sections",
                                           f"write {options}"))
            elif not found and c in kinds:
                hint = (f"'{c}' is a {' or '.join(kinds[c])}; a toggle switches policies, agreements, "
                        "facilities, flows, stockpiles and offtakes (by their `id`)")
                problems.append(problem_at(scenario, path, f"'{c}' cannot be switched", hint))
            elif not found:
                default = "declare it under `policies:`, `agreements:`, `facilities:`, `flows:` or `stockpiles:`"
                problems.append(problem_at(scenario, path, f"unknown entity '{c}'", nearest(c, kinds, default)))
    lifts = [
        (("agreements", a, "lifts", i), p) for a, agr in scenario.agreements.items() for i, p in enumerate(agr.lifts)
    ]
    seen: dict[str, KeyPath] = {}
    for a, agr in scenario.agreements.items():
        for i, off in enumerate(agr.offtakes):
            if off.id is None:
                continue
            here: KeyPath = ("agreements", a, "offtakes", i, "id")
            if off.id in seen:
                hint = f"another offtake has this id ({'.'.join(map(str, seen[off.id][:2]))}); ids must be unique"
                problems.append(problem_at(scenario, here, f"offtake id '{off.id}' is used twice", hint))
            seen.setdefault(off.id, here)
    return [*problems, *_missing(scenario, lifts, scenario.policies, "policy", "policies")]


def check_variants(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Variants set real toggles."""
    refs = [(("variants", v, "toggles", t), t) for v, var in scenario.variants.items() for t in var.toggles]
    return _missing(scenario, refs, scenario.toggles, "toggle", "toggles")


def check_selectors(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Families and elements in ``covers:`` are carried by at least one commodity."""
    families = {c.family for c in scenario.commodities.values() if c.family}
    elements = {e for c in scenario.commodities.values() for e in c.elements}
    fam: list[tuple[KeyPath, str]] = []
    ele: list[tuple[KeyPath, str]] = []
    for path, node in nodes or walk(scenario):
        if isinstance(node, Selector):
            fam += [((*path, "families", i), f) for i, f in enumerate(node.families)]
            ele += [((*path, "elements", i), e) for i, e in enumerate(node.elements)]
    return [
        *_missing(scenario, fam, families, "commodity family", "no commodity has this `family:`"),
        *_missing(scenario, ele, elements, "element", "no commodity lists this element in `elements:`"),
    ]


def _written_t_keys(scenario: Scenario, nodes: Nodes) -> Iterator[tuple[KeyPath, str, str, BaseModel]]:
    """``(path, t-named key, unit-neutral key, entity)`` of every tonnes-named key the files wrote."""
    provenance = scenario._provenance
    marks = getattr(provenance, "marks", None) if provenance is not None else None
    if not marks:
        return
    for path, node in nodes:
        if isinstance(node, BaseModel):
            for old, new in t_named_keys(type(node)).items():
                if (*path, old) in marks:
                    yield (*path, old), old, new, node


def _commodities_of(scenario: Scenario, path: KeyPath, node: BaseModel) -> list[str]:
    """List the commodities a quantity of an entity is about (for its unit)."""
    if isinstance(node, Commodity):
        return [str(path[1])] if len(path) > 1 else []
    if isinstance(node, ExportQuota | ExportTax | Tariff):
        return [k for k, c in scenario.commodities.items() if matches(node.covers, k, c)]
    if isinstance(node, InvestmentProject):
        if node.output is not None:
            return [node.output]
        proc = scenario.processes.get(node.process or "")
        return [proc.reference_output] if proc is not None else []
    commodity = getattr(node, "commodity", None)
    return [commodity] if isinstance(commodity, str) else []


def _unit(scenario: Scenario, commodity: str) -> tuple[str, str] | None:
    c = scenario.commodities.get(commodity)
    return (c.unit, c.basis) if c is not None else None


def check_units(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Check that a tonnes-named key is used only for commodities in t, and that a quota counts one unit.

    ``tonnes: 20000`` on a commodity measured in ``kg Ga`` would label kilograms as
    tonnes: write ``quantity:`` (the unit-neutral key; the figure is in the
    commodity's unit). An export quota is one number, so the commodities it covers
    share one unit. Only files are checked (a scenario built in Python does not
    record which key was written).
    """
    problems = []
    for path, old, new, node in _written_t_keys(scenario, nodes or walk(scenario)):
        units = {u for k in _commodities_of(scenario, path[:-1], node) if (u := _unit(scenario, k))}
        other = sorted(f"{b}" for u, b in units if u != "t")
        if other:
            message = f"`{old}` is in tonnes, but the commodity is measured in {', '.join(other)}"
            problems.append(problem_at(scenario, path, message, f"write `{new}:` (the same figure, in that unit)"))
    for pid, pol in scenario.policies.items():
        if isinstance(pol, ExportQuota):
            units = {u for k in _commodities_of(scenario, ("policies", pid), pol) if (u := _unit(scenario, k))}
            if len({u for u, _ in units}) > 1:
                listed = ", ".join(sorted(b for _, b in units))
                hint = "split the quota into one policy per unit, each with its own `covers:`"
                problems.append(problem_at(scenario, ("policies", pid, "covers"),
                                           f"an export quota is one number but covers commodities in {listed}", hint))
    return problems


def check_coverage(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Element selectors declare the share of each mixed commodity they cover; ``coverage`` keys apply.

    An element list reaches a commodity that carries other elements too (NdFeB
    magnets under ``elements: [Dy, Tb]``) only at a declared share
    (``supplychain.schema.coverage``); a ``coverage`` entry for a commodity the
    selector does not match has no effect and is refused.
    """
    problems = []
    for path, node in nodes or walk(scenario):
        if not isinstance(node, Selector):
            continue
        for k in undeclared(node, scenario.commodities):
            carried = scenario.commodities[k].elements
            listed = [e for e in carried if e in node.elements]
            others = ", ".join(e for e in carried if e not in listed)
            message = (f"'{k}' carries {', '.join(listed)} and also {others}: "
                       "the share of it this selector covers is not declared")
            hint = (f"add `coverage: {{{k}: {{value: <share>, source: <id>}}}}` (or an assumption; 0 excludes it)")
            problems.append(problem_at(scenario, (*path, "elements"), message, hint))
        for k in node.coverage:
            c = scenario.commodities.get(k)
            if c is not None and not matches(node, k, c):
                hint = "remove it, or widen the selector's axes so that they match it"
                problems.append(problem_at(scenario, (*path, "coverage", k),
                                           f"coverage for '{k}', which the selector does not match", hint))
    return problems


def check_preference_prices(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    r"""Check that an agreement's preference covers only commodities with a price.

    The preference surcharges a party's imports from non-parties by
    :math:`\pi\,p_k` per unit (``docs/rebalance.md``, level 3), a share of the
    commodity's price. Without a price (``price_usd_per_unit``) that surcharge would be nothing, and
    the response would buy the unpriced commodity (NdPr metal) instead of a priced one
    (NdPr oxide) to escape the preference: a silently wrong answer, refused here.
    """
    problems = []
    for aid, ag in scenario.agreements.items():
        if ag.preference is None or (ag.preference.central == 0 and ag.preference.dist is None):
            continue  # no preference, or one that no sample can switch on
        unpriced = [k for k in covered_commodities(ag.covers, scenario.commodities)
                    if scenario.commodities[k].price_usd_per_t is None]
        if unpriced:
            problems.append(problem_at(scenario, ("agreements", aid, "preference"), *unpriced_preference(unpriced)))
    return problems


def unpriced_preference(commodities: Sequence[str]) -> tuple[str, str]:
    """Return the message and hint of a preference on commodities without a price (loader and API alike).

    Examples
    --------
    >>> message, hint = unpriced_preference(["ndpr_metal", "ree_concentrate"])
    >>> message.split(": ")[0]
    "the preference is a share of the price, but 'ndpr_metal', 'ree_concentrate' have no price (`price_usd_per_unit`)"
    """
    have = "has" if len(commodities) == 1 else "have"
    message = (f"the preference is a share of the price, but {', '.join(repr(k) for k in commodities)} "
               f"{have} no price (`price_usd_per_unit`): its surcharge would be 0")
    hint = (f"give commodities.{commodities[0]} a `price_usd_per_unit` with a source (or an assumption), "
            "or narrow the agreement's `covers:`")
    return message, hint


def check_data_years(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Years of demand and production are at most 50 years before the base year; a growth of -1 is never back-cast.

    Demand before its entry's year is :math:`t (1 + g)^{n}` with :math:`n < 0`
    (:func:`~supplychain.graph.build.grown`), undefined for :math:`g = -1`.
    """
    first = scenario.scenario.base_year - _YEARS_BEFORE_BASE
    refs: list[tuple[KeyPath, int]] = []
    for key, d in scenario.demand.items():
        refs += [(("demand", key, "year"), d.year), *((("demand", key, "by_year", y), y) for y in d.by_year)]
    for key, f in scenario.facilities.items():
        refs += [(("facilities", key, "production", y), y) for y in f.production]
    hint = f"years before {first} (base_year - {_YEARS_BEFORE_BASE}) are almost certainly a typo"
    problems = [problem_at(scenario, p, f"year {y} is too far before the base year", hint)
                for p, y in refs if y < first]
    base = scenario.scenario.base_year
    for key, d in scenario.demand.items():
        g = d.growth
        rates = [] if g is None else [g.central, *(v for v in (g.low, g.high) if v is not None), *(g.choices or [])]
        back = [y for y in range(base, d.year) if y not in d.by_year]
        if back and any(r <= -1.0 for r in rates):
            problems.append(problem_at(
                scenario, ("demand", key, "growth"),
                f"a growth of -100 % a year cannot be carried back from {d.year} to {back[0]}: "
                "demand there would be t / 0",
                f"give the years before {d.year} in `by_year`, or a growth above -1"))
    return problems


def check_citations(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Every quantity written in the scenario carries a ``source`` or an ``assumption``.

    Used by ``--require-sources``; defaults the user did not write are not checked.
    """
    hint = "write {value: ..., source: <id in sources>} or {value: ..., assumption: '<why>'}"
    return [
        problem_at(scenario, path, "uncited figure: no `source` or `assumption`", hint)
        for path, node in _walk(scenario, only_set=True)
        if isinstance(node, Quantity) and node.source is None and node.assumption is None
    ]


def tie_members(scenario: Scenario, nodes: Nodes | None = None) -> dict[str, list[tuple[KeyPath, str]]]:
    """Tie name → its members as ``(key path of the tie: key, kind)``, kind ``quantity`` or ``toggle``, in file order.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "demand": {
    ...     "d": {"country": "US", "commodity": "m", "year": 2024, "tonnes": 1,
    ...           "growth": {"dist": "uniform", "low": 0, "high": 0.05, "tie": "g"}}}})
    >>> tie_members(s)
    {'g': [(('demand', 'd', 'growth', 'tie'), 'quantity')]}
    """
    out: dict[str, list[tuple[KeyPath, str]]] = {}
    for path, node in nodes or walk(scenario):
        if isinstance(node, Quantity | Toggle) and node.tie is not None:
            kind = "toggle" if isinstance(node, Toggle) else "quantity"
            out.setdefault(node.tie, []).append(((*path, "tie"), kind))
    return out


def check_ties(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Check that a tie's members are all quantities or all toggles.

    Quantities of one tie take their quantiles at one shared draw; toggles of one tie are
    switched by one shared draw. A tie of both kinds is refused: each member that is not of
    the first member's kind is reported, naming the first.
    """
    problems = []
    for tie, members in tie_members(scenario, nodes).items():
        first_path, first_kind = members[0]
        for path, kind in members[1:]:
            if kind != first_kind:
                message = (f"tie '{tie}' joins a {kind} to a {first_kind} ({format_path(first_path[:-1])}): "
                           "a tie holds quantities or toggles, not both")
                hint = (f"quantities of a tie share one quantile, toggles one on/off draw; "
                        f"give the {kind}s their own tie name")
                problems.append(problem_at(scenario, path, message, hint))
    return problems


def check_tie_members(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Report a tie with one member (a warning): nothing shares its draw, perhaps a misspelt name.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "demand": {
    ...     "d": {"country": "US", "commodity": "m", "year": 2024, "tonnes": 1,
    ...           "growth": {"dist": "uniform", "low": 0, "high": 0.05, "tie": "g"}}}})
    >>> [p.message for p in check_tie_members(s)]
    ["tie 'g' has one member: nothing shares its draw"]
    """
    ties = tie_members(scenario, nodes)
    problems = []
    for tie, members in ties.items():
        if len(members) == 1:
            others = [t for t in ties if t != tie]
            what = "quantities that state this fact" if members[0][1] == "quantity" else "toggles it should switch with"
            hint = did_you_mean(tie, others, f"write the same `tie:` on the other {what}, or remove it")
            problems.append(problem_at(scenario, members[0][0], f"tie '{tie}' has one member: nothing shares its draw",
                                       hint))
    return problems


RULES: tuple[Rule, ...] = (
    check_sources,
    check_countries,
    check_code_clashes,
    check_groups,
    check_commodities,
    check_contents,
    check_processes,
    check_converter_kinds,
    check_nodes,
    check_policy_names,
    check_variants,
    check_selectors,
    check_coverage,
    check_preference_prices,
    check_units,
    check_data_years,
    check_world_parties,
    check_ties,
)
"""Every cross-reference rule, run in this order by :func:`check_references`."""


def check_references(scenario: Scenario, *, require_sources: bool = False) -> list[Problem]:
    """Run every rule in :data:`RULES` and return all problems, sorted.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    require_sources : bool, optional
        Also run :func:`check_citations`.

    Returns
    -------
    list of Problem
        Empty when every reference resolves.
    """
    rules = (*RULES, check_citations) if require_sources else RULES
    nodes = walk(scenario)
    return sort_problems(p for rule in rules for p in rule(scenario, nodes))


_SECTIONS = tuple(name for name, f in Scenario.model_fields.items() if typing_origin(f.annotation) is dict)


def _fold(name: str) -> str:
    return name.casefold().replace("-", "_")


def check_lookalike_ids(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Ids of one section that differ only by case or ``-``/``_`` (``Au_mine``, ``au_mine``, ``au-mine``).

    They are allowed (ids are case-sensitive), but a reference to the wrong one is
    not an error, so each later spelling is reported, pointing at the first.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}, "commodities": {
    ...     "Ore": {"name": "A", "stage": "ore"}, "ore": {"name": "B", "stage": "ore"}}})
    >>> [p.message for p in check_lookalike_ids(s)]
    ["commodities id 'ore' differs from 'Ore' only by case or '-'/'_'"]
    """
    problems = []
    for section in _SECTIONS:
        first: dict[str, str] = {}
        for key in getattr(scenario, section):
            seen = first.setdefault(_fold(str(key)), str(key))
            if seen != key:
                message = f"{section} id '{key}' differs from '{seen}' only by case or '-'/'_'"
                hint = "rename one of them: a reference to the wrong one would not be noticed"
                problems.append(problem_at(scenario, (section, key), message, hint))
    return problems


def check_preference_size(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    r"""Warn of a preference whose size cannot change any result (allowed, but its value is no sensitivity).

    A preference acts twice (``docs/rebalance.md``): as a priority, its parties' spare supply serving
    partners first (any positive value), and as a surcharge :math:`\pi\,p_k` on a party's imports from
    non-parties in the cost level. Alone, the surcharges are one cost vector times :math:`\pi`, which
    moves no optimum; the size only counts against other costs: export taxes, tariffs and the surcharges
    of another preference of the same party. Reported when the scenario has none of them.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "agreements": {"d": {"name": "D", "parties": ["US", "JP"], "start": 2025, "preference": 0.05}}})
    >>> [p.message for p in check_preference_size(s)]
    ['any positive preference gives the same results here (0.05 acts as an on/off priority)']
    """
    prefs = {aid: (ag, ag.preference) for aid, ag in scenario.agreements.items() if ag.preference is not None}
    if any(isinstance(p, ExportTax | Tariff) for p in scenario.policies.values()):
        return []
    parties = [c for ag, _ in prefs.values() for c in dict.fromkeys(ag.parties)]
    problems = []
    for aid, (ag, pref) in prefs.items():
        if any(parties.count(c) > 1 for c in ag.parties):
            continue  # another preference of a party: their sizes compare
        message = f"any positive preference gives the same results here ({pref.central:g} acts as an on/off priority)"
        hint = ("its size only counts against export taxes, tariffs or another preference of the same party "
                "(docs/rebalance.md, level 3); a sensitivity to it shows nothing")
        problems.append(problem_at(scenario, ("agreements", aid, "preference"), message, hint))
    return problems


@dataclass(frozen=True)
class DatedVerdict:
    """A policy's, agreement's or offtake's span read against one scenario's years (:func:`dated_verdicts`).

    Attributes
    ----------
    item : tuple
        The entry's key path (``("policies", "cn_ban")``, ``("agreements", "d", "offtakes", 0)``).
    start_key : str
        The key of its start (``start``; an offtake's ``start_year``).
    what : str
        ``policy <id>``, ``agreement <id>``, ``offtake <id> of agreement <id>``.
    why : str or None
        :func:`~supplychain.simulation.calendar.never_in_force`'s verdict: ``"after"`` (starts after the
        horizon), ``"before"`` (ended before the base year), ``"empty"`` (an offtake starting after its
        agreement ends), ``None`` (in force in some year).
    start, end : datetime.date, datetime.date or None
        The span.
    """

    item: KeyPath
    start_key: str
    what: str
    why: str | None
    start: dt.date
    end: dt.date | None

    def at(self, why: str | None) -> KeyPath:
        """Return the key a warning with verdict ``why`` is located at: the end for ``"before"``, else the start."""
        return (*self.item, "end" if why == "before" else self.start_key)


def dated_verdicts(scenario: Scenario) -> list[DatedVerdict]:
    """Read every policy, agreement and offtake span against the scenario's years (base_year … horizon).

    The rule is :func:`~supplychain.simulation.calendar.never_in_force` (the sweep's inert inputs use it
    too); an offtake's span is its agreement's from 1 January of ``start_year``
    (:func:`~supplychain.simulation.calendar.offtake_span`). An offtake of an agreement that is itself never
    in force has a verdict only when its own ``start_year`` is after the horizon (else the agreement's says it).
    """
    from supplychain.simulation.calendar import never_in_force, offtake_span  # the simulation imports the schema

    years = scenario.years
    first, last = years[0], years[-1]
    found: list[DatedVerdict] = []

    def read(item: KeyPath, what: str, start: dt.date, end: dt.date | None, start_key: str = "start") -> bool:
        why = never_in_force(start, end, first, last)
        found.append(DatedVerdict(item, start_key, what, why, start, end))
        return why is not None

    for pid, pol in scenario.policies.items():
        read(("policies", pid), f"policy {pid}", pol.start, pol.end)
    for aid, agr in scenario.agreements.items():
        agreement_never = read(("agreements", aid), f"agreement {aid}", agr.start, agr.end)
        for i, o in enumerate(agr.offtakes):
            start, end = offtake_span(agr.start, agr.end, o.start_year)
            if agreement_never and o.start_year <= last:
                continue  # the agreement's own warning says it
            read(("agreements", aid, "offtakes", i), f"offtake {o.id or i} of agreement {aid}", start, end,
                 "start_year")
    return found


def _years_span(first: int, last: int) -> str:
    """``2024–2030``, or ``2024`` for one year: the years a dated-row or in-force warning is read against."""
    return f"{first}–{last}" if last > first else str(first)


def _written_elsewhere(scenario: Scenario, path: KeyPath) -> bool:
    """Whether ``path`` is written in a file the scenario extends (not in its own file)."""
    own = getattr(scenario._provenance, "file", None)
    return own is not None and problem_at(scenario, path, "").file != own


def _never_message(v: DatedVerdict, why: str | None, span: str, horizon: str = "the horizon",
                   base: str = "the base year") -> str:  # fmt: skip
    if why == "after":
        return f"{v.what} is never in force in {span}: it starts in {v.start.year}, after {horizon}"
    if why == "before" and v.end is not None:
        return f"{v.what} is never in force in {span}: it ended in {v.end.year}, before {base}"
    end = v.end.isoformat() if v.end is not None else "?"
    return f"{v.what} is never in force: it starts in {v.start.year}, after its agreement ends ({end})"


def check_years_in_force(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Report a policy, agreement or offtake that is in force in none of the scenario's years (a warning).

    Its span is [start, end]; an offtake's is its agreement's from 1 January of ``start_year``
    (``offtake_bounds`` commits φ = 0 before ``start_year`` and after the agreement's end).
    The scenario's years are ``base_year`` … ``horizon``. The rule is
    :func:`~supplychain.simulation.calendar.never_in_force` (:func:`dated_verdicts`): it can never act
    when it starts after the horizon, ended before the base year, or
    (an offtake) starts in a year after its agreement has ended. That is a warning, not an
    error, and only for what the scenario's own file writes: a dated measure of a shared world
    file the scenario extends (its start or end written there, not overridden) that lies outside
    a short scenario's years is the world's data, which the scenario leaves out by its years, not
    a slip the scenario's author can fix (``china_controls_all_minerals``, horizon 2025, extends
    the suspended controls' returns dated November 2026; run it to 2026 to see them). Such a measure
    is warned about once, for the world file itself, when it lies outside the years of every scenario
    validated with the world file (``validate scenarios/``: :func:`shared_years_in_force`).
    A start before the base year is in force from the base year on (the 2023 gallium and germanium
    controls) and is not reported. An offtake of an agreement that is itself never in force is
    reported only when its own ``start_year`` is after the horizon. An offtake that starts after
    its own agreement ends is reported wherever it is written (it can act in no scenario).

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024, "horizon": 2030},
    ...     "policies": {"late": {"type": "export_ban", "country": "CN", "start": "2052-01-01"}}})
    >>> [p.message for p in check_years_in_force(s)]
    ['policy late is never in force in 2024–2030: it starts in 2052, after the horizon']
    """
    years = scenario.years
    first, last = years[0], years[-1]
    span = _years_span(first, last)
    hint = f"the scenario's years are {span} (base_year to horizon): check the year, or extend `horizon`"
    problems = []
    for v in dated_verdicts(scenario):
        if v.why is None:
            continue
        if v.why in ("after", "before") and _written_elsewhere(scenario, v.at(v.why)):
            continue  # a shared world's dated measure outside this scenario's years
        fix = "check `start_year`, or the agreement's `end`" if v.why == "empty" else hint
        problems.append(problem_at(scenario, v.at(v.why), _never_message(v, v.why, span), fix))
    return problems


def check_bare_year_ends(scenario: Scenario, data: Mapping[str, Any]) -> list[Problem]:
    """Report a policy's or agreement's ``end`` written as a bare year (a warning): in force on 1 January only.

    A date written ``YYYY`` is 1 January of that year (``supplychain.schema.types.Date``) and ``end``
    is the last day in force (a closed span, :mod:`supplychain.simulation.calendar`), so ``end: 2027``
    keeps the measure in force on 1 January 2027 and no later: one day of 2027 (1/365 of the year
    at day resolution, the month's share at month resolution), not the year it seems to say. The
    rule reads the composed data as written (``data``: :attr:`~supplychain.io.compose.Composition.data`,
    before the schema turns ``2027`` into a date), so ``2027-01-01`` — the same date, written out —
    is not reported. ``start: 2027`` (from 1 January) says what it seems to and is not reported.

    Examples
    --------
    >>> raw = {"scenario": {"name": "x", "base_year": 2024}, "policies": {"ban": {"type": "export_ban",
    ...        "country": "CN", "start": "2025-01-01", "end": 2027}}}
    >>> [found] = check_bare_year_ends(Scenario.model_validate(raw), raw)
    >>> print(found.message)
    `end: 2027` keeps policy ban in force on 1 January 2027 only (a bare year is 1 January; `end` is the last day)
    >>> print(found.hint)
    write 2027-12-31 for the whole year, or 2026-12-31 to end before it
    """
    problems = []
    for section, what in (("policies", "policy"), ("agreements", "agreement")):
        entries = data.get(section)
        for eid, entry in (entries.items() if isinstance(entries, Mapping) else ()):
            end = entry.get("end") if isinstance(entry, Mapping) else None
            if isinstance(end, bool) or not (isinstance(end, int) or (isinstance(end, str) and end.isdigit())):
                continue
            year = int(end)
            problems.append(problem_at(
                scenario, (section, eid, "end"),
                f"`end: {end}` keeps {what} {eid} in force on 1 January {year} only (a bare year is 1 January; "
                "`end` is the last day)",
                f"write {year}-12-31 for the whole year, or {year - 1}-12-31 to end before it"))
    return problems


def shared_years_in_force(scenarios: Sequence[Scenario]) -> list[Problem]:
    """Report, once, a world file's dated measure in force in none of the years of the scenarios validated.

    :func:`check_years_in_force` leaves out what a scenario's bases write; a mistyped date in a shared
    world file (``start: 2062-01-01`` for 2026) would then never be warned about. Here every policy,
    agreement and offtake the ``scenarios`` read from a file they extend (:func:`dated_verdicts`) is read
    once against the years of all of them together, the earliest base year to the latest horizon
    (:func:`~supplychain.simulation.calendar.never_in_force`), and reported, located in the world file,
    when it starts after that span or ended before it. A measure of the world that only a short
    scenario reads but another scenario's years include (the bundled China controls' returns of
    November 2026, read by ``china_controls_all_minerals`` to 2025, within ``path_to_2030``'s years) is
    the world's data, not reported.

    Examples
    --------
    >>> from supplychain.io import load
    >>> shared_years_in_force([load("tests/data/minimal/child.yaml")])
    []
    """
    from supplychain.simulation.calendar import never_in_force  # the simulation imports the schema

    if not scenarios:
        return []
    first = min(s.years[0] for s in scenarios)
    last = max(s.years[-1] for s in scenarios)
    span = _years_span(first, last)
    problems: dict[tuple[str, int, int, KeyPath], Problem] = {}
    for scenario in scenarios:
        for v in dated_verdicts(scenario):
            why = never_in_force(v.start, v.end, first, last)
            if why not in ("after", "before"):
                continue
            at = v.at(why)
            if not _written_elsewhere(scenario, at):
                continue  # the scenario's own file: its own warning (check_years_in_force)
            message = _never_message(v, why, f"the years of the scenarios validated ({span})", "every horizon",
                                     "every base year")
            p = problem_at(scenario, at, message,
                           "check the year; a scenario that should use it needs those years (`base_year`, `horizon`)")
            problems.setdefault((p.file, p.line, p.column, at), p)
    return sort_problems(list(problems.values()))


def _bundled_file(file: str) -> bool:
    """Whether a problem's file is part of the bundled world (named ``bundled:…`` or under its folder)."""
    from supplychain.io.roots import BUNDLED_PREFIX, bundled_root  # io imports the schema

    if file.startswith(BUNDLED_PREFIX):
        return True
    try:
        return Path(file).resolve().is_relative_to(bundled_root())
    except (OSError, ValueError):
        return False


def check_dated_rows(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Report a flow, import record, stock or demand ``by_year`` figure dated where it is never used (a warning).

    A flow or an import record is observed trade of its own ``year`` only
    (:mod:`supplychain.graph.layout` takes the rows whose year is the year built), so one dated
    outside ``base_year`` … ``horizon`` is in no year's network; a demand ``by_year`` figure is read
    for its year only. A stock enters in its ``year`` (one dated before the base year in the base
    year), so one dated after the horizon never enters. A demand entry's own ``year`` is not
    reported: its quantity is grown (or back-cast) to every year. The bundled world's rows are not
    reported: its mineral files hold 2020–23 history (and 2026 rows) for scenarios with other years
    on purpose.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024, "horizon": 2030},
    ...     "flows": {"old": {"supplier": "AU", "buyer": "US", "commodity": "ore", "year": 2023, "tonnes": 1}}})
    >>> [p.message for p in check_dated_rows(s)]
    ["2023 is outside the scenario's years 2024–2030: this flow is not used"]
    """
    years = scenario.years
    first, last = years[0], years[-1]
    span = _years_span(first, last)
    rows: list[tuple[KeyPath, int, str, str]] = []
    for fid, f in scenario.flows.items():
        if not first <= f.year <= last:
            rows.append((("flows", fid, "year"), f.year, "flow is not used",
                         f"a flow is trade of its own year: set `year: {first}` (the base year) to use it, "
                         "or change `base_year`/`horizon`"))
    for iid, imp in scenario.imports.items():
        if not first <= imp.year <= last:
            rows.append((("imports", iid, "year"), imp.year, "import record is not used",
                         f"an import record is trade of its own year: set `year: {first}` (the base year) to use "
                         "it, or change `base_year`/`horizon`"))
    for sid, st in scenario.stockpiles.items():
        if st.year > last:
            rows.append((("stockpiles", sid, "year"), st.year, "stock never enters",
                         "a stock enters in its year: check the year, or extend `horizon`"))
    for did, d in scenario.demand.items():
        for y in d.by_year:
            if not first <= y <= last:
                rows.append((("demand", did, "by_year", y), y, "figure is not used",
                             "a `by_year` figure is read for its own year only: check the year, or change "
                             "`base_year`/`horizon`"))
    problems = []
    for path, year, what, hint in rows:
        message = f"{year} is outside the scenario's years {span}: this {what}"
        problem = problem_at(scenario, path, message, hint)
        if not _bundled_file(problem.file):
            problems.append(problem)
    return problems


def check_offtake_capacity(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    r"""Report an offtake whose plant's offtakes commit more than it can make in a year they are in force (a warning).

    An offtake's commitment in year y is t/yr × the year fraction in force
    (:func:`~supplychain.simulation.agreements.offtake_bounds`), summed over the offtakes of the same plant and
    commodity (they share what it can make). What the plant can make is the re-routing LP's
    :math:`M_{vk} = y_{vk} K_v` by the LP's own rules, read off the scenario
    (:func:`~supplychain.simulation.agreements.plant_can_make`: :math:`K_v` the larger of the plant's capacity
    that year, with commissioning, ramp-up, steps and closure, and its output that year; :math:`y_{vk}` its
    recipe's yield), and the commitments are cut by :func:`~supplychain.simulation.agreements.offtake_floors`,
    the LP's function, so the warning states the cut the re-routing response makes. What this check, reading
    the scenario without the year's tables and policies, does not see: a ban on the offtake's route (the LP
    caps the commitment first, ``Result.offtakes`` ``blocked``), a toggle that switches an investment off (its
    capacity 0 in a run), and a plant whose base-year edges do not carry its recipe's outputs in the recipe's
    ratios (the LP calibrates its yields on those edges,
    :func:`~supplychain.simulation.candidates.facility_yields`). A commitment above what the plant can make is
    allowed (the response cuts it), but one on a plant not yet built is probably not meant.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024, "horizon": 2026},
    ...     "facilities": {"p": {"name": "P", "country": "AU", "kind": "mine", "output": "ore", "capacity": 100,
    ...                          "commissioning_year": 2026}},
    ...     "agreements": {"d": {"name": "D", "parties": ["AU", "US"], "start": "2025-01-01", "offtakes": [
    ...         {"supplier": "p", "buyer": "US", "commodity": "ore", "start_year": 2025, "quantity_per_year": 80}]}}})
    >>> (p,) = check_offtake_capacity(s)
    >>> p.message.split(": ", 1)[1]
    'the offtakes of p commit more than it can make in 2025 (80 t committed, 0 t it can make: cut to 0 t)'
    """
    from supplychain.schema.units import commodity_units
    from supplychain.simulation.agreements import (  # the simulation imports the schema
        offtake_bounds,
        offtake_floors,
        plant_can_make,
        with_investments,
    )

    world = with_investments(scenario)
    over: dict[tuple[str, int], list[tuple[int, float, float, float]]] = {}
    for year in scenario.years:
        bounds = [b for b in offtake_bounds(world, year) if b.supplier in world.facilities and b.tonnes > 0]
        can_make = plant_can_make(world, year, dict.fromkeys((b.supplier, b.commodity) for b in bounds))
        floors = offtake_floors(bounds, can_make).tolist()
        total: dict[tuple[str, str], float] = {}
        cut: dict[tuple[str, str], float] = {}
        for b, floor in zip(bounds, floors, strict=True):
            total[(b.supplier, b.commodity)] = total.get((b.supplier, b.commodity), 0.0) + b.tonnes
            cut[(b.supplier, b.commodity)] = cut.get((b.supplier, b.commodity), 0.0) + floor
        for b in bounds:
            key = (b.supplier, b.commodity)
            if total[key] > can_make[key] * (1.0 + 1e-9) + 1e-9:
                over.setdefault((b.agreement, b.position), []).append((year, total[key], can_make[key], cut[key]))
    problems = []
    for (aid, i), rows in over.items():
        off = scenario.agreements[aid].offtakes[i]
        u = commodity_units(scenario).get(off.commodity, "t")
        years = ", ".join(str(y) for y, _, _, _ in rows)
        y0, t0, c0, f0 = rows[0]
        message = (f"offtake {off.id or i} of agreement {aid}: the offtakes of {off.supplier} commit more than it "
                   f"can make in {years} ({t0:,.0f} {u} committed, {c0:,.0f} {u} it can make: cut to {f0:,.0f} {u}"
                   + (f" in {y0})" if len(rows) > 1 else ")"))
        hint = ("check `start_year` against the plant's commissioning and ramp-up; what it can make is the re-routing "
                "response's: the larger of its capacity and its output that year, times its recipe's yield; a ban on "
                "the route or an investment switched off cuts more (Result.offtakes `can_make` and `cut`)")
        problems.append(problem_at(scenario, ("agreements", aid, "offtakes", i, "tonnes_per_year"), message, hint))
    return problems


def check_stock_users(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    """Report a stockpile whose holder has no user of its commodity: no final demand and no plant taking it (a warning).

    A stock covers its holder's own users of the commodity left short: its final use, and its plants of
    the next stage that take the commodity as an input (both responses; ``docs/scenario-format.md``,
    "Stocks"). A stock held where neither exists (an oxide stock in a country without final demand of
    the oxide or a plant that converts it) is never drawn: it does not feed anyone abroad.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "demand": {"d": {"country": "US", "commodity": "magnet", "year": 2024, "tonnes": 1}},
    ...     "stockpiles": {"s": {"country": "US", "commodity": "metal", "year": 2025, "tonnes": 5}}})
    >>> print(check_stock_users(s)[0].message.split(",")[0])
    stockpile s: US has no final demand of metal and no plant that takes it
    """
    used = {(d.country, d.commodity) for d in scenario.demand.values()}
    for f in scenario.facilities.values():
        process = scenario.processes.get(f.process) if f.process is not None else None
        if process is not None:
            used.update((f.country, k) for k in process.inputs)
    problems = []
    for sid, st in scenario.stockpiles.items():
        if (st.country, st.commodity) not in used:
            message = (f"stockpile {sid}: {st.country} has no final demand of {st.commodity} and no plant that takes "
                       "it, and a stock is drawn only for its holder's users")
            hint = ("this stock is never drawn: it does not feed other countries; hold it as the product its users "
                    "consume, or add that final demand or plant")
            problems.append(problem_at(scenario, ("stockpiles", sid, "commodity"), message, hint))
    return problems


ELEMENT_TOLERANCE = 1e-3
"""Relative room of :func:`check_element_balance` for the contents' printed digits (e.g. 0.16999 for 0.2 x 0.849943)."""


def element_balance(process: Process, commodities: dict[str, Commodity]) -> dict[str, tuple[float, float]]:
    r"""Element key → (tonnes in, tonnes out) per unit of the process's activity, by the commodities' contents.

    :math:`\mathrm{in}_K = \sum_{k \in \mathrm{inputs}} a_k\, c_{k,K}` and
    :math:`\mathrm{out}_K = \sum_{k \in \mathrm{outputs}} b_k\, c_{k,K}`, with :math:`a_k, b_k` the central
    coefficients and :math:`c_{k,K}` the central ``content[K]`` of commodity :math:`k` (0 when not declared or the
    commodity is unknown). Only keys some input or output declares are listed.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "commodities": {"ore": {"name": "Ore", "stage": "ore", "elements": ["Dy"], "content": {"Dy": 0.004}},
    ...                     "dy": {"name": "Dy oxide", "stage": "oxide", "elements": ["Dy"], "content": {"Dy": 0.87}}},
    ...     "processes": {"sep": {"inputs": {"ore": 1}, "outputs": {"dy": 0.05}}}})
    >>> {k: (round(i, 6), round(o, 6)) for k, (i, o) in element_balance(s.processes["sep"], s.commodities).items()}
    {'Dy': (0.004, 0.0435)}
    """
    def side(table: dict[str, Quantity]) -> dict[str, float]:
        out: dict[str, float] = {}
        for cid, q in table.items():
            com = commodities.get(cid)
            for key, c in (com.content.items() if com is not None else ()):
                out[key] = out.get(key, 0.0) + q.central * c.central
        return out

    ins, outs = side(process.inputs), side(process.outputs)
    return {key: (ins.get(key, 0.0), outs.get(key, 0.0)) for key in dict.fromkeys([*ins, *outs])}


def check_element_balance(scenario: Scenario, nodes: Nodes | None = None) -> list[Problem]:
    r"""Warn of a process that makes more of an element than its inputs carry, unless its ``calibration`` says why.

    By the commodities' ``content`` (t of element per t of commodity), a process creates element :math:`K`
    when :math:`\mathrm{out}_K > \mathrm{in}_K (1 + \tau)` (:func:`element_balance`, central values,
    :math:`\tau` = :data:`ELEMENT_TOLERANCE`): the element measures (``element_dependence``,
    ``element_exposed_share``) then count tonnes no mine produced. A yield calibrated on another basis may
    do so on purpose; ``calibration: {K: why}`` on the process discloses it and silences the warning. A
    calibration note for an element the process does not create is reported too (a stale note).

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
    ...     "commodities": {"ore": {"name": "Ore", "stage": "ore", "elements": ["Dy"], "content": {"Dy": 0.004}},
    ...                     "dy": {"name": "Dy oxide", "stage": "oxide", "elements": ["Dy"], "content": {"Dy": 0.87}}},
    ...     "processes": {"sep": {"inputs": {"ore": 1}, "outputs": {"dy": 0.05}}}})
    >>> print(check_element_balance(s)[0].message)
    process sep makes 0.0435 t Dy per unit of activity from inputs carrying 0.004 t (10.9 x)
    """
    problems = []
    for pid, process in scenario.processes.items():
        balance = element_balance(process, scenario.commodities)
        created = {k: (i, o) for k, (i, o) in balance.items() if o > i * (1 + ELEMENT_TOLERANCE) + 1e-12}
        for key, (i, o) in created.items():
            if key in process.calibration:
                continue
            ratio = f"{o / i:.3g} x" if i > 0 else "none in"
            message = (f"process {pid} makes {o:.4g} t {key} per unit of activity from inputs carrying {i:.4g} t "
                       f"({ratio})")
            hint = (f"lower the outputs' yields or the contents (commodities.<id>.content.{key}) so that out <= in, or "
                    f"disclose a calibration: `calibration: {{{key}: <why>}}` on the process")
            largest = max((c for c in process.outputs if key in getattr(scenario.commodities.get(c), "content", {})),
                          key=lambda c: process.outputs[c].central * scenario.commodities[c].content[key].central)
            problems.append(problem_at(scenario, ("processes", pid, "outputs", largest), message, hint))
        for key in process.calibration:
            if key not in created:
                message = f"process {pid} has a calibration for {key}, but it makes no more {key} than its inputs carry"
                hint = "remove the stale `calibration` entry (or check the contents it was written for)"
                problems.append(problem_at(scenario, ("processes", pid, "calibration", key), message, hint))
    return problems


WARNINGS: tuple[Rule, ...] = (check_lookalike_ids, check_preference_size, check_years_in_force, check_dated_rows,
                                check_agreement_parties, check_offtake_capacity, check_tie_members,
                                check_stock_users, check_element_balance)
"""Rules whose problems are warnings (allowed, probably not meant), run by :func:`check_warnings`."""


def check_warnings(scenario: Scenario) -> list[Problem]:
    """Run every rule in :data:`WARNINGS` and return their problems, sorted like :func:`check_references`."""
    return sort_problems(p for rule in WARNINGS for p in rule(scenario, None))
