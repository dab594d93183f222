"""Load the seed catalogue (catalog/seed/*.yaml). Safe to run again: it changes nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.services.seed import InvalidSeed, seed_catalogue_load, seed_catalogue_read, seed_files


class Command(BaseCommand):
    help = "Load (upsert) the seed catalogue from catalog/seed/*.yaml or from the files given."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path, help="Seed files (default: every catalog/seed/*.yaml).")

    def handle(self, *args, files, **options):
        paths = files or seed_files()
        if not paths:
            raise CommandError("No seed files found.")
        for path in paths:
            try:
                summary = seed_catalogue_load(data=seed_catalogue_read(path=path))
            except (OSError, InvalidSeed) as exc:
                raise CommandError(f"{path}: {exc}") from exc
            verdict = "loaded" if summary.changed else "already up to date, nothing changed"
            self.stdout.write(self.style.SUCCESS(f"Seed catalogue {path.name}: {verdict}."))
            for line in summary.lines():
                self.stdout.write(f"  {line}")
