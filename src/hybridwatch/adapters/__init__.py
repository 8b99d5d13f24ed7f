"""Adapters: one module per input format, each turning a file into Arrow batches plus rejections.

Built-in adapters register themselves here; third-party ones register through the
``hybridwatch.adapters`` entry-point group (a class that subclasses ``Adapter``).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

from hybridwatch.adapters.base import (
    Adapter, Batch, ReadOptions, RecordError, Rejection, RowBuilder,
)
from hybridwatch.adapters.textio import decompression_limits, read_head
from hybridwatch.errors import FormatError

_BUILTIN_MODULES = ("gdelt", "gdelt_csv", "acled", "stix", "misp", "eurepoc", "euvsdisinfo",
                    "articles", "mapped", "comtrade", "baci")
_registry: dict[str, Adapter] | None = None


def adapters() -> dict[str, Adapter]:
    """Every registered adapter by format name (built-ins first, then entry points)."""
    global _registry
    if _registry is None:
        found: dict[str, Adapter] = {}
        for module in _BUILTIN_MODULES:
            for adapter in import_module(f"hybridwatch.adapters.{module}").ADAPTERS:
                found[adapter.name] = adapter
        for entry in entry_points(group="hybridwatch.adapters"):
            adapter = entry.load()()
            found[adapter.name] = adapter
        _registry = found
    return _registry


def get_adapter(name: str) -> Adapter:
    try:
        return adapters()[name]
    except KeyError:
        raise FormatError(name, f"unknown format (choose one of: {', '.join(sorted(adapters()))})")


def detect_format(path: Path) -> Adapter:
    """The adapter most sure it reads ``path``; ``FormatError`` naming the formats if none is."""
    head = read_head(path)
    scores = sorted(((a.sniff(path, head), a.name) for a in adapters().values()), reverse=True)
    best_score, best_name = scores[0]
    if best_score <= 0:
        raise FormatError(path, "format not recognised; pass --format "
                                f"(one of: {', '.join(sorted(adapters()))})")
    return adapters()[best_name]


def read_batches(adapter: Adapter, path: Path, options: ReadOptions) -> Iterator[Batch]:
    """``adapter.read`` under the decompression limits of ``options``: what ingest calls."""
    with decompression_limits(options.decompression_limits()):
        yield from adapter.read(path, options)


__all__ = [
    "Adapter", "Batch", "ReadOptions", "RecordError", "Rejection", "RowBuilder", "adapters",
    "detect_format", "get_adapter", "read_batches",
]
