"""One live listening session: client PCM in, protocol messages out.  No networking here.

The websocket consumer owns the connection; this object owns the state of one stream
(resampler, ListeningSession, when progress was last sent) and turns each chunk of audio
into the server messages of the protocol documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import conf, services
from .engine.audio import pcm16_to_float
from .engine.resample import StreamResampler

ENCODING = "pcm_s16le"


class ProtocolError(Exception):
    """A client mistake: code is the protocol's short error name, close_code the websocket's."""

    def __init__(self, code: str, message: str, close_code: int = 4400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code

    def as_message(self) -> dict:
        return {"type": "error", "code": self.code, "message": self.message}


# Close codes: 1000 normal; 1009 frame too big (RFC 6455); 4xxx are jamjar's own.
CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TIMEOUT = 4408
CLOSE_CONFLICT = 4409
CLOSE_UNSUPPORTED = 4415
CLOSE_TOO_MANY = 4429
CLOSE_CATALOGUE = 4500
# RFC 6455 "try again later": the database or the cache is down for now.
CLOSE_UNAVAILABLE = 1013


def parse_start(message: dict, service: conf.ServiceSettings) -> int:
    """Validate a start message; return the announced sample rate."""
    rate = message.get("sample_rate")
    if not isinstance(rate, int) or isinstance(rate, bool):
        raise ProtocolError("bad-start", "start needs an integer sample_rate in Hz", CLOSE_BAD_REQUEST)
    if not service.min_sample_rate_hz <= rate <= service.max_sample_rate_hz:
        raise ProtocolError(
            "unsupported-sample-rate",
            f"sample_rate {rate} Hz is outside {service.min_sample_rate_hz}..{service.max_sample_rate_hz}",
            CLOSE_UNSUPPORTED,
        )
    if message.get("encoding", ENCODING) != ENCODING:
        raise ProtocolError("unsupported-encoding", f"only {ENCODING} audio is accepted", CLOSE_UNSUPPORTED)
    if message.get("channels", 1) != 1:
        raise ProtocolError("unsupported-channels", "only mono (channels: 1) audio is accepted", CLOSE_UNSUPPORTED)
    return rate


@dataclass
class Step:
    """What to send after a chunk, and whether the session is over."""

    messages: list[dict]
    done: bool
    result: services.RecognitionResult | None = None


class LiveSession:
    """The state of one live stream, fed raw client PCM.  Methods are blocking: run them off the event loop."""

    def __init__(self, *, sample_rate_hz: int, service: conf.ServiceSettings) -> None:
        self.service = service
        self.matcher = services.ListeningSession(service=service)
        self.resampler = StreamResampler(sample_rate_hz, self.matcher.params.sample_rate_hz)
        self._next_progress_s = service.progress_every_s

    @property
    def seconds(self) -> float:
        return self.matcher.seconds

    def feed(self, frame: bytes) -> Step:
        if len(frame) > self.service.max_frame_bytes:
            raise ProtocolError(
                "frame-too-large", f"audio frames may be at most {self.service.max_frame_bytes} bytes", CLOSE_TOO_BIG
            )
        if len(frame) % 2:
            raise ProtocolError("bad-frame", "audio frames must hold whole 16-bit samples (even length)", CLOSE_BAD_REQUEST)
        result = self.matcher.push(self.resampler.push(pcm16_to_float(frame)))
        if result.confirmed and self.seconds >= self.service.min_listen_s:
            return self._final(result)
        if self.seconds >= self.service.max_listen_s:
            return self._final(self.matcher.finish())
        if self.seconds >= self._next_progress_s:
            self._next_progress_s = self.seconds + self.service.progress_every_s
            candidate = result.matches[0].as_dict() if result.matches else None
            return Step([{"type": "progress", "seconds": round(self.seconds, 2), "candidate": candidate}], False)
        return Step([], False)

    def stop(self) -> Step:
        self.matcher.push(self.resampler.flush())
        return self._final(self.matcher.finish())

    def _final(self, result: services.RecognitionResult) -> Step:
        seconds = round(result.seconds, 2)
        if result.match is not None:
            message = {"type": "match", "match": result.match.as_dict(), "seconds_listened": seconds}
        else:
            message = {"type": "no_match", "seconds_listened": seconds, "reason": result.reason}
        return Step([message], True, result)
