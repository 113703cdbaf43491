"""Recognition from the server's microphone, through sounddevice, streamed into the matcher."""

from __future__ import annotations

import queue
from collections.abc import Callable

from . import services
from .streaming import StreamRecogniser


class MicrophoneError(RuntimeError):
    """No PortAudio, no input device, or the device refused to open: one line for the user."""


def _sounddevice():
    try:
        import sounddevice
    except OSError as exc:  # raised at import when libportaudio is missing
        raise MicrophoneError(
            f"no PortAudio library ({exc}); install it, e.g. `apt-get install libportaudio2`"
        ) from exc
    return sounddevice


NO_INPUT_DEVICE = (
    "no audio input device found. On a desktop, plug in a microphone or check that the sound "
    "server runs; on a server without a sound card, PortAudio reaches microphones through ALSA, "
    "so install and start PulseAudio (`apt-get install pulseaudio libasound2-plugins`, then "
    "`pulseaudio --start`) or give ALSA a capture device. `listen --list-devices` shows what it finds."
)


def _parse_device(device: str | int | None):
    if isinstance(device, str) and device.strip().isdigit():
        return int(device)
    return device


def input_devices() -> list[dict]:
    """Input-capable devices: index, name, channels and default rate."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except Exception as exc:
        raise MicrophoneError(f"cannot list audio devices: {exc}") from exc
    return [
        {
            "index": i,
            "name": d["name"],
            "channels": d["max_input_channels"],
            "sample_rate_hz": d["default_samplerate"],
        }
        for i, d in enumerate(devices)
        if d["max_input_channels"] > 0
    ]


def listen(
    *,
    seconds: float,
    device: str | int | None = None,
    stop_on_match: bool = True,
    on_progress: Callable[[services.RecognitionResult], None] | None = None,
) -> services.RecognitionResult:
    """Record up to `seconds` at the device's own rate and recognise it as it arrives (the
    stream recogniser the websocket uses, with `seconds` as its maximum)."""
    sd = _sounddevice()
    device = _parse_device(device)
    if not input_devices():
        raise MicrophoneError(NO_INPUT_DEVICE)
    try:
        info = sd.query_devices(device, "input")
    except Exception as exc:
        raise MicrophoneError(
            f"no usable input device{f' {device!r}' if device is not None else ''}: {exc}"
        ) from exc
    rate_hz = int(info["default_samplerate"])
    recogniser = StreamRecogniser(sample_rate_hz=rate_hz, max_s=seconds, stop_on_match=stop_on_match)
    blocks: queue.Queue = queue.Queue()

    def callback(indata, frames, time_info, status):
        blocks.put(indata.copy())  # nothing else in the audio thread

    try:
        stream = sd.InputStream(
            device=device,
            channels=1,
            samplerate=rate_hz,
            dtype="float32",
            blocksize=int(rate_hz * 0.25),
            callback=callback,
        )
    except Exception as exc:
        raise MicrophoneError(f"cannot open input device {info['name']!r}: {exc}") from exc
    with stream:
        while not recogniser.done:
            try:
                block = blocks.get(timeout=5.0)
            except queue.Empty as exc:
                raise MicrophoneError(f"input device {info['name']!r} delivered no audio for 5 s") from exc
            heard = recogniser.push(block[:, 0])
            if on_progress and heard.result is not None:
                on_progress(heard.result)
    return recogniser.finish()
