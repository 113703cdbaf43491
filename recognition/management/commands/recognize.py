"""Name the song (and the position in it) of one or more audio files.

Exit status: 0 when every file was read, 1 when any could not be (missing or not audio),
2 for a usage error.
"""

import os
import time

from django.core.management.base import BaseCommand, CommandError

from recognition import output, services
from recognition.engine.audio import AudioDecodeError


class Command(BaseCommand):
    help = "Recognise audio files against the catalogue."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument("--top", type=int, default=None, help="candidates to list (default: 5)")
        parser.add_argument("--start", type=float, default=0.0, help="start this many seconds into each file")
        parser.add_argument("--seconds", type=float, default=None, help="use only this many seconds")
        parser.add_argument("--json", action="store_true", help="one JSON object per file, one per line")

    def handle(self, *args, files, top, start, seconds, json, **options):
        if top is not None and top < 1:
            raise CommandError("--top must be at least 1", returncode=2)
        if start < 0 or (seconds is not None and seconds <= 0):
            raise CommandError("--start must be >= 0 and --seconds > 0", returncode=2)
        failed = 0
        for path in files:
            started = time.perf_counter()
            try:
                if not os.path.exists(path):
                    raise AudioDecodeError(f"{path}: no such file (missing)")
                result = services.recognize_file(path, start_s=start, seconds=seconds, top_n=top)
            except services.CatalogueVersionMismatch as exc:
                raise CommandError(str(exc)) from exc
            except AudioDecodeError as exc:
                failed += 1
                if json:
                    self.stdout.write(output.error_line(file=path, error=str(exc)))
                else:
                    self.stderr.write(f"error: {exc}")
                continue
            services.log_recognition(result, source="file", file_name=path)
            total = time.perf_counter() - started
            if json:
                self.stdout.write(output.result_line(file=path, result=result, total_time_s=total))
            else:
                self.stdout.write(output.human(file=path, result=result, total_time_s=total))
        if failed:
            raise CommandError(
                f"{failed} of {len(files)} file(s) could not be read (listed above)", returncode=1
            )
