"""Track lists, stations and plays in the admin.  Recordings are uploaded on the track list page,
which runs the same service as the API."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Play, Station, Tracklist, TracklistSegment
from .output import format_clock


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SegmentInline(ReadOnly, admin.TabularInline):
    model = TracklistSegment
    fields = [
        "position",
        "start_s",
        "end_s",
        "song",
        "song_start_s",
        "song_end_s",
        "speed_ratio",
        "confidence",
    ]
    extra = 0
    can_delete = False


@admin.register(Tracklist)
class TracklistAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "status", "progress_percent", "duration", "created_at", "created_by", "timeline"]
    list_filter = ["status", "created_at"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    inlines = [SegmentInline]
    exclude = ["audio"]

    @admin.display(description="progress", ordering="progress")
    def progress_percent(self, tracklist: Tracklist) -> str:
        return f"{100 * tracklist.progress:.0f} %"

    @admin.display(description="duration", ordering="duration_s")
    def duration(self, tracklist: Tracklist) -> str:
        return format_clock(tracklist.duration_s) if tracklist.duration_s else ""

    @admin.display(description="timeline")
    def timeline(self, tracklist: Tracklist) -> str:
        return format_html('<a href="{}">timeline</a>', reverse("tracklist-page", args=[tracklist.pk]))

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "upload_url": reverse("tracklists")}
        return super().changelist_view(request, extra_context)


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "created_at"]
    search_fields = ["name", "url"]


@admin.register(Play)
class PlayAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["started_at", "ended_at", "station", "song", "song_start_s", "speed_ratio", "confidence"]
    list_filter = ["station", "started_at"]
    search_fields = ["song__title", "song__artist", "station__name"]
    list_select_related = ["station", "song"]
    date_hierarchy = "started_at"
