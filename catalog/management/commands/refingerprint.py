"""Re-fingerprint songs made with other engine parameters (or all, with --all)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog import jobs, services
from catalog.management.queued import add_queue_arguments, follow, start_queued
from catalog.models import Song
from recognition import conf
from recognition.engine.audio import AudioDecodeError


class Command(BaseCommand):
    help = "Re-fingerprint songs whose fingerprints were made with other engine parameters."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-fingerprint every song")
        add_queue_arguments(parser, items="songs", instead="queue one task per song")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, all, queue, no_wait, no_progress, **options):
        params = conf.fingerprint_params()
        songs = Song.objects.all() if all else Song.objects.exclude(params_version=params.version)
        if queue:
            return self.queue(songs, everything=all, no_wait=no_wait, no_progress=no_progress)
        ids = list(songs.values_list("pk", flat=True))
        failed = 0
        for song in tqdm(
            Song.objects.filter(pk__in=ids).iterator(),
            total=len(ids),
            unit="song",
            file=self.stderr._out,
            disable=True if no_progress else None,
        ):
            try:
                services.refingerprint_song(song, params=params)
            except (services.SourceMissing, AudioDecodeError) as exc:
                failed += 1
                self.stderr.write(f"failed: {exc}")
        self.report(done=len(ids) - failed, failed=failed, version=params.version)

    def queue(self, songs, *, everything, no_wait, no_progress) -> None:
        """--queue: one task a song on the workers; this follows the batch's progress in the cache."""
        again = "every song is redone" if everything else "songs already redone are skipped"
        # Only what the batch's labels need: not the peaks each song row carries.
        chosen = list(songs.order_by("pk").only("pk", "title", "artist", "original_filename"))
        job = start_queued(lambda: jobs.start_refingerprinting(chosen, queue_required=True), again=again)
        self.stdout.write(f"queued {job.total} song(s) as batch {job.id}")
        if no_wait:
            return
        follow(
            self, job, desc="re-fingerprinting (workers)", unit="song", no_progress=no_progress, again=again
        )
        failed = len(job.failed)
        self.report(done=job.total - failed, failed=failed, version=conf.fingerprint_params().version)

    def report(self, *, done: int, failed: int, version: str) -> None:
        self.stdout.write(f"re-fingerprinted {done} song(s) with {version}; {failed} failed")
        if failed:
            raise CommandError(f"{failed} song(s) could not be re-fingerprinted", returncode=1)
