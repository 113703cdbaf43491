"""One live listening session: client PCM in, protocol messages out.  No networking here.

The websocket consumer owns the connection; this object owns one stream's StreamRecogniser
and when progress was last sent, and turns each chunk of audio into the server messages of
the protocol documented in the README.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import conf, output, services
from .engine.audio import pcm16_to_float
from .streaming import StreamRecogniser

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


# Close codes: 1000 normal; 4xxx are jamjar's own, after the HTTP status they resemble.
CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 4413
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


# A control message is a small JSON object: anything longer or deeper is refused unparsed.
MAX_CONTROL_CHARS = 4096
MAX_CONTROL_DEPTH = 4


def parse_control(text: str) -> dict:
    """A control message as a dict; ProtocolError for anything else, checked before parsing
    so that no text (a megabyte, or "[" * 100000) can make the parser work hard or recurse."""
    if len(text) > MAX_CONTROL_CHARS:
        raise ProtocolError("bad-json", f"control messages are at most {MAX_CONTROL_CHARS} characters")
    if nesting_depth(text) > MAX_CONTROL_DEPTH:
        raise ProtocolError("bad-json", f"control messages nest at most {MAX_CONTROL_DEPTH} levels deep")
    try:
        message = json.loads(text)
    except ValueError:
        raise ProtocolError("bad-json", "text messages must be JSON control messages") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("bad-message", 'control messages are JSON objects with a "type"')
    return message


def nesting_depth(text: str) -> int:
    """The deepest nesting of [ and { in JSON text, brackets inside strings not counted."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


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
        raise ProtocolError(
            "unsupported-channels", "only mono (channels: 1) audio is accepted", CLOSE_UNSUPPORTED
        )
    return rate


@dataclass
class Step:
    """What to send after a chunk, and whether the session is over."""

    messages: list[dict]
    done: bool
    result: services.RecognitionResult | None = None


class LiveSession:
    """The protocol side of one live stream, fed raw client PCM; the listening itself is the
    StreamRecogniser's.  Methods are blocking: run them off the event loop."""

    def __init__(self, *, sample_rate_hz: int, service: conf.ServiceSettings) -> None:
        self.service = service
        self.recogniser = StreamRecogniser(sample_rate_hz=sample_rate_hz, service=service)
        self._next_progress_s = service.progress_every_s

    @property
    def seconds(self) -> float:
        return self.recogniser.seconds

    def feed(self, frame: bytes) -> Step:
        if len(frame) > self.service.max_frame_bytes:
            raise ProtocolError(
                "frame-too-large",
                f"audio frames may be at most {self.service.max_frame_bytes} bytes",
                CLOSE_TOO_BIG,
            )
        if len(frame) % 2:
            raise ProtocolError(
                "bad-frame", "audio frames must hold whole 16-bit samples (even length)", CLOSE_BAD_REQUEST
            )
        heard = self.recogniser.push(pcm16_to_float(frame))
        if heard.done:
            return self._final(heard.result)
        if heard.result is not None and self.seconds >= self._next_progress_s:
            self._next_progress_s = self.seconds + self.service.progress_every_s
            result = heard.result
            candidate = output.match_fields(result.matches[0]) if result.matches else None
            return Step(
                [{"type": "progress", "seconds": round(self.seconds, 2), "candidate": candidate}], False
            )
        return Step([], False)

    def stop(self) -> Step:
        return self._final(self.recogniser.finish())

    def _final(self, result: services.RecognitionResult) -> Step:
        # The answer as every door gives it (output.answer), under the protocol's names:
        # "seconds_listened", and "reason" (no_match_reason's name before it had one).
        answer = output.answer(result)
        if result.match is not None:
            message = {"type": "match", **answer, "seconds_listened": round(result.seconds, 2)}
        else:
            message = {
                "type": "no_match",
                **answer,
                "seconds_listened": round(result.seconds, 2),
                "reason": answer["no_match_reason"],
            }
        return Step([message], True, result)
