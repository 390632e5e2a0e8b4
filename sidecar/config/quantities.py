"""Kubernetes resource quantities (`250m`, `1.5`, `512Mi`, `2G`) as a pydantic field type.

Stored as float base units (cores, bytes). Suffixes are Kubernetes' own: binary Ki Mi Gi Ti
Pi Ei, decimal k M G T P E, and m (milli). A plain number is accepted as it is.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

__all__ = ["Quantity", "parse_quantity"]

_SUFFIX = {
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}
_PATTERN = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")


def parse_quantity(text: str) -> float:
    """Base units in a Kubernetes quantity string; ValueError if it is not one."""
    m = _PATTERN.match(text.strip())
    if m is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return float(m.group(1)) * _SUFFIX[m.group(2) or ""]


def _quantity(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_quantity(value)
        except ValueError:
            raise PydanticCustomError(
                "quantity", "not a Kubernetes quantity such as 250m, 2, 512Mi or 1G"
            ) from None
    return value


Quantity = Annotated[float, BeforeValidator(_quantity), Field(ge=0, allow_inf_nan=False)]
"""A non-negative Kubernetes quantity in base units."""
