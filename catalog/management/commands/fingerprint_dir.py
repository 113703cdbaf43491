"""Fingerprint every audio file below a folder into the catalogue (resumable)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.bulk import DEFAULT_EXTENSIONS, CatalogueLost, FileEvent, ingest_directory


class Command(BaseCommand):
    help = "Fingerprint the audio files below DIR. Already catalogued content is skipped, so a killed run can simply be run again."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--ext", nargs="+", default=list(DEFAULT_EXTENSIONS), help="file extensions to take (default: common audio formats)")
        parser.add_argument("--workers", type=int, default=None, help="decoding/fingerprinting processes (default: all cores)")
        parser.add_argument("--limit", type=float, default=None, metavar="SECONDS", help="fingerprint only the first SECONDS of each file")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, directory, ext, workers, limit, no_progress, **options):
        if workers is not None and workers < 1:
            raise CommandError("--workers must be at least 1")
        if limit is not None and limit <= 0:
            raise CommandError("--limit must be a positive number of seconds")
        bar = tqdm(unit="file", desc="fingerprinting", disable=True if no_progress else None, file=self.stderr._out, dynamic_ncols=True)

        def on_file(event: FileEvent) -> None:
            bar.update(1)
            if event.kind == "failed":
                bar.write(f"failed: {event.path}: {event.reason}", file=self.stderr._out)
            hours = summary_audio[0] = summary_audio[0] + event.audio_s
            elapsed = bar.format_dict["elapsed"] or 1e-9
            bar.set_postfix_str(f"{hours / 3600:.2f} h audio, {hours / elapsed:.0f}x realtime", refresh=False)

        summary_audio = [0.0]
        try:
            summary = ingest_directory(directory, extensions=tuple(ext), workers=workers, limit_s=limit, on_file=on_file)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        except CatalogueLost as lost:
            bar.close()
            self.print_summary(lost.summary)
            raise CommandError(
                f"the database went away ({lost}); every song stored so far is whole: run again to finish", returncode=1
            ) from None
        finally:
            bar.close()
        self.print_summary(summary)
        if summary.failed:
            raise CommandError(f"{summary.failed} file(s) could not be fingerprinted (listed above)", returncode=1)

    def print_summary(self, summary) -> None:
        self.stdout.write(
            f"new: {summary.new}  skipped: {summary.skipped}  failed: {summary.failed}  "
            f"audio: {summary.audio_s / 3600:.2f} h  fingerprints: {summary.fingerprints}  "
            f"time: {summary.elapsed_s:.1f} s  speed: {summary.realtime_factor:.0f}x realtime"
        )
