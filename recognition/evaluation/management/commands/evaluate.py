"""Measure recognition on clips cut from a folder of music: accuracy, offsets, false positives, speed."""

from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.bulk import DEFAULT_EXTENSIONS
from recognition import services
from recognition.evaluation import clips, degrade, report, summary


class Command(BaseCommand):
    help = (
        "Cut seeded clips from the audio files below DIR, degrade them and recognise them. Files whose "
        "content is catalogued are expected to be named; the others must give no match. Writes a CSV, "
        "a JSON, plots and an index.html to --results."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--lengths",
            type=float,
            nargs="+",
            default=[1, 2, 3, 5, 10],
            metavar="SECONDS",
            help="clip lengths (default: 1 2 3 5 10)",
        )
        parser.add_argument(
            "--conditions",
            nargs="+",
            default=list(degrade.CONDITIONS),
            type=degrade.condition_argument,
            metavar="CONDITION",
            help=f"degradations, with a factor where they take one: speed:-5, tempo:+5, pitch:-3, noise:10 (default: all of {' '.join(degrade.CONDITIONS)})",
        )
        parser.add_argument(
            "--clips-per-song", type=int, default=2, help="clips per file, condition and length (default: 2)"
        )
        parser.add_argument(
            "--padding",
            type=float,
            default=8.0,
            metavar="SECONDS",
            help="keep clips this far from either end (default: 8)",
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="the same seed gives the same clips and noise (default: 42)"
        )
        parser.add_argument(
            "--snr-db",
            type=float,
            default=degrade.condition_default("noise", "snr_db"),
            help="signal-to-noise ratio of the noise condition (default: %(default)g)",
        )
        parser.add_argument(
            "--speed-percent",
            type=float,
            default=degrade.condition_default("speed", "percent"),
            help="how much faster a bare speed condition plays (default: %(default)g)",
        )
        parser.add_argument(
            "--ext",
            nargs="+",
            default=list(DEFAULT_EXTENSIONS),
            help="file extensions to take (default: as fingerprint_dir)",
        )
        parser.add_argument(
            "--results",
            default=None,
            metavar="FOLDER",
            help="where to write (default: ./evaluation-results/<timestamp>/)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(
        self,
        *args,
        directory,
        lengths,
        conditions,
        clips_per_song,
        padding,
        seed,
        snr_db,
        speed_percent,
        ext,
        results,
        no_progress,
        **options,
    ):
        if min(lengths) <= 0 or clips_per_song < 1 or padding < 0:
            raise CommandError("--lengths must be positive, --clips-per-song at least 1 and --padding >= 0")
        if speed_percent <= -100:
            raise CommandError("--speed-percent must be above -100")
        lengths, conditions = list(dict.fromkeys(lengths)), list(dict.fromkeys(conditions))
        if any(degrade.parse_condition(c)[0] == "crowd" for c in conditions):
            try:
                degrade.check_speech()
            except degrade.SpeechUnavailable as exc:
                raise CommandError(f"{exc} (or leave out the crowd condition)") from exc
        results = Path(results or Path("evaluation-results") / datetime.now().strftime("%Y%m%d-%H%M%S"))
        arguments = {
            "directory": directory,
            "lengths": lengths,
            "conditions": conditions,
            "clips_per_song": clips_per_song,
            "padding": padding,
            "seed": seed,
            "snr_db": snr_db,
            "speed_percent": speed_percent,
            "ext": ext,
            "results": str(results),
        }
        progress = {"disable": True if no_progress else None, "file": self.stderr._out, "dynamic_ncols": True}

        with tqdm(unit="file", desc="scanning", **progress) as bar:
            try:
                scan = clips.find_tracks(directory, extensions=tuple(ext), on_file=lambda path: bar.update(1))
            except (FileNotFoundError, services.CatalogueVersionMismatch) as exc:
                raise CommandError(str(exc)) from exc
        for path, reason in scan.failures:
            self.stderr.write(f"left out: {path}: {reason}")
        specs = clips.plan_clips(
            scan.tracks,
            lengths_s=lengths,
            conditions=conditions,
            clips_per_song=clips_per_song,
            padding_s=padding,
            seed=seed,
        )
        if not specs:
            raise CommandError(
                f"no clips to cut: {directory} holds no decodable audio file as long as the shortest clip"
            )
        self.stdout.write(
            f"{len(specs)} clips from {scan.positives} catalogued and {scan.negatives} other file(s)"
        )

        with tqdm(total=len(specs), unit="clip", desc="evaluating", **progress) as bar:
            try:
                outcomes = clips.run_clips(
                    specs,
                    seed=seed,
                    condition_options={"noise": {"snr_db": snr_db}, "speed": {"percent": speed_percent}},
                    on_clip=lambda outcome: bar.update(1),
                )
            except services.CatalogueVersionMismatch as exc:
                raise CommandError(str(exc)) from exc
        totals = summary.summarise(outcomes)
        written = report.write_results(
            results, outcomes=outcomes, summary=totals, scan=scan, arguments=arguments
        )
        self.stdout.write(summary.format_table(totals))
        self.stdout.write(f"results: {written[report.INDEX_NAME]}")
