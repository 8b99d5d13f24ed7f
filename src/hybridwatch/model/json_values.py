"""Strict JSON values: what every JSON output goes through. Pure: no I/O.

JSON has no NaN or infinity (Python's ``json`` writes them anyway, and browsers and ``jq`` then
refuse the document), and numpy scalars are not JSON at all.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def json_value(value: Any) -> Any:
    """``value`` with non-finite floats as None and numpy scalars and arrays as Python, through
    dicts, lists and tuples."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return json_value(value.item())
    if isinstance(value, np.ndarray):
        return [json_value(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value
