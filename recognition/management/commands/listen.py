"""Recognise what the server's microphone hears."""

import time

from django.core.management.base import BaseCommand, CommandError

from recognition import output, services
from recognition.microphone import NO_INPUT_DEVICE, MicrophoneError, input_devices, listen


class Command(BaseCommand):
    help = "Record from the server's microphone and name the song. Stops as soon as it is sure."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seconds", type=float, default=10.0, help="listen at most this long (default 10)"
        )
        parser.add_argument(
            "--device", default=None, help="input device name or index (default: the system default)"
        )
        parser.add_argument("--list-devices", action="store_true", help="list input devices and exit")
        parser.add_argument(
            "--full", action="store_true", help="listen for all of --seconds even after a match"
        )
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object, like recognize --json"
        )

    def handle(self, *args, seconds, device, list_devices, full, json, **options):
        try:
            if list_devices:
                devices = input_devices()
                if not devices:
                    raise CommandError(NO_INPUT_DEVICE)
                for d in devices:
                    self.stdout.write(
                        f"{d['index']:3d}  {d['name']}  ({d['channels']} ch, {d['sample_rate_hz']:.0f} Hz)"
                    )
                return
            if seconds <= 0:
                raise CommandError("--seconds must be positive")
            if not json:
                self.stderr.write(f"listening for up to {seconds:g} s...")
            started = time.perf_counter()
            result = listen(seconds=seconds, device=device, stop_on_match=not full)
        except MicrophoneError as exc:
            raise CommandError(str(exc)) from exc
        except services.CatalogueVersionMismatch as exc:
            raise CommandError(str(exc)) from exc
        services.log_recognition(result, source="microphone")
        total = time.perf_counter() - started
        label = f"microphone{f' {device}' if device is not None else ''}"
        if json:
            self.stdout.write(output.result_line(file=label, result=result, total_time_s=total))
        else:
            # Recorded, not decoded: the wall-clock time is the listening, so it is left out.
            self.stdout.write(output.human(file=label, result=result, total_time_s=None))
