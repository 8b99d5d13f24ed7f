"""Independent pieces of an analysis as tasks: the one seam where an engine (Spark) runs them.

An analysis that splits into independent pieces takes ``map_tasks``; the default runs the
pieces here one after another, and ``store.spark.map_tasks`` runs one Spark task per piece.
Either way the results come back in order, so the analysis gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: ``map_tasks(function, items)`` → ``[function(item) for item in items]``, in order.
TaskMap = Callable[[Callable[[Any], Any], list[Any]], list[Any]]


def serial_tasks(function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """The default ``TaskMap``: each item here, in turn."""
    return [function(item) for item in items]
