"""The log of every answer jamjar gave."""

from django.conf import settings
from django.db import models


class Recognition(models.Model):
    class Source(models.TextChoices):
        FILE = "file", "File"
        MICROPHONE = "microphone", "Server microphone"
        BROWSER = "browser", "Browser"
        API = "api", "API"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    song = models.ForeignKey(
        "catalog.Song", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offset_s = models.FloatField("offset (s)", null=True, blank=True)
    confidence = models.PositiveIntegerField(default=0, help_text="Aligned votes of the best candidate.")
    score = models.FloatField(default=0.0)
    listened_s = models.FloatField("listened (s)", default=0.0)
    query_hashes = models.PositiveIntegerField(default=0)
    match_time_ms = models.FloatField(default=0.0)
    # Where the question came from.
    file_name = models.CharField(
        max_length=255, blank=True, help_text="The file or upload recognised, if any."
    )
    client_address = models.CharField(
        max_length=64, blank=True, help_text="The client's address (API and browser), as the server saw it."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The signed-in user who asked, if any.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.created_at:%Y-%m-%d %H:%M:%S}: {self.song or 'no match'}"
