"""The recognition API: POST /api/recognize/ and the recognition log."""

from __future__ import annotations

import time
import typing
from dataclasses import dataclass

from django.utils.http import parse_header_parameters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, BaseThrottle
from rest_framework.views import APIView

from catalog.permissions import OpenOrSignedIn
from catalog.uploads import decode_error_for, upload_on_disk
from jamjar_site import api

from . import conf, limits, output, services
from .engine.audio import AudioDecodeError, decode_pcm16
from .models import Recognition


@dataclass(frozen=True)
class RawClip:
    """A request body of 16-bit PCM, with the rate its Content-Type named (if any)."""

    body: bytes
    rate: str | None
    channels: str | None


def read_at_most(stream, limit_bytes: int) -> bytes:
    """Up to limit_bytes + 1 bytes of a stream: one more than allowed shows it was too long."""
    parts, size = [], 0
    while size <= limit_bytes:
        block = stream.read(min(1 << 20, limit_bytes + 1 - size))
        if not block:
            break
        parts.append(block)
        size += len(block)
    return b"".join(parts)


class PCM16Parser(BaseParser):
    """A raw body of 16-bit little-endian mono PCM, read up to the clip limit and no further."""

    media_type = "application/octet-stream"

    def parse(self, stream, media_type=None, parser_context=None) -> RawClip:
        limit_bytes = conf.service_settings().api_max_clip_bytes
        body = read_at_most(stream, limit_bytes)
        if len(body) > limit_bytes:
            raise api.PayloadTooLarge(f"The body is larger than the clip limit of {limit_bytes} bytes.")
        _, params = parse_header_parameters(media_type or "")
        return RawClip(body=body, rate=params.get("rate"), channels=params.get("channels"))


class L16Parser(PCM16Parser):
    # RFC 2586 says network byte order; jamjar reads little-endian here, as for octet-stream.
    media_type = "audio/L16"


class ClipUploadSerializer(serializers.Serializer):
    audio = serializers.FileField(help_text="A clip in any format ffmpeg reads.")


# What the schema says of each field of services.Match; a field without an entry is still
# served and typed (the serializer is built from the dataclass), only undocumented.
MATCH_HELP = {
    "offset_seconds": "Where the clip starts in the song.",
    "confidence": "Hashes that agree on that offset.",
    "score": "0..1: share of the song's hashes for that stretch reproduced.",
    "rule_margin": "Aligned votes over what the no-match rule requires of this candidate; 1 or more for an answer.",
    "duration_s": "Length of the whole song, seconds.",
    "cover_url": "Path of the song's cover thumbnail (JPEG) on this server; null when the file had none.",
    "speed_ratio": "How fast the clip runs against the song: 1.03 played 3 % fast, 1.0 unchanged.",
}


def dataclass_serializer(cls, *, help_texts: dict[str, str]) -> type[serializers.Serializer]:
    """A read-only serializer whose fields follow a dataclass of ints, floats and strings."""
    kinds = {
        int: serializers.IntegerField,
        float: serializers.FloatField,
        str: serializers.CharField,
        bool: serializers.BooleanField,
    }
    fields = {}
    for name, annotation in typing.get_type_hints(cls).items():
        options = typing.get_args(annotation)
        nullable = type(None) in options
        base = next((option for option in options if option is not type(None)), annotation)
        fields[name] = kinds[base](allow_null=nullable, help_text=help_texts.get(name))
    return type(f"{cls.__name__}Serializer", (serializers.Serializer,), fields)


MatchSerializer = dataclass_serializer(services.Match, help_texts=MATCH_HELP)


class TimingsSerializer(serializers.Serializer):
    fingerprint_s = serializers.FloatField()
    lookup_s = serializers.FloatField()
    align_s = serializers.FloatField()
    total_s = serializers.FloatField()


class RecognitionAnswerSerializer(serializers.Serializer):
    """One line of `recognize --json` (recognition/output.answer makes it)."""

    file = serializers.CharField(allow_null=True, help_text="The upload's name; null for a raw PCM body.")
    match = MatchSerializer(allow_null=True, help_text="null when the evidence is too weak.")
    matches = MatchSerializer(many=True, help_text="The best candidates, best first.")
    match_time_s = serializers.FloatField(help_text="Matching time, decoding excluded.")
    total_time_s = serializers.FloatField(help_text="Time from the request to the answer.")
    seconds = serializers.FloatField(help_text="Seconds of audio listened to.")
    query_hashes = serializers.IntegerField()
    timings = TimingsSerializer()
    no_match_reason = serializers.CharField(
        help_text='Why match is null, in words (e.g. "7 aligned votes, fewer than the 10.0 needed"); "" with a match.'
    )


class AnonymousRecognitionThrottle(AnonRateThrottle):
    """Anonymous recognitions per client address, at JAMJAR["api_anon_recognize_rate"].

    Counted like the websocket's limits (recognition/limits.py): one atomic increment in
    Django's cache per request, in fixed windows, so every server process sharing Redis
    (REDIS_URL) counts together, even requests that arrive at the same instant.  DRF's own
    throttle reads, appends and writes back a list of times, and two processes doing that
    at once both let their request through.
    """

    scope = "anon_recognize"

    def get_rate(self) -> str | None:
        return conf.service_settings().api_anon_recognize_rate

    def allow_request(self, request, view) -> bool:
        if self.rate is None or (request.user and request.user.is_authenticated):
            return True
        return limits.within_rate(self.get_ident(request), self.rate, scope=self.scope)

    def wait(self) -> float:
        """Seconds until the current window ends and the count starts again."""
        return self.duration - time.time() % self.duration


class RecognizeView(APIView):
    """Name the song in a clip: a file upload, or raw 16-bit little-endian mono PCM."""

    permission_classes = [OpenOrSignedIn]
    throttle_classes = [AnonymousRecognitionThrottle]
    parser_classes = [MultiPartParser, PCM16Parser, L16Parser]

    def initial(self, request, *args, **kwargs):
        # Before authentication: the session's CSRF check would read the body.
        api.refuse_oversized_body(request, max_bytes=conf.service_settings().api_max_clip_bytes)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="recognize",
        request={
            "multipart/form-data": ClipUploadSerializer,
            "application/octet-stream": OpenApiTypes.BINARY,
            "audio/L16": OpenApiTypes.BINARY,
        },
        parameters=[
            OpenApiParameter(
                "sample_rate",
                int,
                description="Sample rate of a raw PCM body, Hz (or `audio/L16; rate=16000`).",
            )
        ],
        responses={
            200: RecognitionAnswerSerializer,
            **api.error_responses(400, 401, 403, 413, 415, 429, 503),
        },
    )
    def post(self, request):
        started = time.perf_counter()
        service = conf.service_settings()
        data = request.data
        try:
            if _is_raw(request):
                result, name = self._recognize_pcm(request, data, service), None
            else:
                result, name = self._recognize_upload(data, service)
        except services.CatalogueVersionMismatch as exc:
            raise api.CatalogueUnavailable(str(exc)) from exc
        services.log_recognition(
            result,
            source="api",
            file_name=name or "",
            client_address=BaseThrottle().get_ident(request),
            user=request.user,
        )
        # The shape is written once, in recognition/output.py, for every door.
        return Response(
            output.answer(result, file=name, total_time_s=round(time.perf_counter() - started, 6))
        )

    def _recognize_upload(
        self, data, service: conf.ServiceSettings
    ) -> tuple[services.RecognitionResult, str]:
        form = ClipUploadSerializer(data=data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["audio"]
        api.refuse_oversized_upload(upload, max_bytes=service.api_max_clip_bytes)
        with upload_on_disk(upload) as path:
            try:
                # One second more than allowed, so that a longer clip shows as one.
                result = services.recognize_file(path, seconds=service.api_max_clip_s + 1.0)
            except AudioDecodeError as exc:
                raise api.not_audio(decode_error_for(exc, path=path, name=upload.name)) from exc
        refuse_long_clip(result.seconds, service=service)
        return result, upload.name

    def _recognize_pcm(self, request, clip, service: conf.ServiceSettings) -> services.RecognitionResult:
        if not isinstance(clip, RawClip) or not clip.body:
            raise ParseError("The body is empty: send 16-bit little-endian mono PCM.")
        if clip.channels not in (None, "1"):
            raise ParseError(f"Only mono PCM is read (the Content-Type says channels={clip.channels}).")
        if len(clip.body) % 2:
            raise ParseError("16-bit PCM has an even number of bytes; this body has an odd number.")
        rate_hz = sample_rate_hz(request.query_params.get("sample_rate") or clip.rate, service=service)
        refuse_long_clip(len(clip.body) / 2 / rate_hz, service=service)
        params = conf.fingerprint_params()
        samples = decode_pcm16(clip.body, in_rate_hz=rate_hz, sample_rate_hz=params.sample_rate_hz)
        return services.recognize_samples(samples, params=params)


def _is_raw(request) -> bool:
    media_type, _ = parse_header_parameters(request.content_type or "")
    return media_type in {"application/octet-stream", "audio/l16"}


def sample_rate_hz(value: str | None, *, service: conf.ServiceSettings) -> int:
    low, high = service.min_sample_rate_hz, service.max_sample_rate_hz
    if not value:
        raise ValidationError(
            {"sample_rate": [f"Say the PCM's sample rate: ?sample_rate=16000 (Hz, {low}-{high})."]}
        )
    try:
        rate_hz = int(value)
    except ValueError:
        rate_hz = 0
    if not low <= rate_hz <= high:
        raise ValidationError(
            {"sample_rate": [f"{value[:20]!r} is not a sample rate in Hz from {low} to {high}."]}
        )
    return rate_hz


def refuse_long_clip(seconds: float, *, service: conf.ServiceSettings) -> None:
    if seconds > service.api_max_clip_s:
        raise api.PayloadTooLarge(
            f"The clip is longer than {service.api_max_clip_s:g} s: send at most {service.api_max_clip_s:g} s of audio."
        )


class RecognitionSerializer(serializers.ModelSerializer):
    song_title = serializers.CharField(source="song.title", read_only=True, allow_null=True, default=None)
    song_artist = serializers.CharField(source="song.artist", read_only=True, allow_null=True, default=None)
    user = serializers.CharField(source="user.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Recognition
        fields = [
            "id",
            "created_at",
            "source",
            "song",
            "song_title",
            "song_artist",
            "offset_s",
            "confidence",
            "score",
            "listened_s",
            "query_hashes",
            "match_time_ms",
            "file_name",
            "client_address",
            "user",
        ]


@extend_schema(responses={200: RecognitionSerializer(many=True), **api.error_responses(401, 403)})
class RecognitionLogView(generics.ListAPIView):
    """Every answer jamjar gave, newest first (staff only)."""

    permission_classes = [IsAdminUser]
    serializer_class = RecognitionSerializer
    queryset = Recognition.objects.select_related("song", "user").order_by("-created_at", "-id")
