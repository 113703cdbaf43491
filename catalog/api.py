"""The catalogue API: songs (list, read, edit, upload, delete) and catalogue statistics."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from jamjar_site import api
from recognition import conf
from recognition.engine.audio import AudioDecodeError

from . import selectors, services
from .models import Song
from .permissions import CatalogueAccess, OpenOrSignedIn


class SongSerializer(serializers.ModelSerializer):
    cover_url = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Path of the cover thumbnail (JPEG) on this server; null when the file had no picture.",
    )

    class Meta:
        model = Song
        fields = [
            "id",
            "title",
            "artist",
            "album",
            "duration_s",
            "fingerprint_count",
            "params_version",
            "sha1",
            "original_filename",
            "cover_url",
            "fingerprinted_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [name for name in fields if name not in {"title", "artist", "album"}]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not is_staff(self.context.get("request")):
            # Which file a song came from, and its exact content hash, are the curators' business.
            for name in STAFF_ONLY_SONG_FIELDS:
                data.pop(name, None)
        return data


STAFF_ONLY_SONG_FIELDS = ("sha1", "original_filename")


def is_staff(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff)


class SongUploadSerializer(serializers.Serializer):
    audio = serializers.FileField(help_text="The track, in any format ffmpeg reads.")
    title = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Default: the file's tags, else its name."
    )
    artist = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Default: the tags."
    )
    album = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Default: the tags."
    )


class SongConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    song_id = serializers.IntegerField(help_text="The song already catalogued with this content.")
    song = SongSerializer()


@extend_schema_view(
    list=extend_schema(responses={200: SongSerializer(many=True), **api.error_responses(401, 403)}),
    retrieve=extend_schema(responses={200: SongSerializer, **api.error_responses(401, 403, 404)}),
    partial_update=extend_schema(responses={200: SongSerializer, **api.error_responses(400, 401, 403, 404)}),
    destroy=extend_schema(responses={204: None, **api.error_responses(401, 403, 404)}),
    create=extend_schema(
        request={"multipart/form-data": SongUploadSerializer},
        responses={
            201: SongSerializer,
            409: OpenApiResponse(SongConflictSerializer, description="This content is already catalogued."),
            **api.error_responses(400, 401, 403, 413, 415, 507),
        },
    ),
)
class SongViewSet(viewsets.ModelViewSet):
    """The catalogue's songs.  Reading is open (JAMJAR["api_open"]); writing needs staff or a token."""

    queryset = Song.objects.all()
    serializer_class = SongSerializer
    permission_classes = [CatalogueAccess]
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["title", "artist"]
    ordering_fields = ["id", "title", "artist", "album", "duration_s", "fingerprint_count", "created_at"]
    # A song's fields are all derived from its audio but three: PATCH, no PUT.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def initial(self, request, *args, **kwargs):
        if self.action == "create":
            # Before authentication: the session's CSRF check would read the body.
            api.refuse_oversized_body(request, max_bytes=conf.service_settings().api_max_track_bytes)
        super().initial(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        form = SongUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["audio"]
        try:
            result = services.ingest_upload(
                upload,
                title=form.validated_data.get("title") or None,
                artist=form.validated_data.get("artist") or None,
                album=form.validated_data.get("album") or None,
            )
        except services.TrackTooLarge as exc:
            raise api.PayloadTooLarge(f"{upload.name} is {exc}.") from exc
        except AudioDecodeError as exc:
            raise api.not_audio(str(exc)) from exc
        except services.TrackTooLong as exc:
            raise api.PayloadTooLarge(str(exc)) from exc
        song = SongSerializer(result.song, context=self.get_serializer_context()).data
        if not result.created:
            return Response(
                {
                    "detail": result.already_catalogued,
                    "song_id": result.song.pk,
                    "song": song,
                },
                status=status.HTTP_409_CONFLICT,
            )
        location = reverse("api:song-detail", args=[result.song.pk], request=request)
        return Response(song, status=status.HTTP_201_CREATED, headers={"Location": location})

    def perform_destroy(self, instance: Song) -> None:
        services.delete_songs([instance.pk])


class CatalogueStatsSerializer(serializers.Serializer):
    songs = serializers.IntegerField()
    fingerprints = serializers.IntegerField()
    audio_hours = serializers.FloatField()
    database_bytes = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        required=False,
        help_text="Staff only: data + index bytes per table (fingerprint, song); null where the database does not say.",
    )
    fingerprint_table_bytes = serializers.IntegerField(
        allow_null=True, required=False, help_text="Staff only."
    )


class CatalogueStatsView(APIView):
    """Songs, fingerprints, hours of audio and database size."""

    permission_classes = [OpenOrSignedIn]

    @extend_schema(
        operation_id="stats", responses={200: CatalogueStatsSerializer, **api.error_responses(401, 403)}
    )
    def get(self, request):
        stats = selectors.catalogue_stats(with_sizes=is_staff(request))
        return Response(stats)
