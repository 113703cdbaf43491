"""Songs and their fingerprints."""

from __future__ import annotations

from django.db import models
from django.urls import reverse


class Song(models.Model):
    """One catalogued track.  Its identity is the SHA-1 of the file's bytes."""

    # A 4-byte id keeps every fingerprint row 4 bytes smaller than a BigAutoField would.
    id = models.AutoField(primary_key=True)
    title = models.CharField(max_length=255, blank=True)
    artist = models.CharField(max_length=255, blank=True)
    album = models.CharField(max_length=255, blank=True)
    duration_s = models.FloatField("duration (s)", default=0.0)
    sha1 = models.CharField("content SHA-1", max_length=40, unique=True)
    original_filename = models.CharField(max_length=512, blank=True)
    source_path = models.CharField(
        max_length=1024, blank=True, help_text="Where the track was read from (bulk ingest)."
    )
    audio = models.FileField(upload_to="tracks/%Y/%m/", blank=True)
    cover = models.FileField(
        upload_to="covers/",
        blank=True,
        help_text="Thumbnail (JPEG) of the picture embedded in the file, if any.",
    )
    fingerprint_count = models.PositiveIntegerField(default=0)
    # The peaks the hashes were made from, packed two bytes a peak (recognition.engine.verify):
    # matching checks its best candidates against them.  Empty for songs catalogued before.
    peaks = models.BinaryField(blank=True, default=b"", editable=False)
    params_version = models.CharField(max_length=32, db_index=True)
    fingerprinted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["artist", "title", "id"]
        indexes = [models.Index(fields=["title"]), models.Index(fields=["artist"])]

    def __str__(self) -> str:
        if self.artist:
            return f"{self.artist} - {self.title}"
        return self.title or self.original_filename or f"song {self.pk}"

    @property
    def cover_url(self) -> str | None:
        """Where the page and API clients fetch the cover; the content hash busts caches."""
        if not self.cover:
            return None
        return f"{reverse('song-cover', args=[self.pk])}?v={self.sha1[:8]}"

    @property
    def fingerprints_per_s(self) -> float:
        return self.fingerprint_count / self.duration_s if self.duration_s else 0.0


class Fingerprint(models.Model):
    """One hash of a song at one anchor frame.

    The primary key (hash, song, offset_frames) is the whole row: on InnoDB it is the
    clustered index, so a lookup by hash reads one index and no second index is stored.
    For the same reason the foreign key has no database constraint (InnoDB would add an
    index on song_id for it); catalog.services deletes a song's rows in one statement.
    """

    pk = models.CompositePrimaryKey("hash", "song", "offset_frames")
    hash = models.IntegerField()
    song = models.ForeignKey(
        Song, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    offset_frames = models.IntegerField(help_text="Anchor frame of the hash (engine hop units).")

    def __str__(self) -> str:
        return f"{self.hash:#x} @ {self.offset_frames} in song {self.song_id}"
