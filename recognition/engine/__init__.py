"""The fingerprint engine: pure numpy/scipy, no Django.

Stages: audio (decode, resample) -> spectrogram -> peaks -> hashes (streamed through
stream.StreamingFingerprinter) -> matching (vote on aligned offsets) -> verify (check the best
candidates peak by peak against the song's own peaks).
"""
