"""The staff page: upload a recording, watch its job, see its timeline, download CSV and CUE."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import get_valid_filename

from . import output, services
from .models import Tracklist


class UploadForm(forms.Form):
    audio = forms.FileField(
        label="Recording", help_text="Any format ffmpeg reads: a radio hour, a DJ mix, a podcast."
    )


@staff_member_required
def tracklists(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        tracklist = services.create_tracklist(upload=form.cleaned_data["audio"], user=request.user)
        messages.success(request, f"{tracklist.name} is queued.")
        return redirect("tracklist-page", tracklist_id=tracklist.pk)
    recent = Tracklist.objects.all()[:50]
    return render(request, "tracklists/tracklists.html", {"form": form, "tracklists": recent})


@staff_member_required
def tracklist_page(request, tracklist_id: int):
    tracklist = get_object_or_404(Tracklist, pk=tracklist_id)
    return render(
        request,
        "tracklists/tracklist.html",
        {"tracklist": tracklist, "api_url": reverse("api:tracklist", args=[tracklist.pk])},
    )


def _download(tracklist: Tracklist, body: str, *, extension: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    stem = get_valid_filename(tracklist.name.rsplit(".", 1)[0]) or "tracklist"
    response["Content-Disposition"] = f'attachment; filename="{stem}.{extension}"'
    return response


@staff_member_required
def tracklist_csv(request, tracklist_id: int):
    tracklist = get_object_or_404(Tracklist, pk=tracklist_id, status=Tracklist.Status.DONE)
    body = output.timeline_csv(services.timeline_of(tracklist))
    return _download(tracklist, body, extension="csv", content_type="text/csv; charset=utf-8")


@staff_member_required
def tracklist_cue(request, tracklist_id: int):
    tracklist = get_object_or_404(Tracklist, pk=tracklist_id, status=Tracklist.Status.DONE)
    body = output.timeline_cue(services.timeline_of(tracklist))
    return _download(tracklist, body, extension="cue", content_type="application/x-cue; charset=utf-8")
