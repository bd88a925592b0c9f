"""Melograph's domain layer: catalog, scanning, audio, features, analysis, player, recommender.

Pure Python: nothing in this package may import Qt or pyqtgraph (tests/test_layers.py checks).
"""

__version__ = "0.1.0"
