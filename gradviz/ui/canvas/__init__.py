"""The graph canvas: GraphView (QGraphicsView) showing a GraphScene of node, edge and label items."""

from gradviz.ui.canvas.scene import GraphScene
from gradviz.ui.canvas.view import GraphView

__all__ = ["GraphScene", "GraphView"]
