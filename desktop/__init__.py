"""Melograph desktop UI (PySide6 + pyqtgraph)."""
