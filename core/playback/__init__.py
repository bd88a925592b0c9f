"""Playback: the engine (decoder thread + PortAudio callback), its ring buffer and the output devices."""
