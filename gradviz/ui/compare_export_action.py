"""File > Export Graph… in compare mode: the pair as shown (PNG, SVG) or both passes stepping together
(GIF, APNG), through the export dialog the single graph uses."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication

from gradviz.ui import compare_export, dialogs, export

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


def copy_pair(window, view) -> bool:
    """Edit > Copy Graph Image in compare mode: the pair as shown, at 2x, on the clipboard."""
    pair = view.pair
    if pair is None or pair.comparison is None:
        window.statusBar().showMessage(
            translate("CompareExport", "Nothing to export yet: both runs need a backward call"), 5000)
        return False
    left, right = _sides(view, with_step=True)
    QApplication.clipboard().setImage(compare_export.render_pair(left, right, pair.comparison, 2.0))
    window.statusBar().showMessage(translate("CompareExport", "Copied both graphs to the clipboard"), 4000)
    return True


def export_pair(window, view) -> bool:
    """Ask how and where, then write the pair ``view`` (a CompareView) shows; True when written."""
    pair = view.pair
    if pair is None or pair.comparison is None:
        window.statusBar().showMessage(
            translate("CompareExport", "Nothing to export yet: both runs need a backward call"), 5000)
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
        dialogs.show_error(window, translate("CompareExport", "Cannot export"), why_not)
        return False
    left, right = _sides(view, with_step=fmt in ("png", "svg"))
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        if fmt == "png":
            data = compare_export.png_pair(left, right, pair.comparison, choice.scale, choice.transparent)
        elif fmt == "svg":
            data = compare_export.svg_pair(left, right, pair.comparison, choice.transparent)
        elif fmt == "gif":
            data = compare_export.gif_pair(left, right, pair.comparison, choice.scale)
        else:
            data = compare_export.apng_pair(left, right, pair.comparison, choice.scale, choice.transparent)
        Path(target).write_bytes(data)
    except OSError as exc:
        dialogs.show_error(window, translate("CompareExport", "Cannot export"), f"{target}: {exc.strerror or exc}")
        return False
    finally:
        QApplication.restoreOverrideCursor()
    window.statusBar().showMessage(translate("CompareExport", "Exported {name}").format(name=Path(target).name), 5000)
    return True
