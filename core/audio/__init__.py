"""Reading audio files, one module per job (callers import the module they use):

- :mod:`~core.audio.files`: opening a file at all: regular files only (never a FIFO or a
  device), the one check every reader below goes through;
- :mod:`~core.audio.sniff`: what a file is, from its first bytes (one set of format names);
- :mod:`~core.audio.tags`: its tags and stream information (mutagen), checked by
  :mod:`~core.audio.integrity` for a file cut short;
- :mod:`~core.audio.decode`: its samples (probe, read, streams), over the back ends in
  :mod:`~core.audio.backends` (libsndfile, PyAV) and :mod:`~core.audio.mpg123` (MP3 at the
  analysis rate);
- :mod:`~core.audio.fingerprint`: its identity.
"""
