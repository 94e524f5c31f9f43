"""The .grad history of two runs in one plot (compare mode): a colour per leaf, a solid line for run A,
a dashed one for run B, so "one climbs, one resets" is one picture."""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gradviz.core.result import LeafHistory
from gradviz.ui.grads import SERIES_COLORS, SERIES_COLORS_DARK, THEMES, history_points

#: Leaves plotted at most (by name, those of run A first): more lines than this are unreadable.
MAX_LEAVES = 6
STYLES = {"a": Qt.PenStyle.SolidLine, "b": Qt.PenStyle.DashLine}
SYMBOLS = {"a": "o", "b": "t"}


class CompareHistoryPlot(QWidget):
    """Both runs' ``.grad`` norm per backward call; ``series`` maps (run, leaf) to its curve.

    ``set_histories(a, b, title_a, title_b)`` draws them; ``set_theme`` recolours.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("compareHistoryPlot")
        self._theme = "light"
        self._data: tuple[tuple[LeafHistory, ...], tuple[LeafHistory, ...], str, str] = ((), (), "", "")
        self.series: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.title = QLabel(self.tr("‖.grad‖ of both runs, per backward call"), self)
        self.title.setObjectName("compareHistoryTitle")
        self.legend_label = QLabel("", self)
        self.legend_label.setObjectName("compareHistoryLegend")
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)
        self.plot = pg.PlotWidget(self)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", self.tr("backward call"))
        self.plot.setLabel("left", "‖.grad‖")
        self.plot.getAxis("bottom").setTickSpacing(1, 1)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.legend_label)
        layout.addWidget(self.plot, 1)
        self.set_theme("light")

    def set_histories(self, a: tuple[LeafHistory, ...], b: tuple[LeafHistory, ...], title_a: str, title_b: str) -> None:
        self._data = (tuple(h for h in a if h.events), tuple(h for h in b if h.events), title_a, title_b)
        self._redraw()

    def _redraw(self) -> None:
        a, b, title_a, title_b = self._data
        self.plot.clear()
        self.series = {}
        names = list(dict.fromkeys([h.name for h in a] + [h.name for h in b]))[:MAX_LEAVES]
        colors = SERIES_COLORS_DARK if self._theme == "dark" else SERIES_COLORS
        entries = []
        for i, name in enumerate(names):
            color = colors[i % len(colors)]
            for run, histories in (("a", a), ("b", b)):
                history = next((h for h in histories if h.name == name), None)
                if history is None:
                    continue
                points = history_points(history)
                pen = pg.mkPen(color, width=2.2, style=STYLES[run])
                curve = self.plot.plot([p.x for p in points], [p.y for p in points], pen=pen,
                                       symbol=SYMBOLS[run], symbolSize=7, symbolBrush=color, symbolPen=color)
                self.series[(run, name)] = curve
            entries.append(f'<span style="color:{color}">■</span> {html.escape(name)}')
        runs = (f"━━ {html.escape(title_a)}", f"╍╍ {html.escape(title_b)}")
        muted = THEMES[self._theme]["muted"]
        self.legend_label.setText("&nbsp;&nbsp;".join(entries)
                                  + f'&nbsp;&nbsp;&nbsp;<span style="color:{muted}">{runs[0]}'
                                  f"&nbsp;&nbsp;{runs[1]}</span>")

    def set_theme(self, theme: str) -> None:
        self._theme = theme if theme in THEMES else "light"
        colors = THEMES[self._theme]
        self.plot.setBackground(colors["bg"])
        for axis in ("left", "bottom"):
            ax = self.plot.getAxis(axis)
            ax.setPen(pg.mkPen(colors["muted"]))
            ax.setTextPen(pg.mkPen(colors["fg"]))
        self.plot.showGrid(x=True, y=True, alpha=colors["grid"])
        self._redraw()
