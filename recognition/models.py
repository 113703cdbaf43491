"""The log of every answer jamjar gave."""

from django.db import models


class Recognition(models.Model):
    class Source(models.TextChoices):
        FILE = "file", "File"
        MICROPHONE = "microphone", "Server microphone"
        BROWSER = "browser", "Browser"
        API = "api", "API"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    song = models.ForeignKey("catalog.Song", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    offset_s = models.FloatField("offset (s)", null=True, blank=True)
    confidence = models.PositiveIntegerField(default=0, help_text="Aligned votes of the best candidate.")
    score = models.FloatField(default=0.0)
    listened_s = models.FloatField("listened (s)", default=0.0)
    query_hashes = models.PositiveIntegerField(default=0)
    match_time_ms = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.created_at:%Y-%m-%d %H:%M:%S}: {self.song or 'no match'}"
