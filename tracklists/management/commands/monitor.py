"""manage.py monitor URL --station NAME: follow a live stream and record every play."""

from django.core.management.base import BaseCommand, CommandError

from recognition.services import CatalogueVersionMismatch
from tracklists import monitor


class Command(BaseCommand):
    help = "Follow a live http(s) stream until stopped (Ctrl-C), recording each song played on it."

    def add_arguments(self, parser):
        parser.add_argument("url", help="the stream's http(s) URL")
        parser.add_argument("--station", required=True, help="the station's name (created if new)")
        parser.add_argument("--seconds", type=float, help="stop after this many seconds of audio")

    def handle(self, *args, **options):
        if options["seconds"] is not None and options["seconds"] <= 0:
            raise CommandError("--seconds must be positive")
        try:
            stats = monitor.follow(
                options["url"],
                station=options["station"],
                seconds=options["seconds"],
                say=lambda line: self.stderr.write(line),
            )
        except CatalogueVersionMismatch as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            return
        self.stdout.write(
            f"{options['station']}: {stats.seconds:.0f} s of audio, {stats.plays} play(s) recorded, "
            f"{stats.reconnects} reconnection(s)"
        )
