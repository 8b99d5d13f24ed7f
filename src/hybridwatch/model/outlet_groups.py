"""Outlet → actor group (``ru_state``, ``cn_state``, ``control``): a shipped, overridable config.

The shipped table is ``outlet_groups.toml`` next to this module: one TOML table per group with an
``outlets`` list. A user file in the same format extends it; where both name an outlet, the
user's group wins.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from hybridwatch.errors import InputError

SHIPPED = Path(__file__).with_name("outlet_groups.toml")
GROUPS = ("ru_state", "cn_state", "control")


def normalise_outlet(name: str) -> str:
    """Lower-cased name with runs of whitespace collapsed to one space."""
    return re.sub(r"\s+", " ", name).strip().lower()


def load_outlet_groups(path: Path | None = None) -> dict[str, str]:
    """The shipped mapping of normalised outlet name → group, extended by ``path`` if given."""
    groups = _read(SHIPPED)
    if path is not None:
        groups.update(_read(Path(path)))
    return groups


def _read(path: Path) -> dict[str, str]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no such outlet-group file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a valid outlet-group TOML file ({exc})") from None
    mapping = {}
    for group, table in doc.items():
        outlets = table.get("outlets") if isinstance(table, dict) else None
        if not isinstance(outlets, list) or not all(isinstance(o, str) for o in outlets):
            raise InputError(path, f"[{group}] needs `outlets = [\"name\", ...]` (a list of strings)")
        for outlet in outlets:
            mapping[normalise_outlet(outlet)] = group
    return mapping


def outlet_group(outlet: str | None, groups: dict[str, str]) -> str | None:
    """The group of ``outlet``, or None. Tries the exact (normalised) name, then the name without
    a " - Language" or "(…)" suffix, then the longest listed name it starts with as a word
    ("Sputnik Poland" → "sputnik")."""
    if not outlet:
        return None
    name = normalise_outlet(outlet)
    if name in groups:
        return groups[name]
    base = normalise_outlet(re.split(r" - |\(", name, maxsplit=1)[0])
    if base in groups:
        return groups[base]
    words = base.split(" ")
    for n in range(len(words) - 1, 0, -1):
        prefix = " ".join(words[:n])
        if prefix in groups:
            return groups[prefix]
    return None
