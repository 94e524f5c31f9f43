"""The desktop app: Qt and pyqtgraph, never torch."""
