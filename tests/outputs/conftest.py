"""Fixtures of the output tests: a webhook receiver on loopback (``webhook_receiver``)."""

from __future__ import annotations

import pytest

from webhook_receiver import start_receiver


@pytest.fixture()
def receiver():
    """A real HTTP receiver on loopback in a thread, stopped after the test."""
    found, server = start_receiver()
    yield found
    found.released.set()
    server.shutdown()
    server.server_close()
