"""Helpers shared by the web tests."""

from __future__ import annotations


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def visible_sql(levels) -> str:
    """SQL true for events readable at ``levels`` (unmarked events are clear)."""
    quoted = ", ".join(f"'{level}'" for level in levels)
    return f"(tlp IS NULL OR tlp IN ({quoted}))"


def assert_error(response, status: int) -> dict:
    """The response is ``status`` in the one JSON error shape; returns its ``error``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["status"] == status
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    return error
