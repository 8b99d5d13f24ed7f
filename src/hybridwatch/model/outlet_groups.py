"""Outlet → actor group (``ru_state``, ``cn_state``, ``control``): a shipped, overridable config.

The shipped table is ``outlet_groups.toml`` next to this module: one TOML table per group with an
``outlets`` list and an optional ``domains`` list (web domains; an outlet written as a domain or a
URL matches one, or a subdomain of one). A user file in the same format extends it; where both
name an outlet or domain, the user's group wins.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

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
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(path, f"not a valid outlet-group TOML file ({exc})") from None
    mapping = {}
    for group, table in doc.items():
        outlets = table.get("outlets") if isinstance(table, dict) else None
        if not isinstance(outlets, list) or not all(isinstance(o, str) for o in outlets):
            raise InputError(path, f"[{group}] needs `outlets = [\"name\", ...]` (a list of strings)")
        domains = table.get("domains", [])
        if not isinstance(domains, list) or not all(isinstance(d, str) and _host(d)
                                                    for d in domains):
            raise InputError(path, f"[{group}] `domains` must be a list of web domains "
                                   "(\"rt.com\", ...)")
        for outlet in outlets:
            mapping[normalise_outlet(outlet)] = group
        for domain in domains:
            mapping[_DOMAIN + _host(domain)] = group
    return mapping


_DOMAIN = "domain:"  # key prefix of web domains in the mapping
_HOSTLIKE = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$")


def _host(text: str) -> str | None:
    """The lower-case host of a URL or bare domain ("https://www.RT.com/x" → "rt.com"), or None
    when ``text`` is neither."""
    text = text.strip().lower()
    if " " in text or "." not in text:
        return None
    host = urlsplit(text if "//" in text else "//" + text).hostname or ""
    host = host.removeprefix("www.")
    return host if _HOSTLIKE.match(host) else None


def domain_group(url_or_domain: str | None, groups: dict[str, str]) -> str | None:
    """The group whose listed domain is the host of ``url_or_domain`` or a parent of it
    ("russian.rt.com" → "rt.com"), or None."""
    host = _host(url_or_domain or "")
    if host is None:
        return None
    labels = host.split(".")
    for i in range(len(labels) - 1):  # never the bare top-level domain
        group = groups.get(_DOMAIN + ".".join(labels[i:]))
        if group:
            return group
    return None


def outlet_group(outlet: str | None, groups: dict[str, str], url: str | None = None) -> str | None:
    """The group of ``outlet``, or None. Tries the exact (normalised) name, then the outlet as a
    web domain or URL, then the name without a " - Language" or "(…)" suffix, then the longest
    listed name it starts with as a word ("Sputnik Poland" → "sputnik"); last, the host of
    ``url`` when given."""
    if not outlet:
        return domain_group(url, groups)
    name = normalise_outlet(outlet)
    if name in groups:
        return groups[name]
    by_domain = domain_group(name, groups)
    if by_domain:
        return by_domain
    base = normalise_outlet(re.split(r" - |\(", name, maxsplit=1)[0])
    if base in groups:
        return groups[base]
    words = base.split(" ")
    for n in range(len(words) - 1, 0, -1):
        prefix = " ".join(words[:n])
        if prefix in groups:
            return groups[prefix]
    return domain_group(url, groups)
