"""The catalogue's pages: cover thumbnails (public) and, inside the admin, a song's audio
(staff), the upload of many tracks and a batch's progress.

The admin pages are mounted by SongAdmin.get_urls (SongAdminView.as_view(model_admin=...)),
so they keep the admin's URLs, permissions and look.
"""

from __future__ import annotations

import mimetypes
import os
import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views import View
from django.views.decorators.http import require_safe

from recognition import conf

from . import jobs, services
from .forms import ManyTracksForm
from .models import Song

# Covers are named after the content hash in their URL, so a browser may keep them a while.
COVER_MAX_AGE_S = 7 * 24 * 3600
RANGE_CHUNK_BYTES = 64 * 1024
_BYTE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@require_safe
def song_cover(request, song_id: int):
    """A song's cover thumbnail, readable by whoever may read the catalogue (JAMJAR["api_open"])."""
    if not conf.service_settings().api_open and not request.user.is_authenticated:
        raise PermissionDenied
    song = get_object_or_404(Song.objects.only("pk", "cover"), pk=song_id)
    if not song.cover:
        raise Http404("This song has no cover.")
    try:
        handle = song.cover.open("rb")
    except FileNotFoundError:
        raise Http404("The cover file is gone.") from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = f"max-age={COVER_MAX_AGE_S}"
    return response


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single "bytes=" range, clipped to the file; None if unsatisfiable.

    Raises ValueError for a header that is not one byte range (the whole file is then sent,
    as RFC 9110 allows a server to ignore such a Range).
    """
    match = _BYTE_RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise ValueError(header)
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        return (max(size - length, 0), size - 1) if length and size else None
    start = int(first)
    if start >= size:
        return None
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        raise ValueError(header)
    return start, end


def _file_part(path: str, start: int, length: int):
    with open(path, "rb") as handle:
        handle.seek(start)
        while length > 0:
            block = handle.read(min(RANGE_CHUNK_BYTES, length))
            if not block:
                return
            length -= len(block)
            yield block


def ranged_file_response(request, path: str, *, content_type: str) -> HttpResponse:
    """The file, or the byte range the request asks for (206), as browsers need to seek in media."""
    size = os.path.getsize(path)
    header = request.headers.get("Range")
    wanted = (0, size - 1)
    status = 200
    if header:
        try:
            wanted = parse_range(header, size)
            status = 206
        except ValueError:
            wanted = (0, size - 1)
        if wanted is None:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
    start, end = wanted
    length = max(end - start + 1, 0)
    response = StreamingHttpResponse(
        _file_part(path, start, length), status=status, content_type=content_type
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Cache-Control"] = "private, no-store"
    return response


def song_audio(request, song: Song) -> HttpResponse:
    """A catalogued track's audio: its stored copy, or the file it was ingested from."""
    try:
        path = services.song_source_path(song)
    except services.SourceMissing as exc:
        raise Http404(str(exc)) from None
    name = song.original_filename or os.path.basename(path)
    content_type = (
        mimetypes.guess_type(name)[0] or mimetypes.guess_type(path)[0] or "application/octet-stream"
    )
    return ranged_file_response(request, path, content_type=content_type)


class SongAdminView(View):
    """A page of SongAdmin's: model_admin is the SongAdmin that mounted it."""

    model_admin = None

    def page(self, request, template: str, **context) -> TemplateResponse:
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": self.model_admin.opts,
            **context,
        }
        return TemplateResponse(request, f"admin/catalog/song/{template}", context)


def job_url_name(model_admin) -> str:
    return f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_job"


class UploadManyView(SongAdminView):
    """Several tracks at once: the files are copied out of the request, then fingerprinted in the background."""

    def dispatch(self, request, *args, **kwargs):
        if not self.model_admin.has_add_permission(request):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.form_page(request, ManyTracksForm())

    def post(self, request):
        form = ManyTracksForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.form_page(request, form)
        job = jobs.start_uploads(form.cleaned_data["files"])
        return redirect(job_url_name(self.model_admin), job.id)

    def form_page(self, request, form: ManyTracksForm) -> TemplateResponse:
        return self.page(
            request,
            "upload_many.html",
            title="Upload several tracks",
            form=form,
            max_track_bytes=conf.service_settings().api_max_track_bytes,
        )


class JobView(SongAdminView):
    """A batch's progress; the page refreshes itself until the batch is done."""

    def get(self, request, job_id: str):
        if not self.model_admin.has_view_or_change_permission(request):
            raise PermissionDenied
        job = jobs.get(job_id)
        if job is None:
            raise Http404("No such batch: it is unknown or has expired (progress is kept for a week).")
        finished = job.finished  # read once: the outcomes below are complete when it is True
        outcomes = list(job.outcomes)
        failed = [outcome for outcome in outcomes if not outcome.ok]
        if finished and not job.reported:
            job.reported = True
            summary = f"{job.title}: {len(outcomes) - len(failed)} done, {len(failed)} failed."
            (messages.warning if failed else messages.success)(request, summary)
            for outcome in failed:
                messages.error(request, f"{outcome.label}: {outcome.message}")
        return self.page(
            request,
            "job.html",
            title=job.title,
            job=job,
            finished=finished,
            outcomes=outcomes,
            done=len(outcomes),
            failed=len(failed),
            refresh_s=2,
        )


class SongAudioView(SongAdminView):
    """The track's audio, for staff who may see songs (admin_view already requires staff)."""

    def get(self, request, song_id: int):
        if not self.model_admin.has_view_or_change_permission(request):
            raise PermissionDenied
        return song_audio(request, get_object_or_404(Song, pk=song_id))
