"""Every QFileDialog and QMessageBox of the app, as thin functions tests replace with monkeypatch.

The main window calls these through the module (``dialogs.open_file(...)``), never through names
imported from it, so ``monkeypatch.setattr(dialogs, "open_file", ...)`` reaches every caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from gradviz.core.request import LIMIT_RANGES, LIMIT_WORDS, Limits, limits_with

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

#: File-dialog filters (English; each dialog shows them in the window's language).
SESSION_FILTER = QT_TRANSLATE_NOOP("Dialogs", "gradviz sessions (*.gradviz)")
OPEN_FILTER = QT_TRANSLATE_NOOP("Dialogs", "gradviz sessions and Python scripts (*.gradviz *.py);;"
                                "gradviz sessions (*.gradviz);;Python scripts (*.py)")

# Answers of ask_unsaved.
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def open_file(parent: QWidget | None, directory: str = "") -> str | None:
    """Ask for a session or script to open; None when the user cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, translate("Dialogs", "Open session or script"), directory,
                                          translate("Dialogs", OPEN_FILTER))
    return path or None


def save_file(parent: QWidget | None, suggested: str = "") -> str | None:
    """Ask where to save a session; None when the user cancels. Adds ``.gradviz`` if missing."""
    path, _ = QFileDialog.getSaveFileName(parent, translate("Dialogs", "Save session"), suggested,
                                          translate("Dialogs", SESSION_FILTER))
    if not path:
        return None
    return path if path.endswith(".gradviz") else path + ".gradviz"


def ask_unsaved(parent: QWidget | None, name: str) -> str:
    """Ask what to do with unsaved changes: SAVE, DISCARD or CANCEL."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(translate("Dialogs", "Unsaved changes"))
    box.setText(translate("Dialogs", "Save the changes to “{name}”?").format(name=name))
    box.setInformativeText(translate("Dialogs", "Your changes are lost if you don't save them."))
    box.setStandardButtons(
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return SAVE
    if answer == QMessageBox.StandardButton.Discard:
        return DISCARD
    return CANCEL


def ask_recover(parent: QWidget | None, title: str, when: str) -> bool:
    """Offer to restore the text autosaved before gradviz last stopped; True to recover."""
    answer = QMessageBox.question(
        parent,
        translate("Dialogs", "Recover unsaved work"),
        translate("Dialogs", "gradviz stopped before “{title}” was saved (autosaved {when}).\n\n"
                  "Restore that text?").format(title=title, when=when),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_trust(parent: QWidget | None, name: str, why: str) -> bool:
    """Where the system cannot contain the engine: run a program that came from elsewhere? True to trust it."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(translate("Dialogs", "Trust this program?"))
    box.setText(translate("Dialogs", "“{name}” came from outside gradviz, and this system cannot contain the engine "
                                     "that runs it.").format(name=name))
    box.setInformativeText(why + "\n\n" + translate(
        "Dialogs", "Running it gives it the same access to your files, your network and your accounts as any "
        "program you start yourself. Run it only if you trust where it came from; gradviz remembers your answer "
        "for this program."))
    trust = box.addButton(translate("Dialogs", "Trust and Run"), QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is trust


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """Tell the user something failed (a file that can't be opened or saved)."""
    QMessageBox.critical(parent, title, text)


def show_info(parent: QWidget | None, title: str, text: str) -> None:
    """Tell the user something they should know (the engine restarted)."""
    QMessageBox.information(parent, title, text)


def show_about(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    """The About box; ``details`` (plain text) behind its "Show Details…" button."""
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(text)
    if parent is not None and not parent.windowIcon().isNull():
        box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()


# -- export ------------------------------------------------------------------------------------

#: Export formats: key -> (menu text, file filter, suffix). "frames" writes a folder of PNGs.
#: The texts are English; the dialogs show them through translate("Dialogs", ...).
EXPORT_FORMATS = {
    "png": (QT_TRANSLATE_NOOP("Dialogs", "PNG image"), QT_TRANSLATE_NOOP("Dialogs", "PNG images (*.png)"), ".png"),
    "svg": (QT_TRANSLATE_NOOP("Dialogs", "SVG drawing (labels stay text)"),
            QT_TRANSLATE_NOOP("Dialogs", "SVG drawings (*.svg)"), ".svg"),
    "gif": (QT_TRANSLATE_NOOP("Dialogs", "Animated GIF of the backward pass"),
            QT_TRANSLATE_NOOP("Dialogs", "GIF animations (*.gif)"), ".gif"),
    "apng": (QT_TRANSLATE_NOOP("Dialogs", "Animated PNG of the backward pass"),
             QT_TRANSLATE_NOOP("Dialogs", "Animated PNG (*.png *.apng)"), ".png"),
    "frames": (QT_TRANSLATE_NOOP("Dialogs", "Numbered PNG frames of the backward pass"), "", ""),
}
ANIMATED = ("gif", "apng", "frames")


@dataclass(frozen=True)
class ExportChoice:
    """What the export dialog asked for."""

    format: str = "png"
    scale: float = 2.0
    transparent: bool = False
    caption: bool = True


def _accepted(dialog, form, note, buttons) -> bool:
    """Lay out a form dialog (the fields, a note, the buttons) and run it: True when accepted."""
    from PySide6.QtWidgets import QDialog, QVBoxLayout

    column = QVBoxLayout(dialog)
    column.addLayout(form)
    column.addWidget(note)
    column.addWidget(buttons)
    return dialog.exec() == QDialog.DialogCode.Accepted


def ask_export(parent: QWidget | None, animation: bool, last: ExportChoice | None = None,
               frames: bool = True) -> ExportChoice | None:
    """Ask how to export the graph (format, scale, background, caption); None when cancelled.

    ``animation`` is False when no backward call is shown: the animated formats are then off.
    ``frames`` False leaves numbered PNG frames out (compare mode writes one picture or animation).
    """
    from PySide6.QtWidgets import (
        QCheckBox,
        QComboBox,
        QDialog,
        QDialogButtonBox,
        QFormLayout,
        QLabel,
    )

    last = last or ExportChoice()
    dialog = QDialog(parent)
    dialog.setWindowTitle(translate("Dialogs", "Export graph"))
    form = QFormLayout()
    fmt = QComboBox(dialog)
    for key, (text, _f, _s) in EXPORT_FORMATS.items():
        if key == "frames" and not frames:
            continue
        fmt.addItem(translate("Dialogs", text), key)
        if key in ANIMATED and not animation:
            fmt.model().item(fmt.count() - 1).setEnabled(False)
    fmt.setCurrentIndex(max(0, fmt.findData(last.format if (animation or last.format not in ANIMATED) else "png")))
    scale = QComboBox(dialog)
    for s in (1.0, 2.0, 4.0):
        scale.addItem(f"{s:g}×", s)
    scale.setCurrentIndex(max(0, scale.findData(last.scale)))
    background = QComboBox(dialog)
    background.addItem(translate("Dialogs", "Theme colour"), False)
    background.addItem(translate("Dialogs", "Transparent"), True)
    background.setCurrentIndex(1 if last.transparent else 0)
    caption = QCheckBox(translate("Dialogs", "Lesson title, statement and step above the graph"), dialog)
    caption.setChecked(last.caption)
    form.addRow(translate("Dialogs", "Format"), fmt)
    form.addRow(translate("Dialogs", "Scale"), scale)
    form.addRow(translate("Dialogs", "Background"), background)
    form.addRow(translate("Dialogs", "Caption"), caption)
    note = QLabel(translate("Dialogs", "What is exported looks like the canvas now: the same step, lit node and "
                                       "labels."), dialog)
    note.setWordWrap(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(translate("Dialogs", "Export…"))
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)

    def format_changed() -> None:
        background.setEnabled(fmt.currentData() != "gif")  # GIF has no alpha worth the name

    fmt.currentIndexChanged.connect(lambda _i: format_changed())
    format_changed()
    if not _accepted(dialog, form, note, buttons):
        return None
    return ExportChoice(fmt.currentData(), scale.currentData(), bool(background.currentData()), caption.isChecked())


def ask_two_calls(parent: QWidget | None, labels: list[str], first: int, second: int) -> tuple[int, int] | None:
    """Ask which two of a run's backward calls (``labels``, in order) to compare, ``first`` and
    ``second`` chosen to start with; the two positions in ``labels``, or None when cancelled."""
    from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel

    dialog = QDialog(parent)
    dialog.setWindowTitle(translate("Dialogs", "Compare backward calls"))
    form = QFormLayout()
    boxes = []
    for row, chosen in ((translate("Dialogs", "Left"), first), (translate("Dialogs", "Right"), second)):
        box = QComboBox(dialog)
        box.addItems(labels)
        box.setCurrentIndex(chosen)
        form.addRow(row, box)
        boxes.append(box)
    note = QLabel(translate("Dialogs", "Both calls are shown side by side, stepping together; what differs is marked."),
                  dialog)
    note.setWordWrap(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(translate("Dialogs", "Compare"))
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    if not _accepted(dialog, form, note, buttons):
        return None
    return boxes[0].currentIndex(), boxes[1].currentIndex()


def ask_limits(parent: QWidget | None, current: Limits) -> Limits | None:
    """Ask for the run's limits (time, memory, output, result size), each in its allowed range;
    None when cancelled. "Restore Defaults" puts the defaults back in the fields."""
    from PySide6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox

    dialog = QDialog(parent)
    dialog.setWindowTitle(translate("Dialogs", "Limits of a run"))
    form = QFormLayout()
    fields: dict[str, QSpinBox | QDoubleSpinBox] = {}
    units = {"max_seconds": " s", "max_memory_mb": " MB", "max_output_chars": translate("Dialogs", " characters"),
             "max_result_mb": " MB", "max_elements": translate("Dialogs", " elements"),
             "max_steps": translate("Dialogs", " operations")}
    # The fields' names (gradviz.core.request.LIMIT_WORDS, capitalised), in the window's language.
    words = {"max_seconds": translate("Dialogs", "Time limit in seconds"),
             "max_memory_mb": translate("Dialogs", "Memory limit in MB"),
             "max_elements": translate("Dialogs", "Most elements in one tensor"),
             "max_steps": translate("Dialogs", "Most torch operations the program may call"),
             "max_output_chars": translate("Dialogs", "Most characters the program may print"),
             "max_result_mb": translate("Dialogs", "Largest result in MB (past it values are summarised)")}
    for name, (low, high, integer) in LIMIT_RANGES.items():
        box: QSpinBox | QDoubleSpinBox
        if integer:
            box = QSpinBox(dialog)
            box.setRange(int(low), int(high))
            box.setValue(int(getattr(current, name)))
        else:
            box = QDoubleSpinBox(dialog)
            box.setDecimals(1)
            box.setRange(low, high)
            box.setValue(float(getattr(current, name)))
        box.setSuffix(units[name])
        box.setGroupSeparatorShown(True)
        box.setObjectName(name)
        fields[name] = box
        form.addRow(words.get(name) or LIMIT_WORDS[name][0].upper() + LIMIT_WORDS[name][1:], box)
    note = QLabel(translate("Dialogs", "They are saved with the session. A run that reaches one stops with a message "
                                       "that names it."), dialog)
    note.setWordWrap(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                               | QDialogButtonBox.StandardButton.RestoreDefaults, dialog)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    defaults = Limits()

    def restore() -> None:
        for name, box in fields.items():
            box.setValue(getattr(defaults, name))

    buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(restore)
    if not _accepted(dialog, form, note, buttons):
        return None
    return limits_with(Limits(), {name: box.value() for name, box in fields.items()})


def export_path(parent: QWidget | None, fmt: str, suggested: str) -> str | None:
    """Where to write an export (a folder for "frames"); None when cancelled.

    A name typed without an extension gets the format's; one typed with an extension keeps it
    (``export_format`` then picks the format it names, or says why it cannot).
    """
    if fmt == "frames":
        folder = QFileDialog.getExistingDirectory(parent, translate("Dialogs", "Folder for the PNG frames"), suggested)
        return folder or None
    _text, filt, suffix = EXPORT_FORMATS[fmt]
    path, _ = QFileDialog.getSaveFileName(parent, translate("Dialogs", "Export graph"), suggested,
                                          translate("Dialogs", filt))
    if not path:
        return None
    return path if Path(path).suffix else path + suffix


#: The format each file extension names, for the still and the animated export.
_EXTENSION_FORMATS = {".png": ("png", "apng"), ".apng": ("apng", "apng"), ".svg": ("svg", None),
                      ".gif": (None, "gif")}


def export_format(fmt: str, path: str, animation: bool) -> tuple[str, str | None]:
    """The format to write ``path`` in, and why it cannot be written (None when it can).

    The typed extension wins over the format chosen before: "fan-in.gif" is a GIF even when PNG
    was chosen, rather than "fan-in.gif.png". ``animation``: a backward call is shown, so the
    animated formats are possible.
    """
    if fmt == "frames":
        return fmt, None
    extension = Path(path).suffix.lower()
    if extension not in _EXTENSION_FORMATS:
        names = ", ".join(sorted(_EXTENSION_FORMATS))
        return fmt, translate("Dialogs", "“{name}”: gradviz exports {names}. Give the file one of these "
                                        "extensions.").format(name=Path(path).name, names=names)
    still, animated = _EXTENSION_FORMATS[extension]
    if extension == ".png" and fmt == "apng":
        return fmt, None  # an animated PNG is a .png too
    if still is not None and fmt not in ANIMATED:
        return still, None
    if animated is not None and (fmt in ANIMATED or still is None):
        if not animation:
            return fmt, translate("Dialogs", "“{name}” names an animation of the backward pass, and none is shown: "
                                  "step into a backward call first, or save a still as .png or .svg.").format(
                name=Path(path).name)
        return animated, None
    return still or fmt, None


def screenshot_path(parent: QWidget | None, suggested: str) -> str | None:
    """Where to save a screenshot of the window; None when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, translate("Dialogs", "Save window screenshot"), suggested,
                                          translate("Dialogs", "PNG images (*.png)"))
    if not path:
        return None
    return path if path.lower().endswith(".png") else path + ".png"


# -- help --------------------------------------------------------------------------------------

def show_document(parent: QWidget | None, title: str, text: str, fmt: str = "markdown") -> None:
    """A read-only page of help (the shortcuts list, the safety note): ``fmt`` is "markdown" or "html"."""
    from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setObjectName("documentDialog")
    page = QTextBrowser(dialog)
    page.setObjectName("documentText")
    page.setOpenExternalLinks(False)
    if fmt == "html":
        page.setHtml(text)
    else:
        page.setMarkdown(text)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    column = QVBoxLayout(dialog)
    column.addWidget(page, 1)
    column.addWidget(buttons)
    dialog.resize(760 if fmt == "markdown" else 700, 640)
    dialog.exec()
