"""Every QFileDialog and QMessageBox of the app, as thin functions tests replace with monkeypatch.

The main window calls these through the module (``dialogs.open_file(...)``), never through names
imported from it, so ``monkeypatch.setattr(dialogs, "open_file", ...)`` reaches every caller.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

#: File-dialog filters.
SESSION_FILTER = "gradviz sessions (*.gradviz)"
OPEN_FILTER = "gradviz sessions and Python scripts (*.gradviz *.py);;gradviz sessions (*.gradviz);;Python scripts (*.py)"

# Answers of ask_unsaved.
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def open_file(parent: QWidget | None, directory: str = "") -> str | None:
    """Ask for a session or script to open; None when the user cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open session or script", directory, OPEN_FILTER)
    return path or None


def save_file(parent: QWidget | None, suggested: str = "") -> str | None:
    """Ask where to save a session; None when the user cancels. Adds ``.gradviz`` if missing."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save session", suggested, SESSION_FILTER)
    if not path:
        return None
    return path if path.endswith(".gradviz") else path + ".gradviz"


def ask_unsaved(parent: QWidget | None, name: str) -> str:
    """Ask what to do with unsaved changes: SAVE, DISCARD or CANCEL."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to “{name}”?")
    box.setInformativeText("Your changes are lost if you don't save them.")
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
        "Recover unsaved work",
        f"gradviz stopped before “{title}” was saved (autosaved {when}).\n\nRestore that text?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """Tell the user something failed (a file that can't be opened or saved)."""
    QMessageBox.critical(parent, title, text)


def show_info(parent: QWidget | None, title: str, text: str) -> None:
    """Tell the user something they should know (the engine restarted)."""
    QMessageBox.information(parent, title, text)


def show_about(parent: QWidget | None, title: str, text: str) -> None:
    """The About box."""
    QMessageBox.about(parent, title, text)
