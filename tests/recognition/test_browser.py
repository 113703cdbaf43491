"""End to end: Debian's Chromium, whose fake microphone plays a WAV, on the page served by
scripts/serve, under the site's Content-Security-Policy."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.audio_fixtures import synth_song, write_wav
from tests.conftest import subprocess_env
from tests.servers import JamjarServer

CHROMIUM = os.environ.get("JAMJAR_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_server_url(catalogue):
    """The production server (scripts/serve) on a free loopback port, on the test database."""
    server = JamjarServer(subprocess_env(DEBUG="0"))
    yield server.url
    server.stop()
    # Shown by pytest when a test fails: what the server said.
    print(server.log()[-5000:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def daphne_server(tmp_path, **env_overrides):
    """Daphne serving jamjar_site.asgi on a free loopback port, on the test database; yields its URL."""
    port = free_port()
    log_path = tmp_path / f"daphne-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115  (closed when the server stops)
    env = subprocess_env(DEBUG="0", **env_overrides)
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "jamjar_site.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "daphne did not start"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        # Shown by pytest when a test fails: what the server said.
        print(log_path.read_text(errors="replace")[-5000:])


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def launch_chromium(playwright, *, microphone_wav: Path | None = None):
    """Debian's Chromium (never a downloaded one), with a fake microphone playing a WAV if given."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (scripts/test installs it)")
    args = list(CHROMIUM_ARGS)
    if microphone_wav is not None:
        args += [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone_wav.resolve()}",
        ]
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


def fake_microphone_wav(tmp_path, samples, rate_hz=44100) -> Path:
    """Chromium starts playing at getUserMedia, before the page is ready: lead with silence."""
    path = tmp_path / "microphone.wav"
    write_wav(path, np.concatenate([np.zeros(rate_hz, dtype=np.float32), samples]), sample_rate_hz=rate_hz)
    return path


@contextlib.contextmanager
def chromium(*extra_args: str):
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                *extra_args,
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


def watch_for_errors(page) -> list[str]:
    """Script errors and Content-Security-Policy refusals on the page, as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return errors


def identify_in_browser(url: str, wav: Path, *, timeout_s: float):
    """Open the page, press start, and return the status and result texts once answered."""
    with chromium(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav.resolve()}",
        "--autoplay-policy=no-user-gesture-required",
    ) as browser:
        page = browser.new_page()
        errors = watch_for_errors(page)
        page.goto(url + "/")
        page.click("#start-button")
        page.wait_for_function(
            "() => ['match', 'no-match', 'error'].includes(document.querySelector('#status').dataset.state)",
            timeout=timeout_s * 1000,
        )
        state = page.eval_on_selector("#status", "el => el.dataset.state")
        texts = {
            selector: page.inner_text(selector)
            for selector in ("#status", "#result-title", "#result-artist", "#result-offset", "#seconds")
        }
        assert not errors, errors
        return state, texts


def test_page_names_the_song_the_microphone_hears(live_server_url, catalogue, tmp_path):
    song = synth_song(14, duration_s=24.0, sample_rate_hz=44100)[5 * 44100 : 17 * 44100]
    state, texts = identify_in_browser(live_server_url, fake_microphone_wav(tmp_path, song), timeout_s=30)
    assert state == "match", texts
    assert texts["#result-title"] == catalogue[14].title


def test_page_says_no_match_for_unknown_music(live_server_url, catalogue, tmp_path):
    unknown = synth_song(97, duration_s=20.0, sample_rate_hz=44100)
    state, texts = identify_in_browser(live_server_url, fake_microphone_wav(tmp_path, unknown), timeout_s=40)
    assert state == "no-match", texts
    assert "no match" in texts["#status"].lower()
    # The server's reason, shown: e.g. "Why: 6 aligned votes, fewer than the 10.0 needed."
    assert "Why: " in texts["#status"]
    assert "aligned votes" in texts["#status"] or "no hash" in texts["#status"], texts["#status"]
    assert texts["#seconds"] == "15.0"  # the last frame may overshoot; the page says what it promised


def test_pages_and_admin_work_under_the_content_security_policy(
    live_server_url, catalogue, django_user_model, settings
):
    """Every page sends a strict CSP, and none of them breaks under it in Chromium: the
    identify page, the admin (signed in, with its scripts) and the API's docs."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # the server's own
    curator = django_user_model.objects.create_superuser("curator", password="a long passphrase for tests")
    with chromium() as browser:
        page = browser.new_page()
        errors = watch_for_errors(page)
        policies = {}
        page.on("response", lambda r: policies.setdefault(r.url, r.headers.get("content-security-policy")))
        page.goto(live_server_url + "/")
        assert page.is_enabled("#start-button")
        page.goto(live_server_url + "/admin/login/")
        page.fill("#id_username", "curator")
        page.fill("#id_password", "a long passphrase for tests")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        page.goto(live_server_url + "/admin/catalog/song/")
        page.wait_for_selector("#changelist")
        page.goto(live_server_url + f"/admin/auth/user/{curator.pk}/change/")
        page.wait_for_selector("#user_form")
        page.goto(live_server_url + f"/admin/catalog/song/{catalogue[11].pk}/change/")
        page.wait_for_selector("audio.track-player", state="attached")  # styled from admin.css
        page.goto(live_server_url + "/api/docs/")
        page.wait_for_selector(".swagger-ui .info", timeout=20000)  # drawn by its script
        pages = {url: policy for url, policy in policies.items() if "/static/" not in url}
        assert len(pages) >= 7 and all(
            policy and "script-src 'self';" in policy + ";" for policy in pages.values()
        ), pages
        assert not errors, errors
