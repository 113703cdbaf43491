"""Collect the real music of Debian's game-music packages into one folder for benchmarks.

Packages: nexuiz-music (a .pk3 zip), asc-music, planetblupi-music-ogg, drascula-music,
fb-music-high.  Files are copied (or extracted) once; a second call reuses them.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

SOURCES = {
    "asc": ("/usr/share/games/asc/music", ("*.mp3", "*.ogg")),
    "planetblupi": ("/usr/share/planetblupi/music", ("*.ogg",)),
    # Every language folder holds the same tracks; the audio/ folder has them once.
    "drascula": ("/usr/share/scummvm/drascula/audio", ("*.ogg",)),
    "frozen-bubble": ("/usr/share/games/frozen-bubble/snd", ("frozen-mainzik-*.ogg", "introzik.ogg")),
}
NEXUIZ_PK3 = "/usr/share/games/nexuiz/data/music.pk3"
DEBIAN_PACKAGES = "nexuiz-music asc-music planetblupi-music-ogg drascula-music fb-music-high"
# The crowd condition's talkers.
SPEECH_PACKAGES = "espeak-ng"


def packages_for(conditions: list[str]) -> str:
    """The Debian packages a benchmark of these conditions needs: the music, and speech for crowd."""
    return DEBIAN_PACKAGES + (
        " " + SPEECH_PACKAGES if any(c.partition(":")[0] == "crowd" for c in conditions) else ""
    )


def _print(text: str) -> None:
    print(text, flush=True)


def install_packages(packages: str, *, say: Callable[[str], None] = _print) -> None:
    """apt-get install those of these Debian packages that are missing (as root; else say which)."""
    missing = [
        name for name in packages.split()
        if "install ok installed" not in subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True, check=False
        ).stdout
    ]  # fmt: skip
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        say(f"please install: {' '.join(missing)}")
        return
    say(f"installing {' '.join(missing)} ...")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=environment
    )


def collect(folder: str | Path, *, min_duration_files_bytes: int = 50_000) -> list[Path]:
    """Copy every track into folder/<package>/, skipping byte-identical copies and tiny files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    tracks: list[Path] = []

    def keep(path: Path) -> None:
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
        if digest in seen or path.stat().st_size < min_duration_files_bytes:
            path.unlink()
            return
        seen.add(digest)
        tracks.append(path)

    if Path(NEXUIZ_PK3).exists():
        target = folder / "nexuiz"
        target.mkdir(exist_ok=True)
        with zipfile.ZipFile(NEXUIZ_PK3) as archive:
            for member in archive.namelist():
                if member.endswith(".ogg"):
                    out = target / Path(member).name
                    if not out.exists():
                        out.write_bytes(archive.read(member))
                    keep(out)
    for name, (source, patterns) in SOURCES.items():
        source_dir = Path(source)
        if not source_dir.is_dir():
            continue
        target = folder / name
        target.mkdir(exist_ok=True)
        for pattern in patterns:
            for path in sorted(source_dir.glob(pattern)):
                out = target / path.name
                if not out.exists():
                    shutil.copyfile(path, out)
                keep(out)
    if not tracks:
        raise FileNotFoundError(f"no music found: apt-get install {DEBIAN_PACKAGES}")
    return sorted(tracks)


def split_holdout(tracks: list[Path], *, holdout: float, seed: int) -> tuple[list[Path], list[Path]]:
    """(catalogued, held out): a seeded share `holdout` of the tracks (at least one) stays unknown."""
    shuffled = sorted(tracks, key=lambda p: p.name)
    random.Random(seed).shuffle(shuffled)
    n_unknown = max(1, round(len(shuffled) * holdout))
    return shuffled[n_unknown:], shuffled[:n_unknown]


def link_folder(paths: list[Path], folder: str | Path) -> Path:
    """Make folder hold exactly one symlink per path (named <package>--<file>), for ingest_directory."""
    folder = Path(folder)
    if folder.exists():
        for link in folder.iterdir():
            link.unlink()
    folder.mkdir(exist_ok=True)
    for path in paths:
        (folder / f"{path.parent.name}--{path.name}").symlink_to(path)
    return folder
