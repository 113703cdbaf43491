"""Re-fingerprint songs made with other engine parameters (or all, with --all)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog import services
from catalog.models import Song
from recognition import conf
from recognition.engine.audio import AudioDecodeError


class Command(BaseCommand):
    help = "Re-fingerprint songs whose fingerprints were made with other engine parameters."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-fingerprint every song")

    def handle(self, *args, all, **options):
        params = conf.fingerprint_params()
        songs = Song.objects.all() if all else Song.objects.exclude(params_version=params.version)
        ids = list(songs.values_list("pk", flat=True))
        failed = 0
        for song in tqdm(
            Song.objects.filter(pk__in=ids).iterator(), total=len(ids), unit="song", file=self.stderr._out
        ):
            try:
                services.refingerprint_song(song, params=params)
            except (services.SourceMissing, AudioDecodeError) as exc:
                failed += 1
                self.stderr.write(f"failed: {exc}")
        self.stdout.write(
            f"re-fingerprinted {len(ids) - failed} song(s) with {params.version}; {failed} failed"
        )
        if failed:
            raise CommandError(f"{failed} song(s) could not be re-fingerprinted", returncode=1)
