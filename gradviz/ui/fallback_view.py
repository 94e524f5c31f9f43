"""A stand-in for the canvas GraphView while it is not available: same API, draws names in a list."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView


class FallbackView(QGraphicsView):
    """Draws each node's label as text; enough to run the app and its tests without the canvas.

    Signals
    -------
    node_clicked(str), node_hovered(str)
    """

    node_clicked = Signal(str)
    node_hovered = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.graph = None
        self.frame = None
        self.selected = None
        self.theme = "light"

    def show_graph(self, graph, layout=None) -> None:
        self.graph = graph
        self.scene().clear()
        for i, node in enumerate(graph.nodes):
            self.scene().addText(f"{node.label}").setPos(0, 24 * i)

    def show_frame(self, frame) -> None:
        self.frame = frame

    def set_theme(self, name: str) -> None:
        self.theme = name

    def fit_all(self) -> None:
        pass

    def zoom_in(self) -> None:
        self.scale(1.25, 1.25)

    def zoom_out(self) -> None:
        self.scale(0.8, 0.8)

    def reset_zoom(self) -> None:
        self.resetTransform()

    def select_node(self, node_id) -> None:
        self.selected = node_id
