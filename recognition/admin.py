"""The recognition log in the admin: read-only, with the song linked and the source shown."""

import os

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from catalog.formats import thousands

from .models import Recognition
from .output import format_offset


@admin.register(Recognition)
class RecognitionAdmin(admin.ModelAdmin):
    list_display = [
        "when",
        "source",
        "song_link",
        "position",
        "votes",
        "score_2",
        "listened",
        "match_time",
        "asked_by",
    ]
    list_filter = ["source", "created_at"]
    search_fields = ["song__title", "song__artist", "file_name", "client_address", "user__username"]
    list_select_related = ["song", "user"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="when", ordering="created_at")
    def when(self, recognition: Recognition) -> str:
        return f"{recognition.created_at:%Y-%m-%d %H:%M:%S}"

    @admin.display(description="song", ordering="song__title")
    def song_link(self, recognition: Recognition) -> str:
        if recognition.song is None:
            return "no match"
        url = reverse("admin:catalog_song_change", args=[recognition.song_id])
        return format_html('<a href="{}">{}</a>', url, recognition.song)

    @admin.display(description="position", ordering="offset_s")
    def position(self, recognition: Recognition) -> str:
        return "" if recognition.offset_s is None else format_offset(recognition.offset_s)

    @admin.display(description="votes", ordering="confidence")
    def votes(self, recognition: Recognition) -> str:
        return thousands(recognition.confidence)

    @admin.display(description="score", ordering="score")
    def score_2(self, recognition: Recognition) -> str:
        return f"{recognition.score:.2f}"

    @admin.display(description="listened", ordering="listened_s")
    def listened(self, recognition: Recognition) -> str:
        return f"{recognition.listened_s:.1f} s"

    @admin.display(description="match time", ordering="match_time_ms")
    def match_time(self, recognition: Recognition) -> str:
        return f"{recognition.match_time_ms:,.1f} ms"

    @admin.display(description="asked by")
    def asked_by(self, recognition: Recognition) -> str:
        """The file, the client's address and the user, whichever are known."""
        parts = (
            [(recognition.file_name, os.path.basename(recognition.file_name))]
            if recognition.file_name
            else []
        )
        parts += [(str(part), str(part)) for part in (recognition.client_address, recognition.user) if part]
        if not parts:
            return recognition.get_source_display().lower()
        # A file's name only; its whole path is the tooltip.
        return format_html_join(", ", '<span title="{}">{}</span>', parts)
