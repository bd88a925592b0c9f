"""One presenter per feature of the window (DESIGN.md): each owns its state and its saved
settings, listens to its views' signals and calls their ``set_*`` methods.

    library.py          the table's rows and filters, scans, failed files, likes, context menu
    playback.py         the player: transport, queue panel, player events, volume
    nowplaying.py       the current track: title, spectrogram, genre chart, playhead timer
    analysis.py         the library analysis service: progress, pause/retry, priorities
    recommendations.py  the ranking for the current profile (debounced), the panel
    profiles.py         switch, create, rename and remove profiles

Presenters never import each other: ``desktop/app.py`` builds them, hands a presenter the few
others it asks things of (constructor arguments) and connects the signals by which they tell
each other what happened.
"""
