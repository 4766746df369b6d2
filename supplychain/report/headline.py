"""The headline: which country × commodity × measure rows a reader sees first, chosen once for every output.

The report's answers (:mod:`supplychain.report.answers`), the workbook's country sheets
(:mod:`supplychain.report.workbook`), a notebook's :meth:`Result._repr_html_
<supplychain.api.Result._repr_html_>` (:mod:`supplychain.report.notebook`), the table
``supplychain run`` prints (:mod:`supplychain.cli.run`) and the outcome tables of
``scenarios/README.md`` (:mod:`supplychain.report.scenario_results`) all pick their first
rows here, by one rule:

1. **Focus countries** — those asked for, else the countries the scenario's targets
   name (sorted), else :data:`DEFAULT_COUNTRY` (the US):
   :func:`default_focus`.
2. **Focus commodity** of a focus country — the commodity given (``report
   --commodity``), else the one it has final demand of furthest down the chain
   (stages in the order of :data:`~supplychain.schema.types.STAGES`: ore, oxide, metal,
   magnet, product), the largest demand in tonnes (its largest in any year of any run)
   breaking ties, then the commodity id: :func:`ranked_uses`. A country without final demand has
   no headline.
3. **Measures** — :data:`HEADLINE_METRICS`: the exposed share (traced to the source
   plus unmet demand), the traced share of what arrives, the shortfall share; the
   country's own rows (no per-partner breakdown), the source-dependent ones for the
   result's source country: :func:`headline_measures`. Their headings name that source
   (:func:`source_name`, :func:`metric_labels`): "traced Japan share …" for a run measured
   to Japan.

An output that shows more (every use of a focus country, more measures, more years)
lists the headline pair first (:func:`headline_pairs` with ``every_use=True``), then the
country's other uses in the same ranking.

Examples
--------
>>> import pandas as pd
>>> uses = pd.DataFrame({"country": ["US", "US", "US", "JP"],
...                      "commodity": ["ree_compounds", "ndfeb_magnet", "gallium", "ndfeb_magnet"],
...                      "stage": ["oxide", "magnet", "oxide", "magnet"], "demand": [6600.0, 12783.0, 2e4, 15041.0],
...                      "unit": ["t REO", "t NdFeB product", "kg Ga", "t NdFeB product"]})
>>> headline_pairs(uses, ["US", "JP", "KR"])
[('US', 'ndfeb_magnet'), ('JP', 'ndfeb_magnet')]
>>> headline_pairs(uses, ["US"], every_use=True)  # at one stage, 6,600 t outrank gallium's 20,000 kg (20 t)
[('US', 'ndfeb_magnet'), ('US', 'ree_compounds'), ('US', 'gallium')]
>>> headline_pairs(uses, ["US"], "ree_compounds")
[('US', 'ree_compounds')]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import pandas as pd

from supplychain.report.dot_style import country_name
from supplychain.schema.types import STAGES
from supplychain.schema.units import TONNES_PER

__all__ = ["DEFAULT_COUNTRY", "HEADLINE_METRICS", "METRIC_LABELS", "default_focus", "exporter_imports",
           "headline_measures", "headline_pairs", "import_share_note", "labelled", "metric_labels", "ranked_uses",
           "source_name", "source_phrase"]

METRIC_LABELS: Final[Mapping[str, str]] = {
    "exposed_share": "exposure incl. unmet demand",
    "traced_share": "traced {source} share of what arrives",
    "direct_import_share": "direct import share from {source}",
    "net_import_reliance": "net import reliance",
    "shortfall_share": "shortfall (share of demand)",
    "element_exposed_share": "element exposure incl. unmet demand",
    "element_dependence": "element traced {source} share of what arrives",
    "element_shortfall_share": "element shortfall (share of demand)",
}
"""The one name of each measure a person reads, in every output that names measures: the report's answers and
sections, the workbook, ``compare``'s table (``{source}``: the source's name, :func:`metric_labels`;
docs/measures.md defines them; CSV and json keep the ids). An element's measure is named as the commodity's, after
"element " (``traced China share of what arrives``, ``element traced China share of what arrives``): one scheme in
one table."""


def labelled(metrics: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Pair each measure id with its :data:`METRIC_LABELS` name, in the order given.

    Examples
    --------
    >>> labelled(["direct_import_share", "net_import_reliance"])
    (('direct_import_share', 'direct import share from {source}'), ('net_import_reliance', 'net import reliance'))
    """
    return tuple((metric, METRIC_LABELS[metric]) for metric in metrics)


HEADLINE_METRICS: Final = labelled(("exposed_share", "traced_share", "shortfall_share"))
"""The headline measures, in column order, with the answers' headings (``{source}``: :func:`metric_labels`)."""
SOME_SOURCE: Final = "source"
"""What a heading calls the source when the runs it covers were measured to different sources."""
_HEADLINE_IDS: Final = tuple(metric for metric, _ in HEADLINE_METRICS)
DEFAULT_COUNTRY: Final = "US"
"""Focus country when none is asked for and no target names one (the question the tool was built for)."""

def default_focus(target_countries: Iterable[str], asked: Sequence[str] = ()) -> list[str]:
    """Return the focus countries: ``asked`` (first occurrence kept), else the targets' countries sorted, else US.

    Groups are expanded by the caller (:func:`supplychain.api.focus_countries`).

    Examples
    --------
    >>> default_focus(["US", "JP", "US"]), default_focus([]), default_focus(["US"], ["KR", "KR"])
    (['JP', 'US'], ['US'], ['KR'])
    """
    if asked:
        return list(dict.fromkeys(asked))
    return sorted({str(c) for c in target_countries}) or [DEFAULT_COUNTRY]


def source_name(sources: Iterable[str], names: Mapping[str, str] | None = None) -> str:
    """Name the source country (or group) that headings and captions read: one name, or :data:`SOME_SOURCE`.

    Parameters
    ----------
    sources : iterable of str
        The source codes of the runs a heading covers (:attr:`Result.source
        <supplychain.api.Result.source>`).
    names : mapping of str to str, optional
        Display names (:func:`~supplychain.report.dot_style.names_of`: the scenario's
        ``countries`` and ``groups`` first), else :func:`~supplychain.report.dot_style.country_name`'s
        common name, else the code.

    Returns
    -------
    str
        The one source's display name; :data:`SOME_SOURCE` when the runs name several (or none).

    Examples
    --------
    >>> source_name(["CN", "CN"]), source_name(["JP"], {"JP": "Japan (METI)"}), source_name(["CN", "JP"])
    ('China', 'Japan (METI)', 'source')
    """
    distinct = sorted({str(s) for s in sources})
    return country_name(distinct[0], names) if len(distinct) == 1 else SOME_SOURCE


def source_phrase(name: str) -> str:
    """Say the source in a sentence: its name, or "the source" for :data:`SOME_SOURCE`.

    Examples
    --------
    >>> source_phrase("China"), source_phrase(SOME_SOURCE)
    ('China', 'the source')
    """
    return "the source" if name == SOME_SOURCE else name


def metric_labels(metrics: Iterable[tuple[str, str]], source: str) -> list[tuple[str, str]]:
    """Fill the ``{source}`` of each heading with the source's display name (:func:`source_name`).

    Examples
    --------
    >>> metric_labels(HEADLINE_METRICS, "Japan")[1]
    ('traced_share', 'traced Japan share of what arrives')
    """
    return [(metric, label.format(source=source)) for metric, label in metrics]


def import_share_note(pair: str, source: str, direct_import_share: float, direct_share_of_consumption: float,
                      traced_share: float) -> str:
    r"""Explain a direct import share printed beside "net exporter" and a lower traced share, in one sentence.

    Which rows get it: :func:`exporter_imports`.

    A country can import a commodity only from the source while exporting more of its own
    (US magnets in 2030 under China's licensing: 3,033 t imported, all Chinese, 3,450 t
    exported): the direct import share :math:`I_s / I` is then 100 %, net import reliance
    is undefined (a net exporter) and the traced share counts the source in everything the
    country uses. The sentence says which base each share has, with the imports from the
    source as a share of use (``direct_share_of_consumption``, :math:`I_s / AC`).

    Examples
    --------
    >>> print(import_share_note("US magnets 2030", "China", 1.0, 0.2373, 0.3808))  # doctest: +NORMALIZE_WHITESPACE
    US magnets 2030: the direct import share (100%) is China's share of imports only; those imports are 24% of
    use, and the country, a net exporter, exports more than it imports (net imports I − E ± ΔS below zero); the
    traced share (38%) is China's share of everything used, through every stage.
    """
    from supplychain.report.numbers import NET_EXPORTER, NET_EXPORTER_MEANING, format_percent

    return (f"{pair}: the direct import share ({format_percent(direct_import_share)}) is {source}'s share of imports "
            f"only; those imports are {format_percent(direct_share_of_consumption)} of use, and the country, a "
            f"{NET_EXPORTER}, {NET_EXPORTER_MEANING}; the traced share ({format_percent(traced_share)}) is "
            f"{source}'s share of everything used, through every stage.")


_EXPORTER_METRICS: Final = ("direct_import_share", "direct_share_of_consumption", "traced_share",
                             "net_import_reliance")


def exporter_imports(measures: pd.DataFrame, source: str,
                     pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, int, str, str], tuple[float, float, float]]:
    r"""Find the rows :func:`import_share_note` explains: a net exporter importing from the source, traced lower.

    A row (variant, year, country, commodity) gets the sentence when all of

    * net import reliance is labelled ``"E"`` (a net exporter: net imports
      :math:`I - E \pm \Delta S < 0`);
    * the direct import share from the source :math:`I_s / I` is above zero;
    * the source's imports as a share of use :math:`I_s / AC` (``direct_share_of_consumption``)
      is known, the sentence's third figure;
    * the traced share is *lower* than the direct import share: the two side by side then
      look contradictory (100 % of imports, 38 % traced) and the sentence says their bases.
      A traced share at or above the direct one (a US plant working Chinese ore as well as
      Chinese imports: both 100 %) needs no explanation.

    The one rule for ``supplychain run``'s notes and the report's headline notes.

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures (``metric``, ``value``, ``label``, ``year``, ``country``,
        ``commodity``, optionally ``source_country`` and ``variant``).
    source : str
        Source country code: rows of another source are skipped (net import reliance has none).
    pairs : iterable of (str, str)
        (country, commodity) pairs to look at.

    Returns
    -------
    dict
        ``(variant, year, country, commodity)`` (variant ``""`` without that column) →
        (direct import share, direct share of consumption, traced share).

    Examples
    --------
    US magnets, 2030: all 20 t of imports Chinese (100 %), 20 / 70 t of use, traced 1/6;
    Japan the same but traced at 100 % — no sentence:

    >>> rows = [(c, metric, v, lab, src) for c, tr in (("US", 1 / 6), ("JP", 1.0))
    ...         for metric, v, lab, src in (("direct_import_share", 1.0, "", "CN"),
    ...                                     ("direct_share_of_consumption", 2 / 7, "", "CN"),
    ...                                     ("traced_share", tr, "", "CN"),
    ...                                     ("net_import_reliance", float("nan"), "E", ""))]
    >>> m = pd.DataFrame(rows, columns=["country", "metric", "value", "label", "source_country"]).assign(
    ...     year=2030, commodity="mag")
    >>> {k: tuple(round(x, 3) for x in v) for k, v in exporter_imports(m, "CN", [("US", "mag"), ("JP", "mag")]).items()}
    {('', 2030, 'US', 'mag'): (1.0, 0.286, 0.167)}
    """
    wanted = set(pairs)
    sel = measures[measures["metric"].isin(_EXPORTER_METRICS)]
    sel = sel[[(c, k) in wanted for c, k in zip(sel["country"], sel["commodity"], strict=True)]]
    if "source_country" in sel.columns:
        sel = sel[sel["source_country"].fillna("").astype(str).isin(["", source])]  # NIR has no source
    variants = sel["variant"].astype(str) if "variant" in sel.columns else pd.Series("", index=sel.index)
    labels = sel["label"].fillna("").astype(str) if "label" in sel.columns else pd.Series("", index=sel.index)
    value: dict[tuple[str, int, str, str], dict[str, float]] = {}
    exporter: set[tuple[str, int, str, str]] = set()
    for v, y, c, k, metric, x, lab in zip(variants, sel["year"], sel["country"], sel["commodity"], sel["metric"],
                                          sel["value"], labels, strict=True):
        key = (v, int(y), str(c), str(k))
        value.setdefault(key, {})[str(metric)] = float(x)
        if metric == "net_import_reliance" and lab == "E":
            exporter.add(key)
    found = {}
    for key in sorted(exporter):
        got = value[key]
        dis, dsc = got.get("direct_import_share", math.nan), got.get("direct_share_of_consumption", math.nan)
        traced = got.get("traced_share", math.nan)
        if dis > 0 and math.isfinite(dsc) and traced < dis:
            found[key] = (dis, dsc, traced)
    return found


def _frames(uses: pd.DataFrame | Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    return [uses] if isinstance(uses, pd.DataFrame) else list(uses)


def ranked_uses(uses: pd.DataFrame | Sequence[pd.DataFrame], country: str) -> list[str]:
    """Rank the commodities ``country`` has final demand of: furthest down the chain first, then largest demand.

    Parameters
    ----------
    uses : pandas.DataFrame or sequence of them
        Final uses with ``country``, ``commodity``, ``stage``, ``demand`` and ``unit`` (a
        :attr:`Result.shortfall <supplychain.api.Result.shortfall>` table; several are
        read as one; without ``unit`` demand is in tonnes).
    country : str
        Country code.

    Returns
    -------
    list of str
        Commodities with ``demand > 0`` in some row, ordered by stage index in
        :data:`~supplychain.schema.types.STAGES` (highest first; an unknown stage ranks
        below ``ore``), then by the largest demand of any row in tonnes (largest first; a
        ``kg Ga`` demand is converted with :data:`~supplychain.schema.units.TONNES_PER`), then by id.
        Empty when the country has none.
    """
    frames = [f[(f["country"].astype(str) == country) & (f["demand"] > 0)] for f in _frames(uses) if not f.empty]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return []
    d = pd.concat(frames, ignore_index=True)
    per = [TONNES_PER.get(str(u).split(maxsplit=1)[0] if str(u).strip() else "t", 1.0)
           for u in (d["unit"] if "unit" in d.columns else ["t"] * len(d))]
    d = d.assign(rank=[STAGES.index(s) if s in STAGES else -1 for s in d["stage"].astype(str)],
                 commodity=d["commodity"].astype(str), demand=d["demand"].to_numpy(dtype=float) * per)
    best = d.groupby("commodity").agg(rank=("rank", "max"), demand=("demand", "max")).reset_index()
    best = best.sort_values(["rank", "demand", "commodity"], ascending=[False, False, True], kind="stable")
    return [str(k) for k in best["commodity"]]


def headline_pairs(uses: pd.DataFrame | Sequence[pd.DataFrame], countries: Sequence[str],
                   commodity: str | None = None, *, every_use: bool = False) -> list[tuple[str, str]]:
    """Return the (country, commodity) rows a reader sees first: each focus country's focus commodity.

    Parameters
    ----------
    uses : pandas.DataFrame or sequence of them
        Final uses, as :func:`ranked_uses`.
    countries : sequence of str
        Focus countries in display order (:func:`default_focus`).
    commodity : str, optional
        The focus commodity asked for (``report --commodity``): every country's headline,
        whether or not it has final demand of it. Default: :func:`ranked_uses`' first.
    every_use : bool, default False
        Follow each headline pair with the country's other uses, in :func:`ranked_uses`
        order (for outputs that show more than the headline).

    Returns
    -------
    list of (str, str)
        Country by country in the order of ``countries`` (repeats dropped); a country
        without final demand (and no ``commodity`` asked for) has no row.
    """
    out: list[tuple[str, str]] = []
    for c in dict.fromkeys(countries):
        ranked = ranked_uses(uses, c)
        if commodity is not None:
            ranked = [commodity, *(k for k in ranked if k != commodity)]
        out += [(c, k) for k in (ranked if every_use else ranked[:1])]
    return out


def headline_measures(measures: pd.DataFrame, source: str,
                      metrics: Iterable[str] = _HEADLINE_IDS,
                      countries: Iterable[str] | None = None) -> pd.DataFrame:
    """Select the rows of ``metrics``: each country's own (no partner), exposure to ``source`` only.

    Parameters
    ----------
    measures : pandas.DataFrame
        Tidy measures (:attr:`Result.measures <supplychain.api.Result.measures>`); read,
        nothing recomputed.
    source : str
        The source country the run measured exposure to (:attr:`Result.source
        <supplychain.api.Result.source>`).
    metrics : iterable of str, optional
        Metric names (default: :data:`HEADLINE_METRICS`).
    countries : iterable of str, optional
        Keep these countries only (default: every country).

    Returns
    -------
    pandas.DataFrame
        The rows of ``measures`` whose ``partner`` is empty and whose ``source_country``
        is empty (shortfall, net import reliance…) or ``source``, in their order.

    Examples
    --------
    >>> m = pd.DataFrame({"country": ["US"] * 4, "metric": ["traced_share"] * 3 + ["shortfall_share"],
    ...                   "partner": [None, "CN", None, None], "source_country": ["CN", "CN", "RU", None],
    ...                   "value": [0.5, 0.3, 0.1, 0.0]})
    >>> headline_measures(m, "CN")["value"].tolist()
    [0.5, 0.0]
    """
    m = measures
    if m.empty:
        return m
    keep = m["metric"].isin(list(metrics))
    if countries is not None:
        keep &= m["country"].astype(str).isin(list(countries))
    if "partner" in m.columns:
        keep &= m["partner"].fillna("").astype(str) == ""
    if "source_country" in m.columns:
        src = m["source_country"].fillna("").astype(str)
        keep &= (src == "") | (src == str(source))
    return m[keep]
