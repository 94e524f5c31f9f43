"""File > Export Graph… in compare mode: the pair as shown (PNG, SVG) or both passes stepping together
(GIF, APNG), through the export dialog the single graph uses."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from gradviz.ui import compare_export, dialogs, export
from gradviz.ui.export_controller import write_export

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")


def _sides(view, with_step: bool) -> list[compare_export.Side]:
    """Both panes as export sides, titled (and with the step shown, for a still picture)."""
    sides = []
    for pane in view.panes.values():
        pane.view.finish_build()
        caption = export.Caption(pane.title.text())
        if with_step and pane.call is not None and pane.step is not None:
            caption = export.step_caption(pane.call, pane.step, caption)
        sides.append(compare_export.Side(pane.view.scene(), pane.call, caption))
    return sides


def _ready(window, view) -> bool:
    """Both runs have a backward call to draw; else the status bar says so."""
    if view.pair is None or view.pair.comparison is None:
        window.statusBar().showMessage(
            translate("CompareExport", "Nothing to export yet: both runs need a backward call"), 5000)
        return False
    return True


def copy_pair(window, view) -> bool:
    """Edit > Copy Graph Image in compare mode: the pair as shown, at 2x, on the clipboard."""
    if not _ready(window, view):
        return False
    left, right = _sides(view, with_step=True)
    QApplication.clipboard().setImage(compare_export.render_pair(left, right, view.pair.comparison, 2.0))
    window.statusBar().showMessage(translate("CompareExport", "Copied both graphs to the clipboard"), 4000)
    return True


def export_pair(window, view) -> bool:
    """Ask how and where, then write the pair ``view`` (a CompareView) shows; True when written."""
    if not _ready(window, view):
        return False
    choice = dialogs.ask_export(window, animation=True, frames=False)
    if choice is None:
        return False
    suffix = dialogs.EXPORT_FORMATS[choice.format][2]
    target = dialogs.export_path(window, choice.format, "compare" + suffix)
    if not target:
        return False
    fmt, why_not = dialogs.export_format(choice.format, target, True)
    if why_not:
        dialogs.show_error(window, translate("Exports", "Cannot export"), why_not)
        return False
    left, right = _sides(view, with_step=fmt in ("png", "svg"))
    comparison = view.pair.comparison

    def produce() -> bytes:
        if fmt == "png":
            return compare_export.png_pair(left, right, comparison, choice.scale, choice.transparent)
        if fmt == "svg":
            return compare_export.svg_pair(left, right, comparison, choice.transparent)
        if fmt == "gif":
            return compare_export.gif_pair(left, right, comparison, choice.scale)
        return compare_export.apng_pair(left, right, comparison, choice.scale, choice.transparent)

    return write_export(window, target, produce)
