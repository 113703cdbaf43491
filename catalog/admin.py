"""Catalogue admin: list, search, upload (fingerprinted on save), delete; batches and an overview."""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html

from recognition import conf
from recognition.analysis import TrackTooLong, analyse_file
from recognition.engine.audio import AudioDecodeError, file_sha1

from . import jobs, selectors, services, views
from .models import Song
from .uploads import decode_error_for, upload_on_disk


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
                raise forms.ValidationError(
                    {"audio": f"This track is already in the catalogue as “{existing}” (song {existing.pk})."}
                )
            try:
                self.analysis = analyse_file(
                    path,
                    conf.fingerprint_params(),
                    sha1=sha1,
                    max_duration_s=conf.service_settings().api_max_track_s,
                )
            except AudioDecodeError as exc:
                raise forms.ValidationError({"audio": f"This is not audio jamjar can read: {exc}"}) from exc
            except TrackTooLong as exc:
                raise forms.ValidationError(
                    {"audio": str(exc).replace(os.path.basename(path), upload.name)}
                ) from exc
        return cleaned


class SongChangeForm(forms.ModelForm):
    class Meta:
        model = Song
        fields = ["title", "artist", "album"]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class ManyFilesField(forms.Field):
    """Several files from one input; each is checked later, on its own, so one bad file fails alone."""

    widget = MultipleFileInput

    def clean(self, value):
        files = [upload for upload in (value or []) if upload]
        if not files:
            raise forms.ValidationError("Choose at least one file.", code="required")
        return files


class ManyTracksForm(forms.Form):
    files = ManyFilesField(
        label="Tracks",
        help_text="Any format ffmpeg reads; select several at once. Up to 100 files per batch.",
    )


@dataclass(frozen=True)
class UploadedTrack:
    """One file of an admin batch, copied out of the request (which ends before the batch does)."""

    name: str
    path: str | None
    problem: str | None = None


def spool_uploads(files: list, *, folder: str, max_bytes: int) -> list[UploadedTrack]:
    """Copy each upload into folder under a name with no extension: the content decides what is audio."""
    tracks = []
    for index, upload in enumerate(files):
        if upload.size == 0:
            tracks.append(UploadedTrack(upload.name, None, "the file is empty"))
            continue
        if upload.size > max_bytes:
            limit = filesizeformat(max_bytes)
            tracks.append(
                UploadedTrack(upload.name, None, f"{filesizeformat(upload.size)}, over the limit of {limit}")
            )
            continue
        path = os.path.join(folder, f"track-{index:04d}")
        with open(path, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        tracks.append(UploadedTrack(upload.name, path))
    return tracks


@jobs.batch_work
def ingest_uploaded(track: UploadedTrack) -> str:
    if track.problem:
        raise jobs.ItemFailed(track.problem)
    try:
        result = services.ingest_file(
            track.path,
            keep_file=True,
            original_filename=track.name,
            max_duration_s=conf.service_settings().api_max_track_s,
        )
    except AudioDecodeError as exc:
        reason = decode_error_for(exc, path=track.path, name=track.name)
        raise jobs.ItemFailed(f"not audio jamjar can read: {reason}") from exc
    except TrackTooLong as exc:
        raise jobs.ItemFailed(f"longer than the limit of {exc.max_duration_s:g} s of audio") from exc
    finally:
        os.unlink(track.path)
    song = result.song
    if not result.created:
        return f"already in the catalogue as “{song}” (song {song.pk})"
    return f"catalogued as “{song}” (song {song.pk}, {song.fingerprint_count} fingerprints)"


@jobs.batch_work
def refingerprint(song: Song) -> str:
    try:
        services.refingerprint_song(song)
    except services.SourceMissing as exc:
        raise jobs.ItemFailed(str(exc)) from exc
    except AudioDecodeError as exc:
        raise jobs.ItemFailed(f"not audio jamjar can read any more: {exc}") from exc
    return f"{song.fingerprint_count} fingerprints ({song.params_version})"


def thousands(number: int | None) -> str:
    """12345 -> "12,345": counts of fingerprints and hashes run to millions."""
    return "" if number is None else f"{number:,}"


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
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "upload-many/",
                self.admin_site.admin_view(self.upload_many_view),
                name="{}_{}_upload_many".format(*info),
            ),
            path(
                "batches/<str:job_id>/",
                self.admin_site.admin_view(self.job_view),
                name="{}_{}_job".format(*info),
            ),
            path(
                "<int:song_id>/audio/",
                self.admin_site.admin_view(self.audio_view),
                name="{}_{}_audio".format(*info),
            ),
            *super().get_urls(),
        ]

    @admin.action(
        description="Re-fingerprint the selected songs with the current parameters", permissions=["change"]
    )
    def refingerprint_selected(self, request, queryset):
        songs = list(queryset)
        job = jobs.start(
            title=f"Re-fingerprinting {len(songs)} song(s) with {conf.fingerprint_params().version}",
            items=songs,
            label=str,
            work=refingerprint,
        )
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_job", job.id)

    def upload_many_view(self, request):
        """Several tracks at once: the files are copied out of the request, then fingerprinted in the background."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ManyTracksForm(request.POST, request.FILES) if request.method == "POST" else ManyTracksForm()
        if form.is_bound and form.is_valid():
            folder = jobs.spool_folder("jamjar-admin-upload-")
            try:
                tracks = spool_uploads(
                    form.cleaned_data["files"],
                    folder=folder,
                    max_bytes=conf.service_settings().api_max_track_bytes,
                )
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            job = jobs.start(
                title=f"Upload of {len(tracks)} file(s)",
                items=tracks,
                label=lambda track: track.name,
                work=ingest_uploaded,
                cleanup_folder=folder,
            )
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_job", job.id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Upload several tracks",
            "form": form,
            "max_track_bytes": conf.service_settings().api_max_track_bytes,
        }
        return TemplateResponse(request, "admin/catalog/song/upload_many.html", context)

    def audio_view(self, request, song_id: int):
        """The track's audio, for staff who may see songs (admin_view already requires staff)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return views.song_audio(request, get_object_or_404(Song, pk=song_id))

    def job_view(self, request, job_id: str):
        """A batch's progress; the page refreshes itself until the batch is done."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        job = jobs.get(job_id)
        if job is None:
            raise Http404("This server process knows no such batch (it may have been restarted).")
        finished = job.finished  # read once: the outcomes below are complete when it is True
        outcomes = list(job.outcomes)
        failed = [outcome for outcome in outcomes if not outcome.ok]
        if finished and not job.reported:
            job.reported = True
            summary = f"{job.title}: {len(outcomes) - len(failed)} done, {len(failed)} failed."
            (messages.warning if failed else messages.success)(request, summary)
            for outcome in failed:
                messages.error(request, f"{outcome.label}: {outcome.message}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": job.title,
            "job": job,
            "finished": finished,
            "outcomes": outcomes,
            "done": len(outcomes),
            "failed": len(failed),
            "refresh_s": 2,
        }
        return TemplateResponse(request, "admin/catalog/song/job.html", context)
