"""Fixtures shared by the canvas tests."""

import pytest

from gradviz.ui.canvas import GraphView


@pytest.fixture
def view(qtbot):
    """A shown 900x700 GraphView (modules that need another size or a hidden view define their own)."""
    v = GraphView()
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    return v
