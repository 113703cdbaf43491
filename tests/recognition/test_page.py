"""The identify page in Debian's Chromium: certainty, the ticking position, cover, history,
try again, icons and manifest, no console errors; and the admin at 1280 px with a seekable player."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from catalog import services
from tests.audio_fixtures import encode, synth_song, write_wav
from tests.catalog.test_cover import png, tag_mp3
from tests.recognition.test_browser import daphne_server, fake_microphone_wav, launch_chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Set to a folder to (re)make the README's screenshots from this test.
SCREENSHOTS = os.environ.get("JAMJAR_SCREENSHOTS")


@pytest.fixture
def covered_song(db, tmp_path):
    """A 30 s song with an embedded cover, catalogued as an upload (its copy kept in MEDIA_ROOT)."""
    wav = write_wav(
        tmp_path / "covered.wav", synth_song(41, duration_s=30.0, sample_rate_hz=44100), sample_rate_hz=44100
    )
    mp3 = encode(wav, tmp_path / "Harbour Lights.mp3", "-c:a", "libmp3lame", "-b:a", "192k")
    tag_mp3(mp3, png(color=(40, 120, 200)))
    song = services.ingest_file(mp3, keep_file=True, original_filename=mp3.name, artist="The Testers").song
    assert song.cover
    return song


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda message: errors.append(f"console: {message.text}") if message.type == "error" else None,
    )
    page.on("requestfailed", lambda request: errors.append(f"requestfailed: {request.url}"))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status}: {response.url}") if response.status >= 400 else None
        ),
    )
    return errors


def wait_for_answer(page, *, timeout_s: float = 40) -> str:
    page.wait_for_function(
        "() => ['match', 'no-match', 'error'].includes(document.querySelector('#status').dataset.state)",
        timeout=timeout_s * 1000,
    )
    return page.eval_on_selector("#status", "el => el.dataset.state")


def seconds_of(position: str) -> int:
    minutes, seconds = position.split(":")
    return int(minutes) * 60 + int(seconds)


def test_page_answers_with_certainty_cover_ticking_position_and_history(covered_song, tmp_path):
    from playwright.sync_api import sync_playwright

    played = synth_song(41, duration_s=30.0, sample_rate_hz=44100)[6 * 44100 : 20 * 44100]
    with daphne_server(tmp_path) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright, microphone_wav=fake_microphone_wav(tmp_path, played))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors = console_errors(page)
            page.goto(url + "/")
            assert page.is_visible("#history-empty") and page.is_hidden("#try-again")

            page.click("#start-button")
            assert wait_for_answer(page) == "match", page.inner_text("#status")
            assert page.inner_text("#result-title") == covered_song.title
            assert page.inner_text("#result-artist") == "The Testers"
            # Certainty in words and a bar; the numbers stay in the details line.
            assert page.inner_text("#result-certainty") in {"Fairly sure", "Sure", "Certain"}
            assert float(page.get_attribute(".certainty-bar", "data-fraction")) >= 0.25
            details = page.inner_text("#result-details")
            assert (
                "fingerprints agree" in details
                and "× the no-match threshold" in details
                and "score" in details
            )
            # The cover thumbnail, loaded.
            assert page.get_attribute("#result-cover", "src") == covered_song.cover_url
            page.wait_for_function("() => document.querySelector('#result-cover').naturalWidth > 0")
            # The position moves on with the music, from past where the listening started.
            first = seconds_of(page.inner_text("#result-offset"))
            assert first >= 6
            page.wait_for_timeout(2600)
            later = seconds_of(page.inner_text("#result-offset"))
            assert 2 <= later - first <= 3, (first, later)
            assert page.inner_text("#result-duration") == "of 0:30"
            assert float(page.inner_text("#seconds")) <= 15.0
            # Remembered in this browser, with time and song.
            assert page.is_visible("#try-again")
            stored = json.loads(page.evaluate("() => localStorage.getItem('jamjar.history')"))
            assert [entry["title"] for entry in stored] == [covered_song.title]
            assert page.inner_text("#history li .history-song") == f"{covered_song.title} · The Testers"
            assert page.get_attribute("#history li time", "datetime") == stored[0]["at"]
            if SCREENSHOTS:
                page.screenshot(path=str(Path(SCREENSHOTS) / "identify-1280x800.png"))

            # Try again: a second answer, and the history keeps both, newest first.
            page.click("#try-again")
            assert page.is_hidden("#try-again")
            assert wait_for_answer(page) == "match"
            assert page.locator("#history li").count() == 2

            # The history survives a reload; "Clear" empties it.
            page.reload()
            assert page.locator("#history li").count() == 2
            if SCREENSHOTS:
                phone = browser.new_page(
                    viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
                )
                phone.goto(url + "/")
                phone.click("#start-button")
                assert wait_for_answer(phone) == "match"
                phone.screenshot(path=str(Path(SCREENSHOTS) / "identify-390x844.png"))
                phone.close()
            page.click("#history-clear")
            assert page.locator("#history li").count() == 0 and page.is_visible("#history-empty")
            assert page.evaluate("() => localStorage.getItem('jamjar.history')") is None
            assert not errors, errors
        finally:
            browser.close()


def test_icons_and_manifest_load_without_errors(catalogue, tmp_path):
    from playwright.sync_api import sync_playwright

    with daphne_server(tmp_path) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            errors = console_errors(page)
            page.goto(url + "/")
            manifest_href = page.get_attribute("link[rel=manifest]", "href")
            with urllib.request.urlopen(url + manifest_href) as response:
                manifest = json.loads(response.read())
            assert manifest["short_name"] == "jamjar" and manifest["start_url"] == "/"
            assert manifest["display"] == "standalone"
            for icon in manifest["icons"]:
                with urllib.request.urlopen(
                    urllib.parse.urljoin(url + manifest_href, icon["src"])
                ) as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"].startswith("image/")
            sizes = {icon["sizes"] for icon in manifest["icons"]}
            assert {"192x192", "512x512"} <= sizes
            for link in page.query_selector_all("link[rel=icon], link[rel=apple-touch-icon]"):
                with urllib.request.urlopen(url + link.get_attribute("href")) as response:
                    assert response.status == 200
            page.wait_for_timeout(500)
            assert not errors, errors
        finally:
            browser.close()


def test_admin_fits_1280px_and_its_player_seeks(covered_song, catalogue, django_user_model, tmp_path):
    from django.test import Client
    from playwright.sync_api import sync_playwright

    from recognition.models import Recognition

    # Signed in through a session in the shared database (the server's password hashers differ
    # from the suite's fast test hasher, so its login form would refuse the test password).
    signed_in = Client()
    signed_in.force_login(
        django_user_model.objects.create_superuser("boss", "boss@example.org", "a long test password")
    )
    session_id = signed_in.cookies["sessionid"].value
    Recognition.objects.create(
        source="api",
        song=covered_song,
        offset_s=98.592,
        confidence=24,
        score=0.09,
        listened_s=15.3,
        match_time_ms=43.09775899901069,
        file_name="/home/someone/recordings/a rather long clip name.m4a",
        client_address="2001:db8::1234:5678",
    )
    with daphne_server(tmp_path) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_cookies([{"name": "sessionid", "value": session_id, "url": url}])
            page = context.new_page()
            page.goto(url + "/admin/")
            assert "jamjar administration" in page.inner_text("#header")
            for path in ("/admin/catalog/song/", "/admin/recognition/recognition/"):
                page.goto(url + path)
                # The list scrolls inside its own box when too wide: compare the table with that box.
                widths = page.evaluate(
                    "() => ({page: document.documentElement.scrollWidth,"
                    " table: document.querySelector('#result_list').scrollWidth,"
                    " box: document.querySelector('#changelist .results').clientWidth})"
                )
                assert widths["page"] <= 1280 and widths["table"] <= widths["box"], (path, widths)
                if SCREENSHOTS:
                    page.screenshot(
                        path=str(Path(SCREENSHOTS) / f"admin-{path.strip('/').split('/')[-1]}-1280.png")
                    )
            page.goto(url + f"/admin/catalog/song/{covered_song.pk}/change/")
            page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
            seek = page.evaluate(
                """() => new Promise((resolve) => {
                    const audio = document.querySelector('audio');
                    audio.addEventListener('seeked', () => resolve({
                        time: audio.currentTime, duration: audio.duration,
                        seekableEnd: audio.seekable.length ? audio.seekable.end(0) : 0,
                        error: audio.error && audio.error.code}), {once: true});
                    audio.currentTime = 21.5;
                })"""
            )
            assert seek["error"] is None
            assert seek["duration"] == pytest.approx(30.0, abs=0.3)
            assert seek["seekableEnd"] == pytest.approx(seek["duration"], abs=0.1)
            assert seek["time"] == pytest.approx(21.5, abs=0.5)
        finally:
            browser.close()
