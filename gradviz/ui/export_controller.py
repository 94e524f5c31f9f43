"""The window's exports: the graph as PNG, SVG, GIF, APNG or frames, the clipboard, a window screenshot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication

from gradviz.ui import dialogs
from gradviz.ui.session_controller import slug

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

if TYPE_CHECKING:
    from gradviz.ui.export import Caption
    from gradviz.ui.main_window import MainWindow


def write_export(window, target: str, produce: Callable[[], bytes | None]) -> bool:
    """Write what ``produce`` makes (None: it wrote its files itself) to ``target`` under a wait
    cursor; a failure is said in a dialog, success in the status bar. The single graph's exports
    and compare mode's share it."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        data = produce()
        if data is not None:
            Path(target).write_bytes(data)
    except OSError as exc:
        dialogs.show_error(window, translate("Exports", "Cannot export"), f"{target}: {exc.strerror or exc}")
        return False
    finally:
        QApplication.restoreOverrideCursor()
    window.statusBar().showMessage(translate("Exports", "Exported {name}").format(name=Path(target).name), 5000)
    return True


class ExportController:
    """Asks how and where, then writes what the canvas shows (with the pure render functions of `export`)."""

    def __init__(self, window: MainWindow):
        self.window = window
        self.state = window.state
        self._last_export: dialogs.ExportChoice | None = None

    def _caption(self) -> Caption:
        """The caption of an export: lesson title, the backward statement, the step shown."""
        from gradviz.ui.export import Caption, step_caption

        w, call = self.window, self.state.graph_call
        statement = ""
        if call is not None:
            block = w.editor.document().findBlockByNumber(call.line - 1)
            statement = f"line {call.line}: {block.text().strip()}" if block.isValid() else ""
        base = Caption(w.notes_title.text(), statement)
        if call is not None and call is w.player.call:
            return step_caption(call, w.player.step, base)
        return base

    def _suggested_name(self, suffix: str, animated: bool = False) -> str:
        """A file name from the lesson, the backward call and (for a still) the step shown."""
        w, path, call = self.window, self.state.path, self.state.graph_call
        stem = Path(path).stem if path else slug(w.notes_title.text())
        if call is not None and w.player.calls:
            # An animation shows every step of the call: naming the step shown now would mislead.
            stem += f"-call{call.index + 1}" + ("" if animated else f"-step{w.player.step}")
        folder = Path(path).parent if path else Path.home()
        return str(folder / (stem + suffix))

    def _has_graph(self) -> bool:
        return self.state.graph is not None and bool(self.state.graph.nodes)

    def export_graph(self) -> bool:
        """Ask how and where, then write the graph (or its backward pass) as PNG, SVG, GIF, APNG or frames."""
        from gradviz.ui import export

        w = self.window
        if w.compare.active:  # compare mode: the pair it shows
            from gradviz.ui.compare_export_action import export_pair

            return export_pair(w, w.compare.view)
        if not self._has_graph():
            w.statusBar().showMessage(translate("Exports", "Nothing to export yet: run a program that builds a graph"),
                                      5000)
            return False
        call = self.state.graph_call if self.state.graph_call is w.player.call else None
        choice = dialogs.ask_export(w, animation=call is not None, last=self._last_export)
        if choice is None:
            return False
        self._last_export = choice
        if choice.format in dialogs.ANIMATED and call is None:
            return False
        suffix = dialogs.EXPORT_FORMATS[choice.format][2]
        animated = choice.format in dialogs.ANIMATED
        target = dialogs.export_path(w, choice.format, self._suggested_name(suffix, animated) if suffix else
                                     str(Path(self._suggested_name("")).parent))
        if not target:
            return False
        fmt, why_not = dialogs.export_format(choice.format, target, call is not None)
        if why_not:
            dialogs.show_error(w, translate("Exports", "Cannot export"), why_not)
            return False
        scene = w.view.scene()
        caption = self._caption() if choice.caption else None

        def produce() -> bytes | None:
            if fmt == "png":
                return export.png_bytes(scene, choice.scale, choice.transparent, caption)
            if fmt == "svg":
                return export.svg_bytes(scene, caption, choice.transparent)
            if fmt == "gif":
                return export.gif_bytes(scene, call, choice.scale, caption)
            if fmt == "apng":
                return export.apng_bytes(scene, call, choice.scale, choice.transparent, caption)
            export.write_png_frames(scene, call, target, choice.scale, choice.transparent, caption)
            return None

        return write_export(w, target, produce)

    def copy_graph_image(self) -> bool:
        """Put the graph, as shown now, on the clipboard (2× for sharp slides)."""
        from gradviz.ui import export

        if self.window.compare.active:  # compare mode: the pair it shows
            from gradviz.ui.compare_export_action import copy_pair

            return copy_pair(self.window, self.window.compare.view)
        if not self._has_graph():
            return False
        image = export.render_image(self.window.view.scene(), 2.0, False, self._caption())
        QApplication.clipboard().setImage(image)
        self.window.statusBar().showMessage(translate("Exports", "Copied the graph image to the clipboard"), 4000)
        return True

    def save_screenshot(self) -> bool:
        """Save a PNG of the whole window."""
        w = self.window
        path = dialogs.screenshot_path(w, self._suggested_name("-window.png"))
        if not path:
            return False
        if not w.grab().save(path, "PNG"):
            dialogs.show_error(w, translate("Exports", "Cannot save screenshot"), path)
            return False
        w.statusBar().showMessage(translate("Sessions", "Saved {name}").format(name=Path(path).name), 4000)
        return True
