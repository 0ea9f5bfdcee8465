import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError

from rehab import audit_chain


def before_date(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--before {value!r} is not a date (YYYY-MM-DD).") from exc
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


class Command(BaseCommand):
    help = (
        "Write the audit events before a date (00:00 UTC) as JSON lines, with their chain "
        "places and hashes, to stdout or a file, and mark them exported: what audit_prune may "
        "then remove."
    )

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="YYYY-MM-DD (00:00 UTC)")
        parser.add_argument("--output", "-o", help="a file to write (default: stdout)")

    def handle(self, *args, before, output, **options):
        before = before_date(before)
        if output:
            with open(output, "x", encoding="utf-8") as out:  # never overwrite an archive
                written = audit_chain.audit_export(before=before, out=out)
            self.stderr.write(f"Wrote {written} audit events to {output}.")
        else:
            written = audit_chain.audit_export(before=before, out=sys.stdout)
            self.stderr.write(f"Wrote {written} audit events.")
