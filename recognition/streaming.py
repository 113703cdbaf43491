"""The streaming recogniser: audio at the source's rate in, an answer once the stop rule says so.

The websocket (live.LiveSession) and the server microphone (microphone.listen) are doors
over this one object: it owns the resampler to the engine rate, the matcher, and the rule
for when a stream is over (a confirmed answer after min_listen_s, or max_s of audio).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import conf, services
from .engine.params import FingerprintParams
from .engine.resample import StreamResampler


@dataclass(frozen=True)
class Heard:
    """The answer so far after one push, and whether the stream is over (then it is final)."""

    #: None while the chunk being gathered is not yet matched (nothing new to say)
    result: services.RecognitionResult | None
    done: bool


class StreamRecogniser:
    """One stream of mono float32 audio at sample_rate_hz, recognised as it arrives.

    push() takes blocks of any length, matches them live_chunk_s at a time, and says when
    the stream is over: the answer was confirmed and at least min_listen_s was heard
    (unless stop_on_match is off), or max_s seconds of audio have arrived (what comes
    beyond them is not listened to).  finish() ends it early, or gives the final answer
    again once it is over.
    """

    def __init__(
        self,
        *,
        sample_rate_hz: int,
        max_s: float | None = None,
        stop_on_match: bool = True,
        service: conf.ServiceSettings | None = None,
        params: FingerprintParams | None = None,
    ) -> None:
        self.session = services.ListeningSession(service=service, params=params, live=True)
        self.service = self.session.service
        self.stop_on_match = stop_on_match
        self.max_s = self.service.max_listen_s if max_s is None else max_s
        self._max_samples = int(round(self.max_s * sample_rate_hz))
        self._chunk_samples = max(1, int(round(self.service.live_chunk_s * sample_rate_hz)))
        self._received = 0
        self._pending: list[np.ndarray] = []  # blocks of the chunk being gathered
        self._pending_samples = 0
        self._resampler = StreamResampler(sample_rate_hz, self.session.params.sample_rate_hz)
        self._answer: services.RecognitionResult | None = None

    @property
    def seconds(self) -> float:
        """Audio heard so far at the engine rate, seconds (behind what was pushed by the
        resampler's look-ahead until the stream ends)."""
        return self.session.seconds

    @property
    def done(self) -> bool:
        return self._answer is not None

    def push(self, samples: np.ndarray) -> Heard:
        """Add samples [shape=(n,)]; the answer so far (None until a chunk is matched), final when done."""
        if self._answer is not None:
            return Heard(self._answer, True)
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)[: self._max_samples - self._received]
        self._received += len(samples)
        self._pending.append(samples)
        self._pending_samples += len(samples)
        at_max = self._received >= self._max_samples
        if self._pending_samples < self._chunk_samples and not at_max:
            return Heard(None, False)
        result = self.session.push(self._resampler.push(self._take_pending()))
        if self.stop_on_match and result.confirmed and self.session.seconds >= self.service.min_listen_s:
            self._answer = result
            return Heard(result, True)
        if at_max:
            return Heard(self.finish(), True)
        return Heard(result, False)

    def finish(self) -> services.RecognitionResult:
        """End of the stream: what is still gathered or in the resampler is heard, then the final answer."""
        if self._answer is None:
            pending = self._take_pending()
            self.session.push(np.concatenate([self._resampler.push(pending), self._resampler.flush()]))
            self._answer = self.session.finish()
        return self._answer

    def _take_pending(self) -> np.ndarray:
        chunk = np.concatenate(self._pending) if self._pending else np.zeros(0, dtype=np.float32)
        self._pending, self._pending_samples = [], 0
        return chunk
