"""The window's session files: new, open, save, recent files, examples, dropped files, autosave and recovery."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QMenu

from gradviz.core.session import Session, SessionError, ViewSettings, load_path, load_session, save_session
from gradviz.core.trust import is_trusted
from gradviz.ui import dialogs

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

if TYPE_CHECKING:
    from gradviz.ui.main_window import MainWindow

#: How often (ms) unsaved changes are written to the recovery file.
AUTOSAVE_MS = 4000
SESSION_SUFFIXES = (".gradviz", ".py")


def dropped_path(event) -> str | None:
    """The first local ``.gradviz`` or ``.py`` file of a drag or drop event, if it carries one."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in SESSION_SUFFIXES:
            return url.toLocalFile()
    return None


class _FileDrops(QObject):
    """Routes drags and drops that carry a local session or script to the SessionController, and
    lets every other drag (text moved in the editor) through to the widget."""

    _KINDS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)

    def __init__(self, sessions: SessionController):
        super().__init__(sessions.window)
        self._sessions = sessions

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() not in self._KINDS or not dropped_path(event):
            return False
        if event.type() == QEvent.Type.Drop:
            self._sessions.dropped(event)
        else:
            event.acceptProposedAction()
        return True


def slug(title: str) -> str:
    """A file name stem from a lesson title: its first six words, lower case, joined by dashes."""
    words = "".join(ch if ch.isalnum() else " " for ch in title.lower()).split()
    return "-".join(words[:6]) or "untitled"


class SessionController:
    """Moves sessions between files and the window; keeps the state's session fields and the title.

    The window title and its modified mark follow the state's ``path`` and ``dirty``.
    """

    def __init__(self, window: MainWindow):
        self.window = window
        self.state = window.state
        self._autosaved_text: str | None = None
        self.autosave_timer = QTimer(window)
        self.autosave_timer.setInterval(AUTOSAVE_MS)

    def connect(self) -> None:
        w = self.window
        doc = w.editor.document()
        doc.modificationChanged.connect(self._modification_changed)
        w.notes_title.textEdited.connect(lambda _t: self.mark_dirty())
        w.notes_text.textChanged.connect(self._notes_changed)
        self.state.subscribe(("path", "dirty"), self.show_title)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        # Scroll areas get drags on their viewport: the editor, the graph, the output, the notes.
        self.catch_file_drops([w.editor.viewport(), w.view.viewport(), w.output.viewport(),
                               w.notes_text.viewport(), w.notes_title])

    # -- the session in the window ---------------------------------------------------------------

    def display_name(self) -> str:
        return self.state.display_name(self.window.notes_title.text())

    def show_title(self) -> None:
        """The window title: the session's name, marked while there are unsaved changes."""
        w = self.window
        w.setWindowModified(self.state.dirty)
        w.setWindowTitle(f"{self.display_name()}[*] — gradviz")

    def current_session(self) -> Session:
        """The session as it is now in the window (text, title, notes, seed, view)."""
        w, state = self.window, self.state
        player = w.player
        call = player.call_index if player.calls else None
        step = player.step if player.calls else None
        zoom = max(0.01, min(100.0, float(w.view.transform().m11())))
        return Session(
            program=w.editor.toPlainText(),
            title=w.notes_title.text(),
            notes=w.notes_text.toPlainText(),
            seed=state.seed,
            limits=state.limits,
            compare=state.compare,
            view=ViewSettings(root_at=state.root_at, theme=state.theme, presentation=state.presentation, zoom=zoom,
                              selected_variable=state.chosen_variable, backward_call=call, step=step),
        )

    def set_session(self, session: Session, path: str | None, run: bool = True, dirty: bool = False,
                    trusted: bool = True) -> None:
        """Show a session: its text in the editor (undoable from here), notes, seed and view.

        ``trusted=False``: it came from elsewhere (see `WindowState`'s ``trusted``).
        """
        w, state = self.window, self.state
        state.update(path=path, seed=session.seed, limits=session.limits, trusted=trusted, step_after=None,
                     pending_view=session.view, compare=session.compare)
        w.editor.setPlainText(session.program)
        w.editor.clear_error()
        w.editor.set_step_line(None)
        w.message_bar.clear()
        w.notes_title.setText(session.title)
        w.notes_title.setCursorPosition(0)  # a long title shows its beginning, not its end
        w.notes_text.blockSignals(True)
        w.notes_text.setPlainText(session.notes)
        w.notes_text.blockSignals(False)
        if session.notes:
            w.docks["notesDock"].raise_()
        state.root_at = session.view.root_at  # the root_bottom action follows; the canvas on its next graph
        w.editor.document().setModified(dirty)
        state.dirty = dirty
        self.show_title()  # the lesson title may be new
        self._autosaved_text = session.program if not dirty else None
        w.results.clear()
        w.session_loaded.emit(path or "")
        if run:
            w.runs.run_all()

    def mark_dirty(self) -> None:
        self.window.editor.document().setModified(True)

    def _notes_changed(self) -> None:
        if self.window.notes_text.hasFocus():
            self.mark_dirty()

    def _modification_changed(self, modified: bool) -> None:
        if not self.state.update(dirty=modified):
            self.show_title()  # the lesson title may have changed meanwhile

    def maybe_keep_changes(self) -> bool:
        """Before unsaved changes would be dropped: ask. False means the user cancelled."""
        if not self.state.dirty:
            return True
        answer = dialogs.ask_unsaved(self.window, self.display_name())
        if answer == dialogs.CANCEL:
            return False
        if answer == dialogs.SAVE:
            return self.save()
        self.discard_recovery()  # the user chose to drop this text: don't offer it back later
        return True

    # -- new, open, save ---------------------------------------------------------------------------

    def new_session(self) -> None:
        if not self.maybe_keep_changes():
            return
        self.discard_recovery()
        self.set_session(Session(program="import torch\n\n", title=""), path=None, run=False)
        self.window.runs.engine_hint()

    def open_dialog(self) -> None:
        if not self.maybe_keep_changes():
            return
        path = self.state.path
        chosen = dialogs.open_file(self.window, str(Path(path).parent) if path else "")
        if chosen:
            self.open_path(chosen, ask=False)

    def open_path(self, path: str, ask: bool = True) -> bool:
        """Open a ``.gradviz`` session or a ``.py`` script; a refused file is reported, nothing changes."""
        if ask and not self.maybe_keep_changes():
            return False
        try:
            session = load_path(path)
        except SessionError as exc:
            dialogs.show_error(self.window, translate("Sessions", "Cannot open file"), f"{Path(path).name}: {exc}")
            self.window.statusBar().showMessage(
                translate("Sessions", "Could not open {name}: {why}").format(name=Path(path).name, why=exc), 8000)
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
            dialogs.show_error(self.window, translate("Sessions", "Cannot open example"), f"{Path(path).name}: {exc}")
            return False
        self.discard_recovery()
        self.set_session(session, path=None)
        self.window.docks["notesDock"].raise_()
        return True

    def save(self) -> bool:
        if not self.state.path:
            return self.save_as()
        return self._save_to(self.state.path)

    def save_as(self) -> bool:
        suggested = self.state.path or (slug(self.window.notes_title.text()) + ".gradviz")
        path = dialogs.save_file(self.window, suggested)
        if not path:
            return False
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        w = self.window
        try:
            save_session(self.current_session(), path)
        except SessionError as exc:
            dialogs.show_error(w, translate("Sessions", "Cannot save"), str(exc))
            return False
        self.state.path = str(Path(path).resolve())
        w.editor.document().setModified(False)
        self.state.dirty = False
        self.show_title()
        self._remember_recent(self.state.path)
        self.discard_recovery()
        w.statusBar().showMessage(translate("Sessions", "Saved {name}").format(name=Path(path).name), 4000)
        return True

    # -- menus: recent files and examples ------------------------------------------------------------

    def _remember_recent(self, path: str) -> None:
        self.window.settings.add_recent_file(path)
        self.fill_recent()

    def fill_recent(self) -> None:
        settings, menu = self.window.settings, self.window.recent_menu
        menu.clear()
        files = settings.recent_files()
        for f in files:
            action = menu.addAction(Path(f).name)
            action.setToolTip(f)
            action.setStatusTip(f)
            action.triggered.connect(lambda _c=False, p=f: self.open_path(p))
        if files:
            menu.addSeparator()
            menu.addAction(translate("Sessions", "Clear Recent Files"), lambda: (settings.clear_recent_files(),
                                                                                 self.fill_recent()))
        menu.setEnabled(bool(files))

    def fill_examples(self) -> None:
        """Fill the Lessons menu and File > Examples: the d2l-zh §2.5 pack in the current language
        (``gradviz.core.i18n.language()``) first, then the classic lessons in a submenu of their own.
        Call again after the language changes."""
        from gradviz.core.i18n import language
        from gradviz.core.resources import example_paths, lesson_pack_paths

        w = self.window
        try:
            pack, classic = self._lessons(lesson_pack_paths(language())), self._lessons(example_paths())
        except FileNotFoundError:
            pack, classic = [], []
        for menu in (w.examples_menu, w.lessons_menu):
            for old in menu.findChildren(QMenu, "classicLessons"):
                old.setObjectName("")  # not found again before it is gone
                old.deleteLater()  # clear() removes the submenu's action, not the submenu
            menu.clear()
            for path, title in pack:
                self._add_lesson(menu, path, title, f"lesson:{path.parent.name}/{path.name}")
            target = menu  # with no pack the classic lessons fill the menu, as they did before it
            if pack and classic:
                menu.addSeparator()
                target = menu.addMenu(translate("Sessions", "&Classic Lessons"))
                target.setObjectName("classicLessons")
            for path, title in classic:
                self._add_lesson(target, path, title, f"example:{path.name}")
        w.examples_menu.setEnabled(bool(pack or classic))

    @staticmethod
    def _lessons(paths: list[Path]) -> list[tuple[Path, str]]:
        """(path, title) of each lesson that loads; a broken file is left out of the menu."""
        lessons = []
        for p in paths:
            try:
                lessons.append((p, load_session(p).title or p.stem))
            except SessionError:
                continue
        return lessons

    def _add_lesson(self, menu, path: Path, title: str, name: str) -> None:
        action = menu.addAction(title)
        action.setObjectName(name)
        action.setStatusTip(translate("Sessions", "Open the lesson “{title}”").format(title=title))
        action.triggered.connect(lambda _c=False, p=str(path): self.open_example(p))

    # -- drag and drop -------------------------------------------------------------------------------

    def catch_file_drops(self, widgets) -> None:
        """A session or script dropped on any of ``widgets`` opens, as on the window itself: the
        editor would paste its ``file://`` URL as text, the graph would ignore it."""
        self._drops = _FileDrops(self)
        for widget in widgets:
            widget.setAcceptDrops(True)
            widget.installEventFilter(self._drops)

    def drag_entered(self, event) -> None:
        if dropped_path(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropped(self, event) -> None:
        path = dropped_path(event)
        if path:
            event.acceptProposedAction()
            # Open after the drop returns: a dialog inside a drop handler blocks the drag source.
            QTimer.singleShot(0, lambda: self.open_path(path))

    # -- autosave and recovery -----------------------------------------------------------------------

    def autosave(self) -> bool:
        """Write the unsaved session to the recovery file (only when there are unsaved changes)."""
        if not self.state.dirty:
            return False
        settings = self.window.settings
        text = self.window.editor.toPlainText()
        if text == self._autosaved_text and settings.recovery_path.exists():
            return False
        try:
            settings.config_dir.mkdir(parents=True, exist_ok=True)
            save_session(self.current_session(), settings.recovery_path)
        except (SessionError, OSError):
            return False
        settings._qs.setValue("recovery/path", self.state.path or "")
        settings._qs.setValue("recovery/trusted", "yes" if self.state.trusted else "no")
        settings._qs.setValue("recovery/time", time.strftime("%Y-%m-%d %H:%M"))
        settings.sync()
        self._autosaved_text = text
        return True

    def discard_recovery(self) -> None:
        try:
            self.window.settings.recovery_path.unlink()
        except OSError:  # FileNotFoundError included: nothing to discard
            pass
        self._autosaved_text = None

    def offer_recovery(self) -> bool:
        """If an autosave survived the last session, offer to restore it. True when restored."""
        settings = self.window.settings
        path = settings.recovery_path
        if not path.exists():
            return False
        try:
            session = load_session(path)
        except SessionError:
            self.discard_recovery()
            return False
        when = str(settings._qs.value("recovery/time", "earlier"))
        original = str(settings._qs.value("recovery/path", "") or "")
        name = Path(original).name if original else (session.title or translate("MainWindow", "Untitled"))
        if not dialogs.ask_recover(self.window, name, when):
            self.discard_recovery()
            return False
        trusted = str(settings._qs.value("recovery/trusted", "no")) == "yes" or is_trusted(None, session.program)
        # Not run at once: the text may be what stopped gradviz last time (a hang, a huge run).
        self.set_session(session, path=original or None, run=False, dirty=True, trusted=trusted)
        self.window.statusBar().showMessage(translate("Sessions",
                                                      "Recovered the autosaved text: Run (Ctrl+Enter) runs it"), 8000)
        return True

    def stop(self) -> None:
        """The window closes: no more autosaves; a session without unsaved changes leaves no recovery file."""
        if not self.state.dirty:
            self.discard_recovery()
        self.autosave_timer.stop()
