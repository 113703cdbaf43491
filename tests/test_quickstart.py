"""The README's quick start, as a new user runs it: scripts/run, then manage.py in a fresh shell."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.audio_fixtures import synth_song, write_wav

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def clean_env(**extra: str) -> dict:
    """A fresh login shell's environment: no SECRET_KEY, DEBUG or DATABASE_URL exported."""
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        **extra,
    }


@pytest.fixture
def clone(tmp_path) -> Path:
    """The tracked files of this repository in a new folder, with this suite's virtualenv as .venv."""
    target = tmp_path / "jamjar"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(
        b"\0"
    )
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())
    # The same interpreter the suite runs in, so scripts/run finds its requirements installed.
    (target / ".venv").symlink_to(Path(sys.prefix))
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(clone: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    """`.venv/bin/python manage.py ...` as the README writes it, from a fresh shell."""
    return subprocess.run(
        [".venv/bin/python", "manage.py", *args],
        cwd=clone,
        env=clean_env(**extra_env),
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_readme_commands_work_in_a_fresh_shell_after_scripts_run(clone, tmp_path):
    port = free_port()
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115  (closed when the server stops)
    server = subprocess.Popen(
        ["scripts/run", f"127.0.0.1:{port}"],
        cwd=clone,
        env=clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, (tmp_path / "run.log").read_text(errors="replace")
                assert time.monotonic() < deadline, "scripts/run did not serve"
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        log.close()

    env_file = (clone / ".env").read_text()
    assert "DEBUG=1" in env_file
    secret = next(line for line in env_file.splitlines() if line.startswith("SECRET_KEY="))
    assert len(secret) > len("SECRET_KEY=") + 40

    made = manage(
        clone,
        "createsuperuser",
        "--noinput",
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_EMAIL="admin@example.org",
        DJANGO_SUPERUSER_PASSWORD="a long test password",
    )
    assert made.returncode == 0, made.stderr

    music = tmp_path / "Music"
    music.mkdir()
    for seed in (21, 22):
        write_wav(
            music / f"track_{seed}.wav",
            synth_song(seed, duration_s=12.0, sample_rate_hz=16000),
            sample_rate_hz=16000,
        )
    ingest = manage(clone, "fingerprint_dir", str(music), "--workers", "1")
    assert ingest.returncode == 0, ingest.stderr
    assert "new: 2" in ingest.stdout

    clip = tmp_path / "clip.wav"
    write_wav(
        clip,
        synth_song(22, duration_s=12.0, sample_rate_hz=16000)[4 * 16000 : 9 * 16000],
        sample_rate_hz=16000,
    )
    answer = manage(clone, "recognize", str(clip))
    assert answer.returncode == 0, answer.stderr
    assert "match: track 22" in answer.stdout

    # A second scripts/run keeps the .env (and so the key every session was signed with).
    again = subprocess.run(
        ["bash", "-c", "source scripts/lib.sh && write_env_file"],
        cwd=clone,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert (clone / ".env").read_text() == env_file
