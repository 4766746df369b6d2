"""Shared constrained types of the scenario language, declared once.

Every schema class derives from :class:`StrictModel`: unknown keys are errors,
instances are frozen, and each field's docstring becomes its description in the
JSON Schema (for editor autocompletion).

Numbers that describe the world are :class:`Quantity` objects. In YAML a quantity
is either a bare number or a mapping that says where the number comes from::

    tonnes: 45000                                    # bare (allowed, but uncited)
    tonnes: {value: 45000, source: usgs_mcs2025_ree} # cited
    tonnes: {value: 0.2, assumption: "typical bastnaesite NdPr content"}
    tonnes: {dist: triangular, low: 40000, mode: 45000, high: 50000, source: ...}

Field-level validators (``Tonnes``, ``ShareQ`` …) check the range of the central
value and of every bound of a distribution.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import pycountry
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

__all__ = [
    "ISO_COUNTRIES",
    "STAGES",
    "Date",
    "EntityId",
    "FiniteFloat",
    "Flag",
    "InvalidValueError",
    "Money",
    "Quantity",
    "Rate",
    "Share",
    "ShareQ",
    "Stage",
    "StrictModel",
    "Tonnes",
    "Year",
    "YearKey",
    "YearQ",
    "YearsQ",
    "nearest_year",
    "t_named_keys",
    "unit_neutral",
    "whole_years",
]


class StrictModel(BaseModel):
    """Base of every schema class: strict, frozen, documented.

    Unknown keys are errors (``extra="forbid"``); instances are immutable; field
    docstrings are used as descriptions; values are not coerced across types
    (a quoted ``"5"`` is not a number).
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        use_attribute_docstrings=True,
        validate_default=False,
        populate_by_name=True,
    )

    key_synonyms: ClassVar[Mapping[str, str]] = {}
    """Unknown key → the key it most likely means where the two are not spelt alike (a target's
    ``year:`` for ``by:``); the loader's did-you-mean hint for an unknown key reads it before spelling."""


class InvalidValueError(ValueError):
    """A value the scenario language refuses, with a hint on how to fix it.

    Raised by validators; :func:`supplychain.io.load.problems_from_validation`
    shows the message and puts the hint on the problem's ``hint:`` line.
    """

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


# --------------------------------------------------------------------------- ids
EntityId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,79}$")]
"""An entity id: a letter, then letters, digits, ``_`` or ``-`` (at most 80)."""

Year = Annotated[int, Field(ge=1900, le=2200)]
"""A calendar year between 1900 and 2200."""


def _year_key(v: Any) -> Any:
    if isinstance(v, str) and len(v) == 4 and v.isascii() and v.isdigit():
        return int(v)
    return v


YearKey = Annotated[int, BeforeValidator(_year_key), Field(ge=1900, le=2200)]
"""A year used as a mapping key; the text ``"2024"`` is read as 2024 (JSON keys are always text)."""

STAGES: tuple[str, ...] = ("ore", "oxide", "metal", "magnet", "product")
"""Stages of the material chain, upstream first.

``ore`` mined ore or mineral concentrate; ``oxide`` separated or refined compounds
(NdPr oxide, Dy oxide, low-purity gallium …); ``metal`` metals and alloys;
``magnet`` NdFeB/SmCo magnets and other components; ``product`` end-use goods.
"""

Stage = Literal["ore", "oxide", "metal", "magnet", "product"]
"""One of :data:`STAGES`."""


# ------------------------------------------------------------------ plain numbers
def _finite(x: float) -> float:
    if not math.isfinite(x):
        msg = "NaN and infinity are not allowed"
        raise InvalidValueError(msg, "write a finite number, or leave the value out if it is unknown")
    return x


FiniteFloat = Annotated[float, AfterValidator(_finite)]
"""A finite float (ints accepted)."""

Share = Annotated[float, AfterValidator(_finite), Field(ge=0.0, le=1.0)]
"""A plain share in [0, 1]."""


_TRUE = {"true", "yes", "on", "y"}
_FALSE = {"false", "no", "off", "n"}


def _parse_flag(v: Any) -> Any:
    if isinstance(v, str):
        low = v.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        msg = f"expected on/off, yes/no or true/false, got {v!r}"
        raise InvalidValueError(msg, "write on or off")
    return v


Flag = Annotated[bool, BeforeValidator(_parse_flag)]
"""A boolean; in a boolean field ``on/off`` and ``yes/no`` are accepted too."""


_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _parse_date(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v
    if isinstance(v, bool):
        msg = "expected a date such as 2025-09-01"
        raise InvalidValueError(msg, "write the date as YYYY-MM-DD, e.g. 2025-09-01")
    if isinstance(v, int):
        v = str(v)
    if isinstance(v, str):
        m = _DATE_RE.match(v.strip())
        if not m:
            msg = f"expected a date YYYY-MM-DD, YYYY-MM or YYYY, got {v!r}"
            raise InvalidValueError(msg, "write the date as YYYY-MM-DD, e.g. 2025-09-01")
        year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
        try:
            return dt.date(year, month, day)
        except ValueError as exc:
            msg = f"invalid date {v!r}: {exc}"
            raise InvalidValueError(msg, "check the month (1–12) and the day (it must exist in that month)") from None
    return v


Date = Annotated[
    dt.date,
    BeforeValidator(_parse_date),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    Field(json_schema_extra={"type": "string", "format": "date"}),
]
"""A date; ``YYYY-MM-DD``, ``YYYY-MM`` (first of the month) or ``YYYY`` (1 January)."""


# ------------------------------------------------------------------ unit-neutral keys
_UNSET: Any = object()


def unit_neutral(name: str, t_name: str, *, default: Any = _UNSET) -> Any:
    """Declare a field read from its unit-neutral key ``name`` or its older tonnes-named key ``t_name``.

    The attribute keeps the older name (``flow.tonnes``); files, the JSON Schema and
    dumps use ``name`` (``quantity``). Giving both keys is an error (the second is an
    unknown key). Whether a ``t``-named key may be used for a commodity measured in
    another unit is checked by ``supplychain.schema.references.check_units``.
    """
    alias = AliasChoices(name, t_name)
    if default is _UNSET:
        return Field(validation_alias=alias, serialization_alias=name)
    return Field(default=default, validation_alias=alias, serialization_alias=name)


def t_named_keys(model: type[BaseModel]) -> dict[str, str]:
    """Tonnes-named key → unit-neutral key of the fields of ``model`` declared with :func:`unit_neutral`.

    Examples
    --------
    >>> from supplychain.schema.model import Flow
    >>> t_named_keys(Flow)
    {'tonnes': 'quantity'}
    """
    out: dict[str, str] = {}
    for field in model.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices) and len(alias.choices) == 2:
            name, old = (str(c) for c in alias.choices)
            out[old] = name
    return out


# ----------------------------------------------------------------------- quantity
Distribution = Literal["uniform", "triangular", "normal", "choice"]


class Quantity(StrictModel):
    """A number with its provenance and, optionally, its uncertainty.

    The central value is ``value``; for a distribution without ``value`` it is the
    mode (triangular), the mean (normal), the midpoint (uniform) or the first
    choice. Exactly one of ``source`` / ``assumption`` should be given for every
    figure in a published scenario (``supplychain validate --require-sources``).
    """

    value: FiniteFloat | None = None
    """Central value."""
    source: EntityId | None = None
    """Id of an entry in the ``sources`` section this figure was read in."""
    assumption: str | None = Field(default=None, min_length=3)
    """Why this figure was assumed, when no source gives it."""
    note: str | None = None
    """Free-text remark (where in the source, how computed)."""
    dist: Distribution | None = None
    """Distribution for Monte Carlo sampling."""
    low: FiniteFloat | None = None
    """Lower bound (uniform, triangular) or truncation (normal)."""
    mode: FiniteFloat | None = None
    """Most likely value (triangular)."""
    high: FiniteFloat | None = None
    """Upper bound (uniform, triangular) or truncation (normal)."""
    sd: Annotated[float, AfterValidator(_finite), Field(gt=0)] | None = None
    """Standard deviation (normal)."""
    choices: list[FiniteFloat] | None = Field(default=None, min_length=1)
    """Possible values (choice)."""
    weights: list[Annotated[float, Field(ge=0)]] | None = None
    """Probabilities of ``choices`` (default equal)."""
    tie: EntityId | None = None
    """Name of a shared draw: every quantity with the same ``tie`` takes, in each Monte Carlo sample,
    its own distribution's quantile at one shared uniform draw (high in all or low in all). For one
    fact that several quantities state, such as one range written for every year of a path."""
    truncated: Literal["low", "high", "both"] | None = None
    """Which end of the range stops short of the evidence because the model cannot compute beyond it (an engine
    limit, not a claim): ``low``, ``high`` or ``both``; say why in ``assumption``/``note``. A sweep prints it
    beside its percentiles: they are then of the outcomes the model can compute."""

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, data: Any) -> Any:
        if isinstance(data, bool):
            msg = "expected a number, not true/false"
            raise InvalidValueError(msg, "write the number, e.g. 45000")
        if isinstance(data, int | float):
            return {"value": data}
        return data

    @model_validator(mode="after")
    def _check(self) -> Quantity:
        d = self.dist
        if d is None:
            if self.value is None:
                msg = "a quantity needs `value` (or a `dist`)"
                raise InvalidValueError(msg, "add `value:` (the central figure) with its `source:` or `assumption:`")
            extra = [k for k in ("low", "mode", "high", "sd", "choices", "weights") if getattr(self, k) is not None]
            if extra:
                msg = f"{', '.join(extra)} given without `dist`"
                raise InvalidValueError(msg, "add e.g. `dist: triangular`, or remove them")
            if self.tie is not None:
                msg = f"`tie: {self.tie}` on a quantity without a distribution: there is no draw to share"
                raise InvalidValueError(msg, "add the range it shares (`dist:` with its bounds), or remove `tie:`")
            if self.truncated is not None:
                msg = f"`truncated: {self.truncated}` on a quantity without a distribution: it has no range to cut"
                raise InvalidValueError(msg, "add the range (`dist:` with its bounds), or remove `truncated:`")
        elif d in ("uniform", "triangular"):
            if self.low is None or self.high is None:
                msg = f"a {d} distribution needs `low` and `high`"
                raise InvalidValueError(msg, "add `low:` and `high:` (the smallest and largest value)")
            if self.low > self.high:
                msg = f"`low` ({self.low}) is above `high` ({self.high})"
                raise InvalidValueError(msg, "swap `low` and `high`")
            if d == "triangular" and self.mode is None and self.value is None:
                msg = "a triangular distribution needs `mode` (or `value`)"
                raise InvalidValueError(msg, "add `mode:` (the most likely value)")
            centre = self.central
            if not self.low <= centre <= self.high:
                msg = f"central value {centre} is outside [low, high] = [{self.low}, {self.high}]"
                raise InvalidValueError(msg, "move `value`/`mode` inside [low, high], or widen the bounds")
        elif d == "normal":
            if self.sd is None or (self.value is None and self.mode is None):
                msg = "a normal distribution needs `value` (the mean) and `sd`"
                raise InvalidValueError(msg, "add `value:` (the mean) and `sd:` (the standard deviation)")
        elif d == "choice":
            if not self.choices:
                msg = "a choice distribution needs `choices`"
                raise InvalidValueError(msg, "add `choices: [...]`, the values it can take")
            if self.weights is not None:
                if len(self.weights) != len(self.choices):
                    msg = "`weights` must have one entry per choice"
                    raise InvalidValueError(msg, "give one weight per choice, in the same order")
                if not math.isclose(sum(self.weights), 1.0, abs_tol=1e-6):
                    msg = f"`weights` must sum to 1 (they sum to {sum(self.weights):g})"
                    raise InvalidValueError(msg, "scale the weights so they sum to 1")
        return self

    @property
    def central(self) -> float:
        """The central value used by deterministic runs."""
        if self.value is not None:
            return self.value
        if self.dist == "triangular" and self.mode is not None:
            return self.mode
        if self.dist == "uniform" and self.low is not None and self.high is not None:
            return (self.low + self.high) / 2
        if self.dist == "normal" and self.mode is not None:
            return self.mode
        if self.choices:
            return self.choices[0]
        msg = "quantity has no central value"  # unreachable after validation
        raise ValueError(msg)

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value this quantity can take."""
        if self.dist in ("uniform", "triangular", "normal") and self.low is not None and self.high is not None:
            return (self.low, self.high)
        if self.dist == "normal":
            return (-math.inf, math.inf)
        if self.choices:
            return (min(self.choices), max(self.choices))
        return (self.central, self.central)

    @property
    def is_uncertain(self) -> bool:
        """True when the quantity has a distribution."""
        return self.dist is not None


def _range_check(lo: float, hi: float, what: str) -> Any:
    def check(q: Quantity) -> Quantity:
        values = [q.central]
        if q.low is not None:
            values.append(q.low)
        if q.high is not None:
            values.append(q.high)
        if q.choices:
            values.extend(q.choices)
        if q.dist == "normal" and (q.low is None or q.high is None) and (lo > -math.inf or hi < math.inf):
            msg = f"a normal distribution on {what} needs `low` and `high` bounds"
            raise InvalidValueError(msg, f"add `low:` and `high:` within [{lo:g}, {hi:g}]")
        bad = [v for v in values if not lo <= v <= hi]
        if bad:
            msg = f"{what} must be in [{lo:g}, {hi:g}]; got {bad[0]:g}"
            hint = "a share is a fraction: write 0.25 for 25 %" if hi == 1.0 else f"use values from {lo:g} to {hi:g}"
            raise InvalidValueError(msg, hint)
        return q

    return AfterValidator(check)


Tonnes = Annotated[Quantity, _range_check(0.0, math.inf, "a quantity of material")]
"""A non-negative quantity (tonnes, or the commodity's unit)."""

ShareQ = Annotated[Quantity, _range_check(0.0, 1.0, "a share")]
"""A share in [0, 1] with provenance."""

Money = Annotated[Quantity, _range_check(0.0, math.inf, "an amount of money")]
"""A non-negative amount of money (USD unless stated)."""

Rate = Annotated[Quantity, _range_check(-1.0, 10.0, "a rate")]
"""A yearly rate such as demand growth, in [-1, 10] (0.05 = 5 % a year)."""

YearsQ = Annotated[Quantity, _range_check(0.0, 30.0, "a number of years")]
"""A number of years in [0, 30] (lead time, ramp-up) as a quantity, so that Monte Carlo can sample it.

Read as a whole number by :func:`whole_years` (a sample is rounded to the nearest year).
"""

MonthsQ = Annotated[Quantity, _range_check(0.0, 24.0, "a number of months")]
"""A number of months in [0, 24] (a licensing delay) as a quantity, so that Monte Carlo can sample it."""

YearQ = Annotated[Quantity, _range_check(1900.0, 2200.0, "a year")]
"""A calendar year (commissioning) as a quantity, so that Monte Carlo can sample it.

Read as a whole number by :func:`whole_years` (a sample is rounded to the nearest year).
"""


def whole_years(v: int | Quantity) -> int:
    """Return a number of years or a calendar year as a whole number.

    A quantity's central value (after a Monte Carlo sample is patched in, the sample)
    is rounded to the nearest whole year, halves up: ``floor(x + 0.5)``; an int is
    returned as it is.

    Examples
    --------
    >>> whole_years(2028), whole_years(Quantity(value=2028.5)), whole_years(Quantity(value=2.49))
    (2028, 2029, 2)
    >>> whole_years(Quantity(dist="choice", choices=[3, 4, 5]))
    3
    """
    if isinstance(v, Quantity):
        return nearest_year(v.central)
    return int(v)


def nearest_year(x: float) -> int:
    """Round a sampled number of years as the model reads it: to the nearest whole year, halves up, ``floor(x + 0.5)``.

    The one rounding rule of :func:`whole_years` (reports that group samples by year call it too).

    Examples
    --------
    >>> nearest_year(2.5), nearest_year(2.49), nearest_year(4.6)
    (3, 2, 5)
    """
    return math.floor(x + 0.5)


def iso_country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes known to ``pycountry`` (the maintained list)."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


ISO_COUNTRIES: frozenset[str] = iso_country_codes()
"""Every ISO 3166-1 alpha-2 code, from the Debian iso-codes data in pycountry."""
