"""Builds the main window's parts (actions, canvas, docks, toolbar, menus, status bar), its look and its layout.

Functions over the window: each makes widgets and keeps them as the window's attributes
(``window.editor``, ``window.view`` ...), which is where the controllers and the tests find them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gradviz.ui import keyboard, style
from gradviz.ui.canvas.view import GraphView
from gradviz.ui.editor import CodeEditor, MessageBar
from gradviz.ui.elided import ElidedLabel
from gradviz.ui.find import FindBar
from gradviz.ui.icons import icon
from gradviz.ui.inspector import Inspector
from gradviz.ui.language import plain_text
from gradviz.ui.player import Player, PlayerBar

if TYPE_CHECKING:
    from gradviz.ui.main_window import MainWindow

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

PLAYER_BAR_ACTIONS = ("first", "step_back", "play", "step_forward", "last")


def build(w: MainWindow) -> None:
    """Every part of the window, in the order they depend on each other."""
    build_actions(w)
    build_central(w)
    build_docks(w)
    build_toolbar(w)
    build_keyboard(w)
    build_menus(w)
    build_statusbar(w)


# -- actions ------------------------------------------------------------------------------------------

def add_action(w: MainWindow, name: str, text: str, slot, shortcut=None, icon_name: str | None = None,
               tip: str | None = None, checkable: bool = False) -> QAction:
    """An action of the window, kept in ``w.actions[name]``; its tooltip shows its shortcut."""
    action = QAction(text, w)
    action.setObjectName(name)
    if shortcut is not None:
        keys = shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setCheckable(checkable)
    # "&Open…" -> "Open"; a Chinese "打开(&O)…" -> "打开" (the accelerator in brackets goes too)
    label = tip or plain_text(text).rstrip(".…")
    if "(&" in text:  # Qt strips "&" from a toolbar button's text, but not the "(R)" around it
        action.setIconText(plain_text(text).rstrip(".…"))
    if action.shortcut().toString():
        label += f"  ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
    action.setToolTip(label)
    action.setStatusTip(tip or label)
    action.setProperty("icon_name", icon_name)
    if checkable:
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())
    w.addAction(action)
    w.actions[name] = action
    return action


def build_actions(w: MainWindow) -> None:
    w.actions = {}
    sessions, runs, playback, exports = w.sessions, w.runs, w.playback, w.exports

    def a(*args, **kwargs) -> QAction:
        return add_action(w, *args, **kwargs)

    SK = QKeySequence.StandardKey
    a("new", translate("MainWindow", "&New"), sessions.new_session, SK.New, "new",
      translate("MainWindow", "New session"))
    a("open", translate("MainWindow", "&Open…"), sessions.open_dialog, SK.Open, "open",
      translate("MainWindow", "Open a session or a Python script"))
    a("save", translate("MainWindow", "&Save"), sessions.save, SK.Save, "save",
      translate("MainWindow", "Save the session"))
    a("save_as", translate("MainWindow", "Save &As…"), sessions.save_as, SK.SaveAs, None,
      translate("MainWindow", "Save the session under a new name"))
    a("quit", translate("MainWindow", "&Quit"), w.close, SK.Quit)
    a("undo", translate("MainWindow", "&Undo"), lambda: w.editor.undo(), SK.Undo, "undo",
      translate("MainWindow", "Undo"))
    a("redo", translate("MainWindow", "&Redo"), lambda: w.editor.redo(), SK.Redo, "redo",
      translate("MainWindow", "Redo"))
    a("comment", translate("MainWindow", "Toggle Co&mment"), lambda: w.editor.toggle_comment(), "Ctrl+/")
    # Clipboard commands from the menu act on the focused text widget (editor, output, notes). Their
    # keys are shown but left to the focused widget itself (WidgetShortcut on the window never fires):
    # text fields handle them natively, and a table or the canvas keeps its own Ctrl+C / Ctrl+A.
    for name, text, key, method in (("cut", translate("MainWindow", "Cu&t"), SK.Cut, "cut"),
                                    ("copy", translate("MainWindow", "&Copy"), SK.Copy, "copy"),
                                    ("paste", translate("MainWindow", "&Paste"), SK.Paste, "paste"),
                                    ("select_all", translate("MainWindow", "Select &All"), SK.SelectAll, "selectAll")):
        a(name, text, lambda m=method: keyboard.edit_command(w, m), key).setShortcutContext(
            Qt.ShortcutContext.WidgetShortcut)
    a("find", translate("MainWindow", "&Find…"), lambda: w.find_bar.open_bar(), SK.Find, None,
      translate("MainWindow", "Find in the program"))
    a("find_next", translate("MainWindow", "Find &Next"), lambda: w.find_bar.find_again(), ["F3", "Ctrl+G"], None,
      translate("MainWindow", "Next match in the program"))
    a("find_previous", translate("MainWindow", "Find Pre&vious"), lambda: w.find_bar.find_again(backward=True),
      ["Shift+F3", "Ctrl+Shift+G"], None, translate("MainWindow", "Previous match in the program"))
    a("run", translate("MainWindow", "&Run"), runs.run_all, ["Ctrl+Return", "Ctrl+Enter"], "run",
      translate("MainWindow", "Run the whole program"))
    a("run_to_cursor", translate("MainWindow", "Run to &Cursor"), runs.run_to_cursor, ["Ctrl+Shift+Return",
                                                                                       "Ctrl+Shift+Enter"],
      "run-cursor", translate("MainWindow", "Run up to the statement at the cursor"))
    a("step", translate("MainWindow", "S&tep"), runs.step, "F10", "step",
      translate("MainWindow", "Run one more statement, like a debugger"))
    a("cancel", translate("MainWindow", "&Stop"), runs.cancel_run, "Shift+F5", "stop",
      translate("MainWindow", "Stop the running program"))
    a("restart_engine", translate("MainWindow", "Restart &Engine"), runs.restart_engine, "Ctrl+Shift+F5", "restart",
      translate("MainWindow", "Kill the engine process and start a fresh one"))
    a("limits", translate("MainWindow", "&Limits…"), runs.edit_limits, None, None)
    a("play", translate("MainWindow", "&Play"), playback.toggle_play, "F8", "play",
      translate("MainWindow", "Play or pause the backward pass"))
    a("step_forward", translate("MainWindow", "Step &Forward"), lambda: playback.player_step(1), "Alt+Right",
      "step-forward",
      translate("MainWindow", "Next step of the backward pass"))
    a("step_back", translate("MainWindow", "Step &Back"), lambda: playback.player_step(-1), "Alt+Left", "step-back",
      translate("MainWindow", "Previous step of the backward pass"))
    a("first", translate("MainWindow", "To &Start"), lambda: w.shown_player().to_start(), "Alt+Home", "first",
      translate("MainWindow", "Before the first step"))
    a("last", translate("MainWindow", "To &End"), lambda: w.shown_player().to_end(), "Alt+End", "last",
      translate("MainWindow", "After the last step"))
    a("previous_call", translate("MainWindow", "Previous Backward Call"),
      lambda: w.shown_player().previous_call(), "Alt+Up", None)
    a("next_call", translate("MainWindow", "Next Backward Call"),
      lambda: w.shown_player().next_call(), "Alt+Down", None)
    # In compare mode zoom and fit act on both canvases (w.shown_views).
    a("zoom_in", translate("MainWindow", "Zoom &In"), lambda: [v.zoom_in() for v in w.shown_views()],
      SK.ZoomIn, "zoom-in", translate("MainWindow", "Zoom in"))
    a("zoom_out", translate("MainWindow", "Zoom &Out"), lambda: [v.zoom_out() for v in w.shown_views()],
      SK.ZoomOut, "zoom-out", translate("MainWindow", "Zoom out"))
    a("fit", translate("MainWindow", "&Fit Graph"), lambda: [v.fit_all() for v in w.shown_views()],
      "Ctrl+0", "fit", translate("MainWindow", "Fit the whole graph in view"))
    a("reset_zoom", translate("MainWindow", "Actual &Size"), lambda: [v.reset_zoom() for v in w.shown_views()],
      "Ctrl+1", None, translate("MainWindow", "Zoom to 100 %"))
    a("dark", translate("MainWindow", "&Dark Theme"), w.dark_toggled, "Ctrl+Shift+D", "theme",
      translate("MainWindow", "Dark theme"), checkable=True)
    a("presentation", translate("MainWindow", "&Presentation Mode"), w.presentation_toggled, "Ctrl+Shift+P", "present",
      translate("MainWindow", "Large fonts for projectors"), checkable=True)
    a("fullscreen", translate("MainWindow", "&Full Screen"), w.fullscreen_toggled, SK.FullScreen, None,
      translate("MainWindow", "Full screen"), checkable=True)
    a("root_bottom", translate("MainWindow", "Root at the &Bottom"), w.root_toggled, None, None,
      translate("MainWindow", "Draw the loss at the bottom of the graph"), checkable=True)
    a("export", translate("MainWindow", "&Export Graph…"), exports.export_graph, "Ctrl+E", "export",
      translate("MainWindow", "Export the graph: PNG, SVG, or the backward pass as GIF, APNG or PNG frames"))
    a("copy_image", translate("MainWindow", "&Copy Graph Image"), exports.copy_graph_image, "Ctrl+Shift+C", None,
      translate("MainWindow", "Copy the graph as an image to the clipboard"))
    a("screenshot", translate("MainWindow", "Save Window &Screenshot…"), exports.save_screenshot, None, None,
      translate("MainWindow", "Save a PNG of the whole window"))
    a("shortcuts", translate("MainWindow", "&Keyboard Shortcuts"), lambda: keyboard.show_shortcuts(w), "F1", None,
      translate("MainWindow", "Every shortcut of the window and the editor"))
    a("safety", translate("MainWindow", "&What Runs, and How Safely"), lambda: keyboard.show_safety(w), None, None,
      translate("MainWindow", "How the engine is contained: the README's safety note"))
    a("about", translate("MainWindow", "&About gradviz"), runs.show_about)


# -- the canvas in the middle, the docks around it ----------------------------------------------------

def build_central(w: MainWindow) -> None:
    central = QWidget(w)
    central.setObjectName("centralPanel")
    header = QWidget(central)
    header.setObjectName("graphHeader")
    w.graph_title = QLabel(translate("MainWindow", "Graph"), header)
    w.graph_title.setObjectName("graphTitle")
    w.graph_subtitle = ElidedLabel("", header, min_width=20)
    w.graph_subtitle.setObjectName("graphSubtitle")
    w.graph_combo = QComboBox(header)
    w.graph_combo.setObjectName("graphCombo")
    w.graph_combo.setToolTip(translate(
        "MainWindow", "Which graph to draw: a backward call's, or the graph behind any tensor variable"))
    w.graph_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    w.graph_combo.setMinimumContentsLength(18)
    row = QHBoxLayout(header)
    row.setContentsMargins(12, 6, 8, 6)
    row.setSpacing(8)
    row.addWidget(w.graph_title)
    row.addWidget(w.graph_subtitle, 1)
    row.addWidget(QLabel(translate("MainWindow", "Show"), header))
    row.addWidget(w.graph_combo)

    w.view = GraphView(central, theme=w.state.theme, root_at=w.state.root_at)
    w.view.setObjectName("graphView")
    w.view.installEventFilter(w)
    # On big graphs the lit node may be off screen: the canvas scrolls to keep it in view.
    w.view.follow_current = True
    w.player = Player(w)
    w.player.set_speed(w.settings.speed)
    w.player_bar = PlayerBar(w.player, central)
    w.player_bar.set_speed(w.settings.speed)
    layout = QVBoxLayout(central)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(header)
    layout.addWidget(w.view, 1)
    layout.addWidget(w.player_bar)
    w.setCentralWidget(central)


def add_dock(w: MainWindow, name: str, title: str, widget: QWidget, area) -> QDockWidget:
    dock = QDockWidget(title, w)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    w.addDockWidget(area, dock)
    w.docks[name] = dock
    return dock


def build_docks(w: MainWindow) -> None:
    w.docks = {}
    left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    # Program: the editor with its message bar.
    program = QWidget(w)
    w.editor = CodeEditor(program, w.state.theme)
    w.message_bar = MessageBar(program)
    col = QVBoxLayout(program)
    col.setContentsMargins(0, 0, 0, 0)
    col.setSpacing(0)
    col.addWidget(w.editor, 1)
    col.addWidget(w.message_bar)
    add_dock(w, "programDock", translate("MainWindow", "Program"), program, left)
    # Output: what the program printed.
    w.output = QPlainTextEdit(w)
    w.output.setObjectName("outputText")
    w.output.setReadOnly(True)
    w.output.setPlaceholderText(translate("MainWindow", "What the program prints appears here."))
    add_dock(w, "outputDock", translate("MainWindow", "Output"), w.output, left)
    # Lesson notes: title and notes of the session, editable by teachers.
    notes = QWidget(w)
    w.notes_title = QLineEdit(notes)
    w.notes_title.setObjectName("notesTitle")
    w.notes_title.setPlaceholderText(translate("MainWindow", "Lesson title"))
    w.notes_text = QPlainTextEdit(notes)
    w.notes_text.setObjectName("notesText")
    w.notes_text.setPlaceholderText(translate("MainWindow", "Notes for this lesson: what to look at, what to try."))
    ncol = QVBoxLayout(notes)
    ncol.setContentsMargins(6, 6, 6, 6)
    ncol.setSpacing(4)
    ncol.addWidget(w.notes_title)
    ncol.addWidget(w.notes_text, 1)
    add_dock(w, "notesDock", translate("MainWindow", "Lesson"), notes, left)
    w.tabifyDockWidget(w.docks["outputDock"], w.docks["notesDock"])
    w.docks["notesDock"].raise_()
    # Inspector, gradients and history on the right. The pyqtgraph panels are built by
    # build_panels (importing pyqtgraph costs ~0.3 s); placeholders hold their place until then.
    w.inspector = Inspector(w)
    add_dock(w, "inspectorDock", translate("MainWindow", "Inspector"), w.inspector, right)
    w.grads_holder = QWidget(w)
    QVBoxLayout(w.grads_holder).setContentsMargins(0, 0, 0, 0)
    w.history_holder = QWidget(w)
    QVBoxLayout(w.history_holder).setContentsMargins(0, 0, 0, 0)
    add_dock(w, "gradsDock", translate("MainWindow", "Gradients (.grad)"), w.grads_holder, right)
    add_dock(w, "historyDock", translate("MainWindow", ".grad history"), w.history_holder, right)


def build_panels(w: MainWindow) -> None:
    """The pyqtgraph panels (gradients and history) in their placeholders, in the window's look."""
    from gradviz.ui.grads import GradsPanel, HistoryPlot

    w.grads = GradsPanel(w.grads_holder)
    w.grads_holder.layout().addWidget(w.grads)
    w.history = HistoryPlot(w.history_holder)
    w.history_holder.layout().addWidget(w.history)
    scale = look_scale(w)
    w.grads.set_theme(w.state.theme)
    w.grads.set_font_scale(scale)
    w.history.set_theme(w.state.theme)
    w.history.set_font_scale(scale)


def initial_dock_sizes(w: MainWindow) -> None:
    """Default proportions, applied once the window has its size (unless a saved layout exists)."""
    width, height = w.width(), w.height()
    d = w.docks
    w.resizeDocks([d["programDock"], d["inspectorDock"]],
                  [int(width * 0.31), int(width * 0.27)], Qt.Orientation.Horizontal)
    w.resizeDocks([d["programDock"], d["outputDock"]],
                  [int(height * 0.62), int(height * 0.28)], Qt.Orientation.Vertical)
    w.resizeDocks([d["inspectorDock"], d["gradsDock"], d["historyDock"]],
                  [int(height * 0.36), int(height * 0.27), int(height * 0.27)], Qt.Orientation.Vertical)


def keep_dock_shares(w: MainWindow, old_width: int, new_width: int) -> None:
    """The side panels keep their share of the window's width as it is resized: Qt gives all the
    change to the graph, so panels made for 1024 px stayed that narrow at 1440."""
    columns = []
    for area in (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea):
        shown = [d for d in w.docks.values() if w.dockWidgetArea(d) == area and d.isVisible() and not d.isFloating()]
        columns += shown[:1]  # one dock stands for its column: the column takes its width
    if columns:
        ratio = new_width / old_width
        w.resizeDocks(columns, [max(1, round(dock.width() * ratio)) for dock in columns], Qt.Orientation.Horizontal)


# -- toolbar, menus, status bar -----------------------------------------------------------------------

def build_toolbar(w: MainWindow) -> None:
    bar = QToolBar(translate("MainWindow", "Main"), w)
    bar.setObjectName("mainToolBar")
    bar.setMovable(False)
    bar.setIconSize(QSize(18, 18))
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    w.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    w.toolbar = bar

    def add(name: str, text_beside: bool = False):
        bar.addAction(w.actions[name])
        button = bar.widgetForAction(w.actions[name])
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
    w.player_bar.bind_actions([w.actions[n] for n in PLAYER_BAR_ACTIONS])


def build_keyboard(w: MainWindow) -> None:
    """The find bar, above the editor in the Program panel (hidden until Ctrl+F); Tab leaves the notes.

    The lesson notes are prose: Tab moves on from them instead of typing a tab character, so
    focus goes round the window by keyboard (the editor keeps Tab for indenting; see editor.py).
    """
    program = w.editor.parentWidget()
    w.find_bar = FindBar(w.editor, program)
    program.layout().insertWidget(0, w.find_bar)
    w.notes_text.setTabChangesFocus(True)


def build_menus(w: MainWindow) -> None:
    m = w.menuBar()
    actions = w.actions
    file = m.addMenu(translate("MainWindow", "&File"))
    for n in ("new", "open"):
        file.addAction(actions[n])
    w.recent_menu = file.addMenu(translate("MainWindow", "Open &Recent"))
    w.examples_menu = file.addMenu(translate("MainWindow", "&Examples"))
    file.addSeparator()
    for n in ("save", "save_as"):
        file.addAction(actions[n])
    file.addSeparator()
    for n in ("export", "copy_image", "screenshot"):
        file.addAction(actions[n])
    file.addSeparator()
    file.addAction(actions["quit"])
    edit = m.addMenu(translate("MainWindow", "&Edit"))
    for n in ("undo", "redo", None, "cut", "copy", "paste", "select_all", None, "find", "find_next",
              "find_previous", None, "comment"):
        if n is None:
            edit.addSeparator()
        else:
            edit.addAction(actions[n])
    run = m.addMenu(translate("MainWindow", "&Run"))
    for n in ("run", "run_to_cursor", "step", "cancel"):
        run.addAction(actions[n])
    run.addSeparator()
    run.addAction(actions["limits"])
    run.addAction(actions["restart_engine"])
    anim = m.addMenu(translate("MainWindow", "&Backward"))
    for n in ("play", "step_back", "step_forward", "first", "last"):
        anim.addAction(actions[n])
    anim.addSeparator()
    anim.addAction(actions["previous_call"])
    anim.addAction(actions["next_call"])
    view = m.addMenu(translate("MainWindow", "&View"))
    for n in ("zoom_in", "zoom_out", "fit", "reset_zoom"):
        view.addAction(actions[n])
    view.addSeparator()
    for n in ("root_bottom", "dark", "presentation", "fullscreen"):
        view.addAction(actions[n])
    view.addSeparator()
    build_language_menu(w, view.addMenu(translate("MainWindow", "&Language")))
    panels = view.addMenu(translate("MainWindow", "&Panels"))
    for dock in w.docks.values():
        panels.addAction(dock.toggleViewAction())
    w.lessons_menu = m.addMenu(translate("MainWindow", "&Lessons"))
    help_menu = m.addMenu(translate("MainWindow", "&Help"))
    help_menu.addAction(actions["shortcuts"])
    help_menu.addMenu(w.lessons_menu)  # the same menu as the menu bar's, so it lists the same lessons
    help_menu.addAction(actions["safety"])
    help_menu.addSeparator()
    help_menu.addAction(actions["about"])
    w.sessions.fill_examples()
    w.sessions.fill_recent()


def build_language_menu(w: MainWindow, menu) -> None:
    """View ▸ Language: each language gradviz speaks, named in itself (a reader who can't read the
    current language still finds their own); the one shown is checked."""
    from gradviz.core import i18n

    w.language_menu = menu
    group = QActionGroup(menu)
    group.setExclusive(True)
    w.language_actions = {}
    for code, name in i18n.LANGUAGES.items():
        action = menu.addAction(name)
        action.setObjectName(f"language:{code}")
        action.setCheckable(True)
        action.setChecked(code == i18n.language())
        action.setData(code)
        group.addAction(action)
        action.triggered.connect(lambda _checked=False, c=code: w.choose_language(c))
        w.language_actions[code] = action


def build_statusbar(w: MainWindow) -> None:
    bar = w.statusBar()
    w.run_label = QLabel("", w)
    w.run_label.setObjectName("runStatus")
    w.progress = QProgressBar(w)
    w.progress.setRange(0, 0)
    w.progress.setTextVisible(False)
    w.progress.setFixedWidth(140)
    w.progress.hide()
    w.engine_label = QLabel(translate("MainWindow", "● Engine starting…"), w)
    w.engine_label.setObjectName("engineStatus")
    w.engine_label.setProperty("state", "starting")
    w.engine_label.setToolTip(translate("MainWindow",
                                        "The engine runs your program in a process of its own (PyTorch loads there)"))
    bar.addWidget(w.run_label, 1)
    bar.addPermanentWidget(w.progress)
    bar.addPermanentWidget(w.engine_label)


# -- look and layout ----------------------------------------------------------------------------------

def set_checked(action: QAction, checked: bool) -> None:
    """Check or uncheck a toggle without running its slot (the state it shows is already so)."""
    action.blockSignals(True)
    action.setChecked(checked)
    action.blockSignals(False)


def follow_look(w: MainWindow) -> None:
    """The look's toggles follow the state: dark theme, presentation mode, root at the bottom."""
    state, actions = w.state, w.actions
    state.subscribe("theme", lambda: set_checked(actions["dark"], state.theme == "dark"))
    state.subscribe("presentation", lambda: set_checked(actions["presentation"], state.presentation))
    state.subscribe("root_at", lambda: set_checked(actions["root_bottom"], state.root_at == "bottom"))


def apply_look(w: MainWindow) -> None:
    """The state's theme and presentation mode everywhere: QSS, editor, canvas, plots, icons."""
    theme, presentation = w.state.theme, w.state.presentation
    scale = look_scale(w)
    app = QApplication.instance()
    if app is not None:
        style.apply(app, theme, presentation, scale)
    w.editor.set_theme(theme)
    w.editor.set_font_size(10 * scale)
    w.output.setFont(w.editor.font())
    w.inspector.set_theme(theme)
    w.inspector.set_font_scale(scale)
    w.view.set_theme(theme)
    w.view.set_font_scale(scale)
    for panel in (w.grads, w.history):
        if panel is not None:
            panel.set_theme(theme)
            panel.set_font_scale(scale)
    colors = style.theme_colors(theme)
    w.player_bar.timeline.set_colors(track=colors["border_strong"], dot=colors["faint"], current=colors["accent"],
                                     error=colors["error_text"], text=colors["muted"])
    icon_size = QSize(round(18 * scale), round(18 * scale))
    w.toolbar.setIconSize(icon_size)
    for action in w.actions.values():
        name = action.property("icon_name")
        if name:
            color = colors["accent_text"] if action.objectName() == "run" else colors["text"]
            action.setIcon(icon(name, color, colors["faint"]))
    for button in w.player_bar.buttons.values():
        button.setIconSize(icon_size)
    w.playback.playing_changed(w.player.is_playing)
    set_checked(w.actions["dark"], theme == "dark")
    set_checked(w.actions["presentation"], presentation)
    w.setWindowIcon(icon("app", colors["accent"]))


def restore_layout(w: MainWindow) -> None:
    """The geometry and dock layout saved when the window last closed, if any."""
    geometry = w.settings.geometry()
    if geometry is not None:
        w.restoreGeometry(geometry)
    state = w.settings.window_state()
    if state is not None:
        w.restoreState(state)
    fit_to_screen(w)
    set_checked(w.actions["root_bottom"], w.state.root_at == "bottom")


def screen_height(w: MainWindow) -> int | None:
    """The height of the screen the window is on (None before it has one)."""
    screen = w.screen()
    return screen.availableGeometry().height() if screen is not None else None


def look_scale(w: MainWindow) -> float:
    """The font scale of the window's look: 1, or presentation mode's for the screen it is on."""
    return style.presentation_scale(screen_height(w)) if w.state.presentation else 1.0


def fit_to_screen(w: MainWindow) -> None:
    """No bigger than the screen it opens on: on a 1024x640 projector the default 1440x900 (or a
    size saved on a bigger screen) put the right-hand panels and half the graph off the screen."""
    screen = w.screen()
    if screen is None:
        return
    room = screen.availableGeometry()
    if w.width() <= room.width() and w.height() <= room.height():
        return
    w.resize(min(w.width(), room.width()), min(w.height(), room.height()))
    w.move(room.topLeft())


def docks_aside(w: MainWindow) -> None:
    """Presentation mode: hide every dock so the graph gets the screen, remembering the layout to come back to."""
    if w.normal_layout is None:
        w.normal_layout = w.saveState()
    # Shown again, a dock is a tab with the others of its side: the whole height for one panel
    # in big fonts, rather than three panels squeezed until none is readable.
    d = w.docks
    for first, *others in (("programDock", "outputDock", "notesDock"), ("inspectorDock", "gradsDock", "historyDock")):
        for other in others:
            w.tabifyDockWidget(d[first], d[other])
    for dock in d.values():
        dock.hide()


def docks_back(w: MainWindow) -> None:
    """Out of presentation mode: the docks and their sizes as they were before it."""
    layout, w.normal_layout = w.normal_layout, None
    if layout is not None:
        w.restoreState(layout)


def layout_outside_modes(w: MainWindow):
    """The dock layout the window has outside presentation and compare modes (both hide docks):
    what is saved for the next start and what a window rebuilt in another language takes."""
    if w.compare.active and w.compare.saved_docks is not None:
        return w.compare.saved_docks
    return w.normal_layout if w.normal_layout is not None else w.saveState()


def save_layout(w: MainWindow) -> None:
    # Closed in presentation or compare mode, the window opens next time with the docks it had before.
    w.settings.save_layout(w.saveGeometry(), layout_outside_modes(w))
    w.settings.sync()
