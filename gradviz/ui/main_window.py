"""The main window: editor, graph canvas, backward-pass player, inspector, gradients and history."""

from __future__ import annotations

import ast
import gc
import time
from html import escape
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QComboBox, QDockWidget, QHBoxLayout, QLabel, QLineEdit, QMainWindow, QPlainTextEdit,
    QProgressBar, QSizePolicy, QToolBar, QToolButton, QVBoxLayout, QWidget,
)

from gradviz.core.collector import collector_paused
from gradviz.core.replay import Frame
from gradviz.core.request import RunRequest
from gradviz.core.result import (
    ACCUMULATE, LEAF, NOT_CONTAINED, PARAM, WORKER_CRASHED, BackwardCall, GraphData, RunResult,
)
from gradviz.core.session import Session, SessionError, ViewSettings, load_path, load_session, save_session
from gradviz.core.trust import TrustStore, is_trusted
from gradviz.ui import dialogs, style
from gradviz.ui.canvas.view import GraphView
from gradviz.ui.editor import CodeEditor, MessageBar
from gradviz.ui.elided import ElidedLabel
from gradviz.ui.icons import icon
from gradviz.ui.inspector import Inspector
from gradviz.ui.player import Player, PlayerBar
from gradviz.ui.runner import Background, Runner
from gradviz.ui.settings import Settings

#: The program shown when gradviz starts without a file (the 2xᵀx example).
DEFAULT_PROGRAM = """import torch

x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()

print(x.grad)
"""
DEFAULT_TITLE = "The gradient of 2xᵀx"
DEFAULT_EXAMPLE = "01-two-x-squared.gradviz"
#: Graphs with more nodes than this are laid out on a worker thread before they are shown.
BACKGROUND_LAYOUT_NODES = 300
AUTOSAVE_MS = 4000
#: Delay (ms) between the pieces of work that fill the panels with a big result.
PANEL_TURN_MS = 15
#: A run longer than this shows the progress bar.
PROGRESS_DELAY_MS = 300


def top_level_statements(source: str) -> list[tuple[int, int]] | None:
    """(first line, last line) of each top-level statement; None when the text does not parse.

    Only parses (``ast.parse``): nothing is compiled or run here; the engine runs the program.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    spans = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        spans.append((start, node.end_lineno or node.lineno))
    return spans


def default_session() -> Session:
    """The 2xᵀx lesson shipped in resources/examples (its notes included), or a built-in copy."""
    from gradviz.core.resources import resource_path

    try:
        return load_session(resource_path("examples", DEFAULT_EXAMPLE))
    except (SessionError, FileNotFoundError, ValueError):
        return Session(program=DEFAULT_PROGRAM, title=DEFAULT_TITLE)


@dataclass
class Prepared:
    """What a big result needs before it is shown, worked out on a worker thread."""

    result: RunResult
    replays: dict
    graph: GraphData | None = None
    layout: object = None  # a ScenePlan: node sizes, layout and the geometry of every item


def prepare_result(result: RunResult, view, root_at: str) -> Prepared:
    """The Replay and the scene plan of the last backward call (runs on a worker thread)."""
    from gradviz.core.replay import Replay

    with collector_paused():  # tens of thousands of small objects, no cycles
        call = result.backward_calls[-1]
        prepared = Prepared(result, {len(result.backward_calls) - 1: Replay(call)})
        if call.graph.nodes:
            prepared.graph = call.graph
            prepared.layout = layout_in_background(view, call.graph, root_at)
        gc.freeze()  # the replay and the plan live as long as the result: no collection need scan them
    return prepared


def layout_in_background(view, graph: GraphData, root_at: str):
    """Measure node sizes, lay ``graph`` out and work out where every item goes (a ScenePlan).

    Plain Python and Qt value types only: meant for a worker thread, so the UI thread is left
    with making the items (in slices, see GraphView.show_graph).
    """
    return view.plan(graph, None, root_at)


class MainWindow(QMainWindow):
    """The gradviz window around one session (program, title, notes, seed, view settings).

    Parameters
    ----------
    settings
        Remembered layout, theme and recent files (tests pass one in a temporary directory).
    runner
        Runs programs in the engine; one is made with the real EngineClient when omitted.

    Signals
    -------
    result_shown(object)
        A run's RunResult has been shown in every panel.
    session_loaded(str)
        A session or script was opened (its path, or "" for an example or a new session).
    graph_shown(object)
        The canvas now shows this GraphData.
    """

    result_shown = Signal(object)
    session_loaded = Signal(str)
    graph_shown = Signal(object)

    def __init__(self, settings: Settings | None = None, runner: Runner | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.settings = settings or Settings()
        self.runner = runner or Runner(parent=self)
        if self.runner.parent() is None:
            self.runner.setParent(self)
        self.background = Background(self)
        self.background.finished.connect(self._layout_done)
        self.theme = self.settings.theme
        self.presentation = self.settings.presentation
        self.root_at = self.settings.root_at
        self.path: str | None = None
        self.seed = 0
        #: The program may run where the system cannot contain the engine: typed here, a shipped
        #: lesson, or a file the user trusted (gradviz.core.trust).
        self.trusted = True
        self.result: RunResult | None = None
        self._pending_view: ViewSettings | None = None
        self._modes: dict[int, tuple[str, int | None]] = {}
        self._requests: dict[int, RunRequest] = {}
        self._shown_request: RunRequest | None = None  # the run whose result is shown (fetches rerun it)
        self._calls_made: dict[tuple[str, int], int] = {}  # (program, seed) -> its backward calls last time
        self._step_after: int | None = None
        self._graph_key: object = None
        self._graph: GraphData | None = None
        self._graph_call: BackwardCall | None = None
        self._layout_token = 0
        self._run_started_at = 0.0
        self._run_line: int | None = None
        self._autosaved_text: str | None = None
        self._closing = False
        self._pinned_node: str | None = None
        self._shown_pending: GraphData | None = None  # graph_shown waits for the canvas to finish
        self._grads_pending: RunResult | None = None  # a big result's gradients, filled a turn later
        self._grads_started: RunResult | None = None
        self._announce: GraphData | None = None  # graph_shown, once the gradients are filled
        self._last_export: dialogs.ExportChoice | None = None
        self._prepared: Prepared | None = None
        self._frames_muted = False
        self._leaf_names_cache: dict = {}
        self._panels_built = False
        self.grads = None
        self.history = None

        self.setWindowTitle("gradviz")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.resize(1440, 900)
        self.setMinimumSize(QSize(900, 600))

        self._build_actions()
        self._build_central()
        self._build_docks()
        self._build_toolbar()
        self._build_menus()
        self._build_statusbar()
        self._connect()
        self.apply_theme(self.theme, self.presentation)
        self._restore_layout()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.progress_timer = QTimer(self)
        self.progress_timer.setSingleShot(True)
        self.progress_timer.setInterval(PROGRESS_DELAY_MS)
        self.progress_timer.timeout.connect(self._show_progress)

        self.set_session(default_session(), path=None, run=False)

    # =============================================================================================
    # Building

    def _action(self, name: str, text: str, slot, shortcut=None, icon_name: str | None = None,
                tip: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        label = tip or text.replace("&", "").rstrip(".…")
        if action.shortcut().toString():
            label += f"  ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(label)
        action.setStatusTip(tip or label)
        action.setProperty("icon_name", icon_name)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        self.actions[name] = action
        return action

    def _build_actions(self) -> None:
        self.actions: dict[str, QAction] = {}
        a = self._action
        SK = QKeySequence.StandardKey
        a("new", "&New", self.new_session, SK.New, "new", "New session")
        a("open", "&Open…", self.open_dialog, SK.Open, "open", "Open a session or a Python script")
        a("save", "&Save", self.save, SK.Save, "save", "Save the session")
        a("save_as", "Save &As…", self.save_as, SK.SaveAs, None, "Save the session under a new name")
        a("quit", "&Quit", self.close, SK.Quit)
        a("undo", "&Undo", lambda: self.editor.undo(), SK.Undo, "undo", "Undo")
        a("redo", "&Redo", lambda: self.editor.redo(), SK.Redo, "redo", "Redo")
        a("comment", "Toggle &Comment", lambda: self.editor.toggle_comment(), "Ctrl+/")
        a("run", "&Run", self.run_all, ["Ctrl+Return", "Ctrl+Enter"], "run", "Run the whole program")
        a("run_to_cursor", "Run to &Cursor", self.run_to_cursor, ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"],
          "run-cursor", "Run up to the statement at the cursor")
        a("step", "S&tep", self.step, "F10", "step", "Run one more statement, like a debugger")
        a("cancel", "&Stop", self.cancel_run, "Shift+F5", "stop", "Stop the running program")
        a("restart_engine", "Restart &Engine", self.restart_engine, "Ctrl+Shift+F5", "restart",
          "Kill the engine process and start a fresh one")
        a("play", "&Play", self.toggle_play, "F8", "play", "Play or pause the backward pass")
        a("step_forward", "Step &Forward", lambda: self._player_step(1), "Alt+Right", "step-forward",
          "Next step of the backward pass")
        a("step_back", "Step &Back", lambda: self._player_step(-1), "Alt+Left", "step-back",
          "Previous step of the backward pass")
        a("first", "To &Start", lambda: self.player.to_start(), "Alt+Home", "first", "Before the first step")
        a("last", "To &End", lambda: self.player.to_end(), "Alt+End", "last", "After the last step")
        a("previous_call", "Previous Backward Call", lambda: self.player.previous_call(), "Alt+Up", None)
        a("next_call", "Next Backward Call", lambda: self.player.next_call(), "Alt+Down", None)
        a("zoom_in", "Zoom &In", lambda: self.view.zoom_in(), SK.ZoomIn, "zoom-in", "Zoom in")
        a("zoom_out", "Zoom &Out", lambda: self.view.zoom_out(), SK.ZoomOut, "zoom-out", "Zoom out")
        a("fit", "&Fit Graph", self._refit, "Ctrl+0", "fit", "Fit the whole graph in view")
        a("reset_zoom", "Actual &Size", lambda: self.view.reset_zoom(), "Ctrl+1", None, "Zoom to 100 %")
        a("dark", "&Dark Theme", self._dark_toggled, "Ctrl+Shift+D", "theme", "Dark theme", checkable=True)
        a("presentation", "&Presentation Mode", self._presentation_toggled, "Ctrl+Shift+P", "present",
          "Large fonts for projectors", checkable=True)
        a("fullscreen", "&Full Screen", self._fullscreen_toggled, SK.FullScreen, None, "Full screen", checkable=True)
        a("root_bottom", "Root at the &Bottom", self._root_toggled, None, None,
          "Draw the loss at the bottom of the graph", checkable=True)
        a("export", "&Export Graph…", self.export_graph, "Ctrl+E", "export",
          "Export the graph: PNG, SVG, or the backward pass as GIF, APNG or PNG frames")
        a("copy_image", "&Copy Graph Image", self.copy_graph_image, "Ctrl+Shift+C", None,
          "Copy the graph as an image to the clipboard")
        a("screenshot", "Save Window &Screenshot…", self.save_screenshot, None, None,
          "Save a PNG of the whole window")
        a("about", "&About gradviz", self._about)

    def _build_central(self) -> None:
        central = QWidget(self)
        central.setObjectName("centralPanel")
        header = QWidget(central)
        header.setObjectName("graphHeader")
        self.graph_title = QLabel("Graph", header)
        self.graph_title.setObjectName("graphTitle")
        self.graph_subtitle = ElidedLabel("", header, min_width=20)
        self.graph_subtitle.setObjectName("graphSubtitle")
        self.graph_combo = QComboBox(header)
        self.graph_combo.setObjectName("graphCombo")
        self.graph_combo.setToolTip("Which graph to draw: a backward call's, or the graph behind any tensor variable")
        self.graph_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.graph_combo.setMinimumContentsLength(18)
        self._zoom_buttons = []
        row = QHBoxLayout(header)
        row.setContentsMargins(12, 6, 8, 6)
        row.setSpacing(8)
        row.addWidget(self.graph_title)
        row.addWidget(self.graph_subtitle, 1)
        row.addWidget(QLabel("Show", header))
        row.addWidget(self.graph_combo)
        self._graph_header_row = row

        self.view = GraphView(central, theme=self.theme, root_at=self.root_at)
        self.view.setObjectName("graphView")
        self.view.installEventFilter(self)
        # On big graphs the lit node may be off screen: the canvas scrolls to keep it in view.
        self.view.follow_current = True
        self.player = Player(self)
        self.player.set_speed(self.settings.speed)
        self.player_bar = PlayerBar(self.player, central)
        self.player_bar.set_speed(self.settings.speed)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.player_bar)
        self.setCentralWidget(central)

    def _dock(self, name: str, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        self.docks: dict[str, QDockWidget] = {}
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        # Program: the editor with its message bar.
        program = QWidget(self)
        self.editor = CodeEditor(program, self.theme)
        self.message_bar = MessageBar(program)
        col = QVBoxLayout(program)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.editor, 1)
        col.addWidget(self.message_bar)
        self._dock("programDock", "Program", program, left)
        # Output: what the program printed.
        self.output = QPlainTextEdit(self)
        self.output.setObjectName("outputText")
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("What the program prints appears here.")
        self._dock("outputDock", "Output", self.output, left)
        # Lesson notes: title and notes of the session, editable by teachers.
        notes = QWidget(self)
        self.notes_title = QLineEdit(notes)
        self.notes_title.setObjectName("notesTitle")
        self.notes_title.setPlaceholderText("Lesson title")
        self.notes_text = QPlainTextEdit(notes)
        self.notes_text.setObjectName("notesText")
        self.notes_text.setPlaceholderText("Notes for this lesson: what to look at, what to try.")
        ncol = QVBoxLayout(notes)
        ncol.setContentsMargins(6, 6, 6, 6)
        ncol.setSpacing(4)
        ncol.addWidget(self.notes_title)
        ncol.addWidget(self.notes_text, 1)
        self._dock("notesDock", "Lesson", notes, left)
        self.tabifyDockWidget(self.docks["outputDock"], self.docks["notesDock"])
        self.docks["notesDock"].raise_()
        # Inspector, gradients and history on the right. The pyqtgraph panels are built by
        # ensure_panels (importing pyqtgraph costs ~0.3 s); placeholders hold their place until then.
        self.inspector = Inspector(self)
        self._dock("inspectorDock", "Inspector", self.inspector, right)
        self._grads_holder = QWidget(self)
        QVBoxLayout(self._grads_holder).setContentsMargins(0, 0, 0, 0)
        self._history_holder = QWidget(self)
        QVBoxLayout(self._history_holder).setContentsMargins(0, 0, 0, 0)
        self._dock("gradsDock", "Gradients (.grad)", self._grads_holder, right)
        self._dock("historyDock", ".grad history", self._history_holder, right)
        self._sized = False

    def _initial_dock_sizes(self) -> None:
        """Default proportions, applied once the window has its size (unless a saved layout exists)."""
        w, h = self.width(), self.height()
        self.resizeDocks([self.docks["programDock"], self.docks["inspectorDock"]],
                         [int(w * 0.31), int(w * 0.27)], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["programDock"], self.docks["outputDock"]],
                         [int(h * 0.62), int(h * 0.28)], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["inspectorDock"], self.docks["gradsDock"], self.docks["historyDock"]],
                         [int(h * 0.36), int(h * 0.27), int(h * 0.27)], Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            if self.settings.window_state() is None:
                self._initial_dock_sizes()

    def ensure_panels(self) -> None:
        """Build the pyqtgraph panels (gradients and history) if they are not built yet.

        run_app calls it before the window shows, while the engine imports torch in its own
        process. pyqtgraph must be imported on the GUI thread: importing it on a worker thread
        while the GUI thread painted crashed the app (a segmentation fault in shiboken's lazy
        type set-up, about one launch in ten).
        """
        if self._panels_built:
            return
        self._panels_built = True
        from gradviz.ui.grads import GradsPanel, HistoryPlot

        self.grads = GradsPanel(self._grads_holder)
        self._grads_holder.layout().addWidget(self.grads)
        self.history = HistoryPlot(self._history_holder)
        self._history_holder.layout().addWidget(self.history)
        scale = style.PRESENTATION_SCALE if self.presentation else 1.0
        self.grads.set_theme(self.theme)
        self.grads.set_font_scale(scale)
        self.history.set_theme(self.theme)
        self.history.set_font_scale(scale)
        if self.result is not None:
            self._show_grads(self.result)
            self._frame_changed(self.player.frame)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("mainToolBar")
        bar.setMovable(False)
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

        def add(name: str, text_beside: bool = False):
            bar.addAction(self.actions[name])
            button = bar.widgetForAction(self.actions[name])
            if isinstance(button, QToolButton):
                button.setObjectName(f"{name}Button")
                button.setToolButtonStyle(
                    Qt.ToolButtonStyle.ToolButtonTextBesideIcon if text_beside else Qt.ToolButtonStyle.ToolButtonIconOnly
                )
            return button

        for n in ("new", "open", "save"):
            add(n)
        bar.addSeparator()
        add("run", True)
        add("run_to_cursor")
        add("step", True)
        add("cancel")
        bar.addSeparator()
        for n in ("undo", "redo"):
            add(n)
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        for n in ("zoom_out", "zoom_in", "fit", "export"):
            add(n)
        bar.addSeparator()
        add("dark")
        add("presentation")
        self.player_bar.bind_actions([self.actions[n] for n in ("first", "step_back", "play", "step_forward", "last")])

    def _build_menus(self) -> None:
        m = self.menuBar()
        file = m.addMenu("&File")
        for n in ("new", "open"):
            file.addAction(self.actions[n])
        self.recent_menu = file.addMenu("Open &Recent")
        self.examples_menu = file.addMenu("&Examples")
        file.addSeparator()
        for n in ("save", "save_as"):
            file.addAction(self.actions[n])
        file.addSeparator()
        for n in ("export", "copy_image", "screenshot"):
            file.addAction(self.actions[n])
        file.addSeparator()
        file.addAction(self.actions["quit"])
        edit = m.addMenu("&Edit")
        for n in ("undo", "redo", "comment"):
            edit.addAction(self.actions[n])
        run = m.addMenu("&Run")
        for n in ("run", "run_to_cursor", "step", "cancel"):
            run.addAction(self.actions[n])
        run.addSeparator()
        run.addAction(self.actions["restart_engine"])
        anim = m.addMenu("&Backward")
        for n in ("play", "step_back", "step_forward", "first", "last"):
            anim.addAction(self.actions[n])
        anim.addSeparator()
        anim.addAction(self.actions["previous_call"])
        anim.addAction(self.actions["next_call"])
        view = m.addMenu("&View")
        for n in ("zoom_in", "zoom_out", "fit", "reset_zoom"):
            view.addAction(self.actions[n])
        view.addSeparator()
        for n in ("root_bottom", "dark", "presentation", "fullscreen"):
            view.addAction(self.actions[n])
        view.addSeparator()
        panels = view.addMenu("&Panels")
        for dock in self.docks.values():
            panels.addAction(dock.toggleViewAction())
        lessons = m.addMenu("&Lessons")
        self.lessons_menu = lessons
        help_menu = m.addMenu("&Help")
        help_menu.addAction(self.actions["about"])
        self._fill_examples()
        self._fill_recent()

    def _build_statusbar(self) -> None:
        bar = self.statusBar()
        self.run_label = QLabel("", self)
        self.run_label.setObjectName("runStatus")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(140)
        self.progress.hide()
        self.engine_label = QLabel("● Engine starting…", self)
        self.engine_label.setObjectName("engineStatus")
        self.engine_label.setProperty("state", "starting")
        self.engine_label.setToolTip("The engine runs your program in a process of its own (PyTorch loads there)")
        bar.addWidget(self.run_label, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.engine_label)

    def _connect(self) -> None:
        r = self.runner
        r.engine_starting.connect(lambda: self._engine_state("starting", "● Engine starting…  (loading PyTorch)"))
        r.engine_ready.connect(self._engine_ready)
        r.engine_failed.connect(self._engine_failed)
        r.engine_crashed.connect(self._engine_crashed)
        r.run_started.connect(self._run_started)
        r.run_progressed.connect(self._run_progressed)
        r.run_finished.connect(self._run_finished)
        r.busy_changed.connect(self._busy_changed)
        self.player.frame_changed.connect(self._frame_changed)
        self.player.call_changed.connect(self._call_changed)
        self.player.playing_changed.connect(self._playing_changed)
        self.player_bar.speed.currentIndexChanged.connect(
            lambda i: setattr(self.settings, "speed", self.player_bar.speed.itemData(i))
        )
        self.graph_combo.activated.connect(self._graph_choice_activated)
        self.view.node_clicked.connect(self._node_clicked)
        self.view.build_finished.connect(self._view_built)
        self.inspector.line_clicked.connect(self.editor.go_to_line)
        self.message_bar.line_clicked.connect(self.editor.go_to_line)
        self.editor.error_line_clicked.connect(lambda _l: self.message_bar.show())
        self.editor.document().modificationChanged.connect(self._modification_changed)
        self.editor.document().undoAvailable.connect(self.actions["undo"].setEnabled)
        self.editor.document().redoAvailable.connect(self.actions["redo"].setEnabled)
        self.notes_title.textEdited.connect(lambda _t: self._mark_dirty())
        self.notes_text.textChanged.connect(self._notes_changed)
        # The engine may have become ready before these connections existed.
        if r.is_ready:
            self._engine_ready()
        self.actions["cancel"].setEnabled(False)
        self.actions["undo"].setEnabled(False)
        self.actions["redo"].setEnabled(False)
        self._update_player_actions()

    # =============================================================================================
    # Look

    def apply_theme(self, theme: str, presentation: bool | None = None) -> None:
        """Switch light/dark and presentation mode everywhere: QSS, editor, canvas, plots, icons."""
        self.theme = theme if theme in style.THEMES else "light"
        if presentation is not None:
            self.presentation = presentation
        app = QApplication.instance()
        if app is not None:
            style.apply(app, self.theme, self.presentation)
        scale = style.PRESENTATION_SCALE if self.presentation else 1.0
        self.editor.set_theme(self.theme)
        self.editor.set_font_size(10 * scale)
        self.output.setFont(self.editor.font())
        self.inspector.set_theme(self.theme)
        self.inspector.set_font_scale(scale)
        self.view.set_theme(self.theme)
        self.view.set_font_scale(scale)
        if self.grads is not None:
            self.grads.set_theme(self.theme)
            self.grads.set_font_scale(scale)
        if self.history is not None:
            self.history.set_theme(self.theme)
            self.history.set_font_scale(scale)
        colors = style.theme_colors(self.theme)
        timeline = self.player_bar.timeline
        timeline.set_colors(track=colors["border_strong"], dot=colors["faint"], current=colors["accent"],
                            error=colors["error_text"], text=colors["muted"])
        icon_size = QSize(round(18 * scale), round(18 * scale))
        self.toolbar.setIconSize(icon_size)
        for action in self.actions.values():
            name = action.property("icon_name")
            if name:
                color = colors["accent_text"] if action.objectName() == "run" else colors["text"]
                action.setIcon(icon(name, color, colors["faint"]))
        for button in self.player_bar.buttons.values():
            button.setIconSize(icon_size)
        self._playing_changed(self.player.is_playing)
        for name, checked in (("dark", self.theme == "dark"), ("presentation", self.presentation)):
            a = self.actions[name]
            a.blockSignals(True)
            a.setChecked(checked)
            a.blockSignals(False)
        self.setWindowIcon(icon("app", colors["accent"]))

    def _dark_toggled(self, on: bool) -> None:
        self.apply_theme("dark" if on else "light")
        self.settings.theme = self.theme

    def _presentation_toggled(self, on: bool) -> None:
        self.apply_theme(self.theme, on)
        self.settings.presentation = on
        # Bigger fonts push the docks around: give every panel its share again.
        QTimer.singleShot(0, self._initial_dock_sizes)
        if self._graph is not None:
            QTimer.singleShot(0, self.view.fit_all)

    def _fullscreen_toggled(self, on: bool) -> None:
        self.showFullScreen() if on else self.showNormal()

    def _root_toggled(self, on: bool) -> None:
        self.root_at = "bottom" if on else "top"
        self.settings.root_at = self.root_at
        self.view.set_root_at(self.root_at)

    # =============================================================================================
    # Sessions and files

    @property
    def dirty(self) -> bool:
        return self.isWindowModified()

    def display_name(self) -> str:
        if self.path:
            return Path(self.path).name
        return self.notes_title.text() or "Untitled"

    def current_session(self) -> Session:
        """The session as it is now in the window (text, title, notes, seed, view)."""
        call = self.player.call_index if self.player.calls else None
        step = self.player.step if self.player.calls else None
        choice = self.graph_combo.currentData()
        variable = choice[4:] if isinstance(choice, str) and choice.startswith("var:") else None
        zoom = max(0.01, min(100.0, float(self.view.transform().m11())))
        return Session(
            program=self.editor.toPlainText(),
            title=self.notes_title.text(),
            notes=self.notes_text.toPlainText(),
            seed=self.seed,
            view=ViewSettings(root_at=self.root_at, theme=self.theme, presentation=self.presentation, zoom=zoom,
                              selected_variable=variable, backward_call=call, step=step),
        )

    def set_session(self, session: Session, path: str | None, run: bool = True, dirty: bool = False,
                    trusted: bool = True) -> None:
        """Show a session: its text in the editor (undoable from here), notes, seed and view.

        ``trusted=False``: it came from elsewhere (see ``MainWindow.trusted``).
        """
        self.path = path
        self.seed = session.seed
        self.trusted = trusted
        self._step_after = None
        self._pending_view = session.view
        self.editor.setPlainText(session.program)
        self.editor.clear_error()
        self.editor.set_step_line(None)
        self.message_bar.clear()
        self.notes_title.setText(session.title)
        self.notes_title.setCursorPosition(0)  # a long title shows its beginning, not its end
        self.notes_text.blockSignals(True)
        self.notes_text.setPlainText(session.notes)
        self.notes_text.blockSignals(False)
        if session.notes:
            self.docks["notesDock"].raise_()
        view = session.view
        if view.root_at != self.root_at:
            self.root_at = view.root_at
            a = self.actions["root_bottom"]
            a.blockSignals(True)
            a.setChecked(view.root_at == "bottom")
            a.blockSignals(False)
        self.editor.document().setModified(dirty)
        self._modification_changed(dirty)
        self._autosaved_text = session.program if not dirty else None
        self.result = None
        self._clear_result_views()
        self.session_loaded.emit(path or "")
        if run:
            self.run_all()

    def _clear_result_views(self) -> None:
        self.graph_combo.clear()
        self._graph_key = None
        self._graph = None
        self._graph_call = None
        self.player.clear()
        self.inspector.set_graph(None)
        self.output.clear()
        if self.grads is not None:
            self.grads.set_result(None)
            self.history.set_histories(())
        self.view.clear()
        self.graph_title.setText("Graph")
        self.graph_subtitle.setText("")

    def _mark_dirty(self) -> None:
        self.editor.document().setModified(True)

    def _notes_changed(self) -> None:
        if self.notes_text.hasFocus():
            self._mark_dirty()

    def _modification_changed(self, modified: bool) -> None:
        self.setWindowModified(modified)
        title = self.notes_title.text()
        name = Path(self.path).name if self.path else (title or "Untitled")
        self.setWindowTitle(f"{name}[*] — gradviz")

    def maybe_keep_changes(self) -> bool:
        """Before unsaved changes would be dropped: ask. False means the user cancelled."""
        if not self.dirty:
            return True
        answer = dialogs.ask_unsaved(self, self.display_name())
        if answer == dialogs.CANCEL:
            return False
        if answer == dialogs.SAVE:
            return self.save()
        self.discard_recovery()  # the user chose to drop this text: don't offer it back later
        return True

    def new_session(self) -> None:
        if not self.maybe_keep_changes():
            return
        self.discard_recovery()
        self.set_session(Session(program="import torch\n\n", title=""), path=None, run=False)
        self._engine_hint()

    def open_dialog(self) -> None:
        if not self.maybe_keep_changes():
            return
        start = str(Path(self.path).parent) if self.path else ""
        path = dialogs.open_file(self, start)
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str, ask: bool = True) -> bool:
        """Open a ``.gradviz`` session or a ``.py`` script; a refused file is reported, nothing changes."""
        if ask and not self.maybe_keep_changes():
            return False
        try:
            session = load_path(path)
        except SessionError as exc:
            dialogs.show_error(self, "Cannot open file", f"{Path(path).name}: {exc}")
            self.statusBar().showMessage(f"Could not open {Path(path).name}: {exc}", 8000)
            return False
        self.discard_recovery()
        # A script is not overwritten with JSON: Save asks where the session goes.
        is_session = Path(path).suffix.lower() != ".py"
        self.set_session(session, path=str(Path(path).resolve()) if is_session else None,
                         trusted=is_trusted(path, session.program))
        self._remember_recent(path)
        return True

    def open_example(self, path: str) -> bool:
        """Open a shipped lesson as a new, untitled copy (the shipped file is never overwritten)."""
        if not self.maybe_keep_changes():
            return False
        try:
            session = load_session(path)
        except SessionError as exc:
            dialogs.show_error(self, "Cannot open example", f"{Path(path).name}: {exc}")
            return False
        self.discard_recovery()
        self.set_session(session, path=None)
        self.docks["notesDock"].raise_()
        return True

    def save(self) -> bool:
        if not self.path:
            return self.save_as()
        return self._save_to(self.path)

    def save_as(self) -> bool:
        suggested = self.path or (self._slug(self.notes_title.text()) + ".gradviz")
        path = dialogs.save_file(self, suggested)
        if not path:
            return False
        return self._save_to(path)

    @staticmethod
    def _slug(title: str) -> str:
        words = "".join(ch if ch.isalnum() else " " for ch in title.lower()).split()
        return "-".join(words[:6]) or "untitled"

    def _save_to(self, path: str) -> bool:
        try:
            save_session(self.current_session(), path)
        except SessionError as exc:
            dialogs.show_error(self, "Cannot save", str(exc))
            return False
        self.path = str(Path(path).resolve())
        self.editor.document().setModified(False)
        self._modification_changed(False)
        self._remember_recent(self.path)
        self.discard_recovery()
        self.statusBar().showMessage(f"Saved {Path(path).name}", 4000)
        return True

    def _remember_recent(self, path: str) -> None:
        self.settings.add_recent_file(path)
        self._fill_recent()

    def _fill_recent(self) -> None:
        menu = self.recent_menu
        menu.clear()
        files = self.settings.recent_files()
        for f in files:
            action = menu.addAction(Path(f).name)
            action.setToolTip(f)
            action.setStatusTip(f)
            action.triggered.connect(lambda _c=False, p=f: self.open_path(p))
        if files:
            menu.addSeparator()
            menu.addAction("Clear Recent Files", lambda: (self.settings.clear_recent_files(), self._fill_recent()))
        menu.setEnabled(bool(files))

    def _fill_examples(self) -> None:
        from gradviz.core.resources import example_paths

        self.examples_menu.clear()
        self.lessons_menu.clear()
        try:
            paths = example_paths()
        except FileNotFoundError:
            paths = []
        for p in paths:
            try:
                title = load_session(p).title or p.stem
            except SessionError:
                continue
            for menu in (self.examples_menu, self.lessons_menu):
                action = menu.addAction(title)
                action.setObjectName(f"example:{p.name}")
                action.setStatusTip(f"Open the lesson “{title}”")
                action.triggered.connect(lambda _c=False, path=str(p): self.open_example(path))
        self.examples_menu.setEnabled(bool(paths))

    # -- drag and drop ---------------------------------------------------------------------------

    @staticmethod
    def _dropped_path(event) -> str | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in (".gradviz", ".py"):
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._dropped_path(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = self._dropped_path(event)
        if path:
            event.acceptProposedAction()
            # Open after the drop returns: a dialog inside a drop handler blocks the drag source.
            QTimer.singleShot(0, lambda: self.open_path(path))

    # -- autosave and recovery -------------------------------------------------------------------

    def autosave(self) -> bool:
        """Write the unsaved session to the recovery file (only when there are unsaved changes)."""
        if not self.dirty:
            return False
        text = self.editor.toPlainText()
        if text == self._autosaved_text and self.settings.recovery_path.exists():
            return False
        try:
            self.settings.config_dir.mkdir(parents=True, exist_ok=True)
            save_session(self.current_session(), self.settings.recovery_path)
        except (SessionError, OSError):
            return False
        self.settings._qs.setValue("recovery/path", self.path or "")
        self.settings._qs.setValue("recovery/trusted", "yes" if self.trusted else "no")
        self.settings._qs.setValue("recovery/time", time.strftime("%Y-%m-%d %H:%M"))
        self.settings.sync()
        self._autosaved_text = text
        return True

    def discard_recovery(self) -> None:
        try:
            self.settings.recovery_path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass
        self._autosaved_text = None

    def offer_recovery(self) -> bool:
        """If an autosave survived the last session, offer to restore it. True when restored."""
        path = self.settings.recovery_path
        if not path.exists():
            return False
        try:
            session = load_session(path)
        except SessionError:
            self.discard_recovery()
            return False
        when = str(self.settings._qs.value("recovery/time", "earlier"))
        original = str(self.settings._qs.value("recovery/path", "") or "")
        name = Path(original).name if original else (session.title or "Untitled")
        if not dialogs.ask_recover(self, name, when):
            self.discard_recovery()
            return False
        trusted = str(self.settings._qs.value("recovery/trusted", "no")) == "yes" or is_trusted(None, session.program)
        self.set_session(session, path=original or None, dirty=True, trusted=trusted)
        self.statusBar().showMessage("Recovered the autosaved text", 6000)
        return True

    # =============================================================================================
    # Running

    def _request(self, stop_after: int | None) -> RunRequest:
        program = self.editor.toPlainText()
        # The last backward call is the one shown: if the same program made N calls last time, ask for
        # call N-1 step by step from the start (past the first ones, calls are recorded lightly).
        calls = self._calls_made.get((program, self.seed))
        return RunRequest(program=program, seed=self.seed, stop_after_line=stop_after,
                          detail_calls=(calls - 1,) if calls else ())

    def _submit(self, mode: str, stop_after: int | None) -> int:
        request = self._request(stop_after)
        run_id = self.runner.run(request, trusted=self.trusted)
        self._modes[run_id] = (mode, stop_after)
        self._requests[run_id] = request
        return run_id

    def fetch_call(self, index: int) -> int | None:
        """Record backward call ``index`` step by step (it was recorded lightly): the program runs again,
        up to that call only. None when the program was changed since (run it again instead)."""
        shown = self._shown_request
        if shown is None or shown.program != self.editor.toPlainText():
            self.graph_subtitle.setText("The program changed since this run: run it again to see this call")
            return None
        request = RunRequest(program=shown.program, seed=shown.seed, only_call=index)
        run_id = self.runner.run(request, trusted=self.trusted)
        self._modes[run_id] = ("fetch", index)
        self._requests[run_id] = request
        self.graph_subtitle.setText(f"recording backward call {index + 1} step by step…")
        return run_id

    def _merge_call(self, index: int, fetched: RunResult) -> None:
        """Put a fetched call into the result shown, and show it."""
        call = next((c for c in fetched.backward_calls if c.index == index and c.recorded), None)
        result = self.result
        if call is None or result is None or not 0 <= index < len(result.backward_calls):
            why = fetched.error.message if fetched.error else "the run did not reach it"
            self.graph_subtitle.setText(f"backward call {index + 1} could not be recorded: {why}")
            return
        calls = list(result.backward_calls)
        calls[index] = call
        self.result = replace(result, backward_calls=tuple(calls))
        self._graph_key = None
        self.player.set_calls(self.result.backward_calls, index)
        self.choose_graph(f"call:{index}")

    def run_all(self) -> int:
        """Run the whole program (Ctrl+Enter)."""
        return self._submit("run", None)

    def run_to_cursor(self) -> int:
        """Run up to and including the top-level statement at the cursor."""
        line = self.editor.cursor_line()
        spans = top_level_statements(self.editor.toPlainText())
        if spans:
            # A cursor on a blank line between statements stops after the statement before it.
            before = [s for s in spans if s[0] <= line]
            if not before:
                line = spans[0][0]
        return self._submit("cursor", line)

    def step(self) -> int | None:
        """Run one more top-level statement (the program re-runs from the start up to it)."""
        spans = top_level_statements(self.editor.toPlainText())
        if spans is None:  # a syntax error: the engine reports it with its line
            return self._submit("run", None)
        if not spans:
            return None
        after = self._step_after
        nxt = next((s for s in spans if after is None or s[0] > after), None)
        if nxt is None:  # past the last statement: start again
            nxt = spans[0]
        return self._submit("step", nxt[0])

    def cancel_run(self) -> None:
        self.runner.cancel()
        self.statusBar().showMessage("Stopping the program…", 3000)

    def restart_engine(self) -> None:
        self.runner.kill()
        if not self.runner.is_busy:
            self.runner.start()

    def _run_started(self, run_id: int, request: RunRequest) -> None:
        if run_id != self.runner.latest_id:
            return
        self._run_started_at = time.monotonic()
        self._run_line = None
        mode = self._modes.get(run_id, ("run", None))[0]
        what = {"run": "Running", "cursor": "Running to the cursor", "step": "Stepping",
                "fetch": "Recording the backward call"}[mode]
        self.run_label.setText(f"{what}…")
        self.progress_timer.start()

    def _run_progressed(self, run_id: int, info: dict) -> None:
        if run_id != self.runner.latest_id:
            return
        line = info.get("line")
        done = info.get("statements_done")
        text = "Running"
        if line:
            text += f" line {line}"
        if done:
            text += f" · {done} statements"
        self.run_label.setText(text + "…")

    def _show_progress(self) -> None:
        if self.runner.is_busy:
            self.progress.show()
            self.statusBar().showMessage("Running… press Shift+F5 to stop", 3000)

    def _busy_changed(self, busy: bool) -> None:
        self.actions["cancel"].setEnabled(busy)
        if not busy:
            self.progress_timer.stop()
            self.progress.hide()

    def _engine_state(self, state: str, text: str) -> None:
        self.engine_label.setText(text)
        self.engine_label.setProperty("state", state)
        self.engine_label.style().unpolish(self.engine_label)
        self.engine_label.style().polish(self.engine_label)

    def _engine_ready(self) -> None:
        """Ready, and how the system holds the engine: a warning colour where it is not contained."""
        containment = self.runner.containment
        if containment is not None and not containment.contained:
            self._engine_state("starting", "● Engine ready · not contained")
        else:
            self._engine_state("ready", "● Engine ready")
        if containment is not None:
            self.engine_label.setToolTip(f"The engine runs each program in a fresh process; "
                                         f"{containment.summary()} (Help ▸ About gradviz)")

    def _engine_hint(self) -> None:
        if not self.runner.is_ready:
            self.statusBar().showMessage("The engine is starting (PyTorch loads once); your run starts when it is ready", 5000)

    def _engine_failed(self, message: str) -> None:
        self._engine_state("failed", "● Engine failed")
        self.engine_label.setToolTip(message)
        self.message_bar.show_message("error", "The engine could not start.", message)

    def _engine_crashed(self, why: str) -> None:
        self._engine_state("starting", "● Engine restarting…")
        self.message_bar.show_message(
            "warning", f"The engine stopped while running your program ({why}).",
            "It is starting again; run the program once it is ready. Your text is safe.",
        )

    def _run_finished(self, run_id: int, result: RunResult) -> None:
        mode, stop_after = self._modes.pop(run_id, ("run", None))
        request = self._requests.pop(run_id, None)
        if run_id != self.runner.latest_id or self._closing:
            return  # superseded by a newer run
        self.progress_timer.stop()
        self.progress.hide()
        self.statusBar().clearMessage()
        if result.error is not None and result.error.type == NOT_CONTAINED:
            self._ask_trust(mode, stop_after, result.error.message)
            return
        if mode == "fetch":
            self.run_label.setText(f"Recorded backward call {stop_after + 1} in {result.duration:.2f} s")
            self._merge_call(stop_after, result)
            return
        if request is not None:
            self._shown_request = request
            if mode == "run" and result.error is None:
                self._calls_made[(request.program, request.seed)] = len(result.backward_calls)
        last = result.backward_calls[-1] if result.backward_calls else None
        if last is not None and len(last.graph.nodes) + len(last.steps) > BACKGROUND_LAYOUT_NODES:
            # A big result: its replay and layout are worked out on a worker thread first.
            # The result's objects (hundreds of thousands, no cycles) are frozen first: every
            # young collection would scan them again, 50-70 ms each with all threads held.
            gc.freeze()
            self.run_label.setText(f"Preparing {len(last.graph.nodes)} nodes…")
            self.background.submit(("prepared", run_id, mode, stop_after, result), prepare_result, result,
                                   self.view, self.root_at)
            return
        self.show_result(result, mode, stop_after)

    def _ask_trust(self, mode: str, stop_after: int | None, why: str) -> None:
        """The engine cannot be contained here and the program came from elsewhere: ask, then run or not."""
        self.run_label.setText("Not run")
        if not dialogs.ask_trust(self, self.display_name(), why):
            self.message_bar.show_message(
                "warning", "Not run: this program came from elsewhere.",
                "This system cannot contain the engine (Help ▸ About gradviz says why). Run it again to trust it.")
            return
        self.trusted = True
        try:
            TrustStore().trust(self.editor.toPlainText())
        except OSError:
            pass  # trusted for as long as it is open here
        self._submit(mode, stop_after)

    def show_result(self, result: RunResult, mode: str = "run", stop_after: int | None = None,
                    prepared: Prepared | None = None) -> None:
        """Show a RunResult in every panel (also used by tests with hand-made results)."""
        # Filling the panels of a big result allocates a lot and makes no cycles: no full
        # collection (which would hold the UI thread for 0.1 s and more) in the middle of it.
        with collector_paused():
            self._show_result(result, mode, stop_after, prepared)

    def _show_result(self, result: RunResult, mode: str, stop_after: int | None,
                     prepared: Prepared | None) -> None:
        self.ensure_panels()
        self._prepared = prepared
        error = result.error
        crashed = error is not None and error.type == WORKER_CRASHED
        if crashed:
            # Keep what was shown: the crash is the engine's problem, not the program's.
            self.run_label.setText("The engine stopped; the next run gets a new one")
            self.result_shown.emit(result)
            return
        self.result = result
        # Editor markers.
        if error is not None and error.type != "Cancelled":
            self.editor.set_error(error.line, error.message, error.hint)
            self.message_bar.show_error(error.type, error.message, error.hint, error.line)
        else:
            self.editor.clear_error()
            if error is not None:  # cancelled
                where = f" at line {error.line}" if error.line else ""
                self.message_bar.show_message("info", f"Stopped{where}.", "What ran before is shown.", error.line)
            elif result.notes:  # e.g. a graph too big to record whole
                self.message_bar.show_message("info", "Not all of this run is recorded.", None, None,
                                              body=" ".join(result.notes))
            elif self.message_bar.kind != "warning" or self.runner.is_ready:
                self.message_bar.clear()
        if mode == "step":
            spans = top_level_statements(self.editor.toPlainText()) or []
            stopped = result.stopped_at if result.stopped_at is not None else stop_after
            span = next((s for s in spans if s[0] <= (stopped or 0) <= s[1]), None)
            self._step_after = span[1] if span else stopped
            if error is not None and error.line is not None:
                span = next((s for s in spans if s[0] <= error.line <= s[1]), span)
            ran = {ln for s in spans if span and s[1] < span[0] for ln in range(s[0], s[1] + 1)}
            self.editor.set_step_line(span[0] if span else None, ran)
        elif mode == "cursor":
            self._step_after = result.stopped_at
            spans = top_level_statements(self.editor.toPlainText()) or []
            stopped = result.stopped_at
            span = next((s for s in spans if stopped is not None and s[0] <= stopped <= s[1]), None)
            ran = {ln for s in spans if span and s[1] < span[0] for ln in range(s[0], s[1] + 1)}
            self.editor.set_step_line(span[0] if span else None, ran)
        else:
            self._step_after = None
            self.editor.set_step_line(None)
        # Output.
        out = result.stdout + result.stderr
        if error is not None:
            where = f"line {error.line}: " if error.line else ""
            out += ("" if not out or out.endswith("\n") else "\n") + f"{where}{error.type}: {error.message}\n"
            if error.hint:
                out += f"Hint: {error.hint}\n"
        self.output.setPlainText(out)
        # Graph choices, player, panels.
        view = self._pending_view
        self._pending_view = None
        self._fill_graph_combo(result)
        call = view.backward_call if view else None
        step = view.step if view else None
        # The views follow the frame once the new graph is on the canvas, not before.
        self._frames_muted = True
        try:
            self.player.set_calls(result.backward_calls, call, step, prepared.replays if prepared else None)
        finally:
            self._frames_muted = False
        choice = f"var:{view.selected_variable}" if view and view.selected_variable else None
        if choice is not None and self.graph_combo.findData(choice) >= 0:
            self.graph_combo.setCurrentIndex(self.graph_combo.findData(choice))
        self._announce = None
        if prepared is not None and self.grads is not None:
            # A big result: the canvas first (its items in slices), then the gradients table and
            # the history plot (a thousand rows each), each in an event-loop turn of its own, so
            # that no turn holds the UI thread for long. result_shown (and graph_shown) come
            # when they are filled.
            self._grads_pending = result
        else:
            self._grads_pending = None
            self._show_grads(result)
        self._graph_choice_activated(self.graph_combo.currentIndex())
        self._prepared = None
        calls = len(result.backward_calls)
        took = f"{result.duration:.2f} s" if result.duration else f"{time.monotonic() - self._run_started_at:.2f} s"
        state = "Failed" if error is not None and error.type != "Cancelled" else ("Stopped" if error else "Ran")
        if mode in ("step", "cursor") and result.stopped_at:
            state = f"Stopped after line {result.stopped_at}"
        nodes = len(result.backward_calls[-1].graph.nodes) if calls else len(result.graph.nodes)
        self.run_label.setText(f"{state} in {took} · {nodes} nodes · "
                               f"{calls} backward call{'s' if calls != 1 else ''}")
        self._update_player_actions()
        if self._grads_pending is None:
            self.result_shown.emit(result)
        elif not self.view.building:
            self._start_grads()  # else when the canvas has made its items (_view_built)

    def _show_grads(self, result: RunResult) -> None:
        if self.grads is None:
            return
        self.grads.set_result(result)
        self.history.set_histories(result.grad_history)

    def _start_grads(self) -> None:
        result = self._grads_pending
        if result is None or self._grads_started is result:
            return
        self._grads_started = result
        # A short delay, not 0: the turn that made the canvas's last items may have been long,
        # and input and paint events get their turn before the next piece of work.
        QTimer.singleShot(PANEL_TURN_MS, lambda: self._fill_grads_later(result, 0))

    def _fill_grads_later(self, result: RunResult, stage: int) -> None:
        if result is not self._grads_pending or self._closing:
            return  # a newer result took over
        with collector_paused():
            if stage == 0:
                self.grads.set_result(result)
                self._grads_follow(self.player.frame)
                QTimer.singleShot(PANEL_TURN_MS, lambda: self._fill_grads_later(result, 1))
                return
            self.history.set_histories(result.grad_history)
            call = self.player.call
            self.history.set_current_call(call.index if call else None)
        self._grads_pending = None
        self.result_shown.emit(result)
        graph, self._announce = self._announce, None
        if graph is not None and graph is self._graph:
            self.graph_shown.emit(graph)

    # -- graph choice ------------------------------------------------------------------------------

    def _fill_graph_combo(self, result: RunResult) -> None:
        combo = self.graph_combo
        combo.blockSignals(True)
        combo.clear()
        n = len(result.backward_calls)
        for call in result.backward_calls:
            label = f"backward call {call.index + 1} · line {call.line}" if n > 1 else f"backward at line {call.line}"
            if call.error:
                label += "  (failed)"
            combo.addItem(label, f"call:{call.index}")
        if n:
            combo.insertSeparator(combo.count())
        for v in result.variables:
            if result.graph_holding(v) is not None and (v.grad_fn or v.requires_grad):
                shape = "×".join(str(s) for s in v.shape) or "scalar"
                combo.addItem(f"{v.name}  ({v.grad_fn or 'leaf'}, {shape})", f"var:{v.name}")
        choice = result.default_graph()
        if choice is not None:
            combo.setCurrentIndex(combo.findData(f"{choice[0]}:{choice[1]}"))
        elif combo.count():
            combo.setCurrentIndex(next(i for i in reversed(range(combo.count())) if combo.itemData(i) is not None))
        combo.setEnabled(combo.count() > 0)
        combo.blockSignals(False)

    def graph_choices(self) -> list[tuple[str, object]]:
        """(label, data) of every entry of the graph combo (for tests)."""
        c = self.graph_combo
        return [(c.itemText(i), c.itemData(i)) for i in range(c.count()) if c.itemData(i) is not None]

    def choose_graph(self, data: str) -> None:
        """Show the graph of ``"call:<index>"`` or ``"var:<name>"``."""
        i = self.graph_combo.findData(data)
        if i >= 0:
            self.graph_combo.setCurrentIndex(i)
            self._graph_choice_activated(i)

    def _graph_choice_activated(self, index: int) -> None:
        result = self.result
        if result is None:
            return
        data = self.graph_combo.itemData(index) if index >= 0 else None
        if not isinstance(data, str):
            self._show_graph(("none",), GraphData(), None)
            self.graph_title.setText("No autograd graph")
            self.graph_subtitle.setText("Make a tensor with requires_grad=True and compute with it")
            return
        kind, key = data.split(":", 1)
        if kind == "call":
            key = int(key)
            if self.player.call_index != key:
                self.player.select_call(key)
            call = result.backward_calls[key]
            self._show_graph(("call", id(result), key, self.root_at), call.graph, call)
            self.graph_title.setText(f"Backward call {key + 1}" if len(result.backward_calls) > 1 else "Backward pass")
            self.graph_subtitle.setText(f"line {call.line} · {len(call.graph.nodes)} nodes · {len(call.steps)} steps")
            if not call.recorded:
                self.fetch_call(key)
        else:
            v = result.variable(key)
            graph = (result.graph_of(v) if v else None) or GraphData()
            # Animate over the variable's graph when it is part of the call being replayed.
            call = self.player.call if v and self.player.call and v.graph_call == self.player.call.index else None
            self._show_graph(("var", id(result), key, self.root_at), graph, call)
            self.graph_title.setText(f"Graph of {key}")
            self.graph_subtitle.setText(f"{len(graph.nodes)} nodes")

    def _show_graph(self, key, graph: GraphData, call: BackwardCall | None) -> None:
        if key == self._graph_key:
            return
        self._graph_key = key
        self._graph = graph
        self._graph_call = call
        if self._pinned_node not in graph.by_id:
            self._pinned_node = None
        self.inspector.set_graph(graph, self.player.call)
        self._layout_token += 1
        if self.view.root_at != self.root_at:
            self.view.set_root_at(self.root_at)
        prepared = self._prepared
        if prepared is not None and prepared.graph is graph and prepared.layout is not None:
            self._put_graph(graph, prepared.layout)
            return
        if len(graph.nodes) > BACKGROUND_LAYOUT_NODES:
            self.view.clear()
            self._frame_changed(self.player.frame)
            # Layout is pure Python: on a worker thread the window keeps painting meanwhile
            # (the canvas measures node sizes with fonts of its own there).
            self.run_label.setText(f"Laying out {len(graph.nodes)} nodes…")
            self.background.submit((self._layout_token, key), layout_in_background, self.view, graph, self.root_at)
            return
        self._put_graph(graph, None)

    def _layout_done(self, token, layout, error) -> None:
        if token[0] == "prepared":
            _tag, run_id, mode, stop_after, result = token
            if run_id == self.runner.latest_id and not self._closing:
                # If preparing failed, the result is shown the plain way.
                self.show_result(result, mode, stop_after, layout if error is None else None)
            return
        number, key = token
        if number != self._layout_token or self._closing:
            return
        self._put_graph(self._graph, None if error else layout)

    def _put_graph(self, graph: GraphData, plan) -> None:
        self._shown_pending = None
        if graph.nodes:
            # Big graphs: the overview, frames and fit work at once, items come a slice per
            # event-loop turn so the window never freezes; graph_shown waits for the last one.
            self.view.show_graph(graph, plan=plan, incremental=True)
        else:
            self.view.clear()
        self._frame_changed(self.player.frame)
        if graph.nodes:
            # Again, now that the frame's labels and callouts are drawn; a graph too big to
            # read fitted opens at a readable zoom on its root instead.
            self.view.fit_or_focus()
        if self.view.building:
            self._shown_pending = graph
        else:
            self._graph_complete(graph)

    def _view_built(self) -> None:
        graph, self._shown_pending = self._shown_pending, None
        if graph is not None and graph is self._graph:
            self._graph_complete(graph)
        self._start_grads()

    def _graph_complete(self, graph: GraphData) -> None:
        if len(graph.nodes) > BACKGROUND_LAYOUT_NODES:
            # A big result and its items are a million long-lived objects that make no reference
            # cycles: a full collection would scan them all (0.1-0.2 s, with every thread held)
            # at some later moment, in the middle of an animation. Frozen, collections skip them;
            # they are still freed as usual when nothing refers to them any more.
            gc.freeze()
        if self._grads_pending is not None:
            self._announce = graph  # once the gradients panels are filled too
            self._start_grads()
        else:
            self.graph_shown.emit(graph)

    # -- animation -------------------------------------------------------------------------------

    def toggle_play(self) -> None:
        self.player.toggle()

    def _player_step(self, delta: int) -> None:
        self.player.pause()
        self.player.seek(self.player.step + delta)

    def _playing_changed(self, playing: bool) -> None:
        a = self.actions["play"]
        a.setText("&Pause" if playing else "&Play")
        colors = style.theme_colors(self.theme)
        a.setIcon(icon("pause" if playing else "play", colors["text"], colors["faint"]))

    def _update_player_actions(self) -> None:
        has = bool(self.player.calls)
        for n in ("play", "step_forward", "step_back", "first", "last", "previous_call", "next_call"):
            self.actions[n].setEnabled(has)

    def _call_changed(self, index: int) -> None:
        self._update_player_actions()
        if self.result is None or index < 0:
            return
        data = self.graph_combo.currentData()
        if isinstance(data, str) and data.startswith("call:") and data != f"call:{index}":
            self.choose_graph(f"call:{index}")
        if self.history is not None:
            self.history.set_current_call(index)

    def leaf_names(self, call: BackwardCall | None) -> dict[str, str]:
        """Graph node id → leaf name, for the leaves and parameters a call touches."""
        if call is None:
            return {}
        cached = self._leaf_names_cache.get(id(call))
        if cached is not None and cached[0] is call:
            return cached[1]
        names: dict[str, str] = {}
        self._leaf_names_cache = {id(call): (call, names)}
        for lg in call.leaves:
            names[lg.node_id] = lg.name
        for node in call.graph.nodes:
            if node.kind in (LEAF, PARAM) and node.names and node.id not in names:
                names[node.id] = node.names[0]
        # An AccumulateGrad node stands for its leaf: lighting it changes that leaf's .grad.
        for edge in call.graph.edges:
            src = call.graph.by_id.get(edge.src)
            if src is not None and src.kind == ACCUMULATE and edge.dst in names:
                names.setdefault(edge.src, names[edge.dst])
        return names

    def _frame_changed(self, frame: Frame | None) -> None:
        if self._frames_muted:
            return
        call = self.player.call
        on_call_graph = call is not None and self._graph_call is call
        self.view.show_frame(frame if on_call_graph else None, call if on_call_graph else None)
        # The inspector follows the lit node unless the user picked a node by clicking it; one
        # render per step (its HTML costs milliseconds).
        node = self.inspector.node_id
        if frame is not None and frame.current is not None and on_call_graph and self._pinned_node is None:
            node = frame.current
        self.inspector.set_state(call if self._graph_call is call else None, frame, node)
        if self.grads is not None and self._grads_pending is None:
            self._grads_follow(frame)
            self.history.set_current_call(call.index if call else None)

    def _grads_follow(self, frame: Frame | None) -> None:
        # The leaf whose .grad is being written right now is the one to look at.
        self.grads.set_frame(frame, self.leaf_names(self.player.call), follow=self._pinned_node is None)

    def _node_clicked(self, node_id: str) -> None:
        self._pinned_node = node_id or None
        self.inspector.show_node(node_id)
        self.view.select_node(node_id)
        if self.grads is not None:
            self.grads.select_node(node_id)
            names = self.leaf_names(self._graph_call)
            if node_id in names:
                self.grads.select_leaf(names[node_id])

    # =============================================================================================
    # Export

    def _caption(self):
        """The caption of an export: lesson title, the backward statement, the step shown."""
        from gradviz.ui.export import Caption, step_caption

        call = self._graph_call
        statement = ""
        if call is not None:
            block = self.editor.document().findBlockByNumber(call.line - 1)
            statement = f"line {call.line}: {block.text().strip()}" if block.isValid() else ""
        base = Caption(self.notes_title.text(), statement)
        if call is not None and call is self.player.call:
            return step_caption(call, self.player.step, base)
        return base

    def _suggested_name(self, suffix: str) -> str:
        stem = Path(self.path).stem if self.path else self._slug(self.notes_title.text())
        if self._graph_call is not None and self.player.calls:
            stem += f"-call{self._graph_call.index + 1}-step{self.player.step}"
        folder = Path(self.path).parent if self.path else Path.home()
        return str(folder / (stem + suffix))

    def export_graph(self) -> bool:
        """Ask how and where, then write the graph (or its backward pass) as PNG, SVG, GIF, APNG or frames."""
        from gradviz.ui import export

        if self._graph is None or not self._graph.nodes:
            self.statusBar().showMessage("Nothing to export yet: run a program that builds a graph", 5000)
            return False
        call = self._graph_call if self._graph_call is self.player.call else None
        choice = dialogs.ask_export(self, animation=call is not None, last=self._last_export)
        if choice is None:
            return False
        self._last_export = choice
        if choice.format in dialogs.ANIMATED and call is None:
            return False
        suffix = dialogs.EXPORT_FORMATS[choice.format][2]
        target = dialogs.export_path(self, choice.format, self._suggested_name(suffix) if suffix else
                                     str(Path(self._suggested_name("")).parent))
        if not target:
            return False
        scene = self.view.scene()
        caption = self._caption() if choice.caption else None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if choice.format == "png":
                data = export.png_bytes(scene, choice.scale, choice.transparent, caption)
            elif choice.format == "svg":
                data = export.svg_bytes(scene, caption, choice.transparent)
            elif choice.format == "gif":
                data = export.gif_bytes(scene, call, choice.scale, caption)
            elif choice.format == "apng":
                data = export.apng_bytes(scene, call, choice.scale, choice.transparent, caption)
            else:
                export.write_png_frames(scene, call, target, choice.scale, choice.transparent, caption)
                data = None
            if data is not None:
                Path(target).write_bytes(data)
        except OSError as exc:
            dialogs.show_error(self, "Cannot export", f"{target}: {exc.strerror or exc}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.statusBar().showMessage(f"Exported {Path(target).name}", 5000)
        return True

    def copy_graph_image(self) -> bool:
        """Put the graph, as shown now, on the clipboard (2× for sharp slides)."""
        from gradviz.ui import export

        if self._graph is None or not self._graph.nodes:
            return False
        image = export.render_image(self.view.scene(), 2.0, False, self._caption())
        QApplication.clipboard().setImage(image)
        self.statusBar().showMessage("Copied the graph image to the clipboard", 4000)
        return True

    def save_screenshot(self) -> bool:
        path = dialogs.screenshot_path(self, self._suggested_name("-window.png"))
        if not path:
            return False
        if not self.grab().save(path, "PNG"):
            dialogs.show_error(self, "Cannot save screenshot", path)
            return False
        self.statusBar().showMessage(f"Saved {Path(path).name}", 4000)
        return True

    # =============================================================================================
    # Window state

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        # While the user has not zoomed since the graph was fitted, keep it fitted as the
        # canvas changes size (docks resized, window maximised, presentation mode).
        if watched is self.view and event.type() == QEvent.Type.Resize and self.view.fitted:
            QTimer.singleShot(0, self._refit)
        return super().eventFilter(watched, event)

    def _refit(self) -> None:
        if self._graph is not None and self._graph.nodes and not self._closing and self.view.fitted:
            self.view.fit_all()

    def _restore_layout(self) -> None:
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.window_state()
        if state is not None:
            self.restoreState(state)
        a = self.actions["root_bottom"]
        a.blockSignals(True)
        a.setChecked(self.root_at == "bottom")
        a.blockSignals(False)

    def save_layout(self) -> None:
        self.settings.save_layout(self.saveGeometry(), self.saveState())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.maybe_keep_changes():
            event.ignore()
            return
        self._closing = True
        self.save_layout()
        if not self.dirty:
            self.discard_recovery()
        self.autosave_timer.stop()
        self.player.pause()
        self.runner.close()
        self.background.close()
        event.accept()

    def _about(self) -> None:
        from gradviz import __version__

        containment = self.runner.containment
        if containment is None:
            held, details = "<p>The engine has not started yet; its walls are shown once it has.</p>", ""
        else:
            marks = " · ".join(f"{'✔' if layer.active else '✘'} {escape(layer.name.replace('_', ' '))}"
                               for layer in containment.layers)
            where = ("Every program runs inside these walls." if containment.contained else
                     "A program from elsewhere runs only once you trust it.")
            held = (f"<p><b>Engine:</b> {escape(containment.summary())}.<br>{where}</p>"
                    f"<p style='color:gray'>{marks}</p><p>Details below, or run <tt>gradviz doctor</tt>.</p>")
            details = containment.report()
        dialogs.show_about(
            self, "About gradviz",
            f"<b>gradviz {__version__}</b><p>Make PyTorch autograd visible: run real code, draw the graph, "
            f"animate the backward pass, watch .grad accumulate.</p>{held}",
            details,
        )
