"""Fingerprinting a file runs in memory that does not grow with its length."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recognition.engine.audio import ffmpeg_executable
from tests.servers import ROOT

PEAK_RSS_SCRIPT = """
import sys, django
django.setup()
from recognition import conf
from recognition.analysis import analyse_file
analysis = analyse_file(sys.argv[1], conf.fingerprint_params())
# VmHWM, not getrusage's ru_maxrss: that one keeps the forking parent's (pytest's) peak across exec.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"duration_s": analysis.duration_s, "hashes": len(analysis.hashes), "peak_rss_mb": peak_kb / 1024}))
"""


def analyse_in_subprocess(path: Path) -> dict:
    """Fingerprint a file in a fresh process; its duration, hash count and peak RSS (MB)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + PEAK_RSS_SCRIPT, str(path)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def long_noise_file(path: Path, *, hours: float) -> Path:
    """Pink noise under a tone sweep, mono 8 kHz opus at 16 kbps: hours of audio in a small file."""
    seconds = int(hours * 3600)
    subprocess.run(
        [
            ffmpeg_executable(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=d={seconds}:c=pink:r=8000:a=0.3",
            "-ac",
            "1",
            "-c:a",
            "libopus",
            "-b:a",
            "16k",
            "-y",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.mark.slow
def test_an_hour_of_audio_is_fingerprinted_in_bounded_memory(tmp_path):
    """The whole-file decode held every sample (and the spectrogram) at once: about 600 MB
    for an hour; fed in chunks, the peak stays flat."""
    result = analyse_in_subprocess(long_noise_file(tmp_path / "hour.opus", hours=1.0))
    assert result["duration_s"] == pytest.approx(3600, abs=1)
    assert result["hashes"] > 100_000
    assert result["peak_rss_mb"] < 300, result
