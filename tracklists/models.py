"""Track list jobs and their segments; stations and the plays heard on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Tracklist(models.Model):
    """One recording to cut into songs, run as a background job."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=255, help_text="The recording's file name.")
    audio = models.FileField(
        upload_to="tracklists/%Y/%m/", blank=True, help_text="The upload, removed once the job has ended."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0, help_text="Share of the recording analysed, 0..1.")
    duration_s = models.FloatField("duration (s)", null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0) & models.Q(progress__lte=1), name="tracklist_progress_0_1"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display().lower()})"


class TracklistSegment(models.Model):
    """A stretch of a recording: a song, or unknown music (song null)."""

    tracklist = models.ForeignKey(Tracklist, on_delete=models.CASCADE, related_name="segments")
    position = models.PositiveIntegerField()
    start_s = models.FloatField("start (s)")
    end_s = models.FloatField("end (s)")
    song = models.ForeignKey(
        "catalog.Song", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    song_start_s = models.FloatField(null=True, blank=True, help_text="Where in the song the segment starts.")
    song_end_s = models.FloatField(null=True, blank=True)
    speed_ratio = models.FloatField(null=True, blank=True, help_text="1.03: played 3 % fast.")
    confidence = models.PositiveIntegerField(default=0, help_text="Aligned votes of the song's run.")

    class Meta:
        ordering = ["tracklist", "position"]
        constraints = [
            models.UniqueConstraint(fields=["tracklist", "position"], name="tracklist_segment_position"),
            models.CheckConstraint(
                condition=models.Q(end_s__gte=models.F("start_s")), name="segment_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_s:.1f}-{self.end_s:.1f} s: {self.song or 'unknown'}"


class Station(models.Model):
    """A stream that `manage.py monitor` follows."""

    name = models.CharField(max_length=100, unique=True)
    url = models.CharField(max_length=1024, blank=True, help_text="The stream it was last followed at.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Play(models.Model):
    """A song heard on a station, from when to when (ended_at moves on while it plays)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="plays")
    song = models.ForeignKey("catalog.Song", on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField()
    song_start_s = models.FloatField(default=0.0, help_text="Where in the song the play starts.")
    speed_ratio = models.FloatField(default=1.0)
    confidence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["station", "started_at"])]

    def __str__(self) -> str:
        return f"{self.station}: {self.song} at {self.started_at:%Y-%m-%d %H:%M:%S}"
