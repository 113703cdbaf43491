"""Benchmark jamjar on real music in MySQL/MariaDB: ingest speed, size, accuracy and match time."""

import json
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from recognition.evaluation import benchmark, corpus, degrade, summary


class Command(BaseCommand):
    help = (
        "Collect the music of Debian's game-music packages, hold out a share of the tracks as music "
        "not in the catalogue, drop and recreate the database and ingest the rest into it, then query "
        "seeded clips of every track in each condition and length. Writes the figures to --results."
    )

    def add_arguments(self, parser):
        parser.add_argument("--corpus", default=os.path.join(tempfile.gettempdir(), "jamjar-bench-corpus"))
        parser.add_argument(
            "--holdout", type=float, default=0.2, help="share of tracks left out of the catalogue"
        )
        parser.add_argument("--lengths", type=float, nargs="+", default=[1, 2, 3, 5, 10])
        parser.add_argument(
            "--conditions",
            nargs="+",
            default=["clean", "noise", "phone", "codec"],
            type=degrade.condition_argument,
            metavar="CONDITION",
            help="clean noise phone codec crowd speed:PERCENT tempo:PERCENT pitch:PERCENT (default: %(default)s)",
        )
        parser.add_argument("--clips-per-song", type=int, default=2)
        parser.add_argument("--padding", type=float, default=5.0)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--skip-ingest", action="store_true", help="reuse the catalogue of a previous run"
        )
        parser.add_argument(
            "--results", default=str(Path(settings.BASE_DIR) / "bench-results" / "benchmark.json")
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="drop and recreate the database without asking",
        )

    def handle(self, *args, **options):
        if connection.vendor != "mysql":
            raise CommandError("the benchmark measures MySQL/MariaDB: set DATABASE_URL=mysql://...")
        if not options["skip_ingest"] and options["interactive"]:
            name = connection.settings_dict["NAME"]
            answer = input(
                f"This drops the database {name!r} and catalogues the benchmark's music in it. Type 'yes' to go on: "
            )
            if answer != "yes":
                raise CommandError("benchmark cancelled: nothing was changed")
        say = self.stdout.write
        corpus.install_packages(corpus.packages_for(options["conditions"]), say=say)
        known, _ = corpus.split_holdout(
            corpus.collect(options["corpus"]), holdout=options["holdout"], seed=options["seed"]
        )
        report = benchmark.run_benchmark(
            options["corpus"],
            catalogue=None if options["skip_ingest"] else known,
            lengths_s=options["lengths"],
            conditions=options["conditions"],
            clips_per_song=options["clips_per_song"],
            padding_s=options["padding"],
            workers=options["workers"],
            seed=options["seed"],
            say=say,
        )
        say(summary.format_table(report["summary"]))
        results = Path(options["results"])
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(report, indent=1))
        say(f"results: {results}")
