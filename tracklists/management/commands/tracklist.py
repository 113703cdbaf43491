"""manage.py tracklist FILE_OR_URL: the songs of a long recording, from when to when."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognition.engine.audio import AudioDecodeError
from recognition.services import CatalogueVersionMismatch
from tracklists import output, services


class Command(BaseCommand):
    help = "Cut a recording (any file ffmpeg reads, or an http(s) stream) into songs and unknown stretches."

    def add_arguments(self, parser):
        parser.add_argument("source", help="an audio file, or an http(s) stream URL")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--csv", metavar="OUT", help="write one row per segment to OUT")
        parser.add_argument("--cue", metavar="OUT", help="write a CUE sheet to OUT")
        parser.add_argument(
            "--seconds", type=float, help="analyse at most this many seconds (a stream: stop then)"
        )

    def handle(self, *args, **options):
        source = options["source"]
        if options["seconds"] is not None and options["seconds"] <= 0:
            raise CommandError("--seconds must be positive")
        if not services.is_url(source) and not Path(source).exists():
            raise CommandError(f"{source}: no such file")
        try:
            timeline = services.analyse(source, seconds=options["seconds"])
        except (AudioDecodeError, CatalogueVersionMismatch) as exc:
            raise CommandError(str(exc)) from exc
        # Written only once the whole recording has been read: a broken file leaves nothing behind.
        if options["csv"]:
            Path(options["csv"]).write_text(output.timeline_csv(timeline), encoding="utf-8")
        if options["cue"]:
            Path(options["cue"]).write_text(output.timeline_cue(timeline), encoding="utf-8")
        if options["json"]:
            self.stdout.write(json.dumps(output.timeline_dict(timeline)))
        else:
            self.stdout.write(output.timeline_text(timeline))
