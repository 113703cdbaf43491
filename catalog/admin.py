"""Catalogue admin: list, search, upload, delete; batches and an overview.

Declarative: its forms are in forms.py, its extra pages in views.py, its batches in
jobs.py, and every write goes through services.py.
"""

from __future__ import annotations

from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html

from . import jobs, selectors, services, views
from .formats import thousands
from .forms import SongChangeForm, SongUploadForm
from .models import Song


@admin.register(Song)
class SongAdmin(admin.ModelAdmin):
    class Media:
        # The cover and player styles: the CSP allows no style attribute.
        css = {"all": ["css/admin.css"]}

    # Short headers and no version column (it is a filter): the list fits 1280 px.
    list_display = ["cover_thumbnail", "title", "artist", "album", "duration", "fingerprints", "added"]
    list_display_links = ["title"]
    search_fields = ["title", "artist", "album", "original_filename", "sha1"]
    list_filter = ["params_version", "fingerprinted_at", "created_at"]
    readonly_fields = [
        "player",
        "cover_image",
        "duration",
        "fingerprints",
        "params_version",
        "fingerprinted_at",
        "sha1",
        "original_filename",
        "source_path",
        "stored_copy",
        "created_at",
        "updated_at",
    ]
    list_per_page = 50
    show_full_result_count = False
    actions = ["refingerprint_selected"]

    @admin.display(description="duration", ordering="duration_s")
    def duration(self, song: Song) -> str:
        minutes, seconds = divmod(int(round(song.duration_s)), 60)
        return f"{minutes}:{seconds:02d}"

    @admin.display(description="added", ordering="created_at")
    def added(self, song: Song) -> str:
        return f"{song.created_at:%Y-%m-%d %H:%M}"

    @admin.display(description="fingerprints", ordering="fingerprint_count")
    def fingerprints(self, song: Song) -> str:
        return thousands(song.fingerprint_count)

    @admin.display(description="")
    def cover_thumbnail(self, song: Song) -> str:
        return format_html(
            '<img src="{}" alt="" width="40" height="40" loading="lazy" class="cover-thumbnail">',
            song.cover_url or static("img/cover-placeholder.svg"),
        )

    @admin.display(description="cover")
    def cover_image(self, song: Song) -> str:
        if not song.cover_url:
            return "none in the file"
        return format_html('<img src="{}" alt="Cover of {}" class="cover-image">', song.cover_url, song)

    @admin.display(description="stored copy")
    def stored_copy(self, song: Song) -> str:
        # The name only: a FileField would link to MEDIA_URL, which is not served (the player is).
        return song.audio.name if song.audio else "none (played from the source path)"

    @admin.display(description="listen")
    def player(self, song: Song) -> str:
        """The track itself, through the staff-only view that answers range requests (seeking)."""
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_audio", args=[song.pk])
        return format_html('<audio controls preload="metadata" src="{}" class="track-player"></audio>', url)

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = SongChangeForm if obj is not None else SongUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["audio", "title", "artist", "album"]
        return ["title", "artist", "album", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # SongUploadForm catalogued the track while it validated: here the admin only
        # learns which song it became.
        obj.pk = form.result.song.pk
        obj.__dict__.update(form.result.song.__dict__)

    def delete_model(self, request, obj):
        services.delete_songs([obj.pk])

    def delete_queryset(self, request, queryset):
        services.delete_songs(list(queryset.values_list("pk", flat=True)))

    def get_deleted_objects(self, objs, request):
        # Fingerprints are counted, never listed: a song has tens of thousands.
        songs = list(objs)
        fingerprints = sum(song.fingerprint_count for song in songs)
        summary = [str(song) for song in songs]
        counts = {"songs": len(songs), "fingerprints": fingerprints}
        perms_needed = set() if self.has_delete_permission(request) else {"song"}
        return summary, counts, perms_needed, []

    def changelist_view(self, request, extra_context=None):
        stats = selectors.catalogue_stats()
        sizes = [size for size in stats["database_bytes"].values() if size is not None]
        extra_context = {
            **(extra_context or {}),
            "catalogue": stats,
            "catalogue_songs": thousands(stats["songs"]),
            "catalogue_fingerprints": thousands(stats["fingerprints"]),
            "catalogue_database_bytes": sum(sizes) if sizes else None,
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        def page(route: str, view, name: str):
            wrapped = self.admin_site.admin_view(view.as_view(model_admin=self))
            return path(route, wrapped, name=f"{self.opts.app_label}_{self.opts.model_name}_{name}")

        return [
            page("upload-many/", views.UploadManyView, "upload_many"),
            page("batches/<str:job_id>/", views.JobView, "job"),
            page("<int:song_id>/audio/", views.SongAudioView, "audio"),
            *super().get_urls(),
        ]

    @admin.action(
        description="Re-fingerprint the selected songs with the current parameters", permissions=["change"]
    )
    def refingerprint_selected(self, request, queryset):
        job = jobs.start_refingerprinting(list(queryset))
        return redirect(views.job_url_name(self), job.id)
