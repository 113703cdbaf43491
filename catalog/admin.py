"""Catalogue admin: list, search, upload (fingerprinted on save), delete."""

from __future__ import annotations

import dataclasses

from django import forms
from django.contrib import admin, messages
from django.db.models import Sum

from recognition import conf
from recognition.analysis import analyse_file
from recognition.engine.audio import AudioDecodeError, file_sha1

from . import services
from .models import Song
from .uploads import upload_on_disk


class SongUploadForm(forms.ModelForm):
    """Add a song by uploading a track; the decode happens here so errors land on the form."""

    audio = forms.FileField(help_text="Any format ffmpeg reads: mp3, ogg, opus, flac, wav, m4a...")

    class Meta:
        model = Song
        fields = ["audio", "title", "artist", "album"]
        help_texts = {"title": "Leave empty to take it from the file's tags or name."}

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("audio")
        if not upload:
            return cleaned
        if upload.size == 0:
            raise forms.ValidationError({"audio": "The file is empty."})
        with upload_on_disk(upload) as path:
            sha1 = file_sha1(path)
            existing = Song.objects.filter(sha1=sha1).first()
            if existing is not None:
                raise forms.ValidationError({"audio": f"This track is already in the catalogue as “{existing}” (song {existing.pk})."})
            try:
                self.analysis = analyse_file(path, conf.fingerprint_params(), sha1=sha1)
            except AudioDecodeError as exc:
                raise forms.ValidationError({"audio": f"This is not audio jamjar can read: {exc}"}) from exc
        return cleaned


class SongChangeForm(forms.ModelForm):
    class Meta:
        model = Song
        fields = ["title", "artist", "album"]


@admin.register(Song)
class SongAdmin(admin.ModelAdmin):
    list_display = ["title", "artist", "album", "duration", "fingerprint_count", "params_version", "created_at"]
    list_display_links = ["title"]
    search_fields = ["title", "artist", "album", "original_filename", "sha1"]
    list_filter = ["params_version", "fingerprinted_at", "created_at"]
    readonly_fields = [
        "duration",
        "fingerprint_count",
        "params_version",
        "fingerprinted_at",
        "sha1",
        "original_filename",
        "source_path",
        "audio",
        "created_at",
        "updated_at",
    ]
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="duration", ordering="duration_s")
    def duration(self, song: Song) -> str:
        minutes, seconds = divmod(int(round(song.duration_s)), 60)
        return f"{minutes}:{seconds:02d}"

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
        upload = form.cleaned_data["audio"]
        with upload_on_disk(upload) as path:
            # The analysis was made in clean() from a temporary copy; store this copy.
            analysis = dataclasses.replace(form.analysis, path=path)
            result = services.store_analysis(
                analysis,
                title=form.cleaned_data.get("title") or None,
                artist=form.cleaned_data.get("artist") or None,
                album=form.cleaned_data.get("album") or None,
                keep_file=True,
                original_filename=upload.name,
            )
        obj.pk = result.song.pk
        obj.__dict__.update(result.song.__dict__)
        if not result.created:
            messages.warning(request, f"This track was catalogued meanwhile as “{result.song}”.")

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
        totals = Song.objects.aggregate(fingerprints=Sum("fingerprint_count"), seconds=Sum("duration_s"))
        extra_context = {
            **(extra_context or {}),
            "catalogue_fingerprints": totals["fingerprints"] or 0,
            "catalogue_hours": (totals["seconds"] or 0) / 3600,
        }
        return super().changelist_view(request, extra_context)

