"""The backward-pass player: a Qt controller over core.replay.Replay, and its control bar."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QObject, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gradviz.core.replay import Frame, Replay
from gradviz.core.result import BackwardCall
from gradviz.ui.elided import ElidedLabel

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

#: Animation speeds offered, as multiples of BASE_STEPS_PER_SECOND.
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
BASE_STEPS_PER_SECOND = 1.25


class Player(QObject):
    """Plays the frames of one backward call out of several; views follow ``frame_changed``.

    Signals
    -------
    frame_changed(object)
        The current Frame (None when there is no backward call).
    call_changed(int)
        Another backward call was chosen (its index; -1 when there are none).
    playing_changed(bool)
        Playback started or stopped.
    calls_changed()
        A new list of backward calls was loaded.
    """

    frame_changed = Signal(object)
    call_changed = Signal(int)
    playing_changed = Signal(bool)
    calls_changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._calls: tuple[BackwardCall, ...] = ()
        self._index = -1
        self._replay: Replay | None = None
        self._replays: dict[int, Replay] = {}
        self._step = 0
        self._frame: Frame | None = None
        self._speed = 1.0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._set_interval()

    # -- state ---------------------------------------------------------------------------------

    @property
    def calls(self) -> tuple[BackwardCall, ...]:
        return self._calls

    @property
    def call_index(self) -> int:
        return self._index

    @property
    def call(self) -> BackwardCall | None:
        return self._calls[self._index] if 0 <= self._index < len(self._calls) else None

    @property
    def step(self) -> int:
        return self._step

    @property
    def total(self) -> int:
        """Steps of the current call (frames are 0 … total)."""
        return len(self.call.steps) if self.call else 0

    @property
    def frame(self) -> Frame | None:
        return self._frame

    @property
    def is_playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        self._speed = max(0.05, float(speed))
        self._set_interval()

    def _set_interval(self) -> None:
        self._timer.setInterval(max(16, round(1000 / (BASE_STEPS_PER_SECOND * self._speed))))

    # -- loading -------------------------------------------------------------------------------

    def set_calls(self, calls: Sequence[BackwardCall], call: int | None = None, step: int | None = None,
                  replays: dict[int, Replay] | None = None) -> None:
        """Load the backward calls of a run; show ``call`` (default: the last) at ``step`` (default: the end).

        ``replays`` may bring Replays already built (on a worker thread, for big calls).
        """
        self.pause()
        self._calls = tuple(calls)
        self._replays = dict(replays or {})
        self._index = -1
        self._replay = None
        self.calls_changed.emit()
        if not self._calls:
            self._step = 0
            self._frame = None
            self.call_changed.emit(-1)
            self.frame_changed.emit(None)
            return
        index = len(self._calls) - 1 if call is None else max(0, min(call, len(self._calls) - 1))
        self.select_call(index, step)

    def clear(self) -> None:
        self.set_calls(())

    def select_call(self, index: int, step: int | None = None) -> None:
        """Replay another backward call, starting at ``step`` (default: its end)."""
        if not 0 <= index < len(self._calls):
            return
        self.pause()
        self._index = index
        replay = self._replays.get(index)
        if replay is None:
            replay = self._replays[index] = Replay(self._calls[index])
        self._replay = replay
        self.call_changed.emit(index)
        self.seek(self.total if step is None else step)

    # -- moving --------------------------------------------------------------------------------

    def seek(self, step: int) -> None:
        """Show frame ``step`` (clamped to 0 … total)."""
        if self._replay is None:
            return
        self._step = max(0, min(int(step), self.total))
        self._frame = self._replay.frame(self._step)
        self.frame_changed.emit(self._frame)

    def step_forward(self) -> None:
        self.seek(self._step + 1)

    def step_back(self) -> None:
        self.seek(self._step - 1)

    def to_start(self) -> None:
        self.pause()
        self.seek(0)

    def to_end(self) -> None:
        self.pause()
        self.seek(self.total)

    def previous_call(self) -> None:
        self.select_call(self._index - 1)

    def next_call(self) -> None:
        self.select_call(self._index + 1)

    def play(self) -> None:
        """Play from the current step; from the start when already at the end."""
        if self._replay is None or self.total == 0:
            return
        if self._step >= self.total:
            self.seek(0)
        if not self._timer.isActive():
            self._timer.start()
            self.playing_changed.emit(True)

    def pause(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self.is_playing else self.play()

    def _tick(self) -> None:
        if self._step >= self.total:
            self.pause()
            return
        self.step_forward()
        if self._step >= self.total:
            self.pause()


class Timeline(QWidget):
    """The backward calls of a run as dots on a track; click one to replay it.

    Signals
    -------
    call_clicked(int)
    """

    call_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timeline")
        self._calls: tuple[BackwardCall, ...] = ()
        self._current = -1
        self._hover = -1
        self._colors = {"track": "#d0d7de", "dot": "#8c959f", "current": "#0969da", "error": "#d1242f",
                        "text": "#57606a"}
        self.setMouseTracking(True)
        self.setMinimumHeight(30)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, 32)

    def set_colors(self, **colors: str) -> None:
        self._colors.update(colors)
        self.update()

    def set_calls(self, calls: Sequence[BackwardCall]) -> None:
        self._calls = tuple(calls)
        self._current = -1
        self.update()

    def set_current(self, index: int) -> None:
        self._current = index
        self.update()

    def _x(self, i: int) -> float:
        n = len(self._calls)
        left, right = 14.0, self.width() - 14.0
        return (left + right) / 2 if n <= 1 else left + (right - left) * i / (n - 1)

    def _index_at(self, x: float) -> int:
        if not self._calls:
            return -1
        best = min(range(len(self._calls)), key=lambda i: abs(self._x(i) - x))
        reach = max(8.0, (self.width() - 28) / max(1, len(self._calls)) / 2 + 1)
        return best if abs(self._x(best) - x) <= reach else -1

    def paintEvent(self, event) -> None:  # noqa: N802
        if not self._calls:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = self._colors
        cy = 11.0
        p.setPen(QPen(QColor(c["track"]), 2))
        p.drawLine(QPointF(self._x(0), cy), QPointF(self._x(len(self._calls) - 1), cy))
        n = len(self._calls)
        labels = n <= 40
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
        p.setFont(font)
        for i, call in enumerate(self._calls):
            x = self._x(i)
            r = 6.0 if i == self._current else (5.0 if i == self._hover else 4.0)
            color = QColor(c["error"] if call.error else (c["current"] if i == self._current else c["dot"]))
            if call.recorded:
                p.setPen(QPen(QColor(self.palette().base().color()), 1.5))
                p.setBrush(color)
            else:  # recorded lightly: a ring, filled in when picked (the call is recorded then)
                p.setPen(QPen(color, 1.5))
                p.setBrush(QColor(self.palette().base().color()))
            p.drawEllipse(QPointF(x, cy), r, r)
            if labels and (n <= 12 or i == self._current or i in (0, n - 1)):
                p.setPen(QColor(c["current"] if i == self._current else c["text"]))
                p.drawText(QRectF(x - 20, cy + 7, 40, 14), Qt.AlignmentFlag.AlignCenter, str(i + 1))
        p.end()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        i = self._index_at(event.position().x())
        if i != self._hover:
            self._hover = i
            if i >= 0:
                call = self._calls[i]
                tip = translate("Player", "backward call {index} of {count} · line {line} · ").format(
                    index=i + 1, count=len(self._calls), line=call.line) + (
                    translate("Player", "{count} steps").format(count=len(call.steps)) if call.recorded
                    else translate("Player", "its steps are recorded when you pick it"))
                if call.error:
                    tip += f"\n{call.error.type}: {call.error.message}"
                self.setToolTip(tip)
            else:
                self.setToolTip("")
            self.update()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hover = -1
        self.update()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        i = self._index_at(event.position().x())
        if i >= 0:
            self.call_clicked.emit(i)


class PlayerBar(QWidget):
    """The controls under the canvas: call timeline, transport buttons, scrub slider, speed.

    The buttons trigger the main window's QActions (so shortcuts and tooltips live in one place);
    use `bind_actions` to attach them.
    """

    def __init__(self, player: Player, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("playerBar")
        self.player = player
        self.buttons: dict[str, QToolButton] = {}
        # Labels never force the bar wider (presentation fonts): they end in "…", the tooltip keeps all.
        self.call_label = ElidedLabel(translate("Player", "No backward call yet"), self, min_width=60)
        self.call_label.setObjectName("callLabel")
        self.timeline = Timeline(self)
        self.timeline.call_clicked.connect(player.select_call)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("scrubSlider")
        self.slider.setRange(0, 0)
        self.slider.setToolTip(translate("Player", "Scrub through the backward pass"))
        self.slider.valueChanged.connect(self._slider_moved)
        self.step_label = ElidedLabel("", self, min_width=60, prefer_whole=True)
        self.step_label.setObjectName("stepLabel")
        self.slider.setMinimumWidth(120)
        self.speed = QComboBox(self)
        self.speed.setObjectName("speedCombo")
        self.speed.setToolTip(translate("Player", "Animation speed"))
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(lambda i: player.set_speed(self.speed.itemData(i)))

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.call_label, 2)
        top.addWidget(self.timeline, 3)
        self._transport = QHBoxLayout()
        self._transport.setContentsMargins(0, 0, 0, 0)
        self._transport.setSpacing(2)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addLayout(self._transport)
        bottom.addWidget(self.slider, 1)  # the slider gives way first: "step 3/3 · AccumulateGrad" stays whole
        bottom.addWidget(self.step_label)
        bottom.addWidget(self.speed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(bottom)

        player.calls_changed.connect(self._calls_changed)
        player.call_changed.connect(self._call_changed)
        player.frame_changed.connect(self._frame_changed)
        self._calls_changed()

    def bind_actions(self, actions) -> None:
        """Add a button for each QAction (first, back, play, forward, last)."""
        for action in actions:
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setAutoRaise(True)
            button.setIconSize(QSize(18, 18))
            self.buttons[action.objectName()] = button
            self._transport.addWidget(button)

    def set_speed(self, speed: float) -> None:
        i = self.speed.findData(speed)
        if i >= 0:
            self.speed.setCurrentIndex(i)

    def _calls_changed(self) -> None:
        calls = self.player.calls
        self.timeline.set_calls(calls)
        self.timeline.setVisible(len(calls) > 1)
        if not calls:
            self.call_label.setText(translate("Player", "No backward call yet: run a program that calls backward()"))
            self.call_label.show()
            self.slider.setRange(0, 0)
            self.step_label.setText("")
        self.setEnabled(bool(calls))

    def _call_changed(self, index: int) -> None:
        self.timeline.set_current(index)
        call = self.player.call
        if call is None:
            return
        n = len(self.player.calls)
        kind = {"autograd.grad": "autograd.grad", "autograd.backward": "autograd.backward"}.get(call.kind, "backward")
        text = translate("Player", "{kind} at line {line}").format(kind=kind, line=call.line)
        if n > 1:
            text = translate("Player", "Call {index} of {count}: ").format(index=index + 1, count=n) + text
        if call.error:
            text += translate("Player", "  ⚠ failed")
        self.call_label.setText(text)
        # One call that ran: the canvas header already names it; its row goes to the graph.
        self.call_label.setVisible(n > 1 or bool(call.error))
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(call.steps))
        self.slider.blockSignals(False)

    def _frame_changed(self, frame: Frame | None) -> None:
        if frame is None:
            return
        self.slider.blockSignals(True)
        self.slider.setValue(frame.step)
        self.slider.blockSignals(False)
        call = self.player.call
        if frame.step == 0:
            text = translate("Player", "start · {count} steps").format(count=frame.total)
        else:
            op = call.steps[frame.step - 1].op if call else ""
            text = translate("Player", "step {step}/{count} · {op}").format(step=frame.step, count=frame.total, op=op)
        self.step_label.setText(text)

    def _slider_moved(self, value: int) -> None:
        self.player.pause()
        self.player.seek(value)
