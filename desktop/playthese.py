"""The question "Play these" asks when the queue is not empty: replace the queue, or add to it."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget

REPLACE, APPEND = "replace", "append"


def ask_replace_or_append(parent: QWidget, queued: int, adding: int) -> tuple[str | None, bool]:
    """Ask whether ``adding`` tracks replace the ``queued`` ones or go after them.  Returns
    ``(REPLACE | APPEND | None for cancel, whether to remember the answer)``."""
    box = QMessageBox(parent)
    box.setObjectName("playTheseQuestion")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Play these")
    s = "s" if queued != 1 else ""
    box.setText(f"The queue holds {queued:,} track{s}. Play the {adding:,} chosen "
                f"track{'s' if adding != 1 else ''} instead, or after them?")
    replace = box.addButton("Replace the queue", QMessageBox.ButtonRole.AcceptRole)
    replace.setObjectName("playTheseReplace")
    append = box.addButton("Add to the queue", QMessageBox.ButtonRole.ActionRole)
    append.setObjectName("playTheseAppend")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(replace)
    box.setEscapeButton(cancel)
    remember = QCheckBox("Don't ask again")
    remember.setObjectName("playTheseRemember")
    box.setCheckBox(remember)
    box.exec()
    clicked = box.clickedButton()
    choice = REPLACE if clicked is replace else APPEND if clicked is append else None
    return choice, bool(choice and remember.isChecked())
