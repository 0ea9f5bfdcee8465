from django.core.management.base import BaseCommand, CommandError

from rehab import audit_chain
from rehab.errors import RehabError
from rehab.management.commands.audit_export import before_date


class Command(BaseCommand):
    help = (
        "Remove the audit events before a date that are sealed, exported (audit_export) and "
        "older than AUDIT_RETENTION_DAYS; each chain keeps an anchor so the rest still "
        "verifies. Refused when no retention policy is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="YYYY-MM-DD (00:00 UTC)")

    def handle(self, *args, before, **options):
        before = before_date(before)
        try:
            pruned = audit_chain.audit_prune(before=before)
        except RehabError as exc:
            raise CommandError(exc.message) from exc
        for row in pruned:
            self.stdout.write(
                f"chain {row.clinic_ref}: removed {row.events} events through place "
                f"{row.through_seq}"
            )
        self.stdout.write(f"Removed {sum(row.events for row in pruned)} audit events.")
