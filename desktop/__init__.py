"""Melograph's desktop app (PySide6 + pyqtgraph).  See desktop/app.py for the composition root."""
from desktop import qtfix as _qtfix

_qtfix.apply()  # before anything emits a Qt signal (see desktop/qtfix.py)
