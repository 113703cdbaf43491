"""listen: the server microphone, end to end through a PulseAudio virtual microphone."""

from __future__ import annotations

import builtins
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from recognition import microphone
from tests.audio_fixtures import synth_song, write_wav
from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def virtual_microphone():
    """A PulseAudio null sink whose monitor is the default source: what plays there is heard."""
    for tool in ("pulseaudio", "pactl", "paplay"):
        if not shutil.which(tool):
            pytest.fail(
                f"{tool} is not installed (apt-get install pulseaudio pulseaudio-utils libasound2-plugins)"
            )
    runtime = tempfile.mkdtemp(prefix="jamjar-pulse-")
    env = {**os.environ, "XDG_RUNTIME_DIR": runtime}
    subprocess.run(
        [
            "pulseaudio",
            "-D",
            "-n",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--load=module-native-protocol-unix",
            "--load=module-null-sink sink_name=vsink rate=48000 channels=1 norewinds=1",
            "--load=module-remap-source master=vsink.monitor source_name=virtmic",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    deadline = time.monotonic() + 10
    while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
        assert time.monotonic() < deadline, "pulseaudio did not start"
        time.sleep(0.1)
    subprocess.run(["pactl", "set-default-sink", "vsink"], env=env, check=True)
    subprocess.run(["pactl", "set-default-source", "virtmic"], env=env, check=True)
    yield env
    subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True)
    shutil.rmtree(runtime, ignore_errors=True)


def listen_subprocess(env, *args):
    env = subprocess_env(env)
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "listen", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_listen_names_a_catalogued_track_played_into_the_microphone(
    catalogue, song_files, virtual_microphone, tmp_path
):
    track = song_files[1]
    # Play a long stretch from 4 s in; whatever moment the recording starts, it is inside it.
    played = tmp_path / "played.wav"
    write_wav(
        played,
        synth_song(track.seed, duration_s=24.0, sample_rate_hz=44100)[4 * 44100 :],
        sample_rate_hz=44100,
    )
    player = subprocess.Popen(["paplay", "-d", "vsink", str(played)], env=virtual_microphone)
    try:
        job = listen_subprocess(virtual_microphone, "--seconds", "10", "--device", "pulse", "--json")
        out, err = job.communicate(timeout=120)
    finally:
        player.kill()
    assert job.returncode == 0, err.decode()
    answer = json.loads(out.decode().strip().splitlines()[-1])
    assert answer["match"] is not None, answer
    assert answer["match"]["song_id"] == catalogue[track.seed].pk
    assert 4.0 <= answer["match"]["offset_seconds"] <= 20.0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_listen_to_silence_gives_no_match(catalogue, virtual_microphone):
    job = listen_subprocess(virtual_microphone, "--seconds", "2", "--device", "pulse", "--json")
    out, err = job.communicate(timeout=60)
    assert job.returncode == 0, err.decode()
    answer = json.loads(out.decode().strip().splitlines()[-1])
    assert answer["match"] is None
    assert "aligned votes" in answer["no_match_reason"] or "no hash" in answer["no_match_reason"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_unknown_device_is_a_one_line_error(catalogue, virtual_microphone):
    job = listen_subprocess(virtual_microphone, "--seconds", "1", "--device", "no-such-device")
    _out, err = job.communicate(timeout=60)
    assert job.returncode == 1
    lines = err.decode().strip().splitlines()
    assert lines[-1].startswith("CommandError: no usable input device 'no-such-device'")
    assert "Traceback" not in err.decode()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("args", [["--seconds", "1"], ["--list-devices"]])
def test_no_input_device_names_what_to_install_or_start(catalogue, tmp_path, args):
    # No PulseAudio to reach (and this machine has no sound card): PortAudio finds no input.
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path), "PULSE_SERVER": "unix:/nonexistent"}
    job = listen_subprocess(env, *args)
    _out, err = job.communicate(timeout=60)
    assert job.returncode == 1
    message = err.decode()
    assert "CommandError: no audio input device found" in message
    assert "apt-get install pulseaudio libasound2-plugins" in message and "pulseaudio --start" in message
    assert "Traceback" not in message and "Error querying device" not in message


def test_missing_portaudio_is_a_clear_error(monkeypatch):
    real_import = builtins.__import__

    def no_portaudio(name, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(microphone.MicrophoneError, match=r"no PortAudio library.*libportaudio2"):
        microphone.input_devices()
