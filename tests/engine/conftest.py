"""Fixtures the engine tests share."""

from __future__ import annotations

import pytest

from gradviz.engine.client import EngineClient


@pytest.fixture(scope="module")
def engine():
    """A contained engine client, shared by a module's tests (each run still gets a fresh worker)."""
    client = EngineClient()
    client.start()
    assert client.wait_ready(), "the engine did not start"
    assert client.containment.contained, client.containment.report()
    yield client
    client.close()
