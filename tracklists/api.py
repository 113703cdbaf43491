"""The track list API: POST /api/tracklists/, GET /api/tracklists/<id>/ and GET /api/plays/."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from jamjar_site import api
from recognition import conf as recognition_conf

from . import output, selectors, services
from .models import Play, Tracklist


class StaffOrToken(BasePermission):
    """Staff users, or any request authenticated with an API token (issued by an administrator)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_staff) or isinstance(request.successful_authenticator, TokenAuthentication)


class TracklistUploadSerializer(serializers.Serializer):
    audio = serializers.FileField(help_text="The recording, in any format ffmpeg reads.")


class SongRefSerializer(serializers.Serializer):
    song_id = serializers.IntegerField()
    title = serializers.CharField()
    artist = serializers.CharField()


class SegmentSerializer(serializers.Serializer):
    """One segment, as `manage.py tracklist --json` prints it (tracklists/output.py)."""

    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    song = SongRefSerializer(allow_null=True, help_text="null for music that is not in the catalogue.")
    song_start_s = serializers.FloatField(allow_null=True)
    song_end_s = serializers.FloatField(allow_null=True)
    speed_ratio = serializers.FloatField(allow_null=True, help_text="1.03: played 3 % fast.")
    confidence = serializers.IntegerField()


class TracklistSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    file = serializers.CharField()
    status = serializers.ChoiceField(choices=Tracklist.Status.choices)
    progress = serializers.FloatField(help_text="0..1")
    duration_s = serializers.FloatField(allow_null=True)
    error = serializers.CharField(help_text="Why a failed job failed.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    segments = SegmentSerializer(many=True, help_text="Empty until the job is done.")


def tracklist_data(tracklist: Tracklist, request) -> dict:
    done = tracklist.status == Tracklist.Status.DONE
    segments = output.timeline_dict(services.timeline_of(tracklist))["segments"] if done else []
    return {
        "id": tracklist.pk,
        "url": reverse("api:tracklist", args=[tracklist.pk], request=request),
        "file": tracklist.name,
        "status": tracklist.status,
        "progress": round(tracklist.progress, 3),
        "duration_s": tracklist.duration_s,
        "error": tracklist.error,
        "created_at": serializers.DateTimeField().to_representation(tracklist.created_at),
        "finished_at": serializers.DateTimeField().to_representation(tracklist.finished_at)
        if tracklist.finished_at
        else None,
        "segments": segments,
    }


class TracklistsView(APIView):
    """Upload a recording to cut into songs (staff or token); the job runs in the background."""

    permission_classes = [StaffOrToken]
    parser_classes = [MultiPartParser]

    def initial(self, request, *args, **kwargs):
        api.refuse_oversized_body(
            request, max_bytes=recognition_conf.service_settings().admin_max_upload_bytes
        )
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="tracklist_create",
        request={"multipart/form-data": TracklistUploadSerializer},
        responses={202: TracklistSerializer, **api.error_responses(400, 401, 403, 413)},
    )
    def post(self, request):
        form = TracklistUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["audio"]
        api.refuse_oversized_upload(
            upload, max_bytes=recognition_conf.service_settings().admin_max_upload_bytes
        )
        tracklist = services.create_tracklist(upload=upload, user=request.user)
        return Response(tracklist_data(tracklist, request), status=status.HTTP_202_ACCEPTED)


class TracklistView(APIView):
    """A job: its status, progress and, once done, its segments (staff or token)."""

    permission_classes = [StaffOrToken]

    @extend_schema(
        operation_id="tracklist_read",
        responses={200: TracklistSerializer, **api.error_responses(401, 403, 404)},
    )
    def get(self, request, tracklist_id: int):
        return Response(tracklist_data(get_object_or_404(Tracklist, pk=tracklist_id), request))


class PlaySerializer(serializers.ModelSerializer):
    station = serializers.CharField(source="station.name")
    song = serializers.SerializerMethodField()

    class Meta:
        model = Play
        fields = [
            "id",
            "station",
            "song",
            "started_at",
            "ended_at",
            "song_start_s",
            "speed_ratio",
            "confidence",
        ]

    def get_song(self, play: Play) -> dict:
        return {"song_id": play.song_id, "title": play.song.title, "artist": play.song.artist}


@extend_schema(
    parameters=[
        OpenApiParameter("station", str, description="Only this station's plays (its name)."),
        OpenApiParameter("since", str, description="Only plays that started at or after this ISO 8601 time."),
    ],
    responses={200: PlaySerializer(many=True), **api.error_responses(400, 401, 403)},
)
class PlaysView(generics.ListAPIView):
    """Songs heard on the monitored stations, newest first (staff or token)."""

    permission_classes = [StaffOrToken]
    serializer_class = PlaySerializer

    def get_queryset(self):
        since = self.request.query_params.get("since")
        since_at = None
        if since:
            since_at = parse_datetime(since.replace(" ", "+"))
            if since_at is None:
                raise ValidationError({"since": [f"{since[:40]!r} is not an ISO 8601 date and time."]})
        return selectors.plays(station=self.request.query_params.get("station") or None, since=since_at)
