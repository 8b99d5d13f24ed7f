"""Product lists (HS code prefixes) with their name, version date and provenance.

The shipped table (``products.toml``) holds semiconductors and equipment and the Common High
Priority List by tier; a user file of the same shape overrides the lists it names. A product
selection is text: ``8542``, ``8541,8542``, a list name (``semiconductors``, ``chpl``) or a tier
(``chpl:tier1``), mixed freely.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHIPPED_PRODUCTS = Path(__file__).with_name("products.toml")
_HS = re.compile(r"^\d{2}(\d{2}){0,2}$")


@dataclass(frozen=True)
class ProductList:
    """One named list: its HS prefixes (all tiers together) and where it comes from."""

    key: str
    name: str
    version: str
    provenance: str
    codes: tuple[str, ...]
    tiers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "version": self.version,
                "provenance": self.provenance, "codes": list(self.codes),
                "tiers": {k: list(v) for k, v in self.tiers.items()}}


@dataclass(frozen=True)
class ProductSelection:
    """What ``--product`` selected: HS prefixes and the lists they came from."""

    text: str
    prefixes: tuple[str, ...]
    lists: tuple[ProductList, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"selection": self.text, "prefixes": list(self.prefixes),
                "lists": [{"key": p.key, "name": p.name, "version": p.version,
                           "provenance": p.provenance} for p in self.lists]}


def _check_code(code: Any, where: str) -> str:
    text = str(code).strip().replace(".", "")
    if not _HS.match(text):
        raise ValueError(f"{where}: not an HS code of 2, 4 or 6 digits ({code!r})")
    return text


def _parse(data: dict[str, Any], origin: str) -> dict[str, ProductList]:
    lists = {}
    for key, entry in (data.get("lists") or {}).items():
        where = f"{origin}: lists.{key}"
        missing = [k for k in ("name", "version", "provenance") if not entry.get(k)]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)} (every list says what it "
                             "is, its version date and where it comes from)")
        tiers = {t: tuple(_check_code(c, f"{where}.tiers.{t}") for c in codes)
                 for t, codes in (entry.get("tiers") or {}).items()}
        codes = tuple(_check_code(c, f"{where}.codes") for c in entry.get("codes", ()))
        codes = tuple(dict.fromkeys(codes + tuple(c for t in tiers.values() for c in t)))
        if not codes:
            raise ValueError(f"{where}: no codes")
        lists[key.lower()] = ProductList(key.lower(), str(entry["name"]), str(entry["version"]),
                                         str(entry["provenance"]).strip(), codes, tiers)
    return lists


def load_product_lists(override: str | Path | None = None) -> dict[str, ProductList]:
    """The shipped lists, replaced list by list by ``override`` (or ``$HYBRIDWATCH_PRODUCTS``)."""
    lists = _parse(tomllib.loads(SHIPPED_PRODUCTS.read_text("utf-8")), SHIPPED_PRODUCTS.name)
    override = override or os.environ.get("HYBRIDWATCH_PRODUCTS")
    if override:
        path = Path(override)
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError, RecursionError) as exc:
            raise ValueError(f"{path}: cannot read product lists ({exc})") from None
        lists.update(_parse(data, str(path)))
    return lists


def select_products(text: str, lists: dict[str, ProductList] | None = None) -> ProductSelection:
    """Resolve ``--product`` text to HS prefixes; ``ValueError`` names what is unknown."""
    lists = load_product_lists() if lists is None else lists
    prefixes: list[str] = []
    used: list[ProductList] = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        name, _, tier = part.partition(":")
        if name in lists:
            entry = lists[name]
            if tier:
                if tier not in entry.tiers:
                    raise ValueError(f"--product {part}: {name} has no tier {tier!r} (tiers: "
                                     f"{', '.join(entry.tiers) or 'none'})")
                prefixes.extend(entry.tiers[tier])
            else:
                prefixes.extend(entry.codes)
            used.append(entry)
            continue
        try:
            prefixes.append(_check_code(part, "--product"))
        except ValueError:
            raise ValueError(f"--product {part!r}: neither an HS code (2, 4 or 6 digits) nor a "
                             f"product list ({', '.join(sorted(lists))})") from None
    if not prefixes:
        raise ValueError("--product: nothing selected")
    return ProductSelection(text, tuple(dict.fromkeys(prefixes)),
                            tuple({p.key: p for p in used}.values()))


def listed_prefixes(lists: dict[str, ProductList] | None = None) -> tuple[str, ...]:
    """Every HS prefix of every list: the "listed products" of the technology-transfer index."""
    lists = load_product_lists() if lists is None else lists
    return tuple(dict.fromkeys(c for entry in lists.values() for c in entry.codes))
