"""Cover art: embedded pictures of tagged files (made here with mutagen) become thumbnails,
served at cover_url and named in the API, the admin, and every match message."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.urls import reverse
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis
from PIL import Image

from catalog import services
from catalog.models import Song
from recognition.analysis import COVER_MAX_PX, read_cover
from tests.audio_fixtures import encode, synth_song, write_wav

RED = (220, 30, 40)


def png(size=(600, 400), color=RED) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def flac_picture(data: bytes, picture_type: int = 3) -> Picture:
    picture = Picture()
    picture.type, picture.mime, picture.width, picture.height, picture.depth = (
        picture_type,
        "image/png",
        600,
        400,
        24,
    )
    picture.data = data
    return picture


def tag_mp3(path, data):
    tags = ID3()
    tags.add(APIC(encoding=3, mime="image/png", type=0, desc="back", data=png(color=(0, 0, 255))))
    tags.add(APIC(encoding=3, mime="image/png", type=3, desc="front", data=data))
    tags.save(path)


def tag_flac(path, data):
    audio = FLAC(path)
    audio.add_picture(flac_picture(data))
    audio.save()


def tag_ogg(path, data):
    audio = OggVorbis(path)
    audio["metadata_block_picture"] = [base64.b64encode(flac_picture(data).write()).decode("ascii")]
    audio.save()


def tag_m4a(path, data):
    audio = MP4(path)
    audio["covr"] = [MP4Cover(data, imageformat=MP4Cover.FORMAT_PNG)]
    audio.save()


TAGGERS = {".mp3": tag_mp3, ".flac": tag_flac, ".ogg": tag_ogg, ".m4a": tag_m4a}
ENCODER_ARGS = {
    ".mp3": ["-c:a", "libmp3lame"],
    ".flac": [],
    ".ogg": ["-c:a", "libvorbis"],
    ".m4a": ["-c:a", "aac"],
}


@pytest.fixture(scope="module")
def wav_source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cover-source")
    return write_wav(
        folder / "source.wav", synth_song(31, duration_s=10.0, sample_rate_hz=22050), sample_rate_hz=22050
    )


def tagged_file(folder, wav_source, extension: str, *, picture: bytes | None = None):
    path = encode(wav_source, folder / f"Covered{extension}", *ENCODER_ARGS[extension])
    if picture is not None:
        TAGGERS[extension](path, picture)
    return path


def assert_red_thumbnail(jpeg: bytes):
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.format == "JPEG"
        assert image.size == (COVER_MAX_PX, round(COVER_MAX_PX * 400 / 600))
        red, green, blue = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert abs(red - RED[0]) < 12 and green < 60 and blue < 70, (red, green, blue)


@pytest.mark.parametrize("extension", [".mp3", ".flac", ".ogg", ".m4a"])
def test_embedded_front_cover_becomes_a_jpeg_thumbnail(tmp_path, wav_source, extension):
    path = tagged_file(tmp_path, wav_source, extension, picture=png())
    assert_red_thumbnail(read_cover(path))


@pytest.mark.parametrize("extension", [".mp3", ".flac"])
def test_file_without_a_picture_has_no_cover(tmp_path, wav_source, extension):
    assert read_cover(tagged_file(tmp_path, wav_source, extension)) is None


def test_picture_that_is_not_an_image_is_ignored(tmp_path, wav_source):
    path = tagged_file(tmp_path, wav_source, ".mp3", picture=b"not an image at all")
    assert read_cover(path) is None


@pytest.fixture
def covered_song(db, tmp_path, wav_source) -> Song:
    return services.ingest_file(tagged_file(tmp_path, wav_source, ".mp3", picture=png())).song


def test_ingest_stores_the_cover_and_serves_it_at_cover_url(covered_song, client):
    assert covered_song.cover_url == f"/covers/{covered_song.pk}/?v={covered_song.sha1[:8]}"
    response = client.get(covered_song.cover_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert_red_thumbnail(b"".join(response.streaming_content))


def test_api_names_the_cover_or_null(covered_song, client, tmp_path, wav_source):
    plain = services.ingest_file(
        write_wav(tmp_path / "plain.wav", synth_song(32, duration_s=6.0), sample_rate_hz=8000)
    ).song
    assert client.get(f"/api/songs/{covered_song.pk}/").json()["cover_url"] == covered_song.cover_url
    assert client.get(f"/api/songs/{plain.pk}/").json()["cover_url"] is None
    assert client.get(f"/covers/{plain.pk}/").status_code == 404


def test_cover_is_private_when_the_api_is_closed(covered_song, client, settings):
    settings.JAMJAR = {"api_open": False}
    assert client.get(covered_song.cover_url).status_code == 403


def test_recognize_api_gives_the_cover_url(covered_song, client, wav_source):
    with open(wav_source, "rb") as clip:
        answer = client.post("/api/recognize/", {"audio": clip}).json()
    assert answer["match"]["song_id"] == covered_song.pk
    assert answer["match"]["cover_url"] == covered_song.cover_url
    assert answer["match"]["duration_s"] == pytest.approx(covered_song.duration_s, abs=0.01)


def test_admin_list_shows_the_cover_or_the_placeholder(admin_client, covered_song, tmp_path):
    services.ingest_file(
        write_wav(tmp_path / "plain.wav", synth_song(33, duration_s=6.0), sample_rate_hz=8000)
    )
    page = admin_client.get(reverse("admin:catalog_song_changelist")).content.decode()
    assert f'src="{covered_song.cover_url.replace("&", "&amp;")}"' in page
    assert "img/cover-placeholder.svg" in page


def test_refingerprinting_gives_an_older_song_its_cover(covered_song):
    covered_song.cover.delete(save=True)  # as if catalogued before covers were read
    services.refingerprint_song(covered_song)
    covered_song.refresh_from_db()
    assert covered_song.cover and covered_song.cover.storage.exists(covered_song.cover.name)


def test_deleting_the_song_deletes_its_cover(covered_song):
    storage, name = covered_song.cover.storage, covered_song.cover.name
    assert storage.exists(name)
    services.delete_songs([covered_song.pk])
    assert not storage.exists(name)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_match_and_progress_carry_the_cover_url(tmp_path, wav_source):
    from asgiref.sync import sync_to_async

    from tests.recognition.test_consumer import receive, started

    song = await sync_to_async(
        lambda: services.ingest_file(tagged_file(tmp_path, wav_source, ".flac", picture=png())).song
    )()
    comm = await started()
    pcm = encode(wav_source, tmp_path / "clip.raw", "-f", "s16le", "-ac", "1", "-ar", "16000").read_bytes()
    messages = []
    for at in range(0, len(pcm), 8000):
        await comm.send_to(bytes_data=pcm[at : at + 8000])
        while not await comm.receive_nothing(timeout=0.05):
            messages.append(await receive(comm))
            if messages[-1]["type"] != "progress":
                break
        if messages and messages[-1]["type"] != "progress":
            break
    answer = messages[-1]
    assert answer["type"] == "match", messages
    assert answer["match"]["cover_url"] == song.cover_url
    assert answer["match"]["rule_margin"] >= 1.0
    candidates = [m["candidate"] for m in messages if m["type"] == "progress" and m["candidate"]]
    assert candidates and all(c["cover_url"] == song.cover_url for c in candidates if c["song_id"] == song.pk)
    json.dumps(answer)  # plain JSON all the way down
