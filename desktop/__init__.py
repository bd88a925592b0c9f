"""Melograph's desktop app (PySide6 + pyqtgraph).

    app.py          the composition root: builds the window and the presenters, opens the catalog
                    and the player, and connects the presenters to each other
    presenters/     one presenter per feature (library, playback, now playing, analysis,
                    recommendations, profiles): each owns its state and its saved settings
    mainwindow.py, panels.py, transport.py, spectrogram.py, genrechart.py, librarymodel.py
                    the views: widgets that show what they are given and emit what the user asks
    specworker.py   the now-playing spectrogram's helper process
    covers.py, trackinfo.py   cover thumbnails (cached in the data directory), the track-info dialog
    tasks.py        background jobs and batched callbacks onto the GUI thread
    settings.py, resources.py, theme.py, fmt.py, qtfix.py   small shared helpers

The presenters live in their own package rather than beside the views so that the list of
features reads at a glance, apart from the widgets they drive.
"""
from desktop import qtfix as _qtfix

_qtfix.apply()  # before anything emits a Qt signal (see desktop/qtfix.py)
