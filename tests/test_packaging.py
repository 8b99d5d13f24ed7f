"""Packaging promises: every extra an error message names exists, and the licence is SPDX."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _named_extras() -> list[tuple[str, int, str]]:
    """(file, line, extra) for each ``MissingExtraError(package, "extra")`` in the sources."""
    found = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "MissingExtraError"
                    and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)):
                found.append((str(path.relative_to(ROOT)), node.lineno, node.args[1].value))
    return found


def test_missing_extra_errors_name_extras_that_exist():
    extras = set(PYPROJECT["project"].get("optional-dependencies", {}))
    unknown = [f"{f}:{line} names [{extra}]" for f, line, extra in _named_extras()
               if extra not in extras]
    assert not unknown, f"extras not in pyproject.toml {sorted(extras)}: {unknown}"


def test_licence_is_an_spdx_expression_with_its_file():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")

