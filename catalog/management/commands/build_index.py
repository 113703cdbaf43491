"""Build the catalogue's hash index in files, for quick lookups in a large catalogue."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.indexing import build_index


class Command(BaseCommand):
    help = (
        "Write every fingerprint of the catalogue into a hash index in files (JAMJAR_INDEX_DIR, "
        "or --path), replacing the one there. Run it again after large ingests: songs added "
        "since are read from the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--path", default="", help="the index folder (default: JAMJAR_INDEX_DIR)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, path, no_progress, **options):
        with tqdm(total=100, unit="%", file=self.stderr._out, disable=True if no_progress else None) as bar:

            def progress(share: float, rows: int) -> None:
                bar.update(round(share * 100) - bar.n)
                bar.set_postfix(rows=rows)

            try:
                built = build_index(path or None, on_progress=progress)
            except (ValueError, OSError) as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"indexed {built.rows} fingerprints of {built.songs} songs in {built.directory} "
            f"({built.bytes / 1e6:.0f} MB) in {built.seconds:.1f} s"
        )
