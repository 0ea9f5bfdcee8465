from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from rehab import services
from rehab.errors import RehabError
from rehab.models import Clinic


class Command(BaseCommand):
    help = (
        "Create an API key for a clinic system. The key is printed once, on the last line; "
        "only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Which system uses it, e.g. 'EHR sync'.")
        parser.add_argument("--clinic", help="The clinic's slug (optional when there is one).")
        parser.add_argument("--expires", help="Optional expiry, ISO 8601 with offset.")

    def handle(self, *args, name, clinic=None, expires=None, **options):
        clinics = Clinic.objects.all()
        if clinic:
            found = clinics.filter(slug=clinic).first()
            if found is None:
                raise CommandError(f"No clinic with the slug {clinic!r}.")
        else:
            count = clinics.count()
            if count != 1:
                slugs = ", ".join(clinics.values_list("slug", flat=True)) or "none yet"
                raise CommandError(f"Name the clinic with --clinic (slugs: {slugs}).")
            found = clinics.get()
        expires_at = None
        if expires:
            expires_at = parse_datetime(expires)
            if expires_at is None or expires_at.tzinfo is None:
                raise CommandError("--expires must be an ISO 8601 date-time with an offset.")
        try:
            api_key, raw = services.api_key_create(
                clinic=found, name=name, actor=None, expires_at=expires_at
            )
        except RehabError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"API key {api_key.name!r} for {found.name}; store it now, it is not shown again:"
        )
        self.stdout.write(raw)
