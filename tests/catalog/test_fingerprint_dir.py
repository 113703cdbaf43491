"""fingerprint_dir: summary, bad files, and resuming after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from catalog.models import Fingerprint, Song
from tests.conftest import subprocess_env
from tests.servers import MariaDB

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("fingerprint_dir", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def assert_catalogue_consistent():
    """Every song has exactly its fingerprints, and no fingerprint lacks a song."""
    counted = dict(Fingerprint.objects.values_list("song_id").annotate(n=Count("hash")).order_by())
    songs = dict(Song.objects.values_list("pk", "fingerprint_count"))
    assert counted == {pk: n for pk, n in songs.items() if n}
    assert Song.objects.values("sha1").distinct().count() == Song.objects.count()


@pytest.mark.django_db
def test_ingests_a_folder_and_skips_it_the_second_time(song_files):
    folder = song_files[0].path.parent
    out, _ = run(str(folder), "--workers", "1")
    assert "new: 4  skipped: 0  failed: 0" in out
    assert Song.objects.count() == 4
    out, _ = run(str(folder), "--workers", "2")
    assert "new: 0  skipped: 4  failed: 0" in out
    assert Song.objects.count() == 4
    assert_catalogue_consistent()


@pytest.mark.django_db
def test_ext_filter_and_limit(song_files, tmp_path):
    folder = song_files[0].path.parent
    (folder / "cover.jpg").write_bytes(b"\xff\xd8\xff not audio")
    out, _ = run(str(folder), "--ext", ".wav", "--limit", "5", "--workers", "1")
    assert "failed: 0" in out
    assert {round(d) for d in Song.objects.values_list("duration_s", flat=True)} == {5}


@pytest.mark.django_db
def test_bad_files_are_reported_and_the_rest_go_on(song_files, tmp_path):
    folder = song_files[0].path.parent
    (folder / "empty.mp3").write_bytes(b"")
    (folder / "text.mp3").write_text("lyrics, not music\n" * 100)
    good = song_files[0].path.read_bytes()
    (folder / "truncated.wav").write_bytes(good[:40])  # a header and nothing else
    os.symlink(folder / "does-not-exist.ogg", folder / "dangling.ogg")
    with pytest.raises(CommandError, match="4 file"):
        run(str(folder), "--workers", "2")
    assert Song.objects.count() == 4
    assert_catalogue_consistent()


@pytest.mark.django_db
def test_bad_files_are_named_with_a_reason(tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "text.mp3").write_text("not music")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("fingerprint_dir", str(tmp_path), "--workers", "1", stdout=StringIO(), stderr=err)
    text = err.getvalue()
    assert "empty.mp3" in text and "empty" in text.split("empty.mp3", 1)[1]
    assert "text.mp3" in text and "not decodable audio" in text


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        run(str(tmp_path / "nowhere"))


def _manage(*args, env):
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its workers, forkserver and resource tracker share its session id
    )


def processes_of_session(session_id: int) -> list[str]:
    """'pid command' of every live process in that session."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[3]) == session_id and fields[0] not in {"Z", "X"}:
            found.append(f"{stat.parent.name} {cmdline[:120]}")
    return found


def processes_left_after(session_id: int, *, timeout_s: float = 10.0) -> list[str]:
    """processes_of_session once it is empty, or what is still there after timeout_s: a worker
    told of its parent's death takes a moment to exit (its cmdline is empty meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while (left := processes_of_session(session_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigkill_midway_then_rerun_finishes_with_no_duplicates(many_songs):
    env = subprocess_env()
    job = _manage("fingerprint_dir", str(many_songs), "--workers", "2", "--no-progress", env=env)
    deadline = time.monotonic() + 120
    while Song.objects.count() < 3:
        assert job.poll() is None, f"finished before it could be killed: {job.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    # Its workers (about 0.5 GB on a real library), forkserver and resource tracker go too.
    assert processes_left_after(job.pid) == []
    partial = Song.objects.count()
    assert 3 <= partial < 16
    assert_catalogue_consistent()

    rerun = _manage("fingerprint_dir", str(many_songs), "--workers", "2", "--no-progress", env=env)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    assert f"new: {16 - partial}  skipped: {partial}  failed: 0" in out.decode()
    assert Song.objects.count() == 16
    assert_catalogue_consistent()


@pytest.mark.slow
def test_a_lost_database_ends_the_run_with_one_line_and_the_summary(many_songs, tmp_path):
    db = MariaDB()
    try:
        env = {**subprocess_env(), "DATABASE_URL": db.url}
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        job = _manage("fingerprint_dir", str(many_songs), "--workers", "2", "--no-progress", env=env)

        def songs() -> int:
            query = [
                "mariadb",
                "-h127.0.0.1",
                f"-P{db.port}",
                "-uroot",
                "-N",
                "-e",
                "SELECT COUNT(*) FROM jamjar.catalog_song",
            ]
            return int(subprocess.run(query, capture_output=True, text=True, check=True).stdout)

        deadline = time.monotonic() + 120
        while songs() < 2:
            assert job.poll() is None and time.monotonic() < deadline, job.communicate()
            time.sleep(0.05)
        db.stop()
        out, err = job.communicate(timeout=120)
        assert job.returncode == 1
        lines = err.decode().strip().splitlines()
        assert len(lines) == 1 and "the database went away" in lines[0], err.decode()
        assert "new: " in out.decode() and int(out.decode().split("new: ")[1].split()[0]) >= 2
        assert processes_left_after(job.pid) == []

        db.start()  # what was stored is whole: every song has all its fingerprints
        check = [
            "mariadb",
            "-h127.0.0.1",
            f"-P{db.port}",
            "-uroot",
            "-N",
            "-e",
            "SELECT COUNT(*) FROM jamjar.catalog_song s WHERE s.fingerprint_count <> "
            "(SELECT COUNT(*) FROM jamjar.catalog_fingerprint f WHERE f.song_id = s.id)",
        ]
        assert subprocess.run(check, capture_output=True, text=True, check=True).stdout.strip() == "0"
    finally:
        db.remove()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_create_no_duplicates(many_songs):
    env = subprocess_env()
    jobs = [
        _manage("fingerprint_dir", str(many_songs), "--workers", "1", "--no-progress", env=env)
        for _ in range(2)
    ]
    outputs = [job.communicate(timeout=300) for job in jobs]
    for job, (_out, err) in zip(jobs, outputs, strict=False):
        assert job.returncode == 0, err.decode()
    assert Song.objects.count() == 16
    assert_catalogue_consistent()
    new_total = sum(int(out.decode().split("new: ")[1].split()[0]) for out, _ in outputs)
    assert new_total == 16


class Terminal(StringIO):
    """Captured output that says it is a terminal, so the progress bar is drawn."""

    def isatty(self) -> bool:
        return True


@pytest.mark.django_db
def test_progress_counts_the_files_first_and_gives_hours_and_an_eta(song_files):
    folder = song_files[0].path.parent
    err = Terminal()
    call_command("fingerprint_dir", str(folder), "--workers", "1", stdout=StringIO(), stderr=err)
    frames = [frame.strip() for frame in err.getvalue().replace("\r", "\n").splitlines() if frame.strip()]
    # The first frame already knows the total, before any file is done.
    assert frames[0].startswith("fingerprinting: 0/4 files"), frames[0]
    assert "ETA after the first file" in frames[0]
    done_frames = [
        frame
        for frame in frames
        if frame.startswith(("fingerprinting: 1/4", "fingerprinting: 2/4", "fingerprinting: 3/4"))
    ]
    assert done_frames, frames
    assert "0.01 h audio" in done_frames[0] or "0.02 h audio" in done_frames[0]  # 24 s a file
    assert all("ETA 0:" in frame for frame in done_frames), done_frames
    assert frames[-1].startswith("fingerprinting: 4/4 files") and "ETA 0:00" in frames[-1]
