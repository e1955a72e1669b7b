"""JSON values from finlib's results: the one conversion of scalars (pandas, numpy, dates) and of dataclasses.

A scalar becomes ``None`` when it is missing (``None``, NaN, ``NaT``, ``pd.NA``) or not finite (JSON has no
Infinity), a date or timestamp becomes ``YYYY-MM-DD`` (with the time, ISO 8601, when it has one), and a numpy
scalar becomes the Python number it holds. ``to_jsonable`` walks dataclasses, mappings and sequences with it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import TypeAlias

import numpy as np
import pandas as pd

JSONScalar: TypeAlias = str | int | float | bool | None
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]

# DBL_DIG: a float64 keeps 15 decimal digits exactly; digits past them are binary rounding noise of sums.
SIGNIFICANT_DIGITS = 15


def without_float_noise(value: float) -> float:
    """``value`` cut to the 15 significant digits a float64 holds exactly: 298899.72000000003 reads 298899.72."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def json_scalar(value: object) -> JSONScalar:
    """The JSON form of one scalar (see the module docstring); other objects become their ``str``."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return json_scalar(value.item())
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return without_float_noise(value) if math.isfinite(value) else None
    if isinstance(value, dt.datetime):
        # pd.Timestamp is a datetime; NaT was handled above.
        return value.strftime("%Y-%m-%d") if value.time() == dt.time() and value.tzinfo is None else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return json_scalar(pd.Timestamp(value))
    return str(value)


def to_json_object(value: object, *, omit_none: bool = False) -> dict[str, JSONValue]:
    """``to_jsonable`` of a dataclass or mapping: a JSON object."""
    converted = to_jsonable(value, omit_none=omit_none)
    if not isinstance(converted, dict):
        raise TypeError(f"{type(value).__name__} does not convert to a JSON object")
    return converted


def to_jsonable(value: object, *, omit_none: bool = False) -> JSONValue:
    """``value`` as JSON values: dataclasses and mappings become objects, sequences lists, scalars ``json_scalar``.

    With ``omit_none`` a dataclass field without a value is left out (the facts pack: fewer tokens, no nulls).
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = ((f.name, to_jsonable(getattr(value, f.name), omit_none=omit_none)) for f in dataclasses.fields(value))
        return {name: item for name, item in items if not (omit_none and item is None)}
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item, omit_none=omit_none) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item, omit_none=omit_none) for item in value]
    return json_scalar(value)
