"""Reads of the track list tables."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from .models import Play


def plays(*, station: str | None = None, since: datetime | None = None) -> QuerySet[Play]:
    """Plays newest first, of one station (by name) and from a time on, if given (naive times are in TIME_ZONE)."""
    rows = Play.objects.select_related("station", "song").order_by("-started_at", "-id")
    if station is not None:
        rows = rows.filter(station__name=station)
    if since is not None:
        if timezone.is_naive(since):
            since = timezone.make_aware(since, timezone.get_default_timezone())
        rows = rows.filter(started_at__gte=since)
    return rows
