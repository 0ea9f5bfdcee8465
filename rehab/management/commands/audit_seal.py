from django.core.management.base import BaseCommand

from rehab import audit_chain


class Command(BaseCommand):
    help = (
        "Chain the audit events not yet sealed into their clinic's hash chain (beat does this "
        "every minute; safe to run at any time, also twice at once)."
    )

    def handle(self, *args, **options):
        sealed = audit_chain.audit_seal()
        self.stdout.write(f"Sealed {sealed} audit event{'s' if sealed != 1 else ''}.")
