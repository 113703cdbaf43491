"""Fingerprint every audio file below a folder into the catalogue (resumable)."""

import os
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.bulk import (
    DEFAULT_EXTENSIONS,
    CatalogueLost,
    FileEvent,
    find_audio_files,
    ingest_directory,
    queue_directory,
    summary_of,
)
from catalog.management.queued import add_queue_arguments, follow, start_queued

# The bar is redrawn this often even while no file finishes, so the time and ETA keep moving.
REFRESH_S = 1.0


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def size_of(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # a dangling link or a file gone since: the ingest reports it
        return 0


class Progress:
    """Files done of all files, hours of audio, and an ETA from the bytes still to read.

    Bytes, not files, set the pace: a folder mixes one-minute and one-hour tracks.  Files
    already catalogued finish at once, so only the bytes actually decoded give the rate.
    """

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes
        self.bytes_left = sum(sizes.values())
        self.bytes_worked = 0
        self.audio_s = 0.0
        self.started = time.monotonic()

    def add(self, event: FileEvent) -> None:
        size = self.sizes.get(event.path, 0)
        self.bytes_left -= size
        self.audio_s += event.audio_s
        if event.kind != "skipped":
            self.bytes_worked += size

    def describe(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        parts = [f"{self.audio_s / 3600:.2f} h audio"]
        if self.audio_s:
            parts.append(f"{self.audio_s / elapsed:.0f}x realtime")
        if self.bytes_worked:
            parts.append(f"ETA {format_duration(elapsed * self.bytes_left / self.bytes_worked)}")
        else:
            parts.append("ETA after the first file")
        return ", ".join(parts)


class Command(BaseCommand):
    help = "Fingerprint the audio files below DIR. Already catalogued content is skipped, so a killed run can simply be run again."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--ext",
            nargs="+",
            default=list(DEFAULT_EXTENSIONS),
            help="file extensions to take (default: common audio formats)",
        )
        parser.add_argument(
            "--workers", type=int, default=None, help="decoding/fingerprinting processes (default: all cores)"
        )
        parser.add_argument(
            "--limit",
            type=float,
            default=None,
            metavar="SECONDS",
            help="fingerprint only the first SECONDS of each file",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        add_queue_arguments(parser, items="files", instead="queue the files")

    def handle(self, *args, directory, ext, workers, limit, no_progress, queue, no_wait, **options):
        if workers is not None and workers < 1:
            raise CommandError("--workers must be at least 1")
        if limit is not None and limit <= 0:
            raise CommandError("--limit must be a positive number of seconds")
        if not os.path.isdir(directory):
            raise CommandError(f"{directory} is not a folder")
        if queue:
            return self.queue(
                directory, ext=tuple(ext), limit=limit, no_progress=no_progress, no_wait=no_wait
            )
        # Counted first, so the bar has a total from the start (a walk is cheap next to decoding).
        sizes = {path: size_of(path) for path in find_audio_files(directory, extensions=tuple(ext))}
        progress = Progress(sizes)
        bar = tqdm(
            total=len(sizes),
            unit="file",
            desc="fingerprinting",
            disable=True if no_progress else None,
            file=self.stderr._out,
            dynamic_ncols=True,
            mininterval=0,
            miniters=1,  # every file shows
            bar_format="{desc}: {n_fmt}/{total_fmt} files |{bar}| {elapsed}{postfix}",
            postfix=progress.describe(),
        )
        stop_refreshing = threading.Event()

        def refresh() -> None:
            while not stop_refreshing.wait(REFRESH_S):
                bar.set_postfix_str(progress.describe())

        def on_file(event: FileEvent) -> None:
            progress.add(event)
            if event.kind == "failed":
                bar.write(f"failed: {event.path}: {event.reason}", file=self.stderr._out)
            bar.set_postfix_str(progress.describe(), refresh=False)
            bar.update(1)

        refresher = threading.Thread(target=refresh, daemon=True)
        if not bar.disable:
            refresher.start()
        try:
            summary = ingest_directory(
                directory, extensions=tuple(ext), workers=workers, limit_s=limit, on_file=on_file
            )
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        except CatalogueLost as lost:
            bar.close()
            self.print_summary(lost.summary)
            raise CommandError(
                f"the database went away ({lost}); every song stored so far is whole: run again to finish",
                returncode=1,
            ) from None
        finally:
            stop_refreshing.set()
            if refresher.is_alive():
                refresher.join()
            bar.close()
        self.print_summary(summary)
        if summary.failed:
            raise CommandError(
                f"{summary.failed} file(s) could not be fingerprinted (listed above)", returncode=1
            )

    def queue(self, directory, *, ext, limit, no_progress, no_wait) -> None:
        """--queue: the workers ingest; this follows the batch's progress in the cache."""
        started = time.monotonic()
        again = "catalogued files are skipped"
        job = start_queued(lambda: queue_directory(directory, extensions=ext, limit_s=limit), again=again)
        self.stdout.write(f"queued {job.total} file(s) as batch {job.id}")
        if no_wait:
            return
        follow(self, job, desc="fingerprinting (workers)", unit="file", no_progress=no_progress, again=again)
        summary = summary_of(job, elapsed_s=time.monotonic() - started)
        self.stdout.write(
            f"new: {summary.new}  skipped: {summary.skipped}  failed: {summary.failed}  "
            f"time: {summary.elapsed_s:.1f} s"
        )
        if summary.failed:
            raise CommandError(
                f"{summary.failed} file(s) could not be fingerprinted (listed above)", returncode=1
            )

    def print_summary(self, summary) -> None:
        self.stdout.write(
            f"new: {summary.new}  skipped: {summary.skipped}  failed: {summary.failed}  "
            f"audio: {summary.audio_s / 3600:.2f} h  fingerprints: {summary.fingerprints}  "
            f"time: {summary.elapsed_s:.1f} s  speed: {summary.realtime_factor:.0f}x realtime"
        )
