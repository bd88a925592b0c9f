"""Reading audio files: what a file is (sniff), its tags, its samples (decode), its identity (fingerprint)."""
