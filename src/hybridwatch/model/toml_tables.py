"""Read an overridable TOML file of ``[[table]]`` entries (theatres, data statements …): the
file's checks every such file shares, with errors naming the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hybridwatch.errors import InputError


def read_tables(path: Path, *, what: str, table: str) -> tuple[bool, list[object]]:
    """``(replace_shipped, [[table]] entries)`` of ``path``; ``what`` names the file kind in
    errors ("theatre", "data-statement"). The entries are checked by the caller."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, f"no such {what} file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(path, f"not a valid {what} TOML file ({exc})") from None
    unknown = set(doc) - {table, "replace_shipped"}
    if unknown:
        raise InputError(path, f"unknown top-level key(s) {', '.join(sorted(unknown))} "
                               f"(expected [[{table}]] tables and replace_shipped)")
    replace_shipped = doc.get("replace_shipped", False)
    if not isinstance(replace_shipped, bool):
        raise InputError(path, "must be true or false", field="replace_shipped")
    tables = doc.get(table, [])
    if not isinstance(tables, list):
        raise InputError(path, f"write each {table} as a [[{table}]] table", field=table)
    return replace_shipped, tables
