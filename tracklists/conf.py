"""Track list settings: JAMJAR_TRACKLIST merged over TimelineSettings' defaults and the monitor's.

Read when needed, so tests can override them; an unknown key is an error (checks.py says so at start-up).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.conf import settings

from .timeline import TimelineSettings


@dataclass(frozen=True)
class MonitorSettings:
    #: the first wait before reconnecting to a stream that dropped, seconds; doubled after each
    #: failed attempt up to reconnect_max_s, and back to the first once audio flows again
    reconnect_first_s: float = 1.0
    reconnect_max_s: float = 60.0
    #: a stream that sends nothing for this long is taken as dropped, seconds
    read_timeout_s: float = 15.0


TIMELINE_KEYS = frozenset(f.name for f in dataclasses.fields(TimelineSettings))
MONITOR_KEYS = frozenset(f.name for f in dataclasses.fields(MonitorSettings))


def _overrides() -> dict:
    overrides = dict(getattr(settings, "JAMJAR_TRACKLIST", {}) or {})
    unknown = set(overrides) - TIMELINE_KEYS - MONITOR_KEYS
    if unknown:
        raise ValueError(f"unknown JAMJAR_TRACKLIST key(s): {', '.join(sorted(unknown))}")
    return overrides


def timeline_settings() -> TimelineSettings:
    return TimelineSettings(**{k: v for k, v in _overrides().items() if k in TIMELINE_KEYS})


def monitor_settings() -> MonitorSettings:
    return MonitorSettings(**{k: v for k, v in _overrides().items() if k in MONITOR_KEYS})
