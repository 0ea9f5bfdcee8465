from django.core.management.base import BaseCommand

from rehab import services


class Command(BaseCommand):
    help = "Load or refresh the built-in protocol library (safe to run again)."

    def handle(self, *args, **options):
        protocols = services.protocol_library_load()
        self.stdout.write(f"Protocol library: {len(protocols)} built-in protocols up to date.")
