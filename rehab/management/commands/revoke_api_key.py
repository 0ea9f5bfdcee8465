from django.core.management.base import BaseCommand, CommandError

from rehab import services
from rehab.models import ApiKey


class Command(BaseCommand):
    help = "Revoke an API key at once, by its prefix (the part after 'rw_', as the admin lists it)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        api_key = ApiKey.objects.filter(prefix=prefix).select_related("clinic").first()
        if api_key is None:
            raise CommandError(f"No API key with the prefix {prefix!r}.")
        services.api_key_revoke(api_key=api_key, actor=None)
        self.stdout.write(f"Revoked {api_key.name!r} of {api_key.clinic.name}.")
