"""Following a live stream: each song recorded as a Play as soon as it is recognised, reconnecting
with back-off when the stream drops."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from recognition.engine.audio import AudioDecodeError

from . import conf, services
from .models import Play, Station
from .timeline import Run, TimelineAnalyser

# Recording-time anchors kept for turning run times into wall-clock times: far more than any
# run can reach back (history_s + join_gap_s), a few hundred bytes.
KEEP_ANCHORS = 64


@dataclass
class MonitorStats:
    seconds: float = 0.0
    plays: int = 0
    reconnects: int = 0


class _Clock:
    """Recording seconds -> wall-clock time: the audio of one connection arrives as it is played."""

    def __init__(self) -> None:
        self._anchors: list[tuple[float, datetime]] = []

    def anchor(self, recording_s: float, wall: datetime) -> None:
        self._anchors = [*self._anchors[-KEEP_ANCHORS + 1 :], (recording_s, wall)]

    def at(self, recording_s: float) -> datetime:
        before = [a for a in self._anchors if a[0] <= recording_s] or self._anchors[:1]
        anchor_s, wall = before[-1]
        return wall + timedelta(seconds=recording_s - anchor_s)


class _Recorder:
    """Writes a Play when a run is confirmed, moves its end while the song goes on."""

    def __init__(self, station: Station, clock: _Clock, stats: MonitorStats) -> None:
        self.station, self.clock, self.stats = station, clock, stats
        self._plays: dict[int, Play] = {}  # run id -> its Play, for the runs still open

    def update(self, analyser: TimelineAnalyser) -> None:
        for run in [*analyser.open_runs, *analyser.closed_runs]:
            if run.confirmed:
                self._record(run)
        for run in analyser.closed_runs:
            self._plays.pop(run.id, None)
        analyser.closed_runs.clear()  # recorded: a monitor that runs for months keeps nothing

    def _record(self, run: Run) -> None:
        started, ended = self.clock.at(run.start_s), self.clock.at(run.end_s)
        play = self._plays.get(run.id)
        if play is None:
            self._plays[run.id] = Play.objects.create(
                station=self.station,
                song_id=run.song_id,
                started_at=started,
                ended_at=ended,
                song_start_s=round(run.song_time_at(run.start_s), 3),
                speed_ratio=round(run.ratio(), 3),
                confidence=run.votes,
            )
            self.stats.plays += 1
        elif play.ended_at != ended or play.confidence != run.votes:
            play.ended_at, play.confidence, play.speed_ratio = ended, run.votes, round(run.ratio(), 3)
            play.save(update_fields=["ended_at", "confidence", "speed_ratio"])


def follow(
    url: str,
    *,
    station: str,
    seconds: float | None = None,
    stop: threading.Event | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> MonitorStats:
    """Follow url until stop is set, `seconds` of audio have been heard, or Ctrl-C, recording
    each play on the station (created if new).  A stream that ends or fails is reconnected
    after reconnect_first_s, doubling up to reconnect_max_s while attempts bring no audio."""
    settings = conf.monitor_settings()
    stop = stop or threading.Event()
    station_row, _ = Station.objects.update_or_create(name=station, defaults={"url": url})
    analyser = services.new_analyser(live=True)
    stats, clock = MonitorStats(), _Clock()
    recorder = _Recorder(station_row, clock, stats)
    wait_s = settings.reconnect_first_s
    rate_hz = analyser.params.sample_rate_hz
    try:
        while not stop.is_set():
            left_s = None if seconds is None else seconds - analyser.seconds
            if left_s is not None and left_s <= 0:
                break
            clock.anchor(analyser.seconds, timezone.now())
            heard = 0
            try:
                for chunk in services.audio_chunks(url, sample_rate_hz=rate_hz, seconds=left_s):
                    analyser.push(chunk)
                    heard += len(chunk)
                    recorder.update(analyser)
                    if stop.is_set():
                        break
                reason = "the stream ended"
            except AudioDecodeError as exc:
                reason = str(exc)
            stats.seconds = analyser.seconds
            if heard:
                wait_s = settings.reconnect_first_s
            if stop.is_set() or (seconds is not None and analyser.seconds >= seconds - 1 / rate_hz):
                break
            say(f"{station}: {reason}; reconnecting in {wait_s:g} s")
            stats.reconnects += 1
            if stop.wait(wait_s):
                break
            wait_s = min(wait_s * 2, settings.reconnect_max_s)
    except KeyboardInterrupt:
        say(f"{station}: stopped")
    analyser.finish()
    recorder.update(analyser)
    stats.seconds = analyser.seconds
    return stats
