"""Data statements per source: collector, licence, coverage and known biases.

The shipped table is ``data_statements.toml`` next to this module. A user file in the same
format (``--data-statements FILE`` or ``$HYBRIDWATCH_DATA_STATEMENTS``) replaces statements of
the same source and adds new ones; ``replace_shipped = true`` drops the shipped ones. The model
card and the briefing quote them for the sources behind a model, so a reader sees what the
numbers can and cannot say (EUvsDisinfo catalogues only pro-Kremlin cases; GDELT follows media
attention).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from hybridwatch.errors import InputError
from hybridwatch.model.toml_tables import read_tables

SHIPPED = Path(__file__).with_name("data_statements.toml")
#: Environment variable naming a user data-statement file (same format as the shipped one).
ENV_VAR = "HYBRIDWATCH_DATA_STATEMENTS"
_REQUIRED = ("source", "collector", "licence", "coverage", "biases")
_KEYS = set(_REQUIRED) | {"url"}


@dataclass(frozen=True)
class DataStatement:
    source: str
    collector: str
    licence: str
    coverage: str
    biases: tuple[str, ...]
    url: str | None = None

    def to_dict(self) -> dict:
        return {**asdict(self), "biases": list(self.biases)}


def load_data_statements(path: str | Path | None = None) -> dict[str, DataStatement]:
    """Source name → statement: the shipped table overridden by ``path`` (default:
    ``$HYBRIDWATCH_DATA_STATEMENTS`` if set)."""
    if path is None and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
    statements = {s.source: s for s in _read(SHIPPED)[1]}
    if path is not None:
        replace_shipped, own = _read(Path(path))
        if replace_shipped:
            statements = {}
        statements.update({s.source: s for s in own})
    return statements


def statement_for(statements: dict[str, DataStatement], source: str) -> DataStatement | None:
    """The statement of ``source`` (case-insensitive), or None when none is written."""
    return statements.get(source) or statements.get(source.strip().lower())


def _read(path: Path) -> tuple[bool, list[DataStatement]]:
    replace_shipped, tables = read_tables(path, what="data-statement", table="statement")
    out, seen = [], set()
    for number, table in enumerate(tables, start=1):
        statement = _statement(path, f"[[statement]] #{number}", table)
        if statement.source in seen:
            raise InputError(path, f"source {statement.source!r} has two statements",
                             locator=f"[[statement]] #{number}", field="source")
        seen.add(statement.source)
        out.append(statement)
    return replace_shipped, out


def _statement(path: Path, locator: str, table: object) -> DataStatement:
    if not isinstance(table, dict):
        raise InputError(path, "must be a table", locator=locator)
    unknown = set(table) - _KEYS
    if unknown:
        raise InputError(path, f"unknown key(s) {', '.join(sorted(unknown))} "
                               f"(keys: {', '.join(sorted(_KEYS))})", locator=locator)
    for key in _REQUIRED:
        value = table.get(key)
        if key == "biases":
            if not isinstance(value, list) or not value or \
                    not all(isinstance(b, str) and b.strip() for b in value):
                raise InputError(path, "needs a non-empty list of sentences", locator=locator,
                                 field=key)
        elif not isinstance(value, str) or not value.strip():
            raise InputError(path, "needs a non-empty string", locator=locator, field=key)
    url = table.get("url")
    if url is not None and not isinstance(url, str):
        raise InputError(path, "must be a string", locator=locator, field="url")
    return DataStatement(table["source"].strip().lower(), table["collector"].strip(),
                         table["licence"].strip(), table["coverage"].strip(),
                         tuple(b.strip() for b in table["biases"]), url)
